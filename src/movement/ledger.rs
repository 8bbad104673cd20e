//! The ledger: appending a movement's entries with their batch detail — copied, so an entry says
//! forever what it said when written — and reading back what entries recorded, for replays.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

use crate::db::{Backend, Tx};
use crate::error::AppError;
use crate::movement::{BatchQty, ROWS_PER_STATEMENT};
use crate::with_tx;

/// Why stock moved (SPEC §1): the ledger's reason, one of the codes in the `ledger_reasons`
/// table (each movement kind names its own; Depot adds the reasons of the kinds it knows when
/// it starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason(pub &'static str);

impl Reason {
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// What one ledger entry moved of one batch, as the batch was at that moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDetail {
    pub batch_id: i64,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    /// Signed like the entry's delta.
    pub delta: i64,
}

/// One ledger entry to append, with its batch detail.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub stock_id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub delta: i64,
    pub after_qty: i64,
    pub ref_line: u32,
    pub batches: Vec<BatchDetail>,
    /// Why, for an adjustment (SPEC §9): its reason code and note.
    pub why: Option<Why>,
}

/// Why an adjustment changed stock: one of the reason codes of SPEC §9, and a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub reason_code: &'static str,
    pub note: Option<String>,
}

/// What one recorded ledger entry says: the stock after it and the batches it moved (qty as a
/// positive amount, earliest expiry first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The entry's change (signed).
    pub delta: i64,
    pub after_qty: i64,
    pub batches: Vec<BatchQty>,
}

/// Base of the advisory lock keys by which PostgreSQL transactions writing the ledger announce
/// themselves to the change feed: the key is this plus a bound below every entry id the
/// transaction will take (`2^62 + bound`, so `pg_locks.classid` is `2^30 + bound >> 32`).
pub const WRITER_KEY_BASE: i64 = 1 << 62;

/// Announces, for the change feed, that this PostgreSQL transaction is about to take ledger
/// entry ids: a shared transaction-level advisory lock whose key carries the sequence's value
/// now, below every id the transaction takes from here on. The feed answers only below the
/// smallest such bound of the transactions still open (`events::service`), so an entry never
/// shows before a smaller id is final — and a transaction that writes no ledger (another
/// database's, another table's, one idle for an hour) holds nothing back. Shared: writers never
/// wait on each other; the lock ends with the transaction, or with its connection. (SQLite has
/// one writer at a time, its entries visible in id order: nothing to announce.)
///
/// It is the one-time filter of the ledger's first `INSERT … SELECT * FROM (VALUES …) AS v`,
/// not a statement of its own: PostgreSQL evaluates a one-time filter before its plan produces
/// a row, so before the first `nextval` of the entries' ids.
fn announce_writer<'a, DB: sqlx::Database>(query: &mut QueryBuilder<'a, DB>)
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    query.push(" WHERE (SELECT pg_advisory_xact_lock_shared(");
    query.push_bind(WRITER_KEY_BASE);
    query.push(
        " + (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM stock_ledger_id_seq))::text) \
         IS NOT NULL",
    );
}

/// What one request's entries share: its ref, reason, time and who asked.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub r#ref: &'a str,
    pub reason: Reason,
    pub occurred_at: DateTime<Utc>,
    pub actor: Option<&'a str>,
}

/// Appends to `query` the insert of `entries` into the ledger, in order, answering
/// `id, stock_id, ref_line`; with `announce` (PostgreSQL, a transaction's first entries) it
/// announces the writer ([`announce_writer`]).
pub fn push_entries<'q, DB: sqlx::Database>(
    query: &mut QueryBuilder<'q, DB>,
    stamp: Stamp<'q>,
    entries: &'q [LedgerEntry],
    announce: bool,
) where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query.push(
        "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, occurred_at, reason, ref, ref_line, actor, reason_code, note) ",
    );
    if announce {
        query.push("SELECT * FROM (");
    }
    query.push_values(entries, |mut row, e| {
        row.push_bind(e.stock_id)
            .push_bind(e.item_id)
            .push_bind(e.location_id)
            .push_bind(e.delta)
            .push_bind(e.after_qty)
            .push_bind(stamp.occurred_at)
            .push_bind(stamp.reason.as_str())
            .push_bind(stamp.r#ref)
            .push_bind(e.ref_line as i32)
            .push_bind(stamp.actor)
            .push_bind(e.why.as_ref().map(|w| w.reason_code))
            .push_bind(e.why.as_ref().and_then(|w| w.note.clone()));
    });
    if announce {
        query.push(") AS v");
        announce_writer(query);
    }
    query.push(" RETURNING id, stock_id, ref_line");
}

/// Each entry's place among the entries of its (stock, ref_line): 1 for the first. Entries
/// sharing a (stock, ref_line) (an order line shipped from several batches of one location)
/// take their ids in the order they were inserted, so this and the id order agree.
pub fn places(entries: &[LedgerEntry]) -> Vec<i64> {
    let mut seen: HashMap<(i64, u32), i64> = HashMap::new();
    entries
        .iter()
        .map(|e| {
            let n = seen.entry((e.stock_id, e.ref_line)).or_default();
            *n += 1;
            *n
        })
        .collect()
}

/// The ids of `entries`, in order, from the `id, stock_id, ref_line` rows their insert
/// returned (in any order).
pub fn ids_in_order(
    entries: &[LedgerEntry],
    rows: Vec<(i64, i64, i32)>,
) -> Result<Vec<i64>, AppError> {
    let mut by_key: HashMap<(i64, i32), std::collections::VecDeque<i64>> = HashMap::new();
    for (id, stock, line) in rows {
        by_key.entry((stock, line)).or_default().push_back(id);
    }
    for ids_of_key in by_key.values_mut() {
        ids_of_key.make_contiguous().sort_unstable();
    }
    entries
        .iter()
        .map(|entry| {
            by_key
                .get_mut(&(entry.stock_id, entry.ref_line as i32))
                .and_then(|ids_of_key| ids_of_key.pop_front())
                .ok_or_else(|| {
                    AppError::internal(&std::io::Error::other("ledger insert returned no row"))
                })
        })
        .collect()
}

/// Appends the entries of one request (same ref, reason and time), in order — so each stock's
/// entries chain by id — with their batch detail; returns their ids, in order.
pub async fn append_ledger(
    tx: &mut Tx,
    stamp: Stamp<'_>,
    entries: &[LedgerEntry],
) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::with_capacity(entries.len());
    for (n, chunk) in entries.chunks(ROWS_PER_STATEMENT).enumerate() {
        let rows: Vec<(i64, i64, i32)> = with_tx!(tx, |conn, backend| {
            let mut query = QueryBuilder::new("");
            // The first statement on PostgreSQL announces the writer.
            push_entries(
                &mut query,
                stamp,
                chunk,
                backend == Backend::Postgres && n == 0,
            );
            query
                .build_query_as::<(i64, i64, i32)>()
                .fetch_all(&mut *conn)
                .await?
        });
        ids.extend(ids_in_order(chunk, rows)?);
    }
    let detail: Vec<(i64, &BatchDetail)> = entries
        .iter()
        .zip(&ids)
        .flat_map(|(entry, id)| entry.batches.iter().map(move |batch| (*id, batch)))
        .collect();
    for chunk in detail.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "INSERT INTO ledger_batches (ledger_id, batch_id, delta, batch_code, expiry_date, production_date) ",
            );
            query.push_values(chunk, |mut row, (ledger, batch)| {
                row.push_bind(*ledger)
                    .push_bind(batch.batch_id)
                    .push_bind(batch.delta)
                    .push_bind(batch.batch_code.as_str())
                    .push_bind(batch.expiry_date)
                    .push_bind(batch.production_date);
            });
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(ids)
}

/// Appends to a PostgreSQL `WITH` the batch detail of `entries` (whose insert is the common
/// table `e`, numbered by [`places`] in the common table `n`): `d AS (INSERT …)`.
pub fn push_detail<'q>(
    query: &mut QueryBuilder<'q, sqlx::Postgres>,
    entries: &'q [LedgerEntry],
    places: &[i64],
) {
    let detail: Vec<(&LedgerEntry, i64, &BatchDetail)> = entries
        .iter()
        .zip(places)
        .flat_map(|(entry, place)| entry.batches.iter().map(move |b| (entry, *place, b)))
        .collect();
    if detail.is_empty() {
        return;
    }
    query.push(
        "d AS (INSERT INTO ledger_batches (ledger_id, batch_id, delta, batch_code, expiry_date, production_date) \
         SELECT n.id, v.column4, v.column5, v.column6, v.column7, v.column8 FROM (",
    );
    query.push_values(detail, |mut row, (entry, place, batch)| {
        row.push_bind(entry.stock_id)
            .push_bind(entry.ref_line as i32)
            .push_bind(place)
            .push_bind(batch.batch_id)
            .push_bind(batch.delta)
            .push_bind(batch.batch_code.as_str())
            .push_bind(batch.expiry_date)
            .push_bind(batch.production_date);
    });
    query.push(
        ") AS v JOIN n ON n.stock_id = v.column1 AND n.ref_line = v.column2 AND n.place = v.column3), ",
    );
}

/// The common table numbering a PostgreSQL statement's inserted entries (`e`) by their place
/// within their (stock, ref_line), as [`places`] does.
pub const NUMBERED: &str = "n AS (SELECT id, stock_id, ref_line, \
     row_number() OVER (PARTITION BY stock_id, ref_line ORDER BY id) AS place FROM e), ";

/// The batch detail of ledger entries as recorded (never the batches' present state), per entry
/// in FEFO order.
pub const DETAIL_SQL: &str =
    "SELECT ledger_id, batch_code, expiry_date, delta FROM ledger_batches WHERE ledger_id IN (";
/// How [`DETAIL_SQL`] orders each entry's batches.
pub const DETAIL_ORDER: &str = ") ORDER BY ledger_id, expiry_date IS NULL, expiry_date, batch_id";

/// What ledger entries recorded, to answer a replay with the original result.
pub async fn recorded(
    tx: &mut Tx,
    ledger_ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, Recorded>, AppError> {
    let ids: Vec<i64> = ledger_ids.iter().copied().collect();
    let mut outcomes: HashMap<i64, Recorded> = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let (entries, details) = with_tx!(tx, |conn, _backend| {
            let mut query =
                QueryBuilder::new("SELECT id, delta, after_qty FROM stock_ledger WHERE id IN (");
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            let entries: Vec<(i64, i64, i64)> =
                query.build_query_as().fetch_all(&mut *conn).await?;
            let mut query = QueryBuilder::new(DETAIL_SQL);
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(DETAIL_ORDER);
            let details: Vec<(i64, String, Option<NaiveDate>, i64)> =
                query.build_query_as().fetch_all(&mut *conn).await?;
            (entries, details)
        });
        for (id, delta, after_qty) in entries {
            outcomes.insert(
                id,
                Recorded {
                    delta,
                    after_qty,
                    batches: Vec::new(),
                },
            );
        }
        for (id, batch_code, expiry_date, delta) in details {
            if let Some(entry) = outcomes.get_mut(&id) {
                entry.batches.push(BatchQty {
                    batch_code,
                    expiry_date,
                    qty: delta.abs(),
                });
            }
        }
    }
    Ok(outcomes)
}
