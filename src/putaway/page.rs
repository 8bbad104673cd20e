//! The `/putaway` page: move lines from one location to another; all or nothing.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::error::AppError;
use crate::putaway::PutawayResponse;
use crate::ui::{batches_text, number, Outcome, StatusBadge};

crate::lines::form_line! {
    /// A line of the putaway form.
    PutawayFormLine, putaway {
        sku: Item, sku, sku_placeholder;
        from_location_code: Location, from, from_placeholder;
        to_location_code: Location, to, to_placeholder;
        qty: Quantity, qty;
        batch_code: Text, batch, batch_placeholder;
    }
}

crate::lines::lines_form! {
    /// The putaway form as the browser posts it.
    PutawayForm of PutawayFormLine at "/putaway" {}
}

/// Puts away the page's form through the same service as `POST /putaway`.
#[server(endpoint = "put_away")]
pub async fn put_away_form(
    reference: String,
    lines: Vec<PutawayFormLine>,
) -> Result<Outcome<PutawayForm, PutawayResponse>, AppError> {
    let form = PutawayForm {
        reference,
        lines: crate::lines::filled(lines),
    };
    // Every bad field of the form is refused at once (see `commit_form`).
    let mut problems = crate::error::Problems::default();
    // The page moves the batch the clerk names: from a source holding more than one batch of
    // the item, a line without one is refused (the API keeps SPEC's FEFO default). Read before
    // the movement's transaction: a batch arriving in between is moved by FEFO, as the API's.
    for (i, line) in form.lines.iter().enumerate() {
        if !line.batch_code.trim().is_empty() {
            continue;
        }
        let here = batches_at_source(line.sku.clone(), line.from_location_code.clone()).await?;
        if here.len() > 1 {
            let mut reason = tr!(
                putaway.choose_batch,
                location = line.from_location_code.trim(),
                count = here.len(),
                batches = crate::ui::batches_text(&here)
            );
            if here.iter().any(|b| b.batch_code.is_empty()) {
                reason.push_str(&tr!(putaway.no_batch_hint, token = NO_BATCH));
            }
            problems.note(AppError::validation(
                format!("lines[{i}].batch_code"),
                reason,
            ));
        }
    }
    crate::lines::commit_form(form, problems).await
}

crate::lines::form_request! {
    PutawayForm => crate::putaway::service::Putaway, |form, text| crate::putaway::PutawayInput {
        r#ref: form.reference.clone(),
        warehouse_code: crate::warehouses::working(),
        lines: text.each(&form.lines, |text, line| crate::putaway::PutawayLineInput {
            sku: Some(line.sku.clone()),
            from_location_code: Some(line.from_location_code.clone()),
            to_location_code: Some(line.to_location_code.clone()),
            qty: text.qty(&line.qty),
            batch_code: match line.batch_code.trim() {
                "" => None,
                NO_BATCH => Some(String::new()),
                code => Some(code.to_string()),
            },
            ..Default::default()
        }),
    }
}

/// What a putaway line's batch says for the goods received without one (whose batch code is
/// empty, as a blank field means "not said").
const NO_BATCH: &str = "-";

/// The batches of an item (by sku or barcode) at a location, with stock: what a putaway from
/// there may move. None when either is blank or unknown (the putaway's own checks say why).
#[server(endpoint = "batches_at_source")]
pub async fn batches_at_source(
    sku: String,
    location_code: String,
) -> Result<Vec<crate::movement::BatchQty>, AppError> {
    use crate::stock::StockFilter;
    let state = crate::state::app_state()?;
    let (sku, location_code) = (sku.trim().to_string(), location_code.trim().to_string());
    if sku.is_empty() || location_code.is_empty() {
        return Ok(Vec::new());
    }
    let today = state.config.today();
    let db = &state.db;
    let ask = |filter: StockFilter| async move {
        crate::stock::service::query_stock(db, &filter, today)
            .await
            .map(|found| found.rows.into_iter().next())
    };
    let by_sku = StockFilter {
        sku: Some(sku.clone()),
        location_code: Some(location_code.clone()),
        warehouse: crate::warehouses::working(),
        limit: Some(1),
        ..StockFilter::default()
    };
    let mut row = ask(by_sku).await.ok().flatten();
    // A barcode or GS1 string scanned where the sku goes: the item it names.
    if row.is_none() && crate::scan::gs1::searched_gtin(&sku, today).is_some() {
        let by_barcode = StockFilter {
            q: Some(sku),
            location_code: Some(location_code),
            warehouse: crate::warehouses::working(),
            limit: Some(1),
            ..StockFilter::default()
        };
        row = ask(by_barcode).await.ok().flatten();
    }
    Ok(row.map(|row| row.batches).unwrap_or_default())
}

/// Under a line, once its item and source are known: the batches there, each a button that
/// fills the line's batch (the one chosen marked); "none of it here" when there is none.
fn source_batches(values: RwSignal<Vec<String>>) -> AnyView {
    const SKU: usize = 0;
    const FROM: usize = 1;
    const BATCH: usize = 4;
    let found = RwSignal::new(None::<Result<Vec<crate::movement::BatchQty>, String>>);
    // Asked again when the item or the source changes, not when a batch is chosen.
    let source = Memo::new(move |_| {
        values.with(|v| {
            let column = |i: usize| v.get(i).map(|t| t.trim().to_string()).unwrap_or_default();
            (column(SKU), column(FROM))
        })
    });
    Effect::new(move |_| {
        let (sku, from) = source.get();
        if sku.is_empty() || from.is_empty() {
            found.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            let answer = batches_at_source(sku.clone(), from.clone()).await;
            // Item or source changed while it was asked (or the line is gone): not this one's.
            if source.try_get_untracked() == Some((sku, from)) {
                found.set(Some(answer.map_err(|e| e.message)));
            }
        });
    });
    let chosen = move || {
        values.with(|v| {
            v.get(BATCH)
                .map(|b| b.trim().to_string())
                .unwrap_or_default()
        })
    };
    let choose = move |ev: leptos::ev::MouseEvent, code: String| {
        values.update(|v| {
            if let Some(slot) = v.get_mut(BATCH) {
                slot.clone_from(&code)
            }
        });
        // The line's own batch field, found from the button in its row.
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let field = event_target::<web_sys::HtmlElement>(&ev)
                .closest("tr")
                .ok()
                .flatten()
                .and_then(|row| {
                    row.query_selector(&format!("input[data-col='{BATCH}']"))
                        .ok()
                        .flatten()
                })
                .and_then(|input| input.dyn_into::<web_sys::HtmlInputElement>().ok());
            if let Some(field) = field {
                field.set_value(&code);
                let _ = field.set_attribute("aria-invalid", "false");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, code);
    };
    let view = move || match found.get() {
        None => ().into_any(),
        Some(Err(message)) => view! { <span class="scan-note bad">{message}</span> }.into_any(),
        Some(Ok(batches)) if batches.is_empty() => {
            view! { <span class="scan-note bad">{tr!(putaway.source.here_none)}</span> }.into_any()
        }
        Some(Ok(batches)) if batches.len() == 1 => {
            view! { <span class="scan-note">{crate::ui::batches_text(&batches)}</span> }.into_any()
        }
        Some(Ok(batches)) => {
            let count = batches.len();
            view! {
                <span class="scan-note" data-choose-batch=count>{move || {
                    let now = chosen();
                    if now.is_empty() {
                        tr!(putaway.source.choose, count = count)
                    } else {
                        tr!(putaway.source.chosen, batch = now)
                    }
                }}</span>
                <span class="batch-choice" role="group" aria-label=tr!(putaway.source.here)>
                    {batches.into_iter().map(|batch| {
                        let code = if batch.batch_code.is_empty() { NO_BATCH.to_string() } else { batch.batch_code.clone() };
                        let pressed = {
                            let code = code.clone();
                            move || (chosen() == code).to_string()
                        };
                        let words = crate::ui::batches_text(std::slice::from_ref(&batch));
                        view! {
                            <button type="button" class="secondary chip" data-batch=code.clone() aria-pressed=pressed
                                on:click=move |ev| choose(ev, code.clone())>{words}</button>
                        }
                    }).collect_view()}
                </span>
            }.into_any()
        }
    };
    view! { <span class="source-batches" aria-live="polite">{view}</span> }.into_any()
}

crate::lines::movement_page! {
    PutawayPage, putaway + lead, PutawayScanForm, PutawayForm, PutawayResponse
}

crate::lines::movement_island! {
    #[island] PutawayScanForm, PutAwayForm, PutawayForm, PutawayResponse, putaway {
        result: |outcome| view! { <PutawayResult outcome/> }.into_any(),
        hint: Some((|| tr!(putaway.source.here), source_batches)),
    }
}

#[component]
fn PutawayResult(outcome: Outcome<PutawayForm, PutawayResponse>) -> impl IntoView {
    crate::lines::movement_result!(
        outcome, putaway, "putaway-result",
        [sku, from, to, qty: num, status, from_after: num, to_after: num, batches],
        |sent: PutawayFormLine, line: crate::putaway::PutawayLineResult| vec![
            sent.sku.into_any(),
            sent.from_location_code.into_any(),
            sent.to_location_code.into_any(),
            number(line.qty).into_any(),
            view! { <StatusBadge status=line.status/> }.into_any(),
            number(line.from_after_qty).into_any(),
            number(line.to_after_qty).into_any(),
            batches_text(&line.batches).into_any(),
        ]
    )
}
