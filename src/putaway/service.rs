//! Putaway: one more kind of [`Movement`], always all-or-nothing. Per line an anchor, the goods
//! taken from the source's batches (the named one, or first-expiry-first-out) and added to the
//! same lots at the destination, with a `-qty` and a `+qty` `PUTAWAY` ledger entry.

use crate::config::Config;
use crate::domain::{BatchCode, Qty};
use crate::error::AppError;
use crate::movement::anchors::{Content, LineKey};
use crate::movement::ledger::{Reason, Recorded};
use crate::movement::pipeline::{Found, Leg, LineOutcome, Movement, Pick};
use crate::movement::{
    line_field, non_blank, parse_batch_code, parse_request, ItemKey, LineStatus, LocationKey,
    Request, Shortage,
};
use crate::putaway::{PutawayInput, PutawayLineResult};

/// A parsed putaway request.
pub type Putaway = Request<PutawayLine>;

#[derive(Debug, Clone)]
pub struct PutawayLine {
    pub item: ItemKey,
    pub from: LocationKey,
    pub to: LocationKey,
    pub qty: Qty,
    /// `None`: first-expiry-first-out over the source's usable batches.
    pub batch_code: Option<BatchCode>,
}

impl Putaway {
    pub fn parse(input: &PutawayInput) -> Result<Self, AppError> {
        parse_request(
            &input.r#ref,
            input.warehouse_code.as_deref(),
            &input.lines,
            |prefix, line, problems| {
                let item =
                    problems.check(ItemKey::parse(prefix, line.item_id, non_blank(&line.sku)));
                let from = problems.check(LocationKey::parse(
                    &format!("{prefix}.from_location_code"),
                    line.from_location_id,
                    non_blank(&line.from_location_code),
                ));
                let to = problems.check(LocationKey::parse(
                    &format!("{prefix}.to_location_code"),
                    line.to_location_id,
                    non_blank(&line.to_location_code),
                ));
                let qty = problems.check(Qty::parse(&format!("{prefix}.qty"), line.qty));
                let batch_code =
                    problems.check(parse_batch_code(prefix, line.batch_code.as_deref()));
                Some(PutawayLine {
                    item: item?,
                    from: from?,
                    to: to?,
                    qty: qty?,
                    batch_code: batch_code?,
                })
            },
        )
    }
}

impl Movement for Putaway {
    type Line = PutawayLine;
    type LineResult = PutawayLineResult;

    fn request(&self) -> &Putaway {
        self
    }

    const REASON: Reason = Reason("PUTAWAY");
    const KIND: &'static str = "PUTAWAY";
    const LOCATION_FIELDS: &'static [&'static str] = &["from_location_code", "to_location_code"];

    fn item(line: &PutawayLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &PutawayLine, n: usize) -> &LocationKey {
        if n == 0 {
            &line.from
        } else {
            &line.to
        }
    }
    fn check(i: usize, _line: &PutawayLine, found: &Found) -> Result<(), AppError> {
        if found.locations[0].id == found.locations[1].id {
            return Err(AppError::validation(
                line_field(i, "to_location_code"),
                tr!(errors.value.differ_from_source),
            ));
        }
        Ok(())
    }
    fn identity(_line: &PutawayLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id, found.locations[1].id],
            lot: None,
        }
    }
    fn content(line: &PutawayLine) -> Content {
        Content {
            qty: line.qty.get(),
            batch_code: line.batch_code.as_ref().map(|c| c.as_str().to_string()),
            ..Content::default()
        }
    }
    fn legs(line: &PutawayLine, found: &Found) -> Vec<Leg> {
        Leg::moving(
            found.locations[0].id,
            found.locations[1].id,
            line.qty.get(),
            Pick::named_or_fefo(line.batch_code.as_ref().map(BatchCode::as_str)),
        )
    }
}

impl LineOutcome for PutawayLineResult {
    fn applied(
        ref_line: u32,
        found: &Found,
        status: LineStatus,
        content: &Content,
        legs: &[Recorded],
    ) -> PutawayLineResult {
        let from = legs.first().cloned().unwrap_or_default();
        let to_after_qty = legs.get(1).map(|l| l.after_qty).unwrap_or_default();
        PutawayLineResult {
            ref_line,
            item_id: found.item.id,
            from_location_id: found.locations[0].id,
            to_location_id: found.locations[1].id,
            qty: content.qty,
            status,
            from_after_qty: from.after_qty,
            to_after_qty,
            batches: from.batches,
        }
    }
    fn short(ref_line: u32, found: &Found, shortage: &Shortage) -> PutawayLineResult {
        // Putaway is all or nothing: a short line refuses the request; required by the trait.
        PutawayLineResult {
            ref_line,
            item_id: found.item.id,
            from_location_id: found.locations[0].id,
            to_location_id: found.locations[1].id,
            qty: shortage.required,
            status: LineStatus::InsufficientStock,
            from_after_qty: shortage.available,
            to_after_qty: 0,
            batches: Vec::new(),
        }
    }
}

/// Moves every line, or none: a short line refuses the whole request with 409.
impl crate::movement::kind::Kind for Putaway {
    type Input = PutawayInput;
    const PATH: &'static str = "/putaway";

    fn from_input(input: &PutawayInput, _config: &Config) -> Result<Self, AppError> {
        Putaway::parse(input)
    }
}
