//! Counts on the database: create (lines from the stock in scope), record counted lines (with
//! the stock of that batch at that moment, under its stock's lock), post (one transaction of
//! `COUNT_CORRECTION` adjustments through the movement pipeline), cancel, read.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::QueryBuilder;

use crate::adjust::service::{Adjust, AdjustLine, Change};
use crate::adjust::{AdjustResponse, ReasonCode};
use crate::auth::Role;
use crate::config::Config;
use crate::counts::{
    count_ref, Count, CountFilter, CountLine, CountLineInput, CountList, CountScope, CountStatus,
    CountSummary, NewCount, PostedCount,
};
use crate::db::{Backend, Db, Tx};
use crate::domain::{BatchCode, LocationCode, Paging, Ref, Sku, WarehouseCode, MAX_LINES, MAX_QTY};
use crate::error::{AppError, ErrorCode, Problems};
use crate::movement::{pipeline, ItemKey, LineStatus, LocationKey, MovementResponse, Request};
use crate::warehouses::service::{self as warehouses, Site};
use crate::with_tx;

/// A parsed new count.
struct Scope {
    warehouse: Option<WarehouseCode>,
    kind: &'static str,
    /// Location codes or skus, as given (trimmed), each once.
    values: Vec<String>,
}

fn parse_scope(input: &NewCount) -> Result<Scope, AppError> {
    let (kind, field, raw) = match (&input.location_codes, &input.skus) {
        (Some(codes), None) => ("locations", "location_codes", codes),
        (None, Some(skus)) => ("skus", "skus", skus),
        _ => {
            return Err(AppError::validation(
                "location_codes",
                tr!(errors.count.scope),
            ))
        }
    };
    if raw.is_empty() || raw.len() > MAX_LINES {
        return Err(AppError::validation(
            field,
            tr!(errors.count.scope_size, max = MAX_LINES),
        ));
    }
    let mut problems = Problems::default();
    let mut values = Vec::with_capacity(raw.len());
    let mut seen = BTreeSet::new();
    for (i, value) in raw.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let parsed = if kind == "locations" {
            problems.check(LocationCode::parse(&path, value).map(LocationCode::into_inner))
        } else {
            problems.check(Sku::parse(&path, value).map(Sku::into_inner))
        };
        if let Some(parsed) = parsed {
            if seen.insert(parsed.clone()) {
                values.push(parsed);
            }
        }
    }
    let warehouse = problems.check(WarehouseCode::parse_optional(
        "warehouse_code",
        input.warehouse_code.as_deref(),
    ));
    problems.finish()?;
    Ok(Scope {
        warehouse: warehouse.flatten(),
        kind,
        values,
    })
}

/// Ids of the scope's locations (in warehouse `site`) or items, in the order given; unknown
/// ones refused together.
async fn scope_ids(tx: &mut Tx, scope: &Scope, site: &Site) -> Result<Vec<i64>, AppError> {
    let (table, column, field, code) = if scope.kind == "locations" {
        (
            "locations",
            "code",
            "location_codes",
            ErrorCode::UnknownLocation,
        )
    } else {
        ("items", "sku", "skus", ErrorCode::UnknownItem)
    };
    let mut found = std::collections::HashMap::new();
    for chunk in scope.values.chunks(crate::movement::ROWS_PER_STATEMENT) {
        let rows: Vec<(i64, String)> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(format!(
                "SELECT id, {column} FROM {table} WHERE {column} IN ("
            ));
            let mut list = query.separated(", ");
            for value in chunk {
                list.push_bind(value.as_str());
            }
            query.push(")");
            if table == "locations" {
                // Goods in transit are counted by their transfer, returns in quarantine by
                // their return; neither on a shelf.
                query.push(" AND kind NOT IN ('transit', 'quarantine') AND warehouse_id = ");
                query.push_bind(site.id);
            }
            query.build_query_as().fetch_all(&mut *conn).await?
        });
        found.extend(rows.into_iter().map(|(id, value)| (value, id)));
    }
    let mut problems = Problems::default();
    let mut ids = Vec::with_capacity(scope.values.len());
    for (i, value) in scope.values.iter().enumerate() {
        match found.get(value) {
            Some(id) => ids.push(*id),
            None => {
                let message = if scope.kind == "locations" {
                    tr!(errors.location.not_found_code, code = value)
                } else {
                    tr!(errors.item.not_found_sku, sku = value)
                };
                problems.note(
                    AppError::new(code, message)
                        .with_details(json!({"field": format!("{field}[{i}]")})),
                );
            }
        }
    }
    problems.finish()?;
    Ok(ids)
}

/// Creates a count of `input`'s scope in its warehouse: its lines are every (item, location,
/// batch) of the warehouse with stock there now, expecting that stock.
pub async fn create_count(
    db: &Db,
    config: &Config,
    input: &NewCount,
    actor: Option<&str>,
) -> Result<i64, AppError> {
    let scope = parse_scope(input)?;
    let now = config.clock.now();
    let args = (scope, input.blind, now, actor);
    db.write(&args, |tx, (scope, blind, now, actor)| {
        Box::pin(async move {
            let site = warehouses::one(tx, scope.warehouse.as_ref(), "warehouse_code").await?;
            let ids = scope_ids(tx, scope, &site).await?;
            let id: i64 = with_tx!(tx, |conn, _backend| sqlx::query_scalar(
                "INSERT INTO counts (warehouse_id, blind, scope_kind, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id"
            )
            .bind(site.id)
            .bind(*blind)
            .bind(scope.kind)
            .bind(*now)
            .bind(*actor)
            .fetch_one(&mut *conn)
            .await?);
            let column = if scope.kind == "locations" { "location_id" } else { "item_id" };
            for chunk in ids.chunks(crate::movement::ROWS_PER_STATEMENT) {
                with_tx!(tx, |conn, _backend| {
                    let mut query =
                        QueryBuilder::new(format!("INSERT INTO count_scope (count_id, {column}) "));
                    query.push_values(chunk, |mut row, scope_id| {
                        row.push_bind(id).push_bind(*scope_id);
                    });
                    query.build().execute(&mut *conn).await?;
                    let mut query = QueryBuilder::new(
                        "INSERT INTO count_lines (count_id, item_id, location_id, batch_code, expected_qty, found) \
                         SELECT ",
                    );
                    query.push_bind(id);
                    query.push(", b.item_id, b.location_id, b.batch_code, b.qty, ");
                    query.push_bind(false);
                    query.push(format!(" FROM batches b WHERE b.qty > 0 AND b.{column} IN ("));
                    let mut list = query.separated(", ");
                    for scope_id in chunk {
                        list.push_bind(*scope_id);
                    }
                    query.push(")");
                    if column == "item_id" {
                        query.push(
                            " AND b.location_id IN (SELECT id FROM locations \
                             WHERE kind NOT IN ('transit', 'quarantine') AND warehouse_id = ",
                        );
                        query.push_bind(site.id);
                        query.push(")");
                    }
                    query.build().execute(&mut *conn).await.map(drop)?
                });
            }
            Ok(id)
        })
    })
    .await
}

/// The count `id` as `role` may see it (a clerk sees no expected quantity of a blind count).
pub async fn get_count(db: &Db, id: i64, role: Role) -> Result<Count, AppError> {
    let mut tx = db.begin_read().await?;
    let count = read_count(&mut tx, id, role).await;
    drop(tx);
    count
}

type CountRow = (
    i64,
    String,
    String,
    bool,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
);

type LineRow = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    bool,
    i64,
    Option<i64>,
    Option<i64>,
    bool,
    Option<DateTime<Utc>>,
    Option<String>,
);

async fn read_count(tx: &mut Tx, id: i64, role: Role) -> Result<Count, AppError> {
    let (row, scope, lines): (Option<CountRow>, Vec<String>, Vec<LineRow>) = with_tx!(
        tx,
        |conn, _backend| {
            let row: Option<CountRow> = sqlx::query_as(
                "SELECT c.id, w.code, c.status, c.blind, c.scope_kind, c.created_at, c.created_by, \
                        c.closed_at, c.closed_by \
                 FROM counts c JOIN warehouses w ON w.id = c.warehouse_id WHERE c.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            let scope: Vec<String> = sqlx::query_scalar(
                "SELECT COALESCE(l.code, i.sku) FROM count_scope s \
                 LEFT JOIN locations l ON l.id = s.location_id LEFT JOIN items i ON i.id = s.item_id \
                 WHERE s.count_id = $1 ORDER BY 1",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            let lines: Vec<LineRow> = sqlx::query_as(
                "SELECT c.item_id, i.sku, i.name, c.location_id, l.code, c.batch_code, c.whole, c.expected_qty, \
                        c.counted_qty, c.recorded_qty, c.found, c.counted_at, c.counted_by \
                 FROM count_lines c JOIN items i ON i.id = c.item_id JOIN locations l ON l.id = c.location_id \
                 WHERE c.count_id = $1 ORDER BY l.code, i.sku, c.batch_code",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            (row, scope, lines)
        }
    );
    let Some((
        id,
        warehouse_code,
        status,
        blind,
        scope_kind,
        created_at,
        created_by,
        closed_at,
        closed_by,
    )) = row
    else {
        return Err(AppError::not_found(tr!(errors.count.not_found, id = id)));
    };
    let expected_shown = !blind || role >= Role::Manager;
    let lines = lines
        .into_iter()
        .map(
            |(
                item_id,
                sku,
                name,
                location_id,
                location_code,
                batch_code,
                whole,
                expected,
                counted,
                recorded,
                found,
                counted_at,
                counted_by,
            )| CountLine {
                item_id,
                sku,
                name,
                location_id,
                location_code,
                batch_code,
                whole,
                expected_qty: expected_shown.then_some(expected),
                counted_qty: counted,
                recorded_qty: recorded.filter(|_| expected_shown),
                difference: counted
                    .zip(recorded)
                    .map(|(c, r)| c - r)
                    .filter(|_| expected_shown),
                found,
                counted_at,
                counted_by,
            },
        )
        .collect();
    Ok(Count {
        id,
        warehouse_code,
        status: CountStatus::from_name(&status).unwrap_or(CountStatus::Open),
        blind,
        scope: CountScope {
            kind: scope_kind,
            values: scope,
        },
        created_at,
        created_by,
        closed_at,
        closed_by,
        expected_shown,
        lines,
    })
}

/// Counts, newest first, optionally of one status.
pub async fn list_counts(db: &Db, filter: &CountFilter) -> Result<CountList, AppError> {
    let paging = Paging::parse(filter.offset, filter.limit)?;
    let status = match crate::movement::non_blank(&filter.status) {
        None => None,
        Some(raw) => Some(
            CountStatus::from_name(&raw.trim().to_ascii_uppercase())
                .ok_or_else(|| {
                    AppError::validation(
                        "status",
                        tr!(errors.value.one_of, values = "OPEN, POSTED, CANCELLED"),
                    )
                })?
                .as_str(),
        ),
    };
    let warehouse = WarehouseCode::parse_optional("warehouse", filter.warehouse.as_deref())?;
    type Summary = (
        i64,
        String,
        String,
        bool,
        String,
        DateTime<Utc>,
        Option<String>,
        i64,
        i64,
    );
    let mut tx = db.begin_read().await?;
    let site = warehouses::filter(&mut tx, warehouse.as_ref(), "warehouse").await?;
    let site = site.map(|site| site.id);
    let (total, rows, scopes) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM counts \
             WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR warehouse_id = $2)",
        )
        .bind(status)
        .bind(site)
        .fetch_one(&mut *conn)
        .await?;
        let rows: Vec<Summary> = sqlx::query_as(
            "SELECT c.id, w.code, c.status, c.blind, c.scope_kind, c.created_at, c.created_by, \
                    (SELECT COUNT(*) FROM count_lines l WHERE l.count_id = c.id), \
                    (SELECT COUNT(*) FROM count_lines l WHERE l.count_id = c.id AND l.counted_qty IS NOT NULL) \
             FROM counts c JOIN warehouses w ON w.id = c.warehouse_id \
             WHERE ($1 IS NULL OR c.status = $1) AND ($2 IS NULL OR c.warehouse_id = $2) \
             ORDER BY c.id DESC LIMIT $3 OFFSET $4",
        )
        .bind(status)
        .bind(site)
        .bind(paging.limit)
        .bind(paging.offset)
        .fetch_all(&mut *conn)
        .await?;
        let mut scopes: Vec<(i64, String)> = Vec::new();
        if !rows.is_empty() {
            let mut query = QueryBuilder::new(
                "SELECT s.count_id, COALESCE(l.code, i.sku) FROM count_scope s \
                 LEFT JOIN locations l ON l.id = s.location_id LEFT JOIN items i ON i.id = s.item_id \
                 WHERE s.count_id IN (",
            );
            let mut list = query.separated(", ");
            for row in &rows {
                list.push_bind(row.0);
            }
            query.push(") ORDER BY 1, 2");
            scopes = query.build_query_as().fetch_all(&mut *conn).await?;
        }
        (total, rows, scopes)
    });
    drop(tx);
    let counts = rows
        .into_iter()
        .map(
            |(id, warehouse_code, status, blind, kind, created_at, created_by, lines, counted)| {
                CountSummary {
                    id,
                    warehouse_code,
                    status: CountStatus::from_name(&status).unwrap_or(CountStatus::Open),
                    blind,
                    scope: CountScope {
                        kind,
                        values: scopes
                            .iter()
                            .filter(|(count, _)| *count == id)
                            .map(|(_, value)| value.clone())
                            .collect(),
                    },
                    created_at,
                    created_by,
                    lines,
                    counted,
                }
            },
        )
        .collect();
    Ok(CountList {
        total,
        offset: paging.offset,
        limit: paging.limit,
        counts,
    })
}

/// Locks count `id` for the rest of the transaction and returns its status and warehouse.
async fn lock_count(tx: &mut Tx, id: i64) -> Result<(CountStatus, WarehouseCode), AppError> {
    let row: Option<(String, String, i64)> = with_tx!(tx, |conn, backend| {
        let sql = if backend == Backend::Postgres {
            "SELECT c.status, w.code, w.id FROM counts c \
             JOIN warehouses w ON w.id = c.warehouse_id WHERE c.id = $1 FOR UPDATE OF c"
        } else {
            "SELECT c.status, w.code, w.id FROM counts c \
             JOIN warehouses w ON w.id = c.warehouse_id WHERE c.id = $1"
        };
        sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    let (status, warehouse, warehouse_id) =
        row.ok_or_else(|| AppError::not_found(tr!(errors.count.not_found, id = id)))?;
    crate::scope::check(warehouse_id, &warehouse)?;
    Ok((
        CountStatus::from_name(&status).unwrap_or(CountStatus::Open),
        WarehouseCode::parse("warehouse_code", &warehouse)?,
    ))
}

fn closed(id: i64, status: CountStatus) -> AppError {
    let message = match status {
        CountStatus::Posted => tr!(errors.count.posted, id = id),
        _ => tr!(errors.count.cancelled, id = id),
    };
    AppError::conflict(message).with_details(json!({"status": status.as_str()}))
}

/// A counted line, parsed.
struct Counted {
    sku: Sku,
    location_code: LocationCode,
    /// The batch counted; `None` (no `batch_code`, or a blank one): the item's whole stock at
    /// the location, all its batches, as `POST /adjust` reads `counted_qty` without a batch.
    batch_code: Option<BatchCode>,
    counted: i64,
}

impl Counted {
    /// The batch code the line is kept under: a whole line's is `""`.
    fn code(&self) -> &str {
        self.batch_code.as_ref().map_or("", BatchCode::as_str)
    }
}

/// Parses line `i` of a recording (fields `lines[i].…`), noting what is wrong in `problems`.
fn parse_line(i: usize, input: &CountLineInput, problems: &mut Problems) -> Option<Counted> {
    let field = |name: &str| format!("lines[{i}].{name}");
    let mut required = |name: &str, raw: &Option<String>| match crate::movement::non_blank(raw) {
        Some(raw) => Some(raw.to_string()),
        None => {
            problems.note(AppError::validation(
                field(name),
                tr!(errors.value.required),
            ));
            None
        }
    };
    let sku = required("sku", &input.sku);
    let location_code = required("location_code", &input.location_code);
    let sku = sku.and_then(|raw| problems.check(Sku::parse(&field("sku"), &raw)));
    let location_code = location_code
        .and_then(|raw| problems.check(LocationCode::parse(&field("location_code"), &raw)));
    let batch_code = match crate::movement::non_blank(&input.batch_code) {
        None => Some(None),
        Some(raw) => problems
            .check(BatchCode::parse(&field("batch_code"), raw))
            .map(Some),
    };
    if !(0..=MAX_QTY).contains(&input.counted_qty) {
        problems.note(AppError::validation(
            field("counted_qty"),
            tr!(errors.adjust.counted_range, max = MAX_QTY),
        ));
    }
    Some(Counted {
        sku: sku?,
        location_code: location_code?,
        batch_code: batch_code?,
        counted: input.counted_qty,
    })
}

/// Records what was counted (one line per item, location and batch; field paths
/// `lines[i].…`) in open count `id`, each with the stock of its batch at this moment — read
/// under the stock's lock, so between two movements, never inside one. All lines or none.
/// Counting a line again replaces its count.
pub async fn record_lines(
    db: &Db,
    config: &Config,
    id: i64,
    input: &[CountLineInput],
    actor: Option<&str>,
) -> Result<(), AppError> {
    crate::domain::check_line_count(input.len())?;
    let mut problems = Problems::default();
    let lines: Vec<Option<Counted>> = input
        .iter()
        .enumerate()
        .map(|(i, line)| parse_line(i, line, &mut problems))
        .collect();
    problems.finish()?;
    let lines: Vec<Counted> = lines.into_iter().flatten().collect();
    let now = config.clock.now();
    let args = (id, lines, now, actor);
    db.write(&args, |tx, (id, lines, now, actor)| {
        Box::pin(async move {
            let (status, warehouse) = lock_count(tx, *id).await?;
            if status != CountStatus::Open {
                return Err(closed(*id, status));
            }
            let item_keys: Vec<ItemKey> = lines
                .iter()
                .map(|l| ItemKey {
                    id: None,
                    sku: Some(l.sku.clone()),
                })
                .collect();
            let location_keys: Vec<LocationKey> = lines
                .iter()
                .map(|l| LocationKey {
                    id: None,
                    code: Some(l.location_code.clone()),
                })
                .collect();
            let (items, mut locations) = crate::movement::resolve::find(
                tx,
                &item_keys,
                Some(&warehouse),
                vec![("location_code", true, location_keys.iter().collect())],
            )
            .await?;
            let locations = locations.pop().unwrap_or_default();
            let scope: Vec<(Option<i64>, Option<i64>)> = with_tx!(tx, |conn, _backend| sqlx::query_as(
                "SELECT location_id, item_id FROM count_scope WHERE count_id = $1"
            )
            .bind(*id)
            .fetch_all(&mut *conn)
            .await?);
            let in_scope = |item: i64, location: i64| {
                scope
                    .iter()
                    .any(|(l, i)| *l == Some(location) || *i == Some(item))
            };
            let mut problems = Problems::default();
            let mut seen = std::collections::HashMap::new();
            // How each (item, location) is counted in this request: whole, or by batch.
            let mut ways: std::collections::HashMap<(i64, i64), (usize, bool)> =
                std::collections::HashMap::new();
            for (i, ((item, location), line)) in items.iter().zip(&locations).zip(lines.iter()).enumerate() {
                if !in_scope(item.id, location.id) {
                    problems.note(AppError::validation(
                        format!("lines[{i}].location_code"),
                        tr!(errors.count.out_of_scope, sku = &item.sku, code = &location.code, id = *id),
                    ));
                }
                let key = (item.id, location.id, line.code().to_string());
                if let Some(first) = seen.insert(key, i) {
                    problems.note(AppError::validation(
                        format!("lines[{i}]"),
                        tr!(errors.value.repeated_line, first = first, line = first + 1),
                    ));
                    continue;
                }
                let whole = line.batch_code.is_none();
                match ways.get(&(item.id, location.id)) {
                    Some(&(first, first_whole)) if first_whole != whole => {
                        problems.note(AppError::validation(
                            format!("lines[{i}].batch_code"),
                            tr!(errors.count.whole_and_batch_in_request, sku = &item.sku, code = &location.code, line = first + 1),
                        ));
                    }
                    _ => {
                        ways.insert((item.id, location.id), (i, whole));
                    }
                }
            }
            problems.finish()?;
            // The stocks' locks order these reads with every movement of those stocks.
            let keys: BTreeSet<(i64, i64)> =
                items.iter().zip(&locations).map(|(i, l)| (i.id, l.id)).collect();
            let stocks = crate::movement::stock::lock_stocks(tx, &keys, false).await?;
            let stock_ids: BTreeSet<i64> = stocks.values().map(|s| s.id).collect();
            let lots = crate::movement::batches::load_batches(tx, &stock_ids).await?;
            // What each line counts holds now (0 for a batch, or a stock, not there): a batch
            // line its batch, a whole line the whole stock.
            let recorded = |item: i64, location: i64, code: Option<&str>| -> i64 {
                let Some(stock) = stocks.get(&(item, location)) else {
                    return 0;
                };
                match code {
                    None => stock.qty,
                    Some(code) => lots.get(&stock.id).map_or(0, |lots| {
                        lots.iter()
                            .filter(|b| b.batch_code == code)
                            .map(|b| b.qty)
                            .sum()
                    }),
                }
            };
            // The count's lines at these places as they stand: a place already counted the
            // other way refuses the line; a whole line takes in the place's uncounted
            // expected batches (what it expects is their sum).
            let existing = existing_lines(tx, *id, &keys).await?;
            let mut problems = Problems::default();
            let mut folded: std::collections::HashMap<(i64, i64), (i64, bool)> =
                std::collections::HashMap::new();
            for (i, ((item, location), line)) in items.iter().zip(&locations).zip(lines.iter()).enumerate() {
                let whole = line.batch_code.is_none();
                let here = existing
                    .iter()
                    .filter(|l| l.item_id == item.id && l.location_id == location.id);
                let mut expected = 0;
                let mut expected_any = false;
                for other in here {
                    if other.counted && other.whole != whole {
                        let message = if whole {
                            tr!(errors.count.counted_by_batch, sku = &item.sku, code = &location.code, batch = &other.batch_code)
                        } else {
                            tr!(errors.count.counted_whole, sku = &item.sku, code = &location.code)
                        };
                        problems.note(AppError::validation(format!("lines[{i}].batch_code"), message));
                        break;
                    }
                    if whole {
                        expected += other.expected_qty;
                        expected_any |= !other.found;
                    }
                }
                if whole {
                    folded.insert((item.id, location.id), (expected, expected_any));
                }
            }
            problems.finish()?;
            let whole_places: Vec<(i64, i64)> = folded.keys().copied().collect();
            for chunk in whole_places.chunks(crate::movement::ROWS_PER_STATEMENT) {
                with_tx!(tx, |conn, _backend| {
                    let mut query = QueryBuilder::new("DELETE FROM count_lines WHERE count_id = ");
                    query.push_bind(*id);
                    query.push(" AND counted_qty IS NULL AND (item_id, location_id) IN (");
                    query.push_values(chunk, |mut row, (item, location)| {
                        row.push_bind(*item).push_bind(*location);
                    });
                    query.push(")");
                    query.build().execute(&mut *conn).await.map(drop)?
                });
            }
            let rows: Vec<CountedRow> = items
                .iter()
                .zip(&locations)
                .zip(lines.iter())
                .map(|((item, location), line)| {
                    let code = line.batch_code.as_ref().map(BatchCode::as_str);
                    let (expected, expected_any) = folded
                        .get(&(item.id, location.id))
                        .copied()
                        .unwrap_or((0, false));
                    (
                        item.id,
                        location.id,
                        line.code(),
                        code.is_none(),
                        expected,
                        line.counted,
                        // Found: nothing was expected here (a batch line is found unless
                        // its batch was expected, which the upsert below keeps).
                        !expected_any,
                        recorded(item.id, location.id, code),
                    )
                })
                .collect();
            for chunk in rows.chunks(crate::movement::ROWS_PER_STATEMENT) {
                with_tx!(tx, |conn, _backend| {
                    let mut query = QueryBuilder::new(
                        "INSERT INTO count_lines (count_id, item_id, location_id, batch_code, whole, expected_qty, \
                                                  counted_qty, recorded_qty, found, counted_at, counted_by) ",
                    );
                    query.push_values(
                        chunk,
                        |mut row, (item, location, code, whole, expected, counted, found, recorded)| {
                            row.push_bind(*id)
                                .push_bind(*item)
                                .push_bind(*location)
                                .push_bind(*code)
                                .push_bind(*whole)
                                .push_bind(*expected)
                                .push_bind(*counted)
                                .push_bind(*recorded)
                                .push_bind(*found)
                                .push_bind(*now)
                                .push_bind(*actor);
                        },
                    );
                    query.push(
                        " ON CONFLICT (count_id, item_id, location_id, batch_code) DO UPDATE \
                         SET counted_qty = excluded.counted_qty, recorded_qty = excluded.recorded_qty, \
                             counted_at = excluded.counted_at, counted_by = excluded.counted_by",
                    );
                    query.build().execute(&mut *conn).await.map(drop)?
                });
            }
            Ok(())
        })
    })
    .await
}

/// A counted line as written: item, location, batch code (`""` whole), whole, expected,
/// counted, found, recorded.
type CountedRow<'a> = (i64, i64, &'a str, bool, i64, i64, bool, i64);

/// A line of a count as it stands, at one of the places a recording names.
struct ExistingLine {
    item_id: i64,
    location_id: i64,
    batch_code: String,
    whole: bool,
    expected_qty: i64,
    counted: bool,
    found: bool,
}

/// Count `id`'s lines at the (item, location) places `keys`.
async fn existing_lines(
    tx: &mut Tx,
    id: i64,
    keys: &BTreeSet<(i64, i64)>,
) -> Result<Vec<ExistingLine>, AppError> {
    let keys: Vec<(i64, i64)> = keys.iter().copied().collect();
    let mut lines = Vec::new();
    for chunk in keys.chunks(crate::movement::ROWS_PER_STATEMENT) {
        let rows: Vec<(i64, i64, String, bool, i64, bool, bool)> = with_tx!(
            tx,
            |conn, _backend| {
                let mut query = QueryBuilder::new(
                "SELECT item_id, location_id, batch_code, whole, expected_qty, counted_qty IS NOT NULL, found \
                 FROM count_lines WHERE count_id = ",
            );
                query.push_bind(id);
                query.push(" AND (item_id, location_id) IN (");
                query.push_values(chunk, |mut row, (item, location)| {
                    row.push_bind(*item).push_bind(*location);
                });
                query.push(")");
                query.build_query_as().fetch_all(&mut *conn).await?
            }
        );
        lines.extend(rows.into_iter().map(
            |(item_id, location_id, batch_code, whole, expected_qty, counted, found)| {
                ExistingLine {
                    item_id,
                    location_id,
                    batch_code,
                    whole,
                    expected_qty,
                    counted,
                    found,
                }
            },
        ));
    }
    Ok(lines)
}

/// Posts open count `id`: in one transaction, a `COUNT_CORRECTION` adjustment (ref
/// `COUNT-<id>`) of `counted − recorded` for every counted line that differs, and the count
/// marked posted. A correction that would take a stock below zero refuses the whole post (409,
/// naming the lines). Posting again answers the same adjustment, `IDEMPOTENT`.
///
/// An open count with no line counted is not posted (409: nothing to post but a mistake). One
/// with lines not counted yet is posted only `uncounted_ok` (the page asks its clerk first);
/// otherwise 409 `CONFLICT` saying how many, with `details.uncounted`.
pub async fn post_count(
    db: &Db,
    config: &Config,
    id: i64,
    actor: Option<&str>,
    uncounted_ok: bool,
) -> Result<AdjustResponse, AppError> {
    let at = config.moment();
    db.write(&(id, actor), |tx, (id, actor)| {
        Box::pin(async move {
            let (status, warehouse) = lock_count(tx, *id).await?;
            if status == CountStatus::Cancelled {
                return Err(closed(*id, status));
            }
            if status == CountStatus::Open {
                let (lines, counted): (i64, i64) = with_tx!(tx, |conn, _backend| sqlx::query_as(
                    "SELECT COUNT(*), COUNT(counted_qty) FROM count_lines WHERE count_id = $1"
                )
                .bind(*id)
                .fetch_one(&mut *conn)
                .await?);
                if counted == 0 {
                    return Err(AppError::conflict(tr!(errors.count.nothing_counted, id = *id)));
                }
                let uncounted = lines - counted;
                if uncounted > 0 && !uncounted_ok {
                    return Err(AppError::conflict(tr!(
                        errors.count.uncounted,
                        id = *id,
                        lines = lines,
                        uncounted = uncounted
                    ))
                    .with_details(serde_json::json!({ "uncounted": uncounted, "lines": lines })));
                }
            }
            let differences: Vec<Difference> =
                with_tx!(tx, |conn, _backend| sqlx::query_as(
                    "SELECT c.item_id, c.location_id, c.batch_code, c.whole, c.counted_qty - c.recorded_qty, i.sku, l.code \
                     FROM count_lines c JOIN items i ON i.id = c.item_id JOIN locations l ON l.id = c.location_id \
                     WHERE c.count_id = $1 AND c.counted_qty IS NOT NULL AND c.counted_qty <> c.recorded_qty \
                     ORDER BY c.id"
                )
                .bind(*id)
                .fetch_all(&mut *conn)
                .await?);
            let reference = Ref::parse("ref", &count_ref(*id))?;
            let response = if differences.is_empty() {
                MovementResponse {
                    r#ref: reference.as_str().to_string(),
                    status: if status == CountStatus::Posted {
                        LineStatus::Idempotent
                    } else {
                        LineStatus::Ok
                    },
                    lines: Vec::new(),
                }
            } else {
                let mut lines = Vec::with_capacity(differences.len());
                for (item_id, location_id, batch_code, whole, delta, _, _) in &differences {
                    lines.push(AdjustLine {
                        item: ItemKey {
                            id: Some(*item_id),
                            sku: None,
                        },
                        location: LocationKey {
                            id: Some(*location_id),
                            code: None,
                        },
                        // A whole line changes the whole stock the way a whole-stock
                        // adjustment does (a decrease takes expired batches first, then FEFO).
                        batch_code: if *whole {
                            None
                        } else {
                            Some(BatchCode::parse("batch_code", batch_code)?)
                        },
                        change: Change::Delta(*delta),
                        reason_code: ReasonCode::CountCorrection,
                        note: None,
                    });
                }
                let adjust = Adjust {
                    request: Request {
                        r#ref: reference,
                        warehouse: Some(warehouse),
                        lines,
                    },
                };
                let mut response = pipeline::apply(tx, &adjust, at, *actor)
                    .await
                    .map_err(|error| name_short_lines(error, &differences))?;
                for (result, (_, _, batch_code, whole, _, _, _)) in
                    response.lines.iter_mut().zip(&differences)
                {
                    result.batch_code = (!whole).then(|| batch_code.clone());
                }
                response
            };
            if status == CountStatus::Open {
                with_tx!(tx, |conn, _backend| sqlx::query(
                    "UPDATE counts SET status = 'POSTED', closed_at = $2, closed_by = $3 WHERE id = $1"
                )
                .bind(*id)
                .bind(at.now)
                .bind(*actor)
                .execute(&mut *conn)
                .await
                .map(drop)?);
            }
            Ok(response)
        })
    })
    .await
}

/// A counted line that differs: item, location, batch code, whole, `counted − recorded`, sku,
/// location code.
type Difference = (i64, i64, String, bool, i64, String, String);

/// A post refused for want of stock names each short line by sku, location and batch (absent
/// for a whole line).
fn name_short_lines(error: AppError, lines: &[Difference]) -> AppError {
    if error.code != ErrorCode::InsufficientStock {
        return error;
    }
    let mut details = error.details.clone();
    if let Some(shortages) = details.get_mut("shortages").and_then(|s| s.as_array_mut()) {
        for shortage in shortages {
            let line = shortage["ref_line"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| lines.get(i));
            if let Some((_, _, batch_code, whole, _, sku, code)) = line {
                shortage["sku"] = json!(sku);
                shortage["location_code"] = json!(code);
                if !whole {
                    shortage["batch_code"] = json!(batch_code);
                }
            }
        }
    }
    error.with_details(details)
}

/// Cancels open count `id` (nothing is adjusted); cancelling again changes nothing; a posted
/// count cannot be cancelled.
pub async fn cancel_count(
    db: &Db,
    config: &Config,
    id: i64,
    actor: Option<&str>,
) -> Result<(), AppError> {
    let now = config.clock.now();
    db.write(&(id, now, actor), |tx, (id, now, actor)| {
        Box::pin(async move {
            match lock_count(tx, *id).await?.0 {
                CountStatus::Cancelled => Ok(()),
                CountStatus::Posted => Err(closed(*id, CountStatus::Posted)),
                CountStatus::Open => {
                    with_tx!(tx, |conn, _backend| sqlx::query(
                        "UPDATE counts SET status = 'CANCELLED', closed_at = $2, closed_by = $3 WHERE id = $1"
                    )
                    .bind(*id)
                    .bind(*now)
                    .bind(*actor)
                    .execute(&mut *conn)
                    .await
                    .map(drop)?);
                    Ok(())
                }
            }
        })
    })
    .await
}

/// The posted answer: the count and its adjustment.
pub async fn posted(
    db: &Db,
    id: i64,
    role: Role,
    adjustment: AdjustResponse,
) -> Result<PostedCount, AppError> {
    Ok(PostedCount {
        count: get_count(db, id, role).await?,
        adjustment,
    })
}
