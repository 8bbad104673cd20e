//! The homepage `/`: the inventory snapshot as a table, searchable and paged, with the search
//! and the page in the URL (`/?q=…&page=…`) so a link or the back button restores the view.
//! With JavaScript the table follows the search box as the clerk types; without it the search
//! form and the paging links do the same with full page loads.

use std::time::Duration;

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use serde::{Deserialize, Serialize};

use crate::domain::Page;
use crate::error::AppError;
use crate::snapshot::SnapshotItem;
use crate::ui::{number, query_href, urlencode, ErrorPanel, Pager};

/// How long typing must pause before the table follows the search box.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(250);

/// One page of the snapshot, and the date the badges are judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotView {
    pub page: Page<SnapshotItem>,
    pub today: NaiveDate,
    pub near_expiry_days: u32,
}

/// The snapshot for the homepage: the same query as `GET /snapshot/inventory`.
#[server(endpoint = "inventory_snapshot")]
pub async fn snapshot_page(q: String, page: i64) -> Result<SnapshotView, AppError> {
    use crate::domain::DEFAULT_PAGE_SIZE;
    use crate::snapshot::SnapshotQuery;
    use crate::ui::page_offset;
    let state = crate::state::app_state()?;
    let query = SnapshotQuery {
        q: Some(q),
        offset: Some(page_offset(page, DEFAULT_PAGE_SIZE)),
        limit: Some(DEFAULT_PAGE_SIZE),
    };
    let page = crate::snapshot::service::inventory(&state.db, &query, &state.config).await?;
    Ok(SnapshotView {
        page,
        today: state.config.today(),
        near_expiry_days: state.config.near_expiry_days,
    })
}

#[component]
pub fn InventoryPage() -> impl IntoView {
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
    let snapshot = Resource::new(move || (q(), page()), |(q, page)| snapshot_page(q, page));

    // Search as you type: the first change of a search adds a history entry, refining it
    // replaces that entry, so Back returns to the view before the search.
    let input = NodeRef::<leptos::html::Input>::new();
    let typed = StoredValue::new(None::<String>);
    let navigate = use_navigate();
    let search_for = move |value: String| {
        let value = value.trim().to_string();
        let current = query.read_untracked().get("q").unwrap_or_default();
        if value == current {
            return;
        }
        typed.set_value(Some(value.clone()));
        navigate(
            &query_href("/", &[("q", value)]),
            NavigateOptions {
                replace: !current.is_empty(),
                scroll: false,
                ..Default::default()
            },
        );
    };
    let mut follow_typing = debounce(SEARCH_DEBOUNCE, search_for.clone());
    // When the URL's search changes by other means (Back, a link), the box shows it; a change
    // the box itself made is left alone, so letters typed meanwhile are never overwritten.
    Effect::new(move |ran_before: Option<()>| {
        let q = q();
        if ran_before.is_none() {
            // Letters typed before the page came alive are the clerk's: search for them.
            if let Some(input) = input.get_untracked() {
                if input.value().trim() != q {
                    search_for(input.value());
                }
            }
            return;
        }
        if typed.get_value().as_deref() == Some(q.as_str()) {
            return;
        }
        typed.set_value(None);
        if let Some(input) = input.get() {
            if input.value().trim() != q {
                input.set_value(&q);
            }
        }
    });

    view! {
        <Title text=tr!(inventory.title)/>
        <h1>{tr!(inventory.title)}</h1>
        <Form method="GET" action="/" attr:class="search" attr:role="search">
            <label for="snapshot-q" class="visually-hidden">{tr!(inventory.search_label)}</label>
            <input id="snapshot-q" type="search" name="q" node_ref=input value=q
                placeholder=tr!(inventory.search_placeholder) autocomplete="off" maxlength="64"
                on:input=move |ev| follow_typing(event_target_value(&ev))/>
            <button type="submit">{tr!(inventory.search)}</button>
        </Form>
        <Transition fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || snapshot.get().map(|result| match result {
                Ok(view) => view! { <SnapshotTable view q=q() page=page()/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn SnapshotTable(view: SnapshotView, q: String, page: i64) -> impl IntoView {
    let SnapshotView {
        page: snapshot,
        today,
        near_expiry_days,
    } = view;
    if snapshot.total == 0 {
        return if q.is_empty() {
            view! {
                <p class="empty">{tr!(inventory.empty.before)}
                    <a href="/inbound">{tr!(inventory.empty.link)}</a>{tr!(inventory.empty.after)}</p>
            }
            .into_any()
        } else {
            view! {
                <p class="empty">{tr!(inventory.no_match, q = q.clone())} " "
                    <a href="/">{tr!(inventory.show_all)}</a></p>
            }
            .into_any()
        };
    }
    if snapshot.items.is_empty() {
        let first = query_href("/", &[("q", q.clone())]);
        return view! {
            <p class="empty">{tr!(inventory.past_end, page = page)} " "
                <a href=first>{tr!(inventory.first_page)}</a></p>
        }
        .into_any();
    }
    let rows = snapshot.items.clone();
    view! {
        <p class="muted">{tr!(inventory.hint, days = near_expiry_days, today = today)}</p>
        <div class="table-wrap">
            <table class="snapshot cards">
                <thead><tr>
                    <th>{tr!(inventory.col.sku)}</th><th>{tr!(inventory.col.name)}</th>
                    <th>{tr!(inventory.col.spec)}</th><th class="num">{tr!(inventory.col.total)}</th>
                    <th>{tr!(inventory.col.top_locations)}</th><th>{tr!(inventory.col.earliest_expiry)}</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|item| {
                        let badge = if item.expired(today) {
                            Some(view! { <span class="badge bad">{tr!(inventory.badge.expired)}</span> })
                        } else if item.near_expiry {
                            Some(view! { <span class="badge warn">{tr!(inventory.badge.near_expiry)}</span> })
                        } else {
                            None
                        };
                        view! {
                            <tr>
                                <td data-label={tr!(inventory.col.sku)}><a href=format!("/stock?sku={}", urlencode(&item.sku))>{item.sku.clone()}</a></td>
                                <td data-label={tr!(inventory.col.name)}>{item.name}</td>
                                <td data-label={tr!(inventory.col.spec)}>{item.spec}</td>
                                <td data-label={tr!(inventory.col.total)} class="num">{number(item.total_qty)}</td>
                                <td data-label={tr!(inventory.col.top_locations)}>{item.top2_locations.into_iter().map(|l| view! {
                                    <span class="location-qty">
                                        <a href=format!("/stock?location_code={}", urlencode(&l.location_code))>{l.location_code.clone()}</a>
                                        {format!(" {}", number(l.qty))}
                                    </span>
                                }).collect_view()}</td>
                                <td data-label={tr!(inventory.col.earliest_expiry)}>{item.earliest_expiry.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}" "{badge}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <Pager page=snapshot href=move |n| query_href("/", &[("q", q.clone()), ("page", n.to_string())])/>
    }
    .into_any()
}
