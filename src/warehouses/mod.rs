//! Warehouses (issue 33): the sites a company keeps stock in. Each has a code, a name and its
//! time zone ("today" for expiry and times on its pages); what Depot held before is `MAIN`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

/// A warehouse as the API returns it; `timezone` is its own or, when it has none, Depot's
/// (`DEPOT_TIMEZONE`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warehouse {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

/// The body of `POST /warehouses` as sent.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWarehouseInput {
    pub code: String,
    pub name: String,
    /// An IANA time zone (`Asia/Shanghai`); Depot's (`DEPOT_TIMEZONE`) when not given.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// `GET /warehouses`: every warehouse, by code.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarehouseList {
    pub warehouses: Vec<Warehouse>,
}
