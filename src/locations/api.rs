//! `GET /locations`, `POST /locations`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use serde::Deserialize;

use crate::db::Db;
use crate::domain::{LocationKind, Page, Paging, WarehouseCode};
use crate::error::AppError;
use crate::extract::{JsonBody, QueryParams};
use crate::locations::service::{self, NewLocation};
use crate::locations::{Location, NewLocationInput};
use crate::negotiate::page_or_json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/locations",
        page_or_json(list_locations).post(create_location),
    )
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    q: Option<String>,
    kind: Option<String>,
    /// Only the locations of this warehouse (its code).
    warehouse: Option<String>,
    offset: Option<i64>,
    limit: Option<i64>,
}

crate::operation::documented! {
    get "/locations", "items and locations", { params(ListParams), }
    => 200 [crate::domain::Page<crate::locations::Location>], refuses [422]
    /// List locations.
    async fn list_locations(
        State(db): State<Db>,
        QueryParams(params): QueryParams<ListParams>,
    ) -> Result<Json<Page<Location>>, AppError> {
        let paging = Paging::parse(params.offset, params.limit)?;
        let kind = match params.kind.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(LocationKind::parse("kind", raw)?),
        };
        let warehouse = WarehouseCode::parse_optional("warehouse", params.warehouse.as_deref())?;
        service::list_locations(&db, params.q.as_deref(), kind, warehouse.as_ref(), paging)
            .await
            .map(Json)
    }
}

crate::operation::documented! {
    post "/locations", "items and locations", { request_body = crate::locations::NewLocationInput, }
    => 201 [crate::locations::Location], refuses [400, 409, 422]
    /// Create a location.
    async fn create_location(
        State(db): State<Db>,
        JsonBody(input): JsonBody<NewLocationInput>,
    ) -> Result<(StatusCode, Json<Location>), AppError> {
        let location = NewLocation::parse(&input)?;
        let created = service::create_location(&db, &location).await?;
        Ok((StatusCode::CREATED, Json(created)))
    }
}
