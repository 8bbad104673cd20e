//! Batches (lots): reading a stock's lots in FEFO order, planning takes from them, and writing
//! takes and additions.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use sqlx::QueryBuilder;

use crate::db::Tx;
use crate::error::AppError;
use crate::movement::ROWS_PER_STATEMENT;
use crate::with_tx;

/// A batch row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchRow {
    pub id: i64,
    pub stock_id: i64,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    pub qty: i64,
    /// What open orders hold of it (SPEC §10).
    pub reserved: i64,
}

impl BatchRow {
    /// Usable on `today` (SPEC §3): not expired, expiring today included.
    pub fn usable(&self, today: NaiveDate) -> bool {
        crate::movement::usable(self.expiry_date, today)
    }

    /// What of it anyone may ship or promise on `today` ([`crate::movement::available`]).
    pub fn available(&self, today: NaiveDate) -> i64 {
        crate::movement::available(self.qty, self.reserved, self.expiry_date, today)
    }
}

/// The batches with goods of `stock_ids`, per stock in FEFO order: earliest expiry first, no
/// expiry last, then oldest batch.
pub async fn load_batches(
    tx: &mut Tx,
    stock_ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, Vec<BatchRow>>, AppError> {
    let ids: Vec<i64> = stock_ids.iter().copied().collect();
    let mut by_stock: HashMap<i64, Vec<BatchRow>> = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<BatchRow> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "SELECT id, stock_id, batch_code, expiry_date, production_date, qty, reserved \
                 FROM batches WHERE qty > 0 AND stock_id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(") ORDER BY stock_id, expiry_date IS NULL, expiry_date, id");
            query
                .build_query_as::<BatchRow>()
                .fetch_all(&mut *conn)
                .await?
        });
        for row in rows {
            by_stock.entry(row.stock_id).or_default().push(row);
        }
    }
    Ok(by_stock)
}

/// One batch a take takes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The batch as it was before the take.
    pub batch: BatchRow,
    pub qty: i64,
    /// How much of its reservation the take ends: what an order ships of what it reserved, or
    /// what a physical take (a write-off, a count) leaves no longer there to hold.
    pub unreserve: i64,
}

/// Which batches a line takes, and how much of each.
pub type Plan = Vec<Taken>;

/// How much a take may take of a batch, and whether it takes reserved goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// Up to this much, none of it reserved.
    Free(i64),
    /// Up to this much of what is reserved (an order shipping its own reservation).
    Reserved(i64),
    /// Up to all of it: goods that are not there any more, reserved or not.
    Physical,
}

impl Room {
    /// How much of `batch` this room lets a take have.
    pub fn limit(self, batch: &BatchRow) -> i64 {
        match self {
            Room::Free(n) | Room::Reserved(n) => n.clamp(0, batch.qty),
            Room::Physical => batch.qty,
        }
    }
}

/// Splits `qty` over `batches` in their order, each giving what `room` allows; `None` when they
/// hold less. `batches` keep what is left (qty and reservation).
pub fn take_fefo(
    batches: &mut [BatchRow],
    qty: i64,
    room: impl Fn(&BatchRow) -> Room,
) -> Option<Plan> {
    let limit = |b: &BatchRow| room(b).limit(b);
    let available: i64 = batches.iter().map(limit).sum();
    if available < qty {
        return None;
    }
    let mut left = qty;
    let mut plan = Vec::new();
    for batch in batches.iter_mut() {
        if left == 0 {
            break;
        }
        let take = limit(batch).min(left);
        if take == 0 {
            continue;
        }
        let before = batch.clone();
        batch.qty -= take;
        left -= take;
        let unreserve = match room(&before) {
            Room::Free(_) => 0,
            Room::Reserved(_) => take.min(batch.reserved),
            Room::Physical => (batch.reserved - batch.qty).max(0),
        };
        batch.reserved -= unreserve;
        plan.push(Taken {
            batch: before,
            qty: take,
            unreserve,
        });
    }
    Some(plan)
}

/// Takes goods out of batches: batch id → (qty to take, reservation it ends).
pub async fn take_from_batches(
    tx: &mut Tx,
    takes: &HashMap<i64, (i64, i64)>,
) -> Result<(), AppError> {
    take_from_batches_rows(tx, &take_rows(takes)).await
}

/// [`take_from_batches`] of rows (batch id, qty, qty unreserved).
pub async fn take_from_batches_rows(tx: &mut Tx, rows: &[(i64, i64, i64)]) -> Result<(), AppError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new("");
            push_take(&mut query, chunk);
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}

/// The takes as rows (batch id, qty, qty unreserved), in batch order.
pub fn take_rows(takes: &HashMap<i64, (i64, i64)>) -> Vec<(i64, i64, i64)> {
    let mut rows: Vec<(i64, i64, i64)> = takes
        .iter()
        .map(|(id, (qty, unreserve))| (*id, *qty, *unreserve))
        .collect();
    rows.sort_unstable();
    rows
}

/// Appends the update taking `rows` (batch id, qty, qty unreserved) from their batches.
pub fn push_take<'q, DB: sqlx::Database>(query: &mut QueryBuilder<'q, DB>, rows: &[(i64, i64, i64)])
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query.push(
        "UPDATE batches SET qty = batches.qty - v.column2, \
         reserved = batches.reserved - v.column3 FROM (",
    );
    query.push_values(rows, |mut row, (id, qty, unreserve)| {
        row.push_bind(*id).push_bind(*qty).push_bind(*unreserve);
    });
    query.push(") AS v WHERE batches.id = v.column1");
}

/// Goods going into one lot at one stock.
#[derive(Debug, Clone)]
pub struct LotAdd {
    pub stock_id: i64,
    pub item_id: i64,
    pub location_id: i64,
    pub code: String,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    pub qty: i64,
    /// The request field to name if the lot's dates clash with the batch already there.
    pub field: String,
}

/// A lot goods went into: its batch and its dates after the addition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddedLot {
    pub batch_id: i64,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
}

/// Adds goods to lots, creating batches as needed; returns each add's lot, in order.
/// A batch that already holds goods keeps its dates: a lot given other dates is `CONFLICT`
/// naming the add's field. An empty one takes the new dates. At most one add per
/// (stock, code): callers merge.
pub async fn add_to_lots(tx: &mut Tx, adds: &[LotAdd]) -> Result<Vec<AddedLot>, AppError> {
    let mut ids = Vec::with_capacity(adds.len());
    let mut redate = Vec::new();
    for chunk in adds.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<BatchRow> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "INSERT INTO batches (stock_id, item_id, location_id, batch_code, expiry_date, production_date, qty) ",
            );
            query.push_values(chunk, |mut row, add| {
                row.push_bind(add.stock_id)
                    .push_bind(add.item_id)
                    .push_bind(add.location_id)
                    .push_bind(add.code.as_str())
                    .push_bind(add.expiry_date)
                    .push_bind(add.production_date)
                    .push_bind(add.qty);
            });
            query.push(
                " ON CONFLICT (item_id, location_id, batch_code) DO UPDATE SET qty = batches.qty + excluded.qty \
                 RETURNING id, stock_id, batch_code, expiry_date, production_date, qty, reserved",
            );
            query
                .build_query_as::<BatchRow>()
                .fetch_all(&mut *conn)
                .await?
        });
        let by_key: HashMap<(i64, &str), &BatchRow> = rows
            .iter()
            .map(|b| ((b.stock_id, b.batch_code.as_str()), b))
            .collect();
        for add in chunk {
            let batch = by_key
                .get(&(add.stock_id, add.code.as_str()))
                .ok_or_else(|| {
                    AppError::internal(&std::io::Error::other("batch upsert returned no row"))
                })?;
            let expiry = add.expiry_date.or(batch.expiry_date);
            let production = add.production_date.or(batch.production_date);
            if expiry != batch.expiry_date || production != batch.production_date {
                if batch.qty - add.qty > 0 {
                    let differ = tr!(
                        errors.conflict.lot_dates_differ,
                        code = &batch.batch_code,
                        expiry = show_date(batch.expiry_date),
                        production = show_date(batch.production_date)
                    );
                    return Err(AppError::conflict(format!("{}: {differ}", add.field))
                        .with_details(serde_json::json!({ "field": add.field })));
                }
                redate.push((batch.id, expiry, production));
            }
            ids.push(AddedLot {
                batch_id: batch.id,
                expiry_date: expiry,
                production_date: production,
            });
        }
    }
    // Rare: an emptied batch refilled with a new lot under the same code takes the new dates.
    for (id, expiry, production) in redate {
        with_tx!(tx, |conn, _backend| sqlx::query(
            "UPDATE batches SET expiry_date = $1, production_date = $2 WHERE id = $3"
        )
        .bind(expiry)
        .bind(production)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(drop)?);
    }
    Ok(ids)
}

fn show_date(date: Option<NaiveDate>) -> String {
    date.map(|d| d.to_string())
        .unwrap_or_else(|| tr!(errors.conflict.no_date))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(id: i64, expiry: Option<&str>, qty: i64) -> BatchRow {
        BatchRow {
            id,
            stock_id: 1,
            batch_code: format!("B{id}"),
            expiry_date: expiry.map(|e| e.parse().unwrap()),
            production_date: None,
            qty,
            reserved: 0,
        }
    }

    fn taken(plan: &Plan) -> Vec<(i64, i64)> {
        plan.iter().map(|t| (t.batch.id, t.qty)).collect()
    }

    #[test]
    fn fefo_takes_in_order_and_keeps_the_rest() {
        let mut batches = vec![
            batch(1, Some("2026-01-01"), 3),
            batch(2, Some("2026-02-01"), 5),
            batch(3, None, 4),
        ];
        let free = |b: &BatchRow| Room::Free(b.qty);
        let plan = take_fefo(&mut batches, 6, free).unwrap();
        assert_eq!(taken(&plan), vec![(1, 3), (2, 3)]);
        assert_eq!(
            batches.iter().map(|b| b.qty).collect::<Vec<_>>(),
            vec![0, 2, 4]
        );
        assert!(take_fefo(&mut batches, 7, free).is_none(), "only 6 left");
        assert_eq!(
            batches.iter().map(|b| b.qty).collect::<Vec<_>>(),
            vec![0, 2, 4],
            "a refused take takes nothing"
        );
    }

    #[test]
    fn fefo_skips_what_is_not_available() {
        let today: NaiveDate = "2026-01-15".parse().unwrap();
        let mut batches = vec![
            batch(1, Some("2026-01-14"), 3),
            batch(2, Some("2026-01-15"), 2),
        ];
        let room = |b: &BatchRow| Room::Free(b.available(today));
        assert!(
            take_fefo(&mut batches, 3, room).is_none(),
            "the expired batch is not available"
        );
        let plan = take_fefo(&mut batches, 2, room).unwrap();
        assert_eq!(taken(&plan), vec![(2, 2)], "expiring today is still usable");
    }

    #[test]
    fn reserved_goods_are_not_free_but_a_physical_take_ends_their_reservation() {
        let today: NaiveDate = "2026-01-15".parse().unwrap();
        let mut batches = vec![batch(1, None, 10)];
        batches[0].reserved = 7;
        let free = |b: &BatchRow| Room::Free(b.available(today));
        assert!(take_fefo(&mut batches, 4, free).is_none(), "3 are free");
        let plan = take_fefo(&mut batches, 3, free).unwrap();
        assert_eq!((plan[0].qty, plan[0].unreserve), (3, 0));
        assert_eq!((batches[0].qty, batches[0].reserved), (7, 7));

        let ship = |b: &BatchRow| Room::Reserved(b.reserved);
        let plan = take_fefo(&mut batches, 2, ship).unwrap();
        assert_eq!((plan[0].qty, plan[0].unreserve), (2, 2));
        assert_eq!((batches[0].qty, batches[0].reserved), (5, 5));

        let plan = take_fefo(&mut batches, 4, |_| Room::Physical).unwrap();
        assert_eq!(
            (plan[0].qty, plan[0].unreserve),
            (4, 4),
            "1 left can hold 1"
        );
        assert_eq!((batches[0].qty, batches[0].reserved), (1, 1));
    }
}
