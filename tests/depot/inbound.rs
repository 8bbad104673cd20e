//! `POST /inbound/receive` (SPEC §4): idempotent per (ref, item, location, batch), batches
//! created or topped up, expiry rules in the warehouse time zone, bad input refused whole.

use chrono::Duration;
use depot::config::Config;
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    receive_then_replay_is_idempotent,
    the_same_line_with_another_qty_is_an_idempotency_conflict,
    receiving_into_an_existing_batch_tops_it_up,
    expiry_is_judged_by_the_warehouse_date,
    every_refused_receive_writes_nothing,
    a_receive_is_all_or_nothing,
);

pub async fn warehouse(app: &TestApp) -> (i64, i64, i64) {
    let item = app.item("SKU-1", "Mineral water 矿泉水").await;
    let dock = app.location("R-1", "receiving").await;
    let shelf = app.location("A-01", "storage").await;
    (item, dock, shelf)
}

async fn receive(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.post("/inbound/receive", &body).await
}

async fn receive_then_replay_is_idempotent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, dock, _) = warehouse(&app).await;
    let body = json!({"ref": "PO-1", "lines": [
        {"sku": "SKU-1", "location_code": "R-1", "qty": 10, "batch_code": "L1", "expiry_date": "2099-12-31"}
    ]});
    let (status, first) = receive(&app, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "OK");
    assert_eq!(first["lines"][0]["status"], "OK");
    assert_eq!(first["lines"][0]["after_qty"], 10);
    assert_eq!(first["lines"][0]["item_id"], item);
    assert_eq!(first["lines"][0]["location_id"], dock);
    assert_eq!(
        first["lines"][0]["batches"],
        json!([{"batch_code": "L1", "expiry_date": "2099-12-31", "qty": 10}])
    );

    let (status, again) = receive(&app, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["status"], "IDEMPOTENT");
    assert_eq!(again["lines"][0]["status"], "IDEMPOTENT");
    assert_eq!(again["lines"][0]["after_qty"], 10, "the original result");
    assert_eq!(again["lines"][0]["batches"], first["lines"][0]["batches"]);
    assert_eq!(app.stock_qty(item, dock).await, 10, "stock unchanged");
    assert_eq!(app.count("stock_ledger").await, 1, "one ledger row");
    app.assert_consistent().await;
}

async fn the_same_line_with_another_qty_is_an_idempotency_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, dock, _) = warehouse(&app).await;
    let line =
        |qty| json!({"ref": "PO-2", "lines": [{"item_id": item, "location_id": dock, "qty": qty}]});
    assert_eq!(receive(&app, line(5)).await.0, StatusCode::OK);
    let before = app.footprint().await;
    let (status, error) = receive(&app, line(6)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&error, "IDEMPOTENCY_CONFLICT");
    assert_eq!(app.footprint().await, before, "nothing written");

    // A new line next to a conflicting one: the whole request is refused.
    let (status, _) = receive(
        &app,
        json!({"ref": "PO-2", "lines": [
            {"item_id": item, "location_id": dock, "qty": 6},
            {"item_id": item, "location_id": dock, "qty": 1, "batch_code": "NEW"}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.footprint().await, before);
    app.assert_consistent().await;
}

async fn receiving_into_an_existing_batch_tops_it_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, dock, _) = warehouse(&app).await;
    let lot = |r: &str, code: &str, qty: i64| json!({"ref": r, "lines": [{"sku": "SKU-1", "location_code": "R-1", "qty": qty, "batch_code": code, "expiry_date": "2099-01-31"}]});
    receive(&app, lot("PO-A", "L1", 4)).await;
    let (_, second) = receive(&app, lot("PO-B", "L1", 6)).await;
    assert_eq!(second["lines"][0]["after_qty"], 10);
    assert_eq!(app.count("batches").await, 1, "same batch topped up");
    receive(&app, lot("PO-C", "L2", 1)).await;
    assert_eq!(
        app.count("batches").await,
        2,
        "a new code makes a new batch"
    );

    let (status, stock) = app.get("/stock/query?sku=SKU-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stock["rows"][0]["qty"], 11);
    assert_eq!(
        stock["rows"][0]["batches"],
        json!([{"batch_code": "L1", "expiry_date": "2099-01-31", "qty": 10},
               {"batch_code": "L2", "expiry_date": "2099-01-31", "qty": 1}])
    );

    // The same lot code with another expiry is another lot: refused.
    let (status, error) = receive(&app, json!({"ref": "PO-D", "lines": [
        {"sku": "SKU-1", "location_code": "R-1", "qty": 1, "batch_code": "L1", "expiry_date": "2099-02-28"}
    ]}))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_error(&error, "CONFLICT");
    assert_eq!(app.stock_qty(item, dock).await, 11);
    app.assert_consistent().await;
}

async fn expiry_is_judged_by_the_warehouse_date(backend: Backend) {
    // UTC+14: for ten hours of every UTC day the warehouse is already on the next date.
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        let config = Config {
            timezone: zone.parse().unwrap(),
            ..crate::common::test_config()
        };
        let today = config.today();
        let app = TestApp::spawn_with(TestDb::new(backend).await, config).await;
        warehouse(&app).await;
        let line = |r: &str, code: &str, expiry: chrono::NaiveDate| json!({"ref": r, "lines": [{"sku": "SKU-1", "location_code": "R-1", "qty": 3, "batch_code": code, "expiry_date": expiry}]});
        let (status, body) = receive(&app, line("PO-T", "TODAY", today)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{zone}: expiring today is still usable: {body}"
        );
        let (status, error) = receive(&app, line("PO-Y", "YDAY", today - Duration::days(1))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{zone}");
        assert_eq!(error["error"]["details"]["field"], "lines[0].expiry_date");

        let (_, stock) = app.get("/stock/query?sku=SKU-1").await;
        assert_eq!(
            stock["rows"][0]["available"], 3,
            "{zone}: a batch expiring today is available"
        );

        // A day passes: the batch expired yesterday. It still counts in qty, not in available.
        depot::with_pool!(app.db(), |pool, _backend| sqlx::query(
            "UPDATE batches SET expiry_date = $1"
        )
        .bind(today - Duration::days(1))
        .execute(pool)
        .await
        .map(drop)
        .unwrap());
        let (_, stock) = app.get("/stock/query?sku=SKU-1").await;
        assert_eq!(stock["rows"][0]["qty"], 3, "{zone}");
        assert_eq!(
            stock["rows"][0]["available"], 0,
            "{zone}: expired is not available"
        );
    }
}

async fn every_refused_receive_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    app.location("S-1", "shipping").await;
    let ok = json!({"sku": "SKU-1", "location_code": "R-1", "qty": 1});
    let with = |field: &str, value: Value| {
        let mut line = ok.clone();
        line[field] = value;
        json!({"ref": "PO-BAD", "lines": [line]})
    };
    let many: Vec<Value> = (0..1001).map(|i| json!({"sku": "SKU-1", "location_code": "R-1", "qty": 1, "batch_code": format!("B{i}")})).collect();
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"lines": [ok]}), 422, "ref"),
        (json!({"ref": "PO-BAD"}), 422, "lines"),
        (json!({"ref": "PO-BAD", "lines": []}), 422, "lines"),
        (json!({"ref": "", "lines": [ok]}), 422, "ref"),
        (json!({"ref": "R".repeat(65), "lines": [ok]}), 422, "ref"),
        (json!({"ref": "PO\u{1}BAD", "lines": [ok]}), 422, "ref"),
        (json!({"ref": 12, "lines": [ok]}), 422, "ref"),
        (json!({"ref": "PO-BAD", "lines": many}), 422, "lines"),
        (
            json!({"ref": "PO-BAD", "lines": [ok], "extra": 1}),
            422,
            "extra",
        ),
        (with("qty", json!(0)), 422, "lines[0].qty"),
        (with("qty", json!(-5)), 422, "lines[0].qty"),
        (with("qty", json!(1.5)), 422, "lines[0].qty"),
        (with("qty", json!("3")), 422, "lines[0].qty"),
        (with("qty", json!(1_000_000_001i64)), 422, "lines[0].qty"),
        (with("qty", json!(1e20)), 422, "lines[0].qty"),
        (with("qty", Value::Null), 422, "lines[0].qty"),
        (with("sku", json!("NOPE")), 422, "lines[0].sku"),
        (with("sku", json!("x".repeat(65))), 422, "lines[0].sku"),
        (
            with("location_code", json!("NOWHERE")),
            422,
            "lines[0].location_code",
        ),
        (
            with("location_code", json!("S-1")),
            422,
            "lines[0].location_code",
        ),
        (
            with("batch_code", json!("B".repeat(65))),
            422,
            "lines[0].batch_code",
        ),
        (
            with("expiry_date", json!("2099-02-30")),
            422,
            "lines[0].expiry_date",
        ),
        (
            with("expiry_date", json!("31/12/2099")),
            422,
            "lines[0].expiry_date",
        ),
        (
            with("expiry_date", json!("2001-01-01")),
            422,
            "lines[0].expiry_date",
        ),
        (
            with("production_date", json!("2099-01-01")),
            422,
            "lines[0].production_date",
        ),
        (with("item_id", json!(987654)), 422, "lines[0].item_id"),
        (with("sku_typo", json!("SKU-1")), 422, "lines[0].sku_typo"),
        (json!({"ref": "PO-BAD", "lines": [ok, ok]}), 422, "lines[1]"),
        (
            json!({"ref": "PO-BAD", "lines": [{"location_code": "R-1", "qty": 1}]}),
            422,
            "lines[0].sku",
        ),
        (
            json!({"ref": "PO-BAD", "lines": [{"sku": "SKU-1", "qty": 1}]}),
            422,
            "lines[0].location_code",
        ),
    ];
    let before = app.footprint().await;
    for (body, status, field) in &cases {
        let (got, error) = receive(&app, body.clone()).await;
        assert_eq!(got.as_u16(), *status, "{body}: {error}");
        let field_named = error["error"]["details"]["field"]
            .as_str()
            .unwrap_or_default();
        assert!(
            field_named.starts_with(field),
            "{body}: field {field_named}, expected {field}"
        );
        assert!(!error.to_string().contains("sqlx"), "no internals: {error}");
    }
    assert_eq!(
        app.footprint().await,
        before,
        "no refused request wrote anything"
    );
}

async fn a_receive_is_all_or_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    let before = app.footprint().await;
    let (status, _) = receive(
        &app,
        json!({"ref": "PO-X", "lines": [
            {"sku": "SKU-1", "location_code": "R-1", "qty": 5},
            {"sku": "GHOST", "location_code": "R-1", "qty": 5}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.footprint().await,
        before,
        "the good line was not applied either"
    );
}
