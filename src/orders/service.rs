//! Orders on the database (SPEC §10): create (reserving by FEFO), reserve again, pick, ship
//! (through the movement pipeline), cancel, read. Every write is one transaction that locks
//! the order's row, then the stocks it may hold, in the one global order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::QueryBuilder;

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::domain::{check_line_count, parse_search, BatchCode, Paging, Qty, Ref, MAX_QTY};
use crate::error::{AppError, ErrorCode, Problems};
use crate::movement::anchors::{Content, LineKey};
use crate::movement::ledger::Reason;
use crate::movement::pipeline::{self, Found, Leg, Moment, Movement, Pick};
use crate::movement::{resolve, ItemKey, LineResult, LocationKey, Request};
use crate::orders::reservations::{self, AllocationRow, Candidate, NewAllocation, OrderRow};
use crate::orders::{
    Allocation, LineQty, NewOrder, Order, OrderFilter, OrderLine, OrderList, OrderStatus,
    OrderSummary, PickInput, PickList, PickRow, Policy, ShipInput,
};
use crate::search::like_pattern;
use crate::with_tx;

/// A new order, parsed.
struct Parsed {
    r#ref: Ref,
    policy: Policy,
    /// Per line: the item and how many.
    lines: Vec<(ItemKey, i64)>,
}

fn parse_order(input: &NewOrder) -> Result<Parsed, AppError> {
    let mut problems = Problems::default();
    let policy = match input.policy.as_deref().map(str::trim) {
        None | Some("") => Some(Policy::Partial),
        Some(name) => problems.check(
            Policy::from_name(name)
                .ok_or_else(|| AppError::validation("policy", tr!(errors.order.policy))),
        ),
    };
    let r#ref = problems.check(Ref::parse("ref", &input.r#ref));
    problems.check(check_line_count(input.lines.len()));
    let lines: Vec<Option<(ItemKey, i64)>> = input
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let prefix = format!("lines[{i}]");
            let item = problems.check(ItemKey::parse(&prefix, line.item_id, line.sku.as_deref()));
            let qty = problems.check(Qty::parse(&format!("{prefix}.qty"), line.qty));
            Some((item?, qty?.get()))
        })
        .collect();
    problems.finish()?;
    match (r#ref, policy, lines.into_iter().collect::<Option<Vec<_>>>()) {
        (Some(r#ref), Some(policy), Some(lines)) => Ok(Parsed {
            r#ref,
            policy,
            lines,
        }),
        _ => Err(AppError::new(ErrorCode::Internal, tr!(errors.internal))),
    }
}

/// Checks a new order's own text (ref, policy, lines) as `POST /orders` does before it reads
/// the database (the request decoders' fuzz target).
pub fn validate_order(input: &NewOrder) -> Result<(), AppError> {
    parse_order(input).map(drop)
}

/// Checks a pick request's own text as `POST /orders/{ref}/pick` does first.
pub fn validate_picks(input: &PickInput) -> Result<(), AppError> {
    parse_picks(input).map(drop)
}

fn not_found(r#ref: &str) -> AppError {
    AppError::not_found(tr!(errors.order.not_found, reference = r#ref))
}

/// The refusal of a change to an order that is shipped or cancelled.
fn closed(order: &OrderRow) -> AppError {
    let status = order.status();
    let message = match status {
        OrderStatus::Shipped => tr!(errors.order.shipped, reference = &order.r#ref),
        _ => tr!(errors.order.cancelled, reference = &order.r#ref),
    };
    AppError::conflict(message).with_details(json!({"status": status.as_str()}))
}

/// Creates order `input` and reserves what it can (SPEC §10); `true` with it when it is new.
/// The same ref with the same lines answers the existing order; with other lines, 409
/// `IDEMPOTENCY_CONFLICT`. `all_or_nothing` with a shortage is 409 `INSUFFICIENT_STOCK`,
/// nothing written.
pub async fn create_order(
    db: &Db,
    config: &Config,
    input: &NewOrder,
    actor: Option<&str>,
) -> Result<(bool, Order), AppError> {
    let parsed = parse_order(input)?;
    let at = config.moment();
    db.write(&(&parsed, actor), |tx, (parsed, actor)| {
        Box::pin(async move {
            let items = resolve::find_items(tx, parsed.lines.iter().map(|(key, _)| key)).await?;
            let mut problems = Problems::default();
            let mut first: HashMap<i64, usize> = HashMap::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(&j) = first.get(&item.id) {
                    problems.note(AppError::validation(
                        format!("lines[{i}]"),
                        tr!(errors.order.repeated_item, line = j + 1),
                    ));
                } else {
                    first.insert(item.id, i);
                }
            }
            problems.finish()?;
            let wanted: Vec<(i64, i64)> = items
                .iter()
                .zip(&parsed.lines)
                .map(|(item, (_, qty))| (item.id, *qty))
                .collect();
            let r#ref = parsed.r#ref.as_str();
            if let Some(existing) = reservations::lock_order(tx, r#ref).await? {
                return existing_order(tx, &existing, &wanted).await;
            }
            let id: Option<i64> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
                "INSERT INTO orders (ref, policy, status, created_at, created_by, updated_at, search_text) \
                 VALUES ($1, $2, 'BACKORDERED', $3, $4, $3, $5) ON CONFLICT (ref) DO NOTHING RETURNING id"
            )
            .bind(r#ref)
            .bind(parsed.policy.as_str())
            .bind(at.now)
            .bind(*actor)
            .bind(crate::search::order_search_text(r#ref))
            .fetch_optional(&mut *conn)
            .await?);
            let Some(id) = id else {
                // A twin request created it meanwhile (and has committed).
                let existing = reservations::lock_order(tx, r#ref)
                    .await?
                    .ok_or_else(|| not_found(r#ref))?;
                return existing_order(tx, &existing, &wanted).await;
            };
            for (n, chunk) in wanted.chunks(crate::movement::ROWS_PER_STATEMENT).enumerate() {
                with_tx!(tx, |conn, _backend| {
                    let mut query =
                        QueryBuilder::new("INSERT INTO order_lines (order_id, line, item_id, qty) ");
                    query.push_values(chunk.iter().enumerate(), |mut row, (i, (item, qty))| {
                        let line = (n * crate::movement::ROWS_PER_STATEMENT + i + 1) as i32;
                        row.push_bind(id).push_bind(line).push_bind(*item).push_bind(*qty);
                    });
                    query.build().execute(&mut *conn).await.map(drop)?
                });
            }
            let item_ids: BTreeSet<i64> = wanted.iter().map(|(item, _)| *item).collect();
            let mut candidates = reservations::lock_candidates(tx, &item_ids, true).await?;
            let mut new = Vec::new();
            let mut shortages = Vec::new();
            for (i, (item, qty)) in wanted.iter().enumerate() {
                let line = i as i32 + 1;
                let chosen = reservations::choose(&mut candidates, *item, *qty, at.today, &[]);
                let got: i64 = chosen.iter().map(|(_, q)| q).sum();
                if got < *qty {
                    shortages.push(json!({
                        "ref_line": line,
                        "item_id": item,
                        "sku": items[i].sku,
                        "required": qty,
                        "available": got,
                    }));
                }
                new.extend(allocations_of(&candidates, line, &chosen));
            }
            if parsed.policy == Policy::AllOrNothing && !shortages.is_empty() {
                return Err(AppError::new(
                    ErrorCode::InsufficientStock,
                    tr!(errors.insufficient_stock, count = shortages.len()),
                )
                .with_details(json!({ "shortages": shortages })));
            }
            reservations::insert_allocations(tx, id, &new).await?;
            crate::movement::projections::reservations::refresh_status(tx, &BTreeSet::from([id]), at.now).await?;
            Ok((true, load_order(tx, id).await?))
        })
    })
    .await
}

/// The order a create names again: the same lines answer it as it is now, others are refused.
async fn existing_order(
    tx: &mut Tx,
    existing: &OrderRow,
    wanted: &[(i64, i64)],
) -> Result<(bool, Order), AppError> {
    let lines: Vec<(i64, i64)> = with_tx!(tx, |conn, _backend| sqlx::query_as(
        "SELECT item_id, qty FROM order_lines WHERE order_id = $1 ORDER BY line"
    )
    .bind(existing.id)
    .fetch_all(&mut *conn)
    .await?);
    if lines != wanted {
        return Err(AppError::new(
            ErrorCode::IdempotencyConflict,
            tr!(errors.order.other_lines, reference = &existing.r#ref),
        )
        .with_details(json!({"ref": existing.r#ref})));
    }
    Ok((false, load_order(tx, existing.id).await?))
}

/// New allocations of line `line` from what [`reservations::choose`] chose.
fn allocations_of(
    candidates: &[Candidate],
    line: i32,
    chosen: &[(usize, i64)],
) -> Vec<NewAllocation> {
    chosen
        .iter()
        .map(|&(i, qty)| NewAllocation {
            line,
            batch_id: candidates[i].id,
            item_id: candidates[i].item_id,
            location_id: candidates[i].location_id,
            qty,
        })
        .collect()
}

/// One line of a held order.
#[derive(Debug, Clone, sqlx::FromRow)]
struct HeldLine {
    line: i32,
    item_id: i64,
    qty: i64,
    sku: String,
    name: String,
}

/// An open order, locked with every stock it may hold, and what it holds.
struct Held {
    order: OrderRow,
    /// In line order.
    lines: Vec<HeldLine>,
    allocations: Vec<AllocationRow>,
    /// The batches it may hold (loaded when it may reserve).
    candidates: Vec<Candidate>,
    /// Allocations changed in memory, by index.
    changed: BTreeSet<usize>,
    new: Vec<NewAllocation>,
    /// Batch id → change of `reserved` from changed allocations.
    reserved: BTreeMap<i64, i64>,
}

/// Locks order `ref` (404 if there is none; 409 if it is shipped or cancelled) and the stocks
/// it may hold, with the batches it may reserve.
async fn hold(tx: &mut Tx, r#ref: &str) -> Result<Held, AppError> {
    let order = reservations::lock_order(tx, r#ref)
        .await?
        .ok_or_else(|| not_found(r#ref))?;
    if !order.status().open() {
        return Err(closed(&order));
    }
    hold_locked(tx, order, true).await
}

/// [`hold`] for an order already locked; `candidates`: load the batches it may reserve.
async fn hold_locked(tx: &mut Tx, order: OrderRow, candidates: bool) -> Result<Held, AppError> {
    let lines: Vec<HeldLine> = with_tx!(tx, |conn, _backend| sqlx::query_as(
        "SELECT ol.line, ol.item_id, ol.qty, i.sku, i.name FROM order_lines ol \
         JOIN items i ON i.id = ol.item_id WHERE ol.order_id = $1 ORDER BY ol.line"
    )
    .bind(order.id)
    .fetch_all(&mut *conn)
    .await?);
    let items: BTreeSet<i64> = lines.iter().map(|l| l.item_id).collect();
    let candidates = reservations::lock_candidates(tx, &items, candidates).await?;
    let allocations = reservations::allocations(tx, order.id).await?;
    Ok(Held {
        order,
        lines,
        allocations,
        candidates,
        changed: BTreeSet::new(),
        new: Vec::new(),
        reserved: BTreeMap::new(),
    })
}

impl Held {
    /// Releases `qty` of allocation `a` (what is picked of it stays picked, up to what is left).
    fn release(&mut self, a: usize, qty: i64) {
        if qty <= 0 {
            return;
        }
        let row = &mut self.allocations[a];
        row.qty -= qty;
        row.picked = row.picked.min(row.qty);
        *self.reserved.entry(row.batch_id).or_default() -= qty;
        let batch = row.batch_id;
        if let Some(c) = self.candidates.iter_mut().find(|c| c.id == batch) {
            c.reserved -= qty;
        }
        self.changed.insert(a);
    }

    /// Reserves up to `qty` more for line `line`, not at the locations of `exclude`; gives
    /// what it reserved.
    fn reserve(&mut self, line: i32, qty: i64, today: chrono::NaiveDate, exclude: &[i64]) -> i64 {
        let Some(item) = self
            .lines
            .iter()
            .find(|l| l.line == line)
            .map(|l| l.item_id)
        else {
            return 0;
        };
        let chosen = reservations::choose(&mut self.candidates, item, qty, today, exclude);
        self.new
            .extend(allocations_of(&self.candidates, line, &chosen));
        chosen.iter().map(|(_, q)| q).sum()
    }

    /// Re-allocates what the order holds of batches that have expired (never shipped).
    fn renew_expired(&mut self, today: chrono::NaiveDate) {
        let expired: Vec<(usize, i32, i64)> = self
            .allocations
            .iter()
            .enumerate()
            .filter(|(_, a)| a.qty > 0 && !crate::movement::usable(a.expiry_date, today))
            .map(|(i, a)| (i, a.line, a.qty))
            .collect();
        for (a, line, qty) in expired {
            self.release(a, qty);
            self.reserve(line, qty, today, &[]);
        }
    }

    /// Reserves what each line still lacks.
    fn reserve_backorders(&mut self, today: chrono::NaiveDate) {
        let lines: Vec<(i32, i64)> = self.lines.iter().map(|l| (l.line, l.qty)).collect();
        for (line, qty) in lines {
            let held: i64 = self
                .allocations
                .iter()
                .filter(|a| a.line == line)
                .map(|a| a.qty + a.shipped)
                .sum::<i64>()
                + self
                    .new
                    .iter()
                    .filter(|n| n.line == line)
                    .map(|n| n.qty)
                    .sum::<i64>();
            if held < qty {
                self.reserve(line, qty - held, today, &[]);
            }
        }
    }

    /// Writes what changed, and the order's status.
    async fn write(self, tx: &mut Tx, now: DateTime<Utc>) -> Result<i64, AppError> {
        let changed: Vec<&AllocationRow> =
            self.changed.iter().map(|&a| &self.allocations[a]).collect();
        reservations::update_allocations(tx, &changed).await?;
        reservations::change_reserved(tx, &self.reserved).await?;
        reservations::insert_allocations(tx, self.order.id, &self.new).await?;
        crate::movement::projections::reservations::refresh_status(
            tx,
            &BTreeSet::from([self.order.id]),
            now,
        )
        .await?;
        Ok(self.order.id)
    }
}

/// `POST /orders/{ref}/reserve`: reserves what is backordered (after receipts), and
/// re-allocates what the order held of batches that have since expired.
pub async fn reserve(db: &Db, config: &Config, r#ref: &str) -> Result<Order, AppError> {
    let at = config.moment();
    db.write(&r#ref, |tx, r#ref| {
        Box::pin(async move {
            let mut held = hold(tx, r#ref).await?;
            held.renew_expired(at.today);
            held.reserve_backorders(at.today);
            let id = held.write(tx, at.now).await?;
            load_order(tx, id).await
        })
    })
    .await
}

/// A pick line, parsed.
struct PickLine {
    location: LocationKey,
    item: ItemKey,
    batch_code: Option<BatchCode>,
    qty: i64,
}

fn parse_picks(input: &PickInput) -> Result<Vec<PickLine>, AppError> {
    check_line_count(input.lines.len())?;
    let mut problems = Problems::default();
    let lines: Vec<Option<PickLine>> = input
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let prefix = format!("lines[{i}]");
            let location = problems.check(LocationKey::parse(
                &format!("{prefix}.location_code"),
                None,
                Some(&line.location_code),
            ));
            let item = problems.check(ItemKey::parse(&prefix, line.item_id, line.sku.as_deref()));
            let batch_code = problems.check(crate::movement::parse_batch_code(
                &prefix,
                crate::movement::non_blank(&line.batch_code),
            ));
            let qty = if (0..=MAX_QTY).contains(&line.qty) {
                Some(line.qty)
            } else {
                problems.note(AppError::validation(
                    format!("{prefix}.qty"),
                    tr!(errors.order.pick_qty, max = MAX_QTY),
                ));
                None
            };
            Some(PickLine {
                location: location?,
                item: item?,
                batch_code: batch_code?,
                qty: qty?,
            })
        })
        .collect();
    problems.finish()?;
    lines
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| AppError::new(ErrorCode::Internal, tr!(errors.internal)))
}

/// `POST /orders/{ref}/pick`: confirms what was picked at each place — the whole quantity
/// picked there, so a retry changes nothing. Less than allocated is a short pick: the rest is
/// released and reserved elsewhere if there is stock, else backordered. More than allocated,
/// or a place not allocated, is 422 and nothing changes.
pub async fn pick(
    db: &Db,
    config: &Config,
    r#ref: &str,
    input: &PickInput,
) -> Result<Order, AppError> {
    let picks = parse_picks(input)?;
    let at = config.moment();
    db.write(&(r#ref, &picks), |tx, (r#ref, picks)| {
        Box::pin(async move {
            let (items, mut locations) = resolve::find(
                tx,
                picks.iter().map(|p| &p.item),
                vec![("location_code", picks.iter().map(|p| &p.location).collect())],
            )
            .await?;
            let locations = locations.pop().unwrap_or_default();
            let mut held = hold(tx, r#ref).await?;
            let mut problems = Problems::default();
            let mut seen: HashMap<(i64, i64, Option<&str>), usize> = HashMap::new();
            let mut shorts: Vec<(i32, i64, i64)> = Vec::new();
            for (i, pick) in picks.iter().enumerate() {
                let field = format!("lines[{i}]");
                let (item, location) = (&items[i], &locations[i]);
                let batch = pick.batch_code.as_ref().map(BatchCode::as_str);
                if let Some(&first) = seen.get(&(item.id, location.id, batch)) {
                    problems.note(AppError::validation(
                        field,
                        tr!(errors.order.repeated_pick, line = first + 1),
                    ));
                    continue;
                }
                seen.insert((item.id, location.id, batch), i);
                let here: Vec<usize> = held
                    .allocations
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| {
                        a.item_id == item.id
                            && a.location_id == location.id
                            && batch.is_none_or(|b| a.batch_code == b)
                            && (a.qty > 0 || a.picked > 0)
                    })
                    .map(|(n, _)| n)
                    .collect();
                let allocated: i64 = here.iter().map(|&n| held.allocations[n].qty).sum();
                if here.is_empty() {
                    let message = match batch {
                        Some(batch) => tr!(
                            errors.order.not_allocated_batch,
                            batch = batch,
                            sku = &item.sku,
                            code = &location.code,
                            reference = r#ref
                        ),
                        None => tr!(
                            errors.order.not_allocated,
                            sku = &item.sku,
                            code = &location.code,
                            reference = r#ref
                        ),
                    };
                    problems.note(AppError::validation(field, message));
                    continue;
                }
                if pick.qty > allocated {
                    problems.note(AppError::validation(
                        format!("{field}.qty"),
                        tr!(errors.order.pick_more, qty = allocated, sku = &item.sku),
                    ));
                    continue;
                }
                let mut left = pick.qty;
                for &n in &here {
                    let a = &mut held.allocations[n];
                    let picked = a.qty.min(left);
                    left -= picked;
                    if a.picked != picked {
                        a.picked = picked;
                        held.changed.insert(n);
                    }
                    let short = a.qty - picked;
                    if short > 0 {
                        let line = a.line;
                        held.release(n, short);
                        shorts.push((line, short, location.id));
                    }
                }
            }
            problems.finish()?;
            // What was not found is reserved elsewhere: at none of the places found short.
            let short_at: Vec<i64> = shorts.iter().map(|(_, _, location)| *location).collect();
            for (line, short, _) in shorts {
                held.reserve(line, short, at.today, &short_at);
            }
            let id = held.write(tx, at.now).await?;
            load_order(tx, id).await
        })
    })
    .await
}

/// An order's shipment through the movement pipeline: one line per batch, taking the order's
/// own reservation; ledger entries carry the order's ref and line, anchors `<ref>#<n>`.
struct Shipment {
    request: Request<ShipLine>,
    anchor_ref: String,
}

struct ShipLine {
    line: u32,
    item: ItemKey,
    location: LocationKey,
    batch_code: String,
    qty: i64,
}

impl Movement for Shipment {
    type Line = ShipLine;
    type LineResult = LineResult;

    const REASON: Reason = Reason("OUTBOUND");
    const KIND: &'static str = "SHIP";
    const LOCATION_FIELDS: &'static [&'static str] = &["location_code"];

    fn request(&self) -> &Request<ShipLine> {
        &self.request
    }

    fn anchor_ref(&self) -> &str {
        &self.anchor_ref
    }

    fn ref_line(&self, i: usize) -> u32 {
        self.request.lines.get(i).map_or(1, |l| l.line)
    }

    fn item(line: &ShipLine) -> &ItemKey {
        &line.item
    }

    fn location(line: &ShipLine, _n: usize) -> &LocationKey {
        &line.location
    }

    fn identity(line: &ShipLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: found.locations.iter().map(|l| l.id).collect(),
            lot: Some(line.batch_code.clone()),
        }
    }

    fn content(line: &ShipLine) -> Content {
        Content {
            qty: line.qty,
            ..Content::default()
        }
    }

    fn legs(line: &ShipLine, found: &Found) -> Vec<Leg> {
        vec![Leg::Take {
            location: found.locations.first().map_or(0, |l| l.id),
            qty: line.qty,
            pick: Pick::Reserved {
                code: line.batch_code.clone(),
            },
        }]
    }
}

/// `POST /orders/{ref}/ship`: ships what is picked and not yet shipped — or, with
/// `reserved`, all that is reserved — as OUTBOUND ledger entries with the order's ref, in one
/// transaction. What the order held of a batch that has expired is never shipped: it is
/// re-allocated first (shipped now with `reserved`, picked again otherwise). Shipping again
/// when nothing more is picked answers the order as it is (a retry); an order that never had
/// anything picked is 409.
pub async fn ship(
    db: &Db,
    config: &Config,
    r#ref: &str,
    input: &ShipInput,
    actor: Option<&str>,
) -> Result<Order, AppError> {
    let at = config.moment();
    db.write(
        &(r#ref, input.reserved, actor),
        |tx, (r#ref, all_reserved, actor)| {
            Box::pin(async move {
                let order = reservations::lock_order(tx, r#ref)
                    .await?
                    .ok_or_else(|| not_found(r#ref))?;
                match order.status() {
                    OrderStatus::Shipped => return load_order(tx, order.id).await,
                    OrderStatus::Cancelled => return Err(closed(&order)),
                    _ => {}
                }
                // What it holds of expired batches is re-allocated first (never shipped): only
                // then are the batches it may reserve read.
                let mut held = hold_locked(tx, order.clone(), false).await?;
                if held
                    .allocations
                    .iter()
                    .any(|a| a.qty > 0 && !crate::movement::usable(a.expiry_date, at.today))
                {
                    let items: BTreeSet<i64> = held.lines.iter().map(|l| l.item_id).collect();
                    held.candidates = reservations::lock_candidates(tx, &items, true).await?;
                    held.renew_expired(at.today);
                }
                // Write the renewal first: the pipeline reads batches (and their reservations)
                // from the database.
                let renewed = !held.changed.is_empty() || !held.new.is_empty();
                let order_id = held.order.id;
                let shipments = held.order.shipments;
                let Held {
                    changed,
                    new,
                    reserved,
                    allocations,
                    lines: order_lines,
                    ..
                } = held;
                let changed_rows: Vec<&AllocationRow> =
                    changed.iter().map(|&a| &allocations[a]).collect();
                reservations::update_allocations(tx, &changed_rows).await?;
                reservations::change_reserved(tx, &reserved).await?;
                reservations::insert_allocations(tx, order_id, &new).await?;
                let mut allocations = if renewed {
                    reservations::allocations(tx, order_id).await?
                } else {
                    allocations
                };
                let mut lines = Vec::new();
                let mut shipping = Vec::new();
                for (n, a) in allocations.iter().enumerate() {
                    let qty = if *all_reserved { a.qty } else { a.picked };
                    if qty > 0 {
                        shipping.push((n, qty));
                        lines.push(ShipLine {
                            line: u32::try_from(a.line).unwrap_or(1),
                            item: ItemKey {
                                id: Some(a.item_id),
                                sku: None,
                            },
                            location: LocationKey {
                                id: Some(a.location_id),
                                code: None,
                            },
                            batch_code: a.batch_code.clone(),
                            qty,
                        });
                    }
                }
                if lines.is_empty() {
                    crate::movement::projections::reservations::refresh_status(
                        tx,
                        &BTreeSet::from([order_id]),
                        at.now,
                    )
                    .await?;
                    if shipments > 0 {
                        return load_order(tx, order_id).await;
                    }
                    return Err(AppError::conflict(tr!(
                        errors.order.nothing_picked,
                        reference = r#ref
                    ))
                    .with_details(json!({"status": order.status().as_str()})));
                }
                let n = shipments + 1;
                let shipment = Shipment {
                    request: Request {
                        r#ref: Ref::parse("ref", r#ref)?,
                        lines,
                    },
                    anchor_ref: format!("{}#{n}", r#ref),
                };
                pipeline::apply(tx, &shipment, at, *actor).await?;
                for &(a, qty) in &shipping {
                    let row = &mut allocations[a];
                    row.qty -= qty;
                    row.shipped += qty;
                    row.picked = row.picked.saturating_sub(qty).max(0).min(row.qty);
                }
                let shipped: Vec<&AllocationRow> =
                    shipping.iter().map(|&(a, _)| &allocations[a]).collect();
                reservations::update_allocations(tx, &shipped).await?;
                // The order's new status from what it now holds, written with its shipment
                // count in one statement, and the answer built from what is in memory.
                let status = OrderStatus::of_lines(order_lines.iter().map(|l| {
                    let mut quantities = LineQty {
                        qty: l.qty,
                        ..LineQty::default()
                    };
                    for a in allocations.iter().filter(|a| a.line == l.line) {
                        quantities.reserved += a.qty;
                        quantities.picked += a.picked;
                        quantities.shipped += a.shipped;
                    }
                    quantities
                }));
                with_tx!(tx, |conn, _backend| sqlx::query(
                    "UPDATE orders SET shipments = $2, status = $3, updated_at = $4 WHERE id = $1"
                )
                .bind(order_id)
                .bind(n)
                .bind(status.as_str())
                .bind(at.now)
                .execute(&mut *conn)
                .await
                .map(drop)?);
                let mut head = order;
                head.shipments = n;
                head.updated_at = at.now;
                Ok(assemble(&head, status, order_lines, &allocations))
            })
        },
    )
    .await
}

/// `POST /orders/{ref}/cancel`: releases everything the order holds. What has shipped stays
/// shipped; a shipped order cannot be cancelled (409); cancelling again changes nothing.
pub async fn cancel(db: &Db, config: &Config, r#ref: &str) -> Result<Order, AppError> {
    let at: Moment = config.moment();
    db.write(&r#ref, |tx, r#ref| {
        Box::pin(async move {
            let order = reservations::lock_order(tx, r#ref)
                .await?
                .ok_or_else(|| not_found(r#ref))?;
            match order.status() {
                OrderStatus::Cancelled => return load_order(tx, order.id).await,
                OrderStatus::Shipped => return Err(closed(&order)),
                _ => {}
            }
            // Releasing needs the stock locks, not the batches it might reserve.
            let mut held = hold_locked(tx, order, false).await?;
            for a in 0..held.allocations.len() {
                let qty = held.allocations[a].qty;
                held.release(a, qty);
            }
            let id = held.write(tx, at.now).await?;
            with_tx!(tx, |conn, _backend| sqlx::query(
                "UPDATE orders SET status = 'CANCELLED', updated_at = $2 WHERE id = $1"
            )
            .bind(id)
            .bind(at.now)
            .execute(&mut *conn)
            .await
            .map(drop)?);
            load_order(tx, id).await
        })
    })
    .await
}

/// Order `id` as it is in `tx`.
async fn load_order(tx: &mut Tx, id: i64) -> Result<Order, AppError> {
    let (head, lines) = with_tx!(tx, |conn, _backend| {
        let head: OrderRow = sqlx::query_as(
            "SELECT id, ref, status, policy, shipments, created_at, created_by, updated_at \
             FROM orders WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        let lines: Vec<HeldLine> = sqlx::query_as(
            "SELECT ol.line, ol.item_id, ol.qty, i.sku, i.name FROM order_lines ol \
             JOIN items i ON i.id = ol.item_id WHERE ol.order_id = $1 ORDER BY ol.line",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        (head, lines)
    });
    let allocations = reservations::allocations(tx, head.id).await?;
    let status = head.status();
    Ok(assemble(&head, status, lines, &allocations))
}

/// An order as answered, from its row, its lines and its allocations (in walk order).
fn assemble(
    head: &OrderRow,
    status: OrderStatus,
    lines: Vec<HeldLine>,
    allocations: &[AllocationRow],
) -> Order {
    let lines = lines
        .into_iter()
        .map(|line| {
            let mine: Vec<&AllocationRow> =
                allocations.iter().filter(|a| a.line == line.line).collect();
            let reserved = mine.iter().map(|a| a.qty).sum::<i64>();
            let picked = mine.iter().map(|a| a.picked).sum::<i64>();
            let shipped = mine.iter().map(|a| a.shipped).sum::<i64>();
            OrderLine {
                line: u32::try_from(line.line).unwrap_or(0),
                item_id: line.item_id,
                sku: line.sku,
                name: line.name,
                qty: line.qty,
                reserved,
                picked,
                shipped,
                backordered: if status == OrderStatus::Cancelled {
                    0
                } else {
                    (line.qty - reserved - shipped).max(0)
                },
                allocations: mine
                    .iter()
                    .filter(|a| a.qty > 0 || a.shipped > 0)
                    .map(|a| Allocation {
                        location_code: a.location_code.clone(),
                        batch_code: a.batch_code.clone(),
                        expiry_date: a.expiry_date,
                        qty: a.qty,
                        picked: a.picked,
                        shipped: a.shipped,
                    })
                    .collect(),
            }
        })
        .collect();
    Order {
        r#ref: head.r#ref.clone(),
        status,
        policy: head.policy(),
        created_at: head.created_at,
        created_by: head.created_by.clone(),
        updated_at: head.updated_at,
        shipments: i64::from(head.shipments),
        lines,
    }
}

async fn order_id(tx: &mut Tx, r#ref: &str) -> Result<i64, AppError> {
    let id: Option<i64> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
        "SELECT id FROM orders WHERE ref = $1"
    )
    .bind(r#ref)
    .fetch_optional(&mut *conn)
    .await?);
    id.ok_or_else(|| not_found(r#ref))
}

/// `GET /orders/{ref}`.
pub async fn get_order(db: &Db, r#ref: &str) -> Result<Order, AppError> {
    let mut tx = db.begin_read().await?;
    let id = order_id(&mut tx, r#ref).await?;
    let order = load_order(&mut tx, id).await?;
    tx.commit().await?;
    Ok(order)
}

/// `GET /orders/{ref}/picklist`: what the order holds, in walk order (location code, then
/// FEFO), with what is picked of it.
pub async fn picklist(db: &Db, r#ref: &str) -> Result<PickList, AppError> {
    let mut tx = db.begin_read().await?;
    let id = order_id(&mut tx, r#ref).await?;
    let order = load_order(&mut tx, id).await?;
    let barcodes: HashMap<i64, String> = with_tx!(&mut tx, |conn, _backend| sqlx::query_as::<
        _,
        (i64, String),
    >(
        "SELECT i.id, i.barcode FROM order_lines ol JOIN items i ON i.id = ol.item_id \
         WHERE ol.order_id = $1 AND i.barcode IS NOT NULL"
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
    .into_iter()
    .collect();
    tx.commit().await?;
    let mut rows: Vec<PickRow> = order
        .lines
        .iter()
        .flat_map(|line| {
            let barcodes = &barcodes;
            line.allocations
                .iter()
                .filter(|a| a.qty > 0)
                .map(move |a| PickRow {
                    line: line.line,
                    location_code: a.location_code.clone(),
                    item_id: line.item_id,
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    barcode: barcodes.get(&line.item_id).cloned(),
                    batch_code: a.batch_code.clone(),
                    expiry_date: a.expiry_date,
                    qty: a.qty,
                    picked: a.picked,
                })
        })
        .collect();
    rows.sort_by(|a, b| {
        (
            &a.location_code,
            a.expiry_date.is_none(),
            a.expiry_date,
            &a.sku,
            &a.batch_code,
        )
            .cmp(&(
                &b.location_code,
                b.expiry_date.is_none(),
                b.expiry_date,
                &b.sku,
                &b.batch_code,
            ))
    });
    Ok(PickList {
        r#ref: order.r#ref,
        status: order.status,
        rows,
    })
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    r#ref: String,
    status: String,
    created_at: DateTime<Utc>,
    created_by: Option<String>,
    lines: i64,
    qty: i64,
    reserved: i64,
    picked: i64,
    shipped: i64,
}

/// `GET /orders?status=&q=&offset=&limit=`: newest first; `q` is a piece of the ref.
pub async fn list_orders(db: &Db, filter: &OrderFilter) -> Result<OrderList, AppError> {
    let paging = Paging::parse(filter.offset, filter.limit)?;
    let status = match crate::movement::non_blank(&filter.status) {
        None => None,
        Some(name) => Some(
            OrderStatus::from_name(name.trim())
                .ok_or_else(|| AppError::validation("status", tr!(errors.order.status)))?,
        ),
    };
    let q = parse_search(filter.q.as_deref())?;
    let pattern = q.as_deref().map(like_pattern);
    let filter_sql = "FROM orders o WHERE ($1 IS NULL OR o.status = $1) \
                      AND ($2 IS NULL OR o.search_text LIKE $2 ESCAPE '\\')";
    let mut tx = db.begin_read().await?;
    let (total, rows) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {filter_sql}"))
            .bind(status.map(OrderStatus::as_str))
            .bind(pattern.as_deref())
            .fetch_one(&mut *conn)
            .await?;
        let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
            "SELECT o.ref, o.status, o.created_at, o.created_by, \
             (SELECT COUNT(*) FROM order_lines ol WHERE ol.order_id = o.id) AS lines, \
             (SELECT CAST(COALESCE(SUM(ol.qty), 0) AS BIGINT) FROM order_lines ol WHERE ol.order_id = o.id) AS qty, \
             (SELECT CAST(COALESCE(SUM(a.qty), 0) AS BIGINT) FROM allocations a WHERE a.order_id = o.id) AS reserved, \
             (SELECT CAST(COALESCE(SUM(a.picked), 0) AS BIGINT) FROM allocations a WHERE a.order_id = o.id) AS picked, \
             (SELECT CAST(COALESCE(SUM(a.shipped), 0) AS BIGINT) FROM allocations a WHERE a.order_id = o.id) AS shipped \
             {filter_sql} ORDER BY o.id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(status.map(OrderStatus::as_str))
        .bind(pattern.as_deref())
        .bind(paging.limit)
        .bind(paging.offset)
        .fetch_all(&mut *conn)
        .await?;
        (total, rows)
    });
    tx.commit().await?;
    let orders = rows
        .into_iter()
        .map(|row| {
            let status = OrderStatus::from_name(&row.status).unwrap_or(OrderStatus::Backordered);
            OrderSummary {
                backordered: if status == OrderStatus::Cancelled {
                    0
                } else {
                    (row.qty - row.reserved - row.shipped).max(0)
                },
                r#ref: row.r#ref,
                status,
                created_at: row.created_at,
                created_by: row.created_by,
                lines: row.lines,
                qty: row.qty,
                reserved: row.reserved,
                picked: row.picked,
                shipped: row.shipped,
            }
        })
        .collect();
    Ok(OrderList {
        total,
        offset: paging.offset,
        limit: paging.limit,
        orders,
    })
}
