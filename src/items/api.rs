//! `GET /items`, `POST /items`, `GET /items/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::db::Db;
use crate::domain::{Page, Paging};
use crate::error::AppError;
use crate::extract::{JsonBody, QueryParams};
use crate::items::service::{self, NewItem};
use crate::items::{Item, NewItemInput};
use crate::negotiate::page_or_json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/items", page_or_json(list_items).post(create_item))
        .route("/items/{id}", get(get_item))
}

/// Query parameters of list endpoints: `q`, `offset`, `limit`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub q: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

crate::operation::documented! {
    get "/items", "items and locations", { params(ListParams), }
    => 200 [crate::domain::Page<crate::items::Item>], refuses [422]
    /// List items.
    async fn list_items(
        State(db): State<Db>,
        QueryParams(params): QueryParams<ListParams>,
    ) -> Result<Json<Page<Item>>, AppError> {
        let paging = Paging::parse(params.offset, params.limit)?;
        service::list_items(&db, params.q.as_deref(), paging)
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    post "/items", "items and locations", { request_body = crate::items::NewItemInput, }
    => 201 [crate::items::Item], refuses [400, 409, 422]
    /// Create an item.
    async fn create_item(
        State(db): State<Db>,
        JsonBody(input): JsonBody<NewItemInput>,
    ) -> Result<(StatusCode, Json<Item>), AppError> {
        let item = NewItem::parse(&input)?;
        let created = service::create_item(&db, &item).await?;
        Ok((StatusCode::CREATED, Json(created)))
    }
}

crate::operation::documented! {
    get "/items/{id}", "items and locations", { params(("id" = i64, Path, description = "The item's id")), }
    => 200 [crate::items::Item], refuses [404, 422]
    /// One item.
    async fn get_item(
        State(db): State<Db>,
        Path(id): Path<String>,
    ) -> Result<Json<Item>, AppError> {
        let id: i64 = id
            .parse()
            .map_err(|_| AppError::not_found(tr!(errors.item.not_found_id_text, id = &id)))?;
        service::get_item(&db, id).await.map(Json)
    }
}
