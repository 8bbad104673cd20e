//! The projections of stock: what is kept beside the stocks so pages read it at once, all in
//! the movement's transaction, from what the movement changed. A movement's write hands each
//! item's change here ([`follow`], or on PostgreSQL [`push_totals`] inside the stocks' one
//! statement and [`follow_totals`] after it); its physical takes hand over the reservations
//! they ended ([`reservations::release_lost`]).
//!
//! - per-item totals (`item_totals`, migration 0002);
//! - the counts of items by total, sharded (`item_total_counts`, migration 0012), which the
//!   snapshot's deep pages rank by;
//! - the count of items in stock, sharded (`inventory_summary`, migration 0004);
//! - the search index's bits of items in stock (`search::index`, migration 0011);
//! - what orders hold of the batches ([`reservations`]).

pub mod reservations;

use std::collections::BTreeMap;

use sqlx::QueryBuilder;

use crate::db::{Backend, Tx};
use crate::error::AppError;
use crate::movement::ROWS_PER_STATEMENT;
use crate::with_tx;

/// Appends to a PostgreSQL `WITH` the change of the totals of `items` (`v`: item id, delta;
/// `t`, all gaining or one losing) and of their counts by total (`c`: the item leaves the count
/// of its old total for that of its new one, rows in key order, as [`change_rank_counts`]
/// does); the statement's last part reads the new totals from `t` (none without items).
pub fn push_totals(query: &mut QueryBuilder<'_, sqlx::Postgres>, items: &[(i64, i64)]) {
    if items.is_empty() {
        query.push(
            "t (item_id, total_qty) AS (SELECT CAST(0 AS BIGINT), CAST(0 AS BIGINT) WHERE false) ",
        );
    } else {
        query.push("v (item_id, delta) AS (");
        query.push_values(items, |mut row, (item, delta)| {
            row.push_bind(*item).push_bind(*delta);
        });
        query.push("), t AS (");
        if items.iter().all(|(_, d)| *d > 0) {
            query.push(
                "INSERT INTO item_totals (item_id, total_qty) SELECT item_id, delta FROM v ORDER BY item_id \
                 ON CONFLICT (item_id) DO UPDATE SET total_qty = item_totals.total_qty + excluded.total_qty \
                 RETURNING item_id, total_qty",
            );
        } else {
            query.push(
                "UPDATE item_totals SET total_qty = item_totals.total_qty + v.delta FROM v \
                 WHERE item_totals.item_id = v.item_id \
                 RETURNING item_totals.item_id, item_totals.total_qty",
            );
        }
        query.push(format_args!(
            "), c AS (INSERT INTO item_total_counts (total_qty, shard, items) \
             SELECT total_qty, shard, CAST(SUM(items) AS BIGINT) FROM ( \
               SELECT t.total_qty - v.delta AS total_qty, t.item_id % {RANK_SHARDS} AS shard, -1 AS items \
               FROM t JOIN v ON v.item_id = t.item_id WHERE t.total_qty - v.delta > 0 \
               UNION ALL SELECT total_qty, item_id % {RANK_SHARDS}, 1 FROM t WHERE total_qty > 0) AS moved \
             GROUP BY total_qty, shard HAVING SUM(items) <> 0 ORDER BY total_qty, shard \
             ON CONFLICT (total_qty, shard) DO UPDATE SET items = item_total_counts.items + excluded.items) "
        ));
    }
}

/// What follows the totals changed by [`push_totals`]: the items in and out of stock, and the
/// counts by total an item left, which may now be zero (for the movement's next statement to
/// delete, [`push_tidy`]).
pub async fn follow_totals(
    tx: &mut Tx,
    totals: &[(i64, i64)],
    by_item: &BTreeMap<i64, i64>,
) -> Result<MaybeEmptied, AppError> {
    let emptied = MaybeEmptied(
        rank_changes(totals, by_item)
            .into_iter()
            .filter(|(_, n)| *n < 0)
            .map(|(key, _)| key)
            .collect(),
    );
    change_in_stock(tx, totals, by_item).await?;
    Ok(emptied)
}

/// Counts of items by total that a change took an item from, on PostgreSQL: any of them may
/// now be zero, which the movement's next statement deletes ([`push_tidy`]).
#[derive(Debug, Default)]
pub struct MaybeEmptied(Vec<(i64, i64)>);

impl MaybeEmptied {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Appends to a PostgreSQL `WITH` the deletion of the counts `emptied` that are zero:
/// `z AS (DELETE …), ` (nothing when there are none). The rows are this transaction's already.
pub fn push_tidy<'q>(query: &mut QueryBuilder<'q, sqlx::Postgres>, emptied: &MaybeEmptied) {
    if emptied.0.is_empty() {
        return;
    }
    query.push("z AS (DELETE FROM item_total_counts WHERE items = 0 AND (total_qty, shard) IN (");
    query.push_values(&emptied.0, |mut row, (total, shard)| {
        row.push_bind(*total).push_bind(*shard);
    });
    query.push(")), ");
}

/// Deletes the counts `emptied` that are zero, in a statement of its own.
pub async fn tidy(tx: &mut Tx, emptied: &MaybeEmptied) -> Result<(), AppError> {
    for chunk in emptied.0.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "DELETE FROM item_total_counts WHERE items = 0 AND (total_qty, shard) IN (",
            );
            query.push_values(chunk, |mut row, (total, shard)| {
                row.push_bind(*total).push_bind(*shard);
            });
            query.push(")");
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}

/// Follows each item's net change `by_item` (item id → delta): adds it to the item's total,
/// moves the item between the counts by total, counts the items that come into or go out of
/// stock and marks them so in the search index. Rows are locked in item order (one lock order for every transaction): the multi-row
/// upsert of the additions takes them in VALUES order; the subtractions, whose UPDATE may visit
/// rows in any order, lock them first on PostgreSQL when there are several.
pub async fn follow(tx: &mut Tx, by_item: &BTreeMap<i64, i64>) -> Result<(), AppError> {
    // (item id, delta) pairs, additions and subtractions apart.
    type Deltas = Vec<(i64, i64)>;
    let (adds, takes): (Deltas, Deltas) = by_item
        .iter()
        .filter(|(_, d)| **d != 0)
        .map(|(item, d)| (*item, *d))
        .partition(|(_, d)| *d > 0);
    let mut totals: Vec<(i64, i64)> = Vec::with_capacity(by_item.len());
    for chunk in adds.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(i64, i64)> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new("INSERT INTO item_totals (item_id, total_qty) ");
            query.push_values(chunk, |mut row, (item, delta)| {
                row.push_bind(*item).push_bind(*delta);
            });
            query.push(
                " ON CONFLICT (item_id) DO UPDATE SET total_qty = item_totals.total_qty + excluded.total_qty \
                 RETURNING item_id, total_qty",
            );
            query.build_query_as().fetch_all(&mut *conn).await?
        });
        totals.extend(rows);
    }
    for chunk in takes.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(i64, i64)> = with_tx!(tx, |conn, backend| {
            if backend == Backend::Postgres && chunk.len() > 1 {
                let mut query =
                    QueryBuilder::new("SELECT item_id FROM item_totals WHERE item_id IN (");
                let mut list = query.separated(", ");
                for (item, _) in chunk {
                    list.push_bind(*item);
                }
                query.push(") ORDER BY item_id FOR UPDATE");
                query.build().execute(&mut *conn).await.map(drop)?;
            }
            let mut query = QueryBuilder::new(
                "UPDATE item_totals SET total_qty = item_totals.total_qty + v.column2 FROM (",
            );
            query.push_values(chunk, |mut row, (item, delta)| {
                row.push_bind(*item).push_bind(*delta);
            });
            query.push(
                ") AS v WHERE item_totals.item_id = v.column1 \
                 RETURNING item_totals.item_id, item_totals.total_qty",
            );
            query.build_query_as().fetch_all(&mut *conn).await?
        });
        if rows.len() != chunk.len() {
            return Err(AppError::internal(&std::io::Error::other(
                "an item without a total lost stock",
            )));
        }
        totals.extend(rows);
    }
    change_rank_counts(tx, &totals, by_item).await?;
    change_in_stock(tx, &totals, by_item).await
}

/// Counts the items that came into or went out of stock, for the snapshot and search, from
/// their new `totals` and their changes `by_item`.
async fn change_in_stock(
    tx: &mut Tx,
    totals: &[(i64, i64)],
    by_item: &BTreeMap<i64, i64>,
) -> Result<(), AppError> {
    let in_stock_changes: BTreeMap<i64, i64> = totals
        .iter()
        .map(|(item, total)| {
            let before = total - by_item[item];
            (*item, i64::from(*total > 0) - i64::from(before > 0))
        })
        .filter(|(_, change)| *change != 0)
        .collect();
    change_items_in_stock(tx, &in_stock_changes).await?;
    crate::search::index::toggle_in_stock(tx, &in_stock_changes).await
}

/// How the counts of items by total (total, shard) change when items reach `totals` by the
/// changes `by_item`: each leaves its old total's count for its new one's.
fn rank_changes(totals: &[(i64, i64)], by_item: &BTreeMap<i64, i64>) -> Vec<((i64, i64), i64)> {
    let mut by_key: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for (item, total) in totals {
        let before = total - by_item[item];
        let shard = item.rem_euclid(RANK_SHARDS);
        if before > 0 {
            *by_key.entry((before, shard)).or_default() -= 1;
        }
        if *total > 0 {
            *by_key.entry((*total, shard)).or_default() += 1;
        }
    }
    by_key.into_iter().filter(|(_, n)| *n != 0).collect()
}

/// Shards of the counts of items in stock by total (`item_total_counts`, migration 0012): an
/// item counts in shard `item_id % RANK_SHARDS`.
pub const RANK_SHARDS: i64 = 8;

/// Moves each item whose total changed from the count of its old total to that of its new one
/// (`item_total_counts`, which the snapshot reads deep pages by): one upsert, rows in key
/// order (one lock order for every transaction). A count left at zero is deleted, so the
/// table holds the totals there are. No CHECK keeps a count non-negative: both databases check
/// the row an upsert proposes (here the decrement itself) before they find the row it updates;
/// `depot check` proves every count instead.
async fn change_rank_counts(
    tx: &mut Tx,
    totals: &[(i64, i64)],
    by_item: &BTreeMap<i64, i64>,
) -> Result<(), AppError> {
    let rows = rank_changes(totals, by_item);
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let counts: Vec<(i64, i64, i64)> = with_tx!(tx, |conn, _backend| {
            let mut query =
                QueryBuilder::new("INSERT INTO item_total_counts (total_qty, shard, items) ");
            query.push_values(chunk, |mut row, ((total, shard), change)| {
                row.push_bind(*total).push_bind(*shard).push_bind(*change);
            });
            query.push(
                " ON CONFLICT (total_qty, shard) DO UPDATE \
                 SET items = item_total_counts.items + excluded.items \
                 RETURNING total_qty, shard, items",
            );
            query.build_query_as().fetch_all(&mut *conn).await?
        });
        for (total, shard, _) in counts.into_iter().filter(|(_, _, items)| *items == 0) {
            with_tx!(tx, |conn, _backend| sqlx::query(
                "DELETE FROM item_total_counts WHERE total_qty = $1 AND shard = $2 AND items = 0"
            )
            .bind(total)
            .bind(shard)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        }
    }
    Ok(())
}

/// Shards of the count of items in stock (`inventory_summary`, migration 0004): an item counts
/// in shard `item_id % IN_STOCK_SHARDS`, so movements of unrelated items seldom share a row.
pub const IN_STOCK_SHARDS: i64 = 64;

/// Adds to the count of items in stock: (item id, +1 when it came into stock, -1 when it went
/// out). One statement for every shard that changes; on PostgreSQL, several shards are locked
/// first in ascending order (one lock order for every transaction, as for `item_totals`).
pub async fn change_items_in_stock(
    tx: &mut Tx,
    by_item: &BTreeMap<i64, i64>,
) -> Result<(), AppError> {
    let mut by_shard: BTreeMap<i64, i64> = BTreeMap::new();
    for (item, change) in by_item {
        *by_shard
            .entry(item.rem_euclid(IN_STOCK_SHARDS))
            .or_default() += change;
    }
    let shards: Vec<(i64, i64)> = by_shard.into_iter().filter(|(_, c)| *c != 0).collect();
    if shards.is_empty() {
        return Ok(());
    }
    with_tx!(tx, |conn, backend| {
        if backend == Backend::Postgres && shards.len() > 1 {
            let mut query = QueryBuilder::new("SELECT id FROM inventory_summary WHERE id IN (");
            let mut list = query.separated(", ");
            for (shard, _) in &shards {
                list.push_bind(*shard);
            }
            query.push(") ORDER BY id FOR UPDATE");
            query.build().execute(&mut *conn).await.map(drop)?;
        }
        let mut query = QueryBuilder::new(
            "UPDATE inventory_summary SET items_in_stock = inventory_summary.items_in_stock + v.column2 FROM (",
        );
        query.push_values(&shards, |mut row, (shard, change)| {
            row.push_bind(*shard).push_bind(*change);
        });
        query.push(") AS v WHERE inventory_summary.id = v.column1");
        query.build().execute(&mut *conn).await.map(drop)?
    });
    Ok(())
}
