//! Printable labels (issue 16): location labels (code, name, Code 128 and QR) and batch labels
//! (sku, name, batch, expiry and GS1-128), laid out for 50×30 mm and 100×50 mm label stock and
//! for A4 sheets of 70×37 mm labels. Depot draws the barcodes itself ([`barcode`], SVG), and
//! every one of them scans back into its own scan fields: a location label's codes are the
//! location's code; a batch label's GS1-128 carries the item's GTIN, expiry and batch, read by
//! [`crate::scan`] into a line's sku, expiry and batch fields at once.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod barcode;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// The most labels one sheet prints (one page of locations at the largest page size).
pub const MAX_LABELS: i64 = crate::domain::MAX_PAGE_SIZE;

/// What labels are printed on.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Stock {
    /// A roll of 50×30 mm labels (a label printer), one label per page.
    #[default]
    Small,
    /// A roll of 100×50 mm labels, one label per page.
    Large,
    /// A4 sheets of 3×8 labels of 70×37 mm (an office printer).
    A4,
}

impl Stock {
    pub const ALL: [Stock; 3] = [Stock::Small, Stock::Large, Stock::A4];

    /// The name in `?size=`: `50x30`, `100x50`, `a4`; anything else is the default.
    pub fn from_param(raw: &str) -> Stock {
        match raw.trim().to_ascii_lowercase().as_str() {
            "100x50" => Stock::Large,
            "a4" => Stock::A4,
            _ => Stock::Small,
        }
    }

    pub fn param(self) -> &'static str {
        match self {
            Stock::Small => "50x30",
            Stock::Large => "100x50",
            Stock::A4 => "a4",
        }
    }
}

/// Which symbology a barcode is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Symbology {
    Code128,
    Gs1_128,
    Qr,
}

/// One barcode: its SVG (inlined into the page) and the text printed under it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symbol {
    pub symbology: Symbology,
    pub svg: String,
    pub text: String,
}

/// One label's content. A code a symbology cannot carry (a location code in Chinese cannot be
/// Code 128) leaves that symbol out; the label still shows it in words.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// The location's code, or the item's sku.
    pub title: String,
    /// The location's or item's name.
    pub name: String,
    pub batch: Option<String>,
    pub expiry: Option<NaiveDate>,
    /// Code 128 (a location's code; an item without a GTIN: its sku) or GS1-128.
    pub bars: Option<Symbol>,
    /// A QR code of a location's code.
    pub qr: Option<Symbol>,
}

/// A sheet of labels, and how many the selection matched (more than [`MAX_LABELS`] are cut).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    pub labels: Vec<Label>,
    pub total: i64,
}
