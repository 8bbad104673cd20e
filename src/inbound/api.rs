//! `POST /inbound/receive`.

use axum::extract::State;
use axum::Extension;

use crate::auth::Principal;
use axum::routing::post;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::JsonBody;
use crate::inbound::{service, ReceiveInput, ReceiveResponse};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/inbound/receive", post(receive_goods))
}

/// Receive goods into receiving or storage locations.
#[utoipa::path(
    post,
    path = "/inbound/receive",
    tag = "movements",
    request_body = crate::inbound::ReceiveInput,
    responses(
        (status = 200, description = "Done", body = crate::movement::MovementResponse<crate::movement::LineResult>),
        (status = 400, description = "Malformed request (MALFORMED_REQUEST)", body = crate::error::ErrorEnvelope),
        (status = 409, description = "Conflict (CONFLICT, IDEMPOTENCY_CONFLICT, INSUFFICIENT_STOCK)", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn receive_goods(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    JsonBody(input): JsonBody<ReceiveInput>,
) -> Result<Json<ReceiveResponse>, AppError> {
    service::receive(
        &state.db,
        &state.config,
        &input,
        principal.as_ref().map(|Extension(p)| p.actor()).as_deref(),
    )
    .await
    .map(Json)
}
