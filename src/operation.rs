//! An endpoint's operation in the OpenAPI document (SPEC §11), written beside its handler:
//! [`documented!`] puts utoipa's description on the handler, each refusal it may answer worded
//! once here, so an `api.rs` says only what is its own: method, path, tag, input, answer and
//! which refusals. An operation whose answers are not these (an order's create, answering 200
//! to a retry; an import's report; an export's file) writes utoipa's attribute itself.

/// Documents the handler `$item` (its doc comment is the operation's summary): `$method` at
/// `$path` under `$tag`, its input (`params(…),` and/or `request_body = …,`), its answer's
/// status and type, and the codes of the refusals it may answer (400, 404, 409, 422).
macro_rules! documented {
    ($method:ident $path:literal, $tag:literal, { $($input:tt)* } => $status:literal [$($answer:tt)+],
     refuses [$($code:tt),*] $item:item) => {
        $crate::operation::documented!(@answers [$method, $path, $tag, { $($input)* }, $item]
            [(status = $status, description = "Done", body = $($answer)+),] $($code)*);
    };
    (@answers $head:tt [$($done:tt)*] 400 $($rest:tt)*) => {
        $crate::operation::documented!(@answers $head [$($done)*
            (status = 400, description = "Malformed request (MALFORMED_REQUEST)", body = crate::error::ErrorEnvelope),
        ] $($rest)*);
    };
    (@answers $head:tt [$($done:tt)*] 404 $($rest:tt)*) => {
        $crate::operation::documented!(@answers $head [$($done)*
            (status = 404, description = "Not found (NOT_FOUND)", body = crate::error::ErrorEnvelope),
        ] $($rest)*);
    };
    (@answers $head:tt [$($done:tt)*] 409 $($rest:tt)*) => {
        $crate::operation::documented!(@answers $head [$($done)*
            (status = 409, description = "Conflict (CONFLICT, IDEMPOTENCY_CONFLICT, INSUFFICIENT_STOCK)", body = crate::error::ErrorEnvelope),
        ] $($rest)*);
    };
    (@answers $head:tt [$($done:tt)*] 422 $($rest:tt)*) => {
        $crate::operation::documented!(@answers $head [$($done)*
            (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
        ] $($rest)*);
    };
    (@answers [$method:ident, $path:literal, $tag:literal, { $($input:tt)* }, $item:item] [$($done:tt)*]) => {
        #[utoipa::path($method, path = $path, tag = $tag, $($input)* responses($($done)*))]
        $item
    };
}
pub(crate) use documented;
