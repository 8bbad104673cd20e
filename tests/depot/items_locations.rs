//! Items and locations over the JSON API.

use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, TestApp};
use crate::on_both_backends;

on_both_backends!(
    an_item_is_created_listed_and_fetched,
    a_duplicate_sku_is_a_conflict,
    bad_item_fields_are_422_naming_the_field,
    a_location_is_created_and_listed,
    list_paging_is_validated,
);

async fn an_item_is_created_listed_and_fetched(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, item) = app
        .post(
            "/items",
            &json!({"sku": " SKU-1 ", "name": "矿泉水 Mineral water", "spec": "500ml×24"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    assert_eq!(item["sku"], "SKU-1", "trimmed");
    assert_eq!(item["unit"], "pcs", "default unit");
    let id = item["id"].as_i64().unwrap();

    let (status, fetched) = app.get(&format!("/items/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, item);

    let (status, page) = app.get("/items?q=%E7%9F%BF%E6%B3%89").await; // 矿泉
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], id);
    let (_, page) = app.get("/items?q=sku-1").await;
    assert_eq!(page["total"], 1, "case-insensitive sku match");
    let (_, page) = app.get("/items?q=%25").await;
    assert_eq!(page["total"], 0, "% is literal");

    let (status, missing) = app.get("/items/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&missing, "NOT_FOUND");
}

async fn a_duplicate_sku_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, _) = app
        .post("/items", &json!({"sku": "DUP", "name": "first"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, error) = app
        .post("/items", &json!({"sku": "DUP", "name": "second"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&error, "CONFLICT");
    let (_, page) = app.get("/items").await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["name"], "first");
}

async fn bad_item_fields_are_422_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long = "x".repeat(65);
    let cases = [
        (json!({"name": "no sku"}), "sku"),
        (json!({"sku": "", "name": "empty sku"}), "sku"),
        (json!({"sku": long, "name": "long sku"}), "sku"),
        (json!({"sku": "A\u{7}", "name": "bell"}), "sku"),
        (json!({"sku": "A", "name": ""}), "name"),
        (json!({"sku": "A", "name": null}), "name"),
        (json!({"sku": "A", "name": "x", "unit": ""}), "unit"),
        (json!({"sku": "A", "name": "x", "spec": 7}), "spec"),
    ];
    for (body, field) in cases {
        let (status, error) = app.post("/items", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_error(&error, "VALIDATION_FAILED");
        assert_eq!(error["error"]["details"]["field"], field, "{body}");
    }
    let (_, page) = app.get("/items").await;
    assert_eq!(page["total"], 0);
}

async fn a_location_is_created_and_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, location) = app
        .post(
            "/locations",
            &json!({"code": "A-01-03", "name": "Aisle A", "kind": "storage"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{location}");
    assert_eq!(location["kind"], "storage");
    let (status, error) = app
        .post("/locations", &json!({"code": "A-01-03", "kind": "storage"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&error, "CONFLICT");
    let (status, error) = app
        .post("/locations", &json!({"code": "B", "kind": "attic"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["details"]["field"], "kind");
    let (_, page) = app.get("/locations?kind=storage").await;
    assert_eq!(page["total"], 1);
    let (_, page) = app.get("/locations?kind=shipping").await;
    assert_eq!(page["total"], 0);
}

async fn list_paging_is_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for query in ["limit=0", "limit=201", "offset=-1", "limit=abc"] {
        let (status, error) = app.get(&format!("/items?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_error(&error, "VALIDATION_FAILED");
    }
    for n in 0..5 {
        app.post("/items", &json!({"sku": format!("P{n}"), "name": "paged"}))
            .await;
    }
    let (_, first) = app.get("/items?limit=3").await;
    let (_, second) = app.get("/items?limit=3&offset=3").await;
    assert_eq!(first["total"], 5);
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
}
