//! `GET /stock/query`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::QueryParams;
use crate::state::AppState;
use crate::stock::{service, StockFilter, StockQueryResponse};

pub fn router() -> Router<AppState> {
    Router::new().route("/stock/query", get(query_stock))
}

/// Stock by item and location, with batches.
#[utoipa::path(
    get,
    path = "/stock/query",
    tag = "stock",
    params(crate::stock::StockFilter),
    responses(
        (status = 200, description = "Done", body = crate::stock::StockQueryResponse),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn query_stock(
    State(state): State<AppState>,
    QueryParams(filter): QueryParams<StockFilter>,
) -> Result<Json<StockQueryResponse>, AppError> {
    service::query_stock(&state.db, &filter, state.config.today())
        .await
        .map(Json)
}
