//! The labels' content, read from the database and drawn as barcodes.

use chrono::NaiveDate;

use crate::db::Db;
use crate::domain::{LocationKind, Paging};
use crate::error::AppError;
use crate::labels::barcode::{
    code128_svg, gs1_128_svg, gs1_element_string, gs1_human_readable, qr_svg,
};
use crate::labels::{Label, Sheet, Symbol, Symbology, MAX_LABELS};
use crate::locations::Location;
use crate::scan::ScannedItem;
use crate::with_pool;

/// Labels of the locations with `code` (one per warehouse that has it), else of the locations matching `q` and `kind` (as the
/// `/locations` page finds them), by code; at most [`MAX_LABELS`].
pub async fn location_labels(
    db: &Db,
    code: Option<&str>,
    q: Option<&str>,
    kind: Option<LocationKind>,
) -> Result<Sheet, AppError> {
    if let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) {
        let locations = with_pool!(db, |pool, _backend| sqlx::query_as::<_, Location>(
            "SELECT l.id, w.code AS warehouse_code, l.code, l.name, l.kind, l.created_at \
             FROM locations l JOIN warehouses w ON w.id = l.warehouse_id \
             WHERE l.code = $1 ORDER BY w.code"
        )
        .bind(code)
        .fetch_all(pool)
        .await)?;
        if locations.is_empty() {
            return Err(AppError::not_found(tr!(
                errors.location.not_found_code,
                code = code
            )));
        }
        return Ok(Sheet {
            labels: locations.iter().map(location_label).collect(),
            total: locations.len() as i64,
        });
    }
    let paging = Paging {
        offset: 0,
        limit: MAX_LABELS,
    };
    let page = crate::locations::service::list_locations(db, q, kind, None, paging).await?;
    Ok(Sheet {
        labels: page.items.iter().map(location_label).collect(),
        total: page.total,
    })
}

/// Labels of the batches of the item with `sku` in stock anywhere (each batch once), first
/// expiry first; with `batch`, of that batch only — printed even before it is in stock (a
/// label for goods about to be received), then without an expiry.
pub async fn batch_labels(db: &Db, sku: &str, batch: Option<&str>) -> Result<Sheet, AppError> {
    let sku = sku.trim();
    if sku.is_empty() {
        return Err(AppError::validation("sku", tr!(errors.value.required)));
    }
    let batch = batch.map(str::trim).filter(|b| !b.is_empty());
    // The item by its sku, else by the GTIN on its cartons (as a scan finds it).
    let item = crate::scan::service::item_by_code(db, sku).await?;
    let item =
        item.ok_or_else(|| AppError::not_found(tr!(errors.item.not_found_sku, sku = sku)))?;
    let rows: Vec<(String, Option<NaiveDate>)> = with_pool!(db, |pool, _backend| {
        sqlx::query_as(
            "SELECT batch_code, expiry_date FROM batches
             WHERE item_id = $1 AND qty > 0 AND ($2 IS NULL OR batch_code = $2)
             GROUP BY batch_code, expiry_date
             ORDER BY expiry_date IS NULL, expiry_date, batch_code
             LIMIT $3",
        )
        .bind(item.id)
        .bind(batch)
        .bind(MAX_LABELS)
        .fetch_all(pool)
        .await
    })?;
    let rows = match (rows.is_empty(), batch) {
        (true, Some(batch)) => vec![(batch.to_string(), None)],
        _ => rows,
    };
    let labels: Vec<Label> = rows
        .into_iter()
        .map(|(code, expiry)| batch_label(&item, Some(code).filter(|c| !c.is_empty()), expiry))
        .collect();
    Ok(Sheet {
        total: labels.len() as i64,
        labels,
    })
}

/// A location's label: its code as Code 128 and as a QR code (either left out when the code
/// cannot be one, e.g. Code 128 of Chinese characters).
pub fn location_label(location: &Location) -> Label {
    let code = &location.code;
    Label {
        title: code.clone(),
        name: location.name.clone(),
        batch: None,
        expiry: None,
        bars: code128_svg(code).ok().map(|svg| Symbol {
            symbology: Symbology::Code128,
            svg,
            text: code.clone(),
        }),
        qr: qr_svg(code).ok().map(|svg| Symbol {
            symbology: Symbology::Qr,
            svg,
            text: code.clone(),
        }),
    }
}

/// A batch's label. With the item's GTIN, one GS1-128 carries GTIN, expiry and batch (a batch
/// code outside GS1's character set leaves it out); without one, a Code 128 of the sku.
pub fn batch_label(item: &ScannedItem, batch: Option<String>, expiry: Option<NaiveDate>) -> Label {
    let gs1 = item.barcode.as_deref().and_then(|barcode| {
        let gtin = crate::scan::gs1::gtin14(barcode).ok()?;
        let with_batch = gs1_128_svg(&gs1_element_string(&gtin, expiry, batch.as_deref()))
            .ok()
            .map(|svg| (svg, batch.as_deref()));
        let (svg, batch) = with_batch.or_else(|| {
            gs1_128_svg(&gs1_element_string(&gtin, expiry, None))
                .ok()
                .map(|svg| (svg, None))
        })?;
        Some(Symbol {
            symbology: Symbology::Gs1_128,
            svg,
            text: gs1_human_readable(&gtin, expiry, batch),
        })
    });
    let bars = gs1.or_else(|| {
        code128_svg(&item.sku).ok().map(|svg| Symbol {
            symbology: Symbology::Code128,
            svg,
            text: item.sku.clone(),
        })
    });
    Label {
        title: item.sku.clone(),
        name: item.name.clone(),
        batch,
        expiry,
        bars,
        qr: None,
    }
}
