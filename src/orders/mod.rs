//! Orders, reservations and picking (SPEC §10). An order promises stock to a customer: creating
//! it reserves batches (allocations) in storage locations by FEFO, so nobody else can ship or
//! promise them; picking confirms what was taken from the shelves (a short pick re-allocates or
//! backorders the rest); shipping takes the order's own reservations out as OUTBOUND ledger
//! entries with the order's ref, through the movement pipeline.
//!
//! An order's quantities, per line: `qty` = `shipped` + `reserved` + `backordered`, and
//! `picked` ≤ `reserved` is what of the reservation is confirmed picked and waiting to ship. A
//! batch's `reserved` is the sum of what allocations hold of it, never more than it holds.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod reservations;
#[cfg(feature = "ssr")]
pub mod service;

pub use crate::domain::{LineQty, OrderStatus};

/// What to do when not everything can be reserved.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Reserve what is there; the rest is backordered.
    #[default]
    Partial,
    /// Refuse the order (409 `INSUFFICIENT_STOCK`) unless all of it can be reserved.
    AllOrNothing,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Partial => "partial",
            Policy::AllOrNothing => "all_or_nothing",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Policy::Partial, Policy::AllOrNothing]
            .into_iter()
            .find(|p| p.as_str() == name)
    }
}

/// The body of `POST /orders`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub r#ref: String,
    /// The warehouse it ships from: it reserves and is picked only there. Required once Depot
    /// has more than one.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    pub lines: Vec<NewOrderLine>,
    /// `partial` (default) or `all_or_nothing`.
    #[serde(default)]
    pub policy: Option<String>,
}

/// One line of a new order: an item (by id or sku) and how many.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLine {
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub sku: Option<String>,
    pub qty: i64,
}

/// What an order line holds of one batch.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub location_code: String,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    /// Reserved now, picked or not.
    pub qty: i64,
    /// Of `qty`, confirmed picked.
    pub picked: i64,
    /// Shipped from this batch.
    pub shipped: i64,
}

/// One line of an order.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub line: u32,
    pub item_id: i64,
    pub sku: String,
    pub name: String,
    pub qty: i64,
    pub reserved: i64,
    pub picked: i64,
    pub shipped: i64,
    pub backordered: i64,
    /// Its allocations holding goods now, in walk order (location code, then FEFO).
    pub allocations: Vec<Allocation>,
}

/// An order with its lines.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub r#ref: String,
    /// The warehouse it ships from.
    pub warehouse_code: String,
    pub status: OrderStatus,
    pub policy: Policy,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// How many times goods left for it.
    pub shipments: i64,
    pub lines: Vec<OrderLine>,
}

/// The answer of every order endpoint that names one order.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderResponse {
    pub order: Order,
}

/// An order in the list of orders.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub r#ref: String,
    pub warehouse_code: String,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub lines: i64,
    pub qty: i64,
    pub reserved: i64,
    pub picked: i64,
    pub shipped: i64,
    pub backordered: i64,
}

/// `GET /orders`: newest first.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderList {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub orders: Vec<OrderSummary>,
}

/// Filters of `GET /orders`: a status, and `q` a piece of the ref.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderFilter {
    pub status: Option<String>,
    /// Only the orders of this warehouse (its code).
    pub warehouse: Option<String>,
    pub q: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// One place to pick from: an allocation, in walk order.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickRow {
    pub line: u32,
    pub location_code: String,
    pub item_id: i64,
    pub sku: String,
    pub name: String,
    /// The item's barcode (GTIN), for a scanner.
    pub barcode: Option<String>,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    /// Reserved here for the order.
    pub qty: i64,
    /// Of `qty`, confirmed picked.
    pub picked: i64,
}

/// `GET /orders/{ref}/picklist`: where to go, in walk order (by location code).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickList {
    pub r#ref: String,
    pub status: OrderStatus,
    pub rows: Vec<PickRow>,
}

/// The body of `POST /orders/{ref}/pick`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickInput {
    pub lines: Vec<PickLineInput>,
}

/// What was picked of an item (and batch) at a location: the whole quantity picked there for
/// the order, so sending it again changes nothing. Less than allocated is a short pick.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickLineInput {
    pub location_code: String,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub batch_code: Option<String>,
    pub qty: i64,
}

/// The body of `POST /orders/{ref}/ship` (may be empty).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipInput {
    /// Ship all that is reserved, picked or not (for warehouses that do not confirm picks).
    #[serde(default)]
    pub reserved: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(qty: i64, reserved: i64, picked: i64, shipped: i64) -> LineQty {
        LineQty {
            qty,
            reserved,
            picked,
            shipped,
        }
    }

    #[test]
    fn status_follows_the_lines() {
        use OrderStatus::*;
        assert_eq!(OrderStatus::of_lines([line(5, 5, 0, 0)]), Reserved);
        assert_eq!(OrderStatus::of_lines([line(5, 3, 0, 0)]), Backordered);
        assert_eq!(OrderStatus::of_lines([line(5, 5, 2, 0)]), Picking);
        assert_eq!(
            OrderStatus::of_lines([line(5, 5, 5, 0), line(2, 2, 2, 0)]),
            Picked
        );
        assert_eq!(OrderStatus::of_lines([line(5, 0, 0, 5)]), Shipped);
        assert_eq!(
            OrderStatus::of_lines([line(5, 2, 0, 3)]),
            Reserved,
            "the rest of a partly shipped order is reserved"
        );
        assert_eq!(OrderStatus::of_lines([line(5, 2, 2, 3)]), Picked);
        assert_eq!(OrderStatus::of_lines([line(5, 0, 0, 0)]), Backordered);
    }
}
