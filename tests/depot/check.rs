//! `depot check` finds nothing on a consistent database and reports planted inconsistencies.

use std::process::Command;

use depot::check::{find_violations, Violation};
use depot::db::Backend;
use depot::movement::projections::{IN_STOCK_SHARDS, RANK_SHARDS};
use depot::with_pool;

use crate::common::TestDb;
use crate::on_both_backends;
use crate::schema::{plant_stock, set_item_total};

on_both_backends!(
    check_passes_on_a_consistent_database,
    check_reports_a_stock_that_disagrees_with_its_ledger,
    check_reports_a_broken_ledger_chain,
    check_reports_derived_totals_that_disagree_with_the_stocks,
    check_reports_an_in_stock_shard_that_disagrees_even_when_the_sum_agrees,
    check_reports_adjustments_without_their_reason_or_entry,
    check_reports_a_search_index_that_disagrees_with_the_items,
);

fn depot_check(url: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_depot"))
        .arg("check")
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run depot check");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

async fn check_passes_on_a_consistent_database(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    plant_stock(&test_db.db, "S1", 5).await;
    plant_stock(&test_db.db, "S2", 12).await;
    assert_eq!(find_violations(&test_db.db).await.unwrap(), vec![]);
    let (code, out) = depot_check(&test_db.url);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok"), "{out}");
}

async fn check_reports_a_stock_that_disagrees_with_its_ledger(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (_, _, stock, _) = plant_stock(&test_db.db, "S1", 5).await;
    with_pool!(&test_db.db, |pool, _backend| sqlx::query(
        "UPDATE stocks SET qty = 7 WHERE id = $1"
    )
    .bind(stock)
    .execute(pool)
    .await
    .map(drop)
    .unwrap());
    let violations = find_violations(&test_db.db).await.unwrap();
    assert!(violations.contains(&Violation::StockNotLedgerSum {
        stock_id: stock,
        qty: 7,
        ledger_sum: 5
    }));
    assert!(violations.contains(&Violation::StockNotBatchSum {
        stock_id: stock,
        qty: 7,
        batch_sum: 5
    }));
    let (code, out) = depot_check(&test_db.url);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "stock {stock}: qty 7 but its ledger deltas sum to 5"
        )),
        "{out}"
    );
}

async fn check_reports_a_broken_ledger_chain(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (item, location, stock, _) = plant_stock(&test_db.db, "S1", 5).await;
    // A second entry whose after_qty skips a step: 5 + (-2) should be 3, not 4.
    set_item_total(&test_db.db, item, 3).await;
    let ledger: i64 = with_pool!(&test_db.db, |pool, _backend| {
        sqlx::query("UPDATE stocks SET qty = 3 WHERE id = $1")
            .bind(stock)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("UPDATE batches SET qty = 3 WHERE stock_id = $1")
            .bind(stock)
            .execute(pool)
            .await
            .unwrap();
        let batch: i64 = sqlx::query_scalar("SELECT id FROM batches WHERE stock_id = $1")
            .bind(stock)
            .fetch_one(pool)
            .await
            .unwrap();
        let ledger: i64 = sqlx::query_scalar(
            "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, reason, ref, ref_line) \
             VALUES ($1, $2, $3, -2, 4, 'OUTBOUND', 'SO-1', 1) RETURNING id",
        )
        .bind(stock)
        .bind(item)
        .bind(location)
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO ledger_batches (ledger_id, batch_id, delta, batch_code) SELECT $1, $2, -2, batch_code FROM batches WHERE id = $2")
            .bind(ledger)
            .bind(batch)
            .execute(pool)
            .await
            .unwrap();
        ledger
    });
    let violations = find_violations(&test_db.db).await.unwrap();
    assert_eq!(
        violations,
        vec![Violation::BrokenChain {
            ledger_id: ledger,
            stock_id: stock,
            previous_after_qty: 5,
            delta: -2,
            after_qty: 4
        }]
    );
    let (code, out) = depot_check(&test_db.url);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("ledger {ledger}")), "{out}");
}

async fn check_reports_derived_totals_that_disagree_with_the_stocks(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (item, _, _, _) = plant_stock(&test_db.db, "S1", 5).await;
    let (other, _, _, _) = plant_stock(&test_db.db, "S2", 4).await;
    with_pool!(&test_db.db, |pool, _backend| {
        sqlx::query("UPDATE item_totals SET total_qty = 6 WHERE item_id = $1")
            .bind(item)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM item_totals WHERE item_id = $1")
            .bind(other)
            .execute(pool)
            .await
            .unwrap();
    });
    let violations = find_violations(&test_db.db).await.unwrap();
    assert_eq!(
        violations,
        vec![
            Violation::ItemTotalMismatch {
                item_id: item,
                total_qty: 6,
                stock_sum: 5
            },
            Violation::ItemTotalMismatch {
                item_id: other,
                total_qty: 0,
                stock_sum: 4
            },
            Violation::InStockCountMismatch {
                counted: 1,
                items_in_stock: 2
            },
            // The counts by total still count `other` at 4 and `item` at 5, not at 6.
            Violation::RankCountMismatch {
                total_qty: 4,
                shard: other % RANK_SHARDS,
                counted: 0,
                items: 1
            },
            Violation::RankCountMismatch {
                total_qty: 5,
                shard: item % RANK_SHARDS,
                counted: 0,
                items: 1
            },
            Violation::RankCountMismatch {
                total_qty: 6,
                shard: item % RANK_SHARDS,
                counted: 1,
                items: 0
            },
            Violation::InStockShardMismatch {
                shard: other % IN_STOCK_SHARDS,
                counted: 0,
                items_in_stock: 1
            },
        ]
    );
    let (code, out) = depot_check(&test_db.url);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "item {item}: item_totals says 6 but its stocks hold 5"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "item_total_counts says 0 items of shard {} have a total of 6 but 1 do",
            item % RANK_SHARDS
        )),
        "{out}"
    );
}

async fn check_reports_an_in_stock_shard_that_disagrees_even_when_the_sum_agrees(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (item, _, _, _) = plant_stock(&test_db.db, "S1", 5).await;
    let shard = item % IN_STOCK_SHARDS;
    let wrong = (shard + 1) % IN_STOCK_SHARDS;
    with_pool!(&test_db.db, |pool, _backend| {
        sqlx::query(
            "UPDATE inventory_summary SET items_in_stock = items_in_stock - 1 WHERE id = $1",
        )
        .bind(shard)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "UPDATE inventory_summary SET items_in_stock = items_in_stock + 1 WHERE id = $1",
        )
        .bind(wrong)
        .execute(pool)
        .await
        .unwrap();
    });
    assert_eq!(
        find_violations(&test_db.db).await.unwrap(),
        vec![
            Violation::InStockShardMismatch {
                shard,
                counted: 1,
                items_in_stock: 0
            },
            Violation::InStockShardMismatch {
                shard: wrong,
                counted: 0,
                items_in_stock: 1
            },
        ]
    );
    let (code, out) = depot_check(&test_db.url);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("inventory_summary shard {shard}")),
        "{out}"
    );
}

async fn check_reports_adjustments_without_their_reason_or_entry(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (item, location, stock, _) = plant_stock(&test_db.db, "S1", 5).await;
    // A well-chained ADJUST entry (+2) that says no reason, and an anchor of a change that
    // points at no entry.
    set_item_total(&test_db.db, item, 7).await;
    let (ledger, adjustment, count): (i64, i64, i64) = with_pool!(&test_db.db, |pool, _backend| {
        for sql in [
            "UPDATE stocks SET qty = 7 WHERE id = $1",
            "UPDATE batches SET qty = 7 WHERE stock_id = $1",
        ] {
            sqlx::query(sql).bind(stock).execute(pool).await.unwrap();
        }
        let ledger: i64 = sqlx::query_scalar(
            "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, reason, ref, ref_line) \
             VALUES ($1, $2, $3, 2, 7, 'ADJUST', 'ADJ-1', 1) RETURNING id",
        )
        .bind(stock)
        .bind(item)
        .bind(location)
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO ledger_batches (ledger_id, batch_id, delta, batch_code) SELECT $1, id, 2, batch_code FROM batches WHERE stock_id = $2")
            .bind(ledger)
            .bind(stock)
            .execute(pool)
            .await
            .unwrap();
        let adjustment: i64 = sqlx::query_scalar(
            "INSERT INTO movement_anchors (kind, ref, ref_line, line_key, item_id, location_id, content, ledger_ids) \
             VALUES ('ADJUST', 'ADJ-2', 1, $1, $2, $3, '{\"qty\":-1,\"reason_code\":\"LOST\"}', '[]') RETURNING id",
        )
        .bind(format!("{item}@{location}#"))
        .bind(item)
        .bind(location)
        .fetch_one(pool)
        .await
        .unwrap();
        // A posted count whose −2 difference was never adjusted.
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO counts (warehouse_id, status, blind, scope_kind, created_at) \
             VALUES ((SELECT id FROM warehouses), 'POSTED', $1, 'locations', $2) RETURNING id",
        )
        .bind(false)
        .bind(chrono::Utc::now())
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO count_lines (count_id, item_id, location_id, batch_code, expected_qty, counted_qty, recorded_qty, found) \
             VALUES ($1, $2, $3, '', 5, 3, 5, $4)",
        )
        .bind(count)
        .bind(item)
        .bind(location)
        .bind(false)
        .execute(pool)
        .await
        .unwrap();
        (ledger, adjustment, count)
    });
    let violations = find_violations(&test_db.db).await.unwrap();
    assert_eq!(
        violations,
        vec![
            Violation::ReasonCodeMisplaced {
                ledger_id: ledger,
                reason: "ADJUST".into(),
                reason_code: None,
                has_note: false,
            },
            Violation::AdjustmentWithoutEntry {
                adjustment_id: adjustment
            },
            Violation::CountNotItsVariances {
                count_id: count,
                item_id: item,
                location_id: location,
                variances: -2,
                adjusted: 0,
            },
        ]
    );
    let (code, out) = depot_check(&test_db.url);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("adjustment {adjustment}")), "{out}");
}

async fn check_reports_a_search_index_that_disagrees_with_the_items(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let (item, _, _, _) = plant_stock(&test_db.db, "S1", 5).await;
    let (other, _, _, _) = plant_stock(&test_db.db, "S2", 3).await;
    assert_eq!(find_violations(&test_db.db).await.unwrap(), vec![]);
    // The gram "1" loses its item, the gram "9" gains one it does not have, and the other item
    // drops out of the items in stock.
    let (block, word, bit) = (item / 1024, (item % 1024) / 64, item % 64);
    let other_word = (other % 1024) / 64;
    with_pool!(&test_db.db, |pool, _backend| {
        sqlx::query(&format!(
            "UPDATE search_grams SET w{word} = 0 WHERE gram = '1' AND block = $1"
        ))
        .bind(block)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO search_grams (gram, block, w{word}) VALUES ('9', $1, $2)"
        ))
        .bind(block)
        .bind(1_i64 << bit)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(&format!(
            "UPDATE search_in_stock SET w{other_word} = w{other_word} - $2 WHERE block = $1"
        ))
        .bind(other / 1024)
        .bind(1_i64 << (other % 64))
        .execute(pool)
        .await
        .unwrap();
    });
    let violations = find_violations(&test_db.db).await.unwrap();
    let reasons: Vec<String> = violations
        .iter()
        .map(|v| match v {
            Violation::SearchIndexStale { reason } => reason.clone(),
            other => panic!("only the index is wrong: {other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            format!("gram \"1\" block {block}: items [{item}] but the index has []"),
            format!("gram \"9\" block {block}: items [] but the index has [{item}]"),
            format!(
                "in stock, block {}: items [{item}, {other}] but the index has [{item}]",
                other / 1024
            ),
        ]
    );
    let (code, out) = depot_check(&test_db.url);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the item search index disagrees with the items"),
        "{out}"
    );
}
