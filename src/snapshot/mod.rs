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
    /// The page's position, counted in items; with `after` or `before` only reported back.
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    /// The page starts after this place: a previous answer's `next`. It costs what the first
    /// page costs, however deep (a deep offset about what the distinct totals above it number).
    pub after: Option<String>,
    /// The page ends before this place: a previous answer's `prev`.
    pub before: Option<String>,
}

/// A place in the snapshot's order (`total_qty` desc, then `item_id`): the item a page starts
/// after or ends before, written `<total_qty>-<item_id>` (an answer's `next` and `prev`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub total_qty: i64,
    pub item_id: i64,
}

impl Place {
    pub fn of(item: &SnapshotItem) -> Self {
        Self {
            total_qty: item.total_qty,
            item_id: item.item_id,
        }
    }

    /// `raw` as `<total_qty>-<item_id>`, both whole numbers (`field` names it in the error).
    pub fn parse(field: &str, raw: &str) -> Result<Self, crate::error::AppError> {
        let invalid = || crate::error::AppError::validation(field, tr!(errors.value.page_cursor));
        let (total, id) = raw.trim().split_once('-').ok_or_else(invalid)?;
        let number = |text: &str| {
            text.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0 && text.bytes().all(|b| b.is_ascii_digit()))
        };
        match (number(total), number(id)) {
            (Some(total_qty), Some(item_id)) => Ok(Self { total_qty, item_id }),
            _ => Err(invalid()),
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.total_qty, self.item_id)
    }
}

/// Which way a page is read from a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// From the top of the list, skipping `offset` items.
    Offset(i64),
    /// The items after the place.
    After(Place),
    /// The items before the place.
    Before(Place),
}

impl SnapshotQuery {
    /// Where the page starts: `after`, `before` or the offset (one cursor at most).
    pub fn start(&self, offset: i64) -> Result<Start, crate::error::AppError> {
        let blank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        match (blank(&self.after), blank(&self.before)) {
            (Some(_), Some(_)) => Err(crate::error::AppError::validation(
                "before",
                tr!(errors.value.one_cursor),
            )),
            (Some(after), None) => Place::parse("after", &after).map(Start::After),
            (None, Some(before)) => Place::parse("before", &before).map(Start::Before),
            (None, None) => Ok(Start::Offset(offset)),
        }
    }
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
    /// What of it may still be shipped or promised: neither expired nor reserved, nor in
    /// transit or quarantine.
    pub available_qty: i64,
    /// Of `total_qty`, what is on its way between warehouses (at a transit location).
    pub in_transit_qty: i64,
    /// Of `total_qty`, what came back and awaits a decision (at a quarantine location).
    pub quarantine_qty: i64,
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
