//! The `/adjust` page (managers): choose why, then per line scan a location and an item, see
//! what is there, enter the change or the quantity counted. The handheld pattern of the movement forms; the
//! same service as `POST /adjust`.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::adjust::{reason_words, AdjustResponse, ReasonCode};
use crate::error::AppError;
use crate::lines::{movement_form, Column, ColumnKind, FormWords, MovementForm};
use crate::movement::{BatchQty, LineStatus};
use crate::ui::{
    batches_text, form_action, number, sent_line, stored_outcome, Outcome, StatusBadge,
    StoredOutcome,
};

/// The adjustment form as the browser posts it: every field text; one reason and note for
/// all its lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdjustForm {
    pub reference: String,
    pub reason_code: String,
    pub note: String,
    pub lines: Vec<AdjustFormLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdjustFormLine {
    pub sku: String,
    pub location_code: String,
    pub batch_code: String,
    pub delta: String,
    pub counted_qty: String,
}

impl AdjustFormLine {
    fn values(&self) -> Vec<String> {
        vec![
            self.location_code.clone(),
            self.sku.clone(),
            self.batch_code.clone(),
            self.delta.clone(),
            self.counted_qty.clone(),
        ]
    }

    #[cfg(feature = "ssr")]
    fn is_blank(&self) -> bool {
        self.values().iter().all(|v| v.trim().is_empty())
    }
}

const COLUMNS: &[Column] = &[
    Column {
        name: "location_code",
        label: || tr!(adjust.col.location),
        kind: ColumnKind::Location,
        placeholder: Some(|| tr!(adjust.location_placeholder)),
    },
    Column {
        name: "sku",
        label: || tr!(adjust.col.sku),
        kind: ColumnKind::Item,
        placeholder: Some(|| tr!(adjust.sku_placeholder)),
    },
    Column {
        name: "batch_code",
        label: || tr!(adjust.col.batch),
        kind: ColumnKind::Text,
        placeholder: Some(|| tr!(adjust.batch_placeholder)),
    },
    Column {
        name: "delta",
        label: || tr!(adjust.col.delta),
        kind: ColumnKind::Signed,
        placeholder: Some(|| tr!(adjust.delta_placeholder)),
    },
    Column {
        name: "counted_qty",
        label: || tr!(adjust.col.counted),
        kind: ColumnKind::Count,
        placeholder: Some(|| tr!(adjust.counted_placeholder)),
    },
];

/// A whole number typed into a form ("−3", "+2", " 5 "), `None` when blank; one that does not
/// parse is noted in `problems` under `field`.
#[cfg(feature = "ssr")]
fn form_integer(problems: &mut crate::error::Problems, field: String, raw: &str) -> Option<i64> {
    let text: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            '−' | '－' => '-',
            '＋' => '+',
            other => other,
        })
        .collect();
    if text.is_empty() {
        return None;
    }
    problems.check(text.parse::<i64>().map_err(|_| {
        AppError::validation(
            field,
            tr!(errors.value.whole_number, max = crate::domain::MAX_QTY),
        )
    }))
}

/// What is on hand of `sku` at `location_code`, and in which batches (`None`: no stock there).
#[server(endpoint = "stock_here")]
pub async fn stock_here(
    sku: String,
    location_code: String,
) -> Result<Option<(i64, Vec<BatchQty>)>, AppError> {
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
        .into_iter()
        .next()
        .map(|row| (row.qty, row.batches)))
}

/// Adjusts the page's lines through the same service as `POST /adjust`.
#[server(endpoint = "adjust_stock")]
pub async fn adjust_stock(
    reference: String,
    reason_code: String,
    note: String,
    lines: Vec<AdjustFormLine>,
) -> Result<Outcome<AdjustForm, AdjustResponse>, AppError> {
    use crate::adjust::{AdjustInput, AdjustLineInput};
    let state = crate::state::app_state()?;
    let form = AdjustForm {
        reference,
        reason_code,
        note,
        lines: lines.into_iter().filter(|l| !l.is_blank()).collect(),
    };
    let mut problems = crate::error::Problems::default();
    let lines = form
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| AdjustLineInput {
            sku: Some(line.sku.clone()),
            location_code: Some(line.location_code.clone()),
            batch_code: Some(line.batch_code.trim().to_string()).filter(|c| !c.is_empty()),
            delta: form_integer(&mut problems, format!("lines[{i}].delta"), &line.delta),
            counted_qty: form_integer(
                &mut problems,
                format!("lines[{i}].counted_qty"),
                &line.counted_qty,
            ),
            reason_code: Some(form.reason_code.clone()),
            note: Some(form.note.clone()),
            ..AdjustLineInput::default()
        })
        .collect();
    let input = AdjustInput {
        r#ref: form.reference.clone(),
        lines,
    };
    let actor = crate::auth::access::current_actor();
    let result = problems
        .or_run(
            || crate::adjust::service::Adjust::parse(&input),
            <crate::adjust::service::Adjust as crate::movement::kind::Kind>::commit(
                &state.db,
                &state.config,
                &input,
                actor.as_deref(),
            ),
        )
        .await;
    let reference = form.reference.clone();
    Ok(crate::ui::finish_form("/adjust", &reference, form, result).await)
}

#[component]
pub fn AdjustPage() -> impl IntoView {
    let stored = stored_outcome::<AdjustForm, AdjustResponse>("/adjust");
    let role = crate::ui::page_role();
    let may_adjust = role.is_some_and(|role| role >= crate::auth::Role::Manager);
    view! {
        <Title text=tr!(adjust.title)/>
        <h1>{tr!(adjust.title)}</h1>
        {if may_adjust {
            view! {
                <p class="lead">{tr!(adjust.lead)}</p>
                <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
                    {move || Suspend::new(async move {
                        let stored = stored.await;
                        view! { <AdjustScanForm stored/> }
                    })}
                </Suspense>
            }
            .into_any()
        } else {
            let role = role.map(crate::auth::role_words).unwrap_or_default();
            view! { <p class="note" role="status">{tr!(adjust.managers_only, role = role)}</p> }
                .into_any()
        }}
    }
}

/// The form as it looks and reads.
static FORM: MovementForm<AdjustForm, AdjustResponse> = MovementForm {
    columns: COLUMNS,
    hint: Some((|| tr!(adjust.col.on_hand), on_hand_hint)),
    words: || FormWords {
        ref_label: tr!(adjust.ref_label),
        ref_placeholder: tr!(adjust.ref_placeholder),
        submit: (tr!(adjust.submit), tr!(adjust.submitting)),
        start_over: tr!(adjust.start_over),
    },
    fields: |form| {
        (
            form.reference.clone(),
            form.lines.iter().map(AdjustFormLine::values).collect(),
        )
    },
    head: Some(|form| {
        let chosen = ReasonCode::from_name(&form.reason_code);
        let note = form.note.clone();
        view! {
            <div>
                <label for="adjust-reason">{tr!(adjust.reason_label)}</label>
                <select id="adjust-reason" name="reason_code">
                    {ReasonCode::ALL.into_iter().map(|code| view! {
                        <option value=code.as_str() selected=chosen == Some(code)>{reason_words(code)}</option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="adjust-note">{tr!(adjust.note_label)}</label>
                <input id="adjust-note" name="note" maxlength="500" autocomplete="off" value=note data-skip=""
                    placeholder=tr!(adjust.note_placeholder)/>
            </div>
        }
        .into_any()
    }),
    fresh_after_success: false,
    result: |outcome| view! { <AdjustResult outcome/> }.into_any(),
};

/// The page's live part: the adjustment form and its outcome.
/// Lazy: its code is its own file, fetched only on its page (with `cargo leptos --split`).
#[island(lazy)]
fn AdjustScanForm(stored: StoredOutcome<AdjustForm, AdjustResponse>) -> impl IntoView {
    let action = form_action::<AdjustStock>();
    movement_form(
        &FORM,
        "/adjust".to_string(),
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

/// What a line's stock holds, as its sku and location are filled in.
fn on_hand_hint(values: RwSignal<Vec<String>>) -> AnyView {
    let answer = RwSignal::new(None::<Result<Option<(i64, Vec<BatchQty>)>, String>>);
    Effect::new(move |_| {
        let values = values.get();
        let column = |i: usize| {
            values
                .get(i)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        let (location, sku) = (column(0), column(1));
        if sku.is_empty() || location.is_empty() {
            answer.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            answer.set(Some(
                stock_here(sku, location)
                    .await
                    .map_err(|error| error.message),
            ));
        });
    });
    let text = move || match answer.get() {
        None => String::new(),
        Some(Ok(Some((qty, batches)))) if batches.iter().any(|b| !b.batch_code.is_empty()) => tr!(
            adjust.hint.on_hand_batches,
            qty = number(qty),
            batches = batches_text(&batches)
        ),
        Some(Ok(Some((qty, _)))) => tr!(adjust.hint.on_hand, qty = number(qty)),
        Some(Ok(None)) => tr!(adjust.hint.none_here),
        Some(Err(message)) => message,
    };
    view! { <span aria-live="polite">{text}</span> }.into_any()
}

#[component]
fn AdjustResult(outcome: Outcome<AdjustForm, AdjustResponse>) -> impl IntoView {
    let form = outcome.form;
    let Ok(response) = outcome.result else {
        return ().into_any();
    };
    let heads = [
        tr!(common.line),
        tr!(adjust.col.sku),
        tr!(adjust.col.location),
        tr!(adjust.col.batch),
        tr!(adjust.col.delta),
        tr!(adjust.col.status),
        tr!(adjust.col.after_qty),
        tr!(adjust.col.batches),
    ];
    let summary = match response.status {
        LineStatus::Ok => tr!(adjust.summary.ok),
        LineStatus::Idempotent => tr!(adjust.summary.idempotent),
        LineStatus::InsufficientStock => tr!(adjust.summary.insufficient_stock),
    };
    view! {
        <section class="result" aria-labelledby="adjust-result">
            <h2 id="adjust-result">
                {tr!(adjust.result_heading, reference = response.r#ref.clone())} " "
                <StatusBadge status=response.status/>
            </h2>
            <p role="status" class="summary" data-status=response.status.as_str()>{summary}</p>
            <div class="table-wrap">
                <table class="cards">
                    <thead><tr>
                        <th class="num">"#"</th><th>{heads[1].clone()}</th><th>{heads[2].clone()}</th>
                        <th>{heads[3].clone()}</th><th class="num">{heads[4].clone()}</th>
                        <th>{heads[5].clone()}</th><th class="num">{heads[6].clone()}</th><th>{heads[7].clone()}</th>
                    </tr></thead>
                    <tbody>
                        {response.lines.into_iter().map(|line| {
                            let sent = sent_line(&form.lines, line.ref_line);
                            let label = |i: usize| heads[i].clone();
                            let change = match line.delta {
                                0 => tr!(adjust.unchanged),
                                d if d > 0 => format!("+{}", number(d)),
                                d => number(d),
                            };
                            view! {
                                <tr>
                                    <td class="num" data-label=label(0)>{line.ref_line}</td>
                                    <td data-label=label(1)>{sent.sku}</td>
                                    <td data-label=label(2)>{sent.location_code}</td>
                                    <td data-label=label(3)>{line.batch_code.unwrap_or_default()}</td>
                                    <td class="num" data-label=label(4) data-delta=line.delta>{change}</td>
                                    <td data-label=label(5)><StatusBadge status=line.status/></td>
                                    <td class="num" data-label=label(6)>{line.after_qty.map(number)}</td>
                                    <td data-label=label(7)>{batches_text(&line.batches)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}
