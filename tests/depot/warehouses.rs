//! Warehouses (issue 33, first step): what there was is warehouse MAIN; admins create more,
//! everyone lists them; a warehouse's time zone is its own or Depot's.

use depot::auth::Role;
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, test_config, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    the_warehouse_there_was_is_main_and_admins_add_more,
    bad_warehouses_are_refused_and_change_nothing,
    only_admins_create_warehouses,
);

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
