//! Stock by item and location, with batches and what is available to ship (SPEC §4).

use serde::{Deserialize, Serialize};

use crate::movement::BatchQty;

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// Filters of a stock query; every one optional.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StockFilter {
    pub item_id: Option<i64>,
    pub sku: Option<String>,
    pub location_id: Option<i64>,
    pub location_code: Option<String>,
    /// Substring of the sku, the item name or the location code.
    pub q: Option<String>,
    /// Only the stock of this warehouse (its code).
    pub warehouse: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// One stock row: `qty` on hand, `reserved` of it held by orders, `available` = neither expired
/// nor reserved (SPEC §3, §10; [`crate::movement::available`]).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRow {
    pub item_id: i64,
    pub sku: String,
    pub name: String,
    pub location_id: i64,
    pub location_code: String,
    /// The warehouse the location is in.
    pub warehouse_code: String,
    /// `storage`, `receiving`, `shipping`, `quarantine` or `transit`.
    pub location_kind: String,
    pub qty: i64,
    pub reserved: i64,
    /// What may be shipped or promised: nothing in transit or quarantine.
    pub available: i64,
    /// All of `qty` at a warehouse's transit location (goods on their way to it), else 0.
    pub in_transit_qty: i64,
    /// All of `qty` at a quarantine location (returns awaiting a decision), else 0.
    pub quarantine_qty: i64,
    pub batches: Vec<BatchQty>,
}

/// The answer to a stock query.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockQueryResponse {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub rows: Vec<StockRow>,
}
