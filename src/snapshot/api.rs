//! `GET /snapshot/inventory`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::Page;
use crate::error::AppError;
use crate::extract::QueryParams;
use crate::snapshot::{service, SnapshotItem, SnapshotQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/snapshot/inventory", get(inventory))
}

/// Items in stock, largest totals first.
#[utoipa::path(
    get,
    path = "/snapshot/inventory",
    tag = "stock",
    params(crate::snapshot::SnapshotQuery),
    responses(
        (status = 200, description = "Done", body = crate::domain::Page<crate::snapshot::SnapshotItem>),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn inventory(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<SnapshotQuery>,
) -> Result<Json<Page<SnapshotItem>>, AppError> {
    service::inventory(&state.db, &query, &state.config)
        .await
        .map(Json)
}
