//! The snapshot query. A page costs O(page size): the order and the unfiltered total come from
//! `item_totals` and `inventory_summary`, which every movement keeps exact in its own
//! transaction (`movement::stock::change_stocks`). A search's matches and their exact count come
//! from the search index's bitmaps (`search::index`, migration 0011), whatever the pattern's
//! length; its page is then found by whichever costs less: the matches' totals, sorted, or a
//! walk down the rank index that keeps the matches until the page is full (`search_page`).

use chrono::{Days, NaiveDate};
use sqlx::QueryBuilder;

use crate::config::Config;
use crate::db::Tx;
use crate::db::{Backend, Db};
use crate::domain::{parse_search, Page, Paging};
use crate::error::AppError;
use crate::search::index::{self, ItemSet};
use crate::search::{fold, like_pattern};
use crate::snapshot::{LocationQty, Place, SnapshotItem, SnapshotQuery, Start};
use crate::{with_pool, with_tx};

/// How many items are in stock: the sum of the shards every movement keeps (migration 0004).
const ITEMS_IN_STOCK: &str =
    "SELECT CAST(COALESCE(SUM(items_in_stock), 0) AS BIGINT) FROM inventory_summary";

/// One row of the page statement: an item of the page with one of its top-2 stocks (none when
/// every stock is empty), so an item spans one or two consecutive rows.
#[derive(sqlx::FromRow)]
struct Row {
    item_id: i64,
    sku: String,
    name: String,
    spec: String,
    total_qty: i64,
    /// Items in stock (matching `q`), counted in the same statement.
    total: i64,
    earliest_expiry: Option<NaiveDate>,
    reserved_qty: i64,
    available_qty: i64,
    in_transit_qty: i64,
    quarantine_qty: i64,
    location_id: Option<i64>,
    location_code: Option<String>,
    location_qty: Option<i64>,
}

/// Appends "item `i` matches the search `q`": its folded sku or name contains the folded `q`
/// (`search::fold`), on both backends alike (the export, which reads every item anyway).
macro_rules! push_matching {
    ($query:ident, $q:expr) => {{
        $query
            .push("i.search_text LIKE ")
            .push_bind(like_pattern($q))
            .push(" ESCAPE '\\'");
    }};
}

/// Appends what the page statement says of each item of `page` (`item_id, sku, name, spec,
/// total_qty, total`): its earliest expiry, what orders hold, what is available, and its two
/// largest stocks, one row each.
macro_rules! push_details {
    ($query:ident, $backend:expr, $today:expr) => {{
        // What orders hold (through the partial index of reserved batches), and what is
        // available: `movement::available` summed over the item's batches, in SQL.
        $query
            .push(
                ") SELECT p.item_id, p.sku, p.name, p.spec, p.total_qty, p.total, \
                 (SELECT MIN(b.expiry_date) FROM batches b \
                  WHERE b.item_id = p.item_id AND b.qty > 0) AS earliest_expiry, \
                 (SELECT CAST(COALESCE(SUM(b.reserved), 0) AS BIGINT) FROM batches b \
                  WHERE b.item_id = p.item_id AND b.reserved > 0) AS reserved_qty, \
                 (SELECT CAST(COALESCE(SUM(CASE WHEN bl.kind NOT IN ('transit', 'quarantine') \
                  AND (b.expiry_date IS NULL OR b.expiry_date >= ",
            )
            .push_bind($today)
            .push(
                ") THEN b.qty - b.reserved ELSE 0 END), 0) AS BIGINT) FROM batches b \
                  JOIN locations bl ON bl.id = b.location_id \
                  WHERE b.item_id = p.item_id AND b.qty > 0) AS available_qty, \
                 (SELECT CAST(COALESCE(SUM(b.qty), 0) AS BIGINT) FROM batches b \
                  JOIN locations bl ON bl.id = b.location_id \
                  WHERE b.item_id = p.item_id AND b.qty > 0 AND bl.kind = 'transit') \
                  AS in_transit_qty, \
                 (SELECT CAST(COALESCE(SUM(b.qty), 0) AS BIGINT) FROM batches b \
                  JOIN locations bl ON bl.id = b.location_id \
                  WHERE b.item_id = p.item_id AND b.qty > 0 AND bl.kind = 'quarantine') \
                  AS quarantine_qty, \
                 top.location_id, l.code AS location_code, top.qty AS location_qty FROM page p ",
            );
        // The two largest non-empty stocks of each item, ties by location id.
        $query.push(match $backend {
            Backend::Postgres => {
                "LEFT JOIN LATERAL (SELECT s.location_id, s.qty FROM stocks s \
                 WHERE s.item_id = p.item_id AND s.qty > 0 \
                 ORDER BY s.qty DESC, s.location_id LIMIT 2) top ON true "
            }
            Backend::Sqlite => {
                "LEFT JOIN stocks top ON top.item_id = p.item_id AND top.id IN ( \
                 SELECT s.id FROM stocks s WHERE s.item_id = p.item_id AND s.qty > 0 \
                 ORDER BY s.qty DESC, s.location_id LIMIT 2) "
            }
        });
        $query.push("LEFT JOIN locations l ON l.id = top.location_id ");
        $query.push("ORDER BY p.total_qty DESC, p.item_id, top.qty DESC, top.location_id");
    }};
}

/// Items in stock, by total desc then id, with their top-2 locations and earliest expiry.
///
/// Without a search a page is one statement, so one snapshot: the page of `item_totals` through
/// its rank index (a deep one from the counts of items by total: `push_rank_start`), the total
/// kept in `inventory_summary`, and per item of the page an index lookup of its batches and of
/// its two largest stocks.
/// A search reads the index, finds its page (`search_page`) and then reads the same details,
/// all in one read transaction.
pub async fn inventory(
    db: &Db,
    query: &SnapshotQuery,
    config: &Config,
) -> Result<Page<SnapshotItem>, AppError> {
    let paging = Paging::parse(query.offset, query.limit)?;
    let start = query.start(paging.offset)?;
    let search = parse_search(query.q.as_deref())?;
    let today = config.today();
    let near_until = today
        .checked_add_days(Days::new(config.near_expiry_days.into()))
        .unwrap_or(NaiveDate::MAX);

    // Whether more matches lie beyond the page, when the total cannot tell (an estimate).
    let mut more_beyond: Option<bool> = None;
    let (rows, total): (Vec<Row>, i64) = match &search {
        // The page, its locations and the total are one statement, hence one snapshot; no read
        // transaction is needed (its BEGIN and COMMIT would be two more round trips per page).
        // Only a page past the end counts apart, and it has no rows to disagree with.
        None => with_pool!(db, |conn, backend| {
            let mut query = QueryBuilder::new("WITH ");
            push_rank_start(&mut query, start);
            query.push("page AS (SELECT p.item_id, i.sku, i.name, i.spec, p.total_qty, (");
            query.push(ITEMS_IN_STOCK).push(") AS total FROM (");
            push_rank_page(&mut query, start, paging.limit);
            query.push(") p JOIN items i ON i.id = p.item_id");
            push_details!(query, backend, today);
            let rows: Vec<Row> = query.build_query_as().fetch_all(conn).await?;
            let total = match rows.first() {
                Some(row) => row.total,
                None => sqlx::query_scalar(ITEMS_IN_STOCK).fetch_one(conn).await?,
            };
            (rows, total)
        }),
        // A search reads the index, then the page: several statements in one read transaction,
        // so they see one snapshot.
        Some(q) => {
            let mut tx = db.begin_read().await?;
            // A scanned barcode finds its item (when it is in stock); anything else is text.
            let scanned = match crate::scan::gs1::searched_gtin(q, today) {
                Some(gtin) => in_stock_with_barcode(&mut tx, &gtin).await?,
                None => None,
            };
            let SearchPage { ids, total, more } = match scanned {
                Some(id) => SearchPage {
                    ids: if paging.offset == 0 && !matches!(start, Start::Before(_)) {
                        vec![id]
                    } else {
                        Vec::new()
                    },
                    total: 1,
                    more: None,
                },
                None => search_page(&mut tx, &fold(q), start, &paging).await?,
            };
            more_beyond = more;
            let rows: Vec<Row> = if ids.is_empty() {
                Vec::new()
            } else {
                with_tx!(&mut tx, |conn, backend| {
                    let mut query = QueryBuilder::new(
                        "WITH page AS (SELECT t.item_id, i.sku, i.name, i.spec, t.total_qty, ",
                    );
                    query.push_bind(total).push(
                        " AS total FROM item_totals t JOIN items i ON i.id = t.item_id \
                         WHERE t.item_id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in &ids {
                        list.push_bind(*id);
                    }
                    query.push(")");
                    push_details!(query, backend, today);
                    query.build_query_as().fetch_all(&mut *conn).await?
                })
            };
            tx.commit().await?;
            (rows, total)
        }
    };

    let mut items: Vec<SnapshotItem> = Vec::with_capacity(rows.len());
    for row in rows {
        let location = match (row.location_id, row.location_code, row.location_qty) {
            (Some(location_id), Some(location_code), Some(qty)) => Some(LocationQty {
                location_id,
                location_code,
                qty,
            }),
            _ => None,
        };
        if let Some(last) = items.last_mut().filter(|last| last.item_id == row.item_id) {
            last.top2_locations.extend(location);
            continue;
        }
        items.push(SnapshotItem {
            item_id: row.item_id,
            sku: row.sku,
            name: row.name,
            spec: row.spec,
            total_qty: row.total_qty,
            reserved_qty: row.reserved_qty,
            available_qty: row.available_qty,
            in_transit_qty: row.in_transit_qty,
            quarantine_qty: row.quarantine_qty,
            top2_locations: location.into_iter().collect(),
            earliest_expiry: row.earliest_expiry,
            near_expiry: row
                .earliest_expiry
                .is_some_and(|expiry| expiry <= near_until),
        });
    }
    // Where the neighbouring pages start. The pager shows its links by the total; these only
    // say where a link reads from.
    let full = items.len() as i64 == paging.limit;
    let (more_after, more_before) = match (start, more_beyond) {
        (Start::Offset(offset), Some(more)) => (more, offset > 0),
        (Start::Offset(offset), None) => (offset + (items.len() as i64) < total, offset > 0),
        (Start::After(_), Some(more)) => (more, true),
        (Start::After(_), None) => (full, true),
        (Start::Before(_), Some(more)) => (true, more),
        (Start::Before(_), None) => (true, full),
    };
    Ok(Page {
        next: items
            .last()
            .filter(|_| more_after)
            .map(|i| Place::of(i).to_string()),
        prev: items
            .first()
            .filter(|_| more_before)
            .map(|i| Place::of(i).to_string()),
        total,
        total_estimated: more_beyond.is_some(),
        offset: paging.offset,
        limit: paging.limit,
        items,
    })
}

/// The item in stock whose barcode is `gtin` (canonical), if any.
async fn in_stock_with_barcode(tx: &mut Tx, gtin: &str) -> Result<Option<i64>, AppError> {
    Ok(with_tx!(tx, |conn, _backend| sqlx::query_scalar(
        "SELECT i.id FROM items i JOIN item_totals t ON t.item_id = i.id \
         WHERE i.barcode = $1 AND t.total_qty > 0"
    )
    .bind(gtin)
    .fetch_optional(&mut *conn)
    .await?))
}

/// How many rank-index rows a walk may read for each total it would otherwise look up: a walk
/// reads an index in order, a lookup searches the primary key once per match.
const WALK_ROWS_PER_LOOKUP: i64 = 4;

/// Candidates of a long pattern verified one by one at most: beyond, the count is estimated.
const VERIFY_ALL: i64 = 5_000;
/// How many of them an estimate verifies, spread evenly over the candidates.
const VERIFY_SAMPLE: usize = 1_000;

/// A search's page: its item ids in the list's order, and how many items in stock match.
struct SearchPage {
    ids: Vec<i64>,
    total: i64,
    /// Whether more matches lie beyond the page, in the way it was read, when `total` is an
    /// estimate (a long pattern whose candidates were too many to verify them all); `None`
    /// when `total` is exact and tells.
    more: Option<bool>,
}

/// Finds a search's page.
///
/// The index gives the matches (`search::index::lookup`); a pattern longer than a gram gives
/// candidates, whose texts are read and verified, so the matches and the count are exact. The
/// page is then found by whichever reads less:
/// - *index first*: every match's total, sorted here, sliced: O(matches), for a narrow search;
/// - *walk*: the rank index from the page's start, in batches, keeping the matches until the
///   page is full: about `(offset + limit) × in stock / matches` rows, for a broad one (`4`
///   matches most items: a page reads about two pages of rows, however many match).
///
/// One case is not exact: a long pattern with more than [`VERIFY_ALL`] candidates (`SKU-0`,
/// where most skus share the prefix). Verifying each would cost O(matches) again, so the walk
/// verifies only the candidates it passes (the page stays exact) and the count is estimated
/// from [`VERIFY_SAMPLE`] candidates spread over all of them, and said to be one.
async fn search_page(
    tx: &mut Tx,
    pattern: &str,
    start: Start,
    paging: &Paging,
) -> Result<SearchPage, AppError> {
    let found = index::lookup(tx, pattern).await?;
    let skip = match start {
        Start::Offset(offset) => offset,
        _ => 0,
    };
    let walk_rows = |matches: i64| (skip + paging.limit).saturating_mul(found.in_stock) / matches;
    let candidates = found.items.len();
    if !found.exact && candidates > VERIFY_ALL {
        let all: Vec<i64> = found.items.ids().collect();
        // A sample chosen by a hash of the id, not every n-th: evenly spaced picks alias with
        // periodic skus (every 10th item another kind); the same query estimates alike.
        let step = (all.len() / VERIFY_SAMPLE).max(1) as u64;
        let sample: Vec<i64> = all
            .iter()
            .copied()
            .filter(|id| scramble(*id).is_multiple_of(step))
            .collect();
        let hits = verified(tx, &sample, pattern).await?.len() as i64;
        let sampled = (sample.len() as i64).max(1);
        let total = (candidates * hits + sampled / 2) / sampled;
        // One match more than the page says whether the list goes on, which the estimate
        // cannot (read backwards, the extra one comes first).
        let expected = walk_rows(total.max(1));
        let mut ids = walk(
            tx,
            &found.items,
            Some(pattern),
            start,
            paging.limit + 1,
            expected,
        )
        .await?;
        let more = ids.len() as i64 > paging.limit;
        if more {
            match start {
                Start::Before(_) => drop(ids.remove(0)),
                _ => drop(ids.pop()),
            }
        }
        return Ok(SearchPage {
            ids,
            total,
            more: Some(more),
        });
    }
    let matches = if found.exact {
        found.items
    } else {
        let candidates: Vec<i64> = found.items.ids().collect();
        let mut matches = ItemSet::default();
        for id in verified(tx, &candidates, pattern).await? {
            matches.insert(id);
        }
        matches
    };
    let total = matches.len();
    if total == 0 {
        return Ok(SearchPage {
            ids: Vec::new(),
            total,
            more: None,
        });
    }
    let expected = walk_rows(total);
    let ids = if expected < total.saturating_mul(WALK_ROWS_PER_LOOKUP) {
        walk(tx, &matches, None, start, paging.limit, expected).await?
    } else {
        let mut totals = totals_of(tx, &matches.ids().collect::<Vec<_>>()).await?;
        totals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        // Whether a (item, total) comes after a place in the list's order.
        let after = |&(id, qty): &(i64, i64), place: Place| {
            qty < place.total_qty || (qty == place.total_qty && id > place.item_id)
        };
        let limit = paging.limit as usize;
        let page: Vec<(i64, i64)> = match start {
            Start::Offset(offset) => totals
                .into_iter()
                .skip(offset as usize)
                .take(limit)
                .collect(),
            Start::After(place) => totals
                .into_iter()
                .filter(|row| after(row, place))
                .take(limit)
                .collect(),
            Start::Before(place) => {
                let before: Vec<(i64, i64)> = totals
                    .into_iter()
                    .filter(|&(id, qty)| !after(&(id, qty), place) && id != place.item_id)
                    .collect();
                before[before.len().saturating_sub(limit)..].to_vec()
            }
        };
        page.into_iter().map(|(id, _)| id).collect()
    };
    Ok(SearchPage {
        ids,
        total,
        more: None,
    })
}

/// The page of `matches` from `start`, walking the rank index (`item_totals_rank_idx`) in
/// batches: the first as large as the walk is expected to be (`expected` rows), each next one
/// twice the last. A page before a place is walked backwards. With `verify`, `matches` are
/// candidates: those the walk passes are kept only if their text contains the pattern.
async fn walk(
    tx: &mut Tx,
    matches: &ItemSet,
    verify: Option<&str>,
    start: Start,
    limit: i64,
    expected: i64,
) -> Result<Vec<i64>, AppError> {
    let mut batch = (expected + expected / 4 + 64).clamp(limit, WALK_BATCH_MAX);
    let mut skip = match start {
        Start::Offset(offset) => offset,
        _ => 0,
    };
    let mut from = match start {
        Start::Offset(_) => Start::Offset(0),
        other => other,
    };
    let mut page = Vec::new();
    loop {
        // The batch as one row (`id:total,…`), sorted here: fetching a row costs more than
        // reading one (sqlx hands SQLite's rows over one at a time, ~4 µs each).
        let packed: Option<String> = with_tx!(tx, |conn, backend| {
            let mut query = QueryBuilder::new(match backend {
                Backend::Postgres => "SELECT string_agg(item_id || ':' || total_qty, ',') FROM (",
                Backend::Sqlite => "SELECT group_concat(item_id || ':' || total_qty, ',') FROM (",
            });
            query.push("SELECT item_id, total_qty FROM item_totals WHERE total_qty > 0");
            push_page(&mut query, from, "", batch);
            query.push(") p");
            query.build_query_scalar().fetch_one(&mut *conn).await?
        });
        let mut rows = unpack_pairs(packed.as_deref())?;
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if matches!(from, Start::Before(_)) {
            rows.reverse();
        }
        let mut passed: Vec<i64> = rows
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| matches.contains(*id))
            .collect();
        if let Some(pattern) = verify {
            let kept: std::collections::HashSet<i64> =
                verified(tx, &passed, pattern).await?.into_iter().collect();
            passed.retain(|id| kept.contains(id));
        }
        for id in passed {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            page.push(id);
            if page.len() as i64 == limit {
                break;
            }
        }
        let Some(&(item_id, total_qty)) = rows.last() else {
            break;
        };
        if page.len() as i64 == limit || (rows.len() as i64) < batch {
            break;
        }
        let place = Place { total_qty, item_id };
        from = match start {
            Start::Before(_) => Start::Before(place),
            _ => Start::After(place),
        };
        batch = (batch * 2).min(WALK_BATCH_MAX);
    }
    if matches!(start, Start::Before(_)) {
        page.reverse();
    }
    Ok(page)
}

/// The most rank-index rows one statement of a walk reads.
const WALK_BATCH_MAX: i64 = 20_000;

/// The totals of items in stock among `ids`, in no order: one statement and one row back
/// (`id:total,…`), the ids as an array (PostgreSQL) or a JSON array (SQLite).
async fn totals_of(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(i64, i64)>, AppError> {
    let packed: Option<String> = match tx {
        Tx::Postgres(tx) => {
            sqlx::query_scalar(
                "SELECT string_agg(item_id || ':' || total_qty, ',') FROM item_totals \
                 WHERE item_id = ANY($1) AND total_qty > 0",
            )
            .bind(ids)
            .fetch_one(&mut **tx)
            .await?
        }
        Tx::Sqlite(tx, _) => {
            sqlx::query_scalar(
                "SELECT group_concat(item_id || ':' || total_qty, ',') FROM item_totals \
                 WHERE item_id IN (SELECT value FROM json_each($1)) AND total_qty > 0",
            )
            .bind(json_array(ids))
            .fetch_one(&mut **tx)
            .await?
        }
    };
    unpack_pairs(packed.as_deref())
}

/// Those of the items `ids` whose folded text contains the folded `pattern`, in no order, as
/// [`totals_of`] reads them. The database's `LIKE` over the folded texts is `str::contains`
/// (both sides are folded: no case rule of the database takes part).
async fn verified(tx: &mut Tx, ids: &[i64], pattern: &str) -> Result<Vec<i64>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let like = like_pattern(pattern);
    let packed: Option<String> = match tx {
        // Planned for its ids each time: a generic plan may prefer the trigram index.
        Tx::Postgres(tx) => {
            sqlx::query_scalar(
                "SELECT string_agg(CAST(id AS TEXT), ',') FROM items \
                 WHERE id = ANY($1) AND search_text LIKE $2 ESCAPE '\\'",
            )
            .bind(ids)
            .bind(like)
            .persistent(false)
            .fetch_one(&mut **tx)
            .await?
        }
        Tx::Sqlite(tx, _) => {
            sqlx::query_scalar(
                "SELECT group_concat(id, ',') FROM items \
                 WHERE id IN (SELECT value FROM json_each($1)) AND search_text LIKE $2 ESCAPE '\\'",
            )
            .bind(json_array(ids))
            .bind(like)
            .fetch_one(&mut **tx)
            .await?
        }
    };
    packed
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| p.split(',').map(parse_id).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

/// `id:total,…` as pairs (none for `None`).
fn unpack_pairs(packed: Option<&str>) -> Result<Vec<(i64, i64)>, AppError> {
    let Some(packed) = packed.filter(|p| !p.is_empty()) else {
        return Ok(Vec::new());
    };
    packed
        .split(',')
        .map(|pair| {
            let (id, total) = pair.split_once(':').ok_or_else(|| bad_pack(pair))?;
            Ok((parse_id(id)?, parse_id(total)?))
        })
        .collect()
}

fn parse_id(text: &str) -> Result<i64, AppError> {
    text.parse().map_err(|_| bad_pack(text))
}

fn bad_pack(text: &str) -> AppError {
    AppError::internal(&std::io::Error::other(format!(
        "a packed search row is not `id:total`: {text:?}"
    )))
}

/// `id`'s bits mixed (SplitMix64's finalizer): a stable pseudo-random choice of ids.
fn scramble(id: i64) -> u64 {
    let mut x = id as u64;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `[1,2,3]`.
fn json_array(ids: &[i64]) -> String {
    let mut json = String::with_capacity(ids.len() * 7 + 2);
    json.push('[');
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            json.push(',');
        }
        json.push_str(&id.to_string());
    }
    json.push(']');
    json
}

/// The offset of a page read from the counts of items by total ([`push_rank_start`]): a
/// deeper one than the first.
fn deep_offset(start: Start) -> Option<i64> {
    match start {
        Start::Offset(offset) if offset > 0 => Some(offset),
        _ => None,
    }
}

/// Appends, for a page by `offset` past the first, the common table `rank_start, ` of
/// [`push_rank_page`] (to a statement's `WITH`): the smallest total with at most `offset`
/// items in stock above it (`total_qty`), and how many of its own items lie above the page
/// (`skip`), from the counts of items by total (`item_total_counts`, migration 0012). Past the
/// end it has no row.
pub fn push_rank_start<'a, DB: sqlx::Database>(query: &mut QueryBuilder<'a, DB>, start: Start)
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let Some(offset) = deep_offset(start) else {
        return;
    };
    query
        .push("rank_start AS (SELECT total_qty, ")
        .push_bind(offset)
        .push(
            " - above AS skip FROM (SELECT total_qty, \
             CAST(SUM(SUM(items)) OVER (ORDER BY total_qty DESC) - SUM(items) AS BIGINT) AS above \
             FROM item_total_counts GROUP BY total_qty) totals WHERE above <= ",
        )
        .push_bind(offset)
        .push(" ORDER BY total_qty LIMIT 1), ");
}

/// Appends a page of the items in stock in the list's order (`item_id, total_qty`) from
/// `start`. A page by `offset` past the first skips whole totals (`rank_start`, which
/// [`push_rank_start`] must have added), then at most the items of one total, through the rank
/// index (`item_totals_rank_idx`): O(distinct totals + items of one total), not O(offset). On
/// PostgreSQL the difference is large: an index-only scan fetches the heap of every recently
/// updated row it passes (50 000 of them took 11-18 ms; the page from its total, 0.4 ms).
/// Public for the bench's ceiling, which sends the same statement.
pub fn push_rank_page<'a, DB: sqlx::Database>(
    query: &mut QueryBuilder<'a, DB>,
    start: Start,
    limit: i64,
) where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    query.push("SELECT item_id, total_qty FROM item_totals WHERE total_qty > 0");
    if deep_offset(start).is_none() {
        return push_page(query, start, "", limit);
    }
    query
        .push(
            " AND total_qty <= (SELECT total_qty FROM rank_start) \
             ORDER BY total_qty DESC, item_id LIMIT ",
        )
        .push_bind(limit)
        .push(" OFFSET COALESCE((SELECT skip FROM rank_start), 0)");
}

/// Appends the page's place in the order (`total_qty` desc, then `item_id`) to a statement
/// whose rows are `prefix`-qualified and already filtered (`… WHERE …`): skipping `offset`
/// rows, or from a place through the rank index (`item_totals_rank_idx`), in O(page) however
/// deep. A page before a place is read backwards; the statement's final ORDER BY restores
/// the order.
fn push_page<'a, DB: sqlx::Database>(
    query: &mut QueryBuilder<'a, DB>,
    start: Start,
    prefix: &str,
    limit: i64,
) where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let (total, id) = (format!("{prefix}total_qty"), format!("{prefix}item_id"));
    match start {
        Start::Offset(offset) => {
            query
                .push(format!(" ORDER BY {total} DESC, {id} LIMIT "))
                .push_bind(limit)
                .push(" OFFSET ")
                .push_bind(offset);
        }
        Start::After(place) | Start::Before(place) => {
            // After a place: totals up to its total, ties past its id, the list's order.
            // Before it: the mirror image, read backwards. `total <= t` (`>=`) bounds the
            // index scan; the OR only decides the ties at `t`.
            let (bound, beyond, id_beyond, order) = match start {
                Start::After(_) => ("<=", "<", ">", "DESC"),
                _ => (">=", ">", "<", "ASC"),
            };
            let id_order = if order == "DESC" { "" } else { " DESC" };
            query
                .push(format!(" AND {total} {bound} "))
                .push_bind(place.total_qty)
                .push(format!(" AND ({total} {beyond} "))
                .push_bind(place.total_qty)
                .push(format!(" OR {id} {id_beyond} "))
                .push_bind(place.item_id)
                .push(format!(") ORDER BY {total} {order}, {id}{id_order} LIMIT "))
                .push_bind(limit);
        }
    }
}

/// The snapshot export (SPEC §11): every item in stock matching `q`, by sku, with its totals
/// and earliest expiry, read a chunk at a time (each chunk a short read of its own).
pub struct SnapshotExport {
    search: Option<String>,
    /// The item barcode the search is, when it is a scanned one.
    barcode: Option<String>,
    today: NaiveDate,
    /// The last sku exported.
    after: Option<String>,
    done: bool,
}

impl SnapshotExport {
    pub fn new(query: &SnapshotQuery, config: &Config) -> Result<Self, AppError> {
        // An export has every row; paging parameters are checked like the page's, not used.
        Paging::parse(query.offset, query.limit)?;
        let search = parse_search(query.q.as_deref())?;
        let today = config.today();
        Ok(Self {
            barcode: search
                .as_deref()
                .and_then(|q| crate::scan::gs1::searched_gtin(q, today)),
            search,
            today,
            after: None,
            done: false,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ExportRow {
    sku: String,
    name: String,
    spec: String,
    unit: String,
    total_qty: i64,
    reserved_qty: i64,
    available_qty: i64,
    earliest_expiry: Option<NaiveDate>,
}

/// How many items one read of an export takes.
const EXPORT_CHUNK: i64 = 2000;

impl crate::export::Export for SnapshotExport {
    const NAME: &'static str = "snapshot";

    fn columns() -> &'static [crate::sheet::Column] {
        use crate::sheet::columns::*;
        &[
            SKU,
            NAME,
            SPEC,
            UNIT,
            TOTAL_QTY,
            RESERVED_QTY,
            AVAILABLE_QTY,
            EARLIEST_EXPIRY,
        ]
    }

    async fn next_chunk(&mut self, db: &Db) -> Result<Vec<Vec<crate::sheet::Cell>>, AppError> {
        use crate::sheet::Cell;
        if self.done {
            return Ok(Vec::new());
        }
        let rows: Vec<ExportRow> = with_pool!(db, |conn, backend| {
            let mut query = QueryBuilder::new(
                "SELECT i.sku, i.name, i.spec, i.unit, t.total_qty, \
                 (SELECT MIN(b.expiry_date) FROM batches b \
                  WHERE b.item_id = i.id AND b.qty > 0) AS earliest_expiry, \
                 (SELECT CAST(COALESCE(SUM(b.reserved), 0) AS BIGINT) FROM batches b \
                  WHERE b.item_id = i.id AND b.reserved > 0) AS reserved_qty, \
                 (SELECT CAST(COALESCE(SUM(CASE WHEN bl.kind NOT IN ('transit', 'quarantine') \
                  AND (b.expiry_date IS NULL OR b.expiry_date >= ",
            );
            query.push_bind(self.today).push(
                ") THEN b.qty - b.reserved ELSE 0 END), 0) AS BIGINT) FROM batches b \
                     JOIN locations bl ON bl.id = b.location_id \
                     WHERE b.item_id = i.id AND b.qty > 0) AS available_qty \
                     FROM items i JOIN item_totals t ON t.item_id = i.id WHERE t.total_qty > 0 ",
            );
            if let Some(after) = &self.after {
                query
                    .push("AND i.sku > ")
                    .push_bind(after.clone())
                    .push(" ");
            }
            if let Some(q) = &self.search {
                query.push("AND (");
                push_matching!(query, q);
                if let Some(barcode) = &self.barcode {
                    query.push(" OR i.barcode = ").push_bind(barcode.clone());
                }
                query.push(")");
            }
            query.push(" ORDER BY i.sku LIMIT ").push_bind(EXPORT_CHUNK);
            query
                .build_query_as()
                .persistent(false)
                .fetch_all(conn)
                .await?
        });
        self.done = (rows.len() as i64) < EXPORT_CHUNK;
        if let Some(last) = rows.last() {
            self.after = Some(last.sku.clone());
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                vec![
                    Cell::Text(r.sku),
                    Cell::Text(r.name),
                    Cell::Text(r.spec),
                    Cell::Text(r.unit),
                    Cell::Int(r.total_qty),
                    Cell::Int(r.reserved_qty),
                    Cell::Int(r.available_qty),
                    Cell::from(r.earliest_expiry),
                ]
            })
            .collect())
    }
}
