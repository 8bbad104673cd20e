//! `GET /snapshot/inventory`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::Page;
use crate::error::AppError;
use crate::extract::QueryParams;
use crate::snapshot::{service, SnapshotItem, SnapshotQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/snapshot/inventory", get(inventory))
}

crate::operation::documented! {
    get "/snapshot/inventory", "stock", { params(crate::snapshot::SnapshotQuery), }
    => 200 [crate::domain::Page<crate::snapshot::SnapshotItem>], refuses [422]
    /// Items in stock, largest totals first.
    async fn inventory(
        State(state): State<AppState>,
        QueryParams(query): QueryParams<SnapshotQuery>,
    ) -> Result<Json<Page<SnapshotItem>>, AppError> {
        service::inventory(&state.db, &query, &state.config)
            .await
            .map(Json)
    }
}
