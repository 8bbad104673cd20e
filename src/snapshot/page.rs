//! The homepage `/`: the inventory snapshot as a table, searchable and paged, with the search
//! and the page in the URL (`/?q=…&page=…`) so a link or the back button restores the view.
//! With JavaScript the table follows the search box as the clerk types; without it the search
//! form and the paging links do the same with full page loads.

use std::time::Duration;

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
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
/// `at` is the page's place in the list: its number, and where it starts (a previous page's
/// `next` or `prev`), so a page far down costs what the first one does.
#[server(endpoint = "inventory_snapshot")]
pub async fn snapshot_page(q: String, at: At) -> Result<SnapshotView, AppError> {
    use crate::domain::DEFAULT_PAGE_SIZE;
    use crate::snapshot::SnapshotQuery;
    use crate::ui::page_offset;
    let state = crate::state::app_state()?;
    let query = SnapshotQuery {
        q: Some(q),
        offset: Some(page_offset(at.page, DEFAULT_PAGE_SIZE)),
        limit: Some(DEFAULT_PAGE_SIZE),
        after: Some(at.after),
        before: Some(at.before),
    };
    let page = crate::snapshot::service::inventory(&state.db, &query, &state.config).await?;
    Ok(SnapshotView {
        page,
        today: state.config.today(),
        near_expiry_days: state.config.near_expiry_days,
    })
}

/// A page of the homepage's table: its number (from 1), and the place it starts after or ends
/// before (`after`/`before` of the URL, blank for none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct At {
    pub page: i64,
    pub after: String,
    pub before: String,
}

impl At {
    /// The first page.
    fn first() -> Self {
        Self {
            page: 1,
            ..Self::default()
        }
    }

    /// The page a URL's `page`, `after` and `before` values name.
    fn of(page: Option<&str>, after: Option<String>, before: Option<String>) -> Self {
        Self {
            page: page_number(page),
            after: after.unwrap_or_default(),
            before: before.unwrap_or_default(),
        }
    }
}

#[component]
pub fn InventoryPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let at = move || {
        let query = query.read();
        At::of(
            query.get("page").as_deref(),
            query.get("after"),
            query.get("before"),
        )
    };
    let snapshot = Resource::new(move || (q(), at()), |(q, at)| snapshot_page(q, at));
    view! {
        <Title text=tr!(inventory.title)/>
        <h1>{tr!(inventory.title)}</h1>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                let first = snapshot.await;
                view! { <InventorySearch q=q() at=at() first/> }
            })}
        </Suspense>
    }
}

/// The 1-based page number of a `page` query value (1 when absent or not a number).
fn page_number(value: Option<&str>) -> i64 {
    value
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// The search box and the table, live: the table follows the box as the clerk types, and the
/// URL follows the search (the first change of a search adds a history entry, refining it
/// replaces that entry, so Back returns to the view before the search; Back and Forward show
/// their search again). One request is in flight at a time, and an answer to a search typed
/// over since is dropped.
#[island]
fn InventorySearch(q: String, at: At, first: Result<SnapshotView, AppError>) -> impl IntoView {
    crate::ui::island_live();
    let shown = RwSignal::new((q.clone(), at, first));
    let input = NodeRef::<leptos::html::Input>::new();
    // One request in flight at a time: a search asked for meanwhile waits here (the latest
    // replacing any older one), and the answer in flight is then dropped unseen, since it
    // answers a search typed over. A handheld on a slow link sends one request per pause,
    // never a queue of them, and never shows an answer older than the box.
    let in_flight = StoredValue::new(false);
    let waiting = StoredValue::new(None::<(String, At)>);
    let show = move |q: String, at: At| {
        if in_flight.get_value() {
            waiting.set_value(Some((q, at)));
            return;
        }
        in_flight.set_value(true);
        leptos::task::spawn_local(async move {
            let (mut q, mut at) = (q, at);
            loop {
                let answer = snapshot_page(q.clone(), at.clone()).await;
                match waiting.try_update_value(Option::take).flatten() {
                    Some(next) => (q, at) = next,
                    None => {
                        shown.set((q, at, answer));
                        break;
                    }
                }
            }
            in_flight.set_value(false);
        });
    };
    let search_for = move |value: String| {
        let value = value.trim().to_string();
        let current = address_query().0;
        if value == current {
            return;
        }
        crate::ui::show_address(
            &query_href("/", &[("q", value.clone())]),
            !current.is_empty(),
        );
        show(value, At::first());
    };
    let mut follow_typing = debounce(SEARCH_DEBOUNCE, search_for);
    let box_value = q.clone();
    Effect::new(move |_| {
        // Letters typed before the page came alive are the clerk's: search for them.
        if let Some(input) = input.get_untracked() {
            if input.value().trim() != q {
                search_for(input.value());
            }
        }
    });
    // Back and Forward: the search and page of the address, in the box and the table.
    let _ = window_event_listener(leptos::ev::popstate, move |_| {
        let (q, at) = address_query();
        if let Some(input) = input.get_untracked() {
            if input.value().trim() != q {
                input.set_value(&q);
            }
        }
        show(q, at);
    });
    view! {
        <form method="GET" action="/" class="search" role="search"
            on:submit=move |ev| {
                ev.prevent_default();
                if let Some(input) = input.get_untracked() {
                    search_for(input.value());
                }
            }>
            <label for="snapshot-q" class="visually-hidden">{tr!(inventory.search_label)}</label>
            <input id="snapshot-q" type="search" name="q" node_ref=input value=box_value
                placeholder=tr!(inventory.search_placeholder) autocomplete="off" maxlength="64"
                on:input=move |ev| follow_typing(event_target_value(&ev))/>
            <button type="submit">{tr!(inventory.search)}</button>
        </form>
        {move || shown.with(|(q, at, result)| match result {
            Ok(view) => view! { <SnapshotTable view=view.clone() q=q.clone() page=at.page/> }.into_any(),
            Err(error) => view! { <ErrorPanel error=error.clone()/> }.into_any(),
        })}
    }
}

/// The search and page in the browser's address bar (the first page of everything on the
/// server).
fn address_query() -> (String, At) {
    #[cfg(feature = "hydrate")]
    {
        let search = window().location().search().unwrap_or_default();
        let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
        let get = |name: &str| params.as_ref().and_then(|p| p.get(name));
        (
            get("q").unwrap_or_default().trim().to_string(),
            At::of(get("page").as_deref(), get("after"), get("before")),
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        (String::new(), At::first())
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
        // How many there are, before the first card: a handheld shows two cards a screen.
        <p class="list-total">{crate::ui::rows_words(&snapshot)}</p>
        <p class="muted">{tr!(inventory.hint, days = near_expiry_days, today = today)}</p>
        {crate::ui::export_links("/export/snapshot", &[("q", q.clone())])}
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
