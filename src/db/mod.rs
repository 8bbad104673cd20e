//! The storage seam: one [`Db`] that is either SQLite or PostgreSQL, chosen by `DATABASE_URL`.
//!
//! Queries both backends accept are written once inside [`with_pool!`] / [`with_tx!`], which
//! compile the body for each backend's native types (so PostgreSQL keeps `timestamptz` and `date`);
//! where the dialects differ, the body matches on the [`Backend`] it is handed.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

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
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// How a pool is sized and how long a request may wait for a connection.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// Runs `$body` with `$pool` bound to the backend's typed pool and `$backend` to its [`Backend`].
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident, $backend:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => {
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
            $crate::db::Tx::Sqlite(tx) => {
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
            let options = PgConnectOptions::from_str(url)?.application_name("depot");
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
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
                .busy_timeout(Duration::from_secs(5));
            if let Some(dir) = options.get_filename().parent() {
                if !dir.as_os_str().is_empty() && !dir.exists() {
                    std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the pending migrations of this backend, then fills what SQL cannot compute
    /// (the folded `search_text` of rows older than migration 0004); a no-op when there is
    /// nothing to do.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        crate::search::backfill(self)
            .await
            .map_err(sqlx::migrate::MigrateError::Execute)
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
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Starts a read-only transaction whose statements all see one snapshot, so a page's
    /// several queries agree with each other (SQLite in WAL mode: a deferred transaction's
    /// reads share the snapshot its first read takes).
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?,
            ),
        })
    }

    /// Closes every connection; later queries fail as unavailable.
    pub async fn close(&self) {
        with_pool!(self, |pool, _backend| pool.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

/// Whether `error` means the database cannot be reached or cannot take work right now (so the
/// client gets 503 and may retry), as opposed to a bug or a refused statement.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: connection exceptions (class 08), shutdowns and overload;
            // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6) after the busy timeout.
            code.starts_with("08")
                || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300" | "5" | "6")
        }
        _ => false,
    }
}
