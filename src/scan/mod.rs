//! Scans (issue 16): what a string a handheld scanner typed names — an item (by sku or by the
//! barcode on its cartons), a location (by code), or a GS1 barcode carrying an item's GTIN with
//! its batch, dates and count ([`gs1`]). `GET /scan?code=` and the pages' scan fields resolve
//! scans the same way, through [`service::resolve`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
pub mod gs1;
#[cfg(feature = "ssr")]
pub mod service;

/// What a scan turned out to be.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanKind {
    /// An item's sku or barcode.
    Item,
    /// A location's code.
    Location,
    /// A GS1 element string (GS1-128, DataMatrix, …) naming an item by GTIN.
    Gs1,
}

impl ScanKind {
    pub fn from_name(name: &str) -> Option<ScanKind> {
        match name {
            "item" => Some(ScanKind::Item),
            "location" => Some(ScanKind::Location),
            "gs1" => Some(ScanKind::Gs1),
            _ => None,
        }
    }
}

/// The item a scan names.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ScannedItem {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub barcode: Option<String>,
}

/// The location a scan names.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ScannedLocation {
    pub id: i64,
    pub code: String,
    pub kind: String,
}

/// The answer of `GET /scan`: what the scanned string names, and for a GS1 barcode what it
/// says of the goods (fields it does not carry are left out).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    pub kind: ScanKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ScannedItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<ScannedLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty: Option<i64>,
}

/// What a page's scan field read (`expect`: `item` or `location`, the field's kind); the same
/// answer as `GET /scan`. A scan that names nothing or is malformed is an answer here (the inner
/// `Err`), not a failed request: a wrong scan is part of a clerk's day.
#[leptos::server(endpoint = "scan")]
pub async fn scan_code(
    code: String,
    expect: String,
) -> Result<Result<Scan, crate::error::AppError>, crate::error::AppError> {
    use crate::error::ErrorCode;
    let state = crate::state::app_state()?;
    let expect = ScanKind::from_name(expect.trim());
    match service::resolve(&state.db, &code, expect, state.config.today()).await {
        Err(error)
            if matches!(
                error.code,
                ErrorCode::NotFound | ErrorCode::ValidationFailed
            ) =>
        {
            Ok(Err(error))
        }
        other => other.map(Ok),
    }
}
