//! `POST /outbound/commit` (SPEC §4): idempotent, concurrency-proof, FEFO, all-or-nothing.

use std::sync::Arc;

use chrono::Duration;
use depot::config::Config;
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Barrier;

use crate::common::{assert_error, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    outbound_replay_returns_idempotent,
    insufficient_stock_writes_nothing,
    two_identical_requests_at_the_same_moment_apply_once,
    a_hot_item_never_oversells,
    a_partial_order_applies_what_it_can_and_a_retry_completes_it,
    an_atomic_short_order_writes_nothing,
    outbound_atomic_sets_the_default,
    fefo_ships_the_soonest_expiry_first_and_never_an_expired_batch,
    a_changed_line_under_the_same_ref_is_an_idempotency_conflict,
    orders_in_opposite_line_order_do_not_deadlock,
    every_refused_outbound_writes_nothing,
);

/// SKU-1 and SKU-2 at A-01 (storage), `qty` each, received without batch.
async fn shelf(app: &TestApp, qty: i64) -> (i64, i64, i64) {
    let one = app.item("SKU-1", "Mineral water 矿泉水").await;
    let two = app.item("SKU-2", "Green tea 绿茶").await;
    let shelf = app.location("A-01", "storage").await;
    app.location("B-01", "storage").await;
    receive(
        app,
        "PO-SEED",
        &[("SKU-1", "A-01", qty, None), ("SKU-2", "A-01", qty, None)],
    )
    .await;
    (one, two, shelf)
}

/// (sku, location code, qty, optional (batch code, expiry)).
type Line<'a> = (&'a str, &'a str, i64, Option<(&'a str, chrono::NaiveDate)>);

async fn receive(app: &TestApp, r: &str, lines: &[Line<'_>]) {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(sku, code, qty, lot)| match lot {
            Some((batch, expiry)) => json!({"sku": sku, "location_code": code, "qty": qty, "batch_code": batch, "expiry_date": expiry}),
            None => json!({"sku": sku, "location_code": code, "qty": qty}),
        })
        .collect();
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": r, "lines": lines}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn ship(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.post("/outbound/commit", &body).await
}

async fn outbound_replay_returns_idempotent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, _, location) = shelf(&app, 10).await;
    let order =
        json!({"ref": "SO-1001", "lines": [{"item_id": item, "location_id": location, "qty": 3}]});
    let (status, first) = ship(&app, order.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "OK");
    assert_eq!(
        first["lines"][0],
        json!({
            "ref_line": 1, "item_id": item, "location_id": location, "qty": 3, "status": "OK", "after_qty": 7,
            "batches": [{"batch_code": "", "expiry_date": null, "qty": 3}]
        })
    );
    let (status, again) = ship(&app, order).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["status"], "IDEMPOTENT");
    assert_eq!(again["lines"][0]["status"], "IDEMPOTENT");
    assert_eq!(again["lines"][0]["after_qty"], 7, "the original result");
    assert_eq!(app.stock_qty(item, location).await, 7);
    let (_, ledger) = app.get("/ledger?reason=OUTBOUND").await;
    assert_eq!(ledger["total"], 1, "one ledger row");
    assert_eq!(app.count("outbound_commits").await, 1);
    app.assert_consistent().await;
}

async fn insufficient_stock_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, _, location) = shelf(&app, 10).await;
    let before = app.footprint().await;
    let (status, body) = ship(
        &app,
        json!({"ref": "SO-BIG", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 11}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "not atomic: a per-line answer");
    assert_eq!(body["status"], "INSUFFICIENT_STOCK");
    assert_eq!(body["lines"][0]["status"], "INSUFFICIENT_STOCK");
    assert_eq!(body["lines"][0]["available"], 10);
    assert_eq!(
        app.footprint().await,
        before,
        "nothing written, nothing anchored"
    );
    assert_eq!(app.stock_qty(item, location).await, 10);
}

async fn two_identical_requests_at_the_same_moment_apply_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, _, location) = shelf(&app, 100).await;
    for round in 0..20 {
        let barrier = Arc::new(Barrier::new(2));
        let body = json!({"ref": format!("SO-TWIN-{round}"), "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 2}]});
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (client, url, body, barrier) = (
                    app.client.clone(),
                    app.url("/outbound/commit"),
                    body.clone(),
                    barrier.clone(),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    let response = client.post(url).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    response.json::<Value>().await.unwrap()["status"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses, vec!["IDEMPOTENT", "OK"], "round {round}");
    }
    assert_eq!(app.stock_qty(item, location).await, 100 - 20 * 2);
    app.assert_consistent().await;
}

async fn a_hot_item_never_oversells(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, _, location) = shelf(&app, 50).await;
    let barrier = Arc::new(Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|client_no| {
            let (client, url, barrier) = (app.client.clone(), app.url("/outbound/commit"), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let mut ok = 0;
                for order in 0..10 {
                    let body = json!({"ref": format!("HOT-{client_no}-{order}"), "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 1}]});
                    let response = client.post(&url).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    let body: Value = response.json().await.unwrap();
                    match body["status"].as_str().unwrap() {
                        "OK" => ok += 1,
                        "INSUFFICIENT_STOCK" => {}
                        other => panic!("unexpected {other}: {body}"),
                    }
                }
                ok
            })
        })
        .collect();
    let mut shipped = 0;
    for task in tasks {
        shipped += task.await.unwrap();
    }
    assert_eq!(shipped, 50, "exactly the 50 units there were");
    assert_eq!(app.stock_qty(item, location).await, 0);
    let (_, ledger) = app.get("/ledger?reason=OUTBOUND&limit=200").await;
    assert_eq!(ledger["total"], 50);
    let mut after: Vec<i64> = ledger["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["after_qty"].as_i64().unwrap())
        .collect();
    after.reverse();
    assert_eq!(
        after,
        (0..50).rev().collect::<Vec<i64>>(),
        "the chain counts down 49..0"
    );
    app.assert_consistent().await;
}

async fn a_partial_order_applies_what_it_can_and_a_retry_completes_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (one, two, location) = shelf(&app, 5).await;
    let order = json!({"ref": "SO-PART", "lines": [
        {"sku": "SKU-1", "location_code": "A-01", "qty": 4},
        {"sku": "SKU-2", "location_code": "A-01", "qty": 8}
    ]});
    let (status, body) = ship(&app, order.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "INSUFFICIENT_STOCK");
    assert_eq!(body["lines"][0]["status"], "OK");
    assert_eq!(body["lines"][1]["status"], "INSUFFICIENT_STOCK");
    assert_eq!(body["lines"][1]["available"], 5);
    assert_eq!(
        app.count("outbound_commits").await,
        1,
        "the short line is not anchored"
    );
    assert_eq!(app.stock_qty(two, location).await, 5);

    receive(&app, "PO-RESTOCK", &[("SKU-2", "A-01", 10, None)]).await;
    let (_, retry) = ship(&app, order).await;
    assert_eq!(retry["status"], "OK");
    assert_eq!(retry["lines"][0]["status"], "IDEMPOTENT");
    assert_eq!(retry["lines"][1]["status"], "OK");
    assert_eq!(retry["lines"][1]["after_qty"], 7);
    assert_eq!(app.stock_qty(one, location).await, 1, "line 1 applied once");
    assert_eq!(app.stock_qty(two, location).await, 7);
    app.assert_consistent().await;
}

async fn an_atomic_short_order_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (one, two, location) = shelf(&app, 5).await;
    let before = app.footprint().await;
    let (status, error) = ship(
        &app,
        json!({"ref": "SO-ATOM", "atomic": true, "lines": [
            {"item_id": one, "location_id": location, "qty": 4},
            {"item_id": two, "location_id": location, "qty": 8}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&error, "INSUFFICIENT_STOCK");
    assert_eq!(
        error["error"]["details"]["shortages"],
        json!([{"ref_line": 2, "item_id": two, "location_id": location, "required": 8, "available": 5}])
    );
    assert_eq!(app.footprint().await, before);
}

async fn outbound_atomic_sets_the_default(backend: Backend) {
    let config = Config {
        outbound_atomic: true,
        ..crate::common::test_config()
    };
    let app = TestApp::spawn_with(TestDb::new(backend).await, config).await;
    shelf(&app, 5).await;
    let order = |atomic: Option<bool>| {
        let mut body = json!({"ref": "SO-DEF", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 9}]});
        if let Some(atomic) = atomic {
            body["atomic"] = json!(atomic);
        }
        body
    };
    assert_eq!(
        ship(&app, order(None)).await.0,
        StatusCode::CONFLICT,
        "atomic by default"
    );
    let (status, body) = ship(&app, order(Some(false))).await;
    assert_eq!(status, StatusCode::OK, "a request may say otherwise");
    assert_eq!(body["status"], "INSUFFICIENT_STOCK");
}

async fn fefo_ships_the_soonest_expiry_first_and_never_an_expired_batch(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let item = app.item("SKU-F", "FEFO").await;
    let location = app.location("A-01", "storage").await;
    let today = crate::common::test_config().today();
    receive(
        &app,
        "PO-F",
        &[(
            "SKU-F",
            "A-01",
            2,
            Some(("L-OLD", today + Duration::days(1))),
        )],
    )
    .await;
    receive(
        &app,
        "PO-G",
        &[
            (
                "SKU-F",
                "A-01",
                3,
                Some(("L-LATE", today + Duration::days(100))),
            ),
            (
                "SKU-F",
                "A-01",
                4,
                Some(("L-SOON", today + Duration::days(10))),
            ),
            ("SKU-F", "A-01", 5, None),
        ],
    )
    .await;
    // L-OLD expired yesterday: still counted in qty, never shipped.
    depot::with_pool!(app.db(), |pool, _backend| sqlx::query(
        "UPDATE batches SET expiry_date = $1 WHERE batch_code = 'L-OLD'"
    )
    .bind(today - Duration::days(1))
    .execute(pool)
    .await
    .map(drop)
    .unwrap());

    let (_, body) = ship(
        &app,
        json!({"ref": "SO-F1", "lines": [{"sku": "SKU-F", "location_code": "A-01", "qty": 6}]}),
    )
    .await;
    assert_eq!(
        body["lines"][0]["batches"],
        json!([
            {"batch_code": "L-SOON", "expiry_date": (today + Duration::days(10)).to_string(), "qty": 4},
            {"batch_code": "L-LATE", "expiry_date": (today + Duration::days(100)).to_string(), "qty": 2}
        ])
    );
    let (_, body) = ship(
        &app,
        json!({"ref": "SO-F2", "lines": [{"sku": "SKU-F", "location_code": "A-01", "qty": 3}]}),
    )
    .await;
    assert_eq!(
        body["lines"][0]["batches"],
        json!([
            {"batch_code": "L-LATE", "expiry_date": (today + Duration::days(100)).to_string(), "qty": 1},
            {"batch_code": "", "expiry_date": null, "qty": 2}
        ]),
        "no expiry goes last"
    );
    let (_, body) = ship(
        &app,
        json!({"ref": "SO-F3", "lines": [{"sku": "SKU-F", "location_code": "A-01", "qty": 4}]}),
    )
    .await;
    assert_eq!(body["lines"][0]["status"], "INSUFFICIENT_STOCK");
    assert_eq!(
        body["lines"][0]["available"], 3,
        "the expired 2 are not available"
    );
    let (_, body) = ship(&app, json!({"ref": "SO-F4", "lines": [{"sku": "SKU-F", "location_code": "A-01", "qty": 1, "batch_code": "L-OLD"}]})).await;
    assert_eq!(
        body["lines"][0]["status"], "INSUFFICIENT_STOCK",
        "not even when named"
    );
    let (_, body) = ship(&app, json!({"ref": "SO-F5", "lines": [{"sku": "SKU-F", "location_code": "A-01", "qty": 2, "batch_code": ""}]})).await;
    assert_eq!(
        body["lines"][0]["batches"],
        json!([{"batch_code": "", "expiry_date": null, "qty": 2}]),
        "a named batch only"
    );
    assert_eq!(
        app.stock_qty(item, location).await,
        3,
        "1 left in no-batch + 2 expired"
    );
    app.assert_consistent().await;
}

async fn a_changed_line_under_the_same_ref_is_an_idempotency_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shelf(&app, 10).await;
    ship(
        &app,
        json!({"ref": "SO-C", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 2}]}),
    )
    .await;
    let before = app.footprint().await;
    for changed in [
        json!({"ref": "SO-C", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 3}]}),
        json!({"ref": "SO-C", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 2, "batch_code": ""}]}),
        json!({"ref": "SO-C", "lines": [{"sku": "SKU-2", "location_code": "A-01", "qty": 1}, {"sku": "SKU-1", "location_code": "A-01", "qty": 5}]}),
    ] {
        let (status, error) = ship(&app, changed.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{changed}");
        assert_error(&error, "IDEMPOTENCY_CONFLICT");
    }
    assert_eq!(
        app.footprint().await,
        before,
        "nothing written, not even the new SKU-2 line"
    );
}

async fn orders_in_opposite_line_order_do_not_deadlock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (one, two, location) = shelf(&app, 100).await;
    let barrier = Arc::new(Barrier::new(24));
    let tasks: Vec<_> = (0..24)
        .map(|n| {
            let (client, url, barrier) = (
                app.client.clone(),
                app.url("/outbound/commit"),
                barrier.clone(),
            );
            let (first, second) = if n % 2 == 0 {
                ("SKU-1", "SKU-2")
            } else {
                ("SKU-2", "SKU-1")
            };
            tokio::spawn(async move {
                barrier.wait().await;
                let body = json!({"ref": format!("SO-X{n}"), "lines": [
                    {"sku": first, "location_code": "A-01", "qty": 1},
                    {"sku": second, "location_code": "A-01", "qty": 2}
                ]});
                let response = client.post(url).json(&body).send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            })
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#""status":"OK""#), "{body}");
    }
    assert_eq!(
        app.stock_qty(one, location).await + app.stock_qty(two, location).await,
        200 - 24 * 3
    );
    app.assert_consistent().await;
}

async fn every_refused_outbound_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, _, location) = shelf(&app, 10).await;
    let ok = json!({"sku": "SKU-1", "location_code": "A-01", "qty": 1});
    let with = |field: &str, value: Value| {
        let mut line = ok.clone();
        line[field] = value;
        json!({"ref": "SO-BAD", "lines": [line]})
    };
    let many: Vec<Value> = (0..1001).map(|_| ok.clone()).collect();
    let json_cases: Vec<(Value, u16, &str)> = vec![
        (json!({"lines": [ok]}), 422, "ref"),
        (json!({"ref": "SO-BAD"}), 422, "lines"),
        (json!({"ref": "SO-BAD", "lines": []}), 422, "lines"),
        (json!({"ref": "SO-BAD", "lines": {}}), 422, "lines"),
        (
            json!({"ref": "SO-BAD", "lines": [ok], "atomic": "yes"}),
            422,
            "atomic",
        ),
        (json!({"ref": "", "lines": [ok]}), 422, "ref"),
        (json!({"ref": "   ", "lines": [ok]}), 422, "ref"),
        (json!({"ref": "R".repeat(65), "lines": [ok]}), 422, "ref"),
        (json!({"ref": "SO\u{7}BAD", "lines": [ok]}), 422, "ref"),
        (json!({"ref": "SO\nBAD", "lines": [ok]}), 422, "ref"),
        (json!({"ref": null, "lines": [ok]}), 422, "ref"),
        (json!({"ref": ["SO"], "lines": [ok]}), 422, "ref"),
        (json!({"ref": "SO-BAD", "lines": many}), 422, "lines"),
        (json!({"ref": "SO-BAD", "lines": [ok, ok]}), 422, "lines[1]"),
        (
            json!({"ref": "SO-BAD", "lines": [ok, {"item_id": item, "location_id": location, "qty": 1}]}),
            422,
            "lines[1]",
        ),
        (
            json!({"ref": "SO-BAD", "lines": [ok], "priority": 1}),
            422,
            "priority",
        ),
        (with("qty", json!(0)), 422, "lines[0].qty"),
        (with("qty", json!(-1)), 422, "lines[0].qty"),
        (with("qty", json!(0.5)), 422, "lines[0].qty"),
        (with("qty", json!(2.0)), 422, "lines[0].qty"),
        (with("qty", json!("1")), 422, "lines[0].qty"),
        (with("qty", json!(true)), 422, "lines[0].qty"),
        (with("qty", json!(1_000_000_001i64)), 422, "lines[0].qty"),
        (
            with("qty", json!(9_223_372_036_854_775_807i64)),
            422,
            "lines[0].qty",
        ),
        (
            with("qty", json!(18_446_744_073_709_551_615u64)),
            422,
            "lines[0].qty",
        ),
        (with("qty", Value::Null), 422, "lines[0].qty"),
        (with("sku", json!("NOPE")), 422, "lines[0].sku"),
        (
            with("sku", json!("'; DROP TABLE stocks; --")),
            422,
            "lines[0].sku",
        ),
        (with("sku", json!("S".repeat(65))), 422, "lines[0].sku"),
        (
            with("location_code", json!("NOWHERE")),
            422,
            "lines[0].location_code",
        ),
        (
            with("location_code", json!("")),
            422,
            "lines[0].location_code",
        ),
        (with("item_id", json!(item + 1000)), 422, "lines[0].item_id"),
        (with("item_id", json!("one")), 422, "lines[0].item_id"),
        (
            with("location_id", json!(location + 1000)),
            422,
            "lines[0].location_code",
        ),
        (
            with("batch_code", json!("B".repeat(65))),
            422,
            "lines[0].batch_code",
        ),
        (with("batch_code", json!(7)), 422, "lines[0].batch_code"),
        (
            json!({"ref": "SO-BAD", "lines": [{"qty": 1, "location_code": "A-01"}]}),
            422,
            "lines[0].sku",
        ),
        (
            json!({"ref": "SO-BAD", "lines": [{"item_id": item, "sku": "SKU-2", "location_code": "A-01", "qty": 1}]}),
            422,
            "lines[0].sku",
        ),
    ];
    let before = app.footprint().await;
    for (body, status, field) in &json_cases {
        let (got, error) = ship(&app, body.clone()).await;
        assert_eq!(got.as_u16(), *status, "{body}: {error}");
        assert_error(
            &error,
            if *status == 422 && error["error"]["code"] != "VALIDATION_FAILED" {
                error["error"]["code"].as_str().unwrap()
            } else {
                "VALIDATION_FAILED"
            },
        );
        let named = error["error"]["details"]["field"]
            .as_str()
            .unwrap_or_default();
        assert!(
            named.starts_with(field),
            "{body}: field {named}, expected {field}"
        );
        let text = error.to_string().to_lowercase();
        assert!(
            !text.contains("sqlx") && !text.contains("syntax error") && !text.contains("panicked"),
            "no internals: {error}"
        );
    }
    let raw_cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("application/json", b"{".to_vec(), 400),
        (
            "application/json",
            b"{\"ref\": \"SO-BAD\", \"lines\": [".to_vec(),
            400,
        ),
        ("application/json", b"".to_vec(), 400),
        ("application/json", b"null".to_vec(), 422),
        ("application/json", b"[]".to_vec(), 422),
        (
            "application/json",
            "{\"ref\": \"SO-\u{fffd}\", \"lines\": 1}"
                .as_bytes()
                .to_vec(),
            422,
        ),
        ("application/json", vec![0xff, 0xfe, 0x00], 400),
        (
            "text/plain",
            serde_json::to_vec(&json!({"ref": "SO-BAD", "lines": [ok]})).unwrap(),
            400,
        ),
        (
            "application/x-www-form-urlencoded",
            b"ref=SO-BAD".to_vec(),
            400,
        ),
    ];
    for (content_type, body, status) in &raw_cases {
        let (got, error) = app
            .post_raw("/outbound/commit", content_type, body.clone())
            .await;
        assert_eq!(got.as_u16(), *status, "{content_type} {body:?}: {error}");
        assert!(error["error"]["code"].is_string(), "{error}");
    }
    let cases = json_cases.len() + raw_cases.len();
    assert!(cases >= 30, "{cases} cases");
    assert_eq!(
        app.footprint().await,
        before,
        "no refused request wrote anything"
    );
}
