//! Transfers between warehouses (issue 33): goods leave the source into the destination's
//! transit location (`TRANSFER_OUT`), where nobody can ship or reserve them, and arrive in
//! parts (`TRANSFER_IN`) with their batches and dates; each unit moves once, whatever is
//! retried or sent twice at once.

use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_transfer_is_sent_then_received_in_parts,
    bad_transfers_change_nothing,
    a_receipt_sent_twice_at_once_applies_once,
    receipts_that_add_apply_once_even_at_once,
    closing_short_writes_off_what_never_came,
    depot_check_finds_transit_goods_no_transfer_carries,
);

/// MAIN's A-01 holds W-1: 5 of L1 (expiring 2099-01-01) and 5 of L2 (2099-06-01); SH has a
/// shelf B-01. Answers the item's id.
async fn two_warehouses(app: &TestApp) -> i64 {
    let item = app.item("W-1", "Water").await;
    app.location("A-01", "storage").await;
    let (status, _) = app
        .post("/warehouses", &json!({"code": "SH", "name": "上海仓"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post(
            "/locations",
            &json!({"warehouse_code": "SH", "code": "B-01", "kind": "storage"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "R-1", "warehouse_code": "MAIN", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 5, "batch_code": "L1", "expiry_date": "2099-01-01"},
                {"sku": "W-1", "location_code": "A-01", "qty": 5, "batch_code": "L2", "expiry_date": "2099-06-01"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    item
}

fn lots(transfer: &Value) -> Vec<(String, i64, i64, i64)> {
    transfer["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["batch_code"].as_str().unwrap().to_string(),
                l["sent"].as_i64().unwrap(),
                l["received"].as_i64().unwrap(),
                l["in_transit"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn qty_at(app: &TestApp, warehouse: &str, location: &str) -> i64 {
    let (_, stock) = app
        .get(&format!(
            "/stock/query?sku=W-1&warehouse={warehouse}&location_code={location}"
        ))
        .await;
    stock["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["qty"].as_i64().unwrap())
        .sum()
}

async fn a_transfer_is_sent_then_received_in_parts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let send = json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [
        {"sku": "W-1", "location_code": "A-01", "qty": 7}
    ]});
    let (status, sent) = app.post("/transfers", &send).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["movement"]["status"], "OK");
    assert_eq!(sent["transfer"]["status"], "IN_TRANSIT");
    // First expiry first out: all of L1, then 2 of L2.
    assert_eq!(
        lots(&sent["transfer"]),
        [("L1".into(), 5, 0, 5), ("L2".into(), 2, 0, 2)]
    );
    assert_eq!(qty_at(&app, "MAIN", "A-01").await, 3);
    assert_eq!(qty_at(&app, "SH", "TRANSIT").await, 7, "in transit at SH");
    let (_, snapshot) = app.get("/snapshot/inventory?q=W-1").await;
    let item = &snapshot["items"][0];
    assert_eq!(item["total_qty"], 10, "{snapshot}");
    assert_eq!(item["in_transit_qty"], 7, "{snapshot}");
    assert_eq!(
        item["available_qty"], 3,
        "in transit is nobody's: {snapshot}"
    );
    let (_, stock) = app
        .get("/stock/query?sku=W-1&warehouse=SH&location_code=TRANSIT")
        .await;
    assert_eq!(stock["rows"][0]["in_transit_qty"], 7, "{stock}");
    assert_eq!(stock["rows"][0]["available"], 0, "{stock}");
    let ledger = app.count("stock_ledger").await;

    // The same send again: nothing more leaves.
    let (status, again) = app.post("/transfers", &send).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["movement"]["status"], "IDEMPOTENT");
    assert_eq!(lots(&again["transfer"]), lots(&sent["transfer"]));
    assert_eq!(app.count("stock_ledger").await, ledger);

    // Goods in transit are nobody's to ship or promise.
    let (status, error) = app
        .post(
            "/outbound/commit",
            &json!({"ref": "O-1", "warehouse_code": "SH", "lines": [
                {"sku": "W-1", "location_code": "TRANSIT", "qty": 1}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "lines[0].location_code");
    let (status, order) = app
        .post(
            "/orders",
            &json!({"ref": "SO-1", "warehouse_code": "SH", "lines": [{"sku": "W-1", "qty": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["order"]["lines"][0]["reserved"], 0, "{order}");

    // A receipt says the whole quantity received at its place so far.
    let receive = |lines: Value| json!({ "lines": lines });
    let (status, part) = app
        .post(
            "/transfers/T-1/receive",
            &receive(
                json!([{"sku": "W-1", "location_code": "B-01", "qty": 3, "batch_code": "L1"}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{part}");
    assert_eq!(part["transfer"]["status"], "PARTIALLY_RECEIVED");
    assert_eq!(qty_at(&app, "SH", "B-01").await, 3);
    let (status, same) = app
        .post(
            "/transfers/T-1/receive",
            &receive(
                json!([{"sku": "W-1", "location_code": "B-01", "qty": 3, "batch_code": "L1"}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["movement"]["status"], "IDEMPOTENT");
    assert_eq!(qty_at(&app, "SH", "B-01").await, 3, "a retry moves nothing");

    // Refused: no batch when it carries two, more than it carries, less than received.
    for (lines, field) in [
        (
            json!([{"sku": "W-1", "location_code": "B-01", "qty": 5}]),
            "lines[0].sku",
        ),
        (
            json!([{"sku": "W-1", "location_code": "B-01", "qty": 3, "batch_code": "L2"}]),
            "lines[0].qty",
        ),
        (
            json!([{"sku": "W-1", "location_code": "B-01", "qty": 2, "batch_code": "L1"}]),
            "lines[0].qty",
        ),
        (
            json!([{"sku": "W-1", "location_code": "B-01", "qty": 1, "batch_code": "L9"}]),
            "lines[0].batch_code",
        ),
    ] {
        let (status, error) = app
            .post("/transfers/T-1/receive", &receive(lines.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{lines} → {error}"
        );
        assert_error(&error, "VALIDATION_FAILED");
        assert_eq!(error["error"]["details"]["field"], field, "{error}");
    }
    assert_eq!(qty_at(&app, "SH", "B-01").await, 3, "refusals move nothing");

    let (status, done) = app
        .post(
            "/transfers/T-1/receive",
            &receive(json!([
                {"sku": "W-1", "location_code": "B-01", "qty": 5, "batch_code": "L1"},
                {"sku": "W-1", "location_code": "B-01", "qty": 2, "batch_code": "L2"}
            ])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["transfer"]["status"], "RECEIVED");
    assert_eq!(
        lots(&done["transfer"]),
        [("L1".into(), 5, 5, 0), ("L2".into(), 2, 2, 0)]
    );
    assert_eq!(qty_at(&app, "SH", "B-01").await, 7);
    assert_eq!(qty_at(&app, "SH", "TRANSIT").await, 0);
    // Batches and dates travelled.
    let (_, stock) = app
        .get("/stock/query?sku=W-1&warehouse=SH&location_code=B-01")
        .await;
    assert_eq!(
        stock["rows"][0]["batches"],
        json!([
            {"batch_code": "L1", "expiry_date": "2099-01-01", "qty": 5},
            {"batch_code": "L2", "expiry_date": "2099-06-01", "qty": 2}
        ]),
        "{stock}"
    );
    let (_, ledger) = app.get("/ledger?reason=TRANSFER_IN").await;
    assert_eq!(
        ledger["total"], 6,
        "two legs per received line, three lines: {ledger}"
    );
    let (_, listed) = app.get("/transfers?status=RECEIVED&warehouse=SH").await;
    assert_eq!(listed["total"], 1, "{listed}");
    let (status, got) = app.get("/transfers/T-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["status"], "RECEIVED");
    app.assert_consistent().await;
}

async fn bad_transfers_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let ledger = app.count("stock_ledger").await;
    let line = json!([{"sku": "W-1", "location_code": "A-01", "qty": 1}]);
    for (body, field) in [
        (
            json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "MAIN", "lines": line}),
            "to_warehouse",
        ),
        (
            json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "NOPE", "lines": line}),
            "to_warehouse",
        ),
        (
            json!({"ref": "", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": line}),
            "ref",
        ),
        (
            json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [
                {"sku": "W-1", "location_code": "B-01", "qty": 1}
            ]}),
            "lines[0].location_code",
        ),
    ] {
        let (status, error) = app.post("/transfers", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {error}");
        assert_eq!(error["error"]["details"]["field"], field, "{error}");
    }
    let (status, error) = app
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 11}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_error(&error, "INSUFFICIENT_STOCK");
    assert_eq!(app.count("stock_ledger").await, ledger, "nothing written");
    assert_eq!(app.count("transfers").await, 0, "no transfer either");

    let (status, _) = app
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": line}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, error) = app
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "SH", "to_warehouse": "MAIN", "lines": line}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_error(&error, "IDEMPOTENCY_CONFLICT");
    let (status, error) = app
        .post("/transfers/NOPE/receive", &json!({"lines": line}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    let (status, _) = app.get("/transfers/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error) = app.get("/transfers?status=LOST").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    app.assert_consistent().await;
}

async fn a_receipt_sent_twice_at_once_applies_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let (status, _) = app
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 4, "batch_code": "L2"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let receipt = json!({"lines": [{"sku": "W-1", "location_code": "B-01", "qty": 4}]});
    let (a, b) = tokio::join!(
        app.post("/transfers/T-1/receive", &receipt),
        app.post("/transfers/T-1/receive", &receipt)
    );
    assert_eq!(a.0, StatusCode::OK, "{}", a.1);
    assert_eq!(b.0, StatusCode::OK, "{}", b.1);
    let statuses = [
        a.1["movement"]["status"].clone(),
        b.1["movement"]["status"].clone(),
    ];
    assert!(
        statuses.contains(&json!("OK")) && statuses.contains(&json!("IDEMPOTENT")),
        "{statuses:?}"
    );
    assert_eq!(qty_at(&app, "SH", "B-01").await, 4, "received once");
    app.assert_consistent().await;
}

async fn closing_short_writes_off_what_never_came(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let (status, _) = app
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 7}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            "/transfers/T-1/receive",
            &json!({"lines": [{"sku": "W-1", "location_code": "B-01", "qty": 5, "batch_code": "L1"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, closed) = app.post("/transfers/T-1/close", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "CLOSED_SHORT");
    assert_eq!(closed["lots"][1]["batch_code"], "L2");
    assert_eq!(closed["lots"][1]["lost"], 2);
    assert_eq!(closed["lots"][1]["in_transit"], 0);
    assert_eq!(
        qty_at(&app, "SH", "TRANSIT").await,
        0,
        "nothing left in transit"
    );
    let (_, ledger) = app.get("/ledger?reason=TRANSFER_LOSS").await;
    assert_eq!(ledger["total"], 1, "{ledger}");
    assert_eq!(ledger["rows"][0]["delta"], -2);
    let entries = app.count("stock_ledger").await;

    // Closed again: the same answer, nothing more written; no more receipts.
    let (status, again) = app.post("/transfers/T-1/close", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["lots"], closed["lots"]);
    assert_eq!(app.count("stock_ledger").await, entries);
    let (status, error) = app
        .post(
            "/transfers/T-1/receive",
            &json!({"lines": [{"sku": "W-1", "location_code": "B-01", "qty": 2, "batch_code": "L2"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");

    // A transfer that misses nothing has nothing to close.
    let (status, _) = app
        .post(
            "/transfers",
            &json!({"ref": "T-2", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 1}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            "/transfers/T-2/receive",
            &json!({"lines": [{"sku": "W-1", "location_code": "B-01", "qty": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, error) = app.post("/transfers/T-2/close", &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    app.assert_consistent().await;
}

async fn depot_check_finds_transit_goods_no_transfer_carries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let (status, _) = app
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 3, "batch_code": "L1"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.assert_consistent().await;
    // A transfer that says it carries less than lies in transit.
    depot::with_pool!(app.db(), |pool, _backend| sqlx::query(
        "UPDATE transfer_lots SET sent = 2"
    )
    .execute(pool)
    .await
    .map(drop))
    .unwrap();
    let violations = depot::check::find_violations(app.db()).await.unwrap();
    assert!(
        violations.iter().any(|v| matches!(
            v,
            depot::check::Violation::TransitNotCarried {
                held: 3,
                carried: 2,
                ..
            }
        )),
        "{violations:?}"
    );
}

/// The page's receipt says what arrived now and what the page showed (`before`): two at once
/// never receive a unit twice, and none is lost (the check is under the transfer's lock).
async fn receipts_that_add_apply_once_even_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let (status, _) = app
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 5, "batch_code": "L1"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let config = crate::common::test_config();
    let arrived = |qty: i64| depot::transfers::ReceiveTransfer {
        lines: vec![depot::transfers::TransferLineInput {
            sku: Some("W-1".into()),
            location_code: Some("B-01".into()),
            qty,
            ..Default::default()
        }],
    };
    let (a, b) = (arrived(2), arrived(3));
    let (first, second) = tokio::join!(
        depot::transfers::service::receive_adding(app.db(), &config, "T-1", &a, 0, None),
        depot::transfers::service::receive_adding(app.db(), &config, "T-1", &b, 0, None)
    );
    let applied: Vec<i64> = [&first, &second]
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.transfer.lots[0].received)
        .collect();
    assert_eq!(
        applied.len(),
        1,
        "one applies, the other was shown an older transfer"
    );
    assert!([first, second].iter().any(|r| r
        .as_ref()
        .is_err_and(|e| e.code == depot::error::ErrorCode::Conflict)));
    assert_eq!(qty_at(&app, "SH", "B-01").await, applied[0]);
    // With what the page now shows, the rest adds to what B-01 received.
    let rest = arrived(5 - applied[0]);
    let done = depot::transfers::service::receive_adding(
        app.db(),
        &config,
        "T-1",
        &rest,
        applied[0],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        done.transfer.status,
        depot::transfers::TransferStatus::Received
    );
    assert_eq!(qty_at(&app, "SH", "B-01").await, 5);
    app.assert_consistent().await;
}
