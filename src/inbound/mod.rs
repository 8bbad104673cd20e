//! Inbound receive: goods arrive at a receiving or storage location, by batch (SPEC §4).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::movement::{LineResult, MovementResponse};

pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// The body of `POST /inbound/receive`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveInput {
    pub r#ref: String,
    /// The warehouse its locations are in (their codes are unique within it); required once
    /// Depot has more than one.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    pub lines: Vec<ReceiveLineInput>,
}

/// One received line: an item (`item_id` or `sku`), a location (`location_id` or
/// `location_code`), a quantity, and the lot's batch code and dates.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveLineInput {
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub location_id: Option<i64>,
    #[serde(default)]
    pub location_code: Option<String>,
    pub qty: i64,
    #[serde(default)]
    pub batch_code: Option<String>,
    #[serde(default)]
    pub expiry_date: Option<NaiveDate>,
    #[serde(default)]
    pub production_date: Option<NaiveDate>,
}

/// The answer to a receive.
pub type ReceiveResponse = MovementResponse<LineResult>;
