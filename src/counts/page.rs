//! `/counts` (the counts, and a new one for managers) and `/counts/{id}` (a handheld screen to
//! record counted lines — scan location, scan item or carton, quantity, Enter — and, for
//! managers, the differences to review, post or cancel). Same services as the JSON endpoints.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::counts::{count_ref, Count, CountList, CountStatus};
use crate::error::AppError;
use crate::lines::{movement_form, FormWords, MovementForm};
use crate::ui::{
    form_action, number, query_href, stored_outcome, stored_outcome_of, ErrorPanel, Outcome, Pager,
    StoredOutcome, WarehouseTimes,
};

/// A count's status as its badge's class: still open, posted, cancelled.
fn status_class(status: CountStatus) -> &'static str {
    match status {
        CountStatus::Open => "badge warn",
        CountStatus::Posted => "badge ok",
        CountStatus::Cancelled => "badge bad",
    }
}

pub fn status_words(status: CountStatus) -> String {
    match status {
        CountStatus::Open => tr!(counts.status.open),
        CountStatus::Posted => tr!(counts.status.posted),
        CountStatus::Cancelled => tr!(counts.status.cancelled),
    }
}

fn scope_words(scope: &crate::counts::CountScope) -> String {
    let values = scope.values.join(", ");
    if scope.kind == "locations" {
        tr!(counts.scope_locations, values = values)
    } else {
        tr!(counts.scope_skus, values = values)
    }
}

/// The new-count form as posted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartCountForm {
    pub scope_kind: String,
    pub values: String,
    pub blind: bool,
}

/// Starts a count and goes to it; a refusal comes back to `/counts`.
#[server(endpoint = "start_count")]
pub async fn start_count(
    scope_kind: String,
    values: String,
    blind: Option<String>,
) -> Result<Outcome<StartCountForm, i64>, AppError> {
    let state = crate::state::app_state()?;
    let form = StartCountForm {
        scope_kind,
        values,
        blind: blind.is_some(),
    };
    let list: Vec<String> = form
        .values
        .split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == '、')
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect();
    let input = if form.scope_kind == "skus" {
        crate::counts::NewCount {
            skus: Some(list),
            blind: form.blind,
            warehouse_code: crate::warehouses::working(),
            ..Default::default()
        }
    } else {
        crate::counts::NewCount {
            location_codes: Some(list),
            blind: form.blind,
            warehouse_code: crate::warehouses::working(),
            ..Default::default()
        }
    };
    let actor = crate::auth::access::current_actor();
    let result =
        crate::counts::service::create_count(&state.db, &state.config, &input, actor.as_deref())
            .await
            // The form has one field for either list.
            .map_err(|error| {
                error
                    .renamed_fields("location_codes", "values")
                    .renamed_fields("skus", "values")
            });
    if let Ok(id) = &result {
        leptos_axum::redirect(&format!("/counts/{id}"));
        return Ok(Outcome {
            form,
            result: Ok(*id),
        });
    }
    Ok(crate::ui::finish_form("/counts", "", form, result).await)
}

/// One page of the counts, with their creation times in the warehouse's zone.
#[server(endpoint = "list_counts")]
pub async fn counts_page(page: i64) -> Result<(CountList, WarehouseTimes), AppError> {
    let state = crate::state::app_state()?;
    let filter = crate::counts::CountFilter {
        offset: Some(crate::ui::page_offset(page, PER_PAGE)),
        limit: Some(PER_PAGE),
        ..Default::default()
    };
    let list =
        crate::scope::for_page(crate::counts::service::list_counts(&state.db, &filter)).await?;
    let times = WarehouseTimes::of(list.counts.iter().map(|c| Some(&c.created_at)));
    Ok((list, times))
}

#[cfg(feature = "ssr")]
const PER_PAGE: i64 = 50;

#[component]
pub fn CountsPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let counts = Resource::new(page, counts_page);
    let may_start = crate::ui::page_role().is_some_and(|r| r >= Role::Manager);
    let create = form_action::<StartCount>();
    let stored = stored_outcome::<StartCountForm, i64>("/counts");
    view! {
        <Title text=tr!(counts.title)/>
        <h1>{tr!(counts.title)}</h1>
        <p class="lead">{tr!(counts.lead)}</p>
        {may_start.then(|| view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let stored = stored.await;
                    let form = stored.clone().refused_form();
                    let refusal = crate::ui::refusal(None, &stored);
                    view! {
                        <section class="card" aria-labelledby="new-count">
                            <h2 id="new-count">{tr!(counts.new_heading)}</h2>
                            {refusal.map(|error| view! { <ErrorPanel error/> })}
                            <ActionForm action=create>
                                <div class="form-grid">
                                    <div>
                                        <label for="count-by">{tr!(counts.by)}</label>
                                        <select id="count-by" name="scope_kind">
                                            <option value="locations" selected=form.scope_kind != "skus">{tr!(counts.by_locations)}</option>
                                            <option value="skus" selected=form.scope_kind == "skus">{tr!(counts.by_skus)}</option>
                                        </select>
                                    </div>
                                    <div>
                                        <label for="count-values">{tr!(counts.values_label)}</label>
                                        <textarea id="count-values" name="values" rows="3" autocomplete="off"
                                            placeholder=tr!(counts.values_hint)>{form.values.clone()}</textarea>
                                    </div>
                                    <label class="switch">
                                        <input type="checkbox" name="blind" checked=form.blind/>
                                        <span class="switch-name">{tr!(counts.blind)}</span>
                                        <span class="muted">{tr!(counts.blind_hint)}</span>
                                    </label>
                                </div>
                                <div class="form-actions">
                                    <button type="submit">{tr!(counts.start)}</button>
                                </div>
                            </ActionForm>
                        </section>
                    }
                })}
            </Suspense>
        })}
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                match counts.await {
                    Ok((list, _)) if list.total == 0 => view! { <p class="empty">{tr!(counts.empty)}</p> }.into_any(),
                    Ok((list, times)) => {
                        let heads = [
                            tr!(counts.col.id),
                            tr!(counts.col.status),
                            tr!(counts.col.scope),
                            tr!(counts.col.progress),
                            tr!(counts.col.created, zone = times.zone.clone()),
                            tr!(counts.col.by),
                        ];
                        let page = crate::domain::Page::new(list.total, list.offset, list.limit, list.counts.clone());
                        view! {
                            <div class="table-wrap">
                                <table class="cards counts">
                                    <thead><tr>
                                        {heads.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}
                                    </tr></thead>
                                    <tbody>
                                        {list.counts.into_iter().enumerate().map(|(i, count)| {
                                            let label = |n: usize| heads[n].clone();
                                            view! {
                                                <tr data-count=count.id>
                                                    <td data-label=label(0)>
                                                        <a href=format!("/counts/{}", count.id)>{tr!(counts.count_title, id = count.id)}</a>
                                                        {count.blind.then(|| view! { " " <span class="badge">{tr!(counts.blind_badge)}</span> })}
                                                    </td>
                                                    <td data-label=label(1) data-status=count.status.as_str()>{status_words(count.status)}</td>
                                                    <td data-label=label(2)>{scope_words(&count.scope)}</td>
                                                    <td data-label=label(3)>{tr!(counts.progress, counted = number(count.counted), lines = number(count.lines))}</td>
                                                    <td data-label=label(4)>{times.at(i)}</td>
                                                    <td data-label=label(5)>{count.created_by.as_deref().map(crate::ledger::actor_words)}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager page href=|n| query_href("/counts", &[("page", n.to_string())])/>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Count `id` as whoever is signed in may see it, with its creation time in the warehouse zone.
#[server(endpoint = "count_detail")]
pub async fn count_detail(id: i64) -> Result<(Count, WarehouseTimes), AppError> {
    let state = crate::state::app_state()?;
    let role = crate::auth::access::current_principal()
        .map(|p| p.role)
        .unwrap_or(Role::Viewer);
    let count = crate::counts::service::get_count(&state.db, id, role).await?;
    let times = WarehouseTimes::of([Some(&count.created_at), count.closed_at.as_ref()]);
    Ok((count, times))
}

crate::lines::form_line! {
    /// A line of the count-entry form.
    CountFormLine, counts {
        location_code: Location, location, location_placeholder;
        sku: Item, sku, sku_placeholder;
        batch_code: Text, batch, batch_placeholder;
        counted_qty: Count, counted;
    }
}

crate::lines::lines_form! {
    /// The count-entry form as posted: the count's id as its ref, and lines (on each count's
    /// page, under `/counts`).
    CountForm of CountFormLine at "/counts" {}
}

/// Records the form's counted lines in the count its ref names (all or none); answers the
/// count as it is now.
#[server(endpoint = "record_counts")]
pub async fn record_counts(
    reference: String,
    lines: Vec<CountFormLine>,
) -> Result<Outcome<CountForm, Count>, AppError> {
    let state = crate::state::app_state()?;
    let form = CountForm {
        reference,
        lines: crate::lines::filled(lines),
    };
    let id = form.reference.trim().parse::<i64>().unwrap_or(0);
    let page = format!("/counts/{id}");
    let mut problems = crate::error::Problems::default();
    let input: Vec<crate::counts::CountLineInput> = form
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let field = format!("lines[{i}].counted_qty");
            let counted = match line.counted_qty.trim() {
                "" => {
                    problems.note(AppError::validation(field, tr!(errors.value.required)));
                    0
                }
                text => problems
                    .check(text.parse::<i64>().map_err(|_| {
                        AppError::validation(
                            field,
                            tr!(errors.adjust.counted_range, max = crate::domain::MAX_QTY),
                        )
                    }))
                    .unwrap_or(0),
            };
            crate::counts::CountLineInput {
                sku: Some(line.sku.clone()),
                location_code: Some(line.location_code.clone()),
                batch_code: Some(line.batch_code.trim().to_string()),
                counted_qty: counted,
            }
        })
        .collect();
    let actor = crate::auth::access::current_actor();
    let role = crate::auth::access::current_principal()
        .map(|p| p.role)
        .unwrap_or(Role::Viewer);
    let result = match problems.into_error() {
        Some(error) => Err(error),
        None => {
            match crate::counts::service::record_lines(
                &state.db,
                &state.config,
                id,
                &input,
                actor.as_deref(),
            )
            .await
            {
                Ok(()) => crate::counts::service::get_count(&state.db, id, role).await,
                Err(error) => Err(error),
            }
        }
    };
    let reference = form.reference.clone();
    Ok(crate::ui::finish_form(&page, &reference, form, result).await)
}

/// Posting or cancelling a count, as posted by its button.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloseCountForm {
    pub id: i64,
    /// Posting was confirmed after the page said lines are not counted yet.
    #[serde(default)]
    pub confirmed: bool,
}

/// The name a close's outcome is kept under (see [`stored_outcome_of`]).
const CLOSE: &str = "close";

/// Posts count `id` (its differences become COUNT_CORRECTION adjustments) and shows it. With
/// lines not counted yet the page asks first: the answer is a refusal saying how many, with a
/// button that posts again `confirmed`.
#[server(endpoint = "post_count")]
pub async fn post_count_form(
    id: i64,
    confirmed: Option<String>,
) -> Result<Outcome<CloseCountForm, ()>, AppError> {
    let state = crate::state::app_state()?;
    let actor = crate::auth::access::current_actor();
    let confirmed = confirmed.is_some();
    let result = crate::counts::service::post_count(
        &state.db,
        &state.config,
        id,
        actor.as_deref(),
        confirmed,
    )
    .await
    .map(drop);
    Ok(close_outcome(id, result).await)
}

/// Cancels count `id` and shows it.
#[server(endpoint = "cancel_count")]
pub async fn cancel_count_form(id: i64) -> Result<Outcome<CloseCountForm, ()>, AppError> {
    let state = crate::state::app_state()?;
    let actor = crate::auth::access::current_actor();
    let result =
        crate::counts::service::cancel_count(&state.db, &state.config, id, actor.as_deref()).await;
    Ok(close_outcome(id, result).await)
}

#[cfg(feature = "ssr")]
async fn close_outcome(id: i64, result: Result<(), AppError>) -> Outcome<CloseCountForm, ()> {
    let page = format!("/counts/{id}");
    if result.is_ok() {
        leptos_axum::redirect(&page);
        return Outcome {
            form: CloseCountForm {
                id,
                confirmed: false,
            },
            result,
        };
    }
    crate::ui::finish_form(
        &page,
        CLOSE,
        CloseCountForm {
            id,
            confirmed: false,
        },
        result,
    )
    .await
}

#[component]
pub fn CountPage() -> impl IntoView {
    let params = use_params_map();
    let id = params
        .read_untracked()
        .get("id")
        .and_then(|id| id.parse::<i64>().ok())
        .unwrap_or(0);
    let page = format!("/counts/{id}");
    let detail = Resource::new(move || id, count_detail);
    let stored = stored_outcome::<CountForm, Count>(page.clone());
    let closing = stored_outcome_of::<CloseCountForm, ()>(page, Some(CLOSE));
    let role = crate::ui::page_role();
    let post = form_action::<PostCountForm>();
    let cancel = form_action::<CancelCountForm>();
    view! {
        <Title text=tr!(counts.count_title, id = id)/>
        <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || Suspend::new(async move {
                let (count, times) = match detail.await {
                    Ok(found) => found,
                    Err(error) => {
                        #[cfg(feature = "ssr")]
                        if error.code == crate::error::ErrorCode::NotFound {
                            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                                response.set_status(axum::http::StatusCode::NOT_FOUND);
                            }
                        }
                        return view! { <h1>{tr!(counts.count_title, id = id)}</h1><ErrorPanel error/> }.into_any();
                    }
                };
                let stored = stored.await;
                let closing = closing.await;
                let open = count.status == CountStatus::Open;
                let may_count = role.is_some_and(|r| r >= Role::Clerk);
                let may_close = role.is_some_and(|r| r >= Role::Manager);
                let reference = count_ref(count.id);
                let ledger = query_href("/ledger", &[("ref", reference.clone())]);
                view! {
                    <h1>
                        {tr!(counts.count_title, id = count.id)} " "
                        <span class=status_class(count.status) data-status=count.status.as_str()>{status_words(count.status)}</span>
                    </h1>
                    <p class="lead">{scope_words(&count.scope)}</p>
                    <p class="muted">{times.at(0)}{count.created_by.as_deref().map(|by| format!(" · {}", crate::ledger::actor_words(by)))}</p>
                    {count.blind.then(|| view! { <p class="note">{tr!(counts.blind_note)}</p> })}
                    {crate::ui::refusal(None, &closing).map(|error| {
                        // Lines not counted yet: the clerk's manager confirms, or counts on.
                        let ask = (open && may_close && error.details.get("uncounted").is_some()).then(|| view! {
                            <ActionForm action=post attr:class="inline-form">
                                <input type="hidden" name="id" value=count.id/>
                                <input type="hidden" name="confirmed" value="true"/>
                                <button type="submit">{tr!(counts.post_anyway)}</button>
                            </ActionForm>
                        });
                        view! { <section class="result refusal"><ErrorPanel error/>{ask}</section> }
                    })}
                    {match count.status {
                        CountStatus::Posted => view! {
                            <p class="note" role="status">{tr!(counts.posted_note, reference = reference.clone())} " "
                                <a href=ledger>{tr!(counts.ledger_link)}</a></p>
                        }.into_any(),
                        CountStatus::Cancelled => view! { <p class="note" role="status">{tr!(counts.cancelled_note)}</p> }.into_any(),
                        CountStatus::Open if may_count => view! {
                            <section aria-labelledby="count-entry">
                                <h2 id="count-entry">{tr!(counts.entry_heading)}</h2>
                                <p class="muted">{tr!(counts.entry_lead)}</p>
                                <CountEntry count=count.clone() stored/>
                            </section>
                        }.into_any(),
                        CountStatus::Open => view! {
                            <p class="note">{tr!(counts.viewer_note)}</p>
                            <CountLines count=count.clone()/>
                        }.into_any(),
                    }}
                    {(!open).then(|| view! { <CountLines count=count.clone()/> })}
                    {(open && may_close).then(|| view! {
                        <section class="card close-count">
                            <p class="muted">{tr!(counts.post_hint)}</p>
                            <div class="form-actions">
                                <ActionForm action=post attr:class="inline-form">
                                    <input type="hidden" name="id" value=count.id/>
                                    <button type="submit">{tr!(counts.post)}</button>
                                </ActionForm>
                                <ActionForm action=cancel attr:class="inline-form">
                                    <input type="hidden" name="id" value=count.id/>
                                    <button type="submit" class="secondary">{tr!(counts.cancel)}</button>
                                </ActionForm>
                            </div>
                        </section>
                    })}
                }.into_any()
            })}
        </Suspense>
    }
}

/// The entry form as it looks and reads.
static ENTRY: MovementForm<CountForm, Count> = MovementForm {
    hint: None,
    words: || FormWords {
        ref_label: String::new(),
        ref_placeholder: String::new(),
        submit: (tr!(counts.record), tr!(counts.recording)),
        start_over: tr!(counts.start_over),
    },
    head: None,
    result: |outcome| {
        let lines = outcome.form.lines.len();
        view! { <p class="result" role="status">{tr!(counts.recorded, count = lines)}</p> }
            .into_any()
    },
    fresh_after_success: true,
};

/// The live part of an open count's page: the entry form, and the lines as they are counted.
/// Lazy: its code is its own file, fetched only on its page (with `cargo leptos --split`).
#[island(lazy)]
fn CountEntry(count: Count, stored: StoredOutcome<CountForm, Count>) -> impl IntoView {
    let action = form_action::<RecordCounts>();
    let id = count.id;
    let mut initial = count;
    initial.lines.sort_by(|a, b| {
        (&a.location_code, &a.sku, &a.batch_code).cmp(&(&b.location_code, &b.sku, &b.batch_code))
    });
    let stored = match stored {
        // A kept outcome of another count's form is not this one's.
        StoredOutcome::Found(outcome) if outcome.form.reference.trim() != id.to_string() => {
            StoredOutcome::Nothing
        }
        // Nor is a post's or cancel's (kept under CLOSE), which the page shows above.
        StoredOutcome::Gone { reference } if reference == CLOSE => StoredOutcome::Nothing,
        other => other,
    };
    let stored = match stored {
        StoredOutcome::Found(mut outcome) if outcome.result.is_ok() => {
            // Recorded: a fresh form for the next lines, the count as the page read it.
            outcome.form.lines.clear();
            StoredOutcome::Found(outcome)
        }
        other => other,
    };
    let latest = Signal::derive(move || match action.value().get() {
        Some(Ok(Outcome {
            result: Ok(count), ..
        })) => count,
        _ => initial.clone(),
    });
    view! {
        {movement_form(
            &ENTRY,
            format!("/counts/{id}"),
            Some(id.to_string()),
            stored,
            action.value(),
            action.pending().into(),
            move |fields| view! { <ActionForm action=action attr:novalidate=true>{fields}</ActionForm> }.into_any(),
        )}
        {move || view! { <CountLines count=latest.get()/> }}
    }
}

/// A count's lines: what was counted, and (for whoever may see it) what was expected and the
/// difference posting applies.
#[component]
fn CountLines(count: Count) -> impl IntoView {
    let shown = count.expected_shown;
    let lines = count.lines;
    if lines.is_empty() {
        return view! { <p class="empty">{tr!(counts.no_lines)}</p> }.into_any();
    }
    let counted = lines.iter().filter(|l| l.counted_qty.is_some()).count();
    let differing = lines
        .iter()
        .filter(|l| l.difference.is_some_and(|d| d != 0))
        .count();
    let heads = [
        tr!(counts.col.location),
        tr!(counts.col.sku),
        tr!(counts.col.name),
        tr!(counts.col.batch),
        tr!(counts.col.expected),
        tr!(counts.col.counted),
        tr!(counts.col.recorded),
        tr!(counts.col.difference),
    ];
    // A blind count shows neither what was expected nor the differences.
    let columns: Vec<(String, bool)> = heads
        .iter()
        .enumerate()
        .filter(|(i, _)| shown || ![4, 6, 7].contains(i))
        .map(|(i, head)| (head.clone(), i >= 4))
        .collect();
    let intro = shown.then(|| {
        view! {
            <p class="muted">{tr!(counts.summary, lines = lines.len(), counted = counted, differing = differing)}</p>
        }
        .into_any()
    });
    let rows = view! {
                        {lines.into_iter().map(|line| {
                            let label = |n: usize| heads[n].clone();
                            let difference = line.difference.map(|d| if d > 0 { format!("+{}", number(d)) } else { number(d) });
                            view! {
                                <tr data-sku=line.sku.clone() data-location=line.location_code.clone()>
                                    <td data-label=label(0)>{line.location_code.clone()}</td>
                                    <td data-label=label(1)>{line.sku.clone()}{line.found.then(|| view! { " " <span class="badge warn">{tr!(counts.found)}</span> })}</td>
                                    <td data-label=label(2)>{line.name.clone()}</td>
                                    <td data-label=label(3) data-whole=line.whole.then_some("true")>{if line.whole { view! { <span class="badge">{tr!(counts.whole)}</span> }.into_any() } else { line.batch_code.clone().into_any() }}</td>
                                    {shown.then(|| view! { <td class="num" data-label=label(4) data-expected=line.expected_qty>{line.expected_qty.map(number)}</td> })}
                                    <td class="num" data-label=label(5) data-counted=line.counted_qty>{line.counted_qty.map(number).unwrap_or_else(|| tr!(counts.not_counted))}</td>
                                    {shown.then(|| view! {
                                        <td class="num" data-label=label(6)>{line.recorded_qty.map(number)}</td>
                                        <td class="num" data-label=label(7) data-difference=line.difference>{difference}</td>
                                    })}
                                </tr>
                            }
                        }).collect_view()}
    };
    crate::ui::cards_section(
        "count-lines",
        tr!(counts.lines_heading),
        intro,
        "count-lines",
        &columns,
        rows.into_any(),
    )
}
