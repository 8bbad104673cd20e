//! `/orders`: the orders, and a new one for clerks.

use super::*;

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
pub(super) fn parse_lines(text: &str) -> Result<Vec<crate::orders::NewOrderLine>, AppError> {
    let mut problems = crate::error::Problems::default();
    let mut lines = Vec::new();
    for (i, row) in text.lines().filter(|r| !r.trim().is_empty()).enumerate() {
        let parts = crate::ui::row_fields(row);
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
                warehouse_code: crate::warehouses::working(),
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
pub(super) const NEW: &str = "new";

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
        ..Default::default()
    };
    let list =
        crate::scope::for_page(crate::orders::service::list_orders(&state.db, &filter)).await?;
    let times = WarehouseTimes::of(list.orders.iter().map(|o| Some(&o.created_at)));
    Ok((list, times))
}

#[cfg(feature = "ssr")]
pub(super) const PER_PAGE: i64 = 50;

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
