//! The `/stock` page: stock by item and location with batches, filterable by sku, location and
//! free text, with the filters in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::stock::{StockFilter, StockQueryResponse};
use crate::ui::{batches_text, number, query_href, ErrorPanel};

/// The stock query for the page.
#[server(endpoint = "query_stock")]
pub async fn query_stock_page(filter: StockFilter) -> Result<StockQueryResponse, AppError> {
    let state = crate::state::app_state()?;
    let today = state.config.today();
    crate::scope::for_page(crate::stock::service::query_stock(
        &state.db, &filter, today,
    ))
    .await
}

const PER_PAGE: i64 = 50;

#[component]
pub fn StockPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = move || param("page").parse::<i64>().unwrap_or(1).max(1);
    let filter = move || StockFilter {
        sku: Some(param("sku")),
        location_code: Some(param("location_code")),
        q: Some(param("q")),
        offset: Some(crate::ui::page_offset(page(), PER_PAGE)),
        limit: Some(PER_PAGE),
        ..StockFilter::default()
    };
    let stock = Resource::new(filter, query_stock_page);

    view! {
        <Title text=tr!(stock.title)/>
        <h1>{tr!(stock.title)}</h1>
        <Form method="GET" action="" attr:class="filters" attr:role="search">
            <div>
                <label for="stock-sku">{tr!(stock.filter.sku)}</label>
                <input id="stock-sku" name="sku" value=move || param("sku") prop:value=move || param("sku") autocomplete="off"/>
            </div>
            <div>
                <label for="stock-location">{tr!(stock.filter.location)}</label>
                <input id="stock-location" name="location_code" value=move || param("location_code") prop:value=move || param("location_code") autocomplete="off"/>
            </div>
            <div>
                <label for="stock-q">{tr!(stock.filter.contains)}</label>
                <input id="stock-q" type="search" name="q" value=move || param("q") prop:value=move || param("q") placeholder=tr!(stock.filter.contains_placeholder)/>
            </div>
            <div class="form-actions">
                <button type="submit">{tr!(stock.show)}</button>
                <a class="button secondary" href="/stock">{tr!(stock.clear)}</a>
            </div>
        </Form>
        {move || crate::ui::export_links("/export/stock", &[
            ("sku", param("sku")),
            ("location_code", param("location_code")),
            ("q", param("q")),
        ])}
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || stock.get().map(|result| match result {
                Ok(answer) if answer.rows.is_empty() => view! {
                    <p class="empty">{tr!(stock.empty)}</p>
                }.into_any(),
                Ok(answer) => {
                    let link = move |n: i64| query_href("/stock", &[
                        ("sku", param("sku")), ("location_code", param("location_code")),
                        ("q", param("q")), ("page", n.to_string()),
                    ]);
                    let page = crate::domain::Page::new(answer.total, answer.offset, answer.limit, answer.rows.clone());
                    view! {
                        <div class="table-wrap">
                            <table class="cards">
                                <thead><tr>
                                    <th>{tr!(stock.col.sku)}</th><th>{tr!(stock.col.name)}</th><th>{tr!(stock.col.location)}</th>
                                    <th class="num">{tr!(stock.col.qty)}</th><th class="num">{tr!(stock.col.available)}</th>
                                    <th>{tr!(stock.col.batches)}</th>
                                </tr></thead>
                                <tbody>
                                    {answer.rows.into_iter().map(|row| view! {
                                        <tr>
                                            <td data-label={tr!(stock.col.sku)}>{row.sku}</td>
                                            <td data-label={tr!(stock.col.name)}>{row.name}</td>
                                            <td data-label={tr!(stock.col.location)}>{row.location_code}{(!crate::movement::kind_holds_available(&row.location_kind)).then(|| view! { " " <span class="badge warn" data-kind=row.location_kind.clone()>{crate::locations::kind_words(&row.location_kind)}</span> })}</td>
                                            <td data-label={tr!(stock.col.qty)} class="num">{number(row.qty)}</td>
                                            <td data-label={tr!(stock.col.available)} class="num">{number(row.available)}</td>
                                            <td data-label={tr!(stock.col.batches)}>{batches_text(&row.batches)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <crate::ui::Pager page href=link/>
                    }.into_any()
                }
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Suspense>
    }
}
