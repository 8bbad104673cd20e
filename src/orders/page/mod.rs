//! The order pages (SPEC §10): `/orders` (the orders, and a new one for clerks),
//! `/orders/{ref}` (an order's lines and what it holds where; reserve again, ship, cancel) and
//! `/orders/{ref}/pick` (the handheld pick screen: the next place to go, scan the location,
//! scan the item or batch, confirm the quantity, Enter, next). Same services as the JSON
//! endpoints.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::error::AppError;
use crate::orders::{Order, OrderList, OrderStatus, PickList, PickRow};
use crate::ui::{
    form_action, number, query_href, stored_outcome_of, urlencode, ErrorPanel, Outcome, Pager,
    StoredOutcome, WarehouseTimes,
};

mod detail;
mod list;
mod pick;

pub use detail::OrderPage;
pub use list::OrdersPage;
pub use pick::PickPage;

/// An order's status as its badge's class.
fn status_class(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Backordered => "badge warn",
        OrderStatus::Reserved | OrderStatus::Picking => "badge",
        OrderStatus::Picked | OrderStatus::Shipped => "badge ok",
        OrderStatus::Cancelled => "badge bad",
    }
}

pub fn status_words(status: OrderStatus) -> String {
    match status {
        OrderStatus::Backordered => tr!(orders.status.backordered),
        OrderStatus::Reserved => tr!(orders.status.reserved),
        OrderStatus::Picking => tr!(orders.status.picking),
        OrderStatus::Picked => tr!(orders.status.picked),
        OrderStatus::Shipped => tr!(orders.status.shipped),
        OrderStatus::Cancelled => tr!(orders.status.cancelled),
    }
}

#[component]
fn StatusBadge(status: OrderStatus) -> impl IntoView {
    view! { <span class=status_class(status) data-status=status.as_str()>{status_words(status)}</span> }
}

/// The address of order `reference`'s page (and, with `tail`, of one below it).
pub fn order_href(reference: &str, tail: &str) -> String {
    format!("/orders/{}{tail}", urlencode(reference))
}

/// The order's reference from the page's address.
fn reference_param() -> String {
    use_params_map()
        .read_untracked()
        .get("ref")
        .unwrap_or_default()
}

/// "12 ordered · 10 reserved · 4 picked · 0 shipped · 2 backordered", leaving out what is 0.
fn progress_words(qty: i64, reserved: i64, picked: i64, shipped: i64, backordered: i64) -> String {
    let mut parts = vec![tr!(orders.qty.ordered, n = number(qty))];
    for (n, words) in [
        (reserved, tr!(orders.qty.reserved, n = number(reserved))),
        (picked, tr!(orders.qty.picked, n = number(picked))),
        (shipped, tr!(orders.qty.shipped, n = number(shipped))),
        (
            backordered,
            tr!(orders.qty.backordered, n = number(backordered)),
        ),
    ] {
        if n > 0 {
            parts.push(words);
        }
    }
    parts.join(" · ")
}
