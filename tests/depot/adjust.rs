//! `POST /adjust` (SPEC §9): changes and counts with reason codes, on the movement pipeline —
//! atomic, idempotent per (ref, item, location, batch), never below zero, every entry in the
//! ledger with its reason code and note.

use chrono::Duration;
use depot::config::{Clock, Config};
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, into_json, test_config, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_decrease_takes_expired_batches_first_then_fefo,
    a_count_sets_the_stock_or_its_batch,
    an_increase_joins_its_batch_whatever_its_dates,
    a_replay_is_idempotent_and_a_changed_line_conflicts,
    refused_adjustments_write_nothing,
    only_managers_adjust,
    the_ledger_shows_and_filters_reason_codes,
);

fn day(offset: i64) -> String {
    (test_config().today() + Duration::days(offset)).to_string()
}

/// SKU-1 at A-01 in four lots: EXP (3, expiring in 5 days), SOON (4, 20 days), LATE (5, 60
/// days), NONE (2, no expiry): 14 in all. Returns (item id, A-01's id).
async fn stocked(app: &TestApp) -> (i64, i64) {
    let item = app.item("SKU-1", "Green tea 绿茶").await;
    let shelf = app.location("A-01", "storage").await;
    app.location("B-01", "storage").await;
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": [
            {"sku": "SKU-1", "location_code": "A-01", "qty": 3, "batch_code": "EXP", "expiry_date": day(5)},
            {"sku": "SKU-1", "location_code": "A-01", "qty": 4, "batch_code": "SOON", "expiry_date": day(20)},
            {"sku": "SKU-1", "location_code": "A-01", "qty": 5, "batch_code": "LATE", "expiry_date": day(60)},
            {"sku": "SKU-1", "location_code": "A-01", "qty": 2, "batch_code": "NONE"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (item, shelf)
}

/// A server on the same database ten days on: EXP has expired.
async fn ten_days_later(app: &TestApp) -> String {
    app.serve_again(Config {
        clock: Clock::Fixed(test_config().clock.now() + Duration::days(10)),
        ..test_config()
    })
    .await
}

async fn adjust_at(app: &TestApp, base: &str, body: &Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{base}/adjust"))
        .json(body)
        .send()
        .await
        .unwrap();
    into_json(response).await
}

/// The batches of SKU-1 at A-01: code → qty.
async fn batches(app: &TestApp) -> Vec<(String, i64)> {
    let (status, stock) = app.get("/stock/query?sku=SKU-1&location_code=A-01").await;
    assert_eq!(status, StatusCode::OK, "{stock}");
    stock["rows"][0]["batches"]
        .as_array()
        .map(|batches| {
            batches
                .iter()
                .map(|b| {
                    (
                        b["batch_code"].as_str().unwrap().to_string(),
                        b["qty"].as_i64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn a_decrease_takes_expired_batches_first_then_fefo(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, shelf) = stocked(&app).await;
    let later = ten_days_later(&app).await;
    let (status, body) = adjust_at(&app, &later, &json!({"ref": "ADJ-1", "lines": [
        {"sku": "SKU-1", "location_code": "A-01", "delta": -5, "reason_code": "DAMAGED", "note": "carton crushed"}
    ]}))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "OK");
    let line = &body["lines"][0];
    assert_eq!(line["status"], "OK");
    assert_eq!(line["delta"], -5);
    assert_eq!(line["after_qty"], 9);
    assert_eq!(line["reason_code"], "DAMAGED");
    assert_eq!(
        line["batches"],
        json!([{"batch_code": "EXP", "expiry_date": day(5), "qty": 3},
               {"batch_code": "SOON", "expiry_date": day(20), "qty": 2}]),
        "the expired lot first, then first expiry first out"
    );
    assert_eq!(app.stock_qty(item, shelf).await, 9);

    // Writing off a named expired batch is allowed (shipping it never is).
    let (status, body) = adjust_at(&app, &later, &json!({"ref": "ADJ-2", "lines": [
        {"sku": "SKU-1", "location_code": "A-01", "batch_code": "LATE", "delta": -1, "reason_code": "EXPIRED_DISPOSAL"}
    ]}))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        batches(&app).await,
        vec![("SOON".into(), 2), ("LATE".into(), 4), ("NONE".into(), 2)]
    );
    app.assert_consistent().await;
}

async fn a_count_sets_the_stock_or_its_batch(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, shelf) = stocked(&app).await;
    let (status, body) = app
        .post("/adjust", &json!({"ref": "CNT-1", "lines": [
            {"sku": "SKU-1", "location_code": "A-01", "batch_code": "LATE", "counted_qty": 2, "reason_code": "COUNT_CORRECTION"},
            {"sku": "SKU-1", "location_code": "A-01", "batch_code": "SOON", "counted_qty": 4, "reason_code": "COUNT_CORRECTION"},
            {"sku": "SKU-1", "location_code": "A-01", "batch_code": "NEW", "counted_qty": 6, "reason_code": "FOUND"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines = body["lines"].as_array().unwrap();
    assert_eq!(lines[0]["delta"], -3);
    assert_eq!(lines[0]["counted_qty"], 2);
    assert_eq!(lines[0]["batch_code"], "LATE");
    assert_eq!(lines[1]["delta"], 0, "a count that matches changes nothing");
    assert_eq!(lines[1]["status"], "OK");
    assert_eq!(lines[2]["delta"], 6, "goods found in a batch not on record");
    assert_eq!(app.stock_qty(item, shelf).await, 14 - 3 + 6);
    assert_eq!(
        batches(&app).await,
        vec![
            ("EXP".into(), 3),
            ("SOON".into(), 4),
            ("LATE".into(), 2),
            ("NONE".into(), 2),
            ("NEW".into(), 6)
        ]
    );
    let (_, ledger) = app.get("/ledger?ref=CNT-1").await;
    assert_eq!(ledger["total"], 2, "no entry for the line that matched");

    // The whole stock counted: too much is taken expired-first, then FEFO.
    let (status, body) = app
        .post("/adjust", &json!({"ref": "CNT-2", "lines": [
            {"sku": "SKU-1", "location_code": "A-01", "counted_qty": 10, "reason_code": "COUNT_CORRECTION"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["delta"], -7);
    assert_eq!(body["lines"][0]["after_qty"], 10);
    assert_eq!(app.stock_qty(item, shelf).await, 10);
    // Counted again, right: nothing written, and the answer says what the stock is.
    let (status, body) = app
        .post("/adjust", &json!({"ref": "CNT-3", "lines": [
            {"sku": "SKU-1", "location_code": "A-01", "counted_qty": 10, "reason_code": "COUNT_CORRECTION"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["delta"], 0);
    assert_eq!(body["lines"][0]["after_qty"], 10);
    // A count of an empty place: the goods found go into the no-batch lot.
    let (status, body) = app
        .post(
            "/adjust",
            &json!({"ref": "CNT-4", "lines": [
                {"sku": "SKU-1", "location_code": "B-01", "counted_qty": 3, "reason_code": "FOUND"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["delta"], 3);
    assert_eq!(body["lines"][0]["batches"][0]["batch_code"], "");
    app.assert_consistent().await;
}

async fn an_increase_joins_its_batch_whatever_its_dates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let (status, body) = app
        .post("/adjust", &json!({"ref": "ADJ-1", "lines": [
            {"sku": "SKU-1", "location_code": "A-01", "batch_code": "SOON", "delta": 3, "reason_code": "FOUND"},
            {"sku": "SKU-1", "location_code": "A-01", "delta": 2, "reason_code": "OTHER", "note": "returned by a customer"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["lines"][0]["batches"],
        json!([{"batch_code": "SOON", "expiry_date": day(20), "qty": 3}]),
        "the lot keeps its dates"
    );
    assert_eq!(body["lines"][1]["batches"][0]["batch_code"], "");
    let batches = batches(&app).await;
    assert!(batches.contains(&("SOON".into(), 7)), "{batches:?}");
    assert!(batches.contains(&("".into(), 2)), "{batches:?}");
    app.assert_consistent().await;
}

async fn a_replay_is_idempotent_and_a_changed_line_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let body = json!({"ref": "ADJ-1", "lines": [
        {"sku": "SKU-1", "location_code": "A-01", "batch_code": "LATE", "delta": -2, "reason_code": "LOST"},
        {"sku": "SKU-1", "location_code": "A-01", "batch_code": "SOON", "counted_qty": 4, "reason_code": "COUNT_CORRECTION"}
    ]});
    let (status, first) = app.post("/adjust", &body).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let before = app.footprint().await;
    let (status, again) = app.post("/adjust", &body).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "IDEMPOTENT");
    assert_eq!(again["lines"][0]["delta"], first["lines"][0]["delta"]);
    assert_eq!(
        again["lines"][0]["after_qty"],
        first["lines"][0]["after_qty"]
    );
    assert_eq!(again["lines"][0]["batches"], first["lines"][0]["batches"]);
    assert_eq!(again["lines"][1]["status"], "IDEMPOTENT");
    assert_eq!(app.footprint().await, before, "nothing adjusted twice");

    for changed in [
        json!({"sku": "SKU-1", "location_code": "A-01", "batch_code": "LATE", "delta": -3, "reason_code": "LOST"}),
        json!({"sku": "SKU-1", "location_code": "A-01", "batch_code": "LATE", "delta": -2, "reason_code": "DAMAGED"}),
        json!({"sku": "SKU-1", "location_code": "A-01", "batch_code": "LATE", "counted_qty": 2, "reason_code": "LOST"}),
    ] {
        let (status, refused) = app
            .post("/adjust", &json!({"ref": "ADJ-1", "lines": [changed]}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_error(&refused, "IDEMPOTENCY_CONFLICT");
    }
    assert_eq!(app.footprint().await, before);
    app.assert_consistent().await;
}

async fn refused_adjustments_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let before = app.footprint().await;
    let line = |extra: Value| {
        let mut line = json!({"sku": "SKU-1", "location_code": "A-01", "reason_code": "DAMAGED"});
        line.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        line
    };

    // Below zero: the whole request, naming the short line.
    let (status, body) = app
        .post(
            "/adjust",
            &json!({"ref": "ADJ-1", "lines": [
                line(json!({"batch_code": "SOON", "delta": -1})),
                line(json!({"batch_code": "LATE", "delta": -6}))
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "INSUFFICIENT_STOCK");
    assert_eq!(
        body["error"]["details"]["shortages"][0]["ref_line"], 2,
        "{body}"
    );
    assert_eq!(body["error"]["details"]["shortages"][0]["available"], 5);
    let (status, body) = app
        .post(
            "/adjust",
            &json!({"ref": "ADJ-1", "lines": [line(json!({"delta": -15}))]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "INSUFFICIENT_STOCK");

    // Bad fields: every one named.
    let cases = [
        (
            line(json!({"delta": -1, "counted_qty": 3})),
            "lines[0].delta",
        ),
        (line(json!({})), "lines[0].delta"),
        (line(json!({"delta": 0})), "lines[0].delta"),
        (line(json!({"counted_qty": -1})), "lines[0].counted_qty"),
        (
            json!({"sku": "SKU-1", "location_code": "A-01", "delta": 1, "reason_code": "BROKEN"}),
            "lines[0].reason_code",
        ),
        (
            json!({"sku": "SKU-1", "location_code": "A-01", "delta": 1}),
            "lines[0].reason_code",
        ),
        (
            json!({"sku": "SKU-1", "location_code": "A-01", "delta": 1, "reason_code": "OTHER"}),
            "lines[0].note",
        ),
    ];
    for (bad, field) in cases {
        let (status, body) = app
            .post("/adjust", &json!({"ref": "ADJ-2", "lines": [bad]}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_error(&body, "VALIDATION_FAILED");
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
    }
    // A line on the whole stock shares it with no other line.
    let (status, body) = app
        .post(
            "/adjust",
            &json!({"ref": "ADJ-3", "lines": [
                line(json!({"batch_code": "SOON", "delta": -1})),
                line(json!({"counted_qty": 3}))
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["field"], "lines[1]", "{body}");
    // Unknown names.
    let (status, body) = app
        .post(
            "/adjust",
            &json!({"ref": "ADJ-4", "lines": [
                {"sku": "NOPE", "location_code": "A-01", "delta": 1, "reason_code": "FOUND"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "UNKNOWN_ITEM");
    let (status, body) = app
        .post(
            "/adjust",
            &json!({"ref": "ADJ-4", "lines": [
                {"sku": "SKU-1", "location_code": "Z-99", "delta": 1, "reason_code": "FOUND"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "UNKNOWN_LOCATION");
    assert_eq!(app.footprint().await, before, "nothing written");
    app.assert_consistent().await;
}

async fn only_managers_adjust(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let body = json!({"ref": "ADJ-1", "lines": [
        {"sku": "SKU-1", "location_code": "A-01", "delta": 1, "reason_code": "FOUND"}
    ]});
    for (role, expected) in [
        (depot::auth::Role::Viewer, StatusCode::FORBIDDEN),
        (depot::auth::Role::Clerk, StatusCode::FORBIDDEN),
        (depot::auth::Role::Manager, StatusCode::OK),
    ] {
        let (_, secret) =
            depot::auth::service::create_token(app.db(), &format!("T-{}", role.as_str()), role)
                .await
                .unwrap();
        let response = TestApp::client_with(&secret, reqwest::redirect::Policy::none())
            .post(app.url("/adjust"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, answer) = into_json(response).await;
        assert_eq!(status, expected, "{role:?}: {answer}");
    }
    let (_, ledger) = app.get("/ledger?reason=ADJUST").await;
    assert_eq!(ledger["rows"][0]["actor"], "token:T-manager");
}

async fn the_ledger_shows_and_filters_reason_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let (status, body) = app
        .post("/adjust", &json!({"ref": "ADJ-1", "lines": [
            {"sku": "SKU-1", "location_code": "A-01", "batch_code": "SOON", "delta": -1, "reason_code": "DAMAGED", "note": "dropped 掉落"},
            {"sku": "SKU-1", "location_code": "A-01", "batch_code": "LATE", "delta": 1, "reason_code": "FOUND"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, ledger) = app.get("/ledger?reason_code=damaged").await;
    assert_eq!(status, StatusCode::OK, "{ledger}");
    assert_eq!(ledger["total"], 1);
    let row = &ledger["rows"][0];
    assert_eq!(row["reason"], "ADJUST");
    assert_eq!(row["reason_code"], "DAMAGED");
    assert_eq!(row["note"], "dropped 掉落");
    assert_eq!(row["delta"], -1);
    let (_, receipts) = app.get("/ledger?reason=RECEIVE").await;
    assert!(
        receipts["rows"][0].get("reason_code").is_none(),
        "{receipts}"
    );
    let (status, body) = app.get("/ledger?reason_code=NOPE").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["field"], "reason_code");

    // The page shows the reason and the note in words.
    let html = app
        .client
        .get(app.url("/ledger?reason=ADJUST"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-reason-code="DAMAGED""#), "{html}");
    assert!(html.contains("Damaged"), "{html}");
    assert!(html.contains("dropped 掉落"), "{html}");
}
