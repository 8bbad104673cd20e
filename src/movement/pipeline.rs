//! The one movement pipeline. Every kind of stock movement (receive, putaway, outbound, …) runs
//! the same steps inside the caller's write transaction, in a fixed number of statements per
//! step whatever the number of lines:
//!
//! 1. find the items and locations the lines name;
//! 2. check each line and refuse a request that names one line twice;
//! 3. lock every stock the lines touch, in one global order (no deadlocks);
//! 4. read the ref's anchors — after the locks, so a twin request that held them has committed —
//!    and answer lines applied before with their original result, before any check that depends
//!    on today's date or stock (a retry after midnight is still a retry);
//! 5. check the new lines against today, then plan and write them in waves: batches, stocks,
//!    ledger entries with their batch detail, anchors;
//! 6. build one result per line, in request order.
//!
//! A kind supplies only what differs through [`Movement`]: how its lines name things, its checks,
//! its line identity and content, the legs a line moves (takes and additions) and its result.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

use crate::db::{Db, Tx};
use crate::error::{AppError, Problems};
use crate::movement::anchors::{self, Anchor, Content, LineKey};
use crate::movement::batches::{self, LotAdd};
use crate::movement::ledger::{self, BatchDetail, LedgerEntry, Reason, Recorded, Stamp, Why};
use crate::movement::plan;
use crate::movement::projections;
use crate::movement::record::{self, NewAnchor};
use crate::movement::resolve::{self, FoundItem, FoundLocation};
use crate::movement::stock;
use crate::movement::{
    insufficient_stock, BatchQty, ItemKey, LineResult, LineStatus, LocationKey, MovementResponse,
    Request, Shortage,
};

pub use crate::config::Moment;

pub use crate::movement::plan::{Leg, Lot, Pick};

/// What a line names, found.
#[derive(Debug, Clone)]
pub struct Found {
    pub item: FoundItem,
    /// In the order of [`Movement::LOCATION_FIELDS`].
    pub locations: Vec<FoundLocation>,
}

/// A kind of stock movement: what it has that the others do not.
pub trait Movement: Sync {
    type Line: Sync;
    type LineResult: LineOutcome;

    /// The ledger reason of its entries.
    const REASON: Reason;
    /// Its name among the kinds (`RECEIVE`, `SHIP`, …): its anchors are kept under it.
    const KIND: &'static str;
    /// The request fields that name a line's locations, e.g. `["location_code"]`.
    const LOCATION_FIELDS: &'static [&'static str];
    /// The field whose location is a warehouse's transit location (transfers): goods on their
    /// way, which no other kind moves and which may be the other warehouse's.
    const TRANSIT: Option<usize> = None;
    /// The field whose location is a quarantine location (returns): quarantined goods are
    /// never available, and only the kinds of returns move them in or out.
    const QUARANTINE: Option<usize> = None;

    fn request(&self) -> &Request<Self::Line>;
    /// The ref its anchors are kept under: the request's, unless one ref moves goods more than
    /// once (an order's shipments).
    fn anchor_ref(&self) -> &str {
        self.request().r#ref.as_str()
    }
    /// The `ref_line` of line `i`'s ledger entries and anchor: its position, unless the lines
    /// stand for lines of something else (an order's).
    fn ref_line(&self, i: usize) -> u32 {
        i as u32 + 1
    }
    /// All or nothing: a short line refuses the whole request with 409 `INSUFFICIENT_STOCK`.
    fn atomic(&self) -> bool {
        true
    }

    fn item(line: &Self::Line) -> &ItemKey;
    /// The line's location named by field `LOCATION_FIELDS[n]`.
    fn location(line: &Self::Line, n: usize) -> &LocationKey;

    /// Checks a line against what it names, before anchors are read; nothing here may depend
    /// on today's date or stock.
    fn check(_i: usize, _line: &Self::Line, _found: &Found) -> Result<(), AppError> {
        Ok(())
    }
    /// Checks a line that was not applied before against today (e.g. an expiry date already
    /// past).
    fn check_new(_i: usize, _line: &Self::Line, _today: NaiveDate) -> Result<(), AppError> {
        Ok(())
    }
    /// The line's identity (see [`anchors`]).
    fn identity(line: &Self::Line, found: &Found) -> LineKey;
    /// What the line says beyond its identity.
    fn content(line: &Self::Line) -> Content;
    /// The stock changes the line makes; at most one take, and an `Add` of `Lot::Taken` after it.
    fn legs(line: &Self::Line, found: &Found) -> Vec<Leg>;
    /// Why the line changes stock, for its ledger entries (adjustments).
    fn why(_line: &Self::Line) -> Option<Why> {
        None
    }
    /// Whether the line acts on its whole stock rather than one batch (a take or a count over
    /// every batch): then no other line of the request may touch that stock, as its change is
    /// worked out from the stock as it was before the request.
    fn whole_stock(_line: &Self::Line) -> bool {
        false
    }
}

/// How a kind reports one line.
pub trait LineOutcome: Send + Sized {
    /// A line applied now (`OK`) or before (`IDEMPOTENT`): `legs` has what each of its ledger
    /// entries recorded.
    fn applied(
        ref_line: u32,
        found: &Found,
        status: LineStatus,
        content: &Content,
        legs: &[Recorded],
    ) -> Self;
    /// A line left unapplied for want of stock (non-atomic kinds).
    fn short(ref_line: u32, found: &Found, shortage: &Shortage) -> Self;
}

/// The result of a line that moves goods at one stock (receive, outbound).
impl LineOutcome for LineResult {
    fn applied(
        ref_line: u32,
        found: &Found,
        status: LineStatus,
        content: &Content,
        legs: &[Recorded],
    ) -> Self {
        let leg = legs.first().cloned().unwrap_or_default();
        LineResult {
            ref_line,
            item_id: found.item.id,
            location_id: found.locations.first().map_or(0, |l| l.id),
            qty: content.qty,
            status,
            after_qty: Some(leg.after_qty),
            available: None,
            batches: leg.batches,
        }
    }

    fn short(ref_line: u32, found: &Found, shortage: &Shortage) -> Self {
        LineResult {
            ref_line,
            item_id: found.item.id,
            // A movement's shortage is at the line's location, always given.
            location_id: shortage.location_id.unwrap_or_default(),
            qty: shortage.required,
            status: LineStatus::InsufficientStock,
            after_qty: None,
            available: Some(shortage.available),
            batches: Vec::new(),
        }
    }
}

/// Applies `movement` in a write transaction of its own and commits it; contention (SQLite
/// busy, PostgreSQL serialization failures and deadlocks) is retried a bounded number of times
/// ([`Db::write`]), then answered 503.
/// `actor` is who asks (`user:NAME`, `token:NAME`), recorded on every ledger entry.
pub async fn run<M: Movement>(
    db: &Db,
    movement: &M,
    at: Moment,
    actor: Option<&str>,
) -> Result<MovementResponse<M::LineResult>, AppError> {
    db.write(&(movement, actor), |tx, (movement, actor)| {
        Box::pin(apply(tx, *movement, at, *actor))
    })
    .await
}

/// Applies `movement` inside the caller's write transaction, in stages: *resolve* what the
/// lines name, *validate* each line, *lock* the stocks, *replay* the lines applied before,
/// then for the new lines *plan* (in memory, [`plan`]) and *write* each wave, and *report*
/// one result per line. On error the caller must drop the transaction: whatever was written
/// rolls back with it.
pub async fn apply<M: Movement>(
    tx: &mut Tx,
    movement: &M,
    at: Moment,
    actor: Option<&str>,
) -> Result<MovementResponse<M::LineResult>, AppError> {
    let (found, zone) = resolve_lines(tx, movement).await?;
    // "Today" (what has expired) is the warehouse's, where it keeps its own time zone.
    let at = at.in_zone(zone);
    let (keys, mut legs) = validate(movement, &found)?;
    let stocks = lock(tx, &legs, &found).await?;
    let (replays, new_lines) = replay(tx, movement, &keys).await?;

    // The new lines: today's checks, what their counts change, their waves.
    let lines = &movement.request().lines;
    let mut problems = Problems::default();
    for &i in &new_lines {
        problems.check(M::check_new(i, &lines[i], at.today));
    }
    problems.finish()?;
    resolve_counts(tx, &mut legs, &new_lines, &found, &stocks).await?;
    let lines_at = Lines {
        movement,
        found: &found,
        keys: &keys,
        legs: &legs,
        stocks: &stocks,
    };
    let takes = |leg: &Leg| matches!(leg, Leg::Take { .. });
    let adds = |leg: &Leg| matches!(leg, Leg::Add { .. });
    let waves = plan::waves(
        &new_lines,
        |i| lines_at.stocks_of(i, takes),
        |i| lines_at.stocks_of(i, adds),
    );

    let mut results: Vec<Option<M::LineResult>> = (0..lines.len()).map(|_| None).collect();
    let mut qty: HashMap<i64, i64> = stocks.values().map(|s| (s.id, s.qty)).collect();
    let mut shortages = Vec::new();
    for (n, wave) in waves.iter().enumerate() {
        let sources: BTreeSet<i64> = wave
            .iter()
            .flat_map(|&i| lines_at.stocks_of(i, takes))
            .collect();
        let mut lots = batches::load_batches(tx, &sources).await?;
        let (planned, short) = lines_at.plan_wave(wave, &mut lots, at.today);
        shortages.extend(short);
        if movement.atomic() && !shortages.is_empty() && n + 1 == waves.len() {
            // The request is refused: writing this wave would only be rolled back. (Earlier
            // waves were written so later ones report what is available after them.)
            break;
        }
        for (i, result) in lines_at
            .write_wave(tx, &planned, &mut qty, at, actor)
            .await?
        {
            results[i] = Some(result);
        }
    }
    if !shortages.is_empty() && movement.atomic() {
        shortages.sort_by_key(|s| s.ref_line);
        return Err(insufficient_stock(&shortages));
    }
    for shortage in &shortages {
        let i = shortage.ref_line as usize - 1;
        results[i] = Some(M::LineResult::short(shortage.ref_line, &found[i], shortage));
    }
    report(
        tx, movement, &found, replays, results, &new_lines, &shortages,
    )
    .await
}

/// *Resolve*: the items and locations the lines name (everything unknown refused together).
/// Also answers the time zone of the warehouse the request acts in, if it has its own.
async fn resolve_lines<M: Movement>(
    tx: &mut Tx,
    movement: &M,
) -> Result<(Vec<Found>, Option<chrono_tz::Tz>), AppError> {
    let lines = &movement.request().lines;
    let (items, per_field, zone) = resolve::find_in_zone(
        tx,
        lines.iter().map(M::item),
        movement.request().warehouse.as_ref(),
        M::LOCATION_FIELDS
            .iter()
            .enumerate()
            .map(|(n, field)| {
                let scoped = M::TRANSIT != Some(n);
                (
                    *field,
                    scoped,
                    lines.iter().map(|l| M::location(l, n)).collect(),
                )
            })
            .collect(),
    )
    .await?;
    let found = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| Found {
            item,
            locations: per_field.iter().map(|f| f[i].clone()).collect(),
        })
        .collect();
    Ok((found, zone))
}

/// *Validate*: each line on its own, no line twice, no line beside one that acts on its whole
/// stock. Answers each line's identity and the stock changes it makes.
fn validate<M: Movement>(
    movement: &M,
    found: &[Found],
) -> Result<(Vec<LineKey>, Vec<Vec<Leg>>), AppError> {
    let lines = &movement.request().lines;
    let mut keys = Vec::with_capacity(lines.len());
    let mut seen: HashMap<LineKey, usize> = HashMap::new();
    let mut problems = Problems::default();
    for (i, (line, found)) in lines.iter().zip(found).enumerate() {
        problems.check(M::check(i, line, found));
        for (n, location) in found.locations.iter().enumerate() {
            let code = &location.code;
            let refusal = match location.kind.as_str() {
                "transit" if M::TRANSIT != Some(n) => tr!(errors.location.in_transit, code = code),
                "quarantine" if M::QUARANTINE != Some(n) => {
                    tr!(errors.location.quarantined, code = code)
                }
                "quarantine" => continue,
                _ if M::QUARANTINE == Some(n) => tr!(errors.location.not_quarantine, code = code),
                _ => continue,
            };
            problems.note(AppError::validation(
                format!("lines[{i}].{}", M::LOCATION_FIELDS[n]),
                refusal,
            ));
        }
        let key = M::identity(line, found);
        match seen.get(&key) {
            Some(&first) => problems.note(AppError::validation(
                format!("lines[{i}]"),
                tr!(errors.value.repeated_line, first = first, line = first + 1),
            )),
            None => {
                seen.insert(key.clone(), i);
            }
        }
        keys.push(key);
    }
    let mut at_stock: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    for (i, found) in found.iter().enumerate() {
        for location in &found.locations {
            at_stock
                .entry((found.item.id, location.id))
                .or_default()
                .push(i);
        }
    }
    let mut shared: Vec<(usize, usize)> = at_stock
        .values()
        .filter(|at| at.len() > 1 && at.iter().any(|&i| M::whole_stock(&lines[i])))
        .flat_map(|at| at[1..].iter().map(|&i| (i, at[0])))
        .collect();
    shared.sort_unstable();
    shared.dedup_by_key(|(i, _)| *i);
    for (i, first) in shared {
        problems.note(AppError::validation(
            format!("lines[{i}]"),
            tr!(errors.value.shares_whole_stock, line = first + 1),
        ));
    }
    problems.finish()?;
    let legs = lines
        .iter()
        .zip(found)
        .map(|(line, found)| M::legs(line, found))
        .collect();
    Ok((keys, legs))
}

/// *Lock*: every stock the lines touch, sorted. Kinds that add goods create missing rows
/// (sources too, so all rows lock in one sorted pass; a missing source is a short line, which
/// refuses the request and rolls the empty row back).
async fn lock(
    tx: &mut Tx,
    legs: &[Vec<Leg>],
    found: &[Found],
) -> Result<HashMap<(i64, i64), stock::StockRow>, AppError> {
    let creates = legs
        .iter()
        .flatten()
        .any(|l| matches!(l, Leg::Add { .. } | Leg::Set { .. }));
    let stock_keys: BTreeSet<(i64, i64)> = legs
        .iter()
        .zip(found)
        .flat_map(|(legs, f)| legs.iter().map(|leg| (f.item.id, leg.location())))
        .collect();
    stock::lock_stocks(tx, &stock_keys, creates).await
}

/// *Replay*: the ref's anchors, read after the locks (a twin request that held them has
/// committed) and before any check that depends on today's date or stock (a retry after
/// midnight is still a retry). Answers the lines applied before, with their anchors, and the
/// new lines; a line applied before with other content refuses the request.
async fn replay<M: Movement>(
    tx: &mut Tx,
    movement: &M,
    keys: &[LineKey],
) -> Result<(Vec<(usize, Anchor)>, Vec<usize>), AppError> {
    let lines = &movement.request().lines;
    let r#ref = movement.request().r#ref.as_str();
    let mut anchored = anchors::read(tx, M::KIND, movement.anchor_ref()).await?;
    let mut replays = Vec::new();
    let mut new_lines = Vec::new();
    for (i, (line, key)) in lines.iter().zip(keys).enumerate() {
        match anchored.remove(key) {
            Some(anchor) => {
                let sent = M::content(line);
                if anchor.content != sent {
                    return Err(anchors::conflict(r#ref, i, &anchor.content, &sent));
                }
                replays.push((i, anchor));
            }
            None => new_lines.push(i),
        }
    }
    Ok((replays, new_lines))
}

/// A request's lines with what the stages before *plan* found for them.
struct Lines<'a, M: Movement> {
    movement: &'a M,
    found: &'a [Found],
    keys: &'a [LineKey],
    legs: &'a [Vec<Leg>],
    stocks: &'a HashMap<(i64, i64), stock::StockRow>,
}

/// A line of a wave as planned: what each of its legs takes (empty for an addition).
type Planned = (usize, Vec<batches::Plan>);

impl<M: Movement> Lines<'_, M> {
    fn stock_of(&self, i: usize, leg: &Leg) -> Option<&stock::StockRow> {
        self.stocks.get(&(self.found[i].item.id, leg.location()))
    }

    /// The stocks of line `i`'s legs that `which` picks (its takes, its additions).
    fn stocks_of(&self, i: usize, which: impl Fn(&Leg) -> bool) -> Vec<i64> {
        self.legs[i]
            .iter()
            .filter(|leg| which(leg))
            .filter_map(|leg| self.stock_of(i, leg).map(|s| s.id))
            .collect()
    }

    /// *Plan* a wave, in memory: what each take of each line takes from `lots` (the wave's
    /// sources' batches, left with what remains), or the line's shortage.
    fn plan_wave(
        &self,
        wave: &[usize],
        lots: &mut HashMap<i64, Vec<batches::BatchRow>>,
        today: NaiveDate,
    ) -> (Vec<Planned>, Vec<Shortage>) {
        let mut planned = Vec::new();
        let mut shortages = Vec::new();
        for &i in wave {
            let mut line_plans = Vec::with_capacity(self.legs[i].len());
            let mut short = None;
            for leg in &self.legs[i] {
                let Leg::Take { qty, pick, .. } = leg else {
                    line_plans.push(Vec::new());
                    continue;
                };
                let at_stock = self.stock_of(i, leg).map(|s| lots.entry(s.id).or_default());
                match at_stock.map(|lots| plan::take(lots, *qty, pick, today)) {
                    Some(Ok(plan)) => line_plans.push(plan),
                    Some(Err(available)) => short = Some((leg.location(), *qty, available)),
                    None => short = Some((leg.location(), *qty, 0)),
                }
            }
            match short {
                Some((location_id, required, available)) => shortages.push(Shortage {
                    ref_line: i as u32 + 1,
                    item_id: self.found[i].item.id,
                    sku: None,
                    location_id: Some(location_id),
                    required,
                    available,
                }),
                None => planned.push((i, line_plans)),
            }
        }
        (planned, shortages)
    }

    /// *Write* a planned wave: batches out, lots in, stocks (and with them the
    /// [`projections`](crate::movement::projections)), ledger entries, anchors. `qty` follows
    /// each stock's qty across waves. Answers each written line's result.
    async fn write_wave(
        &self,
        tx: &mut Tx,
        planned: &[Planned],
        qty: &mut HashMap<i64, i64>,
        at: Moment,
        actor: Option<&str>,
    ) -> Result<Vec<(usize, M::LineResult)>, AppError> {
        let (movement, found, legs) = (self.movement, self.found, self.legs);
        let lines = &movement.request().lines;
        let mut takes: HashMap<i64, (i64, i64)> = HashMap::new();
        // What physical takes left orders holding that is no longer there: batch → qty.
        let mut lost: BTreeMap<i64, i64> = BTreeMap::new();
        let mut adds: Vec<LotAdd> = Vec::new();
        let mut add_at: HashMap<(i64, String), usize> = HashMap::new();
        // Per planned line and leg: the lots an addition goes into, (add index, qty).
        let mut leg_adds: Vec<Vec<Vec<(usize, i64)>>> = Vec::with_capacity(planned.len());
        for (i, plans) in planned {
            let i = *i;
            let mut per_leg = Vec::with_capacity(legs[i].len());
            let taken: Vec<&batches::Taken> = plans.iter().flatten().collect();
            for (leg, plan) in legs[i].iter().zip(plans) {
                let physical = matches!(
                    leg,
                    Leg::Take {
                        pick: Pick::Any | Pick::Lot { .. },
                        ..
                    }
                );
                for taken in plan {
                    let entry = takes.entry(taken.batch.id).or_default();
                    entry.0 += taken.qty;
                    entry.1 += taken.unreserve;
                    if physical && taken.unreserve > 0 {
                        *lost.entry(taken.batch.id).or_default() += taken.unreserve;
                    }
                }
                let Leg::Add {
                    lot, qty: leg_qty, ..
                } = leg
                else {
                    per_leg.push(Vec::new());
                    continue;
                };
                let Some(target) = self.stock_of(i, leg).map(|s| s.id) else {
                    return Err(missing_stock());
                };
                let parts: Vec<(String, Option<NaiveDate>, Option<NaiveDate>, i64)> = match lot {
                    Lot::Named {
                        code,
                        expiry_date,
                        production_date,
                    } => vec![(code.clone(), *expiry_date, *production_date, *leg_qty)],
                    Lot::Taken => taken
                        .iter()
                        .map(|t| {
                            (
                                t.batch.batch_code.clone(),
                                t.batch.expiry_date,
                                t.batch.production_date,
                                t.qty,
                            )
                        })
                        .collect(),
                };
                let mut into = Vec::with_capacity(parts.len());
                for (code, expiry_date, production_date, part) in parts {
                    let field = format!("lines[{i}].batch_code");
                    let k = match add_at.get(&(target, code.clone())) {
                        Some(&k) => {
                            let add = &mut adds[k];
                            if add.expiry_date != expiry_date
                                || add.production_date != production_date
                            {
                                let twice = tr!(errors.conflict.lot_twice, code = &code);
                                return Err(AppError::conflict(format!("{field}: {twice}"))
                                    .with_details(serde_json::json!({ "field": field })));
                            }
                            add.qty += part;
                            k
                        }
                        None => {
                            add_at.insert((target, code.clone()), adds.len());
                            adds.push(LotAdd {
                                stock_id: target,
                                item_id: found[i].item.id,
                                location_id: leg.location(),
                                code,
                                expiry_date,
                                production_date,
                                qty: part,
                                field,
                            });
                            adds.len() - 1
                        }
                    };
                    into.push((k, part));
                }
                per_leg.push(into);
            }
            leg_adds.push(per_leg);
        }
        // The takes go with the stocks' change (one statement on PostgreSQL) unless lots are
        // added or reservations released after them.
        let no_takes = HashMap::new();
        let takes_later = adds.is_empty() && lost.is_empty();
        if !takes_later {
            batches::take_from_batches(tx, &takes).await?;
        }
        projections::reservations::release_lost(tx, &lost, at.now).await?;
        let added = batches::add_to_lots(tx, &adds).await?;

        let mut entries = Vec::new();
        let mut outcomes: Vec<Vec<Recorded>> = Vec::with_capacity(planned.len());
        for ((i, plans), per_leg) in planned.iter().zip(&leg_adds) {
            let i = *i;
            let mut recorded = Vec::with_capacity(legs[i].len());
            for ((leg, plan), into) in legs[i].iter().zip(plans).zip(per_leg) {
                let Some(stock) = self.stock_of(i, leg) else {
                    return Err(missing_stock());
                };
                let (delta, detail): (i64, Vec<BatchDetail>) = match leg {
                    Leg::Take { qty, .. } => (
                        -qty,
                        plan.iter()
                            .map(|t| BatchDetail {
                                batch_id: t.batch.id,
                                batch_code: t.batch.batch_code.clone(),
                                expiry_date: t.batch.expiry_date,
                                production_date: t.batch.production_date,
                                delta: -t.qty,
                            })
                            .collect(),
                    ),
                    Leg::Set { .. } => return Err(unresolved_count()),
                    Leg::Add { qty, .. } => (
                        *qty,
                        into.iter()
                            .map(|&(k, part)| BatchDetail {
                                batch_id: added[k].batch_id,
                                batch_code: adds[k].code.clone(),
                                expiry_date: added[k].expiry_date,
                                production_date: added[k].production_date,
                                delta: part,
                            })
                            .collect(),
                    ),
                };
                let after = qty.entry(stock.id).or_default();
                *after += delta;
                recorded.push(Recorded {
                    delta,
                    after_qty: *after,
                    batches: fefo_sorted(&detail),
                });
                entries.push(LedgerEntry {
                    stock_id: stock.id,
                    item_id: found[i].item.id,
                    location_id: leg.location(),
                    delta,
                    after_qty: *after,
                    ref_line: movement.ref_line(i),
                    batches: detail,
                    why: M::why(&lines[i]),
                });
            }
            outcomes.push(recorded);
        }
        let taken = if takes_later { &takes } else { &no_takes };
        let emptied = stock::change_stocks(tx, taken, &entries).await?;

        let mut next_entry = 0;
        let mut new_anchors = Vec::with_capacity(planned.len());
        let mut results = Vec::with_capacity(planned.len());
        for ((i, _), recorded) in planned.iter().zip(outcomes) {
            let i = *i;
            let content = M::content(&lines[i]);
            new_anchors.push(NewAnchor {
                anchor: Anchor {
                    ref_line: movement.ref_line(i),
                    key: self.keys[i].clone(),
                    ledger_ids: Vec::new(),
                    content: content.clone(),
                },
                entries: next_entry..next_entry + legs[i].len(),
            });
            next_entry += legs[i].len();
            results.push((
                i,
                M::LineResult::applied(
                    i as u32 + 1,
                    &found[i],
                    LineStatus::Ok,
                    &content,
                    &recorded,
                ),
            ));
        }
        let stamp = Stamp {
            r#ref: movement.request().r#ref.as_str(),
            reason: M::REASON,
            occurred_at: at.now,
            actor,
        };
        record::record(
            tx,
            M::KIND,
            movement.anchor_ref(),
            stamp,
            &entries,
            new_anchors,
            &emptied,
        )
        .await?;
        Ok(results)
    }
}

/// *Report*: one result per line, in request order; the lines applied before from what their
/// ledger entries recorded.
async fn report<M: Movement>(
    tx: &mut Tx,
    movement: &M,
    found: &[Found],
    replays: Vec<(usize, Anchor)>,
    mut results: Vec<Option<M::LineResult>>,
    new_lines: &[usize],
    shortages: &[Shortage],
) -> Result<MovementResponse<M::LineResult>, AppError> {
    let ids: BTreeSet<i64> = replays
        .iter()
        .flat_map(|(_, a)| a.ledger_ids.iter().copied())
        .collect();
    let recorded = ledger::recorded(tx, &ids).await?;
    for (i, anchor) in replays {
        let legs: Vec<Recorded> = anchor
            .ledger_ids
            .iter()
            .map(|id| recorded.get(id).cloned().unwrap_or_default())
            .collect();
        results[i] = Some(M::LineResult::applied(
            i as u32 + 1,
            &found[i],
            LineStatus::Idempotent,
            &anchor.content,
            &legs,
        ));
    }
    let lines = results
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            AppError::internal(&std::io::Error::other("a movement line got no result"))
        })?;
    let status = LineStatus::overall(statuses(new_lines, shortages, lines.len()));
    Ok(MovementResponse {
        r#ref: movement.request().r#ref.as_str().to_string(),
        status,
        lines,
    })
}

/// Every line's status, from which lines were new and which of them were short.
fn statuses(new_lines: &[usize], shortages: &[Shortage], n: usize) -> Vec<LineStatus> {
    let mut statuses = vec![LineStatus::Idempotent; n];
    for &i in new_lines {
        statuses[i] = LineStatus::Ok;
    }
    for shortage in shortages {
        statuses[shortage.ref_line as usize - 1] = LineStatus::InsufficientStock;
    }
    statuses
}

/// A batch detail as a result shows it: positive qty, earliest expiry first.
fn fefo_sorted(detail: &[BatchDetail]) -> Vec<BatchQty> {
    let mut sorted: Vec<&BatchDetail> = detail.iter().collect();
    sorted.sort_by_key(|b| (b.expiry_date.is_none(), b.expiry_date, b.batch_id));
    sorted
        .into_iter()
        .map(|b| BatchQty {
            batch_code: b.batch_code.clone(),
            expiry_date: b.expiry_date,
            qty: b.delta.abs(),
        })
        .collect()
}

fn unresolved_count() -> AppError {
    AppError::internal(&std::io::Error::other(
        "a count leg reached the writing of its wave unresolved",
    ))
}

fn missing_stock() -> AppError {
    AppError::internal(&std::io::Error::other(
        "a movement leg's stock was not locked",
    ))
}

/// Turns the `Set` legs of the lines applied now into the change they make, against the stocks
/// as locked (and their batches, for a batch's count).
async fn resolve_counts(
    tx: &mut Tx,
    legs: &mut [Vec<Leg>],
    new_lines: &[usize],
    found: &[Found],
    stocks: &HashMap<(i64, i64), stock::StockRow>,
) -> Result<(), AppError> {
    let counts = |i: &usize| legs[*i].iter().any(|l| matches!(l, Leg::Set { .. }));
    let counted: Vec<usize> = new_lines.iter().copied().filter(counts).collect();
    if counted.is_empty() {
        return Ok(());
    }
    let stock_ids: BTreeSet<i64> = counted
        .iter()
        .flat_map(|&i| {
            legs[i]
                .iter()
                .filter_map(move |leg| stocks.get(&(found[i].item.id, leg.location())))
                .map(|s| s.id)
        })
        .collect();
    let lots = batches::load_batches(tx, &stock_ids).await?;
    for i in counted {
        let item = found[i].item.id;
        legs[i] = std::mem::take(&mut legs[i])
            .into_iter()
            .filter_map(|leg| {
                let Leg::Set {
                    location,
                    counted,
                    batch,
                } = leg
                else {
                    return Some(leg);
                };
                let stock = stocks.get(&(item, location));
                let now = match &batch {
                    None => stock.map_or(0, |s| s.qty),
                    Some(code) => stock.and_then(|s| lots.get(&s.id)).map_or(0, |lots| {
                        lots.iter()
                            .filter(|b| b.batch_code == *code)
                            .map(|b| b.qty)
                            .sum()
                    }),
                };
                plan::count(location, counted, batch, now)
            })
            .collect();
    }
    Ok(())
}
