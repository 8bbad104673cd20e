//! The ledger: every stock movement, append-only, newest first (SPEC §1, §4).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::movement::BatchQty;

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// Filters of the ledger; every one optional. Items and locations by id or by code.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerFilter {
    pub item_id: Option<i64>,
    pub sku: Option<String>,
    pub location_id: Option<i64>,
    pub location_code: Option<String>,
    pub r#ref: Option<String>,
    pub reason: Option<String>,
    /// An adjustment's reason code (SPEC §9), e.g. `DAMAGED`.
    #[serde(default)]
    pub reason_code: Option<String>,
    /// Only the entries of this warehouse's locations (its code).
    #[serde(default)]
    pub warehouse: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// One ledger entry with its item, location and batch detail (batch qty signed like `delta`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub reason: String,
    pub r#ref: String,
    pub ref_line: u32,
    pub item_id: i64,
    pub sku: String,
    pub location_id: i64,
    pub location_code: String,
    /// The warehouse the location is in.
    pub warehouse_code: String,
    pub delta: i64,
    pub after_qty: i64,
    pub batches: Vec<BatchQty>,
    pub actor: Option<String>,
    /// Why an adjustment (`ADJUST`) was made; absent for other entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One page of the ledger.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPage {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub rows: Vec<LedgerRow>,
}

/// Who made an entry in words: a person's name, or a program's token name marked as one.
pub fn actor_words(actor: &str) -> String {
    match actor.split_once(':') {
        Some(("user", name)) => name.to_string(),
        Some(("token", name)) => tr!(ledger.by_token, name = name),
        _ => actor.to_string(),
    }
}
