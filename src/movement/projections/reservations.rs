//! What orders hold of the batches (their allocations) as stock moves under them: a physical
//! take (a write-off, a count's correction) of goods an order held releases that hold, and the
//! orders touched get their status from their lines again.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use crate::db::Tx;
use crate::domain::{LineQty, OrderStatus};
use crate::error::AppError;
use crate::movement::ROWS_PER_STATEMENT;
use crate::with_tx;

/// Releases what physical takes (write-offs, count corrections) left orders holding that is no
/// longer there — batch → qty; the batches' `reserved` is already lowered — from the newest
/// orders holding each batch first. Those orders become backordered for it.
pub async fn release_lost(
    tx: &mut Tx,
    lost: &BTreeMap<i64, i64>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if lost.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = lost.keys().copied().collect();
    let mut rows: Vec<(i64, i64, i64, i64, i64)> = Vec::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let part: Vec<(i64, i64, i64, i64, i64)> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "SELECT id, order_id, batch_id, qty, picked FROM allocations WHERE qty > 0 AND batch_id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(") ORDER BY batch_id, order_id DESC, id DESC");
            query.build_query_as().fetch_all(&mut *conn).await?
        });
        rows.extend(part);
    }
    let mut left = lost.clone();
    let mut changed: Vec<(i64, i64, i64)> = Vec::new();
    let mut orders = BTreeSet::new();
    for (id, order_id, batch_id, qty, picked) in rows {
        let Some(left) = left.get_mut(&batch_id).filter(|l| **l > 0) else {
            continue;
        };
        let release = qty.min(*left);
        *left -= release;
        let qty = qty - release;
        changed.push((id, qty, picked.min(qty)));
        orders.insert(order_id);
    }
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "UPDATE allocations SET qty = v.column2, picked = v.column3 FROM (",
            );
            query.push_values(chunk, |mut row, (id, qty, picked)| {
                row.push_bind(*id).push_bind(*qty).push_bind(*picked);
            });
            query.push(") AS v WHERE allocations.id = v.column1");
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    refresh_status(tx, &orders, now).await
}

/// Each line's quantities of `orders`: order id → lines, in line order.
pub async fn line_quantities(
    tx: &mut Tx,
    orders: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, Vec<LineQty>>, AppError> {
    let ids: Vec<i64> = orders.iter().copied().collect();
    let mut by_order: BTreeMap<i64, Vec<LineQty>> = BTreeMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(i64, i64, i64, i64, i64)> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(
                "SELECT ol.order_id, ol.qty, CAST(COALESCE(SUM(a.qty), 0) AS BIGINT), CAST(COALESCE(SUM(a.picked), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(a.shipped), 0) AS BIGINT) \
                 FROM order_lines ol LEFT JOIN allocations a ON a.order_id = ol.order_id AND a.line = ol.line \
                 WHERE ol.order_id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(") GROUP BY ol.order_id, ol.line, ol.qty ORDER BY ol.order_id, ol.line");
            query.build_query_as().fetch_all(&mut *conn).await?
        });
        for (order_id, qty, reserved, picked, shipped) in rows {
            by_order.entry(order_id).or_default().push(LineQty {
                qty,
                reserved,
                picked,
                shipped,
            });
        }
    }
    Ok(by_order)
}

/// Sets the status of `orders` (not cancelled ones) from their lines' quantities.
pub async fn refresh_status(
    tx: &mut Tx,
    orders: &BTreeSet<i64>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if orders.is_empty() {
        return Ok(());
    }
    let statuses: Vec<(i64, &'static str)> = line_quantities(tx, orders)
        .await?
        .into_iter()
        .map(|(id, lines)| (id, OrderStatus::of_lines(lines).as_str()))
        .collect();
    for chunk in statuses.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query =
                QueryBuilder::new("UPDATE orders SET status = v.column2, updated_at = ");
            query.push_bind(now);
            query.push(" FROM (");
            query.push_values(chunk, |mut row, (id, status)| {
                row.push_bind(*id).push_bind(*status);
            });
            query.push(") AS v WHERE orders.id = v.column1 AND orders.status <> 'CANCELLED'");
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}
