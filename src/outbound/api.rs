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
