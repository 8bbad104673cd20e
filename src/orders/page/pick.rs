//! `/orders/{ref}/pick`: the handheld pick screen.

use super::*;

/// Order `reference`'s pick list, in walk order.
#[server(endpoint = "pick_list")]
pub async fn order_pick_list(reference: String) -> Result<PickList, AppError> {
    let state = crate::state::app_state()?;
    crate::orders::service::picklist(&state.db, &reference).await
}

/// A pick confirmation as posted: the place the screen asked for (hidden), and what the clerk
/// scanned and counted there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PickForm {
    pub reference: String,
    pub expect_location: String,
    pub expect_sku: String,
    pub expect_batch: String,
    pub location: String,
    pub item: String,
    pub qty: String,
}

/// Confirms a pick at the place the screen asked for, once the scans match it: the location
/// scanned must be that location, the item scanned that item (its sku or barcode) or that batch.
/// Answers the pick list as it is now.
#[server(endpoint = "confirm_pick")]
pub async fn confirm_pick(
    reference: String,
    expect_location: String,
    expect_sku: String,
    expect_batch: String,
    location: String,
    item: String,
    qty: String,
) -> Result<Outcome<PickForm, PickList>, AppError> {
    let state = crate::state::app_state()?;
    let form = PickForm {
        reference,
        expect_location,
        expect_sku,
        expect_batch,
        location,
        item,
        qty,
    };
    let page = order_href(&form.reference, "/pick");
    let result = async {
        let mut problems = crate::error::Problems::default();
        for (field, value) in [("location", &form.location), ("item", &form.item)] {
            if value.trim().is_empty() {
                problems.note(AppError::validation(field, tr!(errors.value.required)));
            }
        }
        if !form.location.trim().is_empty() && !same(&form.location, &form.expect_location) {
            problems.note(AppError::validation(
                "location",
                tr!(
                    orders.pick_screen.wrong_location,
                    scanned = form.location.trim(),
                    code = &form.expect_location
                ),
            ));
        }
        let item = form.item.trim();
        let item_matches = same(item, &form.expect_sku)
            || (!form.expect_batch.is_empty() && same(item, &form.expect_batch))
            || crate::scan::service::item_by_code(&state.db, item)
                .await?
                .is_some_and(|found| found.sku == form.expect_sku);
        if !item.is_empty() && !item_matches {
            problems.note(AppError::validation(
                "item",
                tr!(
                    orders.pick_screen.wrong_item,
                    scanned = item,
                    sku = &form.expect_sku
                ),
            ));
        }
        let qty = match form.qty.trim().parse::<i64>() {
            Ok(qty) => qty,
            Err(_) => {
                problems.note(AppError::validation(
                    "qty",
                    tr!(errors.order.pick_qty, max = crate::domain::MAX_QTY),
                ));
                0
            }
        };
        problems.finish()?;
        let input = crate::orders::PickInput {
            lines: vec![crate::orders::PickLineInput {
                location_code: form.expect_location.clone(),
                sku: Some(form.expect_sku.clone()),
                batch_code: Some(form.expect_batch.clone()).filter(|b| !b.is_empty()),
                qty,
                ..Default::default()
            }],
        };
        crate::orders::service::pick(&state.db, &state.config, &form.reference, &input)
            .await
            .map_err(|error| {
                error
                    .renamed_fields("lines[0].", "")
                    .renamed_fields("lines[0]", "item")
            })?;
        crate::orders::service::picklist(&state.db, &form.reference).await
    }
    .await;
    Ok(crate::ui::finish_form(&page, PICK, form, result).await)
}

/// The name the pick form's outcome is kept under.
pub(super) const PICK: &str = "pick";

/// Whether a scan names `expected`: the same text, trimmed, in any case.
pub(super) fn same(scanned: &str, expected: &str) -> bool {
    let scanned = scanned.trim();
    !scanned.is_empty() && scanned.eq_ignore_ascii_case(expected.trim())
}

#[component]
pub fn PickPage() -> impl IntoView {
    let reference = reference_param();
    let page = order_href(&reference, "/pick");
    let list = Resource::new(
        {
            let reference = reference.clone();
            move || reference.clone()
        },
        order_pick_list,
    );
    let stored = stored_outcome_of::<PickForm, PickList>(page, Some(PICK));
    let may_pick = crate::ui::page_role().is_some_and(|r| r >= Role::Clerk);
    let title = tr!(orders.pick_title, reference = reference.clone());
    view! {
        <Title text=title.clone()/>
        <h1>{title.clone()}</h1>
        <p class="muted"><a href=order_href(&reference, "")>{tr!(orders.back_to_order)}</a></p>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                let list = match list.await {
                    Ok(list) => list,
                    Err(error) => {
                        crate::ui::not_found_status(&error);
                        return view! { <ErrorPanel error/> }.into_any();
                    }
                };
                let stored = stored.await;
                if !list.status.open() {
                    return view! {
                        <p class="note" role="status">{tr!(orders.pick_screen.closed)} " " <StatusBadge status=list.status/></p>
                    }.into_any();
                }
                if !may_pick {
                    return view! {
                        <p class="note">{tr!(orders.pick_screen.viewer_note)}</p>
                        <PickRows rows=list.rows current=None/>
                    }.into_any();
                }
                view! { <PickScreen list stored/> }.into_any()
            })}
        </Suspense>
    }
}

/// The row to pick next: the first in walk order not yet confirmed.
pub(super) fn next_row(rows: &[PickRow]) -> Option<usize> {
    rows.iter().position(|r| r.picked < r.qty)
}

/// The live pick screen: the next place, its scans and quantity, and the walk below.
/// Lazy: its code is its own file, fetched only on its page (with `cargo leptos --split`).
#[island(lazy)]
pub(super) fn PickScreen(
    list: PickList,
    stored: StoredOutcome<PickForm, PickList>,
) -> impl IntoView {
    crate::ui::island_live();
    let action = form_action::<ConfirmPick>();
    let reference = StoredValue::new(list.r#ref.clone());
    let initial = match &stored {
        StoredOutcome::Found(Outcome {
            result: Ok(list), ..
        }) => list.rows.clone(),
        _ => list.rows.clone(),
    };
    let refused = match &stored {
        StoredOutcome::Found(Outcome {
            form,
            result: Err(error),
        }) => Some((form.clone(), error.clone())),
        _ => None,
    };
    let rows = RwSignal::new(initial);
    // A wrong scan found before sending (with JavaScript): what to say, under which field.
    let (note, set_note) = signal(None::<(&'static str, String)>);
    Effect::new(move |_| {
        if let Some(Ok(Outcome {
            result: Ok(list), ..
        })) = action.value().get()
        {
            rows.set(list.rows);
            set_note.set(None);
            focus("pick-location");
        } else if let Some(Ok(Outcome { result: Err(_), .. })) = action.value().get() {
            crate::lines::buzz();
        }
    });
    let current = Memo::new(move |_| rows.with(|rows| next_row(rows).map(|i| rows[i].clone())));
    // The scans start empty and the quantity proposed (a refused form's, as sent). Rendered as
    // the inputs' values too, so a page without JavaScript shows them.
    let proposed = rows.with_untracked(|rows| next_row(rows).map(|i| rows[i].qty.to_string()));
    let (location, set_location) = signal(String::new());
    let (item, set_item) = signal(String::new());
    let (qty, set_qty) = signal(proposed.unwrap_or_default());
    // A new row to pick: fresh scans, its quantity proposed (not when the screen comes alive:
    // what is in the fields then stays).
    Effect::new(move |first: Option<()>| {
        if let (Some(_), Some(row)) = (first, current.get()) {
            set_location.set(String::new());
            set_item.set(String::new());
            set_qty.set(row.qty.to_string());
        }
    });
    if let Some((form, _)) = &refused {
        set_location.set(form.location.clone());
        set_item.set(form.item.clone());
        set_qty.set(form.qty.clone());
    }
    // Scans typed before the screen came alive (the shell's script moved Enter on) are kept,
    // not wiped by the fields' values, and checked now as their Enter would have been.
    for (id, set) in [
        ("pick-location", set_location),
        ("pick-item", set_item),
        ("pick-qty", set_qty),
    ] {
        if let Some(typed) = typed_before_live(id) {
            set.set(typed);
        }
    }
    let refused = StoredValue::new(refused);
    let wrong = move |field: &'static str, text: String| {
        crate::lines::buzz();
        set_note.set(Some((field, text)));
    };
    // Whether the location scanned is the row's; a wrong one is said, and keeps the cursor.
    let location_is_right = move |row: &PickRow| {
        let scanned = location.get_untracked();
        let right = same(&scanned, &row.location_code);
        if !right {
            wrong(
                "location",
                tr!(
                    orders.pick_screen.wrong_location,
                    scanned = scanned.trim(),
                    code = &row.location_code
                ),
            );
            select("pick-location");
        }
        right
    };
    let on_location = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Enter" {
            return;
        }
        ev.prevent_default();
        let Some(row) = current.get_untracked() else {
            return;
        };
        if location_is_right(&row) {
            set_note.set(None);
            focus("pick-item");
        }
    };
    let on_item = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Enter" {
            return;
        }
        ev.prevent_default();
        let Some(row) = current.get_untracked() else {
            return;
        };
        let scanned = item.get_untracked();
        let scanned = scanned.trim();
        let matches = same(scanned, &row.sku)
            || (!row.batch_code.is_empty() && same(scanned, &row.batch_code))
            || row.barcode.as_deref().is_some_and(|b| same(scanned, b));
        if matches {
            set_note.set(None);
            select("pick-qty");
        } else {
            wrong(
                "item",
                tr!(
                    orders.pick_screen.wrong_item,
                    scanned = scanned,
                    sku = &row.sku
                ),
            );
            select("pick-item");
        }
    };
    Effect::new(move |_| {
        let Some(row) = current.get_untracked() else {
            return;
        };
        // Still in the field: the scan may be half typed; its Enter checks it.
        if !has_focus("pick-location") && !location.get_untracked().trim().is_empty() {
            location_is_right(&row);
        }
    });
    let error_of = move |field: &'static str| {
        let from_note = note
            .get()
            .filter(|(f, _)| *f == field)
            .map(|(_, text)| text);
        from_note.or_else(|| {
            let error = match action.value().get() {
                Some(Ok(Outcome {
                    result: Err(error), ..
                })) => Some(error),
                Some(Err(error)) => Some(error),
                Some(Ok(_)) => None,
                None => refused.with_value(|r| r.as_ref().map(|(_, error)| error.clone())),
            }?;
            error
                .field_reasons()
                .into_iter()
                .find(|(f, _)| f == field)
                .map(|(_, reason)| reason)
        })
    };
    let general = move || match action.value().get() {
        Some(Ok(Outcome {
            result: Err(error), ..
        }))
        | Some(Err(error))
            if error.field_reasons().is_empty() =>
        {
            Some(error)
        }
        _ => None,
    };
    view! {
        {move || general().map(|error| view! { <section class="result refusal"><ErrorPanel error/></section> })}
        {move || match current.get() {
            None => view! {
                <section class="card pick-done" role="status">
                    <p class="big">{tr!(orders.pick_screen.done)}</p>
                    <a class="button" href=reference.with_value(|r| order_href(r, ""))>{tr!(orders.pick_screen.to_order)}</a>
                </section>
            }.into_any(),
            Some(row) => {
                let batch = (!row.batch_code.is_empty()).then(|| row.batch_code.clone());
                view! {
                    <section class="card pick-next" aria-labelledby="pick-go">
                        <p class="muted">{tr!(orders.pick_screen.go_to)}</p>
                        <p id="pick-go" class="pick-location" data-location=row.location_code.clone()>{row.location_code.clone()}</p>
                        <p class="pick-item"><strong>{row.sku.clone()}</strong> " " {row.name.clone()}</p>
                        <p class="muted">
                            {batch.clone().map(|b| tr!(orders.pick_screen.batch, batch = b))}
                            {row.expiry_date.map(|d| format!(" · {}", tr!(orders.pick_screen.expiry, date = d.to_string())))}
                        </p>
                        <p class="pick-qty">{tr!(orders.pick_screen.take, qty = number(row.qty))}</p>
                        <ActionForm action=action attr:novalidate=true attr:data-scan=true attr:class="pick-form">
                            <input type="hidden" name="reference" value=reference.get_value()/>
                            <input type="hidden" name="expect_location" value=row.location_code.clone()/>
                            <input type="hidden" name="expect_sku" value=row.sku.clone()/>
                            <input type="hidden" name="expect_batch" value=row.batch_code.clone()/>
                            <div class="form-grid">
                                <div>
                                    <label for="pick-location">{tr!(orders.pick_screen.scan_location)}</label>
                                    <input id="pick-location" name="location" autocomplete="off" autofocus
                                        value=location prop:value=location on:input=move |ev| set_location.set(event_target_value(&ev))
                                        on:keydown=on_location aria-invalid=move || error_of("location").is_some().to_string()/>
                                    {move || error_of("location").map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                                </div>
                                <div>
                                    <label for="pick-item">{tr!(orders.pick_screen.scan_item)}</label>
                                    <input id="pick-item" name="item" autocomplete="off"
                                        value=item prop:value=item on:input=move |ev| set_item.set(event_target_value(&ev))
                                        on:keydown=on_item aria-invalid=move || error_of("item").is_some().to_string()/>
                                    {move || error_of("item").map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                                </div>
                                <div>
                                    <label for="pick-qty">{tr!(orders.pick_screen.qty)}</label>
                                    <input id="pick-qty" name="qty" inputmode="numeric" autocomplete="off"
                                        value=qty prop:value=qty on:input=move |ev| set_qty.set(event_target_value(&ev))
                                        aria-invalid=move || error_of("qty").is_some().to_string()/>
                                    {move || error_of("qty").map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
                                </div>
                            </div>
                            <p class="muted">{tr!(orders.pick_screen.short_hint)}</p>
                            <div class="form-actions">
                                <button type="submit" disabled=move || action.pending().get()>{tr!(orders.pick_screen.confirm)}</button>
                            </div>
                        </ActionForm>
                    </section>
                }.into_any()
            }
        }}
        {move || view! { <PickRows rows=rows.get() current=rows.with(|r| next_row(r))/> }}
    }
}

/// The walk: every place to pick from, in order, with what is done.
#[component]
pub(super) fn PickRows(rows: Vec<PickRow>, current: Option<usize>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">{tr!(orders.pick_screen.nothing)}</p> }.into_any();
    }
    let heads = [
        tr!(orders.col.location),
        tr!(orders.col.sku),
        tr!(orders.col.batch),
        tr!(orders.col.to_pick),
        tr!(orders.col.picked),
    ];
    let columns: Vec<(String, bool)> = heads.iter().map(|head| (head.clone(), false)).collect();
    let rows = view! {
                        {rows.into_iter().enumerate().map(|(i, row)| {
                            let label = |n: usize| heads[n].clone();
                            let done = row.picked >= row.qty;
                            let class = if done { "done" } else if Some(i) == current { "current" } else { "" };
                            let batch = match (row.batch_code.is_empty(), row.expiry_date) {
                                (true, _) => String::new(),
                                (false, Some(d)) => format!("{} ({d})", row.batch_code),
                                (false, None) => row.batch_code.clone(),
                            };
                            view! {
                                <tr class=class data-location=row.location_code.clone() data-sku=row.sku.clone() data-done=done.to_string()>
                                    <td data-label=label(0)>{row.location_code.clone()}</td>
                                    <td data-label=label(1)>{row.sku.clone()} " " <span class="muted">{row.name.clone()}</span></td>
                                    <td data-label=label(2)>{batch}</td>
                                    <td class="num" data-label=label(3)>{number(row.qty)}</td>
                                    <td class="num" data-label=label(4)>{if done { format!("✓ {}", number(row.picked)) } else { number(row.picked) }}</td>
                                </tr>
                            }
                        }).collect_view()}
    };
    crate::ui::cards_section(
        "pick-walk",
        tr!(orders.pick_screen.walk),
        None,
        "pick-rows",
        &columns,
        rows.into_any(),
    )
}

/// Input `id` of the page (in the browser).
#[cfg(feature = "hydrate")]
pub(super) fn input_by_id(id: &str) -> Option<web_sys::HtmlInputElement> {
    use wasm_bindgen::JsCast;
    document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
}

/// Moves the focus to input `id` (in the browser).
#[allow(unused_variables)]
pub(super) fn focus(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(input) = input_by_id(id) {
        let _ = input.focus();
    }
}

/// Whether element `id` has the cursor (never on the server).
#[allow(unused_variables)]
pub(super) fn has_focus(id: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        document().active_element().is_some_and(|e| e.id() == id)
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// What input `id` holds as an island comes alive, when it is not what it was rendered with:
/// typed before the island was live (none on the server).
#[allow(unused_variables)]
pub(super) fn typed_before_live(id: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        input_by_id(id)
            .map(|input| (input.value(), input.default_value()))
            .filter(|(value, rendered)| !value.is_empty() && value != rendered)
            .map(|(value, _)| value)
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Selects input `id`'s text (so the next scan replaces it).
#[allow(unused_variables)]
pub(super) fn select(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(input) = input_by_id(id) {
        let _ = input.focus();
        input.select();
    }
}
