//! The one error type of Depot (SPEC §4): every refusal and failure, whether it leaves through a
//! JSON endpoint or a server function, is an [`AppError`] with a stable code, a message meant for
//! people and optional details. Internal causes are logged where they happen and never sent.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The machine-readable error codes of SPEC §4, each with its HTTP status.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    MalformedRequest,
    Unauthenticated,
    Forbidden,
    ValidationFailed,
    UnknownItem,
    UnknownLocation,
    NotFound,
    Conflict,
    IdempotencyConflict,
    InsufficientStock,
    PayloadTooLarge,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The code as the wire writes it (`INSUFFICIENT_STOCK`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedRequest => "MALFORMED_REQUEST",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::ValidationFailed => "VALIDATION_FAILED",
            ErrorCode::UnknownItem => "UNKNOWN_ITEM",
            ErrorCode::UnknownLocation => "UNKNOWN_LOCATION",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            ErrorCode::InsufficientStock => "INSUFFICIENT_STOCK",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::TooManyRequests => "TOO_MANY_REQUESTS",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// The HTTP status this code is answered with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::MalformedRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict | ErrorCode::IdempotencyConflict | ErrorCode::InsufficientStock => {
                409
            }
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::ValidationFailed | ErrorCode::UnknownItem | ErrorCode::UnknownLocation => {
                422
            }
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

/// How long a client should wait before retrying when the database is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// An error as the client sees it: `{"error": {"code", "message", "details"}}` on the wire.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default = "empty_details")]
    pub details: Value,
    /// Whether running the transaction again may succeed (database contention); never sent.
    #[serde(skip)]
    retryable: bool,
}

fn empty_details() -> Value {
    json!({})
}

/// The wire envelope of an error.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: AppError,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: empty_details(),
            retryable: false,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The same refusal with field paths starting `from` starting `to` instead (`lines[0].sku`
    /// → `sku`: a request of one line, answered by the code for many).
    pub fn renamed_fields(mut self, from: &str, to: &str) -> Self {
        if let Some(rest) = self.message.strip_prefix(from) {
            self.message = format!("{to}{rest}");
        }
        let rename = |entry: &mut Value| {
            if let Some(rest) = entry
                .get("field")
                .and_then(Value::as_str)
                .and_then(|f| f.strip_prefix(from))
            {
                entry["field"] = json!(format!("{to}{rest}"));
            }
        };
        rename(&mut self.details);
        if let Some(list) = self.details.get_mut("errors").and_then(Value::as_array_mut) {
            list.iter_mut().for_each(rename);
        }
        self
    }

    /// The request could not be read at all (bad JSON, wrong content type).
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedRequest, message)
    }

    /// One field of a well-formed request is wrong; `field` is its path, e.g. `lines[2].qty`.
    /// Details name it twice: as `field`/`reason`, and as the one entry of `errors` (where
    /// [`Problems`] lists every bad field of a request).
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::about_field(ErrorCode::ValidationFailed, field, message)
    }

    /// A refusal with `code` about one field (`UNKNOWN_ITEM` names its `lines[i].sku`).
    pub fn about_field(
        code: ErrorCode,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let field = field.into();
        let message = message.into();
        Self::new(code, format!("{field}: {message}")).with_details(json!({
            "field": field,
            "reason": message,
            "errors": [{ "field": field, "reason": message }],
        }))
    }

    /// The fields this refusal is about with why, in request order: `details.errors`, else
    /// `details.field` alone; empty for a refusal of no field.
    pub fn field_reasons(&self) -> Vec<(String, String)> {
        let pair = |entry: &Value| {
            let field = entry.get("field")?.as_str()?.to_string();
            let reason = entry
                .get("reason")
                .and_then(Value::as_str)
                .map_or_else(|| self.message.clone(), str::to_string);
            Some((field, reason))
        };
        match self.details.get("errors").and_then(Value::as_array) {
            Some(list) => list.iter().filter_map(pair).collect(),
            None => pair(&self.details).into_iter().collect(),
        }
    }

    /// The request carries no valid credentials (SPEC §7): answered 401 with
    /// `WWW-Authenticate: Bearer`.
    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, tr!(errors.auth.unauthenticated))
    }

    /// Too many attempts (failed sign-ins): retry after `seconds` (`Retry-After`).
    pub fn too_many_requests(seconds: u64) -> Self {
        Self::new(
            ErrorCode::TooManyRequests,
            tr!(errors.auth.too_many_attempts, seconds = seconds),
        )
        .with_details(json!({ "retry_after": seconds }))
    }

    /// The request may not do what it asks, e.g. a write sent from another site (SPEC §7).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn payload_too_large() -> Self {
        Self::payload_over(1024 * 1024)
    }

    /// The body is larger than `limit` bytes (a whole number of MiB).
    pub fn payload_over(limit: usize) -> Self {
        Self::new(
            ErrorCode::PayloadTooLarge,
            tr!(errors.payload_too_large, max = limit / (1024 * 1024)),
        )
    }

    /// The database cannot be reached; the client may retry after [`RETRY_AFTER_SECONDS`].
    pub fn unavailable() -> Self {
        Self::new(ErrorCode::Unavailable, tr!(errors.unavailable))
    }

    /// Another transaction was in the way: 503 like [`AppError::unavailable`], but marked so
    /// that the write retry ([`crate::db::Db::write`]) runs the transaction again first.
    pub fn contention() -> Self {
        Self {
            retryable: true,
            ..Self::unavailable()
        }
    }

    /// Whether the failed transaction may succeed if run again (see [`AppError::contention`]).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// An opaque internal error. Call through [`AppError::internal`] so the cause is logged.
    pub fn opaque_internal() -> Self {
        Self::new(ErrorCode::Internal, tr!(errors.internal))
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::{IntoResponse, Response};

    impl AppError {
        /// Logs `cause` with its whole chain and returns an opaque `INTERNAL` error.
        pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
            tracing::error!(cause = %error_chain(cause), "internal error");
            Self::opaque_internal()
        }
    }

    /// `cause: source: source …`, for logs.
    pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if status.is_client_error() {
                tracing::info!(code = ?self.code, message = %self.message, "request refused");
            }
            let retry_after = match self.code {
                ErrorCode::Unavailable => Some(u64::from(RETRY_AFTER_SECONDS)),
                ErrorCode::TooManyRequests => self.details["retry_after"].as_u64(),
                _ => None,
            };
            let unauthenticated = self.code == ErrorCode::Unauthenticated;
            let mut response = (status, axum::Json(ErrorEnvelope { error: self })).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            if unauthenticated {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"depot\""),
                );
            }
            response
        }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::error_chain;

/// Server functions carry `AppError` as their error type, so pages show the same code and
/// message as the JSON API.
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) | E::Serialization(m) => {
                AppError::malformed(tr!(errors.request.not_understood, detail = m))
            }
            E::Request(_) => AppError::new(ErrorCode::Unavailable, tr!(errors.server_unreachable)),
            _ => AppError::opaque_internal(),
        }
    }

    /// A server function's error leaves in SPEC §4's one shape, `{"error": {…}}`, like every
    /// other error Depot answers (a script posting to `/api/…` reads it the same way).
    fn ser(&self) -> leptos::server_fn::Bytes {
        let envelope = ErrorEnvelope {
            error: self.clone(),
        };
        serde_json::to_vec(&envelope)
            .map(Into::into)
            .unwrap_or_else(|_| leptos::server_fn::Bytes::from_static(b"{}"))
    }

    /// Reads what [`Self::ser`] wrote.
    fn de(data: leptos::server_fn::Bytes) -> Self {
        serde_json::from_slice::<ErrorEnvelope>(&data)
            .map(|envelope| envelope.error)
            .unwrap_or_else(|e| {
                Self::from_server_fn_error(
                    leptos::server_fn::error::ServerFnErrorErr::Deserialization(e.to_string()),
                )
            })
    }
}

/// Every refusal of one request's fields, collected so that the client hears of all of them at
/// once (SPEC §4: `details.errors`), not one per attempt. Errors of no field (a conflict, the
/// database) are not collected: the first one stops the request as it is.
#[derive(Debug, Default)]
pub struct Problems {
    /// The code of the first refusal (`VALIDATION_FAILED`, `UNKNOWN_ITEM`, …) and its message.
    first: Option<(ErrorCode, String)>,
    /// `(field, reason)`, each field once (its first reason), in the order noted.
    fields: Vec<(String, String)>,
    /// The first refusal that names no field, answered as it is.
    other: Option<AppError>,
}

/// How many bad fields one refusal lists; the message still counts them all.
pub const MAX_LISTED_ERRORS: usize = 100;

impl Problems {
    /// Notes `error` (with every field it lists).
    pub fn note(&mut self, error: AppError) {
        let fields = error.field_reasons();
        if fields.is_empty() {
            self.other.get_or_insert(error);
            return;
        }
        if self.first.is_none() {
            self.first = Some((error.code, error.message.clone()));
        }
        for (field, reason) in fields {
            if !self.fields.iter().any(|(known, _)| *known == field) {
                self.fields.push((field, reason));
            }
        }
    }

    /// The value of `result`, or `None` with its refusal noted.
    pub fn check<T>(&mut self, result: Result<T, AppError>) -> Option<T> {
        result.map_err(|error| self.note(error)).ok()
    }

    /// Adds what `later` noted after what this noted.
    pub fn extend(&mut self, later: Problems) {
        if let Some(other) = later.other {
            self.other.get_or_insert(other);
        }
        if self.first.is_none() {
            self.first = later.first;
        }
        for (field, reason) in later.fields {
            if !self.fields.iter().any(|(known, _)| *known == field) {
                self.fields.push((field, reason));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none() && self.other.is_none()
    }

    /// `Ok` when nothing was noted; else one refusal: a refusal of no field as it is, else the
    /// first refusal's code, with every bad field in `details.errors` (the first also as
    /// `details.field` and `reason`), and a message that counts them.
    pub fn finish(self) -> Result<(), AppError> {
        match self.into_error() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// What a form's server function answers: `run` (its service) when the form's text was read
    /// without a problem; otherwise, without running it, one refusal of the text's problems and
    /// of the request's own checks (`check`, which runs nothing), so that every bad field of the
    /// form is named at once.
    pub async fn or_run<T, P>(
        mut self,
        check: impl FnOnce() -> Result<P, AppError>,
        run: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        if self.is_empty() {
            return run.await;
        }
        self.check(check());
        Err(self.into_error().unwrap_or_else(AppError::opaque_internal))
    }

    /// The one refusal of everything noted (see [`Self::finish`]), `None` when nothing was.
    pub fn into_error(self) -> Option<AppError> {
        if let Some(other) = self.other {
            return Some(other);
        }
        let (code, first_message) = self.first?;
        let count = self.fields.len();
        let message = if count == 1 {
            first_message
        } else {
            tr!(errors.several, count = count, first = first_message)
        };
        let (field, reason) = self.fields[0].clone();
        let listed: Vec<Value> = self
            .fields
            .into_iter()
            .take(MAX_LISTED_ERRORS)
            .map(|(field, reason)| json!({ "field": field, "reason": reason }))
            .collect();
        Some(AppError::new(code, message).with_details(json!({
            "field": field,
            "reason": reason,
            "errors": listed,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_serializes_in_the_spec_shape() {
        let body = serde_json::to_value(ErrorEnvelope {
            error: AppError::validation("lines[2].qty", "must be at least 1"),
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"error": {
                "code": "VALIDATION_FAILED",
                "message": "lines[2].qty: must be at least 1",
                "details": {
                    "field": "lines[2].qty",
                    "reason": "must be at least 1",
                    "errors": [{"field": "lines[2].qty", "reason": "must be at least 1"}]
                }
            }})
        );
    }

    #[test]
    fn problems_noted_later_come_after_and_name_each_field_once() {
        let mut text = Problems::default();
        text.note(AppError::validation("lines[0].qty", "not a number"));
        let mut page = Problems::default();
        page.note(AppError::validation("lines[0].batch_code", "choose one"));
        page.note(AppError::validation("lines[0].qty", "said again"));
        text.extend(page);
        let error = text.into_error().unwrap();
        assert_eq!(error.details["field"], "lines[0].qty");
        assert_eq!(
            error.details["errors"],
            json!([
                {"field": "lines[0].qty", "reason": "not a number"},
                {"field": "lines[0].batch_code", "reason": "choose one"},
            ])
        );

        // Nothing noted before: the later ones are all there is.
        let mut empty = Problems::default();
        let mut later = Problems::default();
        later.note(AppError::validation("ref", "must not be empty"));
        empty.extend(later);
        assert_eq!(empty.into_error().unwrap().details["field"], "ref");
    }

    #[test]
    fn problems_become_one_refusal_naming_every_field_once() {
        assert_eq!(Problems::default().finish(), Ok(()));

        let mut problems = Problems::default();
        problems.note(AppError::about_field(
            ErrorCode::UnknownItem,
            "lines[0].sku",
            "no item X",
        ));
        problems.note(AppError::validation("lines[1].qty", "must be at least 1"));
        problems.note(AppError::validation("lines[1].qty", "said again"));
        let error = problems.into_error().unwrap();
        assert_eq!(error.code, ErrorCode::UnknownItem);
        assert_eq!(error.details["field"], "lines[0].sku");
        assert_eq!(
            error.details["errors"],
            json!([
                {"field": "lines[0].sku", "reason": "no item X"},
                {"field": "lines[1].qty", "reason": "must be at least 1"},
            ])
        );
        assert!(error.message.starts_with("2 "), "{}", error.message);

        // One problem keeps its own message; a refusal of no field wins as it is.
        let mut one = Problems::default();
        one.check::<()>(Err(AppError::validation("ref", "must not be empty")));
        assert_eq!(one.into_error().unwrap().message, "ref: must not be empty");
        let mut other = Problems::default();
        other.note(AppError::validation("ref", "must not be empty"));
        other.note(AppError::conflict("taken".to_string()));
        assert_eq!(other.into_error().unwrap().code, ErrorCode::Conflict);

        // A huge request lists the first MAX_LISTED_ERRORS fields and counts them all.
        let mut many = Problems::default();
        for i in 0..150 {
            many.note(AppError::validation(format!("lines[{i}].qty"), "bad"));
        }
        let error = many.into_error().unwrap();
        assert_eq!(
            error.details["errors"].as_array().unwrap().len(),
            MAX_LISTED_ERRORS
        );
        assert!(error.message.starts_with("150 "), "{}", error.message);
    }

    #[test]
    fn messages_keep_their_english_words() {
        assert_eq!(
            AppError::unavailable().message,
            "the database is unavailable, retry shortly"
        );
        assert_eq!(
            tr!(
                errors.cross_site,
                header = "origin",
                value = "https://x.example"
            ),
            "this request was sent from another site (origin: https://x.example) and was \
             refused; make changes from Depot's own pages, or from a program that sends no Origin"
        );
        assert_eq!(
            tr!(errors.item.sku_exists, sku = "A-1"),
            "an item with sku 'A-1' exists already"
        );
        assert_eq!(
            tr!(errors.request.missing_field, name = "qty"),
            "missing field `qty`"
        );
        assert_eq!(tr!(errors.request.bad_value, detail = "x y"), "x y");
    }

    #[test]
    fn messages_follow_the_language_and_codes_do_not() {
        use leptos::prelude::{provide_context, Owner};
        let owner = Owner::new();
        owner.with(|| {
            provide_context(crate::lang::Locale::zh_CN);
            let error = AppError::validation(
                "lines[2].qty",
                tr!(errors.value.whole_number, max = 1_000_000_000),
            );
            assert_eq!(error.code, ErrorCode::ValidationFailed);
            assert_eq!(
                error.message,
                "lines[2].qty: 必须是 1 到 1000000000 之间的整数"
            );
            assert_eq!(error.details["field"], "lines[2].qty");
            assert_eq!(
                AppError::unavailable().message,
                "数据库暂时不可用，请稍后重试"
            );
        });
    }

    #[test]
    fn every_code_has_the_spec_status() {
        assert_eq!(ErrorCode::MalformedRequest.status(), 400);
        assert_eq!(ErrorCode::Forbidden.status(), 403);
        assert_eq!(
            serde_json::to_value(ErrorCode::Forbidden).unwrap(),
            json!("FORBIDDEN")
        );
        assert_eq!(ErrorCode::IdempotencyConflict.status(), 409);
        assert_eq!(ErrorCode::UnknownLocation.status(), 422);
        assert_eq!(ErrorCode::PayloadTooLarge.status(), 413);
        assert_eq!(ErrorCode::Unavailable.status(), 503);
    }
}
