//! Failed sign-ins per username (SPEC §7): [`MAX_FAILURES`] within [`WINDOW`] hold the name's
//! next sign-in off (429 with `Retry-After`) until the first of them leaves the window; signing
//! in forgets the name's failures.
//!
//! Failures are rows of `sign_in_failures` (migration 0014), at the moment of the server's clock
//! (`DEPOT_CLOCK`), so every Depot process on the database counts the same failures and a
//! restart forgets none. Each failure also deletes a few rows older than the window ([`SWEEP`]),
//! so the table holds about one window of failures. A name no user can have (longer than 64
//! characters, a control character: [`parse_username`] refuses it) never signs in, so its
//! failures are not kept: a flood of huge names cannot fill the table.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::auth::service::parse_username;
use crate::db::Db;
use crate::error::AppError;
use crate::with_pool;

/// Failed sign-ins allowed per username within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The window failed sign-ins are counted in.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// At most this many failures older than the window are deleted by each new one.
pub const SWEEP: i64 = 64;

const WINDOW_SECONDS: i64 = WINDOW.as_secs() as i64;

/// Recent failed sign-ins, in the database.
#[derive(Debug, Clone)]
pub struct Throttle {
    db: Db,
}

impl Throttle {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Seconds until `username` may try again, if it has failed too often.
    pub async fn wait(&self, username: &str, now: DateTime<Utc>) -> Result<Option<u64>, AppError> {
        if !counted(username) {
            return Ok(None);
        }
        let now = now.timestamp();
        // The latest MAX_FAILURES failures in the window, newest first.
        let recent: Vec<i64> = with_pool!(&self.db, |pool, _backend| sqlx::query_scalar(
            "SELECT failed_at FROM sign_in_failures WHERE username = $1 AND failed_at > $2 \
             ORDER BY failed_at DESC LIMIT $3"
        )
        .bind(username)
        .bind(now - WINDOW_SECONDS)
        .bind(MAX_FAILURES as i64)
        .fetch_all(pool)
        .await)?;
        if recent.len() < MAX_FAILURES {
            return Ok(None);
        }
        // The oldest of them leaving the window lets the name try once more.
        let oldest = recent[MAX_FAILURES - 1];
        let wait = WINDOW_SECONDS - (now - oldest);
        Ok(Some(u64::try_from(wait).unwrap_or(0).max(1)))
    }

    /// Records a failed sign-in of `username` at `now`.
    pub async fn failed(&self, username: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        if !counted(username) {
            return Ok(());
        }
        let now = now.timestamp();
        with_pool!(&self.db, |pool, _backend| {
            // Bounded: failures past the window go a few at a time, oldest first.
            sqlx::query(
                "DELETE FROM sign_in_failures WHERE id IN (SELECT id FROM sign_in_failures \
                 WHERE failed_at <= $1 ORDER BY failed_at LIMIT $2)",
            )
            .bind(now - WINDOW_SECONDS)
            .bind(SWEEP)
            .execute(pool)
            .await?;
            sqlx::query("INSERT INTO sign_in_failures (username, failed_at) VALUES ($1, $2)")
                .bind(username)
                .bind(now)
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(())
    }

    /// Forgets `username`'s failures: it signed in.
    pub async fn succeeded(&self, username: &str) -> Result<(), AppError> {
        if !counted(username) {
            return Ok(());
        }
        with_pool!(&self.db, |pool, _backend| sqlx::query(
            "DELETE FROM sign_in_failures WHERE username = $1"
        )
        .bind(username)
        .execute(pool)
        .await
        .map(drop))?;
        Ok(())
    }
}

/// Whether `username` is a name a user can have, so its failures count.
fn counted(username: &str) -> bool {
    parse_username("username", username).is_ok_and(|name| name == username)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::memory_db;

    fn at(seconds: u64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::from_secs(seconds)
    }

    async fn rows(db: &Db) -> i64 {
        with_pool!(db, |pool, _backend| sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_in_failures"
        )
        .fetch_one(pool)
        .await
        .unwrap())
    }

    #[tokio::test]
    async fn five_failures_in_fifteen_minutes_wait_until_the_first_leaves_the_window() {
        let throttle = Throttle::new(memory_db().await);
        for n in 0..4 {
            throttle.failed("ana", at(n)).await.unwrap();
            assert_eq!(throttle.wait("ana", at(n)).await.unwrap(), None);
        }
        throttle.failed("ana", at(10)).await.unwrap();
        let wait = throttle.wait("ana", at(10)).await.unwrap().unwrap();
        assert_eq!(wait, 15 * 60 - 10);
        assert_eq!(
            throttle.wait("ana", at(15 * 60 - 1)).await.unwrap(),
            Some(1)
        );
        assert_eq!(
            throttle.wait("bob", at(10)).await.unwrap(),
            None,
            "per username"
        );
        // The first left the window: four remain.
        assert_eq!(throttle.wait("ana", at(15 * 60)).await.unwrap(), None);
        throttle.succeeded("ana").await.unwrap();
        assert_eq!(throttle.wait("ana", at(11)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn failures_past_the_window_are_deleted_a_few_at_a_time() {
        let db = memory_db().await;
        let throttle = Throttle::new(db.clone());
        for n in 0..SWEEP + 3 {
            throttle
                .failed(&format!("made-up-{n}"), at(0))
                .await
                .unwrap();
        }
        assert_eq!(rows(&db).await, SWEEP + 3);
        let later = at(WINDOW.as_secs());
        throttle.failed("ana", later).await.unwrap();
        assert_eq!(rows(&db).await, 3 + 1);
        throttle.failed("ana", later).await.unwrap();
        assert_eq!(rows(&db).await, 2);

        // Names no user can have are not kept (a NUL is more than PostgreSQL stores).
        for name in ["a".repeat(65), "ana\u{0}".to_string(), String::new()] {
            for _ in 0..MAX_FAILURES {
                throttle.failed(&name, later).await.unwrap();
            }
            assert_eq!(throttle.wait(&name, later).await.unwrap(), None);
        }
        assert_eq!(rows(&db).await, 2);
    }
}
