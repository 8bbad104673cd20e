//! Warehouses (issue 33): the sites a company keeps stock in. Each has a code, a name and its
//! time zone ("today" for expiry and times on its pages); what Depot held before is `MAIN`.
//! A device works in one of them ([`working`]): the pages' forms, scans and stock hints act
//! there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// The cookie that keeps the warehouse a device works in (its code, percent-encoded).
pub const COOKIE: &str = "depot_warehouse";

/// The warehouse the device of the request being answered works in, if it chose one: what
/// the pages' forms send as `warehouse_code` (an unknown one is refused there, as any).
#[cfg(feature = "ssr")]
pub fn working() -> Option<String> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    working_in(&parts.headers)
}

/// [`working`] from a request's headers.
#[cfg(feature = "ssr")]
pub fn working_in(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| {
            percent_encoding::percent_decode_str(value.trim_matches('"'))
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|code| !code.trim().is_empty())
}

/// The cookie that makes `code` the working warehouse (a year).
#[cfg(feature = "ssr")]
pub fn working_cookie(code: &str) -> String {
    let value = percent_encoding::utf8_percent_encode(code, percent_encoding::NON_ALPHANUMERIC);
    format!(
        "{COOKIE}={value}; Path=/; Max-Age={}; SameSite=Lax; HttpOnly",
        365 * 24 * 60 * 60
    )
}

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
