//! `POST /orders`, `GET /orders`, `GET /orders/{ref}`, `GET /orders/{ref}/picklist`,
//! `POST /orders/{ref}/reserve`, `/pick`, `/ship` (clerk) and `/cancel` (manager) (SPEC §10).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{JsonBody, JsonOrEmpty, QueryParams};
use crate::negotiate::{page_or_json, render_page};
use crate::orders::{
    service, NewOrder, OrderFilter, OrderList, OrderResponse, PickInput, PickList, ShipInput,
};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        // Pages too: a browser asking for HTML gets /orders and /orders/{ref}.
        .route("/orders", page_or_json(list_orders).post(create_order))
        .route("/orders/{ref}", page_or_json(get_order))
        .route("/orders/{ref}/picklist", get(picklist))
        .route("/orders/{ref}/reserve", post(reserve))
        // The handheld pick page, and its JSON confirmation.
        .route(
            "/orders/{ref}/pick",
            get(|State(state): State<AppState>, req| render_page(state, req)).post(pick),
        )
        .route("/orders/{ref}/ship", post(ship))
        .route("/orders/{ref}/cancel", post(cancel))
}

type Asker = Option<Extension<Principal>>;

fn actor(principal: &Asker) -> Option<String> {
    principal.as_ref().map(|Extension(p)| p.actor())
}

fn answer(order: crate::orders::Order) -> Json<OrderResponse> {
    Json(OrderResponse { order })
}

/// Create an order and reserve its goods.
#[utoipa::path(
    post,
    path = "/orders",
    tag = "orders",
    request_body = crate::orders::NewOrder,
    responses(
        (status = 201, description = "Created", body = crate::orders::OrderResponse),
        (status = 200, description = "The same order again (a retry)", body = crate::orders::OrderResponse),
        (status = 400, description = "Malformed request (MALFORMED_REQUEST)", body = crate::error::ErrorEnvelope),
        (status = 409, description = "Conflict (CONFLICT, IDEMPOTENCY_CONFLICT, INSUFFICIENT_STOCK)", body = crate::error::ErrorEnvelope),
        (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
    )
)]
async fn create_order(
    State(state): State<AppState>,
    principal: Asker,
    JsonBody(input): JsonBody<NewOrder>,
) -> Result<(StatusCode, Json<OrderResponse>), AppError> {
    let (created, order) = service::create_order(
        &state.db,
        &state.config,
        &input,
        actor(&principal).as_deref(),
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, answer(order)))
}

crate::operation::documented! {
    get "/orders", "orders", { params(crate::orders::OrderFilter), }
    => 200 [crate::orders::OrderList], refuses [422]
    /// List orders.
    async fn list_orders(
        State(state): State<AppState>,
        QueryParams(filter): QueryParams<OrderFilter>,
    ) -> Result<Json<OrderList>, AppError> {
        service::list_orders(&state.db, &filter).await.map(Json)
    }
}

crate::operation::documented! {
    get "/orders/{ref}", "orders", { params(("ref" = String, Path, description = "The order's ref")), }
    => 200 [crate::orders::OrderResponse], refuses [404]
    /// One order with its lines and reservations.
    async fn get_order(
        State(state): State<AppState>,
        Path(r#ref): Path<String>,
    ) -> Result<Json<OrderResponse>, AppError> {
        service::get_order(&state.db, &r#ref).await.map(answer)
    }
}

crate::operation::documented! {
    get "/orders/{ref}/picklist", "orders", { params(("ref" = String, Path, description = "The order's ref")), }
    => 200 [crate::orders::PickList], refuses [404]
    /// An order's pick list in walk order.
    async fn picklist(
        State(state): State<AppState>,
        Path(r#ref): Path<String>,
    ) -> Result<Json<PickList>, AppError> {
        service::picklist(&state.db, &r#ref).await.map(Json)
    }
}

crate::operation::documented! {
    post "/orders/{ref}/reserve", "orders", { params(("ref" = String, Path, description = "The order's ref")), }
    => 200 [crate::orders::OrderResponse], refuses [404, 409]
    /// Reserve backorders and replace expired reservations.
    async fn reserve(
        State(state): State<AppState>,
        Path(r#ref): Path<String>,
    ) -> Result<Json<OrderResponse>, AppError> {
        service::reserve(&state.db, &state.config, &r#ref)
            .await
            .map(answer)
    }
}

crate::operation::documented! {
    post "/orders/{ref}/pick", "orders", { params(("ref" = String, Path, description = "The order's ref")), request_body = crate::orders::PickInput, }
    => 200 [crate::orders::OrderResponse], refuses [400, 404, 409, 422]
    /// Confirm what was picked where.
    async fn pick(
        State(state): State<AppState>,
        Path(r#ref): Path<String>,
        JsonBody(input): JsonBody<PickInput>,
    ) -> Result<Json<OrderResponse>, AppError> {
        service::pick(&state.db, &state.config, &r#ref, &input)
            .await
            .map(answer)
    }
}

crate::operation::documented! {
    post "/orders/{ref}/ship", "orders", { params(("ref" = String, Path, description = "The order's ref")), request_body(content = Option<crate::orders::ShipInput>, description = "Optional: `{\"reserved\": true}` ships all reserved"), }
    => 200 [crate::orders::OrderResponse], refuses [400, 404, 409, 422]
    /// Ship what is picked (or all reserved).
    async fn ship(
        State(state): State<AppState>,
        principal: Asker,
        Path(r#ref): Path<String>,
        JsonOrEmpty(input): JsonOrEmpty<ShipInput>,
    ) -> Result<Json<OrderResponse>, AppError> {
        service::ship(
            &state.db,
            &state.config,
            &r#ref,
            &input,
            actor(&principal).as_deref(),
        )
        .await
        .map(answer)
    }
}

crate::operation::documented! {
    post "/orders/{ref}/cancel", "orders", { params(("ref" = String, Path, description = "The order's ref")), }
    => 200 [crate::orders::OrderResponse], refuses [404, 409]
    /// Cancel an order, releasing what it holds.
    async fn cancel(
        State(state): State<AppState>,
        Path(r#ref): Path<String>,
    ) -> Result<Json<OrderResponse>, AppError> {
        service::cancel(&state.db, &state.config, &r#ref)
            .await
            .map(answer)
    }
}
