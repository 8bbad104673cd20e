//! `GET /warehouses` (everyone), `POST /warehouses` (admins) (issue 33).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::warehouses::service::{self, NewWarehouse};
use crate::warehouses::{NewWarehouseInput, Warehouse, WarehouseList};

pub fn router() -> Router<AppState> {
    Router::new().route("/warehouses", get(list_warehouses).post(create_warehouse))
}

crate::operation::documented! {
    get "/warehouses", "items and locations", {}
    => 200 [crate::warehouses::WarehouseList], refuses []
    /// Every warehouse, by code.
    async fn list_warehouses(State(state): State<AppState>) -> Result<Json<WarehouseList>, AppError> {
        let warehouses = service::list_warehouses(&state.db, state.config.timezone).await?;
        Ok(Json(WarehouseList { warehouses }))
    }
}

crate::operation::documented! {
    post "/warehouses", "items and locations", { request_body = crate::warehouses::NewWarehouseInput, }
    => 201 [crate::warehouses::Warehouse], refuses [400, 409, 422]
    /// Create a warehouse (admins).
    async fn create_warehouse(
        State(state): State<AppState>,
        JsonBody(input): JsonBody<NewWarehouseInput>,
    ) -> Result<(StatusCode, Json<Warehouse>), AppError> {
        let warehouse = NewWarehouse::parse(&input, state.config.timezone)?;
        let created =
            service::create_warehouse(&state.db, &warehouse, state.config.timezone).await?;
        Ok((StatusCode::CREATED, Json(created)))
    }
}
