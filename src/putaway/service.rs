//! Putaway: always all-or-nothing, in one transaction. Per line an anchor, the goods taken from
//! the source's batches (the named one, or first-expiry-first-out) and added to the same lots at
//! the destination, with a `-qty` and a `+qty` `PUTAWAY` ledger entry.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::domain::{check_line_count, BatchCode, Qty, Ref};
use crate::error::{AppError, ErrorCode};
use crate::movement::store::{self, LedgerEntry, Lot, Reason};
use crate::movement::{
    insufficient_stock, non_blank, BatchQty, ItemKey, LineStatus, LocationKey, MovementResponse,
    Shortage,
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
        let r#ref = Ref::parse("ref", &input.r#ref)?;
        check_line_count(input.lines.len())?;
        let mut lines = Vec::with_capacity(input.lines.len());
        for (i, line) in input.lines.iter().enumerate() {
            let prefix = format!("lines[{i}]");
            lines.push(PutawayLine {
                item: ItemKey::parse(&prefix, line.item_id, non_blank(&line.sku))?,
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
                batch_code: match &line.batch_code {
                    Some(code) => Some(BatchCode::parse(&format!("{prefix}.batch_code"), code)?),
                    None => None,
                },
            });
        }
        Ok(Self { r#ref, lines })
    }
}

struct Resolved<'a> {
    index: usize,
    line: &'a PutawayLine,
    item_id: i64,
    from_id: i64,
    to_id: i64,
}

#[derive(sqlx::FromRow)]
struct Anchor {
    qty: i64,
    from_ledger_id: Option<i64>,
    to_ledger_id: Option<i64>,
}

/// Moves every line, or none: a short line refuses the whole request with 409.
pub async fn put_away(
    db: &Db,
    config: &Config,
    input: &PutawayInput,
) -> Result<PutawayResponse, AppError> {
    let request = Putaway::parse(input)?;
    let mut tx = db.begin_write().await?;
    let response = put_away_in(&mut tx, &request, config.today(), Utc::now()).await?;
    tx.commit().await?;
    Ok(response)
}

/// Moves a parsed request inside the caller's write transaction. On error (a short line
/// included) the caller must drop the transaction: lines already moved are rolled back with it.
pub async fn put_away_in(
    tx: &mut Tx,
    request: &Putaway,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<PutawayResponse, AppError> {
    let resolved = resolve(tx, request).await?;

    // Lock sources and destinations together in (item, location) order.
    let mut keys: BTreeSet<(i64, i64, bool)> = BTreeSet::new();
    for r in &resolved {
        keys.insert((r.item_id, r.from_id, false));
        keys.insert((r.item_id, r.to_id, true));
    }
    let mut stocks: HashMap<(i64, i64), i64> = HashMap::new();
    for &(item_id, location_id, create) in &keys {
        if stocks.contains_key(&(item_id, location_id)) {
            continue;
        }
        // A key that is both a source and a destination is created (create sorts after !create).
        let needs_create = create || keys.contains(&(item_id, location_id, true));
        if let Some(row) = store::lock_stock(tx, item_id, location_id, needs_create).await? {
            stocks.insert((item_id, location_id), row.id);
        }
    }

    let mut results: Vec<Option<PutawayLineResult>> = vec![None; resolved.len()];
    let mut shortages = Vec::new();
    for r in &resolved {
        match move_line(tx, &request.r#ref, r, &stocks, today, now).await? {
            Ok(result) => results[r.index] = Some(result),
            Err(shortage) => shortages.push(shortage),
        }
    }
    if !shortages.is_empty() {
        return Err(insufficient_stock(&shortages));
    }

    let lines: Vec<PutawayLineResult> = results
        .into_iter()
        .map(|r| r.expect("every line"))
        .collect();
    Ok(MovementResponse {
        r#ref: request.r#ref.to_string(),
        status: LineStatus::overall(lines.iter().map(|l| l.status)),
        lines,
    })
}

async fn resolve<'a>(tx: &mut Tx, request: &'a Putaway) -> Result<Vec<Resolved<'a>>, AppError> {
    let mut resolved = Vec::with_capacity(request.lines.len());
    let mut seen: HashMap<(i64, i64, i64, Option<&str>), usize> = HashMap::new();
    for (index, line) in request.lines.iter().enumerate() {
        let prefix = format!("lines[{index}]");
        let item = store::find_item(tx, &line.item, &prefix).await?;
        let from =
            store::find_location(tx, &line.from, &format!("{prefix}.from_location_code")).await?;
        let to_field = format!("{prefix}.to_location_code");
        let to = store::find_location(tx, &line.to, &to_field).await?;
        if from.id == to.id {
            return Err(AppError::validation(
                to_field,
                "must differ from the source location",
            ));
        }
        let key = (
            item.id,
            from.id,
            to.id,
            line.batch_code.as_ref().map(BatchCode::as_str),
        );
        if let Some(first) = seen.insert(key, index) {
            return Err(AppError::validation(
                prefix,
                format!("repeats lines[{first}]: one line per item, locations and batch"),
            ));
        }
        resolved.push(Resolved {
            index,
            line,
            item_id: item.id,
            from_id: from.id,
            to_id: to.id,
        });
    }
    Ok(resolved)
}

/// Moves one line; `Ok(Err(shortage))` when the source cannot cover it.
async fn move_line(
    tx: &mut Tx,
    r#ref: &Ref,
    r: &Resolved<'_>,
    stocks: &HashMap<(i64, i64), i64>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Result<PutawayLineResult, Shortage>, AppError> {
    let line = r.line;
    let qty = line.qty.get();
    let ref_line = r.index as u32 + 1;
    let code = line.batch_code.as_ref().map(BatchCode::as_str);

    if let Some(anchor) = find_anchor(tx, r#ref, r).await? {
        return replay(tx, r, anchor).await.map(Ok);
    }

    let shortage = |available: i64| Shortage {
        ref_line,
        item_id: r.item_id,
        location_id: r.from_id,
        required: qty,
        available,
    };
    let Some(&from_stock) = stocks.get(&(r.item_id, r.from_id)) else {
        return Ok(Err(shortage(0)));
    };
    // A named batch may be moved even when expired (e.g. to quarantine); FEFO takes usable ones.
    let batches = store::takeable_batches(tx, from_stock, code, today, code.is_some()).await?;
    let Some(plan) = store::plan_take(&batches, qty) else {
        return Ok(Err(shortage(batches.iter().map(|b| b.qty).sum())));
    };

    let to_stock = stocks[&(r.item_id, r.to_id)];
    let mut taken = Vec::with_capacity(plan.len());
    let mut added = Vec::with_capacity(plan.len());
    let mut moved = Vec::with_capacity(plan.len());
    for (batch, take) in &plan {
        store::take_from_batch(tx, batch.id, *take).await?;
        let lot = Lot {
            code: &batch.batch_code,
            expiry_date: batch.expiry_date,
            production_date: batch.production_date,
        };
        let field = format!("lines[{}].batch_code", r.index);
        let target =
            store::add_to_batch(tx, to_stock, r.item_id, r.to_id, &lot, *take, &field).await?;
        taken.push((batch.id, -take));
        added.push((target.id, *take));
        moved.push(BatchQty {
            batch_code: batch.batch_code.clone(),
            expiry_date: batch.expiry_date,
            qty: *take,
        });
    }
    let from_after_qty = store::change_stock(tx, from_stock, -qty).await?;
    let to_after_qty = store::change_stock(tx, to_stock, qty).await?;
    let entry = |stock_id, location_id, delta, after_qty, batches| LedgerEntry {
        stock_id,
        item_id: r.item_id,
        location_id,
        delta,
        after_qty,
        reason: Reason::Putaway,
        r#ref: r#ref.as_str(),
        ref_line,
        occurred_at: now,
        batches,
    };
    let from_ledger = store::append_ledger(
        tx,
        &entry(from_stock, r.from_id, -qty, from_after_qty, &taken),
    )
    .await?;
    let to_ledger =
        store::append_ledger(tx, &entry(to_stock, r.to_id, qty, to_after_qty, &added)).await?;

    with_tx!(tx, |conn, _backend| {
        sqlx::query(
        "INSERT INTO putaway_moves (ref, ref_line, item_id, from_location_id, to_location_id, batch_code, qty, from_ledger_id, to_ledger_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(r#ref.as_str())
    .bind(ref_line as i32)
    .bind(r.item_id)
    .bind(r.from_id)
    .bind(r.to_id)
    .bind(code)
    .bind(qty)
    .bind(from_ledger)
    .bind(to_ledger)
    .execute(&mut *conn)
    .await
        .map(drop)?
    });

    Ok(Ok(PutawayLineResult {
        ref_line,
        item_id: r.item_id,
        from_location_id: r.from_id,
        to_location_id: r.to_id,
        qty,
        status: LineStatus::Ok,
        from_after_qty,
        to_after_qty,
        batches: moved,
    }))
}

async fn find_anchor(
    tx: &mut Tx,
    r#ref: &Ref,
    r: &Resolved<'_>,
) -> Result<Option<Anchor>, AppError> {
    let code = r.line.batch_code.as_ref().map(BatchCode::as_str);
    let anchor = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, Anchor>(
        "SELECT qty, from_ledger_id, to_ledger_id FROM putaway_moves \
         WHERE ref = $1 AND item_id = $2 AND from_location_id = $3 AND to_location_id = $4 \
           AND COALESCE(batch_code, ' ') = COALESCE($5, ' ')"
    )
    .bind(r#ref.as_str())
    .bind(r.item_id)
    .bind(r.from_id)
    .bind(r.to_id)
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?);
    Ok(anchor)
}

/// The line was moved before under this ref: its original result, or `IDEMPOTENCY_CONFLICT`
/// when this request's quantity differs.
async fn replay(
    tx: &mut Tx,
    r: &Resolved<'_>,
    anchor: Anchor,
) -> Result<PutawayLineResult, AppError> {
    let prefix = format!("lines[{}]", r.index);
    if anchor.qty != r.line.qty.get() {
        return Err(AppError::new(
            ErrorCode::IdempotencyConflict,
            format!("{prefix}: this ref already moved {} of this item between these locations; a different line needs a new ref", anchor.qty),
        )
        .with_details(serde_json::json!({ "field": prefix, "applied_qty": anchor.qty })));
    }
    let missing = || {
        AppError::internal(&std::io::Error::other(
            "putaway anchor without ledger entry",
        ))
    };
    let (from_after_qty, batches) =
        store::ledger_outcome(tx, anchor.from_ledger_id.ok_or_else(missing)?).await?;
    let (to_after_qty, _) =
        store::ledger_outcome(tx, anchor.to_ledger_id.ok_or_else(missing)?).await?;
    Ok(PutawayLineResult {
        ref_line: r.index as u32 + 1,
        item_id: r.item_id,
        from_location_id: r.from_id,
        to_location_id: r.to_id,
        qty: anchor.qty,
        status: LineStatus::Idempotent,
        from_after_qty,
        to_after_qty,
        batches,
    })
}
