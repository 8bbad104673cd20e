//! The `/items` page: a searchable, paged list and a create form; and the server functions
//! behind them.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::domain::Page;
use crate::error::AppError;
use crate::items::{Item, NewItemInput};
use crate::ui::{
    form_action, outcome_view, query_href, stored_outcome, ErrorPanel, Outcome, Pager,
};

/// One page of items matching `q`, for the page.
#[server(endpoint = "list_items")]
pub async fn list_items_page(q: String, page: i64) -> Result<Page<Item>, AppError> {
    use crate::domain::{Paging, DEFAULT_PAGE_SIZE};
    use crate::ui::page_offset;
    let state = crate::state::app_state()?;
    let paging = Paging::parse(
        Some(page_offset(page, DEFAULT_PAGE_SIZE)),
        Some(DEFAULT_PAGE_SIZE),
    )?;
    crate::items::service::list_items(&state.db, Some(&q), paging).await
}

/// Creates an item from the page's form.
#[server(endpoint = "create_item")]
pub async fn create_item_form(
    sku: String,
    name: String,
    spec: String,
    unit: String,
    #[server(default)] barcode: String,
) -> Result<Outcome<NewItemInput, Item>, AppError> {
    use crate::items::service::{create_item, NewItem};
    let state = crate::state::app_state()?;
    let form = NewItemInput {
        sku,
        name,
        spec: Some(spec),
        unit: Some(unit).filter(|u| !u.trim().is_empty()),
        barcode: Some(barcode).filter(|b| !b.trim().is_empty()),
    };
    let result = match NewItem::parse(&form) {
        Ok(item) => create_item(&state.db, &item).await,
        Err(error) => Err(error),
    };
    Ok(crate::ui::finish_form("/items", "", form, result).await)
}

#[component]
pub fn ItemsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let create = form_action::<CreateItemForm>();
    let items = Resource::new(
        move || (q(), page(), create.version().get()),
        |(q, page, _)| list_items_page(q, page),
    );
    let stored = stored_outcome::<NewItemInput, Item>("/items");

    view! {
        <Title text=tr!(items.title)/>
        <h1>{tr!(items.title)}</h1>
        <section class="card" aria-labelledby="new-item">
            <h2 id="new-item">{tr!(items.new_heading)}</h2>
            <Transition fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || stored.get().map(|stored| {
                let sent = stored.clone().refused_form();
                view! {
                    <ActionForm action=create>
                        <div class="grid-form">
                        <div>
                            <label for="item-sku">{tr!(items.field.sku)}</label>
                            <input id="item-sku" name="sku" required maxlength="64" autocomplete="off" value=sent.sku/>
                        </div>
                        <div>
                            <label for="item-name">{tr!(items.field.name)}</label>
                            <input id="item-name" name="name" required maxlength="128" value=sent.name/>
                        </div>
                        <div>
                            <label for="item-spec">{tr!(items.field.spec)}</label>
                            <input id="item-spec" name="spec" maxlength="256" placeholder=tr!(items.spec_placeholder) value=sent.spec/>
                        </div>
                        <div>
                            <label for="item-unit">{tr!(items.field.unit)}</label>
                            <input id="item-unit" name="unit" maxlength="16" placeholder=tr!(items.unit_placeholder) value=sent.unit/>
                        </div>
                        <div>
                            <label for="item-barcode">{tr!(items.field.barcode)}</label>
                            <input id="item-barcode" name="barcode" maxlength="14" inputmode="numeric"
                                autocomplete="off" placeholder=tr!(items.barcode_placeholder) value=sent.barcode/>
                        </div>
                        <div class="form-actions">
                            <button type="submit" disabled=move || create.pending().get()>{tr!(items.submit)}</button>
                        </div>
                        </div>
                    </ActionForm>
                    {move || outcome_view(create.value().get(), stored.clone(), NewItemInput::default, |o| view! { <CreateItemResult outcome=o/> }.into_any())}
                }
            })}
            </Transition>
        </section>

        <Form method="GET" action="" attr:class="search" attr:role="search">
            <label for="item-q" class="visually-hidden">{tr!(items.search_label)}</label>
            <input id="item-q" type="search" name="q" placeholder=tr!(items.search_placeholder) value=q prop:value=q/>
            <button type="submit">{tr!(items.search)}</button>
        </Form>

        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || items.get().map(|result| match result {
                Ok(page) if page.items.is_empty() && page.total > 0 => view! {
                    <crate::ui::PastTheEnd total=page.total first=query_href("/items", &[("q", q())])/>
                }.into_any(),
                Ok(page) if page.items.is_empty() => view! {
                    <p class="empty">{if q().is_empty() { tr!(items.empty) } else { tr!(items.no_match, q = q()) }}</p>
                }.into_any(),
                Ok(page) => {
                    let q = q();
                    let rows = page.items.clone();
                    view! {
                        <div class="table-wrap">
                            <table class="cards">
                                <thead><tr>
                                    <th>{tr!(items.field.sku)}</th><th>{tr!(items.field.name)}</th>
                                    <th>{tr!(items.field.spec)}</th><th>{tr!(items.field.unit)}</th>
                                    <th>{tr!(items.field.barcode)}</th>
                                    <th><span class="visually-hidden">{tr!(labels.batches_title)}</span></th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|item| view! {
                                        <tr>
                                            <td data-label={tr!(items.field.sku)}><a href=format!("/stock?sku={}", crate::ui::urlencode(&item.sku))>{item.sku.clone()}</a></td>
                                            <td data-label={tr!(items.field.name)}>{item.name}</td>
                                            <td data-label={tr!(items.field.spec)}>{item.spec}</td>
                                            <td data-label={tr!(items.field.unit)}>{item.unit}</td>
                                            <td data-label={tr!(items.field.barcode)}>{item.barcode}</td>
                                            <td data-label={tr!(labels.batches_title)}>
                                                <a href=format!("/labels/batches?sku={}", crate::ui::urlencode(&item.sku))>{tr!(labels.link_batches)}</a>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <Pager page href=move |n| query_href("/items", &[("q", q.clone()), ("page", n.to_string())])/>
                    }.into_any()
                }
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn CreateItemResult(outcome: Outcome<NewItemInput, Item>) -> impl IntoView {
    match outcome.result {
        Ok(item) => view! {
            <p class="success" role="status">{tr!(items.created, sku = item.sku, name = item.name)}</p>
        }
        .into_any(),
        Err(error) => view! { <ErrorPanel error/> }.into_any(),
    }
}
