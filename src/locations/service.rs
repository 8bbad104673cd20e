//! Location operations on the database.

use crate::db::{Db, Tx};
use crate::domain::{parse_search, LocationCode, LocationKind, LocationName, Page, Paging};
use crate::error::AppError;
use crate::locations::{Location, NewLocationInput};
use crate::search::{like_pattern, location_search_text};
use crate::with_tx;

/// A parsed, valid new location.
#[derive(Debug, Clone)]
pub struct NewLocation {
    pub code: LocationCode,
    pub name: LocationName,
    pub kind: LocationKind,
}

impl NewLocation {
    pub fn parse(input: &NewLocationInput) -> Result<Self, AppError> {
        Ok(Self {
            code: LocationCode::parse("code", &input.code)?,
            name: LocationName::parse("name", input.name.as_deref().unwrap_or(""))?,
            kind: LocationKind::parse("kind", &input.kind)?,
        })
    }
}

const LOCATION_COLUMNS: &str = "id, code, name, kind, created_at";

/// Creates a location; a code that exists already is `CONFLICT`.
pub async fn create_location(db: &Db, location: &NewLocation) -> Result<Location, AppError> {
    db.write(location, |tx, location| {
        Box::pin(create_location_in(tx, location))
    })
    .await
}

/// Creates one inside the caller's transaction (the demo loader batches thousands), with its
/// folded search text.
pub async fn create_location_in(tx: &mut Tx, location: &NewLocation) -> Result<Location, AppError> {
    let sql = format!(
        "INSERT INTO locations (code, name, kind, search_text) VALUES ($1, $2, $3, $4) \
         RETURNING {LOCATION_COLUMNS}"
    );
    let result = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, Location>(&sql)
        .bind(location.code.as_str())
        .bind(location.name.as_str())
        .bind(location.kind.as_str())
        .bind(location_search_text(
            location.code.as_str(),
            location.name.as_str(),
        ))
        .fetch_one(&mut *conn)
        .await);
    result.map_err(|error| match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            AppError::conflict(tr!(errors.location.code_exists, code = &location.code))
                .with_details(serde_json::json!({"field": "code"}))
        }
        _ => error.into(),
    })
}

/// Locations whose code or name contains `q` (case-insensitive, `search::fold`), optionally of
/// one kind, by code; the count and the rows from one read transaction, so they agree.
pub async fn list_locations(
    db: &Db,
    q: Option<&str>,
    kind: Option<LocationKind>,
    paging: Paging,
) -> Result<Page<Location>, AppError> {
    let q = parse_search(q)?;
    let pattern = q.as_deref().map(like_pattern);
    let kind = kind.map(LocationKind::as_str);
    let filter = "($1 IS NULL OR search_text LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR kind = $2)";
    let count_sql = format!("SELECT COUNT(*) FROM locations WHERE {filter}");
    let rows_sql = format!(
        "SELECT {LOCATION_COLUMNS} FROM locations WHERE {filter} ORDER BY code LIMIT $3 OFFSET $4"
    );
    let mut tx = db.begin_read().await?;
    let (total, items) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(pattern.as_deref())
            .bind(kind)
            .fetch_one(&mut *conn)
            .await?;
        let items = sqlx::query_as::<_, Location>(&rows_sql)
            .bind(pattern.as_deref())
            .bind(kind)
            .bind(paging.limit)
            .bind(paging.offset)
            .fetch_all(&mut *conn)
            .await?;
        (total, items)
    });
    tx.commit().await?;
    Ok(Page::new(total, paging.offset, paging.limit, items))
}
