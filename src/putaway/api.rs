//! `POST /putaway`.

use axum::extract::State;
use axum::Extension;

use crate::auth::Principal;
use axum::routing::post;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::JsonBody;
use crate::putaway::{service, PutawayInput, PutawayResponse};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/putaway", post(put_away))
}

/// Move goods between locations, all or nothing.
#[utoipa::path(
    post,
    path = "/putaway",
    tag = "movements",
    request_body = crate::putaway::PutawayInput,
    responses(
        (status = 200, description = "Done", body = crate::movement::MovementResponse<crate::putaway::PutawayLineResult>),
        (status = 400, description = "Malformed request (MALFORMED_REQUEST)", body = crate::error::ErrorEnvelope),
        (status = 409, description = "Conflict (CONFLICT, IDEMPOTENCY_CONFLICT, INSUFFICIENT_STOCK)", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn put_away(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    JsonBody(input): JsonBody<PutawayInput>,
) -> Result<Json<PutawayResponse>, AppError> {
    service::put_away(
        &state.db,
        &state.config,
        &input,
        principal.as_ref().map(|Extension(p)| p.actor()).as_deref(),
    )
    .await
    .map(Json)
}
