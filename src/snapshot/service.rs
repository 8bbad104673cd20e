//! The snapshot query. A page costs O(page size): the order and the unfiltered total come from
//! `item_totals` and `inventory_summary`, which every movement keeps exact in its own
//! transaction (`movement::stock::change_stocks`); a search matches the folded
//! `items.search_text` (`search::fold`) through a trigram index (PostgreSQL `pg_trgm`, SQLite
//! FTS5). Migrations 0002 and 0004 have the tables and indexes.

use chrono::{Days, NaiveDate};
use sqlx::QueryBuilder;

use crate::config::Config;
use crate::db::{Backend, Db};
use crate::domain::{parse_search, Page, Paging};
use crate::error::AppError;
use crate::search::{fold, folded_len, like_pattern};
use crate::snapshot::{LocationQty, Place, SnapshotItem, SnapshotQuery, Start};
use crate::with_pool;

/// How many items are in stock: the sum of the shards every movement keeps (migration 0004).
const ITEMS_IN_STOCK: &str =
    "SELECT CAST(COALESCE(SUM(items_in_stock), 0) AS BIGINT) FROM inventory_summary";

/// Items in stock, joined to their totals, ready for `push_matching!`'s condition.
///
/// On PostgreSQL each matching item looks its total up through the primary key (`OFFSET 0`
/// keeps the planner from flattening the lateral subquery into a join): as a join, it hashes
/// all of `item_totals` to keep a few thousand matches, 20 ms where the lookups take 5.
fn in_stock_and(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "FROM items i CROSS JOIN LATERAL (SELECT total_qty FROM item_totals \
             WHERE item_id = i.id AND total_qty > 0 OFFSET 0) t WHERE "
        }
        Backend::Sqlite => {
            "FROM items i JOIN item_totals t ON t.item_id = i.id WHERE t.total_qty > 0 AND "
        }
    }
}

/// One row of the page statement: an item of the page with one of its top-2 stocks (none when
/// every stock is empty), so an item spans one or two consecutive rows.
#[derive(sqlx::FromRow)]
struct Row {
    item_id: i64,
    sku: String,
    name: String,
    spec: String,
    total_qty: i64,
    /// Items in stock (matching `q`), counted in the same statement.
    total: i64,
    earliest_expiry: Option<NaiveDate>,
    reserved_qty: i64,
    available_qty: i64,
    location_id: Option<i64>,
    location_code: Option<String>,
    location_qty: Option<i64>,
}

/// Appends "item `i` matches the search `q`": its folded sku or name contains the folded `q`
/// (`search::fold`), on both backends alike. PostgreSQL's trigram GIN index serves the LIKE
/// directly. On SQLite the FTS5 trigram index narrows to candidates when the folded `q` has the
/// 3 characters a trigram needs, and the LIKE decides, so both paths (and both backends) match
/// exactly the same items.
macro_rules! push_matching {
    ($query:ident, $backend:expr, $q:expr) => {{
        if $backend == Backend::Sqlite && folded_len($q) >= 3 {
            $query
                .push("i.id IN (SELECT rowid FROM items_search WHERE items_search MATCH ")
                .push_bind(fts_phrase($q))
                .push(") AND ");
        }
        $query
            .push("i.search_text LIKE ")
            .push_bind(like_pattern($q))
            .push(" ESCAPE '\\'");
    }};
}

/// Items in stock, by total desc then id, with their top-2 locations and earliest expiry.
///
/// A page is one statement (in a read transaction), so one snapshot: the page of `item_totals`
/// (through its rank index, or the search index), the total (kept in `inventory_summary`, or
/// counted over the matches, found once through the trigram index), and per item of the page an
/// index lookup of its batches and of its two largest stocks. Only a search's matches and the
/// offset scale beyond the page. A page past the end counts its total in a second statement,
/// inside the same read transaction, so it agrees with the first.
pub async fn inventory(
    db: &Db,
    query: &SnapshotQuery,
    config: &Config,
) -> Result<Page<SnapshotItem>, AppError> {
    let paging = Paging::parse(query.offset, query.limit)?;
    let start = query.start(paging.offset)?;
    let search = parse_search(query.q.as_deref())?;
    let today = config.today();
    let near_until = today
        .checked_add_days(Days::new(config.near_expiry_days.into()))
        .unwrap_or(NaiveDate::MAX);

    // The page, its locations and the total are one statement, hence one snapshot; no read
    // transaction is needed (its BEGIN and COMMIT would be two more round trips per page). Only
    // a page past the end counts apart, and it has no rows to disagree with.
    let (rows, total): (Vec<Row>, i64) = with_pool!(db, |conn, backend| {
        let mut query = QueryBuilder::new("WITH ");
        match &search {
            None => {
                query
                    .push("page AS (SELECT p.item_id, i.sku, i.name, i.spec, p.total_qty, (")
                    .push(ITEMS_IN_STOCK)
                    .push(
                        ") AS total \
                         FROM (SELECT item_id, total_qty FROM item_totals WHERE total_qty > 0",
                    );
                push_page(&mut query, start, "", paging.limit);
                query.push(") p JOIN items i ON i.id = p.item_id");
            }
            Some(q) => {
                // The matches on their own (MATERIALIZED): planned with the ORDER BY and
                // LIMIT, PostgreSQL walks the rank index filtering every item, as if the
                // count needed only a page of them.
                query
                    .push(
                        "matches AS MATERIALIZED \
                         (SELECT i.id AS item_id, i.sku, i.name, i.spec, t.total_qty ",
                    )
                    .push(in_stock_and(backend));
                push_matching!(query, backend, q);
                query.push(
                    "), page AS (SELECT m.*, (SELECT COUNT(*) FROM matches) AS total \
                         FROM matches m WHERE true",
                );
                push_page(&mut query, start, "m.", paging.limit);
            }
        }
        // What orders hold (through the partial index of reserved batches), and what is
        // available: `movement::available` summed over the item's batches, in SQL.
        query
            .push(
                ") SELECT p.item_id, p.sku, p.name, p.spec, p.total_qty, p.total, \
                 (SELECT MIN(b.expiry_date) FROM batches b \
                  WHERE b.item_id = p.item_id AND b.qty > 0) AS earliest_expiry, \
                 (SELECT CAST(COALESCE(SUM(b.reserved), 0) AS BIGINT) FROM batches b \
                  WHERE b.item_id = p.item_id AND b.reserved > 0) AS reserved_qty, \
                 (SELECT CAST(COALESCE(SUM(CASE WHEN b.expiry_date IS NULL OR b.expiry_date >= ",
            )
            .push_bind(today)
            .push(
                " THEN b.qty - b.reserved ELSE 0 END), 0) AS BIGINT) FROM batches b \
                  WHERE b.item_id = p.item_id AND b.qty > 0) AS available_qty, \
                 top.location_id, l.code AS location_code, top.qty AS location_qty FROM page p ",
            );
        // The two largest non-empty stocks of each item, ties by location id.
        query.push(match backend {
            Backend::Postgres => {
                "LEFT JOIN LATERAL (SELECT s.location_id, s.qty FROM stocks s \
                 WHERE s.item_id = p.item_id AND s.qty > 0 \
                 ORDER BY s.qty DESC, s.location_id LIMIT 2) top ON true "
            }
            Backend::Sqlite => {
                "LEFT JOIN stocks top ON top.item_id = p.item_id AND top.id IN ( \
                 SELECT s.id FROM stocks s WHERE s.item_id = p.item_id AND s.qty > 0 \
                 ORDER BY s.qty DESC, s.location_id LIMIT 2) "
            }
        });
        query.push("LEFT JOIN locations l ON l.id = top.location_id ");
        query.push("ORDER BY p.total_qty DESC, p.item_id, top.qty DESC, top.location_id");
        // A search is planned for its own pattern each time (not cached): PostgreSQL's generic
        // plan for `LIKE $1` cannot know whether the trigram index narrows it, and after five
        // runs it took 14 ms instead of 2 for a 100-match search.
        let rows: Vec<Row> = query
            .build_query_as()
            .persistent(search.is_none())
            .fetch_all(conn)
            .await?;

        // A page past the end has no row to carry the total.
        let total = match (rows.first(), &search) {
            (Some(row), _) => row.total,
            (None, None) => sqlx::query_scalar(ITEMS_IN_STOCK).fetch_one(conn).await?,
            (None, Some(q)) => {
                let mut query = QueryBuilder::new("SELECT COUNT(*) ");
                query.push(in_stock_and(backend));
                push_matching!(query, backend, q);
                query
                    .build_query_scalar()
                    .persistent(false)
                    .fetch_one(conn)
                    .await?
            }
        };
        (rows, total)
    });

    let mut items: Vec<SnapshotItem> = Vec::with_capacity(rows.len());
    for row in rows {
        let location = match (row.location_id, row.location_code, row.location_qty) {
            (Some(location_id), Some(location_code), Some(qty)) => Some(LocationQty {
                location_id,
                location_code,
                qty,
            }),
            _ => None,
        };
        if let Some(last) = items.last_mut().filter(|last| last.item_id == row.item_id) {
            last.top2_locations.extend(location);
            continue;
        }
        items.push(SnapshotItem {
            item_id: row.item_id,
            sku: row.sku,
            name: row.name,
            spec: row.spec,
            total_qty: row.total_qty,
            reserved_qty: row.reserved_qty,
            available_qty: row.available_qty,
            top2_locations: location.into_iter().collect(),
            earliest_expiry: row.earliest_expiry,
            near_expiry: row
                .earliest_expiry
                .is_some_and(|expiry| expiry <= near_until),
        });
    }
    // Where the neighbouring pages start. The pager shows its links by the total; these only
    // say where a link reads from.
    let full = items.len() as i64 == paging.limit;
    let (more_after, more_before) = match start {
        Start::Offset(offset) => (offset + (items.len() as i64) < total, offset > 0),
        Start::After(_) => (full, true),
        Start::Before(_) => (true, full),
    };
    Ok(Page {
        next: items
            .last()
            .filter(|_| more_after)
            .map(|i| Place::of(i).to_string()),
        prev: items
            .first()
            .filter(|_| more_before)
            .map(|i| Place::of(i).to_string()),
        total,
        offset: paging.offset,
        limit: paging.limit,
        items,
    })
}

/// Appends the page's place in the order (`total_qty` desc, then `item_id`) to a statement
/// whose rows are `prefix`-qualified and already filtered (`… WHERE …`): skipping `offset`
/// rows, or from a place through the rank index (`item_totals_rank_idx`), in O(page) however
/// deep. A page before a place is read backwards; the statement's final ORDER BY restores
/// the order.
fn push_page<'a, DB: sqlx::Database>(
    query: &mut QueryBuilder<'a, DB>,
    start: Start,
    prefix: &str,
    limit: i64,
) where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let (total, id) = (format!("{prefix}total_qty"), format!("{prefix}item_id"));
    match start {
        Start::Offset(offset) => {
            query
                .push(format!(" ORDER BY {total} DESC, {id} LIMIT "))
                .push_bind(limit)
                .push(" OFFSET ")
                .push_bind(offset);
        }
        Start::After(place) | Start::Before(place) => {
            // After a place: totals up to its total, ties past its id, the list's order.
            // Before it: the mirror image, read backwards. `total <= t` (`>=`) bounds the
            // index scan; the OR only decides the ties at `t`.
            let (bound, beyond, id_beyond, order) = match start {
                Start::After(_) => ("<=", "<", ">", "DESC"),
                _ => (">=", ">", "<", "ASC"),
            };
            let id_order = if order == "DESC" { "" } else { " DESC" };
            query
                .push(format!(" AND {total} {bound} "))
                .push_bind(place.total_qty)
                .push(format!(" AND ({total} {beyond} "))
                .push_bind(place.total_qty)
                .push(format!(" OR {id} {id_beyond} "))
                .push_bind(place.item_id)
                .push(format!(") ORDER BY {total} {order}, {id}{id_order} LIMIT "))
                .push_bind(limit);
        }
    }
}

/// `q` as an FTS5 query: one phrase of the folded `q` (a substring, for the trigram tokenizer).
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", fold(q).replace('"', "\"\""))
}

/// The snapshot export (SPEC §11): every item in stock matching `q`, by sku, with its totals
/// and earliest expiry, read a chunk at a time (each chunk a short read of its own).
pub struct SnapshotExport {
    search: Option<String>,
    today: NaiveDate,
    /// The last sku exported.
    after: Option<String>,
    done: bool,
}

impl SnapshotExport {
    pub fn new(query: &SnapshotQuery, config: &Config) -> Result<Self, AppError> {
        // An export has every row; paging parameters are checked like the page's, not used.
        Paging::parse(query.offset, query.limit)?;
        Ok(Self {
            search: parse_search(query.q.as_deref())?,
            today: config.today(),
            after: None,
            done: false,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ExportRow {
    sku: String,
    name: String,
    spec: String,
    unit: String,
    total_qty: i64,
    reserved_qty: i64,
    available_qty: i64,
    earliest_expiry: Option<NaiveDate>,
}

/// How many items one read of an export takes.
const EXPORT_CHUNK: i64 = 2000;

impl crate::export::Export for SnapshotExport {
    const NAME: &'static str = "snapshot";

    fn columns() -> &'static [crate::sheet::Column] {
        use crate::sheet::columns::*;
        &[
            SKU,
            NAME,
            SPEC,
            UNIT,
            TOTAL_QTY,
            RESERVED_QTY,
            AVAILABLE_QTY,
            EARLIEST_EXPIRY,
        ]
    }

    async fn next_chunk(&mut self, db: &Db) -> Result<Vec<Vec<crate::sheet::Cell>>, AppError> {
        use crate::sheet::Cell;
        if self.done {
            return Ok(Vec::new());
        }
        let rows: Vec<ExportRow> = with_pool!(db, |conn, backend| {
            let mut query = QueryBuilder::new(
                "SELECT i.sku, i.name, i.spec, i.unit, t.total_qty, \
                 (SELECT MIN(b.expiry_date) FROM batches b \
                  WHERE b.item_id = i.id AND b.qty > 0) AS earliest_expiry, \
                 (SELECT CAST(COALESCE(SUM(b.reserved), 0) AS BIGINT) FROM batches b \
                  WHERE b.item_id = i.id AND b.reserved > 0) AS reserved_qty, \
                 (SELECT CAST(COALESCE(SUM(CASE WHEN b.expiry_date IS NULL OR b.expiry_date >= ",
            );
            query.push_bind(self.today).push(
                " THEN b.qty - b.reserved ELSE 0 END), 0) AS BIGINT) FROM batches b \
                     WHERE b.item_id = i.id AND b.qty > 0) AS available_qty \
                     FROM items i JOIN item_totals t ON t.item_id = i.id WHERE t.total_qty > 0 ",
            );
            if let Some(after) = &self.after {
                query
                    .push("AND i.sku > ")
                    .push_bind(after.clone())
                    .push(" ");
            }
            if let Some(q) = &self.search {
                query.push("AND ");
                push_matching!(query, backend, q);
            }
            query.push(" ORDER BY i.sku LIMIT ").push_bind(EXPORT_CHUNK);
            query
                .build_query_as()
                .persistent(false)
                .fetch_all(conn)
                .await?
        });
        self.done = (rows.len() as i64) < EXPORT_CHUNK;
        if let Some(last) = rows.last() {
            self.after = Some(last.sku.clone());
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                vec![
                    Cell::Text(r.sku),
                    Cell::Text(r.name),
                    Cell::Text(r.spec),
                    Cell::Text(r.unit),
                    Cell::Int(r.total_qty),
                    Cell::Int(r.reserved_qty),
                    Cell::Int(r.available_qty),
                    Cell::from(r.earliest_expiry),
                ]
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_one_quoted_folded_phrase() {
        assert_eq!(fts_phrase("aB\"c"), "\"ab\"\"c\"");
        assert_eq!(fts_phrase("苹果汁"), "\"苹果汁\"");
        assert_eq!(fts_phrase("ＡＢＣ"), "\"abc\"");
    }
}
