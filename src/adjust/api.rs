//! `POST /adjust` (manager).

use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Json, Router};

use crate::adjust::{service, AdjustInput, AdjustResponse};
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/adjust", post(adjust))
}

/// Correct stock with a reason.
#[utoipa::path(
    post,
    path = "/adjust",
    tag = "movements",
    request_body = crate::adjust::AdjustInput,
    responses(
        (status = 200, description = "Done", body = crate::movement::MovementResponse<crate::adjust::AdjustLineResult>),
        (status = 400, description = "Malformed request (MALFORMED_REQUEST)", body = crate::error::ErrorEnvelope),
        (status = 409, description = "Conflict (CONFLICT, IDEMPOTENCY_CONFLICT, INSUFFICIENT_STOCK)", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn adjust(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    JsonBody(input): JsonBody<AdjustInput>,
) -> Result<Json<AdjustResponse>, AppError> {
    service::adjust(
        &state.db,
        &state.config,
        &input,
        principal.as_ref().map(|Extension(p)| p.actor()).as_deref(),
    )
    .await
    .map(Json)
}
