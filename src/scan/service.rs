//! Resolving a scanned string on the database.

use chrono::NaiveDate;

use crate::db::Db;
use crate::error::AppError;
use crate::scan::gs1::{self, Gs1, Gs1Error};
use crate::scan::{Scan, ScanKind, ScannedItem, ScannedLocation};
use crate::with_pool;

/// The longest scan considered (a GS1 DataMatrix holds a few hundred characters at most).
pub const MAX_CODE_CHARS: usize = 512;
/// The group separator (FNC1) inside GS1 element strings.
const GS: char = '\u{1d}';

/// What `code` names. With `expect`, that kind is tried first (a code that is both a sku and a
/// location code is read as what the field asks for); otherwise items before locations.
/// `today` decides the century of GS1's two-digit years. Nothing found is `NOT_FOUND`; a
/// malformed GS1 barcode `VALIDATION_FAILED` on `code`, saying what is wrong with it. A location
/// code is looked for in `warehouse` (its code) when given; found in several warehouses without
/// it, it is `VALIDATION_FAILED` on `warehouse`.
pub async fn resolve(
    db: &Db,
    raw: &str,
    expect: Option<ScanKind>,
    warehouse: Option<&str>,
    today: NaiveDate,
) -> Result<Scan, AppError> {
    // Scanners end a scan with Enter (sometimes Tab); spaces around are never part of a code.
    let code = raw.trim_matches(|c: char| c.is_whitespace() && c != GS);
    if code.is_empty() {
        return Err(AppError::validation("code", tr!(errors.value.not_empty)));
    }
    if code.chars().count() > MAX_CODE_CHARS {
        return Err(AppError::validation(
            "code",
            tr!(errors.value.at_most_chars, max = MAX_CODE_CHARS),
        ));
    }
    if gs1::looks_like_gs1(code) {
        let parsed = gs1::parse(code, today).map_err(gs1_refusal)?;
        return from_gs1(db, code, parsed).await;
    }
    if code.chars().any(char::is_control) {
        return Err(AppError::validation(
            "code",
            tr!(errors.value.no_control_chars),
        ));
    }
    let order = match expect {
        Some(ScanKind::Location) => [ScanKind::Location, ScanKind::Item],
        _ => [ScanKind::Item, ScanKind::Location],
    };
    for kind in order {
        let found = match kind {
            ScanKind::Location => location_by_code(db, code, warehouse)
                .await?
                .map(|location| Scan {
                    location: Some(location),
                    ..empty(ScanKind::Location)
                }),
            _ => item_by_code(db, code).await?.map(|item| Scan {
                item: Some(item),
                ..empty(ScanKind::Item)
            }),
        };
        if let Some(scan) = found {
            return Ok(scan);
        }
    }
    // A GS1 string whose scanner dropped its symbology identifier and separators: it starts
    // with an SSCC's or a GTIN's AI and is longer than any GTIN.
    if code.len() > 14 && ["00", "01", "02"].iter().any(|ai| code.starts_with(ai)) {
        if let Ok(parsed) = gs1::parse_unbracketed(code, today) {
            return from_gs1(db, code, parsed).await;
        }
    }
    Err(AppError::not_found(tr!(errors.scan.nothing, code = code)))
}

fn empty(kind: ScanKind) -> Scan {
    Scan {
        kind,
        item: None,
        location: None,
        batch_code: None,
        expiry_date: None,
        production_date: None,
        qty: None,
    }
}

/// A GS1 barcode's goods: its GTIN must be an item's barcode.
async fn from_gs1(db: &Db, code: &str, parsed: Gs1) -> Result<Scan, AppError> {
    let Some(gtin) = parsed.gtin.as_deref() else {
        return Err(AppError::not_found(tr!(errors.scan.no_gtin, code = code)));
    };
    let canonical = gs1::canonical_gtin(gtin).map_err(gs1_refusal)?;
    let item = item_by_barcode(db, &canonical).await?.ok_or_else(|| {
        AppError::not_found(tr!(errors.scan.unknown_gtin, gtin = canonical.as_str()))
            .with_details(serde_json::json!({"gtin": canonical}))
    })?;
    Ok(Scan {
        item: Some(item),
        batch_code: parsed.batch,
        expiry_date: parsed.expiry,
        production_date: parsed.production,
        qty: parsed.count,
        ..empty(ScanKind::Gs1)
    })
}

/// A malformed GS1 barcode, in words.
fn gs1_refusal(error: Gs1Error) -> AppError {
    let reason = match &error {
        Gs1Error::BadValue { ai, .. } => tr!(errors.scan.bad_element, ai = ai),
        Gs1Error::CheckDigit { value, .. } => tr!(errors.scan.check_digit, value = value),
        Gs1Error::BadDate { ai, value } => tr!(errors.scan.bad_date, ai = ai, value = value),
        Gs1Error::UnknownAi { .. } => tr!(errors.scan.unknown_ai),
        Gs1Error::Truncated { ai } => tr!(errors.scan.truncated, ai = ai),
        Gs1Error::Repeated { ai } => tr!(errors.scan.repeated, ai = ai),
        Gs1Error::Malformed => tr!(errors.scan.malformed),
    };
    AppError::validation("code", reason)
}

const ITEM_COLUMNS: &str = "id, sku, name, unit, barcode";

/// The item whose sku is `code`, else (for a GTIN) whose barcode is.
pub async fn item_by_code(db: &Db, code: &str) -> Result<Option<ScannedItem>, AppError> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE sku = $1");
    let by_sku = with_pool!(db, |pool, _backend| sqlx::query_as::<_, ScannedItem>(&sql)
        .bind(code)
        .fetch_optional(pool)
        .await)?;
    if by_sku.is_some() {
        return Ok(by_sku);
    }
    match gs1::canonical_gtin(code) {
        Ok(barcode) => item_by_barcode(db, &barcode).await,
        Err(_) => Ok(None),
    }
}

async fn item_by_barcode(db: &Db, barcode: &str) -> Result<Option<ScannedItem>, AppError> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE barcode = $1");
    Ok(with_pool!(db, |pool, _backend| sqlx::query_as::<
        _,
        ScannedItem,
    >(&sql)
    .bind(barcode)
    .fetch_optional(pool)
    .await)?)
}

async fn location_by_code(
    db: &Db,
    code: &str,
    warehouse: Option<&str>,
) -> Result<Option<ScannedLocation>, AppError> {
    let mut found = with_pool!(db, |pool, _backend| sqlx::query_as::<_, ScannedLocation>(
        "SELECT l.id, l.code, l.kind, w.code AS warehouse_code \
         FROM locations l JOIN warehouses w ON w.id = l.warehouse_id \
         WHERE l.code = $1 AND ($2 IS NULL OR w.code = $2) ORDER BY w.code LIMIT 2"
    )
    .bind(code)
    .bind(warehouse)
    .fetch_all(pool)
    .await)?;
    if found.len() > 1 {
        return Err(AppError::validation(
            "warehouse",
            tr!(errors.location.in_several, code = code),
        ));
    }
    Ok(found.pop())
}
