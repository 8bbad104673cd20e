//! Receiving: one transaction per request; per line an anchor, the stock and batch topped up
//! (created as needed) and one `RECEIVE` ledger entry.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::domain::{check_line_count, BatchCode, LocationKind, Qty, Ref};
use crate::error::{AppError, ErrorCode};
use crate::inbound::{ReceiveInput, ReceiveResponse};
use crate::movement::store::{self, LedgerEntry, Lot, Reason};
use crate::movement::{non_blank, ItemKey, LineResult, LineStatus, LocationKey, MovementResponse};
use crate::with_tx;

/// A parsed receive request.
#[derive(Debug, Clone)]
pub struct Receive {
    pub r#ref: Ref,
    pub lines: Vec<ReceiveLine>,
}

#[derive(Debug, Clone)]
pub struct ReceiveLine {
    pub item: ItemKey,
    pub location: LocationKey,
    pub qty: Qty,
    pub batch_code: BatchCode,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
}

impl Receive {
    /// Parses and checks a request against `today` in the warehouse time zone.
    pub fn parse(input: &ReceiveInput, today: NaiveDate) -> Result<Self, AppError> {
        let r#ref = Ref::parse("ref", &input.r#ref)?;
        check_line_count(input.lines.len())?;
        let mut lines = Vec::with_capacity(input.lines.len());
        for (i, line) in input.lines.iter().enumerate() {
            let prefix = format!("lines[{i}]");
            let item = ItemKey::parse(&prefix, line.item_id, non_blank(&line.sku))?;
            let location = LocationKey::parse(
                &format!("{prefix}.location_code"),
                line.location_id,
                non_blank(&line.location_code),
            )?;
            let qty = Qty::parse(&format!("{prefix}.qty"), line.qty)?;
            let batch_code = BatchCode::parse(
                &format!("{prefix}.batch_code"),
                line.batch_code.as_deref().unwrap_or(""),
            )?;
            if let Some(expiry) = line.expiry_date {
                if expiry < today {
                    return Err(AppError::validation(
                        format!("{prefix}.expiry_date"),
                        format!("{expiry} is already past (today is {today}); expired goods cannot be received"),
                    ));
                }
            }
            if let Some(production) = line.production_date {
                if production > today {
                    return Err(AppError::validation(
                        format!("{prefix}.production_date"),
                        format!("{production} is in the future (today is {today})"),
                    ));
                }
                if line.expiry_date.is_some_and(|expiry| production > expiry) {
                    return Err(AppError::validation(
                        format!("{prefix}.production_date"),
                        "must not be after the expiry date",
                    ));
                }
            }
            lines.push(ReceiveLine {
                item,
                location,
                qty,
                batch_code,
                expiry_date: line.expiry_date,
                production_date: line.production_date,
            });
        }
        Ok(Self { r#ref, lines })
    }
}

/// A line with its item and location found.
struct Resolved<'a> {
    index: usize,
    line: &'a ReceiveLine,
    item_id: i64,
    location_id: i64,
}

/// The anchor of a line received before under the same ref.
#[derive(sqlx::FromRow)]
struct Anchor {
    qty: i64,
    expiry_date: Option<NaiveDate>,
    production_date: Option<NaiveDate>,
    ledger_id: Option<i64>,
}

/// Receives `input` in one transaction: every line is applied (or was, for a replay), or
/// nothing is written.
pub async fn receive(
    db: &Db,
    config: &Config,
    input: &ReceiveInput,
) -> Result<ReceiveResponse, AppError> {
    let request = Receive::parse(input, config.today())?;
    let mut tx = db.begin_write().await?;
    let response = receive_in(&mut tx, &request, Utc::now()).await?;
    tx.commit().await?;
    Ok(response)
}

/// Receives a parsed request inside the caller's write transaction, stamping the ledger with
/// `now`. On error the caller must drop the transaction.
pub async fn receive_in(
    tx: &mut Tx,
    request: &Receive,
    now: chrono::DateTime<Utc>,
) -> Result<ReceiveResponse, AppError> {
    let resolved = resolve(tx, request).await?;

    // Lock every stock up front in (item, location) order: no deadlock between requests.
    let mut order: Vec<&Resolved> = resolved.iter().collect();
    order.sort_by_key(|r| (r.item_id, r.location_id, r.index));
    let mut stocks = HashMap::new();
    for r in &order {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            stocks.entry((r.item_id, r.location_id))
        {
            let row = store::lock_stock(tx, r.item_id, r.location_id, true).await?;
            slot.insert(row.expect("created").id);
        }
    }

    let mut results: Vec<Option<LineResult>> = vec![None; resolved.len()];
    for r in order {
        let stock_id = stocks[&(r.item_id, r.location_id)];
        let result = receive_line(tx, &request.r#ref, r, stock_id, now).await?;
        results[r.index] = Some(result);
    }

    let lines: Vec<LineResult> = results
        .into_iter()
        .map(|r| r.expect("every line"))
        .collect();
    Ok(MovementResponse {
        r#ref: request.r#ref.to_string(),
        status: LineStatus::overall(lines.iter().map(|l| l.status)),
        lines,
    })
}

async fn resolve<'a>(tx: &mut Tx, request: &'a Receive) -> Result<Vec<Resolved<'a>>, AppError> {
    let mut resolved = Vec::with_capacity(request.lines.len());
    let mut seen: HashMap<(i64, i64, &str), usize> = HashMap::new();
    for (index, line) in request.lines.iter().enumerate() {
        let prefix = format!("lines[{index}]");
        let item = store::find_item(tx, &line.item, &prefix).await?;
        let field = format!("{prefix}.location_code");
        let location = store::find_location(tx, &line.location, &field).await?;
        if !matches!(
            location.kind(),
            Some(LocationKind::Receiving | LocationKind::Storage)
        ) {
            return Err(AppError::validation(
                field,
                format!(
                    "{} is a {} location; goods are received into receiving or storage locations",
                    location.code, location.kind
                ),
            ));
        }
        if let Some(first) = seen.insert((item.id, location.id, line.batch_code.as_str()), index) {
            return Err(AppError::validation(
                prefix,
                format!("repeats lines[{first}]: one line per item, location and batch"),
            ));
        }
        resolved.push(Resolved {
            index,
            line,
            item_id: item.id,
            location_id: location.id,
        });
    }
    Ok(resolved)
}

async fn receive_line(
    tx: &mut Tx,
    r#ref: &Ref,
    r: &Resolved<'_>,
    stock_id: i64,
    now: chrono::DateTime<Utc>,
) -> Result<LineResult, AppError> {
    let line = r.line;
    let ref_line = r.index as u32 + 1;
    let qty = line.qty.get();
    let prefix = format!("lines[{}]", r.index);

    let anchor_id: Option<i64> = with_tx!(tx, |conn, _backend| {
        sqlx::query_scalar(
        "INSERT INTO inbound_receipts (ref, ref_line, item_id, location_id, batch_code, qty, expiry_date, production_date) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (ref, item_id, location_id, batch_code) DO NOTHING RETURNING id"
    )
    .bind(r#ref.as_str())
    .bind(ref_line as i32)
    .bind(r.item_id)
    .bind(r.location_id)
    .bind(line.batch_code.as_str())
    .bind(qty)
    .bind(line.expiry_date)
    .bind(line.production_date)
    .fetch_optional(&mut *conn)
    .await?
    });

    let Some(anchor_id) = anchor_id else {
        return replay(tx, r#ref, r, &prefix).await;
    };

    let lot = Lot {
        code: line.batch_code.as_str(),
        expiry_date: line.expiry_date,
        production_date: line.production_date,
    };
    let batch = store::add_to_batch(
        tx,
        stock_id,
        r.item_id,
        r.location_id,
        &lot,
        qty,
        &format!("{prefix}.batch_code"),
    )
    .await?;
    let after_qty = store::change_stock(tx, stock_id, qty).await?;
    let ledger_id = store::append_ledger(
        tx,
        &LedgerEntry {
            stock_id,
            item_id: r.item_id,
            location_id: r.location_id,
            delta: qty,
            after_qty,
            reason: Reason::Receive,
            r#ref: r#ref.as_str(),
            ref_line,
            occurred_at: now,
            batches: &[(batch.id, qty)],
        },
    )
    .await?;
    with_tx!(tx, |conn, _backend| sqlx::query(
        "UPDATE inbound_receipts SET ledger_id = $1 WHERE id = $2"
    )
    .bind(ledger_id)
    .bind(anchor_id)
    .execute(&mut *conn)
    .await
    .map(drop)?);

    Ok(LineResult {
        ref_line,
        item_id: r.item_id,
        location_id: r.location_id,
        qty,
        status: LineStatus::Ok,
        after_qty: Some(after_qty),
        available: None,
        batches: vec![crate::movement::BatchQty {
            batch_code: batch.batch_code,
            expiry_date: batch.expiry_date,
            qty,
        }],
    })
}

/// The line was received before under this ref: the original result if it is the same line,
/// `IDEMPOTENCY_CONFLICT` if it differs.
async fn replay(
    tx: &mut Tx,
    r#ref: &Ref,
    r: &Resolved<'_>,
    prefix: &str,
) -> Result<LineResult, AppError> {
    let line = r.line;
    let anchor = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, Anchor>(
        "SELECT qty, expiry_date, production_date, ledger_id FROM inbound_receipts \
         WHERE ref = $1 AND item_id = $2 AND location_id = $3 AND batch_code = $4"
    )
    .bind(r#ref.as_str())
    .bind(r.item_id)
    .bind(r.location_id)
    .bind(line.batch_code.as_str())
    .fetch_one(&mut *conn)
    .await?);
    let differs = anchor.qty != line.qty.get()
        || (line.expiry_date.is_some() && line.expiry_date != anchor.expiry_date)
        || (line.production_date.is_some() && line.production_date != anchor.production_date);
    if differs {
        return Err(AppError::new(
            ErrorCode::IdempotencyConflict,
            format!(
                "{prefix}: ref '{}' already received this item, location and batch with qty {}; a different line needs a new ref",
                r#ref, anchor.qty
            ),
        )
        .with_details(serde_json::json!({ "field": prefix, "applied_qty": anchor.qty })));
    }
    let ledger_id = anchor.ledger_id.ok_or_else(|| {
        AppError::internal(&std::io::Error::other(
            "receipt anchor without ledger entry",
        ))
    })?;
    let (after_qty, batches) = store::ledger_outcome(tx, ledger_id).await?;
    Ok(LineResult {
        ref_line: r.index as u32 + 1,
        item_id: r.item_id,
        location_id: r.location_id,
        qty: anchor.qty,
        status: LineStatus::Idempotent,
        after_qty: Some(after_qty),
        available: None,
        batches,
    })
}
