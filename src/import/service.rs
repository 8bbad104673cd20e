//! Reading a sheet's rows into items, locations or receipt lines, checking each, and applying
//! them in one transaction: committed for a real import without problems, rolled back for a
//! dry run or a file with any (see [`write_then_keep`]).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDate;
use sha2::Digest;

use crate::config::Config;
use crate::db::failure::constraint_error;
use crate::db::{classify, ConstraintKind, Db, DbFailure, Tx, Violation, WriteFuture};
use crate::domain::{
    BatchCode, ItemName, ItemSpec, LocationCode, LocationKind, LocationName, Qty, Ref, Sku, Unit,
};
use crate::error::{error_chain, AppError, ErrorCode};
use crate::import::{ImportKind, ImportReport, RowError};
use crate::inbound::service::{Receive, ReceiveLine};
use crate::movement::{pipeline, ItemKey, LineStatus, LocationKey, Request};
use crate::search::{index, item_search_text, location_search_text};
use crate::sheet::columns::*;
use crate::sheet::read::{self, ReadError, Row, Sheet, Value, MAX_ROWS};
use crate::sheet::Column;
use crate::with_tx;

/// Rows per statement when looking up or writing (well inside both backends' parameter limits).
const CHUNK: usize = 1000;

/// How a request asked for an import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    /// Opening stock's receipt ref; by default `IMPORT-` and the file's digest, so the same file
    /// imported again is recognised as the same receipt.
    pub r#ref: Option<String>,
}

/// Imports `bytes` (`declared` is what the request said it is; an XLSX is recognised by its
/// signature whatever it said). A file with problems gives a report listing them, and nothing
/// is written; so does a dry run, which makes the real import's writes in its one transaction
/// and rolls them back, so that it meets every rule the import meets, the database's own
/// included, and reports the same. Errors of the request itself (a bad `ref`, the database)
/// are errors.
pub async fn import(
    db: &Db,
    config: &Config,
    kind: ImportKind,
    bytes: &[u8],
    options: &Options,
    actor: Option<&str>,
) -> Result<ImportReport, AppError> {
    let stock_ref = match kind {
        ImportKind::Stock => Some(match options.r#ref.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => Ref::parse("ref", r)?,
            _ => Ref::parse("ref", &default_ref(bytes))?,
        }),
        _ => None,
    };
    let mut report = ImportReport {
        dry_run: options.dry_run,
        r#ref: stock_ref.as_ref().map(|r| r.as_str().to_owned()),
        ..ImportReport::default()
    };
    let sheet = match read::read(bytes, read::sniff(bytes)) {
        Ok(sheet) => sheet,
        Err(error) => {
            report.errors.push(file_error(error));
            return Ok(report);
        }
    };
    report.rows = sheet.rows.len();
    if sheet.rows.is_empty() {
        report.errors.push(RowError {
            row: None,
            column: None,
            message: tr!(errors.import.no_rows),
        });
        return Ok(report);
    }
    match kind {
        ImportKind::Items => import_items(db, &sheet, &mut report).await?,
        ImportKind::Locations => import_locations(db, &sheet, &mut report).await?,
        ImportKind::Stock => {
            let r#ref = stock_ref.expect("a stock import has a ref");
            import_stock(db, config, &sheet, r#ref, actor, &mut report).await?
        }
    }
    Ok(report)
}

/// `IMPORT-` and the first 12 hex digits of the file's SHA-256.
fn default_ref(bytes: &[u8]) -> String {
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("IMPORT-{hex}")
}

fn file_error(error: ReadError) -> RowError {
    let (row, message) = match error {
        ReadError::NotASheet => (None, tr!(errors.import.not_a_sheet)),
        ReadError::Encoding => (None, tr!(errors.import.encoding)),
        ReadError::Empty => (None, tr!(errors.import.empty)),
        ReadError::TooManyRows => (None, tr!(errors.import.too_many_rows, max = MAX_ROWS)),
        ReadError::TooLarge => (None, tr!(errors.import.too_large)),
        ReadError::Formula { row, column } => {
            return RowError {
                row: Some(row),
                column: Some(column),
                message: tr!(errors.import.formula),
            }
        }
        ReadError::Malformed { row, detail } => {
            (Some(row), tr!(errors.import.malformed, detail = detail))
        }
    };
    RowError {
        row,
        column: None,
        message,
    }
}

/// Where each wanted column is in a sheet.
struct Layout<'s> {
    headers: &'s [String],
    at: HashMap<&'static str, usize>,
}

impl<'s> Layout<'s> {
    /// Finds `wanted` columns (`true`: required) among the sheet's headers; a missing required
    /// column or one named twice is reported against row 1.
    fn of(sheet: &'s Sheet, wanted: &[(Column, bool)], errors: &mut Vec<RowError>) -> Self {
        let mut at = HashMap::new();
        for (column, required) in wanted {
            let found: Vec<usize> = sheet
                .headers
                .iter()
                .enumerate()
                .filter(|(_, h)| column.is_named(h))
                .map(|(i, _)| i)
                .collect();
            match found.as_slice() {
                [] if *required => errors.push(RowError {
                    row: Some(1),
                    column: Some(column.header(crate::lang::current()).to_owned()),
                    message: tr!(
                        errors.import.missing_column,
                        column = column.header(crate::lang::current())
                    ),
                }),
                [] => {}
                [one] => {
                    at.insert(column.en, *one);
                }
                [first, second, ..] => errors.push(RowError {
                    row: Some(1),
                    column: Some(sheet.headers[*second].clone()),
                    message: tr!(errors.import.twice, other = &sheet.headers[*first]),
                }),
            }
        }
        Self {
            headers: &sheet.headers,
            at,
        }
    }

    fn value<'r>(&self, row: &'r Row, column: Column) -> Option<&'r Value> {
        self.at.get(column.en).and_then(|i| row.values.get(*i))
    }

    /// The header as the file writes it.
    fn header(&self, column: Column) -> String {
        self.at
            .get(column.en)
            .map_or_else(|| column.en.to_owned(), |i| self.headers[*i].clone())
    }

    /// The trimmed text of a cell ("" when blank or absent); a whole number as its digits (a
    /// sku typed into Excel becomes a number), an Excel date as `YYYY-MM-DD`.
    fn text(&self, row: &Row, column: Column) -> String {
        match self.value(row, column) {
            None | Some(Value::Empty) => String::new(),
            Some(Value::Text(text)) => text.trim().to_owned(),
            Some(Value::Number(n)) if n.fract() == 0.0 && n.abs() < 1e15 => {
                format!("{}", *n as i64)
            }
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Date(date)) => date.to_string(),
        }
    }
}

/// Collects a row's problems, each against the column it is about.
struct RowProblems<'a, 'l> {
    layout: &'a Layout<'l>,
    number: usize,
    errors: &'a mut Vec<RowError>,
}

impl RowProblems<'_, '_> {
    fn note(&mut self, column: Column, message: String) {
        self.errors.push(RowError {
            row: Some(self.number),
            column: Some(self.layout.header(column)),
            message,
        });
    }

    /// Whether nothing is wrong with this row so far.
    fn clean(&self) -> bool {
        self.errors
            .last()
            .is_none_or(|e| e.row != Some(self.number))
    }

    /// The value of `parsed`, or `None` with its refusal noted against `column`.
    fn check<T>(&mut self, column: Column, parsed: Result<T, AppError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                let reason = error
                    .field_reasons()
                    .into_iter()
                    .next()
                    .map_or(error.message, |(_, reason)| reason);
                self.note(column, reason);
                None
            }
        }
    }
}

/// A whole number from a cell: `Err` with why when it is not one; `Ok(None)` when blank.
fn whole_number(value: Option<&Value>) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Empty) => Ok(None),
        Some(Value::Number(n)) if n.fract() == 0.0 && n.abs() <= 9.0e15 => Ok(Some(*n as i64)),
        Some(Value::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::Text(text)) => text
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| tr!(errors.import.whole_number)),
        _ => Err(tr!(errors.import.whole_number)),
    }
}

/// A date from a cell: an Excel date, or text `YYYY-MM-DD` or `YYYY/MM/DD`.
fn date_of(value: Option<&Value>) -> Result<Option<NaiveDate>, String> {
    match value {
        None | Some(Value::Empty) => Ok(None),
        Some(Value::Date(date)) => Ok(Some(*date)),
        Some(Value::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::Text(text)) => {
            let text = text.trim();
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(text, "%Y/%m/%d"))
                .map(Some)
                .map_err(|_| tr!(errors.import.date))
        }
        Some(Value::Number(_)) => Err(tr!(errors.import.date)),
    }
}

// ---------------------------------------------------------------------------------------------
// Items

struct ItemRow {
    sku: Sku,
    name: ItemName,
    spec: Option<ItemSpec>,
    unit: Option<Unit>,
    barcode: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ExistingItem {
    sku: String,
    name: String,
    spec: String,
    unit: String,
    barcode: Option<String>,
}

async fn import_items(db: &Db, sheet: &Sheet, report: &mut ImportReport) -> Result<(), AppError> {
    let layout = Layout::of(
        sheet,
        &[
            (SKU, true),
            (NAME, true),
            (SPEC, false),
            (UNIT, false),
            (BARCODE, false),
        ],
        &mut report.errors,
    );
    if !report.errors.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<(usize, ItemRow)> = Vec::with_capacity(sheet.rows.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut barcodes: HashMap<String, usize> = HashMap::new();
    for row in &sheet.rows {
        let mut problems = RowProblems {
            layout: &layout,
            number: row.number,
            errors: &mut report.errors,
        };
        let sku = problems.check(SKU, Sku::parse("sku", &layout.text(row, SKU)));
        let name = problems.check(NAME, ItemName::parse("name", &layout.text(row, NAME)));
        let spec = match layout.text(row, SPEC) {
            text if text.is_empty() => Some(None),
            text => problems
                .check(SPEC, ItemSpec::parse("spec", &text))
                .map(Some),
        };
        let unit = match layout.text(row, UNIT) {
            text if text.is_empty() => Some(None),
            text => problems.check(UNIT, Unit::parse("unit", &text)).map(Some),
        };
        let barcode_text = layout.text(row, BARCODE);
        let barcode = problems.check(
            BARCODE,
            crate::items::service::parse_barcode("barcode", Some(&barcode_text)),
        );
        if let Some(sku) = &sku {
            if let Some(first) = seen.insert(sku.as_str().to_owned(), row.number) {
                problems.note(SKU, tr!(errors.import.duplicate, row = first));
            }
        }
        if let Some(Some(code)) = &barcode {
            if let Some(first) = barcodes.insert(code.clone(), row.number) {
                problems.note(BARCODE, tr!(errors.import.duplicate, row = first));
            }
        }
        // A row with a problem is not written (a repeated sku would be written twice).
        if let (true, Some(sku), Some(name), Some(spec), Some(unit), Some(barcode)) =
            (problems.clean(), sku, name, spec, unit, barcode)
        {
            rows.push((
                row.number,
                ItemRow {
                    sku,
                    name,
                    spec,
                    unit,
                    barcode,
                },
            ));
        }
    }

    let columns = [
        ("sku", SKU),
        ("name", NAME),
        ("spec", SPEC),
        ("unit", UNIT),
        ("barcode", BARCODE),
    ];
    import_rows(db, report, &layout, &rows, &columns, |tx, rows| {
        Box::pin(apply_items(tx, rows))
    })
    .await
}

/// Writes a sheet's good `rows` with `apply` and adds what the database refused to `report`,
/// each refusal against its field's column (`columns`: field and column). The writes run
/// whatever the sheet's own checks found, so one report lists every problem of the file; only
/// a real import without any is kept.
async fn import_rows<R: Sync>(
    db: &Db,
    report: &mut ImportReport,
    layout: &Layout<'_>,
    rows: &[R],
    columns: &[(&str, Column)],
    apply: impl for<'t> FnMut(&'t mut Tx, &'t [R]) -> WriteFuture<'t, Written>,
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let keep = !report.dry_run && report.errors.is_empty();
    let written = write_then_keep(
        db,
        rows,
        |written: &Written| keep && written.refused.is_empty(),
        apply,
    )
    .await?;
    written.report(report, |field| {
        columns
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, column)| layout.header(*column))
    });
    Ok(())
}

/// The fields of an item an import writes.
const ITEM_FIELDS: &[&str] = &["sku", "name", "spec", "unit", "barcode"];

/// Writes the items of `rows` inside the caller's transaction: each new, changed, or the same
/// (left alone), every row the database refuses noted with why.
async fn apply_items(tx: &mut Tx, rows: &[(usize, ItemRow)]) -> Result<Written, AppError> {
    // What the database has of these skus, and who holds the barcodes.
    let mut existing: HashMap<String, ExistingItem> = HashMap::new();
    let mut barcode_owner: HashMap<String, String> = HashMap::new();
    for chunk in rows.chunks(CHUNK) {
        let (found, owners): (Vec<ExistingItem>, Vec<(String, String)>) =
            with_tx!(tx, |conn, _backend| {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT sku, name, spec, unit, barcode FROM items WHERE sku IN (",
                );
                let mut list = query.separated(", ");
                for (_, row) in chunk {
                    list.push_bind(row.sku.as_str());
                }
                query.push(")");
                let found = query.build_query_as().fetch_all(&mut *conn).await?;
                let mut owners = Vec::new();
                let codes: Vec<&str> = chunk
                    .iter()
                    .filter_map(|(_, row)| row.barcode.as_deref())
                    .collect();
                if !codes.is_empty() {
                    let mut query = sqlx::QueryBuilder::new(
                        "SELECT barcode, sku FROM items WHERE barcode IN (",
                    );
                    let mut list = query.separated(", ");
                    for code in codes {
                        list.push_bind(code);
                    }
                    query.push(")");
                    owners = query.build_query_as().fetch_all(&mut *conn).await?;
                }
                (found, owners)
            });
        existing.extend(found.into_iter().map(|item| (item.sku.clone(), item)));
        barcode_owner.extend(owners);
    }

    // Each row as it will be written: new, changed, or the same (left alone).
    let mut written = Written::default();
    let mut writes: Vec<ItemWrite> = Vec::new();
    for (number, row) in rows {
        if let Some((code, owner)) = row
            .barcode
            .as_ref()
            .and_then(|code| barcode_owner.get(code).map(|owner| (code, owner)))
            .filter(|(_, owner)| owner.as_str() != row.sku.as_str())
        {
            written.refused.push(Refusal {
                row: *number,
                field: Some("barcode"),
                message: tr!(errors.import.barcode_taken, barcode = code, sku = owner),
            });
            continue;
        }
        let write = match existing.get(row.sku.as_str()) {
            None => ItemWrite {
                row: *number,
                creates: true,
                sku: row.sku.as_str().to_owned(),
                name: row.name.as_str().to_owned(),
                spec: row.spec.as_ref().map_or("", |s| s.as_str()).to_owned(),
                unit: row.unit.as_ref().map_or("pcs", |u| u.as_str()).to_owned(),
                barcode: row.barcode.clone(),
            },
            Some(item) => {
                let write = ItemWrite {
                    row: *number,
                    creates: false,
                    sku: item.sku.clone(),
                    name: row.name.as_str().to_owned(),
                    spec: row
                        .spec
                        .as_ref()
                        .map_or(item.spec.clone(), |s| s.as_str().to_owned()),
                    unit: row
                        .unit
                        .as_ref()
                        .map_or(item.unit.clone(), |u| u.as_str().to_owned()),
                    barcode: row.barcode.clone().or_else(|| item.barcode.clone()),
                };
                if write.name == item.name
                    && write.spec == item.spec
                    && write.unit == item.unit
                    && write.barcode == item.barcode
                {
                    continue;
                }
                write
            }
        };
        writes.push(write);
    }
    write_rows(tx, &writes, &mut written).await?;
    Ok(written)
}

/// An item as an import writes it, and the row it comes from.
struct ItemWrite {
    row: usize,
    /// A new item (else an existing one changed).
    creates: bool,
    sku: String,
    name: String,
    spec: String,
    unit: String,
    barcode: Option<String>,
}

impl Upsert for ItemWrite {
    fn creates(&self) -> bool {
        self.creates
    }

    fn upsert<'t>(tx: &'t mut Tx, rows: &'t [Self]) -> WriteFuture<'t, Attempt> {
        Box::pin(upsert_items(tx, rows))
    }

    fn refusal<'t>(&'t self, tx: &'t mut Tx, error: sqlx::Error) -> WriteFuture<'t, Refusal> {
        Box::pin(async move {
            let mut refusal = refusal(self.row, &error, "items", ITEM_FIELDS);
            // Another item has the barcode (one written since this import looked): said as
            // when the import sees it first.
            if refusal.field == Some("barcode") && is_unique_violation(&error) {
                if let Some(code) = &self.barcode {
                    let owner: Option<String> = with_tx!(tx, |conn, _backend| {
                        sqlx::query_scalar("SELECT sku FROM items WHERE barcode = $1 AND sku <> $2")
                            .bind(code.as_str())
                            .bind(self.sku.as_str())
                            .fetch_optional(&mut *conn)
                            .await?
                    });
                    if let Some(owner) = owner {
                        refusal.message =
                            tr!(errors.import.barcode_taken, barcode = code, sku = owner);
                    }
                }
            }
            Ok(refusal)
        })
    }
}

/// Writes the items, and keeps the search index of their (new or changed) names; `Ok(Err)`
/// when the database refuses them.
async fn upsert_items(tx: &mut Tx, items: &[ItemWrite]) -> Result<Attempt, AppError> {
    // (item id, search text) before and after the write.
    type Texts = Vec<(i64, String)>;
    let (before, after): (Texts, Texts) = with_tx!(tx, |conn, _backend| {
        let mut query = sqlx::QueryBuilder::new("SELECT id, search_text FROM items WHERE sku IN (");
        let mut list = query.separated(", ");
        for item in items {
            list.push_bind(item.sku.as_str());
        }
        query.push(")");
        let before = query.build_query_as().fetch_all(&mut *conn).await?;
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO items (sku, name, spec, unit, search_text, barcode) ",
        );
        query.push_values(items, |mut row, item| {
            row.push_bind(item.sku.as_str())
                .push_bind(item.name.as_str())
                .push_bind(item.spec.as_str())
                .push_bind(item.unit.as_str())
                .push_bind(item_search_text(&item.sku, &item.name))
                .push_bind(item.barcode.as_deref());
        });
        query.push(
            " ON CONFLICT (sku) DO UPDATE SET name = excluded.name, spec = excluded.spec, \
             unit = excluded.unit, search_text = excluded.search_text, \
             barcode = excluded.barcode RETURNING id, search_text",
        );
        match refused(query.build_query_as().fetch_all(&mut *conn).await)? {
            Ok(after) => (before, after),
            Err(error) => return Ok(Err(error)),
        }
    });
    let before: HashMap<i64, String> = before.into_iter().collect();
    let changes: Vec<index::Change> = after
        .iter()
        .filter(|(id, text)| before.get(id) != Some(text))
        .map(|(id, text)| index::Change {
            id: *id,
            old: before.get(id).map(String::as_str),
            new: text,
        })
        .collect();
    index::reindex(tx, &changes).await?;
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------------
// Locations

/// The location code column: `location_code`/`库位`, or plainly `code`/`编码`.
const CODE: Column = Column {
    en: "code",
    zh: "编码",
    also: &["库位编码"],
};

/// A kind as a sheet may write it, in English or Chinese.
fn kind_of(text: &str) -> Option<LocationKind> {
    match text.trim().to_ascii_lowercase().as_str() {
        "receiving" | "收货" | "收货区" | "收货库位" => Some(LocationKind::Receiving),
        "storage" | "存储" | "存储区" | "存储库位" | "存货" => {
            Some(LocationKind::Storage)
        }
        "shipping" | "发货" | "发货区" | "发货库位" => Some(LocationKind::Shipping),
        "quarantine" | "隔离" | "隔离区" | "隔离库位" | "待检区" => {
            Some(LocationKind::Quarantine)
        }
        _ => None,
    }
}

/// A location row as read: its warehouse's id, code, name and kind.
type LocationRow = (usize, i64, LocationCode, LocationName, LocationKind);

async fn import_locations(
    db: &Db,
    sheet: &Sheet,
    report: &mut ImportReport,
) -> Result<(), AppError> {
    // Either header names the code; one of them is required.
    let code_column = if sheet.headers.iter().any(|h| LOCATION_CODE.is_named(h)) {
        LOCATION_CODE
    } else {
        CODE
    };
    let name_column = if sheet.headers.iter().any(|h| LOCATION_NAME.is_named(h)) {
        LOCATION_NAME
    } else {
        NAME
    };
    let layout = Layout::of(
        sheet,
        &[
            (WAREHOUSE_CODE, false),
            (code_column, true),
            (name_column, false),
            (KIND, true),
        ],
        &mut report.errors,
    );
    if !report.errors.is_empty() {
        return Ok(());
    }
    let sites = warehouses(db).await?;
    let mut rows: Vec<LocationRow> = Vec::new();
    let mut seen: HashMap<(i64, String), usize> = HashMap::new();
    for row in &sheet.rows {
        let mut problems = RowProblems {
            layout: &layout,
            number: row.number,
            errors: &mut report.errors,
        };
        // A blank warehouse is the only one there is (or the only one the importer works in).
        let named = layout.text(row, WAREHOUSE_CODE);
        let site = match named.as_str() {
            "" if sites.len() == 1 => sites.values().next().copied(),
            "" if crate::scope::only().is_some() => crate::scope::only().map(|(id, _)| id),
            "" => {
                let count = sites.len();
                problems.note(
                    WAREHOUSE_CODE,
                    tr!(errors.warehouse.required, count = count),
                );
                None
            }
            code => {
                let site = sites.get(code).copied();
                if site.is_none() {
                    problems.note(WAREHOUSE_CODE, tr!(errors.warehouse.not_found, code = code));
                }
                site
            }
        };
        // Someone limited to warehouses imports into theirs only (403, nothing written).
        if let Some(id) = site {
            crate::scope::check(id, &named)?;
        }
        let code = problems.check(
            code_column,
            LocationCode::parse("code", &layout.text(row, code_column)),
        );
        let name = problems.check(
            name_column,
            LocationName::parse("name", &layout.text(row, name_column)),
        );
        let kind_text = layout.text(row, KIND);
        let kind = kind_of(&kind_text);
        if kind.is_none() {
            problems.note(KIND, tr!(errors.value.kind_either));
        }
        if let (Some(site), Some(code)) = (site, &code) {
            if let Some(first) = seen.insert((site, code.as_str().to_owned()), row.number) {
                problems.note(code_column, tr!(errors.import.duplicate, row = first));
            }
        }
        if let (true, Some(site), Some(code), Some(name), Some(kind)) =
            (problems.clean(), site, code, name, kind)
        {
            rows.push((row.number, site, code, name, kind));
        }
    }
    let columns = [
        ("warehouse_id", WAREHOUSE_CODE),
        ("code", code_column),
        ("name", name_column),
        ("kind", KIND),
    ];
    import_rows(db, report, &layout, &rows, &columns, |tx, rows| {
        Box::pin(apply_locations(tx, rows))
    })
    .await
}

/// Every warehouse's id by its code.
async fn warehouses(db: &Db) -> Result<HashMap<String, i64>, AppError> {
    let mut tx = db.begin_read().await?;
    let rows: Vec<(String, i64)> = with_tx!(&mut tx, |conn, _backend| sqlx::query_as(
        "SELECT code, id FROM warehouses"
    )
    .fetch_all(&mut *conn)
    .await?);
    tx.commit().await?;
    Ok(rows.into_iter().collect())
}

/// The fields of a location an import writes (their columns depend on the sheet's headers).
const LOCATION_FIELDS: &[&str] = &["warehouse_id", "code", "name", "kind"];

/// Writes the locations of `rows` inside the caller's transaction: each new, renamed, or the
/// same (left alone); a location of another kind is not changed, and every row the database
/// refuses is noted with why.
async fn apply_locations(tx: &mut Tx, rows: &[LocationRow]) -> Result<Written, AppError> {
    let mut existing: HashMap<(i64, String), (String, String)> = HashMap::new();
    for chunk in rows.chunks(CHUNK) {
        let found: Vec<(i64, String, String, String)> = with_tx!(tx, |conn, _backend| {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT warehouse_id, code, name, kind FROM locations WHERE code IN (",
            );
            let mut list = query.separated(", ");
            for (_, _, code, _, _) in chunk {
                list.push_bind(code.as_str());
            }
            query.push(")");
            query.build_query_as().fetch_all(&mut *conn).await?
        });
        existing.extend(found.into_iter().map(|(w, c, n, k)| ((w, c), (n, k))));
    }
    let mut written = Written::default();
    let mut writes: Vec<LocationWrite> = Vec::new();
    for (number, site, code, name, kind) in rows {
        let creates = match existing.get(&(*site, code.as_str().to_owned())) {
            None => true,
            Some((_, old_kind)) if old_kind != kind.as_str() => {
                written.refused.push(Refusal {
                    row: *number,
                    field: Some("kind"),
                    message: tr!(errors.import.kind_fixed, code = code.as_str()),
                });
                continue;
            }
            Some((old_name, _)) if old_name == name.as_str() => continue,
            Some(_) => false,
        };
        writes.push(LocationWrite {
            row: *number,
            creates,
            warehouse_id: *site,
            code: code.as_str().to_owned(),
            name: name.as_str().to_owned(),
            kind: kind.as_str(),
        });
    }
    write_rows(tx, &writes, &mut written).await?;
    Ok(written)
}

/// A location as an import writes it, and the row it comes from.
struct LocationWrite {
    row: usize,
    /// A new location (else an existing one renamed).
    creates: bool,
    warehouse_id: i64,
    code: String,
    name: String,
    kind: &'static str,
}

impl Upsert for LocationWrite {
    fn creates(&self) -> bool {
        self.creates
    }

    fn upsert<'t>(tx: &'t mut Tx, rows: &'t [Self]) -> WriteFuture<'t, Attempt> {
        Box::pin(upsert_locations(tx, rows))
    }

    fn refusal<'t>(&'t self, _tx: &'t mut Tx, error: sqlx::Error) -> WriteFuture<'t, Refusal> {
        Box::pin(async move { Ok(refusal(self.row, &error, "locations", LOCATION_FIELDS)) })
    }
}

/// Writes the locations (a location's kind is never changed); `Ok(Err)` when the database
/// refuses them.
async fn upsert_locations(tx: &mut Tx, locations: &[LocationWrite]) -> Result<Attempt, AppError> {
    Ok(with_tx!(tx, |conn, _backend| {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO locations (warehouse_id, code, name, kind, search_text) ",
        );
        query.push_values(locations, |mut row, location| {
            row.push_bind(location.warehouse_id)
                .push_bind(location.code.as_str())
                .push_bind(location.name.as_str())
                .push_bind(location.kind)
                .push_bind(location_search_text(&location.code, &location.name));
        });
        query.push(
            " ON CONFLICT (warehouse_id, code) DO UPDATE SET name = excluded.name, \
             search_text = excluded.search_text",
        );
        refused(query.build().execute(&mut *conn).await)?.map(drop)
    }))
}

// ---------------------------------------------------------------------------------------------
// Writing: the same transaction for a dry run and a real import

/// A row the database (or the lookups before the writes) refused: its number, the field the
/// problem is about when known (`sku`, `code`, …), and why.
struct Refusal {
    row: usize,
    field: Option<&'static str>,
    message: String,
}

/// What an import's writes did, or (rolled back) would do, and the rows they refused.
#[derive(Default)]
struct Written {
    created: usize,
    updated: usize,
    refused: Vec<Refusal>,
}

impl Written {
    fn count(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.updated += 1;
        }
    }

    /// Puts the counts and the refused rows in `report` (`column`: the header of a field), every
    /// problem in row order, after the sheet's own problems of the same row.
    fn report(self, report: &mut ImportReport, column: impl Fn(&str) -> Option<String>) {
        report.created = self.created;
        report.updated = self.updated;
        report
            .errors
            .extend(self.refused.into_iter().map(|refusal| RowError {
                row: Some(refusal.row),
                column: refusal.field.and_then(&column),
                message: refusal.message,
            }));
        report.errors.sort_by_key(|e| e.row);
    }
}

/// One write of rows: `Err` holds the database's refusal of them (one of its rules, or text
/// it cannot store), theirs to report; any other failure is the import's (an `AppError`).
type Attempt = Result<(), sqlx::Error>;

/// `Ok(Err(error))` when `result` is the database refusing what was sent; see [`Attempt`].
fn refused<T>(result: Result<T, sqlx::Error>) -> Result<Result<T, sqlx::Error>, AppError> {
    match result {
        Err(error)
            if matches!(
                classify(&error),
                DbFailure::Constraint(_) | DbFailure::BadText
            ) =>
        {
            Ok(Err(error))
        }
        other => other.map(Ok).map_err(AppError::from),
    }
}

/// Rows an import writes, many per statement.
trait Upsert: Sync + Sized {
    /// Whether it creates its item or location (else changes one).
    fn creates(&self) -> bool;
    /// Writes `rows` in the caller's transaction.
    fn upsert<'t>(tx: &'t mut Tx, rows: &'t [Self]) -> WriteFuture<'t, Attempt>;
    /// Why the database refused this row, written alone (`error`), as its report says it.
    fn refusal<'t>(&'t self, tx: &'t mut Tx, error: sqlx::Error) -> WriteFuture<'t, Refusal>;
}

/// Writes `rows`, [`CHUNK`] per statement, counting what each created or changed. When the
/// database refuses a chunk, it is written again in halves, and a refused half in halves again,
/// down to the rows it refuses, each with why: a few statements for each refused row rather
/// than one for every row of its chunk. The halves go in the file's order and what the database
/// takes stays written, so a row that collides with an earlier row of the file is the one
/// refused, as when the rows go one by one. Each write runs in a savepoint, so a refused one
/// leaves the transaction as it was, on both databases, and the rest of the file still meets
/// every rule.
async fn write_rows<W: Upsert>(
    tx: &mut Tx,
    rows: &[W],
    written: &mut Written,
) -> Result<(), AppError> {
    // The slices still to write, the next one last.
    let mut pending: Vec<&[W]> = rows.chunks(CHUNK).rev().collect();
    while let Some(slice) = pending.pop() {
        match attempt(tx, slice).await? {
            Ok(()) => {
                for row in slice {
                    written.count(row.creates());
                }
            }
            Err(error) => match slice {
                [row] => {
                    let refusal = row.refusal(tx, error).await?;
                    written.refused.push(refusal);
                }
                _ => {
                    let (first, second) = slice.split_at(slice.len() / 2);
                    pending.push(second);
                    pending.push(first);
                }
            },
        }
    }
    Ok(())
}

/// [`Upsert::upsert`] inside a savepoint, rolled back to when the database refuses the rows
/// (PostgreSQL refuses every later statement of a transaction that met an error until then).
async fn attempt<W: Upsert>(tx: &mut Tx, rows: &[W]) -> Result<Attempt, AppError> {
    savepoint(tx, "SAVEPOINT import_rows").await?;
    let outcome = W::upsert(tx, rows).await?;
    if outcome.is_err() {
        savepoint(tx, "ROLLBACK TO SAVEPOINT import_rows").await?;
    }
    savepoint(tx, "RELEASE SAVEPOINT import_rows").await?;
    Ok(outcome)
}

async fn savepoint(tx: &mut Tx, statement: &'static str) -> Result<(), AppError> {
    // As a plain string (PostgreSQL's simple protocol, as sqlx runs its own savepoints).
    with_tx!(tx, |conn, _backend| sqlx::Executor::execute(
        &mut *conn, statement
    )
    .await
    .map(drop))?;
    Ok(())
}

/// The database's refusal of one row (`error`, of a rule or of text it cannot store) as its
/// report says it: the field of the rule as [`constraint_error`] answers it, else the field the
/// rule's name is about (as Depot's schema names its rules: `items_barcode`,
/// `locations_code_length`, or as SQLite names a unique column, `items.sku`), else none.
fn refusal(row: usize, error: &sqlx::Error, table: &str, fields: &[&'static str]) -> Refusal {
    let field_of = |name: &str| fields.iter().copied().find(|field| *field == name);
    let (field, message, name) = match classify(error) {
        DbFailure::Constraint(violation) => match constraint_error(&violation) {
            Some(answer) => match answer.field_reasons().into_iter().next() {
                Some((field, reason)) => (field_of(&field), reason, violation.name),
                None => (None, answer.message, violation.name),
            },
            None => {
                tracing::warn!(
                    cause = %error_chain(error),
                    "an import row breaks a constraint without a mapping"
                );
                (None, tr!(errors.conflict.db_rule), violation.name)
            }
        },
        _ => (None, tr!(errors.value.text_unstorable), None),
    };
    let named = || {
        let rest = name.as_deref()?.strip_prefix(table)?;
        let rest = rest.strip_prefix('_').or_else(|| rest.strip_prefix('.'))?;
        fields.iter().copied().find(|field| {
            rest.strip_prefix(field)
                .is_some_and(|after| after.is_empty() || after.starts_with(['_', ',']))
        })
    };
    Refusal {
        row,
        field: field.or_else(named),
        message,
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(
        classify(error),
        DbFailure::Constraint(Violation {
            kind: ConstraintKind::Unique,
            ..
        })
    )
}

/// Runs `work` in one write transaction (run again on contention, as [`Db::write`] does) and
/// commits it only when `keep` says so of what it returned; otherwise rolls it back and
/// returns that all the same. So a dry run goes through the very writes of the real import,
/// meeting every rule of the database as it would, and leaves nothing behind; and so does a
/// real import with problems (all or nothing).
async fn write_then_keep<A, T>(
    db: &Db,
    input: &A,
    keep: impl Fn(&T) -> bool + Sync,
    mut work: impl for<'t> FnMut(&'t mut Tx, &'t A) -> WriteFuture<'t, T>,
) -> Result<T, AppError>
where
    A: ?Sized + Sync,
    T: Send,
{
    let undone: Mutex<Option<T>> = Mutex::new(None);
    let take = |slot: &Mutex<Option<T>>| {
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    };
    let outcome = db
        .write(&(input, &undone, &keep), |tx, (input, undone, keep)| {
            let run = work(tx, *input);
            Box::pin(async move {
                let value = run.await?;
                if keep(&value) {
                    return Ok(value);
                }
                *undone
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(value);
                // An error rolls the transaction back; the value is taken from `undone`.
                Err(AppError::opaque_internal())
            })
        })
        .await;
    match outcome {
        Err(error) => take(&undone).ok_or(error),
        kept => kept,
    }
}

// ---------------------------------------------------------------------------------------------
// Opening stock

async fn import_stock(
    db: &Db,
    config: &Config,
    sheet: &Sheet,
    r#ref: Ref,
    actor: Option<&str>,
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let layout = Layout::of(
        sheet,
        &[
            (SKU, true),
            (LOCATION_CODE, true),
            (QTY, true),
            (BATCH_CODE, false),
            (EXPIRY_DATE, false),
            (PRODUCTION_DATE, false),
        ],
        &mut report.errors,
    );
    if !report.errors.is_empty() {
        return Ok(());
    }
    let mut lines = Vec::with_capacity(sheet.rows.len());
    let mut numbers = Vec::with_capacity(sheet.rows.len());
    for row in &sheet.rows {
        let mut problems = RowProblems {
            layout: &layout,
            number: row.number,
            errors: &mut report.errors,
        };
        let sku = problems.check(SKU, Sku::parse("sku", &layout.text(row, SKU)));
        let location = problems.check(
            LOCATION_CODE,
            LocationCode::parse("location_code", &layout.text(row, LOCATION_CODE)),
        );
        let qty = match whole_number(layout.value(row, QTY)) {
            Ok(Some(n)) => problems.check(QTY, Qty::parse("qty", n)),
            Ok(None) => {
                problems.note(QTY, tr!(errors.value.required));
                None
            }
            Err(reason) => {
                problems.note(QTY, reason);
                None
            }
        };
        let batch_code = problems.check(
            BATCH_CODE,
            BatchCode::parse("batch_code", &layout.text(row, BATCH_CODE)),
        );
        let expiry_date = match date_of(layout.value(row, EXPIRY_DATE)) {
            Ok(date) => Some(date),
            Err(reason) => {
                problems.note(EXPIRY_DATE, reason);
                None
            }
        };
        let production_date = match date_of(layout.value(row, PRODUCTION_DATE)) {
            Ok(date) => Some(date),
            Err(reason) => {
                problems.note(PRODUCTION_DATE, reason);
                None
            }
        };
        if let (
            Some(sku),
            Some(location),
            Some(qty),
            Some(batch_code),
            Some(expiry_date),
            Some(production_date),
        ) = (sku, location, qty, batch_code, expiry_date, production_date)
        {
            lines.push(ReceiveLine {
                item: ItemKey {
                    id: None,
                    sku: Some(sku),
                },
                location: LocationKey {
                    id: None,
                    code: Some(location),
                },
                qty,
                batch_code,
                expiry_date,
                production_date,
            });
            numbers.push(row.number);
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    // Rows the sheet already refused: the others still go through the pipeline's checks (in a
    // transaction rolled back), so one report lists every problem of the file.
    let refused = !report.errors.is_empty();
    let receipt: Receive = Request {
        r#ref,
        warehouse: None,
        lines,
    };
    let moment = config.moment();
    // The pipeline's own checks (unknown skus and locations, kinds, dates, repeated lines),
    // with the same words as a receipt's; a dry run rolls its transaction back.
    let keep = !report.dry_run && !refused;
    let outcome = write_then_keep(
        db,
        &(&receipt, actor),
        |_| keep,
        |tx, (receipt, actor)| Box::pin(pipeline::apply(tx, *receipt, moment, *actor)),
    )
    .await;
    match outcome {
        Ok(_) if refused => Ok(()),
        Ok(response) => {
            report.created = response
                .lines
                .iter()
                .filter(|line| line.status == LineStatus::Ok)
                .count();
            Ok(())
        }
        Err(error)
            if !error.field_reasons().is_empty()
                && matches!(
                    error.code,
                    ErrorCode::ValidationFailed
                        | ErrorCode::UnknownItem
                        | ErrorCode::UnknownLocation
                ) =>
        {
            for (field, reason) in error.field_reasons() {
                let (row, column) = line_field(&field)
                    .map(|(index, name)| {
                        (
                            numbers.get(index).copied(),
                            Some(stock_column(&layout, name)),
                        )
                    })
                    .unwrap_or((None, None));
                report.errors.push(RowError {
                    row,
                    column,
                    message: reason,
                });
            }
            // Row by row, whichever check found what.
            report.errors.sort_by_key(|e| e.row);
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// `lines[3].qty` → (3, "qty").
fn line_field(field: &str) -> Option<(usize, &str)> {
    let rest = field.strip_prefix("lines[")?;
    let (index, rest) = rest.split_once(']')?;
    let name = rest.strip_prefix('.').unwrap_or("");
    Some((index.parse().ok()?, name))
}

/// The header of the column a receipt field is about.
fn stock_column(layout: &Layout, field: &str) -> String {
    let column = match field {
        "sku" | "item_id" => SKU,
        "location_code" | "location_id" => LOCATION_CODE,
        "qty" => QTY,
        "batch_code" => BATCH_CODE,
        "expiry_date" => EXPIRY_DATE,
        "production_date" => PRODUCTION_DATE,
        _ => SKU,
    };
    layout.header(column)
}
