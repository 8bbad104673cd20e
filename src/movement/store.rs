//! The building blocks of a movement, each one statement or two inside the caller's transaction:
//! resolve names to rows, lock stock rows, pick batches, change quantities, append the ledger.
//! A service strings them together between `Db::begin_write` and `Tx::commit`.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::{Backend, Tx};
use crate::domain::LocationKind;
use crate::error::{AppError, ErrorCode};
use crate::movement::{BatchQty, ItemKey, LocationKey};
use crate::with_tx;

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
    pub qty: i64,
}

/// A batch row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchRow {
    pub id: i64,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    pub qty: i64,
}

/// Finds the item a line names; `UNKNOWN_ITEM` (422) naming the field when there is none.
pub async fn find_item(tx: &mut Tx, key: &ItemKey, prefix: &str) -> Result<FoundItem, AppError> {
    let (field, found) = with_tx!(tx, |conn, _backend| match (&key.id, &key.sku) {
        (Some(id), _) => (
            format!("{prefix}.item_id"),
            sqlx::query_as::<_, FoundItem>("SELECT id, sku FROM items WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?,
        ),
        (None, Some(sku)) => (
            format!("{prefix}.sku"),
            sqlx::query_as::<_, FoundItem>("SELECT id, sku FROM items WHERE sku = $1")
                .bind(sku.as_str())
                .fetch_optional(&mut *conn)
                .await?,
        ),
        (None, None) => unreachable!("ItemKey::parse requires an id or a sku"),
    });
    let item = found.ok_or_else(|| {
        let what = match (&key.id, &key.sku) {
            (Some(id), _) => format!("no item with id {id}"),
            (None, Some(sku)) => format!("no item with sku '{sku}'"),
            (None, None) => unreachable!(),
        };
        AppError::new(ErrorCode::UnknownItem, format!("{field}: {what}"))
            .with_details(serde_json::json!({ "field": field }))
    })?;
    if let (Some(_), Some(sku)) = (&key.id, &key.sku) {
        if item.sku != sku.as_str() {
            return Err(AppError::validation(
                format!("{prefix}.sku"),
                format!("item {} has sku '{}', not '{sku}'", item.id, item.sku),
            ));
        }
    }
    Ok(item)
}

/// Finds the location a line names; `UNKNOWN_LOCATION` (422) naming `field` when there is none.
pub async fn find_location(
    tx: &mut Tx,
    key: &LocationKey,
    field: &str,
) -> Result<FoundLocation, AppError> {
    const COLUMNS: &str = "SELECT id, code, kind FROM locations";
    let found = with_tx!(tx, |conn, _backend| match (&key.id, &key.code) {
        (Some(id), _) =>
            sqlx::query_as::<_, FoundLocation>(&format!("{COLUMNS} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?,
        (None, Some(code)) => {
            sqlx::query_as::<_, FoundLocation>(&format!("{COLUMNS} WHERE code = $1"))
                .bind(code.as_str())
                .fetch_optional(&mut *conn)
                .await?
        }
        (None, None) => unreachable!("LocationKey::parse requires an id or a code"),
    });
    let location = found.ok_or_else(|| {
        let what = match (&key.id, &key.code) {
            (Some(id), _) => format!("no location with id {id}"),
            (None, Some(code)) => format!("no location with code '{code}'"),
            (None, None) => unreachable!(),
        };
        AppError::new(ErrorCode::UnknownLocation, format!("{field}: {what}"))
            .with_details(serde_json::json!({ "field": field }))
    })?;
    if let (Some(_), Some(code)) = (&key.id, &key.code) {
        if location.code != code.as_str() {
            return Err(AppError::validation(
                field,
                format!(
                    "location {} has code '{}', not '{code}'",
                    location.id, location.code
                ),
            ));
        }
    }
    Ok(location)
}

/// Locks the stock row of (item, location) for the rest of the transaction, creating it with
/// qty 0 when `create` is set; `None` when it does not exist and `create` is not set.
///
/// Callers lock every stock a request touches up front, in ascending (item, location) order, so
/// two requests touching the same stocks in any line order cannot deadlock.
pub async fn lock_stock(
    tx: &mut Tx,
    item_id: i64,
    location_id: i64,
    create: bool,
) -> Result<Option<StockRow>, AppError> {
    let row = with_tx!(tx, |conn, backend| {
        if create {
            // DO UPDATE (not DO NOTHING) so an existing row is returned and locked too.
            sqlx::query_as::<_, StockRow>(
                "INSERT INTO stocks (item_id, location_id, qty) VALUES ($1, $2, 0) \
                 ON CONFLICT (item_id, location_id) DO UPDATE SET qty = stocks.qty \
                 RETURNING id, qty",
            )
            .bind(item_id)
            .bind(location_id)
            .fetch_optional(&mut *conn)
            .await?
        } else {
            let sql = match backend {
                Backend::Postgres => {
                    "SELECT id, qty FROM stocks WHERE item_id = $1 AND location_id = $2 FOR UPDATE"
                }
                // SQLite: the transaction began IMMEDIATE and holds the database's write lock.
                Backend::Sqlite => {
                    "SELECT id, qty FROM stocks WHERE item_id = $1 AND location_id = $2"
                }
            };
            sqlx::query_as::<_, StockRow>(sql)
                .bind(item_id)
                .bind(location_id)
                .fetch_optional(&mut *conn)
                .await?
        }
    });
    Ok(row)
}

/// The batches of a stock that a take may draw from, in FEFO order: earliest expiry first,
/// no expiry last, then oldest batch. Only batches with stock; expired ones (expiry before
/// `today`) only when `include_expired`. With `code`, only that batch.
pub async fn takeable_batches(
    tx: &mut Tx,
    stock_id: i64,
    code: Option<&str>,
    today: NaiveDate,
    include_expired: bool,
) -> Result<Vec<BatchRow>, AppError> {
    let sql = "SELECT id, batch_code, expiry_date, production_date, qty FROM batches \
               WHERE stock_id = $1 AND qty > 0 \
                 AND ($2 IS NULL OR batch_code = $2) \
                 AND ($3 OR expiry_date IS NULL OR expiry_date >= $4) \
               ORDER BY expiry_date IS NULL, expiry_date, id";
    let rows = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, BatchRow>(sql)
        .bind(stock_id)
        .bind(code)
        .bind(include_expired)
        .bind(today)
        .fetch_all(&mut *conn)
        .await?);
    Ok(rows)
}

/// Splits `qty` over `batches` in their order; `None` when they hold less than `qty`.
pub fn plan_take(batches: &[BatchRow], qty: i64) -> Option<Vec<(BatchRow, i64)>> {
    let mut left = qty;
    let mut plan = Vec::new();
    for batch in batches {
        if left == 0 {
            break;
        }
        let take = batch.qty.min(left);
        plan.push((batch.clone(), take));
        left -= take;
    }
    (left == 0).then_some(plan)
}

/// Adds `delta` (either sign) to a stock row and returns its new qty. A change that would take
/// it below zero is an internal error: callers check availability first, and the database's
/// CHECK would refuse it anyway.
pub async fn change_stock(tx: &mut Tx, stock_id: i64, delta: i64) -> Result<i64, AppError> {
    let after: Option<i64> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
        "UPDATE stocks SET qty = qty + $1 WHERE id = $2 AND qty + $1 >= 0 RETURNING qty"
    )
    .bind(delta)
    .bind(stock_id)
    .fetch_optional(&mut *conn)
    .await?);
    after.ok_or_else(|| {
        AppError::internal(&std::io::Error::other(format!(
            "stock {stock_id} cannot change by {delta}"
        )))
    })
}

/// Takes `qty` out of one batch.
pub async fn take_from_batch(tx: &mut Tx, batch_id: i64, qty: i64) -> Result<(), AppError> {
    let changed = with_tx!(tx, |conn, _backend| sqlx::query(
        "UPDATE batches SET qty = qty - $1 WHERE id = $2 AND qty >= $1"
    )
    .bind(qty)
    .bind(batch_id)
    .execute(&mut *conn)
    .await?
    .rows_affected());
    if changed == 1 {
        Ok(())
    } else {
        Err(AppError::internal(&std::io::Error::other(format!(
            "batch {batch_id} cannot give {qty}"
        ))))
    }
}

/// The lot a line adds goods to.
#[derive(Debug, Clone)]
pub struct Lot<'a> {
    pub code: &'a str,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
}

/// Adds `qty` to the batch `lot.code` of a stock, creating it with the lot's dates. An existing
/// batch that holds goods keeps its dates: a lot given other dates is `CONFLICT` naming `field`.
/// An empty one takes the new dates.
pub async fn add_to_batch(
    tx: &mut Tx,
    stock_id: i64,
    item_id: i64,
    location_id: i64,
    lot: &Lot<'_>,
    qty: i64,
    field: &str,
) -> Result<BatchRow, AppError> {
    let existing = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, BatchRow>(
        "SELECT id, batch_code, expiry_date, production_date, qty FROM batches \
         WHERE item_id = $1 AND location_id = $2 AND batch_code = $3"
    )
    .bind(item_id)
    .bind(location_id)
    .bind(lot.code)
    .fetch_optional(&mut *conn)
    .await?);

    match existing {
        Some(batch) => {
            let expiry = lot.expiry_date.or(batch.expiry_date);
            let production = lot.production_date.or(batch.production_date);
            let dates_differ = expiry != batch.expiry_date || production != batch.production_date;
            if dates_differ && batch.qty > 0 {
                return Err(AppError::conflict(format!(
                    "{field}: batch '{}' here has expiry {} and production {}; a lot with other dates needs another batch code",
                    batch.batch_code,
                    show_date(batch.expiry_date),
                    show_date(batch.production_date),
                ))
                .with_details(serde_json::json!({ "field": field })));
            }
            let updated = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, BatchRow>(
                "UPDATE batches SET qty = qty + $1, expiry_date = $2, production_date = $3 \
                 WHERE id = $4 RETURNING id, batch_code, expiry_date, production_date, qty"
            )
            .bind(qty)
            .bind(expiry)
            .bind(production)
            .bind(batch.id)
            .fetch_one(&mut *conn)
            .await?);
            Ok(updated)
        }
        None => {
            let created = with_tx!(tx, |conn, _backend| {
                sqlx::query_as::<_, BatchRow>(
                "INSERT INTO batches (stock_id, item_id, location_id, batch_code, expiry_date, production_date, qty) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 RETURNING id, batch_code, expiry_date, production_date, qty"
            )
            .bind(stock_id)
            .bind(item_id)
            .bind(location_id)
            .bind(lot.code)
            .bind(lot.expiry_date)
            .bind(lot.production_date)
            .bind(qty)
            .fetch_one(&mut *conn)
            .await?
            });
            Ok(created)
        }
    }
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

/// One ledger entry to append.
#[derive(Debug, Clone)]
pub struct LedgerEntry<'a> {
    pub stock_id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub delta: i64,
    pub after_qty: i64,
    pub reason: Reason,
    pub r#ref: &'a str,
    pub ref_line: u32,
    pub occurred_at: DateTime<Utc>,
    /// (batch id, signed delta) for each batch the entry moved.
    pub batches: &'a [(i64, i64)],
}

/// Appends a ledger entry with its batch detail; returns its id.
pub async fn append_ledger(tx: &mut Tx, entry: &LedgerEntry<'_>) -> Result<i64, AppError> {
    let id = with_tx!(tx, |conn, _backend| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, occurred_at, reason, ref, ref_line) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(entry.stock_id)
        .bind(entry.item_id)
        .bind(entry.location_id)
        .bind(entry.delta)
        .bind(entry.after_qty)
        .bind(entry.occurred_at)
        .bind(entry.reason.as_str())
        .bind(entry.r#ref)
        .bind(entry.ref_line as i32)
        .fetch_one(&mut *conn)
        .await?;
        for (batch_id, delta) in entry.batches {
            sqlx::query(
                "INSERT INTO ledger_batches (ledger_id, batch_id, delta) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(batch_id)
            .bind(delta)
            .execute(&mut *conn)
            .await?;
        }
        id
    });
    Ok(id)
}

/// What a ledger entry recorded: its `after_qty` and the batches it moved (qty as a positive
/// amount), to answer a replay with the original result.
pub async fn ledger_outcome(tx: &mut Tx, ledger_id: i64) -> Result<(i64, Vec<BatchQty>), AppError> {
    let (after_qty, rows) = with_tx!(tx, |conn, _backend| {
        let after_qty: i64 = sqlx::query_scalar("SELECT after_qty FROM stock_ledger WHERE id = $1")
            .bind(ledger_id)
            .fetch_one(&mut *conn)
            .await?;
        let rows: Vec<(String, Option<NaiveDate>, i64)> = sqlx::query_as(
            "SELECT b.batch_code, b.expiry_date, lb.delta FROM ledger_batches lb \
             JOIN batches b ON b.id = lb.batch_id WHERE lb.ledger_id = $1 \
             ORDER BY b.expiry_date IS NULL, b.expiry_date, b.id",
        )
        .bind(ledger_id)
        .fetch_all(&mut *conn)
        .await?;
        (after_qty, rows)
    });
    let batches = rows
        .into_iter()
        .map(|(batch_code, expiry_date, delta)| BatchQty {
            batch_code,
            expiry_date,
            qty: delta.abs(),
        })
        .collect();
    Ok((after_qty, batches))
}
