//! `POST /returns` (clerks), `POST /returns/{ref}/dispose` (managers), `GET /returns`,
//! `GET /returns/{ref}` (issue 33).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Extension, Json, Router};

use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{JsonBody, QueryParams};
use crate::negotiate::page_or_json;
use crate::returns::service;
use crate::returns::{
    DisposeResponse, DisposeReturn, NewReturn, Return, ReturnFilter, ReturnList, ReturnResponse,
};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/returns", page_or_json(list_returns).post(receive_return))
        .route("/returns/{ref}", page_or_json(get_return))
        .route("/returns/{ref}/dispose", post(dispose_return))
}

crate::operation::documented! {
    post "/returns", "movements", { request_body = crate::returns::NewReturn, }
    => 200 [crate::returns::ReturnResponse], refuses [400, 409, 422]
    /// Take goods back into quarantine (`RETURN`), with or without the order that shipped
    /// them; all or nothing, idempotent by ref and line.
    async fn receive_return(
        State(state): State<AppState>,
        principal: Option<Extension<Principal>>,
        JsonBody(input): JsonBody<NewReturn>,
    ) -> Result<Json<ReturnResponse>, AppError> {
        let actor = principal.map(|Extension(p)| p.actor());
        service::receive(&state.db, &state.config, &input, actor.as_deref())
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    post "/returns/{ref}/dispose", "movements", {
        params(("ref" = String, Path, description = "The return's ref")),
        request_body = crate::returns::DisposeReturn,
    }
    => 200 [crate::returns::DisposeResponse], refuses [400, 404, 409, 422]
    /// Decide what becomes of returned goods (managers): back to a storage location
    /// (`RETURN_RESTOCK`) or written off (`RETURN_SCRAP`); per line the whole quantity so far.
    async fn dispose_return(
        State(state): State<AppState>,
        Path(reference): Path<String>,
        principal: Option<Extension<Principal>>,
        JsonBody(input): JsonBody<DisposeReturn>,
    ) -> Result<Json<DisposeResponse>, AppError> {
        let actor = principal.map(|Extension(p)| p.actor());
        service::dispose(&state.db, &state.config, &reference, &input, actor.as_deref())
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    get "/returns", "movements", { params(crate::returns::ReturnFilter), }
    => 200 [crate::returns::ReturnList], refuses [422]
    /// Returns, newest first.
    async fn list_returns(
        State(state): State<AppState>,
        QueryParams(filter): QueryParams<ReturnFilter>,
    ) -> Result<Json<ReturnList>, AppError> {
        service::list_returns(&state.db, &filter).await.map(Json)
    }
}

crate::operation::documented! {
    get "/returns/{ref}", "movements", {
        params(("ref" = String, Path, description = "The return's ref")),
    }
    => 200 [crate::returns::Return], refuses [404]
    /// One return: what came back of each lot, where, why, and what became of it.
    async fn get_return(
        State(state): State<AppState>,
        Path(reference): Path<String>,
    ) -> Result<Json<Return>, AppError> {
        service::get_return(&state.db, &reference).await.map(Json)
    }
}
