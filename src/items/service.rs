//! Item operations on the database.

use crate::db::{Db, Tx};
use crate::domain::{parse_search, ItemName, ItemSpec, Page, Paging, Sku, Unit};
use crate::error::AppError;
use crate::items::{Item, NewItemInput};
use crate::search::{index, item_search_text, like_pattern};
use crate::{with_pool, with_tx};

/// A parsed, valid new item.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub sku: Sku,
    pub name: ItemName,
    pub spec: ItemSpec,
    pub unit: Unit,
    /// Canonical GTIN ([`crate::scan::gs1::canonical_gtin`]).
    pub barcode: Option<String>,
}

impl NewItem {
    pub fn parse(input: &NewItemInput) -> Result<Self, AppError> {
        Ok(Self {
            sku: Sku::parse("sku", &input.sku)?,
            name: ItemName::parse("name", &input.name)?,
            spec: ItemSpec::parse("spec", input.spec.as_deref().unwrap_or(""))?,
            unit: Unit::parse("unit", input.unit.as_deref().unwrap_or("pcs"))?,
            barcode: parse_barcode("barcode", input.barcode.as_deref())?,
        })
    }
}

/// An item's barcode as given (blank: none) in its canonical form; anything but a GTIN with a
/// right check digit is refused.
pub fn parse_barcode(field: &str, text: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    crate::scan::gs1::canonical_gtin(text)
        .map(Some)
        .map_err(|error| {
            let reason = match error {
                crate::scan::gs1::Gs1Error::CheckDigit { .. } => {
                    tr!(errors.item.barcode_check_digit)
                }
                _ => tr!(errors.item.barcode_form),
            };
            AppError::validation(field, reason)
        })
}

const ITEM_COLUMNS: &str = "id, sku, name, spec, unit, barcode, created_at";

/// Creates an item; a sku that exists already is `CONFLICT`.
pub async fn create_item(db: &Db, item: &NewItem) -> Result<Item, AppError> {
    db.write(item, |tx, item| Box::pin(create_item_in(tx, item)))
        .await
}

/// Creates one inside the caller's transaction, with its folded search text, in the search
/// index.
pub async fn create_item_in(tx: &mut Tx, item: &NewItem) -> Result<Item, AppError> {
    let sql = format!(
        "INSERT INTO items (sku, name, spec, unit, search_text, barcode) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ITEM_COLUMNS}"
    );
    let result = with_tx!(tx, |conn, _backend| sqlx::query_as::<_, Item>(&sql)
        .bind(item.sku.as_str())
        .bind(item.name.as_str())
        .bind(item.spec.as_str())
        .bind(item.unit.as_str())
        .bind(item_search_text(item.sku.as_str(), item.name.as_str()))
        .bind(item.barcode.as_deref())
        .fetch_one(&mut *conn)
        .await);
    let created = result.map_err(|error| match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() && is_barcode_violation(e.as_ref()) => {
            AppError::conflict(tr!(
                errors.item.barcode_exists,
                barcode = item.barcode.as_deref().unwrap_or_default()
            ))
            .with_details(serde_json::json!({"field": "barcode"}))
        }
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            AppError::conflict(tr!(errors.item.sku_exists, sku = &item.sku))
                .with_details(serde_json::json!({"field": "sku"}))
        }
        _ => error.into(),
    })?;
    let text = item_search_text(&created.sku, &created.name);
    index::reindex(
        tx,
        &[index::Change {
            id: created.id,
            old: None,
            new: &text,
        }],
    )
    .await?;
    Ok(created)
}

/// Creates many items in one statement inside the caller's transaction (the demo loader), in the
/// search index; a sku that exists already is `CONFLICT`.
pub async fn create_items_in(tx: &mut Tx, items: &[NewItem]) -> Result<(), AppError> {
    if items.is_empty() {
        return Ok(());
    }
    let result = with_tx!(tx, |conn, _backend| {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO items (sku, name, spec, unit, search_text, barcode) ",
        );
        query.push_values(items, |mut row, item| {
            row.push_bind(item.sku.as_str())
                .push_bind(item.name.as_str())
                .push_bind(item.spec.as_str())
                .push_bind(item.unit.as_str())
                .push_bind(item_search_text(item.sku.as_str(), item.name.as_str()))
                .push_bind(item.barcode.as_deref());
        });
        query.push(" RETURNING id, search_text");
        query.build_query_as().fetch_all(&mut *conn).await
    });
    let created: Vec<(i64, String)> = result.map_err(|error| match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            AppError::conflict(tr!(errors.item.some_sku_exists))
        }
        _ => error.into(),
    })?;
    let changes: Vec<index::Change> = created
        .iter()
        .map(|(id, text)| index::Change {
            id: *id,
            old: None,
            new: text,
        })
        .collect();
    index::reindex(tx, &changes).await
}

/// Whether a unique violation is the barcode's (the index is named `items_barcode`; SQLite
/// names the column instead).
fn is_barcode_violation(error: &dyn sqlx::error::DatabaseError) -> bool {
    error.constraint() == Some("items_barcode") || error.message().contains("items.barcode")
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
    // A scanned barcode finds its item too (exactly, in its canonical form).
    let barcode = q
        .as_deref()
        .and_then(|q| crate::scan::gs1::searched_gtin(q, chrono::Utc::now().date_naive()));
    let filter = |barcode: &str| {
        format!("($1 IS NULL OR search_text LIKE $1 ESCAPE '\\' OR barcode = {barcode})")
    };
    let count_sql = format!("SELECT COUNT(*) FROM items WHERE {}", filter("$2"));
    let rows_sql = format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE {} ORDER BY sku LIMIT $2 OFFSET $3",
        filter("$4")
    );
    let mut tx = db.begin_read().await?;
    let (total, items) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(pattern.as_deref())
            .bind(barcode.as_deref())
            .fetch_one(&mut *conn)
            .await?;
        let items = sqlx::query_as::<_, Item>(&rows_sql)
            .bind(pattern.as_deref())
            .bind(paging.limit)
            .bind(paging.offset)
            .bind(barcode.as_deref())
            .fetch_all(&mut *conn)
            .await?;
        (total, items)
    });
    tx.commit().await?;
    Ok(Page::new(total, paging.offset, paging.limit, items))
}
