//! The order pages (SPEC §10): `/orders` (the orders, and a new one for clerks),
//! `/orders/{ref}` (an order's lines and what it holds where; reserve again, ship, cancel) and
//! `/orders/{ref}/pick` (the handheld pick screen: the next place to go, scan the location,
//! scan the item or batch, confirm the quantity, Enter, next). Same services as the JSON
//! endpoints.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::error::AppError;
use crate::orders::{Order, OrderList, OrderStatus, PickList, PickRow};
use crate::ui::{
    form_action, number, query_href, stored_outcome_of, urlencode, ErrorPanel, Outcome, Pager,
    StoredOutcome, WarehouseTimes,
};

/// An order's status as its badge's class.
fn status_class(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Backordered => "badge warn",
        OrderStatus::Reserved | OrderStatus::Picking => "badge",
        OrderStatus::Picked | OrderStatus::Shipped => "badge ok",
        OrderStatus::Cancelled => "badge bad",
    }
}

pub fn status_words(status: OrderStatus) -> String {
    match status {
        OrderStatus::Backordered => tr!(orders.status.backordered),
        OrderStatus::Reserved => tr!(orders.status.reserved),
        OrderStatus::Picking => tr!(orders.status.picking),
        OrderStatus::Picked => tr!(orders.status.picked),
        OrderStatus::Shipped => tr!(orders.status.shipped),
        OrderStatus::Cancelled => tr!(orders.status.cancelled),
    }
}

#[component]
fn StatusBadge(status: OrderStatus) -> impl IntoView {
    view! { <span class=status_class(status) data-status=status.as_str()>{status_words(status)}</span> }
}

/// The address of order `reference`'s page (and, with `tail`, of one below it).
pub fn order_href(reference: &str, tail: &str) -> String {
    format!("/orders/{}{tail}", urlencode(reference))
}

/// The new-order form as posted: a ref, a policy, and one line per item ("sku qty").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewOrderForm {
    pub reference: String,
    pub policy: String,
    pub lines: String,
}

/// The lines of the new-order form, one per row: a sku and a quantity, apart by spaces, a tab
/// or a comma (as a spreadsheet's copied cells or a scanner and a keypad give them).
#[cfg(feature = "ssr")]
fn parse_lines(text: &str) -> Result<Vec<crate::orders::NewOrderLine>, AppError> {
    let mut problems = crate::error::Problems::default();
    let mut lines = Vec::new();
    for (i, row) in text.lines().filter(|r| !r.trim().is_empty()).enumerate() {
        let parts: Vec<&str> = row
            .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|p| !p.is_empty())
            .collect();
        let qty = match parts.as_slice() {
            [_, qty] => qty.parse::<i64>().ok(),
            _ => None,
        };
        match (parts.first(), qty) {
            (Some(sku), Some(qty)) => lines.push(crate::orders::NewOrderLine {
                sku: Some((*sku).to_string()),
                qty,
                ..Default::default()
            }),
            _ => problems.note(AppError::validation(
                "lines",
                tr!(orders.form.bad_row, row = i + 1, text = row.trim()),
            )),
        }
    }
    problems.finish()?;
    Ok(lines)
}

/// Creates an order and goes to it; a refusal comes back to `/orders`.
#[server(endpoint = "create_order")]
pub async fn create_order_form(
    reference: String,
    policy: String,
    lines: String,
) -> Result<Outcome<NewOrderForm, String>, AppError> {
    let state = crate::state::app_state()?;
    let form = NewOrderForm {
        reference,
        policy,
        lines,
    };
    let actor = crate::auth::access::current_actor();
    let result = match parse_lines(&form.lines) {
        Ok(lines) => {
            let input = crate::orders::NewOrder {
                r#ref: form.reference.clone(),
                lines,
                policy: Some(form.policy.clone()),
            };
            crate::orders::service::create_order(&state.db, &state.config, &input, actor.as_deref())
                .await
                .map(|(_, order)| order.r#ref)
        }
        Err(error) => Err(error),
    };
    if let Ok(reference) = &result {
        leptos_axum::redirect(&order_href(reference, ""));
        return Ok(Outcome { form, result });
    }
    Ok(crate::ui::finish_form("/orders", NEW, form, result).await)
}

/// The name the new-order form's outcome is kept under.
const NEW: &str = "new";

/// One page of the orders (a status, a piece of the ref), with their times in the warehouse's
/// zone.
#[server(endpoint = "list_orders")]
pub async fn orders_page(
    page: i64,
    status: String,
    q: String,
) -> Result<(OrderList, WarehouseTimes), AppError> {
    let state = crate::state::app_state()?;
    let filter = crate::orders::OrderFilter {
        status: Some(status),
        q: Some(q),
        offset: Some(crate::ui::page_offset(page, PER_PAGE)),
        limit: Some(PER_PAGE),
    };
    let list = crate::orders::service::list_orders(&state.db, &filter).await?;
    let times = WarehouseTimes::of(list.orders.iter().map(|o| Some(&o.created_at)));
    Ok((list, times))
}

#[cfg(feature = "ssr")]
const PER_PAGE: i64 = 50;

#[component]
pub fn OrdersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = move || param("page").parse::<i64>().unwrap_or(1).max(1);
    let orders = Resource::new(
        move || (page(), param("status"), param("q")),
        |(page, status, q)| orders_page(page, status, q),
    );
    let may_create = crate::ui::page_role().is_some_and(|r| r >= Role::Clerk);
    let create = form_action::<CreateOrderForm>();
    let stored = stored_outcome_of::<NewOrderForm, String>("/orders", Some(NEW));
    let (status, q) = (param("status"), param("q"));
    view! {
        <Title text=tr!(orders.title)/>
        <h1>{tr!(orders.title)}</h1>
        <p class="lead">{tr!(orders.lead)}</p>
        {may_create.then(|| view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let stored = stored.await;
                    let form = stored.clone().refused_form();
                    let refusal = crate::ui::refusal(create.value().get(), &stored);
                    let policy = form.policy.clone();
                    let open = refusal.is_some();
                    view! {
                        <details class="card new-order" open=open>
                            <summary><h2 id="new-order">{tr!(orders.new_heading)}</h2></summary>
                            {refusal.map(|error| view! { <ErrorPanel error/> })}
                            <ActionForm action=create>
                                <div class="form-grid">
                                    <div>
                                        <label for="order-ref">{tr!(orders.form.reference)}</label>
                                        <input id="order-ref" name="reference" required autocomplete="off"
                                            placeholder=tr!(orders.form.reference_hint) value=form.reference.clone()/>
                                    </div>
                                    <div>
                                        <label for="order-policy">{tr!(orders.form.policy)}</label>
                                        <select id="order-policy" name="policy">
                                            <option value="partial" selected=policy != "all_or_nothing">{tr!(orders.policy.partial)}</option>
                                            <option value="all_or_nothing" selected=policy == "all_or_nothing">{tr!(orders.policy.all_or_nothing)}</option>
                                        </select>
                                    </div>
                                    <div class="wide">
                                        <label for="order-lines">{tr!(orders.form.lines)}</label>
                                        <textarea id="order-lines" name="lines" rows="4" autocomplete="off" required
                                            placeholder=tr!(orders.form.lines_hint)>{form.lines.clone()}</textarea>
                                    </div>
                                </div>
                                <div class="form-actions">
                                    <button type="submit">{tr!(orders.form.create)}</button>
                                </div>
                            </ActionForm>
                        </details>
                    }
                })}
            </Suspense>
        })}
        <form class="filters" method="get" action="/orders">
            <div>
                <label for="orders-status">{tr!(orders.col.status)}</label>
                <select id="orders-status" name="status">
                    <option value="" selected=status.is_empty()>{tr!(orders.any_status)}</option>
                    {OrderStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=status == s.as_str()>{status_words(s)}</option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="orders-q">{tr!(orders.search)}</label>
                <input id="orders-q" name="q" type="search" value=q autocomplete="off" placeholder=tr!(orders.search_hint)/>
            </div>
            <button type="submit" class="secondary">{tr!(orders.filter)}</button>
        </form>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                match orders.await {
                    Ok((list, _)) if list.total == 0 => view! { <p class="empty">{tr!(orders.empty)}</p> }.into_any(),
                    Ok((list, times)) => {
                        let heads = [
                            tr!(orders.col.reference),
                            tr!(orders.col.status),
                            tr!(orders.col.progress),
                            tr!(orders.col.created, zone = times.zone.clone()),
                            tr!(orders.col.by),
                        ];
                        let page = crate::domain::Page::new(list.total, list.offset, list.limit, list.orders.clone());
                        let (status, q) = (param("status"), param("q"));
                        view! {
                            <div class="table-wrap">
                                <table class="cards orders">
                                    <thead><tr>
                                        {heads.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}
                                    </tr></thead>
                                    <tbody>
                                        {list.orders.into_iter().enumerate().map(|(i, order)| {
                                            let label = |n: usize| heads[n].clone();
                                            view! {
                                                <tr data-order=order.r#ref.clone()>
                                                    <td data-label=label(0)><a href=order_href(&order.r#ref, "")>{order.r#ref.clone()}</a></td>
                                                    <td data-label=label(1)><StatusBadge status=order.status/></td>
                                                    <td data-label=label(2)>{progress_words(order.qty, order.reserved, order.picked, order.shipped, order.backordered)}</td>
                                                    <td data-label=label(3)>{times.at(i)}</td>
                                                    <td data-label=label(4)>{order.created_by.as_deref().map(crate::ledger::actor_words)}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager page href=move |n| query_href("/orders", &[("status", status.clone()), ("q", q.clone()), ("page", n.to_string())])/>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "12 ordered · 10 reserved · 4 picked · 0 shipped · 2 backordered", leaving out what is 0.
fn progress_words(qty: i64, reserved: i64, picked: i64, shipped: i64, backordered: i64) -> String {
    let mut parts = vec![tr!(orders.qty.ordered, n = number(qty))];
    for (n, words) in [
        (reserved, tr!(orders.qty.reserved, n = number(reserved))),
        (picked, tr!(orders.qty.picked, n = number(picked))),
        (shipped, tr!(orders.qty.shipped, n = number(shipped))),
        (
            backordered,
            tr!(orders.qty.backordered, n = number(backordered)),
        ),
    ] {
        if n > 0 {
            parts.push(words);
        }
    }
    parts.join(" · ")
}

/// Order `reference`, with its times in the warehouse's zone.
#[server(endpoint = "order_detail")]
pub async fn order_detail(reference: String) -> Result<(Order, WarehouseTimes), AppError> {
    let state = crate::state::app_state()?;
    let order = crate::orders::service::get_order(&state.db, &reference).await?;
    let times = WarehouseTimes::of([Some(&order.created_at), Some(&order.updated_at)]);
    Ok((order, times))
}

/// An order's button as posted: which order, and what to do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderActionForm {
    pub reference: String,
    pub action: String,
}

/// The name the buttons' outcomes are kept under.
const ACT: &str = "act";

/// Reserves again (`reserve`), ships what is picked (`ship`) or all that is reserved
/// (`ship_reserved`), then shows the order.
#[server(endpoint = "order_action")]
pub async fn order_action(
    reference: String,
    action: String,
) -> Result<Outcome<OrderActionForm, ()>, AppError> {
    let state = crate::state::app_state()?;
    let actor = crate::auth::access::current_actor();
    let (db, config) = (&state.db, &state.config);
    let result = match action.as_str() {
        "reserve" => crate::orders::service::reserve(db, config, &reference).await,
        "ship" | "ship_reserved" => {
            let input = crate::orders::ShipInput {
                reserved: action == "ship_reserved",
            };
            crate::orders::service::ship(db, config, &reference, &input, actor.as_deref()).await
        }
        _ => Err(AppError::validation("action", tr!(errors.value.required))),
    };
    Ok(action_outcome(reference, action, result.map(drop)).await)
}

/// Cancels order `reference` (releasing what it holds) and shows it.
#[server(endpoint = "cancel_order")]
pub async fn cancel_order(reference: String) -> Result<Outcome<OrderActionForm, ()>, AppError> {
    let state = crate::state::app_state()?;
    let result = crate::orders::service::cancel(&state.db, &state.config, &reference)
        .await
        .map(drop);
    Ok(action_outcome(reference, "cancel".to_string(), result).await)
}

#[cfg(feature = "ssr")]
async fn action_outcome(
    reference: String,
    action: String,
    result: Result<(), AppError>,
) -> Outcome<OrderActionForm, ()> {
    let page = order_href(&reference, "");
    let form = OrderActionForm { reference, action };
    if result.is_ok() {
        leptos_axum::redirect(&page);
        return Outcome { form, result };
    }
    crate::ui::finish_form(&page, ACT, form, result).await
}

/// The order's reference from the page's address.
fn reference_param() -> String {
    use_params_map()
        .read_untracked()
        .get("ref")
        .unwrap_or_default()
}

/// Sets the response's status to 404 when `error` says there is no such order.
#[allow(unused_variables)]
fn not_found_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if error.code == crate::error::ErrorCode::NotFound {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let reference = reference_param();
    let page = order_href(&reference, "");
    let detail = Resource::new(
        {
            let reference = reference.clone();
            move || reference.clone()
        },
        order_detail,
    );
    let acted = stored_outcome_of::<OrderActionForm, ()>(page, Some(ACT));
    let role = crate::ui::page_role();
    let act = form_action::<OrderAction>();
    let cancel = form_action::<CancelOrder>();
    let title = tr!(orders.order_title, reference = reference.clone());
    view! {
        <Title text=title.clone()/>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || {
                let title = title.clone();
                Suspend::new(async move {
                let (order, times) = match detail.await {
                    Ok(found) => found,
                    Err(error) => {
                        not_found_status(&error);
                        return view! { <h1>{title}</h1><ErrorPanel error/> }.into_any();
                    }
                };
                let acted = acted.await;
                let may_act = role.is_some_and(|r| r >= Role::Clerk) && order.status.open();
                let may_cancel = role.is_some_and(|r| r >= Role::Manager) && order.status.open();
                let sum = |f: fn(&crate::orders::OrderLine) -> i64| order.lines.iter().map(f).sum::<i64>();
                let (reserved, picked, backordered) = (sum(|l| l.reserved), sum(|l| l.picked), sum(|l| l.backordered));
                let reference = order.r#ref.clone();
                let button = |action: &'static str, words: String, class: &'static str| {
                    act_button(act, reference.clone(), action, words, class)
                };
                let pick_href = order_href(&order.r#ref, "/pick");
                let cancel_reference = order.r#ref.clone();
                let ledger = query_href("/ledger", &[("ref", order.r#ref.clone())]);
                view! {
                    <h1>{title} " " <StatusBadge status=order.status/></h1>
                    <p class="muted">
                        {times.at(0)}
                        {order.created_by.as_deref().map(|by| format!(" · {}", crate::ledger::actor_words(by)))}
                        " · "
                        {match order.policy {
                            crate::orders::Policy::Partial => tr!(orders.policy.partial),
                            crate::orders::Policy::AllOrNothing => tr!(orders.policy.all_or_nothing),
                        }}
                    </p>
                    {crate::ui::refusal(act.value().get().or(cancel.value().get()), &acted).map(|error| view! { <section class="result refusal"><ErrorPanel error/></section> })}
                    {(may_act || may_cancel).then(|| view! {
                        <section class="card order-actions">
                            <div class="form-actions">
                                {(may_act && reserved > picked).then(|| view! {
                                    <a class="button" href=pick_href>{tr!(orders.pick)}</a>
                                })}
                                {(may_act && picked > 0).then(|| button("ship", tr!(orders.ship_picked), ""))}
                                {(may_act && reserved > 0).then(|| button("ship_reserved", tr!(orders.ship_reserved), "secondary"))}
                                {(may_act && backordered > 0).then(|| button("reserve", tr!(orders.reserve_again), "secondary"))}
                                {may_cancel.then(|| view! {
                                    <ActionForm action=cancel attr:class="inline-form apart">
                                        <input type="hidden" name="reference" value=cancel_reference/>
                                        <button type="submit" class="secondary danger">{tr!(orders.cancel)}</button>
                                    </ActionForm>
                                })}
                            </div>
                        </section>
                    })}
                    {(order.shipments > 0).then(|| view! {
                        <p class="note" role="status">{tr!(orders.shipped_note, count = order.shipments)} " " <a href=ledger>{tr!(orders.ledger_link)}</a></p>
                    })}
                    <OrderLines order/>
                }.into_any()
            })}}
        </Suspense>
    }
}

/// One of an order's buttons: a form posting `action` for order `reference`.
fn act_button(
    act: ServerAction<OrderAction>,
    reference: String,
    action: &'static str,
    words: String,
    class: &'static str,
) -> impl IntoView {
    view! {
        <ActionForm action=act attr:class="inline-form">
            <input type="hidden" name="reference" value=reference/>
            <input type="hidden" name="action" value=action/>
            <button type="submit" class=class>{words}</button>
        </ActionForm>
    }
}

/// An order's lines, each with what it holds where.
#[component]
fn OrderLines(order: Order) -> impl IntoView {
    let heads = [
        tr!(orders.col.line),
        tr!(orders.col.sku),
        tr!(orders.col.name),
        tr!(orders.col.qty),
        tr!(orders.col.reserved),
        tr!(orders.col.picked),
        tr!(orders.col.shipped),
        tr!(orders.col.backordered),
        tr!(orders.col.held_at),
    ];
    view! {
        <section aria-labelledby="order-lines">
            <h2 id="order-lines">{tr!(orders.lines_heading)}</h2>
            <div class="table-wrap">
                <table class="cards order-lines">
                    <thead><tr>
                        {heads.iter().enumerate().map(|(i, h)| view! { <th class=if (3..8).contains(&i) { "num" } else { "" }>{h.clone()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {order.lines.into_iter().map(|line| {
                            let label = |n: usize| heads[n].clone();
                            let held: Vec<String> = line.allocations.iter().filter(|a| a.qty > 0).map(|a| {
                                let batch = if a.batch_code.is_empty() { String::new() } else { format!(" {}", a.batch_code) };
                                let expiry = a.expiry_date.map(|d| format!(" ({d})")).unwrap_or_default();
                                format!("{}{batch}{expiry} × {}", a.location_code, number(a.qty))
                            }).collect();
                            view! {
                                <tr data-sku=line.sku.clone()>
                                    <td data-label=label(0)>{line.line}</td>
                                    <td data-label=label(1)>{line.sku.clone()}</td>
                                    <td data-label=label(2)>{line.name.clone()}</td>
                                    <td class="num" data-label=label(3)>{number(line.qty)}</td>
                                    <td class="num" data-label=label(4) data-reserved=line.reserved>{number(line.reserved)}</td>
                                    <td class="num" data-label=label(5) data-picked=line.picked>{number(line.picked)}</td>
                                    <td class="num" data-label=label(6) data-shipped=line.shipped>{number(line.shipped)}</td>
                                    <td class="num" data-label=label(7) data-backordered=line.backordered>{number(line.backordered)}</td>
                                    <td data-label=label(8)>{held.join("; ")}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

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
const PICK: &str = "pick";

/// Whether a scan names `expected`: the same text, trimmed, in any case.
fn same(scanned: &str, expected: &str) -> bool {
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
                        not_found_status(&error);
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
fn next_row(rows: &[PickRow]) -> Option<usize> {
    rows.iter().position(|r| r.picked < r.qty)
}

/// The live pick screen: the next place, its scans and quantity, and the walk below.
/// Lazy: its code is its own file, fetched only on its page (with `cargo leptos --split`).
#[island(lazy)]
fn PickScreen(list: PickList, stored: StoredOutcome<PickForm, PickList>) -> impl IntoView {
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
fn PickRows(rows: Vec<PickRow>, current: Option<usize>) -> impl IntoView {
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
    view! {
        <section aria-labelledby="pick-walk">
            <h2 id="pick-walk">{tr!(orders.pick_screen.walk)}</h2>
            <div class="table-wrap">
                <table class="cards pick-rows">
                    <thead><tr>
                        {heads.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
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
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// Input `id` of the page (in the browser).
#[cfg(feature = "hydrate")]
fn input_by_id(id: &str) -> Option<web_sys::HtmlInputElement> {
    use wasm_bindgen::JsCast;
    document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
}

/// Moves the focus to input `id` (in the browser).
#[allow(unused_variables)]
fn focus(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(input) = input_by_id(id) {
        let _ = input.focus();
    }
}

/// Whether element `id` has the cursor (never on the server).
#[allow(unused_variables)]
fn has_focus(id: &str) -> bool {
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
fn typed_before_live(id: &str) -> Option<String> {
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
fn select(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(input) = input_by_id(id) {
        let _ = input.focus();
        input.select();
    }
}
