//! `GET /scan?code=&expect=`: what a scanned string names.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::AppError;
use crate::extract::QueryParams;
use crate::scan::{Scan, ScanKind};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/scan", get(scan))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ScanParams {
    code: Option<String>,
    expect: Option<String>,
    /// The warehouse a location code is looked for in (its code); needed when the code is a
    /// location's in several.
    warehouse: Option<String>,
}

crate::operation::documented! {
    get "/scan", "stock", { params(ScanParams), }
    => 200 [crate::scan::Scan], refuses [404, 422]
    /// What a scanned code names.
    async fn scan(
        State(state): State<AppState>,
        QueryParams(params): QueryParams<ScanParams>,
    ) -> Result<Json<Scan>, AppError> {
        let expect = match params.expect.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(ScanKind::from_name(name).ok_or_else(|| {
                AppError::validation(
                    "expect",
                    tr!(errors.value.one_of, values = "item, location, gs1"),
                )
            })?),
        };
        let code = params
            .code
            .ok_or_else(|| AppError::validation("code", tr!(errors.value.required)))?;
        let warehouse =
            crate::domain::WarehouseCode::parse_optional("warehouse", params.warehouse.as_deref())?;
        let warehouse = warehouse.as_ref().map(crate::domain::WarehouseCode::as_str);
        crate::scan::service::resolve(&state.db, &code, expect, warehouse, state.config.today())
            .await
            .map(Json)
    }
}
