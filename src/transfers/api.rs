//! `POST /transfers`, `POST /transfers/{ref}/receive` (clerks), `GET /transfers`,
//! `GET /transfers/{ref}` (issue 33).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Extension, Json, Router};

use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{JsonBody, QueryParams};
use crate::negotiate::page_or_json;
use crate::state::AppState;
use crate::transfers::service;
use crate::transfers::TransferResponse;
use crate::transfers::{NewTransfer, ReceiveTransfer, Transfer, TransferFilter, TransferList};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/transfers",
            page_or_json(list_transfers).post(send_transfer),
        )
        .route("/transfers/{ref}", page_or_json(get_transfer))
        .route("/transfers/{ref}/receive", post(receive_transfer))
        .route("/transfers/{ref}/close", post(close_transfer))
}

crate::operation::documented! {
    post "/transfers", "movements", { request_body = crate::transfers::NewTransfer, }
    => 200 [crate::transfers::TransferResponse], refuses [400, 409, 422]
    /// Send goods to another warehouse: out of the source's locations into transit
    /// (`TRANSFER_OUT`), all or nothing, idempotent by ref and line.
    async fn send_transfer(
        State(state): State<AppState>,
        principal: Option<Extension<Principal>>,
        JsonBody(input): JsonBody<NewTransfer>,
    ) -> Result<Json<TransferResponse>, AppError> {
        let actor = principal.map(|Extension(p)| p.actor());
        service::send(&state.db, &state.config, &input, actor.as_deref())
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    post "/transfers/{ref}/receive", "movements", {
        params(("ref" = String, Path, description = "The transfer's ref")),
        request_body = crate::transfers::ReceiveTransfer,
    }
    => 200 [crate::transfers::TransferResponse], refuses [400, 404, 409, 422]
    /// Receive a transfer's goods at the destination (`TRANSFER_IN`): per line the whole
    /// quantity received at that place so far.
    async fn receive_transfer(
        State(state): State<AppState>,
        Path(reference): Path<String>,
        principal: Option<Extension<Principal>>,
        JsonBody(input): JsonBody<ReceiveTransfer>,
    ) -> Result<Json<TransferResponse>, AppError> {
        let actor = principal.map(|Extension(p)| p.actor());
        service::receive(&state.db, &state.config, &reference, &input, actor.as_deref())
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    get "/transfers", "movements", { params(crate::transfers::TransferFilter), }
    => 200 [crate::transfers::TransferList], refuses [422]
    /// Transfers, newest first.
    async fn list_transfers(
        State(state): State<AppState>,
        QueryParams(filter): QueryParams<TransferFilter>,
    ) -> Result<Json<TransferList>, AppError> {
        service::list_transfers(&state.db, &filter).await.map(Json)
    }
}

crate::operation::documented! {
    get "/transfers/{ref}", "movements", {
        params(("ref" = String, Path, description = "The transfer's ref")),
    }
    => 200 [crate::transfers::Transfer], refuses [404]
    /// One transfer, with what it carries of each lot.
    async fn get_transfer(
        State(state): State<AppState>,
        Path(reference): Path<String>,
    ) -> Result<Json<Transfer>, AppError> {
        service::get_transfer(&state.db, &reference).await.map(Json)
    }
}

crate::operation::documented! {
    post "/transfers/{ref}/close", "movements", {
        params(("ref" = String, Path, description = "The transfer's ref")),
    }
    => 200 [crate::transfers::Transfer], refuses [404, 409]
    /// Close a transfer short (managers): what is still on its way is written off
    /// (`TRANSFER_LOSS`).
    async fn close_transfer(
        State(state): State<AppState>,
        Path(reference): Path<String>,
        principal: Option<Extension<Principal>>,
    ) -> Result<Json<Transfer>, AppError> {
        let actor = principal.map(|Extension(p)| p.actor());
        service::close(&state.db, &state.config, &reference, actor.as_deref())
            .await
            .map(Json)
    }
}
