//! The building blocks of a movement, inside the caller's transaction. Each works on all the
//! lines of a request at once — one statement per step, whatever the number of lines — because
//! a statement's round trip, not the database's work, is what a movement costs.
//!
//! A service strings them together between `Db::begin_write` and `Tx::commit`: find the items
//! and locations, lock the stocks (in one fixed order), read the ref's anchors, plan in memory,
//! then write batches, stocks, ledger entries, batch detail and anchors.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

use crate::db::{Backend, Tx};
use crate::domain::LocationKind;
use crate::error::{AppError, ErrorCode};
use crate::movement::{BatchQty, ItemKey, LocationKey};
use crate::with_tx;

/// Rows per multi-row statement: far below both backends' limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 1000;

/// An item a line names, found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FoundItem {
    pub id: i64,
    pub sku: String,
}

/// A location a line names, found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FoundLocation {
    pub id: i64,
    pub code: String,
    pub kind: String,
}

impl FoundLocation {
    pub fn kind(&self) -> Option<LocationKind> {
        LocationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.kind)
    }
}

/// A stock row, locked by this transaction.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct StockRow {
    pub id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub qty: i64,
}

/// A batch row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchRow {
    pub id: i64,
    pub stock_id: i64,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    pub qty: i64,
}

impl BatchRow {
    /// Usable on `today` (SPEC §3): not expired, expiring today included.
    pub fn usable(&self, today: NaiveDate) -> bool {
        self.expiry_date.is_none_or(|expiry| expiry >= today)
    }
}

/// The path of line `i`'s field `name` in a request, e.g. `lines[2].qty`.
pub fn line_field(i: usize, name: &str) -> String {
    format!("lines[{i}].{name}")
}

/// Finds the items the lines name (one key per line, in order); the first unknown one is
/// `UNKNOWN_ITEM` naming its field.
pub async fn find_items<'k>(
    tx: &mut Tx,
    keys: impl IntoIterator<Item = &'k ItemKey>,
) -> Result<Vec<FoundItem>, AppError> {
    let keys: Vec<&ItemKey> = keys.into_iter().collect();
    let prefixes: Vec<String> = (0..keys.len()).map(|i| format!("lines[{i}]")).collect();
    let ids: BTreeSet<i64> = keys.iter().filter_map(|k| k.id).collect();
    let skus: BTreeSet<&str> = keys
        .iter()
        .filter(|k| k.id.is_none())
        .filter_map(|k| k.sku.as_ref().map(|s| s.as_str()))
        .collect();
    let mut by_id = HashMap::new();
    let mut by_sku = HashMap::new();
    with_tx!(tx, |conn, _backend| {
        if !ids.is_empty() {
            let mut query = QueryBuilder::new("SELECT id, sku FROM items WHERE id IN (");
            let mut list = query.separated(", ");
            for id in &ids {
                list.push_bind(*id);
            }
            query.push(")");
            for item in query
                .build_query_as::<FoundItem>()
                .fetch_all(&mut *conn)
                .await?
            {
                by_id.insert(item.id, item);
            }
        }
        if !skus.is_empty() {
            let mut query = QueryBuilder::new("SELECT id, sku FROM items WHERE sku IN (");
            let mut list = query.separated(", ");
            for sku in &skus {
                list.push_bind(*sku);
            }
            query.push(")");
            for item in query
                .build_query_as::<FoundItem>()
                .fetch_all(&mut *conn)
                .await?
            {
                by_sku.insert(item.sku.clone(), item);
            }
        }
    });
    keys.iter()
        .zip(prefixes)
        .map(|(key, prefix)| {
            let found = match (&key.id, &key.sku) {
                (Some(id), _) => by_id.get(id),
                (None, Some(sku)) => by_sku.get(sku.as_str()),
                (None, None) => None,
            };
            let Some(item) = found else {
                let (field, what) = match (&key.id, &key.sku) {
                    (Some(id), _) => (format!("{prefix}.item_id"), format!("no item with id {id}")),
                    (None, Some(sku)) => {
                        (format!("{prefix}.sku"), format!("no item with sku '{sku}'"))
                    }
                    (None, None) => (format!("{prefix}.sku"), "no item named".to_string()),
                };
                return Err(
                    AppError::new(ErrorCode::UnknownItem, format!("{field}: {what}"))
                        .with_details(serde_json::json!({ "field": field })),
                );
            };
            if let (Some(_), Some(sku)) = (&key.id, &key.sku) {
                if item.sku != sku.as_str() {
                    return Err(AppError::validation(
                        format!("{prefix}.sku"),
                        format!("item {} has sku '{}', not '{sku}'", item.id, item.sku),
                    ));
                }
            }
            Ok(item.clone())
        })
        .collect()
}

/// Finds the locations the lines name in their field `name` (one key per line, in order); the
/// first unknown one is `UNKNOWN_LOCATION` naming its field, e.g. `lines[3].location_code`.
pub async fn find_locations<'k>(
    tx: &mut Tx,
    keys: impl IntoIterator<Item = &'k LocationKey>,
    name: &str,
) -> Result<Vec<FoundLocation>, AppError> {
    let keys: Vec<&LocationKey> = keys.into_iter().collect();
    let fields: Vec<String> = (0..keys.len()).map(|i| line_field(i, name)).collect();
    let ids: BTreeSet<i64> = keys.iter().filter_map(|k| k.id).collect();
    let codes: BTreeSet<&str> = keys
        .iter()
        .filter(|k| k.id.is_none())
        .filter_map(|k| k.code.as_ref().map(|c| c.as_str()))
        .collect();
    let mut by_id = HashMap::new();
    let mut by_code = HashMap::new();
    with_tx!(tx, |conn, _backend| {
        if !ids.is_empty() {
            let mut query = QueryBuilder::new("SELECT id, code, kind FROM locations WHERE id IN (");
            let mut list = query.separated(", ");
            for id in &ids {
                list.push_bind(*id);
            }
            query.push(")");
            for location in query
                .build_query_as::<FoundLocation>()
                .fetch_all(&mut *conn)
                .await?
            {
                by_id.insert(location.id, location);
            }
        }
        if !codes.is_empty() {
            let mut query =
                QueryBuilder::new("SELECT id, code, kind FROM locations WHERE code IN (");
            let mut list = query.separated(", ");
            for code in &codes {
                list.push_bind(*code);
            }
            query.push(")");
            for location in query
                .build_query_as::<FoundLocation>()
                .fetch_all(&mut *conn)
                .await?
            {
                by_code.insert(location.code.clone(), location);
            }
        }
    });
    keys.iter()
        .zip(fields)
        .map(|(key, field)| {
            let found = match (&key.id, &key.code) {
                (Some(id), _) => by_id.get(id),
                (None, Some(code)) => by_code.get(code.as_str()),
                (None, None) => None,
            };
            let Some(location) = found else {
                let what = match (&key.id, &key.code) {
                    (Some(id), _) => format!("no location with id {id}"),
                    (None, Some(code)) => format!("no location with code '{code}'"),
                    (None, None) => "no location named".to_string(),
                };
                return Err(
                    AppError::new(ErrorCode::UnknownLocation, format!("{field}: {what}"))
                        .with_details(serde_json::json!({ "field": field })),
                );
            };
            if let (Some(_), Some(code)) = (&key.id, &key.code) {
                if location.code != code.as_str() {
                    return Err(AppError::validation(
                        field.clone(),
                        format!(
                            "location {} has code '{}', not '{code}'",
                            location.id, location.code
                        ),
                    ));
                }
            }
            Ok(location.clone())
        })
        .collect()
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

/// The batches with goods of `stock_ids`, per stock in FEFO order: earliest expiry first, no
/// expiry last, then oldest batch.
pub async fn load_batches(
    tx: &mut Tx,
    stock_ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, Vec<BatchRow>>, AppError> {
    let ids: Vec<i64> = stock_ids.iter().copied().collect();
    let mut by_stock: HashMap<i64, Vec<BatchRow>> = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<BatchRow> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "SELECT id, stock_id, batch_code, expiry_date, production_date, qty FROM batches \
                 WHERE qty > 0 AND stock_id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(") ORDER BY stock_id, expiry_date IS NULL, expiry_date, id");
            query
                .build_query_as::<BatchRow>()
                .fetch_all(&mut *conn)
                .await?
        });
        for row in rows {
            by_stock.entry(row.stock_id).or_default().push(row);
        }
    }
    Ok(by_stock)
}

/// Which batches a line takes, and how much of each.
pub type Plan = Vec<(BatchRow, i64)>;

/// Splits `qty` over `batches` in their order, skipping those `eligible` refuses; `None` when
/// the eligible ones hold less. `batches` keep what is left.
pub fn take_fefo(
    batches: &mut [BatchRow],
    qty: i64,
    eligible: impl Fn(&BatchRow) -> bool,
) -> Option<Plan> {
    let available: i64 = batches.iter().filter(|b| eligible(b)).map(|b| b.qty).sum();
    if available < qty {
        return None;
    }
    let mut left = qty;
    let mut plan = Vec::new();
    for batch in batches.iter_mut().filter(|b| eligible(b) && b.qty > 0) {
        if left == 0 {
            break;
        }
        let take = batch.qty.min(left);
        batch.qty -= take;
        left -= take;
        plan.push((
            BatchRow {
                qty: take,
                ..batch.clone()
            },
            take,
        ));
    }
    Some(plan)
}

/// Applies the entries' deltas to their stocks, and keeps the snapshot's derived tables
/// (`item_totals`, `inventory_summary`; migration 0002) exact in the same transaction. The
/// database's CHECKs refuse a negative qty: callers plan from locked rows, so that would be a
/// bug, answered as an internal error.
pub async fn change_stocks(tx: &mut Tx, entries: &[LedgerEntry]) -> Result<(), AppError> {
    let mut by_stock: HashMap<i64, i64> = HashMap::new();
    let mut by_item: BTreeMap<i64, i64> = BTreeMap::new();
    for entry in entries {
        *by_stock.entry(entry.stock_id).or_default() += entry.delta;
        *by_item.entry(entry.item_id).or_default() += entry.delta;
    }
    let rows: Vec<(i64, i64)> = by_stock.into_iter().filter(|(_, d)| *d != 0).collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query =
                QueryBuilder::new("UPDATE stocks SET qty = stocks.qty + v.column2 FROM (");
            query.push_values(chunk, |mut row, (id, delta)| {
                row.push_bind(*id).push_bind(*delta);
            });
            query.push(") AS v WHERE stocks.id = v.column1");
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    change_item_totals(tx, &by_item).await
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
    let in_stock_changes: BTreeMap<i64, i64> = totals
        .iter()
        .map(|(item, total)| {
            let before = total - by_item[item];
            (*item, i64::from(*total > 0) - i64::from(before > 0))
        })
        .filter(|(_, change)| *change != 0)
        .collect();
    change_items_in_stock(tx, &in_stock_changes).await
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

/// Takes qty out of batches: (batch id, qty to take).
pub async fn take_from_batches(tx: &mut Tx, takes: &HashMap<i64, i64>) -> Result<(), AppError> {
    let rows: Vec<(i64, i64)> = takes.iter().map(|(id, qty)| (*id, *qty)).collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query =
                QueryBuilder::new("UPDATE batches SET qty = batches.qty - v.column2 FROM (");
            query.push_values(chunk, |mut row, (id, qty)| {
                row.push_bind(*id).push_bind(*qty);
            });
            query.push(") AS v WHERE batches.id = v.column1");
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}

/// Goods going into one lot at one stock.
#[derive(Debug, Clone)]
pub struct LotAdd {
    pub stock_id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub code: String,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    pub qty: i64,
    /// The request field to name if the lot's dates clash with the batch already there.
    pub field: String,
}

/// Adds goods to lots, creating batches as needed; returns each add's batch id and the lot's
/// expiry date, in order.
/// A batch that already holds goods keeps its dates: a lot given other dates is `CONFLICT`
/// naming the add's field. An empty one takes the new dates. At most one add per
/// (stock, code): callers merge.
pub async fn add_to_lots(
    tx: &mut Tx,
    adds: &[LotAdd],
) -> Result<Vec<(i64, Option<NaiveDate>)>, AppError> {
    let mut ids = Vec::with_capacity(adds.len());
    let mut redate = Vec::new();
    for chunk in adds.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<BatchRow> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "INSERT INTO batches (stock_id, item_id, location_id, batch_code, expiry_date, production_date, qty) ",
            );
            query.push_values(chunk, |mut row, add| {
                row.push_bind(add.stock_id)
                    .push_bind(add.item_id)
                    .push_bind(add.location_id)
                    .push_bind(add.code.as_str())
                    .push_bind(add.expiry_date)
                    .push_bind(add.production_date)
                    .push_bind(add.qty);
            });
            query.push(
                " ON CONFLICT (item_id, location_id, batch_code) DO UPDATE SET qty = batches.qty + excluded.qty \
                 RETURNING id, stock_id, batch_code, expiry_date, production_date, qty",
            );
            query
                .build_query_as::<BatchRow>()
                .fetch_all(&mut *conn)
                .await?
        });
        let by_key: HashMap<(i64, &str), &BatchRow> = rows
            .iter()
            .map(|b| ((b.stock_id, b.batch_code.as_str()), b))
            .collect();
        for add in chunk {
            let batch = by_key
                .get(&(add.stock_id, add.code.as_str()))
                .ok_or_else(|| {
                    AppError::internal(&std::io::Error::other("batch upsert returned no row"))
                })?;
            let expiry = add.expiry_date.or(batch.expiry_date);
            let production = add.production_date.or(batch.production_date);
            if expiry != batch.expiry_date || production != batch.production_date {
                if batch.qty - add.qty > 0 {
                    return Err(AppError::conflict(format!(
                        "{}: batch '{}' here has expiry {} and production {}; a lot with other dates needs another batch code",
                        add.field,
                        batch.batch_code,
                        show_date(batch.expiry_date),
                        show_date(batch.production_date),
                    ))
                    .with_details(serde_json::json!({ "field": add.field })));
                }
                redate.push((batch.id, expiry, production));
            }
            ids.push((batch.id, expiry));
        }
    }
    // Rare: an emptied batch refilled with a new lot under the same code takes the new dates.
    for (id, expiry, production) in redate {
        with_tx!(tx, |conn, _backend| sqlx::query(
            "UPDATE batches SET expiry_date = $1, production_date = $2 WHERE id = $3"
        )
        .bind(expiry)
        .bind(production)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(drop)?);
    }
    Ok(ids)
}

fn show_date(date: Option<NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_else(|| "none".into())
}

/// Why stock moved (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Receive,
    Putaway,
    Outbound,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Receive => "RECEIVE",
            Reason::Putaway => "PUTAWAY",
            Reason::Outbound => "OUTBOUND",
        }
    }
}

/// One ledger entry to append, with its batch detail: (batch id, signed delta).
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub stock_id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub delta: i64,
    pub after_qty: i64,
    pub ref_line: u32,
    pub batches: Vec<(i64, i64)>,
}

/// Appends the entries of one request (same ref, reason and time), in order — so each stock's
/// entries chain by id — with their batch detail; returns their ids, in order. Within one
/// request, (stock, ref_line) names one entry.
pub async fn append_ledger(
    tx: &mut Tx,
    r#ref: &str,
    reason: Reason,
    occurred_at: DateTime<Utc>,
    entries: &[LedgerEntry],
) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::with_capacity(entries.len());
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(i64, i64, i32)> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, occurred_at, reason, ref, ref_line) ",
            );
            query.push_values(chunk, |mut row, e| {
                row.push_bind(e.stock_id)
                    .push_bind(e.item_id)
                    .push_bind(e.location_id)
                    .push_bind(e.delta)
                    .push_bind(e.after_qty)
                    .push_bind(occurred_at)
                    .push_bind(reason.as_str())
                    .push_bind(r#ref)
                    .push_bind(e.ref_line as i32);
            });
            query.push(" RETURNING id, stock_id, ref_line");
            query
                .build_query_as::<(i64, i64, i32)>()
                .fetch_all(&mut *conn)
                .await?
        });
        let by_key: HashMap<(i64, i32), i64> = rows
            .into_iter()
            .map(|(id, stock, line)| ((stock, line), id))
            .collect();
        for entry in chunk {
            ids.push(
                *by_key
                    .get(&(entry.stock_id, entry.ref_line as i32))
                    .ok_or_else(|| {
                        AppError::internal(&std::io::Error::other("ledger insert returned no row"))
                    })?,
            );
        }
    }
    let detail: Vec<(i64, i64, i64)> = entries
        .iter()
        .zip(&ids)
        .flat_map(|(entry, id)| {
            entry
                .batches
                .iter()
                .map(move |(batch, delta)| (*id, *batch, *delta))
        })
        .collect();
    for chunk in detail.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query =
                QueryBuilder::new("INSERT INTO ledger_batches (ledger_id, batch_id, delta) ");
            query.push_values(chunk, |mut row, (ledger, batch, delta)| {
                row.push_bind(*ledger).push_bind(*batch).push_bind(*delta);
            });
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(ids)
}

/// What ledger entries recorded: each one's `after_qty` and the batches it moved (qty as a
/// positive amount), to answer a replay with the original result.
pub async fn ledger_outcomes(
    tx: &mut Tx,
    ledger_ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, (i64, Vec<BatchQty>)>, AppError> {
    let ids: Vec<i64> = ledger_ids.iter().copied().collect();
    let mut outcomes: HashMap<i64, (i64, Vec<BatchQty>)> = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let (entries, details) = with_tx!(tx, |conn, _backend| {
            let mut query =
                QueryBuilder::new("SELECT id, after_qty FROM stock_ledger WHERE id IN (");
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            let entries: Vec<(i64, i64)> = query.build_query_as().fetch_all(&mut *conn).await?;
            let mut query = QueryBuilder::new(
                "SELECT lb.ledger_id, b.batch_code, b.expiry_date, lb.delta FROM ledger_batches lb \
                 JOIN batches b ON b.id = lb.batch_id WHERE lb.ledger_id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(") ORDER BY lb.ledger_id, b.expiry_date IS NULL, b.expiry_date, b.id");
            let details: Vec<(i64, String, Option<NaiveDate>, i64)> =
                query.build_query_as().fetch_all(&mut *conn).await?;
            (entries, details)
        });
        for (id, after_qty) in entries {
            outcomes.insert(id, (after_qty, Vec::new()));
        }
        for (id, batch_code, expiry_date, delta) in details {
            if let Some((_, batches)) = outcomes.get_mut(&id) {
                batches.push(BatchQty {
                    batch_code,
                    expiry_date,
                    qty: delta.abs(),
                });
            }
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(id: i64, expiry: Option<&str>, qty: i64) -> BatchRow {
        BatchRow {
            id,
            stock_id: 1,
            batch_code: format!("B{id}"),
            expiry_date: expiry.map(|e| e.parse().unwrap()),
            production_date: None,
            qty,
        }
    }

    #[test]
    fn fefo_takes_in_order_and_keeps_the_rest() {
        let mut batches = vec![
            batch(1, Some("2026-01-01"), 3),
            batch(2, Some("2026-02-01"), 5),
            batch(3, None, 4),
        ];
        let plan = take_fefo(&mut batches, 6, |_| true).unwrap();
        assert_eq!(
            plan.iter().map(|(b, q)| (b.id, *q)).collect::<Vec<_>>(),
            vec![(1, 3), (2, 3)]
        );
        assert_eq!(
            batches.iter().map(|b| b.qty).collect::<Vec<_>>(),
            vec![0, 2, 4]
        );
        assert!(
            take_fefo(&mut batches, 7, |_| true).is_none(),
            "only 6 left"
        );
        assert_eq!(
            batches.iter().map(|b| b.qty).collect::<Vec<_>>(),
            vec![0, 2, 4],
            "a refused take takes nothing"
        );
    }

    #[test]
    fn fefo_skips_what_is_not_eligible() {
        let today: NaiveDate = "2026-01-15".parse().unwrap();
        let mut batches = vec![
            batch(1, Some("2026-01-14"), 3),
            batch(2, Some("2026-01-15"), 2),
        ];
        assert!(
            take_fefo(&mut batches, 3, |b| b.usable(today)).is_none(),
            "the expired batch is not available"
        );
        let plan = take_fefo(&mut batches, 2, |b| b.usable(today)).unwrap();
        assert_eq!(plan[0].0.id, 2, "expiring today is still usable");
    }
}
