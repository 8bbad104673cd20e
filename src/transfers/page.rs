//! The transfer pages: `/transfers` (the transfers, and goods sent to another warehouse by a
//! clerk) and `/transfers/{ref}` (what it carries of each lot; goods received at the
//! destination, and for a manager closing it short). Rows are typed or scanned one per line
//! ("location sku qty [batch]": a scanner's Enter starts the next row). Same services as the
//! JSON endpoints; complete without JavaScript.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::error::AppError;
use crate::transfers::{Transfer, TransferList, TransferStatus};
use crate::ui::{
    form_action, number, query_href, stored_outcome_of, urlencode, ErrorPanel, Outcome, Pager,
};

/// The send form as posted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendInput {
    pub reference: String,
    pub from_warehouse: String,
    pub to_warehouse: String,
    pub lines: String,
}

/// The receive form as posted: rows received **now**; `before` is what the transfer had
/// received in all when the page was shown, so a form sent twice receives nothing twice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceiveInput {
    pub reference: String,
    pub lines: String,
    pub before: String,
}

/// The close button as posted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloseInput {
    pub reference: String,
}

const NEW: &str = "new";
const ACT: &str = "act";
#[cfg(feature = "ssr")]
const PER_PAGE: i64 = 50;

/// The address of transfer `reference`'s page.
pub fn transfer_href(reference: &str) -> String {
    format!("/transfers/{}", urlencode(reference))
}

/// A form's rows: a location, a sku, a quantity and optionally a batch each, apart by spaces,
/// a tab or a comma.
#[cfg(feature = "ssr")]
fn parse_rows(text: &str) -> Result<Vec<crate::transfers::TransferLineInput>, AppError> {
    let mut problems = crate::error::Problems::default();
    let mut lines = Vec::new();
    for (i, row) in text.lines().filter(|r| !r.trim().is_empty()).enumerate() {
        let parts = crate::ui::row_fields(row);
        let qty = parts.get(2).and_then(|q| q.parse::<i64>().ok());
        match (parts.len(), qty) {
            (3 | 4, Some(qty)) => lines.push(crate::transfers::TransferLineInput {
                location_code: Some(parts[0].to_string()),
                sku: Some(parts[1].to_string()),
                qty,
                batch_code: parts.get(3).map(|b| (*b).to_string()),
                ..Default::default()
            }),
            _ => problems.note(AppError::validation(
                "lines",
                tr!(transfers.form.bad_row, row = i + 1, text = row.trim()),
            )),
        }
    }
    problems.finish()?;
    Ok(lines)
}

/// The warehouses to choose from, and the device's working one.
#[server(endpoint = "transfer_warehouses")]
pub async fn transfer_warehouses() -> Result<(Vec<String>, Option<String>), AppError> {
    let state = crate::state::app_state()?;
    let list =
        crate::warehouses::service::list_warehouses(&state.db, state.config.timezone).await?;
    Ok((
        list.into_iter().map(|w| w.code).collect(),
        crate::warehouses::working(),
    ))
}

/// Sends goods to another warehouse and goes to the transfer; a refusal comes back.
#[server(endpoint = "send_transfer")]
pub async fn send_transfer_form(
    reference: String,
    from_warehouse: String,
    to_warehouse: String,
    lines: String,
) -> Result<Outcome<SendInput, String>, AppError> {
    let state = crate::state::app_state()?;
    let form = SendInput {
        reference,
        from_warehouse,
        to_warehouse,
        lines,
    };
    let actor = crate::auth::access::current_actor();
    let result = match parse_rows(&form.lines) {
        Ok(lines) => {
            let input = crate::transfers::NewTransfer {
                r#ref: form.reference.clone(),
                from_warehouse: form.from_warehouse.clone(),
                to_warehouse: form.to_warehouse.clone(),
                lines,
            };
            crate::transfers::service::send(&state.db, &state.config, &input, actor.as_deref())
                .await
                .map(|answer| answer.transfer.r#ref)
        }
        Err(error) => Err(error),
    };
    if let Ok(reference) = &result {
        leptos_axum::redirect(&transfer_href(reference));
        return Ok(Outcome { form, result });
    }
    Ok(crate::ui::finish_form("/transfers", NEW, form, result).await)
}

/// One page of the transfers, optionally of one status.
#[server(endpoint = "list_transfers")]
pub async fn transfers_page(page: i64, status: String) -> Result<TransferList, AppError> {
    let state = crate::state::app_state()?;
    let filter = crate::transfers::TransferFilter {
        status: Some(status),
        offset: Some(crate::ui::page_offset(page, PER_PAGE)),
        limit: Some(PER_PAGE),
        ..Default::default()
    };
    crate::scope::for_page(crate::transfers::service::list_transfers(
        &state.db, &filter,
    ))
    .await
}

/// Transfer `reference`.
#[server(endpoint = "transfer_detail")]
pub async fn transfer_detail(reference: String) -> Result<Transfer, AppError> {
    let state = crate::state::app_state()?;
    crate::transfers::service::get_transfer(&state.db, &reference).await
}

/// Receives the rows at the destination (each what arrived now at that place), then shows the
/// transfer.
#[server(endpoint = "receive_transfer")]
pub async fn receive_transfer_form(
    reference: String,
    lines: String,
    before: String,
) -> Result<Outcome<ReceiveInput, ()>, AppError> {
    let state = crate::state::app_state()?;
    let form = ReceiveInput {
        reference,
        lines,
        before,
    };
    let actor = crate::auth::access::current_actor();
    let result = receive_more(&state, &form, actor.as_deref()).await;
    let page = transfer_href(&form.reference);
    if result.is_ok() {
        leptos_axum::redirect(&page);
        return Ok(Outcome { form, result });
    }
    Ok(crate::ui::finish_form(&page, ACT, form, result).await)
}

/// The rows as received now, added to what each place received before, provided the transfer
/// is as the page showed it (`before`: else the form was sent again, or someone received
/// meanwhile — 409, nothing done; checked under the transfer's lock).
#[cfg(feature = "ssr")]
async fn receive_more(
    state: &crate::state::AppState,
    form: &ReceiveInput,
    actor: Option<&str>,
) -> Result<(), AppError> {
    let lines = parse_rows(&form.lines)?;
    let before = form
        .before
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::conflict(tr!(errors.conflict.transfer_changed)))?;
    let input = crate::transfers::ReceiveTransfer { lines };
    crate::transfers::service::receive_adding(
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

/// Closes the transfer short (managers), then shows it.
#[server(endpoint = "close_transfer")]
pub async fn close_transfer_form(reference: String) -> Result<Outcome<CloseInput, ()>, AppError> {
    let state = crate::state::app_state()?;
    let actor = crate::auth::access::current_actor();
    let result =
        crate::transfers::service::close(&state.db, &state.config, &reference, actor.as_deref())
            .await
            .map(drop);
    let page = transfer_href(&reference);
    let form = CloseInput { reference };
    if result.is_ok() {
        leptos_axum::redirect(&page);
        return Ok(Outcome { form, result });
    }
    Ok(crate::ui::finish_form(&page, ACT, form, result).await)
}

fn status_words(status: TransferStatus) -> String {
    match status {
        TransferStatus::InTransit => tr!(transfers.status.in_transit),
        TransferStatus::PartiallyReceived => tr!(transfers.status.partially_received),
        TransferStatus::Received => tr!(transfers.status.received),
        TransferStatus::ClosedShort => tr!(transfers.status.closed_short),
    }
}

#[component]
fn StatusBadge(status: TransferStatus) -> impl IntoView {
    let class = match status {
        TransferStatus::InTransit | TransferStatus::PartiallyReceived => "badge warn",
        TransferStatus::Received => "badge ok",
        TransferStatus::ClosedShort => "badge bad",
    };
    view! { <span class=class data-status=status.as_str()>{status_words(status)}</span> }
}

#[component]
pub fn TransfersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = move || param("page").parse::<i64>().unwrap_or(1).max(1);
    let transfers = Resource::new(
        move || (page(), param("status")),
        |(page, status)| transfers_page(page, status),
    );
    let warehouses = Resource::new(|| (), |_| transfer_warehouses());
    let may_send = crate::ui::page_role().is_some_and(|r| r >= Role::Clerk);
    let send = form_action::<SendTransferForm>();
    let stored = stored_outcome_of::<SendInput, String>("/transfers", Some(NEW));
    let status = param("status");
    view! {
        <Title text=tr!(transfers.title)/>
        <h1>{tr!(transfers.title)}</h1>
        <p class="lead">{tr!(transfers.lead)}</p>
        {may_send.then(|| view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let stored = stored.await;
                    let (codes, working) = warehouses.await.unwrap_or_default();
                    let form = stored.clone().refused_form();
                    let refusal = crate::ui::refusal(send.value().get(), &stored);
                    let from = if form.from_warehouse.is_empty() { working.clone().unwrap_or_default() } else { form.from_warehouse.clone() };
                    let to = form.to_warehouse.clone();
                    let options = move |chosen: String| codes.clone().into_iter().map(move |code| {
                        let selected = code == chosen;
                        let value = code.clone();
                        view! { <option value=value selected=selected>{code}</option> }
                    }).collect_view();
                    view! {
                        <section class="card" aria-labelledby="send-transfer">
                            <h2 id="send-transfer">{tr!(transfers.new_heading)}</h2>
                            {refusal.map(|error| view! { <ErrorPanel error/> })}
                            <ActionForm action=send>
                                <div class="form-grid">
                                    <div>
                                        <label for="transfer-ref">{tr!(transfers.form.reference)}</label>
                                        <input id="transfer-ref" name="reference" required autocomplete="off"
                                            placeholder=tr!(transfers.form.reference_hint) value=form.reference.clone()/>
                                    </div>
                                    <div>
                                        <label for="transfer-from">{tr!(transfers.form.from)}</label>
                                        <select id="transfer-from" name="from_warehouse">{options.clone()(from)}</select>
                                    </div>
                                    <div>
                                        <label for="transfer-to">{tr!(transfers.form.to)}</label>
                                        <select id="transfer-to" name="to_warehouse">
                                            <option value="" selected=to.is_empty()>{tr!(transfers.form.choose)}</option>
                                            {options(to.clone())}
                                        </select>
                                    </div>
                                    <div class="wide">
                                        <label for="transfer-lines">{tr!(transfers.form.lines)}</label>
                                        <textarea id="transfer-lines" name="lines" rows="4" autocomplete="off" required
                                            placeholder=tr!(transfers.form.lines_hint)>{form.lines.clone()}</textarea>
                                    </div>
                                </div>
                                <div class="form-actions">
                                    <button type="submit">{tr!(transfers.form.send)}</button>
                                </div>
                            </ActionForm>
                        </section>
                    }
                })}
            </Suspense>
        })}
        <form class="filters" method="get" action="/transfers">
            <div>
                <label for="transfers-status">{tr!(transfers.col.status)}</label>
                <select id="transfers-status" name="status">
                    <option value="" selected=status.is_empty()>{tr!(transfers.any_status)}</option>
                    {TransferStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=status == s.as_str()>{status_words(s)}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" class="secondary">{tr!(transfers.filter)}</button>
        </form>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                match transfers.await {
                    Ok(list) if list.total == 0 => view! { <p class="empty">{tr!(transfers.empty)}</p> }.into_any(),
                    Ok(list) => {
                        let heads = [
                            tr!(transfers.col.reference),
                            tr!(transfers.col.status),
                            tr!(transfers.col.route),
                            tr!(transfers.col.goods),
                        ];
                        let page = crate::domain::Page::new(list.total, list.offset, list.limit, list.transfers.clone());
                        let status = param("status");
                        view! {
                            <div class="table-wrap">
                                <table class="cards transfers">
                                    <thead><tr>
                                        {heads.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}
                                    </tr></thead>
                                    <tbody>
                                        {list.transfers.into_iter().map(|t| {
                                            let label = |n: usize| heads[n].clone();
                                            let goods: Vec<String> = t.lots.iter().map(|l| format!("{} × {}", l.sku, number(l.sent))).collect();
                                            view! {
                                                <tr data-transfer=t.r#ref.clone()>
                                                    <td data-label=label(0)><a href=transfer_href(&t.r#ref)>{t.r#ref.clone()}</a></td>
                                                    <td data-label=label(1)><StatusBadge status=t.status/></td>
                                                    <td data-label=label(2)>{format!("{} → {}", t.from_warehouse, t.to_warehouse)}</td>
                                                    <td data-label=label(3)>{goods.join("; ")}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager page href=move |n| query_href("/transfers", &[("status", status.clone()), ("page", n.to_string())])/>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn TransferPage() -> impl IntoView {
    let reference = use_params_map()
        .read_untracked()
        .get("ref")
        .unwrap_or_default();
    let page = transfer_href(&reference);
    let detail = Resource::new(
        {
            let reference = reference.clone();
            move || reference.clone()
        },
        transfer_detail,
    );
    let received = stored_outcome_of::<ReceiveInput, ()>(page.clone(), Some(ACT));
    let closed = stored_outcome_of::<CloseInput, ()>(page, Some(ACT));
    let receive = form_action::<ReceiveTransferForm>();
    let close = form_action::<CloseTransferForm>();
    let role = crate::ui::page_role();
    let title = tr!(transfers.transfer_title, reference = reference.clone());
    view! {
        <Title text=title.clone()/>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || {
                let title = title.clone();
                Suspend::new(async move {
                    let transfer = match detail.await {
                        Ok(found) => found,
                        Err(error) => {
                            crate::ui::not_found_status(&error);
                            return view! { <h1>{title}</h1><ErrorPanel error/> }.into_any();
                        }
                    };
                    let (received, closed) = (received.await, closed.await);
                    let refusal = crate::ui::refusal(receive.value().get(), &received)
                        .or_else(|| crate::ui::refusal(close.value().get(), &closed));
                    let in_transit: i64 = transfer.lots.iter().map(|l| l.in_transit).sum();
                    let received_all: i64 = transfer.lots.iter().map(|l| l.received).sum();
                    let open = transfer.status != TransferStatus::ClosedShort && in_transit > 0;
                    let may_receive = open && role.is_some_and(|r| r >= Role::Clerk);
                    let may_close = open && role.is_some_and(|r| r >= Role::Manager);
                    let ledger = query_href("/ledger", &[("ref", transfer.r#ref.clone())]);
                    let reference = transfer.r#ref.clone();
                    let close_reference = reference.clone();
                    view! {
                        <h1>{title} " " <StatusBadge status=transfer.status/></h1>
                        <p class="muted">
                            {format!("{} → {}", transfer.from_warehouse, transfer.to_warehouse)}
                            " · " <a href=ledger>{tr!(transfers.ledger_link)}</a>
                        </p>
                        {refusal.map(|error| view! { <section class="result refusal"><ErrorPanel error/></section> })}
                        {may_receive.then(|| view! {
                            <section class="card" aria-labelledby="receive-transfer">
                                <h2 id="receive-transfer">{tr!(transfers.receive_heading, warehouse = transfer.to_warehouse.clone())}</h2>
                                <ActionForm action=receive>
                                    <input type="hidden" name="reference" value=reference.clone()/>
                                    <input type="hidden" name="before" value=received_all.to_string()/>
                                    <div>
                                        <label for="receive-lines">{tr!(transfers.form.receive_lines)}</label>
                                        <textarea id="receive-lines" name="lines" rows="4" autocomplete="off" required
                                            placeholder=tr!(transfers.form.receive_hint)></textarea>
                                    </div>
                                    <div class="form-actions">
                                        <button type="submit">{tr!(transfers.form.receive)}</button>
                                    </div>
                                </ActionForm>
                            </section>
                        })}
                        <TransferLots transfer=transfer.clone()/>
                        {may_close.then(|| view! {
                            <ActionForm action=close attr:class="inline-form">
                                <input type="hidden" name="reference" value=close_reference/>
                                <button type="submit" class="secondary danger">{tr!(transfers.close, qty = number(in_transit))}</button>
                            </ActionForm>
                        })}
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// What a transfer carries of each lot.
#[component]
fn TransferLots(transfer: Transfer) -> impl IntoView {
    let heads = [
        tr!(transfers.col.sku),
        tr!(transfers.col.batch),
        tr!(transfers.col.sent),
        tr!(transfers.col.received),
        tr!(transfers.col.lost),
        tr!(transfers.col.in_transit),
    ];
    let columns: Vec<(String, bool)> = heads
        .iter()
        .enumerate()
        .map(|(i, head)| (head.clone(), i >= 2))
        .collect();
    let rows = transfer
        .lots
        .into_iter()
        .map(|lot| {
            let label = |n: usize| heads[n].clone();
            let expiry = lot.expiry_date.map(|d| format!(" ({d})")).unwrap_or_default();
            view! {
                <tr data-sku=lot.sku.clone() data-batch=lot.batch_code.clone()>
                    <td data-label=label(0)>{lot.sku.clone()}</td>
                    <td data-label=label(1)>{format!("{}{expiry}", lot.batch_code)}</td>
                    <td class="num" data-label=label(2)>{number(lot.sent)}</td>
                    <td class="num" data-label=label(3) data-received=lot.received>{number(lot.received)}</td>
                    <td class="num" data-label=label(4)>{number(lot.lost)}</td>
                    <td class="num" data-label=label(5) data-in-transit=lot.in_transit>{number(lot.in_transit)}</td>
                </tr>
            }
        })
        .collect_view();
    crate::ui::cards_section(
        "transfer-lots",
        tr!(transfers.lots_heading),
        None,
        "transfer-lots",
        &columns,
        rows.into_any(),
    )
}
