//! Which warehouses the request in progress may touch (issue 33). The authentication
//! middleware sets it once per request from who is asking ([`within`]); the places where a
//! request's warehouse is settled read it — `warehouses::service::one` and `filter` (the
//! warehouse a request names or a list is filtered by) and `movement::resolve::find` (every
//! location a line names) — so no service needs to carry it. Outside a request (the CLI, a
//! test calling a service) nothing is limited.

use std::future::Future;

use crate::error::AppError;

/// A warehouse someone may work in: its id and code.
pub type Allowed = (i64, String);

/// The warehouses a request may touch, also kept in the request's extensions: server-side
/// rendering runs a page's resources on tasks of their own, where the task-local is not, but
/// the request's parts (Leptos' context) are.
#[derive(Debug, Clone, Default)]
pub struct Grants(pub Vec<Allowed>);

tokio::task_local! {
    static ALLOWED: Vec<Allowed>;
}

/// Runs `work` as a request limited to `allowed` (empty: every warehouse).
pub async fn within<F: Future>(allowed: Vec<Allowed>, work: F) -> F::Output {
    ALLOWED.scope(allowed, work).await
}

/// The warehouses the request is limited to; `None` when it may touch every one.
pub fn limited() -> Option<Vec<Allowed>> {
    let allowed = ALLOWED.try_with(Vec::clone).ok().or_else(page_grants)?;
    (!allowed.is_empty()).then_some(allowed)
}

/// The request's warehouses as its parts keep them (a page's server function, read while the
/// page's context is at hand).
fn page_grants() -> Option<Vec<Allowed>> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Grants>().map(|g| g.0.clone()))
}

/// Runs a page's server-side `work` within the request's warehouses. Server-side rendering
/// runs a page's resources on tasks of their own, where the task-local is not set and the
/// page's context is gone after the first `.await`: so the limit is read now, when called.
pub fn for_page<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let allowed = match ALLOWED.try_with(|_| ()) {
        Ok(()) => None,
        Err(_) => page_grants(),
    };
    async move {
        match allowed {
            Some(allowed) => within(allowed, work).await,
            None => work.await,
        }
    }
}

/// Whether the request may touch warehouse `id`.
pub fn allows(id: i64) -> bool {
    limited().is_none_or(|allowed| allowed.iter().any(|(a, _)| *a == id))
}

/// The warehouse an export (whose rows are read after the request's handler) filters by: the
/// one it names — 403 if the request may not touch it — or, for someone limited to one
/// warehouse, that one.
pub fn export_filter(named: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(allowed) = limited() else {
        return Ok(named.map(str::to_string));
    };
    match named {
        Some(code) if allowed.iter().any(|(_, c)| c == code) => Ok(Some(code.to_string())),
        Some(code) => Err(AppError::forbidden(tr!(
            errors.auth.other_warehouse,
            warehouse = code,
            yours = yours()
        ))
        .with_details(serde_json::json!({ "warehouse_code": code }))),
        None if allowed.len() == 1 => Ok(allowed.into_iter().next().map(|(_, code)| code)),
        None => Ok(None),
    }
}

/// The one warehouse the request is limited to, if it is limited to exactly one.
pub fn only() -> Option<Allowed> {
    limited()
        .filter(|allowed| allowed.len() == 1)
        .and_then(|allowed| allowed.into_iter().next())
}

/// The codes of the warehouses the request is limited to, for a refusal.
fn yours() -> String {
    limited()
        .unwrap_or_default()
        .into_iter()
        .map(|(_, code)| code)
        .collect::<Vec<_>>()
        .join(", ")
}

/// 403 `FORBIDDEN` unless the request may touch warehouse `id` (`code`).
pub fn check(id: i64, code: &str) -> Result<(), AppError> {
    if allows(id) {
        return Ok(());
    }
    Err(AppError::forbidden(tr!(
        errors.auth.other_warehouse,
        warehouse = code,
        yours = yours()
    ))
    .with_details(serde_json::json!({ "warehouse_code": code })))
}

/// 403 `FORBIDDEN` unless the request may touch warehouse `id`, where location `code` (named on
/// `field`) is.
pub fn check_location(id: i64, code: &str, field: &str) -> Result<(), AppError> {
    if allows(id) {
        return Ok(());
    }
    Err(AppError::forbidden(tr!(
        errors.auth.other_warehouse_location,
        code = code,
        yours = yours()
    ))
    .with_details(serde_json::json!({ "field": field })))
}
