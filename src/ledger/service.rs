//! Reading the ledger.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::Db;
use crate::domain::{LocationCode, Paging, Ref, Sku, WarehouseCode};
use crate::error::AppError;
use crate::ledger::{LedgerFilter, LedgerPage, LedgerRow};
use crate::movement::{non_blank, BatchQty};
use crate::sheet::{Cell, Column};
use crate::with_tx;

/// What the ledger recorded of each entry's batches, on the transaction's connection `$conn`
/// (history is never re-read from the batches of today).
macro_rules! batch_details {
    ($conn:expr, $rows:expr) => {{
        let rows: &[Row] = $rows;
        let mut details: Vec<(i64, String, Option<NaiveDate>, i64)> = Vec::new();
        if !rows.is_empty() {
            let mut query = sqlx::QueryBuilder::new(crate::movement::ledger::DETAIL_SQL);
            let mut ids = query.separated(", ");
            for row in rows {
                ids.push_bind(row.id);
            }
            query.push(crate::movement::ledger::DETAIL_ORDER);
            details = query.build_query_as().fetch_all($conn).await?;
        }
        details
    }};
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    occurred_at: DateTime<Utc>,
    reason: String,
    r#ref: String,
    ref_line: i32,
    item_id: i64,
    sku: String,
    location_id: i64,
    location_code: String,
    warehouse_code: String,
    delta: i64,
    after_qty: i64,
    actor: Option<String>,
    reason_code: Option<String>,
    note: Option<String>,
}

/// The entries that match a filter's first eight parameters (`$1`–`$8`).
const FROM: &str = "FROM stock_ledger g JOIN items i ON i.id = g.item_id JOIN locations l ON l.id = g.location_id \
            JOIN warehouses w ON w.id = l.warehouse_id \
            WHERE ($8 IS NULL OR w.code = $8) AND ($1 IS NULL OR g.item_id = $1) AND ($2 IS NULL OR i.sku = $2) \
              AND ($3 IS NULL OR g.location_id = $3) AND ($4 IS NULL OR l.code = $4) \
              AND ($5 IS NULL OR g.ref = $5) AND ($6 IS NULL OR g.reason = $6) \
              AND ($7 IS NULL OR g.reason_code = $7)";

/// A filter's values, checked.
struct Checked {
    warehouse: Option<WarehouseCode>,
    sku: Option<Sku>,
    code: Option<LocationCode>,
    r#ref: Option<Ref>,
    reason: Option<String>,
    reason_code: Option<&'static str>,
}

impl Checked {
    /// `reasons`: the ledger's reasons (the web edge's list of movement kinds has them).
    fn of(filter: &LedgerFilter, reasons: &[&str]) -> Result<Self, AppError> {
        let sku = non_blank(&filter.sku)
            .map(|s| Sku::parse("sku", s))
            .transpose()?;
        let code = non_blank(&filter.location_code)
            .map(|c| LocationCode::parse("location_code", c))
            .transpose()?;
        let r#ref = non_blank(&filter.r#ref)
            .map(|r| Ref::parse("ref", r))
            .transpose()?;
        let reason = match non_blank(&filter.reason) {
            None => None,
            Some(raw) => {
                let upper = raw.trim().to_ascii_uppercase();
                if !reasons.contains(&upper.as_str()) {
                    return Err(AppError::validation(
                        "reason",
                        tr!(errors.value.one_of, values = reasons.join(", ")),
                    ));
                }
                Some(upper)
            }
        };
        let reason_code = match non_blank(&filter.reason_code) {
            None => None,
            Some(raw) => {
                let upper = raw.trim().to_ascii_uppercase();
                let Some(code) = crate::adjust::ReasonCode::from_name(&upper) else {
                    return Err(AppError::validation(
                        "reason_code",
                        tr!(errors.adjust.reason_code),
                    ));
                };
                Some(code.as_str())
            }
        };

        Ok(Self {
            warehouse: WarehouseCode::parse_optional("warehouse", filter.warehouse.as_deref())?,
            sku,
            code,
            r#ref,
            reason,
            reason_code,
        })
    }
}

/// Ledger entries matching `filter`, newest first; `reasons` are those it may filter by.
pub async fn list_ledger(
    db: &Db,
    filter: &LedgerFilter,
    reasons: &[&str],
) -> Result<LedgerPage, AppError> {
    let paging = Paging::parse(filter.offset, filter.limit)?;
    let Checked {
        warehouse,
        sku,
        code,
        r#ref,
        reason,
        reason_code,
    } = Checked::of(filter, reasons)?;
    let from = FROM;
    let count_sql = format!("SELECT COUNT(*) {from}");
    let rows_sql = format!(
        "SELECT g.id, g.occurred_at, g.reason, g.ref, g.ref_line, g.item_id, i.sku, g.location_id, \
                l.code AS location_code, w.code AS warehouse_code, g.delta, g.after_qty, g.actor, g.reason_code, g.note {from} \
         ORDER BY g.id DESC LIMIT $9 OFFSET $10"
    );
    // Count, rows and batch detail from one snapshot, so they agree with each other.
    let mut tx = db.begin_read().await?;
    // Someone limited to one warehouse sees its rows only.
    let site = crate::warehouses::service::filter(&mut tx, warehouse.as_ref(), "warehouse").await?;
    let warehouse = site.as_ref().map(|s| s.code.as_str());
    let (total, rows, details) = with_tx!(&mut tx, |pool, _backend| {
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(filter.item_id)
            .bind(sku.as_ref().map(Sku::as_str))
            .bind(filter.location_id)
            .bind(code.as_ref().map(LocationCode::as_str))
            .bind(r#ref.as_ref().map(Ref::as_str))
            .bind(reason.as_deref())
            .bind(reason_code)
            .bind(warehouse)
            .fetch_one(&mut *pool)
            .await?;
        let rows: Vec<Row> = sqlx::query_as(&rows_sql)
            .bind(filter.item_id)
            .bind(sku.as_ref().map(Sku::as_str))
            .bind(filter.location_id)
            .bind(code.as_ref().map(LocationCode::as_str))
            .bind(r#ref.as_ref().map(Ref::as_str))
            .bind(reason.as_deref())
            .bind(reason_code)
            .bind(warehouse)
            .bind(paging.limit)
            .bind(paging.offset)
            .fetch_all(&mut *pool)
            .await?;
        let details = batch_details!(&mut *pool, &rows);
        (total, rows, details)
    });
    drop(tx);

    let rows = assemble(rows, details);
    Ok(LedgerPage {
        total,
        offset: paging.offset,
        limit: paging.limit,
        rows,
    })
}

/// Entries with `after < id <= upto`, oldest first, at most `limit` (the change feed).
pub async fn entries_after(
    db: &Db,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<LedgerRow>, AppError> {
    let rows_sql = "SELECT g.id, g.occurred_at, g.reason, g.ref, g.ref_line, g.item_id, i.sku, g.location_id, \
                l.code AS location_code, w.code AS warehouse_code, g.delta, g.after_qty, g.actor, g.reason_code, g.note \
         FROM stock_ledger g JOIN items i ON i.id = g.item_id JOIN locations l ON l.id = g.location_id \
         JOIN warehouses w ON w.id = l.warehouse_id \
         WHERE g.id > $1 AND g.id <= $2 ORDER BY g.id LIMIT $3";
    let mut tx = db.begin_read().await?;
    let (rows, details) = with_tx!(&mut tx, |pool, _backend| {
        let rows: Vec<Row> = sqlx::query_as(rows_sql)
            .bind(after)
            .bind(upto)
            .bind(limit)
            .fetch_all(&mut *pool)
            .await?;
        let details = batch_details!(&mut *pool, &rows);
        (rows, details)
    });
    drop(tx);
    Ok(assemble(rows, details))
}

/// The entries of `rows` with their batch detail.
fn assemble(rows: Vec<Row>, details: Vec<(i64, String, Option<NaiveDate>, i64)>) -> Vec<LedgerRow> {
    let mut by_entry: HashMap<i64, Vec<BatchQty>> = HashMap::new();
    for (ledger_id, batch_code, expiry_date, qty) in details {
        by_entry.entry(ledger_id).or_default().push(BatchQty {
            batch_code,
            expiry_date,
            qty,
        });
    }
    rows.into_iter()
        .map(|row| LedgerRow {
            batches: by_entry.remove(&row.id).unwrap_or_default(),
            id: row.id,
            occurred_at: row.occurred_at,
            reason: row.reason,
            r#ref: row.r#ref,
            ref_line: row.ref_line as u32,
            item_id: row.item_id,
            sku: row.sku,
            location_id: row.location_id,
            location_code: row.location_code,
            warehouse_code: row.warehouse_code,
            delta: row.delta,
            after_qty: row.after_qty,
            actor: row.actor,
            reason_code: row.reason_code,
            note: row.note,
        })
        .collect()
}

/// The ledger export (SPEC §11): entries matching the filter, newest first, read a chunk at a
/// time by id (entries written meanwhile are newer than the first chunk and left out).
pub struct LedgerExport {
    filter: LedgerFilter,
    checked: Checked,
    /// The last entry exported.
    before: i64,
    done: bool,
}

impl LedgerExport {
    /// `reasons`: those `filter` may name.
    pub fn new(filter: LedgerFilter, reasons: &[&str]) -> Result<Self, AppError> {
        // An export has every row; paging parameters are checked like the page's, not used.
        Paging::parse(filter.offset, filter.limit)?;
        let mut checked = Checked::of(&filter, reasons)?;
        // Read now, while the request's warehouse limit is known (rows are read later).
        let within =
            crate::scope::export_filter(checked.warehouse.as_ref().map(WarehouseCode::as_str))?;
        checked.warehouse = within
            .map(|code| WarehouseCode::parse("warehouse", &code))
            .transpose()?;
        Ok(Self {
            filter,
            checked,
            before: i64::MAX,
            done: false,
        })
    }
}

/// How many entries one read of an export takes.
const EXPORT_CHUNK: i64 = 2000;

impl crate::export::Export for LedgerExport {
    const NAME: &'static str = "ledger";

    fn columns() -> &'static [Column] {
        use crate::sheet::columns::*;
        &[
            ID,
            OCCURRED_AT,
            REASON,
            REF,
            REF_LINE,
            SKU,
            WAREHOUSE_CODE,
            LOCATION_CODE,
            DELTA,
            AFTER_QTY,
            BATCHES,
            ACTOR,
            REASON_CODE,
            NOTE,
        ]
    }

    async fn next_chunk(&mut self, db: &Db) -> Result<Vec<Vec<Cell>>, AppError> {
        if self.done {
            return Ok(Vec::new());
        }
        let rows_sql = format!(
            "SELECT g.id, g.occurred_at, g.reason, g.ref, g.ref_line, g.item_id, i.sku, g.location_id, \
                    l.code AS location_code, w.code AS warehouse_code, g.delta, g.after_qty, g.actor, g.reason_code, g.note {FROM} \
             AND g.id < $9 ORDER BY g.id DESC LIMIT $10"
        );
        let checked = &self.checked;
        let mut tx = db.begin_read().await?;
        let (rows, details) = with_tx!(&mut tx, |pool, _backend| {
            let rows: Vec<Row> = sqlx::query_as(&rows_sql)
                .bind(self.filter.item_id)
                .bind(checked.sku.as_ref().map(Sku::as_str))
                .bind(self.filter.location_id)
                .bind(checked.code.as_ref().map(LocationCode::as_str))
                .bind(checked.r#ref.as_ref().map(Ref::as_str))
                .bind(checked.reason.as_deref())
                .bind(checked.reason_code)
                .bind(checked.warehouse.as_ref().map(WarehouseCode::as_str))
                .bind(self.before)
                .bind(EXPORT_CHUNK)
                .fetch_all(&mut *pool)
                .await?;
            let details = batch_details!(&mut *pool, &rows);
            (rows, details)
        });
        drop(tx);
        self.done = (rows.len() as i64) < EXPORT_CHUNK;
        if let Some(last) = rows.last() {
            self.before = last.id;
        }
        Ok(assemble(rows, details)
            .into_iter()
            .map(|e| {
                let batches = e
                    .batches
                    .iter()
                    .map(|b| match (b.batch_code.as_str(), b.expiry_date) {
                        ("", None) => format!("×{}", b.qty),
                        (code, None) => format!("{code} ×{}", b.qty),
                        (code, Some(expiry)) => format!("{code} ({expiry}) ×{}", b.qty),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                vec![
                    Cell::Int(e.id),
                    Cell::Time(e.occurred_at),
                    Cell::Text(e.reason),
                    Cell::Text(e.r#ref),
                    Cell::Int(e.ref_line.into()),
                    Cell::Text(e.sku),
                    Cell::Text(e.warehouse_code),
                    Cell::Text(e.location_code),
                    Cell::Int(e.delta),
                    Cell::Int(e.after_qty),
                    Cell::Text(batches),
                    Cell::from(e.actor),
                    Cell::from(e.reason_code),
                    Cell::from(e.note),
                ]
            })
            .collect())
    }
}
