//! The `/putaway` page: move lines from one location to another; all or nothing.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::lines::{movement_form, Column, ColumnKind, FormWords, MovementForm};
use crate::movement::LineStatus;
use crate::putaway::PutawayResponse;
use crate::ui::{
    batches_text, form_action, number, sent_line, stored_outcome, ErrorPanel, Outcome, StatusBadge,
    StoredOutcome,
};

/// The putaway form as the browser posts it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PutawayForm {
    pub reference: String,
    pub lines: Vec<PutawayFormLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PutawayFormLine {
    pub sku: String,
    pub from_location_code: String,
    pub to_location_code: String,
    pub qty: String,
    pub batch_code: String,
}

const COLUMNS: &[Column] = &[
    Column {
        name: "sku",
        label: || tr!(putaway.col.sku),
        kind: ColumnKind::Item,
        placeholder: Some(|| tr!(putaway.sku_placeholder)),
    },
    Column {
        name: "from_location_code",
        label: || tr!(putaway.col.from),
        kind: ColumnKind::Location,
        placeholder: Some(|| tr!(putaway.from_placeholder)),
    },
    Column {
        name: "to_location_code",
        label: || tr!(putaway.col.to),
        kind: ColumnKind::Location,
        placeholder: Some(|| tr!(putaway.to_placeholder)),
    },
    Column {
        name: "qty",
        label: || tr!(putaway.col.qty),
        kind: ColumnKind::Quantity,
        placeholder: None,
    },
    Column {
        name: "batch_code",
        label: || tr!(putaway.col.batch),
        kind: ColumnKind::Text,
        placeholder: Some(|| tr!(putaway.batch_placeholder)),
    },
];

impl PutawayFormLine {
    fn values(&self) -> Vec<String> {
        vec![
            self.sku.clone(),
            self.from_location_code.clone(),
            self.to_location_code.clone(),
            self.qty.clone(),
            self.batch_code.clone(),
        ]
    }
}

/// Puts away the page's form through the same service as `POST /putaway`.
#[server(endpoint = "put_away")]
pub async fn put_away_form(
    reference: String,
    lines: Vec<PutawayFormLine>,
) -> Result<Outcome<PutawayForm, PutawayResponse>, AppError> {
    use crate::putaway::{PutawayInput, PutawayLineInput};
    let state = crate::state::app_state()?;
    let form = PutawayForm {
        reference,
        lines: lines
            .into_iter()
            .filter(|l| l.values().iter().any(|v| !v.trim().is_empty()))
            .collect(),
    };
    // Every bad field of the form is refused at once (see the ship page).
    let mut problems = crate::error::Problems::default();
    let lines = form
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| PutawayLineInput {
            sku: Some(line.sku.clone()),
            from_location_code: Some(line.from_location_code.clone()),
            to_location_code: Some(line.to_location_code.clone()),
            qty: crate::inbound::page::form_qty(&mut problems, i, &line.qty),
            batch_code: Some(line.batch_code.trim().to_string()).filter(|c| !c.is_empty()),
            ..PutawayLineInput::default()
        })
        .collect();
    let input = PutawayInput {
        r#ref: form.reference.clone(),
        lines,
    };
    let actor = crate::auth::access::current_actor();
    let result = problems
        .or_run(
            || crate::putaway::service::Putaway::parse(&input),
            crate::putaway::service::put_away(&state.db, &state.config, &input, actor.as_deref()),
        )
        .await;
    let reference = form.reference.clone();
    Ok(crate::ui::finish_form("/putaway", &reference, form, result).await)
}

#[component]
pub fn PutawayPage() -> impl IntoView {
    let stored = stored_outcome::<PutawayForm, PutawayResponse>("/putaway");
    view! {
        <Title text=tr!(putaway.title)/>
        <h1>{tr!(putaway.title)}</h1>
        <p class="lead">{tr!(putaway.lead)}</p>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                let stored = stored.await;
                view! { <PutawayScanForm stored/> }
            })}
        </Suspense>
    }
}

/// The form as it looks and reads.
static FORM: MovementForm<PutawayForm, PutawayResponse> = MovementForm {
    columns: COLUMNS,
    hint: None,
    words: || FormWords {
        ref_label: tr!(putaway.ref_label),
        ref_placeholder: tr!(putaway.ref_placeholder),
        submit: (tr!(putaway.submit), tr!(putaway.submitting)),
        start_over: tr!(putaway.start_over),
    },
    fields: |form| {
        (
            form.reference.clone(),
            form.lines.iter().map(PutawayFormLine::values).collect(),
        )
    },
    head: None,
    fresh_after_success: true,
    result: |outcome| view! { <PutawayResult outcome/> }.into_any(),
};

/// The page's live part: the form and its outcome.
#[island]
fn PutawayScanForm(stored: StoredOutcome<PutawayForm, PutawayResponse>) -> impl IntoView {
    let action = form_action::<PutAwayForm>();
    movement_form(
        &FORM,
        "/putaway".to_string(),
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
fn PutawayResult(outcome: Outcome<PutawayForm, PutawayResponse>) -> impl IntoView {
    let form = outcome.form;
    // Column headings, also each card cell's label at 360 px (worded once per table).
    let heads = [
        tr!(common.line),
        tr!(putaway.col.sku),
        tr!(putaway.col.from),
        tr!(putaway.col.to),
        tr!(putaway.col.qty),
        tr!(putaway.col.status),
        tr!(putaway.col.from_after),
        tr!(putaway.col.to_after),
        tr!(putaway.col.batches),
    ];
    match outcome.result {
        Err(error) => view! { <section class="result"><ErrorPanel error/></section> }.into_any(),
        Ok(response) => view! {
            <section class="result" aria-labelledby="putaway-result">
                <h2 id="putaway-result">
                    {tr!(putaway.result_heading, reference = response.r#ref.clone())} " "
                    <StatusBadge status=response.status/>
                </h2>
                <p role="status" class="summary" data-status=response.status.as_str()>{match response.status {
                    LineStatus::Ok => tr!(putaway.summary.ok),
                    LineStatus::Idempotent => tr!(putaway.summary.idempotent),
                    LineStatus::InsufficientStock => tr!(putaway.summary.insufficient_stock),
                }}</p>
                <div class="table-wrap">
                    <table class="cards">
                        <thead><tr>
                            <th class="num">"#"</th><th>{heads[1].clone()}</th><th>{heads[2].clone()}</th>
                            <th>{heads[3].clone()}</th><th class="num">{heads[4].clone()}</th><th>{heads[5].clone()}</th>
                            <th class="num">{heads[6].clone()}</th><th class="num">{heads[7].clone()}</th>
                            <th>{heads[8].clone()}</th>
                        </tr></thead>
                        <tbody>
                            {response.lines.into_iter().map(|line| {
                                let sent = sent_line(&form.lines, line.ref_line);
                                let label = |i: usize| heads[i].clone();
                                view! {
                                    <tr>
                                        <td class="num" data-label=label(0)>{line.ref_line}</td>
                                        <td data-label=label(1)>{sent.sku}</td>
                                        <td data-label=label(2)>{sent.from_location_code}</td>
                                        <td data-label=label(3)>{sent.to_location_code}</td>
                                        <td class="num" data-label=label(4)>{number(line.qty)}</td>
                                        <td data-label=label(5)><StatusBadge status=line.status/></td>
                                        <td class="num" data-label=label(6)>{number(line.from_after_qty)}</td>
                                        <td class="num" data-label=label(7)>{number(line.to_after_qty)}</td>
                                        <td data-label=label(8)>{batches_text(&line.batches)}</td>
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
