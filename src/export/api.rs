//! `GET /export/snapshot`, `/export/stock`, `/export/ledger` (SPEC §11).

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::error::AppError;
use crate::export::{download, Export};
use crate::extract::QueryParams;
use crate::ledger::LedgerFilter;
use crate::sheet::Format;
use crate::snapshot::SnapshotQuery;
use crate::state::AppState;
use crate::stock::StockFilter;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/export/snapshot", get(snapshot))
        .route("/export/stock", get(stock))
        .route("/export/ledger", get(ledger))
}

/// `?format=csv|xlsx` (CSV when left out), beside the page's own filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `csv` (the default) or `xlsx`.
    pub format: Option<String>,
}

impl FormatParam {
    pub fn format(&self) -> Result<Format, AppError> {
        match self.format.as_deref().map(str::trim) {
            None | Some("") => Ok(Format::Csv),
            Some(name) => Format::from_name(name).ok_or_else(|| {
                AppError::validation("format", tr!(errors.value.one_of, values = "csv, xlsx"))
            }),
        }
    }
}

async fn answer<E: Export>(
    state: AppState,
    export: E,
    format: Format,
) -> Result<Response, AppError> {
    download(
        state.db.clone(),
        export,
        format,
        crate::lang::current(),
        state.config.today(),
    )
    .await
}

/// An export's `GET` endpoint: `name` (its operation id and handler), its path, its filter
/// and what it exports, and how the filter becomes the export (`make(filter, &state)`).
macro_rules! exported {
    ($name:ident, $path:literal, $filter:path, $about:literal, $make:expr) => {
        #[doc = $about]
        #[utoipa::path(
            get,
            path = $path,
            tag = "integration",
            params($filter, FormatParam),
            responses(
                (status = 200, description = "The rows as a file: CSV (UTF-8 with a BOM) or XLSX, headers in the request's language",
                    content(
                        (String = "text/csv"),
                        (crate::sheet::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                    )),
                (status = 422, description = "Invalid filter or format (VALIDATION_FAILED)", body = crate::error::ErrorEnvelope),
            )
        )]
        async fn $name(
            State(state): State<AppState>,
            QueryParams(filter): QueryParams<$filter>,
            QueryParams(format): QueryParams<FormatParam>,
        ) -> Result<Response, AppError> {
            let format = format.format()?;
            let make: fn($filter, &AppState) -> Result<_, AppError> = $make;
            let export = make(filter, &state)?;
            answer(state, export, format).await
        }
    };
}

exported!(
    snapshot,
    "/export/snapshot",
    SnapshotQuery,
    "The inventory snapshot as CSV or XLSX.",
    |query, state| crate::snapshot::service::SnapshotExport::new(&query, &state.config)
);
exported!(
    stock,
    "/export/stock",
    StockFilter,
    "The stock as CSV or XLSX.",
    |filter, state| crate::stock::service::StockExport::new(filter, state.config.today())
);
exported!(
    ledger,
    "/export/ledger",
    LedgerFilter,
    "The ledger as CSV or XLSX.",
    |filter, _state| crate::ledger::service::LedgerExport::new(filter, &crate::kinds::reasons())
);
