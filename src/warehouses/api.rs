//! `GET /warehouses` (everyone), `POST /warehouses` (admins) (issue 33).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::JsonBody;
use crate::negotiate::page_or_json;
use crate::state::AppState;
use crate::warehouses::service::{self, NewWarehouse};
use crate::warehouses::{NewWarehouseInput, Warehouse, WarehouseList};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/warehouses",
            page_or_json(list_warehouses).post(create_warehouse),
        )
        .route("/warehouses/use/{code}", get(work_in))
}

/// `GET /warehouses/use/{code}` (a link on the warehouses page): this device works in warehouse
/// `code` from now on — a cookie, so any node knows it — and goes back to the page. An unknown
/// code changes nothing.
async fn work_in(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let known = service::list_warehouses(&state.db, state.config.timezone)
        .await?
        .into_iter()
        .any(|w| w.code == code);
    let mut response = Redirect::to("/warehouses").into_response();
    if known {
        if let Ok(cookie) = HeaderValue::from_str(&crate::warehouses::working_cookie(&code)) {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
    }
    Ok(response)
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
