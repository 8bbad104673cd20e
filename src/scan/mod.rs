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

/// A date as a carton prints it or a clerk types it: `YYYY-MM-DD`, `YYYY/MM/DD` (also `.`),
/// `YYYYMMDD`, or GS1's `YYMMDD` (its century by GS1's rule from `today`; DD `00` is the month's
/// last day). Whatever the browser's locale: the pages always show `YYYY-MM-DD`.
pub fn written_date(raw: &str, today: NaiveDate) -> Option<NaiveDate> {
    let text = raw.trim();
    let digits = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        (lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    let ymd = |year: &str, month: &str, day: &str| {
        let year = i32::try_from(digits(year, 4..=4)?)
            .ok()
            .filter(|year| (1900..=2199).contains(year))?;
        NaiveDate::from_ymd_opt(year, digits(month, 1..=2)?, digits(day, 1..=2)?)
    };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.len() {
            8 => ymd(&text[..4], &text[4..6], &text[6..]),
            6 => gs1::gs1_date(text, today),
            _ => None,
        };
    }
    let separator = text.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let parts: Vec<&str> = text.split(separator).collect();
    match parts.as_slice() {
        [year, month, day] => ymd(year, month, day),
        _ => None,
    }
}

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
    /// The warehouse it is in.
    pub warehouse_code: String,
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

#[cfg(test)]
mod written_date_tests {
    use super::written_date;
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn every_way_a_carton_prints_a_date_is_read() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        for text in [
            "2027-03-15",
            "20270315",
            "2027/03/15",
            "2027/3/15",
            "2027.03.15",
            " 270315 ",
        ] {
            assert_eq!(written_date(text, today), day(2027, 3, 15), "{text}");
        }
        // GS1: DD 00 is the month's last day; the century keeps the year within −49 ..= +50.
        assert_eq!(written_date("280200", today), day(2028, 2, 29));
        assert_eq!(written_date("990101", today), day(1999, 1, 1));
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        for text in [
            "",
            "2027-13-01",
            "20270230",
            "2027",
            "27-03-15",
            "2027-03",
            "2027-03-15-1",
            "70315-02-02",
            "1503202",
            "2027/03-15",
            "２０２７０３１５",
            "00000101",
            "0000-01-01",
        ] {
            assert_eq!(written_date(text, today), None, "{text}");
        }
    }
}
