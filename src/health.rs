//! `GET /healthz`: whether this node and its database answer (for load balancers and probes).

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::db::Db;
use crate::error::AppError;

/// How long `/healthz` waits for the database before calling it unavailable.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 when the database answers, 503 `UNAVAILABLE` otherwise.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "Depot and its database answer", body = Object,
            example = json!({"status": "ok", "database": "ok"})),
    )
)]
pub async fn healthz(State(db): State<Db>) -> Result<Json<Value>, AppError> {
    match tokio::time::timeout(HEALTH_TIMEOUT, db.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({"status": "ok", "database": "ok"}))),
        Ok(Err(error)) => {
            tracing::warn!(cause = %crate::error::error_chain(&error), "health check failed");
            Err(AppError::unavailable().with_details(json!({"database": "unreachable"})))
        }
        Err(_) => {
            tracing::warn!("health check timed out");
            Err(AppError::unavailable().with_details(json!({"database": "timeout"})))
        }
    }
}
