//! `/orders/{ref}`: an order's lines and what it holds where; reserve again, ship, cancel.

use super::*;

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
pub(super) const ACT: &str = "act";

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
pub(super) async fn action_outcome(
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
                        crate::ui::not_found_status(&error);
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
pub(super) fn act_button(
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
pub(super) fn OrderLines(order: Order) -> impl IntoView {
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
    let columns: Vec<(String, bool)> = heads
        .iter()
        .enumerate()
        .map(|(i, head)| (head.clone(), (3..8).contains(&i)))
        .collect();
    let rows = view! {
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
    };
    crate::ui::cards_section(
        "order-lines",
        tr!(orders.lines_heading),
        None,
        "order-lines",
        &columns,
        rows.into_any(),
    )
}
