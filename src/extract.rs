//! Request extractors for the JSON API that refuse bad input with the SPEC §4 error shape:
//! unreadable JSON is `MALFORMED_REQUEST` (400), a well-formed body with a wrong field is
//! `VALIDATION_FAILED` (422) naming the field, an oversized body is `PAYLOAD_TOO_LARGE` (413).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// The largest request body Depot reads (SPEC §4).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The largest file an import takes (SPEC §11: 100 000 rows; an XLSX of that many items is
/// ~4 MB, a CSV with long names a few times more).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// The largest body a request to `path` may send.
pub fn body_limit(path: &str) -> usize {
    if path.starts_with("/import/") {
        MAX_IMPORT_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// A JSON request body decoded into `T`.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(req.headers()) {
            return Err(AppError::malformed(tr!(errors.request.json_content_type)));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::payload_too_large()
            } else {
                AppError::malformed(tr!(
                    errors.request.unreadable_body,
                    detail = rejection.body_text()
                ))
            }
        })?;
        decode_json(&bytes).map(JsonBody)
    }
}

/// A JSON request body that may be left out (an empty body): then `T::default()`.
pub struct JsonOrEmpty<T>(pub T);

impl<S, T> FromRequest<S> for JsonOrEmpty<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let json = is_json(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::payload_too_large()
            } else {
                AppError::malformed(tr!(
                    errors.request.unreadable_body,
                    detail = rejection.body_text()
                ))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonOrEmpty(T::default()));
        }
        if !json {
            return Err(AppError::malformed(tr!(errors.request.json_content_type)));
        }
        decode_json(&bytes).map(JsonOrEmpty)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Decodes `bytes` as JSON into `T`, naming the offending field on a type or value error.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Syntax first: a truncated body is malformed even where its start already has the wrong shape.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|error| AppError::malformed(tr!(errors.request.invalid_json, detail = error)))?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        json_error(field_name(&path, &inner.to_string()), &inner)
    })?;
    Ok(value)
}

/// The field an error is about: serde's path, extended by the name in "missing field `x`".
fn field_name(path: &str, message: &str) -> String {
    let path = if path == "." { "" } else { path };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (path.is_empty(), missing) {
        (true, None) => "body".into(),
        (true, Some(name)) => name.into(),
        (false, None) => path.into(),
        (false, Some(name)) => format!("{path}.{name}"),
    }
}

fn json_error(field: String, error: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => AppError::validation(field, reason(&strip_position(&error.to_string()))),
        Category::Syntax | Category::Eof | Category::Io => {
            AppError::malformed(tr!(errors.request.invalid_json, detail = error))
        }
    }
}

/// serde's reason for refusing a value, in the request's language where Depot has its words
/// ("missing field `qty`"); serde's other reasons keep its own (English) text after a lead-in.
fn reason(message: &str) -> String {
    match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        Some(name) => tr!(errors.request.missing_field, name = name),
        None => tr!(errors.request.bad_value, detail = message),
    }
}

/// serde's message for people: without " at line L column C" (it says nothing about a field)
/// and with Rust's integer type names said in words.
fn strip_position(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    ["i64", "i32", "u64", "u32"]
        .iter()
        .fold(message.to_string(), |text, name| {
            text.replace(&format!("expected {name}"), "expected a whole number")
        })
}

/// Query-string parameters decoded into `T`; a bad parameter is 422 naming it.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        decode_query(parts.uri.query().unwrap_or_default()).map(QueryParams)
    }
}

/// Decodes a raw (still percent-encoded) query string into `T`, naming the offending parameter.
pub fn decode_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    // Decoding is lossy; refuse what would decode to U+FFFD instead of searching for it.
    if percent_encoding::percent_decode_str(query)
        .decode_utf8()
        .is_err()
    {
        return Err(AppError::malformed(tr!(errors.request.bad_query_encoding)));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        AppError::validation(field_name(&path, &message), reason(&message))
    })
}

/// Whether the client asks for HTML (a browser's navigation or plain form post does).
pub fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Line {
        qty: i64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        lines: Vec<Line>,
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let error = decode_json::<Order>(br#"{"lines": [{"qty": 1}, {"qty": "x"}]}"#).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationFailed);
        assert_eq!(error.details["field"], "lines[1].qty");
    }

    #[test]
    fn type_errors_speak_plainly() {
        let error = decode_json::<Order>(br#"{"lines": [{"qty": 1.5}]}"#).unwrap_err();
        assert_eq!(
            error.details["reason"],
            "invalid type: floating point `1.5`, expected a whole number"
        );
    }

    #[test]
    fn broken_json_is_malformed() {
        for body in [&b"{"[..], b"", b"[1,", b"{\"lines\": []} trailing"] {
            let error = decode_json::<Order>(body).unwrap_err();
            assert_eq!(error.code, ErrorCode::MalformedRequest, "{body:?}");
        }
    }

    #[test]
    fn a_missing_field_is_a_validation_error_naming_it() {
        let error = decode_json::<Order>(b"{}").unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationFailed);
        assert_eq!(error.details["field"], "lines");
        let error = decode_json::<Order>(br#"{"lines": [{}]}"#).unwrap_err();
        assert_eq!(error.details["field"], "lines[0].qty");
    }

    mod properties {
        use super::*;
        use crate::outbound::OutboundInput;
        use proptest::prelude::*;

        /// Bytes that are often almost an outbound body.
        fn near_json() -> impl Strategy<Value = Vec<u8>> {
            let valid = br#"{"ref":"SO-1","atomic":true,"lines":[{"sku":"A","location_code":"B","qty":1}]}"#;
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..200),
                (0..valid.len(), any::<u8>(), 0..valid.len()).prop_map(move |(at, byte, cut)| {
                    let mut bytes = valid.to_vec();
                    bytes[at] = byte;
                    bytes.truncate(cut.max(at + 1));
                    bytes
                }),
            ]
        }

        proptest! {
            #[test]
            fn any_body_decodes_or_is_refused_as_malformed_or_invalid(bytes in near_json()) {
                if let Err(error) = decode_json::<OutboundInput>(&bytes) {
                    prop_assert!(matches!(error.code, ErrorCode::MalformedRequest | ErrorCode::ValidationFailed), "{:?}", error);
                    prop_assert!(!error.message.is_empty());
                }
            }
        }
    }
}
