//! Pieces every page shares: how a form's outcome reaches the page with and without JavaScript,
//! and small views (error panel, status badge, pager, batch list).
//!
//! A form posts to a server function. With JavaScript the function's return value is the
//! outcome. Without it the browser posted a plain form, so the function sends the browser back
//! to the page with the outcome in the `outcome` query parameter; the page renders it from there.
//! Either way the page sees one [`Outcome`]: the form as submitted and its result.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::Page;
use crate::error::AppError;
use crate::movement::{BatchQty, LineStatus};

/// The query parameter a no-JavaScript outcome travels in.
pub const OUTCOME_PARAM: &str = "outcome";

/// A submitted form and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome<F, R> {
    pub form: F,
    pub result: Result<R, AppError>,
}

/// The outcome carried in the page's URL after a no-JavaScript post, if any; follows the URL.
pub fn outcome_in_url<F, R>() -> Memo<Option<Outcome<F, R>>>
where
    F: DeserializeOwned + PartialEq + Send + Sync + 'static,
    R: DeserializeOwned + PartialEq + Send + Sync + 'static,
{
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .read()
            .get(OUTCOME_PARAM)
            .and_then(|raw| serde_json::from_str(&raw).ok())
    })
}

/// The click handler of a form's "start over" link (New receipt, New order, …): `forget`s the
/// shown outcome, bumps `generation` (the form's remount key) and leaves any URL outcome
/// behind by going to `path`. Without JavaScript the link simply loads `path`.
pub fn start_over(
    forget: impl Fn() + Clone + 'static,
    generation: RwSignal<u32>,
    path: &'static str,
) -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static {
    let navigate = leptos_router::hooks::use_navigate();
    move |event: leptos::ev::MouseEvent| {
        event.prevent_default();
        forget();
        generation.update(|g| *g += 1);
        navigate(path, Default::default());
    }
}

/// The outcome to show: the action's latest value (JavaScript), else the URL's (no JavaScript).
/// A failure to reach the server at all becomes an outcome with the last submitted form.
pub fn current_outcome<F, R>(
    action_value: Option<Result<Outcome<F, R>, AppError>>,
    from_url: Option<Outcome<F, R>>,
    last_form: impl FnOnce() -> F,
) -> Option<Outcome<F, R>> {
    match action_value {
        Some(Ok(outcome)) => Some(outcome),
        Some(Err(error)) => Some(Outcome {
            form: last_form(),
            result: Err(error),
        }),
        None => from_url,
    }
}

/// Finishes a server function behind a form: for a plain (no-JavaScript) form post, sends the
/// browser back to `page` with the outcome in the URL; always returns the outcome.
#[cfg(feature = "ssr")]
pub fn finish_form<F, R>(page: &str, form: F, result: Result<R, AppError>) -> Outcome<F, R>
where
    F: Serialize,
    R: Serialize,
{
    let outcome = Outcome { form, result };
    if is_plain_form_post() {
        match serde_json::to_string(&outcome) {
            Ok(json) => {
                leptos_axum::redirect(&format!("{page}?{OUTCOME_PARAM}={}", urlencode(&json)));
            }
            Err(error) => {
                AppError::internal(&error);
                leptos_axum::redirect(page);
            }
        }
    }
    outcome
}

/// Whether the current server-function request is a browser's own form post (no JavaScript).
#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// A refusal or failure, in words, with the field it is about.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let field = error
        .details
        .get("field")
        .and_then(|f| f.as_str())
        .map(str::to_string);
    let shortages: Vec<String> = error
        .details
        .get("shortages")
        .and_then(|s| s.as_array())
        .map(|list| {
            list.iter()
                .map(|s| {
                    format!(
                        "line {}: needs {}, {} available",
                        s["ref_line"], s["required"], s["available"]
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    view! {
        <div class="error" role="alert">
            <strong>{format!("{:?}", error.code).to_uppercase()}</strong>
            " "
            {error.message.clone()}
            {field.map(|f| view! { <div class="muted">"Field: " <code>{f}</code></div> })}
            {(!shortages.is_empty()).then(|| view! {
                <ul class="shortages">{shortages.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}

/// A line's status as a coloured badge.
#[component]
pub fn StatusBadge(status: LineStatus) -> impl IntoView {
    let class = match status {
        LineStatus::Ok => "badge ok",
        LineStatus::Idempotent => "badge warn",
        LineStatus::InsufficientStock => "badge bad",
    };
    view! { <span class=class>{status.as_str()}</span> }
}

/// "L1 (exp 2026-12-01) × 3, …"
pub fn batches_text(batches: &[BatchQty]) -> String {
    batches
        .iter()
        .map(|b| {
            let code = if b.batch_code.is_empty() {
                "(no batch)"
            } else {
                &b.batch_code
            };
            match b.expiry_date {
                Some(expiry) => format!("{code} exp {expiry} × {}", b.qty),
                None => format!("{code} × {}", b.qty),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Previous/next links for a paged list; `href(page)` builds a page's URL (1-based).
#[component]
pub fn Pager<T: 'static>(page: Page<T>, href: impl Fn(i64) -> String + 'static) -> impl IntoView {
    let current = page.offset / page.limit.max(1) + 1;
    let last = ((page.total + page.limit - 1) / page.limit.max(1)).max(1);
    let first_row = if page.total == 0 { 0 } else { page.offset + 1 };
    let last_row = (page.offset + page.items.len() as i64).min(page.total);
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="muted">{format!("{first_row}–{last_row} of {}", page.total)}</span>
            {(current > 1).then(|| view! { <a class="button secondary" rel="prev" href=href(current - 1)>"Previous"</a> })}
            {(current < last).then(|| view! { <a class="button secondary" rel="next" href=href(current + 1)>"Next"</a> })}
        </nav>
    }
}

/// The 1-based page number in the URL (`page`), and the offset it starts at.
pub fn page_offset(page: i64, per_page: i64) -> i64 {
    (page.max(1) - 1).saturating_mul(per_page)
}

/// A link to the current path with `params` as its query (blank values left out).
pub fn query_href(path: &str, params: &[(&str, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_links_encode_and_skip_blanks() {
        assert_eq!(
            query_href("/items", &[("q", "绿 茶&".into()), ("page", "".into())]),
            "/items?q=%E7%BB%BF%20%E8%8C%B6%26"
        );
        assert_eq!(query_href("/items", &[]), "/items");
        assert_eq!(page_offset(3, 50), 100);
        assert_eq!(page_offset(0, 50), 0);
    }
}
