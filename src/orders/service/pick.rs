//! Picking: what was picked at each place, short picks reserved again elsewhere.

use super::*;

/// Checks a pick request's own text as `POST /orders/{ref}/pick` does first.
pub fn validate_picks(input: &PickInput) -> Result<(), AppError> {
    parse_picks(input).map(drop)
}

/// A pick line, parsed.
pub(super) struct PickLine {
    location: LocationKey,
    item: ItemKey,
    batch_code: Option<BatchCode>,
    qty: i64,
}

pub(super) fn parse_picks(input: &PickInput) -> Result<Vec<PickLine>, AppError> {
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
            let mut held = hold(tx, r#ref).await?;
            // The places are the order's warehouse's.
            let warehouse = WarehouseCode::parse("warehouse_code", &held.order.warehouse_code)?;
            let (items, mut locations) = resolve::find(
                tx,
                picks.iter().map(|p| &p.item),
                Some(&warehouse),
                vec![(
                    "location_code",
                    true,
                    picks.iter().map(|p| &p.location).collect(),
                )],
            )
            .await?;
            let locations = locations.pop().unwrap_or_default();
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
            let today = held.order.today(at);
            for (line, short, _) in shorts {
                held.reserve(line, short, today, &short_at);
            }
            let id = held.write(tx, at.now).await?;
            load_order(tx, id).await
        })
    })
    .await
}
