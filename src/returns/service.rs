//! Returns on the database: three kinds of [`Movement`] — [`Receipt`] brings goods back into a
//! quarantine location (`RETURN`, one `+qty` entry with the lot's batch and dates),
//! [`Restock`] takes them from there to a storage location (`RETURN_RESTOCK`, a `-qty` and a
//! `+qty` entry as a putaway has) and [`Scrap`] writes them off (`RETURN_SCRAP`) — and the
//! return's own rows: what came back of each lot at each quarantine location and why
//! (`return_lines`), and what each disposition has done so far (`return_disposals`).
//!
//! Every write locks the return's row first (and, for a return of an order, the order's), then
//! the pipeline locks stocks: two requests for one return apply one after the other, the second
//! finding the first's, and two returns of one order never take back more than it shipped.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::db::{Backend, Db, Tx};
use crate::domain::{BatchCode, Note, Paging, Qty, Ref, WarehouseCode};
use crate::error::{AppError, ErrorCode, Problems};
use crate::movement::anchors::{Content, LineKey};
use crate::movement::ledger::Reason;
use crate::movement::pipeline::{self, Found, Leg, Lot, Movement, Pick};
use crate::movement::{
    line_field, non_blank, parse_batch_code, parse_request, resolve, ItemKey, LineResult,
    LineStatus, LocationKey, Request,
};
use crate::putaway::PutawayLineResult;
use crate::returns::{
    DisposeAction, DisposeLineResult, DisposeResponse, DisposeReturn, NewReturn, Return,
    ReturnDisposal, ReturnFilter, ReturnLine, ReturnLineInput, ReturnList, ReturnReason,
    ReturnResponse, ReturnStatus,
};
use crate::warehouses::service as warehouses;
use crate::with_tx;

/// The code of a warehouse's quarantine location for returns that name none, made the first
/// time one is needed.
pub const QUARANTINE_CODE: &str = "QUARANTINE";

/// A line coming back, parsed; the batch and dates are settled against the order (if any)
/// before the line is applied.
#[derive(Debug, Clone)]
pub struct ReceiptLine {
    pub item: ItemKey,
    pub location: Option<LocationKey>,
    pub qty: Qty,
    pub batch_code: Option<BatchCode>,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    pub reason_code: ReturnReason,
    pub note: Option<Note>,
    /// The quarantine location, once known.
    pub place: LocationKey,
}

fn parse_receipt(input: &NewReturn) -> Result<Request<ReceiptLine>, AppError> {
    parse_request(
        &input.r#ref,
        input.warehouse_code.as_deref(),
        &input.lines,
        |prefix, line: &ReturnLineInput, problems| {
            let item = problems.check(ItemKey::parse(prefix, line.item_id, non_blank(&line.sku)));
            let location = if line.location_id.is_some() || non_blank(&line.location_code).is_some()
            {
                problems
                    .check(LocationKey::parse(
                        &format!("{prefix}.location_code"),
                        line.location_id,
                        non_blank(&line.location_code),
                    ))
                    .map(Some)
            } else {
                Some(None)
            };
            let qty = problems.check(Qty::parse(&format!("{prefix}.qty"), line.qty));
            let batch_code = problems.check(parse_batch_code(prefix, line.batch_code.as_deref()));
            let reason_code = problems.check(
                line.reason_code
                    .as_deref()
                    .map(|raw| raw.trim().to_ascii_uppercase())
                    .and_then(|raw| ReturnReason::from_name(&raw))
                    .ok_or_else(|| {
                        AppError::validation(
                            format!("{prefix}.reason_code"),
                            tr!(
                                errors.value.one_of,
                                values = "CUSTOMER_RETURN, DAMAGED, WRONG_ITEM, EXPIRED, OTHER"
                            ),
                        )
                    }),
            );
            let note_field = format!("{prefix}.note");
            let note = problems.check(match non_blank(&line.note) {
                Some(text) => Note::parse(&note_field, text).map(Some),
                None if reason_code == Some(ReturnReason::Other) => Err(AppError::validation(
                    note_field,
                    tr!(errors.adjust.note_needed),
                )),
                None => Ok(None),
            });
            Some(ReceiptLine {
                item: item?,
                location: location?,
                qty: qty?,
                batch_code: batch_code?,
                expiry_date: line.expiry_date,
                production_date: None,
                reason_code: reason_code?,
                note: note?,
                place: LocationKey {
                    id: None,
                    code: None,
                },
            })
        },
    )
}

/// Goods coming back into a quarantine location (`RETURN`), into the lot the line names.
pub struct Receipt {
    pub request: Request<ReceiptLine>,
}

impl Movement for Receipt {
    type Line = ReceiptLine;
    type LineResult = LineResult;
    const REASON: Reason = Reason("RETURN");
    const KIND: &'static str = "RETURN";
    const LOCATION_FIELDS: &'static [&'static str] = &["location_code"];
    const QUARANTINE: Option<usize> = Some(0);

    fn request(&self) -> &Request<ReceiptLine> {
        &self.request
    }
    fn item(line: &ReceiptLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &ReceiptLine, _n: usize) -> &LocationKey {
        &line.place
    }
    fn identity(line: &ReceiptLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id],
            lot: Some(lot_code(line.batch_code.as_ref()).to_string()),
        }
    }
    fn content(line: &ReceiptLine) -> Content {
        Content {
            qty: line.qty.get(),
            expiry_date: line.expiry_date,
            production_date: line.production_date,
            reason_code: Some(line.reason_code.as_str().to_string()),
            ..Content::default()
        }
    }
    fn legs(line: &ReceiptLine, found: &Found) -> Vec<Leg> {
        vec![Leg::Add {
            location: found.locations[0].id,
            qty: line.qty.get(),
            lot: Lot::Named {
                code: lot_code(line.batch_code.as_ref()).to_string(),
                expiry_date: line.expiry_date,
                production_date: line.production_date,
            },
        }]
    }
}

/// A disposition's line as the pipeline moves it: a lot from one quarantine location, to a
/// storage location (restock) or out (scrap).
#[derive(Debug, Clone)]
pub struct DisposalLine {
    pub item: ItemKey,
    pub quarantine: LocationKey,
    pub target: LocationKey,
    pub qty: Qty,
    pub batch_code: String,
}

/// Returned goods back to a storage location (`RETURN_RESTOCK`).
pub struct Restock {
    pub request: Request<DisposalLine>,
    anchor_ref: String,
    ref_lines: Vec<u32>,
}

impl Movement for Restock {
    type Line = DisposalLine;
    type LineResult = PutawayLineResult;
    const REASON: Reason = Reason("RETURN_RESTOCK");
    const KIND: &'static str = "RETURN_RESTOCK";
    const LOCATION_FIELDS: &'static [&'static str] = &["quarantine", "location_code"];
    const QUARANTINE: Option<usize> = Some(0);

    fn request(&self) -> &Request<DisposalLine> {
        &self.request
    }
    fn anchor_ref(&self) -> &str {
        &self.anchor_ref
    }
    fn ref_line(&self, i: usize) -> u32 {
        self.ref_lines[i]
    }
    fn item(line: &DisposalLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &DisposalLine, n: usize) -> &LocationKey {
        if n == 0 {
            &line.quarantine
        } else {
            &line.target
        }
    }
    fn check(i: usize, _line: &DisposalLine, found: &Found) -> Result<(), AppError> {
        let target = &found.locations[1];
        if target.kind == "storage" {
            return Ok(());
        }
        Err(AppError::validation(
            line_field(i, "location_code"),
            tr!(errors.returns.restock_to_storage, code = &target.code),
        ))
    }
    fn identity(line: &DisposalLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id, found.locations[1].id],
            lot: Some(line.batch_code.clone()),
        }
    }
    fn content(line: &DisposalLine) -> Content {
        Content {
            qty: line.qty.get(),
            ..Content::default()
        }
    }
    fn legs(line: &DisposalLine, found: &Found) -> Vec<Leg> {
        Leg::moving(
            found.locations[0].id,
            found.locations[1].id,
            line.qty.get(),
            Pick::named_or_fefo(Some(&line.batch_code)),
        )
    }
}

/// Returned goods written off from quarantine (`RETURN_SCRAP`).
pub struct Scrap {
    pub request: Request<DisposalLine>,
    anchor_ref: String,
    ref_lines: Vec<u32>,
}

impl Movement for Scrap {
    type Line = DisposalLine;
    type LineResult = LineResult;
    const REASON: Reason = Reason("RETURN_SCRAP");
    const KIND: &'static str = "RETURN_SCRAP";
    const LOCATION_FIELDS: &'static [&'static str] = &["quarantine"];
    const QUARANTINE: Option<usize> = Some(0);

    fn request(&self) -> &Request<DisposalLine> {
        &self.request
    }
    fn anchor_ref(&self) -> &str {
        &self.anchor_ref
    }
    fn ref_line(&self, i: usize) -> u32 {
        self.ref_lines[i]
    }
    fn item(line: &DisposalLine) -> &ItemKey {
        &line.item
    }
    fn location(line: &DisposalLine, _n: usize) -> &LocationKey {
        &line.quarantine
    }
    fn identity(line: &DisposalLine, found: &Found) -> LineKey {
        LineKey {
            item_id: found.item.id,
            locations: vec![found.locations[0].id],
            lot: Some(line.batch_code.clone()),
        }
    }
    fn content(line: &DisposalLine) -> Content {
        Content {
            qty: line.qty.get(),
            ..Content::default()
        }
    }
    fn legs(line: &DisposalLine, found: &Found) -> Vec<Leg> {
        vec![Leg::Take {
            location: found.locations[0].id,
            qty: line.qty.get(),
            pick: Pick::named_or_fefo(Some(&line.batch_code)),
        }]
    }
}

/// A line's lot: its batch, or the no-batch lot.
fn lot_code(batch: Option<&BatchCode>) -> &str {
    batch.map_or("", BatchCode::as_str)
}

fn by_id(id: i64) -> LocationKey {
    LocationKey {
        id: Some(id),
        code: None,
    }
}

fn item_by_id(id: i64) -> ItemKey {
    ItemKey {
        id: Some(id),
        sku: None,
    }
}

/// A return's row, locked.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Head {
    id: i64,
    r#ref: String,
    warehouse_id: i64,
    warehouse_code: String,
    order_id: Option<i64>,
    order_ref: Option<String>,
    status: String,
    disposals: i64,
    created_at: DateTime<Utc>,
    created_by: Option<String>,
    updated_at: DateTime<Utc>,
}

const HEAD: &str = "SELECT r.id, r.ref, r.warehouse_id, w.code AS warehouse_code, r.order_id, \
     o.ref AS order_ref, r.status, CAST(r.disposals AS BIGINT) AS disposals, r.created_at, \
     r.created_by, r.updated_at \
     FROM returns r JOIN warehouses w ON w.id = r.warehouse_id \
     LEFT JOIN orders o ON o.id = r.order_id";

/// Locks the return with this ref for the rest of the transaction; `None` if there is none.
async fn lock(tx: &mut Tx, reference: &str) -> Result<Option<Head>, AppError> {
    Ok(with_tx!(tx, |conn, backend| {
        let sql = if backend == Backend::Postgres {
            format!("{HEAD} WHERE r.ref = $1 FOR UPDATE OF r")
        } else {
            format!("{HEAD} WHERE r.ref = $1")
        };
        sqlx::query_as::<_, Head>(&sql)
            .bind(reference)
            .fetch_optional(&mut *conn)
            .await?
    }))
}

fn not_found(reference: &str) -> AppError {
    AppError::not_found(tr!(errors.returns.not_found, reference = reference))
}

/// The order a return names, locked (so two returns of it take back no more than it shipped).
struct OrderOf {
    id: i64,
    warehouse_code: String,
}

async fn lock_order(tx: &mut Tx, reference: &str) -> Result<OrderOf, AppError> {
    let row: Option<(i64, String)> = with_tx!(tx, |conn, backend| {
        let lock = if backend == Backend::Postgres {
            " FOR UPDATE OF o"
        } else {
            ""
        };
        sqlx::query_as(&format!(
            "SELECT o.id, w.code FROM orders o JOIN warehouses w ON w.id = o.warehouse_id \
             WHERE o.ref = $1{lock}"
        ))
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?
    });
    row.map(|(id, warehouse_code)| OrderOf { id, warehouse_code })
        .ok_or_else(|| {
            AppError::validation(
                "order_ref",
                tr!(errors.returns.no_order, reference = reference),
            )
        })
}

/// What an order shipped of one lot of an item, with the lot's dates.
#[derive(Debug, Clone)]
struct ShippedLot {
    batch_code: String,
    expiry_date: Option<NaiveDate>,
    production_date: Option<NaiveDate>,
    shipped: i64,
}

/// What the order shipped, by item, lot by lot.
async fn shipped_lots(tx: &mut Tx, order: i64) -> Result<HashMap<i64, Vec<ShippedLot>>, AppError> {
    type Row = (i64, String, Option<NaiveDate>, Option<NaiveDate>, i64);
    let rows: Vec<Row> = with_tx!(tx, |conn, _backend| sqlx::query_as(
        "SELECT a.item_id, b.batch_code, MIN(b.expiry_date), MIN(b.production_date), \
         CAST(SUM(a.shipped) AS BIGINT) \
         FROM allocations a JOIN batches b ON b.id = a.batch_id \
         WHERE a.order_id = $1 AND a.shipped > 0 \
         GROUP BY a.item_id, b.batch_code ORDER BY a.item_id, b.batch_code"
    )
    .bind(order)
    .fetch_all(&mut *conn)
    .await?);
    let mut lots: HashMap<i64, Vec<ShippedLot>> = HashMap::new();
    for (item, batch_code, expiry_date, production_date, shipped) in rows {
        lots.entry(item).or_default().push(ShippedLot {
            batch_code,
            expiry_date,
            production_date,
            shipped,
        });
    }
    Ok(lots)
}

/// What every return of the order has taken back, by item and lot.
async fn returned_of_order(
    tx: &mut Tx,
    order: i64,
) -> Result<HashMap<(i64, String), i64>, AppError> {
    let rows: Vec<(i64, String, i64)> = with_tx!(tx, |conn, _backend| sqlx::query_as(
        "SELECT l.item_id, l.batch_code, CAST(SUM(l.qty) AS BIGINT) \
         FROM return_lines l JOIN returns r ON r.id = l.return_id \
         WHERE r.order_id = $1 GROUP BY l.item_id, l.batch_code"
    )
    .bind(order)
    .fetch_all(&mut *conn)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(item, batch, qty)| ((item, batch), qty))
        .collect())
}

/// The quarantine location of warehouse `site` for returns that name none, made the first time.
async fn quarantine_location(tx: &mut Tx, site: &warehouses::Site) -> Result<i64, AppError> {
    warehouses::own_location(
        tx,
        site,
        QUARANTINE_CODE,
        "Quarantine 隔离区",
        "quarantine",
        || {
            AppError::conflict(tr!(
                errors.returns.quarantine_taken,
                code = QUARANTINE_CODE,
                warehouse = &site.code
            ))
        },
    )
    .await
}

/// `POST /returns`: receives the lines into quarantine under `ref`, all or nothing, idempotent
/// by ref and line like every movement. The same ref for another warehouse or order is 409
/// `IDEMPOTENCY_CONFLICT`.
pub async fn receive(
    db: &Db,
    config: &Config,
    input: &NewReturn,
    actor: Option<&str>,
) -> Result<ReturnResponse, AppError> {
    let request = parse_receipt(input)?;
    let order_ref = non_blank(&input.order_ref)
        .map(|raw| Ref::parse("order_ref", raw))
        .transpose()?;
    let at = config.moment();
    db.write(
        &(request, order_ref, actor),
        |tx, (request, order_ref, actor)| {
            Box::pin(async move {
                let reference = request.r#ref.as_str();
                let order = match order_ref {
                    Some(r) => Some(lock_order(tx, r.as_str()).await?),
                    None => None,
                };
                let site = match (&request.warehouse, &order) {
                    (None, Some(order)) => {
                        let code = WarehouseCode::parse("warehouse_code", &order.warehouse_code)?;
                        warehouses::one(tx, Some(&code), "warehouse_code").await?
                    }
                    (code, _) => warehouses::one(tx, code.as_ref(), "warehouse_code").await?,
                };
                let head = match lock(tx, reference).await? {
                    Some(head) => head,
                    None => {
                        with_tx!(tx, |conn, _backend| sqlx::query(
                            "INSERT INTO returns (ref, warehouse_id, order_id, status, disposals, \
                         created_at, created_by, updated_at) \
                         VALUES ($1, $2, $3, 'OPEN', 0, $4, $5, $4) ON CONFLICT (ref) DO NOTHING"
                        )
                        .bind(reference)
                        .bind(site.id)
                        .bind(order.as_ref().map(|o| o.id))
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
                if head.warehouse_id != site.id || head.order_id != order.as_ref().map(|o| o.id) {
                    return Err(AppError::new(
                        ErrorCode::IdempotencyConflict,
                        tr!(
                            errors.returns.other_return,
                            reference = reference,
                            warehouse = &head.warehouse_code,
                            order = head.order_ref.as_deref().unwrap_or("—")
                        ),
                    ));
                }

                // Each line's quarantine location, and with an order its lot and what it may
                // take back.
                let mut lines = request.lines.clone();
                let named: Vec<(usize, &LocationKey)> = request
                    .lines
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| l.location.as_ref().map(|k| (i, k)))
                    .collect();
                let code = WarehouseCode::parse("warehouse_code", &site.code)?;
                let (items, mut places) = resolve::find(
                    tx,
                    request.lines.iter().map(|l| &l.item),
                    Some(&code),
                    vec![(
                        "location_code",
                        true,
                        named.iter().map(|(_, k)| *k).collect(),
                    )],
                )
                .await?;
                let places = places.pop().unwrap_or_default();
                let mut default_place = None;
                let mut place_of: HashMap<usize, i64> = HashMap::new();
                for ((i, _), place) in named.iter().zip(&places) {
                    place_of.insert(*i, place.id);
                }
                for (i, line) in lines.iter_mut().enumerate() {
                    line.item = item_by_id(items[i].id);
                    let place = match place_of.get(&i) {
                        Some(id) => *id,
                        None => match default_place {
                            Some(id) => id,
                            None => {
                                let id = quarantine_location(tx, &site).await?;
                                default_place = Some(id);
                                id
                            }
                        },
                    };
                    line.place = by_id(place);
                }
                if let Some(order) = &order {
                    settle_against_order(tx, &head, order, &mut lines, &items).await?;
                }
                let movement = Receipt {
                    request: Request {
                        r#ref: request.r#ref.clone(),
                        warehouse: Some(code),
                        lines,
                    },
                };
                let response = pipeline::apply(tx, &movement, at, *actor).await?;
                for (i, result) in response.lines.iter().enumerate() {
                    if result.status != LineStatus::Ok {
                        continue;
                    }
                    let line = &movement.request.lines[i];
                    with_tx!(tx, |conn, _backend| sqlx::query(
                        "INSERT INTO return_lines (return_id, item_id, location_id, batch_code, \
                     expiry_date, line, qty, reason_code, note) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    )
                    .bind(head.id)
                    .bind(result.item_id)
                    .bind(result.location_id)
                    .bind(lot_code(line.batch_code.as_ref()))
                    .bind(line.expiry_date)
                    .bind(i as i64 + 1)
                    .bind(line.qty.get())
                    .bind(line.reason_code.as_str())
                    .bind(line.note.as_ref().map(Note::as_str))
                    .execute(&mut *conn)
                    .await
                    .map(drop)?);
                }
                let returned = settle(tx, &head, at.now).await?;
                Ok(ReturnResponse {
                    r#return: returned,
                    movement: response,
                })
            })
        },
    )
    .await
}

/// With an order: each line's lot defaults to the one the order shipped of the item (with
/// several, the line must name it), its dates are the shipped lot's, and what it takes back
/// is at most what the order shipped of that lot less what came back before. Lines this return
/// received before are left to the pipeline to answer (a retry is not a second return).
async fn settle_against_order(
    tx: &mut Tx,
    head: &Head,
    order: &OrderOf,
    lines: &mut [ReceiptLine],
    items: &[resolve::FoundItem],
) -> Result<(), AppError> {
    let shipped = shipped_lots(tx, order.id).await?;
    let returned = returned_of_order(tx, order.id).await?;
    let here: Vec<(i64, i64, String)> = with_tx!(tx, |conn, _backend| sqlx::query_as(
        "SELECT item_id, location_id, batch_code FROM return_lines WHERE return_id = $1"
    )
    .bind(head.id)
    .fetch_all(&mut *conn)
    .await?);
    let mut problems = Problems::default();
    let mut adding: HashMap<(i64, String), i64> = HashMap::new();
    for (i, line) in lines.iter_mut().enumerate() {
        let item = &items[i];
        let lots = shipped.get(&item.id).map(Vec::as_slice).unwrap_or_default();
        let lot = match &line.batch_code {
            Some(code) => lots.iter().find(|l| l.batch_code == code.as_str()),
            None if lots.len() == 1 => lots.first(),
            None => None,
        };
        let Some(lot) = lot else {
            let message = match (&line.batch_code, lots.len()) {
                (_, 0) => tr!(errors.returns.not_shipped, sku = &item.sku),
                (Some(code), _) => tr!(
                    errors.returns.batch_not_shipped,
                    sku = &item.sku,
                    batch = code.as_str()
                ),
                (None, _) => tr!(
                    errors.returns.which_batch,
                    sku = &item.sku,
                    batches = lots
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
            problems.note(AppError::validation(line_field(i, field), message));
            continue;
        };
        line.batch_code = Some(BatchCode::parse(
            &line_field(i, "batch_code"),
            &lot.batch_code,
        )?);
        if line.expiry_date.is_none() {
            line.expiry_date = lot.expiry_date;
        }
        line.production_date = lot.production_date;
        let place = line.place.id.unwrap_or_default();
        let received_before = here
            .iter()
            .any(|(it, loc, b)| *it == item.id && *loc == place && *b == lot.batch_code);
        if received_before {
            continue;
        }
        let key = (item.id, lot.batch_code.clone());
        let before = returned.get(&key).copied().unwrap_or(0);
        let more = adding.entry(key).or_insert(0);
        *more += line.qty.get();
        if before + *more > lot.shipped {
            problems.note(AppError::validation(
                line_field(i, "qty"),
                tr!(
                    errors.returns.more_than_shipped,
                    shipped = lot.shipped,
                    returned = before,
                    left = (lot.shipped - before).max(0)
                ),
            ));
        }
    }
    problems.finish()
}

/// A disposition's line, parsed.
#[derive(Debug, Clone)]
struct DisposeLine {
    item: ItemKey,
    qty: Qty,
    batch_code: Option<BatchCode>,
    action: DisposeAction,
    location: Option<LocationKey>,
}

fn parse_dispose(input: &DisposeReturn) -> Result<Vec<DisposeLine>, AppError> {
    let mut problems = Problems::default();
    crate::domain::check_line_count(input.lines.len())?;
    let lines: Vec<Option<DisposeLine>> = input
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let prefix = format!("lines[{i}]");
            let item = problems.check(ItemKey::parse(&prefix, line.item_id, non_blank(&line.sku)));
            let qty = problems.check(Qty::parse(&format!("{prefix}.qty"), line.qty));
            let batch_code = problems.check(parse_batch_code(&prefix, line.batch_code.as_deref()));
            let action = problems.check(
                DisposeAction::from_name(&line.action.trim().to_ascii_uppercase()).ok_or_else(
                    || {
                        AppError::validation(
                            format!("{prefix}.action"),
                            tr!(errors.value.one_of, values = "RESTOCK, SCRAP"),
                        )
                    },
                ),
            );
            let names = line.location_id.is_some() || non_blank(&line.location_code).is_some();
            let field = format!("{prefix}.location_code");
            let location = match (action, names) {
                (Some(DisposeAction::Restock), true) => problems
                    .check(LocationKey::parse(
                        &field,
                        line.location_id,
                        non_blank(&line.location_code),
                    ))
                    .map(Some),
                (Some(DisposeAction::Restock), false) => {
                    problems.note(AppError::validation(
                        field,
                        tr!(errors.returns.restock_where),
                    ));
                    None
                }
                (Some(DisposeAction::Scrap), true) => {
                    problems.note(AppError::validation(field, tr!(errors.returns.scrap_where)));
                    None
                }
                _ => Some(None),
            };
            Some(DisposeLine {
                item: item?,
                qty: qty?,
                batch_code: batch_code?,
                action: action?,
                location: location?,
            })
        })
        .collect();
    problems.finish()?;
    lines
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| AppError::new(ErrorCode::Internal, tr!(errors.internal)))
}

/// A return's line as stored, with its location's code.
#[derive(Debug, Clone, sqlx::FromRow)]
struct LineRow {
    line: i64,
    item_id: i64,
    sku: String,
    location_id: i64,
    location_code: String,
    batch_code: String,
    expiry_date: Option<NaiveDate>,
    qty: i64,
    reason_code: String,
    note: Option<String>,
    restocked: i64,
    scrapped: i64,
}

impl LineRow {
    fn in_quarantine(&self) -> i64 {
        self.qty - self.restocked - self.scrapped
    }
}

async fn read_lines(tx: &mut Tx, return_id: i64) -> Result<Vec<LineRow>, AppError> {
    Ok(with_tx!(tx, |conn, _backend| sqlx::query_as(
        "SELECT CAST(l.line AS BIGINT) AS line, l.item_id, i.sku, l.location_id, \
         c.code AS location_code, l.batch_code, l.expiry_date, l.qty, l.reason_code, l.note, \
         l.restocked, l.scrapped \
         FROM return_lines l JOIN items i ON i.id = l.item_id \
         JOIN locations c ON c.id = l.location_id \
         WHERE l.return_id = $1 ORDER BY l.line, i.sku, l.batch_code"
    )
    .bind(return_id)
    .fetch_all(&mut *conn)
    .await?))
}

/// What each disposition has done so far: (item, batch, action, location or 0) → qty.
async fn read_disposals(
    tx: &mut Tx,
    return_id: i64,
) -> Result<HashMap<(i64, String, DisposeAction, i64), i64>, AppError> {
    let rows: Vec<(i64, String, String, Option<i64>, i64)> =
        with_tx!(tx, |conn, _backend| sqlx::query_as(
            "SELECT item_id, batch_code, action, location_id, qty FROM return_disposals \
             WHERE return_id = $1"
        )
        .bind(return_id)
        .fetch_all(&mut *conn)
        .await?);
    Ok(rows
        .into_iter()
        .filter_map(|(item, batch, action, location, qty)| {
            let action = DisposeAction::from_name(&action)?;
            Some(((item, batch, action, location.unwrap_or(0)), qty))
        })
        .collect())
}

/// The return's dispositions so far, as its answer lists them.
async fn read_disposal_list(tx: &mut Tx, return_id: i64) -> Result<Vec<ReturnDisposal>, AppError> {
    let rows: Vec<(String, String, String, Option<String>, i64)> =
        with_tx!(tx, |conn, _backend| sqlx::query_as(
            "SELECT i.sku, d.batch_code, d.action, l.code, d.qty FROM return_disposals d \
             JOIN items i ON i.id = d.item_id LEFT JOIN locations l ON l.id = d.location_id \
             WHERE d.return_id = $1 ORDER BY d.id"
        )
        .bind(return_id)
        .fetch_all(&mut *conn)
        .await?);
    Ok(rows
        .into_iter()
        .filter_map(|(sku, batch_code, action, location_code, qty)| {
            Some(ReturnDisposal {
                sku,
                batch_code,
                action: DisposeAction::from_name(&action)?,
                location_code,
                qty,
            })
        })
        .collect())
}

/// One line of a disposition as worked out: what is new of it, from which quarantine
/// locations (return line index, qty).
struct Planned {
    item_id: i64,
    sku: String,
    batch_code: String,
    action: DisposeAction,
    target: Option<(i64, String)>,
    total: i64,
    moved: i64,
    from: Vec<(usize, i64)>,
}

/// `POST /returns/{ref}/dispose` (managers): each line is the whole quantity of its item and
/// lot restocked at its location, or scrapped, so far; what is new of it leaves quarantine.
/// More than is still in quarantine is 422, as is a lot the return does not hold; a line
/// without a batch is the item's only lot in the return.
pub async fn dispose(
    db: &Db,
    config: &Config,
    reference: &str,
    input: &DisposeReturn,
    actor: Option<&str>,
) -> Result<DisposeResponse, AppError> {
    dispose_with(db, config, reference, input, None, actor).await
}

/// [`dispose`] for a form that says what it adds: each line's quantity is added to what was
/// done with that action at that place so far, provided the return's dispositions still total
/// `before` (what the form was shown) — else 409 and nothing done, so a form sent twice, or
/// two forms at once, never move a unit twice.
pub async fn dispose_adding(
    db: &Db,
    config: &Config,
    reference: &str,
    input: &DisposeReturn,
    before: i64,
    actor: Option<&str>,
) -> Result<DisposeResponse, AppError> {
    dispose_with(db, config, reference, input, Some(before), actor).await
}

async fn dispose_with(
    db: &Db,
    config: &Config,
    reference: &str,
    input: &DisposeReturn,
    adding: Option<i64>,
    actor: Option<&str>,
) -> Result<DisposeResponse, AppError> {
    let reference = Ref::parse("ref", reference)?;
    let lines = parse_dispose(input)?;
    let at = config.moment();
    db.write(
        &(reference, lines, actor),
        |tx, (reference, lines, actor)| {
            Box::pin(async move {
                let head = lock(tx, reference.as_str())
                    .await?
                    .ok_or_else(|| not_found(reference.as_str()))?;
                crate::scope::check(head.warehouse_id, &head.warehouse_code)?;
                let code = WarehouseCode::parse("warehouse_code", &head.warehouse_code)?;
                let targets: Vec<(usize, &LocationKey)> = lines
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| l.location.as_ref().map(|k| (i, k)))
                    .collect();
                let (items, mut places) = resolve::find(
                    tx,
                    lines.iter().map(|l| &l.item),
                    Some(&code),
                    vec![(
                        "location_code",
                        true,
                        targets.iter().map(|(_, k)| *k).collect(),
                    )],
                )
                .await?;
                let places = places.pop().unwrap_or_default();
                let target_of: HashMap<usize, (i64, String)> = targets
                    .iter()
                    .zip(&places)
                    .map(|((i, _), p)| (*i, (p.id, p.code.clone())))
                    .collect();
                let mut stored = read_lines(tx, head.id).await?;
                let done = read_disposals(tx, head.id).await?;

                if let Some(before) = adding {
                    let disposed: i64 = stored.iter().map(|l| l.restocked + l.scrapped).sum();
                    if disposed != before {
                        return Err(AppError::conflict(tr!(errors.conflict.return_changed)));
                    }
                }
                let mut problems = Problems::default();
                let mut seen: HashMap<(i64, String, DisposeAction, i64), usize> = HashMap::new();
                let mut left: BTreeMap<usize, i64> = stored
                    .iter()
                    .enumerate()
                    .map(|(k, l)| (k, l.in_quarantine()))
                    .collect();
                let mut planned: Vec<Planned> = Vec::with_capacity(lines.len());
                for (i, line) in lines.iter().enumerate() {
                    let item = &items[i];
                    let mut held: Vec<&str> = stored
                        .iter()
                        .filter(|l| l.item_id == item.id)
                        .map(|l| l.batch_code.as_str())
                        .collect();
                    held.sort_unstable();
                    held.dedup();
                    let batch = match &line.batch_code {
                        Some(code) => held.iter().find(|b| **b == code.as_str()).copied(),
                        None if held.len() == 1 => held.first().copied(),
                        None => None,
                    };
                    let Some(batch) = batch.map(str::to_string) else {
                        let message = match (&line.batch_code, held.len()) {
                            (_, 0) => tr!(errors.returns.no_item, sku = &item.sku),
                            (Some(code), _) => tr!(
                                errors.returns.no_lot,
                                sku = &item.sku,
                                batch = code.as_str()
                            ),
                            (None, _) => tr!(
                                errors.returns.which_lot,
                                sku = &item.sku,
                                batches = held.join(", ")
                            ),
                        };
                        let field = if line.batch_code.is_some() {
                            "batch_code"
                        } else {
                            "sku"
                        };
                        problems.note(AppError::validation(line_field(i, field), message));
                        continue;
                    };
                    let target = target_of.get(&i).cloned();
                    let key = (
                        item.id,
                        batch.clone(),
                        line.action,
                        target.as_ref().map_or(0, |t| t.0),
                    );
                    if let Some(first) = seen.insert(key.clone(), i) {
                        problems.note(AppError::validation(
                            format!("lines[{i}]"),
                            tr!(errors.value.repeated_line, first = first, line = first + 1),
                        ));
                        continue;
                    }
                    let before = done.get(&key).copied().unwrap_or(0);
                    let total = match adding {
                        Some(_) => before.saturating_add(line.qty.get()),
                        None => line.qty.get(),
                    };
                    if total < before {
                        problems.note(AppError::validation(
                            line_field(i, "qty"),
                            tr!(errors.returns.disposed_already, qty = before),
                        ));
                        continue;
                    }
                    // What is new of it, taken from the lot's quarantine locations in line order.
                    let mut wanted = total - before;
                    let mut from = Vec::new();
                    for (k, l) in stored.iter().enumerate() {
                        if wanted == 0 {
                            break;
                        }
                        if l.item_id != item.id || l.batch_code != batch {
                            continue;
                        }
                        let free = left.get_mut(&k).map_or(0, |f| *f);
                        let take = free.min(wanted);
                        if take > 0 {
                            from.push((k, take));
                            if let Some(f) = left.get_mut(&k) {
                                *f -= take;
                            }
                            wanted -= take;
                        }
                    }
                    if wanted > 0 {
                        let still: i64 = from.iter().map(|(_, q)| q).sum();
                        problems.note(AppError::validation(
                            line_field(i, "qty"),
                            tr!(errors.returns.more_than_held, left = still),
                        ));
                        continue;
                    }
                    planned.push(Planned {
                        item_id: item.id,
                        sku: item.sku.clone(),
                        batch_code: batch,
                        action: line.action,
                        target,
                        total,
                        moved: total - before,
                        from,
                    });
                }
                problems.finish()?;

                let anchor_ref = format!("{}#D{}", head.r#ref, head.disposals + 1);
                let mut restock = Vec::new();
                let mut scrap = Vec::new();
                for (i, plan) in planned.iter().enumerate() {
                    for (k, qty) in &plan.from {
                        let line = DisposalLine {
                            item: item_by_id(plan.item_id),
                            quarantine: by_id(stored[*k].location_id),
                            target: by_id(plan.target.as_ref().map_or(0, |t| t.0)),
                            qty: Qty::parse("qty", *qty)?,
                            batch_code: plan.batch_code.clone(),
                        };
                        match plan.action {
                            DisposeAction::Restock => restock.push((i as u32 + 1, line)),
                            DisposeAction::Scrap => scrap.push((i as u32 + 1, line)),
                        }
                    }
                }
                let request = |lines: &[(u32, DisposalLine)]| Request {
                    r#ref: reference.clone(),
                    warehouse: Some(code.clone()),
                    lines: lines.iter().map(|(_, l)| l.clone()).collect(),
                };
                if !restock.is_empty() {
                    let movement = Restock {
                        request: request(&restock),
                        anchor_ref: anchor_ref.clone(),
                        ref_lines: restock.iter().map(|(n, _)| *n).collect(),
                    };
                    pipeline::apply(tx, &movement, at, *actor).await?;
                }
                if !scrap.is_empty() {
                    let movement = Scrap {
                        request: request(&scrap),
                        anchor_ref: anchor_ref.clone(),
                        ref_lines: scrap.iter().map(|(n, _)| *n).collect(),
                    };
                    pipeline::apply(tx, &movement, at, *actor).await?;
                }
                let moved_any = planned.iter().any(|p| p.moved > 0);
                for plan in planned.iter().filter(|p| p.moved > 0) {
                    for (k, qty) in &plan.from {
                        let line = &mut stored[*k];
                        let column = match plan.action {
                            DisposeAction::Restock => {
                                line.restocked += qty;
                                "restocked"
                            }
                            DisposeAction::Scrap => {
                                line.scrapped += qty;
                                "scrapped"
                            }
                        };
                        with_tx!(tx, |conn, _backend| sqlx::query(&format!(
                        "UPDATE return_lines SET {column} = {column} + $5 WHERE return_id = $1 \
                         AND item_id = $2 AND location_id = $3 AND batch_code = $4"
                    ))
                        .bind(head.id)
                        .bind(line.item_id)
                        .bind(line.location_id)
                        .bind(line.batch_code.as_str())
                        .bind(*qty)
                        .execute(&mut *conn)
                        .await
                        .map(drop)?);
                    }
                    let target = plan.target.as_ref().map(|t| t.0);
                    with_tx!(tx, |conn, _backend| {
                        let updated = sqlx::query(
                            "UPDATE return_disposals SET qty = $6 WHERE return_id = $1 \
                         AND item_id = $2 AND batch_code = $3 AND action = $4 \
                         AND COALESCE(location_id, 0) = $5",
                        )
                        .bind(head.id)
                        .bind(plan.item_id)
                        .bind(plan.batch_code.as_str())
                        .bind(plan.action.as_str())
                        .bind(target.unwrap_or(0))
                        .bind(plan.total)
                        .execute(&mut *conn)
                        .await?;
                        if updated.rows_affected() == 0 {
                            sqlx::query(
                                "INSERT INTO return_disposals (return_id, item_id, batch_code, \
                             action, location_id, qty) VALUES ($1, $2, $3, $4, $5, $6)",
                            )
                            .bind(head.id)
                            .bind(plan.item_id)
                            .bind(plan.batch_code.as_str())
                            .bind(plan.action.as_str())
                            .bind(target)
                            .bind(plan.total)
                            .execute(&mut *conn)
                            .await?;
                        }
                    });
                }
                if moved_any {
                    with_tx!(tx, |conn, _backend| sqlx::query(
                        "UPDATE returns SET disposals = disposals + 1 WHERE id = $1"
                    )
                    .bind(head.id)
                    .execute(&mut *conn)
                    .await
                    .map(drop)?);
                }
                let returned = settle(tx, &head, at.now).await?;
                let results: Vec<DisposeLineResult> = planned
                    .into_iter()
                    .enumerate()
                    .map(|(i, plan)| DisposeLineResult {
                        ref_line: i as u32 + 1,
                        item_id: plan.item_id,
                        sku: plan.sku,
                        batch_code: plan.batch_code,
                        action: plan.action,
                        location_code: plan.target.map(|t| t.1),
                        qty: plan.total,
                        moved: plan.moved,
                        status: if plan.moved > 0 {
                            LineStatus::Ok
                        } else {
                            LineStatus::Idempotent
                        },
                    })
                    .collect();
                Ok(DisposeResponse {
                    r#return: returned,
                    status: LineStatus::overall(results.iter().map(|l| l.status)),
                    lines: results,
                })
            })
        },
    )
    .await
}

/// Brings the return's status up to date with its lines and answers it as it now is.
async fn settle(tx: &mut Tx, head: &Head, now: DateTime<Utc>) -> Result<Return, AppError> {
    let lines = read_lines(tx, head.id).await?;
    let open = lines.iter().any(|l| l.in_quarantine() > 0) || lines.is_empty();
    let status = if open {
        ReturnStatus::Open
    } else {
        ReturnStatus::Disposed
    };
    with_tx!(tx, |conn, _backend| sqlx::query(
        "UPDATE returns SET status = $2, updated_at = $3 WHERE id = $1"
    )
    .bind(head.id)
    .bind(status.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(drop)?);
    let head = Head {
        status: status.as_str().to_string(),
        updated_at: now,
        ..head.clone()
    };
    let disposals = read_disposal_list(tx, head.id).await?;
    Ok(return_of(head, lines, disposals))
}

fn return_of(head: Head, lines: Vec<LineRow>, disposals: Vec<ReturnDisposal>) -> Return {
    Return {
        disposals,
        status: ReturnStatus::from_name(&head.status).unwrap_or(ReturnStatus::Open),
        r#ref: head.r#ref,
        warehouse_code: head.warehouse_code,
        order_ref: head.order_ref,
        created_at: head.created_at,
        created_by: head.created_by,
        updated_at: head.updated_at,
        lines: lines
            .into_iter()
            .map(|l| ReturnLine {
                in_quarantine: l.in_quarantine(),
                line: l.line,
                item_id: l.item_id,
                sku: l.sku,
                batch_code: l.batch_code,
                expiry_date: l.expiry_date,
                location_code: l.location_code,
                qty: l.qty,
                reason_code: l.reason_code,
                note: l.note,
                restocked: l.restocked,
                scrapped: l.scrapped,
            })
            .collect(),
    }
}

/// `GET /returns/{ref}`.
pub async fn get_return(db: &Db, reference: &str) -> Result<Return, AppError> {
    let mut tx = db.begin_read().await?;
    let head: Option<Head> = with_tx!(&mut tx, |conn, _backend| sqlx::query_as(&format!(
        "{HEAD} WHERE r.ref = $1"
    ))
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?);
    let head = head.ok_or_else(|| not_found(reference))?;
    let lines = read_lines(&mut tx, head.id).await?;
    let disposals = read_disposal_list(&mut tx, head.id).await?;
    tx.commit().await?;
    Ok(return_of(head, lines, disposals))
}

/// `GET /returns`: newest first, optionally of one status, warehouse and order.
pub async fn list_returns(db: &Db, filter: &ReturnFilter) -> Result<ReturnList, AppError> {
    let paging = Paging::parse(filter.offset, filter.limit)?;
    let status = match non_blank(&filter.status) {
        None => None,
        Some(raw) => Some(
            ReturnStatus::from_name(&raw.trim().to_ascii_uppercase()).ok_or_else(|| {
                AppError::validation(
                    "status",
                    tr!(errors.value.one_of, values = "OPEN, DISPOSED"),
                )
            })?,
        ),
    };
    let warehouse = WarehouseCode::parse_optional("warehouse", filter.warehouse.as_deref())?;
    let order_ref = non_blank(&filter.order_ref).map(str::trim);
    let mut tx = db.begin_read().await?;
    let site = warehouses::filter(&mut tx, warehouse.as_ref(), "warehouse").await?;
    let site = site.map(|s| s.id);
    let filter_sql = "($1 IS NULL OR r.status = $1) AND ($2 IS NULL OR r.warehouse_id = $2) \
                      AND ($3 IS NULL OR o.ref = $3)";
    let (total, heads) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM returns r LEFT JOIN orders o ON o.id = r.order_id \
             WHERE {filter_sql}"
        ))
        .bind(status.map(ReturnStatus::as_str))
        .bind(site)
        .bind(order_ref)
        .fetch_one(&mut *conn)
        .await?;
        let heads: Vec<Head> = sqlx::query_as(&format!(
            "{HEAD} WHERE {filter_sql} ORDER BY r.id DESC LIMIT $4 OFFSET $5"
        ))
        .bind(status.map(ReturnStatus::as_str))
        .bind(site)
        .bind(order_ref)
        .bind(paging.limit)
        .bind(paging.offset)
        .fetch_all(&mut *conn)
        .await?;
        (total, heads)
    });
    let mut returns = Vec::with_capacity(heads.len());
    for head in heads {
        let lines = read_lines(&mut tx, head.id).await?;
        let disposals = read_disposal_list(&mut tx, head.id).await?;
        returns.push(return_of(head, lines, disposals));
    }
    tx.commit().await?;
    Ok(ReturnList {
        total,
        offset: paging.offset,
        limit: paging.limit,
        returns,
    })
}
