//! The migrations and the rules the database itself enforces.

use depot::db::Backend;
use depot::with_pool;

use crate::common::TestDb;
use crate::on_both_backends;

on_both_backends!(
    migrations_apply_to_a_fresh_database_and_rerun_as_a_no_op,
    the_database_refuses_negative_stock_and_zero_deltas,
    the_ledger_is_append_only,
    migration_0004_folds_older_rows_and_shards_the_in_stock_count,
);

async fn migrations_apply_to_a_fresh_database_and_rerun_as_a_no_op(backend: Backend) {
    let test_db = TestDb::empty(backend).await;
    depot::search::migrate(&test_db.db)
        .await
        .expect("first run applies");
    depot::search::migrate(&test_db.db)
        .await
        .expect("second run is a no-op");
    let files = std::fs::read_dir(match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    })
    .unwrap()
    .count() as i64;
    with_pool!(&test_db.db, |pool, _backend| {
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(applied, files, "each migration recorded once");
        for table in [
            "items",
            "locations",
            "stocks",
            "batches",
            "stock_ledger",
            "ledger_batches",
            "movement_anchors",
            "outbound_commits",
        ] {
            let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(pool)
                .await
                .unwrap_or_else(|e| panic!("table {table}: {e}"));
            assert_eq!(rows, 0, "{table} starts empty");
        }
    });
}

/// Inserts one item, one location and a stock of `qty` with its ledger entry and batch;
/// returns (item_id, location_id, stock_id, ledger_id).
pub async fn plant_stock(db: &depot::db::Db, sku: &str, qty: i64) -> (i64, i64, i64, i64) {
    plant_stock_in(db, sku, qty, Schema::Current).await
}

/// Which schema [`plant_stock_in`] writes to.
#[derive(Clone, Copy, PartialEq)]
enum Schema {
    Current,
    /// Before migration 0004: no `search_text`, one `inventory_summary` row (id 1).
    Before0004,
}

use depot::search::index;

async fn plant_stock_in(
    db: &depot::db::Db,
    sku: &str,
    qty: i64,
    schema: Schema,
) -> (i64, i64, i64, i64) {
    let code = format!("L-{sku}");
    let (item_sql, location_sql, summary_sql) = match schema {
        Schema::Current => (
            "INSERT INTO items (sku, name, search_text) VALUES ($1, 'Planted', $2) RETURNING id",
            "INSERT INTO locations (warehouse_id, code, kind, search_text) \
             VALUES ((SELECT id FROM warehouses WHERE code = 'MAIN'), $1, 'storage', $2) RETURNING id",
            "UPDATE inventory_summary SET items_in_stock = items_in_stock + 1 WHERE id = $2 AND $1 > 0",
        ),
        Schema::Before0004 => (
            "INSERT INTO items (sku, name) VALUES ($1, 'Planted') RETURNING id",
            "INSERT INTO locations (code, kind) VALUES ($1, 'storage') RETURNING id",
            "UPDATE inventory_summary SET items_in_stock = items_in_stock + 1 WHERE id = 1 AND $1 > 0",
        ),
    };
    let planted = with_pool!(db, |pool, _backend| {
        let mut insert_item = sqlx::query_scalar(item_sql).bind(sku);
        let mut insert_location = sqlx::query_scalar(location_sql).bind(&code);
        if schema == Schema::Current {
            insert_item = insert_item.bind(depot::search::item_search_text(sku, "Planted"));
            insert_location = insert_location.bind(depot::search::location_search_text(&code, ""));
        }
        let item: i64 = insert_item.fetch_one(pool).await.unwrap();
        let location: i64 = insert_location.fetch_one(pool).await.unwrap();
        let stock: i64 = sqlx::query_scalar(
            "INSERT INTO stocks (item_id, location_id, qty) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(item)
        .bind(location)
        .bind(qty)
        .fetch_one(pool)
        .await
        .unwrap();
        let batch: i64 = sqlx::query_scalar(
            "INSERT INTO batches (stock_id, item_id, location_id, batch_code, qty) \
             VALUES ($1, $2, $3, 'B1', $4) RETURNING id",
        )
        .bind(stock)
        .bind(item)
        .bind(location)
        .bind(qty)
        .fetch_one(pool)
        .await
        .unwrap();
        let ledger: i64 = sqlx::query_scalar(
            "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, reason, ref, ref_line) \
             VALUES ($1, $2, $3, $4, $4, 'RECEIVE', 'PLANT', 1) RETURNING id",
        )
        .bind(stock)
        .bind(item)
        .bind(location)
        .bind(qty)
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO ledger_batches (ledger_id, batch_id, delta, batch_code) SELECT $1, $2, $3, batch_code FROM batches WHERE id = $2")
            .bind(ledger)
            .bind(batch)
            .bind(qty)
            .execute(pool)
            .await
            .unwrap();
        // The snapshot's derived tables, as a movement would keep them.
        sqlx::query("INSERT INTO item_totals (item_id, total_qty) VALUES ($1, $2)")
            .bind(item)
            .bind(qty)
            .execute(pool)
            .await
            .unwrap();
        let mut summary = sqlx::query(summary_sql).bind(qty);
        if schema == Schema::Current {
            summary = summary.bind(item % depot::movement::projections::IN_STOCK_SHARDS);
        }
        summary.execute(pool).await.unwrap();
        (item, location, stock, ledger)
    });
    if schema == Schema::Current {
        // The search index, as creating the item and receiving it would keep it.
        let text = depot::search::item_search_text(sku, "Planted");
        let mut tx = db.begin_write().await.unwrap();
        index::reindex(
            &mut tx,
            &[index::Change {
                id: planted.0,
                old: None,
                new: &text,
            }],
        )
        .await
        .unwrap();
        if qty > 0 {
            index::toggle_in_stock(&mut tx, &[(planted.0, 1)].into_iter().collect())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        set_rank_count(db, planted.0, 0, qty).await;
    }
    planted
}

/// Sets an item's total, and moves it between the counts of items by total (migration 0012),
/// as a movement would: for tests that plant stock by hand and keep the derived tables right.
pub async fn set_item_total(db: &depot::db::Db, item: i64, total: i64) {
    let before: i64 = with_pool!(db, |pool, _backend| {
        let before = sqlx::query_scalar("SELECT total_qty FROM item_totals WHERE item_id = $1")
            .bind(item)
            .fetch_one(pool)
            .await
            .unwrap();
        sqlx::query("UPDATE item_totals SET total_qty = $2 WHERE item_id = $1")
            .bind(item)
            .bind(total)
            .execute(pool)
            .await
            .unwrap();
        before
    });
    set_rank_count(db, item, before, total).await;
}

/// Moves `item` from the count of items with total `from` to that of `to` (0: none).
async fn set_rank_count(db: &depot::db::Db, item: i64, from: i64, to: i64) {
    let shard = item % depot::movement::projections::RANK_SHARDS;
    with_pool!(db, |pool, _backend| {
        for (total, change) in [(from, -1), (to, 1)] {
            if total > 0 {
                sqlx::query(
                    "INSERT INTO item_total_counts (total_qty, shard, items) VALUES ($1, $2, $3) \
                     ON CONFLICT (total_qty, shard) DO UPDATE SET items = item_total_counts.items + excluded.items",
                )
                .bind(total)
                .bind(shard)
                .bind(change)
                .execute(pool)
                .await
                .unwrap();
            }
        }
        sqlx::query("DELETE FROM item_total_counts WHERE items = 0")
            .execute(pool)
            .await
            .unwrap();
    });
}

async fn the_database_refuses_negative_stock_and_zero_deltas(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (item, location, stock, _) = plant_stock(&test_db.db, "S1", 5).await;
    with_pool!(&test_db.db, |pool, _backend| {
        let negative = sqlx::query("UPDATE stocks SET qty = -1 WHERE id = $1")
            .bind(stock)
            .execute(pool)
            .await;
        assert!(negative.is_err(), "negative stock refused");

        let zero = sqlx::query(
            "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, reason, ref, ref_line) \
             VALUES ($1, $2, $3, 0, 5, 'ADJUST', 'Z', 1)",
        )
        .bind(stock)
        .bind(item)
        .bind(location)
        .execute(pool)
        .await;
        assert!(zero.is_err(), "zero delta refused");

        let duplicate =
            sqlx::query("INSERT INTO stocks (item_id, location_id, qty) VALUES ($1, $2, 1)")
                .bind(item)
                .bind(location)
                .execute(pool)
                .await;
        assert!(duplicate.is_err(), "one stock row per (item, location)");

        let bad_kind = sqlx::query(
            "INSERT INTO locations (warehouse_id, code, kind) VALUES (1, 'X', 'attic')",
        )
        .execute(pool)
        .await;
        assert!(bad_kind.is_err(), "location kind checked");

        let orphan =
            sqlx::query("INSERT INTO stocks (item_id, location_id, qty) VALUES (9999, $1, 1)")
                .bind(location)
                .execute(pool)
                .await;
        assert!(orphan.is_err(), "foreign keys enforced");

        let qty: i64 = sqlx::query_scalar("SELECT qty FROM stocks WHERE id = $1")
            .bind(stock)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(qty, 5, "refused statements changed nothing");
    });
}

async fn the_ledger_is_append_only(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (_, _, _, ledger) = plant_stock(&test_db.db, "S1", 5).await;
    with_pool!(&test_db.db, |pool, _backend| {
        let update = sqlx::query("UPDATE stock_ledger SET after_qty = 6 WHERE id = $1")
            .bind(ledger)
            .execute(pool)
            .await;
        assert!(update.is_err(), "ledger rows cannot be rewritten");
        let delete = sqlx::query("DELETE FROM stock_ledger WHERE id = $1")
            .bind(ledger)
            .execute(pool)
            .await;
        assert!(delete.is_err(), "ledger rows cannot be deleted");
    });
}

/// A database at migration 0003 with stock, brought up to date: search texts are folded by
/// the step after the migrations, the single in-stock count becomes its shards, and every
/// invariant `depot check` knows holds.
async fn migration_0004_folds_older_rows_and_shards_the_in_stock_count(backend: Backend) {
    let test_db = TestDb::empty(backend).await;
    let dir = match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
        .await
        .unwrap();
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 4)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    with_pool!(&test_db.db, |pool, _backend| before
        .run(pool)
        .await
        .unwrap());
    let mut items = Vec::new();
    for (n, qty) in [5, 2, 7].into_iter().enumerate() {
        let (item, ..) =
            plant_stock_in(&test_db.db, &format!("ÄPFEL-{n}"), qty, Schema::Before0004).await;
        items.push(item);
    }

    depot::search::migrate(&test_db.db)
        .await
        .expect("0004 and what follows apply");
    assert_eq!(
        depot::check::find_violations(&test_db.db).await.unwrap(),
        vec![]
    );
    with_pool!(&test_db.db, |pool, _backend| {
        let shards: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT CAST(id AS BIGINT), items_in_stock FROM inventory_summary ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(shards.len(), 64, "one row per shard");
        let in_stock: i64 = shards.iter().map(|(_, n)| n).sum();
        assert_eq!(in_stock, 3, "the items with a positive total");
        let search_text: String = sqlx::query_scalar("SELECT search_text FROM items WHERE id = $1")
            .bind(items[0])
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(search_text, "äpfel-0\u{1}planted");
    });
}
