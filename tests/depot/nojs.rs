//! Forms without JavaScript: a plain form post is redirected back to its page with the
//! movement's ref and an opaque token only; the page reads the result back from the server.
//! A crafted URL shows no result that did not happen, a 1 000-line form works, and no URL makes
//! a page fail.

use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestApp;
use crate::on_both_backends;
use crate::origin::form_body;

on_both_backends!(
    a_no_js_post_redirects_with_a_token_and_the_page_shows_the_result,
    a_refused_no_js_post_shows_the_error_and_keeps_the_form,
    a_crafted_result_url_shows_no_result,
    a_thousand_line_no_js_receipt_is_applied_with_a_short_redirect,
    odd_result_urls_never_fail,
    pages_answer_while_other_routers_are_built,
    a_page_past_the_end_of_a_list_says_so,
    the_putaway_page_moves_the_batch_the_clerk_names,
);

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Posts `body` to `path` as a browser's plain form; returns the redirect's Location.
async fn post_form(app: &TestApp, path: &str, body: String) -> String {
    let response = app
        .browser()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", HTML)
        .header("origin", app.base.as_str())
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(
        status == StatusCode::FOUND || status == StatusCode::SEE_OTHER,
        "{path}: {status} {}",
        response.text().await.unwrap_or_default()
    );
    response.headers()["location"].to_str().unwrap().to_string()
}

/// GETs a page as a browser; returns its status and HTML.
async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app
        .browser()
        .get(app.url(path))
        .header("accept", HTML)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The redirect target's query pairs; asserts it carries nothing but `ref` and a 32-hex token.
#[track_caller]
fn assert_only_ref_and_token(location: &str, page: &str, reference: &str) {
    let (path, query) = location.split_once('?').expect("a query");
    assert_eq!(path, page, "{location}");
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    if reference.is_empty() {
        assert_eq!(names, ["result"], "{location}");
    } else {
        assert_eq!(names, ["ref", "result"], "{location}");
        assert_eq!(pairs[0].1, reference, "{location}");
    }
    let token = &pairs.last().unwrap().1;
    assert_eq!(token.len(), 32, "{location}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{location}");
    for word in ["OK", "status", "lines", "{", "%7B", "qty"] {
        assert!(!location.contains(word), "{word} in {location}");
    }
}

async fn stocked(backend: Backend) -> TestApp {
    stocked_with(backend, crate::common::test_config()).await
}

async fn stocked_with(backend: Backend, config: depot::config::Config) -> TestApp {
    let app = TestApp::spawn_with(crate::common::TestDb::new(backend).await, config).await;
    app.item("SKU-1", "Rice").await;
    app.location("R-01", "receiving").await;
    app.location("A-01", "storage").await;
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 10, "batch_code": "L1", "expiry_date": "2030-01-01"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app
}

fn ship_body(reference: &str, sku: &str, qty: &str) -> String {
    form_body(&[
        ("reference", reference),
        ("lines[0][sku]", sku),
        ("lines[0][location_code]", "A-01"),
        ("lines[0][qty]", qty),
        ("lines[0][batch_code]", ""),
        ("lines[1][sku]", ""),
        ("lines[1][location_code]", ""),
        ("lines[1][qty]", ""),
        ("lines[1][batch_code]", ""),
    ])
}

async fn a_no_js_post_redirects_with_a_token_and_the_page_shows_the_result(backend: Backend) {
    let app = stocked(backend).await;
    let location = post_form(&app, "/api/ship_order", ship_body("SO-1", "SKU-1", "3")).await;
    assert_only_ref_and_token(&location, "/outbound", "SO-1");

    let (status, html) = page(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Order SO-1"), "{html}");
    assert!(html.contains("Shipped."), "{html}");
    assert!(html.contains("L1 exp 2030-01-01 × 3"), "{html}");
    // The result above a fresh form for the next order (issue 31): the ref is not kept in it.
    assert!(!html.contains(r#"value="SO-1""#), "{html}");
    assert!(
        html.find("Shipped.") < html.find(r#"name="reference""#),
        "the result comes first: {html}"
    );
    // A reload shows the same result.
    let (_, again) = page(&app, &location).await;
    assert!(again.contains("Shipped."));

    // Resent: the replay's own result, under a new token.
    let replay = post_form(&app, "/api/ship_order", ship_body("SO-1", "SKU-1", "3")).await;
    assert_ne!(replay, location);
    let (_, html) = page(&app, &replay).await;
    assert!(html.contains("Already shipped under this ref"), "{html}");
    assert_eq!(app.stock_qty(1, 2).await, 7, "shipped once");

    // The token belongs to its page and ref.
    let token = location.rsplit_once("result=").unwrap().1;
    for elsewhere in [
        format!("/inbound?ref=SO-1&result={token}"),
        format!("/outbound?ref=SO-2&result={token}"),
        format!("/outbound?result={token}"),
    ] {
        let (status, html) = page(&app, &elsewhere).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("Shipped."), "{elsewhere}: {html}");
        assert!(html.contains("no longer available"), "{elsewhere}: {html}");
    }

    // Items and locations: no ref, just the token.
    let location = post_form(
        &app,
        "/api/create_item",
        form_body(&[
            ("sku", "NEW-1"),
            ("name", "Tea"),
            ("spec", ""),
            ("unit", ""),
        ]),
    )
    .await;
    assert_only_ref_and_token(&location, "/items", "");
    let (_, html) = page(&app, &location).await;
    assert!(html.contains("Created NEW-1 — Tea"), "{html}");
    let location = post_form(
        &app,
        "/api/create_location",
        form_body(&[("code", "B-02"), ("name", ""), ("kind", "shipping")]),
    )
    .await;
    assert_only_ref_and_token(&location, "/locations", "");
    let (_, html) = page(&app, &location).await;
    assert!(html.contains("Created B-02 (shipping)"), "{html}");
}

async fn a_refused_no_js_post_shows_the_error_and_keeps_the_form(backend: Backend) {
    let app = stocked(backend).await;
    let before = app.footprint().await;
    let location = post_form(&app, "/api/ship_order", ship_body("SO-2", "NO-SUCH", "3")).await;
    assert_only_ref_and_token(&location, "/outbound", "SO-2");
    let (status, html) = page(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"role="alert""#), "{html}");
    assert!(html.contains("NO-SUCH"), "{html}");
    assert!(html.contains(r#"value="SO-2""#), "{html}");
    assert!(html.contains(r#"value="NO-SUCH""#), "{html}");
    assert_eq!(app.footprint().await, before);

    let location = post_form(
        &app,
        "/api/create_item",
        form_body(&[
            ("sku", "SKU-1"),
            ("name", "Again"),
            ("spec", "5kg"),
            ("unit", ""),
        ]),
    )
    .await;
    let (_, html) = page(&app, &location).await;
    assert!(html.contains(r#"role="alert""#), "{html}");
    assert!(html.contains(r#"value="Again""#), "{html}");
    assert!(html.contains(r#"value="5kg""#), "{html}");
}

/// The JSON a result had in the old `?outcome=` URLs, claiming a shipment.
fn old_style_outcome(ref_line: u64) -> String {
    json!({
        "form": {"reference": "SO-NEVER", "all_or_nothing": false,
                 "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": "5", "batch_code": ""}]},
        "result": {"Ok": {"ref": "SO-NEVER", "status": "OK", "lines": [
            {"ref_line": ref_line, "item_id": 1, "location_id": 2, "qty": 5, "status": "OK",
             "after_qty": 0, "batches": []}]}}
    })
    .to_string()
}

async fn a_crafted_result_url_shows_no_result(backend: Backend) {
    let app = stocked(backend).await;
    let outcome = |ref_line| {
        form_urlencoded::byte_serialize(old_style_outcome(ref_line).as_bytes()).collect::<String>()
    };
    // Leptos's own no-JavaScript error redirect: a made-up error in `__err` (base64 JSON).
    let fake_error = "eyJjb2RlIjogIklOU1VGRklDSUVOVF9TVE9DSyIsICJtZXNzYWdlIjogIkZBS0UtRVJST1ItRlJPTS1VUkwiLCAiZGV0YWlscyI6IHt9fQ==";
    for url in [
        "/outbound?ref=SO-NEVER&result=0123456789abcdef0123456789abcdef".to_string(),
        "/outbound?ref=SO-NEVER&result=not-a-token".to_string(),
        format!("/outbound?outcome={}", outcome(1)),
        format!("/outbound?outcome={}", outcome(0)),
        format!("/outbound?ref=SO-NEVER&result=x&outcome={}", outcome(1)),
        format!("/outbound?__path=/api/ship_order&__err={fake_error}"),
    ] {
        let (status, html) = page(&app, &url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        for claim in [
            "Shipped",
            "Order SO-NEVER",
            r#"class="result""#,
            "FAKE-ERROR-FROM-URL",
            r#"role="alert""#,
        ] {
            assert!(!html.contains(claim), "{url} shows {claim}: {html}");
        }
        if url.contains("result=") {
            assert!(
                html.contains("This result is no longer available"),
                "{url}: {html}"
            );
            assert!(
                html.contains(r#"href="/ledger?ref=SO-NEVER""#),
                "{url}: {html}"
            );
        }
    }
}

async fn a_thousand_line_no_js_receipt_is_applied_with_a_short_redirect(backend: Backend) {
    // A debug build renders the 1000-line form about ten times slower than a release build
    // (13 s here, beside the other tests): past the default request timeout, which is not what
    // this test is about.
    let app = stocked_with(
        backend,
        depot::config::Config {
            request_timeout: std::time::Duration::from_secs(120),
            ..crate::common::test_config()
        },
    )
    .await;
    let mut fields: Vec<(String, String)> = vec![("reference".into(), "PO-BIG".into())];
    for i in 0..1000 {
        for (name, value) in [
            ("sku", "SKU-1".to_string()),
            ("location_code", "R-01".to_string()),
            ("qty", "1".to_string()),
            ("batch_code", format!("B{i}")),
            ("expiry_date", "2031-01-01".to_string()),
            ("production_date", String::new()),
        ] {
            fields.push((format!("lines[{i}][{name}]"), value));
        }
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let location = post_form(&app, "/api/receive_goods", form_body(&pairs)).await;
    assert!(location.len() < 200, "{} bytes: {location}", location.len());
    assert_only_ref_and_token(&location, "/inbound", "PO-BIG");

    let (status, ledger) = app.get("/ledger?ref=PO-BIG&limit=1").await;
    assert_eq!(status, StatusCode::OK, "{ledger}");
    assert_eq!(ledger["total"], 1000, "every line applied");
    assert_eq!(app.stock_qty(1, 1).await, 1000);

    let (status, html) = page(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Receipt PO-BIG"));
    assert!(
        !html.contains(r#"value="B999""#),
        "the form is fresh for the next receipt"
    );
    app.assert_consistent().await;
}

async fn odd_result_urls_never_fail(backend: Backend) {
    let app = stocked(backend).await;
    let mut failures = Vec::new();
    for page_path in ["/outbound", "/inbound", "/putaway", "/items", "/locations"] {
        for query in [
            "ref=%00&result=%ff",
            "ref=%00&result=00000000000000000000000000000000",
            "ref=%ff%fe&result=%00",
            "result=",
            "result",
            "ref=&result=&result=&ref=",
            "result=../../../../etc/passwd",
            "result=0123456789ABCDEF0123456789ABCDEF",
            "ref=%E2%80%AE&result=00000000000000000000000000000000",
            "outcome=%7B",
            "outcome=null",
            "__path=%00&__err=%00",
        ] {
            let url = format!("{page_path}?{query}");
            let (status, html) = page(&app, &url).await;
            if status.is_server_error() || html.contains("panicked") {
                failures.push(format!("{url}: {status}"));
            }
        }
        let long = format!(
            "{page_path}?ref={}&result={}",
            "x".repeat(4000),
            "f".repeat(4000)
        );
        let (status, _) = page(&app, &long).await;
        if status.is_server_error() {
            failures.push(format!("{page_path} with long parameters: {status}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Building a router lists the pages' routes, which leptos_server does with resource loading
/// suppressed process-wide; a page whose resource first ran in that window used to wait forever
/// (the test binary builds a router per test while other tests' pages render). Routes are now
/// listed once per process, so pages keep answering while routers are built.
async fn pages_answer_while_other_routers_are_built(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let building = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let builder = {
        let (db, building) = (app.db().clone(), building.clone());
        std::thread::spawn(move || {
            let mut built = 0;
            while building.load(std::sync::atomic::Ordering::Relaxed) || built < 20 {
                drop(depot::server::router(crate::common::app_state(
                    db.clone(),
                    crate::common::test_config(),
                )));
                built += 1;
            }
            built
        })
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let mut stalled = Vec::new();
    for round in 0..25 {
        let requests = ["/outbound", "/inbound", "/putaway", "/items", "/locations"].map(|p| {
            let url = app.url(&format!(
                "{p}?ref=R-{round}&result=0123456789abcdef0123456789abcdef"
            ));
            let client = client.clone();
            async move {
                let answer = client.get(&url).header("accept", HTML).send().await;
                match answer {
                    Ok(response) if response.status() == StatusCode::OK => response
                        .text()
                        .await
                        .err()
                        .map(|e| format!("{url}: body {e}")),
                    Ok(response) => Some(format!("{url}: {}", response.status())),
                    Err(error) => Some(format!("{url}: {error}")),
                }
            }
        });
        stalled.extend(
            futures_util::future::join_all(requests)
                .await
                .into_iter()
                .flatten(),
        );
    }
    building.store(false, std::sync::atomic::Ordering::Relaxed);
    let built = builder.join().expect("routers build");
    assert!(built >= 20, "only {built} routers were built");
    assert!(stalled.is_empty(), "{stalled:#?}");
}

/// `?page=99` of a list that has rows is not "no items yet": it says the page is past the end,
/// how many there are, and links to the first page (with the search kept).
async fn a_page_past_the_end_of_a_list_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("TEA-1", "Green tea").await;
    app.location("A-01", "storage").await;
    for (path, first) in [
        ("/items?q=tea&page=99", "/items?q=tea"),
        ("/locations?kind=storage&page=99", "/locations?kind=storage"),
    ] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            html.contains("past the end of the list (1 in all)"),
            "{path}: {html}"
        );
        assert!(
            html.contains(&format!(r#"href="{first}""#)),
            "{path}: {html}"
        );
    }
    // An empty list still says it is empty.
    let (_, html) = page(&app, "/items?q=nothing-like-it&page=2").await;
    assert!(!html.contains("past the end"));
}

/// Issue 31: a putaway page line from a source holding more than one batch of the item must
/// name the batch; the JSON API keeps SPEC's FEFO default.
async fn the_putaway_page_moves_the_batch_the_clerk_names(backend: Backend) {
    let app = stocked(backend).await;
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "PO-2", "lines": [
                {"sku": "SKU-1", "location_code": "R-01", "qty": 5, "batch_code": "OLD", "expiry_date": "2030-01-01"},
                {"sku": "SKU-1", "location_code": "R-01", "qty": 7, "batch_code": "NEW", "expiry_date": "2031-01-01"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let putaway = |reference: &str, qty: &str, batch: &str| {
        form_body(&[
            ("reference", reference),
            ("lines[0][sku]", "SKU-1"),
            ("lines[0][from_location_code]", "R-01"),
            ("lines[0][to_location_code]", "A-01"),
            ("lines[0][qty]", qty),
            ("lines[0][batch_code]", batch),
        ])
    };
    let at_dock = |stock: &serde_json::Value| -> Vec<(String, i64)> {
        stock["rows"][0]["batches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["batch_code"].as_str().unwrap().to_string(),
                    b["qty"].as_i64().unwrap(),
                )
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };

    // No batch named: refused at the batch field, saying which are there; nothing moves.
    let before = app.footprint().await;
    let location = post_form(&app, "/api/put_away", putaway("TR-1", "7", "")).await;
    let (_, html) = page(&app, &location).await;
    assert!(html.contains(r#"role="alert""#), "{html}");
    assert!(html.contains("R-01 holds 2 batches of this item"), "{html}");
    assert!(html.contains("OLD") && html.contains("NEW"), "{html}");
    assert!(
        html.contains(r#"name="lines[0][batch_code]""#) && html.contains(r#"aria-invalid="true""#),
        "{html}"
    );
    assert_eq!(app.footprint().await, before);

    // The batches there, as the page's line shows them.
    let (_, stock) = app.get("/stock/query?sku=SKU-1&location_code=R-01").await;
    assert_eq!(
        at_dock(&stock),
        [("NEW".to_string(), 7), ("OLD".to_string(), 5)]
    );

    // Named: exactly that batch moves.
    let location = post_form(&app, "/api/put_away", putaway("TR-1", "7", "NEW")).await;
    let (_, html) = page(&app, &location).await;
    assert!(!html.contains(r#"role="alert""#), "{html}");
    let (_, stock) = app.get("/stock/query?sku=SKU-1&location_code=R-01").await;
    assert_eq!(at_dock(&stock), [("OLD".to_string(), 5)]);

    // One batch left: the page needs no choice.
    let location = post_form(&app, "/api/put_away", putaway("TR-2", "1", "")).await;
    let (_, html) = page(&app, &location).await;
    assert!(!html.contains(r#"role="alert""#), "{html}");

    // The API without a batch: first to expire first (SPEC), as before.
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "PO-3", "lines": [
                {"sku": "SKU-1", "location_code": "R-01", "qty": 3, "batch_code": "LATER", "expiry_date": "2032-01-01"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/putaway",
            &json!({"ref": "TR-3", "lines": [{"sku": "SKU-1", "from_location_code": "R-01", "to_location_code": "A-01", "qty": 2}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, stock) = app.get("/stock/query?sku=SKU-1&location_code=R-01").await;
    assert_eq!(
        at_dock(&stock),
        [("LATER".to_string(), 3), ("OLD".to_string(), 2)]
    );
}
