//! Outbound commit: ship stock out of locations, idempotently per (ref, item, location), first
//! expiry first out, never an expired batch, never below zero (SPEC §4).

use serde::{Deserialize, Serialize};

use crate::movement::{LineResult, MovementResponse};

pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// The body of `POST /outbound/commit`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundInput {
    pub r#ref: String,
    /// The warehouse its locations are in (their codes are unique within it); required once
    /// Depot has more than one.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    /// All or nothing; absent means the server's `OUTBOUND_ATOMIC`.
    #[serde(default)]
    pub atomic: Option<bool>,
    pub lines: Vec<OutboundLineInput>,
}

/// One line to ship: an item and a location (by id or code), a quantity and optionally the batch
/// to take (otherwise first-expiry-first-out over the location's usable batches).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundLineInput {
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
}

/// The answer to an outbound commit.
pub type OutboundResponse = MovementResponse<LineResult>;
