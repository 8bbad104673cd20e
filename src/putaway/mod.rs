//! Putaway: move goods from one location to another; batches travel with them (SPEC §4).

use serde::{Deserialize, Serialize};

use crate::movement::{BatchQty, LineStatus, MovementResponse};

pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// The body of `POST /putaway`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutawayInput {
    pub r#ref: String,
    /// The warehouse its locations are in (their codes are unique within it); required once
    /// Depot has more than one.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    pub lines: Vec<PutawayLineInput>,
}

/// One move: an item, from and to locations (by id or code), a quantity and optionally the batch
/// to move (otherwise first-expiry-first-out at the source).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutawayLineInput {
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub from_location_id: Option<i64>,
    #[serde(default)]
    pub from_location_code: Option<String>,
    #[serde(default)]
    pub to_location_id: Option<i64>,
    #[serde(default)]
    pub to_location_code: Option<String>,
    pub qty: i64,
    #[serde(default)]
    pub batch_code: Option<String>,
}

/// The result of one move.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutawayLineResult {
    pub ref_line: u32,
    pub item_id: i64,
    pub from_location_id: i64,
    pub to_location_id: i64,
    pub qty: i64,
    pub status: LineStatus,
    /// The source stock after the move.
    pub from_after_qty: i64,
    /// The destination stock after the move.
    pub to_after_qty: i64,
    pub batches: Vec<BatchQty>,
}

/// The answer to a putaway.
pub type PutawayResponse = MovementResponse<PutawayLineResult>;
