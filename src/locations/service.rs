//! Location operations on the database.

use crate::db::{Db, Tx};
use crate::domain::{
    parse_search, LocationCode, LocationKind, LocationName, Page, Paging, WarehouseCode,
};
use crate::error::AppError;
use crate::locations::{Location, NewLocationInput};
use crate::search::{like_pattern, location_search_text};
use crate::warehouses::service::{self as warehouses, Site};
use crate::with_tx;

/// A parsed, valid new location.
#[derive(Debug, Clone)]
pub struct NewLocation {
    /// Its warehouse: the only one when not named.
    pub warehouse: Option<WarehouseCode>,
    pub code: LocationCode,
    pub name: LocationName,
    pub kind: LocationKind,
}

impl NewLocation {
    pub fn parse(input: &NewLocationInput) -> Result<Self, AppError> {
        Ok(Self {
            warehouse: WarehouseCode::parse_optional(
                "warehouse_code",
                input.warehouse_code.as_deref(),
            )?,
            code: LocationCode::parse("code", &input.code)?,
            name: LocationName::parse("name", input.name.as_deref().unwrap_or(""))?,
            kind: LocationKind::parse("kind", &input.kind)?,
        })
    }
}

/// A location's columns, its warehouse's code among them (`locations l JOIN warehouses w`).
const LOCATION_COLUMNS: &str =
    "l.id, w.code AS warehouse_code, l.code, l.name, l.kind, l.created_at";
/// Where [`LOCATION_COLUMNS`] are read from.
const LOCATIONS: &str = "locations l JOIN warehouses w ON w.id = l.warehouse_id";

/// Creates a location; a code that exists already is `CONFLICT`.
pub async fn create_location(db: &Db, location: &NewLocation) -> Result<Location, AppError> {
    db.write(location, |tx, location| {
        Box::pin(create_location_in(tx, location))
    })
    .await
}

/// Creates one inside the caller's transaction, with its folded search text.
pub async fn create_location_in(tx: &mut Tx, location: &NewLocation) -> Result<Location, AppError> {
    let site = warehouses::one(tx, location.warehouse.as_ref(), "warehouse_code").await?;
    create_location_at(tx, &site, location).await
}

/// Creates one in warehouse `site`, found already (the demo loader creates thousands).
pub async fn create_location_at(
    tx: &mut Tx,
    site: &Site,
    location: &NewLocation,
) -> Result<Location, AppError> {
    let result = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, Location>(
        "INSERT INTO locations (warehouse_id, code, name, kind, search_text) \
         VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, $6 AS warehouse_code, code, name, kind, created_at"
    )
    .bind(site.id)
    .bind(location.code.as_str())
    .bind(location.name.as_str())
    .bind(location.kind.as_str())
    .bind(location_search_text(
        location.code.as_str(),
        location.name.as_str(),
    ))
    .bind(site.code.as_str())
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
/// one kind and in one warehouse (`?warehouse=`), by code; the count and the rows from one read
/// transaction, so they agree.
pub async fn list_locations(
    db: &Db,
    q: Option<&str>,
    kind: Option<LocationKind>,
    warehouse: Option<&WarehouseCode>,
    paging: Paging,
) -> Result<Page<Location>, AppError> {
    let q = parse_search(q)?;
    let pattern = q.as_deref().map(like_pattern);
    let kind = kind.map(LocationKind::as_str);
    let filter = "($1 IS NULL OR l.search_text LIKE $1 ESCAPE '\\') \
                  AND ($2 IS NULL OR l.kind = $2) AND ($3 IS NULL OR l.warehouse_id = $3)";
    let count_sql = format!("SELECT COUNT(*) FROM locations l WHERE {filter}");
    let rows_sql = format!(
        "SELECT {LOCATION_COLUMNS} FROM {LOCATIONS} WHERE {filter} \
         ORDER BY l.code, w.code LIMIT $4 OFFSET $5"
    );
    let mut tx = db.begin_read().await?;
    let site = warehouses::filter(&mut tx, warehouse, "warehouse").await?;
    let site = site.map(|site| site.id);
    let (total, items) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(pattern.as_deref())
            .bind(kind)
            .bind(site)
            .fetch_one(&mut *conn)
            .await?;
        let items = sqlx::query_as::<_, Location>(&rows_sql)
            .bind(pattern.as_deref())
            .bind(kind)
            .bind(site)
            .bind(paging.limit)
            .bind(paging.offset)
            .fetch_all(&mut *conn)
            .await?;
        (total, items)
    });
    tx.commit().await?;
    Ok(Page::new(total, paging.offset, paging.limit, items))
}
