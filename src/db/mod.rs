//! The storage seam: one [`Db`] that is either SQLite or PostgreSQL, chosen by `DATABASE_URL`.
//!
//! Queries both backends accept are written once inside [`with_pool!`] / [`with_tx!`], which
//! compile the body for each backend's native types (so PostgreSQL keeps `timestamptz` and `date`);
//! where the dialects differ, the body matches on the [`Backend`] it is handed.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::error::AppError;

pub mod failure;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to Depot's database.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool, WriterQueue),
    Postgres(PgPool),
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back. A SQLite write
/// transaction holds this process's turn to write ([`WriterQueue`]) until it ends.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>, Option<WriterTurn>),
    Postgres(Transaction<'static, Postgres>),
}

/// The queue of this process's SQLite writers. SQLite lets one transaction write at a time;
/// without a queue every writer past the first waits in SQLite's busy handler, which sleeps
/// 1, 2, 5, 10 … 100 ms between looks at the lock, so the lock stands free while they sleep
/// (`make bench`, 8 clients: p99 230 ms against the hand-written statements' 85 ms). Here a
/// writer waits its turn (first come, first served) before `BEGIN IMMEDIATE` and the next one
/// starts the moment a transaction ends. Writers of other processes on the same file still
/// meet in the busy handler, as before.
#[derive(Debug, Clone)]
pub struct WriterQueue {
    turns: std::sync::Arc<tokio::sync::Semaphore>,
    /// How long a writer waits for its turn before the write is answered as unavailable: the
    /// busy timeout, as long as SQLite would have waited for the lock.
    patience: Duration,
}

/// One writer's turn, held by its transaction; dropping it lets the next writer begin.
pub type WriterTurn = tokio::sync::OwnedSemaphorePermit;

impl WriterQueue {
    fn new(patience: Duration) -> Self {
        Self {
            turns: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
            patience,
        }
    }

    /// Waits for this writer's turn; past the patience, the pool's own timeout error
    /// (answered 503, as a pool that has no connection to give).
    async fn turn(&self) -> Result<WriterTurn, sqlx::Error> {
        match tokio::time::timeout(self.patience, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => Ok(turn),
            Ok(Err(_closed)) => Err(sqlx::Error::PoolClosed),
            Err(_elapsed) => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

/// The PostgreSQL pool size unless configured (`DATABASE_MAX_CONNECTIONS`).
///
/// Requests beyond the pool wait for a connection, and that queue costs more than the waiting:
/// `make bench` (2 cores) ships 1 075 orders/s from 32 clients against 1 269 from 8 with 4
/// connections, 1 451 against 1 492 with 10, and 1 539-1 635 against ~1 460 with 16-32. Twenty
/// keeps a busy floor's concurrent requests off the queue, far below PostgreSQL's default
/// limit of 100 connections.
pub const POSTGRES_MAX_CONNECTIONS: u32 = 20;

/// The SQLite pool size unless configured. SQLite runs one writer at a time whatever the pool:
/// more connections only queue more writers on its lock (p99 at 32 clients 197 ms with 10,
/// 440 ms with 20) and hold more page caches.
pub const SQLITE_MAX_CONNECTIONS: u32 = 10;

/// How a pool is sized and how long a request may wait for a connection.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// `None`: [`POSTGRES_MAX_CONNECTIONS`] or [`SQLITE_MAX_CONNECTIONS`].
    pub max_connections: Option<u32>,
    pub acquire_timeout: Duration,
    /// SQLite only: how long a statement waits for another connection's lock before failing as
    /// busy (then [`Db::write`] retries the whole transaction). Tests shorten it.
    pub sqlite_busy_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(3),
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }
}

/// For unit tests: a migrated SQLite database in memory (one connection: each would have its
/// own database).
#[cfg(test)]
pub async fn memory_db() -> Db {
    let settings = PoolSettings {
        max_connections: Some(1),
        ..PoolSettings::default()
    };
    let db = Db::connect("sqlite::memory:", &settings).await.unwrap();
    db.migrate_schema().await.unwrap();
    db
}

/// Runs `$body` with `$pool` bound to the backend's typed pool and `$backend` to its [`Backend`].
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident, $backend:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, _) => {
                #[allow(unused_variables)]
                let $backend = $crate::db::Backend::Sqlite;
                $body
            }
            $crate::db::Db::Postgres($pool) => {
                #[allow(unused_variables)]
                let $backend = $crate::db::Backend::Postgres;
                $body
            }
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's typed connection and `$backend` to its
/// [`Backend`].
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, |$conn:ident, $backend:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(tx, _) => {
                #[allow(unused_variables)]
                let $backend = $crate::db::Backend::Sqlite;
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Tx::Postgres(tx) => {
                #[allow(unused_variables)]
                let $backend = $crate::db::Backend::Postgres;
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

impl Db {
    /// Opens a pool for `url`, creating the database when it does not exist yet (a SQLite file,
    /// or a PostgreSQL database on a server that lets us).
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if !Postgres::database_exists(url).await? {
                Postgres::create_database(url).await?;
                tracing::info!("created PostgreSQL database");
            }
            let options = PgConnectOptions::from_str(url)?
                .application_name("depot")
                // Random reads cost about what sequential ones do on the SSDs a warehouse
                // server has; at PostgreSQL's default of 4 (spinning disks) a search reads all
                // 100 000 items rather than the few thousand its trigram index finds (27 ms
                // against 15 in `make bench`).
                .options([("random_page_cost", "1.1")]);
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections.unwrap_or(POSTGRES_MAX_CONNECTIONS))
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an OK response means the change survives a power cut too (SPEC §2.5).
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(settings.sqlite_busy_timeout);
            if let Some(dir) = options.get_filename().parent() {
                if !dir.as_os_str().is_empty() && !dir.exists() {
                    std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections.unwrap_or(SQLITE_MAX_CONNECTIONS))
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(
                pool,
                WriterQueue::new(settings.sqlite_busy_timeout),
            ))
        } else {
            Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the pending SQL migrations of this backend; a no-op when there are none. What SQL
    /// cannot compute is filled by [`crate::search::migrate`], which runs this first: call that.
    pub async fn migrate_schema(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool, _) => SQLITE_MIGRATOR.run(pool).await,
            Db::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await,
        }
    }

    /// Applies this backend's migrations up to `version` only, as a database last migrated
    /// by an older Depot would be: for tests of a later migration over rows written before it.
    pub async fn migrate_schema_until(
        &self,
        version: i64,
    ) -> Result<(), sqlx::migrate::MigrateError> {
        let until = |all: &Migrator| Migrator {
            migrations: all
                .migrations
                .iter()
                .filter(|m| m.version <= version)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ignore_missing: all.ignore_missing,
            locking: all.locking,
            no_tx: all.no_tx,
        };
        match self {
            Db::Sqlite(pool, _) => until(&SQLITE_MIGRATOR).run(pool).await,
            Db::Postgres(pool) => until(&POSTGRES_MIGRATOR).run(pool).await,
        }
    }

    /// Answers whether the database responds to a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_pool!(self, |pool, _backend| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue instead of failing on lock upgrade; on
    /// PostgreSQL writers lock the rows they touch (`SELECT … FOR UPDATE`).
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool, writers) => {
                let turn = writers.turn().await?;
                Tx::Sqlite(
                    begin_whole(pool, Some("BEGIN IMMEDIATE")).await?,
                    Some(turn),
                )
            }
            Db::Postgres(pool) => Tx::Postgres(begin_whole(pool, None).await?),
        })
    }

    /// Starts a read-only transaction whose statements all see one snapshot, so a page's
    /// several queries agree with each other (SQLite in WAL mode: a deferred transaction's
    /// reads share the snapshot its first read takes).
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool, _) => Tx::Sqlite(begin_whole(pool, None).await?, None),
            Db::Postgres(pool) => Tx::Postgres(
                begin_whole(
                    pool,
                    Some("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
                )
                .await?,
            ),
        })
    }

    /// Closes every connection; later queries fail as unavailable.
    pub async fn close(&self) {
        with_pool!(self, |pool, _backend| pool.close().await)
    }
}

/// Wakes whoever waits for what a write may have changed (the change feed's long polls,
/// [`crate::events`]) after each [`Db::write`] of this process commits.
pub fn commits() -> &'static tokio::sync::Notify {
    static COMMITS: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();
    COMMITS.get_or_init(tokio::sync::Notify::new)
}

/// Begins a transaction (with `statement`, else the default `BEGIN`) in a task of its own, so a
/// request dropped meanwhile (a browser navigating away, a timeout) cannot leave it half-begun.
/// sqlx 0.8.6 hands such a connection back to the pool inside the open transaction (its guard
/// only rolls back a transaction it has counted, and it counts it after `BEGIN` is answered);
/// the next transaction on that connection then begins inside it — after an abandoned read, a
/// movement failed with "cannot execute INSERT in a read-only transaction". In its own task the
/// `BEGIN` completes; if nobody takes the transaction, dropping it rolls it back properly.
async fn begin_whole<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    statement: Option<&'static str>,
) -> Result<Transaction<'static, DB>, sqlx::Error> {
    let pool = pool.clone();
    tokio::spawn(async move {
        match statement {
            Some(statement) => pool.begin_with(statement).await,
            None => pool.begin().await,
        }
    })
    .await
    .map_err(|join| sqlx::Error::Io(std::io::Error::other(join)))?
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, _turn) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// Rolls back now, rather than when the connection is next used (as dropping does), so a
    /// retried transaction does not queue behind its own abandoned attempt.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, _turn) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// A condition the request's first write transaction checks before its work, in that
/// transaction (so it costs a statement, not a connection of its own): a row `statement` finds
/// for `id`, or the write is refused with `refusal`. The access layer sets one for a request
/// whose credentials it took from memory ([`with_write_check`]); once met it is not asked
/// again in that request. Whoever sets one must check it themselves when the request made no
/// write ([`WriteCheck::met`]).
#[derive(Debug)]
pub struct WriteCheck {
    /// Returns one row when the condition holds; `$1` is `id`.
    pub statement: &'static str,
    pub id: i64,
    pub refusal: fn() -> AppError,
    met: std::sync::atomic::AtomicBool,
}

impl WriteCheck {
    pub fn new(statement: &'static str, id: i64, refusal: fn() -> AppError) -> Self {
        Self {
            statement,
            id,
            refusal,
            met: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether a write transaction of the request checked it (and found it met).
    pub fn met(&self) -> bool {
        self.met.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn check(&self, tx: &mut Tx) -> Result<(), AppError> {
        if self.met() {
            return Ok(());
        }
        let found: Option<i32> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(self.statement)
            .bind(self.id)
            .fetch_optional(&mut *conn)
            .await)?;
        if found.is_none() {
            return Err((self.refusal)());
        }
        self.met.store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

tokio::task_local! {
    static WRITE_CHECK: std::sync::Arc<WriteCheck>;
}

/// Runs `work` (a request's handling, in this task) with `check` asked by every
/// [`Db::write`] it makes, before its work.
pub async fn with_write_check<F: Future>(check: std::sync::Arc<WriteCheck>, work: F) -> F::Output {
    WRITE_CHECK.scope(check, work).await
}

/// The future one attempt of a [`Db::write`] returns: it borrows the transaction and the input
/// for `'t` and stays `Send`, so handlers that await it do too.
pub type WriteFuture<'t, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 't>>;

/// How many times [`Db::write`] runs a transaction that keeps meeting contention before it
/// answers 503.
pub const WRITE_ATTEMPTS: u32 = 4;

/// The pause before the second attempt; it doubles for each later one, plus up to as much again
/// of jitter so that writers that collided do not collide again in step.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);

impl Db {
    /// Runs `work` in a write transaction ([`Db::begin_write`]) and commits it. When beginning,
    /// the work or the commit meets contention (SQLite busy or locked, a PostgreSQL
    /// serialization failure or deadlock: [`AppError::is_retryable`]), the attempt is rolled back
    /// and the whole transaction runs again, at most [`WRITE_ATTEMPTS`] times in all, then the
    /// answer is 503 `UNAVAILABLE` (with `Retry-After`). Any other error is returned as is.
    ///
    /// `work` may run several times, so it must not have effects outside the transaction; it is
    /// handed `input` with each attempt's transaction (a closure returning a boxed future cannot
    /// otherwise borrow from its caller for as long as the transaction), e.g.
    /// `db.write(&request, |tx, request| Box::pin(pipeline::apply(tx, request, at)))`.
    pub async fn write<A, T>(
        &self,
        input: &A,
        mut work: impl for<'t> FnMut(&'t mut Tx, &'t A) -> WriteFuture<'t, T>,
    ) -> Result<T, AppError>
    where
        A: ?Sized + Sync,
    {
        let mut attempt = 1;
        loop {
            match self.write_once(input, &mut work).await {
                Err(error) if error.is_retryable() => {
                    if attempt == WRITE_ATTEMPTS {
                        tracing::warn!(attempts = attempt, "write contended past the retry budget");
                        return Err(AppError::unavailable());
                    }
                    let pause = backoff(attempt);
                    tracing::debug!(attempt, ?pause, "write contended, retrying");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    async fn write_once<A, T>(
        &self,
        input: &A,
        work: &mut impl for<'t> FnMut(&'t mut Tx, &'t A) -> WriteFuture<'t, T>,
    ) -> Result<T, AppError>
    where
        A: ?Sized + Sync,
    {
        let mut tx = self.begin_write().await?;
        let checked = match WRITE_CHECK.try_with(std::sync::Arc::clone) {
            Ok(check) => check.check(&mut tx).await,
            Err(_) => Ok(()),
        };
        let done = match checked {
            Ok(()) => work(&mut tx, input).await,
            Err(refused) => Err(refused),
        };
        match done {
            Ok(value) => {
                tx.commit().await?;
                commits().notify_waiters();
                Ok(value)
            }
            Err(error) => {
                if let Err(cause) = tx.rollback().await {
                    tracing::debug!(cause = %crate::error::error_chain(&cause), "rollback failed");
                }
                Err(error)
            }
        }
    }
}

/// The pause after failed attempt `attempt` (1-based): `FIRST_BACKOFF · 2^(attempt-1)` plus a
/// random part of up to as much again.
fn backoff(attempt: u32) -> Duration {
    let base = FIRST_BACKOFF * 2u32.pow(attempt.saturating_sub(1).min(10));
    // A randomly keyed hasher is a good enough source of jitter without another dependency.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    base + base.mul_f64((random % 1024) as f64 / 1024.0)
}

/// What a failed database call means, the same way on both backends: the one classification
/// [`AppError`]'s `From<sqlx::Error>` and the write retry rely on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbFailure {
    /// The database cannot be reached or cannot take work now (connection lost, shutting down,
    /// out of connections or disk): 503, the client may retry later.
    Unavailable,
    /// Another transaction is in the way (SQLite busy or locked past the busy timeout,
    /// PostgreSQL serialization failure, deadlock or lock timeout): running the whole
    /// transaction again may succeed, so [`Db::write`] does.
    Contention,
    /// A rule of the schema refused the change; it maps by name to a domain error.
    Constraint(Violation),
    /// Text the database cannot store (PostgreSQL refuses a NUL character in any text): the
    /// request's, as parsers refuse control characters in every field they know of.
    BadText,
    /// Anything else: a bug, or a statement the database could not run.
    Other,
}

/// A refused change: which kind of rule, and its name when the database says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub kind: ConstraintKind,
    /// The constraint's name (`stocks_qty_non_negative`, or PostgreSQL's `items_sku_key`);
    /// for a SQLite unique or not-null violation the columns it names (`items.sku`); for the
    /// append-only triggers `<table>_append_only`; `None` when the database does not say
    /// (a SQLite foreign key).
    pub name: Option<String>,
}

/// The kinds of schema rule a change can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    /// A unique constraint, unique index or primary key.
    Unique,
    /// A CHECK constraint (and any other integrity rule without a kind of its own).
    Check,
    ForeignKey,
    NotNull,
    /// A PostgreSQL exclusion constraint.
    Exclusion,
    /// A trigger refused the change (the append-only ledger).
    Trigger,
}

/// Classifies `error`; see [`DbFailure`].
pub fn classify(error: &sqlx::Error) -> DbFailure {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => DbFailure::Unavailable,
        sqlx::Error::Database(db) => {
            let backend = if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                Backend::Sqlite
            } else {
                Backend::Postgres
            };
            classify_database_error(
                backend,
                &db.code().unwrap_or_default(),
                db.constraint(),
                db.message(),
            )
        }
        _ => DbFailure::Other,
    }
}

/// Classifies an error the database reported, from its parts: `code` is SQLite's extended result
/// code in decimal or PostgreSQL's SQLSTATE, `constraint` the constraint PostgreSQL names and
/// `message` the primary message (SQLite names the constraint only there).
pub fn classify_database_error(
    backend: Backend,
    code: &str,
    constraint: Option<&str>,
    message: &str,
) -> DbFailure {
    match backend {
        Backend::Sqlite => classify_sqlite(code.parse().unwrap_or(-1), message),
        Backend::Postgres => classify_postgres(code, constraint, message),
    }
}

// SQLite result codes (https://www.sqlite.org/rescode.html); an extended code's low byte is its
// primary code.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_CONSTRAINT: i32 = 19;
const SQLITE_CONSTRAINT_FOREIGNKEY: i32 = 787;
const SQLITE_CONSTRAINT_NOTNULL: i32 = 1299;
const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
const SQLITE_CONSTRAINT_TRIGGER: i32 = 1811;
const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;

fn classify_sqlite(code: i32, message: &str) -> DbFailure {
    match code & 0xff {
        // BUSY (5), BUSY_RECOVERY (261), BUSY_SNAPSHOT (517), BUSY_TIMEOUT (773); LOCKED (6),
        // LOCKED_SHAREDCACHE (262), LOCKED_VTAB (518).
        SQLITE_BUSY | SQLITE_LOCKED => DbFailure::Contention,
        // The file cannot be read, written or opened, or the disk is full.
        SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN => DbFailure::Unavailable,
        SQLITE_CONSTRAINT => {
            let kind = match code {
                SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY => ConstraintKind::Unique,
                SQLITE_CONSTRAINT_FOREIGNKEY => ConstraintKind::ForeignKey,
                SQLITE_CONSTRAINT_NOTNULL => ConstraintKind::NotNull,
                SQLITE_CONSTRAINT_TRIGGER => ConstraintKind::Trigger,
                // CHECK (275), and the rest (a STRICT column's type, …).
                _ => ConstraintKind::Check,
            };
            DbFailure::Constraint(Violation {
                kind,
                name: sqlite_constraint_name(message),
            })
        }
        _ => DbFailure::Other,
    }
}

/// The name in `UNIQUE constraint failed: items.sku`, `CHECK constraint failed: stocks_qty_non_negative`
/// or `UNIQUE constraint failed: index 'uq_putaway_ref_item_from_to_batch'`; for a trigger's
/// message, [`append_only_name`].
fn sqlite_constraint_name(message: &str) -> Option<String> {
    if let Some(name) = append_only_name(message) {
        return Some(name);
    }
    let (_, name) = message.split_once("constraint failed: ")?;
    let name = name.trim();
    let name = name
        .strip_prefix("index '")
        .and_then(|n| n.strip_suffix('\''))
        .unwrap_or(name);
    (!name.is_empty()).then(|| name.to_owned())
}

/// `stock_ledger_append_only` for the append-only triggers' `stock_ledger is append-only`, on
/// both backends (the PostgreSQL trigger's own name).
fn append_only_name(message: &str) -> Option<String> {
    let table = message.trim().strip_suffix(" is append-only")?;
    Some(format!("{table}_append_only"))
}

fn classify_postgres(code: &str, constraint: Option<&str>, message: &str) -> DbFailure {
    let violation = |kind, name: Option<String>| {
        DbFailure::Constraint(Violation {
            kind,
            name: constraint.map(str::to_owned).or(name),
        })
    };
    match code {
        // serialization_failure, deadlock_detected, lock_not_available.
        "40001" | "40P01" | "55P03" => DbFailure::Contention,
        // connection exceptions (class 08), insufficient resources (class 53: disk, memory,
        // too many connections), admin/crash shutdown and cannot-connect-now.
        _ if code.starts_with("08") || code.starts_with("53") => DbFailure::Unavailable,
        "57P01" | "57P02" | "57P03" => DbFailure::Unavailable,
        // character_not_in_repertoire ("invalid byte sequence for encoding UTF8: 0x00", a NUL
        // in a text parameter) and untranslatable_character.
        "22021" | "22P05" => DbFailure::BadText,
        "23505" => violation(ConstraintKind::Unique, None),
        "23514" => violation(ConstraintKind::Check, None),
        "23503" => violation(ConstraintKind::ForeignKey, None),
        "23502" => violation(ConstraintKind::NotNull, postgres_not_null_name(message)),
        "23P01" => violation(ConstraintKind::Exclusion, None),
        // restrict_violation (the append-only triggers) and a trigger's bare RAISE EXCEPTION.
        "23001" | "P0001" => violation(ConstraintKind::Trigger, append_only_name(message)),
        _ if code.starts_with("23") => violation(ConstraintKind::Check, None),
        _ => DbFailure::Other,
    }
}

/// `items.sku` for `null value in column "sku" of relation "items" violates not-null
/// constraint`: the same name SQLite gives.
fn postgres_not_null_name(message: &str) -> Option<String> {
    let mut quoted = message.split('"').skip(1).step_by(2);
    let column = quoted.next()?;
    let table = quoted.next()?;
    Some(format!("{table}.{column}"))
}

/// Whether `error` means the database cannot take this work now (so the client gets 503 and
/// may retry), as opposed to a bug or a refused statement.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        classify(error),
        DbFailure::Unavailable | DbFailure::Contention
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32, message: &str) -> DbFailure {
        classify_database_error(Backend::Sqlite, &code.to_string(), None, message)
    }

    fn postgres(code: &str, constraint: Option<&str>, message: &str) -> DbFailure {
        classify_database_error(Backend::Postgres, code, constraint, message)
    }

    fn violation(kind: ConstraintKind, name: Option<&str>) -> DbFailure {
        DbFailure::Constraint(Violation {
            kind,
            name: name.map(str::to_owned),
        })
    }

    #[test]
    fn text_postgres_cannot_store_is_the_requests_fault() {
        assert_eq!(
            postgres(
                "22021",
                None,
                "invalid byte sequence for encoding \"UTF8\": 0x00"
            ),
            DbFailure::BadText
        );
        assert_eq!(
            postgres("22P05", None, "untranslatable character"),
            DbFailure::BadText
        );
    }

    #[test]
    fn every_sqlite_busy_and_locked_code_is_contention() {
        for code in [5, 261, 517, 773, 6, 262, 518] {
            assert_eq!(
                sqlite(code, "database is locked"),
                DbFailure::Contention,
                "{code}"
            );
        }
    }

    #[test]
    fn sqlite_constraint_codes_name_their_constraint() {
        assert_eq!(
            sqlite(2067, "UNIQUE constraint failed: items.sku"),
            violation(ConstraintKind::Unique, Some("items.sku"))
        );
        assert_eq!(
            sqlite(
                2067,
                "UNIQUE constraint failed: index 'uq_putaway_ref_item_from_to_batch'"
            ),
            violation(
                ConstraintKind::Unique,
                Some("uq_putaway_ref_item_from_to_batch")
            )
        );
        assert_eq!(
            sqlite(1555, "UNIQUE constraint failed: inventory_summary.id"),
            violation(ConstraintKind::Unique, Some("inventory_summary.id"))
        );
        assert_eq!(
            sqlite(275, "CHECK constraint failed: stocks_qty_non_negative"),
            violation(ConstraintKind::Check, Some("stocks_qty_non_negative"))
        );
        assert_eq!(
            sqlite(787, "FOREIGN KEY constraint failed"),
            violation(ConstraintKind::ForeignKey, None)
        );
        assert_eq!(
            sqlite(1299, "NOT NULL constraint failed: items.sku"),
            violation(ConstraintKind::NotNull, Some("items.sku"))
        );
        assert_eq!(
            sqlite(1811, "stock_ledger is append-only"),
            violation(ConstraintKind::Trigger, Some("stock_ledger_append_only"))
        );
        assert_eq!(
            sqlite(3091, "cannot store TEXT value in INTEGER column stocks.qty"),
            violation(ConstraintKind::Check, None)
        );
    }

    #[test]
    fn other_sqlite_codes_are_unavailable_or_other() {
        assert_eq!(
            sqlite(13, "database or disk is full"),
            DbFailure::Unavailable
        );
        assert_eq!(
            sqlite(14, "unable to open database file"),
            DbFailure::Unavailable
        );
        assert_eq!(
            sqlite(10 | (3 << 8), "disk I/O error"),
            DbFailure::Unavailable
        );
        assert_eq!(sqlite(1, "no such table: items"), DbFailure::Other);
        assert_eq!(
            sqlite(11, "database disk image is malformed"),
            DbFailure::Other
        );
    }

    #[test]
    fn postgres_contention_and_unavailability() {
        for code in ["40001", "40P01", "55P03"] {
            assert_eq!(postgres(code, None, ""), DbFailure::Contention, "{code}");
        }
        for code in [
            "08000", "08006", "57P01", "57P02", "57P03", "53300", "53100",
        ] {
            assert_eq!(postgres(code, None, ""), DbFailure::Unavailable, "{code}");
        }
        assert_eq!(
            postgres("42P01", None, "relation does not exist"),
            DbFailure::Other
        );
        assert_eq!(
            postgres("57014", None, "canceling statement"),
            DbFailure::Other
        );
    }

    #[test]
    fn postgres_constraint_codes_carry_the_constraint_name() {
        assert_eq!(
            postgres("23505", Some("items_sku_key"), "duplicate key value"),
            violation(ConstraintKind::Unique, Some("items_sku_key"))
        );
        assert_eq!(
            postgres("23514", Some("stocks_qty_non_negative"), "new row violates"),
            violation(ConstraintKind::Check, Some("stocks_qty_non_negative"))
        );
        assert_eq!(
            postgres(
                "23503",
                Some("ledger_batches_batch_id_fkey"),
                "violates foreign key"
            ),
            violation(
                ConstraintKind::ForeignKey,
                Some("ledger_batches_batch_id_fkey")
            )
        );
        assert_eq!(
            postgres(
                "23502",
                None,
                r#"null value in column "sku" of relation "items" violates not-null constraint"#
            ),
            violation(ConstraintKind::NotNull, Some("items.sku"))
        );
        assert_eq!(
            postgres("23P01", Some("no_overlap"), ""),
            violation(ConstraintKind::Exclusion, Some("no_overlap"))
        );
        assert_eq!(
            postgres("23001", None, "stock_ledger is append-only"),
            violation(ConstraintKind::Trigger, Some("stock_ledger_append_only"))
        );
        assert_eq!(
            postgres("P0001", None, "something else"),
            violation(ConstraintKind::Trigger, None)
        );
        assert_eq!(
            postgres("23000", None, ""),
            violation(ConstraintKind::Check, None)
        );
    }

    #[test]
    fn backoff_grows_and_stays_short() {
        for attempt in 1..WRITE_ATTEMPTS {
            let base = FIRST_BACKOFF * 2u32.pow(attempt - 1);
            let pause = backoff(attempt);
            assert!(pause >= base && pause < base * 2, "{attempt}: {pause:?}");
        }
    }
}
