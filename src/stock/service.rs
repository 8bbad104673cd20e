//! The stock query: stocks with goods, filtered, with their batches in FEFO order.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::db::Db;
use crate::domain::{parse_search, LocationCode, Paging, Sku, WarehouseCode};
use crate::error::AppError;
use crate::movement::{available, kind_holds_available, non_blank, BatchQty};
use crate::search::{first_field_pattern, like_pattern};
use crate::sheet::{Cell, Column};
use crate::stock::{StockFilter, StockQueryResponse, StockRow};
use crate::with_tx;

#[derive(sqlx::FromRow)]
struct Row {
    stock_id: i64,
    item_id: i64,
    sku: String,
    name: String,
    location_id: i64,
    location_code: String,
    warehouse_code: String,
    location_kind: String,
    qty: i64,
}

/// The stocks with goods that match a filter's first seven parameters (`$1`–`$7`).
const FROM: &str =
    "FROM stocks s JOIN items i ON i.id = s.item_id JOIN locations l ON l.id = s.location_id \
            JOIN warehouses w ON w.id = l.warehouse_id \
            WHERE s.qty > 0 AND ($7 IS NULL OR w.code = $7) \
              AND ($1 IS NULL OR s.item_id = $1) AND ($2 IS NULL OR i.sku = $2) \
              AND ($3 IS NULL OR s.location_id = $3) AND ($4 IS NULL OR l.code = $4) \
              AND ($5 IS NULL OR i.search_text LIKE $5 ESCAPE '\\' \
                   OR l.search_text LIKE $6 ESCAPE '\\')";

/// A filter's values, checked.
struct Checked {
    warehouse: Option<WarehouseCode>,
    sku: Option<Sku>,
    code: Option<LocationCode>,
    /// `q` in the item's sku or name, or in the location's code (not its name).
    item_pattern: Option<String>,
    code_pattern: Option<String>,
}

impl Checked {
    fn of(filter: &StockFilter) -> Result<Self, AppError> {
        let q = parse_search(filter.q.as_deref())?;
        Ok(Self {
            warehouse: WarehouseCode::parse_optional("warehouse", filter.warehouse.as_deref())?,
            sku: non_blank(&filter.sku)
                .map(|s| Sku::parse("sku", s))
                .transpose()?,
            code: non_blank(&filter.location_code)
                .map(|c| LocationCode::parse("location_code", c))
                .transpose()?,
            item_pattern: q.as_deref().map(like_pattern),
            code_pattern: q.as_deref().map(first_field_pattern),
        })
    }
}

/// Stocks with qty > 0 matching `filter`, by sku then location code. The count, the rows and
/// their batches come from one read transaction, so a row's qty is the sum of its batches
/// even while movements commit.
pub async fn query_stock(
    db: &Db,
    filter: &StockFilter,
    today: NaiveDate,
) -> Result<StockQueryResponse, AppError> {
    let paging = Paging::parse(filter.offset, filter.limit)?;
    let Checked {
        warehouse,
        sku,
        code,
        item_pattern,
        code_pattern,
    } = Checked::of(filter)?;
    let from = FROM;
    let count_sql = format!("SELECT COUNT(*) {from}");
    let rows_sql = format!(
        "SELECT s.id AS stock_id, s.item_id, i.sku, i.name, s.location_id, l.code AS location_code, \
         w.code AS warehouse_code, l.kind AS location_kind, s.qty {from} \
         ORDER BY i.sku, l.code, w.code LIMIT $8 OFFSET $9"
    );
    let mut tx = db.begin_read().await?;
    // Someone limited to one warehouse sees its rows only.
    let site = crate::warehouses::service::filter(&mut tx, warehouse.as_ref(), "warehouse").await?;
    let warehouse = site.as_ref().map(|s| s.code.as_str());
    // A scanned barcode finds its item's stocks, rather than text containing it.
    let scanned = match filter
        .q
        .as_deref()
        .and_then(|q| crate::scan::gs1::searched_gtin(q, today))
    {
        Some(gtin) => with_tx!(&mut tx, |conn, _backend| sqlx::query_scalar::<_, i64>(
            "SELECT id FROM items WHERE barcode = $1"
        )
        .bind(gtin)
        .fetch_optional(&mut *conn)
        .await?),
        None => None,
    };
    let (item_id, item_pattern, code_pattern) = match scanned {
        Some(id) if filter.item_id.is_none_or(|asked| asked == id) => (Some(id), None, None),
        Some(_) => (Some(-1), None, None),
        None => (filter.item_id, item_pattern, code_pattern),
    };
    let (total, rows, batches) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(item_id)
            .bind(sku.as_ref().map(Sku::as_str))
            .bind(filter.location_id)
            .bind(code.as_ref().map(LocationCode::as_str))
            .bind(item_pattern.as_deref())
            .bind(code_pattern.as_deref())
            .bind(warehouse)
            .fetch_one(&mut *conn)
            .await?;
        let rows: Vec<Row> = sqlx::query_as(&rows_sql)
            .bind(item_id)
            .bind(sku.as_ref().map(Sku::as_str))
            .bind(filter.location_id)
            .bind(code.as_ref().map(LocationCode::as_str))
            .bind(item_pattern.as_deref())
            .bind(code_pattern.as_deref())
            .bind(warehouse)
            .bind(paging.limit)
            .bind(paging.offset)
            .fetch_all(&mut *conn)
            .await?;
        let mut batches: Vec<(i64, String, Option<NaiveDate>, i64, i64)> = Vec::new();
        if !rows.is_empty() {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT stock_id, batch_code, expiry_date, qty, reserved FROM batches WHERE qty > 0 AND stock_id IN (",
            );
            let mut ids = query.separated(", ");
            for row in &rows {
                ids.push_bind(row.stock_id);
            }
            query.push(") ORDER BY stock_id, expiry_date IS NULL, expiry_date, id");
            let query = query.build_query_as();
            batches = query.fetch_all(&mut *conn).await?;
        }
        (total, rows, batches)
    });
    tx.commit().await?;

    // Per stock: its batches, what orders hold of them, and what is available.
    let mut by_stock: HashMap<i64, (Vec<BatchQty>, i64, i64)> = HashMap::new();
    for (stock_id, batch_code, expiry_date, qty, reserved) in batches {
        let stock = by_stock.entry(stock_id).or_default();
        stock.1 += reserved;
        stock.2 += available(qty, reserved, expiry_date, today);
        stock.0.push(BatchQty {
            batch_code,
            expiry_date,
            qty,
        });
    }
    let rows = rows
        .into_iter()
        .map(|row| {
            let (batches, reserved, available) = by_stock.remove(&row.stock_id).unwrap_or_default();
            let shelved = kind_holds_available(&row.location_kind);
            StockRow {
                item_id: row.item_id,
                sku: row.sku,
                name: row.name,
                location_id: row.location_id,
                location_code: row.location_code,
                warehouse_code: row.warehouse_code,
                qty: row.qty,
                reserved,
                available: if shelved { available } else { 0 },
                in_transit_qty: if row.location_kind == "transit" {
                    row.qty
                } else {
                    0
                },
                quarantine_qty: if row.location_kind == "quarantine" {
                    row.qty
                } else {
                    0
                },
                location_kind: row.location_kind,
                batches,
            }
        })
        .collect();
    Ok(StockQueryResponse {
        total,
        offset: paging.offset,
        limit: paging.limit,
        rows,
    })
}

/// The stock export (SPEC §11): a row per batch of each stock matching the filter, by sku then
/// location code, read a chunk at a time (each chunk its own short read, so a slow download
/// holds no connection).
pub struct StockExport {
    filter: StockFilter,
    checked: Checked,
    today: NaiveDate,
    /// The sku of the last item of the windows exported.
    after: Option<String>,
    done: bool,
}

impl StockExport {
    pub fn new(filter: StockFilter, today: NaiveDate) -> Result<Self, AppError> {
        // An export has every row; paging parameters are checked like the page's, not used.
        Paging::parse(filter.offset, filter.limit)?;
        let mut checked = Checked::of(&filter)?;
        // Read now, while the request's warehouse limit is known (rows are read later).
        let within =
            crate::scope::export_filter(checked.warehouse.as_ref().map(WarehouseCode::as_str))?;
        checked.warehouse = within
            .map(|code| WarehouseCode::parse("warehouse", &code))
            .transpose()?;
        Ok(Self {
            filter,
            checked,
            today,
            after: None,
            done: false,
        })
    }
}

impl crate::export::Export for StockExport {
    const NAME: &'static str = "stock";

    fn columns() -> &'static [Column] {
        use crate::sheet::columns::*;
        &[
            SKU,
            NAME,
            WAREHOUSE_CODE,
            LOCATION_CODE,
            BATCH_CODE,
            EXPIRY_DATE,
            QTY,
            RESERVED,
            AVAILABLE,
        ]
    }

    async fn next_chunk(&mut self, db: &Db) -> Result<Vec<Vec<Cell>>, AppError> {
        // A window of items by sku (through the sku index), then the batches of their stocks:
        // each read costs its window, however far the export has come. A window may hold no
        // matching stock; the next one is read then.
        // Plain range conditions (no `$n IS NULL OR …`), so both databases seek the sku index:
        // with those, SQLite scanned every batch for each window (27 s for 350 000 rows).
        let rows_sql = |bounded: bool| {
            format!(
                "SELECT i.sku, i.name, w.code, l.code, b.batch_code, b.expiry_date, b.qty, \
                 b.reserved, l.kind {} AND i.sku > $8{} \
                 ORDER BY i.sku, l.code, w.code, b.expiry_date IS NULL, b.expiry_date, b.id",
                FROM.replacen(
                    " WHERE ",
                    " JOIN batches b ON b.stock_id = s.id AND b.qty > 0 WHERE ",
                    1
                ),
                if bounded { " AND i.sku <= $9" } else { "" }
            )
        };
        type BatchRow = (
            String,
            String,
            String,
            String,
            String,
            Option<NaiveDate>,
            i64,
            i64,
            String,
        );
        while !self.done {
            // Every sku is longer than "".
            let after = self.after.as_deref().unwrap_or("");
            let checked = &self.checked;
            let mut tx = db.begin_read().await?;
            let (end, rows) = with_tx!(&mut tx, |conn, _backend| {
                let end: Option<String> = sqlx::query_scalar(
                    "SELECT sku FROM items WHERE sku > $1 ORDER BY sku LIMIT 1 OFFSET $2",
                )
                .bind(after)
                .bind(EXPORT_CHUNK - 1)
                .fetch_optional(&mut *conn)
                .await?;
                let sql = rows_sql(end.is_some());
                let query = sqlx::query_as(&sql)
                    .bind(self.filter.item_id)
                    .bind(checked.sku.as_ref().map(Sku::as_str))
                    .bind(self.filter.location_id)
                    .bind(checked.code.as_ref().map(LocationCode::as_str))
                    .bind(checked.item_pattern.as_deref())
                    .bind(checked.code_pattern.as_deref())
                    .bind(checked.warehouse.as_ref().map(WarehouseCode::as_str))
                    .bind(after);
                let query = match &end {
                    Some(end) => query.bind(end.as_str()),
                    None => query,
                };
                let rows: Vec<BatchRow> = query.fetch_all(&mut *conn).await?;
                (end, rows)
            });
            drop(tx);
            // The last window has no end.
            match end {
                Some(end) => self.after = Some(end),
                None => self.done = true,
            }
            if rows.is_empty() {
                continue;
            }
            return Ok(rows
                .into_iter()
                .map(
                    |(sku, name, warehouse, location, batch, expiry, qty, reserved, kind)| {
                        let available = if kind_holds_available(&kind) {
                            available(qty, reserved, expiry, self.today)
                        } else {
                            0
                        };
                        vec![
                            Cell::Text(sku),
                            Cell::Text(name),
                            Cell::Text(warehouse),
                            Cell::Text(location),
                            Cell::Text(batch),
                            Cell::from(expiry),
                            Cell::Int(qty),
                            Cell::Int(reserved),
                            Cell::Int(available),
                        ]
                    },
                )
                .collect());
        }
        Ok(Vec::new())
    }
}

/// How many items' stocks one read of an export takes.
const EXPORT_CHUNK: i64 = 1000;
