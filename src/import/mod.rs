//! Import (SPEC §11): items, locations and opening stock from a CSV or XLSX sheet, checked row
//! by row (a dry run reports every problem and writes nothing), applied all or nothing.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// What an import did, or would do (`dry_run`), and every problem found.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read (blank rows left out).
    pub rows: usize,
    /// Items or locations created, or stock lines received.
    pub created: usize,
    /// Items or locations whose name, spec, unit or barcode changed.
    pub updated: usize,
    pub errors: Vec<RowError>,
    /// The receipt's ref, for opening stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
}

/// A problem of one row (its number as a spreadsheet shows it: the header is row 1) and column
/// (as the file names it); both absent for a problem of the whole file.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
}

/// What a sheet holds.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Items,
    Locations,
    Stock,
}

impl ImportKind {
    pub const ALL: [ImportKind; 3] = [ImportKind::Items, ImportKind::Locations, ImportKind::Stock];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Items => "items",
            ImportKind::Locations => "locations",
            ImportKind::Stock => "stock",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}
