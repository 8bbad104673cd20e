//! The inventory snapshot (SPEC §4 `GET /snapshot/inventory`, the homepage): items in stock by
//! total quantity, with their two largest locations and earliest expiry.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// What a snapshot request asks for; every field optional.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotQuery {
    /// Case-insensitive substring of the sku or the name.
    pub q: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// One of an item's largest stocks.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationQty {
    pub location_id: i64,
    pub location_code: String,
    pub qty: i64,
}

/// One item in stock.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotItem {
    pub item_id: i64,
    pub sku: String,
    pub name: String,
    pub spec: String,
    pub total_qty: i64,
    /// What orders hold of it (SPEC §10).
    pub reserved_qty: i64,
    /// What of it may still be shipped or promised: neither expired nor reserved.
    pub available_qty: i64,
    /// The two largest stocks with qty > 0, ties by location id.
    pub top2_locations: Vec<LocationQty>,
    /// The earliest expiry among batches that hold goods; `None` when none has an expiry.
    pub earliest_expiry: Option<NaiveDate>,
    /// `earliest_expiry ≤ today + NEAR_EXPIRY_DAYS`, expired included (SPEC §3).
    pub near_expiry: bool,
}

impl SnapshotItem {
    /// Whether the item holds an expired batch on `today` (its earliest expiry is past).
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.earliest_expiry.is_some_and(|expiry| expiry < today)
    }
}
