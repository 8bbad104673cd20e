//! `POST /import/items`, `/import/locations`, `/import/stock` (SPEC §11). The file is the body
//! (`text/csv`, the XLSX media type, anything) or the multipart field `file`. A browser's form
//! post (the `/import` page) is answered with a redirect back to the page and its report.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;

use crate::auth::Principal;
use crate::error::{AppError, ErrorCode};
use crate::extract::wants_html;
use crate::extract::{QueryParams, MAX_IMPORT_BYTES};
use crate::import::{service, ImportKind, ImportReport, RowError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/import/items", post(items))
        .route("/import/locations", post(locations))
        .route("/import/stock", post(stock))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}

/// `?dry_run=true` and, for opening stock, `?ref=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: check every row and write nothing.
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// Opening stock's receipt ref (default `IMPORT-` and the file's digest).
    #[serde(default)]
    pub r#ref: Option<String>,
}

/// An import's `POST` endpoint: `name` (its operation id and handler), its path, the
/// [`ImportKind`] it imports, what it does and the columns of its file.
macro_rules! imported {
    ($name:ident, $path:literal, $kind:expr, $about:literal, $file:literal) => {
        #[doc = $about]
        #[utoipa::path(
            post,
            path = $path,
            tag = "integration",
            params(ImportQuery),
            request_body(description = $file,
                content(
                    (String = "text/csv"),
                    (crate::sheet::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                    (crate::sheet::Binary = "multipart/form-data"),
                )),
            responses(
                (status = 200, description = "Imported, or a dry run's report (which may list problems)", body = crate::import::ImportReport),
                (status = 422, description = "The file has problems: the report, and the error beside it (`error`); nothing was written", body = crate::import::ImportReport),
                (status = 409, description = "Opening stock: the ref was used for other lines (IDEMPOTENCY_CONFLICT)", body = crate::error::ErrorEnvelope),
            )
        )]
        async fn $name(
            state: State<AppState>,
            query: QueryParams<ImportQuery>,
            principal: Option<Extension<Principal>>,
            request: Request,
        ) -> Result<Response, AppError> {
            import($kind, state, query, principal, request).await
        }
    };
}

imported!(
    items,
    "/import/items",
    ImportKind::Items,
    "Import items from a sheet.",
    "Items (sku, name; spec, unit, barcode): a CSV (UTF-8 or GB18030) or XLSX file as the body, or a multipart field `file`"
);
imported!(
    locations,
    "/import/locations",
    ImportKind::Locations,
    "Import locations from a sheet.",
    "Locations (location_code, kind; name): a CSV (UTF-8 or GB18030) or XLSX file as the body, or a multipart field `file`"
);
imported!(
    stock,
    "/import/stock",
    ImportKind::Stock,
    "Import opening stock from a sheet.",
    "Opening stock (sku, location_code, qty; batch_code, expiry_date, production_date): a CSV (UTF-8 or GB18030) or XLSX file as the body, or a multipart field `file`"
);

async fn import(
    kind: ImportKind,
    State(state): State<AppState>,
    QueryParams(query): QueryParams<ImportQuery>,
    principal: Option<Extension<Principal>>,
    request: Request,
) -> Result<Response, AppError> {
    let html = wants_html(request.headers());
    let outcome = async {
        let (bytes, form) = file_of(request, &state).await?;
        let options = service::Options {
            dry_run: query.dry_run.unwrap_or(false) || form.dry_run,
            r#ref: query.r#ref.or(form.r#ref),
        };
        let actor = principal.as_ref().map(|Extension(p)| p.actor());
        service::import(
            &state.db,
            &state.config,
            kind,
            &bytes,
            &options,
            actor.as_deref(),
        )
        .await
    }
    .await;
    let report = match outcome {
        Ok(report) => report,
        // A person sees the refusal on the page, like a problem of the file.
        Err(error) if html => ImportReport {
            errors: vec![RowError {
                row: None,
                column: None,
                message: error.message,
            }],
            ..ImportReport::default()
        },
        Err(error) => return Err(error),
    };
    if html {
        // The page shows the report after a redirect (a reload does not post again).
        let json = serde_json::to_string(&report).map_err(|e| AppError::internal(&e))?;
        let target = match state.flash().put("/import", kind.as_str(), json).await {
            Some(token) => format!("/import?kind={}&result={token}", kind.as_str()),
            None => format!("/import?kind={}", kind.as_str()),
        };
        return Ok(Redirect::to(&target).into_response());
    }
    Ok(answer(report))
}

/// 200 with the report; 422 when a real import found problems (nothing was written), with the
/// report and the SPEC §4 error beside it.
pub fn answer(report: ImportReport) -> Response {
    if report.dry_run || report.errors.is_empty() {
        return Json(report).into_response();
    }
    let error = AppError::new(
        ErrorCode::ValidationFailed,
        tr!(errors.import.refused, count = report.errors.len()),
    );
    let mut body = serde_json::to_value(&report).unwrap_or_default();
    if let (Some(object), Ok(error)) = (body.as_object_mut(), serde_json::to_value(&error)) {
        object.insert("error".into(), error);
    }
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// What a page's form sends beside the file.
#[derive(Debug, Default)]
struct FormFields {
    dry_run: bool,
    r#ref: Option<String>,
}

/// The file: the multipart field `file` (with the form's `dry_run` and `ref`), or the body.
async fn file_of(request: Request, state: &AppState) -> Result<(Bytes, FormFields), AppError> {
    let multipart = is_multipart(request.headers());
    let too_large = |status: StatusCode| status == StatusCode::PAYLOAD_TOO_LARGE;
    if !multipart {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if too_large(rejection.status()) {
                    AppError::payload_over(MAX_IMPORT_BYTES)
                } else {
                    AppError::malformed(tr!(
                        errors.request.unreadable_body,
                        detail = rejection.body_text()
                    ))
                }
            })?;
        if bytes.is_empty() {
            return Err(AppError::validation("file", tr!(errors.import.body)));
        }
        return Ok((bytes, FormFields::default()));
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|rejection| AppError::malformed(rejection.body_text()))?;
    let mut file = None;
    let mut fields = FormFields::default();
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        if too_large(error.status()) {
            AppError::payload_over(MAX_IMPORT_BYTES)
        } else {
            AppError::malformed(tr!(
                errors.request.unreadable_body,
                detail = error.body_text()
            ))
        }
    };
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("file") => file = Some(field.bytes().await.map_err(unreadable)?),
            Some("dry_run") => {
                fields.dry_run = matches!(
                    field.text().await.map_err(unreadable)?.trim(),
                    "true" | "on" | "1"
                )
            }
            Some("ref") => {
                let text = field.text().await.map_err(unreadable)?;
                fields.r#ref = Some(text).filter(|t| !t.trim().is_empty());
            }
            _ => {}
        }
    }
    match file {
        Some(bytes) if !bytes.is_empty() => Ok((bytes, fields)),
        _ => Err(AppError::validation("file", tr!(errors.import.body))),
    }
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}
