//! The `/ledger` page: every movement, newest first, with the API's filters in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::adjust::{reason_words as reason_words_of, ReasonCode};
use crate::error::AppError;
use crate::kinds::{reason_words, reasons};
use crate::ledger::{LedgerFilter, LedgerPage};
use crate::ui::{batches_text, number, query_href, ErrorPanel, WarehouseTimes};

/// The ledger for the page, with its moments in the warehouse's time.
#[server(endpoint = "list_ledger")]
pub async fn list_ledger_page(
    filter: LedgerFilter,
) -> Result<(LedgerPage, WarehouseTimes), AppError> {
    let state = crate::state::app_state()?;
    let reasons = crate::kinds::reasons();
    let page = crate::scope::for_page(crate::ledger::service::list_ledger(
        &state.db, &filter, &reasons,
    ))
    .await?;
    let times = WarehouseTimes::of(page.rows.iter().map(|row| Some(&row.occurred_at)));
    Ok((page, times))
}

const PER_PAGE: i64 = 50;
const FILTERS: [&str; 5] = ["sku", "location_code", "ref", "reason", "reason_code"];

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
        reason_code: Some(param("reason_code")),
        offset: Some(crate::ui::page_offset(page(), PER_PAGE)),
        limit: Some(PER_PAGE),
        ..LedgerFilter::default()
    };
    let ledger = Resource::new(filter, list_ledger_page);

    view! {
        <Title text=tr!(ledger.title)/>
        <h1>{tr!(ledger.title)}</h1>
        <Form method="GET" action="" attr:class="filters" attr:role="search">
            <div>
                <label for="ledger-sku">{tr!(ledger.filter.sku)}</label>
                <input id="ledger-sku" name="sku" value=move || param("sku") prop:value=move || param("sku") autocomplete="off"/>
            </div>
            <div>
                <label for="ledger-location">{tr!(ledger.filter.location)}</label>
                <input id="ledger-location" name="location_code" value=move || param("location_code") prop:value=move || param("location_code") autocomplete="off"/>
            </div>
            <div>
                <label for="ledger-ref">{tr!(ledger.filter.reference)}</label>
                <input id="ledger-ref" name="ref" value=move || param("ref") prop:value=move || param("ref") autocomplete="off"/>
            </div>
            <div>
                <label for="ledger-reason">{tr!(ledger.filter.reason)}</label>
                <select id="ledger-reason" name="reason" prop:value=move || param("reason")>
                    <option value="">{tr!(ledger.filter.any_reason)}</option>
                    {reasons().into_iter().map(|r| view! { <option value=r selected=move || param("reason") == r>{reason_words(r)}</option> }).collect_view()}
                </select>
            </div>
            <div>
                <label for="ledger-reason-code">{tr!(ledger.filter.reason_code)}</label>
                <select id="ledger-reason-code" name="reason_code" prop:value=move || param("reason_code")>
                    <option value="">{tr!(ledger.filter.any_code)}</option>
                    {ReasonCode::ALL.into_iter().map(|code| view! {
                        <option value=code.as_str() selected=move || param("reason_code") == code.as_str()>{reason_words_of(code)}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="form-actions">
                <button type="submit">{tr!(ledger.show)}</button>
                <a class="button secondary" href="/ledger">{tr!(ledger.clear)}</a>
            </div>
        </Form>
        {move || crate::ui::export_links("/export/ledger", &[
            ("sku", param("sku")),
            ("location_code", param("location_code")),
            ("ref", param("ref")),
            ("reason", param("reason")),
            ("reason_code", param("reason_code")),
        ])}
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || ledger.get().map(|result| match result {
                Ok((answer, _)) if answer.rows.is_empty() => view! {
                    <p class="empty">{tr!(ledger.empty)}</p>
                }.into_any(),
                Ok((answer, times)) => {
                    let when_label = tr!(ledger.col.when, zone = times.zone.clone());
                    let link = move |n: i64| {
                        let mut params: Vec<(&str, String)> = FILTERS.iter().map(|f| (*f, param(f))).collect();
                        params.push(("page", n.to_string()));
                        query_href("/ledger", &params)
                    };
                    let page = crate::domain::Page::new(answer.total, answer.offset, answer.limit, answer.rows.clone());
                    view! {
                        <div class="table-wrap">
                            <table class="cards">
                                <thead><tr>
                                    <th>{when_label.clone()}</th><th>{tr!(ledger.col.reason)}</th><th>{tr!(ledger.col.reference)}</th>
                                    <th>{tr!(ledger.col.sku)}</th><th>{tr!(ledger.col.location)}</th>
                                    <th class="num">{tr!(ledger.col.delta)}</th><th class="num">{tr!(ledger.col.after_qty)}</th>
                                    <th>{tr!(ledger.col.batches)}</th><th>{tr!(ledger.col.actor)}</th>
                                </tr></thead>
                                <tbody>
                                    {answer.rows.into_iter().enumerate().map(|(i, row)| view! {
                                        <tr>
                                            <td data-label={when_label.clone()}>{times.at(i)}</td>
                                            <td data-label={tr!(ledger.col.reason)} data-reason=row.reason.clone()>
                                                {reason_words(&row.reason)}
                                                {row.reason_code.as_deref().and_then(ReasonCode::from_name).map(|code| view! {
                                                    " · " <span data-reason-code=code.as_str()>{reason_words_of(code)}</span>
                                                })}
                                                {row.note.clone().map(|note| view! { <small class="note-text">{note}</small> })}
                                            </td>
                                            <td data-label={tr!(ledger.col.reference)}>{format!("{} #{}", row.r#ref, row.ref_line)}</td>
                                            <td data-label={tr!(ledger.col.sku)}>{row.sku}</td>
                                            <td data-label={tr!(ledger.col.location)}>{row.location_code}</td>
                                            <td data-label={tr!(ledger.col.delta)} class="num">{if row.delta > 0 { format!("+{}", number(row.delta)) } else { number(row.delta) }}</td>
                                            <td data-label={tr!(ledger.col.after_qty)} class="num">{number(row.after_qty)}</td>
                                            <td data-label={tr!(ledger.col.batches)}>{batches_text(&row.batches)}</td>
                                            <td data-label={tr!(ledger.col.actor)} data-actor=row.actor.clone()>{row.actor.as_deref().map(crate::ledger::actor_words)}</td>
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
