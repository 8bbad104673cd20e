//! Receiving: one transaction per request; per line an anchor, the stock and batch topped up
//! (created as needed) and one `RECEIVE` ledger entry.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::QueryBuilder;

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::domain::{BatchCode, LocationKind, Qty, Ref};
use crate::error::{AppError, ErrorCode};
use crate::inbound::{ReceiveInput, ReceiveResponse};
use crate::movement::store::{self, line_field, LedgerEntry, LotAdd, Reason};
use crate::movement::{
    non_blank, parse_request, BatchQty, ItemKey, LineResult, LineStatus, LocationKey,
    MovementResponse,
};
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
        let (r#ref, lines) = parse_request(&input.r#ref, &input.lines, |prefix, line| {
            let item = ItemKey::parse(prefix, line.item_id, non_blank(&line.sku))?;
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
                // "26-1-1" parses as the year 26: a typo, not a production date.
                if production.year() < 1900 {
                    return Err(AppError::validation(
                        format!("{prefix}.production_date"),
                        format!(
                            "{production} is not a plausible production date; write YYYY-MM-DD"
                        ),
                    ));
                }
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
            Ok(ReceiveLine {
                item,
                location,
                qty,
                batch_code,
                expiry_date: line.expiry_date,
                production_date: line.production_date,
            })
        })?;
        Ok(Self { r#ref, lines })
    }
}

/// The anchor of a line received before under the same ref.
#[derive(sqlx::FromRow)]
struct Anchor {
    item_id: i64,
    location_id: i64,
    batch_code: String,
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
    db.write(&request, |tx, request| {
        Box::pin(receive_in(tx, request, Utc::now()))
    })
    .await
}

/// Receives a parsed request inside the caller's write transaction, stamping the ledger with
/// `now`, in a fixed number of statements whatever the number of lines. On error the caller
/// must drop the transaction.
pub async fn receive_in(
    tx: &mut Tx,
    request: &Receive,
    now: DateTime<Utc>,
) -> Result<ReceiveResponse, AppError> {
    let lines = &request.lines;
    let items = store::find_items(tx, lines.iter().map(|l| &l.item)).await?;
    let locations =
        store::find_locations(tx, lines.iter().map(|l| &l.location), "location_code").await?;
    let prefixes: Vec<String> = (0..lines.len()).map(|i| format!("lines[{i}]")).collect();

    let mut seen: HashMap<(i64, i64, &str), usize> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let location = &locations[i];
        if !matches!(
            location.kind(),
            Some(LocationKind::Receiving | LocationKind::Storage)
        ) {
            return Err(AppError::validation(
                line_field(i, "location_code"),
                format!(
                    "{} is a {} location; goods are received into receiving or storage locations",
                    location.code, location.kind
                ),
            ));
        }
        if let Some(first) = seen.insert((items[i].id, location.id, line.batch_code.as_str()), i) {
            return Err(AppError::validation(
                prefixes[i].clone(),
                format!("repeats lines[{first}]: one line per item, location and batch"),
            ));
        }
    }

    // Lock every stock in (item, location) order, then read this ref's anchors: a twin request
    // that got the locks first has committed by now, and its anchors are visible.
    let keys: BTreeSet<(i64, i64)> = (0..lines.len())
        .map(|i| (items[i].id, locations[i].id))
        .collect();
    let stocks = store::lock_stocks(tx, &keys, true).await?;
    let anchors: Vec<Anchor> = with_tx!(tx, |conn, _backend| {
        sqlx::query_as(
        "SELECT item_id, location_id, batch_code, qty, expiry_date, production_date, ledger_id \
         FROM inbound_receipts WHERE ref = $1"
    )
    .bind(request.r#ref.as_str())
    .fetch_all(&mut *conn)
    .await?
    });
    let anchors: HashMap<(i64, i64, &str), &Anchor> = anchors
        .iter()
        .map(|a| ((a.item_id, a.location_id, a.batch_code.as_str()), a))
        .collect();

    let mut replays = Vec::new();
    let mut fresh = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match anchors.get(&(items[i].id, locations[i].id, line.batch_code.as_str())) {
            Some(anchor) => {
                let differs = anchor.qty != line.qty.get()
                    || (line.expiry_date.is_some() && line.expiry_date != anchor.expiry_date)
                    || (line.production_date.is_some()
                        && line.production_date != anchor.production_date);
                if differs {
                    return Err(AppError::new(
                        ErrorCode::IdempotencyConflict,
                        format!(
                            "{}: ref '{}' already received this item, location and batch with qty {}; a different line needs a new ref",
                            prefixes[i], request.r#ref, anchor.qty
                        ),
                    )
                    .with_details(serde_json::json!({ "field": prefixes[i], "applied_qty": anchor.qty })));
                }
                let ledger_id = anchor.ledger_id.ok_or_else(|| {
                    AppError::internal(&std::io::Error::other(
                        "receipt anchor without ledger entry",
                    ))
                })?;
                replays.push((i, anchor.qty, ledger_id));
            }
            None => fresh.push(i),
        }
    }

    let stock_of = |i: usize| stocks[&(items[i].id, locations[i].id)];
    let adds: Vec<LotAdd> = fresh
        .iter()
        .map(|&i| LotAdd {
            stock_id: stock_of(i).id,
            item_id: items[i].id,
            location_id: locations[i].id,
            code: lines[i].batch_code.as_str().to_string(),
            expiry_date: lines[i].expiry_date,
            production_date: lines[i].production_date,
            qty: lines[i].qty.get(),
            field: line_field(i, "batch_code"),
        })
        .collect();
    let lots = store::add_to_lots(tx, &adds).await?;

    // Each stock's entries chain in line order from its locked qty.
    let mut qty: HashMap<i64, i64> = stocks.values().map(|s| (s.id, s.qty)).collect();
    let mut entries = Vec::with_capacity(fresh.len());
    for (&i, &(batch_id, _)) in fresh.iter().zip(&lots) {
        let stock = stock_of(i);
        let delta = lines[i].qty.get();
        let after = qty.entry(stock.id).or_default();
        *after += delta;
        entries.push(LedgerEntry {
            stock_id: stock.id,
            item_id: items[i].id,
            location_id: locations[i].id,
            delta,
            after_qty: *after,
            ref_line: i as u32 + 1,
            batches: vec![(batch_id, delta)],
        });
    }
    store::change_stocks(tx, &entries).await?;
    let ledger_ids =
        store::append_ledger(tx, request.r#ref.as_str(), Reason::Receive, now, &entries).await?;

    if !fresh.is_empty() {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "INSERT INTO inbound_receipts (ref, ref_line, item_id, location_id, batch_code, qty, expiry_date, production_date, ledger_id) ",
            );
            query.push_values(fresh.iter().zip(&ledger_ids), |mut row, (&i, ledger_id)| {
                row.push_bind(request.r#ref.as_str())
                    .push_bind(i as i32 + 1)
                    .push_bind(items[i].id)
                    .push_bind(locations[i].id)
                    .push_bind(lines[i].batch_code.as_str())
                    .push_bind(lines[i].qty.get())
                    .push_bind(lines[i].expiry_date)
                    .push_bind(lines[i].production_date)
                    .push_bind(*ledger_id);
            });
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }

    let outcomes = store::ledger_outcomes(tx, &replays.iter().map(|r| r.2).collect()).await?;
    let mut results: Vec<Option<LineResult>> = vec![None; lines.len()];
    for ((&i, entry), (_, expiry)) in fresh.iter().zip(&entries).zip(&lots) {
        results[i] = Some(LineResult {
            ref_line: i as u32 + 1,
            item_id: items[i].id,
            location_id: locations[i].id,
            qty: entry.delta,
            status: LineStatus::Ok,
            after_qty: Some(entry.after_qty),
            available: None,
            batches: vec![BatchQty {
                batch_code: lines[i].batch_code.as_str().to_string(),
                expiry_date: *expiry,
                qty: entry.delta,
            }],
        });
    }
    for (i, applied, ledger_id) in replays {
        let (after_qty, batches) = outcomes.get(&ledger_id).cloned().unwrap_or_default();
        results[i] = Some(LineResult {
            ref_line: i as u32 + 1,
            item_id: items[i].id,
            location_id: locations[i].id,
            qty: applied,
            status: LineStatus::Idempotent,
            after_qty: Some(after_qty),
            available: None,
            batches,
        });
    }
    let lines: Vec<LineResult> = results
        .into_iter()
        .map(|r| r.expect("every line has a result"))
        .collect();
    Ok(MovementResponse {
        r#ref: request.r#ref.to_string(),
        status: LineStatus::overall(lines.iter().map(|l| l.status)),
        lines,
    })
}
