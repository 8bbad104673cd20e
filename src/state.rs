//! The one application state every handler, page and server function reaches.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::auth::known_tokens::KnownTokens;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::flash::FlashStore;

/// Shared by the axum router (`State<AppState>`) and, through Leptos context, server functions.
///
/// It holds nothing a request leaves for a later one: several Depot processes may serve one
/// database behind a load balancer, so what lasts between requests (sessions, form results,
/// failed sign-ins, setup links) is in the database (issue 30). The one memory, of tokens
/// recently found valid, is a hint the database confirms within every request that uses it.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub tokens: Arc<KnownTokens>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> Self {
        Self {
            leptos_options,
            db,
            config: Arc::new(config),
            tokens: Arc::default(),
        }
    }

    /// Results of no-JavaScript form posts, read back by the page they redirect to.
    pub fn flash(&self) -> FlashStore {
        FlashStore::new(self.db.clone(), self.config.clock)
    }
}

/// The state inside a server function or a page rendered on the server.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        AppError::internal(&std::io::Error::other(
            "AppState missing from Leptos context",
        ))
    })
}
