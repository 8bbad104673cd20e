//! Several Depot processes behind a load balancer share nothing but the database (issue 30):
//! whatever one node keeps between requests (a no-JavaScript form's result, failed sign-ins,
//! the first-start setup link, sessions, a new token's secret shown once) is there for every
//! other node, and for the same node after a restart.

use depot::auth::service::create_token;
use depot::auth::Role;
use depot::db::Backend;
use reqwest::header::{COOKIE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{cookie_pair, session_cookie, test_config, Node, TestDb};
use crate::on_both_backends;
use crate::origin::form_body;

on_both_backends!(two_nodes_on_one_database_share_what_they_keep_and_a_restart_loses_none,);

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A browser without JavaScript signed in with `token`: it does not follow redirects.
fn browser(token: &str) -> reqwest::Client {
    crate::common::TestApp::client_with(token, reqwest::redirect::Policy::none())
}

/// Posts a plain form to `node`'s `path`; returns where it sends the browser back to.
async fn post_form(client: &reqwest::Client, node: &Node, path: &str, body: String) -> String {
    let response = client
        .post(node.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", HTML)
        .header("origin", node.base.as_str())
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_redirection(),
        "{path}: {}",
        response.status()
    );
    response.headers()["location"].to_str().unwrap().to_string()
}

/// GETs a page from `node` as a browser: its status and HTML.
async fn page(client: &reqwest::Client, node: &Node, path: &str) -> (StatusCode, String) {
    let response = client
        .get(node.url(path))
        .header("accept", HTML)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Signs in on `node` with JSON: the answer's status and `Retry-After`.
async fn sign_in(node: &Node, username: &str, password: &str) -> (StatusCode, Option<String>) {
    let response = reqwest::Client::new()
        .post(node.url("/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_string());
    (response.status(), retry_after)
}

/// The `/ledger` status for a session `cookie` on `node`.
async fn ledger_with(node: &Node, cookie: &str) -> StatusCode {
    reqwest::Client::new()
        .get(node.url("/ledger"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
}

/// The status of the setup page at `path` on `node`.
async fn setup_page(node: &Node, path: &str) -> StatusCode {
    reqwest::Client::new()
        .get(node.url(path))
        .header("accept", HTML)
        .send()
        .await
        .unwrap()
        .status()
}

fn ship_body(reference: &str) -> String {
    form_body(&[
        ("reference", reference),
        ("lines[0][sku]", "SKU-1"),
        ("lines[0][location_code]", "A-01"),
        ("lines[0][qty]", "3"),
        ("lines[0][batch_code]", ""),
    ])
}

/// The secret a `/admin/tokens` page shows, if any.
fn secret_on(html: &str) -> Option<String> {
    html.split(r#"class="secret">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(str::to_string)
}

async fn two_nodes_on_one_database_share_what_they_keep_and_a_restart_loses_none(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let url = test_db.url.clone();
    // Programs' tokens are not users: with this one, setup is still open.
    let (_, token) = create_token(&test_db.db, "T-nodes", Role::Admin)
        .await
        .unwrap();
    let a = Node::start(&url, test_config()).await;
    let b = Node::start(&url, test_config()).await;
    let browser = browser(&token);
    let api = crate::common::TestApp::client_with(&token, reqwest::redirect::Policy::none());
    for (path, body) in [
        ("/items", json!({"sku": "SKU-1", "name": "Rice"})),
        (
            "/locations",
            json!({"code": "A-01", "name": "A-01", "kind": "storage"}),
        ),
    ] {
        let response = api.post(a.url(path)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let receipt =
        json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 10}]});
    let response = api
        .post(b.url("/inbound/receive"))
        .json(&receipt)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A no-JavaScript form posted to A; the page it redirects to is read from B.
    let shipped = post_form(&browser, &a, "/api/ship_order", ship_body("SO-1")).await;
    assert!(
        shipped.starts_with("/outbound?ref=SO-1&result="),
        "{shipped}"
    );
    let (status, html) = page(&browser, &b, &shipped).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Shipped."), "B shows A's result: {html}");
    assert!(html.contains("Order SO-1"), "{html}");

    // Five failed sign-ins for one name, spread over A and B: the sixth is refused on both.
    for (n, node) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        assert_eq!(
            sign_in(node, "ana", "a wrong guess").await.0,
            StatusCode::UNAUTHORIZED,
            "failure {}",
            n + 1
        );
    }
    for node in [&b, &a] {
        let (status, retry_after) = sign_in(node, "ana", "another guess").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{}", node.base);
        // The clock is fixed: all five failed just now, so the first leaves the window in 15
        // minutes.
        assert_eq!(retry_after.as_deref(), Some("900"));
    }

    // Setup links printed by A and by B at their start; A's completes on B, then neither opens.
    let link_a = depot::auth::web::open_setup_if_needed(&a.state)
        .await
        .unwrap()
        .expect("setup opens while no user exists");
    let link_b = depot::auth::web::open_setup_if_needed(&b.state)
        .await
        .unwrap()
        .expect("every node may print a link of its own");
    assert_ne!(link_a, link_b);
    for (node, link) in [(&a, &link_a), (&a, &link_b), (&b, &link_a), (&b, &link_b)] {
        assert_eq!(setup_page(node, link).await, StatusCode::OK, "{link}");
    }
    let setup_token = link_a.rsplit_once("token=").unwrap().1;
    let made = reqwest::Client::new()
        .post(b.url("/setup"))
        .json(
            &json!({"token": setup_token, "username": "chief", "password": "the chief's password"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    for (node, link) in [(&a, &link_a), (&a, &link_b), (&b, &link_a), (&b, &link_b)] {
        assert_eq!(
            setup_page(node, link).await,
            StatusCode::NOT_FOUND,
            "closed for every node: {link}"
        );
    }
    let other_token = link_b.rsplit_once("token=").unwrap().1;
    let again = reqwest::Client::new()
        .post(a.url("/setup"))
        .json(&json!({"token": other_token, "username": "second", "password": "another password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // A session made on A works on B.
    let signed_in = reqwest::Client::new()
        .post(a.url("/login"))
        .json(&json!({"username": "chief", "password": "the chief's password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = cookie_pair(&session_cookie(signed_in.headers()).expect("a session"));
    assert_eq!(ledger_with(&b, &cookie).await, StatusCode::OK);

    // A new token's secret made on A is shown once, on B, and then nowhere.
    let created = post_form(
        &browser,
        &a,
        "/api/create_token",
        form_body(&[("name", "erp"), ("role", "clerk")]),
    )
    .await;
    assert!(
        created.starts_with("/admin/tokens?ref=new&result="),
        "{created}"
    );
    let (status, html) = page(&browser, &b, &created).await;
    assert_eq!(status, StatusCode::OK);
    let secret = secret_on(&html).expect("B shows the secret made on A");
    assert!(secret.starts_with("depot_"), "{secret}");
    for node in [&a, &b] {
        let (_, html) = page(&browser, node, &created).await;
        assert!(!html.contains(&secret), "shown again by {}", node.base);
        assert!(html.contains("no longer available"), "{html}");
    }

    // A restarts: its memory is gone, nothing it kept is.
    a.stop().await;
    let a = Node::start(&url, test_config()).await;
    let (status, html) = page(&browser, &a, &shipped).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Shipped."), "the result outlives A: {html}");
    let (status, retry_after) = sign_in(&a, "ana", "a wrong guess").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.as_deref(), Some("900"));
    assert_eq!(ledger_with(&a, &cookie).await, StatusCode::OK);
    assert_eq!(setup_page(&a, &link_a).await, StatusCode::NOT_FOUND);
    assert_eq!(
        depot::auth::web::open_setup_if_needed(&a.state)
            .await
            .unwrap(),
        None,
        "a user exists: no new link"
    );
    let (_, html) = page(&browser, &a, &created).await;
    assert!(!html.contains(&secret));
    assert!(html.contains("no longer available"), "{html}");
    // Signing in on one node forgets the name's failures on every node.
    for node in [&a, &b, &a, &b] {
        assert_eq!(
            sign_in(node, "chief", "a wrong guess").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in(&a, "chief", "the chief's password").await.0,
        StatusCode::OK
    );
    for _ in 0..4 {
        assert_eq!(
            sign_in(&b, "chief", "a wrong guess").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in(&b, "chief", "the chief's password").await.0,
        StatusCode::OK
    );

    a.stop().await;
    b.stop().await;
}
