//! The `/outbound` page: ship an order. The clerk enters (or scans) the order's ref and its
//! lines; each line shows what is available as it is filled in. After a shipment its result
//! shows at the top and the form is fresh for the next order, the cursor in its ref. A form
//! the server did not take (refused, or its answer lost) keeps its ref, and the ref makes any
//! resend — a double click, back and resubmit, a retry — answer `IDEMPOTENT`, never ship twice.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::error::AppError;
use crate::outbound::OutboundResponse;
use crate::ui::{batches_text, number, Outcome, StatusBadge};

crate::lines::form_line! {
    /// A line of the order form.
    ShipFormLine, outbound {
        sku: Item, sku, sku_placeholder;
        location_code: Location, location, location_placeholder;
        qty: Quantity, qty;
        batch_code: Text, batch, batch_placeholder;
    }
}

crate::lines::lines_form! {
    /// The order form as the browser posts it.
    ShipForm of ShipFormLine at "/outbound" { all_or_nothing: bool }
}

/// Ships the page's order through the same service as `POST /outbound/commit`.
#[server(endpoint = "ship_order")]
pub async fn ship_order(
    reference: String,
    all_or_nothing: Option<String>,
    lines: Vec<ShipFormLine>,
) -> Result<Outcome<ShipForm, OutboundResponse>, AppError> {
    let form = ShipForm {
        reference,
        all_or_nothing: all_or_nothing.is_some(),
        lines: crate::lines::filled(lines),
    };
    crate::lines::commit_form(form, Default::default()).await
}

crate::lines::form_request! {
    ShipForm => crate::outbound::service::Outbound, |form, text| crate::outbound::OutboundInput {
        r#ref: form.reference.clone(),
        warehouse_code: crate::warehouses::working(),
        atomic: Some(form.all_or_nothing),
        lines: text.each(&form.lines, |text, line| {
            crate::outbound::OutboundLineInput {
                sku: Some(line.sku.clone()),
                location_code: Some(line.location_code.clone()),
                qty: text.qty(&line.qty),
                batch_code: crate::lines::given(&line.batch_code),
                ..Default::default()
            }
        }),
    }
}

/// "12 available" for a line, as its sku and location are filled in.
fn available_hint(values: RwSignal<Vec<String>>) -> AnyView {
    crate::lines::stock_hint(values, 0, 1, |stock| match stock {
        None => String::new(),
        Some(Ok(Some(row))) => {
            let (reserved, available) = (row.reserved, row.available);
            let expired = (row.qty - reserved - available).max(0);
            match (reserved > 0, expired > 0) {
                (false, false) => tr!(outbound.hint.available, available = number(available)),
                (false, true) => tr!(
                    outbound.hint.available_expired,
                    available = number(available),
                    expired = number(expired)
                ),
                (true, false) => tr!(
                    outbound.hint.available_reserved,
                    available = number(available),
                    reserved = number(reserved)
                ),
                (true, true) => tr!(
                    outbound.hint.available_reserved_expired,
                    available = number(available),
                    reserved = number(reserved),
                    expired = number(expired)
                ),
            }
        }
        Some(Ok(None)) => tr!(outbound.hint.none_here),
        Some(Err(message)) => message,
    })
}

crate::lines::movement_page! {
    OutboundPage, outbound, ShipScanForm, ShipForm, OutboundResponse
}

crate::lines::movement_island! {
    #[island] ShipScanForm, ShipOrder, ShipForm, OutboundResponse, outbound {
        result: |outcome| view! { <ShipResult outcome/> }.into_any(),
        hint: Some((|| tr!(outbound.col.available), available_hint)),
        head: Some(|form| {
            view! {
                <label class="switch">
                    <input type="checkbox" name="all_or_nothing" checked=form.all_or_nothing/>
                    <span class="switch-name">{tr!(outbound.all_or_nothing)}</span>
                    <span class="muted">{tr!(outbound.all_or_nothing_hint)}</span>
                </label>
            }
            .into_any()
        }),
    }
}

#[component]
fn ShipResult(outcome: Outcome<ShipForm, OutboundResponse>) -> impl IntoView {
    crate::lines::movement_result!(
        outcome, outbound, "ship-result",
        [sku, location, qty: num, status, after_qty: num, batches],
        |sent: ShipFormLine, line: crate::movement::LineResult| {
            let detail = match line.available {
                Some(available) => {
                    tr!(outbound.only_available, available = number(available))
                }
                None => batches_text(&line.batches),
            };
            vec![
                sent.sku.into_any(),
                sent.location_code.into_any(),
                number(line.qty).into_any(),
                view! { <StatusBadge status=line.status/> }.into_any(),
                line.after_qty.map(number).into_any(),
                detail.into_any(),
            ]
        }
    )
}
