//! Stock rows: locking them in one global order, and applying a movement's deltas to them; the
//! items' changes go on to the [`projections`] in the same transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::QueryBuilder;

use crate::db::{Backend, Tx};
use crate::error::AppError;
use crate::movement::batches;
use crate::movement::ledger::LedgerEntry;
use crate::movement::projections::{self, MaybeEmptied};
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

/// Locks every stock of `items` in a storage location, in the order every movement locks
/// stocks ((item, location), as [`lock_stocks`]): what an order of these items may reserve.
/// (SQLite's writers take turns: nothing to lock there.)
pub async fn lock_stored(tx: &mut Tx, items: &[i64]) -> Result<(), AppError> {
    for chunk in items.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, backend| {
            if backend == Backend::Postgres {
                let mut query = QueryBuilder::new(
                    "SELECT s.id FROM stocks s JOIN locations l ON l.id = s.location_id \
                     WHERE l.kind = 'storage' AND s.item_id IN (",
                );
                let mut list = query.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                query.push(") ORDER BY s.item_id, s.location_id FOR UPDATE OF s");
                query.build().execute(&mut *conn).await.map(drop)?;
            }
        });
    }
    Ok(())
}

/// Takes `taken` (batch id → qty, reservation it ends) from batches, applies the entries' deltas
/// to their stocks, and hands each item's change to the [`projections`], in the same
/// transaction. The
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
        return projections::follow_totals(tx, &totals, &by_item).await;
    }
    batches::take_from_batches_rows(tx, &taken).await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new("");
            push_stocks(&mut query, chunk);
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    projections::follow(tx, &by_item).await?;
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

/// [`change_stocks`] in one PostgreSQL statement: the takes (`b`), the stocks (`s`), and the
/// totals of `items` with their counts by total ([`projections::push_totals`]). Answers each
/// item's new total.
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
    projections::push_totals(&mut query, items);
    query.push("SELECT item_id, total_qty FROM t");
    Ok(query.build_query_as().fetch_all(conn).await?)
}
