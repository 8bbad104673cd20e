//! The `/warehouses` page: every warehouse, the one this device works in (kept in a cookie, so
//! any node serving the next request knows it: [`crate::warehouses::working`]), and for admins a
//! create form. The header shows the working warehouse once Depot has several.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::AppError;
use crate::ui::{form_action, outcome_view, stored_outcome, ErrorPanel, Outcome};
use crate::warehouses::{NewWarehouseInput, Warehouse};

/// Every warehouse, and the one this device works in.
#[server(endpoint = "list_warehouses")]
pub async fn warehouses_page() -> Result<(Vec<Warehouse>, Option<String>), AppError> {
    let state = crate::state::app_state()?;
    let list =
        crate::warehouses::service::list_warehouses(&state.db, state.config.timezone).await?;
    Ok((list, crate::warehouses::working()))
}

/// What the header says of the working warehouse: nothing while Depot has one; with several,
/// its code (`None`: this device chose none, or one that is gone).
#[server(endpoint = "working_warehouse")]
pub async fn working_warehouse() -> Result<Option<Option<String>>, AppError> {
    let state = crate::state::app_state()?;
    let list =
        crate::warehouses::service::list_warehouses(&state.db, state.config.timezone).await?;
    if list.len() < 2 {
        return Ok(None);
    }
    let chosen = crate::warehouses::working().filter(|code| list.iter().any(|w| &w.code == code));
    Ok(Some(chosen))
}

/// Creates a warehouse from the page's form (admins).
#[server(endpoint = "create_warehouse")]
pub async fn create_warehouse_form(
    code: String,
    name: String,
    timezone: String,
) -> Result<Outcome<NewWarehouseInput, Warehouse>, AppError> {
    use crate::warehouses::service::{create_warehouse, NewWarehouse};
    let state = crate::state::app_state()?;
    let form = NewWarehouseInput {
        code,
        name,
        timezone: Some(timezone),
    };
    let result = match NewWarehouse::parse(&form, state.config.timezone) {
        Ok(warehouse) => create_warehouse(&state.db, &warehouse, state.config.timezone).await,
        Err(error) => Err(error),
    };
    Ok(crate::ui::finish_form("/warehouses", "", form, result).await)
}

/// The header's word on the working warehouse, once Depot has several: a link to this page.
#[component]
pub fn WorkingWarehouse() -> impl IntoView {
    let working = Resource::new(|| (), |_| working_warehouse());
    view! {
        <Suspense fallback=|| ()>
            {move || working.get().and_then(Result::ok).flatten().map(|chosen| {
                // On a narrow screen the code alone: the label gives way first.
                let (label, words, missing) = match &chosen {
                    Some(code) => (Some(tr!(warehouses.chip_label)), code.clone(), false),
                    None => (None, tr!(warehouses.chip_none), true),
                };
                view! {
                    <a class="warehouse-chip" class:missing=missing href="/warehouses" title=tr!(warehouses.chip_title)>
                        <span>{label.map(|l| view! { <span class="chip-label">{l}" "</span> })}{words}</span>
                    </a>
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn WarehousesPage() -> impl IntoView {
    let create = form_action::<CreateWarehouseForm>();
    let warehouses = Resource::new(move || create.version().get(), |_| warehouses_page());
    let stored = stored_outcome::<NewWarehouseInput, Warehouse>("/warehouses");
    let admin = is_admin();

    view! {
        <Title text=tr!(warehouses.title)/>
        <h1>{tr!(warehouses.title)}</h1>
        <p class="lead">{tr!(warehouses.lead)}</p>
        {admin.then(|| view! {
            <section class="card" aria-labelledby="new-warehouse">
                <h2 id="new-warehouse">{tr!(warehouses.new_heading)}</h2>
                <Transition fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
                {move || stored.get().map(|stored| {
                    let sent = stored.clone().refused_form();
                    view! {
                        <ActionForm action=create>
                            <div class="grid-form">
                                <div>
                                    <label for="warehouse-code">{tr!(warehouses.field.code)}</label>
                                    <input id="warehouse-code" name="code" required maxlength="32" autocomplete="off" placeholder=tr!(warehouses.code_placeholder) value=sent.code/>
                                </div>
                                <div>
                                    <label for="warehouse-name">{tr!(warehouses.field.name)}</label>
                                    <input id="warehouse-name" name="name" required maxlength="128" value=sent.name/>
                                </div>
                                <div>
                                    <label for="warehouse-timezone">{tr!(warehouses.field.timezone)}</label>
                                    <input id="warehouse-timezone" name="timezone" maxlength="64" autocomplete="off" placeholder=tr!(warehouses.timezone_placeholder) value=sent.timezone.unwrap_or_default()/>
                                </div>
                                <div class="form-actions">
                                    <button type="submit" disabled=move || create.pending().get()>{tr!(warehouses.submit)}</button>
                                </div>
                            </div>
                        </ActionForm>
                        {move || outcome_view(create.value().get(), stored.clone(), NewWarehouseInput::default, |o| view! { <CreateWarehouseResult outcome=o/> }.into_any())}
                    }
                })}
                </Transition>
            </section>
        })}
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || warehouses.get().map(|result| match result {
                Ok((list, _)) if list.is_empty() => view! { <p class="empty">{tr!(warehouses.empty)}</p> }.into_any(),
                Ok((list, working)) => {
                    let several = list.len() > 1;
                    view! {
                        <div class="table-wrap">
                            <table class="cards">
                                <thead><tr>
                                    <th>{tr!(warehouses.field.code)}</th><th>{tr!(warehouses.field.name)}</th>
                                    <th>{tr!(warehouses.field.timezone)}</th><th></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|w| {
                                        let here = working.as_deref() == Some(w.code.as_str()) || !several;
                                        let href = format!("/warehouses/use/{}", crate::ui::urlencode(&w.code));
                                        view! {
                                            <tr data-warehouse=w.code.clone()>
                                                <td data-label=tr!(warehouses.field.code)><strong>{w.code.clone()}</strong></td>
                                                <td data-label=tr!(warehouses.field.name)>{w.name.clone()}</td>
                                                <td data-label=tr!(warehouses.field.timezone)>{w.timezone.clone()}</td>
                                                <td>{if here {
                                                    view! { <span class="badge ok">{tr!(warehouses.working_here)}</span> }.into_any()
                                                } else {
                                                    view! { <a class="button secondary" href=href rel="external">{tr!(warehouses.work_here)}</a> }.into_any()
                                                }}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Suspense>
    }
}

/// Whether an admin is signed in (the page around the form is the server's alone).
fn is_admin() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::auth::access::current_principal().is_some_and(|p| p.role == crate::auth::Role::Admin)
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

#[component]
fn CreateWarehouseResult(outcome: Outcome<NewWarehouseInput, Warehouse>) -> impl IntoView {
    match outcome.result {
        Ok(warehouse) => view! {
            <p class="success" role="status">{tr!(warehouses.created, code = warehouse.code)}</p>
        }
        .into_any(),
        Err(error) => view! { <ErrorPanel error/> }.into_any(),
    }
}
