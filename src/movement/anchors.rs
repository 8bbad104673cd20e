//! Idempotency anchors: one row per applied line, unique on the line's kind, ref and identity,
//! pointing at the ledger entries that carry its original result (SPEC §1). Every movement kind
//! keeps its anchors in the one table `movement_anchors` (migration 0016; the seed's
//! `outbound_commits` is a view of the outbound ones): the identity written as [`LineKey::encode`]
//! says, the content as JSON, the ledger entries as a JSON array of ids.
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
use serde::{Deserialize, Serialize};
use sqlx::query_builder::Separated;
use sqlx::QueryBuilder;

use crate::db::Tx;
use crate::error::{AppError, ErrorCode};
use crate::movement::ROWS_PER_STATEMENT;
use crate::with_tx;

/// A line's identity within its kind and ref.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineKey {
    pub item_id: i64,
    /// At least one.
    pub locations: Vec<i64>,
    /// The lot, for kinds whose batch code is part of the identity.
    pub lot: Option<String>,
}

impl LineKey {
    /// The identity as the anchors' `line_key` keeps it: `<item>@<location>[><location>…]`,
    /// then `#<lot>` for kinds whose lot is part of it (the lot last, so it may hold any
    /// character).
    pub fn encode(&self) -> String {
        let locations: Vec<String> = self.locations.iter().map(i64::to_string).collect();
        let mut key = format!("{}@{}", self.item_id, locations.join(">"));
        if let Some(lot) = &self.lot {
            key.push('#');
            key.push_str(lot);
        }
        key
    }

    /// The identity [`encode`](Self::encode) wrote.
    pub fn decode(key: &str) -> Option<LineKey> {
        let (head, lot) = match key.split_once('#') {
            Some((head, lot)) => (head, Some(lot.to_string())),
            None => (key, None),
        };
        let (item, locations) = head.split_once('@')?;
        Some(LineKey {
            item_id: item.parse().ok()?,
            locations: locations
                .split('>')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?,
            lot,
        })
    }
}

/// What a line says beyond its identity; a replay must say the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    pub qty: i64,
    /// The batch a take names (`None`: FEFO); unused by kinds whose batch is their identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_date: Option<NaiveDate>,
    /// An adjustment's `qty` is the quantity counted (else the change).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counted: bool,
    /// An adjustment's reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// An anchor row that does not read as one: Depot wrote it, so it is Depot's fault.
fn unreadable(kind: &str, r#ref: &str, what: &str) -> AppError {
    AppError::internal(&std::io::Error::other(format!(
        "the {kind} anchor of {ref} has an unreadable {what}"
    )))
}

/// The anchors of `kind` under `ref`, by identity.
pub async fn read(
    tx: &mut Tx,
    kind: &str,
    r#ref: &str,
) -> Result<HashMap<LineKey, Anchor>, AppError> {
    let rows: Vec<(i32, String, String, String)> = with_tx!(tx, |conn, _backend| {
        sqlx::query_as(
            "SELECT ref_line, line_key, content, ledger_ids FROM movement_anchors \
             WHERE kind = $1 AND ref = $2",
        )
        .bind(kind)
        .bind(r#ref)
        .fetch_all(&mut *conn)
        .await?
    });
    let mut anchors = HashMap::with_capacity(rows.len());
    for (ref_line, line_key, content, ledger_ids) in rows {
        let key = LineKey::decode(&line_key).ok_or_else(|| unreadable(kind, r#ref, "line key"))?;
        let anchor = Anchor {
            ref_line: u32::try_from(ref_line).unwrap_or(0),
            key: key.clone(),
            content: serde_json::from_str(&content)
                .map_err(|_| unreadable(kind, r#ref, "content"))?,
            ledger_ids: serde_json::from_str(&ledger_ids)
                .map_err(|_| unreadable(kind, r#ref, "list of ledger entries"))?,
        };
        anchors.insert(key, anchor);
    }
    Ok(anchors)
}

/// Anchors the applied lines of `ref` as `kind`'s.
pub async fn write(
    tx: &mut Tx,
    kind: &str,
    r#ref: &str,
    anchors: &[Anchor],
) -> Result<(), AppError> {
    for chunk in anchors.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new("");
            push_insert(&mut query, kind, r#ref, chunk, |row, a| {
                row.push_bind(ids_json(&chunk[a].ledger_ids));
            });
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}

/// A list of ledger entry ids as the anchors keep it (`[12,13]`).
fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_string())
}

/// Appends to `query` the insert of `anchors` as `kind`'s under `ref`; `ledger(row, a)`
/// appends the value of anchor `a`'s `ledger_ids` (a JSON array of its legs' entry ids).
pub fn push_insert<'q, DB: sqlx::Database>(
    query: &mut QueryBuilder<'q, DB>,
    kind: &'q str,
    r#ref: &'q str,
    anchors: &'q [Anchor],
    mut ledger: impl FnMut(&mut Separated<'_, 'q, DB, &'static str>, usize),
) where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query.push(
        "INSERT INTO movement_anchors \
         (kind, ref, ref_line, line_key, item_id, location_id, content, ledger_ids) ",
    );
    query.push_values(anchors.iter().enumerate(), |mut row, (a, anchor)| {
        let content = serde_json::to_string(&anchor.content).unwrap_or_default();
        row.push_bind(kind)
            .push_bind(r#ref)
            .push_bind(anchor.ref_line as i32)
            .push_bind(anchor.key.encode())
            .push_bind(anchor.key.item_id)
            .push_bind(anchor.key.locations.first().copied().unwrap_or_default())
            .push_bind(content);
        ledger(&mut row, a);
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
