//! `GET /ledger` (JSON for API clients; browsers get the ledger page).

use axum::extract::State;
use axum::{Json, Router};

use crate::error::AppError;
use crate::extract::QueryParams;
use crate::ledger::{service, LedgerFilter, LedgerPage};
use crate::negotiate::page_or_json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/ledger", page_or_json(list_ledger))
}

crate::operation::documented! {
    get "/ledger", "stock", { params(crate::ledger::LedgerFilter), }
    => 200 [crate::ledger::LedgerPage], refuses [422]
    /// Movements, newest first.
    async fn list_ledger(
        State(state): State<AppState>,
        QueryParams(filter): QueryParams<LedgerFilter>,
    ) -> Result<Json<LedgerPage>, AppError> {
        service::list_ledger(&state.db, &filter, &crate::kinds::reasons())
            .await
            .map(Json)
    }
}
