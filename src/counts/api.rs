//! `POST /counts` (manager), `POST /counts/{id}/lines` (clerk), `POST /counts/{id}/post` and
//! `/cancel` (manager), `GET /counts`, `GET /counts/{id}` (SPEC §9).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Json, Router};

use crate::auth::{Principal, Role};
use crate::counts::{
    service, Count, CountFilter, CountLineInput, CountList, NewCount, PostedCount,
};
use crate::error::AppError;
use crate::extract::{JsonBody, QueryParams};
use crate::negotiate::page_or_json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        // Pages too: a browser asking for HTML gets /counts and /counts/{id}.
        .route("/counts", page_or_json(list_counts).post(create_count))
        .route("/counts/{id}", page_or_json(get_count))
        .route("/counts/{id}/lines", post(record_line))
        .route("/counts/{id}/post", post(post_count))
        .route("/counts/{id}/cancel", post(cancel_count))
}

type Asker = Option<Extension<Principal>>;

fn actor(principal: &Asker) -> Option<String> {
    principal.as_ref().map(|Extension(p)| p.actor())
}

/// Who asks decides what a blind count shows (a clerk sees no expected quantities).
fn role(principal: &Asker) -> Role {
    principal
        .as_ref()
        .map_or(Role::Viewer, |Extension(p)| p.role)
}

/// A count's id from the path: a positive whole number, else 404 (no such count).
fn count_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::not_found(tr!(errors.count.not_found, id = raw)))
}

crate::operation::documented! {
    post "/counts", "counts", { request_body = crate::counts::NewCount, }
    => 201 [crate::counts::Count], refuses [400, 409, 422]
    /// Start a count.
    async fn create_count(
        State(state): State<AppState>,
        principal: Asker,
        JsonBody(input): JsonBody<NewCount>,
    ) -> Result<(StatusCode, Json<Count>), AppError> {
        let id = service::create_count(
            &state.db,
            &state.config,
            &input,
            actor(&principal).as_deref(),
        )
        .await?;
        let count = service::get_count(&state.db, id, role(&principal)).await?;
        Ok((StatusCode::CREATED, Json(count)))
    }
}

crate::operation::documented! {
    get "/counts", "counts", { params(crate::counts::CountFilter), }
    => 200 [crate::counts::CountList], refuses [422]
    /// List counts.
    async fn list_counts(
        State(state): State<AppState>,
        QueryParams(filter): QueryParams<CountFilter>,
    ) -> Result<Json<CountList>, AppError> {
        service::list_counts(&state.db, &filter).await.map(Json)
    }
}

crate::operation::documented! {
    get "/counts/{id}", "counts", { params(("id" = i64, Path, description = "The count's id")), }
    => 200 [crate::counts::Count], refuses [404]
    /// One count with its lines.
    async fn get_count(
        State(state): State<AppState>,
        principal: Asker,
        Path(id): Path<String>,
    ) -> Result<Json<Count>, AppError> {
        let id = count_id(&id)?;
        service::get_count(&state.db, id, role(&principal))
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    post "/counts/{id}/lines", "counts", { params(("id" = i64, Path, description = "The count's id")), request_body = crate::counts::CountLineInput, }
    => 200 [crate::counts::Count], refuses [400, 404, 409, 422]
    /// Record a counted line.
    async fn record_line(
        State(state): State<AppState>,
        principal: Asker,
        Path(id): Path<String>,
        JsonBody(input): JsonBody<CountLineInput>,
    ) -> Result<Json<Count>, AppError> {
        let id = count_id(&id)?;
        service::record_lines(
            &state.db,
            &state.config,
            id,
            std::slice::from_ref(&input),
            actor(&principal).as_deref(),
        )
        .await
        .map_err(|error| {
            error
                .renamed_fields("lines[0].", "")
                .renamed_fields("lines[0]", "line")
        })?;
        service::get_count(&state.db, id, role(&principal))
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    post "/counts/{id}/post", "counts", { params(("id" = i64, Path, description = "The count's id")), }
    => 200 [crate::counts::PostedCount], refuses [404, 409]
    /// Post a count's differences as adjustments.
    async fn post_count(
        State(state): State<AppState>,
        principal: Asker,
        Path(id): Path<String>,
    ) -> Result<Json<PostedCount>, AppError> {
        let id = count_id(&id)?;
        let adjustment = service::post_count(
            &state.db,
            &state.config,
            id,
            actor(&principal).as_deref(),
            true,
        )
        .await?;
        service::posted(&state.db, id, role(&principal), adjustment)
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    post "/counts/{id}/cancel", "counts", { params(("id" = i64, Path, description = "The count's id")), }
    => 200 [crate::counts::Count], refuses [404, 409]
    /// Cancel a count.
    async fn cancel_count(
        State(state): State<AppState>,
        principal: Asker,
        Path(id): Path<String>,
    ) -> Result<Json<Count>, AppError> {
        let id = count_id(&id)?;
        service::cancel_count(&state.db, &state.config, id, actor(&principal).as_deref()).await?;
        service::get_count(&state.db, id, role(&principal))
            .await
            .map(Json)
    }
}
