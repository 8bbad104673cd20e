//! The `/locations` page: a searchable, paged list with a kind filter and a create form.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::domain::Page;
use crate::error::AppError;
use crate::locations::{Location, NewLocationInput};
use crate::ui::{
    form_action, outcome_view, query_href, stored_outcome, ErrorPanel, Outcome, Pager,
};

/// One page of locations matching `q` and `kind` (blank: any).
#[server(endpoint = "list_locations")]
pub async fn list_locations_page(
    q: String,
    kind: String,
    page: i64,
) -> Result<Page<Location>, AppError> {
    use crate::domain::{LocationKind, Paging, DEFAULT_PAGE_SIZE};
    let state = crate::state::app_state()?;
    let paging = Paging::parse(
        Some(crate::ui::page_offset(page, DEFAULT_PAGE_SIZE)),
        Some(DEFAULT_PAGE_SIZE),
    )?;
    let kind = match kind.trim() {
        "" => None,
        raw => Some(LocationKind::parse("kind", raw)?),
    };
    crate::scope::for_page(crate::locations::service::list_locations(
        &state.db,
        Some(&q),
        kind,
        None,
        paging,
    ))
    .await
}

/// Creates a location from the page's form.
#[server(endpoint = "create_location")]
pub async fn create_location_form(
    code: String,
    name: String,
    kind: String,
) -> Result<Outcome<NewLocationInput, Location>, AppError> {
    use crate::locations::service::{create_location, NewLocation};
    let state = crate::state::app_state()?;
    let form = NewLocationInput {
        warehouse_code: crate::warehouses::working(),
        code,
        name: Some(name),
        kind,
    };
    let result = match NewLocation::parse(&form) {
        Ok(location) => create_location(&state.db, &location).await,
        Err(error) => Err(error),
    };
    Ok(crate::ui::finish_form("/locations", "", form, result).await)
}

#[component]
pub fn LocationsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let kind = move || query.read().get("kind").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let create = form_action::<CreateLocationForm>();
    let locations = Resource::new(
        move || (q(), kind(), page(), create.version().get()),
        |(q, kind, page, _)| list_locations_page(q, kind, page),
    );
    let stored = stored_outcome::<NewLocationInput, Location>("/locations");

    view! {
        <Title text=tr!(locations.title)/>
        <h1>{tr!(locations.title)}</h1>
        <section class="card" aria-labelledby="new-location">
            <h2 id="new-location">{tr!(locations.new_heading)}</h2>
            <Transition fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || stored.get().map(|stored| {
                let sent = stored.clone().refused_form();
                let kind_is = |k: &str| sent.kind == k || (sent.kind.is_empty() && k == "storage");
                let kinds = ["storage", "receiving", "shipping", "quarantine"]
                    .into_iter()
                    .map(|k| view! { <option value=k selected=kind_is(k)>{crate::locations::kind_words(k)}</option> })
                    .collect_view();
                view! {
                    <ActionForm action=create>
                        <div class="grid-form">
                            <div>
                                <label for="location-code">{tr!(locations.field.code)}</label>
                                <input id="location-code" name="code" required maxlength="32" autocomplete="off" placeholder=tr!(locations.code_placeholder) value=sent.code/>
                            </div>
                            <div>
                                <label for="location-name">{tr!(locations.field.name)}</label>
                                <input id="location-name" name="name" maxlength="128" value=sent.name/>
                            </div>
                            <div>
                                <label for="location-kind">{tr!(locations.field.kind)}</label>
                                <select id="location-kind" name="kind">{kinds}</select>
                            </div>
                            <div class="form-actions">
                                <button type="submit" disabled=move || create.pending().get()>{tr!(locations.submit)}</button>
                            </div>
                        </div>
                    </ActionForm>
                    {move || outcome_view(create.value().get(), stored.clone(), NewLocationInput::default, |o| view! { <CreateLocationResult outcome=o/> }.into_any())}
                }
            })}
            </Transition>
        </section>

        <Form method="GET" action="" attr:class="search" attr:role="search">
            <label for="location-q" class="visually-hidden">{tr!(locations.search_label)}</label>
            <input id="location-q" type="search" name="q" placeholder=tr!(locations.search_placeholder) value=q prop:value=q/>
            <label for="location-filter" class="visually-hidden">{tr!(locations.filter_label)}</label>
            <select id="location-filter" name="kind" prop:value=kind>
                <option value="">{tr!(locations.all_kinds)}</option>
                <option value="receiving" selected=move || kind() == "receiving">{tr!(locations.kind.receiving)}</option>
                <option value="storage" selected=move || kind() == "storage">{tr!(locations.kind.storage)}</option>
                <option value="shipping" selected=move || kind() == "shipping">{tr!(locations.kind.shipping)}</option>
                <option value="quarantine" selected=move || kind() == "quarantine">{tr!(locations.kind.quarantine)}</option>
            </select>
            <button type="submit">{tr!(locations.search)}</button>
        </Form>
        <p>
            <a class="button secondary" href=move || query_href("/labels/locations", &[("q", q()), ("kind", kind())])>{tr!(labels.link_locations)}</a>
        </p>

        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || locations.get().map(|result| match result {
                Ok(page) if page.items.is_empty() && page.total > 0 => view! {
                    <crate::ui::PastTheEnd total=page.total first=query_href("/locations", &[("q", q()), ("kind", kind())])/>
                }.into_any(),
                Ok(page) if page.items.is_empty() => view! {
                    <p class="empty">{tr!(locations.empty)}</p>
                }.into_any(),
                Ok(page) => {
                    let (q, kind) = (q(), kind());
                    let rows = page.items.clone();
                    view! {
                        <div class="table-wrap">
                            <table class="cards">
                                <thead><tr>
                                    <th>{tr!(locations.field.code)}</th><th>{tr!(locations.field.name)}</th>
                                    <th>{tr!(locations.field.kind)}</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|location| view! {
                                        <tr>
                                            <td data-label={tr!(locations.field.code)}><a href=format!("/stock?location_code={}", crate::ui::urlencode(&location.code))>{location.code.clone()}</a></td>
                                            <td data-label={tr!(locations.field.name)}>{location.name}</td>
                                            <td data-label={tr!(locations.field.kind)}><span class="badge kind" data-kind=location.kind.clone()>{crate::locations::kind_words(&location.kind)}</span></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <Pager page href=move |n| query_href("/locations", &[("q", q.clone()), ("kind", kind.clone()), ("page", n.to_string())])/>
                    }.into_any()
                }
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn CreateLocationResult(outcome: Outcome<NewLocationInput, Location>) -> impl IntoView {
    match outcome.result {
        Ok(location) => view! {
            <p class="success" role="status">{tr!(locations.created, code = location.code, kind = crate::locations::kind_words(&location.kind))}</p>
        }
        .into_any(),
        Err(error) => view! { <ErrorPanel error/> }.into_any(),
    }
}
