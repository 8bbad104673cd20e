//! Cycle counts (SPEC §9): a count of some locations or some items, entered line by line from a
//! handheld while the warehouse keeps moving goods, reviewed, then posted as one transaction of
//! `COUNT_CORRECTION` adjustments. Each counted line keeps the stock of its batch at the moment
//! it was counted; posting applies `counted − recorded`, so a receipt, putaway or shipment made
//! between counting and posting is kept, never overwritten.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::adjust::AdjustResponse;

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// Where a count is in its life.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CountStatus {
    /// Being counted.
    Open,
    /// Its corrections are in the ledger.
    Posted,
    Cancelled,
}

impl CountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CountStatus::Open => "OPEN",
            CountStatus::Posted => "POSTED",
            CountStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            CountStatus::Open,
            CountStatus::Posted,
            CountStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// The body of `POST /counts`: a scope of locations or of items (exactly one), and whether the
/// counters see what is expected.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCount {
    /// The warehouse counted in (its locations' codes are unique there); required once Depot
    /// has more than one.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    #[serde(default)]
    pub location_codes: Option<Vec<String>>,
    #[serde(default)]
    pub skus: Option<Vec<String>>,
    #[serde(default)]
    pub blind: bool,
}

/// The body of `POST /counts/{id}/lines`: what was found of an item (and batch) at a location.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountLineInput {
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub location_code: Option<String>,
    /// The batch counted; absent (or blank): the item's whole stock at the location, all its
    /// batches, as `POST /adjust` reads `counted_qty` without a batch. One (item, location) is
    /// counted either whole or by batch within a count.
    #[serde(default)]
    pub batch_code: Option<String>,
    pub counted_qty: i64,
}

/// A count's scope: the locations or the items it covers.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountScope {
    /// `locations` or `skus`.
    pub kind: String,
    /// The location codes or skus.
    pub values: Vec<String>,
}

/// One line of a count. For a clerk looking at a blind count, what is expected (and so what
/// the stock was, and the difference) is left out.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountLine {
    pub item_id: i64,
    pub sku: String,
    pub name: String,
    pub location_id: i64,
    pub location_code: String,
    /// The batch this line counts (`""` for a whole line, and for goods without a batch).
    pub batch_code: String,
    /// The line counts the item's whole stock at the location (counted without a batch): what
    /// it expects and recorded are the sums over its batches.
    #[serde(default)]
    pub whole: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_qty: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_qty: Option<i64>,
    /// The stock of this batch (of the whole stock, for a whole line) when it was counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_qty: Option<i64>,
    /// `counted − recorded`: what posting applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<i64>,
    /// Not expected: goods found while counting.
    pub found: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_by: Option<String>,
}

/// A count with its lines (`GET /counts/{id}`, and the answer of create, record, cancel).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub id: i64,
    /// The warehouse counted in.
    pub warehouse_code: String,
    pub status: CountStatus,
    pub blind: bool,
    pub scope: CountScope,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    /// Whether `expected_qty` (and what follows from it) is shown to whoever asked.
    pub expected_shown: bool,
    pub lines: Vec<CountLine>,
}

/// A count in the list of counts.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountSummary {
    pub id: i64,
    pub warehouse_code: String,
    pub status: CountStatus,
    pub blind: bool,
    pub scope: CountScope,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub lines: i64,
    pub counted: i64,
}

/// `GET /counts`: newest first.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountList {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub counts: Vec<CountSummary>,
}

/// `POST /counts/{id}/post`: the count, and the adjustment its differences made (ref
/// `COUNT-<id>`; `IDEMPOTENT` when posted before).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedCount {
    pub count: Count,
    pub adjustment: AdjustResponse,
}

/// The ref of a count's adjustments.
pub fn count_ref(id: i64) -> String {
    format!("COUNT-{id}")
}

/// Filters of `GET /counts`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CountFilter {
    pub status: Option<String>,
    /// Only the counts of this warehouse (its code).
    pub warehouse: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}
