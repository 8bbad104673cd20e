//! Following the ledger: which entries are final, and waiting for the next one without holding
//! a database connection.
//!
//! An entry's id is taken when it is written, not when its transaction commits, so on
//! PostgreSQL a reader can see entry 11 while entry 10 is still being written by a slower
//! transaction; a cursor moved past 11 would never see 10. The feed therefore answers only up
//! to a *horizon*: the ledger sequence's value read at one moment, once every transaction that
//! had begun writing by then has ended (the oldest transaction id still running has passed one
//! taken after the read). Every ledger writer writes or locks stock rows before its ledger
//! entries, so it holds a transaction id before it takes an entry id. On SQLite one writer
//! runs at a time and entries become visible in id order, so everything visible is final.

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

/// How long to wait for the transactions in flight at the horizon's moment to end before
/// answering with what is final so far (nothing newer): a long import holds the feed back
/// only that long per request.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);
const SETTLE_POLL: Duration = Duration::from_millis(2);

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
        Db::Sqlite(pool) => {
            let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM stock_ledger")
                .fetch_one(pool)
                .await?;
            Ok(max.unwrap_or(0))
        }
        Db::Postgres(pool) => {
            // Each statement on whichever connection is free: none is held between polls.
            let (last, called): (i64, bool) =
                sqlx::query_as("SELECT last_value, is_called FROM stock_ledger_id_seq")
                    .fetch_one(pool)
                    .await?;
            let upto = if called { last } else { 0 };
            if upto <= after {
                // Nothing written since: no transaction id needed (an idle poll writes nothing).
                return Ok(upto);
            }
            // A transaction id of our own, taken after that read: every writer that took an
            // entry id up to `upto` had an older one. (A snapshot's xmax would not do: since
            // PostgreSQL 14 it is the latest *completed* id + 1, below ids still running.)
            let mark: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
                .fetch_one(pool)
                .await?;
            let settled_by = Instant::now() + SETTLE_LIMIT;
            loop {
                let settled: bool = sqlx::query_scalar(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8",
                )
                .bind(&mark)
                .fetch_one(pool)
                .await?;
                if settled {
                    return Ok(upto);
                }
                if Instant::now() >= settled_by {
                    // Something long is still writing: nothing past the cursor is known final.
                    tracing::debug!("change feed: transactions still in flight, answering none");
                    return Ok(0);
                }
                tokio::time::sleep(SETTLE_POLL).await;
            }
        }
    }
}
