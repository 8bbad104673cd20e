//! Stock rows: locking them in one global order, and applying a movement's deltas to them and to
//! the snapshot's derived tables (`item_totals`, `item_total_counts`, `inventory_summary`, the
//! search index's items in stock) in the same transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::QueryBuilder;

use crate::db::{Backend, Tx};
use crate::error::AppError;
use crate::movement::batches;
use crate::movement::ledger::LedgerEntry;
use crate::movement::ROWS_PER_STATEMENT;
use crate::with_tx;

/// A stock row, locked by this transaction.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct StockRow {
    pub id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub qty: i64,
}

/// Locks the stock rows of `keys` (item, location) for the rest of the transaction, in ascending
/// key order so that two requests touching the same stocks cannot deadlock. With `create`,
/// missing rows are created with qty 0; without it, missing rows are simply not returned.
/// (SQLite has no row locks: its write transaction already holds the database's write lock.)
pub async fn lock_stocks(
    tx: &mut Tx,
    keys: &BTreeSet<(i64, i64)>,
    create: bool,
) -> Result<HashMap<(i64, i64), StockRow>, AppError> {
    let keys: Vec<(i64, i64)> = keys.iter().copied().collect();
    let mut locked = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<StockRow> = with_tx!(tx, |conn, backend| {
            let mut query = if create {
                // DO UPDATE (not DO NOTHING) so existing rows are returned and locked too; rows
                // are taken in VALUES order, which is sorted.
                let mut query =
                    QueryBuilder::new("INSERT INTO stocks (item_id, location_id, qty) ");
                query.push_values(chunk, |mut row, (item_id, location_id)| {
                    row.push_bind(*item_id)
                        .push_bind(*location_id)
                        .push_bind(0_i64);
                });
                query.push(
                    " ON CONFLICT (item_id, location_id) DO UPDATE SET qty = stocks.qty \
                     RETURNING id, item_id, location_id, qty",
                );
                query
            } else {
                let mut query = QueryBuilder::new(
                    "SELECT id, item_id, location_id, qty FROM stocks WHERE (item_id, location_id) IN (",
                );
                query.push_values(chunk, |mut row, (item_id, location_id)| {
                    row.push_bind(*item_id).push_bind(*location_id);
                });
                query.push(") ORDER BY item_id, location_id");
                if backend == Backend::Postgres {
                    query.push(" FOR UPDATE");
                }
                query
            };
            query
                .build_query_as::<StockRow>()
                .fetch_all(&mut *conn)
                .await?
        });
        for row in rows {
            locked.insert((row.item_id, row.location_id), row);
        }
    }
    Ok(locked)
}

/// Takes `taken` (batch id → qty, reservation it ends) from batches, applies the entries' deltas
/// to their stocks, and keeps the snapshot's derived tables (`item_totals`, `item_total_counts`,
/// `inventory_summary`; migrations 0002 and 0012) exact in the same transaction. The
/// database's CHECKs refuse a negative qty: callers plan from locked rows, so that would be a
/// bug, answered as an internal error.
///
/// On PostgreSQL a movement's usual change (its takes, its stocks, the totals of items that
/// all gain, or of one item that loses, and their counts by total) is one statement of
/// data-modifying `WITH`s; the counts it may have left at zero are returned, for the
/// movement's next statement to delete ([`push_tidy`]). Otherwise these are several
/// statements and nothing is left to tidy.
pub async fn change_stocks(
    tx: &mut Tx,
    taken: &HashMap<i64, (i64, i64)>,
    entries: &[LedgerEntry],
) -> Result<MaybeEmptied, AppError> {
    let mut by_stock: BTreeMap<i64, i64> = BTreeMap::new();
    let mut by_item: BTreeMap<i64, i64> = BTreeMap::new();
    for entry in entries {
        *by_stock.entry(entry.stock_id).or_default() += entry.delta;
        *by_item.entry(entry.item_id).or_default() += entry.delta;
    }
    let rows: Vec<(i64, i64)> = by_stock.into_iter().filter(|(_, d)| *d != 0).collect();
    let items: Vec<(i64, i64)> = by_item
        .iter()
        .filter(|(_, d)| **d != 0)
        .map(|(item, d)| (*item, *d))
        .collect();
    let taken = batches::take_rows(taken);
    let fits = rows.len().max(items.len()).max(taken.len()) <= ROWS_PER_STATEMENT;
    // Several items losing stock lock their totals in item order first (one lock order for
    // every transaction), which one statement cannot promise.
    let one_order = items.len() <= 1 || items.iter().all(|(_, d)| *d > 0);
    if let (Tx::Postgres(conn), true, true) = (&mut *tx, fits, one_order) {
        let totals = change_in_one_statement(conn, &taken, &rows, &items).await?;
        if totals.len() != items.len() {
            return Err(AppError::internal(&std::io::Error::other(
                "an item without a total lost stock",
            )));
        }
        let emptied = MaybeEmptied(
            rank_changes(&totals, &by_item)
                .into_iter()
                .filter(|(_, n)| *n < 0)
                .map(|(key, _)| key)
                .collect(),
        );
        change_in_stock(tx, &totals, &by_item).await?;
        return Ok(emptied);
    }
    batches::take_from_batches_rows(tx, &taken).await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new("");
            push_stocks(&mut query, chunk);
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    change_item_totals(tx, &by_item).await?;
    Ok(MaybeEmptied::default())
}

/// Appends the update adding `rows` (stock id, delta) to their stocks.
fn push_stocks<'q, DB: sqlx::Database>(query: &mut QueryBuilder<'q, DB>, rows: &[(i64, i64)])
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query.push("UPDATE stocks SET qty = stocks.qty + v.column2 FROM (");
    query.push_values(rows, |mut row, (id, delta)| {
        row.push_bind(*id).push_bind(*delta);
    });
    query.push(") AS v WHERE stocks.id = v.column1");
}

/// [`change_stocks`] in one PostgreSQL statement: the takes (`b`), the stocks (`s`), the
/// totals of `items` (`v`: item id, delta; `t`, all gaining or one losing) and their counts by
/// total (`c`: the item leaves the count of its old total for that of its new one, rows in key
/// order, as [`change_rank_counts`] does). Answers each item's new total.
async fn change_in_one_statement(
    conn: &mut sqlx::PgConnection,
    taken: &[(i64, i64, i64)],
    stocks: &[(i64, i64)],
    items: &[(i64, i64)],
) -> Result<Vec<(i64, i64)>, AppError> {
    let mut query = QueryBuilder::<sqlx::Postgres>::new("WITH ");
    if !taken.is_empty() {
        query.push("b AS (");
        batches::push_take(&mut query, taken);
        query.push("), ");
    }
    if !stocks.is_empty() {
        query.push("s AS (");
        push_stocks(&mut query, stocks);
        query.push("), ");
    }
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
    query.push("SELECT item_id, total_qty FROM t");
    Ok(query.build_query_as().fetch_all(conn).await?)
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

/// Adds each item's net delta to its total and counts the items that come into or go out of
/// stock. Rows are locked in item order (one lock order for every transaction): the multi-row
/// upsert of the additions takes them in VALUES order; the subtractions, whose UPDATE may visit
/// rows in any order, lock them first on PostgreSQL when there are several.
async fn change_item_totals(tx: &mut Tx, by_item: &BTreeMap<i64, i64>) -> Result<(), AppError> {
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
