//! Following the ledger: which entries are final, and waiting for the next one without holding
//! a database connection.
//!
//! An entry's id is taken when it is written, not when its transaction commits, so on
//! PostgreSQL a reader can see entry 11 while entry 10 is still being written by a slower
//! transaction; a cursor moved past 11 would never see 10. The feed therefore answers only up
//! to a *horizon*: the ledger sequence's value, read first, lowered to the smallest bound
//! announced by a ledger writer still open (`movement::ledger::announce_writer`, part of its
//! first insert: each one, before it takes an id, holds an advisory lock whose key carries the sequence's value then,
//! below all its ids). A writer that took an id up to the value read had announced itself
//! before, so it is either still listed in `pg_locks` or ended (and then visible). Nothing else
//! holds the feed back: not a transaction of another database or on other tables, not one idle
//! for an hour; a writer whose connection died has lost its lock. A poll only reads: it takes
//! no transaction id. On SQLite one writer runs at a time and entries become visible in id
//! order, so everything visible is final.

use std::time::Duration;

use tokio::time::Instant;

use crate::db::Db;
use crate::error::AppError;
use crate::events::{EventsPage, EventsQuery};

/// The longest `wait` a request may ask for, in seconds (SPEC §11).
pub const MAX_WAIT_SECONDS: i64 = 30;
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// How often a waiting request looks at the database when no commit of this process woke it:
/// entries written by another process (another server on the same database, the CLI).
const IDLE_POLL: Duration = Duration::from_secs(1);

/// A checked request of the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub after: i64,
    pub limit: i64,
    pub wait: Duration,
}

impl Cursor {
    pub fn parse(query: &EventsQuery) -> Result<Self, AppError> {
        let after = query.after.unwrap_or(0);
        if after < 0 {
            return Err(AppError::validation("after", tr!(errors.value.offset_min)));
        }
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::validation(
                "limit",
                tr!(errors.value.limit_range, max = MAX_LIMIT),
            ));
        }
        let wait = query.wait.unwrap_or(0);
        if !(0..=MAX_WAIT_SECONDS).contains(&wait) {
            return Err(AppError::validation(
                "wait",
                tr!(errors.value.between, min = 0, max = MAX_WAIT_SECONDS),
            ));
        }
        Ok(Self {
            after,
            limit,
            wait: Duration::from_secs(wait as u64),
        })
    }
}

/// The entries after `cursor.after`; when there is none yet and `cursor.wait` is not zero,
/// waits (without a database connection) until a commit of this process or [`IDLE_POLL`]
/// says to look again, at most `cursor.wait`.
pub async fn follow(db: &Db, cursor: &Cursor) -> Result<EventsPage, AppError> {
    let deadline = Instant::now() + cursor.wait;
    loop {
        // Listen before looking, so a commit between the look and the wait is not missed.
        let woken = crate::db::commits().notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let page = read(db, cursor.after, cursor.limit).await?;
        let now = Instant::now();
        if !page.events.is_empty() || now >= deadline {
            return Ok(page);
        }
        let pause = IDLE_POLL.min(deadline - now);
        tokio::select! {
            () = woken => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// The final entries after `after`, at most `limit`, oldest first.
pub async fn read(db: &Db, after: i64, limit: i64) -> Result<EventsPage, AppError> {
    let upto = horizon(db, after).await?;
    if upto <= after {
        return Ok(EventsPage {
            events: Vec::new(),
            next: after,
        });
    }
    let events = crate::ledger::service::entries_after(db, after, upto, limit).await?;
    // A short page ends at the horizon: ids up to it that no entry holds (a rolled-back
    // write) will never hold one, so the next request need not look at them again.
    let next = match events.last() {
        Some(last) if events.len() as i64 == limit => last.id,
        _ => upto,
    };
    Ok(EventsPage { events, next })
}

/// The largest entry id up to which the ledger is final (see the module's comment); at most
/// `after` when no entry was written since.
async fn horizon(db: &Db, after: i64) -> Result<i64, AppError> {
    match db {
        Db::Sqlite(pool, _) => {
            let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM stock_ledger")
                .fetch_one(pool)
                .await?;
            Ok(max.unwrap_or(0))
        }
        Db::Postgres(pool) => {
            // Each statement on whichever connection is free: none is held between polls.
            let upto: i64 = sqlx::query_scalar(
                "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM stock_ledger_id_seq",
            )
            .fetch_one(pool)
            .await?;
            if upto <= after {
                return Ok(upto);
            }
            // Read after the sequence: the writers still open, by the bounds they announced.
            let oldest: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(((classid::bigint - $1) << 32) | objid::bigint) FROM pg_locks \
                 WHERE locktype = 'advisory' AND objsubid = 1 \
                   AND classid::bigint >= $1 AND classid::bigint < $1 + 65536 \
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .bind(crate::movement::ledger::WRITER_KEY_BASE >> 32)
            .fetch_one(pool)
            .await?;
            Ok(oldest.map_or(upto, |bound| bound.min(upto)))
        }
    }
}
