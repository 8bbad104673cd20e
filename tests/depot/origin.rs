//! Same-origin writes (SPEC §7, "Cross-site requests"): every state-changing request a browser
//! can send cross-site (the pages' server functions, the JSON API) is refused with 403
//! `FORBIDDEN`, nothing written, when its `Origin` (or `Sec-Fetch-Site`, or `Referer`) names
//! another site; the same request from this site, or from a program that sends none of those
//! headers, goes through.

use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, TestApp};
use crate::on_both_backends;

on_both_backends!(
    every_write_from_another_site_is_refused_and_writes_nothing,
    read_only_server_functions_are_checked_too,
    programs_without_an_origin_still_write,
);

/// One state-changing request as a browser (or a program) sends it.
struct Write {
    path: &'static str,
    content_type: &'static str,
    body: String,
}

/// The body a browser sends for a plain (no-JavaScript) form: `application/x-www-form-urlencoded`.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        body.append_pair(name, value);
    }
    body.finish()
}

fn form(path: &'static str, fields: &[(&str, &str)]) -> Write {
    Write {
        path,
        content_type: "application/x-www-form-urlencoded",
        body: form_body(fields),
    }
}

fn json_write(path: &'static str, body: Value) -> Write {
    Write {
        path,
        content_type: "application/json",
        body: body.to_string(),
    }
}

/// Every writing server function with the body its no-JavaScript form sends, then every writing
/// JSON endpoint; each would succeed from this site, in this order, after [`stocked`].
fn writes() -> Vec<Write> {
    vec![
        form(
            "/api/ship_order",
            &[
                ("reference", "SO-X"),
                ("all_or_nothing", "on"),
                ("lines[0][sku]", "SKU-1"),
                ("lines[0][location_code]", "A-01"),
                ("lines[0][qty]", "1"),
                ("lines[0][batch_code]", ""),
                ("lines[1][sku]", ""),
                ("lines[1][location_code]", ""),
                ("lines[1][qty]", ""),
                ("lines[1][batch_code]", ""),
            ],
        ),
        form(
            "/api/receive_goods",
            &[
                ("reference", "PO-X"),
                ("lines[0][sku]", "SKU-1"),
                ("lines[0][location_code]", "R-01"),
                ("lines[0][qty]", "2"),
                ("lines[0][batch_code]", "L2"),
                ("lines[0][expiry_date]", "2030-01-01"),
                ("lines[0][production_date]", ""),
            ],
        ),
        form(
            "/api/put_away",
            &[
                ("reference", "PA-X"),
                ("lines[0][sku]", "SKU-1"),
                ("lines[0][from_location_code]", "R-01"),
                ("lines[0][to_location_code]", "A-01"),
                ("lines[0][qty]", "1"),
                // R-01 holds L1 and L2 by now: the page says which batch it moves.
                ("lines[0][batch_code]", "L2"),
            ],
        ),
        form(
            "/api/create_item",
            &[
                ("sku", "NEW-1"),
                ("name", "New item"),
                ("spec", ""),
                ("unit", ""),
            ],
        ),
        form(
            "/api/create_location",
            &[("code", "NEW-LOC"), ("name", "New"), ("kind", "storage")],
        ),
        json_write("/items", json!({"sku": "NEW-2", "name": "New 2"})),
        json_write(
            "/locations",
            json!({"code": "NEW-LOC-2", "kind": "storage"}),
        ),
        json_write(
            "/inbound/receive",
            json!({"ref": "PO-Y", "lines": [{"sku": "SKU-1", "location_code": "R-01", "qty": 1}]}),
        ),
        json_write(
            "/putaway",
            json!({"ref": "PA-Y", "lines": [{"sku": "SKU-1", "from_location_code": "R-01", "to_location_code": "A-01", "qty": 1}]}),
        ),
        json_write(
            "/outbound/commit",
            json!({"ref": "SO-Y", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 1}]}),
        ),
    ]
}

/// The headers that say a request comes from another site, one set per way of saying it.
fn foreign_sources() -> Vec<Vec<(&'static str, &'static str)>> {
    vec![
        vec![("origin", "http://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("referer", "http://evil.example/phish.html")],
        // A matching Sec-Fetch-Site does not excuse a foreign Origin.
        vec![
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "same-origin"),
        ],
    ]
}

/// An app with SKU-1: 10 received at R-01 (batch L1), 5 of them put away to A-01.
async fn stocked(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-1", "Rice").await;
    app.location("R-01", "receiving").await;
    app.location("A-01", "storage").await;
    for (path, body) in [
        (
            "/inbound/receive",
            json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "R-01", "qty": 10, "batch_code": "L1", "expiry_date": "2030-01-01"}]}),
        ),
        (
            "/putaway",
            json!({"ref": "PA-1", "lines": [{"sku": "SKU-1", "from_location_code": "R-01", "to_location_code": "A-01", "qty": 5}]}),
        ),
    ] {
        let (status, body) = app.post(path, &body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    app
}

/// Every row count a write could change, and the stock total.
async fn footprint(app: &TestApp) -> Vec<i64> {
    let mut counts = app.footprint().await;
    counts.push(app.count("items").await);
    counts.push(app.count("locations").await);
    counts
}

async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    write: &Write,
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut request = client
        .post(app.url(write.path))
        .header("content-type", write.content_type)
        .body(write.body.clone());
    if write
        .content_type
        .starts_with("application/x-www-form-urlencoded")
    {
        // What a browser asks for when it posts a plain form.
        request = request.header("accept", "text/html,application/xhtml+xml");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    (status, response.text().await.unwrap())
}

async fn every_write_from_another_site_is_refused_and_writes_nothing(backend: Backend) {
    let app = stocked(backend).await;
    let client = app.browser();
    let this_site = app.base.clone();
    for write in writes() {
        let before = footprint(&app).await;
        for headers in foreign_sources() {
            let (status, text) = send(&app, &client, &write, &headers).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{} with {headers:?}: {text}",
                write.path
            );
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{} with {headers:?}: not JSON: {text}", write.path));
            assert_error(&body, "FORBIDDEN");
            assert_eq!(
                footprint(&app).await,
                before,
                "{} with {headers:?} wrote something",
                write.path
            );
        }

        // The same request from this site goes through (a plain form post is redirected back
        // to its page).
        let referer = format!("{this_site}/somewhere?x=1");
        let headers = [
            ("origin", this_site.as_str()),
            ("sec-fetch-site", "same-origin"),
            ("referer", referer.as_str()),
        ];
        let (status, text) = send(&app, &client, &write, &headers).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "{} from this site: {status} {text}",
            write.path
        );
        assert_ne!(
            footprint(&app).await,
            before,
            "{} from this site wrote nothing",
            write.path
        );
    }
    app.assert_consistent().await;
}

async fn read_only_server_functions_are_checked_too(backend: Backend) {
    let app = stocked(backend).await;
    let client = app.browser();
    let reads = [
        (
            "/api/stock_at",
            form_body(&[("sku", "SKU-1"), ("location_code", "A-01")]),
        ),
        ("/api/list_items", form_body(&[("q", ""), ("page", "1")])),
    ];
    for (path, body) in reads {
        let write = Write {
            path,
            content_type: "application/x-www-form-urlencoded",
            body,
        };
        let (status, text) =
            send(&app, &client, &write, &[("origin", "http://evil.example")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {text}");
        // A server function called by the page's own script.
        let response = client
            .post(app.url(path))
            .header("content-type", write.content_type)
            .header("origin", app.base.as_str())
            .body(write.body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    // Reading is never refused, wherever the reader comes from.
    let response = client
        .get(app.url("/items"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn programs_without_an_origin_still_write(backend: Backend) {
    let app = stocked(backend).await;
    let order =
        json!({"ref": "SO-ERP", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 2}]});
    let response = app
        .client
        .post(app.url("/outbound/commit"))
        .header("origin", "http://evil.example")
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, body) = app.post("/outbound/commit", &order).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lines"][0]["after_qty"], 3);
    app.assert_consistent().await;
}
