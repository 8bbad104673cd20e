//! `GET /events` (SPEC §11).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppError;
use crate::events::{service, EventsPage, EventsQuery};
use crate::extract::QueryParams;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

/// Ledger entries after a cursor (the change feed).
#[utoipa::path(
    get,
    path = "/events",
    tag = "integration",
    params(crate::events::EventsQuery),
    responses(
        (status = 200, description = "Done", body = crate::events::EventsPage),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn events(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<EventsQuery>,
) -> Result<Json<EventsPage>, AppError> {
    let cursor = service::Cursor::parse(&query)?;
    service::follow(&state.db, &cursor).await.map(Json)
}
