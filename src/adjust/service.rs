//! `POST /adjust` as one more kind of [`Movement`]: a change (`delta`) is a take (any batch,
//! expired first, or the batch named — expired or not) or an addition (into the batch named,
//! whatever its dates, or the no-batch lot); a count (`counted_qty`) becomes one of those once
//! the stock is locked, or nothing when it is right. Every entry carries its reason code and note.

use crate::adjust::{AdjustInput, AdjustLineResult, AdjustResponse, ReasonCode};
use crate::config::Config;
use crate::domain::{BatchCode, Note, MAX_QTY};
use crate::error::AppError;
use crate::movement::anchors::{Content, LineKey};
use crate::movement::ledger::{Reason, Recorded, Why};
use crate::movement::pipeline::{Found, Leg, LineOutcome, Lot, Movement, Pick};
use crate::movement::{
    non_blank, parse_batch_code, parse_request, ItemKey, LineStatus, LocationKey, Request, Shortage,
};

/// A parsed adjustment request.
#[derive(Debug, Clone)]
pub struct Adjust {
    pub request: Request<AdjustLine>,
}

#[derive(Debug, Clone)]
pub struct AdjustLine {
    pub item: ItemKey,
    pub location: LocationKey,
    /// `None`: the whole stock (a decrease takes expired batches first, then FEFO; an increase
    /// goes into the no-batch lot).
    pub batch_code: Option<BatchCode>,
    pub change: Change,
    pub reason_code: ReasonCode,
    pub note: Option<Note>,
}

/// How a line changes its stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// By this much (never 0).
    Delta(i64),
    /// To this much.
    Counted(i64),
}

impl Adjust {
    /// Parses a request, refusing every bad field at once.
    pub fn parse(input: &AdjustInput) -> Result<Self, AppError> {
        let request = parse_request(
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
                let batch_code =
                    problems.check(parse_batch_code(prefix, line.batch_code.as_deref()));
                let change = problems.check(parse_change(prefix, line.delta, line.counted_qty));
                let reason_code =
                    problems.check(parse_reason_code(prefix, line.reason_code.as_deref()));
                let note = problems.check(parse_note(prefix, line.note.as_deref(), reason_code));
                Some(AdjustLine {
                    item: item?,
                    location: location?,
                    batch_code: batch_code?,
                    change: change?,
                    reason_code: reason_code?,
                    note: note?,
                })
            },
        )?;
        if request
            .r#ref
            .as_str()
            .to_ascii_uppercase()
            .starts_with("COUNT-")
        {
            // A count posts its corrections under its own ref (SPEC §9).
            return Err(AppError::validation("ref", tr!(errors.count.reserved_ref)));
        }
        Ok(Self { request })
    }
}

fn parse_change(
    prefix: &str,
    delta: Option<i64>,
    counted: Option<i64>,
) -> Result<Change, AppError> {
    let max = MAX_QTY;
    match (delta, counted) {
        // (A range, not `abs`: `i64::MIN` has none.)
        (Some(delta), None) if delta != 0 && (-max..=max).contains(&delta) => {
            Ok(Change::Delta(delta))
        }
        (Some(_), None) => Err(AppError::validation(
            format!("{prefix}.delta"),
            tr!(errors.adjust.delta_range, max = max),
        )),
        (None, Some(counted)) if (0..=max).contains(&counted) => Ok(Change::Counted(counted)),
        (None, Some(_)) => Err(AppError::validation(
            format!("{prefix}.counted_qty"),
            tr!(errors.adjust.counted_range, max = max),
        )),
        _ => Err(AppError::validation(
            format!("{prefix}.delta"),
            tr!(errors.adjust.delta_or_counted),
        )),
    }
}

fn parse_reason_code(prefix: &str, raw: Option<&str>) -> Result<ReasonCode, AppError> {
    raw.map(str::trim)
        .and_then(ReasonCode::from_name)
        .ok_or_else(|| {
            AppError::validation(
                format!("{prefix}.reason_code"),
                tr!(errors.adjust.reason_code),
            )
        })
}

/// The line's note: optional, but required for `OTHER` (`reason` is `None` when the reason
/// code itself was bad: then only the note's own text is checked).
fn parse_note(
    prefix: &str,
    raw: Option<&str>,
    reason: Option<ReasonCode>,
) -> Result<Option<Note>, AppError> {
    let field = format!("{prefix}.note");
    match raw.filter(|n| !n.trim().is_empty()) {
        Some(text) => Note::parse(&field, text).map(Some),
        None if reason == Some(ReasonCode::Other) => {
            Err(AppError::validation(field, tr!(errors.adjust.note_needed)))
        }
        None => Ok(None),
    }
}

impl Movement for Adjust {
    type Line = AdjustLine;
    type LineResult = AdjustLineResult;

    const REASON: Reason = Reason("ADJUST");
    const KIND: &'static str = "ADJUST";
    const LOCATION_FIELDS: &'static [&'static str] = &["location_code"];

    fn request(&self) -> &Request<AdjustLine> {
        &self.request
    }
    fn item(line: &AdjustLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &AdjustLine, _n: usize) -> &LocationKey {
        &line.location
    }
    fn identity(line: &AdjustLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id],
            lot: Some(
                line.batch_code
                    .as_ref()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
            ),
        }
    }
    fn content(line: &AdjustLine) -> Content {
        let (qty, counted) = match line.change {
            Change::Delta(delta) => (delta, false),
            Change::Counted(counted) => (counted, true),
        };
        Content {
            qty,
            counted,
            reason_code: Some(line.reason_code.as_str().to_string()),
            ..Content::default()
        }
    }
    fn legs(line: &AdjustLine, found: &Found) -> Vec<Leg> {
        let location = found.locations[0].id;
        let batch = line.batch_code.as_ref().map(|c| c.as_str().to_string());
        vec![match line.change {
            Change::Counted(counted) => Leg::Set {
                location,
                counted,
                batch,
            },
            Change::Delta(delta) if delta < 0 => Leg::Take {
                location,
                qty: -delta,
                pick: match batch {
                    // Writing off an expired batch is what adjustments are for; goods an
                    // order held that are not there any more are released from it.
                    Some(code) => Pick::Lot { code },
                    None => Pick::Any,
                },
            },
            Change::Delta(delta) => Leg::Add {
                location,
                qty: delta,
                // Found goods join their batch whatever its dates (none are given here).
                lot: Lot::Named {
                    code: batch.unwrap_or_default(),
                    expiry_date: None,
                    production_date: None,
                },
            },
        }]
    }
    fn why(line: &AdjustLine) -> Option<Why> {
        Some(Why {
            reason_code: line.reason_code.as_str(),
            note: line.note.as_ref().map(|n| n.as_str().to_string()),
        })
    }
    fn whole_stock(line: &AdjustLine) -> bool {
        line.batch_code.is_none()
            && matches!(line.change, Change::Counted(_) | Change::Delta(..=-1))
    }
}

impl LineOutcome for AdjustLineResult {
    fn applied(
        ref_line: u32,
        found: &Found,
        status: LineStatus,
        content: &Content,
        legs: &[Recorded],
    ) -> Self {
        let leg = legs.first();
        let reason_code = content
            .reason_code
            .as_deref()
            .and_then(ReasonCode::from_name)
            .unwrap_or(ReasonCode::Other);
        AdjustLineResult {
            ref_line,
            item_id: found.item.id,
            location_id: found.locations.first().map_or(0, |l| l.id),
            batch_code: None,
            delta: leg.map_or(0, |l| l.delta),
            counted_qty: content.counted.then_some(content.qty),
            reason_code,
            status,
            after_qty: leg.map(|l| l.after_qty),
            batches: leg.map(|l| l.batches.clone()).unwrap_or_default(),
        }
    }

    fn short(ref_line: u32, found: &Found, shortage: &Shortage) -> Self {
        AdjustLineResult {
            ref_line,
            item_id: found.item.id,
            location_id: shortage.location_id.unwrap_or_default(),
            batch_code: None,
            delta: 0,
            counted_qty: None,
            reason_code: ReasonCode::Other,
            status: LineStatus::InsufficientStock,
            after_qty: None,
            batches: Vec::new(),
        }
    }
}

/// Applies a request: every line, or (short, or any line refused) nothing.
impl crate::movement::kind::Kind for Adjust {
    type Input = AdjustInput;
    const PATH: &'static str = "/adjust";

    fn from_input(input: &AdjustInput, _config: &Config) -> Result<Self, AppError> {
        Adjust::parse(input)
    }

    /// Each result says the batch its line named, as it named it; a count of the whole stock
    /// that found it right says the stock is what was counted.
    fn finish(&self, response: &mut AdjustResponse) {
        for (result, line) in response.lines.iter_mut().zip(&self.request.lines) {
            result.batch_code = line.batch_code.as_ref().map(|c| c.as_str().to_string());
            if let (None, Change::Counted(counted), None) =
                (&line.batch_code, line.change, result.after_qty)
            {
                result.after_qty = Some(counted);
            }
        }
    }
}
