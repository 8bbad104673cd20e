//! Reservations on the database: locking an order and the stocks it may reserve from, choosing
//! batches (FEFO, fewest locations), writing allocations together with `batches.reserved`, and
//! keeping each order's status. Every change of a batch's reservation happens under its stock's
//! row lock, like every change of its qty, so the movement pipeline (which reads batches after
//! taking those locks) always sees reservations as they are.
//!
//! Lock order, everywhere: the order's row, then stocks in (item, location) order.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

use crate::db::{Backend, Tx};
use crate::error::AppError;
use crate::movement::plan::{self, Spot, Spread};
use crate::movement::ROWS_PER_STATEMENT;
use crate::orders::{OrderStatus, Policy};
use crate::with_tx;

/// An order's row, locked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub r#ref: String,
    /// The warehouse it ships from.
    pub warehouse_id: i64,
    pub warehouse_code: String,
    pub status: String,
    pub policy: String,
    pub shipments: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// Its warehouse's own time zone, if it has one.
    pub timezone: Option<String>,
}

impl OrderRow {
    /// "Today" where the order ships from, at moment `at` (what has expired there).
    pub fn today(&self, at: crate::config::Moment) -> chrono::NaiveDate {
        at.in_zone_named(self.timezone.as_deref()).today
    }

    pub fn status(&self) -> OrderStatus {
        OrderStatus::from_name(&self.status).unwrap_or(OrderStatus::Backordered)
    }

    pub fn policy(&self) -> Policy {
        Policy::from_name(&self.policy).unwrap_or_default()
    }
}

/// An [`OrderRow`]'s columns, read from [`ORDERS`].
pub const ORDER_COLUMNS: &str = "o.id, o.ref, o.warehouse_id, w.code AS warehouse_code, o.status, \
     o.policy, o.shipments, o.created_at, o.created_by, o.updated_at, w.timezone";
/// Orders with their warehouse.
pub const ORDERS: &str = "orders o JOIN warehouses w ON w.id = o.warehouse_id";

/// Locks the order with this ref for the rest of the transaction; `None` if there is none. An
/// order of a warehouse the asker does not work in is 403.
pub async fn lock_order(tx: &mut Tx, r#ref: &str) -> Result<Option<OrderRow>, AppError> {
    let row = with_tx!(tx, |conn, backend| {
        let sql = if backend == Backend::Postgres {
            format!("SELECT {ORDER_COLUMNS} FROM {ORDERS} WHERE o.ref = $1 FOR UPDATE OF o")
        } else {
            format!("SELECT {ORDER_COLUMNS} FROM {ORDERS} WHERE o.ref = $1")
        };
        sqlx::query_as::<_, OrderRow>(&sql)
            .bind(r#ref)
            .fetch_optional(&mut *conn)
            .await?
    });
    if let Some(order) = &row {
        crate::scope::check(order.warehouse_id, &order.warehouse_code)?;
    }
    Ok(row)
}

/// A batch in a storage location that an order may hold, as locked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub location_code: String,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub qty: i64,
    pub reserved: i64,
}

impl Candidate {
    pub fn available(&self, today: NaiveDate) -> i64 {
        crate::movement::available(self.qty, self.reserved, self.expiry_date, today)
    }
}

/// Locks every stock of `items` in a storage location (in (item, location) order, like every
/// movement) and, with `load`, reads their batches with goods in warehouse `warehouse`: all an
/// order of these items shipping from there may hold (without, an empty list: the locks alone).
pub async fn lock_candidates(
    tx: &mut Tx,
    items: &BTreeSet<i64>,
    warehouse: i64,
    load: bool,
) -> Result<Vec<Candidate>, AppError> {
    let items: Vec<i64> = items.iter().copied().collect();
    let mut candidates = Vec::new();
    for chunk in items.chunks(ROWS_PER_STATEMENT) {
        crate::movement::stock::lock_stored(tx, chunk).await?;
        if !load {
            continue;
        }
        let rows: Vec<Candidate> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "SELECT b.id, b.item_id, b.location_id, l.code AS location_code, b.batch_code, \
                 b.expiry_date, b.qty, b.reserved \
                 FROM batches b JOIN locations l ON l.id = b.location_id \
                 WHERE l.kind = 'storage' AND b.qty > 0 AND l.warehouse_id = ",
            );
            query.push_bind(warehouse);
            query.push(" AND b.item_id IN (");
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            query
                .build_query_as::<Candidate>()
                .fetch_all(&mut *conn)
                .await?
        });
        candidates.extend(rows);
    }
    Ok(candidates)
}

/// Chooses what to reserve of `qty` of `item` among `candidates` (and takes it off their
/// availability), by the movement planner's FEFO over what is available — among batches
/// expiring alike, the location holding most of the item first, so the order visits the fewest
/// locations ([`Spread::FewestLocations`]). Skips the locations of `exclude` (found short).
/// Gives (candidate index, qty); less than `qty` when there is not enough.
pub fn choose(
    candidates: &mut [Candidate],
    item: i64,
    qty: i64,
    today: NaiveDate,
    exclude: &[i64],
) -> Vec<(usize, i64)> {
    let eligible: Vec<usize> = (0..candidates.len())
        .filter(|&i| {
            let c = &candidates[i];
            c.item_id == item && !exclude.contains(&c.location_id) && c.available(today) > 0
        })
        .collect();
    let spots: Vec<Spot> = eligible
        .iter()
        .map(|&i| {
            let c = &candidates[i];
            Spot {
                batch_id: c.id,
                location_id: c.location_id,
                location_code: c.location_code.clone(),
                expiry_date: c.expiry_date,
                free: c.available(today),
            }
        })
        .collect();
    plan::reserve(&spots, qty, Spread::FewestLocations)
        .into_iter()
        .map(|(spot, take)| {
            let i = eligible[spot];
            candidates[i].reserved += take;
            (i, take)
        })
        .collect()
}

/// An allocation row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AllocationRow {
    pub id: i64,
    pub line: i32,
    pub item_id: i64,
    pub location_id: i64,
    pub location_code: String,
    pub batch_id: i64,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub qty: i64,
    pub picked: i64,
    pub shipped: i64,
}

/// The allocations of order `order_id` (locked with its row), in walk order: location code,
/// then FEFO.
pub async fn allocations(tx: &mut Tx, order_id: i64) -> Result<Vec<AllocationRow>, AppError> {
    Ok(with_tx!(tx, |conn, _backend| {
        sqlx::query_as::<_, AllocationRow>(
            "SELECT a.id, a.line, a.item_id, a.location_id, l.code AS location_code, a.batch_id, \
             b.batch_code, b.expiry_date, a.qty, a.picked, a.shipped \
             FROM allocations a JOIN locations l ON l.id = a.location_id \
             JOIN batches b ON b.id = a.batch_id \
             WHERE a.order_id = $1 \
             ORDER BY l.code, b.expiry_date IS NULL, b.expiry_date, b.id",
        )
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// A new reservation: `qty` of a batch for line `line`.
#[derive(Debug, Clone, Copy)]
pub struct NewAllocation {
    pub line: i32,
    pub batch_id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub qty: i64,
}

/// Writes new reservations of order `order_id` (adding to a released allocation of the same
/// batch) and adds them to their batches' `reserved`. Several of the same line and batch
/// (re-allocations of two short picks landing on the same batch) are one row.
pub async fn insert_allocations(
    tx: &mut Tx,
    order_id: i64,
    new: &[NewAllocation],
) -> Result<(), AppError> {
    let mut merged: BTreeMap<(i32, i64), NewAllocation> = BTreeMap::new();
    for a in new {
        merged
            .entry((a.line, a.batch_id))
            .and_modify(|m| m.qty += a.qty)
            .or_insert(*a);
    }
    let new: Vec<NewAllocation> = merged.into_values().collect();
    for chunk in new.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "INSERT INTO allocations (order_id, line, batch_id, item_id, location_id, qty) ",
            );
            query.push_values(chunk, |mut row, a| {
                row.push_bind(order_id)
                    .push_bind(a.line)
                    .push_bind(a.batch_id)
                    .push_bind(a.item_id)
                    .push_bind(a.location_id)
                    .push_bind(a.qty);
            });
            query.push(
                " ON CONFLICT (order_id, line, batch_id) DO UPDATE SET qty = allocations.qty + excluded.qty",
            );
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    let mut by_batch: BTreeMap<i64, i64> = BTreeMap::new();
    for a in &new {
        *by_batch.entry(a.batch_id).or_default() += a.qty;
    }
    change_reserved(tx, &by_batch).await
}

/// Writes allocations changed in memory (qty, picked, shipped).
pub async fn update_allocations(tx: &mut Tx, rows: &[&AllocationRow]) -> Result<(), AppError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "UPDATE allocations SET qty = v.column2, picked = v.column3, shipped = v.column4 FROM (",
            );
            query.push_values(chunk, |mut row, a| {
                row.push_bind(a.id)
                    .push_bind(a.qty)
                    .push_bind(a.picked)
                    .push_bind(a.shipped);
            });
            query.push(") AS v WHERE allocations.id = v.column1");
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}

/// Adds to batches' `reserved`: batch id → change (negative: released).
pub async fn change_reserved(tx: &mut Tx, by_batch: &BTreeMap<i64, i64>) -> Result<(), AppError> {
    let rows: Vec<(i64, i64)> = by_batch
        .iter()
        .filter(|(_, change)| **change != 0)
        .map(|(id, change)| (*id, *change))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "UPDATE batches SET reserved = batches.reserved + v.column2 FROM (",
            );
            query.push_values(chunk, |mut row, (id, change)| {
                row.push_bind(*id).push_bind(*change);
            });
            query.push(") AS v WHERE batches.id = v.column1");
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: i64, location: i64, expiry: Option<&str>, qty: i64) -> Candidate {
        Candidate {
            id,
            item_id: 1,
            location_id: location,
            location_code: format!("A-{location:02}"),
            batch_code: format!("L{id}"),
            expiry_date: expiry.map(|e| e.parse().unwrap()),
            qty,
            reserved: 0,
        }
    }

    fn today() -> NaiveDate {
        "2026-06-01".parse().unwrap()
    }

    fn ids(candidates: &[Candidate], chosen: &[(usize, i64)]) -> Vec<(i64, i64)> {
        chosen
            .iter()
            .map(|(i, q)| (candidates[*i].id, *q))
            .collect()
    }

    #[test]
    fn earliest_expiry_first_expired_never_no_expiry_last() {
        let mut c = vec![
            candidate(1, 1, None, 10),
            candidate(2, 2, Some("2026-07-01"), 3),
            candidate(3, 3, Some("2026-05-01"), 50),
            candidate(4, 4, Some("2026-06-15"), 2),
        ];
        let chosen = choose(&mut c, 1, 8, today(), &[]);
        assert_eq!(ids(&c, &chosen), vec![(4, 2), (2, 3), (1, 3)]);
        assert_eq!(c[0].reserved, 3, "what is chosen is no longer available");
        let more = choose(&mut c, 1, 100, today(), &[]);
        assert_eq!(
            ids(&c, &more),
            vec![(1, 7)],
            "only what is left, never the expired lot"
        );
    }

    #[test]
    fn among_equal_expiries_the_fullest_location_first() {
        let mut c = vec![
            candidate(1, 1, Some("2026-07-01"), 4),
            candidate(2, 2, Some("2026-07-01"), 10),
        ];
        let chosen = choose(&mut c, 1, 10, today(), &[]);
        assert_eq!(ids(&c, &chosen), vec![(2, 10)], "one location, not two");
    }

    #[test]
    fn reserved_and_excluded_goods_are_not_chosen() {
        let mut c = vec![candidate(1, 1, None, 10), candidate(2, 2, None, 10)];
        c[0].reserved = 8;
        let chosen = choose(&mut c, 1, 5, today(), &[2]);
        assert_eq!(ids(&c, &chosen), vec![(1, 2)]);
    }
}
