//! What every stock movement (receive, putaway, outbound) shares: how a line names its item and
//! locations, the per-line and overall statuses, and the batch detail of a result; and, on the
//! server, the one pipeline every movement runs ([`pipeline`]) with its parts: finding what lines
//! name ([`resolve`]), stock locks and totals ([`stock`]), batches and FEFO ([`batches`]), the
//! ledger ([`ledger`]), idempotency anchors ([`anchors`]) and what orders hold of the batches
//! ([`allocations`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{check_line_count, BatchCode, LocationCode, Ref, Sku, WarehouseCode};
use crate::error::{AppError, Problems};

#[cfg(feature = "ssr")]
pub mod anchors;
#[cfg(feature = "ssr")]
pub mod batches;
#[cfg(feature = "ssr")]
pub mod kind;
#[cfg(feature = "ssr")]
pub mod ledger;
#[cfg(feature = "ssr")]
pub mod pipeline;
#[cfg(feature = "ssr")]
pub mod plan;
#[cfg(feature = "ssr")]
pub mod projections;
#[cfg(feature = "ssr")]
pub mod record;
#[cfg(feature = "ssr")]
pub mod resolve;
#[cfg(feature = "ssr")]
pub mod stock;

/// Rows per multi-row statement: far below both backends' limits on bound parameters.
#[cfg(feature = "ssr")]
pub const ROWS_PER_STATEMENT: usize = 1000;

/// Whether a batch with this expiry is usable on `today` (SPEC §3): not expired, expiring today
/// included.
pub fn usable(expiry_date: Option<NaiveDate>, today: NaiveDate) -> bool {
    expiry_date.is_none_or(|expiry| expiry >= today)
}

/// **The** definition of available (SPEC §10), used by every reader and writer of stock: what of
/// a batch anyone may still ship or promise on `today` — nothing of an expired batch, and of a
/// usable one what orders have not reserved.
pub fn available(qty: i64, reserved: i64, expiry_date: Option<NaiveDate>, today: NaiveDate) -> i64 {
    if usable(expiry_date, today) {
        (qty - reserved).max(0)
    } else {
        0
    }
}

/// Whether goods at a location of this kind may be available at all: not on their way to
/// another warehouse (`transit`) nor returned and waiting for a decision (`quarantine`).
pub fn kind_holds_available(kind: &str) -> bool {
    !matches!(kind, "transit" | "quarantine")
}

/// The path of line `i`'s field `name` in a request, e.g. `lines[2].qty`.
pub fn line_field(i: usize, name: &str) -> String {
    format!("lines[{i}].{name}")
}

/// How one line of a movement request ended (SPEC §4).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineStatus {
    /// Applied by this request.
    Ok,
    /// Applied before by the same ref; the original result is returned.
    Idempotent,
    /// Not applied and not anchored: not enough available stock.
    InsufficientStock,
}

impl LineStatus {
    /// The overall status of a request from its lines: short if any line is short, idempotent if
    /// every line is, otherwise OK.
    pub fn overall(lines: impl IntoIterator<Item = LineStatus>) -> LineStatus {
        let mut all_idempotent = true;
        let mut any = false;
        for status in lines {
            any = true;
            match status {
                LineStatus::InsufficientStock => return LineStatus::InsufficientStock,
                LineStatus::Ok => all_idempotent = false,
                LineStatus::Idempotent => {}
            }
        }
        if any && all_idempotent {
            LineStatus::Idempotent
        } else {
            LineStatus::Ok
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LineStatus::Ok => "OK",
            LineStatus::Idempotent => "IDEMPOTENT",
            LineStatus::InsufficientStock => "INSUFFICIENT_STOCK",
        }
    }
}

/// One batch a line moved, and how much of it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchQty {
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub qty: i64,
}

/// The result of one line of a receive or an outbound commit.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineResult {
    pub ref_line: u32,
    pub item_id: i64,
    pub location_id: i64,
    pub qty: i64,
    pub status: LineStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_qty: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
    #[serde(default)]
    pub batches: Vec<BatchQty>,
}

/// The response of a movement request: its ref, overall status and one result per line, in the
/// order the lines were sent.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovementResponse<L> {
    pub r#ref: String,
    pub status: LineStatus,
    pub lines: Vec<L>,
}

/// One line that could not be covered, in a 409 `INSUFFICIENT_STOCK` refusal: of a movement
/// (at its location) or of an order (reserved wherever the item is: no location, its sku).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    pub ref_line: u32,
    pub item_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Always a movement's (its line's location), never an order's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<i64>,
    pub required: i64,
    pub available: i64,
}

/// The 409 refusal of an all-or-nothing request with short lines; nothing was written.
pub fn insufficient_stock(shortages: &[Shortage]) -> AppError {
    AppError::new(
        crate::error::ErrorCode::InsufficientStock,
        tr!(errors.insufficient_stock, count = shortages.len()),
    )
    .with_details(serde_json::json!({ "shortages": shortages }))
}

/// How a line names its item: by id, by sku, or both (then they must agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKey {
    pub id: Option<i64>,
    pub sku: Option<Sku>,
}

impl ItemKey {
    /// `prefix` is the line's path, e.g. `lines[2]`.
    pub fn parse(prefix: &str, id: Option<i64>, sku: Option<&str>) -> Result<Self, AppError> {
        let sku = match sku {
            Some(raw) => Some(Sku::parse(&format!("{prefix}.sku"), raw)?),
            None => None,
        };
        if id.is_none() && sku.is_none() {
            return Err(AppError::validation(
                format!("{prefix}.sku"),
                tr!(errors.value.give_item),
            ));
        }
        Ok(Self { id, sku })
    }
}

/// How a line names a location: by id, by code, or both (then they must agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationKey {
    pub id: Option<i64>,
    pub code: Option<LocationCode>,
}

impl LocationKey {
    /// `field` names the code field, e.g. `lines[2].location_code`.
    pub fn parse(field: &str, id: Option<i64>, code: Option<&str>) -> Result<Self, AppError> {
        let code = match code {
            Some(raw) => Some(LocationCode::parse(field, raw)?),
            None => None,
        };
        if id.is_none() && code.is_none() {
            return Err(AppError::validation(field, tr!(errors.value.give_location)));
        }
        Ok(Self { id, code })
    }
}

/// What every parsed movement request has: its ref, the warehouse its locations are in
/// (`warehouse_code`; none: the only one) and 1..=1000 lines.
#[derive(Debug, Clone)]
pub struct Request<L> {
    pub r#ref: Ref,
    pub warehouse: Option<WarehouseCode>,
    pub lines: Vec<L>,
}

/// Parses what every movement request has: its ref, its warehouse and 1..=1000 lines, each by
/// `line(prefix, raw, problems)` where `prefix` is the line's path, e.g. `lines[3]`: it notes
/// each bad field in `problems` and gives `None` when any was bad. Every bad field of the
/// request is refused at once.
pub fn parse_request<L, T>(
    raw_ref: &str,
    raw_warehouse: Option<&str>,
    raw_lines: &[L],
    mut line: impl FnMut(&str, &L, &mut Problems) -> Option<T>,
) -> Result<Request<T>, AppError> {
    let mut problems = Problems::default();
    let r#ref = problems.check(Ref::parse("ref", raw_ref));
    let warehouse = problems.check(WarehouseCode::parse_optional(
        "warehouse_code",
        raw_warehouse,
    ));
    check_line_count(raw_lines.len())?;
    let lines: Vec<Option<T>> = raw_lines
        .iter()
        .enumerate()
        .map(|(i, raw)| line(&format!("lines[{i}]"), raw, &mut problems))
        .collect();
    problems.finish()?;
    match (
        r#ref,
        warehouse,
        lines.into_iter().collect::<Option<Vec<T>>>(),
    ) {
        (Some(r#ref), Some(warehouse), Some(lines)) => Ok(Request {
            r#ref,
            warehouse,
            lines,
        }),
        // A line parser gave up without saying why: a bug, never a silent partial request.
        _ => Err(AppError::new(
            crate::error::ErrorCode::Internal,
            tr!(errors.internal),
        )),
    }
}

/// A line's optional batch code; `None` means first-expiry-first-out.
pub fn parse_batch_code(prefix: &str, raw: Option<&str>) -> Result<Option<BatchCode>, AppError> {
    raw.map(|code| BatchCode::parse(&format!("{prefix}.batch_code"), code))
        .transpose()
}

/// Treats a blank optional text field as absent.
pub fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overall_status_follows_the_spec() {
        use LineStatus::*;
        assert_eq!(LineStatus::overall([Ok, Idempotent]), Ok);
        assert_eq!(LineStatus::overall([Idempotent, Idempotent]), Idempotent);
        assert_eq!(
            LineStatus::overall([Ok, InsufficientStock, Idempotent]),
            InsufficientStock
        );
    }

    #[test]
    fn a_line_must_name_its_item() {
        let error = ItemKey::parse("lines[0]", None, None).unwrap_err();
        assert_eq!(error.details["field"], "lines[0].sku");
        assert!(ItemKey::parse("lines[0]", Some(4), None).is_ok());
    }
}
