//! `depot demo` loads through the real operations and leaves a consistent warehouse.

use depot::db::Backend;

use crate::common::TestApp;
use crate::on_both_backends;

on_both_backends!(the_demo_warehouse_is_consistent_and_refuses_a_used_database);

async fn the_demo_warehouse_is_consistent_and_refuses_a_used_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let summary = depot::demo::load_demo(app.db(), &crate::common::test_config(), 300)
        .await
        .unwrap();
    assert_eq!(summary.items, 300);
    assert_eq!(summary.locations, 40);
    assert_eq!(summary.stock_rows, 900, "a dock and two shelves per item");
    assert_eq!(app.count("items").await, 300);
    assert_eq!(
        app.count("stock_ledger").await as usize,
        summary.receipt_lines + 2 * summary.putaway_lines
    );
    app.assert_consistent().await;

    // Chinese and English names, some lots near expiry, some without.
    let (_, page) = app.get("/items?q=%E7%9F%BF%E6%B3%89%E6%B0%B4").await; // 矿泉水
    assert!(page["total"].as_i64().unwrap() > 0);
    assert!(page["items"][0]["name"]
        .as_str()
        .unwrap()
        .contains("Mineral water"));
    let (_, stock) = app.get("/stock/query?location_code=A-01&limit=200").await;
    assert!(stock["total"].as_i64().unwrap() > 0);
    // Every demo movement says who made it: the demo command.
    let (_, ledger) = app.get("/ledger?limit=200").await;
    let rows = ledger["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["actor"] == "cli:demo"), "{ledger}");

    let again = depot::demo::load_demo(app.db(), &crate::common::test_config(), 10).await;
    assert!(again.is_err(), "the demo loads only into an empty database");
    assert_eq!(app.count("items").await, 300);
}
