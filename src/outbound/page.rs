//! The `/outbound` page: ship an order. The clerk enters (or scans) the order's ref and its
//! lines; each line shows what is available as it is filled in. After a shipment its result
//! shows at the top and the form is fresh for the next order, the cursor in its ref. A form
//! the server did not take (refused, or its answer lost) keeps its ref, and the ref makes any
//! resend — a double click, back and resubmit, a retry — answer `IDEMPOTENT`, never ship twice.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::lines::{movement_form, Column, ColumnKind, FormWords, MovementForm};
use crate::movement::LineStatus;
use crate::outbound::OutboundResponse;
use crate::ui::{
    batches_text, form_action, number, sent_line, stored_outcome, ErrorPanel, Outcome, StatusBadge,
    StoredOutcome,
};

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

/// What is on hand, reserved for orders and available to ship of `sku` at `location_code`:
/// (qty, reserved, available).
#[server(endpoint = "available_at")]
pub async fn available_at(
    sku: String,
    location_code: String,
) -> Result<Option<(i64, i64, i64)>, AppError> {
    use crate::stock::StockFilter;
    let state = crate::state::app_state()?;
    let filter = StockFilter {
        sku: Some(sku),
        location_code: Some(location_code),
        ..StockFilter::default()
    };
    let answer =
        crate::stock::service::query_stock(&state.db, &filter, state.config.today()).await?;
    Ok(answer
        .rows
        .first()
        .map(|row| (row.qty, row.reserved, row.available)))
}

/// Ships the page's order through the same service as `POST /outbound/commit`.
#[server(endpoint = "ship_order")]
pub async fn ship_order(
    reference: String,
    all_or_nothing: Option<String>,
    lines: Vec<ShipFormLine>,
) -> Result<Outcome<ShipForm, OutboundResponse>, AppError> {
    use crate::outbound::{OutboundInput, OutboundLineInput};
    let state = crate::state::app_state()?;
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
    let actor = crate::auth::access::current_actor();
    let result = problems
        .or_run(
            || crate::outbound::service::Outbound::parse(&input, true),
            <crate::outbound::service::Outbound as crate::movement::kind::Kind>::commit(
                &state.db,
                &state.config,
                &input,
                actor.as_deref(),
            ),
        )
        .await;
    let reference = form.reference.clone();
    Ok(crate::ui::finish_form("/outbound", &reference, form, result).await)
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
            answer.set(match available_at(sku, location).await {
                Ok(Some((qty, reserved, available))) => Availability::Here {
                    qty,
                    reserved,
                    available,
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

#[component]
pub fn OutboundPage() -> impl IntoView {
    let stored = stored_outcome::<ShipForm, OutboundResponse>("/outbound");
    view! {
        <Title text=tr!(outbound.title)/>
        <h1>{tr!(outbound.title)}</h1>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                let stored = stored.await;
                view! { <ShipScanForm stored/> }
            })}
        </Suspense>
    }
}

/// The order form as it looks and reads.
static SHIP: MovementForm<ShipForm, OutboundResponse> = MovementForm {
    columns: COLUMNS,
    hint: Some((|| tr!(outbound.col.available), available_hint)),
    words: || FormWords {
        ref_label: tr!(outbound.ref_label),
        ref_placeholder: tr!(outbound.ref_placeholder),
        submit: (tr!(outbound.submit), tr!(outbound.submitting)),
        start_over: tr!(outbound.start_over),
    },
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

/// The page's live part: the order form and its outcome.
#[island]
fn ShipScanForm(stored: StoredOutcome<ShipForm, OutboundResponse>) -> impl IntoView {
    let action = form_action::<ShipOrder>();
    movement_form(
        &SHIP,
        "/outbound".to_string(),
        None,
        stored,
        action.value(),
        action.pending().into(),
        move |fields| {
            view! { <ActionForm action=action attr:novalidate=true>{fields}</ActionForm> }
                .into_any()
        },
    )
}

#[component]
fn ShipResult(outcome: Outcome<ShipForm, OutboundResponse>) -> impl IntoView {
    let form = outcome.form;
    match outcome.result {
        Err(error) => view! { <section class="result"><ErrorPanel error/></section> }.into_any(),
        Ok(response) => {
            let summary = match response.status {
                LineStatus::Ok => tr!(outbound.summary.ok),
                LineStatus::Idempotent => tr!(outbound.summary.idempotent),
                LineStatus::InsufficientStock => tr!(outbound.summary.insufficient_stock),
            };
            // Column headings, also each card cell's label at 360 px (worded once per table).
            let heads = [
                tr!(common.line),
                tr!(outbound.col.sku),
                tr!(outbound.col.location),
                tr!(outbound.col.qty),
                tr!(outbound.col.status),
                tr!(outbound.col.after_qty),
                tr!(outbound.col.batches),
            ];
            view! {
                <section class="result" aria-labelledby="ship-result">
                    <h2 id="ship-result">
                        {tr!(outbound.result_heading, reference = response.r#ref.clone())} " "
                        <StatusBadge status=response.status/>
                    </h2>
                    <p role="status">{summary}</p>
                    <div class="table-wrap">
                        <table class="cards">
                            <thead><tr>
                                <th class="num">"#"</th><th>{heads[1].clone()}</th><th>{heads[2].clone()}</th>
                                <th class="num">{heads[3].clone()}</th><th>{heads[4].clone()}</th>
                                <th class="num">{heads[5].clone()}</th><th>{heads[6].clone()}</th>
                            </tr></thead>
                            <tbody>
                                {response.lines.into_iter().map(|line| {
                                    let sent = sent_line(&form.lines, line.ref_line);
                                    let detail = match line.available {
                                        Some(available) => tr!(outbound.only_available, available = number(available)),
                                        None => batches_text(&line.batches),
                                    };
                                    let label = |i: usize| heads[i].clone();
                                    view! {
                                        <tr>
                                            <td class="num" data-label=label(0)>{line.ref_line}</td>
                                            <td data-label=label(1)>{sent.sku}</td>
                                            <td data-label=label(2)>{sent.location_code}</td>
                                            <td class="num" data-label=label(3)>{number(line.qty)}</td>
                                            <td data-label=label(4)><StatusBadge status=line.status/></td>
                                            <td class="num" data-label=label(5)>{line.after_qty.map(number)}</td>
                                            <td data-label=label(6)>{detail}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                </section>
            }.into_any()
        }
    }
}
