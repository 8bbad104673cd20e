//! The server's HTTP behaviour: health, the error shape for malformed, oversized and unrouted
//! requests, request ids.

use std::time::Duration;

use depot::config::Config;
use depot::db::{Backend, Db};
use depot::with_pool;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::common::{app_state, assert_error, into_json, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    healthz_answers_ok_when_the_database_answers,
    healthz_answers_503_when_the_database_is_gone,
    malformed_json_is_400_and_writes_nothing,
    a_body_over_one_mebibyte_is_413,
    an_unknown_route_is_404_in_the_error_shape,
    an_unknown_page_is_a_404_page_for_browsers,
    every_response_carries_a_request_id,
    a_request_stuck_on_a_lock_times_out_with_503_and_writes_nothing,
    a_page_or_json_path_answers_by_accept_and_varies_on_it,
);

async fn healthz_answers_ok_when_the_database_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok", "database": "ok"}));
}

async fn healthz_answers_503_when_the_database_is_gone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.db().close().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(
        response.headers().get("retry-after").is_some(),
        "Retry-After set"
    );
    let (status, body) = into_json(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&body, "UNAVAILABLE");
}

/// A PostgreSQL server that does not answer at all (nothing listens on the port).
#[tokio::test]
async fn healthz_answers_503_when_postgres_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/depot"))
        .unwrap();
    let state = app_state(Db::Postgres(pool), crate::common::test_config());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, depot::server::router(state)).await });
    let response = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "2");
    let (status, body) = into_json(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&body, "UNAVAILABLE");
    assert!(
        !body.to_string().contains("Connection refused"),
        "no internals leak: {body}"
    );
}

async fn count_items(app: &TestApp) -> i64 {
    with_pool!(app.db(), |pool, _backend| sqlx::query_scalar(
        "SELECT COUNT(*) FROM items"
    )
    .fetch_one(pool)
    .await
    .unwrap())
}

async fn malformed_json_is_400_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for body in [
        &b"{"[..],
        b"{\"sku\": \"A\", \"name\": }",
        b"",
        b"not json",
        b"{\"sku\":\"A\",\"name\":\"B\"} x",
    ] {
        let (status, error) = app
            .post_raw("/items", "application/json", body.to_vec())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_error(&error, "MALFORMED_REQUEST");
    }
    let (status, error) = app
        .post_raw(
            "/items",
            "text/plain",
            br#"{"sku": "A", "name": "B"}"#.to_vec(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a JSON body needs the JSON content type"
    );
    assert_error(&error, "MALFORMED_REQUEST");
    let (status, error) = app.post("/items", &json!({"sku": 5, "name": "B"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&error, "VALIDATION_FAILED");
    assert_eq!(error["error"]["details"]["field"], "sku");
    assert_eq!(count_items(&app).await, 0, "refused requests write nothing");
}

async fn a_body_over_one_mebibyte_is_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    // Announced by Content-Length and sent whole by an ordinary client: the client is still
    // writing when the refusal is ready, and must read the 413, not a reset connection. (8 MiB:
    // more than loopback socket buffers absorb, so the client is surely still writing.)
    let padding = "x".repeat(8 * 1024 * 1024);
    let json = format!(r#"{{"sku": "BIG", "name": "big", "spec": "{padding}"}}"#);
    for _ in 0..3 {
        let response = app
            .client
            .post(app.url("/items"))
            .header("content-type", "application/json")
            .body(json.clone())
            .send()
            .await
            .expect("the refusal reaches the client");
        let (status, body) = into_json(response).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_error(&body, "PAYLOAD_TOO_LARGE");
    }

    // Announced with `Expect: 100-continue`: refused before a byte of the body is sent.
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = "POST /items HTTP/1.1\r\nHost: depot\r\nContent-Type: application/json\r\n\
                Content-Length: 2097152\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    let body: serde_json::Value =
        serde_json::from_str(raw.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_error(&body, "PAYLOAD_TOO_LARGE");

    // Streamed without a length: refused while reading, once past 1 MiB.
    let json = json.into_bytes();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        json.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let request = axum::http::Request::post("/items")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", app.token))
        .body(axum::body::Body::from_stream(futures_util::stream::iter(
            chunks,
        )))
        .unwrap();
    let response = depot::server::router(app_state(app.db().clone(), crate::common::test_config()))
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_error(
        &serde_json::from_slice(&bytes).unwrap(),
        "PAYLOAD_TOO_LARGE",
    );
    assert_eq!(count_items(&app).await, 0);
}

async fn an_unknown_route_is_404_in_the_error_shape(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get("/no/such/route").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "NOT_FOUND");
    let (status, body) = app.post("/outbound/nope", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "NOT_FOUND");
}

async fn an_unknown_page_is_a_404_page_for_browsers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(app.url("/no-such-page"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "client-chosen-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-request-id"],
        "client-chosen-1",
        "a client's id is kept"
    );
}

async fn a_request_stuck_on_a_lock_times_out_with_503_and_writes_nothing(backend: Backend) {
    let config = Config {
        request_timeout: Duration::from_millis(1500),
        ..crate::common::test_config()
    };
    let app = TestApp::spawn_with(TestDb::new(backend).await, config).await;
    app.item("SKU-1", "Rice").await;
    app.location("A-01", "storage").await;
    let receipt =
        json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 5}]});
    assert_eq!(
        app.post("/inbound/receive", &receipt).await.0,
        StatusCode::OK
    );
    let before = app.footprint().await;

    // Another writer holds the lock the outbound needs (SQLite: the database's write lock,
    // PostgreSQL: the stock row) for longer than the request may take.
    let mut blocker = app.db().begin_write().await.unwrap();
    depot::with_tx!(&mut blocker, |conn, _backend| {
        sqlx::query("UPDATE stocks SET qty = qty WHERE item_id = (SELECT id FROM items WHERE sku = 'SKU-1')")
            .execute(&mut *conn)
            .await
            .map(drop)
            .unwrap()
    });
    let order =
        json!({"ref": "SO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 2}]});
    let response = app
        .client
        .post(app.url("/outbound/commit"))
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "2");
    let (status, body) = into_json(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_error(&body, "UNAVAILABLE");
    drop(blocker);
    assert_eq!(
        app.footprint().await,
        before,
        "the abandoned request wrote nothing"
    );

    // The retry with the same ref ships once.
    let (status, body) = app.post("/outbound/commit", &order).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["status"], "OK");
    assert_eq!(body["lines"][0]["after_qty"], 3);
    app.assert_consistent().await;
}

/// Whether `response` says it was chosen by the request's `Accept` header.
fn varies_on_accept(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("accept"))
}

async fn a_page_or_json_path_answers_by_accept_and_varies_on_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-1", "Rice").await;
    for path in ["/items", "/locations", "/ledger", "/items?limit=0"] {
        let page = app
            .client
            .get(app.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        assert!(varies_on_accept(&page), "{path}: {:?}", page.headers());
        assert!(
            page.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(
            page.text().await.unwrap().contains("<!DOCTYPE html>"),
            "{path}"
        );

        let json = app.client.get(app.url(path)).send().await.unwrap();
        assert!(varies_on_accept(&json), "{path}: {:?}", json.headers());
        assert!(
            json.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let (status, body) = into_json(json).await;
        if path.ends_with("limit=0") {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        } else {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    // The not-found answer also depends on Accept; a static file does not.
    let missing = app
        .client
        .get(app.url("/no/such/thing"))
        .send()
        .await
        .unwrap();
    assert!(varies_on_accept(&missing));
}
