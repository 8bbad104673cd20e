//! Creating an order: parsing it, reserving by FEFO, and the same ref again.

use super::*;

/// A new order, parsed.
pub(super) struct Parsed {
    r#ref: Ref,
    warehouse: Option<WarehouseCode>,
    policy: Policy,
    /// Per line: the item and how many.
    lines: Vec<(ItemKey, i64)>,
}

pub(super) fn parse_order(input: &NewOrder) -> Result<Parsed, AppError> {
    let mut problems = Problems::default();
    let policy = match input.policy.as_deref().map(str::trim) {
        None | Some("") => Some(Policy::Partial),
        Some(name) => problems.check(
            Policy::from_name(name)
                .ok_or_else(|| AppError::validation("policy", tr!(errors.order.policy))),
        ),
    };
    let r#ref = problems.check(Ref::parse("ref", &input.r#ref));
    let warehouse = problems.check(WarehouseCode::parse_optional(
        "warehouse_code",
        input.warehouse_code.as_deref(),
    ));
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
    match (
        r#ref,
        warehouse,
        policy,
        lines.into_iter().collect::<Option<Vec<_>>>(),
    ) {
        (Some(r#ref), Some(warehouse), Some(policy), Some(lines)) => Ok(Parsed {
            r#ref,
            warehouse,
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
            let site =
                crate::warehouses::service::one(tx, parsed.warehouse.as_ref(), "warehouse_code")
                    .await?;
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
            let id: Option<i64> = with_tx!(tx, |conn, _backend| {
                sqlx::query_scalar(
                "INSERT INTO orders (ref, warehouse_id, policy, status, created_at, created_by, \
                                     updated_at, search_text) \
                 VALUES ($1, $6, $2, 'BACKORDERED', $3, $4, $3, $5) \
                 ON CONFLICT (ref) DO NOTHING RETURNING id"
            )
            .bind(r#ref)
            .bind(parsed.policy.as_str())
            .bind(at.now)
            .bind(*actor)
            .bind(crate::search::order_search_text(r#ref))
            .bind(site.id)
            .fetch_optional(&mut *conn)
            .await?
            });
            let Some(id) = id else {
                // A twin request created it meanwhile (and has committed).
                let existing = reservations::lock_order(tx, r#ref)
                    .await?
                    .ok_or_else(|| not_found(r#ref))?;
                return existing_order(tx, &existing, &wanted).await;
            };
            for (n, chunk) in wanted
                .chunks(crate::movement::ROWS_PER_STATEMENT)
                .enumerate()
            {
                with_tx!(tx, |conn, _backend| {
                    let mut query = QueryBuilder::new(
                        "INSERT INTO order_lines (order_id, line, item_id, qty) ",
                    );
                    query.push_values(chunk.iter().enumerate(), |mut row, (i, (item, qty))| {
                        let line = (n * crate::movement::ROWS_PER_STATEMENT + i + 1) as i32;
                        row.push_bind(id)
                            .push_bind(line)
                            .push_bind(*item)
                            .push_bind(*qty);
                    });
                    query.build().execute(&mut *conn).await.map(drop)?
                });
            }
            // "Today" (what has expired) where the order ships from.
            let zone: Option<String> = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
                "SELECT timezone FROM warehouses WHERE id = $1"
            )
            .bind(site.id)
            .fetch_one(&mut *conn)
            .await?);
            let today = at.in_zone_named(zone.as_deref()).today;
            let item_ids: BTreeSet<i64> = wanted.iter().map(|(item, _)| *item).collect();
            let mut candidates =
                reservations::lock_candidates(tx, &item_ids, site.id, true).await?;
            let mut new = Vec::new();
            let mut shortages = Vec::new();
            for (i, (item, qty)) in wanted.iter().enumerate() {
                let line = i as i32 + 1;
                let chosen = reservations::choose(&mut candidates, *item, *qty, today, &[]);
                let got: i64 = chosen.iter().map(|(_, q)| q).sum();
                if got < *qty {
                    shortages.push(Shortage {
                        ref_line: line as u32,
                        item_id: *item,
                        sku: Some(items[i].sku.clone()),
                        location_id: None,
                        required: *qty,
                        available: got,
                    });
                }
                new.extend(allocations_of(&candidates, line, &chosen));
            }
            if parsed.policy == Policy::AllOrNothing && !shortages.is_empty() {
                return Err(crate::movement::insufficient_stock(&shortages));
            }
            reservations::insert_allocations(tx, id, &new).await?;
            crate::movement::projections::reservations::refresh_status(
                tx,
                &BTreeSet::from([id]),
                at.now,
            )
            .await?;
            Ok((true, load_order(tx, id).await?))
        })
    })
    .await
}

/// The order a create names again: the same lines answer it as it is now, others are refused.
pub(super) async fn existing_order(
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
