//! The movement kinds Depot knows, one entry each in [`KINDS`]: the router mounts each kind's
//! JSON endpoint (SPEC §4) from it, served by one handler for every [`Kind`], and the role
//! table ([`crate::auth::access`]) reads who may use it. Each kind's operation in the OpenAPI
//! document is one line of [`documented!`].

use axum::extract::State;
use axum::routing::{post, MethodRouter};
use axum::{Extension, Json, Router};

use crate::adjust::service::Adjust;
use crate::auth::Principal;
use crate::domain::Role;
use crate::error::AppError;
use crate::extract::JsonBody;
use crate::inbound::service::Receive;
use crate::movement::kind::Kind;
use crate::movement::MovementResponse;
use crate::outbound::service::Outbound;
use crate::putaway::service::Putaway;
use crate::state::AppState;

/// A movement kind as the web edge knows it.
pub struct KindEntry {
    /// Its JSON endpoint, `POST`.
    pub path: &'static str,
    /// Who may use it.
    pub role: Role,
    /// Its endpoint's handler.
    pub handler: fn() -> MethodRouter<AppState>,
}

const fn entry<K: Kind>() -> KindEntry
where
    K::LineResult: serde::Serialize,
{
    KindEntry {
        path: K::PATH,
        role: K::ROLE,
        handler: || post(commit::<K>),
    }
}

/// Every movement kind: adding one is one line here (and its `documented!` line below).
pub const KINDS: [KindEntry; 4] = [
    entry::<Receive>(),
    entry::<Putaway>(),
    entry::<Outbound>(),
    entry::<Adjust>(),
];

/// Who may use the movement kind whose endpoint is `path`, if one is.
pub fn role_of(path: &str) -> Option<Role> {
    KINDS.iter().find(|k| k.path == path).map(|k| k.role)
}

/// Every kind's endpoint.
pub fn router() -> Router<AppState> {
    KINDS.iter().fold(Router::new(), |router, kind| {
        router.route(kind.path, (kind.handler)())
    })
}

/// `POST <K::PATH>`: the request, carried out as whoever asks.
async fn commit<K: Kind>(
    State(state): State<AppState>,
    principal: Option<Extension<Principal>>,
    JsonBody(input): JsonBody<K::Input>,
) -> Result<Json<MovementResponse<K::LineResult>>, AppError>
where
    K::LineResult: serde::Serialize,
{
    let actor = principal.as_ref().map(|Extension(p)| p.actor());
    K::commit(&state.db, &state.config, &input, actor.as_deref())
        .await
        .map(Json)
}

/// A kind's operation in the OpenAPI document: `name` (its operation id), its path, its
/// request, what it does and its answer's line type (as tokens: utoipa reads the generic
/// answer's type from them, not from a `ty` fragment).
macro_rules! documented {
    ($name:ident, $path:literal, $input:ty, $about:literal, $($line:tt)+) => {
        #[doc = $about]
        #[utoipa::path(
            post,
            path = $path,
            tag = "movements",
            request_body = $input,
            responses(
                (status = 200, description = "Done", body = crate::movement::MovementResponse<$($line)+>),
                (status = 400, description = "Malformed request (MALFORMED_REQUEST)", body = crate::error::ErrorEnvelope),
                (status = 409, description = "Conflict (CONFLICT, IDEMPOTENCY_CONFLICT, INSUFFICIENT_STOCK)", body = crate::error::ErrorEnvelope),
                (status = 422, description = "Invalid input (VALIDATION_FAILED, UNKNOWN_ITEM, UNKNOWN_LOCATION)", body = crate::error::ErrorEnvelope),
            )
        )]
        #[allow(dead_code)]
        pub fn $name() {}
    };
}

documented!(
    receive_goods,
    "/inbound/receive",
    crate::inbound::ReceiveInput,
    "Receive goods into receiving or storage locations.",
    crate::movement::LineResult
);
documented!(
    put_away,
    "/putaway",
    crate::putaway::PutawayInput,
    "Move goods between locations, all or nothing.",
    crate::putaway::PutawayLineResult
);
documented!(
    commit_outbound,
    "/outbound/commit",
    crate::outbound::OutboundInput,
    "Ship goods (FEFO, never an expired batch).",
    crate::movement::LineResult
);
documented!(
    adjust,
    "/adjust",
    crate::adjust::AdjustInput,
    "Correct stock with a reason.",
    crate::adjust::AdjustLineResult
);

#[cfg(test)]
mod tests {
    use utoipa::Path;

    use super::*;

    /// Each kind's documented path is the one it is routed at.
    #[test]
    fn the_document_names_the_routed_paths() {
        assert_eq!(__path_receive_goods::path(), Receive::PATH);
        assert_eq!(__path_put_away::path(), Putaway::PATH);
        assert_eq!(__path_commit_outbound::path(), Outbound::PATH);
        assert_eq!(__path_adjust::path(), Adjust::PATH);
    }
}
