//! Orders on the database (SPEC §10): create (reserving by FEFO), reserve again, pick, ship
//! (through the movement pipeline), cancel, read. Every write is one transaction that locks
//! the order's row, then the stocks it may hold, in the one global order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::QueryBuilder;

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::domain::{
    check_line_count, parse_search, BatchCode, Paging, Qty, Ref, WarehouseCode, MAX_QTY,
};
use crate::error::{AppError, ErrorCode, Problems};
use crate::movement::anchors::{Content, LineKey};
use crate::movement::ledger::Reason;
use crate::movement::pipeline::{self, Found, Leg, Moment, Movement, Pick};
use crate::movement::{resolve, ItemKey, LineResult, LocationKey, Request, Shortage};
use crate::orders::reservations::{self, AllocationRow, Candidate, NewAllocation, OrderRow};
use crate::orders::{
    Allocation, LineQty, NewOrder, Order, OrderFilter, OrderLine, OrderList, OrderStatus,
    OrderSummary, PickInput, PickList, PickRow, Policy, ShipInput,
};
use crate::search::like_pattern;
use crate::with_tx;

mod create;
mod pick;
mod read;
mod ship;

pub use create::{create_order, validate_order};
pub use pick::{pick, validate_picks};
pub use read::{get_order, list_orders, picklist};
pub use ship::ship;

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
    let candidates =
        reservations::lock_candidates(tx, &items, order.warehouse_id, candidates).await?;
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
            let today = held.order.today(at);
            held.renew_expired(today);
            held.reserve_backorders(today);
            let id = held.write(tx, at.now).await?;
            load_order(tx, id).await
        })
    })
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
        let head: OrderRow = sqlx::query_as(&format!(
            "SELECT {} FROM {} WHERE o.id = $1",
            reservations::ORDER_COLUMNS,
            reservations::ORDERS
        ))
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
        warehouse_code: head.warehouse_code.clone(),
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
