//! The `/inbound` page: a clerk types or scans a receipt's ref, then its lines; the result shows
//! each line's status.

use chrono::NaiveDate;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::inbound::ReceiveResponse;
#[cfg(feature = "ssr")]
use crate::inbound::{ReceiveInput, ReceiveLineInput};
use crate::lines::{movement_form, Column, ColumnKind, FormWords, MovementForm};
use crate::movement::LineStatus;
use crate::ui::{
    batches_text, form_action, number, sent_line, stored_outcome, ErrorPanel, Outcome, StatusBadge,
    StoredOutcome,
};

/// The receive form as the browser posts it: every field text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceiveForm {
    pub reference: String,
    pub lines: Vec<ReceiveFormLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReceiveFormLine {
    pub sku: String,
    pub location_code: String,
    pub qty: String,
    pub batch_code: String,
    pub expiry_date: String,
    pub production_date: String,
}

const COLUMNS: &[Column] = &[
    Column {
        name: "sku",
        label: || tr!(inbound.col.sku),
        kind: ColumnKind::Item,
        placeholder: Some(|| tr!(inbound.sku_placeholder)),
    },
    Column {
        name: "location_code",
        label: || tr!(inbound.col.location),
        kind: ColumnKind::Location,
        placeholder: Some(|| tr!(inbound.location_placeholder)),
    },
    Column {
        name: "qty",
        label: || tr!(inbound.col.qty),
        kind: ColumnKind::Quantity,
        placeholder: None,
    },
    Column {
        name: "batch_code",
        label: || tr!(inbound.col.batch),
        kind: ColumnKind::Text,
        placeholder: Some(|| tr!(inbound.batch_placeholder)),
    },
    Column {
        name: "expiry_date",
        label: || tr!(inbound.col.expiry),
        kind: ColumnKind::Date,
        placeholder: None,
    },
    Column {
        name: "production_date",
        label: || tr!(inbound.col.produced),
        kind: ColumnKind::Date,
        placeholder: None,
    },
];

impl ReceiveFormLine {
    #[cfg(feature = "ssr")]
    fn is_blank(&self) -> bool {
        self.values().iter().all(|v| v.trim().is_empty())
    }

    fn values(&self) -> Vec<String> {
        vec![
            self.sku.clone(),
            self.location_code.clone(),
            self.qty.clone(),
            self.batch_code.clone(),
            self.expiry_date.clone(),
            self.production_date.clone(),
        ]
    }
}

/// Parses a date typed or scanned into a form (see [`crate::scan::written_date`]; blank for
/// none).
pub fn form_date(
    field: String,
    raw: &str,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    crate::scan::written_date(raw, today)
        .map(Some)
        .ok_or_else(|| AppError::validation(field, tr!(errors.value.date_like)))
}

impl ReceiveForm {
    /// The form as the JSON API's request (blank lines were dropped already), with what its
    /// text gets wrong (a qty or date that does not parse) noted in `problems`.
    #[cfg(feature = "ssr")]
    fn to_input(&self, problems: &mut crate::error::Problems, today: NaiveDate) -> ReceiveInput {
        let lines = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let field = |name: &str| format!("lines[{i}].{name}");
                let mut date = |name: &str, raw: &str| {
                    problems.check(form_date(field(name), raw, today)).flatten()
                };
                let expiry_date = date("expiry_date", &line.expiry_date);
                let production_date = date("production_date", &line.production_date);
                ReceiveLineInput {
                    sku: Some(line.sku.clone()),
                    location_code: Some(line.location_code.clone()),
                    qty: crate::lines::form_qty(problems, i, &line.qty),
                    batch_code: Some(line.batch_code.clone()),
                    expiry_date,
                    production_date,
                    ..ReceiveLineInput::default()
                }
            })
            .collect();
        ReceiveInput {
            r#ref: self.reference.clone(),
            lines,
        }
    }
}

/// Receives the page's form through the same service as `POST /inbound/receive`.
#[server(endpoint = "receive_goods")]
pub async fn receive_goods_form(
    reference: String,
    lines: Vec<ReceiveFormLine>,
) -> Result<Outcome<ReceiveForm, ReceiveResponse>, AppError> {
    let state = crate::state::app_state()?;
    let form = ReceiveForm {
        reference,
        lines: lines.into_iter().filter(|l| !l.is_blank()).collect(),
    };
    // Every bad field of the form is refused at once: what its text gets wrong, then what the
    // request's checks say.
    let mut problems = crate::error::Problems::default();
    let input = form.to_input(&mut problems, state.config.today());
    let actor = crate::auth::access::current_actor();
    let result = problems
        .or_run(
            || crate::inbound::service::Receive::parse(&input),
            <crate::inbound::service::Receive as crate::movement::kind::Kind>::commit(
                &state.db,
                &state.config,
                &input,
                actor.as_deref(),
            ),
        )
        .await;
    let reference = form.reference.clone();
    Ok(crate::ui::finish_form("/inbound", &reference, form, result).await)
}

#[component]
pub fn InboundPage() -> impl IntoView {
    let stored = stored_outcome::<ReceiveForm, ReceiveResponse>("/inbound");
    view! {
        <Title text=tr!(inbound.title)/>
        <h1>{tr!(inbound.title)}</h1>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                let stored = stored.await;
                view! { <ReceiveScanForm stored/> }
            })}
        </Suspense>
    }
}

/// The form as it looks and reads.
static FORM: MovementForm<ReceiveForm, ReceiveResponse> = MovementForm {
    columns: COLUMNS,
    hint: None,
    words: || FormWords {
        ref_label: tr!(inbound.ref_label),
        ref_placeholder: tr!(inbound.ref_placeholder),
        submit: (tr!(inbound.submit), tr!(inbound.submitting)),
        start_over: tr!(inbound.start_over),
    },
    fields: |form| {
        (
            form.reference.clone(),
            form.lines.iter().map(ReceiveFormLine::values).collect(),
        )
    },
    head: None,
    fresh_after_success: true,
    result: |outcome| view! { <ReceiveResult outcome/> }.into_any(),
};

/// The page's live part: the form and its outcome.
#[island]
fn ReceiveScanForm(stored: StoredOutcome<ReceiveForm, ReceiveResponse>) -> impl IntoView {
    let action = form_action::<ReceiveGoodsForm>();
    movement_form(
        &FORM,
        "/inbound".to_string(),
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
fn ReceiveResult(outcome: Outcome<ReceiveForm, ReceiveResponse>) -> impl IntoView {
    let form = outcome.form;
    // Column headings, also each card cell's label at 360 px (worded once per table).
    let heads = [
        tr!(common.line),
        tr!(inbound.col.sku),
        tr!(inbound.col.location),
        tr!(inbound.col.qty),
        tr!(inbound.col.status),
        tr!(inbound.col.after_qty),
        tr!(inbound.col.batches),
    ];
    match outcome.result {
        Err(error) => view! { <section class="result"><ErrorPanel error/></section> }.into_any(),
        Ok(response) => view! {
            <section class="result" aria-labelledby="receive-result">
                <h2 id="receive-result">
                    {tr!(inbound.result_heading, reference = response.r#ref.clone())} " "
                    <StatusBadge status=response.status/>
                </h2>
                <p role="status" class="summary" data-status=response.status.as_str()>{match response.status {
                    LineStatus::Ok => tr!(inbound.summary.ok),
                    LineStatus::Idempotent => tr!(inbound.summary.idempotent),
                    LineStatus::InsufficientStock => tr!(inbound.summary.insufficient_stock),
                }}</p>
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
                                let label = |i: usize| heads[i].clone();
                                view! {
                                    <tr>
                                        <td class="num" data-label=label(0)>{line.ref_line}</td>
                                        <td data-label=label(1)>{sent.sku}</td>
                                        <td data-label=label(2)>{sent.location_code}</td>
                                        <td class="num" data-label=label(3)>{number(line.qty)}</td>
                                        <td data-label=label(4)><StatusBadge status=line.status/></td>
                                        <td class="num" data-label=label(5)>{line.after_qty.map(number)}</td>
                                        <td data-label=label(6)>{batches_text(&line.batches)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        }.into_any(),
    }
}
