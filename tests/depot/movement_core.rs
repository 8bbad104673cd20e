//! The movement pipeline's promises that no single kind owns: history that never changes,
//! replays answered before any check of today, and one line-identity rule for every kind.

use chrono::Duration;
use depot::config::{Clock, Config};
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, into_json, test_config, TestApp};
use crate::on_both_backends;

on_both_backends!(
    the_ledger_keeps_the_lot_it_moved_when_its_code_is_refilled,
    a_receipt_retried_after_its_lot_expired_is_idempotent,
    a_fefo_putaway_resent_with_its_batch_named_is_a_conflict,
    a_fefo_outbound_resent_with_its_batch_named_is_a_conflict,
    a_named_take_resent_without_its_batch_is_a_conflict,
    every_bad_field_of_a_request_is_refused_at_once,
);

/// SKU-1 with a receiving dock R-1 and two shelves A-01, B-01.
async fn warehouse(app: &TestApp) -> i64 {
    let item = app.item("SKU-1", "Green tea 绿茶").await;
    app.location("R-1", "receiving").await;
    app.location("A-01", "storage").await;
    app.location("B-01", "storage").await;
    item
}

fn day(offset: i64) -> String {
    (test_config().today() + Duration::days(offset)).to_string()
}

async fn ok(app: &TestApp, path: &str, body: Value) -> Value {
    let (status, answer) = app.post(path, &body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    answer
}

async fn the_ledger_keeps_the_lot_it_moved_when_its_code_is_refilled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    ok(&app, "/inbound/receive", json!({"ref": "PO-1", "lines": [
        {"sku": "SKU-1", "location_code": "A-01", "qty": 5, "batch_code": "L1", "expiry_date": day(30), "production_date": day(-10)}
    ]}))
    .await;
    let order =
        json!({"ref": "SO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 5}]});
    let shipped = ok(&app, "/outbound/commit", order.clone()).await;
    let first_lot = json!([{"batch_code": "L1", "expiry_date": day(30), "qty": 5}]);
    assert_eq!(shipped["lines"][0]["batches"], first_lot);

    // The emptied batch's code comes back as another lot with other dates.
    ok(&app, "/inbound/receive", json!({"ref": "PO-2", "lines": [
        {"sku": "SKU-1", "location_code": "A-01", "qty": 3, "batch_code": "L1", "expiry_date": day(90)}
    ]}))
    .await;

    let (_, ledger) = app.get("/ledger?ref=SO-1").await;
    assert_eq!(
        ledger["rows"][0]["batches"],
        json!([{"batch_code": "L1", "expiry_date": day(30), "qty": -5}]),
        "the ledger says what it said when written"
    );
    let (_, receipt) = app.get("/ledger?ref=PO-1").await;
    assert_eq!(
        receipt["rows"][0]["batches"],
        json!([{"batch_code": "L1", "expiry_date": day(30), "qty": 5}])
    );
    let replay = ok(&app, "/outbound/commit", order).await;
    assert_eq!(replay["status"], "IDEMPOTENT");
    assert_eq!(
        replay["lines"][0]["batches"], first_lot,
        "a replay answers from what was recorded"
    );
    app.assert_consistent().await;
}

async fn a_receipt_retried_after_its_lot_expired_is_idempotent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let item = warehouse(&app).await;
    let receipt = json!({"ref": "PO-LATE", "lines": [
        {"sku": "SKU-1", "location_code": "R-1", "qty": 4, "batch_code": "TODAY", "expiry_date": day(0)}
    ]});
    let first = ok(&app, "/inbound/receive", receipt.clone()).await;

    // After midnight the lot has expired; the client retries the receipt it never saw answered.
    let tomorrow = Config {
        clock: Clock::Fixed(test_config().clock.now() + Duration::days(1)),
        ..test_config()
    };
    let later = app.serve_again(tomorrow).await;
    let before = app.footprint().await;
    let response = app
        .client
        .post(format!("{later}/inbound/receive"))
        .json(&receipt)
        .send()
        .await
        .unwrap();
    let (status, again) = into_json(response).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "IDEMPOTENT");
    assert_eq!(
        again["lines"][0]["after_qty"],
        first["lines"][0]["after_qty"]
    );
    assert_eq!(again["lines"][0]["batches"], first["lines"][0]["batches"]);
    assert_eq!(app.footprint().await, before, "nothing received again");

    // A new line with that lot is refused: it is expired now.
    let mut fresh = receipt.clone();
    fresh["ref"] = json!("PO-NEW");
    let response = app
        .client
        .post(format!("{later}/inbound/receive"))
        .json(&fresh)
        .send()
        .await
        .unwrap();
    let (status, error) = into_json(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "lines[0].expiry_date");
    assert_eq!(app.stock_qty(item, 1).await, 4);
    app.assert_consistent().await;
}

/// Two lots at R-1: L-SOON (expires first) and L-LATE.
async fn two_lots(app: &TestApp) {
    ok(app, "/inbound/receive", json!({"ref": "PO-LOTS", "lines": [
        {"sku": "SKU-1", "location_code": "R-1", "qty": 5, "batch_code": "L-SOON", "expiry_date": day(10)},
        {"sku": "SKU-1", "location_code": "R-1", "qty": 5, "batch_code": "L-LATE", "expiry_date": day(100)}
    ]}))
    .await;
}

async fn a_fefo_putaway_resent_with_its_batch_named_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    two_lots(&app).await;
    let fefo = json!({"ref": "TR-1", "lines": [
        {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 3}
    ]});
    let moved = ok(&app, "/putaway", fefo.clone()).await;
    assert_eq!(moved["lines"][0]["batches"][0]["batch_code"], "L-SOON");

    let before = app.footprint().await;
    let mut named = fefo.clone();
    named["lines"][0]["batch_code"] = json!("L-SOON");
    let (status, error) = app.post("/putaway", &named).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_error(&error, "IDEMPOTENCY_CONFLICT");
    assert_eq!(
        app.footprint().await,
        before,
        "the goods did not move again"
    );
    assert_eq!(ok(&app, "/putaway", fefo).await["status"], "IDEMPOTENT");
    app.assert_consistent().await;
}

async fn a_fefo_outbound_resent_with_its_batch_named_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    two_lots(&app).await;
    let fefo =
        json!({"ref": "SO-1", "lines": [{"sku": "SKU-1", "location_code": "R-1", "qty": 3}]});
    ok(&app, "/outbound/commit", fefo.clone()).await;

    let before = app.footprint().await;
    let mut named = fefo.clone();
    named["lines"][0]["batch_code"] = json!("L-SOON");
    let (status, error) = app.post("/outbound/commit", &named).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_error(&error, "IDEMPOTENCY_CONFLICT");
    assert_eq!(app.footprint().await, before, "nothing shipped twice");
    app.assert_consistent().await;
}

async fn a_named_take_resent_without_its_batch_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    two_lots(&app).await;
    for (path, line) in [
        (
            "/putaway",
            json!({"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "B-01", "qty": 2, "batch_code": "L-LATE"}),
        ),
        (
            "/outbound/commit",
            json!({"sku": "SKU-1", "location_code": "R-1", "qty": 2, "batch_code": "L-LATE"}),
        ),
    ] {
        let named = json!({"ref": "BOTH-1", "lines": [line]});
        ok(&app, path, named.clone()).await;
        let before = app.footprint().await;
        let mut fefo = named.clone();
        fefo["lines"][0]
            .as_object_mut()
            .unwrap()
            .remove("batch_code");
        let (status, error) = app.post(path, &fefo).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {error}");
        assert_error(&error, "IDEMPOTENCY_CONFLICT");
        assert_eq!(app.footprint().await, before, "{path}: nothing moved again");
    }
    app.assert_consistent().await;
}

/// The fields a refusal lists in `details.errors`, in order.
fn listed(body: &Value) -> Vec<String> {
    body["error"]["details"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no details.errors: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

async fn every_bad_field_of_a_request_is_refused_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    let before = app.footprint().await;

    // What the request says on its own: every bad field of every line, in order.
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": " ", "lines": [
                {"sku": "SKU-1", "location_code": "A-01", "qty": 0, "batch_code": "L1"},
                {"location_code": "", "qty": 5, "batch_code": "L1"},
                {"sku": "SKU-1", "location_code": "A-01", "qty": 1, "batch_code": "L2",
                 "expiry_date": day(5), "production_date": day(9)},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "VALIDATION_FAILED");
    assert_eq!(
        listed(&body),
        [
            "ref",
            "lines[0].qty",
            "lines[1].sku",
            "lines[1].location_code",
            "lines[2].production_date"
        ]
    );
    // The first is also the refusal's `field`, as for a single bad field.
    assert_eq!(body["error"]["details"]["field"], "ref");
    assert!(
        body["error"]["message"].as_str().unwrap().starts_with("5 "),
        "{body}"
    );

    // Names of nothing: unknown items and locations of every line together.
    let (status, body) = app
        .post("/putaway", &json!({"ref": "MV-1", "lines": [
            {"sku": "NOPE-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 1},
            {"sku": "SKU-1", "from_location_code": "NOWHERE", "to_location_code": "ALSO-NOT", "qty": 1},
            {"sku": "NOPE-2", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 1},
        ]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "UNKNOWN_ITEM");
    assert_eq!(
        listed(&body),
        [
            "lines[0].sku",
            "lines[2].sku",
            "lines[1].from_location_code",
            "lines[1].to_location_code"
        ]
    );

    // Checks against what the lines name: each bad line, the repeated one included.
    let (status, body) = app
        .post("/putaway", &json!({"ref": "MV-2", "lines": [
            {"sku": "SKU-1", "from_location_code": "A-01", "to_location_code": "A-01", "qty": 1},
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "B-01", "qty": 1},
            {"sku": "SKU-1", "from_location_code": "B-01", "to_location_code": "B-01", "qty": 1},
            {"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "B-01", "qty": 2},
        ]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        listed(&body),
        [
            "lines[0].to_location_code",
            "lines[2].to_location_code",
            "lines[3]"
        ]
    );

    // Today's checks of new lines.
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-9", "lines": [
            {"sku": "SKU-1", "location_code": "A-01", "qty": 1, "batch_code": "L1", "expiry_date": day(-1)},
            {"sku": "SKU-1", "location_code": "A-01", "qty": 1, "batch_code": "L2", "production_date": day(1)},
        ]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        listed(&body),
        ["lines[0].expiry_date", "lines[1].production_date"]
    );

    // Outbound too, and nothing of any of it was written.
    let (status, body) = app
        .post(
            "/outbound/commit",
            &json!({"ref": "SO-9", "lines": [
                {"sku": "SKU-1", "location_code": "A-01", "qty": -1},
                {"sku": "SKU-1", "qty": 1},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(listed(&body), ["lines[0].qty", "lines[1].location_code"]);
    assert_eq!(app.footprint().await, before);
}
