//! Results of no-JavaScript form posts, kept in the database for a short while.
//!
//! A plain form post is answered with a redirect back to its page (so reloading the page does not
//! post again). The result must survive that redirect, but not in the URL: a URL can be crafted
//! to show anything, ends up in logs and history, and has a size limit. So the result is kept
//! under an unguessable token, the redirect carries only the token (and the movement's ref, for
//! people), and the page reads the result back. Tokens live [`TTL`].
//!
//! Results are rows of `form_results` (migration 0014), so the redirect may reach any of several
//! Depot processes on the database, and a restart forgets none. A row is keyed by the SHA-256
//! digest of its token and its result is encrypted (ChaCha20-Poly1305) under a key derived from
//! the token: the token is only in the browser's URL, so the table alone reads no result, a new
//! API token's secret among them. Reads skip rows older than the TTL; each write deletes a few
//! expired rows ([`SWEEP`]), so the table holds about the last [`TTL`] of results.

use std::time::Duration;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use sha2::{Digest, Sha256};

use crate::auth::token::digest;
use crate::config::Clock;
use crate::db::Db;
use crate::error::AppError;
use crate::with_pool;

/// How long a result can be read back.
pub const TTL: Duration = Duration::from_secs(15 * 60);
/// A result larger than this is not kept (a 1 000-line form's result is about 300 KB).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// At most this many expired results are deleted by each write: bounded work per post, and
/// more than one, so expired rows never pile up.
pub const SWEEP: i64 = 64;

/// A token: 128 random bits as 32 lowercase hex digits.
const TOKEN_LEN: usize = 32;

/// The results of recent no-JavaScript form posts, by token, in the database.
#[derive(Debug, Clone)]
pub struct FlashStore {
    db: Db,
    clock: Clock,
    ttl: Duration,
}

impl FlashStore {
    /// The store on `db`, its time from `clock` (the server's, `DEPOT_CLOCK`).
    pub fn new(db: Db, clock: Clock) -> Self {
        Self::with_ttl(db, clock, TTL)
    }

    pub fn with_ttl(db: Db, clock: Clock, ttl: Duration) -> Self {
        Self { db, clock, ttl }
    }

    /// Keeps `json`, the result of a post from `page` under `reference`; returns its token, or
    /// `None` when it cannot be kept (too large, no randomness, or the database failed: logged).
    pub async fn put(&self, page: &str, reference: &str, json: String) -> Option<String> {
        self.keep(page, reference, json, false).await
    }

    /// Like [`FlashStore::put`], for a result that must be shown only once (a new API token's
    /// secret): the first read takes it away, on whichever node it happens.
    pub async fn put_once(&self, page: &str, reference: &str, json: String) -> Option<String> {
        self.keep(page, reference, json, true).await
    }

    async fn keep(&self, page: &str, reference: &str, json: String, once: bool) -> Option<String> {
        let size = page.len() + reference.len() + json.len();
        if size > MAX_BYTES {
            tracing::warn!(size, "a form result too large to keep for its page");
            return None;
        }
        let token = new_token()?;
        let body = seal(&token, page, reference, &json)?;
        let now = self.now();
        match self.insert(page, reference, &token, body, once, now).await {
            Ok(()) => Some(token),
            Err(error) => {
                tracing::error!(
                    cause = %crate::error::error_chain(&error),
                    "could not keep a form result"
                );
                None
            }
        }
    }

    async fn insert(
        &self,
        page: &str,
        reference: &str,
        token: &str,
        body: Vec<u8>,
        once: bool,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        // Expired results go as new ones come, a few at a time (oldest first, by index).
        let expired = now - self.ttl_seconds();
        with_pool!(&self.db, |pool, _backend| {
            sqlx::query(
                "DELETE FROM form_results WHERE token_digest IN (SELECT token_digest \
                 FROM form_results WHERE created_at <= $1 ORDER BY created_at LIMIT $2)",
            )
            .bind(expired)
            .bind(SWEEP)
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO form_results (token_digest, page, reference, body, once, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(digest(token))
            .bind(page)
            .bind(reference)
            .bind(body)
            .bind(once)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
        })
    }

    /// The result kept under `token`, if it is younger than the TTL and was posted from `page`
    /// under `reference`. Reading does not consume it (reloading the page shows it again),
    /// unless it was kept with [`FlashStore::put_once`]: then the read that returns it deletes
    /// it, so of two reads at once on two nodes only one has it.
    pub async fn get(
        &self,
        page: &str,
        reference: &str,
        token: &str,
    ) -> Result<Option<String>, AppError> {
        // Nothing was kept under a NUL (PostgreSQL stores none), so nothing is looked up.
        if !is_token(token) || page.contains('\0') || reference.contains('\0') {
            return Ok(None);
        }
        let key = digest(token);
        let fresh = self.now() - self.ttl_seconds();
        let found: Option<(Vec<u8>, bool)> = with_pool!(&self.db, |pool, _backend| {
            sqlx::query_as(
                "SELECT body, once FROM form_results WHERE token_digest = $1 AND page = $2 \
                 AND reference = $3 AND created_at > $4",
            )
            .bind(&key)
            .bind(page)
            .bind(reference)
            .bind(fresh)
            .fetch_optional(pool)
            .await
        })?;
        let body = match found {
            None => return Ok(None),
            Some((body, false)) => body,
            Some((_, true)) => {
                let taken: Option<Vec<u8>> = with_pool!(&self.db, |pool, _backend| {
                    sqlx::query_scalar(
                        "DELETE FROM form_results WHERE token_digest = $1 AND page = $2 \
                         AND reference = $3 AND created_at > $4 RETURNING body",
                    )
                    .bind(&key)
                    .bind(page)
                    .bind(reference)
                    .bind(fresh)
                    .fetch_optional(pool)
                    .await
                })?;
                match taken {
                    Some(body) => body,
                    // Another read took it first.
                    None => return Ok(None),
                }
            }
        };
        Ok(open(token, page, reference, &body))
    }

    /// How many results are kept, expired or not.
    pub async fn count(&self) -> Result<i64, AppError> {
        Ok(with_pool!(&self.db, |pool, _backend| sqlx::query_scalar(
            "SELECT COUNT(*) FROM form_results"
        )
        .fetch_one(pool)
        .await)?)
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    fn ttl_seconds(&self) -> i64 {
        i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2)
    }
}

/// The cipher for the result kept under `token`: its key is derived from the token (one key per
/// result, so the nonce can stay fixed), and differs from the digest the row is found by.
fn cipher(token: &str) -> ChaCha20Poly1305 {
    let key: [u8; 32] = Sha256::new()
        .chain_update(b"depot form result key\0")
        .chain_update(token.as_bytes())
        .finalize()
        .into();
    ChaCha20Poly1305::new(&key.into())
}

/// What the result is bound to besides its token: a row cannot be shown for another page or ref.
fn associated(page: &str, reference: &str) -> Vec<u8> {
    // A page is a path without a newline, so the two parts cannot be confused.
    format!("{page}\n{reference}").into_bytes()
}

fn seal(token: &str, page: &str, reference: &str, json: &str) -> Option<Vec<u8>> {
    let aad = associated(page, reference);
    let sealed = cipher(token).encrypt(
        &Nonce::default(),
        Payload {
            msg: json.as_bytes(),
            aad: &aad,
        },
    );
    if sealed.is_err() {
        tracing::error!("could not encrypt a form result");
    }
    sealed.ok()
}

fn open(token: &str, page: &str, reference: &str, body: &[u8]) -> Option<String> {
    let aad = associated(page, reference);
    let plain = cipher(token)
        .decrypt(
            &Nonce::default(),
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    if plain.is_none() {
        tracing::warn!("a form result that its token does not open");
    }
    plain
}

/// 128 bits from the operating system's random source, as hex.
fn new_token() -> Option<String> {
    let mut bytes = [0u8; TOKEN_LEN / 2];
    if let Err(error) = getrandom::fill(&mut bytes) {
        tracing::error!(%error, "no randomness for a form result token");
        return None;
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `token` has a token's form (so nothing else is looked up).
pub fn is_token(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::memory_db;

    fn at(seconds: i64) -> Clock {
        Clock::Fixed(chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap())
    }

    async fn stored_bodies(db: &Db) -> Vec<Vec<u8>> {
        with_pool!(db, |pool, _backend| sqlx::query_scalar(
            "SELECT body FROM form_results"
        )
        .fetch_all(pool)
        .await
        .unwrap())
    }

    #[tokio::test]
    async fn a_result_is_read_back_by_its_token_page_and_ref() {
        let store = FlashStore::new(memory_db().await, at(0));
        let token = store.put("/outbound", "SO-1", "{}".into()).await.unwrap();
        assert!(is_token(&token));
        let get = |page: &'static str, reference: &'static str, token: String| {
            let store = store.clone();
            async move { store.get(page, reference, &token).await.unwrap() }
        };
        assert_eq!(
            get("/outbound", "SO-1", token.clone()).await.as_deref(),
            Some("{}")
        );
        assert_eq!(
            get("/outbound", "SO-1", token.clone()).await.as_deref(),
            Some("{}"),
            "reading again (a reload) still finds it"
        );
        assert_eq!(get("/inbound", "SO-1", token.clone()).await, None);
        assert_eq!(get("/outbound", "SO-2", token.clone()).await, None);
        assert_eq!(get("/outbound", "SO-1", "0".repeat(32)).await, None);
        assert_eq!(get("/outbound", "SO-1", "not a token".into()).await, None);
    }

    #[tokio::test]
    async fn a_result_kept_once_is_gone_after_its_first_read() {
        let store = FlashStore::new(memory_db().await, at(0));
        let token = store
            .put_once("/admin/tokens", "", "secret".into())
            .await
            .unwrap();
        assert_eq!(
            store.get("/admin/tokens", "x", &token).await.unwrap(),
            None,
            "wrong ref"
        );
        assert_eq!(
            store
                .get("/admin/tokens", "", &token)
                .await
                .unwrap()
                .as_deref(),
            Some("secret")
        );
        assert_eq!(store.get("/admin/tokens", "", &token).await.unwrap(), None);
        assert_eq!(store.count().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn the_database_holds_neither_the_token_nor_the_result() {
        let db = memory_db().await;
        let store = FlashStore::new(db.clone(), at(0));
        let secret = "depot_a-new-token's-secret";
        let token = store
            .put_once(
                "/admin/tokens",
                "new",
                format!("{{\"secret\":\"{secret}\"}}"),
            )
            .await
            .unwrap();
        let keys: Vec<String> = with_pool!(&db, |pool, _backend| sqlx::query_scalar(
            "SELECT token_digest FROM form_results"
        )
        .fetch_all(pool)
        .await
        .unwrap());
        assert_eq!(keys, [digest(&token)]);
        let body = &stored_bodies(&db).await[0];
        let text = String::from_utf8_lossy(body);
        assert!(!text.contains(secret) && !text.contains("secret"), "{text}");
        // A body altered in the database is not shown.
        let mut altered = body.clone();
        altered[0] ^= 1;
        with_pool!(&db, |pool, _backend| sqlx::query(
            "UPDATE form_results SET body = $1"
        )
        .bind(altered)
        .execute(pool)
        .await
        .map(drop)
        .unwrap());
        assert_eq!(
            store.get("/admin/tokens", "new", &token).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn tokens_differ() {
        let store = FlashStore::new(memory_db().await, at(0));
        let a = store.put("/items", "", "1".into()).await.unwrap();
        let b = store.put("/items", "", "1".into()).await.unwrap();
        assert_ne!(a, b);
        let bodies = stored_bodies(&store.db).await;
        assert_ne!(bodies[0], bodies[1], "one key per result");
    }

    #[tokio::test]
    async fn results_expire_and_writes_delete_a_few_expired_at_a_time() {
        let db = memory_db().await;
        let early = FlashStore::new(db.clone(), at(0));
        let mut tokens = Vec::new();
        for i in 0..SWEEP + 6 {
            tokens.push(early.put("/items", "", i.to_string()).await.unwrap());
        }
        let later = |seconds: i64| FlashStore::new(db.clone(), at(seconds));
        let ttl = TTL.as_secs() as i64;
        assert_eq!(
            later(ttl - 1)
                .get("/items", "", &tokens[0])
                .await
                .unwrap()
                .as_deref(),
            Some("0"),
            "within the TTL"
        );
        assert_eq!(
            later(ttl).get("/items", "", &tokens[0]).await.unwrap(),
            None,
            "expired at the TTL"
        );
        // Reads delete nothing; each write deletes up to SWEEP expired rows.
        assert_eq!(early.count().await.unwrap(), SWEEP + 6);
        let fresh = later(ttl).put("/items", "", "new".into()).await.unwrap();
        assert_eq!(early.count().await.unwrap(), 7);
        later(ttl).put("/items", "", "newer".into()).await.unwrap();
        assert_eq!(early.count().await.unwrap(), 2);
        assert_eq!(
            later(ttl)
                .get("/items", "", &fresh)
                .await
                .unwrap()
                .as_deref(),
            Some("new")
        );

        let none = FlashStore::with_ttl(db.clone(), at(0), Duration::ZERO);
        let token = none.put("/items", "", "1".into()).await.unwrap();
        assert_eq!(none.get("/items", "", &token).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_result_too_large_is_not_kept() {
        let store = FlashStore::new(memory_db().await, at(0));
        assert_eq!(store.put("/items", "", "x".repeat(MAX_BYTES)).await, None);
        assert_eq!(store.count().await.unwrap(), 0);
    }
}
