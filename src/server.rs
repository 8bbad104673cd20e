//! The HTTP server: one router for pages, server functions and the JSON API, wrapped in the
//! layers every request goes through (request id, tracing, panics, compression, body limit,
//! cross-site writes).

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, map_response, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::{shell, App};
use crate::error::{AppError, ErrorCode};
use crate::extract::wants_html;
use crate::extract::{body_limit, MAX_BODY_BYTES};
use crate::negotiate::vary_on_accept;
use crate::state::AppState;

/// Paths that SPEC §4 and §5 give both a JSON endpoint and a page: their `GET` is routed by
/// [`crate::negotiate::page_or_json`], not by the Leptos route list.
const PAGE_AND_JSON_PATHS: &[&str] = &[
    "/items",
    "/locations",
    "/warehouses",
    "/ledger",
    "/counts",
    "/counts/{id}",
    "/orders",
    "/orders/{ref}",
    "/transfers",
    "/transfers/{ref}",
    "/returns",
    "/returns/{ref}",
    // The pick page shares its path with the pick confirmation (POST).
    "/orders/{ref}/pick",
];

/// Pages whose `GET` a handler of their own answers before rendering: the first-start setup,
/// which exists only while it is open.
const GUARDED_PAGES: &[&str] = &["/setup"];

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// An oversized body announced by Content-Length is read and discarded up to this size before
/// the 413 is sent, so that the client, still writing, reads the refusal instead of a reset
/// connection (closing a socket with unread data makes the kernel send RST). Larger bodies are
/// not worth the bandwidth: the connection is closed and the client sees the reset.
const OVERSIZED_DRAIN_BYTES: u64 = 16 * 1024 * 1024;

/// How long draining an oversized body may take, so a slow sender cannot hold a task.
const OVERSIZED_DRAIN_TIME: Duration = Duration::from_secs(5);

/// The pages' routes, listed once per process.
///
/// Listing them renders the app with resource loading suppressed by a process-wide flag of
/// leptos_server: a page whose resource first runs while another router is being built (the
/// test binary builds one per test, concurrently with other tests' requests) would wait forever
/// (leptos-rs/leptos#4773). Listing once, before the first router exists, closes that window.
pub fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| {
            generate_route_list(App)
                .into_iter()
                .filter(|listing| {
                    !PAGE_AND_JSON_PATHS.contains(&listing.path())
                        && !GUARDED_PAGES.contains(&listing.path())
                })
                .collect()
        })
        .clone()
}

/// How long one request may take: `request_timeout`, plus the longest wait a change-feed
/// request may ask for (SPEC §11), or [`IMPORT_TIMEOUT`] for an import or an export. Past it the handler is
/// dropped — a transaction in flight rolls back — and the answer is 503.
async fn time_limit(State(request_timeout): State<Duration>, req: Request, next: Next) -> Response {
    let limit = time_limit_of(req.uri().path(), request_timeout);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

fn time_limit_of(path: &str, request_timeout: Duration) -> Duration {
    if path == "/events" {
        request_timeout + Duration::from_secs(crate::events::service::MAX_WAIT_SECONDS as u64)
    } else if path.starts_with("/import/") || path.starts_with("/export/") {
        // An XLSX export answers once its workbook is written (300 000 rows take seconds).
        request_timeout.max(IMPORT_TIMEOUT)
    } else {
        request_timeout
    }
}

/// How long an import (up to 100 000 rows, SPEC §11) or an export may take.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(300);

/// The whole application as one axum router.
pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let request_timeout = state.config.request_timeout;
    Router::new()
        .route("/healthz", get(crate::health::healthz))
        .route("/login", post(crate::auth::web::login))
        .route("/logout", post(crate::auth::web::logout))
        .route(
            "/setup",
            get(crate::auth::web::setup_page).post(setup_then_demo),
        )
        .merge(crate::kinds::router())
        .merge(crate::items::api::router())
        .merge(crate::locations::api::router())
        .merge(crate::warehouses::api::router())
        .merge(crate::counts::api::router())
        .merge(crate::orders::api::router())
        .merge(crate::transfers::api::router())
        .merge(crate::returns::api::router())
        .merge(crate::snapshot::api::router())
        .merge(crate::stock::api::router())
        .merge(crate::ledger::api::router())
        .merge(crate::scan::api::router())
        .merge(crate::events::api::router())
        .merge(crate::export::api::router())
        .merge(crate::import::api::router())
        .merge(crate::openapi::router())
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(static_file_or_not_found)
        .layer(map_response(server_fn_refusal_status))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                // Who is asking, believing forwarding headers from trusted proxies only.
                .layer(from_fn_with_state(
                    std::sync::Arc::new(state.config.trusted_proxies.clone()),
                    crate::proxy::identify,
                ))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request| {
                            let id = req
                                .headers()
                                .get(REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            tracing::info_span!("request", id, method = %req.method(), uri = %req.uri())
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // SPEC §8: every answer, errors included, in the request's language.
                .layer(from_fn_with_state(
                    state.config.language,
                    crate::lang::choose_language,
                ))
                // Before anything reads the database for it, an oversized body is refused.
                .layer(from_fn(refuse_announced_oversized_body))
                // SPEC §7: who is asking (session or token), and whether they may.
                .layer(crate::auth::sessions::layer(state.db.clone(), &state.config))
                .layer(from_fn_with_state(state.clone(), crate::auth::access::authenticate))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(CompressionLayer::new())
                .layer(map_response(bare_refusal_in_error_shape))
                // SPEC §7: a write from another site is refused before any handler runs.
                .layer(from_fn(crate::origin::refuse_cross_site_writes))
                // Dropping a late handler rolls its transaction back; SERVICE_UNAVAILABLE
                // tells the client to retry, which the ref makes safe.
                .layer(from_fn_with_state(request_timeout, time_limit))
                // Bodies without a Content-Length (chunked) are cut off at the limit as read.
                .layer(from_fn(limit_body)),
        )
        .with_state(state)
}

/// `POST /setup`; with `--demo-if-empty`, once it has made the first admin, the empty warehouse
/// gets the demo, named in the language of whoever set Depot up (200 items: about a second, so
/// the first page they see has goods on it).
async fn setup_then_demo(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let demo = state
        .config
        .demo_if_empty
        .then(|| (state.db.clone(), state.config.clone()));
    let response = crate::auth::web::setup_submit(State(state), session, headers, body).await;
    let made = response
        .extensions()
        .get::<crate::auth::web::FirstAdminMade>()
        .is_some();
    if let (true, Some((db, config))) = (made, demo) {
        let names = crate::demo::Names::In(crate::lang::current());
        crate::demo::load_if_empty(&db, &config, names).await;
    }
    response
}

/// Serves `router` on `addr` until SIGINT or SIGTERM, then lets in-flight requests finish.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Depot listening on http://{}", listener.local_addr()?);
    tracing::info!(
        "warehouse time zone {} (from {}; DEPOT_TIMEZONE sets another)",
        state.config.timezone,
        crate::config::timezone_source()
    );
    if !state.config.trusted_proxies.is_empty() {
        tracing::info!(proxies = ?state.config.trusted_proxies, "believing forwarding headers of trusted proxies");
    }
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("Depot stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Serves the site's static files (wasm, js, css, favicon). Anything else is not found: browsers
/// get the app's "not found" page, API clients the error shape.
async fn static_file_or_not_found(State(state): State<AppState>, req: Request) -> Response {
    let html = wants_html(req.headers());
    let what = tr!(
        errors.no_route,
        method = req.method(),
        path = req.uri().path()
    );
    let serve = leptos_axum::file_and_error_handler::<AppState, _>(shell);
    let response = serve(req.uri().clone(), State(state), req).await;
    if response.status() != StatusCode::NOT_FOUND {
        // A static file is the same whatever the client accepts.
        return response;
    }
    let response = if html {
        response
    } else {
        AppError::not_found(what).into_response()
    };
    vary_on_accept(response)
}

/// The header Leptos marks a server function's error answer with.
const SERVER_FN_ERROR: HeaderName = HeaderName::from_static("serverfnerror");

/// A server function's own refusal (a form body that does not decode, a list page's bad paging)
/// leaves Leptos as a 500, and for a plain form post as a redirect carrying the error in the
/// URL. Give it the status of its code instead, and no redirect: a URL never carries a result.
async fn server_fn_refusal_status(response: Response) -> Response {
    if !response.headers().contains_key(SERVER_FN_ERROR) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return AppError::internal(&std::io::Error::other("unreadable server function error"))
            .into_response();
    };
    // In the one error shape (see `AppError`'s `FromServerFnError::ser`).
    if let Ok(crate::error::ErrorEnvelope { error }) = serde_json::from_slice(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if parts.status.is_client_error() {
            tracing::info!(code = ?error.code, message = %error.message, "server function refused");
        }
    }
    parts.headers.remove(header::LOCATION);
    Response::from_parts(parts, Body::from(bytes))
}

/// The body-limit and timeout layers answer by themselves with empty bodies; give those answers
/// the error shape (and the timeout its `Retry-After`) too.
async fn bare_refusal_in_error_shape<B>(response: Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let bare = !response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if bare => AppError::payload_too_large().into_response(),
        // A known path with another method (`PUT /healthz`): axum's empty 405, in the error
        // shape, keeping its `Allow`.
        StatusCode::METHOD_NOT_ALLOWED if bare => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let methods = allow
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .replace(',', ", ");
            // axum does not always say which methods the path takes.
            let message = if methods.is_empty() {
                tr!(errors.method_not_allowed_here)
            } else {
                tr!(errors.method_not_allowed, allow = methods)
            };
            let mut shaped = AppError::malformed(message).into_response();
            *shaped.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            if let Some(allow) = allow {
                shaped.headers_mut().insert(header::ALLOW, allow);
            }
            shaped
        }
        StatusCode::SERVICE_UNAVAILABLE if bare => {
            tracing::warn!("request timed out: abandoned and rolled back");
            AppError::new(ErrorCode::Unavailable, tr!(errors.timed_out)).into_response()
        }
        _ => response.map(Body::new),
    }
}

/// Refuses a body whose Content-Length is over [`MAX_BODY_BYTES`] with 413 before any handler
/// runs. Unless the client waits for `100 Continue`, the body is first read and discarded (at
/// most [`OVERSIZED_DRAIN_BYTES`] of it) so that the refusal reaches the client.
/// Cuts a body off at [`body_limit`] of its path as it is read (the extractors answer 413).
async fn limit_body(request: Request, next: Next) -> Response {
    let limit = body_limit(request.uri().path());
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

async fn refuse_announced_oversized_body(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = body_limit(request.uri().path()) as u64;
    let Some(length) = announced.filter(|&n| n > limit) else {
        return next.run(request).await;
    };
    tracing::info!(length, "refusing an oversized body");
    let mut response = AppError::payload_over(limit as usize).into_response();
    // A client that sent `Expect: 100-continue` waits for a go-ahead before sending the body;
    // reading it would send that go-ahead, so such a client is refused at once.
    let waits_to_send = request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if !waits_to_send && length <= OVERSIZED_DRAIN_BYTES {
        let mut body = request.into_body();
        // Until the body ends or fails (the client gave up); each frame is dropped as read.
        let drain = std::future::poll_fn(|cx| {
            while let Some(Ok(_)) = std::task::ready!(std::pin::Pin::new(&mut body).poll_frame(cx))
            {
            }
            std::task::Poll::Ready(())
        });
        if tokio::time::timeout(OVERSIZED_DRAIN_TIME, drain)
            .await
            .is_ok()
        {
            return response;
        }
    }
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    AppError::internal(&std::io::Error::other(format!(
        "handler panicked: {message}"
    )))
    .into_response()
}
