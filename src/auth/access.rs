//! Who may do what (SPEC §7), decided in one place for pages, server functions and the JSON
//! API: [`required`] names the access every request needs, and [`authenticate`] (a middleware
//! around every route) finds who is asking and lets the request through or refuses it. No
//! handler checks roles itself.
//!
//! A write or a server function without a rule here is refused: a new one is unreachable until
//! someone decides who may use it (and the role matrix test lists every server function).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use tower_sessions::Session;

use crate::auth::known_tokens;
use crate::auth::sessions::USER_KEY;
use crate::auth::{Principal, Role};
use crate::db::WriteCheck;
use crate::error::AppError;
use crate::state::AppState;

/// Whether `path` is one of the site's static files.
fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: sign-in, first-start setup, health, static files.
    Public,
    /// Someone signed in (or a token) with at least this role.
    Role(Role),
}

/// The access `method` on `path` needs; `None` when no rule names it (refused).
pub fn required(method: &Method, path: &str) -> Option<Access> {
    use Access::{Public, Role as R};
    match path {
        "/login" | "/logout" | "/setup" | "/healthz" => return Some(Public),
        // SPEC §11: the API's description, for integrators before they have a token.
        "/openapi.json" | "/api-docs" if method == Method::GET || method == Method::HEAD => {
            return Some(Public)
        }
        _ if is_static(path) => return Some(Public),
        _ => {}
    }
    if let Some(endpoint) = path.strip_prefix("/api/") {
        return server_function(endpoint).map(R);
    }
    if path == "/admin"
        || path.starts_with("/admin/")
        || (path == "/warehouses" && method == Method::POST)
    {
        return Some(R(Role::Admin));
    }
    if method == Method::GET || method == Method::HEAD {
        // Every page (and the not-found page) and every GET endpoint.
        return Some(R(Role::Viewer));
    }
    if method == Method::POST {
        if let Some(role) = crate::kinds::role_of(path) {
            return Some(R(role));
        }
    }
    match (method.as_str(), path) {
        ("POST", "/items" | "/locations" | "/counts") => Some(R(Role::Manager)),
        ("POST", "/orders" | "/transfers" | "/returns") => Some(R(Role::Clerk)),
        // SPEC §11: imports create items and locations and receive opening stock.
        ("POST", "/import/items" | "/import/locations" | "/import/stock") => Some(R(Role::Manager)),
        ("POST", _) => {
            if let Some(rest) = path.strip_prefix("/counts/") {
                return match rest.split_once('/') {
                    // Clerks count; managers post and cancel (SPEC §9).
                    Some((_, "lines")) => Some(R(Role::Clerk)),
                    Some((_, "post" | "cancel")) => Some(R(Role::Manager)),
                    _ => None,
                };
            }
            if let Some(rest) = path.strip_prefix("/transfers/") {
                // Clerks receive (a ref may hold a `/`: the action is the last segment).
                return match rest.rsplit_once('/') {
                    Some((_, "receive")) => Some(R(Role::Clerk)),
                    Some((_, "close")) => Some(R(Role::Manager)),
                    _ => None,
                };
            }
            if let Some(rest) = path.strip_prefix("/returns/") {
                // Managers decide what becomes of returned goods.
                return match rest.rsplit_once('/') {
                    Some((_, "dispose")) => Some(R(Role::Manager)),
                    _ => None,
                };
            }
            // An order's ref may hold a `/` (percent-encoded): its action is the last segment.
            match path
                .strip_prefix("/orders/")
                .and_then(|rest| rest.rsplit_once('/'))
            {
                // Clerks reserve, pick and ship; managers cancel (SPEC §10).
                Some((_, "reserve" | "pick" | "ship")) => Some(R(Role::Clerk)),
                Some((_, "cancel")) => Some(R(Role::Manager)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The role each server function (`/api/<endpoint>`) needs: the same as the JSON endpoint it
/// stands beside.
pub fn server_function(endpoint: &str) -> Option<Role> {
    if let Some(role) = crate::kinds::form_role(endpoint) {
        return Some(role);
    }
    match endpoint {
        "form_result"
        | "stock_at"
        | "inventory_snapshot"
        | "list_items"
        | "list_locations"
        | "list_ledger"
        | "query_stock"
        | "scan"
        | "location_labels"
        | "batch_labels"
        | "list_counts"
        | "count_detail"
        | "list_orders"
        | "order_detail"
        | "pick_list"
        | "batches_at_source"
        | "list_warehouses"
        | "working_warehouse"
        | "list_returns"
        | "return_detail"
        | "list_transfers"
        | "transfer_detail"
        | "transfer_warehouses" => Some(Role::Viewer),
        "record_counts" | "create_order" | "order_action" | "confirm_pick" | "take_back"
        | "send_transfer" | "receive_transfer" => Some(Role::Clerk),
        "create_item" | "create_location" | "start_count" | "post_count" | "cancel_count"
        | "cancel_order" | "dispose_lot" | "close_transfer" => Some(Role::Manager),
        "list_users" | "create_user" | "change_user" | "list_tokens" | "create_token"
        | "revoke_token" | "create_warehouse" => Some(Role::Admin),
        _ => None,
    }
}

/// The bearer secret of `Authorization: Bearer …`, if the request sends one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim())
}

/// The person the session belongs to, if it is signed in and they are still enabled (a role
/// changed since counts from the next request).
async fn session_user(state: &AppState, session: &Session) -> Result<Option<Principal>, AppError> {
    let Ok(Some(user_id)) = session.get::<i64>(USER_KEY).await else {
        return Ok(None);
    };
    let user = crate::auth::service::enabled_user(&state.db, user_id).await?;
    if user.is_some() {
        crate::auth::sessions::touch(session).await;
    }
    Ok(user)
}

/// Finds who is asking (a bearer token, else the session) and applies [`required`]: a page
/// without a session goes to `/login?next=…`; anything else without credentials is 401
/// `UNAUTHENTICATED`, a role too low 403 `FORBIDDEN`. The principal rides along in the
/// request's extensions (handlers and, through Leptos' `Parts`, server functions and pages).
pub async fn authenticate(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let access = required(request.method(), request.uri().path());
    // Static files are the same for everyone: no session is read or extended for them (a page
    // load would otherwise cost a session write per file).
    if access == Some(Access::Public) && is_static(request.uri().path()) {
        return next.run(request).await;
    }
    let now = state.config.clock.now();
    // A token this node found valid within the last minute, on a request that may write:
    // confirmed by the request's first write transaction, or after its handler.
    let mut unconfirmed: Option<(String, std::sync::Arc<WriteCheck>)> = None;
    let principal = match bearer(request.headers()) {
        Some(secret) => {
            let digest = crate::auth::token::digest(secret);
            let known = confirms_later(&request)
                .then(|| state.tokens.get(&digest, now))
                .flatten();
            match known {
                Some(principal) => {
                    let check = WriteCheck::new(
                        known_tokens::CONFIRM,
                        principal.id,
                        AppError::unauthenticated,
                    );
                    unconfirmed = Some((digest, std::sync::Arc::new(check)));
                    Some(principal)
                }
                None => {
                    match crate::auth::service::authenticate_digest(&state.db, &digest, now).await {
                        Ok(Some(principal)) => {
                            state.tokens.remember(digest, principal.clone(), now);
                            Some(principal)
                        }
                        // A wrong or revoked token is refused, not treated as nobody.
                        Ok(None) if access != Some(Access::Public) => {
                            state.tokens.forget(&digest);
                            return AppError::unauthenticated().into_response();
                        }
                        Ok(None) => None,
                        Err(error) => return error.into_response(),
                    }
                }
            }
        }
        None => match session_user(&state, &session).await {
            Ok(principal) => principal,
            Err(error) => return error.into_response(),
        },
    };
    if let Some(refused) = refusal(access, principal.as_ref(), &request) {
        // A token from memory is confirmed before it is told no: a revoked one is 401,
        // whatever it asked for.
        return match unconfirmed {
            Some((digest, _)) => confirmed(&state, &digest, now, refused).await,
            None => refused,
        };
    }
    // The warehouses the request may touch (issue 33), for the services that settle them.
    let allowed: Vec<crate::scope::Allowed> = principal
        .iter()
        .flat_map(|p| p.warehouses.iter().map(|g| (g.id, g.code.clone())))
        .collect();
    request
        .extensions_mut()
        .insert(crate::scope::Grants(allowed.clone()));
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    let Some((digest, check)) = unconfirmed else {
        return crate::scope::within(allowed, next.run(request)).await;
    };
    let response = crate::db::with_write_check(
        check.clone(),
        crate::scope::within(allowed, next.run(request)),
    )
    .await;
    if check.met() {
        return response;
    }
    // Nothing the handler wrote confirmed the token (it wrote nothing, or the confirmation
    // refused it): confirm it now.
    confirmed(&state, &digest, now, response).await
}

/// `answer` if the token with `digest` is still valid, else 401 (and the node forgets it).
async fn confirmed(
    state: &AppState,
    digest: &str,
    now: DateTime<Utc>,
    answer: Response,
) -> Response {
    match crate::auth::service::authenticate_digest(&state.db, digest, now).await {
        Ok(Some(_)) => answer,
        Ok(None) => {
            state.tokens.forget(digest);
            AppError::unauthenticated().into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// The answer to a request its asker may not make ([`required`]), if so: to a page visit
/// without credentials the sign-in page, else 401, 403, or 404 for a route without a rule.
fn refusal(
    access: Option<Access>,
    principal: Option<&Principal>,
    request: &Request,
) -> Option<Response> {
    let refused = match access {
        Some(Access::Public) => return None,
        Some(Access::Role(needed)) => match principal {
            None if is_page_visit(request) => {
                let next = request.uri().path_and_query().map_or("/", |p| p.as_str());
                Redirect::to(&format!("/login?next={}", crate::href::urlencode(next)))
                    .into_response()
            }
            None => AppError::unauthenticated().into_response(),
            Some(principal) if !principal.may(needed) => AppError::forbidden(tr!(
                errors.auth.forbidden_role,
                role = principal.role,
                needed = needed
            ))
            .into_response(),
            Some(_) => return None,
        },
        // No rule: nobody may, so it is as if there were no such route (and a route added
        // without a rule stays unreachable until someone decides who may use it).
        None if principal.is_none() => AppError::unauthenticated().into_response(),
        None => {
            tracing::warn!(method = %request.method(), path = request.uri().path(), "no access rule: not found");
            AppError::not_found(tr!(
                errors.no_route,
                method = request.method().as_str(),
                path = request.uri().path()
            ))
            .into_response()
        }
    };
    Some(refused)
}

/// Whether a request may use a token from memory ([`crate::auth::known_tokens`]): a write to
/// the JSON API (not a server function, whose work Leptos may run outside the request's task,
/// where the write check is not seen). Every write of those handlers goes through
/// [`crate::db::Db::write`], which confirms the token first; reads gain nothing (their
/// confirmation comes after them) and look the token up as before.
fn confirms_later(request: &Request) -> bool {
    !matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.uri().path().starts_with("/api/")
}

/// A browser loading a page (not a program, not a form post).
fn is_page_visit(request: &Request) -> bool {
    (request.method() == Method::GET || request.method() == Method::HEAD)
        && crate::extract::wants_html(request.headers())
}

/// Who is asking in a server function or a page rendered on the server.
pub fn current_principal() -> Option<Principal> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>().cloned())
}

/// The ledger's `actor` for the server function running now (`user:NAME`, `token:NAME`).
pub fn current_actor() -> Option<String> {
    current_principal().map(|p| p.actor())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_has_a_rule_or_is_refused() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(required(&get, "/login"), Some(Access::Public));
        assert_eq!(required(&post, "/login"), Some(Access::Public));
        assert_eq!(required(&get, "/pkg/depot.wasm"), Some(Access::Public));
        assert_eq!(required(&get, "/"), Some(Access::Role(Role::Viewer)));
        assert_eq!(
            required(&get, "/stock/query"),
            Some(Access::Role(Role::Viewer))
        );
        assert_eq!(
            required(&post, "/outbound/commit"),
            Some(Access::Role(Role::Clerk))
        );
        assert_eq!(required(&post, "/items"), Some(Access::Role(Role::Manager)));
        assert_eq!(
            required(&get, "/admin/users"),
            Some(Access::Role(Role::Admin))
        );
        assert_eq!(
            required(&post, "/api/ship_order"),
            Some(Access::Role(Role::Clerk))
        );
        assert_eq!(required(&post, "/api/no_such_function"), None);
        assert_eq!(required(&Method::DELETE, "/items/1"), None);
        assert_eq!(required(&post, "/stock/query"), None);
    }

    #[test]
    fn bearer_tokens_are_read_from_authorization() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer depot_abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("depot_abc"));
        headers.insert(header::AUTHORIZATION, "bearer  depot_abc ".parse().unwrap());
        assert_eq!(bearer(&headers), Some("depot_abc"));
        headers.insert(header::AUTHORIZATION, "Basic YTpi".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
