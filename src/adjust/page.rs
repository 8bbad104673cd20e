//! The `/adjust` page (managers): choose why, then per line scan a location and an item, see
//! what is there, enter the change or the quantity counted. The handheld pattern of the movement forms; the
//! same service as `POST /adjust`.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::adjust::{reason_words, AdjustResponse, ReasonCode};
use crate::error::AppError;
use crate::lines::{Column, ColumnKind, MovementForm};
use crate::movement::BatchQty;
use crate::ui::{batches_text, number, stored_outcome, Outcome, StatusBadge};

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

/// Adjusts the page's lines through the same service as `POST /adjust`.
#[server(endpoint = "adjust_stock")]
pub async fn adjust_stock(
    reference: String,
    reason_code: String,
    note: String,
    lines: Vec<AdjustFormLine>,
) -> Result<Outcome<AdjustForm, AdjustResponse>, AppError> {
    use crate::adjust::{AdjustInput, AdjustLineInput};
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
    let reference = form.reference.clone();
    crate::lines::commit_form::<crate::adjust::service::Adjust, _>(
        "/adjust", form, &reference, &input, problems,
    )
    .await
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
    words: crate::lines::form_words!(adjust),
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

// Lazy: its code is its own file, fetched only on its page (with `cargo leptos --split`).
crate::lines::movement_island! {
    #[island(lazy)] AdjustScanForm, AdjustStock, FORM, "/adjust", AdjustForm, AdjustResponse
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
                crate::lines::stock_at(sku, location)
                    .await
                    .map(|row| row.map(|row| (row.qty, row.batches)))
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
    // A refusal shows beside the form (see the page's head), not as a result.
    if outcome.result.is_err() {
        return ().into_any();
    }
    crate::lines::movement_result!(
        outcome, adjust, "adjust-result",
        [sku, location, batch, delta: num, status, after_qty: num, batches],
        |sent: AdjustFormLine, line: crate::adjust::AdjustLineResult| {
            let change = match line.delta {
                0 => tr!(adjust.unchanged),
                d if d > 0 => format!("+{}", number(d)),
                d => number(d),
            };
            vec![
                sent.sku.into_any(),
                sent.location_code.into_any(),
                line.batch_code.unwrap_or_default().into_any(),
                view! { <span data-delta=line.delta>{change}</span> }.into_any(),
                view! { <StatusBadge status=line.status/> }.into_any(),
                line.after_qty.map(number).into_any(),
                batches_text(&line.batches).into_any(),
            ]
        }
    )
}
