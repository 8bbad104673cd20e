//! The snapshot query. A page costs O(page size): the order and the unfiltered total come from
//! `item_totals` and `inventory_summary`, which every movement keeps exact in its own
//! transaction (`movement::store::change_stocks`); a search goes through a trigram index
//! (PostgreSQL `pg_trgm`, SQLite FTS5). Migration 0002 has the tables and indexes.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use sqlx::QueryBuilder;

use crate::config::Config;
use crate::db::{Backend, Db};
use crate::domain::{parse_search, Page, Paging};
use crate::error::AppError;
use crate::items::service::like_pattern;
use crate::snapshot::{LocationQty, SnapshotItem, SnapshotQuery};
use crate::with_tx;

#[derive(sqlx::FromRow)]
struct Row {
    item_id: i64,
    sku: String,
    name: String,
    spec: String,
    total_qty: i64,
}

/// Appends "item `i` matches the search `q`" to a query. PostgreSQL's trigram GIN indexes
/// serve `lower(x) LIKE` directly. On SQLite the FTS5 trigram index narrows to candidates when
/// `q` has the 3 characters a trigram needs, and the LIKE decides, so both paths (and both
/// backends) match exactly the same items.
macro_rules! push_matching {
    ($query:ident, $backend:expr, $q:expr) => {{
        if $backend == Backend::Sqlite && $q.chars().count() >= 3 {
            $query
                .push("i.id IN (SELECT rowid FROM items_search WHERE items_search MATCH ")
                .push_bind(fts_phrase($q))
                .push(") AND ");
        }
        let pattern = like_pattern($q);
        $query
            .push("(lower(i.sku) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR lower(i.name) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }};
}
/// Items in stock, by total desc then id, with the page's top-2 locations and earliest expiry;
/// all read in one snapshot of the database.
pub async fn inventory(
    db: &Db,
    query: &SnapshotQuery,
    config: &Config,
) -> Result<Page<SnapshotItem>, AppError> {
    let paging = Paging::parse(query.offset, query.limit)?;
    let search = parse_search(query.q.as_deref())?;
    let today = config.today();
    let near_until = today
        .checked_add_days(Days::new(config.near_expiry_days.into()))
        .unwrap_or(NaiveDate::MAX);

    let mut tx = db.begin_read().await?;
    let (total, rows, locations, expiries) = with_tx!(&mut tx, |conn, backend| {
        let (total, rows): (i64, Vec<Row>) = match &search {
            None => {
                let total: i64 =
                    sqlx::query_scalar("SELECT items_in_stock FROM inventory_summary WHERE id = 1")
                        .fetch_one(&mut *conn)
                        .await?;
                let rows = sqlx::query_as(
                    "SELECT p.item_id, i.sku, i.name, i.spec, p.total_qty \
                     FROM (SELECT item_id, total_qty FROM item_totals WHERE total_qty > 0 \
                           ORDER BY total_qty DESC, item_id LIMIT $1 OFFSET $2) p \
                     JOIN items i ON i.id = p.item_id \
                     ORDER BY p.total_qty DESC, p.item_id",
                )
                .bind(paging.limit)
                .bind(paging.offset)
                .fetch_all(&mut *conn)
                .await?;
                (total, rows)
            }
            Some(q) => {
                let mut query = QueryBuilder::new(
                    "SELECT COUNT(*) FROM items i JOIN item_totals t ON t.item_id = i.id \
                     WHERE t.total_qty > 0 AND ",
                );
                push_matching!(query, backend, q);
                let total: i64 = query.build_query_scalar().fetch_one(&mut *conn).await?;
                let mut query = QueryBuilder::new(
                    "SELECT i.id AS item_id, i.sku, i.name, i.spec, t.total_qty \
                     FROM items i JOIN item_totals t ON t.item_id = i.id \
                     WHERE t.total_qty > 0 AND ",
                );
                push_matching!(query, backend, q);
                query
                    .push(" ORDER BY t.total_qty DESC, i.id LIMIT ")
                    .push_bind(paging.limit)
                    .push(" OFFSET ")
                    .push_bind(paging.offset);
                let rows = query.build_query_as().fetch_all(&mut *conn).await?;
                (total, rows)
            }
        };
        let mut locations: Vec<(i64, i64, String, i64)> = Vec::new();
        let mut expiries: Vec<(i64, Option<NaiveDate>)> = Vec::new();
        if !rows.is_empty() {
            let mut query = QueryBuilder::new(
                "SELECT s.item_id, s.location_id, l.code, s.qty \
                 FROM stocks s JOIN locations l ON l.id = s.location_id \
                 WHERE s.qty > 0 AND s.item_id IN (",
            );
            let mut ids = query.separated(", ");
            for row in &rows {
                ids.push_bind(row.item_id);
            }
            query.push(") ORDER BY s.item_id, s.qty DESC, s.location_id");
            locations = query.build_query_as().fetch_all(&mut *conn).await?;

            let mut query = QueryBuilder::new(
                "SELECT item_id, MIN(expiry_date) FROM batches WHERE qty > 0 AND item_id IN (",
            );
            let mut ids = query.separated(", ");
            for row in &rows {
                ids.push_bind(row.item_id);
            }
            query.push(") GROUP BY item_id");
            expiries = query.build_query_as().fetch_all(&mut *conn).await?;
        }
        (total, rows, locations, expiries)
    });
    tx.commit().await?;

    let mut top2: HashMap<i64, Vec<LocationQty>> = HashMap::new();
    for (item_id, location_id, location_code, qty) in locations {
        let top = top2.entry(item_id).or_default();
        if top.len() < 2 {
            top.push(LocationQty {
                location_id,
                location_code,
                qty,
            });
        }
    }
    let expiries: HashMap<i64, Option<NaiveDate>> = expiries.into_iter().collect();
    let items = rows
        .into_iter()
        .map(|row| {
            let earliest_expiry = expiries.get(&row.item_id).copied().flatten();
            SnapshotItem {
                item_id: row.item_id,
                sku: row.sku,
                name: row.name,
                spec: row.spec,
                total_qty: row.total_qty,
                top2_locations: top2.remove(&row.item_id).unwrap_or_default(),
                earliest_expiry,
                near_expiry: earliest_expiry.is_some_and(|expiry| expiry <= near_until),
            }
        })
        .collect();
    Ok(Page {
        total,
        offset: paging.offset,
        limit: paging.limit,
        items,
    })
}

/// `q` as an FTS5 query: one phrase (a substring, for the trigram tokenizer) in sku or name.
fn fts_phrase(q: &str) -> String {
    format!("{{sku name}} : \"{}\"", q.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_one_quoted_phrase() {
        assert_eq!(fts_phrase("ab\"c"), "{sku name} : \"ab\"\"c\"");
        assert_eq!(fts_phrase("苹果汁"), "{sku name} : \"苹果汁\"");
    }
}
