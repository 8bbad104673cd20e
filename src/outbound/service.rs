//! Outbound commit: one more kind of [`Movement`] — per line the stock row lock, the anchor (the
//! seed's `outbound_commits`), the available check, the decrement of stock and batches (FEFO,
//! never an expired batch) and one `OUTBOUND` ledger entry with its batch detail.

use crate::config::Config;
use crate::domain::{BatchCode, Qty};
use crate::error::AppError;
use crate::movement::anchors::{Content, LineKey};
use crate::movement::ledger::Reason;
use crate::movement::pipeline::{Found, Leg, Movement, Pick};
use crate::movement::{
    non_blank, parse_batch_code, parse_request, ItemKey, LineResult, LocationKey, Request,
};
use crate::outbound::OutboundInput;

/// A parsed outbound request.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub request: Request<OutboundLine>,
    pub atomic: bool,
}

#[derive(Debug, Clone)]
pub struct OutboundLine {
    pub item: ItemKey,
    pub location: LocationKey,
    pub qty: Qty,
    /// `None`: first-expiry-first-out over the location's usable batches.
    pub batch_code: Option<BatchCode>,
}

impl Outbound {
    /// Parses a request; `default_atomic` applies when it does not say.
    pub fn parse(input: &OutboundInput, default_atomic: bool) -> Result<Self, AppError> {
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
                let qty = problems.check(Qty::parse(&format!("{prefix}.qty"), line.qty));
                let batch_code =
                    problems.check(parse_batch_code(prefix, line.batch_code.as_deref()));
                Some(OutboundLine {
                    item: item?,
                    location: location?,
                    qty: qty?,
                    batch_code: batch_code?,
                })
            },
        )?;
        Ok(Self {
            request,
            atomic: input.atomic.unwrap_or(default_atomic),
        })
    }
}

impl Movement for Outbound {
    type Line = OutboundLine;
    type LineResult = LineResult;

    fn request(&self) -> &Request<OutboundLine> {
        &self.request
    }

    const REASON: Reason = Reason("OUTBOUND");
    const KIND: &'static str = "OUTBOUND";
    const LOCATION_FIELDS: &'static [&'static str] = &["location_code"];

    fn atomic(&self) -> bool {
        self.atomic
    }
    fn item(line: &OutboundLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &OutboundLine, _n: usize) -> &LocationKey {
        &line.location
    }
    fn identity(_line: &OutboundLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id],
            lot: None,
        }
    }
    fn content(line: &OutboundLine) -> Content {
        Content {
            qty: line.qty.get(),
            batch_code: line.batch_code.as_ref().map(|c| c.as_str().to_string()),
            ..Content::default()
        }
    }
    fn legs(line: &OutboundLine, found: &Found) -> Vec<Leg> {
        vec![Leg::Take {
            location: found.locations[0].id,
            qty: line.qty.get(),
            // Expired batches are never shipped, not even when named.
            pick: match &line.batch_code {
                Some(code) => Pick::Batch {
                    code: code.as_str().to_string(),
                    expired_ok: false,
                },
                None => Pick::Fefo,
            },
        }]
    }
}

/// Commits `input`: see SPEC §4. All or nothing when atomic; otherwise the lines that can be
/// covered are applied and the short ones are neither applied nor anchored.
impl crate::movement::kind::Kind for Outbound {
    type Input = OutboundInput;
    const PATH: &'static str = "/outbound/commit";

    fn from_input(input: &OutboundInput, config: &Config) -> Result<Self, AppError> {
        Outbound::parse(input, config.outbound_atomic)
    }
}
