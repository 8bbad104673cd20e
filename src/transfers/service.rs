//! Transfers on the database: two kinds of [`Movement`] — [`TransferOut`] takes the goods out
//! of the source's locations into the destination's transit location, [`TransferIn`] takes them
//! from there into the destination's locations, each with a `-qty` and a `+qty` ledger entry as
//! a putaway has — and the transfer's own rows: what it carries of each lot (`transfer_lots`)
//! and what each place of the destination has received of it (`transfer_receipts`).
//!
//! Every write locks the transfer's row first (then the pipeline locks stocks), so two
//! receipts of one transfer at once apply one after the other, the second finding the first's.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::db::{Backend, Db, Tx};
use crate::domain::{BatchCode, Paging, Qty, Ref, WarehouseCode};
use crate::error::{AppError, ErrorCode, Problems};
use crate::movement::anchors::{Content, LineKey};
use crate::movement::ledger::Reason;
use crate::movement::pipeline::{self, Found, Leg, Movement, Pick};
use crate::movement::{
    non_blank, parse_batch_code, parse_request, resolve, ItemKey, LineResult, LineStatus,
    LocationKey, MovementResponse, Request,
};
use crate::putaway::PutawayLineResult;
use crate::transfers::{
    NewTransfer, ReceiveTransfer, Transfer, TransferFilter, TransferLineInput, TransferList,
    TransferLot, TransferReceipt, TransferResponse, TransferStatus,
};
use crate::warehouses::service as warehouses;
use crate::with_tx;

/// The code of a warehouse's transit location, made when the first transfer to it is sent.
pub const TRANSIT_CODE: &str = "TRANSIT";

/// A line as sent or received, parsed; `transit` is filled in once the transit location is
/// known.
#[derive(Debug, Clone)]
pub struct TransferLine {
    pub item: ItemKey,
    pub location: LocationKey,
    pub transit: LocationKey,
    pub qty: Qty,
    pub batch_code: Option<BatchCode>,
}

fn parse_lines(
    reference: &str,
    warehouse: Option<&str>,
    lines: &[TransferLineInput],
) -> Result<Request<TransferLine>, AppError> {
    parse_request(reference, warehouse, lines, |prefix, line, problems| {
        let item = problems.check(ItemKey::parse(prefix, line.item_id, non_blank(&line.sku)));
        let location = problems.check(LocationKey::parse(
            &format!("{prefix}.location_code"),
            line.location_id,
            non_blank(&line.location_code),
        ));
        let qty = problems.check(Qty::parse(&format!("{prefix}.qty"), line.qty));
        let batch_code = problems.check(parse_batch_code(prefix, line.batch_code.as_deref()));
        Some(TransferLine {
            item: item?,
            location: location?,
            transit: LocationKey {
                id: None,
                code: None,
            },
            qty: qty?,
            batch_code: batch_code?,
        })
    })
}

/// Goods leaving the source for the destination's transit location (`TRANSFER_OUT`): first
/// expiry first out over what is available without a batch (never expired, never reserved), a
/// named batch even expired; all or nothing.
pub struct TransferOut {
    pub request: Request<TransferLine>,
}

impl Movement for TransferOut {
    type Line = TransferLine;
    type LineResult = PutawayLineResult;
    const REASON: Reason = Reason("TRANSFER_OUT");
    const KIND: &'static str = "TRANSFER_OUT";
    const LOCATION_FIELDS: &'static [&'static str] = &["location_code", "transit"];
    const TRANSIT: Option<usize> = Some(1);

    fn request(&self) -> &Request<TransferLine> {
        &self.request
    }
    fn item(line: &TransferLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &TransferLine, n: usize) -> &LocationKey {
        if n == 0 {
            &line.location
        } else {
            &line.transit
        }
    }
    fn identity(_line: &TransferLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id, found.locations[1].id],
            lot: None,
        }
    }
    fn content(line: &TransferLine) -> Content {
        Content {
            qty: line.qty.get(),
            batch_code: line.batch_code.as_ref().map(|c| c.as_str().to_string()),
            ..Content::default()
        }
    }
    fn legs(line: &TransferLine, found: &Found) -> Vec<Leg> {
        Leg::moving(
            found.locations[0].id,
            found.locations[1].id,
            line.qty.get(),
            Pick::named_or_fefo(line.batch_code.as_ref().map(BatchCode::as_str)),
        )
    }
}

/// Goods arriving from the transit location at a location of the destination (`TRANSFER_IN`),
/// each line one lot of the transfer; a receipt's lines are anchored under `<ref>#IN<n>`.
pub struct TransferIn {
    pub request: Request<TransferLine>,
    anchor_ref: String,
    /// Per line, its place in the receipt as sent.
    ref_lines: Vec<u32>,
}

impl Movement for TransferIn {
    type Line = TransferLine;
    type LineResult = PutawayLineResult;
    const REASON: Reason = Reason("TRANSFER_IN");
    const KIND: &'static str = "TRANSFER_IN";
    const LOCATION_FIELDS: &'static [&'static str] = &["transit", "location_code"];
    const TRANSIT: Option<usize> = Some(0);

    fn request(&self) -> &Request<TransferLine> {
        &self.request
    }
    fn anchor_ref(&self) -> &str {
        &self.anchor_ref
    }
    fn ref_line(&self, i: usize) -> u32 {
        self.ref_lines[i]
    }
    fn item(line: &TransferLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &TransferLine, n: usize) -> &LocationKey {
        if n == 0 {
            &line.transit
        } else {
            &line.location
        }
    }
    fn identity(line: &TransferLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id, found.locations[1].id],
            lot: Some(lot_of(line).to_string()),
        }
    }
    fn content(line: &TransferLine) -> Content {
        Content {
            qty: line.qty.get(),
            ..Content::default()
        }
    }
    fn legs(line: &TransferLine, found: &Found) -> Vec<Leg> {
        Leg::moving(
            found.locations[0].id,
            found.locations[1].id,
            line.qty.get(),
            Pick::named_or_fefo(Some(lot_of(line))),
        )
    }
}

/// What a transfer closed short lost on the way, taken from the transit location
/// (`TRANSFER_LOSS`): each line one lot of the transfer.
pub struct TransferLoss {
    pub request: Request<TransferLine>,
}

impl Movement for TransferLoss {
    type Line = TransferLine;
    type LineResult = LineResult;
    const REASON: Reason = Reason("TRANSFER_LOSS");
    const KIND: &'static str = "TRANSFER_LOSS";
    const LOCATION_FIELDS: &'static [&'static str] = &["transit"];
    const TRANSIT: Option<usize> = Some(0);

    fn request(&self) -> &Request<TransferLine> {
        &self.request
    }
    fn item(line: &TransferLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &TransferLine, _n: usize) -> &LocationKey {
        &line.transit
    }
    fn identity(line: &TransferLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id],
            lot: Some(lot_of(line).to_string()),
        }
    }
    fn content(line: &TransferLine) -> Content {
        Content {
            qty: line.qty.get(),
            ..Content::default()
        }
    }
    fn legs(line: &TransferLine, found: &Found) -> Vec<Leg> {
        vec![Leg::Take {
            location: found.locations[0].id,
            qty: line.qty.get(),
            pick: Pick::named_or_fefo(Some(lot_of(line))),
        }]
    }
}

/// `POST /transfers/{ref}/close` (managers): what is still on its way is written off as
/// `TRANSFER_LOSS` and the transfer is `CLOSED_SHORT`. Closed again: the same answer. A
/// transfer with nothing missing is 409 (there is nothing to close).
pub async fn close(
    db: &Db,
    config: &Config,
    reference: &str,
    actor: Option<&str>,
) -> Result<Transfer, AppError> {
    let reference = Ref::parse("ref", reference)?;
    let at = config.moment();
    db.write(&(reference, actor), |tx, (reference, actor)| {
        Box::pin(async move {
            let head = lock(tx, reference.as_str())
                .await?
                .ok_or_else(|| not_found(reference.as_str()))?;
            // What never came is written off where it was to arrive.
            crate::scope::check(head.to_warehouse_id, &head.to_warehouse)?;
            let lots = read_lots(tx, head.id).await?;
            if head.status == TransferStatus::ClosedShort.as_str() {
                let receipts = read_receipt_list(tx, head.id).await?;
                return Ok(transfer_of(head, lots, receipts));
            }
            let missing: Vec<&TransferLot> = lots.iter().filter(|l| l.in_transit > 0).collect();
            if missing.is_empty() {
                return Err(AppError::conflict(tr!(
                    errors.transfer.nothing_missing,
                    reference = reference.as_str()
                ))
                .with_details(serde_json::json!({ "status": head.status })));
            }
            let transit = transit_key(tx, &head).await?;
            let mut lines = Vec::with_capacity(missing.len());
            for lot in &missing {
                lines.push(TransferLine {
                    item: ItemKey {
                        id: Some(lot.item_id),
                        sku: None,
                    },
                    location: transit.clone(),
                    transit: transit.clone(),
                    qty: Qty::parse("qty", lot.in_transit)?,
                    batch_code: Some(BatchCode::parse("batch_code", &lot.batch_code)?),
                });
            }
            let loss = TransferLoss {
                request: Request {
                    r#ref: reference.clone(),
                    warehouse: None,
                    lines,
                },
            };
            pipeline::apply(tx, &loss, at, *actor).await?;
            with_tx!(tx, |conn, _backend| {
                sqlx::query(
                    "UPDATE transfer_lots SET lost = sent - received \
                     WHERE transfer_id = $1 AND sent > received + lost",
                )
                .bind(head.id)
                .execute(&mut *conn)
                .await?;
                sqlx::query("UPDATE transfers SET status = 'CLOSED_SHORT' WHERE id = $1")
                    .bind(head.id)
                    .execute(&mut *conn)
                    .await
                    .map(drop)?
            });
            let head = Head {
                status: TransferStatus::ClosedShort.as_str().to_string(),
                ..head
            };
            settle(tx, &head, at.now).await
        })
    })
    .await
}

/// A received line's lot (always named by then).
fn lot_of(line: &TransferLine) -> &str {
    line.batch_code.as_ref().map_or("", BatchCode::as_str)
}

/// A transfer's row, locked.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Head {
    id: i64,
    r#ref: String,
    from_warehouse: String,
    to_warehouse: String,
    to_warehouse_id: i64,
    status: String,
    receipts: i64,
    created_at: DateTime<Utc>,
    created_by: Option<String>,
    updated_at: DateTime<Utc>,
}

const HEAD: &str = "SELECT t.id, t.ref, f.code AS from_warehouse, d.code AS to_warehouse, \
     t.to_warehouse_id, t.status, CAST(t.receipts AS BIGINT) AS receipts, t.created_at, \
     t.created_by, t.updated_at \
     FROM transfers t JOIN warehouses f ON f.id = t.from_warehouse_id \
     JOIN warehouses d ON d.id = t.to_warehouse_id";

/// Locks the transfer with this ref for the rest of the transaction; `None` if there is none.
async fn lock(tx: &mut Tx, reference: &str) -> Result<Option<Head>, AppError> {
    Ok(with_tx!(tx, |conn, backend| {
        let sql = if backend == Backend::Postgres {
            format!("{HEAD} WHERE t.ref = $1 FOR UPDATE OF t")
        } else {
            format!("{HEAD} WHERE t.ref = $1")
        };
        sqlx::query_as::<_, Head>(&sql)
            .bind(reference)
            .fetch_optional(&mut *conn)
            .await?
    }))
}

fn not_found(reference: &str) -> AppError {
    AppError::not_found(tr!(errors.transfer.not_found, reference = reference))
}

/// The transit location of warehouse `site`, made the first time.
async fn transit_location(tx: &mut Tx, site: &warehouses::Site) -> Result<i64, AppError> {
    warehouses::own_location(
        tx,
        site,
        TRANSIT_CODE,
        "In transit 在途",
        "transit",
        || {
            AppError::conflict(tr!(
                errors.transfer.transit_taken,
                code = TRANSIT_CODE,
                warehouse = &site.code
            ))
        },
    )
    .await
}

/// The transit location of the transfer's destination, as its lines name it (by id).
async fn transit_key(tx: &mut Tx, head: &Head) -> Result<LocationKey, AppError> {
    let site = warehouses::Site {
        id: head.to_warehouse_id,
        code: head.to_warehouse.clone(),
    };
    Ok(LocationKey {
        id: Some(transit_location(tx, &site).await?),
        code: None,
    })
}

/// `POST /transfers`: sends the lines from `from_warehouse` to `to_warehouse` under `ref`, all
/// or nothing, idempotent by ref and line like every movement. The same ref between other
/// warehouses is 409 `IDEMPOTENCY_CONFLICT`.
pub async fn send(
    db: &Db,
    config: &Config,
    input: &NewTransfer,
    actor: Option<&str>,
) -> Result<TransferResponse, AppError> {
    let mut problems = Problems::default();
    let from = problems.check(WarehouseCode::parse(
        "from_warehouse",
        &input.from_warehouse,
    ));
    let to = problems.check(WarehouseCode::parse("to_warehouse", &input.to_warehouse));
    let request = problems.check(parse_lines(&input.r#ref, None, &input.lines));
    problems.finish()?;
    let (Some(from), Some(to), Some(mut request)) = (from, to, request) else {
        return Err(AppError::new(ErrorCode::Internal, tr!(errors.internal)));
    };
    // The lines' locations are the source's.
    request.warehouse = Some(from.clone());
    if from == to {
        return Err(AppError::validation(
            "to_warehouse",
            tr!(errors.transfer.same_warehouse),
        ));
    }
    let at = config.moment();
    let args = (from, to, request, actor);
    db.write(&args, |tx, (from, to, request, actor)| {
        Box::pin(async move {
            let source = warehouses::one(tx, Some(from), "from_warehouse").await?;
            // Sending needs the source only: the destination is where the goods go.
            let destination = warehouses::named(tx, to, "to_warehouse").await?;
            let reference = request.r#ref.as_str();
            let head = match lock(tx, reference).await? {
                Some(head) => head,
                None => {
                    with_tx!(tx, |conn, _backend| sqlx::query(
                        "INSERT INTO transfers (ref, from_warehouse_id, to_warehouse_id, status, \
                         receipts, created_at, created_by, updated_at) \
                         VALUES ($1, $2, $3, 'IN_TRANSIT', 0, $4, $5, $4) \
                         ON CONFLICT (ref) DO NOTHING"
                    )
                    .bind(reference)
                    .bind(source.id)
                    .bind(destination.id)
                    .bind(at.now)
                    .bind(*actor)
                    .execute(&mut *conn)
                    .await
                    .map(drop)?);
                    lock(tx, reference)
                        .await?
                        .ok_or_else(|| not_found(reference))?
                }
            };
            if head.from_warehouse != source.code || head.to_warehouse != destination.code {
                return Err(AppError::new(
                    ErrorCode::IdempotencyConflict,
                    tr!(
                        errors.transfer.other_warehouses,
                        reference = reference,
                        from = &head.from_warehouse,
                        to = &head.to_warehouse
                    ),
                ));
            }
            if head.status == TransferStatus::ClosedShort.as_str() {
                return Err(closed(&head));
            }
            let transit = transit_key(tx, &head).await?;
            let mut request = request.clone();
            for line in &mut request.lines {
                line.transit = transit.clone();
            }
            let movement = TransferOut { request };
            let response = pipeline::apply(tx, &movement, at, *actor).await?;
            // What the lines applied now took, lot by lot.
            let mut sent: BTreeMap<(i64, String), (Option<NaiveDate>, i64)> = BTreeMap::new();
            for line in response.lines.iter().filter(|l| l.status == LineStatus::Ok) {
                for batch in &line.batches {
                    let lot = sent
                        .entry((line.item_id, batch.batch_code.clone()))
                        .or_insert((batch.expiry_date, 0));
                    lot.1 += batch.qty.abs();
                }
            }
            for ((item, batch), (expiry, qty)) in &sent {
                with_tx!(tx, |conn, _backend| sqlx::query(
                    "INSERT INTO transfer_lots (transfer_id, item_id, batch_code, expiry_date, \
                     sent, received, lost) VALUES ($1, $2, $3, $4, $5, 0, 0) \
                     ON CONFLICT (transfer_id, item_id, batch_code) \
                     DO UPDATE SET sent = transfer_lots.sent + excluded.sent"
                )
                .bind(head.id)
                .bind(*item)
                .bind(batch.as_str())
                .bind(*expiry)
                .bind(*qty)
                .execute(&mut *conn)
                .await
                .map(drop)?);
            }
            let transfer = settle(tx, &head, at.now).await?;
            Ok(TransferResponse {
                transfer,
                movement: response,
            })
        })
    })
    .await
}

/// `POST /transfers/{ref}/receive`: each line is the whole quantity of its item and lot
/// received at its location of the destination so far; what is new of it moves from transit.
/// More than the transfer carries is 422, as is a lot it does not carry; a line without a batch
/// is the item's only lot in the transfer (with several, 422 naming them).
pub async fn receive(
    db: &Db,
    config: &Config,
    reference: &str,
    input: &ReceiveTransfer,
    actor: Option<&str>,
) -> Result<TransferResponse, AppError> {
    receive_with(db, config, reference, input, None, actor).await
}

/// [`receive`] for a form that says what arrived now: each line's quantity is added to what its
/// place received of that lot so far, provided the transfer still has `before` received in all
/// (what the form was shown) — else 409 and nothing done, so a form sent twice, or two forms at
/// once, never receive a unit twice.
pub async fn receive_adding(
    db: &Db,
    config: &Config,
    reference: &str,
    input: &ReceiveTransfer,
    before: i64,
    actor: Option<&str>,
) -> Result<TransferResponse, AppError> {
    receive_with(db, config, reference, input, Some(before), actor).await
}

async fn receive_with(
    db: &Db,
    config: &Config,
    reference: &str,
    input: &ReceiveTransfer,
    shown: Option<i64>,
    actor: Option<&str>,
) -> Result<TransferResponse, AppError> {
    let request = parse_lines(reference, None, &input.lines)?;
    let at = config.moment();
    db.write(&(request, actor), |tx, (request, actor)| {
        Box::pin(async move {
            let reference = request.r#ref.as_str();
            let head = lock(tx, reference)
                .await?
                .ok_or_else(|| not_found(reference))?;
            if head.status == TransferStatus::ClosedShort.as_str() {
                return Err(closed(&head));
            }
            let to = WarehouseCode::parse("warehouse_code", &head.to_warehouse)?;
            let (items, mut places) = resolve::find(
                tx,
                request.lines.iter().map(|l| &l.item),
                Some(&to),
                vec![(
                    "location_code",
                    true,
                    request.lines.iter().map(|l| &l.location).collect(),
                )],
            )
            .await?;
            let places = places.pop().unwrap_or_default();
            let lots = read_lots(tx, head.id).await?;
            let received = read_receipts(tx, head.id).await?;
            if let Some(before) = shown {
                if lots.iter().map(|l| l.received).sum::<i64>() != before {
                    return Err(AppError::conflict(tr!(errors.conflict.transfer_changed)));
                }
            }

            // Each line's lot, and what it adds to what was received there.
            let mut problems = Problems::default();
            let mut seen: HashMap<(i64, i64, String), usize> = HashMap::new();
            let mut adding: HashMap<(i64, String), i64> = HashMap::new();
            let mut moves: Vec<(usize, String, i64)> = Vec::new();
            for (i, line) in request.lines.iter().enumerate() {
                let (item, place) = (&items[i], &places[i]);
                let carried: Vec<&TransferLot> =
                    lots.iter().filter(|l| l.item_id == item.id).collect();
                let lot = match &line.batch_code {
                    Some(code) => carried.iter().find(|l| l.batch_code == code.as_str()),
                    None if carried.len() == 1 => carried.first(),
                    None => None,
                };
                let Some(lot) = lot else {
                    let message = match (&line.batch_code, carried.len()) {
                        (_, 0) => tr!(errors.transfer.no_item, sku = &item.sku),
                        (Some(code), _) => {
                            tr!(
                                errors.transfer.no_lot,
                                sku = &item.sku,
                                batch = code.as_str()
                            )
                        }
                        (None, _) => tr!(
                            errors.transfer.which_lot,
                            sku = &item.sku,
                            batches = carried
                                .iter()
                                .map(|l| l.batch_code.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    let field = if line.batch_code.is_some() {
                        "batch_code"
                    } else {
                        "sku"
                    };
                    problems.note(AppError::validation(format!("lines[{i}].{field}"), message));
                    continue;
                };
                let key = (item.id, place.id, lot.batch_code.clone());
                if let Some(first) = seen.insert(key.clone(), i) {
                    problems.note(AppError::validation(
                        format!("lines[{i}]"),
                        tr!(errors.value.repeated_line, first = first, line = first + 1),
                    ));
                    continue;
                }
                let before = received.get(&key).copied().unwrap_or(0);
                let total = match shown {
                    Some(_) => before.saturating_add(line.qty.get()),
                    None => line.qty.get(),
                };
                if total < before {
                    problems.note(AppError::validation(
                        format!("lines[{i}].qty"),
                        tr!(errors.transfer.received_already, qty = before),
                    ));
                    continue;
                }
                let more = adding.entry((item.id, lot.batch_code.clone())).or_insert(0);
                *more += total - before;
                if *more > lot.in_transit {
                    problems.note(AppError::validation(
                        format!("lines[{i}].qty"),
                        tr!(errors.transfer.more_than_sent, in_transit = lot.in_transit),
                    ));
                    continue;
                }
                if total > before {
                    moves.push((i, lot.batch_code.clone(), total - before));
                }
            }
            problems.finish()?;

            let response = if moves.is_empty() {
                MovementResponse {
                    r#ref: reference.to_string(),
                    status: LineStatus::Idempotent,
                    lines: Vec::new(),
                }
            } else {
                let transit = transit_key(tx, &head).await?;
                let mut lines = Vec::with_capacity(moves.len());
                for (i, batch, qty) in &moves {
                    lines.push(TransferLine {
                        item: ItemKey {
                            id: Some(items[*i].id),
                            sku: None,
                        },
                        location: LocationKey {
                            id: Some(places[*i].id),
                            code: None,
                        },
                        transit: transit.clone(),
                        qty: Qty::parse("qty", *qty)?,
                        batch_code: Some(BatchCode::parse("batch_code", batch)?),
                    });
                }
                let movement = TransferIn {
                    request: Request {
                        r#ref: request.r#ref.clone(),
                        warehouse: Some(to),
                        lines,
                    },
                    anchor_ref: format!("{reference}#IN{}", head.receipts + 1),
                    ref_lines: moves.iter().map(|(i, _, _)| *i as u32 + 1).collect(),
                };
                let response = pipeline::apply(tx, &movement, at, *actor).await?;
                for (i, batch, qty) in &moves {
                    with_tx!(tx, |conn, _backend| {
                        sqlx::query(
                            "INSERT INTO transfer_receipts (transfer_id, item_id, location_id, \
                             batch_code, qty) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (transfer_id, item_id, location_id, batch_code) \
                             DO UPDATE SET qty = transfer_receipts.qty + excluded.qty",
                        )
                        .bind(head.id)
                        .bind(items[*i].id)
                        .bind(places[*i].id)
                        .bind(batch.as_str())
                        .bind(*qty)
                        .execute(&mut *conn)
                        .await?;
                        sqlx::query(
                            "UPDATE transfer_lots SET received = received + $4 \
                             WHERE transfer_id = $1 AND item_id = $2 AND batch_code = $3",
                        )
                        .bind(head.id)
                        .bind(items[*i].id)
                        .bind(batch.as_str())
                        .bind(*qty)
                        .execute(&mut *conn)
                        .await
                        .map(drop)?
                    });
                }
                with_tx!(tx, |conn, _backend| sqlx::query(
                    "UPDATE transfers SET receipts = receipts + 1 WHERE id = $1"
                )
                .bind(head.id)
                .execute(&mut *conn)
                .await
                .map(drop)?);
                response
            };
            let transfer = settle(tx, &head, at.now).await?;
            Ok(TransferResponse {
                transfer,
                movement: response,
            })
        })
    })
    .await
}

fn closed(head: &Head) -> AppError {
    AppError::conflict(tr!(errors.transfer.closed, reference = &head.r#ref))
        .with_details(serde_json::json!({ "status": head.status }))
}

/// The lots a transfer carries, by sku and batch.
async fn read_lots(tx: &mut Tx, transfer: i64) -> Result<Vec<TransferLot>, AppError> {
    type LotRow = (i64, String, String, Option<NaiveDate>, i64, i64, i64);
    let rows: Vec<LotRow> = with_tx!(tx, |conn, _backend| sqlx::query_as(
        "SELECT l.item_id, i.sku, l.batch_code, l.expiry_date, l.sent, l.received, l.lost \
         FROM transfer_lots l JOIN items i ON i.id = l.item_id \
         WHERE l.transfer_id = $1 ORDER BY i.sku, l.batch_code"
    )
    .bind(transfer)
    .fetch_all(&mut *conn)
    .await?);
    Ok(rows
        .into_iter()
        .map(
            |(item_id, sku, batch_code, expiry_date, sent, received, lost)| TransferLot {
                item_id,
                sku,
                batch_code,
                expiry_date,
                sent,
                received,
                lost,
                in_transit: sent - received - lost,
            },
        )
        .collect())
}

/// What each place of the destination has received of each lot.
async fn read_receipts(
    tx: &mut Tx,
    transfer: i64,
) -> Result<HashMap<(i64, i64, String), i64>, AppError> {
    let rows: Vec<(i64, i64, String, i64)> = with_tx!(tx, |conn, _backend| {
        sqlx::query_as(
        "SELECT item_id, location_id, batch_code, qty FROM transfer_receipts WHERE transfer_id = $1"
    )
    .bind(transfer)
    .fetch_all(&mut *conn)
    .await?
    });
    Ok(rows
        .into_iter()
        .map(|(item, location, batch, qty)| ((item, location, batch), qty))
        .collect())
}

/// What each place of the destination has received of each lot, as the transfer's answer lists
/// it.
async fn read_receipt_list(tx: &mut Tx, transfer: i64) -> Result<Vec<TransferReceipt>, AppError> {
    let rows: Vec<(String, String, String, i64)> = with_tx!(tx, |conn, _backend| {
        sqlx::query_as(
            "SELECT i.sku, r.batch_code, l.code, r.qty FROM transfer_receipts r \
             JOIN items i ON i.id = r.item_id JOIN locations l ON l.id = r.location_id \
             WHERE r.transfer_id = $1 ORDER BY i.sku, r.batch_code, l.code",
        )
        .bind(transfer)
        .fetch_all(&mut *conn)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(sku, batch_code, location_code, qty)| TransferReceipt {
            sku,
            batch_code,
            location_code,
            qty,
        })
        .collect())
}

/// Brings the transfer's status up to date with its lots and answers it as it now is.
async fn settle(tx: &mut Tx, head: &Head, now: DateTime<Utc>) -> Result<Transfer, AppError> {
    let lots = read_lots(tx, head.id).await?;
    let received: i64 = lots.iter().map(|l| l.received).sum();
    let open: i64 = lots.iter().map(|l| l.in_transit).sum();
    let status = if head.status == TransferStatus::ClosedShort.as_str() {
        TransferStatus::ClosedShort
    } else if open == 0 && received > 0 {
        TransferStatus::Received
    } else if received > 0 {
        TransferStatus::PartiallyReceived
    } else {
        TransferStatus::InTransit
    };
    with_tx!(tx, |conn, _backend| sqlx::query(
        "UPDATE transfers SET status = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(head.id)
    .bind(status.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(drop)?);
    Ok(Transfer {
        r#ref: head.r#ref.clone(),
        from_warehouse: head.from_warehouse.clone(),
        to_warehouse: head.to_warehouse.clone(),
        status,
        created_at: head.created_at,
        created_by: head.created_by.clone(),
        updated_at: now,
        lots,
        receipts: read_receipt_list(tx, head.id).await?,
    })
}

/// `GET /transfers/{ref}`.
pub async fn get_transfer(db: &Db, reference: &str) -> Result<Transfer, AppError> {
    let mut tx = db.begin_read().await?;
    let head: Option<Head> = with_tx!(&mut tx, |conn, _backend| sqlx::query_as(&format!(
        "{HEAD} WHERE t.ref = $1"
    ))
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?);
    let head = head.ok_or_else(|| not_found(reference))?;
    let lots = read_lots(&mut tx, head.id).await?;
    let receipts = read_receipt_list(&mut tx, head.id).await?;
    tx.commit().await?;
    Ok(transfer_of(head, lots, receipts))
}

fn transfer_of(head: Head, lots: Vec<TransferLot>, receipts: Vec<TransferReceipt>) -> Transfer {
    Transfer {
        status: TransferStatus::from_name(&head.status).unwrap_or(TransferStatus::InTransit),
        r#ref: head.r#ref,
        from_warehouse: head.from_warehouse,
        to_warehouse: head.to_warehouse,
        created_at: head.created_at,
        created_by: head.created_by,
        updated_at: head.updated_at,
        lots,
        receipts,
    }
}

/// `GET /transfers`: newest first, optionally of one status and of one warehouse (either end).
pub async fn list_transfers(db: &Db, filter: &TransferFilter) -> Result<TransferList, AppError> {
    let paging = Paging::parse(filter.offset, filter.limit)?;
    let status = match non_blank(&filter.status) {
        None => None,
        Some(raw) => Some(
            TransferStatus::from_name(&raw.trim().to_ascii_uppercase()).ok_or_else(|| {
                AppError::validation(
                    "status",
                    tr!(
                        errors.value.one_of,
                        values = "IN_TRANSIT, PARTIALLY_RECEIVED, RECEIVED, CLOSED_SHORT"
                    ),
                )
            })?,
        ),
    };
    let warehouse = WarehouseCode::parse_optional("warehouse", filter.warehouse.as_deref())?;
    let mut tx = db.begin_read().await?;
    let site = warehouses::filter(&mut tx, warehouse.as_ref(), "warehouse").await?;
    let site = site.map(|s| s.id);
    let filter_sql = "($1 IS NULL OR t.status = $1) \
                      AND ($2 IS NULL OR t.from_warehouse_id = $2 OR t.to_warehouse_id = $2)";
    let (total, heads) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM transfers t WHERE {filter_sql}"
        ))
        .bind(status.map(TransferStatus::as_str))
        .bind(site)
        .fetch_one(&mut *conn)
        .await?;
        let heads: Vec<Head> = sqlx::query_as(&format!(
            "{HEAD} WHERE {filter_sql} ORDER BY t.id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(status.map(TransferStatus::as_str))
        .bind(site)
        .bind(paging.limit)
        .bind(paging.offset)
        .fetch_all(&mut *conn)
        .await?;
        (total, heads)
    });
    let mut transfers = Vec::with_capacity(heads.len());
    for head in heads {
        let lots = read_lots(&mut tx, head.id).await?;
        let receipts = read_receipt_list(&mut tx, head.id).await?;
        transfers.push(transfer_of(head, lots, receipts));
    }
    tx.commit().await?;
    Ok(TransferList {
        total,
        offset: paging.offset,
        limit: paging.limit,
        transfers,
    })
}
