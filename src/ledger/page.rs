//! The `/ledger` page: every movement, newest first, with the API's filters in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::ledger::{LedgerFilter, LedgerPage, REASONS};
use crate::ui::{batches_text, query_href, ErrorPanel};

/// The ledger for the page.
#[server(endpoint = "list_ledger")]
pub async fn list_ledger_page(filter: LedgerFilter) -> Result<LedgerPage, AppError> {
    let state = crate::state::app_state()?;
    crate::ledger::service::list_ledger(&state.db, &filter).await
}

const PER_PAGE: i64 = 50;
const FILTERS: [&str; 4] = ["sku", "location_code", "ref", "reason"];

#[component]
pub fn LedgerPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = move || param("page").parse::<i64>().unwrap_or(1).max(1);
    let filter = move || LedgerFilter {
        sku: Some(param("sku")),
        location_code: Some(param("location_code")),
        r#ref: Some(param("ref")),
        reason: Some(param("reason")),
        offset: Some(crate::ui::page_offset(page(), PER_PAGE)),
        limit: Some(PER_PAGE),
        ..LedgerFilter::default()
    };
    let ledger = Resource::new(filter, list_ledger_page);

    view! {
        <Title text="Ledger"/>
        <h1>"Ledger"</h1>
        <Form method="GET" action="" attr:class="filters" attr:role="search">
            <div>
                <label for="ledger-sku">"SKU"</label>
                <input id="ledger-sku" name="sku" prop:value=move || param("sku") autocomplete="off"/>
            </div>
            <div>
                <label for="ledger-location">"Location"</label>
                <input id="ledger-location" name="location_code" prop:value=move || param("location_code") autocomplete="off"/>
            </div>
            <div>
                <label for="ledger-ref">"Ref"</label>
                <input id="ledger-ref" name="ref" prop:value=move || param("ref") autocomplete="off"/>
            </div>
            <div>
                <label for="ledger-reason">"Reason"</label>
                <select id="ledger-reason" name="reason" prop:value=move || param("reason")>
                    <option value="">"any"</option>
                    {REASONS.iter().map(|r| view! { <option value=*r>{*r}</option> }).collect_view()}
                </select>
            </div>
            <div class="form-actions">
                <button type="submit">"Show"</button>
                <a class="button secondary" href="/ledger">"Clear"</a>
            </div>
        </Form>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || ledger.get().map(|result| match result {
                Ok(answer) if answer.rows.is_empty() => view! {
                    <p class="empty">"No movements match these filters."</p>
                }.into_any(),
                Ok(answer) => {
                    let link = move |n: i64| {
                        let mut params: Vec<(&str, String)> = FILTERS.iter().map(|f| (*f, param(f))).collect();
                        params.push(("page", n.to_string()));
                        query_href("/ledger", &params)
                    };
                    let page = crate::domain::Page { total: answer.total, offset: answer.offset, limit: answer.limit, items: answer.rows.clone() };
                    view! {
                        <div class="table-wrap">
                            <table>
                                <thead><tr>
                                    <th>"When (UTC)"</th><th>"Reason"</th><th>"Ref"</th><th>"SKU"</th><th>"Location"</th>
                                    <th class="num">"Change"</th><th class="num">"After"</th><th>"Batches"</th>
                                </tr></thead>
                                <tbody>
                                    {answer.rows.into_iter().map(|row| view! {
                                        <tr>
                                            <td>{row.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                            <td>{row.reason}</td>
                                            <td>{format!("{} #{}", row.r#ref, row.ref_line)}</td>
                                            <td>{row.sku}</td>
                                            <td>{row.location_code}</td>
                                            <td class="num">{if row.delta > 0 { format!("+{}", row.delta) } else { row.delta.to_string() }}</td>
                                            <td class="num">{row.after_qty}</td>
                                            <td>{batches_text(&row.batches)}</td>
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
