//! Pieces every page shares: how a form's outcome reaches the page with and without JavaScript,
//! and small views (error panel, status badge, pager, batch list).
//!
//! A form posts to a server function. With JavaScript the function's return value is the
//! outcome. Without it the browser posted a plain form, so the function keeps the outcome on the
//! server ([`crate::flash`]) and sends the browser back to the page with only the movement's ref
//! and an opaque token in the URL (`?ref=SO-1&result=…`); the page reads the outcome back from
//! the server by that token. The URL never carries a result: a crafted or stale link shows a
//! neutral note pointing to the ledger, never a result that did not happen.
//! Either way the page sees one [`Outcome`]: the form as submitted and its result.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::Page;
use crate::error::{AppError, ErrorCode};
pub use crate::href::{query_href, urlencode};
use crate::movement::{BatchQty, LineStatus};

/// Moments as a page shows them: in the warehouse's time zone (`DEPOT_TIMEZONE`), written by the
/// server, so the browser needs no time zone data and hydrates the same text. `zone` names the
/// zone's offset now (`UTC+08:00`) for a column header; a moment at another offset (the other
/// side of a daylight-saving change) carries its own. JSON stays RFC 3339 UTC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WarehouseTimes {
    pub zone: String,
    /// One per moment asked for, in order; empty for `None`.
    pub times: Vec<String>,
}

impl WarehouseTimes {
    /// The `i`-th moment's text ("" when there is none).
    pub fn at(&self, i: usize) -> String {
        self.times.get(i).cloned().unwrap_or_default()
    }
}

#[cfg(feature = "ssr")]
impl WarehouseTimes {
    /// `moments` in the warehouse time zone of the running server (UTC outside one).
    pub fn of<'a>(
        moments: impl IntoIterator<Item = Option<&'a chrono::DateTime<chrono::Utc>>>,
    ) -> Self {
        let (zone, now) = match crate::state::app_state() {
            Ok(state) => (state.config.timezone, state.config.clock.now()),
            Err(_) => (chrono_tz::Tz::UTC, chrono::Utc::now()),
        };
        Self::in_zone(zone, now, moments)
    }

    pub fn in_zone<'a>(
        zone: chrono_tz::Tz,
        now: chrono::DateTime<chrono::Utc>,
        moments: impl IntoIterator<Item = Option<&'a chrono::DateTime<chrono::Utc>>>,
    ) -> Self {
        use chrono::Offset;
        let offset_text = |offset: chrono::FixedOffset| {
            if offset.local_minus_utc() == 0 {
                "UTC".to_string()
            } else {
                format!("UTC{offset}")
            }
        };
        let header = offset_text(now.with_timezone(&zone).offset().fix());
        let times = moments
            .into_iter()
            .map(|moment| {
                let Some(moment) = moment else {
                    return String::new();
                };
                let local = moment.with_timezone(&zone);
                let text = local.format("%Y-%m-%d %H:%M:%S").to_string();
                let offset = offset_text(local.offset().fix());
                if offset == header {
                    text
                } else {
                    format!("{text} ({offset})")
                }
            })
            .collect();
        Self {
            zone: header,
            times,
        }
    }
}

/// The query parameter naming the movement a no-JavaScript result belongs to (for people and
/// bookmarks; the result itself is only on the server).
pub const REF_PARAM: &str = "ref";
/// The query parameter holding the token of a no-JavaScript result kept on the server.
pub const RESULT_PARAM: &str = "result";

/// A submitted form and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome<F, R> {
    pub form: F,
    pub result: Result<R, AppError>,
}

/// What the page's URL leads to after a no-JavaScript post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoredOutcome<F, R> {
    /// The URL names no result: a fresh form.
    Nothing,
    /// The result the server kept for the URL's token.
    Found(Outcome<F, R>),
    /// The URL names a result the server does not have (expired, restarted, or made up), for
    /// the ref the URL gives.
    Gone { reference: String },
}

impl<F, R> StoredOutcome<F, R> {
    pub fn found(self) -> Option<Outcome<F, R>> {
        match self {
            StoredOutcome::Found(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// The form to show again: what was sent when the server refused it (to correct it), else
    /// an empty one.
    pub fn refused_form(self) -> F
    where
        F: Default,
    {
        self.found()
            .filter(|o| o.result.is_err())
            .map(|o| o.form)
            .unwrap_or_default()
    }
}

/// The result kept for a no-JavaScript post from `page` under `reference`, as the JSON text it
/// was kept as; `None` when the server has none for `token` (see [`crate::flash`]).
#[server(endpoint = "form_result")]
pub async fn form_result(
    page: String,
    reference: String,
    token: String,
) -> Result<Option<String>, AppError> {
    let state = crate::state::app_state()?;
    // The administration pages' results (a new token's secret) are for admins only, whatever
    // the token in the URL.
    if page.starts_with("/admin/")
        && !crate::auth::access::current_principal()
            .is_some_and(|p| p.may(crate::auth::Role::Admin))
    {
        return Ok(None);
    }
    state.flash().get(&page, &reference, &token).await
}

/// The outcome the page's URL leads to (`?ref=…&result=…`), read from the server; follows the
/// URL. Read it inside a `<Suspense>`/`<Transition>` so the server renders it complete.
pub fn stored_outcome<F, R>(page: impl Into<String>) -> Resource<StoredOutcome<F, R>>
where
    F: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    R: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    stored_outcome_of(page, None)
}

/// [`stored_outcome`] for one of several forms on a page, each finishing under its own fixed
/// reference: the URL's result is this form's only when its ref is `only` (otherwise it
/// is [`StoredOutcome::Nothing`], and not even looked up).
pub fn stored_outcome_of<F, R>(
    page: impl Into<String>,
    only: Option<&'static str>,
) -> Resource<StoredOutcome<F, R>>
where
    F: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    R: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let query = use_query_map();
    let page: String = page.into();
    Resource::new(
        move || {
            let query = query.read();
            (
                query.get(RESULT_PARAM),
                query.get(REF_PARAM).unwrap_or_default(),
            )
        },
        move |(token, reference)| {
            let page = page.clone();
            async move {
                let Some(token) = token else {
                    return StoredOutcome::Nothing;
                };
                if only.is_some_and(|only| only != reference) {
                    return StoredOutcome::Nothing;
                }
                let found = form_result(page, reference.clone(), token).await;
                // A fixed name is no movement's ref: a result gone has no ledger entry to point to.
                let reference = if only.is_some() {
                    String::new()
                } else {
                    reference
                };
                match found {
                    // From bytes, as a server function's answer is read: the browser bundle then
                    // carries one decoder per outcome type, not a second one from `Value` (13 KB).
                    Ok(Some(json)) => match serde_json::from_slice(json.as_bytes()) {
                        Ok(outcome) => StoredOutcome::Found(outcome),
                        Err(_) => StoredOutcome::Gone { reference },
                    },
                    _ => StoredOutcome::Gone { reference },
                }
            }
        },
    )
}

/// The action behind a page's form. Leptos would preset its value from `__path`/`__err` in the
/// URL (its own no-JavaScript error redirect); that is what a URL says, not what the server did,
/// so it is dropped: results come from the server only.
pub fn form_action<S>() -> ServerAction<S>
where
    S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let action = ServerAction::<S>::new();
    action.value().set(None);
    action
}

/// Shown instead of a result when the URL names one the server does not have.
#[component]
pub fn ResultGone(reference: String) -> impl IntoView {
    let reference = reference.trim().to_string();
    view! {
        <p class="muted" role="status">
            {if reference.is_empty() {
                tr!(common.result_gone).into_any()
            } else {
                let href = query_href("/ledger", &[("ref", reference.clone())]);
                view! {
                    {tr!(common.result_gone_see)} " "
                    <a href=href>{tr!(common.result_gone_link, reference = reference.clone())}</a>
                }
                .into_any()
            }}
        </p>
    }
}

/// The click handler of a form's "start over" link (New receipt, New order, …): `forget`s the
/// shown outcome, bumps `generation` (the form's remount key) and leaves any result the URL
/// leads to behind by showing `path` in the address bar. Without JavaScript the link simply
/// loads `path`.
pub fn start_over(
    forget: impl Fn() + Clone + 'static,
    generation: RwSignal<u32>,
    path: String,
) -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static {
    move |event: leptos::ev::MouseEvent| {
        event.prevent_default();
        forget();
        generation.update(|g| *g += 1);
        show_address(&path, true);
    }
}

/// Puts `href` in the address bar without loading it (with JavaScript; islands have no router):
/// `replace`s the current history entry, or adds one.
#[allow(unused_variables)]
pub fn show_address(href: &str, replace: bool) {
    #[cfg(feature = "hydrate")]
    if let Ok(history) = window().history() {
        let state = wasm_bindgen::JsValue::NULL;
        let _ = if replace {
            history.replace_state_with_url(&state, "", Some(href))
        } else {
            history.push_state_with_url(&state, "", Some(href))
        };
    }
}

/// Tells people and tests that the page is live: `data-hydrated` on `<body>`.
pub fn mark_live() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// For an island: marks the page live (see [`mark_live`]) once the island is (an effect runs
/// only in the browser, after the island has taken over its part of the page).
pub fn island_live() {
    Effect::new(|_| mark_live());
}

/// What a form shows under it: the action's latest outcome (JavaScript), else the result the URL
/// names (no JavaScript), rendered by `render`; or a note when that result is gone.
pub fn outcome_view<F, R>(
    action_value: Option<Result<Outcome<F, R>, AppError>>,
    stored: StoredOutcome<F, R>,
    last_form: impl FnOnce() -> F,
    render: impl FnOnce(Outcome<F, R>) -> AnyView,
) -> Option<AnyView> {
    match (action_value, stored) {
        (None, StoredOutcome::Gone { reference }) => {
            Some(view! { <ResultGone reference/> }.into_any())
        }
        (value, stored) => current_outcome(value, stored.found(), last_form).map(render),
    }
}

/// The outcome to show: the action's latest value (JavaScript), else the stored one the URL
/// leads to (no JavaScript). A failure to reach the server at all becomes an outcome with the
/// last submitted form.
pub fn current_outcome<F, R>(
    action_value: Option<Result<Outcome<F, R>, AppError>>,
    stored: Option<Outcome<F, R>>,
    last_form: impl FnOnce() -> F,
) -> Option<Outcome<F, R>> {
    match action_value {
        Some(Ok(outcome)) => Some(outcome),
        Some(Err(error)) => Some(Outcome {
            form: last_form(),
            result: Err(error),
        }),
        None => stored,
    }
}

/// The refusal a form's latest outcome carries, if any: the action's value (JavaScript), else
/// the result the URL leads to (no JavaScript). Shown at the top of the form, and beside the
/// field it names ([`field_input_name`]).
pub fn refusal<F: Clone, R: Clone>(
    action_value: Option<Result<Outcome<F, R>, AppError>>,
    stored: &StoredOutcome<F, R>,
) -> Option<AppError> {
    match action_value {
        Some(Ok(outcome)) => outcome.result.err(),
        Some(Err(error)) => Some(error),
        None => match stored {
            StoredOutcome::Found(outcome) => outcome.result.clone().err(),
            _ => None,
        },
    }
}

/// The form inputs a refusal is about (`details.errors`, else `details.field`), each with the
/// reason to show beside it, in the request's order: `lines[2].qty` → `lines[2][qty]` (the JSON
/// path counts lines from 0, as the form's names do; the page shows "line 3"). `ref` is the
/// form's `reference`.
pub fn field_input_names(error: &AppError) -> Vec<(String, String)> {
    error
        .field_reasons()
        .into_iter()
        .map(|(field, reason)| {
            let name = match field.split_once("].") {
                Some((line, column)) if line.starts_with("lines[") => format!("{line}][{column}]"),
                _ if field == "ref" => "reference".to_string(),
                _ => field,
            };
            (name, reason)
        })
        .collect()
}

/// The submitted line a result line answers (`ref_line` is 1-based), or a blank one if the form
/// has no such line.
pub fn sent_line<T: Clone + Default>(lines: &[T], ref_line: u32) -> T {
    usize::try_from(ref_line)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| lines.get(i))
        .cloned()
        .unwrap_or_default()
}

/// Finishes a server function behind a form: for a plain (no-JavaScript) form post, keeps the
/// outcome on the server and sends the browser back to `page` with `reference` and the
/// outcome's token in the URL; always returns the outcome.
#[cfg(feature = "ssr")]
pub async fn finish_form<F, R>(
    page: &str,
    reference: &str,
    form: F,
    result: Result<R, AppError>,
) -> Outcome<F, R>
where
    F: Serialize,
    R: Serialize,
{
    finish_form_keeping(page, reference, form, result, false).await
}

/// [`finish_form`] for an outcome that must be shown only once (it carries a secret): without
/// JavaScript the page's first read of it takes it away.
#[cfg(feature = "ssr")]
pub async fn finish_form_once<F, R>(
    page: &str,
    reference: &str,
    form: F,
    result: Result<R, AppError>,
) -> Outcome<F, R>
where
    F: Serialize,
    R: Serialize,
{
    finish_form_keeping(page, reference, form, result, true).await
}

#[cfg(feature = "ssr")]
async fn finish_form_keeping<F, R>(
    page: &str,
    reference: &str,
    form: F,
    result: Result<R, AppError>,
    once: bool,
) -> Outcome<F, R>
where
    F: Serialize,
    R: Serialize,
{
    let outcome = Outcome { form, result };
    if is_plain_form_post() {
        // A ref too long to be valid stays out of the URL (the kept form still has it), so the
        // URL is short whatever was posted; so does one with a control character (no ref has
        // one, and the database keeps no NUL).
        let reference = if reference.chars().count() <= MAX_REF_CHARS
            && !reference.chars().any(char::is_control)
        {
            reference
        } else {
            ""
        };
        let token = match (crate::state::app_state(), serde_json::to_string(&outcome)) {
            (Ok(state), Ok(json)) if once => state.flash().put_once(page, reference, json).await,
            (Ok(state), Ok(json)) => state.flash().put(page, reference, json).await,
            (Err(_), _) => None,
            (_, Err(error)) => {
                AppError::internal(&error);
                None
            }
        };
        // Without a token the page says the result is not available.
        let token = token.unwrap_or_else(|| "none".to_string());
        leptos_axum::redirect(&query_href(
            page,
            &[(REF_PARAM, reference.to_string()), (RESULT_PARAM, token)],
        ));
    }
    outcome
}

/// The longest valid ref (SPEC §4), in characters.
#[cfg(feature = "ssr")]
const MAX_REF_CHARS: usize = 64;

/// Whether the current server-function request is a browser's own form post (no JavaScript).
#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    use_context::<axum::http::request::Parts>()
        .is_some_and(|parts| crate::extract::wants_html(&parts.headers))
}

/// A refusal or failure, in words, with the field it is about (in words too: "line 3 · Qty").
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let fields = error.field_reasons();
    // With one field, its reason alone reads better than the message's `lines[2].qty: …`; with
    // several, the message counts them and a list names each.
    let (reason, field, listed) = match fields.as_slice() {
        [] => (error.message.clone(), None, Vec::new()),
        [(field, reason)] => (reason.clone(), Some(field.clone()), Vec::new()),
        [..] => (
            tr!(common.error_fields, count = fields.len()),
            None,
            fields.clone(),
        ),
    };
    let shortages: Vec<String> = error
        .details
        .get("shortages")
        .and_then(|s| s.as_array())
        .map(|list| {
            list.iter()
                .map(|s| {
                    tr!(
                        common.shortage,
                        line = s["ref_line"].to_string(),
                        required = s["required"].to_string(),
                        available = s["available"].to_string()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    view! {
        <div class="error" role="alert" data-code=error.code.as_str()>
            <strong>{error_code_words(error.code)}</strong>
            " "
            {reason}
            {field.map(|f| view! {
                <div class="muted">{tr!(common.error_field)} " " <span data-field=f.clone()>{field_words(&f)}</span></div>
            })}
            {(!listed.is_empty()).then(|| view! {
                <ul class="field-errors">
                    {listed.into_iter().map(|(f, reason)| view! {
                        <li><span data-field=f.clone()>{field_words(&f)}</span>": "{reason}</li>
                    }).collect_view()}
                </ul>
            })}
            {(!shortages.is_empty()).then(|| view! {
                <ul class="shortages">{shortages.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}

/// A request field's path in words: `lines[2].qty` → "line 3 · Qty"; a path of names Depot does
/// not know stays as it is.
pub fn field_words(path: &str) -> String {
    let (line, name) = match path
        .strip_prefix("lines[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(n, rest)| Some((n.parse::<usize>().ok()?, rest)))
    {
        Some((index, rest)) => (Some(index + 1), rest.trim_start_matches('.')),
        None => (None, path),
    };
    let words = match name {
        "" if line.is_some() => None,
        "" | "lines" => Some(tr!(common.field.lines)),
        "ref" | "reference" => Some(tr!(common.field.reference)),
        "sku" | "item_id" => Some(tr!(common.field.sku)),
        "location_code" | "location_id" => Some(tr!(common.field.location)),
        "from_location_code" | "from_location_id" => Some(tr!(common.field.from_location)),
        "to_location_code" | "to_location_id" => Some(tr!(common.field.to_location)),
        "qty" => Some(tr!(common.field.qty)),
        "batch_code" => Some(tr!(common.field.batch)),
        "expiry_date" => Some(tr!(common.field.expiry)),
        "production_date" => Some(tr!(common.field.produced)),
        "name" => Some(tr!(common.field.name)),
        "spec" => Some(tr!(common.field.spec)),
        "unit" => Some(tr!(common.field.unit)),
        "code" => Some(tr!(common.field.code)),
        "kind" => Some(tr!(common.field.kind)),
        "username" => Some(tr!(common.field.username)),
        "password" => Some(tr!(common.field.password)),
        "role" => Some(tr!(common.field.role)),
        "change" => Some(tr!(common.field.change)),
        "barcode" => Some(tr!(common.field.barcode)),
        "delta" => Some(tr!(common.field.delta)),
        "counted_qty" => Some(tr!(common.field.counted_qty)),
        "note" => Some(tr!(common.field.note)),
        "reason_code" => Some(tr!(common.field.reason_code)),
        "policy" => Some(tr!(common.field.policy)),
        "item" => Some(tr!(common.field.item)),
        "status" => Some(tr!(common.field.status)),
        _ => return path.to_string(),
    };
    match (line, words) {
        (Some(line), Some(words)) => tr!(common.field_of_line, line = line, field = words),
        (Some(line), None) => tr!(common.line_n, line = line),
        (None, Some(words)) => words,
        (None, None) => path.to_string(),
    }
}

/// An error code in words a clerk understands (the code itself stays in `data-code`).
pub fn error_code_words(code: ErrorCode) -> String {
    match code {
        ErrorCode::MalformedRequest => tr!(common.error_code.malformed_request),
        ErrorCode::Unauthenticated => tr!(common.error_code.unauthenticated),
        ErrorCode::TooManyRequests => tr!(common.error_code.too_many_requests),
        ErrorCode::Forbidden => tr!(common.error_code.forbidden),
        ErrorCode::ValidationFailed => tr!(common.error_code.validation_failed),
        ErrorCode::UnknownItem => tr!(common.error_code.unknown_item),
        ErrorCode::UnknownLocation => tr!(common.error_code.unknown_location),
        ErrorCode::NotFound => tr!(common.error_code.not_found),
        ErrorCode::Conflict => tr!(common.error_code.conflict),
        ErrorCode::IdempotencyConflict => tr!(common.error_code.idempotency_conflict),
        ErrorCode::InsufficientStock => tr!(common.error_code.insufficient_stock),
        ErrorCode::PayloadTooLarge => tr!(common.error_code.payload_too_large),
        ErrorCode::Unavailable => tr!(common.error_code.unavailable),
        ErrorCode::Internal => tr!(common.error_code.internal),
    }
}

/// A line's status as a coloured badge, in words (the code itself in `data-status`).
#[component]
pub fn StatusBadge(status: LineStatus) -> impl IntoView {
    let (class, words) = match status {
        LineStatus::Ok => ("badge ok", tr!(common.status.ok)),
        LineStatus::Idempotent => ("badge warn", tr!(common.status.idempotent)),
        LineStatus::InsufficientStock => ("badge bad", tr!(common.status.insufficient_stock)),
    };
    view! { <span class=class data-status=status.as_str()>{words}</span> }
}

/// A count or quantity as the page's language writes it (`12,500` in both Depot has).
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// "L1 exp 2026-12-01 × 3, …"
pub fn batches_text(batches: &[BatchQty]) -> String {
    batches
        .iter()
        .map(|b| {
            let code = if b.batch_code.is_empty() {
                tr!(common.no_batch)
            } else {
                b.batch_code.clone()
            };
            match b.expiry_date {
                Some(expiry) => tr!(
                    common.batch_expiring,
                    code = code,
                    expiry = expiry.to_string(),
                    qty = number(b.qty)
                ),
                None => tr!(common.batch_plain, code = code, qty = number(b.qty)),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which rows of how many a page shows ("1–50 of 120"; "about" when the total is estimated).
pub fn rows_words<T>(page: &Page<T>) -> String {
    let first_row = if page.total == 0 { 0 } else { page.offset + 1 };
    let last_row = page.offset + page.items.len() as i64;
    let last_row = if page.total_estimated {
        last_row
    } else {
        last_row.min(page.total)
    };
    // An estimated total says "about" and cannot tell where the list ends; a full page can.
    if page.total_estimated {
        tr!(
            common.rows_about,
            first = number(first_row),
            last = number(last_row),
            total = number(page.total)
        )
    } else {
        tr!(
            common.rows,
            first = number(first_row),
            last = number(last_row),
            total = number(page.total)
        )
    }
}

/// Previous/next links for a paged list; `href(page)` builds a page's URL (1-based).
#[component]
pub fn Pager<T: 'static>(page: Page<T>, href: impl Fn(i64) -> String + 'static) -> impl IntoView {
    let current = page.offset / page.limit.max(1) + 1;
    let last = ((page.total + page.limit - 1) / page.limit.max(1)).max(1);
    // A list that pages by place (the snapshot) gives where its neighbours start: the links
    // carry it, so a page far down costs what the first does. The first page needs none.
    let prev = match &page.prev {
        Some(place) if current > 2 => with_param(href(current - 1), "before", place),
        _ => href(current - 1),
    };
    let next = match &page.next {
        Some(place) => with_param(href(current + 1), "after", place),
        None => href(current + 1),
    };
    let rows = rows_words(&page);
    let more = if page.total_estimated {
        page.next.is_some()
    } else {
        current < last
    };
    view! {
        <nav class="pager" aria-label=tr!(common.pager_label)>
            <span class="muted">{rows}</span>
            {(current > 1).then(|| view! { <a class="button secondary" rel="prev" href=prev>{tr!(common.previous)}</a> })}
            {more.then(|| view! { <a class="button secondary" rel="next" href=next>{tr!(common.next)}</a> })}
        </nav>
    }
}

/// `href` with one more query parameter.
fn with_param(href: String, name: &str, value: &str) -> String {
    let joint = if href.contains('?') { '&' } else { '?' };
    format!("{href}{joint}{name}={}", urlencode(value))
}

/// What a list shows for a page number past its end (e.g. `?page=99` of 200 rows): where the
/// rows went, and the way back to the first page.
#[component]
pub fn PastTheEnd(total: i64, first: String) -> impl IntoView {
    view! {
        <p class="empty">
            {tr!(common.past_the_end, total = number(total))} " "
            <a href=first>{tr!(common.first_page)}</a>
        </p>
    }
}

/// The 1-based page number in the URL (`page`), and the offset it starts at.
pub fn page_offset(page: i64, per_page: i64) -> i64 {
    (page.max(1) - 1).saturating_mul(per_page)
}

/// "Download CSV · XLSX" of a page's rows with its filters (SPEC §11): `path` is the export's
/// (`/export/stock`), `params` the page's filters.
pub fn export_links(path: &str, params: &[(&str, String)]) -> impl IntoView {
    let href = |format: &str| {
        let mut all = params.to_vec();
        all.push(("format", format.to_string()));
        query_href(path, &all)
    };
    view! {
        <p class="downloads">
            <a class="button secondary" href=href("csv") download rel="external">{tr!(common.export.csv)}</a>
            " "
            <a class="button secondary" href=href("xlsx") download rel="external">{tr!(common.export.xlsx)}</a>
        </p>
    }
}

/// The fields of one row of a form's textarea, apart by spaces, a tab or a comma (as a
/// spreadsheet's copied cells or a scanner and a keypad give them).
pub fn row_fields(row: &str) -> Vec<&str> {
    row.split(|c: char| c.is_whitespace() || c == ',' || c == '，')
        .filter(|part| !part.is_empty())
        .collect()
}

/// Sets the response's status to 404 when `error` says the record the page shows does not
/// exist (an order, a transfer, a return).
#[allow(unused_variables)]
pub fn not_found_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if error.code == crate::error::ErrorCode::NotFound {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
}

/// The role of whoever is signed in, for a page rendered on the server (none in the browser:
/// the parts that depend on it are not islands).
pub fn page_role() -> Option<crate::auth::Role> {
    #[cfg(feature = "ssr")]
    {
        crate::auth::access::current_principal().map(|p| p.role)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// A section of a page holding one table that reads as cards on a handheld: the heading (id
/// `id`, which names the section), what stands under it (`intro`), then the table (class
/// `class`) with its column heads (text, and whether the column holds numbers) and `rows`.
pub fn cards_section(
    id: &'static str,
    heading: String,
    intro: Option<AnyView>,
    class: &'static str,
    heads: &[(String, bool)],
    rows: AnyView,
) -> AnyView {
    let heads = heads
        .iter()
        .map(|(head, numeric)| view! { <th class=numeric.then_some("num")>{head.clone()}</th> })
        .collect_view();
    view! {
        <section aria-labelledby=id>
            <h2 id=id>{heading}</h2>
            {intro}
            <div class="table-wrap">
                <table class=format!("cards {class}")>
                    <thead><tr>{heads}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_counted_from_one() {
        assert_eq!(page_offset(3, 50), 100);
        assert_eq!(page_offset(0, 50), 0);
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(-1234567), "-1,234,567");
        assert_eq!(number(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn a_refusal_names_the_inputs_it_is_about() {
        let qty = AppError::validation("lines[2].qty", "must be at least 1");
        assert_eq!(
            field_input_names(&qty),
            vec![("lines[2][qty]".into(), "must be at least 1".into())]
        );
        let reference = AppError::validation("ref", "must not be empty");
        assert_eq!(field_input_names(&reference)[0].0, "reference");
        let conflict = AppError::conflict("taken".to_string());
        assert_eq!(field_input_names(&conflict), vec![]);

        let mut problems = crate::error::Problems::default();
        problems.note(reference);
        problems.note(qty);
        problems.note(AppError::validation(
            "lines[2].qty",
            "a second reason is not listed",
        ));
        let both = problems.into_error().unwrap();
        assert_eq!(
            field_input_names(&both),
            vec![
                ("reference".into(), "must not be empty".into()),
                ("lines[2][qty]".into(), "must be at least 1".into()),
            ]
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn moments_are_shown_in_the_warehouse_zone() {
        use chrono::{DateTime, Utc};
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        let shanghai = WarehouseTimes::in_zone(
            chrono_tz::Asia::Shanghai,
            at("2026-11-26T06:00:00Z"),
            [Some(&at("2026-11-25T20:30:00Z")), None],
        );
        assert_eq!(shanghai.zone, "UTC+08:00");
        assert_eq!(shanghai.times, ["2026-11-26 04:30:00", ""]);
        let utc = WarehouseTimes::in_zone(chrono_tz::UTC, at("2026-11-26T06:00:00Z"), [None]);
        assert_eq!(utc.zone, "UTC");
        // Across a daylight-saving change, a moment at the other offset says which.
        let berlin = WarehouseTimes::in_zone(
            chrono_tz::Europe::Berlin,
            at("2026-11-26T06:00:00Z"),
            [
                Some(&at("2026-07-01T10:00:00Z")),
                Some(&at("2026-12-01T10:00:00Z")),
            ],
        );
        assert_eq!(berlin.zone, "UTC+01:00");
        assert_eq!(
            berlin.times,
            ["2026-07-01 12:00:00 (UTC+02:00)", "2026-12-01 11:00:00"]
        );
        assert_eq!(berlin.at(5), "");
    }
}
