//! `depot check`: proves SPEC §2 invariants 1–2 over the whole database.
//!
//! 1. every stock's `qty` is ≥ 0, equals the sum of its ledger deltas and the sum of its batches;
//! 2. every stock's ledger entries, in id order, form a chain `after_qty[i] = after_qty[i-1] + delta[i]`
//!    starting from 0;
//!
//! and, so the batch detail can be trusted, every ledger entry's batch detail adds up to its delta
//! and names batches of the same stock; and, so the snapshot can be trusted, its derived tables
//! agree with the stocks: every item's `item_totals.total_qty` is the sum of its stocks,
//! `inventory_summary` counts the items with a positive total, in sum and shard by shard, and
//! `item_total_counts` counts them by total and shard; and, so search can be trusted,
//! every item's and location's `search_text` is its folded fields and the search index
//! (`search::index`: grams and items in stock) is what the items and totals make it; and, so adjustments can be audited, only ADJUST entries carry a
//! reason code (all of them do; `OTHER` with its note) and every adjustment anchor points at its
//! ADJUST entry; and, so counts can be audited, a posted count's corrections add up to its
//! counted lines' differences at every item and location; and, so no promised unit is shipped
//! to someone else (SPEC §10), every batch's `reserved` is within `0..=qty` and equals what
//! allocations hold of it, every allocation holds its own line's item at a storage location and
//! nothing once its order is closed, no order line holds or shipped more than it ordered, every
//! order's status follows from its lines, and what its allocations shipped is what its
//! shipments' OUTBOUND entries took; and, for several warehouses (issue 33), every transit
//! location holds exactly what the transfers to its warehouse still carry of each lot, every
//! quarantine location exactly what returns into it still hold, nothing in quarantine is
//! reserved, and no order has had more of an item returned than it shipped.

use std::fmt;

use crate::db::{Backend, Db};
use crate::with_pool;

/// One broken invariant, described for a person reading `depot check` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    StockNotLedgerSum {
        stock_id: i64,
        qty: i64,
        ledger_sum: i64,
    },
    StockNotBatchSum {
        stock_id: i64,
        qty: i64,
        batch_sum: i64,
    },
    NegativeStock {
        stock_id: i64,
        qty: i64,
    },
    BrokenChain {
        ledger_id: i64,
        stock_id: i64,
        previous_after_qty: i64,
        delta: i64,
        after_qty: i64,
    },
    BatchDetailMismatch {
        ledger_id: i64,
        delta: i64,
        batch_sum: i64,
    },
    BatchOfOtherStock {
        ledger_id: i64,
        batch_id: i64,
    },
    DetailOfOtherBatch {
        ledger_id: i64,
        batch_id: i64,
        recorded_code: String,
        batch_code: String,
    },
    ItemTotalMismatch {
        item_id: i64,
        total_qty: i64,
        stock_sum: i64,
    },
    InStockCountMismatch {
        counted: i64,
        items_in_stock: i64,
    },
    /// One shard of `inventory_summary` (items with `item_id % 64 = shard`) is wrong or missing
    /// (`items_in_stock` -1).
    InStockShardMismatch {
        shard: i64,
        counted: i64,
        items_in_stock: i64,
    },
    /// A count of items in stock by total (`item_total_counts`, migration 0012: items with that
    /// total and `item_id % 8 = shard`) differs from the totals (a missing row counts 0).
    RankCountMismatch {
        total_qty: i64,
        shard: i64,
        counted: i64,
        items: i64,
    },
    /// A row of the search index (migration 0011) differs from the items and totals.
    SearchIndexStale {
        reason: String,
    },
    /// An `ADJUST` entry without its reason code, another entry with one (or a note), or an
    /// `OTHER` adjustment without the note it needs (SPEC §9).
    ReasonCodeMisplaced {
        ledger_id: i64,
        reason: String,
        reason_code: Option<String>,
        has_note: bool,
    },
    /// An adjustment anchor whose ledger entry is not an adjustment of its ref, item and
    /// location, or (changed, not counted) that has none.
    AdjustmentWithoutEntry {
        adjustment_id: i64,
    },
    /// A posted count whose COUNT_CORRECTION entries at an (item, location) do not add up to
    /// its counted lines' differences there (`counted − recorded`).
    CountNotItsVariances {
        count_id: i64,
        item_id: i64,
        location_id: i64,
        variances: i64,
        adjusted: i64,
    },
    /// Goods in a transit location that are not what the transfers to its warehouse still
    /// carry of that lot (`sent − received − lost`).
    TransitNotCarried {
        location_id: i64,
        item_id: i64,
        batch_code: String,
        held: i64,
        carried: i64,
    },
    /// Goods in a quarantine location that are not what the returns into it still hold of
    /// that lot (`qty − restocked − scrapped`).
    QuarantineNotHeld {
        location_id: i64,
        item_id: i64,
        batch_code: String,
        held: i64,
        returned: i64,
    },
    /// Goods in a quarantine location that an order holds (quarantine is never available).
    QuarantineReserved {
        batch_id: i64,
        reserved: i64,
    },
    /// An order's item that its returns took back more of than the order shipped.
    ReturnedMoreThanShipped {
        order_ref: String,
        item_id: i64,
        returned: i64,
        shipped: i64,
    },
    /// A batch whose `reserved` is negative, more than it holds, or not what allocations hold
    /// of it.
    ReservedNotAllocated {
        batch_id: i64,
        qty: i64,
        reserved: i64,
        allocated: i64,
    },
    /// An allocation that is wrong in itself (`problem` says how).
    AllocationInvalid {
        allocation_id: i64,
        order_ref: String,
        problem: String,
    },
    /// An order line holding and having shipped more than it ordered.
    OrderLineOverHeld {
        order_ref: String,
        line: i64,
        qty: i64,
        reserved: i64,
        shipped: i64,
    },
    /// An order whose stored status is not the one its lines' quantities give.
    OrderStatusStale {
        order_ref: String,
        stored: String,
        derived: String,
    },
    /// An order's item whose allocations shipped another quantity than its shipments' anchors
    /// record, or a shipment anchor without its OUTBOUND entry.
    ShipmentNotInLedger {
        order_ref: String,
        item_id: i64,
        shipped: i64,
        recorded: i64,
    },
    /// An item's, a location's or an order's `search_text` is not its folded fields (`search::fold`).
    SearchTextStale {
        table: &'static str,
        id: i64,
        stored: String,
        expected: String,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::StockNotLedgerSum {
                stock_id,
                qty,
                ledger_sum,
            } => write!(
                f,
                "stock {stock_id}: qty {qty} but its ledger deltas sum to {ledger_sum}"
            ),
            Violation::StockNotBatchSum {
                stock_id,
                qty,
                batch_sum,
            } => write!(
                f,
                "stock {stock_id}: qty {qty} but its batches hold {batch_sum}"
            ),
            Violation::NegativeStock { stock_id, qty } => {
                write!(f, "stock {stock_id}: negative qty {qty}")
            }
            Violation::TransitNotCarried {
                location_id,
                item_id,
                batch_code,
                held,
                carried,
            } => write!(
                f,
                "transit location {location_id}: item {item_id} batch '{batch_code}' holds {held} \
                 but its transfers carry {carried}"
            ),
            Violation::QuarantineNotHeld {
                location_id,
                item_id,
                batch_code,
                held,
                returned,
            } => write!(
                f,
                "quarantine location {location_id}: item {item_id} batch '{batch_code}' holds \
                 {held} but its returns hold {returned}"
            ),
            Violation::QuarantineReserved { batch_id, reserved } => write!(
                f,
                "batch {batch_id} in quarantine: {reserved} reserved, but quarantine is never \
                 available"
            ),
            Violation::ReturnedMoreThanShipped {
                order_ref,
                item_id,
                returned,
                shipped,
            } => write!(
                f,
                "order {order_ref}: item {item_id} returned {returned} but shipped {shipped}"
            ),
            Violation::BrokenChain {
                ledger_id,
                stock_id,
                previous_after_qty,
                delta,
                after_qty,
            } => {
                write!(
                    f,
                    "ledger {ledger_id} (stock {stock_id}): after_qty {after_qty} but the previous \
                     after_qty {previous_after_qty} + delta {delta} = {}",
                    previous_after_qty + delta
                )
            }
            Violation::BatchDetailMismatch {
                ledger_id,
                delta,
                batch_sum,
            } => write!(
                f,
                "ledger {ledger_id}: delta {delta} but its batch detail sums to {batch_sum}"
            ),
            Violation::BatchOfOtherStock {
                ledger_id,
                batch_id,
            } => write!(
                f,
                "ledger {ledger_id}: batch {batch_id} belongs to another stock"
            ),
            Violation::DetailOfOtherBatch {
                ledger_id,
                batch_id,
                recorded_code,
                batch_code,
            } => write!(
                f,
                "ledger {ledger_id}: its detail records batch {batch_id} as '{recorded_code}' but that batch is '{batch_code}'"
            ),
            Violation::ItemTotalMismatch {
                item_id,
                total_qty,
                stock_sum,
            } => write!(
                f,
                "item {item_id}: item_totals says {total_qty} but its stocks hold {stock_sum}"
            ),
            Violation::InStockCountMismatch {
                counted,
                items_in_stock,
            } => write!(
                f,
                "inventory_summary says {items_in_stock} items in stock but {counted} have a positive total"
            ),
            Violation::InStockShardMismatch {
                shard,
                counted,
                items_in_stock,
            } => write!(
                f,
                "inventory_summary shard {shard} says {items_in_stock} items in stock but {counted} of its items have a positive total"
            ),
            Violation::RankCountMismatch {
                total_qty,
                shard,
                counted,
                items,
            } => write!(
                f,
                "item_total_counts says {items} items of shard {shard} have a total of {total_qty} but {counted} do"
            ),
            Violation::ReasonCodeMisplaced {
                ledger_id,
                reason,
                reason_code,
                has_note,
            } => write!(
                f,
                "ledger {ledger_id}: a {reason} entry with reason code {reason_code:?} and {} note; only ADJUST entries carry a reason code, every one does, and OTHER needs a note",
                if *has_note { "a" } else { "no" }
            ),
            Violation::CountNotItsVariances {
                count_id,
                item_id,
                location_id,
                variances,
                adjusted,
            } => write!(
                f,
                "count {count_id}: item {item_id} at location {location_id} was counted {variances:+} off but adjusted by {adjusted:+}"
            ),
            Violation::ReservedNotAllocated {
                batch_id,
                qty,
                reserved,
                allocated,
            } => write!(
                f,
                "batch {batch_id}: reserved {reserved} of qty {qty}, but its allocations hold {allocated}"
            ),
            Violation::AllocationInvalid {
                allocation_id,
                order_ref,
                problem,
            } => write!(f, "allocation {allocation_id} of order {order_ref}: {problem}"),
            Violation::OrderLineOverHeld {
                order_ref,
                line,
                qty,
                reserved,
                shipped,
            } => write!(
                f,
                "order {order_ref} line {line}: ordered {qty} but holds {reserved} and shipped {shipped}"
            ),
            Violation::OrderStatusStale {
                order_ref,
                stored,
                derived,
            } => write!(
                f,
                "order {order_ref}: status {stored} but its lines make it {derived}"
            ),
            Violation::ShipmentNotInLedger {
                order_ref,
                item_id,
                shipped,
                recorded,
            } => write!(
                f,
                "order {order_ref}: item {item_id} shipped {shipped} by its allocations but {recorded} by its shipments' OUTBOUND entries"
            ),
            Violation::AdjustmentWithoutEntry { adjustment_id } => write!(
                f,
                "adjustment {adjustment_id}: its ledger entry is missing or is not an ADJUST entry of its ref, item and location"
            ),
            Violation::SearchIndexStale { reason } => {
                write!(f, "the item search index disagrees with the items: {reason}")
            }
            Violation::SearchTextStale {
                table,
                id,
                stored,
                expected,
            } => write!(
                f,
                "{table} {id}: search_text {stored:?} but its folded fields are {expected:?}"
            ),
        }
    }
}

/// Batches whose reservation is out of bounds or not what allocations hold of them.
const RESERVED_SUMS: &str = "
    SELECT b.id, b.qty, b.reserved, COALESCE(a.total, 0) AS allocated
    FROM batches b
    LEFT JOIN (SELECT batch_id, CAST(SUM(qty) AS BIGINT) AS total
               FROM allocations GROUP BY batch_id) a ON a.batch_id = b.id
    WHERE b.reserved < 0 OR b.reserved > b.qty OR b.reserved <> COALESCE(a.total, 0)
    ORDER BY b.id";

/// Allocations wrong in themselves, with what is wrong.
const INVALID_ALLOCATIONS: &str = "
    SELECT id, ref, problem FROM (
        SELECT a.id, o.ref,
               CASE WHEN a.qty < 0 OR a.picked < 0 OR a.picked > a.qty OR a.shipped < 0
                        THEN 'quantities out of bounds'
                    WHEN b.item_id <> a.item_id OR b.location_id <> a.location_id
                        THEN 'its batch is of another stock'
                    WHEN ol.item_id <> a.item_id THEN 'not its line''s item'
                    WHEN l.kind <> 'storage' THEN 'not in a storage location'
                    WHEN a.qty > 0 AND o.status IN ('SHIPPED', 'CANCELLED')
                        THEN 'still holds goods for a closed order'
               END AS problem
        FROM allocations a
        JOIN orders o ON o.id = a.order_id
        JOIN order_lines ol ON ol.order_id = a.order_id AND ol.line = a.line
        JOIN batches b ON b.id = a.batch_id
        JOIN locations l ON l.id = a.location_id
    ) x WHERE problem IS NOT NULL ORDER BY id";

/// Every order line with what its allocations hold, picked and shipped.
const ORDER_LINES: &str = "
    SELECT o.ref, o.status, CAST(ol.line AS BIGINT), ol.qty,
           CAST(COALESCE(SUM(a.qty), 0) AS BIGINT),
           CAST(COALESCE(SUM(a.picked), 0) AS BIGINT),
           CAST(COALESCE(SUM(a.shipped), 0) AS BIGINT)
    FROM orders o
    JOIN order_lines ol ON ol.order_id = o.id
    LEFT JOIN allocations a ON a.order_id = ol.order_id AND a.line = ol.line
    GROUP BY o.id, o.ref, o.status, ol.line, ol.qty
    ORDER BY o.id, ol.line";

/// What each order's allocations shipped, per item.
const ORDER_SHIPPED: &str = "
    SELECT o.ref, a.item_id, CAST(SUM(a.shipped) AS BIGINT)
    FROM allocations a JOIN orders o ON o.id = a.order_id
    GROUP BY o.ref, a.item_id HAVING SUM(a.shipped) > 0";

/// The SQL of an anchor's qty and its first ledger entry (columns `content`, `ledger_ids` of
/// `movement_anchors` as `table`), in `backend`'s dialect of JSON.
fn anchor_qty_and_entry(backend: Backend, table: &str) -> (String, String) {
    match backend {
        Backend::Postgres => (
            format!("({table}.content::json ->> 'qty')::bigint"),
            format!("({table}.ledger_ids::json ->> 0)::bigint"),
        ),
        Backend::Sqlite => (
            format!("json_extract({table}.content, '$.qty')"),
            format!("json_extract({table}.ledger_ids, '$[0]')"),
        ),
    }
}

/// What shipment anchors recorded, per anchor ref (`<order ref>#<n>`) and item, counting only
/// anchors whose ledger entry is the OUTBOUND take they record.
fn shipments_recorded(backend: Backend) -> String {
    let (qty, entry) = anchor_qty_and_entry(backend, "s");
    format!(
        "SELECT s.ref, s.item_id, CAST(SUM({qty}) AS BIGINT)
         FROM movement_anchors s JOIN stock_ledger l ON l.id = {entry}
         WHERE s.kind = 'SHIP' AND l.reason = 'OUTBOUND' AND l.item_id = s.item_id
           AND l.location_id = s.location_id AND l.delta = -{qty}
         GROUP BY s.ref, s.item_id"
    )
}

/// Order lines holding more than ordered, and orders whose status is stale: `lines` are
/// (ref, status, line, qty, reserved, picked, shipped), in order then line order.
fn order_line_violations(lines: Vec<(String, String, i64, i64, i64, i64, i64)>) -> Vec<Violation> {
    use crate::orders::{LineQty, OrderStatus};
    let mut found = Vec::new();
    let mut orders: Vec<(String, String, Vec<LineQty>)> = Vec::new();
    for (order_ref, status, line, qty, reserved, picked, shipped) in lines {
        if reserved + shipped > qty {
            found.push(Violation::OrderLineOverHeld {
                order_ref: order_ref.clone(),
                line,
                qty,
                reserved,
                shipped,
            });
        }
        let quantities = LineQty {
            qty,
            reserved,
            picked,
            shipped,
        };
        match orders.last_mut().filter(|(r, _, _)| *r == order_ref) {
            Some((_, _, lines)) => lines.push(quantities),
            None => orders.push((order_ref, status, vec![quantities])),
        }
    }
    for (order_ref, stored, lines) in orders {
        if stored == OrderStatus::Cancelled.as_str() {
            continue;
        }
        let derived = OrderStatus::of_lines(lines).as_str();
        if stored != derived {
            found.push(Violation::OrderStatusStale {
                order_ref,
                stored,
                derived: derived.to_string(),
            });
        }
    }
    found
}

/// Orders' items whose allocations shipped another quantity than their shipments recorded:
/// `shipped` per (order ref, item), `recorded` per (anchor ref `<order ref>#<n>`, item).
fn shipment_violations(
    shipped: Vec<(String, i64, i64)>,
    recorded: Vec<(String, i64, i64)>,
) -> Vec<Violation> {
    use std::collections::BTreeMap;
    let mut by_item: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
    for (order_ref, item_id, qty) in shipped {
        by_item.entry((order_ref, item_id)).or_default().0 += qty;
    }
    for (anchor_ref, item_id, qty) in recorded {
        let order_ref = anchor_ref
            .rsplit_once('#')
            .map_or(anchor_ref.as_str(), |(order_ref, _)| order_ref);
        by_item
            .entry((order_ref.to_string(), item_id))
            .or_default()
            .1 += qty;
    }
    by_item
        .into_iter()
        .filter(|(_, (shipped, recorded))| shipped != recorded)
        .map(
            |((order_ref, item_id), (shipped, recorded))| Violation::ShipmentNotInLedger {
                order_ref,
                item_id,
                shipped,
                recorded,
            },
        )
        .collect()
}

/// Sums are cast back to BIGINT: PostgreSQL widens `SUM(bigint)` to numeric.
const STOCK_SUMS: &str = "
    SELECT s.id, s.qty,
           COALESCE(l.total, 0) AS ledger_sum,
           COALESCE(b.total, 0) AS batch_sum
    FROM stocks s
    LEFT JOIN (SELECT stock_id, CAST(SUM(delta) AS BIGINT) AS total
               FROM stock_ledger GROUP BY stock_id) l ON l.stock_id = s.id
    LEFT JOIN (SELECT stock_id, CAST(SUM(qty) AS BIGINT) AS total
               FROM batches GROUP BY stock_id) b ON b.stock_id = s.id
    WHERE s.qty < 0 OR s.qty <> COALESCE(l.total, 0) OR s.qty <> COALESCE(b.total, 0)
    ORDER BY s.id";

const BROKEN_CHAINS: &str = "
    SELECT id, stock_id, previous_after_qty, delta, after_qty
    FROM (SELECT id, stock_id, delta, after_qty,
                 LAG(after_qty, 1, 0) OVER (PARTITION BY stock_id ORDER BY id) AS previous_after_qty
          FROM stock_ledger) chain
    WHERE after_qty <> previous_after_qty + delta
    ORDER BY id";

const BATCH_DETAIL_MISMATCHES: &str = "
    SELECT l.id, l.delta, COALESCE(d.total, 0) AS batch_sum
    FROM stock_ledger l
    LEFT JOIN (SELECT ledger_id, CAST(SUM(delta) AS BIGINT) AS total
               FROM ledger_batches GROUP BY ledger_id) d ON d.ledger_id = l.id
    WHERE l.delta <> COALESCE(d.total, 0)
    ORDER BY l.id";

const FOREIGN_BATCHES: &str = "
    SELECT lb.ledger_id, lb.batch_id
    FROM ledger_batches lb
    JOIN stock_ledger l ON l.id = lb.ledger_id
    JOIN batches b ON b.id = lb.batch_id
    WHERE b.stock_id <> l.stock_id
    ORDER BY lb.ledger_id, lb.batch_id";

/// A batch's code never changes, so the code a ledger entry recorded must be its batch's.
/// Per transit location, item and lot: what it holds and what the transfers to its warehouse
/// still carry, where they differ.
const TRANSIT_NOT_CARRIED: &str = "
WITH carried AS (
    SELECT l.id AS location_id, tl.item_id, tl.batch_code,
           CAST(SUM(tl.sent - tl.received - tl.lost) AS BIGINT) AS qty
    FROM transfer_lots tl
    JOIN transfers t ON t.id = tl.transfer_id
    JOIN locations l ON l.warehouse_id = t.to_warehouse_id AND l.kind = 'transit'
    GROUP BY l.id, tl.item_id, tl.batch_code
), held AS (
    SELECT b.location_id, b.item_id, b.batch_code, CAST(SUM(b.qty) AS BIGINT) AS qty
    FROM batches b JOIN locations l ON l.id = b.location_id
    WHERE l.kind = 'transit'
    GROUP BY b.location_id, b.item_id, b.batch_code
)
SELECT location_id, item_id, batch_code, held_qty, carried_qty FROM (
    SELECT c.location_id, c.item_id, c.batch_code, COALESCE(h.qty, 0) AS held_qty,
           c.qty AS carried_qty
    FROM carried c LEFT JOIN held h ON h.location_id = c.location_id
        AND h.item_id = c.item_id AND h.batch_code = c.batch_code
    UNION ALL
    SELECT h.location_id, h.item_id, h.batch_code, h.qty, CAST(0 AS BIGINT)
    FROM held h WHERE NOT EXISTS (SELECT 1 FROM carried c WHERE c.location_id = h.location_id
        AND c.item_id = h.item_id AND c.batch_code = h.batch_code)
) compared
WHERE held_qty <> carried_qty
ORDER BY location_id, item_id, batch_code";

const QUARANTINE_NOT_HELD: &str = "
WITH returned AS (
    SELECT location_id, item_id, batch_code,
           CAST(SUM(qty - restocked - scrapped) AS BIGINT) AS qty
    FROM return_lines
    GROUP BY location_id, item_id, batch_code
), held AS (
    SELECT b.location_id, b.item_id, b.batch_code, CAST(SUM(b.qty) AS BIGINT) AS qty
    FROM batches b JOIN locations l ON l.id = b.location_id
    WHERE l.kind = 'quarantine'
    GROUP BY b.location_id, b.item_id, b.batch_code
)
SELECT location_id, item_id, batch_code, held_qty, returned_qty FROM (
    SELECT r.location_id, r.item_id, r.batch_code, COALESCE(h.qty, 0) AS held_qty,
           r.qty AS returned_qty
    FROM returned r LEFT JOIN held h ON h.location_id = r.location_id
        AND h.item_id = r.item_id AND h.batch_code = r.batch_code
    UNION ALL
    SELECT h.location_id, h.item_id, h.batch_code, h.qty, CAST(0 AS BIGINT)
    FROM held h WHERE NOT EXISTS (SELECT 1 FROM returned r WHERE r.location_id = h.location_id
        AND r.item_id = h.item_id AND r.batch_code = h.batch_code)
) compared
WHERE held_qty <> returned_qty
ORDER BY location_id, item_id, batch_code";

const QUARANTINE_RESERVED: &str = "
    SELECT b.id, b.reserved FROM batches b JOIN locations l ON l.id = b.location_id
    WHERE l.kind = 'quarantine' AND b.reserved <> 0
    UNION ALL
    SELECT a.batch_id, a.qty FROM allocations a JOIN locations l ON l.id = a.location_id
    WHERE l.kind = 'quarantine' AND a.qty <> 0
    ORDER BY 1";

const RETURNED_MORE_THAN_SHIPPED: &str = "
WITH returned AS (
    SELECT r.order_id, l.item_id, CAST(SUM(l.qty) AS BIGINT) AS qty
    FROM return_lines l JOIN returns r ON r.id = l.return_id
    WHERE r.order_id IS NOT NULL
    GROUP BY r.order_id, l.item_id
), shipped AS (
    SELECT order_id, item_id, CAST(SUM(shipped) AS BIGINT) AS qty
    FROM allocations GROUP BY order_id, item_id
)
SELECT o.ref, r.item_id, r.qty, CAST(COALESCE(s.qty, 0) AS BIGINT)
FROM returned r JOIN orders o ON o.id = r.order_id
LEFT JOIN shipped s ON s.order_id = r.order_id AND s.item_id = r.item_id
WHERE r.qty > COALESCE(s.qty, 0)
ORDER BY o.ref, r.item_id";

const MISRECORDED_BATCHES: &str = "
    SELECT lb.ledger_id, lb.batch_id, lb.batch_code, b.batch_code
    FROM ledger_batches lb
    JOIN batches b ON b.id = lb.batch_id
    WHERE lb.batch_code <> b.batch_code
    ORDER BY lb.ledger_id, lb.batch_id";

const MISPLACED_REASON_CODES: &str = "
    SELECT id, reason, reason_code, note IS NOT NULL
    FROM stock_ledger
    WHERE (reason = 'ADJUST') <> (reason_code IS NOT NULL)
       OR (note IS NOT NULL AND reason <> 'ADJUST')
       OR (reason_code = 'OTHER' AND note IS NULL)
    ORDER BY id";

/// Every anchor of an adjustment that changed stock points at an ADJUST entry of its own ref,
/// item, location and reason code (a count that found the stock right has none).
fn adjustments_without_entry(backend: Backend) -> String {
    let (_, ledger_id) = anchor_qty_and_entry(backend, "a");
    let (counted, reason_code) = match backend {
        Backend::Postgres => (
            "(a.content::json ->> 'counted') = 'true'",
            "a.content::json ->> 'reason_code'",
        ),
        Backend::Sqlite => (
            "json_extract(a.content, '$.counted') = 1",
            "json_extract(a.content, '$.reason_code')",
        ),
    };
    format!(
        "SELECT a.id
         FROM movement_anchors a
         LEFT JOIN stock_ledger l ON l.id = {ledger_id}
         WHERE a.kind = 'ADJUST'
           AND ((a.ledger_ids = '[]' AND NOT COALESCE({counted}, false))
             OR (a.ledger_ids <> '[]' AND (l.id IS NULL OR l.reason <> 'ADJUST' OR l.ref <> a.ref
                 OR l.item_id <> a.item_id OR l.location_id <> a.location_id
                 OR l.reason_code <> {reason_code})))
         ORDER BY a.id"
    )
}

/// Per posted count and (item, location): the counted lines' differences against the ledger's
/// entries under the count's ref.
const COUNT_VARIANCES: &str = "
    SELECT count_id, item_id, location_id,
           CAST(SUM(variance) AS BIGINT), CAST(SUM(adjusted) AS BIGINT)
    FROM (SELECT cl.count_id, cl.item_id, cl.location_id,
                 cl.counted_qty - cl.recorded_qty AS variance, 0 AS adjusted
          FROM count_lines cl JOIN counts c ON c.id = cl.count_id
          WHERE c.status = 'POSTED' AND cl.counted_qty IS NOT NULL
          UNION ALL
          SELECT c.id, l.item_id, l.location_id, 0, l.delta
          FROM counts c JOIN stock_ledger l ON l.ref = 'COUNT-' || CAST(c.id AS TEXT)
          WHERE c.status = 'POSTED' AND l.reason = 'ADJUST') AS both_sides
    GROUP BY count_id, item_id, location_id
    HAVING SUM(variance) <> SUM(adjusted)
    ORDER BY 1, 2, 3";

// A FULL OUTER JOIN of the totals with the stock sums said the same, but SQLite runs it as a
// nested loop (minutes at 100 000 items); one grouped pass over both is linear on both backends.
const ITEM_TOTALS: &str = "
    SELECT item_id,
           CAST(SUM(total_qty) AS BIGINT) AS total_qty,
           CAST(SUM(stock_qty) AS BIGINT) AS stock_sum
    FROM (SELECT item_id, total_qty, 0 AS stock_qty FROM item_totals
          UNION ALL
          SELECT item_id, 0, qty FROM stocks) AS both_sides
    GROUP BY item_id
    HAVING SUM(total_qty) <> SUM(stock_qty)
    ORDER BY 1";

const IN_STOCK_COUNT: &str = "
    SELECT (SELECT COUNT(*) FROM item_totals WHERE total_qty > 0),
           (SELECT CAST(SUM(items_in_stock) AS BIGINT) FROM inventory_summary)";

/// Every count of items in stock by total and shard against the totals; a missing row is 0.
fn rank_counts_sql() -> String {
    format!(
        "SELECT total_qty, shard, CAST(SUM(counted) AS BIGINT), CAST(SUM(items) AS BIGINT)
         FROM (SELECT total_qty, item_id % {shards} AS shard, 1 AS counted, 0 AS items
               FROM item_totals WHERE total_qty > 0
               UNION ALL
               SELECT total_qty, shard, 0, items FROM item_total_counts) AS both_sides
         GROUP BY total_qty, shard
         HAVING SUM(counted) <> SUM(items)
         ORDER BY 1, 2",
        shards = crate::movement::projections::RANK_SHARDS
    )
}

/// Every shard of the in-stock count against its own count; a missing shard row reads as -1.
fn in_stock_shards_sql() -> String {
    let shards = crate::movement::projections::IN_STOCK_SHARDS;
    format!(
        "WITH RECURSIVE shards (id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM shards WHERE id < {last})
         SELECT CAST(shards.id AS BIGINT), CAST(COALESCE(counted.n, 0) AS BIGINT),
                CAST(COALESCE(s.items_in_stock, -1) AS BIGINT)
         FROM shards
         LEFT JOIN (SELECT item_id % {shards} AS shard, COUNT(*) AS n FROM item_totals
                    WHERE total_qty > 0 GROUP BY item_id % {shards}) counted ON counted.shard = shards.id
         LEFT JOIN inventory_summary s ON s.id = shards.id
         WHERE COALESCE(counted.n, 0) <> COALESCE(s.items_in_stock, -1)
         ORDER BY shards.id",
        last = shards - 1
    )
}

/// Scans the whole database and returns every violation found, in a stable order.
pub async fn find_violations(db: &Db) -> Result<Vec<Violation>, sqlx::Error> {
    let mut found = Vec::new();
    with_pool!(db, |pool, backend| {
        let stocks: Vec<(i64, i64, i64, i64)> = sqlx::query_as(STOCK_SUMS).fetch_all(pool).await?;
        for (stock_id, qty, ledger_sum, batch_sum) in stocks {
            if qty < 0 {
                found.push(Violation::NegativeStock { stock_id, qty });
            }
            if qty != ledger_sum {
                found.push(Violation::StockNotLedgerSum {
                    stock_id,
                    qty,
                    ledger_sum,
                });
            }
            if qty != batch_sum {
                found.push(Violation::StockNotBatchSum {
                    stock_id,
                    qty,
                    batch_sum,
                });
            }
        }

        let chains: Vec<(i64, i64, i64, i64, i64)> =
            sqlx::query_as(BROKEN_CHAINS).fetch_all(pool).await?;
        found.extend(chains.into_iter().map(
            |(ledger_id, stock_id, previous_after_qty, delta, after_qty)| Violation::BrokenChain {
                ledger_id,
                stock_id,
                previous_after_qty,
                delta,
                after_qty,
            },
        ));

        let details: Vec<(i64, i64, i64)> = sqlx::query_as(BATCH_DETAIL_MISMATCHES)
            .fetch_all(pool)
            .await?;
        found.extend(details.into_iter().map(|(ledger_id, delta, batch_sum)| {
            Violation::BatchDetailMismatch {
                ledger_id,
                delta,
                batch_sum,
            }
        }));

        let foreign: Vec<(i64, i64)> = sqlx::query_as(FOREIGN_BATCHES).fetch_all(pool).await?;
        found.extend(foreign.into_iter().map(|(ledger_id, batch_id)| {
            Violation::BatchOfOtherStock {
                ledger_id,
                batch_id,
            }
        }));

        let transit: Vec<(i64, i64, String, i64, i64)> =
            sqlx::query_as(TRANSIT_NOT_CARRIED).fetch_all(pool).await?;
        found.extend(transit.into_iter().map(
            |(location_id, item_id, batch_code, held, carried)| Violation::TransitNotCarried {
                location_id,
                item_id,
                batch_code,
                held,
                carried,
            },
        ));

        let quarantined: Vec<(i64, i64, String, i64, i64)> =
            sqlx::query_as(QUARANTINE_NOT_HELD).fetch_all(pool).await?;
        found.extend(quarantined.into_iter().map(
            |(location_id, item_id, batch_code, held, returned)| Violation::QuarantineNotHeld {
                location_id,
                item_id,
                batch_code,
                held,
                returned,
            },
        ));
        let reserved: Vec<(i64, i64)> = sqlx::query_as(QUARANTINE_RESERVED).fetch_all(pool).await?;
        found.extend(
            reserved
                .into_iter()
                .map(|(batch_id, reserved)| Violation::QuarantineReserved { batch_id, reserved }),
        );
        let over: Vec<(String, i64, i64, i64)> = sqlx::query_as(RETURNED_MORE_THAN_SHIPPED)
            .fetch_all(pool)
            .await?;
        found.extend(
            over.into_iter()
                .map(|(order_ref, item_id, returned, shipped)| {
                    Violation::ReturnedMoreThanShipped {
                        order_ref,
                        item_id,
                        returned,
                        shipped,
                    }
                }),
        );

        let misrecorded: Vec<(i64, i64, String, String)> =
            sqlx::query_as(MISRECORDED_BATCHES).fetch_all(pool).await?;
        found.extend(misrecorded.into_iter().map(
            |(ledger_id, batch_id, recorded_code, batch_code)| Violation::DetailOfOtherBatch {
                ledger_id,
                batch_id,
                recorded_code,
                batch_code,
            },
        ));

        let misplaced: Vec<(i64, String, Option<String>, bool)> =
            sqlx::query_as(MISPLACED_REASON_CODES)
                .fetch_all(pool)
                .await?;
        found.extend(
            misplaced
                .into_iter()
                .map(
                    |(ledger_id, reason, reason_code, has_note)| Violation::ReasonCodeMisplaced {
                        ledger_id,
                        reason,
                        reason_code,
                        has_note,
                    },
                ),
        );
        let adjustments: Vec<(i64,)> = sqlx::query_as(&adjustments_without_entry(backend))
            .fetch_all(pool)
            .await?;
        found.extend(
            adjustments
                .into_iter()
                .map(|(adjustment_id,)| Violation::AdjustmentWithoutEntry { adjustment_id }),
        );

        let counts: Vec<(i64, i64, i64, i64, i64)> =
            sqlx::query_as(COUNT_VARIANCES).fetch_all(pool).await?;
        found.extend(counts.into_iter().map(
            |(count_id, item_id, location_id, variances, adjusted)| {
                Violation::CountNotItsVariances {
                    count_id,
                    item_id,
                    location_id,
                    variances,
                    adjusted,
                }
            },
        ));

        let reserved: Vec<(i64, i64, i64, i64)> =
            sqlx::query_as(RESERVED_SUMS).fetch_all(pool).await?;
        found.extend(
            reserved
                .into_iter()
                .map(
                    |(batch_id, qty, reserved, allocated)| Violation::ReservedNotAllocated {
                        batch_id,
                        qty,
                        reserved,
                        allocated,
                    },
                ),
        );
        let invalid: Vec<(i64, String, String)> =
            sqlx::query_as(INVALID_ALLOCATIONS).fetch_all(pool).await?;
        found.extend(
            invalid
                .into_iter()
                .map(
                    |(allocation_id, order_ref, problem)| Violation::AllocationInvalid {
                        allocation_id,
                        order_ref,
                        problem,
                    },
                ),
        );
        let lines: Vec<(String, String, i64, i64, i64, i64, i64)> =
            sqlx::query_as(ORDER_LINES).fetch_all(pool).await?;
        found.extend(order_line_violations(lines));
        let shipped: Vec<(String, i64, i64)> =
            sqlx::query_as(ORDER_SHIPPED).fetch_all(pool).await?;
        let recorded: Vec<(String, i64, i64)> = sqlx::query_as(&shipments_recorded(backend))
            .fetch_all(pool)
            .await?;
        found.extend(shipment_violations(shipped, recorded));

        let totals: Vec<(i64, i64, i64)> = sqlx::query_as(ITEM_TOTALS).fetch_all(pool).await?;
        found.extend(totals.into_iter().map(|(item_id, total_qty, stock_sum)| {
            Violation::ItemTotalMismatch {
                item_id,
                total_qty,
                stock_sum,
            }
        }));
        let (counted, items_in_stock): (i64, Option<i64>) =
            sqlx::query_as(IN_STOCK_COUNT).fetch_one(pool).await?;
        let items_in_stock = items_in_stock.unwrap_or(-1);
        if counted != items_in_stock {
            found.push(Violation::InStockCountMismatch {
                counted,
                items_in_stock,
            });
        }
        let counts: Vec<(i64, i64, i64, i64)> =
            sqlx::query_as(&rank_counts_sql()).fetch_all(pool).await?;
        found.extend(
            counts
                .into_iter()
                .map(
                    |(total_qty, shard, counted, items)| Violation::RankCountMismatch {
                        total_qty,
                        shard,
                        counted,
                        items,
                    },
                ),
        );
        let shards: Vec<(i64, i64, i64)> = sqlx::query_as(&in_stock_shards_sql())
            .fetch_all(pool)
            .await?;
        found.extend(shards.into_iter().map(|(shard, counted, items_in_stock)| {
            Violation::InStockShardMismatch {
                shard,
                counted,
                items_in_stock,
            }
        }));
    });
    found.extend(
        crate::search::index::stale_rows(db, 20)
            .await?
            .into_iter()
            .map(|reason| Violation::SearchIndexStale { reason }),
    );
    found.extend(
        crate::search::stale_search_texts(db)
            .await?
            .into_iter()
            .map(|(table, id, stored, expected)| Violation::SearchTextStale {
                table,
                id,
                stored,
                expected,
            }),
    );
    Ok(found)
}
