//! `POST /putaway` (SPEC §4): all-or-nothing, two ledger entries per line, batches travel with
//! the goods (FEFO at the source), idempotent per (ref, item, from, to, batch).

use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, TestApp};
use crate::inbound::warehouse;
use crate::on_both_backends;

on_both_backends!(
    putaway_moves_goods_with_their_batches_first_expiry_first,
    a_short_line_refuses_the_whole_putaway,
    a_replayed_putaway_is_idempotent,
    a_named_batch_moves_only_that_batch,
    refused_putaways_write_nothing,
    a_later_line_may_move_what_an_earlier_line_put_there,
    opposite_putaways_in_parallel_do_not_deadlock,
);

/// Receives two lots into R-1: L-SOON (4, expires 2099-01-01) and L-LATE (6, 2099-06-01), plus
/// L-NONE (2, no expiry).
async fn stocked(app: &TestApp) -> (i64, i64, i64) {
    let ids = warehouse(app).await;
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": [
            {"sku": "SKU-1", "location_code": "R-1", "qty": 6, "batch_code": "L-LATE", "expiry_date": "2099-06-01"},
            {"sku": "SKU-1", "location_code": "R-1", "qty": 2, "batch_code": "L-NONE"},
            {"sku": "SKU-1", "location_code": "R-1", "qty": 4, "batch_code": "L-SOON", "expiry_date": "2099-01-01"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ids
}

async fn put_away(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.post("/putaway", &body).await
}

async fn putaway_moves_goods_with_their_batches_first_expiry_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, dock, shelf) = stocked(&app).await;
    let (status, body) = put_away(
        &app,
        json!({"ref": "TR-1", "lines": [
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 11}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let line = &body["lines"][0];
    assert_eq!(line["status"], "OK");
    assert_eq!(line["from_after_qty"], 1);
    assert_eq!(line["to_after_qty"], 11);
    assert_eq!(
        line["batches"],
        json!([{"batch_code": "L-SOON", "expiry_date": "2099-01-01", "qty": 4},
               {"batch_code": "L-LATE", "expiry_date": "2099-06-01", "qty": 6},
               {"batch_code": "L-NONE", "expiry_date": null, "qty": 1}]),
        "earliest expiry first, no expiry last"
    );
    assert_eq!(app.stock_qty(item, dock).await, 1);
    assert_eq!(app.stock_qty(item, shelf).await, 11);

    let (_, shelf_stock) = app.get("/stock/query?location_code=A-01").await;
    assert_eq!(
        shelf_stock["rows"][0]["batches"].as_array().unwrap().len(),
        3,
        "lots kept at the destination"
    );
    let (_, ledger) = app.get("/ledger?reason=PUTAWAY").await;
    assert_eq!(ledger["total"], 2, "two entries per line");
    let deltas: Vec<i64> = ledger["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["delta"].as_i64().unwrap())
        .collect();
    assert_eq!(
        deltas,
        vec![11, -11],
        "newest first: +11 at A-01 after -11 at R-1"
    );
    app.assert_consistent().await;
}

async fn a_short_line_refuses_the_whole_putaway(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, dock, _) = stocked(&app).await;
    app.item("SKU-2", "Second").await;
    let before = app.footprint().await;
    let (status, error) = put_away(
        &app,
        json!({"ref": "TR-2", "lines": [
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 5},
            {"sku": "SKU-2", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 1},
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "R-1X", "qty": 1}
        ]}),
    )
    .await;
    // The third line names an unknown location: that is checked before stock.
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(app.footprint().await, before);

    let (status, error) = put_away(
        &app,
        json!({"ref": "TR-2", "lines": [
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 5},
            {"sku": "SKU-2", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 1},
            {"sku": "SKU-1", "from_location_code": "A-01", "to_location_code": "R-1", "qty": 99}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_error(&error, "INSUFFICIENT_STOCK");
    let shortages = &error["error"]["details"]["shortages"];
    assert_eq!(shortages.as_array().unwrap().len(), 2, "{shortages}");
    assert_eq!(shortages[0]["ref_line"], 2);
    assert_eq!(shortages[0]["available"], 0);
    assert_eq!(shortages[1]["ref_line"], 3);
    assert_eq!(shortages[1]["required"], 99);
    assert_eq!(
        shortages[1]["available"], 5,
        "line 1 moved 5 there before line 3 ran"
    );
    assert_eq!(app.footprint().await, before, "nothing moved on any line");
    assert_eq!(app.stock_qty(item, dock).await, 12);
    app.assert_consistent().await;
}

async fn a_replayed_putaway_is_idempotent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, dock, shelf) = stocked(&app).await;
    let body = |qty| json!({"ref": "TR-3", "lines": [{"item_id": item, "from_location_id": dock, "to_location_id": shelf, "qty": qty}]});
    let (_, first) = put_away(&app, body(3)).await;
    let (status, again) = put_away(&app, body(3)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["status"], "IDEMPOTENT");
    assert_eq!(
        again["lines"][0]["from_after_qty"],
        first["lines"][0]["from_after_qty"]
    );
    assert_eq!(again["lines"][0]["batches"], first["lines"][0]["batches"]);
    assert_eq!(app.stock_qty(item, shelf).await, 3);

    let before = app.footprint().await;
    let (status, error) = put_away(&app, body(4)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&error, "IDEMPOTENCY_CONFLICT");
    assert_eq!(app.footprint().await, before);
    app.assert_consistent().await;
}

async fn a_named_batch_moves_only_that_batch(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, _, shelf) = stocked(&app).await;
    let (status, body) = put_away(&app, json!({"ref": "TR-4", "lines": [
        {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 5, "batch_code": "L-LATE"}
    ]}))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["lines"][0]["batches"],
        json!([{"batch_code": "L-LATE", "expiry_date": "2099-06-01", "qty": 5}])
    );
    let (status, error) = put_away(&app, json!({"ref": "TR-5", "lines": [
        {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 2, "batch_code": "L-LATE"}
    ]}))
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "only 1 left in L-LATE: {error}"
    );
    assert_eq!(error["error"]["details"]["shortages"][0]["available"], 1);
    assert_eq!(app.stock_qty(item, shelf).await, 5);
    app.assert_consistent().await;
}

async fn refused_putaways_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let ok =
        json!({"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 1});
    let with = |field: &str, value: Value| {
        let mut line = ok.clone();
        line[field] = value;
        json!({"ref": "TR-BAD", "lines": [line]})
    };
    let cases = vec![
        (
            with("to_location_code", json!("R-1")),
            "lines[0].to_location_code",
        ),
        (
            with("from_location_code", json!("NOWHERE")),
            "lines[0].from_location_code",
        ),
        (with("qty", json!(0)), "lines[0].qty"),
        (with("qty", json!(2.5)), "lines[0].qty"),
        (with("sku", json!("GHOST")), "lines[0].sku"),
        (
            with("batch_code", json!("B".repeat(65))),
            "lines[0].batch_code",
        ),
        (json!({"ref": "TR-BAD", "lines": [ok, ok]}), "lines[1]"),
        (json!({"ref": "TR-BAD", "lines": []}), "lines"),
    ];
    let before = app.footprint().await;
    for (body, field) in cases {
        let (status, error) = put_away(&app, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["details"]["field"], field, "{body}");
    }
    assert_eq!(app.footprint().await, before);
}

async fn a_later_line_may_move_what_an_earlier_line_put_there(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, dock, shelf) = stocked(&app).await;
    let far = app.location("B-01", "storage").await;
    let (status, body) = put_away(
        &app,
        json!({"ref": "TR-CHAIN", "lines": [
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 6},
            {"sku": "SKU-1", "from_location_code": "A-01", "to_location_code": "B-01", "qty": 5}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][1]["from_after_qty"], 1);
    assert_eq!(
        body["lines"][1]["batches"][0]["batch_code"], "L-SOON",
        "the lots that arrived move on FEFO"
    );
    assert_eq!(
        (
            app.stock_qty(item, dock).await,
            app.stock_qty(item, shelf).await,
            app.stock_qty(item, far).await
        ),
        (6, 1, 5)
    );
    let (_, again) = put_away(
        &app,
        json!({"ref": "TR-CHAIN", "lines": [
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 6},
            {"sku": "SKU-1", "from_location_code": "A-01", "to_location_code": "B-01", "qty": 5}
        ]}),
    )
    .await;
    assert_eq!(again["status"], "IDEMPOTENT");
    let mut expected = body["lines"].clone();
    for line in expected.as_array_mut().unwrap() {
        line["status"] = json!("IDEMPOTENT");
    }
    assert_eq!(again["lines"], expected, "the original results");
    app.assert_consistent().await;
}

async fn opposite_putaways_in_parallel_do_not_deadlock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, dock, shelf) = stocked(&app).await;
    put_away(
        &app,
        json!({"ref": "TR-SPLIT", "lines": [
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 6}
        ]}),
    )
    .await;
    let mut tasks = Vec::new();
    for n in 0..24 {
        let (client, url) = (app.client.clone(), app.url("/putaway"));
        let (from, to) = if n % 2 == 0 {
            ("R-1", "A-01")
        } else {
            ("A-01", "R-1")
        };
        tasks.push(tokio::spawn(async move {
            let body = json!({"ref": format!("TR-P{n}"), "lines": [
                {"sku": "SKU-1", "from_location_code": from, "to_location_code": to, "qty": 1, "batch_code": "L-NONE"},
                {"sku": "SKU-1", "from_location_code": to, "to_location_code": from, "qty": 1, "batch_code": "L-LATE"}
            ]});
            let response = client.post(url).json(&body).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "{status}: {body}"
        );
        if status == StatusCode::CONFLICT {
            assert!(body.contains("INSUFFICIENT_STOCK"), "{body}");
        }
    }
    assert_eq!(
        app.stock_qty(item, dock).await + app.stock_qty(item, shelf).await,
        12,
        "nothing lost or made"
    );
    app.assert_consistent().await;
}
