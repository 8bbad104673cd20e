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

on_both_backends!(
    two_nodes_on_one_database_share_what_they_keep_and_a_restart_loses_none,
    behind_nginx_any_node_serves_any_request,
    a_token_revoked_anywhere_is_refused_everywhere_from_the_next_request,
);

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A browser without JavaScript signed in with `token`: it does not follow redirects.
fn browser(token: &str) -> reqwest::Client {
    crate::common::TestApp::client_with(token, reqwest::redirect::Policy::none())
}

/// Posts a plain form to `path` of the site at `base` (a node, or nginx), as a browser on
/// that site without JavaScript.
async fn send_form(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    body: String,
) -> reqwest::Response {
    client
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", HTML)
        .header("origin", base)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Posts a plain form to `node`'s `path`; returns where it sends the browser back to.
async fn post_form(client: &reqwest::Client, node: &Node, path: &str, body: String) -> String {
    let response = send_form(client, &node.base, path, body).await;
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

/// Creates item `SKU-1` and location `A-01` through `node`.
async fn item_and_place(api: &reqwest::Client, node: &Node) {
    for (path, body) in [
        ("/items", json!({"sku": "SKU-1", "name": "Rice"})),
        (
            "/locations",
            json!({"code": "A-01", "name": "A-01", "kind": "storage"}),
        ),
    ] {
        let response = api.post(node.url(path)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    }
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
    item_and_place(&api, &a).await;
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

/// nginx serving the README's configuration (`deploy/nginx/depot.conf`) on a loopback port,
/// in front of `upstreams`; stopped when dropped.
struct Nginx {
    base: String,
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start(upstreams: &[&Node]) -> Self {
        let binary = std::env::var("NGINX_PATH").unwrap_or_else(|_| "/usr/sbin/nginx".into());
        assert!(
            std::path::Path::new(&binary).exists(),
            "nginx is required by this test and was not found at {binary}: install Debian's \
             nginx (make test does: scripts/install-nginx.sh) or set NGINX_PATH"
        );
        let site = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/nginx/depot.conf"
        ))
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let servers: String = upstreams
            .iter()
            .map(|node| format!("    server {};\n", node.base.trim_start_matches("http://")))
            .collect();
        // The README's file with this test's ports: its upstream servers and its listen line.
        let mut lines: Vec<String> = Vec::new();
        for line in site.lines() {
            if line.trim_start().starts_with("server 127.0.0.1:") {
                if !lines.iter().any(|l| l.contains("server 127.0.0.1:")) {
                    lines.push(servers.trim_end().to_string());
                }
            } else if line.trim() == "listen 80;" {
                lines.push(format!("    listen 127.0.0.1:{port};"));
            } else {
                lines.push(line.to_string());
            }
        }
        let dir = tempfile::tempdir().unwrap();
        // Workers run as an unprivileged user: they write their temporary files here.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let root = dir.path().display();
        std::fs::write(dir.path().join("depot.conf"), lines.join("\n")).unwrap();
        // Which node answered, for the test to see the requests alternate.
        let main = format!(
            "daemon off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n\
               fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n\
               add_header X-Depot-Node $upstream_addr always;\n  include {root}/depot.conf;\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
        let child = std::process::Command::new(&binary)
            .args(["-p", &root.to_string(), "-c", &format!("{root}/nginx.conf")])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts");
        // Stopped by Drop from here on, whatever happens next.
        let nginx = Nginx {
            base: format!("http://127.0.0.1:{port}"),
            child,
            dir,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return nginx;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let log = std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not start: {log}");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Nginx {
    /// SIGTERM: the master stops its workers and then itself (a SIGKILL would leave the
    /// workers running).
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let _ = self.child.wait();
    }
}

/// Which node answered (nginx's upstream address).
fn node_of(response: &reqwest::Response) -> String {
    response.headers()["x-depot-node"]
        .to_str()
        .unwrap()
        .to_string()
}

/// Two nodes behind nginx with the README's configuration and `DEPOT_TRUSTED_PROXIES`: every
/// request goes to the next node, and a browser without JavaScript, a sign-in throttle and a
/// session work as on one node. nginx passes `Host` without the port it listens on, so a form
/// post passes the same-origin check only through the trusted proxy's `X-Forwarded-Host`; from
/// an untrusted proxy (or with another site's `Origin`) it is refused.
async fn behind_nginx_any_node_serves_any_request(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let url = test_db.url.clone();
    let (_, token) = create_token(&test_db.db, "T-nginx", Role::Admin)
        .await
        .unwrap();
    let mut config = test_config();
    config.trusted_proxies = depot::proxy::TrustedProxies::parse("127.0.0.1").unwrap();
    let a = Node::start(&url, config.clone()).await;
    let b = Node::start(&url, config).await;
    let nginx = Nginx::start(&[&a, &b]);
    let api = crate::common::TestApp::client_with(&token, reqwest::redirect::Policy::none());
    let mut answered = std::collections::BTreeSet::new();
    for (path, body) in [
        ("/items", json!({"sku": "SKU-1", "name": "Rice"})),
        (
            "/locations",
            json!({"code": "A-01", "name": "A-01", "kind": "storage"}),
        ),
        (
            "/inbound/receive",
            json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 10}]}),
        ),
    ] {
        let response = api.post(nginx.url(path)).json(&body).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        answered.insert(node_of(&response));
    }
    assert_eq!(answered.len(), 2, "both nodes answered: {answered:?}");

    // A no-JavaScript form, as the browser sees the site (nginx's address), and its result.
    let shipped = send_form(&api, &nginx.base, "/api/ship_order", ship_body("SO-1")).await;
    assert!(shipped.status().is_redirection(), "{}", shipped.status());
    let posted_on = node_of(&shipped);
    let location = shipped.headers()["location"].to_str().unwrap().to_string();
    for _ in 0..2 {
        // Twice: one of the two reads is on the other node.
        let response = api
            .get(nginx.url(&location))
            .header("accept", HTML)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        answered.insert(node_of(&response));
        let html = response.text().await.unwrap();
        assert!(html.contains("Shipped."), "posted on {posted_on}: {html}");
    }
    // Another site's page posting through nginx is still refused.
    let foreign = api
        .post(nginx.url("/api/ship_order"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://evil.example")
        .body(ship_body("SO-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);

    // The throttle and a session, whichever node answers.
    for n in 0..5 {
        let response = reqwest::Client::new()
            .post(nginx.url("/login"))
            .json(&json!({"username": "ana", "password": "a wrong guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "failure {}",
            n + 1
        );
    }
    for _ in 0..2 {
        let response = reqwest::Client::new()
            .post(nginx.url("/login"))
            .json(&json!({"username": "ana", "password": "a wrong guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            node_of(&response)
        );
    }
    depot::auth::service::create_user(
        &test_db.db,
        "chief",
        Role::Admin,
        &depot::auth::password::Password::parse("password", "the chief's password").unwrap(),
    )
    .await
    .unwrap();
    let signed_in = reqwest::Client::new()
        .post(nginx.url("/login"))
        .json(&json!({"username": "chief", "password": "the chief's password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = cookie_pair(&session_cookie(signed_in.headers()).expect("a session"));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..4 {
        let response = reqwest::Client::new()
            .get(nginx.url("/ledger"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        seen.insert(node_of(&response));
    }
    assert_eq!(seen.len(), 2, "the session worked on both: {seen:?}");

    // Nodes that do not trust nginx refuse the same form: its Host lacks the port the browser
    // used, and X-Forwarded-Host from an untrusted peer is ignored.
    drop(nginx);
    a.stop().await;
    b.stop().await;
    let a = Node::start(&url, test_config()).await;
    let b = Node::start(&url, test_config()).await;
    let nginx = Nginx::start(&[&a, &b]);
    let refused = send_form(&api, &nginx.base, "/api/ship_order", ship_body("SO-3")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// A node remembers tokens it found valid (issue 30, point 7: no lookup of its own before a
/// movement), and the database still decides: a token revoked through node A is refused by
/// node B, which used it a moment before, from the next request on — a movement (nothing
/// written), a request its handler refuses before any write, and a read.
async fn a_token_revoked_anywhere_is_refused_everywhere_from_the_next_request(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let url = test_db.url.clone();
    let (_, admin) = create_token(&test_db.db, "T-admin", Role::Admin)
        .await
        .unwrap();
    let (_, erp) = create_token(&test_db.db, "erp", Role::Clerk).await.unwrap();
    let a = Node::start(&url, test_config()).await;
    let b = Node::start(&url, test_config()).await;
    let admin = crate::common::TestApp::client_with(&admin, reqwest::redirect::Policy::none());
    let erp = crate::common::TestApp::client_with(&erp, reqwest::redirect::Policy::none());
    item_and_place(&admin, &a).await;
    let receipt =
        |r: &str| json!({"ref": r, "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 1}]});
    // B reads the token, then takes it from memory.
    for n in 1..=3 {
        let response = erp
            .post(b.url("/inbound/receive"))
            .json(&receipt(&format!("PO-{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "PO-{n}");
    }
    let bad = erp
        .post(b.url("/inbound/receive"))
        .json(&json!({"ref": "PO-BAD", "lines": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let beyond = erp
        .post(b.url("/items"))
        .json(&json!({"sku": "SKU-9", "name": "Tea"}))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), StatusCode::FORBIDDEN);

    // Revoked through A (the admin page's server function).
    let revoked = send_form(
        &admin,
        &a.base,
        "/api/revoke_token",
        form_body(&[("name", "erp")]),
    )
    .await;
    assert!(revoked.status().is_redirection(), "{}", revoked.status());

    // First (each refusal makes B forget the token): beyond its role (a clerk creating an
    // item), not 403 any more but 401.
    let beyond = erp
        .post(b.url("/items"))
        .json(&json!({"sku": "SKU-9", "name": "Tea"}))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), StatusCode::UNAUTHORIZED);

    let refused = erp
        .post(b.url("/inbound/receive"))
        .json(&receipt("PO-4"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let bad = erp
        .post(b.url("/inbound/receive"))
        .json(&json!({"ref": "PO-BAD", "lines": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED, "not 422");
    let read = erp.get(b.url("/items")).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::UNAUTHORIZED);
    let written: i64 = depot::with_pool!(&test_db.db, |pool, _backend| sqlx::query_scalar(
        "SELECT COUNT(*) FROM stock_ledger"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(written, 3, "nothing received after the revocation");
    a.stop().await;
    b.stop().await;
}
