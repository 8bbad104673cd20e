//! People's sessions (SPEC §7) through tower-sessions, stored in Depot's database on both
//! backends: cookie `depot_session` (HttpOnly, SameSite=Lax, Secure when configured), a new id
//! at every sign-in (`Session::cycle_id`), ended after `DEPOT_SESSION_IDLE_MINUTES` unused or at
//! sign-out. Rows are keyed by the digest of the id, never the id itself.

use async_trait::async_trait;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};

use crate::auth::token::digest;
use crate::config::Config;
use crate::db::Db;
use crate::with_pool;

/// The session cookie's name.
pub const COOKIE: &str = "depot_session";
/// The key under which a session holds its user's id.
pub const USER_KEY: &str = "user_id";

/// The key under which a session holds when a request last extended it (unix seconds).
pub const TOUCHED_KEY: &str = "touched";
/// A session is extended (written) at most this often.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// Extends a signed-in session's idle timeout from now, writing it at most once a minute (its
/// end is then at most a minute early). Time is the system's, as the store's expiry is.
pub async fn touch(session: &tower_sessions::Session) {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let touched = session.get::<i64>(TOUCHED_KEY).await.ok().flatten();
    if touched.is_none_or(|at| now - at >= TOUCH_EVERY_SECONDS) {
        if let Err(error) = session.insert(TOUCHED_KEY, now).await {
            tracing::warn!(%error, "could not extend a session");
        }
    }
}

/// The layer that gives every request its [`tower_sessions::Session`].
pub fn layer(db: Db, config: &Config) -> SessionManagerLayer<DbStore> {
    SessionManagerLayer::new(DbStore { db })
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_path("/")
        // Saved when changed: signing in, and `touch` at most once a minute, so "unused for N
        // minutes" counts from the last request without a write per request.
        .with_expiry(Expiry::OnInactivity(Duration::minutes(i64::from(
            config.session_idle_minutes,
        ))))
}

/// Sessions in the `sessions` table.
#[derive(Debug, Clone)]
pub struct DbStore {
    db: Db,
}

fn backend(error: impl std::fmt::Display) -> Error {
    Error::Backend(error.to_string())
}

fn user_of(record: &Record) -> Option<i64> {
    record.data.get(USER_KEY).and_then(|v| v.as_i64())
}

impl DbStore {
    async fn insert(&self, record: &Record, upsert: bool) -> Result<bool> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        let sql = if upsert {
            "INSERT INTO sessions (id_digest, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id_digest) DO UPDATE SET user_id = excluded.user_id, \
             data = excluded.data, expires_at = excluded.expires_at"
        } else {
            "INSERT INTO sessions (id_digest, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id_digest) DO NOTHING"
        };
        let inserted = with_pool!(&self.db, |pool, _backend| sqlx::query(sql)
            .bind(digest(&record.id.to_string()))
            .bind(user_of(record))
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend)?;
        Ok(inserted > 0)
    }
}

#[async_trait]
impl SessionStore for DbStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Expired sessions go when new ones come.
        let now = OffsetDateTime::now_utc().unix_timestamp();
        with_pool!(&self.db, |pool, _backend| sqlx::query(
            "DELETE FROM sessions WHERE expires_at < $1"
        )
        .bind(now)
        .execute(pool)
        .await
        .map(drop))
        .map_err(backend)?;
        while !self.insert(record, false).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.insert(record, true).await.map(drop)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let row: Option<(String, i64)> = with_pool!(&self.db, |pool, _backend| sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id_digest = $1 AND expires_at > $2"
        )
        .bind(digest(&id.to_string()))
        .bind(now)
        .fetch_optional(pool)
        .await)
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
                .map_err(|e| Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        with_pool!(&self.db, |pool, _backend| sqlx::query(
            "DELETE FROM sessions WHERE id_digest = $1"
        )
        .bind(digest(&id.to_string()))
        .execute(pool)
        .await
        .map(drop))
        .map_err(backend)
    }
}
