//! Idempotency anchors: one row per applied line, unique on the line's identity, pointing at the
//! ledger entries that carry its original result (SPEC §1). Each movement kind keeps its own
//! table (the seed's `outbound_commits` is the outbound one); [`AnchorTable`] says how a kind's
//! table is laid out, and the reading and writing here serve them all.
//!
//! **The line-identity rule** (README "Retries"): a line is identified by its ref, its item and
//! its location(s), plus — for kinds that put goods into a lot they name (receive) — that batch
//! code (absent = the no-batch lot `""`). Everything else a line says is its content: the qty,
//! and for takes (outbound, putaway) the batch it names or its absence (FEFO); for receipts the
//! lot's dates. A line whose identity was applied before answers `IDEMPOTENT` with the original
//! result when its content is the same, and `409 IDEMPOTENCY_CONFLICT` (nothing written) when it
//! differs — so naming the batch a FEFO line took, or dropping a name, never moves goods twice.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Row};

use crate::db::Tx;
use crate::error::{AppError, ErrorCode};
use crate::movement::ROWS_PER_STATEMENT;
use crate::with_tx;

/// How one movement kind stores its anchors.
#[derive(Debug, Clone, Copy)]
pub struct AnchorTable {
    pub table: &'static str,
    /// The columns of the line's locations, in [`LineKey::locations`] order.
    pub location_columns: &'static [&'static str],
    /// The columns of the ledger entries of the line's legs, in leg order.
    pub ledger_columns: &'static [&'static str],
    /// Whether `batch_code` is part of the identity (the lot goods go into) rather than content.
    pub lot_identity: bool,
    /// Whether the table keeps the lot's expiry and production dates (content).
    pub dates: bool,
    /// Whether the table keeps an adjustment's `counted` flag and reason code (content); its
    /// lines may have changed nothing (a count that found what was there: no ledger entry).
    pub adjust: bool,
}

/// A line's identity within its ref.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineKey {
    pub item_id: i64,
    pub locations: Vec<i64>,
    /// The lot, for kinds whose batch code is part of the identity.
    pub lot: Option<String>,
}

/// What a line says beyond its identity; a replay must say the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    pub qty: i64,
    /// The batch a take names (`None`: FEFO); unused by kinds whose batch is their identity.
    pub batch_code: Option<String>,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    /// An adjustment's `qty` is the quantity counted (else the change).
    pub counted: bool,
    /// An adjustment's reason code.
    pub reason_code: Option<String>,
}

/// An applied line, as anchored.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub ref_line: u32,
    pub key: LineKey,
    pub content: Content,
    /// One ledger entry per leg, in leg order (none for an adjustment that changed nothing).
    pub ledger_ids: Vec<i64>,
}

/// The anchors of `ref` in `table`, by identity.
pub async fn read(
    tx: &mut Tx,
    table: &AnchorTable,
    r#ref: &str,
) -> Result<HashMap<LineKey, Anchor>, AppError> {
    let mut columns = vec!["ref_line", "item_id"];
    columns.extend(table.location_columns);
    columns.extend(["batch_code", "qty"]);
    if table.dates {
        columns.extend(["expiry_date", "production_date"]);
    }
    if table.adjust {
        columns.extend(["counted", "reason_code"]);
    }
    columns.extend(table.ledger_columns);
    let sql = format!(
        "SELECT {} FROM {} WHERE ref = $1",
        columns.join(", "),
        table.table
    );
    let n_locations = table.location_columns.len();
    let anchors: Vec<Anchor> = with_tx!(tx, |conn, _backend| {
        let rows = sqlx::query(&sql).bind(r#ref).fetch_all(&mut *conn).await?;
        let mut anchors = Vec::with_capacity(rows.len());
        for row in rows {
            let mut at = 0;
            let mut next = || {
                at += 1;
                at - 1
            };
            let ref_line: i32 = row.try_get(next())?;
            let item_id: i64 = row.try_get(next())?;
            let mut locations = Vec::with_capacity(n_locations);
            for _ in 0..n_locations {
                locations.push(row.try_get::<i64, _>(next())?);
            }
            let batch_code: Option<String> = row.try_get(next())?;
            let qty: i64 = row.try_get(next())?;
            let (expiry_date, production_date) = if table.dates {
                (
                    row.try_get::<Option<NaiveDate>, _>(next())?,
                    row.try_get::<Option<NaiveDate>, _>(next())?,
                )
            } else {
                (None, None)
            };
            let (counted, reason_code) = if table.adjust {
                (
                    row.try_get::<bool, _>(next())?,
                    row.try_get::<Option<String>, _>(next())?,
                )
            } else {
                (false, None)
            };
            let mut ledger_ids = Vec::with_capacity(table.ledger_columns.len());
            for _ in table.ledger_columns {
                let id: Option<i64> = row.try_get(next())?;
                if id.is_none() && table.adjust {
                    continue;
                }
                ledger_ids.push(id.ok_or_else(|| {
                    AppError::internal(&std::io::Error::other(format!(
                        "{} anchor without its ledger entry",
                        table.table
                    )))
                })?);
            }
            let (lot, batch_code) = if table.lot_identity {
                (Some(batch_code.unwrap_or_default()), None)
            } else {
                (None, batch_code)
            };
            anchors.push(Anchor {
                ref_line: u32::try_from(ref_line).unwrap_or(0),
                key: LineKey {
                    item_id,
                    locations,
                    lot,
                },
                content: Content {
                    qty,
                    batch_code,
                    expiry_date,
                    production_date,
                    counted,
                    reason_code,
                },
                ledger_ids,
            });
        }
        anchors
    });
    Ok(anchors.into_iter().map(|a| (a.key.clone(), a)).collect())
}

/// Anchors the applied lines of `ref`.
pub async fn write(
    tx: &mut Tx,
    table: &AnchorTable,
    r#ref: &str,
    anchors: &[Anchor],
) -> Result<(), AppError> {
    for chunk in anchors.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new("");
            push_insert(&mut query, table, r#ref, chunk, |row, a, n| {
                row.push_bind(chunk[a].ledger_ids.get(n).copied());
            });
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}

/// Appends to `query` the insert of `anchors` into `table`; `ledger(row, a, n)` appends the
/// value of anchor `a`'s ledger column `n` (the id of its `n`th leg's entry).
pub fn push_insert<'q, DB: sqlx::Database>(
    query: &mut QueryBuilder<'q, DB>,
    table: &AnchorTable,
    r#ref: &'q str,
    anchors: &'q [Anchor],
    mut ledger: impl FnMut(&mut Separated<'_, 'q, DB, &'static str>, usize, usize),
) where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<NaiveDate>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut columns = vec!["ref", "ref_line", "item_id"];
    columns.extend(table.location_columns);
    columns.extend(["batch_code", "qty"]);
    if table.dates {
        columns.extend(["expiry_date", "production_date"]);
    }
    if table.adjust {
        columns.extend(["counted", "reason_code"]);
    }
    columns.extend(table.ledger_columns);
    query.push(format_args!(
        "INSERT INTO {} ({}) ",
        table.table,
        columns.join(", ")
    ));
    query.push_values(anchors.iter().enumerate(), |mut row, (a, anchor)| {
        row.push_bind(r#ref)
            .push_bind(anchor.ref_line as i32)
            .push_bind(anchor.key.item_id);
        for location in &anchor.key.locations {
            row.push_bind(*location);
        }
        let batch_code = if table.lot_identity {
            anchor.key.lot.clone()
        } else {
            anchor.content.batch_code.clone()
        };
        row.push_bind(batch_code).push_bind(anchor.content.qty);
        if table.dates {
            row.push_bind(anchor.content.expiry_date)
                .push_bind(anchor.content.production_date);
        }
        if table.adjust {
            row.push_bind(anchor.content.counted)
                .push_bind(anchor.content.reason_code.clone());
        }
        for n in 0..table.ledger_columns.len() {
            ledger(&mut row, a, n);
        }
    });
}

/// The 409 answer to a line whose identity was applied under this ref with other content.
pub fn conflict(r#ref: &str, i: usize, anchored: &Content, sent: &Content) -> AppError {
    let field = format!("lines[{i}]");
    let what = if anchored.counted != sent.counted || anchored.reason_code != sent.reason_code {
        tr!(errors.idempotency.other_adjustment)
    } else if anchored.qty != sent.qty {
        tr!(errors.idempotency.qty, qty = anchored.qty)
    } else if anchored.batch_code != sent.batch_code {
        match &anchored.batch_code {
            Some(code) => tr!(errors.idempotency.batch, code = code),
            None => tr!(errors.idempotency.fefo),
        }
    } else {
        tr!(errors.idempotency.other_dates)
    };
    let applied = tr!(errors.idempotency.applied, reference = r#ref, what = what);
    AppError::new(
        ErrorCode::IdempotencyConflict,
        format!("{field}: {applied}"),
    )
    .with_details(serde_json::json!({ "field": field, "applied_qty": anchored.qty }))
}
