//! Locations: where stock can be (SPEC §1).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// A location as stored and as the API returns it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Location {
    pub id: i64,
    /// The warehouse it is in.
    pub warehouse_code: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

/// The body of `POST /locations` as sent.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLocationInput {
    /// Its warehouse; required once Depot has more than one.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    pub kind: String,
}

/// A location kind as people read it (`storage` → "storage" / 存储区); the code itself stays in
/// form values and `data-kind`. An unknown code is shown as it is.
pub fn kind_words(kind: &str) -> String {
    match kind {
        "receiving" => tr!(locations.kind.receiving),
        "storage" => tr!(locations.kind.storage),
        "shipping" => tr!(locations.kind.shipping),
        "quarantine" => tr!(locations.kind.quarantine),
        "transit" => tr!(locations.kind.transit),
        other => other.to_string(),
    }
}
