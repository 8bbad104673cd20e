//! The `/inbound` page: a clerk types or scans a receipt's ref, then its lines; the result shows
//! each line's status.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::error::AppError;
use crate::inbound::ReceiveResponse;
#[cfg(feature = "ssr")]
use crate::inbound::{ReceiveInput, ReceiveLineInput};
use crate::ui::{batches_text, number, Outcome, StatusBadge};

crate::lines::form_line! {
    /// A line of the receive form.
    ReceiveFormLine, inbound {
        sku: Item, sku, sku_placeholder;
        location_code: Location, location, location_placeholder;
        qty: Quantity, qty;
        batch_code: Text, batch, batch_placeholder;
        expiry_date: Date, expiry;
        production_date: Date, produced;
    }
}

crate::lines::lines_form! {
    /// The receive form as the browser posts it: every field text.
    ReceiveForm of ReceiveFormLine at "/inbound" {}
}

/// Receives the page's form through the same service as `POST /inbound/receive`.
#[server(endpoint = "receive_goods")]
pub async fn receive_goods_form(
    reference: String,
    lines: Vec<ReceiveFormLine>,
) -> Result<Outcome<ReceiveForm, ReceiveResponse>, AppError> {
    let form = ReceiveForm {
        reference,
        lines: crate::lines::filled(lines),
    };
    crate::lines::commit_form(form, Default::default()).await
}

crate::lines::form_request! {
    ReceiveForm => crate::inbound::service::Receive, |form, text| ReceiveInput {
        r#ref: form.reference.clone(),
        warehouse_code: crate::warehouses::working(),
        lines: text.each(&form.lines, |text, line| ReceiveLineInput {
            sku: Some(line.sku.clone()),
            location_code: Some(line.location_code.clone()),
            expiry_date: text.date("expiry_date", &line.expiry_date),
            production_date: text.date("production_date", &line.production_date),
            qty: text.qty(&line.qty),
            batch_code: Some(line.batch_code.clone()),
            ..ReceiveLineInput::default()
        }),
    }
}

crate::lines::movement_page! {
    InboundPage, inbound, ReceiveScanForm, ReceiveForm, ReceiveResponse
}

crate::lines::movement_island! {
    #[island] ReceiveScanForm, ReceiveGoodsForm, ReceiveForm, ReceiveResponse, inbound {
        result: |outcome| view! { <ReceiveResult outcome/> }.into_any(),
    }
}

#[component]
fn ReceiveResult(outcome: Outcome<ReceiveForm, ReceiveResponse>) -> impl IntoView {
    crate::lines::movement_result!(
        outcome, inbound, "receive-result",
        [sku, location, qty: num, status, after_qty: num, batches],
        |sent: ReceiveFormLine, line: crate::movement::LineResult| vec![
            sent.sku.into_any(),
            sent.location_code.into_any(),
            number(line.qty).into_any(),
            view! { <StatusBadge status=line.status/> }.into_any(),
            line.after_qty.map(number).into_any(),
            batches_text(&line.batches).into_any(),
        ]
    )
}
