//! Adjustments (SPEC §9): correcting stock to what is on the shelf — damaged, lost or found
//! goods, expired lots thrown away, a count's correction — with a reason code and a note on
//! every ledger entry. One more kind of movement on the shared pipeline: atomic, idempotent per
//! (ref, item, location, batch), never below zero.

use serde::{Deserialize, Serialize};

use crate::movement::{BatchQty, LineStatus, MovementResponse};

pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// Why stock was adjusted (SPEC §9).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    CountCorrection,
    Damaged,
    Lost,
    Found,
    ExpiredDisposal,
    /// Needs a note saying what.
    Other,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 6] = [
        ReasonCode::CountCorrection,
        ReasonCode::Damaged,
        ReasonCode::Lost,
        ReasonCode::Found,
        ReasonCode::ExpiredDisposal,
        ReasonCode::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::CountCorrection => "COUNT_CORRECTION",
            ReasonCode::Damaged => "DAMAGED",
            ReasonCode::Lost => "LOST",
            ReasonCode::Found => "FOUND",
            ReasonCode::ExpiredDisposal => "EXPIRED_DISPOSAL",
            ReasonCode::Other => "OTHER",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == name)
    }
}

/// The body of `POST /adjust`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustInput {
    pub r#ref: String,
    /// The warehouse its locations are in (their codes are unique within it); required once
    /// Depot has more than one.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    pub lines: Vec<AdjustLineInput>,
}

/// One stock (or batch) to correct: by a change (`delta`) or to what was counted
/// (`counted_qty`), exactly one of them, with a reason code (and a note for `OTHER`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustLineInput {
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub location_id: Option<i64>,
    #[serde(default)]
    pub location_code: Option<String>,
    /// The batch to change; without it a decrease takes expired batches first, then FEFO, and
    /// an increase goes into the no-batch lot.
    #[serde(default)]
    pub batch_code: Option<String>,
    #[serde(default)]
    pub delta: Option<i64>,
    #[serde(default)]
    pub counted_qty: Option<i64>,
    /// One of [`ReasonCode`]'s names (text, so a wrong one is refused naming the field).
    #[serde(default)]
    pub reason_code: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// The result of one adjustment line.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustLineResult {
    pub ref_line: u32,
    pub item_id: i64,
    pub location_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_code: Option<String>,
    /// What changed (signed); 0 when a count found what was recorded.
    pub delta: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_qty: Option<i64>,
    pub reason_code: ReasonCode,
    pub status: LineStatus,
    /// The stock after the change (absent when a batch's count changed nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_qty: Option<i64>,
    #[serde(default)]
    pub batches: Vec<BatchQty>,
}

/// The answer to `POST /adjust`.
pub type AdjustResponse = MovementResponse<AdjustLineResult>;

/// A reason code in words (the code itself stays in `data-reason-code` and filters' values).
pub fn reason_words(code: ReasonCode) -> String {
    match code {
        ReasonCode::CountCorrection => tr!(adjust.reason.count_correction),
        ReasonCode::Damaged => tr!(adjust.reason.damaged),
        ReasonCode::Lost => tr!(adjust.reason.lost),
        ReasonCode::Found => tr!(adjust.reason.found),
        ReasonCode::ExpiredDisposal => tr!(adjust.reason.expired_disposal),
        ReasonCode::Other => tr!(adjust.reason.other),
    }
}
