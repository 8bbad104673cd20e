//! Warehouses (issue 33): what there was is warehouse MAIN; admins create more, everyone lists
//! them; a warehouse's time zone is its own or Depot's. Every location is in one warehouse, its
//! code unique there; a request names the warehouse its location codes are in (optional while
//! there is one).

use depot::auth::Role;
use depot::db::Backend;
use depot::with_pool;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, test_config, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    the_warehouse_there_was_is_main_and_admins_add_more,
    bad_warehouses_are_refused_and_change_nothing,
    only_admins_create_warehouses,
    locations_are_in_warehouses_and_codes_repeat_across_them,
    movements_name_the_warehouse_their_location_codes_are_in,
    imported_locations_name_their_warehouse,
    a_count_counts_in_one_warehouse,
    an_order_reserves_and_is_picked_in_its_warehouse,
    migration_puts_what_there_was_in_main,
    stock_ledger_feed_and_scans_say_and_filter_by_warehouse,
    the_pages_work_in_the_warehouse_the_device_chose,
    today_for_expiry_is_the_warehouses_own,
);

/// MAIN and SH, each with a shelf `A-01` holding `W-1`: 5 in MAIN, 7 in SH. Answers the item
/// and the two shelves' ids (MAIN's, SH's).
async fn two_warehouses(app: &TestApp) -> (i64, i64, i64) {
    let item = app.item("W-1", "Water").await;
    let main = app.location("A-01", "storage").await;
    let (status, _) = app
        .post("/warehouses", &json!({"code": "SH", "name": "上海仓"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, sh) = app
        .post(
            "/locations",
            &json!({"warehouse_code": "SH", "code": "A-01", "kind": "storage"}),
        )
        .await;
    let sh = sh["id"].as_i64().unwrap();
    for (warehouse, qty) in [("MAIN", 5), ("SH", 7)] {
        let (status, body) = app
            .post(
                "/inbound/receive",
                &json!({"ref": format!("R-{warehouse}"), "warehouse_code": warehouse, "lines": [
                    {"sku": "W-1", "location_code": "A-01", "qty": qty, "batch_code": "L1"}
                ]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    (item, main, sh)
}

async fn the_warehouse_there_was_is_main_and_admins_add_more(backend: Backend) {
    let mut config = test_config();
    config.timezone = chrono_tz::Asia::Shanghai;
    let app = TestApp::spawn_with(TestDb::new(backend).await, config).await;

    let (status, list) = app.get("/warehouses").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["warehouses"].as_array().unwrap().len(), 1, "{list}");
    let main = &list["warehouses"][0];
    assert_eq!(main["code"], "MAIN");
    assert_eq!(main["name"], "主仓 Main");
    // It names no zone of its own: it follows DEPOT_TIMEZONE.
    assert_eq!(main["timezone"], "Asia/Shanghai");

    let (status, sh) = app
        .post(
            "/warehouses",
            &json!({"code": " SH ", "name": "上海仓 Shanghai"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sh}");
    assert_eq!(sh["code"], "SH", "trimmed");
    assert_eq!(
        sh["timezone"], "Asia/Shanghai",
        "Depot's zone when none is given"
    );
    let (status, ber) = app
        .post(
            "/warehouses",
            &json!({"code": "BER", "name": "Berlin", "timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ber}");
    assert_eq!(ber["timezone"], "Europe/Berlin");

    let (_, list) = app.get("/warehouses").await;
    let codes: Vec<&str> = list["warehouses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["BER", "MAIN", "SH"], "by code");
}

async fn bad_warehouses_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, _) = app
        .post("/warehouses", &json!({"code": "SH", "name": "Shanghai"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let before = app.count("warehouses").await;

    for (body, field) in [
        (json!({"code": "", "name": "x"}), "code"),
        (json!({"code": "X", "name": ""}), "name"),
        (json!({"code": "X".repeat(33), "name": "x"}), "code"),
        (
            json!({"code": "X", "name": "x", "timezone": "Mars/Olympus"}),
            "timezone",
        ),
    ] {
        let (status, error) = app.post("/warehouses", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {error}");
        assert_error(&error, "VALIDATION_FAILED");
        assert_eq!(error["error"]["details"]["field"], field, "{error}");
    }
    let (status, error) = app
        .post("/warehouses", &json!({"code": "SH", "name": "again"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_error(&error, "CONFLICT");
    assert_eq!(error["error"]["details"]["field"], "code");
    let (status, error) = app
        .post(
            "/warehouses",
            &json!({"code": "X", "name": "x", "city": "?"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field: {error}"
    );
    assert_eq!(app.count("warehouses").await, before);
}

async fn only_admins_create_warehouses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for role in [Role::Viewer, Role::Clerk, Role::Manager] {
        let (_, secret) =
            depot::auth::service::create_token(app.db(), &format!("T-{}", role.as_str()), role)
                .await
                .unwrap();
        let client = TestApp::client_with(&secret, reqwest::redirect::Policy::none());
        let answer = client
            .post(app.url("/warehouses"))
            .json(&json!({"code": "SH", "name": "Shanghai"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{}", role.as_str());
        let listed = client.get(app.url("/warehouses")).send().await.unwrap();
        assert_eq!(listed.status(), StatusCode::OK, "{} lists", role.as_str());
    }
    assert_eq!(app.count("warehouses").await, 1);
}

async fn locations_are_in_warehouses_and_codes_repeat_across_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // One warehouse: it need not be named.
    let (status, a01) = app
        .post("/locations", &json!({"code": "A-01", "kind": "storage"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a01}");
    assert_eq!(a01["warehouse_code"], "MAIN");

    let (status, _) = app
        .post("/warehouses", &json!({"code": "SH", "name": "上海仓"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let before = app.count("locations").await;
    // Two: a new location must say where.
    for (body, field) in [
        (json!({"code": "A-02", "kind": "storage"}), "warehouse_code"),
        (
            json!({"warehouse_code": "NOPE", "code": "A-02", "kind": "storage"}),
            "warehouse_code",
        ),
        (
            json!({"warehouse_code": "", "code": "A-02", "kind": "storage"}),
            "warehouse_code",
        ),
    ] {
        let (status, error) = app.post("/locations", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {error}");
        assert_error(&error, "VALIDATION_FAILED");
        assert_eq!(error["error"]["details"]["field"], field, "{error}");
    }
    assert_eq!(app.count("locations").await, before, "nothing written");

    // The same code in another warehouse is another location.
    let (status, sh_a01) = app
        .post(
            "/locations",
            &json!({"warehouse_code": "SH", "code": "A-01", "kind": "storage"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sh_a01}");
    assert_eq!(sh_a01["warehouse_code"], "SH");
    assert_ne!(sh_a01["id"], a01["id"]);
    let (status, error) = app
        .post(
            "/locations",
            &json!({"warehouse_code": "SH", "code": "A-01", "kind": "storage"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["error"]["details"]["field"], "code");

    let (_, all) = app.get("/locations").await;
    let listed: Vec<(&str, &str)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["warehouse_code"].as_str().unwrap(),
                l["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("MAIN", "A-01"), ("SH", "A-01")], "{all}");
    let (_, sh) = app.get("/locations?warehouse=SH").await;
    assert_eq!(sh["total"], 1, "{sh}");
    assert_eq!(sh["items"][0]["id"], sh_a01["id"]);
    let (status, error) = app.get("/locations?warehouse=NOPE").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "warehouse");
}

async fn movements_name_the_warehouse_their_location_codes_are_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let item = app.item("W-1", "Water").await;
    let main_a01 = app.location("A-01", "storage").await;
    let receive = |warehouse: Option<&str>, r#ref: &str, qty: i64| {
        let mut body = json!({"ref": r#ref, "lines": [
            {"sku": "W-1", "location_code": "A-01", "qty": qty, "batch_code": "L1"}
        ]});
        if let Some(code) = warehouse {
            body["warehouse_code"] = json!(code);
        }
        body
    };
    // One warehouse: naming it is optional.
    let (status, body) = app.post("/inbound/receive", &receive(None, "R-1", 5)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["location_id"], main_a01);

    let (_, _) = app
        .post("/warehouses", &json!({"code": "SH", "name": "上海仓"}))
        .await;
    let (_, sh_a01) = app
        .post(
            "/locations",
            &json!({"warehouse_code": "SH", "code": "A-01", "kind": "storage"}),
        )
        .await;
    let sh_a01 = sh_a01["id"].as_i64().unwrap();
    let ledger = app.count("stock_ledger").await;

    // Two: a location code alone names nothing; an unknown warehouse names nothing.
    for body in [receive(None, "R-2", 3), receive(Some("NOPE"), "R-2", 3)] {
        let (status, error) = app.post("/inbound/receive", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {error}");
        assert_error(&error, "VALIDATION_FAILED");
        assert_eq!(
            error["error"]["details"]["field"], "warehouse_code",
            "{error}"
        );
    }
    // A location named by id must be in the warehouse named.
    let (status, error) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "R-2", "warehouse_code": "MAIN", "lines": [
                {"sku": "W-1", "location_id": sh_a01, "qty": 3, "batch_code": "L1"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "lines[0].location_code");
    assert_eq!(app.count("stock_ledger").await, ledger, "nothing written");

    let (status, body) = app
        .post("/inbound/receive", &receive(Some("SH"), "R-2", 3))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["location_id"], sh_a01);
    // By id alone, no warehouse is needed.
    let (status, body) = app
        .post(
            "/outbound/commit",
            &json!({"ref": "O-1", "lines": [{"item_id": item, "location_id": sh_a01, "qty": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/outbound/commit",
            &json!({"ref": "O-2", "warehouse_code": "MAIN", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 2}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.stock_qty(item, main_a01).await, 3);
    assert_eq!(app.stock_qty(item, sh_a01).await, 2);
    app.assert_consistent().await;
}

async fn imported_locations_name_their_warehouse(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, _) = app
        .post("/warehouses", &json!({"code": "SH", "name": "上海仓"}))
        .await;
    let import = |csv: &'static str| app.post_raw("/import/locations", "text/csv", csv.into());
    let (status, report) = import("仓库,库位,库位类型\nMAIN,A-01,存储\nSH,A-01,存储\n").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (_, sh) = app.get("/locations?warehouse=SH").await;
    assert_eq!(sh["total"], 1, "{sh}");
    let (_, main) = app.get("/locations?warehouse=MAIN").await;
    assert_eq!(main["total"], 1, "{main}");

    let before = app.count("locations").await;
    let (status, report) =
        import("warehouse_code,code,kind\n,B-01,storage\nXX,B-02,storage\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    let errors: Vec<(i64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [(2, "warehouse_code"), (3, "warehouse_code")],
        "{report}"
    );
    assert_eq!(
        app.count("locations").await,
        before,
        "nothing written: {report}"
    );
}

async fn a_count_counts_in_one_warehouse(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, main, sh) = two_warehouses(&app).await;
    let (status, error) = app
        .post("/counts", &json!({"location_codes": ["A-01"]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "warehouse_code");
    assert_eq!(app.count("counts").await, 0);

    // By location: SH's A-01 only.
    let (status, count) = app
        .post(
            "/counts",
            &json!({"warehouse_code": "SH", "location_codes": ["A-01"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{count}");
    assert_eq!(count["warehouse_code"], "SH");
    let lines = count["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{count}");
    assert_eq!(lines[0]["location_id"], sh);
    assert_eq!(lines[0]["expected_qty"], 7);
    let id = count["id"].as_i64().unwrap();
    // A line names its location by the count's warehouse.
    let (status, body) = app
        .post(
            &format!("/counts/{id}/lines"),
            &json!({"sku": "W-1", "location_code": "A-01", "counted_qty": 6}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.stock_qty(item, sh).await, 6);
    assert_eq!(app.stock_qty(item, main).await, 5, "MAIN's A-01 untouched");

    // By item: the item's stock in the count's warehouse only.
    let (status, count) = app
        .post(
            "/counts",
            &json!({"warehouse_code": "MAIN", "skus": ["W-1"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{count}");
    let located: Vec<i64> = count["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["location_id"].as_i64().unwrap())
        .collect();
    assert_eq!(located, [main], "{count}");

    let (_, listed) = app.get("/counts?warehouse=SH").await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["counts"][0]["warehouse_code"], "SH");
    let (_, listed) = app.get("/counts").await;
    assert_eq!(listed["total"], 2, "{listed}");
    app.assert_consistent().await;
}

async fn an_order_reserves_and_is_picked_in_its_warehouse(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, main, sh) = two_warehouses(&app).await;
    let before = app.count("orders").await;
    for body in [
        json!({"ref": "SO-1", "lines": [{"sku": "W-1", "qty": 2}]}),
        json!({"ref": "SO-1", "warehouse_code": "NOPE", "lines": [{"sku": "W-1", "qty": 2}]}),
    ] {
        let (status, error) = app.post("/orders", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["error"]["details"]["field"], "warehouse_code");
    }
    assert_eq!(app.count("orders").await, before);

    // SH has 7: an order for 9 from SH gets 7, never MAIN's 5.
    let (status, order) = app
        .post(
            "/orders",
            &json!({"ref": "SO-1", "warehouse_code": "SH", "lines": [{"sku": "W-1", "qty": 9}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order = &order["order"];
    assert_eq!(order["warehouse_code"], "SH");
    assert_eq!(order["lines"][0]["reserved"], 7, "{order}");
    assert_eq!(order["lines"][0]["backordered"], 2);
    // A pick names A-01: SH's, the order's warehouse.
    let (status, picked) = app
        .post(
            "/orders/SO-1/pick",
            &json!({"lines": [{"location_code": "A-01", "sku": "W-1", "qty": 7}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{picked}");
    let (status, shipped) = app.post("/orders/SO-1/ship", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{shipped}");
    assert_eq!(app.stock_qty(item, sh).await, 0);
    assert_eq!(app.stock_qty(item, main).await, 5, "MAIN's stock untouched");

    let (_, listed) = app.get("/orders?warehouse=SH").await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["orders"][0]["warehouse_code"], "SH");
    let (_, listed) = app.get("/orders?warehouse=MAIN").await;
    assert_eq!(listed["total"], 0, "{listed}");
    app.assert_consistent().await;
}

async fn migration_puts_what_there_was_in_main(backend: Backend) {
    let test_db = TestDb::empty(backend).await;
    test_db
        .db
        .migrate_schema_until(17)
        .await
        .expect("migrations 1–17 apply");
    // What an older Depot held: a location with an (empty) stock, a count of it, an order.
    let (location, stock) = with_pool!(&test_db.db, |pool, _backend| {
        let item: i64 = sqlx::query_scalar(
            "INSERT INTO items (sku, name, search_text) VALUES ('OLD-1', 'Old', '') \
             RETURNING id",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let location: i64 = sqlx::query_scalar(
            "INSERT INTO locations (code, kind, search_text) VALUES ('OLD-A', 'storage', '') \
             RETURNING id",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let stock: i64 = sqlx::query_scalar(
            "INSERT INTO stocks (item_id, location_id, qty) VALUES ($1, $2, 0) RETURNING id",
        )
        .bind(item)
        .bind(location)
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO counts (status, blind, scope_kind, created_at) \
             VALUES ('CANCELLED', FALSE, 'locations', '2026-01-01T00:00:00Z')",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO orders (ref, policy, status, created_at, updated_at, search_text) \
             VALUES ('SO-OLD', 'partial', 'CANCELLED', '2026-01-01T00:00:00Z', \
                     '2026-01-01T00:00:00Z', 'so-old')",
        )
        .execute(pool)
        .await
        .unwrap();
        (location, stock)
    });
    depot::cli::migrate(&test_db.db)
        .await
        .expect("migration 0018 applies over them");
    let app = TestApp::spawn_with(test_db, test_config()).await;

    let (_, locations) = app.get("/locations").await;
    assert_eq!(locations["items"][0]["id"], location, "{locations}");
    assert_eq!(locations["items"][0]["warehouse_code"], "MAIN");
    let (_, count) = app.get("/counts/1").await;
    assert_eq!(count["warehouse_code"], "MAIN", "{count}");
    let (_, order) = app.get("/orders/SO-OLD").await;
    assert_eq!(order["order"]["warehouse_code"], "MAIN", "{order}");
    // The stock still refers to its location: a receipt there tops up the same row.
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "R-NEW", "lines": [
                {"sku": "OLD-1", "location_code": "OLD-A", "qty": 3, "batch_code": "B"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.count("stocks").await, 1);
    let stock_now: i64 = with_pool!(app.db(), |pool, _backend| sqlx::query_scalar(
        "SELECT id FROM stocks WHERE location_id = $1"
    )
    .bind(location)
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(stock_now, stock);
    // Foreign keys are enforced again after the rebuild.
    let orphan = with_pool!(app.db(), |pool, _backend| sqlx::query(
        "INSERT INTO stocks (item_id, location_id, qty) VALUES (1, 999999, 0)"
    )
    .execute(pool)
    .await
    .map(drop));
    assert!(orphan.is_err(), "a stock at no location is refused");
    app.assert_consistent().await;
}

async fn stock_ledger_feed_and_scans_say_and_filter_by_warehouse(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, main, sh) = two_warehouses(&app).await;

    let (status, all) = app.get("/stock/query?sku=W-1").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let rows: Vec<(&str, i64)> = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["warehouse_code"].as_str().unwrap(),
                r["qty"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("MAIN", 5), ("SH", 7)], "{all}");
    let (_, sh_only) = app.get("/stock/query?sku=W-1&warehouse=SH").await;
    assert_eq!(sh_only["total"], 1, "{sh_only}");
    assert_eq!(sh_only["rows"][0]["location_id"], sh);
    let (status, error) = app.get("/stock/query?warehouse=NOPE").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "warehouse");

    let (_, ledger) = app.get("/ledger?warehouse=MAIN").await;
    assert_eq!(ledger["total"], 1, "{ledger}");
    assert_eq!(ledger["rows"][0]["warehouse_code"], "MAIN");
    assert_eq!(ledger["rows"][0]["location_id"], main);
    let (_, ledger) = app.get("/ledger").await;
    assert_eq!(ledger["total"], 2, "{ledger}");
    let (status, error) = app.get("/ledger?warehouse=NOPE").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");

    // The change feed's entries say where.
    let (_, feed) = app.get("/events").await;
    let wheres: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["warehouse_code"].as_str().unwrap())
        .collect();
    assert_eq!(wheres, ["MAIN", "SH"], "{feed}");

    // A location code in two warehouses: the scan asks which.
    let (status, error) = app.get("/scan?code=A-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["details"]["field"], "warehouse");
    let (status, scan) = app.get("/scan?code=A-01&warehouse=SH").await;
    assert_eq!(status, StatusCode::OK, "{scan}");
    assert_eq!(scan["location"]["id"], sh);
    assert_eq!(scan["location"]["warehouse_code"], "SH");

    // Exports carry the column.
    let csv = app
        .browser()
        .get(app.url("/export/stock?warehouse=SH"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].contains("warehouse_code"), "{csv}");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains(",SH,"), "{csv}");
}

async fn the_pages_work_in_the_warehouse_the_device_chose(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (item, main, sh) = two_warehouses(&app).await;
    let html = "text/html";
    let client = app.browser();
    let page = |path: &'static str, cookie: Option<&'static str>| {
        let mut request = client.get(app.url(path)).header("accept", html);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    // Several warehouses and none chosen: the header asks for one.
    let (status, body) = page("/warehouses", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Choose a warehouse"), "{body}");
    assert!(body.contains("/warehouses/use/SH"), "{body}");

    // Choosing one is a cookie (so any node knows it), and back to the page.
    let response = client
        .get(app.url("/warehouses/use/SH"))
        .header("accept", html)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/warehouses");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("depot_warehouse=SH;"), "{cookie}");
    let response = client
        .get(app.url("/warehouses/use/NOPE"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "an unknown one is not kept"
    );

    let (_, body) = page("/", Some("depot_warehouse=SH")).await;
    let chip = body
        .split_once("class=\"warehouse-chip")
        .and_then(|(_, rest)| rest.split_once("</a>"))
        .map(|(chip, _)| chip.to_string())
        .unwrap_or_default();
    assert!(
        chip.contains("Warehouse") && chip.contains(">SH<"),
        "the header says where: {chip}"
    );

    // A form without JavaScript ships from the chosen warehouse's A-01.
    let form = crate::origin::form_body(&[
        ("reference", "SO-PAGE"),
        ("lines[0][sku]", "W-1"),
        ("lines[0][location_code]", "A-01"),
        ("lines[0][qty]", "2"),
        ("lines[0][batch_code]", ""),
    ]);
    let response = client
        .post(app.url("/api/ship_order"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", html)
        .header("origin", app.base.as_str())
        .header("cookie", "depot_warehouse=SH")
        .body(form)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(app.stock_qty(item, sh).await, 5);
    assert_eq!(app.stock_qty(item, main).await, 5, "MAIN's A-01 untouched");
    app.assert_consistent().await;
}

/// Issue 33: "today" (what has expired) follows a warehouse's own time zone. The tests live at
/// 2026-06-15 12:00 UTC: still the 15th at MAIN (Depot's zone, UTC), already the 16th at KI
/// (Pacific/Kiritimati, UTC+14).
async fn today_for_expiry_is_the_warehouses_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("W-1", "Water").await;
    app.location("A-01", "storage").await;
    let (status, body) = app
        .post(
            "/warehouses",
            &json!({"code": "KI", "name": "Kiritimati", "timezone": "Pacific/Kiritimati"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = app
        .post(
            "/locations",
            &json!({"warehouse_code": "KI", "code": "K-01", "kind": "storage"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let receive = |warehouse: &str, location: &str, r: &str, expiry: &str| {
        json!({"ref": r, "warehouse_code": warehouse, "lines": [
            {"sku": "W-1", "location_code": location, "qty": 5, "batch_code": format!("L{expiry}"), "expiry_date": expiry}
        ]})
    };
    let (status, body) = app
        .post(
            "/inbound/receive",
            &receive("MAIN", "A-01", "R-1", "2026-06-15"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the 15th has not passed at MAIN: {body}"
    );
    let (status, error) = app
        .post(
            "/inbound/receive",
            &receive("KI", "K-01", "R-2", "2026-06-15"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "it has at KI: {error}"
    );
    assert_eq!(error["error"]["details"]["field"], "lines[0].expiry_date");
    let (status, body) = app
        .post(
            "/inbound/receive",
            &receive("KI", "K-01", "R-3", "2026-06-16"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The 15th's lot, sent to KI by name, is expired there: KI's orders do not reserve it,
    // MAIN's do.
    let (status, body) = app
        .post(
            "/transfers",
            &json!({"ref": "T-1", "from_warehouse": "MAIN", "to_warehouse": "KI", "lines": [
                {"sku": "W-1", "location_code": "A-01", "qty": 2, "batch_code": "L2026-06-15"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/transfers/T-1/receive",
            &json!({"lines": [{"sku": "W-1", "location_code": "K-01", "qty": 2}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, order) = app
        .post(
            "/orders",
            &json!({"ref": "SO-KI", "warehouse_code": "KI", "lines": [{"sku": "W-1", "qty": 7}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(
        order["order"]["lines"][0]["reserved"], 5,
        "only the 16th's lot is usable at KI: {order}"
    );
    let (status, order) = app
        .post(
            "/orders",
            &json!({"ref": "SO-MAIN", "warehouse_code": "MAIN", "lines": [{"sku": "W-1", "qty": 3}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["order"]["lines"][0]["reserved"], 3, "{order}");
    // Shipping from KI without an order: its expired lot is not taken.
    let (status, error) = app
        .post(
            "/outbound/commit",
            &json!({"ref": "O-1", "warehouse_code": "KI", "atomic": true, "lines": [
                {"sku": "W-1", "location_code": "K-01", "qty": 1}
            ]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "all 5 usable are reserved: {error}"
    );
    app.assert_consistent().await;
}
