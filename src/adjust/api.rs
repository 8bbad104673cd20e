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
