//! Content negotiation for the paths that SPEC §4 and §5 give both a JSON endpoint and a page
//! (`/items`, `/locations`, `/ledger`): a browser asking for HTML gets the server-rendered page,
//! every other client (curl, an ERP) the JSON. Every such answer says `Vary: Accept`, so a cache
//! between the two never hands one client the other's representation.

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{get, MethodRouter};

use crate::app::shell;
use crate::extract::wants_html;
use crate::state::AppState;

/// `GET` for a path that is both a page and a JSON endpoint: HTML for browsers, the JSON
/// `handler` for everyone else; both with `Vary: Accept`.
pub fn page_or_json<H, T>(handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    get(
        move |State(state): State<AppState>, req: Request| async move {
            let response = if wants_html(req.headers()) {
                render_page(state, req).await
            } else {
                handler.call(req, state).await
            };
            vary_on_accept(response)
        },
    )
}

/// Server-renders the app for `req` (complete HTML, data included).
pub async fn render_page(state: AppState, req: Request) -> Response {
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || leptos::prelude::provide_context(state.clone()),
        move || shell(options.clone()),
    );
    render(req).await
}

/// Marks `response` as chosen by the request's `Accept` header (keeping any other `Vary`).
pub fn vary_on_accept(mut response: Response) -> Response {
    let already = response
        .headers()
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("accept"));
    if !already {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept"));
    }
    response
}
