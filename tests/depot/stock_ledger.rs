//! `GET /stock/query` and `GET /ledger`: filters, paging, order, refusals.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, TestApp};
use crate::inbound::warehouse;
use crate::on_both_backends;

on_both_backends!(
    stock_query_filters_by_item_and_location,
    the_ledger_filters_and_pages_newest_first,
    bad_query_parameters_are_422,
    stock_query_qty_equals_its_batches_while_outbounds_commit,
    item_list_total_counts_its_rows_while_items_are_created,
);

async fn receive(app: &TestApp, r: &str, sku: &str, code: &str, qty: i64) {
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": r, "lines": [{"sku": sku, "location_code": code, "qty": qty}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn stock_query_filters_by_item_and_location(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    app.item("SKU-2", "Green tea 绿茶").await;
    receive(&app, "PO-1", "SKU-1", "R-1", 5).await;
    receive(&app, "PO-2", "SKU-2", "R-1", 7).await;
    receive(&app, "PO-3", "SKU-2", "A-01", 1).await;

    let (_, all) = app.get("/stock/query").await;
    assert_eq!(all["total"], 3);
    let (_, by_sku) = app.get("/stock/query?sku=SKU-2").await;
    assert_eq!(by_sku["rows"].as_array().unwrap().len(), 2);
    let (_, by_code) = app.get("/stock/query?location_code=A-01").await;
    assert_eq!(by_code["rows"][0]["sku"], "SKU-2");
    assert_eq!(by_code["rows"][0]["qty"], 1);
    let (_, by_name) = app.get("/stock/query?q=%E7%BB%BF%E8%8C%B6").await; // 绿茶
    assert_eq!(by_name["total"], 2);
    let (_, none) = app.get("/stock/query?sku=SKU-1&location_code=A-01").await;
    assert_eq!(none["rows"], json!([]));
    let row = &app.get("/stock/query?sku=SKU-1").await.1["rows"][0];
    assert_eq!(row["available"], 5);
    assert_eq!(
        row["batches"],
        json!([{"batch_code": "", "expiry_date": null, "qty": 5}])
    );
}

async fn the_ledger_filters_and_pages_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    for n in 1..=5 {
        receive(&app, &format!("PO-{n}"), "SKU-1", "R-1", n).await;
    }
    let (status, page) = app.get("/ledger?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 5);
    assert_eq!(page["rows"][0]["ref"], "PO-5", "newest first");
    assert_eq!(page["rows"][0]["after_qty"], 15);
    assert_eq!(page["rows"][0]["sku"], "SKU-1");
    assert_eq!(page["rows"][0]["location_code"], "R-1");
    assert_eq!(page["rows"][0]["reason"], "RECEIVE");
    assert_eq!(
        page["rows"][0]["batches"],
        json!([{"batch_code": "", "expiry_date": null, "qty": 5}])
    );
    // SPEC §7: who made it (the test app's admin token).
    assert!(
        page["rows"][0]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("token:T-")),
        "{page}"
    );
    let (_, next) = app.get("/ledger?limit=2&offset=2").await;
    assert_eq!(next["rows"][0]["ref"], "PO-3");
    let (_, by_ref) = app.get("/ledger?ref=PO-2").await;
    assert_eq!(by_ref["total"], 1);
    let (_, by_reason) = app.get("/ledger?reason=outbound").await;
    assert_eq!(by_reason["total"], 0);
    let (_, by_location) = app.get("/ledger?location_code=A-01").await;
    assert_eq!(by_location["total"], 0);
    let (_, by_sku) = app.get("/ledger?sku=SKU-1&location_code=R-1").await;
    assert_eq!(by_sku["total"], 5);
}

async fn bad_query_parameters_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/ledger?reason=STEAL",
        "/ledger?limit=0",
        "/ledger?item_id=abc",
        "/ledger?offset=-1",
        "/stock/query?limit=500",
        "/stock/query?location_id=1.5",
        "/stock/query?sku=".to_string().leak(),
    ] {
        let (status, error) = app.get(path).await;
        if path.ends_with("sku=") {
            assert_eq!(status, StatusCode::OK, "a blank filter is no filter");
            continue;
        }
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {error}");
        assert_error(&error, "VALIDATION_FAILED");
    }
}

/// The stock query reads its rows and their batches in two statements: in one read
/// transaction, a row's qty is the sum of its batches, and the total counts the rows, whatever
/// commits in between.
async fn stock_query_qty_equals_its_batches_while_outbounds_commit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("A-01", "storage").await;
    app.location("A-02", "storage").await;
    app.item("HOT", "Hot item").await;
    let mut lines = Vec::new();
    for code in ["A-01", "A-02"] {
        for (batch, expiry) in [
            ("L1", "2099-01-01"),
            ("L2", "2099-06-01"),
            ("L3", "2099-12-01"),
        ] {
            lines.push(json!({"sku": "HOT", "location_code": code, "qty": 100000,
                              "batch_code": batch, "expiry_date": expiry}));
        }
    }
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": lines}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let (client, url, stop) = (
                app.client.clone(),
                app.url("/outbound/commit"),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // Both locations in one order: two stocks and their batches change together.
                    let body = json!({"ref": format!("SO-{writer}-{n}"), "lines": [
                        {"sku": "HOT", "location_code": "A-01", "qty": 1},
                        {"sku": "HOT", "location_code": "A-02", "qty": 1},
                    ]});
                    let response = client.post(&url).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
                n
            })
        })
        .collect();

    for _ in 0..300 {
        let (status, page) = app.get("/stock/query?sku=HOT").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let rows = page["rows"].as_array().unwrap();
        assert_eq!(page["total"], rows.len(), "{page}");
        for row in rows {
            let batches: i64 = row["batches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["qty"].as_i64().unwrap())
                .sum();
            assert_eq!(row["qty"].as_i64().unwrap(), batches, "{row}");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut orders = 0;
    for writer in writers {
        orders += writer.await.unwrap();
    }
    assert!(orders > 0, "outbounds ran alongside the queries");
    app.assert_consistent().await;
}

/// The item list counts and reads its page in two statements: in one read transaction the
/// total is the number of rows of a page that holds them all, while items are being created.
async fn item_list_total_counts_its_rows_while_items_are_created(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (client, url, stop) = (app.client.clone(), app.url("/items"), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 190 {
                n += 1;
                let body = json!({"sku": format!("NEW-{n:03}"), "name": "Neu"});
                let response = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
            }
        })
    };
    for _ in 0..300 {
        let (status, page): (StatusCode, Value) = app.get("/items?limit=200").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            page["total"],
            page["items"].as_array().unwrap().len(),
            "{page}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
}
