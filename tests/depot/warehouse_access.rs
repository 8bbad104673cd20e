//! Who may work where (issue 33): a token or a user limited to warehouses touches no other —
//! a movement, order, count, transfer or return there is 403 `FORBIDDEN` and changes nothing —
//! works in its only warehouse without naming it, and lists only its rows.

use depot::auth::Role;
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, cookie_pair, into_json, sign_in, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_token_limited_to_one_warehouse_works_only_there,
    limits_name_known_warehouses_and_can_be_lifted,
    pages_show_a_limited_user_only_their_warehouse,
);

/// MAIN's A-01 and SH's B-01 each hold 10 of W-1; MAIN has an order SO-MAIN.
async fn two_warehouses(app: &TestApp) {
    app.item("W-1", "Water").await;
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
    for (warehouse, location) in [("MAIN", "A-01"), ("SH", "B-01")] {
        let (status, body) = app
            .post(
                "/inbound/receive",
                &json!({"ref": format!("R-{warehouse}"), "warehouse_code": warehouse, "lines": [
                    {"sku": "W-1", "location_code": location, "qty": 10}
                ]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = app
        .post(
            "/orders",
            &json!({"ref": "SO-MAIN", "warehouse_code": "MAIN", "lines": [{"sku": "W-1", "qty": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

struct Limited<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
}

impl Limited<'_> {
    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        into_json(
            self.client
                .post(self.app.url(path))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        into_json(self.client.get(self.app.url(path)).send().await.unwrap()).await
    }
}

async fn a_token_limited_to_one_warehouse_works_only_there(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let (_, secret) =
        depot::auth::service::create_token_in(app.db(), "sh", Role::Manager, &["SH".into()])
            .await
            .unwrap();
    let sh = Limited {
        app: &app,
        client: TestApp::client_with(&secret, reqwest::redirect::Policy::none()),
    };
    let ledger = app.count("stock_ledger").await;
    let a01 = depot::with_pool!(app.db(), |pool, _backend| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM locations WHERE code = 'A-01'"
    )
    .fetch_one(pool)
    .await)
    .unwrap();

    // Refused in MAIN, however it is named.
    for (path, body) in [
        (
            "/inbound/receive",
            json!({"ref": "R-X", "warehouse_code": "MAIN", "lines": [{"sku": "W-1", "location_code": "A-01", "qty": 1}]}),
        ),
        (
            "/inbound/receive",
            json!({"ref": "R-Y", "lines": [{"sku": "W-1", "location_id": a01, "qty": 1}]}),
        ),
        (
            "/outbound/commit",
            json!({"ref": "O-X", "warehouse_code": "MAIN", "lines": [{"sku": "W-1", "location_code": "A-01", "qty": 1}]}),
        ),
        (
            "/orders",
            json!({"ref": "SO-X", "warehouse_code": "MAIN", "lines": [{"sku": "W-1", "qty": 1}]}),
        ),
        ("/orders/SO-MAIN/cancel", json!({})),
        (
            "/counts",
            json!({"warehouse_code": "MAIN", "skus": ["W-1"]}),
        ),
        (
            "/transfers",
            json!({"ref": "T-X", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [{"sku": "W-1", "location_code": "A-01", "qty": 1}]}),
        ),
        (
            "/returns",
            json!({"ref": "RT-X", "warehouse_code": "MAIN", "lines": [{"sku": "W-1", "qty": 1, "reason_code": "DAMAGED"}]}),
        ),
    ] {
        let (status, error) = sh.post(path, &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {error}");
        assert_error(&error, "FORBIDDEN");
    }
    assert_eq!(app.count("stock_ledger").await, ledger, "nothing written");
    assert_eq!(app.count("orders").await, 1);
    assert_eq!(app.count("counts").await, 0);
    let (status, _) = sh.get("/orders?warehouse=MAIN").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // In SH without naming it.
    let (status, body) = sh
        .post(
            "/inbound/receive",
            &json!({"ref": "R-SH-2", "lines": [{"sku": "W-1", "location_code": "B-01", "qty": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = sh
        .post(
            "/orders",
            &json!({"ref": "SO-SH", "lines": [{"sku": "W-1", "qty": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["order"]["warehouse_code"], "SH");
    // Sending from SH to MAIN is SH's work; receiving it is MAIN's.
    let (status, body) = sh
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "SH", "to_warehouse": "MAIN", "lines": [
                {"sku": "W-1", "location_code": "B-01", "qty": 2}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, error) = sh
        .post(
            "/transfers/T-1/receive",
            &json!({"lines": [{"sku": "W-1", "location_code": "A-01", "qty": 2}]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");

    // Its lists are SH's.
    let (_, orders) = sh.get("/orders").await;
    assert_eq!(orders["total"], 1, "{orders}");
    assert_eq!(orders["orders"][0]["ref"], "SO-SH");
    let (_, stock) = sh.get("/stock/query?sku=W-1").await;
    assert!(
        stock["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["warehouse_code"] == "SH"),
        "{stock}"
    );
    let (_, ledger) = sh.get("/ledger").await;
    assert!(
        ledger["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["warehouse_code"] == "SH"),
        "{ledger}"
    );
    // So are its exports (their rows are read after the handler).
    let csv = sh
        .client
        .get(app.url("/export/stock"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().skip(1).collect();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.contains(",SH,")),
        "{csv}"
    );
    let ledger_csv = sh
        .client
        .get(app.url("/export/ledger"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!ledger_csv.contains(",MAIN,"), "{ledger_csv}");
    let refused = sh
        .client
        .get(app.url("/export/stock?warehouse=MAIN"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (_, everything) = app.get("/orders").await;
    assert_eq!(everything["total"], 2, "an unlimited token sees both");
    app.assert_consistent().await;
}

async fn limits_name_known_warehouses_and_can_be_lifted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let error = depot::auth::service::create_token_in(
        app.db(),
        "nowhere",
        Role::Clerk,
        &["SH".into(), "NOPE".into()],
    )
    .await
    .unwrap_err();
    assert_eq!(error.code, depot::error::ErrorCode::ValidationFailed);
    assert_eq!(app.count("api_tokens").await, 1, "no token made");
    let password = depot::auth::password::Password::parse("password", "long enough 1").unwrap();
    depot::auth::service::create_user_in(app.db(), "li", Role::Clerk, &password, &["SH".into()])
        .await
        .unwrap();
    let user = depot::auth::service::check_password(app.db(), "li", "long enough 1")
        .await
        .unwrap()
        .unwrap();
    let codes: Vec<&str> = user.warehouses.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(codes, ["SH"]);
    depot::auth::service::limit_user(app.db(), "li", &[])
        .await
        .unwrap();
    let user = depot::auth::service::enabled_user(app.db(), user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(user.warehouses.is_empty(), "lifted: every warehouse");
}

/// Server-side rendering reads a page's data on tasks of their own: the limit still holds
/// there (a user limited to SH sees SH's orders on /orders, not MAIN's).
async fn pages_show_a_limited_user_only_their_warehouse(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    two_warehouses(&app).await;
    let (status, body) = app
        .post(
            "/orders",
            &json!({"ref": "SO-SH", "warehouse_code": "SH", "lines": [{"sku": "W-1", "qty": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let password = depot::auth::password::Password::parse("password", "long enough 1").unwrap();
    depot::auth::service::create_user_in(app.db(), "li", Role::Clerk, &password, &["SH".into()])
        .await
        .unwrap();
    let (status, cookie) = sign_in(&app, "li", "long enough 1").await;
    assert_eq!(status, StatusCode::OK);
    let cookie = cookie_pair(&cookie.expect("a session"));
    let body = reqwest::Client::new()
        .get(app.url("/orders"))
        .header("accept", "text/html")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("data-order=\"SO-SH\""), "{body}");
    assert!(
        !body.contains("data-order=\"SO-MAIN\""),
        "MAIN's order is not theirs"
    );
}
