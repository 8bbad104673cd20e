//! Item operations on the database.

use crate::db::{Db, Tx};
use crate::domain::{parse_search, ItemName, ItemSpec, Page, Paging, Sku, Unit};
use crate::error::AppError;
use crate::items::{Item, NewItemInput};
use crate::search::{item_search_text, like_pattern};
use crate::{with_pool, with_tx};

/// A parsed, valid new item.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub sku: Sku,
    pub name: ItemName,
    pub spec: ItemSpec,
    pub unit: Unit,
}

impl NewItem {
    pub fn parse(input: &NewItemInput) -> Result<Self, AppError> {
        Ok(Self {
            sku: Sku::parse("sku", &input.sku)?,
            name: ItemName::parse("name", &input.name)?,
            spec: ItemSpec::parse("spec", input.spec.as_deref().unwrap_or(""))?,
            unit: Unit::parse("unit", input.unit.as_deref().unwrap_or("pcs"))?,
        })
    }
}

const ITEM_COLUMNS: &str = "id, sku, name, spec, unit, created_at";

/// Creates an item; a sku that exists already is `CONFLICT`.
pub async fn create_item(db: &Db, item: &NewItem) -> Result<Item, AppError> {
    db.write(item, |tx, item| Box::pin(create_item_in(tx, item)))
        .await
}

/// Creates one inside the caller's transaction (the demo loader batches thousands), with its
/// folded search text.
pub async fn create_item_in(tx: &mut Tx, item: &NewItem) -> Result<Item, AppError> {
    let sql = format!(
        "INSERT INTO items (sku, name, spec, unit, search_text) VALUES ($1, $2, $3, $4, $5) \
         RETURNING {ITEM_COLUMNS}"
    );
    let result = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, Item>(&sql)
        .bind(item.sku.as_str())
        .bind(item.name.as_str())
        .bind(item.spec.as_str())
        .bind(item.unit.as_str())
        .bind(item_search_text(item.sku.as_str(), item.name.as_str()))
        .fetch_one(&mut *conn)
        .await);
    result.map_err(|error| match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            AppError::conflict(tr!(errors.item.sku_exists, sku = &item.sku))
                .with_details(serde_json::json!({"field": "sku"}))
        }
        _ => error.into(),
    })
}

/// Creates many items in one statement inside the caller's transaction (the demo loader); a sku
/// that exists already is `CONFLICT`.
pub async fn create_items_in(tx: &mut Tx, items: &[NewItem]) -> Result<(), AppError> {
    if items.is_empty() {
        return Ok(());
    }
    let result = with_tx!(tx, |conn, _backend| {
        let mut query =
            sqlx::QueryBuilder::new("INSERT INTO items (sku, name, spec, unit, search_text) ");
        query.push_values(items, |mut row, item| {
            row.push_bind(item.sku.as_str())
                .push_bind(item.name.as_str())
                .push_bind(item.spec.as_str())
                .push_bind(item.unit.as_str())
                .push_bind(item_search_text(item.sku.as_str(), item.name.as_str()));
        });
        query.build().execute(&mut *conn).await.map(drop)
    });
    result.map_err(|error| match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            AppError::conflict(tr!(errors.item.some_sku_exists))
        }
        _ => error.into(),
    })
}

pub async fn get_item(db: &Db, id: i64) -> Result<Item, AppError> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = $1");
    with_pool!(db, |pool, _backend| sqlx::query_as::<_, Item>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .ok_or_else(|| AppError::not_found(tr!(errors.item.not_found_id, id = id)))
}

/// Items whose sku or name contains `q` (case-insensitive, `search::fold`), by sku; the count
/// and the rows from one read transaction, so they agree.
pub async fn list_items(db: &Db, q: Option<&str>, paging: Paging) -> Result<Page<Item>, AppError> {
    let q = parse_search(q)?;
    let pattern = q.as_deref().map(like_pattern);
    let filter = "($1 IS NULL OR search_text LIKE $1 ESCAPE '\\')";
    let count_sql = format!("SELECT COUNT(*) FROM items WHERE {filter}");
    let rows_sql =
        format!("SELECT {ITEM_COLUMNS} FROM items WHERE {filter} ORDER BY sku LIMIT $2 OFFSET $3");
    let mut tx = db.begin_read().await?;
    let (total, items) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(pattern.as_deref())
            .fetch_one(&mut *conn)
            .await?;
        let items = sqlx::query_as::<_, Item>(&rows_sql)
            .bind(pattern.as_deref())
            .bind(paging.limit)
            .bind(paging.offset)
            .fetch_all(&mut *conn)
            .await?;
        (total, items)
    });
    tx.commit().await?;
    Ok(Page {
        total,
        offset: paging.offset,
        limit: paging.limit,
        items,
    })
}
