//! Finding what the lines of a request name: items by id or sku, locations by id or code — a
//! code within the request's warehouse (`warehouse_code`; while Depot has one warehouse it may
//! be left out). One statement finds them all, whatever the number of lines and however they
//! name things.

use std::collections::{BTreeSet, HashMap};

use sqlx::QueryBuilder;

use crate::db::Tx;
use crate::domain::{LocationKind, WarehouseCode};
use crate::error::{AppError, ErrorCode, Problems};
use crate::movement::{ItemKey, LocationKey};
use crate::with_tx;

/// An item a line names, found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FoundItem {
    pub id: i64,
    pub sku: String,
}

/// A location a line names, found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FoundLocation {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub warehouse_id: i64,
}

impl FoundLocation {
    pub fn kind(&self) -> Option<LocationKind> {
        LocationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.kind)
    }
}

/// A table whose rows lines name by id or by a unique code.
trait Catalogue: Clone {
    const TABLE: &'static str;
    /// The code column, e.g. `sku`.
    const CODE: &'static str;
    /// The columns after id and code (at most one, text), e.g. a location's `kind`.
    const MORE: Option<&'static str>;
    /// The column of the row's warehouse, if it has one.
    const WAREHOUSE: Option<&'static str>;
    const UNKNOWN: ErrorCode;
    /// `warehouse` is the row's warehouse (locations).
    fn from_row(id: i64, code: String, more: Option<String>, warehouse: Option<i64>) -> Self;
    fn id(&self) -> i64;
    fn code(&self) -> &str;
    /// "no item with id 7".
    fn no_such_id(id: i64) -> String;
    /// "no item with sku 'X'".
    fn no_such_code(code: &str) -> String;
    /// "no item named".
    fn none_named() -> String;
    /// "item 7 has sku 'X', not 'Y'" (`self` is row 7).
    fn other_code(&self, sent: &str) -> String;
}

impl Catalogue for FoundItem {
    const TABLE: &'static str = "items";
    const CODE: &'static str = "sku";
    const MORE: Option<&'static str> = None;
    const WAREHOUSE: Option<&'static str> = None;
    const UNKNOWN: ErrorCode = ErrorCode::UnknownItem;
    fn from_row(id: i64, sku: String, _more: Option<String>, _warehouse: Option<i64>) -> Self {
        FoundItem { id, sku }
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn code(&self) -> &str {
        &self.sku
    }
    fn no_such_id(id: i64) -> String {
        tr!(errors.item.not_found_id, id = id)
    }
    fn no_such_code(code: &str) -> String {
        tr!(errors.item.not_found_sku, sku = code)
    }
    fn none_named() -> String {
        tr!(errors.item.not_named)
    }
    fn other_code(&self, sent: &str) -> String {
        tr!(
            errors.item.sku_mismatch,
            id = self.id,
            found = &self.sku,
            sent = sent
        )
    }
}

impl Catalogue for FoundLocation {
    const TABLE: &'static str = "locations";
    const CODE: &'static str = "code";
    const MORE: Option<&'static str> = Some("kind");
    const WAREHOUSE: Option<&'static str> = Some("warehouse_id");
    const UNKNOWN: ErrorCode = ErrorCode::UnknownLocation;
    fn from_row(id: i64, code: String, kind: Option<String>, warehouse: Option<i64>) -> Self {
        FoundLocation {
            id,
            code,
            kind: kind.unwrap_or_default(),
            warehouse_id: warehouse.unwrap_or_default(),
        }
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn code(&self) -> &str {
        &self.code
    }
    fn no_such_id(id: i64) -> String {
        tr!(errors.location.not_found_id, id = id)
    }
    fn no_such_code(code: &str) -> String {
        tr!(errors.location.not_found_code, code = code)
    }
    fn none_named() -> String {
        tr!(errors.location.not_named)
    }
    fn other_code(&self, sent: &str) -> String {
        tr!(
            errors.location.code_mismatch,
            id = self.id,
            found = &self.code,
            sent = sent
        )
    }
}

/// One line's key: its id and/or code, and the request fields that name them.
struct Named<'k> {
    id: Option<i64>,
    code: Option<&'k str>,
    id_field: String,
    code_field: String,
    /// Named by id, it must be in the request's warehouse (not so a transfer's transit
    /// location, which is the other warehouse's).
    scoped: bool,
}

/// The ids and codes some keys name, for the lookup.
struct Wanted<'k> {
    ids: BTreeSet<i64>,
    codes: BTreeSet<&'k str>,
}

impl<'k> Wanted<'k> {
    fn of<'a>(keys: impl IntoIterator<Item = &'a Named<'k>>) -> Self
    where
        'k: 'a,
    {
        let mut wanted = Wanted {
            ids: BTreeSet::new(),
            codes: BTreeSet::new(),
        };
        for key in keys {
            match (key.id, key.code) {
                (Some(id), _) => {
                    wanted.ids.insert(id);
                }
                (None, Some(code)) => {
                    wanted.codes.insert(code);
                }
                (None, None) => {}
            }
        }
        wanted
    }
}

/// The rows of one table the lookup found.
struct Rows<R> {
    by_id: HashMap<i64, R>,
    by_code: HashMap<String, R>,
}

impl<R> Default for Rows<R> {
    fn default() -> Self {
        Rows {
            by_id: HashMap::new(),
            by_code: HashMap::new(),
        }
    }
}

/// Appends to the lookup the parts that find `wanted` in `R`'s table: rows of (part, id, code,
/// more, warehouse), part `2·table` for a row found by id and `2·table + 1` by code — by code
/// within warehouse `scope` when one is named.
fn push_parts<'q, R: Catalogue, DB: sqlx::Database>(
    query: &mut QueryBuilder<'q, DB>,
    table: i64,
    wanted: &Wanted<'_>,
    scope: Option<&WarehouseCode>,
) where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let more = R::MORE.unwrap_or("CAST(NULL AS TEXT)");
    let warehouse = R::WAREHOUSE.unwrap_or("CAST(NULL AS BIGINT)");
    let columns = format!(
        "id, {}, {more}, {warehouse} FROM {} WHERE ",
        R::CODE,
        R::TABLE
    );
    if !wanted.ids.is_empty() {
        if !query.sql().is_empty() {
            query.push(" UNION ALL ");
        }
        query.push(format_args!(
            "SELECT CAST({} AS BIGINT), {columns}id IN (",
            2 * table
        ));
        let mut list = query.separated(", ");
        for id in &wanted.ids {
            list.push_bind(*id);
        }
        query.push(")");
    }
    if !wanted.codes.is_empty() {
        if !query.sql().is_empty() {
            query.push(" UNION ALL ");
        }
        query.push(format_args!(
            "SELECT CAST({} AS BIGINT), {columns}{} IN (",
            2 * table + 1,
            R::CODE
        ));
        let mut list = query.separated(", ");
        for code in &wanted.codes {
            list.push_bind(code.to_string());
        }
        query.push(")");
        if let (Some(column), Some(scope)) = (R::WAREHOUSE, scope) {
            query.push(format_args!(
                " AND {column} = (SELECT id FROM warehouses WHERE code = "
            ));
            query.push_bind(scope.as_str().to_string());
            query.push(")");
        }
    }
}

/// The part of the lookup that finds the request's warehouse: the one named, or (none named)
/// the first and how many there are — rows (4, id, code, NULL, count).
fn push_warehouse<'q, DB: sqlx::Database>(
    query: &mut QueryBuilder<'q, DB>,
    scope: Option<&WarehouseCode>,
) where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if !query.sql().is_empty() {
        query.push(" UNION ALL ");
    }
    query.push(
        "SELECT CAST(4 AS BIGINT), COALESCE(MIN(id), 0), COALESCE(MIN(code), ''), \
         MIN(timezone), COUNT(*) FROM warehouses",
    );
    if let Some(scope) = scope {
        query.push(" WHERE code = ");
        query.push_bind(scope.as_str().to_string());
    }
}

/// The rows `keys` name, in order, from what the lookup found. Unknown ones are noted,
/// `UNKNOWN_ITEM` / `UNKNOWN_LOCATION` naming their fields; an id and a code that name different
/// rows is noted as 422.
fn resolve<R: Catalogue>(keys: &[Named<'_>], rows: &Rows<R>, problems: &mut Problems) -> Vec<R> {
    keys.iter()
        .filter_map(|key| {
            let unknown =
                |field: &str, what: String| AppError::about_field(R::UNKNOWN, field, what);
            let found = match (key.id, key.code) {
                (Some(id), _) => rows
                    .by_id
                    .get(&id)
                    .ok_or_else(|| unknown(&key.id_field, R::no_such_id(id))),
                (None, Some(code)) => rows
                    .by_code
                    .get(code)
                    .ok_or_else(|| unknown(&key.code_field, R::no_such_code(code))),
                (None, None) => Err(unknown(&key.code_field, R::none_named())),
            };
            let found = problems.check(found)?;
            if let Some(code) = key.code.filter(|code| *code != found.code()) {
                problems.note(AppError::validation(
                    key.code_field.clone(),
                    found.other_code(code),
                ));
                return None;
            }
            Some(found.clone())
        })
        .collect()
}

/// The keys of one line field: `lines[i].<name>`.
fn location_keys<'k>(
    keys: impl IntoIterator<Item = &'k LocationKey>,
    name: &str,
    scoped: bool,
) -> Vec<Named<'k>> {
    keys.into_iter()
        .enumerate()
        .map(|(i, key)| Named {
            id: key.id,
            code: key.code.as_ref().map(|c| c.as_str()),
            // Errors name the code field whichever way the line named the location.
            id_field: format!("lines[{i}].{name}"),
            code_field: format!("lines[{i}].{name}"),
            scoped,
        })
        .collect()
}

fn item_keys<'k>(keys: impl IntoIterator<Item = &'k ItemKey>) -> Vec<Named<'k>> {
    keys.into_iter()
        .enumerate()
        .map(|(i, key)| Named {
            id: key.id,
            code: key.sku.as_ref().map(|s| s.as_str()),
            id_field: format!("lines[{i}].item_id"),
            code_field: format!("lines[{i}].sku"),
            scoped: false,
        })
        .collect()
}

/// What the lines name, found in one statement: the item of each line (fields
/// `lines[i].item_id` and `lines[i].sku`), and per location field `(name, scoped, keys)` the
/// location of each line (errors name `lines[i].<name>`), in order. Locations are in `warehouse`
/// (`warehouse_code`): a code is looked for there, and one named by id must be there; with
/// none named, a code is looked for in the only warehouse — once there are several, a request
/// naming a location by code must say which (422 on `warehouse_code`). A field not `scoped`
/// names its locations by id wherever they are. Everything unknown or
/// contradictory is refused at once, items first.
pub async fn find<'k>(
    tx: &mut Tx,
    items: impl IntoIterator<Item = &'k ItemKey>,
    warehouse: Option<&WarehouseCode>,
    locations: Vec<(&str, bool, Vec<&'k LocationKey>)>,
) -> Result<(Vec<FoundItem>, Vec<Vec<FoundLocation>>), AppError> {
    find_in_zone(tx, items, warehouse, locations)
        .await
        .map(|(items, locations, _)| (items, locations))
}

/// [`find`], and the time zone of the warehouse the request acts in when it has one of its
/// own (issue 33: "today" for expiry follows the warehouse), read in the same statement.
pub async fn find_in_zone<'k>(
    tx: &mut Tx,
    items: impl IntoIterator<Item = &'k ItemKey>,
    warehouse: Option<&WarehouseCode>,
    locations: Vec<(&str, bool, Vec<&'k LocationKey>)>,
) -> Result<FoundInZone, AppError> {
    // Someone limited to one warehouse works there without naming it.
    let only = match warehouse {
        None => crate::scope::only()
            .and_then(|(_, code)| WarehouseCode::parse("warehouse_code", &code).ok()),
        Some(_) => None,
    };
    let named = warehouse;
    let warehouse = warehouse.or(only.as_ref());
    let items = item_keys(items);
    let locations: Vec<Vec<Named>> = locations
        .into_iter()
        .map(|(name, scoped, keys)| location_keys(keys, name, scoped))
        .collect();
    let wanted_items = Wanted::of(&items);
    let wanted_locations = Wanted::of(locations.iter().flatten());
    let scoped = warehouse.is_some() || !wanted_locations.codes.is_empty();
    let mut item_rows: Rows<FoundItem> = Rows::default();
    let mut location_rows: Rows<FoundLocation> = Rows::default();
    type Row = (i64, i64, String, Option<String>, Option<i64>);
    let rows: Vec<Row> = with_tx!(tx, |conn, _backend| {
        let mut query = QueryBuilder::new("");
        push_parts::<FoundItem, _>(&mut query, 0, &wanted_items, None);
        push_parts::<FoundLocation, _>(&mut query, 1, &wanted_locations, warehouse);
        if scoped {
            push_warehouse(&mut query, warehouse);
        }
        if query.sql().is_empty() {
            Vec::new()
        } else {
            query.build_query_as().fetch_all(&mut *conn).await?
        }
    });
    let mut site: Option<(i64, i64)> = None;
    let mut zone: Option<String> = None;
    for (part, id, code, more, warehouse) in rows {
        fn keep<R: Catalogue>(rows: &mut Rows<R>, by_code: bool, row: R) {
            if by_code {
                rows.by_code.insert(row.code().to_string(), row);
            } else {
                rows.by_id.insert(row.id(), row);
            }
        }
        let by_code = part % 2 == 1;
        match part {
            0 | 1 => keep(
                &mut item_rows,
                by_code,
                FoundItem::from_row(id, code, more, warehouse),
            ),
            2 | 3 => keep(
                &mut location_rows,
                by_code,
                FoundLocation::from_row(id, code, more, warehouse),
            ),
            _ => {
                site = Some((id, warehouse.unwrap_or_default()));
                zone = more;
            }
        }
    }
    // The warehouse first: without it, every location named by code is unknown.
    if scoped {
        let (_, count) = site.unwrap_or_default();
        match warehouse {
            Some(code) if count == 0 => {
                return Err(AppError::validation(
                    "warehouse_code",
                    tr!(errors.warehouse.not_found, code = code),
                ));
            }
            None if count > 1 => {
                return Err(AppError::validation(
                    "warehouse_code",
                    tr!(errors.warehouse.required, count = count),
                ));
            }
            _ => {}
        }
    }
    let mut problems = Problems::default();
    if let Some(code) = named {
        // A location named by id must be in the warehouse named.
        let (site_id, _) = site.unwrap_or_default();
        for key in locations.iter().flatten().filter(|key| key.scoped) {
            let elsewhere = key
                .id
                .and_then(|id| location_rows.by_id.get(&id))
                .filter(|location| location.warehouse_id != site_id);
            if let Some(location) = elsewhere {
                problems.note(AppError::validation(
                    key.code_field.clone(),
                    tr!(
                        errors.location.other_warehouse,
                        code = &location.code,
                        sent = code
                    ),
                ));
            }
        }
    }
    let found_items = resolve(&items, &item_rows, &mut problems);
    let found_locations: Vec<Vec<FoundLocation>> = locations
        .iter()
        .map(|keys| resolve(keys, &location_rows, &mut problems))
        .collect();
    problems.finish()?;
    // Someone limited to warehouses touches no location elsewhere (a transit location of the
    // other end of a transfer excepted: the transfer's own rules decide).
    for (keys, found) in locations.iter().zip(&found_locations) {
        for (key, location) in keys.iter().zip(found) {
            if key.scoped {
                crate::scope::check_location(
                    location.warehouse_id,
                    &location.code,
                    &key.code_field,
                )?;
            }
        }
    }
    // One warehouse found (named, or the only one): its own zone, if it has one.
    let zone = match site {
        Some((_, 1)) => zone.and_then(|name| name.parse().ok()),
        _ => None,
    };
    Ok((found_items, found_locations, zone))
}

/// What [`find_in_zone`] answers: the items, the locations per field, the warehouse's zone.
pub type FoundInZone = (
    Vec<FoundItem>,
    Vec<Vec<FoundLocation>>,
    Option<chrono_tz::Tz>,
);

/// Finds the items the lines name (one key per line, in order; fields `lines[i].item_id` and
/// `lines[i].sku`).
pub async fn find_items<'k>(
    tx: &mut Tx,
    keys: impl IntoIterator<Item = &'k ItemKey>,
) -> Result<Vec<FoundItem>, AppError> {
    find(tx, keys, None, Vec::new())
        .await
        .map(|(items, _)| items)
}
