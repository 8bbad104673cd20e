//! `POST /outbound/commit`.

use axum::extract::State;
use axum::Extension;

use crate::auth::Principal;
use axum::routing::post;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::JsonBody;
use crate::outbound::{service, OutboundInput, OutboundResponse};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/outbound/commit", post(commit_outbound))
}

/// Ship goods (FEFO, never an expired batch).
#[utoipa::path(
    post,
    path = "/outbound/commit",
    tag = "movements",
    request_body = crate::outbound::OutboundInput,
    responses(
        (status = 200, description = "Done", body = crate::movement::MovementResponse<crate::movement::LineResult>),
        (status = 400, description = "Malformed request (MALFORMED_REQUEST)", body = crate::error::ErrorEnvelope),
        (status = 409, description = "Conflict (CONFLICT, IDEMPOTENCY_CONFLICT, INSUFFICIENT_STOCK)", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn commit_outbound(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    JsonBody(input): JsonBody<OutboundInput>,
) -> Result<Json<OutboundResponse>, AppError> {
    service::commit_outbound(
        &state.db,
        &state.config,
        &input,
        principal.as_ref().map(|Extension(p)| p.actor()).as_deref(),
    )
    .await
    .map(Json)
}
