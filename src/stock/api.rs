//! `GET /stock/query`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::QueryParams;
use crate::state::AppState;
use crate::stock::{service, StockFilter, StockQueryResponse};

pub fn router() -> Router<AppState> {
    Router::new().route("/stock/query", get(query_stock))
}

crate::operation::documented! {
    get "/stock/query", "stock", { params(crate::stock::StockFilter), }
    => 200 [crate::stock::StockQueryResponse], refuses [422]
    /// Stock by item and location, with batches.
    async fn query_stock(
        State(state): State<AppState>,
        QueryParams(filter): QueryParams<StockFilter>,
    ) -> Result<Json<StockQueryResponse>, AppError> {
        service::query_stock(&state.db, &filter, state.config.today())
            .await
            .map(Json)
    }
}
