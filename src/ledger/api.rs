//! `GET /ledger` (JSON for API clients; browsers get the ledger page).

use axum::extract::State;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::QueryParams;
use crate::ledger::{service, LedgerFilter, LedgerPage};
use crate::negotiate::page_or_json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/ledger", page_or_json(list_ledger))
}

/// Movements, newest first.
#[utoipa::path(
    get,
    path = "/ledger",
    tag = "stock",
    params(crate::ledger::LedgerFilter),
    responses(
        (status = 200, description = "Done", body = crate::ledger::LedgerPage),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn list_ledger(
    State(state): State<AppState>,
    QueryParams(filter): QueryParams<LedgerFilter>,
) -> Result<Json<LedgerPage>, AppError> {
    service::list_ledger(&state.db, &filter, &crate::kinds::reasons())
        .await
        .map(Json)
}
