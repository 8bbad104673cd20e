//! The return pages: `/returns` (the returns, and goods taken back by a clerk) and
//! `/returns/{ref}` (what came back of each lot, where and why, and for a manager what becomes
//! of it). Same services as the JSON endpoints; complete without JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::error::AppError;
use crate::returns::{Return, ReturnList, ReturnReason, ReturnStatus};
use crate::ui::{
    form_action, number, query_href, stored_outcome_of, urlencode, ErrorPanel, Outcome, Pager,
};

/// The take-back form as posted: a ref, optionally the order, one line per row ("sku qty
/// [batch]"), and why they came back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TakeBackInput {
    pub reference: String,
    pub order_ref: String,
    pub lines: String,
    pub reason_code: String,
    pub note: String,
}

/// A disposition as posted from a lot's row: how many **more** to restock (where) or scrap;
/// `before` is what the lot had disposed of when the page was shown, so a form sent twice
/// moves nothing twice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DisposeInput {
    pub reference: String,
    pub sku: String,
    pub batch_code: String,
    pub action: String,
    pub qty: String,
    pub location_code: String,
    pub before: String,
}

/// The name the take-back form's outcome is kept under.
const NEW: &str = "new";
/// The name the disposition forms' outcomes are kept under.
const DISPOSE: &str = "dispose";
#[cfg(feature = "ssr")]
const PER_PAGE: i64 = 50;

/// The address of return `reference`'s page.
pub fn return_href(reference: &str) -> String {
    format!("/returns/{}", urlencode(reference))
}

/// The take-back form's rows: a sku, a quantity and optionally a batch, apart by spaces, a tab
/// or a comma (as a scanner and a keypad give them).
#[cfg(feature = "ssr")]
fn parse_rows(
    text: &str,
    reason_code: &str,
    note: &str,
) -> Result<Vec<crate::returns::ReturnLineInput>, AppError> {
    let mut problems = crate::error::Problems::default();
    let mut lines = Vec::new();
    for (i, row) in text.lines().filter(|r| !r.trim().is_empty()).enumerate() {
        let parts = crate::ui::row_fields(row);
        let qty = parts.get(1).and_then(|q| q.parse::<i64>().ok());
        match (parts.first(), qty, parts.len()) {
            (Some(sku), Some(qty), 2 | 3) => lines.push(crate::returns::ReturnLineInput {
                sku: Some((*sku).to_string()),
                qty,
                batch_code: parts.get(2).map(|b| (*b).to_string()),
                reason_code: Some(reason_code.to_string()),
                note: Some(note.to_string()),
                ..Default::default()
            }),
            _ => problems.note(AppError::validation(
                "lines",
                tr!(returns.form.bad_row, row = i + 1, text = row.trim()),
            )),
        }
    }
    problems.finish()?;
    Ok(lines)
}

/// Takes goods back into quarantine (in the device's working warehouse, else the order's or
/// the only one) and goes to the return; a refusal comes back to `/returns`.
#[server(endpoint = "take_back")]
pub async fn take_back_form(
    reference: String,
    order_ref: String,
    lines: String,
    reason_code: String,
    note: String,
) -> Result<Outcome<TakeBackInput, String>, AppError> {
    let state = crate::state::app_state()?;
    let form = TakeBackInput {
        reference,
        order_ref,
        lines,
        reason_code,
        note,
    };
    let actor = crate::auth::access::current_actor();
    let result = match parse_rows(&form.lines, &form.reason_code, &form.note) {
        Ok(lines) => {
            let input = crate::returns::NewReturn {
                r#ref: form.reference.clone(),
                order_ref: Some(form.order_ref.clone()),
                warehouse_code: crate::warehouses::working(),
                lines,
            };
            crate::returns::service::receive(&state.db, &state.config, &input, actor.as_deref())
                .await
                .map(|answer| answer.r#return.r#ref)
        }
        Err(error) => Err(error),
    };
    if let Ok(reference) = &result {
        leptos_axum::redirect(&return_href(reference));
        return Ok(Outcome { form, result });
    }
    Ok(crate::ui::finish_form("/returns", NEW, form, result).await)
}

/// One page of the returns, optionally of one status.
#[server(endpoint = "list_returns")]
pub async fn returns_page(page: i64, status: String) -> Result<ReturnList, AppError> {
    let state = crate::state::app_state()?;
    let filter = crate::returns::ReturnFilter {
        status: Some(status),
        offset: Some(crate::ui::page_offset(page, PER_PAGE)),
        limit: Some(PER_PAGE),
        ..Default::default()
    };
    crate::scope::for_page(crate::returns::service::list_returns(&state.db, &filter)).await
}

/// Return `reference`.
#[server(endpoint = "return_detail")]
pub async fn return_detail(reference: String) -> Result<Return, AppError> {
    let state = crate::state::app_state()?;
    crate::returns::service::get_return(&state.db, &reference).await
}

/// Restocks or scraps `qty` more of a lot (managers), then shows the return.
#[server(endpoint = "dispose_lot")]
pub async fn dispose_lot_form(
    reference: String,
    sku: String,
    batch_code: String,
    action: String,
    qty: String,
    location_code: String,
    before: String,
) -> Result<Outcome<DisposeInput, ()>, AppError> {
    let state = crate::state::app_state()?;
    let form = DisposeInput {
        reference,
        sku,
        batch_code,
        action,
        qty,
        location_code,
        before,
    };
    let actor = crate::auth::access::current_actor();
    let result = dispose_more(&state, &form, actor.as_deref()).await;
    let page = return_href(&form.reference);
    if result.is_ok() {
        leptos_axum::redirect(&page);
        return Ok(Outcome { form, result });
    }
    Ok(crate::ui::finish_form(&page, DISPOSE, form, result).await)
}

/// A lot's row's disposition: what the form adds, provided the return is as the page showed
/// it (`before`: else the form was sent again, or someone disposed meanwhile — 409, nothing
/// done; checked under the return's lock).
#[cfg(feature = "ssr")]
async fn dispose_more(
    state: &crate::state::AppState,
    form: &DisposeInput,
    actor: Option<&str>,
) -> Result<(), AppError> {
    let more = form
        .qty
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| AppError::validation("qty", tr!(errors.value.at_least_one)))?;
    let before = form
        .before
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::conflict(tr!(errors.conflict.return_changed)))?;
    let restock = form.action == crate::returns::DisposeAction::Restock.as_str();
    let input = crate::returns::DisposeReturn {
        lines: vec![crate::returns::DisposeLineInput {
            sku: Some(form.sku.clone()),
            qty: more,
            batch_code: Some(form.batch_code.clone()),
            action: form.action.clone(),
            location_code: restock.then(|| form.location_code.trim().to_string()),
            ..Default::default()
        }],
    };
    crate::returns::service::dispose_adding(
        &state.db,
        &state.config,
        &form.reference,
        &input,
        before,
        actor,
    )
    .await
    .map(drop)
}

fn status_words(status: ReturnStatus) -> String {
    match status {
        ReturnStatus::Open => tr!(returns.status.open),
        ReturnStatus::Disposed => tr!(returns.status.disposed),
    }
}

#[component]
fn StatusBadge(status: ReturnStatus) -> impl IntoView {
    let class = match status {
        ReturnStatus::Open => "badge warn",
        ReturnStatus::Disposed => "badge ok",
    };
    view! { <span class=class data-status=status.as_str()>{status_words(status)}</span> }
}

pub fn reason_words(code: &str) -> String {
    match ReturnReason::from_name(code) {
        Some(ReturnReason::CustomerReturn) => tr!(returns.reason.customer_return),
        Some(ReturnReason::Damaged) => tr!(returns.reason.damaged),
        Some(ReturnReason::WrongItem) => tr!(returns.reason.wrong_item),
        Some(ReturnReason::Expired) => tr!(returns.reason.expired),
        Some(ReturnReason::Other) => tr!(returns.reason.other),
        None => code.to_string(),
    }
}

#[component]
pub fn ReturnsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = move || param("page").parse::<i64>().unwrap_or(1).max(1);
    let returns = Resource::new(
        move || (page(), param("status")),
        |(page, status)| returns_page(page, status),
    );
    let may_take = crate::ui::page_role().is_some_and(|r| r >= Role::Clerk);
    let take = form_action::<TakeBackForm>();
    let stored = stored_outcome_of::<TakeBackInput, String>("/returns", Some(NEW));
    let status = param("status");
    view! {
        <Title text=tr!(returns.title)/>
        <h1>{tr!(returns.title)}</h1>
        <p class="lead">{tr!(returns.lead)}</p>
        {may_take.then(|| view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let stored = stored.await;
                    let form = stored.clone().refused_form();
                    let refusal = crate::ui::refusal(take.value().get(), &stored);
                    let reason = form.reason_code.clone();
                    view! {
                        <section class="card" aria-labelledby="take-back">
                            <h2 id="take-back">{tr!(returns.new_heading)}</h2>
                            {refusal.map(|error| view! { <ErrorPanel error/> })}
                            <ActionForm action=take>
                                <div class="form-grid">
                                    <div>
                                        <label for="return-ref">{tr!(returns.form.reference)}</label>
                                        <input id="return-ref" name="reference" required autocomplete="off"
                                            placeholder=tr!(returns.form.reference_hint) value=form.reference.clone()/>
                                    </div>
                                    <div>
                                        <label for="return-order">{tr!(returns.form.order_ref)}</label>
                                        <input id="return-order" name="order_ref" autocomplete="off"
                                            placeholder=tr!(returns.form.order_ref_hint) value=form.order_ref.clone()/>
                                    </div>
                                    <div>
                                        <label for="return-reason">{tr!(returns.form.reason)}</label>
                                        <select id="return-reason" name="reason_code">
                                            {ReturnReason::ALL.into_iter().map(|r| view! {
                                                <option value=r.as_str() selected=reason == r.as_str()>{reason_words(r.as_str())}</option>
                                            }).collect_view()}
                                        </select>
                                    </div>
                                    <div>
                                        <label for="return-note">{tr!(returns.form.note)}</label>
                                        <input id="return-note" name="note" maxlength="500" autocomplete="off" value=form.note.clone()/>
                                    </div>
                                    <div class="wide">
                                        <label for="return-lines">{tr!(returns.form.lines)}</label>
                                        <textarea id="return-lines" name="lines" rows="4" autocomplete="off" required
                                            placeholder=tr!(returns.form.lines_hint)>{form.lines.clone()}</textarea>
                                    </div>
                                </div>
                                <div class="form-actions">
                                    <button type="submit">{tr!(returns.form.submit)}</button>
                                </div>
                            </ActionForm>
                        </section>
                    }
                })}
            </Suspense>
        })}
        <form class="filters" method="get" action="/returns">
            <div>
                <label for="returns-status">{tr!(returns.col.status)}</label>
                <select id="returns-status" name="status">
                    <option value="" selected=status.is_empty()>{tr!(returns.any_status)}</option>
                    {[ReturnStatus::Open, ReturnStatus::Disposed].into_iter().map(|s| view! {
                        <option value=s.as_str() selected=status == s.as_str()>{status_words(s)}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" class="secondary">{tr!(returns.filter)}</button>
        </form>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                match returns.await {
                    Ok(list) if list.total == 0 => view! { <p class="empty">{tr!(returns.empty)}</p> }.into_any(),
                    Ok(list) => {
                        let heads = [
                            tr!(returns.col.reference),
                            tr!(returns.col.status),
                            tr!(returns.col.order),
                            tr!(returns.col.warehouse),
                            tr!(returns.col.goods),
                        ];
                        let page = crate::domain::Page::new(list.total, list.offset, list.limit, list.returns.clone());
                        let status = param("status");
                        view! {
                            <div class="table-wrap">
                                <table class="cards returns">
                                    <thead><tr>
                                        {heads.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}
                                    </tr></thead>
                                    <tbody>
                                        {list.returns.into_iter().map(|r| {
                                            let label = |n: usize| heads[n].clone();
                                            let goods: Vec<String> = r.lines.iter().map(|l| format!("{} × {}", l.sku, number(l.qty))).collect();
                                            view! {
                                                <tr data-return=r.r#ref.clone()>
                                                    <td data-label=label(0)><a href=return_href(&r.r#ref)>{r.r#ref.clone()}</a></td>
                                                    <td data-label=label(1)><StatusBadge status=r.status/></td>
                                                    <td data-label=label(2)>{r.order_ref.clone().unwrap_or_default()}</td>
                                                    <td data-label=label(3)>{r.warehouse_code.clone()}</td>
                                                    <td data-label=label(4)>{goods.join("; ")}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager page href=move |n| query_href("/returns", &[("status", status.clone()), ("page", n.to_string())])/>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ReturnPage() -> impl IntoView {
    let reference = use_params_map()
        .read_untracked()
        .get("ref")
        .unwrap_or_default();
    let page = return_href(&reference);
    let detail = Resource::new(
        {
            let reference = reference.clone();
            move || reference.clone()
        },
        return_detail,
    );
    let disposed = stored_outcome_of::<DisposeInput, ()>(page, Some(DISPOSE));
    let dispose = form_action::<DisposeLotForm>();
    let may_dispose = crate::ui::page_role().is_some_and(|r| r >= Role::Manager);
    let title = tr!(returns.return_title, reference = reference.clone());
    view! {
        <Title text=title.clone()/>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || {
                let title = title.clone();
                Suspend::new(async move {
                    let returned = match detail.await {
                        Ok(found) => found,
                        Err(error) => {
                            crate::ui::not_found_status(&error);
                            return view! { <h1>{title}</h1><ErrorPanel error/> }.into_any();
                        }
                    };
                    let disposed = disposed.await;
                    let refusal = crate::ui::refusal(dispose.value().get(), &disposed);
                    let ledger = query_href("/ledger", &[("ref", returned.r#ref.clone())]);
                    let order = returned.order_ref.clone();
                    view! {
                        <h1>{title} " " <StatusBadge status=returned.status/></h1>
                        <p class="muted">
                            {tr!(returns.in_warehouse, warehouse = returned.warehouse_code.clone())}
                            {order.map(|o| view! { " · " <a href=format!("/orders/{}", urlencode(&o))>{tr!(returns.of_order, order = o.clone())}</a> })}
                            " · " <a href=ledger>{tr!(returns.ledger_link)}</a>
                        </p>
                        {refusal.map(|error| view! { <section class="result refusal"><ErrorPanel error/></section> })}
                        <ReturnLines returned=returned.clone() dispose=may_dispose.then_some(dispose)/>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// A return's lines; for a manager, a disposition form under each lot still in quarantine.
#[component]
fn ReturnLines(returned: Return, dispose: Option<ServerAction<DisposeLotForm>>) -> impl IntoView {
    let heads = [
        tr!(returns.col.sku),
        tr!(returns.col.batch),
        tr!(returns.col.location),
        tr!(returns.col.qty),
        tr!(returns.col.reason),
        tr!(returns.col.restocked),
        tr!(returns.col.scrapped),
        tr!(returns.col.in_quarantine),
    ];
    let columns: Vec<(String, bool)> = heads
        .iter()
        .enumerate()
        .map(|(i, head)| (head.clone(), i >= 5 || i == 3))
        .collect();
    let reference = returned.r#ref.clone();
    // One form per lot (sku and batch) with anything left in quarantine, under its first row.
    let mut lots_done: Vec<(String, String)> = Vec::new();
    let rows = returned.lines.iter().map(|line| {
        let label = |n: usize| heads[n].clone();
        let key = (line.sku.clone(), line.batch_code.clone());
        let left: i64 = returned.lines.iter()
            .filter(|l| l.sku == key.0 && l.batch_code == key.1)
            .map(|l| l.in_quarantine).sum();
        let before: i64 = returned.lines.iter()
            .filter(|l| l.sku == key.0 && l.batch_code == key.1)
            .map(|l| l.restocked + l.scrapped).sum();
        let form = match dispose {
            Some(action) if left > 0 && !lots_done.contains(&key) => {
                lots_done.push(key.clone());
                Some(view! { <DisposeRow action reference=reference.clone() sku=key.0.clone() batch=key.1.clone() left before/> })
            }
            _ => None,
        };
        let expiry = line.expiry_date.map(|d| format!(" ({d})")).unwrap_or_default();
        let why = match &line.note {
            Some(note) => format!("{} — {note}", reason_words(&line.reason_code)),
            None => reason_words(&line.reason_code),
        };
        view! {
            <tr data-sku=line.sku.clone() data-batch=line.batch_code.clone()>
                <td data-label=label(0)>{line.sku.clone()}</td>
                <td data-label=label(1)>{format!("{}{expiry}", line.batch_code)}</td>
                <td data-label=label(2)>{line.location_code.clone()}</td>
                <td class="num" data-label=label(3)>{number(line.qty)}</td>
                <td data-label=label(4)>{why}</td>
                <td class="num" data-label=label(5)>{number(line.restocked)}</td>
                <td class="num" data-label=label(6)>{number(line.scrapped)}</td>
                <td class="num" data-label=label(7) data-in-quarantine=line.in_quarantine>{number(line.in_quarantine)}</td>
            </tr>
            {form}
        }
    }).collect_view();
    crate::ui::cards_section(
        "return-lines",
        tr!(returns.lines_heading),
        None,
        "return-lines",
        &columns,
        rows.into_any(),
    )
}

/// A lot's disposition form: how many more, restocked where or scrapped.
#[component]
fn DisposeRow(
    action: ServerAction<DisposeLotForm>,
    reference: String,
    sku: String,
    batch: String,
    left: i64,
    before: i64,
) -> impl IntoView {
    let id = {
        let (sku, batch) = (sku.clone(), batch.clone());
        move |what: &str| format!("dispose-{what}-{sku}-{batch}")
    };
    let (qty_id, action_id, location_id) = (id("qty"), id("action"), id("location"));
    let data_sku = sku.clone();
    view! {
        <tr class="dispose-row">
            <td colspan="8">
                <ActionForm action attr:class="inline-form dispose" attr:data-sku=data_sku>
                    <input type="hidden" name="reference" value=reference/>
                    <input type="hidden" name="sku" value=sku/>
                    <input type="hidden" name="batch_code" value=batch/>
                    <input type="hidden" name="before" value=before.to_string()/>
                    <div>
                        <label for=qty_id.clone()>{tr!(returns.dispose.qty, left = number(left))}</label>
                        <input id=qty_id name="qty" type="number" inputmode="numeric" min="1" max=left.to_string() required value=left.to_string()/>
                    </div>
                    <div>
                        <label for=action_id.clone()>{tr!(returns.dispose.action)}</label>
                        <select id=action_id name="action">
                            <option value="RESTOCK">{tr!(returns.dispose.restock)}</option>
                            <option value="SCRAP">{tr!(returns.dispose.scrap)}</option>
                        </select>
                    </div>
                    <div>
                        <label for=location_id.clone()>{tr!(returns.dispose.location)}</label>
                        <input id=location_id name="location_code" autocomplete="off" placeholder=tr!(returns.dispose.location_hint)/>
                    </div>
                    <button type="submit">{tr!(returns.dispose.submit)}</button>
                </ActionForm>
            </td>
        </tr>
    }
}
