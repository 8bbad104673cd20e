//! Shipping an order through the movement pipeline.

use super::*;

/// An order's shipment through the movement pipeline: one line per batch, taking the order's
/// own reservation; ledger entries carry the order's ref and line, anchors `<ref>#<n>`.
pub(super) struct Shipment {
    request: Request<ShipLine>,
    anchor_ref: String,
}

pub(super) struct ShipLine {
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
                let today = order.today(at);
                let mut held = hold_locked(tx, order.clone(), false).await?;
                if held
                    .allocations
                    .iter()
                    .any(|a| a.qty > 0 && !crate::movement::usable(a.expiry_date, today))
                {
                    let items: BTreeSet<i64> = held.lines.iter().map(|l| l.item_id).collect();
                    held.candidates =
                        reservations::lock_candidates(tx, &items, held.order.warehouse_id, true)
                            .await?;
                    held.renew_expired(today);
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
                        warehouse: None,
                        lines,
                    },
                    anchor_ref: format!("{}#{n}", r#ref),
                };
                // The order's warehouse's date, as its renewal above used.
                let at = Moment { now: at.now, today };
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
