//! Items: what the warehouse stocks (SPEC §1).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// An item as stored and as the API returns it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Item {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub spec: String,
    pub unit: String,
    /// The GTIN on its cartons (EAN-13, UPC-A, GTIN-8 or -14), canonical; scans find it.
    pub barcode: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The body of `POST /items` as sent; parsed into [`service::NewItem`].
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewItemInput {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub spec: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub barcode: Option<String>,
}
