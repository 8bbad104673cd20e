//! Warehouse operations on the database.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::db::{Db, Tx};
use crate::domain::{WarehouseCode, WarehouseName};
use crate::error::AppError;
use crate::warehouses::{NewWarehouseInput, Warehouse};
use crate::with_tx;

/// A parsed, valid new warehouse.
#[derive(Debug, Clone)]
pub struct NewWarehouse {
    pub code: WarehouseCode,
    pub name: WarehouseName,
    pub timezone: Tz,
}

impl NewWarehouse {
    /// `default_timezone`: Depot's, for a warehouse that names none.
    pub fn parse(input: &NewWarehouseInput, default_timezone: Tz) -> Result<Self, AppError> {
        let timezone = match input.timezone.as_deref().map(str::trim) {
            None | Some("") => default_timezone,
            Some(name) => name.parse::<Tz>().map_err(|_| {
                AppError::validation("timezone", tr!(errors.warehouse.timezone, name = name))
            })?,
        };
        Ok(Self {
            code: WarehouseCode::parse("code", &input.code)?,
            name: WarehouseName::parse("name", &input.name)?,
            timezone,
        })
    }
}

/// A warehouse row; `timezone` NULL follows Depot's.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    code: String,
    name: String,
    timezone: Option<String>,
    created_at: DateTime<Utc>,
}

impl Row {
    fn warehouse(self, default_timezone: Tz) -> Warehouse {
        Warehouse {
            id: self.id,
            code: self.code,
            name: self.name,
            timezone: self
                .timezone
                .unwrap_or_else(|| default_timezone.name().to_string()),
            created_at: self.created_at,
        }
    }
}

const COLUMNS: &str = "id, code, name, timezone, created_at";

/// Creates a warehouse; a code that exists already is `CONFLICT`.
pub async fn create_warehouse(
    db: &Db,
    warehouse: &NewWarehouse,
    default_timezone: Tz,
) -> Result<Warehouse, AppError> {
    let sql = format!(
        "INSERT INTO warehouses (code, name, timezone) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
    );
    let row = db
        .write(&(warehouse, sql), |tx, (warehouse, sql)| {
            Box::pin(async move {
                let row = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, Row>(sql)
                    .bind(warehouse.code.as_str())
                    .bind(warehouse.name.as_str())
                    .bind(warehouse.timezone.name())
                    .fetch_one(&mut *conn)
                    .await);
                row.map_err(|error| match &error {
                    sqlx::Error::Database(e) if e.is_unique_violation() => AppError::conflict(tr!(
                        errors.warehouse.code_exists,
                        code = &warehouse.code
                    ))
                    .with_details(serde_json::json!({"field": "code"})),
                    _ => error.into(),
                })
            })
        })
        .await?;
    Ok(row.warehouse(default_timezone))
}

/// Every warehouse, by code.
pub async fn list_warehouses(db: &Db, default_timezone: Tz) -> Result<Vec<Warehouse>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM warehouses ORDER BY code");
    let mut tx = db.begin_read().await?;
    let rows = with_tx!(&mut tx, |conn, _backend| sqlx::query_as::<_, Row>(&sql)
        .fetch_all(&mut *conn)
        .await?);
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|row| row.warehouse(default_timezone))
        .collect())
}

/// A warehouse a request names (or the only one), found.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Site {
    pub id: i64,
    pub code: String,
}

/// The warehouse a request acts in: the one `code` names (unknown: 422 on `field`) or, when it
/// names none, the only one there is — with several, naming one is required (422 on `field`).
pub async fn one(tx: &mut Tx, code: Option<&WarehouseCode>, field: &str) -> Result<Site, AppError> {
    let rows: Vec<(i64, String, i64)> = with_tx!(tx, |conn, _backend| sqlx::query_as(
        "SELECT id, code, (SELECT COUNT(*) FROM warehouses) FROM warehouses \
         WHERE $1 IS NULL OR code = $1 ORDER BY id LIMIT 2"
    )
    .bind(code.map(WarehouseCode::as_str))
    .fetch_all(&mut *conn)
    .await?);
    match (code, rows.as_slice()) {
        (_, [(id, code, _)]) => {
            crate::scope::check(*id, code)?;
            Ok(Site {
                id: *id,
                code: code.clone(),
            })
        }
        // Limited to one warehouse: that one, however many there are.
        (None, _) if crate::scope::limited().is_some_and(|l| l.len() == 1) => {
            let (id, code) = crate::scope::limited()
                .and_then(|l| l.into_iter().next())
                .unwrap_or_default();
            Ok(Site { id, code })
        }
        (Some(code), _) => Err(not_found(field, code.as_str())),
        (None, rows) => Err(AppError::validation(
            field,
            tr!(
                errors.warehouse.required,
                count = rows.first().map_or(0, |r| r.2)
            ),
        )),
    }
}

/// The warehouse a list is filtered by (`?warehouse=`): none for all of them; an unknown one is
/// 422 on `field`, another than the asker's 403. Someone limited to one warehouse sees only
/// its rows without asking.
pub async fn filter(
    tx: &mut Tx,
    code: Option<&WarehouseCode>,
    field: &str,
) -> Result<Option<Site>, AppError> {
    match code {
        None => match crate::scope::limited() {
            Some(allowed) if allowed.len() == 1 => Ok(allowed
                .into_iter()
                .next()
                .map(|(id, code)| Site { id, code })),
            _ => Ok(None),
        },
        Some(_) => one(tx, code, field).await.map(Some),
    }
}

/// The location `code` of warehouse `site` that Depot keeps for itself (a transfer's `transit`,
/// a return's `quarantine`), made the first time with `name`; `taken` answers when a location
/// of another kind holds the code already.
pub async fn own_location(
    tx: &mut Tx,
    site: &Site,
    code: &str,
    name: &str,
    kind: &str,
    taken: impl FnOnce() -> AppError,
) -> Result<i64, AppError> {
    let (id, found): (i64, String) = with_tx!(tx, |conn, _backend| {
        sqlx::query(
            "INSERT INTO locations (warehouse_id, code, name, kind, search_text) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (warehouse_id, code) DO NOTHING",
        )
        .bind(site.id)
        .bind(code)
        .bind(name)
        .bind(kind)
        .bind(crate::search::location_search_text(code, name))
        .execute(&mut *conn)
        .await?;
        sqlx::query_as("SELECT id, kind FROM locations WHERE warehouse_id = $1 AND code = $2")
            .bind(site.id)
            .bind(code)
            .fetch_one(&mut *conn)
            .await?
    });
    if found != kind {
        return Err(taken());
    }
    Ok(id)
}

/// [`one`], for a warehouse the request does not act in but only names (a transfer's
/// destination): not limited to the asker's.
pub async fn named(tx: &mut Tx, code: &WarehouseCode, field: &str) -> Result<Site, AppError> {
    crate::scope::within(Vec::new(), one(tx, Some(code), field)).await
}

/// "no warehouse with code 'X'", on `field`.
pub fn not_found(field: &str, code: &str) -> AppError {
    AppError::validation(field, tr!(errors.warehouse.not_found, code = code))
}
