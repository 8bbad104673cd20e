//! `/login`, `/logout` and `/setup` (SPEC §7): plain form posts that work without JavaScript,
//! and JSON for programs; failed sign-ins throttled per username.

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::password::Password;
use crate::auth::sessions::USER_KEY;
use crate::auth::throttle::Throttle;
use crate::auth::token::digest;
use crate::error::{AppError, ErrorCode};
use crate::extract::wants_html;
use crate::state::AppState;
use crate::ui::{query_href, urlencode};
use crate::with_pool;

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
    request_body(content = SignIn, description = "JSON, or a form (then the answer is a redirect)"),
    responses(
        (status = 200, description = "Signed in; the `depot_session` cookie is set", body = SignedIn),
        (status = 401, description = "Wrong username or password (UNAUTHENTICATED)", body = crate::error::ErrorEnvelope),
        (status = 429, description = "Too many failed sign-ins for this username (TOO_MANY_REQUESTS, `Retry-After`)", body = crate::error::ErrorEnvelope),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::proxy::Client>>,
    body: Bytes,
) -> Response {
    // Who tried, as far as a trusted proxy says (DEPOT_TRUSTED_PROXIES): for the log.
    let client = client.and_then(|axum::Extension(c)| c.addr);
    let json = is_json(&headers);
    let form = match read_credentials(&headers, &body) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let username = form.username.trim().to_string();
    let now = state.config.clock.now();
    let throttle = Throttle::new(state.db.clone());
    let wait = match throttle.wait(&username, now).await {
        Ok(wait) => wait,
        Err(error) => return error.into_response(),
    };
    if let Some(seconds) = wait {
        tracing::warn!(username = %username, client = ?client, "sign-in throttled");
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
        // A failure that cannot be counted is not answered as one (it would go uncounted).
        if let Err(error) = throttle.failed(&username, now).await {
            return error.into_response();
        }
        tracing::info!(username = %username, client = ?client, "sign-in failed");
        return if json {
            AppError::new(ErrorCode::Unauthenticated, tr!(errors.auth.bad_credentials))
                .into_response()
        } else {
            back_to_login("invalid", &form.next, &username)
        };
    };
    if let Err(error) = throttle.succeeded(&username).await {
        // Signed in all the same; the failures leave the window in time.
        tracing::warn!(username = %username, code = ?error.code, "could not forget failed sign-ins");
    }
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

/// Whether `token` opens the first-start setup: no user yet, and the token one of the links a
/// node printed at its start (any node's: their digests are in `setup_tokens`).
async fn setup_open(state: &AppState, token: &str) -> Result<bool, AppError> {
    if token.is_empty() {
        return Ok(false);
    }
    let open: i64 = with_pool!(&state.db, |pool, _backend| sqlx::query_scalar(
        "SELECT COUNT(*) FROM setup_tokens WHERE token_digest = $1 \
         AND NOT EXISTS (SELECT 1 FROM users)"
    )
    .bind(digest(token))
    .fetch_one(pool)
    .await)?;
    Ok(open > 0)
}

/// `GET /setup?token=…`: the first-start page while it is open; not found otherwise.
pub async fn setup_page(
    State(state): State<AppState>,
    Query(query): Query<SetupQuery>,
    request: Request,
) -> Response {
    match setup_open(&state, &query.token).await {
        Ok(true) => crate::negotiate::render_page(state, request).await,
        Ok(false) => AppError::not_found(tr!(errors.auth.setup_closed)).into_response(),
        Err(error) => error.into_response(),
    }
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
    match setup_open(&state, &form.token).await {
        Ok(true) => {}
        Ok(false) => return AppError::not_found(tr!(errors.auth.setup_closed)).into_response(),
        Err(error) => return error.into_response(),
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
    // Only while no user exists and the token is open, checked again in the transaction that
    // creates the admin and closes setup for every node: a second setup (two tabs, two nodes)
    // finds it closed.
    let user = match crate::auth::service::create_first_admin(
        &state.db,
        &digest(&form.token),
        &form.username,
        &password,
    )
    .await
    {
        Ok(user) => user,
        Err(error) if error.code == ErrorCode::NotFound => return error.into_response(),
        Err(error) => return back(error),
    };
    tracing::info!(user = %user.username, "first admin created; setup closed");
    if let Err(error) = start_session(&session, user.id).await {
        return error.into_response();
    }
    let mut response = if is_json(&headers) {
        (
            StatusCode::CREATED,
            Json(serde_json::json!({"username": user.username, "role": user.role})),
        )
            .into_response()
    } else {
        Redirect::to("/").into_response()
    };
    response.extensions_mut().insert(FirstAdminMade);
    response
}

/// Marks the answer of the setup that made the first admin (for what follows it: the demo
/// warehouse of `serve --demo-if-empty`, see `crate::server`).
#[derive(Debug, Clone, Copy)]
pub struct FirstAdminMade;

/// At start: with no user yet, opens setup under a new one-time token and returns its path.
/// Every node that starts before the first admin exists opens a link of its own; any of them
/// works on any node until then.
pub async fn open_setup_if_needed(state: &AppState) -> Result<Option<String>, AppError> {
    if crate::auth::service::count_users(&state.db).await? > 0 {
        // Links left from before the first user (one made on the command line) are closed.
        with_pool!(&state.db, |pool, _backend| sqlx::query(
            "DELETE FROM setup_tokens"
        )
        .execute(pool)
        .await
        .map(drop))?;
        return Ok(None);
    }
    let token = crate::auth::token::new_secret()
        .map_err(|e| AppError::internal(&std::io::Error::other(e.to_string())))?;
    with_pool!(&state.db, |pool, _backend| sqlx::query(
        "INSERT INTO setup_tokens (token_digest, created_at) VALUES ($1, $2)"
    )
    .bind(digest(&token))
    .bind(state.config.clock.now().timestamp())
    .execute(pool)
    .await
    .map(drop))?;
    Ok(Some(format!("/setup?token={}", urlencode(&token))))
}

/// `POST /login`'s JSON body.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SignIn {
    username: String,
    password: String,
}

/// Who signed in.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SignedIn {
    username: String,
    role: crate::auth::Role,
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
}
