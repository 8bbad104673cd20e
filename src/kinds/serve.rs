//! The server's part of the movement kinds: each kind's endpoint, served by one handler for
//! every [`Kind`], its operation in the OpenAPI document, and the ledger's reasons in the
//! database.

use axum::extract::State;
use axum::routing::{post, MethodRouter};
use axum::{Extension, Json, Router};

use super::{reasons, KINDS};
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::Role;
use crate::error::AppError;
use crate::extract::JsonBody;
use crate::movement::kind::Kind;
use crate::movement::MovementResponse;
use crate::state::AppState;
use crate::with_pool;

/// A kind's JSON endpoint.
pub struct Serve {
    /// `POST` here.
    pub path: &'static str,
    pub handler: fn() -> MethodRouter<AppState>,
}

/// The endpoint of kind `K`, whose ledger entries say `reason` (checked when compiling).
pub(super) const fn serve<K: Kind>(reason: &str) -> Serve
where
    K::LineResult: serde::Serialize,
{
    assert!(
        same(K::REASON.0, reason),
        "a kind's registration names the reason its movement writes"
    );
    Serve {
        path: K::PATH,
        handler: || post(commit::<K>),
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Adds the reasons of every kind to the database's table of reasons (migration 0016), which
/// the ledger's entries refer to; those there already stay. Run when Depot starts.
pub async fn register_reasons(db: &Db) -> Result<(), sqlx::Error> {
    let reasons = reasons();
    with_pool!(db, |pool, _backend| {
        let mut query = sqlx::QueryBuilder::new("INSERT INTO ledger_reasons (code) ");
        query.push_values(&reasons, |mut row, reason| {
            row.push_bind(*reason);
        });
        query.push(" ON CONFLICT (code) DO NOTHING");
        query.build().execute(pool).await.map(drop)
    })
}

/// Who may use the movement kind whose endpoint is `path`, if one is.
pub fn role_of(path: &str) -> Option<Role> {
    KINDS.iter().find(|k| k.serve.path == path).map(|k| k.role)
}

/// Every kind's endpoint.
pub fn router() -> Router<AppState> {
    KINDS.iter().fold(Router::new(), |router, kind| {
        router.route(kind.serve.path, (kind.serve.handler)())
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
    use crate::adjust::service::Adjust;
    use crate::inbound::service::Receive;
    use crate::outbound::service::Outbound;
    use crate::putaway::service::Putaway;

    /// Each kind's documented path is the one it is routed at.
    #[test]
    fn the_document_names_the_routed_paths() {
        assert_eq!(__path_receive_goods::path(), Receive::PATH);
        assert_eq!(__path_put_away::path(), Putaway::PATH);
        assert_eq!(__path_commit_outbound::path(), Outbound::PATH);
        assert_eq!(__path_adjust::path(), Adjust::PATH);
    }
}
