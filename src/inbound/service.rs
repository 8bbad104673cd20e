//! Receiving: one more kind of [`Movement`] — per line an anchor, the stock and batch topped up
//! (created as needed) and one `RECEIVE` ledger entry.

use chrono::{Datelike, NaiveDate};

use crate::config::Config;
use crate::domain::{BatchCode, LocationKind, Qty};
use crate::error::AppError;
use crate::inbound::ReceiveInput;
use crate::movement::anchors::{Content, LineKey};
use crate::movement::ledger::Reason;
use crate::movement::pipeline::{Found, Leg, Lot, Movement};
use crate::movement::{
    line_field, non_blank, parse_request, ItemKey, LineResult, LocationKey, Request,
};

/// A parsed receive request.
pub type Receive = Request<ReceiveLine>;

#[derive(Debug, Clone)]
pub struct ReceiveLine {
    pub item: ItemKey,
    pub location: LocationKey,
    pub qty: Qty,
    pub batch_code: BatchCode,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
}

impl Receive {
    /// Parses a request. Checks against today's date come later, and only for lines not
    /// received before ([`Movement::check_new`]): a retry after midnight is still a retry.
    pub fn parse(input: &ReceiveInput) -> Result<Self, AppError> {
        parse_request(
            &input.r#ref,
            input.warehouse_code.as_deref(),
            &input.lines,
            |prefix, line, problems| {
                let item =
                    problems.check(ItemKey::parse(prefix, line.item_id, non_blank(&line.sku)));
                let location = problems.check(LocationKey::parse(
                    &format!("{prefix}.location_code"),
                    line.location_id,
                    non_blank(&line.location_code),
                ));
                let qty = problems.check(Qty::parse(&format!("{prefix}.qty"), line.qty));
                let batch_code = problems.check(BatchCode::parse(
                    &format!("{prefix}.batch_code"),
                    line.batch_code.as_deref().unwrap_or(""),
                ));
                let production_problem = line.production_date.and_then(|production| {
                    // "26-1-1" parses as the year 26: a typo, not a production date.
                    if production.year() < 1900 {
                        Some(tr!(errors.value.production_implausible, date = production))
                    } else if line.expiry_date.is_some_and(|expiry| production > expiry) {
                        Some(tr!(errors.value.production_after_expiry))
                    } else {
                        None
                    }
                });
                if let Some(reason) = production_problem {
                    problems.note(AppError::validation(
                        format!("{prefix}.production_date"),
                        reason,
                    ));
                    return None;
                }
                Some(ReceiveLine {
                    item: item?,
                    location: location?,
                    qty: qty?,
                    batch_code: batch_code?,
                    expiry_date: line.expiry_date,
                    production_date: line.production_date,
                })
            },
        )
    }
}

impl Movement for Receive {
    type Line = ReceiveLine;
    type LineResult = LineResult;

    fn request(&self) -> &Receive {
        self
    }

    const REASON: Reason = Reason("RECEIVE");
    const KIND: &'static str = "RECEIVE";
    const LOCATION_FIELDS: &'static [&'static str] = &["location_code"];

    fn item(line: &ReceiveLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &ReceiveLine, _n: usize) -> &LocationKey {
        &line.location
    }
    fn check(i: usize, _line: &ReceiveLine, found: &Found) -> Result<(), AppError> {
        let location = &found.locations[0];
        if matches!(
            location.kind(),
            Some(LocationKind::Receiving | LocationKind::Storage)
        ) {
            return Ok(());
        }
        Err(AppError::validation(
            line_field(i, "location_code"),
            tr!(
                errors.value.receive_into_kind,
                code = &location.code,
                kind = location
                    .kind()
                    .map_or_else(|| location.kind.clone(), kind_name)
            ),
        ))
    }
    fn check_new(i: usize, line: &ReceiveLine, today: NaiveDate) -> Result<(), AppError> {
        if let Some(expiry) = line.expiry_date.filter(|expiry| *expiry < today) {
            return Err(AppError::validation(
                line_field(i, "expiry_date"),
                tr!(errors.value.expiry_past, date = expiry, today = today),
            ));
        }
        if let Some(production) = line.production_date.filter(|p| *p > today) {
            return Err(AppError::validation(
                line_field(i, "production_date"),
                tr!(
                    errors.value.production_future,
                    date = production,
                    today = today
                ),
            ));
        }
        Ok(())
    }
    fn identity(line: &ReceiveLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id],
            lot: Some(line.batch_code.as_str().to_string()),
        }
    }
    fn content(line: &ReceiveLine) -> Content {
        Content {
            qty: line.qty.get(),
            batch_code: None,
            expiry_date: line.expiry_date,
            production_date: line.production_date,
            ..Content::default()
        }
    }
    fn legs(line: &ReceiveLine, found: &Found) -> Vec<Leg> {
        vec![Leg::Add {
            location: found.locations[0].id,
            qty: line.qty.get(),
            lot: Lot::Named {
                code: line.batch_code.as_str().to_string(),
                expiry_date: line.expiry_date,
                production_date: line.production_date,
            },
        }]
    }
}

/// A kind of location as refusals name it ("a shipping location", "发货库位").
fn kind_name(kind: LocationKind) -> String {
    match kind {
        LocationKind::Receiving => tr!(errors.location_kind.receiving),
        LocationKind::Storage => tr!(errors.location_kind.storage),
        LocationKind::Shipping => tr!(errors.location_kind.shipping),
        LocationKind::Quarantine => tr!(errors.location_kind.quarantine),
    }
}

/// Receives `input` in one transaction: every line is applied (or was, for a replay), or
/// nothing is written.
impl crate::movement::kind::Kind for Receive {
    type Input = ReceiveInput;
    const PATH: &'static str = "/inbound/receive";

    fn from_input(input: &ReceiveInput, _config: &Config) -> Result<Self, AppError> {
        Receive::parse(input)
    }
}
