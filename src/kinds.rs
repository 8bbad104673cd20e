//! The movement kinds Depot knows, one registration each in [`KINDS`]: the router mounts each
//! kind's JSON endpoint (SPEC §4) from it, served by one handler for every [`Kind`]; the role
//! table ([`crate::auth::access`]) and the navigation read who may use it and its page; the
//! ledger's pages read its reason in words, and the database's table of reasons gets the reason
//! when Depot starts ([`register_reasons`]). Each kind's operation in the OpenAPI document is
//! one line of [`documented!`]. The list is read on both sides (the navigation hydrates); what
//! only the server has (the kind's type, its handler) is the server's part of an entry.

#[cfg(feature = "ssr")]
use axum::extract::State;
#[cfg(feature = "ssr")]
use axum::routing::{post, MethodRouter};
#[cfg(feature = "ssr")]
use axum::{Extension, Json, Router};

#[cfg(feature = "ssr")]
use crate::adjust::service::Adjust;
#[cfg(feature = "ssr")]
use crate::auth::Principal;
#[cfg(feature = "ssr")]
use crate::db::Db;
use crate::domain::Role;
#[cfg(feature = "ssr")]
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::extract::JsonBody;
#[cfg(feature = "ssr")]
use crate::inbound::service::Receive;
#[cfg(feature = "ssr")]
use crate::movement::kind::Kind;
#[cfg(feature = "ssr")]
use crate::movement::MovementResponse;
#[cfg(feature = "ssr")]
use crate::outbound::service::Outbound;
#[cfg(feature = "ssr")]
use crate::putaway::service::Putaway;
#[cfg(feature = "ssr")]
use crate::state::AppState;
#[cfg(feature = "ssr")]
use crate::with_pool;

/// A movement kind as the web edge knows it.
pub struct KindEntry {
    /// Its page, and the page's name in the navigation.
    pub page: &'static str,
    pub page_words: fn() -> String,
    /// Who may use it: its endpoint, its page and its place in the navigation.
    pub role: Role,
    /// The reason of its ledger entries, and that reason in words.
    pub reason: &'static str,
    pub reason_words: fn() -> String,
    /// Its JSON endpoint and the endpoint's handler.
    #[cfg(feature = "ssr")]
    pub serve: Serve,
}

/// A kind's JSON endpoint.
#[cfg(feature = "ssr")]
pub struct Serve {
    /// `POST` here.
    pub path: &'static str,
    pub handler: fn() -> MethodRouter<AppState>,
}

/// The endpoint of kind `K`, whose ledger entries say `reason` (checked when compiling).
#[cfg(feature = "ssr")]
const fn serve<K: Kind>(reason: &str) -> Serve
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

#[cfg(feature = "ssr")]
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

/// One registration: the kind's type (the server's part) and what the pages know of it.
macro_rules! kind {
    ($kind:ty {
        page: $page:literal, $page_words:expr,
        role: $role:expr,
        reason: $reason:literal, $reason_words:expr $(,)?
    }) => {
        KindEntry {
            page: $page,
            page_words: $page_words,
            role: $role,
            reason: $reason,
            reason_words: $reason_words,
            #[cfg(feature = "ssr")]
            serve: serve::<$kind>($reason),
        }
    };
}

/// Every movement kind, in the navigation's order: adding one is one entry here (and its
/// `documented!` line below).
pub const KINDS: [KindEntry; 4] = [
    kind!(Receive {
        page: "/inbound", || tr!(common.nav.inbound),
        role: Role::Clerk,
        reason: "RECEIVE", || tr!(ledger.reason.receive),
    }),
    kind!(Putaway {
        page: "/putaway", || tr!(common.nav.putaway),
        role: Role::Clerk,
        reason: "PUTAWAY", || tr!(ledger.reason.putaway),
    }),
    kind!(Outbound {
        page: "/outbound", || tr!(common.nav.outbound),
        role: Role::Clerk,
        reason: "OUTBOUND", || tr!(ledger.reason.outbound),
    }),
    kind!(Adjust {
        page: "/adjust", || tr!(common.nav.adjust),
        role: Role::Manager,
        reason: "ADJUST", || tr!(ledger.reason.adjust),
    }),
];

/// The ledger's reasons, each once, in the order of [`KINDS`].
pub fn reasons() -> Vec<&'static str> {
    let mut reasons: Vec<&'static str> = Vec::new();
    for kind in &KINDS {
        if !reasons.contains(&kind.reason) {
            reasons.push(kind.reason);
        }
    }
    reasons
}

/// A ledger reason in words (the code itself when no kind has it).
pub fn reason_words(code: &str) -> String {
    KINDS
        .iter()
        .find(|k| k.reason == code)
        .map_or_else(|| code.to_string(), |k| (k.reason_words)())
}

/// Adds the reasons of every kind to the database's table of reasons (migration 0016), which
/// the ledger's entries refer to; those there already stay. Run when Depot starts.
#[cfg(feature = "ssr")]
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
#[cfg(feature = "ssr")]
pub fn role_of(path: &str) -> Option<Role> {
    KINDS.iter().find(|k| k.serve.path == path).map(|k| k.role)
}

/// Every kind's endpoint.
#[cfg(feature = "ssr")]
pub fn router() -> Router<AppState> {
    KINDS.iter().fold(Router::new(), |router, kind| {
        router.route(kind.serve.path, (kind.serve.handler)())
    })
}

/// `POST <K::PATH>`: the request, carried out as whoever asks.
#[cfg(feature = "ssr")]
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
        #[cfg(feature = "ssr")]
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

#[cfg(all(test, feature = "ssr"))]
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
