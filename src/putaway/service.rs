//! Putaway: always all-or-nothing, in one transaction. Per line an anchor, the goods taken from
//! the source's batches (the named one, or first-expiry-first-out) and added to the same lots at
//! the destination, with a `-qty` and a `+qty` `PUTAWAY` ledger entry.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::domain::{BatchCode, Qty, Ref};
use crate::error::{AppError, ErrorCode};
use crate::movement::store::{self, line_field, BatchRow, LedgerEntry, Plan, Reason};
use crate::movement::{
    insufficient_stock, non_blank, parse_batch_code, parse_request, BatchQty, ItemKey, LineStatus,
    LocationKey, MovementResponse, Shortage,
};
use crate::putaway::{PutawayInput, PutawayLineResult, PutawayResponse};
use crate::with_tx;

/// A parsed putaway request.
#[derive(Debug, Clone)]
pub struct Putaway {
    pub r#ref: Ref,
    pub lines: Vec<PutawayLine>,
}

#[derive(Debug, Clone)]
pub struct PutawayLine {
    pub item: ItemKey,
    pub from: LocationKey,
    pub to: LocationKey,
    pub qty: Qty,
    /// `None`: first-expiry-first-out over the source's usable batches.
    pub batch_code: Option<BatchCode>,
}

impl Putaway {
    pub fn parse(input: &PutawayInput) -> Result<Self, AppError> {
        let (r#ref, lines) = parse_request(&input.r#ref, &input.lines, |prefix, line| {
            Ok(PutawayLine {
                item: ItemKey::parse(prefix, line.item_id, non_blank(&line.sku))?,
                from: LocationKey::parse(
                    &format!("{prefix}.from_location_code"),
                    line.from_location_id,
                    non_blank(&line.from_location_code),
                )?,
                to: LocationKey::parse(
                    &format!("{prefix}.to_location_code"),
                    line.to_location_id,
                    non_blank(&line.to_location_code),
                )?,
                qty: Qty::parse(&format!("{prefix}.qty"), line.qty)?,
                batch_code: parse_batch_code(prefix, line.batch_code.as_deref())?,
            })
        })?;
        Ok(Self { r#ref, lines })
    }
}

/// The anchor of a line moved before under the same ref.
#[derive(sqlx::FromRow)]
struct Anchor {
    item_id: i64,
    from_location_id: i64,
    to_location_id: i64,
    batch_code: Option<String>,
    qty: i64,
    from_ledger_id: Option<i64>,
    to_ledger_id: Option<i64>,
}

/// A line with its item and locations found.
struct Resolved {
    item_id: i64,
    from_id: i64,
    to_id: i64,
}

/// Moves every line, or none: a short line refuses the whole request with 409.
pub async fn put_away(
    db: &Db,
    config: &Config,
    input: &PutawayInput,
) -> Result<PutawayResponse, AppError> {
    let request = Putaway::parse(input)?;
    let today = config.today();
    db.write(&request, |tx, request| {
        Box::pin(put_away_in(tx, request, today, Utc::now()))
    })
    .await
}

/// Moves a parsed request inside the caller's write transaction. On error (a short line
/// included) the caller must drop the transaction: lines already moved are rolled back with it.
///
/// Lines are applied in waves of a fixed number of statements each; a line whose source is
/// where an earlier line of its wave put goods starts the next wave, so it sees those goods.
pub async fn put_away_in(
    tx: &mut Tx,
    request: &Putaway,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<PutawayResponse, AppError> {
    let lines = &request.lines;
    let resolved = resolve(tx, request).await?;

    let mut keys = BTreeSet::new();
    for r in &resolved {
        keys.insert((r.item_id, r.from_id));
        keys.insert((r.item_id, r.to_id));
    }
    // Sources are created too (empty) so all rows lock in one sorted pass; a missing source
    // means a short line, which refuses the request and rolls the empty row back.
    let stocks = store::lock_stocks(tx, &keys, true).await?;
    let stock = |item: i64, location: i64| stocks[&(item, location)];

    let anchors: Vec<Anchor> = with_tx!(tx, |conn, _backend| {
        sqlx::query_as(
        "SELECT item_id, from_location_id, to_location_id, batch_code, qty, from_ledger_id, to_ledger_id \
         FROM putaway_moves WHERE ref = $1"
    )
    .bind(request.r#ref.as_str())
    .fetch_all(&mut *conn)
    .await?
    });
    let anchors: HashMap<(i64, i64, i64, Option<&str>), &Anchor> = anchors
        .iter()
        .map(|a| {
            (
                (
                    a.item_id,
                    a.from_location_id,
                    a.to_location_id,
                    a.batch_code.as_deref(),
                ),
                a,
            )
        })
        .collect();

    let mut results: Vec<Option<PutawayLineResult>> = vec![None; lines.len()];
    let mut replays = Vec::new();
    let mut waves: Vec<Vec<usize>> = vec![Vec::new()];
    let mut wave_destinations = BTreeSet::new();
    for (i, (line, r)) in lines.iter().zip(&resolved).enumerate() {
        let code = line.batch_code.as_ref().map(BatchCode::as_str);
        if let Some(anchor) = anchors.get(&(r.item_id, r.from_id, r.to_id, code)) {
            if anchor.qty != line.qty.get() {
                return Err(AppError::new(
                    ErrorCode::IdempotencyConflict,
                    format!("lines[{i}]: this ref already moved {} of this item between these locations; a different line needs a new ref", anchor.qty),
                )
                .with_details(serde_json::json!({ "field": format!("lines[{i}]"), "applied_qty": anchor.qty })));
            }
            let missing = || {
                AppError::internal(&std::io::Error::other(
                    "putaway anchor without ledger entry",
                ))
            };
            replays.push((
                i,
                anchor.qty,
                anchor.from_ledger_id.ok_or_else(missing)?,
                anchor.to_ledger_id.ok_or_else(missing)?,
            ));
            continue;
        }
        let source = stock(r.item_id, r.from_id).id;
        if wave_destinations.contains(&source) {
            waves.push(Vec::new());
            wave_destinations.clear();
        }
        wave_destinations.insert(stock(r.item_id, r.to_id).id);
        waves.last_mut().expect("a wave").push(i);
    }

    let mut qty: HashMap<i64, i64> = stocks.values().map(|s| (s.id, s.qty)).collect();
    let mut shortages = Vec::new();
    for wave in waves.iter().filter(|w| !w.is_empty()) {
        let sources: BTreeSet<i64> = wave
            .iter()
            .map(|&i| stock(resolved[i].item_id, resolved[i].from_id).id)
            .collect();
        let mut batches = store::load_batches(tx, &sources).await?;

        // Plan in memory, line by line.
        let mut moved: Vec<(usize, Plan)> = Vec::new();
        for &i in wave {
            let (line, r) = (&lines[i], &resolved[i]);
            let source = stock(r.item_id, r.from_id).id;
            let code = line.batch_code.as_ref().map(BatchCode::as_str);
            // A named batch may be moved even when expired (e.g. to quarantine); FEFO takes usable ones.
            let eligible = |b: &BatchRow| match code {
                Some(code) => b.batch_code == code,
                None => b.usable(today),
            };
            let at_source = batches.entry(source).or_default();
            match store::take_fefo(at_source, line.qty.get(), eligible) {
                Some(plan) => moved.push((i, plan)),
                None => shortages.push(Shortage {
                    ref_line: i as u32 + 1,
                    item_id: r.item_id,
                    location_id: r.from_id,
                    required: line.qty.get(),
                    available: at_source
                        .iter()
                        .filter(|b| eligible(b))
                        .map(|b| b.qty)
                        .sum(),
                }),
            }
        }

        // Write the wave: batches out, lots in, stocks, ledger, anchors.
        let mut takes: HashMap<i64, i64> = HashMap::new();
        let mut adds: Vec<store::LotAdd> = Vec::new();
        let mut add_index: HashMap<(i64, String), usize> = HashMap::new();
        for (i, plan) in &moved {
            let r = &resolved[*i];
            let target = stock(r.item_id, r.to_id).id;
            for (batch, take) in plan {
                *takes.entry(batch.id).or_default() += take;
                match add_index.get(&(target, batch.batch_code.clone())) {
                    Some(&k) => {
                        if adds[k].expiry_date != batch.expiry_date
                            || adds[k].production_date != batch.production_date
                        {
                            return Err(AppError::conflict(format!(
                                "lines[{i}]: lot '{}' arrives at the same place from two sources with different dates",
                                batch.batch_code
                            ))
                            .with_details(serde_json::json!({ "field": format!("lines[{i}]") })));
                        }
                        adds[k].qty += take;
                    }
                    None => {
                        add_index.insert((target, batch.batch_code.clone()), adds.len());
                        adds.push(store::LotAdd {
                            stock_id: target,
                            item_id: r.item_id,
                            location_id: r.to_id,
                            code: batch.batch_code.clone(),
                            expiry_date: batch.expiry_date,
                            production_date: batch.production_date,
                            qty: *take,
                            field: line_field(*i, "batch_code"),
                        });
                    }
                }
            }
        }
        store::take_from_batches(tx, &takes).await?;
        let lots = store::add_to_lots(tx, &adds).await?;

        let mut entries = Vec::with_capacity(moved.len() * 2);
        for (i, plan) in &moved {
            let (line, r) = (&lines[*i], &resolved[*i]);
            let (from, to) = (stock(r.item_id, r.from_id).id, stock(r.item_id, r.to_id).id);
            let n = line.qty.get();
            let from_after = {
                let q = qty.entry(from).or_default();
                *q -= n;
                *q
            };
            let to_after = {
                let q = qty.entry(to).or_default();
                *q += n;
                *q
            };
            let ref_line = *i as u32 + 1;
            entries.push(LedgerEntry {
                stock_id: from,
                item_id: r.item_id,
                location_id: r.from_id,
                delta: -n,
                after_qty: from_after,
                ref_line,
                batches: plan.iter().map(|(b, take)| (b.id, -take)).collect(),
            });
            entries.push(LedgerEntry {
                stock_id: to,
                item_id: r.item_id,
                location_id: r.to_id,
                delta: n,
                after_qty: to_after,
                ref_line,
                batches: plan
                    .iter()
                    .map(|(b, take)| (lots[add_index[&(to, b.batch_code.clone())]].0, *take))
                    .collect(),
            });
            results[*i] = Some(PutawayLineResult {
                ref_line,
                item_id: r.item_id,
                from_location_id: r.from_id,
                to_location_id: r.to_id,
                qty: n,
                status: LineStatus::Ok,
                from_after_qty: from_after,
                to_after_qty: to_after,
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
        store::change_stocks(tx, &entries).await?;
        let ledger_ids =
            store::append_ledger(tx, request.r#ref.as_str(), Reason::Putaway, now, &entries)
                .await?;
        if !moved.is_empty() {
            with_tx!(tx, |conn, _backend| {
                let mut query = QueryBuilder::new(
                    "INSERT INTO putaway_moves (ref, ref_line, item_id, from_location_id, to_location_id, batch_code, qty, from_ledger_id, to_ledger_id) ",
                );
                query.push_values(
                    moved.iter().zip(ledger_ids.chunks(2)),
                    |mut row, ((i, _), ids)| {
                        let r = &resolved[*i];
                        row.push_bind(request.r#ref.as_str())
                            .push_bind(*i as i32 + 1)
                            .push_bind(r.item_id)
                            .push_bind(r.from_id)
                            .push_bind(r.to_id)
                            .push_bind(lines[*i].batch_code.as_ref().map(BatchCode::as_str))
                            .push_bind(lines[*i].qty.get())
                            .push_bind(ids[0])
                            .push_bind(ids[1]);
                    },
                );
                query.build().execute(&mut *conn).await.map(drop)?
            });
        }
    }
    if !shortages.is_empty() {
        shortages.sort_by_key(|s| s.ref_line);
        return Err(insufficient_stock(&shortages));
    }

    let ledger_ids: BTreeSet<i64> = replays.iter().flat_map(|r| [r.2, r.3]).collect();
    let outcomes = store::ledger_outcomes(tx, &ledger_ids).await?;
    for (i, applied, from_ledger, to_ledger) in replays {
        let r = &resolved[i];
        let (from_after_qty, batches) = outcomes.get(&from_ledger).cloned().unwrap_or_default();
        let (to_after_qty, _) = outcomes.get(&to_ledger).cloned().unwrap_or_default();
        results[i] = Some(PutawayLineResult {
            ref_line: i as u32 + 1,
            item_id: r.item_id,
            from_location_id: r.from_id,
            to_location_id: r.to_id,
            qty: applied,
            status: LineStatus::Idempotent,
            from_after_qty,
            to_after_qty,
            batches,
        });
    }
    let lines: Vec<PutawayLineResult> = results
        .into_iter()
        .map(|r| r.expect("every line has a result"))
        .collect();
    Ok(MovementResponse {
        r#ref: request.r#ref.to_string(),
        status: LineStatus::overall(lines.iter().map(|l| l.status)),
        lines,
    })
}

async fn resolve(tx: &mut Tx, request: &Putaway) -> Result<Vec<Resolved>, AppError> {
    let lines = &request.lines;
    let items = store::find_items(tx, lines.iter().map(|l| &l.item)).await?;
    let froms =
        store::find_locations(tx, lines.iter().map(|l| &l.from), "from_location_code").await?;
    let tos = store::find_locations(tx, lines.iter().map(|l| &l.to), "to_location_code").await?;
    let prefixes: Vec<String> = (0..lines.len()).map(|i| format!("lines[{i}]")).collect();
    let mut resolved = Vec::with_capacity(lines.len());
    let mut seen: HashMap<(i64, i64, i64, Option<&str>), usize> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        if froms[i].id == tos[i].id {
            return Err(AppError::validation(
                line_field(i, "to_location_code"),
                "must differ from the source location",
            ));
        }
        let key = (
            items[i].id,
            froms[i].id,
            tos[i].id,
            line.batch_code.as_ref().map(BatchCode::as_str),
        );
        if let Some(first) = seen.insert(key, i) {
            return Err(AppError::validation(
                prefixes[i].clone(),
                format!("repeats lines[{first}]: one line per item, locations and batch"),
            ));
        }
        resolved.push(Resolved {
            item_id: items[i].id,
            from_id: froms[i].id,
            to_id: tos[i].id,
        });
    }
    Ok(resolved)
}
