//! The one error type of Depot (SPEC §4): every refusal and failure, whether it leaves through a
//! JSON endpoint or a server function, is an [`AppError`] with a stable code, a message meant for
//! people and optional details. Internal causes are logged where they happen and never sent.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The machine-readable error codes of SPEC §4, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    MalformedRequest,
    Forbidden,
    ValidationFailed,
    UnknownItem,
    UnknownLocation,
    NotFound,
    Conflict,
    IdempotencyConflict,
    InsufficientStock,
    PayloadTooLarge,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::MalformedRequest => 400,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict | ErrorCode::IdempotencyConflict | ErrorCode::InsufficientStock => {
                409
            }
            ErrorCode::PayloadTooLarge => 413,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default = "empty_details")]
    pub details: Value,
}

fn empty_details() -> Value {
    json!({})
}

/// The wire envelope of an error.
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
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The request could not be read at all (bad JSON, wrong content type).
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedRequest, message)
    }

    /// One field of a well-formed request is wrong; `field` is its path, e.g. `lines[2].qty`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self::new(ErrorCode::ValidationFailed, format!("{field}: {message}"))
            .with_details(json!({ "field": field, "reason": message }))
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
        Self::new(
            ErrorCode::PayloadTooLarge,
            "request body is larger than 1 MiB",
        )
    }

    /// The database cannot be reached; the client may retry after [`RETRY_AFTER_SECONDS`].
    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "the database is unavailable, retry shortly",
        )
    }

    /// An opaque internal error. Call through [`AppError::internal`] so the cause is logged.
    fn opaque_internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
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

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            if crate::db::is_unavailable(&error) {
                tracing::warn!(cause = %error_chain(&error), "database unavailable");
                return AppError::unavailable();
            }
            AppError::internal(&error)
        }
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if status.is_client_error() {
                tracing::info!(code = ?self.code, message = %self.message, "request refused");
            }
            let retry = self.code == ErrorCode::Unavailable;
            let mut response = (status, axum::Json(ErrorEnvelope { error: self })).into_response();
            if retry {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
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
                AppError::malformed(m)
            }
            E::Request(_) => AppError::new(
                ErrorCode::Unavailable,
                "could not reach the server: check the connection and try again",
            ),
            _ => AppError::opaque_internal(),
        }
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
                "details": {"field": "lines[2].qty", "reason": "must be at least 1"}
            }})
        );
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
