//! The server's part of the movement kinds: each kind's endpoint, served by one handler for
//! every [`Kind`], its operation in the OpenAPI document, and the ledger's reasons in the
//! database.

use axum::extract::State;
use axum::routing::{post, MethodRouter};
use axum::{Extension, Json, Router};

use super::{reasons, same, KINDS};
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
    /// The endpoint's operation, as an OpenAPI document of its own (with the schemas it uses)
    /// that the API's document takes in.
    pub document: fn() -> utoipa::openapi::OpenApi,
}

/// A kind's operation in the OpenAPI document, made by `kind_operation!`.
pub trait Documented {
    fn document() -> utoipa::openapi::OpenApi;
}

/// The endpoint of kind `K`, whose ledger entries say `reason` (checked when compiling).
pub(super) const fn serve<K: Kind + Documented>(reason: &str) -> Serve
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
        document: K::document,
    }
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

/// Who may use the server function at `/api/<endpoint>` if it is a movement kind's page form.
pub fn form_role(endpoint: &str) -> Option<Role> {
    KINDS
        .iter()
        .find(|k| k.form.strip_prefix("/api/") == Some(endpoint))
        .map(|k| k.role)
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

/// The operation of kind `$kind` in the OpenAPI document: `name` (its operation id), its path,
/// its request, what it does and its answer's line type.
macro_rules! kind_operation {
    ($kind:ty, $name:ident, $path:literal, $input:ty, $about:literal, $($line:tt)+) => {
        impl Documented for $kind {
            fn document() -> utoipa::openapi::OpenApi {
                #[derive(utoipa::OpenApi)]
                #[openapi(paths($name))]
                struct Operation;
                <Operation as utoipa::OpenApi>::openapi()
            }
        }

        crate::operation::documented! {
            post $path, "movements", { request_body = $input, }
            => 200 [crate::movement::MovementResponse<$($line)+>], refuses [400, 409, 422]
            #[doc = $about]
            #[allow(dead_code)]
            pub fn $name() {}
        }
    };
}

kind_operation!(
    crate::inbound::service::Receive,
    receive_goods,
    "/inbound/receive",
    crate::inbound::ReceiveInput,
    "Receive goods into receiving or storage locations.",
    crate::movement::LineResult
);
kind_operation!(
    crate::putaway::service::Putaway,
    put_away,
    "/putaway",
    crate::putaway::PutawayInput,
    "Move goods between locations, all or nothing.",
    crate::putaway::PutawayLineResult
);
kind_operation!(
    crate::outbound::service::Outbound,
    commit_outbound,
    "/outbound/commit",
    crate::outbound::OutboundInput,
    "Ship goods (FEFO, never an expired batch).",
    crate::movement::LineResult
);
kind_operation!(
    crate::adjust::service::Adjust,
    adjust,
    "/adjust",
    crate::adjust::AdjustInput,
    "Correct stock with a reason.",
    crate::adjust::AdjustLineResult
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind's documented path is the one it is routed at, and its only one.
    #[test]
    fn the_document_names_the_routed_paths() {
        for kind in &KINDS {
            let document = (kind.serve.document)();
            let paths: Vec<&String> = document.paths.paths.keys().collect();
            assert_eq!(paths, [kind.serve.path], "{}", kind.reason);
        }
    }
}
