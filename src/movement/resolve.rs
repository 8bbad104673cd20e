//! Finding what the lines of a request name: items by id or sku, locations by id or code. One
//! lookup serves both, one statement per kind of key, whatever the number of lines.

use std::collections::{BTreeSet, HashMap};

use sqlx::QueryBuilder;

use crate::db::Tx;
use crate::domain::LocationKind;
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
}

impl FoundLocation {
    pub fn kind(&self) -> Option<LocationKind> {
        LocationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.kind)
    }
}

/// A table whose rows lines name by id or by a unique code.
trait Catalogue:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Clone
    + Send
    + Unpin
{
    /// `SELECT … FROM table WHERE ` (the key condition follows).
    const SELECT: &'static str;
    /// The code column, e.g. `sku`.
    const CODE: &'static str;
    const UNKNOWN: ErrorCode;
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
    const SELECT: &'static str = "SELECT id, sku FROM items WHERE ";
    const CODE: &'static str = "sku";
    const UNKNOWN: ErrorCode = ErrorCode::UnknownItem;
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
    const SELECT: &'static str = "SELECT id, code, kind FROM locations WHERE ";
    const CODE: &'static str = "code";
    const UNKNOWN: ErrorCode = ErrorCode::UnknownLocation;
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
}

/// Finds the rows `keys` name, in order. Unknown ones are refused together, `UNKNOWN_ITEM` /
/// `UNKNOWN_LOCATION` naming their fields; an id and a code that name different rows is 422.
async fn find<R: Catalogue>(tx: &mut Tx, keys: &[Named<'_>]) -> Result<Vec<R>, AppError> {
    let ids: BTreeSet<i64> = keys.iter().filter_map(|k| k.id).collect();
    let codes: BTreeSet<&str> = keys
        .iter()
        .filter(|k| k.id.is_none())
        .filter_map(|k| k.code)
        .collect();
    let mut by_id: HashMap<i64, R> = HashMap::new();
    let mut by_code: HashMap<String, R> = HashMap::new();
    if !ids.is_empty() {
        let rows: Vec<R> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(R::SELECT);
            query.push("id IN (");
            let mut list = query.separated(", ");
            for id in &ids {
                list.push_bind(*id);
            }
            query.push(")");
            query.build_query_as::<R>().fetch_all(&mut *conn).await?
        });
        by_id.extend(rows.into_iter().map(|r| (r.id(), r)));
    }
    if !codes.is_empty() {
        let rows: Vec<R> = with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(R::SELECT);
            query.push(R::CODE).push(" IN (");
            let mut list = query.separated(", ");
            for code in &codes {
                list.push_bind(*code);
            }
            query.push(")");
            query.build_query_as::<R>().fetch_all(&mut *conn).await?
        });
        by_code.extend(rows.into_iter().map(|r| (r.code().to_string(), r)));
    }
    // Every key that names nothing is refused at once.
    let mut problems = Problems::default();
    let found: Vec<Option<R>> = keys
        .iter()
        .map(|key| {
            let unknown =
                |field: &str, what: String| AppError::about_field(R::UNKNOWN, field, what);
            let found = match (key.id, key.code) {
                (Some(id), _) => by_id
                    .get(&id)
                    .ok_or_else(|| unknown(&key.id_field, R::no_such_id(id))),
                (None, Some(code)) => by_code
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
        .collect();
    problems.finish()?;
    Ok(found.into_iter().flatten().collect())
}

/// Finds the items the lines name (one key per line, in order; fields `lines[i].item_id` and
/// `lines[i].sku`).
pub async fn find_items<'k>(
    tx: &mut Tx,
    keys: impl IntoIterator<Item = &'k ItemKey>,
) -> Result<Vec<FoundItem>, AppError> {
    let keys: Vec<Named> = keys
        .into_iter()
        .enumerate()
        .map(|(i, key)| Named {
            id: key.id,
            code: key.sku.as_ref().map(|s| s.as_str()),
            id_field: format!("lines[{i}].item_id"),
            code_field: format!("lines[{i}].sku"),
        })
        .collect();
    find(tx, &keys).await
}

/// Finds the locations the lines name in their field `name` (e.g. `from_location_code`): one
/// key per line, in order; errors name `lines[i].<name>`.
pub async fn find_locations<'k>(
    tx: &mut Tx,
    keys: impl IntoIterator<Item = &'k LocationKey>,
    name: &str,
) -> Result<Vec<FoundLocation>, AppError> {
    let keys: Vec<Named> = keys
        .into_iter()
        .enumerate()
        .map(|(i, key)| Named {
            id: key.id,
            code: key.code.as_ref().map(|c| c.as_str()),
            // Errors name the code field whichever way the line named the location.
            id_field: format!("lines[{i}].{name}"),
            code_field: format!("lines[{i}].{name}"),
        })
        .collect();
    find(tx, &keys).await
}
