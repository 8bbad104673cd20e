//! `/login`, `/logout` and `/setup` (SPEC §7): plain form posts that work without JavaScript,
//! and JSON for programs; failed sign-ins throttled per username.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::password::Password;
use crate::auth::sessions::USER_KEY;
use crate::auth::Role;
use crate::error::AppError;
use crate::negotiate::wants_html;
use crate::state::AppState;
use crate::ui::{query_href, urlencode};

/// Failed sign-ins allowed per username within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The window failed sign-ins are counted in.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Recent failed sign-ins per username (one server process).
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// Seconds until `username` may try again, if it has failed too often.
    pub fn wait(&self, username: &str, now: Instant) -> Option<u64> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let list = failures.get_mut(username)?;
        while list
            .front()
            .is_some_and(|at| now.duration_since(*at) >= WINDOW)
        {
            list.pop_front();
        }
        if list.is_empty() {
            failures.remove(username);
            return None;
        }
        (list.len() >= MAX_FAILURES).then(|| {
            let oldest = list[list.len() - MAX_FAILURES];
            (WINDOW - now.duration_since(oldest)).as_secs().max(1)
        })
    }

    pub fn failed(&self, username: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: a flood of made-up names cannot grow this without end.
        if failures.len() > 100_000 {
            failures.retain(|_, list| {
                list.back()
                    .is_some_and(|at| now.duration_since(*at) < WINDOW)
            });
        }
        failures
            .entry(username.to_string())
            .or_default()
            .push_back(now);
    }

    pub fn succeeded(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(username);
    }
}

#[derive(Debug, Default, Deserialize)]
struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    token: String,
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"))
}

/// The JSON sign-in (and setup): username and password required.
#[derive(Debug, Deserialize)]
struct JsonCredentials {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    token: String,
}

fn read_credentials(headers: &HeaderMap, body: &Bytes) -> Result<Credentials, AppError> {
    if is_json(headers) {
        // An object only (serde would also take `["name", "password"]`).
        let value: serde_json::Value = crate::extract::decode_json(body)?;
        if !value.is_object() {
            return Err(AppError::malformed(tr!(errors.request.credentials_object)));
        }
        let json: JsonCredentials = crate::extract::decode_json(body)?;
        Ok(Credentials {
            username: json.username,
            password: json.password,
            next: json.next,
            token: json.token,
        })
    } else {
        serde_urlencoded::from_bytes(body).map_err(|e| {
            AppError::malformed(tr!(errors.request.not_understood, detail = e.to_string()))
        })
    }
}

/// Where to go after signing in: a path on this site only (no `//host`, no scheme), else `/`.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && !next.starts_with("/login")
        && !next.starts_with("/setup");
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// Back to the sign-in page saying why, with the username kept (never the password).
fn back_to_login(error: &str, next: &str, username: &str) -> Response {
    Redirect::to(&query_href(
        "/login",
        &[
            ("error", error.to_string()),
            ("next", next.to_string()),
            ("username", username.to_string()),
        ],
    ))
    .into_response()
}

/// `POST /login`: a form (redirects) or JSON `{"username", "password"}`.
#[utoipa::path(
    post,
    path = "/login",
    tag = "sign-in",
    summary = "Sign in: the answer sets the depot_session cookie",
    request_body(content = crate::openapi::SignIn, description = "JSON, or a form (then the answer is a redirect)"),
    responses(
        (status = 200, description = "Signed in; the `depot_session` cookie is set", body = crate::openapi::SignedIn),
        (status = 401, description = "Wrong username or password (UNAUTHENTICATED)", body = crate::error::ErrorEnvelope),
        (status = 429, description = "Too many failed sign-ins for this username (TOO_MANY_REQUESTS, `Retry-After`)", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = is_json(&headers);
    let form = match read_credentials(&headers, &body) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let username = form.username.trim().to_string();
    let now = Instant::now();
    if let Some(seconds) = state.throttle.wait(&username, now) {
        tracing::warn!(username = %username, "sign-in throttled");
        return if json {
            AppError::too_many_requests(seconds).into_response()
        } else {
            let mut response = back_to_login("throttled", &form.next, &username);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
            response
        };
    }
    let principal =
        match crate::auth::service::check_password(&state.db, &username, &form.password).await {
            Ok(principal) => principal,
            Err(error) => return error.into_response(),
        };
    let Some(principal) = principal else {
        state.throttle.failed(&username, now);
        tracing::info!(username = %username, "sign-in failed");
        return if json {
            AppError::new(
                crate::error::ErrorCode::Unauthenticated,
                tr!(errors.auth.bad_credentials),
            )
            .into_response()
        } else {
            back_to_login("invalid", &form.next, &username)
        };
    };
    state.throttle.succeeded(&username);
    if let Err(error) = start_session(&session, principal.id).await {
        return error.into_response();
    }
    tracing::info!(user = %principal.name, "signed in");
    if json {
        Json(serde_json::json!({"username": principal.name, "role": principal.role}))
            .into_response()
    } else {
        Redirect::to(&safe_next(&form.next)).into_response()
    }
}

/// A new session id for the signed-in user (no session fixation).
async fn start_session(session: &Session, user_id: i64) -> Result<(), AppError> {
    let failed = |e: tower_sessions::session::Error| {
        AppError::internal(&std::io::Error::other(e.to_string()))
    };
    session.cycle_id().await.map_err(failed)?;
    session.insert(USER_KEY, user_id).await.map_err(failed)?;
    let now = tower_sessions::cookie::time::OffsetDateTime::now_utc().unix_timestamp();
    session
        .insert(crate::auth::sessions::TOUCHED_KEY, now)
        .await
        .map_err(failed)
}

/// `POST /logout`: ends the session; a browser goes to `/login`.
#[utoipa::path(
    post,
    path = "/logout",
    tag = "sign-in",
    summary = "Sign out: the session ends",
    responses(
        (status = 204, description = "Signed out (a JSON request; a browser is redirected to /login)"),
    )
)]
pub async fn logout(session: Session, request: Request) -> Response {
    if let Err(error) = session.flush().await {
        return AppError::internal(&std::io::Error::other(error.to_string())).into_response();
    }
    if wants_html(request.headers()) || !is_json(request.headers()) {
        Redirect::to("/login").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

/// Whether `token` opens the first-start setup (no user yet, and the token the server logged).
fn setup_open(state: &AppState, token: &str) -> bool {
    let expected = state.setup_token.lock().unwrap_or_else(|e| e.into_inner());
    expected
        .as_deref()
        .is_some_and(|t| !token.is_empty() && constant_time_eq(t.as_bytes(), token.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /setup?token=…`: the first-start page while it is open; not found otherwise.
pub async fn setup_page(
    State(state): State<AppState>,
    Query(query): Query<SetupQuery>,
    request: Request,
) -> Response {
    if !setup_open(&state, &query.token) {
        return AppError::not_found(tr!(errors.auth.setup_closed)).into_response();
    }
    crate::negotiate::render_page(state, request).await
}

/// `POST /setup`: creates the first admin, signs them in, and closes setup for good.
pub async fn setup_submit(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match read_credentials(&headers, &body) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    if !setup_open(&state, &form.token) {
        return AppError::not_found(tr!(errors.auth.setup_closed)).into_response();
    }
    let back = |error: AppError| {
        if is_json(&headers) {
            error.into_response()
        } else {
            let field = if error.details["field"] == "password" {
                "password"
            } else {
                "username"
            };
            Redirect::to(&format!(
                "/setup?token={}&error={field}",
                urlencode(&form.token)
            ))
            .into_response()
        }
    };
    let password = match Password::parse("password", &form.password) {
        Ok(password) => password,
        Err(error) => return back(error),
    };
    // Only while no user exists: a second setup (two tabs) is a conflict.
    match crate::auth::service::count_users(&state.db).await {
        Ok(0) => {}
        Ok(_) => return AppError::not_found(tr!(errors.auth.setup_closed)).into_response(),
        Err(error) => return error.into_response(),
    }
    let user =
        match crate::auth::service::create_user(&state.db, &form.username, Role::Admin, &password)
            .await
        {
            Ok(user) => user,
            Err(error) => return back(error),
        };
    *state.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = None;
    tracing::info!(user = %user.username, "first admin created; setup closed");
    if let Err(error) = start_session(&session, user.id).await {
        return error.into_response();
    }
    if is_json(&headers) {
        (
            StatusCode::CREATED,
            Json(serde_json::json!({"username": user.username, "role": user.role})),
        )
            .into_response()
    } else {
        Redirect::to("/").into_response()
    }
}

/// At start: with no user yet, opens setup under a new one-time token and returns its path.
pub async fn open_setup_if_needed(state: &AppState) -> Result<Option<String>, AppError> {
    if crate::auth::service::count_users(&state.db).await? > 0 {
        return Ok(None);
    }
    let token = crate::auth::token::new_secret()
        .map_err(|e| AppError::internal(&std::io::Error::other(e.to_string())))?;
    let path = format!("/setup?token={}", urlencode(&token));
    *state.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next("/stock?sku=A"), "/stock?sku=A");
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil",
            "evil",
            "/login?next=/x",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn five_failures_in_fifteen_minutes_wait_until_the_first_leaves_the_window() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for n in 0..4 {
            throttle.failed("ana", start + Duration::from_secs(n));
            assert_eq!(throttle.wait("ana", start + Duration::from_secs(n)), None);
        }
        throttle.failed("ana", start + Duration::from_secs(10));
        let wait = throttle
            .wait("ana", start + Duration::from_secs(10))
            .unwrap();
        assert_eq!(wait, 15 * 60 - 10);
        assert_eq!(throttle.wait("bob", start), None, "per username");
        assert_eq!(
            throttle.wait("ana", start + WINDOW + Duration::from_secs(1)),
            None
        );
        throttle.succeeded("ana");
        assert_eq!(throttle.wait("ana", start + Duration::from_secs(11)), None);
    }
}
