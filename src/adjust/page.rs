//! The `/adjust` page (managers): choose why, then per line scan a location and an item, see
//! what is there, enter the change or the quantity counted. The handheld pattern of the movement forms; the
//! same service as `POST /adjust`.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::adjust::{reason_words, AdjustResponse, ReasonCode};
use crate::error::AppError;
use crate::ui::{batches_text, number, stored_outcome, Outcome, StatusBadge};

crate::lines::form_line! {
    /// A line of the adjustment form.
    AdjustFormLine, adjust {
        location_code: Location, location, location_placeholder;
        sku: Item, sku, sku_placeholder;
        batch_code: Text, batch, batch_placeholder;
        delta: Signed, delta, delta_placeholder;
        counted_qty: Count, counted, counted_placeholder;
    }
}

crate::lines::lines_form! {
    /// The adjustment form as the browser posts it: every field text; one reason and note for
    /// all its lines.
    AdjustForm of AdjustFormLine at "/adjust" { reason_code: String, note: String }
}

/// Adjusts the page's lines through the same service as `POST /adjust`.
#[server(endpoint = "adjust_stock")]
pub async fn adjust_stock(
    reference: String,
    reason_code: String,
    note: String,
    lines: Vec<AdjustFormLine>,
) -> Result<Outcome<AdjustForm, AdjustResponse>, AppError> {
    let form = AdjustForm {
        reference,
        reason_code,
        note,
        lines: crate::lines::filled(lines),
    };
    crate::lines::commit_form(form, Default::default()).await
}

crate::lines::form_request! {
    AdjustForm => crate::adjust::service::Adjust, |form, text| crate::adjust::AdjustInput {
        r#ref: form.reference.clone(),
        warehouse_code: crate::warehouses::working(),
        lines: text.each(&form.lines, |text, line| crate::adjust::AdjustLineInput {
            sku: Some(line.sku.clone()),
            location_code: Some(line.location_code.clone()),
            batch_code: crate::lines::given(&line.batch_code),
            delta: text.signed("delta", &line.delta),
            counted_qty: text.signed("counted_qty", &line.counted_qty),
            reason_code: Some(form.reason_code.clone()),
            note: Some(form.note.clone()),
            ..Default::default()
        }),
    }
}

#[component]
pub fn AdjustPage() -> impl IntoView {
    let stored =
        stored_outcome::<AdjustForm, AdjustResponse>(<AdjustForm as crate::lines::LinesForm>::PAGE);
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

// Lazy: its code is its own file, fetched only on its page (with `cargo leptos --split`).
crate::lines::movement_island! {
    #[island(lazy)] AdjustScanForm, AdjustStock, AdjustForm, AdjustResponse, adjust {
        result: |outcome| view! { <AdjustResult outcome/> }.into_any(),
        hint: Some((|| tr!(adjust.col.on_hand), on_hand_hint)),
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
    }
}

/// What a line's stock holds, as its location and sku are filled in.
fn on_hand_hint(values: RwSignal<Vec<String>>) -> AnyView {
    crate::lines::stock_hint(values, 1, 0, |stock| match stock {
        None => String::new(),
        Some(Ok(Some(row))) if row.batches.iter().any(|b| !b.batch_code.is_empty()) => tr!(
            adjust.hint.on_hand_batches,
            qty = number(row.qty),
            batches = batches_text(&row.batches)
        ),
        Some(Ok(Some(row))) => tr!(adjust.hint.on_hand, qty = number(row.qty)),
        Some(Ok(None)) => tr!(adjust.hint.none_here),
        Some(Err(message)) => message,
    })
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
