//! Orders, reservations and picking (SPEC §10): an order reserves by FEFO in storage locations;
//! what is reserved is available to nobody else (stock query, snapshot, outbound commit, other
//! orders); a short pick re-allocates or backorders; shipping takes the order's own
//! reservation as OUTBOUND entries with its ref, once; an expired reservation is never
//! shipped; cancel releases; and however many orders race for the same units, no unit is
//! promised twice.

use std::sync::Arc;

use chrono::Duration;
use depot::auth::Role;
use depot::config::Clock;
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, into_json, test_config, TestApp};
use crate::on_both_backends;

on_both_backends!(
    an_order_reserves_by_fefo_and_nobody_else_can_take_it,
    a_short_pick_reallocates_and_ship_takes_what_is_picked_once,
    two_short_picks_reallocate_onto_one_batch,
    ship_all_reserved_cancel_and_closed_orders,
    an_expired_reservation_is_reallocated_never_shipped,
    goods_written_off_under_an_order_backorder_it,
    bad_orders_and_picks_change_nothing,
    roles_order_pick_ship_and_cancel,
    a_hundred_orders_race_for_fifty_units,
    an_order_line_from_two_lots_of_one_place_is_two_entries,
);

/// TEA at A-01 (L1 6, expiring 2099-01-01) and B-01 (L2 10, 2099-02-01), 50 at the receiving
/// dock R-01 (never reserved); RICE at A-01 (no batch, 10). C-01 is an empty shelf.
async fn stocked(app: &TestApp) {
    app.item("TEA", "Green tea 绿茶").await;
    app.item("RICE", "Rice 大米").await;
    for code in ["A-01", "B-01", "C-01"] {
        app.location(code, "storage").await;
    }
    app.location("R-01", "receiving").await;
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": [
            {"sku": "TEA", "location_code": "A-01", "qty": 6, "batch_code": "L1", "expiry_date": "2099-01-01"},
            {"sku": "TEA", "location_code": "B-01", "qty": 10, "batch_code": "L2", "expiry_date": "2099-02-01"},
            {"sku": "TEA", "location_code": "R-01", "qty": 50, "batch_code": "L0", "expiry_date": "2098-01-01"},
            {"sku": "RICE", "location_code": "A-01", "qty": 10}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, answer) = app.post("/orders", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["order"].clone()
}

async fn act(app: &TestApp, r#ref: &str, action: &str, body: Value) -> Value {
    let (status, answer) = app.post(&format!("/orders/{ref}/{action}"), &body).await;
    assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    answer["order"].clone()
}

/// Line `n` (1-based) of an order.
fn line(order: &Value, n: usize) -> &Value {
    &order["lines"][n - 1]
}

/// An order line's allocations as (location, batch, qty, picked).
fn held(line: &Value) -> Vec<(String, String, i64, i64)> {
    line["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["qty"].as_i64().unwrap() > 0)
        .map(|a| {
            (
                a["location_code"].as_str().unwrap().to_string(),
                a["batch_code"].as_str().unwrap().to_string(),
                a["qty"].as_i64().unwrap(),
                a["picked"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn at(location: &str, batch: &str, qty: i64, picked: i64) -> (String, String, i64, i64) {
    (location.to_string(), batch.to_string(), qty, picked)
}

/// (qty, reserved, available) of sku at a location from the stock query.
async fn stock(app: &TestApp, sku: &str, location: &str) -> (i64, i64, i64) {
    let (status, body) = app
        .get(&format!("/stock/query?sku={sku}&location_code={location}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    match body["rows"].as_array().unwrap().first() {
        Some(row) => (
            row["qty"].as_i64().unwrap(),
            row["reserved"].as_i64().unwrap(),
            row["available"].as_i64().unwrap(),
        ),
        None => (0, 0, 0),
    }
}

async fn client_of(app: &TestApp, role: Role) -> reqwest::Client {
    let (_, secret) = depot::auth::service::create_token(
        app.db(),
        &format!("T-{}-{}", role.as_str(), fastrand::u32(..)),
        role,
    )
    .await
    .unwrap();
    TestApp::client_with(&secret, reqwest::redirect::Policy::none())
}

async fn an_order_reserves_by_fefo_and_nobody_else_can_take_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    app.location("A-00", "storage").await;
    // Another lot expiring like L1, at a shelf holding less: A-01 holds more, so it goes first.
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-2", "lines": [
            {"sku": "TEA", "location_code": "A-00", "qty": 2, "batch_code": "L9", "expiry_date": "2099-01-01"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let order = create(
        &app,
        json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 9}, {"sku": "RICE", "qty": 4}]}),
    )
    .await;
    assert_eq!(order["status"], "RESERVED", "{order}");
    assert_eq!(order["policy"], "partial");
    let tea = line(&order, 1);
    assert_eq!(
        (
            tea["qty"].as_i64(),
            tea["reserved"].as_i64(),
            tea["backordered"].as_i64()
        ),
        (Some(9), Some(9), Some(0))
    );
    assert_eq!(
        held(tea),
        vec![
            at("A-00", "L9", 2, 0),
            at("A-01", "L1", 6, 0),
            at("B-01", "L2", 1, 0)
        ],
        "earliest expiry first (the fuller shelf first among equals), never the receiving dock"
    );
    assert_eq!(held(line(&order, 2)), vec![at("A-01", "", 4, 0)]);

    // Reserved goods are available to nobody else.
    assert_eq!(stock(&app, "TEA", "A-01").await, (6, 6, 0));
    assert_eq!(stock(&app, "TEA", "B-01").await, (10, 1, 9));
    assert_eq!(stock(&app, "RICE", "A-01").await, (10, 4, 6));
    let (_, snapshot) = app.get("/snapshot/inventory?q=TEA").await;
    let item = &snapshot["items"][0];
    assert_eq!(
        (
            item["total_qty"].as_i64(),
            item["reserved_qty"].as_i64(),
            item["available_qty"].as_i64()
        ),
        (Some(68), Some(9), Some(59)),
        "{snapshot}"
    );
    let (status, body) = app
        .post(
            "/outbound/commit",
            &json!({"ref": "OUT-1", "lines": [
                {"sku": "TEA", "location_code": "A-01", "qty": 1},
                {"sku": "TEA", "location_code": "B-01", "qty": 10},
                {"sku": "RICE", "location_code": "A-01", "qty": 6}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["status"], "INSUFFICIENT_STOCK");
    assert_eq!(body["lines"][0]["available"], 0);
    assert_eq!(body["lines"][1]["status"], "INSUFFICIENT_STOCK");
    assert_eq!(body["lines"][1]["available"], 9);
    assert_eq!(
        body["lines"][2]["status"], "OK",
        "what is not reserved ships"
    );
    let (status, body) = app
        .post("/outbound/commit", &json!({"ref": "OUT-2", "lines": [{"sku": "TEA", "location_code": "A-01", "qty": 1, "batch_code": "L1"}]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["lines"][0]["status"], "INSUFFICIENT_STOCK",
        "naming the batch does not help"
    );
    let (status, body) = app
        .post("/putaway", &json!({"ref": "MV-1", "lines": [{"sku": "TEA", "from_location_code": "A-01", "to_location_code": "C-01", "qty": 1}]}))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "reserved goods stay where the order expects them: {body}"
    );

    // The same ref again: the same order; other lines: refused.
    let (status, again) = app
        .post(
            "/orders",
            &json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 9}, {"sku": "RICE", "qty": 4}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["order"], order);
    let footprint = app.footprint().await;
    let (status, body) = app
        .post(
            "/orders",
            &json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 8}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "IDEMPOTENCY_CONFLICT");

    // All or nothing: short → 409 naming the shortage, nothing written.
    let orders = app.count("orders").await;
    let (status, body) = app
        .post("/orders", &json!({"ref": "SO-2", "policy": "all_or_nothing", "lines": [{"sku": "TEA", "qty": 10}]}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "INSUFFICIENT_STOCK");
    // The movements' shape of a shortage; an order reserves wherever the item is, so it names
    // no location, and it names the line's sku.
    let shortage = &body["error"]["details"]["shortages"][0];
    assert_eq!(shortage["ref_line"], 1, "{shortage}");
    assert_eq!(shortage["sku"], "TEA", "{shortage}");
    assert!(shortage["item_id"].as_i64().is_some(), "{shortage}");
    assert!(shortage.get("location_id").is_none(), "{shortage}");
    assert_eq!(shortage["required"], 10);
    assert_eq!(shortage["available"], 9);
    assert_eq!(app.count("orders").await, orders);
    assert_eq!(app.count("allocations").await, 4);
    assert_eq!(app.footprint().await, footprint);

    // Partial: what is there, the rest backordered; reserved again after a receipt.
    let order = create(
        &app,
        json!({"ref": "SO-3", "lines": [{"sku": "TEA", "qty": 20}]}),
    )
    .await;
    assert_eq!(order["status"], "BACKORDERED");
    assert_eq!(
        (
            line(&order, 1)["reserved"].as_i64(),
            line(&order, 1)["backordered"].as_i64()
        ),
        (Some(9), Some(11))
    );
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "PO-3", "lines": [{"sku": "TEA", "location_code": "C-01", "qty": 30}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = act(&app, "SO-3", "reserve", json!({})).await;
    assert_eq!(order["status"], "RESERVED", "{order}");
    assert_eq!(
        held(line(&order, 1)),
        vec![at("B-01", "L2", 9, 0), at("C-01", "", 11, 0)]
    );
    let (status, list) = app.get("/orders?status=RESERVED").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(list["orders"][0]["ref"], "SO-3", "newest first");
    let (_, list) = app.get("/orders?q=so-1").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["orders"][0]["qty"], 13);
    app.assert_consistent().await;
}

async fn a_short_pick_reallocates_and_ship_takes_what_is_picked_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let order = create(
        &app,
        json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 8}, {"sku": "RICE", "qty": 4}]}),
    )
    .await;
    assert_eq!(
        held(line(&order, 1)),
        vec![at("A-01", "L1", 6, 0), at("B-01", "L2", 2, 0)]
    );

    let (status, list) = app.get("/orders/SO-1/picklist").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let walk: Vec<(String, String, String)> = list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["location_code"].as_str().unwrap().into(),
                r["sku"].as_str().unwrap().into(),
                r["batch_code"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        walk,
        vec![
            ("A-01".into(), "TEA".into(), "L1".into()),
            ("A-01".into(), "RICE".into(), "".into()),
            ("B-01".into(), "TEA".into(), "L2".into())
        ],
        "walk order: by location, earliest expiry first"
    );

    // A short pick: 4 of 6 found at A-01; the other 2 are reserved at B-01 instead.
    let short = json!({"lines": [{"location_code": "A-01", "sku": "TEA", "qty": 4}]});
    let order = act(&app, "SO-1", "pick", short.clone()).await;
    assert_eq!(order["status"], "PICKING");
    assert_eq!(
        held(line(&order, 1)),
        vec![at("A-01", "L1", 4, 4), at("B-01", "L2", 4, 0)]
    );
    let again = act(&app, "SO-1", "pick", short).await;
    assert_eq!(
        again["lines"], order["lines"],
        "confirming the same pick again changes nothing"
    );
    assert_eq!(stock(&app, "TEA", "A-01").await, (6, 4, 2));

    // Picking more than reserved, or where nothing is reserved: 422, nothing changes.
    for (body, field) in [
        (
            json!({"lines": [{"location_code": "B-01", "sku": "TEA", "qty": 5}]}),
            "lines[0].qty",
        ),
        (
            json!({"lines": [{"location_code": "C-01", "sku": "TEA", "qty": 1}]}),
            "lines[0]",
        ),
        (
            json!({"lines": [{"location_code": "B-01", "sku": "TEA", "batch_code": "L1", "qty": 1}]}),
            "lines[0]",
        ),
        (
            json!({"lines": [{"location_code": "B-01", "sku": "RICE", "qty": 1}]}),
            "lines[0]",
        ),
    ] {
        let (status, body) = app.post("/orders/SO-1/pick", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_error(&body, "VALIDATION_FAILED");
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
    }
    let (_, now) = app.get("/orders/SO-1").await;
    assert_eq!(now["order"]["lines"], order["lines"]);

    let order = act(
        &app,
        "SO-1",
        "pick",
        json!({"lines": [
            {"location_code": "B-01", "sku": "TEA", "qty": 4},
            {"location_code": "A-01", "sku": "RICE", "qty": 4}
        ]}),
    )
    .await;
    assert_eq!(order["status"], "PICKED", "{order}");

    let ledger_before = app.count("stock_ledger").await;
    let order = act(&app, "SO-1", "ship", json!({})).await;
    assert_eq!(order["status"], "SHIPPED", "{order}");
    assert_eq!(order["shipments"], 1);
    assert_eq!(line(&order, 1)["shipped"], 8);
    assert_eq!(line(&order, 1)["reserved"], 0);
    assert_eq!(app.count("stock_ledger").await, ledger_before + 3);
    let (_, ledger) = app.get("/ledger?ref=SO-1").await;
    let mut entries: Vec<(String, String, i64)> = ledger["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["reason"], "OUTBOUND");
            (
                r["sku"].as_str().unwrap().into(),
                r["location_code"].as_str().unwrap().into(),
                r["delta"].as_i64().unwrap(),
            )
        })
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        vec![
            ("RICE".into(), "A-01".into(), -4),
            ("TEA".into(), "A-01".into(), -4),
            ("TEA".into(), "B-01".into(), -4)
        ]
    );
    assert_eq!(stock(&app, "TEA", "A-01").await, (2, 0, 2));
    assert_eq!(stock(&app, "TEA", "B-01").await, (6, 0, 6));

    // Shipping again (a retry) changes nothing; a shipped order cannot be cancelled or picked.
    let again = act(&app, "SO-1", "ship", json!({})).await;
    assert_eq!(again, order);
    assert_eq!(app.count("stock_ledger").await, ledger_before + 3);
    let (status, body) = app.post("/orders/SO-1/cancel", &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "CONFLICT");
    let (status, _) = app
        .post(
            "/orders/SO-1/pick",
            &json!({"lines": [{"location_code": "A-01", "sku": "TEA", "qty": 4}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    app.assert_consistent().await;
}

/// Two places short in one pick request, both re-allocated onto the same batch elsewhere: one
/// allocation of their sum (a PostgreSQL upsert may not touch a row twice).
async fn two_short_picks_reallocate_onto_one_batch(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-2", "lines": [
            {"sku": "TEA", "location_code": "C-01", "qty": 20, "batch_code": "L3", "expiry_date": "2099-12-01"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = create(
        &app,
        json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 9}]}),
    )
    .await;
    assert_eq!(
        held(line(&order, 1)),
        vec![at("A-01", "L1", 6, 0), at("B-01", "L2", 3, 0)]
    );
    let order = act(
        &app,
        "SO-1",
        "pick",
        json!({"lines": [
            {"location_code": "A-01", "sku": "TEA", "qty": 4},
            {"location_code": "B-01", "sku": "TEA", "qty": 1}
        ]}),
    )
    .await;
    assert_eq!(
        held(line(&order, 1)),
        vec![
            at("A-01", "L1", 4, 4),
            at("B-01", "L2", 1, 1),
            at("C-01", "L3", 4, 0)
        ]
    );
    assert_eq!(order["status"], "PICKING");
    app.assert_consistent().await;
}

async fn ship_all_reserved_cancel_and_closed_orders(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    create(
        &app,
        json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 5}]}),
    )
    .await;
    let (status, body) = app.post("/orders/SO-1/ship", &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing picked yet: {body}");
    assert_error(&body, "CONFLICT");
    // An empty body is a plain ship too (what curl -X POST sends).
    let response = app
        .browser()
        .post(app.url("/orders/SO-1/ship"))
        .send()
        .await
        .unwrap();
    let (status, body) = into_json(response).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "CONFLICT");
    let order = act(&app, "SO-1", "ship", json!({"reserved": true})).await;
    assert_eq!(order["status"], "SHIPPED");
    assert_eq!(line(&order, 1)["shipped"], 5);
    assert_eq!(stock(&app, "TEA", "A-01").await, (1, 0, 1));

    let order = create(
        &app,
        json!({"ref": "SO-2", "lines": [{"sku": "TEA", "qty": 3}, {"sku": "RICE", "qty": 2}]}),
    )
    .await;
    assert_eq!(order["status"], "RESERVED");
    assert_eq!(stock(&app, "RICE", "A-01").await, (10, 2, 8));
    let order = act(&app, "SO-2", "cancel", json!({})).await;
    assert_eq!(order["status"], "CANCELLED");
    assert_eq!(line(&order, 1)["reserved"], 0);
    assert_eq!(line(&order, 1)["backordered"], 0);
    assert_eq!(stock(&app, "RICE", "A-01").await, (10, 0, 10), "released");
    let again = act(&app, "SO-2", "cancel", json!({})).await;
    assert_eq!(again, order, "cancelling again changes nothing");
    for action in ["ship", "reserve"] {
        let (status, body) = app
            .post(&format!("/orders/SO-2/{action}"), &json!({}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}: {body}");
        assert_eq!(body["error"]["details"]["status"], "CANCELLED");
    }
    for (path, body) in [
        ("/orders/NOPE/ship", Some(json!({}))),
        ("/orders/NOPE", None),
        ("/orders/NOPE/picklist", None),
    ] {
        let (status, body) = match body {
            Some(body) => app.post(path, &body).await,
            None => app.get(path).await,
        };
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_error(&body, "NOT_FOUND");
    }
    // A ref with a slash, percent-encoded in the path.
    create(
        &app,
        json!({"ref": "SO/7", "lines": [{"sku": "RICE", "qty": 1}]}),
    )
    .await;
    let order = act(&app, "SO%2F7", "ship", json!({"reserved": true})).await;
    assert_eq!(order["ref"], "SO/7");
    assert_eq!(order["status"], "SHIPPED");
    app.assert_consistent().await;
}

async fn an_expired_reservation_is_reallocated_never_shipped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("MILK", "Milk 牛奶").await;
    app.location("A-01", "storage").await;
    app.location("B-01", "storage").await;
    let today = test_config().today();
    let soon = today + Duration::days(2);
    let later = today + Duration::days(30);
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": [
            {"sku": "MILK", "location_code": "A-01", "qty": 5, "batch_code": "SOON", "expiry_date": soon.to_string()},
            {"sku": "MILK", "location_code": "B-01", "qty": 10, "batch_code": "LATER", "expiry_date": later.to_string()}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = create(
        &app,
        json!({"ref": "SO-1", "lines": [{"sku": "MILK", "qty": 4}]}),
    )
    .await;
    assert_eq!(held(line(&order, 1)), vec![at("A-01", "SOON", 4, 0)]);

    // Five days on, SOON has expired: shipping re-allocates to LATER and ships that.
    let mut config = test_config();
    config.clock = Clock::Fixed(
        crate::common::TEST_NOW
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            + Duration::days(5),
    );
    let later_app = app.serve_again(config).await;
    let client = client_of(&app, Role::Clerk).await;
    let (status, body) = into_json(
        client
            .post(format!("{later_app}/orders/SO-1/ship"))
            .json(&json!({"reserved": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = &body["order"];
    assert_eq!(order["status"], "SHIPPED", "{order}");
    let (_, ledger) = app.get("/ledger?ref=SO-1").await;
    assert_eq!(ledger["total"], 1);
    assert_eq!(ledger["rows"][0]["location_code"], "B-01");
    assert_eq!(ledger["rows"][0]["batches"][0]["batch_code"], "LATER");
    assert_eq!(
        stock(&app, "MILK", "A-01").await.0,
        5,
        "the expired lot never left"
    );
    app.assert_consistent().await;
}

async fn goods_written_off_under_an_order_backorder_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let order = create(
        &app,
        json!({"ref": "SO-1", "lines": [{"sku": "RICE", "qty": 8}]}),
    )
    .await;
    assert_eq!(order["status"], "RESERVED");
    create(
        &app,
        json!({"ref": "SO-2", "lines": [{"sku": "RICE", "qty": 2}]}),
    )
    .await;
    // 5 of the 10 are found missing: the newest order loses its 2 first, then SO-1 3.
    let (status, body) = app
        .post("/adjust", &json!({"ref": "ADJ-1", "lines": [{"sku": "RICE", "location_code": "A-01", "delta": -5, "reason_code": "LOST"}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, second) = app.get("/orders/SO-2").await;
    assert_eq!(second["order"]["status"], "BACKORDERED", "{second}");
    assert_eq!(second["order"]["lines"][0]["reserved"], 0);
    let (_, first) = app.get("/orders/SO-1").await;
    assert_eq!(first["order"]["status"], "BACKORDERED");
    assert_eq!(first["order"]["lines"][0]["reserved"], 5);
    assert_eq!(first["order"]["lines"][0]["backordered"], 3);
    assert_eq!(stock(&app, "RICE", "A-01").await, (5, 5, 0));
    app.assert_consistent().await;
}

async fn bad_orders_and_picks_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    create(
        &app,
        json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 2}]}),
    )
    .await;
    let footprint = (
        app.footprint().await,
        app.count("orders").await,
        app.count("allocations").await,
    );
    for (body, code, field) in [
        (
            json!({"ref": "SO-9", "lines": [{"sku": "TEA", "qty": 0}]}),
            "VALIDATION_FAILED",
            "lines[0].qty",
        ),
        (
            json!({"ref": "SO-9", "lines": []}),
            "VALIDATION_FAILED",
            "lines",
        ),
        (
            json!({"ref": "", "lines": [{"sku": "TEA", "qty": 1}]}),
            "VALIDATION_FAILED",
            "ref",
        ),
        (
            json!({"ref": "SO-9", "policy": "some", "lines": [{"sku": "TEA", "qty": 1}]}),
            "VALIDATION_FAILED",
            "policy",
        ),
        (
            json!({"ref": "SO-9", "lines": [{"qty": 1}]}),
            "VALIDATION_FAILED",
            "lines[0].sku",
        ),
        (
            json!({"ref": "SO-9", "lines": [{"sku": "TEA", "qty": 1}, {"sku": "TEA", "qty": 2}]}),
            "VALIDATION_FAILED",
            "lines[1]",
        ),
        (
            json!({"ref": "SO-9", "lines": [{"sku": "NOPE", "qty": 1}]}),
            "UNKNOWN_ITEM",
            "lines[0].sku",
        ),
    ] {
        let (status, answer) = app.post("/orders", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_error(&answer, code);
        assert_eq!(answer["error"]["details"]["field"], field, "{answer}");
    }
    let (status, answer) = app
        .post(
            "/orders",
            &json!({"ref": "SO-9", "lines": [{"sku": "TEA", "qty": "x"}]}),
        )
        .await;
    assert!(status.is_client_error(), "{answer}");
    for (body, field) in [
        (
            json!({"lines": [{"location_code": "A-01", "sku": "TEA", "qty": -1}]}),
            "lines[0].qty",
        ),
        (
            json!({"lines": [{"location_code": "ZZ-99", "sku": "TEA", "qty": 1}]}),
            "lines[0].location_code",
        ),
        (
            json!({"lines": [{"location_code": "A-01", "sku": "TEA", "qty": 1}, {"location_code": "A-01", "sku": "TEA", "qty": 2}]}),
            "lines[1]",
        ),
    ] {
        let (status, answer) = app.post("/orders/SO-1/pick", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["details"]["field"], field, "{answer}");
    }
    let (status, answer) = app.get("/orders?status=LOST").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["details"]["field"], "status");
    assert_eq!(
        (
            app.footprint().await,
            app.count("orders").await,
            app.count("allocations").await
        ),
        footprint
    );
    app.assert_consistent().await;
}

async fn roles_order_pick_ship_and_cancel(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let viewer = client_of(&app, Role::Viewer).await;
    let clerk = client_of(&app, Role::Clerk).await;
    let manager = client_of(&app, Role::Manager).await;
    let post = |client: &reqwest::Client, path: &str, body: Value| {
        let request = client.post(app.url(path)).json(&body);
        async move { into_json(request.send().await.unwrap()).await }
    };
    let order = json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 1}]});
    let (status, _) = post(&viewer, "/orders", order.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = post(&clerk, "/orders", order).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["order"]["created_by"]
        .as_str()
        .unwrap()
        .starts_with("token:"));
    let (status, _) = into_json(
        viewer
            .get(app.url("/orders/SO-1/picklist"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&viewer, "/orders/SO-1/reserve", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(&clerk, "/orders/SO-1/cancel", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "clerks do not cancel");
    let (status, body) = post(
        &clerk,
        "/orders/SO-1/pick",
        json!({"lines": [{"location_code": "A-01", "sku": "TEA", "qty": 1}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post(&manager, "/orders/SO-1/cancel", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"]["status"], "CANCELLED");
    app.assert_consistent().await;
}

/// SPEC §10: 100 orders created at once for one item with 50 units → exactly 50 reserved, the
/// rest backordered (partial) or refused (all or nothing); no deadlock, no 500. Twins of the
/// same ref race too: one creates, the others answer the same order.
async fn a_hundred_orders_race_for_fifty_units(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await);
    app.item("HOT", "Hot item").await;
    for code in ["S-01", "S-02", "S-03"] {
        app.location(code, "storage").await;
    }
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": [
            {"sku": "HOT", "location_code": "S-01", "qty": 20, "batch_code": "B1", "expiry_date": "2099-01-01"},
            {"sku": "HOT", "location_code": "S-02", "qty": 20, "batch_code": "B2", "expiry_date": "2099-03-01"},
            {"sku": "HOT", "location_code": "S-03", "qty": 10}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let barrier = Arc::new(tokio::sync::Barrier::new(110));
    let mut tasks = Vec::new();
    for n in 0..110 {
        let app = app.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            // Orders 100..110 are twins of order 0.
            let n = if n >= 100 { 0 } else { n };
            let policy = if n % 2 == 0 { "partial" } else { "all_or_nothing" };
            let qty = 1 + n % 2;
            let body = json!({"ref": format!("SO-{n}"), "policy": policy, "lines": [{"sku": "HOT", "qty": qty}]});
            barrier.wait().await;
            let (status, answer) = app.post("/orders", &body).await;
            (n, status, answer)
        }));
    }
    let (mut created, mut replayed, mut refused) = (0, 0, 0);
    for task in tasks {
        let (n, status, answer) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {
                assert_eq!(n, 0, "{answer}");
                replayed += 1;
            }
            StatusCode::CONFLICT => {
                assert_error(&answer, "INSUFFICIENT_STOCK");
                refused += 1;
            }
            other => panic!("order {n}: {other} {answer}"),
        }
    }
    assert_eq!(replayed, 10, "every twin answered the one order");
    assert_eq!(created + refused, 100);
    let (_, list) = app.get("/orders?limit=200").await;
    let reserved: i64 = list["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reserved"].as_i64().unwrap())
        .sum();
    assert_eq!(reserved, 50, "exactly the 50 units there are: {list}");
    let (_, snapshot) = app.get("/snapshot/inventory?q=HOT").await;
    assert_eq!(snapshot["items"][0]["reserved_qty"], 50);
    assert_eq!(snapshot["items"][0]["available_qty"], 0);
    app.assert_consistent().await;
}

/// An order line reserved on two lots of one shelf ships as two ledger entries of that stock
/// and line (PostgreSQL writes them with their batch detail and anchors in one statement, by
/// their place within the line), each with its own lot, and the stock chains through both.
async fn an_order_line_from_two_lots_of_one_place_is_two_entries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("TEA", "Green tea").await;
    app.location("A-01", "storage").await;
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": [
            {"sku": "TEA", "location_code": "A-01", "qty": 2, "batch_code": "L1", "expiry_date": "2099-01-01"},
            {"sku": "TEA", "location_code": "A-01", "qty": 3, "batch_code": "L2", "expiry_date": "2099-02-01"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = create(
        &app,
        json!({"ref": "SO-1", "lines": [{"sku": "TEA", "qty": 4}]}),
    )
    .await;
    assert_eq!(
        held(line(&order, 1)),
        vec![at("A-01", "L1", 2, 0), at("A-01", "L2", 2, 0)]
    );
    let order = act(&app, "SO-1", "ship", json!({"reserved": true})).await;
    assert_eq!(order["status"], "SHIPPED", "{order}");
    assert_eq!(line(&order, 1)["shipped"], 4);
    assert_eq!(stock(&app, "TEA", "A-01").await, (1, 0, 1));

    let (status, ledger) = app.get("/ledger?ref=SO-1").await;
    assert_eq!(status, StatusCode::OK, "{ledger}");
    // Newest first: L2's entry was written after L1's.
    let entries: Vec<(i64, i64, i64, String, i64)> = ledger["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let batches = r["batches"].as_array().unwrap();
            assert_eq!(batches.len(), 1, "{r}");
            (
                r["ref_line"].as_i64().unwrap(),
                r["delta"].as_i64().unwrap(),
                r["after_qty"].as_i64().unwrap(),
                batches[0]["batch_code"].as_str().unwrap().to_string(),
                batches[0]["qty"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![(1, -2, 1, "L2".into(), -2), (1, -2, 3, "L1".into(), -2)]
    );
    // Shipping again ships nothing more, and answers the order as it is.
    let again = act(&app, "SO-1", "ship", json!({"reserved": true})).await;
    assert_eq!(again["shipments"], 1, "{again}");
    assert_eq!(line(&again, 1)["shipped"], 4);
    assert_eq!(stock(&app, "TEA", "A-01").await, (1, 0, 1));
    app.assert_consistent().await;
}
