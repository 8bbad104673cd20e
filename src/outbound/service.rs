//! Outbound commit in one transaction per request: per line the stock row lock, the anchor
//! (the seed's `outbound_commits`), the available check, the decrement of stock and batches
//! (FEFO) and one `OUTBOUND` ledger entry with its batch detail.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::domain::{BatchCode, Qty, Ref};
use crate::error::{AppError, ErrorCode};
use crate::movement::store::{self, BatchRow, LedgerEntry, Plan, Reason};
use crate::movement::{
    insufficient_stock, non_blank, parse_batch_code, parse_request, BatchQty, ItemKey, LineResult,
    LineStatus, LocationKey, MovementResponse, Shortage,
};
use crate::outbound::{OutboundInput, OutboundResponse};
use crate::with_tx;

/// A parsed outbound request.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub r#ref: Ref,
    pub atomic: bool,
    pub lines: Vec<OutboundLine>,
}

#[derive(Debug, Clone)]
pub struct OutboundLine {
    pub item: ItemKey,
    pub location: LocationKey,
    pub qty: Qty,
    /// `None`: first-expiry-first-out over the location's usable batches.
    pub batch_code: Option<BatchCode>,
}

impl Outbound {
    /// Parses a request; `default_atomic` applies when it does not say.
    pub fn parse(input: &OutboundInput, default_atomic: bool) -> Result<Self, AppError> {
        let (r#ref, lines) = parse_request(&input.r#ref, &input.lines, |prefix, line| {
            Ok(OutboundLine {
                item: ItemKey::parse(prefix, line.item_id, non_blank(&line.sku))?,
                location: LocationKey::parse(
                    &format!("{prefix}.location_code"),
                    line.location_id,
                    non_blank(&line.location_code),
                )?,
                qty: Qty::parse(&format!("{prefix}.qty"), line.qty)?,
                batch_code: parse_batch_code(prefix, line.batch_code.as_deref())?,
            })
        })?;
        Ok(Self {
            r#ref,
            atomic: input.atomic.unwrap_or(default_atomic),
            lines,
        })
    }
}

/// The anchor of a line shipped before under the same ref.
#[derive(sqlx::FromRow)]
struct Anchor {
    item_id: i64,
    location_id: i64,
    qty: i64,
    batch_code: Option<String>,
    ledger_id: Option<i64>,
}

/// Commits `input`: see SPEC §4. All or nothing when atomic; otherwise the lines that can be
/// covered are applied and the short ones are neither applied nor anchored.
pub async fn commit_outbound(
    db: &Db,
    config: &Config,
    input: &OutboundInput,
) -> Result<OutboundResponse, AppError> {
    let request = Outbound::parse(input, config.outbound_atomic)?;
    let today = config.today();
    db.write(&request, |tx, request| {
        Box::pin(commit_in(tx, request, today, Utc::now()))
    })
    .await
}

/// Commits a parsed request inside the caller's write transaction, in a fixed number of
/// statements. On error the caller must drop the transaction.
pub async fn commit_in(
    tx: &mut Tx,
    request: &Outbound,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<OutboundResponse, AppError> {
    let lines = &request.lines;
    let items = store::find_items(tx, lines.iter().map(|l| &l.item)).await?;
    let locations =
        store::find_locations(tx, lines.iter().map(|l| &l.location), "location_code").await?;
    let prefixes: Vec<String> = (0..lines.len()).map(|i| format!("lines[{i}]")).collect();
    let key = |i: usize| (items[i].id, locations[i].id);
    let mut seen: HashMap<(i64, i64), usize> = HashMap::new();
    for (i, prefix) in prefixes.iter().enumerate() {
        if let Some(first) = seen.insert(key(i), i) {
            return Err(AppError::validation(
                prefix.clone(),
                format!("repeats lines[{first}]: one line per item and location"),
            ));
        }
    }

    // Lock the stocks in (item, location) order — two orders over the same stocks in any line
    // order queue instead of deadlocking — then read this ref's anchors, which a twin request
    // holding the locks before us has committed by now.
    let stocks = store::lock_stocks(tx, &seen.keys().copied().collect(), false).await?;
    let anchors: Vec<Anchor> = with_tx!(tx, |conn, _backend| {
        sqlx::query_as(
        "SELECT item_id, location_id, qty, batch_code, ledger_id FROM outbound_commits WHERE ref = $1"
    )
    .bind(request.r#ref.as_str())
    .fetch_all(&mut *conn)
    .await?
    });
    let anchors: HashMap<(i64, i64), &Anchor> = anchors
        .iter()
        .map(|a| ((a.item_id, a.location_id), a))
        .collect();

    let mut replays = Vec::new();
    let mut fresh = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.batch_code.as_ref().map(BatchCode::as_str);
        match anchors.get(&key(i)) {
            Some(anchor)
                if anchor.qty != line.qty.get() || anchor.batch_code.as_deref() != code =>
            {
                return Err(AppError::new(
                    ErrorCode::IdempotencyConflict,
                    format!(
                        "{}: ref '{}' already shipped {} of this item from this location{}; a different line needs a new ref",
                        prefixes[i],
                        request.r#ref,
                        anchor.qty,
                        anchor.batch_code.as_deref().map(|c| format!(" (batch '{c}')")).unwrap_or_default(),
                    ),
                )
                .with_details(serde_json::json!({ "field": prefixes[i], "applied_qty": anchor.qty })));
            }
            Some(anchor) => {
                let ledger_id = anchor.ledger_id.ok_or_else(|| {
                    AppError::internal(&std::io::Error::other(
                        "outbound anchor without ledger entry",
                    ))
                })?;
                replays.push((i, anchor.qty, ledger_id));
            }
            None => fresh.push(i),
        }
    }

    // Plan every fresh line from the locked stocks' usable batches.
    let stock_ids: BTreeSet<i64> = fresh
        .iter()
        .filter_map(|&i| stocks.get(&key(i)).map(|s| s.id))
        .collect();
    let mut batches = store::load_batches(tx, &stock_ids).await?;
    let mut planned: Vec<(usize, i64, Plan)> = Vec::new();
    let mut shortages = Vec::new();
    for &i in &fresh {
        let line = &lines[i];
        let code = line.batch_code.as_ref().map(BatchCode::as_str);
        // Expired batches are never shipped, not even when named.
        let eligible = |b: &BatchRow| b.usable(today) && code.is_none_or(|c| b.batch_code == c);
        let stock = stocks.get(&key(i));
        let at_stock = stock.map(|s| batches.entry(s.id).or_default());
        let plan = at_stock.and_then(|at| store::take_fefo(at, line.qty.get(), eligible));
        match (stock, plan) {
            (Some(stock), Some(plan)) => planned.push((i, stock.id, plan)),
            _ => shortages.push(Shortage {
                ref_line: i as u32 + 1,
                item_id: items[i].id,
                location_id: locations[i].id,
                required: line.qty.get(),
                available: stock
                    .and_then(|s| batches.get(&s.id))
                    .map(|b| b.iter().filter(|b| eligible(b)).map(|b| b.qty).sum())
                    .unwrap_or(0),
            }),
        }
    }
    if request.atomic && !shortages.is_empty() {
        return Err(insufficient_stock(&shortages));
    }

    let mut qty: HashMap<i64, i64> = stocks.values().map(|s| (s.id, s.qty)).collect();
    let mut takes: HashMap<i64, i64> = HashMap::new();
    let mut entries = Vec::with_capacity(planned.len());
    for (i, stock_id, plan) in &planned {
        let n = lines[*i].qty.get();
        for (batch, take) in plan {
            *takes.entry(batch.id).or_default() += take;
        }
        let after = qty.entry(*stock_id).or_default();
        *after -= n;
        entries.push(LedgerEntry {
            stock_id: *stock_id,
            item_id: items[*i].id,
            location_id: locations[*i].id,
            delta: -n,
            after_qty: *after,
            ref_line: *i as u32 + 1,
            batches: plan.iter().map(|(b, take)| (b.id, -take)).collect(),
        });
    }
    store::take_from_batches(tx, &takes).await?;
    store::change_stocks(tx, &entries).await?;
    let ledger_ids =
        store::append_ledger(tx, request.r#ref.as_str(), Reason::Outbound, now, &entries).await?;
    if !planned.is_empty() {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "INSERT INTO outbound_commits (ref, ref_line, item_id, location_id, qty, batch_code, ledger_id) ",
            );
            query.push_values(
                planned.iter().zip(&ledger_ids),
                |mut row, ((i, _, _), ledger_id)| {
                    row.push_bind(request.r#ref.as_str())
                        .push_bind(*i as i32 + 1)
                        .push_bind(items[*i].id)
                        .push_bind(locations[*i].id)
                        .push_bind(lines[*i].qty.get())
                        .push_bind(lines[*i].batch_code.as_ref().map(BatchCode::as_str))
                        .push_bind(*ledger_id);
                },
            );
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }

    let outcomes = store::ledger_outcomes(tx, &replays.iter().map(|r| r.2).collect()).await?;
    let mut results: Vec<Option<LineResult>> = vec![None; lines.len()];
    for ((i, _, plan), entry) in planned.iter().zip(&entries) {
        results[*i] = Some(LineResult {
            ref_line: *i as u32 + 1,
            item_id: items[*i].id,
            location_id: locations[*i].id,
            qty: -entry.delta,
            status: LineStatus::Ok,
            after_qty: Some(entry.after_qty),
            available: None,
            batches: plan
                .iter()
                .map(|(b, take)| BatchQty {
                    batch_code: b.batch_code.clone(),
                    expiry_date: b.expiry_date,
                    qty: *take,
                })
                .collect(),
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
    for shortage in shortages {
        results[shortage.ref_line as usize - 1] = Some(LineResult {
            ref_line: shortage.ref_line,
            item_id: shortage.item_id,
            location_id: shortage.location_id,
            qty: shortage.required,
            status: LineStatus::InsufficientStock,
            after_qty: None,
            available: Some(shortage.available),
            batches: Vec::new(),
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
