//! The one application state every handler, page and server function reaches.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::flash::FlashStore;

/// Shared by the axum router (`State<AppState>`) and, through Leptos context, server functions.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    /// Results of no-JavaScript form posts, read back by the page they redirect to.
    pub flash: Arc<FlashStore>,
    /// Failed sign-ins per username (SPEC §7).
    pub throttle: Arc<crate::auth::web::Throttle>,
    /// The one-time token of the first-start setup, while no user exists.
    pub setup_token: Arc<std::sync::Mutex<Option<String>>>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> Self {
        Self {
            leptos_options,
            db,
            config: Arc::new(config),
            flash: Arc::new(FlashStore::default()),
            throttle: Arc::default(),
            setup_token: Arc::default(),
        }
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
