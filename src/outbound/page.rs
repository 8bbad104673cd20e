//! The `/outbound` page: ship an order. The clerk enters (or scans) the order's ref and its
//! lines; each line shows what is available as it is filled in. After a shipment its result
//! shows at the top and the form is fresh for the next order, the cursor in its ref. A form
//! the server did not take (refused, or its answer lost) keeps its ref, and the ref makes any
//! resend — a double click, back and resubmit, a retry — answer `IDEMPOTENT`, never ship twice.

use leptos::form::ActionForm;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::lines::{Column, ColumnKind, MovementForm};
use crate::outbound::OutboundResponse;
use crate::ui::{batches_text, number, Outcome, StatusBadge};

/// The order form as the browser posts it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShipForm {
    pub reference: String,
    pub all_or_nothing: bool,
    pub lines: Vec<ShipFormLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShipFormLine {
    pub sku: String,
    pub location_code: String,
    pub qty: String,
    pub batch_code: String,
}

const COLUMNS: &[Column] = &[
    Column {
        name: "sku",
        label: || tr!(outbound.col.sku),
        kind: ColumnKind::Item,
        placeholder: Some(|| tr!(outbound.sku_placeholder)),
    },
    Column {
        name: "location_code",
        label: || tr!(outbound.col.location),
        kind: ColumnKind::Location,
        placeholder: Some(|| tr!(outbound.location_placeholder)),
    },
    Column {
        name: "qty",
        label: || tr!(outbound.col.qty),
        kind: ColumnKind::Quantity,
        placeholder: None,
    },
    Column {
        name: "batch_code",
        label: || tr!(outbound.col.batch),
        kind: ColumnKind::Text,
        placeholder: Some(|| tr!(outbound.batch_placeholder)),
    },
];

impl ShipFormLine {
    fn values(&self) -> Vec<String> {
        vec![
            self.sku.clone(),
            self.location_code.clone(),
            self.qty.clone(),
            self.batch_code.clone(),
        ]
    }
}

/// Ships the page's order through the same service as `POST /outbound/commit`.
#[server(endpoint = "ship_order")]
pub async fn ship_order(
    reference: String,
    all_or_nothing: Option<String>,
    lines: Vec<ShipFormLine>,
) -> Result<Outcome<ShipForm, OutboundResponse>, AppError> {
    use crate::outbound::{OutboundInput, OutboundLineInput};
    let form = ShipForm {
        reference,
        all_or_nothing: all_or_nothing.is_some(),
        lines: lines
            .into_iter()
            .filter(|l| l.values().iter().any(|v| !v.trim().is_empty()))
            .collect(),
    };
    // Every bad field of the form is refused at once: what the form's own text says (a qty that
    // is not a number), then what the request's checks say.
    let mut problems = crate::error::Problems::default();
    let lines = form
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| OutboundLineInput {
            sku: Some(line.sku.clone()),
            location_code: Some(line.location_code.clone()),
            qty: crate::lines::form_qty(&mut problems, i, &line.qty),
            batch_code: Some(line.batch_code.trim().to_string()).filter(|c| !c.is_empty()),
            ..OutboundLineInput::default()
        })
        .collect();
    let input = OutboundInput {
        r#ref: form.reference.clone(),
        atomic: Some(form.all_or_nothing),
        lines,
    };
    let reference = form.reference.clone();
    crate::lines::commit_form::<crate::outbound::service::Outbound, _>(
        "/outbound",
        form,
        &reference,
        &input,
        problems,
    )
    .await
}

/// What is known of a line's stock for its hint: on hand and available, none at the location,
/// or why it could not be asked.
#[derive(Clone)]
enum Availability {
    Unknown,
    Here {
        qty: i64,
        reserved: i64,
        available: i64,
    },
    NoneHere,
    Failed(String),
}

/// "12 available" for a line, as its sku and location are filled in.
fn available_hint(values: RwSignal<Vec<String>>) -> AnyView {
    let answer = RwSignal::new(Availability::Unknown);
    Effect::new(move |_| {
        let values = values.get();
        let column = |i: usize| {
            values
                .get(i)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        let (sku, location) = (column(0), column(1));
        if sku.is_empty() || location.is_empty() {
            answer.set(Availability::Unknown);
            return;
        }
        leptos::task::spawn_local(async move {
            answer.set(match crate::lines::stock_at(sku, location).await {
                Ok(Some(row)) => Availability::Here {
                    qty: row.qty,
                    reserved: row.reserved,
                    available: row.available,
                },
                Ok(None) => Availability::NoneHere,
                Err(error) => Availability::Failed(error.message),
            });
        });
    });
    // Worded as the page renders, in the page's language.
    let text = move || match answer.get() {
        Availability::Unknown => String::new(),
        Availability::Here {
            qty,
            reserved,
            available,
        } => {
            let expired = (qty - reserved - available).max(0);
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
        Availability::NoneHere => tr!(outbound.hint.none_here),
        Availability::Failed(message) => message,
    };
    view! { <span aria-live="polite">{text}</span> }.into_any()
}

crate::lines::movement_page! {
    OutboundPage, outbound, "/outbound", ShipScanForm, ShipForm, OutboundResponse
}

/// The order form as it looks and reads.
static SHIP: MovementForm<ShipForm, OutboundResponse> = MovementForm {
    columns: COLUMNS,
    hint: Some((|| tr!(outbound.col.available), available_hint)),
    words: crate::lines::form_words!(outbound),
    fields: |form| {
        (
            form.reference.clone(),
            form.lines.iter().map(ShipFormLine::values).collect(),
        )
    },
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
    fresh_after_success: true,
    result: |outcome| view! { <ShipResult outcome/> }.into_any(),
};

crate::lines::movement_island! {
    #[island] ShipScanForm, ShipOrder, SHIP, "/outbound", ShipForm, OutboundResponse
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
