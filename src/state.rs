//! The one application state every handler, page and server function reaches.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;

/// Shared by the axum router (`State<AppState>`) and, through Leptos context, server functions.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
}

/// The state inside a server function or a page rendered on the server.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        AppError::internal(&std::io::Error::other(
            "AppState missing from Leptos context",
        ))
    })
}
