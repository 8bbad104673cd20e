//! Returns into quarantine (issue 33): goods come back (`RETURN`) into a quarantine location,
//! where nobody can ship, reserve, count or put them away; with an order, never more than it
//! shipped; a manager restocks (`RETURN_RESTOCK`) or scraps (`RETURN_SCRAP`) them, each unit
//! once, whatever is retried or sent twice at once.

use depot::auth::Role;
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, into_json, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_return_of_an_order_waits_in_quarantine_until_disposed,
    bad_returns_change_nothing,
    a_return_without_an_order_names_its_lot_and_place,
    two_returns_of_one_order_at_once_take_back_no_more_than_it_shipped,
    a_disposition_sent_twice_at_once_applies_once,
    forms_that_add_apply_once_even_at_once,
    only_managers_dispose,
    depot_check_finds_quarantined_goods_no_return_holds,
);

/// A-01 (storage) holds 10 of W-1 batch L1 (expiring 2099-01-01); order SO-1 shipped 6 of them.
async fn shipped(app: &TestApp) {
    app.item("W-1", "Water").await;
    app.location("A-01", "storage").await;
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "R-1", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 10, "batch_code": "L1", "expiry_date": "2099-01-01"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, order) = app
        .post(
            "/orders",
            &json!({"ref": "SO-1", "lines": [{"sku": "W-1", "qty": 6}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let (status, order) = app
        .post("/orders/SO-1/ship", &json!({"reserved": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{order}");
}

async fn qty_at(app: &TestApp, location: &str) -> i64 {
    let (_, stock) = app
        .get(&format!("/stock/query?sku=W-1&location_code={location}"))
        .await;
    stock["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["qty"].as_i64().unwrap())
        .sum()
}

fn line(sku: &str, qty: i64) -> Value {
    json!({"sku": sku, "qty": qty, "reason_code": "CUSTOMER_RETURN"})
}

async fn a_return_of_an_order_waits_in_quarantine_until_disposed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipped(&app).await;
    let body = json!({"ref": "RT-1", "order_ref": "SO-1", "lines": [line("W-1", 2)]});
    let (status, taken) = app.post("/returns", &body).await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["movement"]["status"], "OK");
    let returned = &taken["return"];
    assert_eq!(returned["status"], "OPEN");
    assert_eq!(returned["order_ref"], "SO-1");
    assert_eq!(returned["warehouse_code"], "MAIN");
    // The lot and its date are the ones shipped; the place the warehouse's quarantine.
    assert_eq!(returned["lines"][0]["batch_code"], "L1", "{returned}");
    assert_eq!(returned["lines"][0]["expiry_date"], "2099-01-01");
    assert_eq!(returned["lines"][0]["location_code"], "QUARANTINE");
    assert_eq!(returned["lines"][0]["in_quarantine"], 2);
    assert_eq!(qty_at(&app, "QUARANTINE").await, 2);
    let ledger = app.count("stock_ledger").await;
    let (status, again) = app.post("/returns", &body).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["movement"]["status"], "IDEMPOTENT");
    assert_eq!(
        app.count("stock_ledger").await,
        ledger,
        "a retry takes nothing back twice"
    );
    let (status, error) = app
        .post(
            "/returns",
            &json!({"ref": "RT-1", "order_ref": "SO-1", "lines": [line("W-1", 3)]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_error(&error, "IDEMPOTENCY_CONFLICT");

    // Quarantined goods are nobody's to ship, promise, put away or adjust.
    for (path, body) in [
        (
            "/outbound/commit",
            json!({"ref": "O-1", "lines": [{"sku": "W-1", "location_code": "QUARANTINE", "qty": 1}]}),
        ),
        (
            "/putaway",
            json!({"ref": "P-1", "lines": [{"sku": "W-1", "from_location_code": "QUARANTINE", "to_location_code": "A-01", "qty": 1}]}),
        ),
        (
            "/adjust",
            json!({"ref": "ADJ-1", "lines": [{"sku": "W-1", "location_code": "QUARANTINE", "delta": -1, "reason_code": "DAMAGED"}]}),
        ),
    ] {
        let (status, error) = app.post(path, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {error}");
        assert_error(&error, "VALIDATION_FAILED");
    }
    let (status, order) = app
        .post(
            "/orders",
            &json!({"ref": "SO-2", "lines": [{"sku": "W-1", "qty": 6}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(
        order["order"]["lines"][0]["reserved"], 4,
        "only A-01's 4 are reserved, not the 2 in quarantine: {order}"
    );
    let (status, _) = app.post("/orders/SO-2/cancel", &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    // Stock and snapshot say where the goods are and that none of them is available.
    let (_, stock) = app
        .get("/stock/query?sku=W-1&location_code=QUARANTINE")
        .await;
    let row = &stock["rows"][0];
    assert_eq!(row["qty"], 2, "{stock}");
    assert_eq!(row["location_kind"], "quarantine");
    assert_eq!(row["quarantine_qty"], 2);
    assert_eq!(row["in_transit_qty"], 0);
    assert_eq!(row["available"], 0, "{stock}");
    let (_, snapshot) = app.get("/snapshot/inventory?q=W-1").await;
    let item = &snapshot["items"][0];
    assert_eq!(item["total_qty"], 6, "{snapshot}");
    assert_eq!(item["quarantine_qty"], 2, "{snapshot}");
    assert_eq!(item["available_qty"], 4, "only A-01's: {snapshot}");

    // Never more than the order shipped: 6 shipped, 2 back already.
    let (status, error) = app
        .post(
            "/returns",
            &json!({"ref": "RT-2", "order_ref": "SO-1", "lines": [line("W-1", 5)]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(
        error["error"]["details"]["field"], "lines[0].qty",
        "{error}"
    );
    assert_eq!(app.count("returns").await, 1, "no second return either");

    // A manager restocks one and scraps one; the return is done with.
    let dispose = json!({"lines": [
        {"sku": "W-1", "qty": 1, "action": "RESTOCK", "location_code": "A-01"},
        {"sku": "W-1", "qty": 1, "action": "SCRAP"}
    ]});
    let (status, done) = app.post("/returns/RT-1/dispose", &dispose).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "OK");
    assert_eq!(done["return"]["status"], "DISPOSED");
    assert_eq!(done["return"]["lines"][0]["restocked"], 1);
    assert_eq!(done["return"]["lines"][0]["scrapped"], 1);
    assert_eq!(qty_at(&app, "A-01").await, 5);
    assert_eq!(qty_at(&app, "QUARANTINE").await, 0);
    let ledger = app.count("stock_ledger").await;
    let (status, again) = app.post("/returns/RT-1/dispose", &dispose).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "IDEMPOTENT");
    assert_eq!(
        app.count("stock_ledger").await,
        ledger,
        "a retry disposes of nothing twice"
    );
    let (status, error) = app
        .post(
            "/returns/RT-1/dispose",
            &json!({"lines": [{"sku": "W-1", "qty": 2, "action": "RESTOCK", "location_code": "A-01"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "lines[0].qty");

    for (reason, entries) in [("RETURN", 1), ("RETURN_RESTOCK", 2), ("RETURN_SCRAP", 1)] {
        let (_, ledger) = app.get(&format!("/ledger?reason={reason}")).await;
        assert_eq!(ledger["total"], entries, "{reason}: {ledger}");
    }
    let (_, listed) = app.get("/returns?status=DISPOSED&order_ref=SO-1").await;
    assert_eq!(listed["total"], 1, "{listed}");
    let (_, listed) = app.get("/returns?status=OPEN").await;
    assert_eq!(listed["total"], 0, "{listed}");
    let (status, got) = app.get("/returns/RT-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["lines"][0]["in_quarantine"], 0);
    // The rest of what SO-1 shipped may still come back.
    let (status, body) = app
        .post(
            "/returns",
            &json!({"ref": "RT-2", "order_ref": "SO-1", "lines": [line("W-1", 4)]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.assert_consistent().await;
}

async fn bad_returns_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipped(&app).await;
    app.location("R-01", "receiving").await;
    let ledger = app.count("stock_ledger").await;
    for (body, status, field) in [
        (
            json!({"ref": "RT-1", "lines": [{"sku": "W-1", "qty": 1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].reason_code",
        ),
        (
            json!({"ref": "RT-1", "lines": [{"sku": "W-1", "qty": 1, "reason_code": "OTHER"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].note",
        ),
        (
            json!({"ref": "RT-1", "lines": [line("W-1", 0)]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].qty",
        ),
        (
            json!({"ref": "RT-1", "order_ref": "SO-9", "lines": [line("W-1", 1)]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "order_ref",
        ),
        (
            json!({"ref": "RT-1", "order_ref": "SO-1", "lines": [
                {"sku": "W-1", "qty": 1, "batch_code": "L9", "reason_code": "DAMAGED"}
            ]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].batch_code",
        ),
        (
            json!({"ref": "RT-1", "lines": [
                {"sku": "W-1", "qty": 1, "reason_code": "DAMAGED", "location_code": "A-01"}
            ]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].location_code",
        ),
        (
            json!({"ref": "RT-1", "lines": [line("NOPE", 1)]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].sku",
        ),
        (
            json!({"ref": "RT-1", "warehouse_code": "NOPE", "lines": [line("W-1", 1)]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "warehouse_code",
        ),
    ] {
        let (got, error) = app.post("/returns", &body).await;
        assert_eq!(got, status, "{body} → {error}");
        assert_eq!(
            error["error"]["details"]["field"], field,
            "{body} → {error}"
        );
    }
    assert_eq!(app.count("stock_ledger").await, ledger, "nothing written");
    assert_eq!(app.count("returns").await, 0, "no return either");

    let (status, body) = app
        .post(
            "/returns",
            &json!({"ref": "RT-1", "lines": [line("W-1", 3)]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ledger = app.count("stock_ledger").await;
    for (lines, field) in [
        (
            json!([{"sku": "W-1", "qty": 1, "action": "RESTOCK"}]),
            "lines[0].location_code",
        ),
        (
            json!([{"sku": "W-1", "qty": 1, "action": "SCRAP", "location_code": "A-01"}]),
            "lines[0].location_code",
        ),
        (
            json!([{"sku": "W-1", "qty": 1, "action": "RESTOCK", "location_code": "R-01"}]),
            "lines[0].location_code",
        ),
        (
            json!([{"sku": "W-1", "qty": 1, "action": "BURN"}]),
            "lines[0].action",
        ),
        (
            json!([{"sku": "W-1", "qty": 4, "action": "SCRAP"}]),
            "lines[0].qty",
        ),
        (
            json!([{"sku": "W-1", "qty": 1, "action": "SCRAP", "batch_code": "L1"}]),
            "lines[0].batch_code",
        ),
    ] {
        let (status, error) = app
            .post("/returns/RT-1/dispose", &json!({ "lines": lines }))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{lines} → {error}"
        );
        assert_eq!(error["error"]["details"]["field"], field, "{error}");
    }
    let (status, _) = app
        .post(
            "/returns/NOPE/dispose",
            &json!({"lines": [{"sku": "W-1", "qty": 1, "action": "SCRAP"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/returns/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/returns?status=LOST").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("stock_ledger").await, ledger, "nothing written");
    app.assert_consistent().await;
}

async fn a_return_without_an_order_names_its_lot_and_place(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("W-1", "Water").await;
    app.location("A-01", "storage").await;
    let (status, body) = app
        .post("/locations", &json!({"code": "Q-1", "kind": "quarantine"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Expired goods may come back (that may be why): the date is kept as given.
    let (status, taken) = app
        .post(
            "/returns",
            &json!({"ref": "RT-1", "lines": [
                {"sku": "W-1", "qty": 3, "batch_code": "OLD", "expiry_date": "2001-01-01",
                 "reason_code": "EXPIRED", "location_code": "Q-1"},
                {"sku": "W-1", "qty": 2, "reason_code": "other", "note": "box crushed"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    let lines = taken["return"]["lines"].as_array().unwrap();
    assert_eq!(lines[0]["location_code"], "Q-1");
    assert_eq!(lines[0]["expiry_date"], "2001-01-01");
    assert_eq!(lines[1]["location_code"], "QUARANTINE");
    assert_eq!(lines[1]["batch_code"], "");
    assert_eq!(lines[1]["note"], "box crushed");
    assert_eq!(qty_at(&app, "Q-1").await, 3);

    // A count of the item leaves quarantine out (and A-01, empty, too).
    let (status, count) = app.post("/counts", &json!({"skus": ["W-1"]})).await;
    assert!(status.is_success(), "{count}");
    let codes: Vec<&str> = count["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["location_code"].as_str())
        .collect();
    assert!(codes.is_empty(), "{count}");
    let (status, _) = app
        .post(&format!("/counts/{}/cancel", count["id"]), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Two lots: a disposition names the batch.
    let (status, error) = app
        .post(
            "/returns/RT-1/dispose",
            &json!({"lines": [{"sku": "W-1", "qty": 1, "action": "SCRAP"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "lines[0].sku");
    let (status, done) = app
        .post(
            "/returns/RT-1/dispose",
            &json!({"lines": [
                {"sku": "W-1", "qty": 3, "batch_code": "OLD", "action": "scrap"},
                {"sku": "W-1", "qty": 2, "batch_code": "", "action": "RESTOCK", "location_code": "A-01"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["return"]["status"], "DISPOSED", "{done}");
    assert_eq!(qty_at(&app, "A-01").await, 2);
    assert_eq!(qty_at(&app, "Q-1").await, 0);
    app.assert_consistent().await;
}

async fn two_returns_of_one_order_at_once_take_back_no_more_than_it_shipped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipped(&app).await;
    let first = json!({"ref": "RT-A", "order_ref": "SO-1", "lines": [line("W-1", 4)]});
    let second = json!({"ref": "RT-B", "order_ref": "SO-1", "lines": [line("W-1", 4)]});
    let (a, b) = tokio::join!(app.post("/returns", &first), app.post("/returns", &second));
    let statuses = [a.0, b.0];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::UNPROCESSABLE_ENTITY),
        "{statuses:?}: {} / {}",
        a.1,
        b.1
    );
    assert_eq!(qty_at(&app, "QUARANTINE").await, 4);
    app.assert_consistent().await;
}

async fn a_disposition_sent_twice_at_once_applies_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipped(&app).await;
    let (status, _) = app
        .post(
            "/returns",
            &json!({"ref": "RT-1", "order_ref": "SO-1", "lines": [line("W-1", 4)]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let dispose = json!({"lines": [
        {"sku": "W-1", "qty": 3, "action": "RESTOCK", "location_code": "A-01"}
    ]});
    let (a, b) = tokio::join!(
        app.post("/returns/RT-1/dispose", &dispose),
        app.post("/returns/RT-1/dispose", &dispose)
    );
    assert_eq!(a.0, StatusCode::OK, "{}", a.1);
    assert_eq!(b.0, StatusCode::OK, "{}", b.1);
    let statuses = [a.1["status"].clone(), b.1["status"].clone()];
    assert!(
        statuses.contains(&json!("OK")) && statuses.contains(&json!("IDEMPOTENT")),
        "{statuses:?}"
    );
    assert_eq!(
        qty_at(&app, "A-01").await,
        7,
        "4 left after shipping, 3 restocked once"
    );
    assert_eq!(qty_at(&app, "QUARANTINE").await, 1);
    app.assert_consistent().await;
}

async fn only_managers_dispose(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipped(&app).await;
    let client = |role: Role| {
        let db = app.db().clone();
        async move {
            let (_, secret) = depot::auth::service::create_token(
                &db,
                &format!("T-{}-{}", role.as_str(), fastrand::u32(..)),
                role,
            )
            .await
            .unwrap();
            TestApp::client_with(&secret, reqwest::redirect::Policy::none())
        }
    };
    let (clerk, viewer, manager) = (
        client(Role::Clerk).await,
        client(Role::Viewer).await,
        client(Role::Manager).await,
    );
    let body = json!({"ref": "RT-1", "order_ref": "SO-1", "lines": [line("W-1", 1)]});
    let send = |client: &reqwest::Client, path: &str, body: &Value| {
        client.post(app.url(path)).json(body).send()
    };
    let (status, _) = into_json(send(&viewer, "/returns", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers take nothing back");
    let (status, got) = into_json(send(&clerk, "/returns", &body).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "clerks take returns: {got}");
    let dispose = json!({"lines": [{"sku": "W-1", "qty": 1, "action": "SCRAP"}]});
    let (status, _) = into_json(
        send(&clerk, "/returns/RT-1/dispose", &dispose)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "clerks do not dispose");
    let (status, got) = into_json(
        send(&manager, "/returns/RT-1/dispose", &dispose)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "managers dispose: {got}");
}

async fn depot_check_finds_quarantined_goods_no_return_holds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipped(&app).await;
    let (status, _) = app
        .post(
            "/returns",
            &json!({"ref": "RT-1", "order_ref": "SO-1", "lines": [line("W-1", 3)]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.assert_consistent().await;
    // A return that says it holds less than lies in quarantine, and more than was shipped.
    depot::with_pool!(app.db(), |pool, _backend| sqlx::query(
        "UPDATE return_lines SET qty = 7, scrapped = 5"
    )
    .execute(pool)
    .await
    .map(drop))
    .unwrap();
    let violations = depot::check::find_violations(app.db()).await.unwrap();
    assert!(
        violations.iter().any(|v| matches!(
            v,
            depot::check::Violation::QuarantineNotHeld {
                held: 3,
                returned: 2,
                ..
            }
        )),
        "{violations:?}"
    );
    assert!(
        violations.iter().any(|v| matches!(
            v,
            depot::check::Violation::ReturnedMoreThanShipped {
                returned: 7,
                shipped: 6,
                ..
            }
        )),
        "{violations:?}"
    );
}

/// The pages' forms say what they add and what the page showed (`before`): two of them at
/// once, or one sent twice, never move a unit twice (the check is under the row's lock).
async fn forms_that_add_apply_once_even_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shipped(&app).await;
    let (status, _) = app
        .post(
            "/returns",
            &json!({"ref": "RT-1", "order_ref": "SO-1", "lines": [line("W-1", 5)]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let config = crate::common::test_config();
    let restock = |qty: i64| depot::returns::DisposeReturn {
        lines: vec![depot::returns::DisposeLineInput {
            sku: Some("W-1".into()),
            qty,
            action: "RESTOCK".into(),
            location_code: Some("A-01".into()),
            ..Default::default()
        }],
    };
    let (a, b) = (restock(3), restock(2));
    let (first, second) = tokio::join!(
        depot::returns::service::dispose_adding(app.db(), &config, "RT-1", &a, 0, None),
        depot::returns::service::dispose_adding(app.db(), &config, "RT-1", &b, 0, None)
    );
    let moved: Vec<i64> = [&first, &second]
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.lines[0].moved)
        .collect();
    assert_eq!(
        moved.len(),
        1,
        "one applies, the other was shown an older return"
    );
    let refused = [first, second].into_iter().find_map(Result::err).unwrap();
    assert_eq!(refused.code, depot::error::ErrorCode::Conflict);
    assert_eq!(qty_at(&app, "QUARANTINE").await, 5 - moved[0]);
    // The same form again (it still says 0 before): refused, nothing moves.
    let again =
        depot::returns::service::dispose_adding(app.db(), &config, "RT-1", &a, 0, None).await;
    assert!(again.is_err());
    // With what the page now shows, it adds.
    let more = depot::returns::service::dispose_adding(
        app.db(),
        &config,
        "RT-1",
        &restock(1),
        moved[0],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        more.lines[0].qty,
        moved[0] + 1,
        "the whole quantity restocked there so far"
    );
    assert_eq!(qty_at(&app, "QUARANTINE").await, 4 - moved[0]);
    app.assert_consistent().await;
}
