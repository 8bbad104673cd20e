//! `GET /events` (SPEC §11).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppError;
use crate::events::{service, EventsPage, EventsQuery};
use crate::extract::QueryParams;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

crate::operation::documented! {
    get "/events", "integration", { params(crate::events::EventsQuery), }
    => 200 [crate::events::EventsPage], refuses [422]
    /// Ledger entries after a cursor (the change feed).
    async fn events(
        State(state): State<AppState>,
        QueryParams(query): QueryParams<EventsQuery>,
    ) -> Result<Json<EventsPage>, AppError> {
        let cursor = service::Cursor::parse(&query)?;
        service::follow(&state.db, &cursor).await.map(Json)
    }
}
