//! Reading orders: one, its pick list, the list.

use super::*;

/// `GET /orders/{ref}`.
pub async fn get_order(db: &Db, r#ref: &str) -> Result<Order, AppError> {
    let mut tx = db.begin_read().await?;
    let id = order_id(&mut tx, r#ref).await?;
    let order = load_order(&mut tx, id).await?;
    tx.commit().await?;
    Ok(order)
}

/// `GET /orders/{ref}/picklist`: what the order holds, in walk order (location code, then
/// FEFO), with what is picked of it.
pub async fn picklist(db: &Db, r#ref: &str) -> Result<PickList, AppError> {
    let mut tx = db.begin_read().await?;
    let id = order_id(&mut tx, r#ref).await?;
    let order = load_order(&mut tx, id).await?;
    let barcodes: HashMap<i64, String> = with_tx!(&mut tx, |conn, _backend| sqlx::query_as::<
        _,
        (i64, String),
    >(
        "SELECT i.id, i.barcode FROM order_lines ol JOIN items i ON i.id = ol.item_id \
         WHERE ol.order_id = $1 AND i.barcode IS NOT NULL"
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
    .into_iter()
    .collect();
    tx.commit().await?;
    let mut rows: Vec<PickRow> = order
        .lines
        .iter()
        .flat_map(|line| {
            let barcodes = &barcodes;
            line.allocations
                .iter()
                .filter(|a| a.qty > 0)
                .map(move |a| PickRow {
                    line: line.line,
                    location_code: a.location_code.clone(),
                    item_id: line.item_id,
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    barcode: barcodes.get(&line.item_id).cloned(),
                    batch_code: a.batch_code.clone(),
                    expiry_date: a.expiry_date,
                    qty: a.qty,
                    picked: a.picked,
                })
        })
        .collect();
    rows.sort_by(|a, b| {
        (
            &a.location_code,
            a.expiry_date.is_none(),
            a.expiry_date,
            &a.sku,
            &a.batch_code,
        )
            .cmp(&(
                &b.location_code,
                b.expiry_date.is_none(),
                b.expiry_date,
                &b.sku,
                &b.batch_code,
            ))
    });
    Ok(PickList {
        r#ref: order.r#ref,
        status: order.status,
        rows,
    })
}

#[derive(sqlx::FromRow)]
pub(super) struct SummaryRow {
    r#ref: String,
    warehouse_code: String,
    status: String,
    created_at: DateTime<Utc>,
    created_by: Option<String>,
    lines: i64,
    qty: i64,
    reserved: i64,
    picked: i64,
    shipped: i64,
}

/// `GET /orders?status=&q=&offset=&limit=`: newest first; `q` is a piece of the ref.
pub async fn list_orders(db: &Db, filter: &OrderFilter) -> Result<OrderList, AppError> {
    let paging = Paging::parse(filter.offset, filter.limit)?;
    let status = match crate::movement::non_blank(&filter.status) {
        None => None,
        Some(name) => Some(
            OrderStatus::from_name(name.trim())
                .ok_or_else(|| AppError::validation("status", tr!(errors.order.status)))?,
        ),
    };
    let q = parse_search(filter.q.as_deref())?;
    let pattern = q.as_deref().map(like_pattern);
    let warehouse = WarehouseCode::parse_optional("warehouse", filter.warehouse.as_deref())?;
    let filter_sql = "FROM orders o JOIN warehouses w ON w.id = o.warehouse_id \
                      WHERE ($1 IS NULL OR o.status = $1) \
                      AND ($2 IS NULL OR o.search_text LIKE $2 ESCAPE '\\') \
                      AND ($3 IS NULL OR o.warehouse_id = $3)";
    let mut tx = db.begin_read().await?;
    let site = crate::warehouses::service::filter(&mut tx, warehouse.as_ref(), "warehouse").await?;
    let site = site.map(|site| site.id);
    let (total, rows) = with_tx!(&mut tx, |conn, _backend| {
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {filter_sql}"))
            .bind(status.map(OrderStatus::as_str))
            .bind(pattern.as_deref())
            .bind(site)
            .fetch_one(&mut *conn)
            .await?;
        let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
            "SELECT o.ref, w.code AS warehouse_code, o.status, o.created_at, o.created_by, \
             (SELECT COUNT(*) FROM order_lines ol WHERE ol.order_id = o.id) AS lines, \
             (SELECT CAST(COALESCE(SUM(ol.qty), 0) AS BIGINT) FROM order_lines ol WHERE ol.order_id = o.id) AS qty, \
             (SELECT CAST(COALESCE(SUM(a.qty), 0) AS BIGINT) FROM allocations a WHERE a.order_id = o.id) AS reserved, \
             (SELECT CAST(COALESCE(SUM(a.picked), 0) AS BIGINT) FROM allocations a WHERE a.order_id = o.id) AS picked, \
             (SELECT CAST(COALESCE(SUM(a.shipped), 0) AS BIGINT) FROM allocations a WHERE a.order_id = o.id) AS shipped \
             {filter_sql} ORDER BY o.id DESC LIMIT $4 OFFSET $5"
        ))
        .bind(status.map(OrderStatus::as_str))
        .bind(pattern.as_deref())
        .bind(site)
        .bind(paging.limit)
        .bind(paging.offset)
        .fetch_all(&mut *conn)
        .await?;
        (total, rows)
    });
    tx.commit().await?;
    let orders = rows
        .into_iter()
        .map(|row| {
            let status = OrderStatus::from_name(&row.status).unwrap_or(OrderStatus::Backordered);
            OrderSummary {
                backordered: if status == OrderStatus::Cancelled {
                    0
                } else {
                    (row.qty - row.reserved - row.shipped).max(0)
                },
                r#ref: row.r#ref,
                warehouse_code: row.warehouse_code,
                status,
                created_at: row.created_at,
                created_by: row.created_by,
                lines: row.lines,
                qty: row.qty,
                reserved: row.reserved,
                picked: row.picked,
                shipped: row.shipped,
            }
        })
        .collect();
    Ok(OrderList {
        total,
        offset: paging.offset,
        limit: paging.limit,
        orders,
    })
}
