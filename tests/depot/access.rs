//! SPEC §7 over HTTP: nothing answers without credentials (but sign-in, setup, health and static
//! files); each role may do what its row of the table says; sessions and tokens behave as the
//! SPEC says; the ledger records who; no secret reaches a log.

use std::process::{Command, Stdio};

use axum::http::Method;
use depot::auth::access::{required, Access};
use depot::auth::password::Password;
use depot::auth::service::{change_user, create_token, create_user, revoke_token, UserChange};
use depot::auth::Role;
use depot::db::Backend;
use reqwest::header::{HeaderMap, AUTHORIZATION, COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{
    app_state, cookie_pair, session_cookie, sign_in, test_config, TestApp, TestDb,
};
use crate::on_both_backends;

on_both_backends!(
    each_role_may_do_what_its_row_says_and_nobody_nothing,
    people_sign_in_and_out_with_a_session_cookie,
    failed_sign_ins_are_throttled_per_username,
    the_ledger_records_who_and_a_replay_keeps_the_first,
    revoked_tokens_and_disabled_users_lose_access_at_once,
    the_first_start_makes_one_admin_and_then_is_gone,
    no_password_or_secret_reaches_the_log,
    sessions_end_when_idle_and_are_not_written_per_request,
);

#[test]
fn every_server_function_and_page_has_a_rule() {
    let mut functions = 0;
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        assert!(
            required(&method, path).is_some(),
            "server function {method} {path} has no access rule in src/auth/access.rs"
        );
        functions += 1;
    }
    assert!(functions >= 12, "{functions} server functions");
    for route in depot::server::page_routes() {
        let access = required(&Method::GET, route.path());
        let expected = match route.path() {
            "/login" | "/setup" => Access::Public,
            "/admin/users" | "/admin/tokens" => Access::Role(Role::Admin),
            _ => Access::Role(Role::Viewer),
        };
        assert_eq!(access, Some(expected), "page {}", route.path());
    }
}

fn client_for(token: Option<&str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        headers.insert(AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn each_role_may_do_what_its_row_says_and_nobody_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-1", "Rice").await;
    app.location("A-01", "storage").await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let (_, secret) = create_token(app.db(), &format!("as-{role}"), role)
            .await
            .unwrap();
        tokens.push((Some(role), Some(secret)));
    }
    tokens.push((None, None));
    let line = json!({"sku": "SKU-1", "location_code": "A-01", "qty": 1});
    let mut routes: Vec<(Method, String, Value, Role)> = vec![
        (Method::GET, "/items".into(), Value::Null, Role::Viewer),
        (Method::GET, "/items/1".into(), Value::Null, Role::Viewer),
        (Method::GET, "/locations".into(), Value::Null, Role::Viewer),
        (Method::GET, "/ledger".into(), Value::Null, Role::Viewer),
        (
            Method::GET,
            "/scan?code=SKU-1".into(),
            Value::Null,
            Role::Viewer,
        ),
        (Method::GET, "/admin/users".into(), Value::Null, Role::Admin),
        (
            Method::GET,
            "/admin/tokens".into(),
            Value::Null,
            Role::Admin,
        ),
        (
            Method::GET,
            "/stock/query".into(),
            Value::Null,
            Role::Viewer,
        ),
        (
            Method::GET,
            "/snapshot/inventory".into(),
            Value::Null,
            Role::Viewer,
        ),
        (
            Method::POST,
            "/inbound/receive".into(),
            json!({"ref": "R", "lines": [line]}),
            Role::Clerk,
        ),
        (
            Method::POST,
            "/putaway".into(),
            json!({"ref": "P", "lines": [{"sku": "SKU-1", "from_location_code": "A-01", "to_location_code": "A-01", "qty": 1}]}),
            Role::Clerk,
        ),
        (
            Method::POST,
            "/outbound/commit".into(),
            json!({"ref": "O", "lines": [line]}),
            Role::Clerk,
        ),
        (
            Method::POST,
            "/items".into(),
            json!({"sku": "SKU-NEW", "name": "n"}),
            Role::Manager,
        ),
        (
            Method::POST,
            "/locations".into(),
            json!({"code": "L-NEW", "kind": "storage"}),
            Role::Manager,
        ),
        (
            Method::POST,
            "/adjust".into(),
            json!({"ref": "A", "lines": [{"sku": "SKU-1", "location_code": "A-01", "delta": 1, "reason_code": "FOUND"}]}),
            Role::Manager,
        ),
        (Method::GET, "/counts".into(), Value::Null, Role::Viewer),
        (
            Method::POST,
            "/counts".into(),
            json!({"location_codes": ["A-01"]}),
            Role::Manager,
        ),
        (Method::GET, "/counts/1".into(), Value::Null, Role::Viewer),
        (
            Method::POST,
            "/counts/1/lines".into(),
            json!({"sku": "SKU-1", "location_code": "A-01", "counted_qty": 0}),
            Role::Clerk,
        ),
        (
            Method::POST,
            "/counts/1/cancel".into(),
            json!({}),
            Role::Manager,
        ),
        // Integration (SPEC §11): everyone reads the feed and exports; managers import.
        (Method::GET, "/events".into(), Value::Null, Role::Viewer),
        (
            Method::GET,
            "/export/stock".into(),
            Value::Null,
            Role::Viewer,
        ),
        (
            Method::GET,
            "/export/snapshot".into(),
            Value::Null,
            Role::Viewer,
        ),
        (
            Method::GET,
            "/export/ledger".into(),
            Value::Null,
            Role::Viewer,
        ),
        (Method::GET, "/import".into(), Value::Null, Role::Viewer),
        (
            Method::POST,
            "/import/items?dry_run=true".into(),
            json!({"sku": "not a sheet"}),
            Role::Manager,
        ),
        (
            Method::POST,
            "/import/locations?dry_run=true".into(),
            json!({}),
            Role::Manager,
        ),
        (
            Method::POST,
            "/import/stock?dry_run=true".into(),
            json!({}),
            Role::Manager,
        ),
        // Orders (SPEC §10): clerks order, reserve, pick and ship; managers cancel.
        (Method::GET, "/orders".into(), Value::Null, Role::Viewer),
        (
            Method::POST,
            "/orders".into(),
            json!({"ref": "ORD", "lines": [{"sku": "SKU-1", "qty": 1}]}),
            Role::Clerk,
        ),
        (Method::GET, "/orders/ORD".into(), Value::Null, Role::Viewer),
        (
            Method::GET,
            "/orders/ORD/picklist".into(),
            Value::Null,
            Role::Viewer,
        ),
        (
            Method::POST,
            "/orders/ORD/reserve".into(),
            json!({}),
            Role::Clerk,
        ),
        (
            Method::POST,
            "/orders/ORD/pick".into(),
            json!({"lines": [{"location_code": "A-01", "sku": "SKU-1", "qty": 0}]}),
            Role::Clerk,
        ),
        (
            Method::POST,
            "/orders/ORD/ship".into(),
            json!({}),
            Role::Clerk,
        ),
        (
            Method::POST,
            "/orders/ORD/cancel".into(),
            json!({}),
            Role::Manager,
        ),
    ];
    // Every server function, with the role its rule names.
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let Some(Access::Role(role)) = required(&method, path) else {
            panic!("{path}")
        };
        routes.push((method, path.to_string(), Value::Null, role));
    }
    for (role, token) in &tokens {
        let client = client_for(token.as_deref());
        for (method, path, body, needed) in &routes {
            let mut request = client.request(method.clone(), app.url(path));
            if method == Method::POST && path.starts_with("/api/") {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("");
            } else if !body.is_null() {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let www = response.headers().get("www-authenticate").cloned();
            let text = response.text().await.unwrap();
            let who = role.map_or("nobody".to_string(), |r| r.to_string());
            match role {
                None => {
                    assert_eq!(
                        status,
                        StatusCode::UNAUTHORIZED,
                        "{who} {method} {path}: {text}"
                    );
                    assert!(www.is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")));
                    assert_eq!(
                        serde_json::from_str::<Value>(&text).unwrap()["error"]["code"],
                        "UNAUTHENTICATED"
                    );
                }
                Some(role) if role < needed => {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{who} {method} {path}: {text}"
                    );
                    assert!(text.contains("FORBIDDEN"), "{text}");
                }
                Some(_) => assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{who} {method} {path}: {status} {text}"
                ),
            }
        }
    }
    // The clerk's receipt and shipment happened, and the manager's adjustment (the manager's
    // and admin's movements, and the admin's adjustment, were replays of the same refs);
    // nobody's and the viewer's wrote nothing.
    assert_eq!(app.stock_qty(1, 1).await, 1);
    assert_eq!(app.count("stock_ledger").await, 3);

    // A page without a session goes to sign-in, and comes back after it.
    let response = client_for(None)
        .get(app.url("/stock?sku=A%20B"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Fstock%3Fsku%3DA%2520B"
    );
    // The exceptions answer anyone.
    for path in ["/login", "/healthz"] {
        let response = client_for(None).get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    // Static files too: the site may not be built when this runs (a fresh checkout runs these
    // tests before the browser build), so "not found" is fine, a refusal is not.
    for path in ["/favicon.svg", "/pkg/depot.wasm"] {
        let response = client_for(None).get(app.url(path)).send().await.unwrap();
        assert!(
            matches!(response.status(), StatusCode::OK | StatusCode::NOT_FOUND),
            "{path}: {}",
            response.status()
        );
    }
    // A malformed or unknown token is refused, not taken for nobody.
    for bad in ["depot_nope", "", "Basic x"] {
        let response = reqwest::Client::new()
            .get(app.url("/items"))
            .header(AUTHORIZATION, format!("Bearer {bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
    }
}

async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> StatusCode {
    client_for(None)
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
}

async fn people_sign_in_and_out_with_a_session_cookie(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(
        app.db(),
        "ana",
        Role::Clerk,
        &Password::parse("p", "ana's password").unwrap(),
    )
    .await
    .unwrap();
    let (status, cookie) = sign_in(&app, "ana", "wrong password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(cookie.is_none());
    let (status, cookie) = sign_in(&app, "ana", "ana's password").await;
    assert_eq!(status, StatusCode::OK);
    let cookie = cookie.expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let first = cookie_pair(&cookie);
    assert_eq!(
        get_with_cookie(&app, "/ledger", &first).await,
        StatusCode::OK
    );

    // Each sign-in is a new session id; signing in again with the old cookie replaces it.
    let response = client_for(None)
        .post(app.url("/login"))
        .header(COOKIE, &first)
        .json(&json!({"username": "ana", "password": "ana's password"}))
        .send()
        .await
        .unwrap();
    let second = cookie_pair(&session_cookie(response.headers()).unwrap());
    assert_ne!(first, second);
    assert_eq!(
        get_with_cookie(&app, "/ledger", &first).await,
        StatusCode::UNAUTHORIZED
    );

    // A clerk's session may ship but not create items.
    let post = |path: &'static str, body: Value| {
        client_for(None)
            .post(app.url(path))
            .header(COOKIE, &second)
            .json(&body)
            .send()
    };
    let status = post("/items", json!({"sku": "X", "name": "x"}))
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Forged and made-up cookies are nobody.
    for forged in [
        "depot_session=AAAA",
        "depot_session=",
        "depot_session=../../etc",
    ] {
        assert_eq!(
            get_with_cookie(&app, "/ledger", forged).await,
            StatusCode::UNAUTHORIZED
        );
    }

    // Signing out ends the session.
    let response = client_for(None)
        .post(app.url("/logout"))
        .header(COOKIE, &second)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get_with_cookie(&app, "/ledger", &second).await,
        StatusCode::UNAUTHORIZED
    );

    // A browser's form: back to `next` on this site only.
    for (next, location) in [
        ("/stock?sku=A", "/stock?sku=A"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
    ] {
        let response = client_for(None)
            .post(app.url("/login"))
            .form(&[
                ("username", "ana"),
                ("password", "ana's password"),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], location, "{next}");
    }
    let response = client_for(None)
        .post(app.url("/login"))
        .form(&[
            ("username", "ana"),
            ("password", "nope"),
            ("next", "/stock"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "/login?error=invalid&next=%2Fstock&username=ana"
    );

    // Behind HTTPS the cookie is Secure.
    let secure = depot::config::Config {
        secure_cookies: true,
        ..test_config()
    };
    let base = app.serve_again(secure).await;
    let response = client_for(None)
        .post(format!("{base}/login"))
        .json(&json!({"username": "ana", "password": "ana's password"}))
        .send()
        .await
        .unwrap();
    assert!(session_cookie(response.headers())
        .unwrap()
        .contains("Secure"));
}

async fn failed_sign_ins_are_throttled_per_username(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let password = Password::parse("p", "the right one").unwrap();
    create_user(app.db(), "ana", Role::Viewer, &password)
        .await
        .unwrap();
    create_user(app.db(), "bo", Role::Viewer, &password)
        .await
        .unwrap();
    for _ in 0..5 {
        assert_eq!(
            sign_in(&app, "ana", "wrong guess").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let response = client_for(None)
        .post(app.url("/login"))
        .json(&json!({"username": "ana", "password": "the right one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TOO_MANY_REQUESTS");
    // Another user is not held up.
    assert_eq!(sign_in(&app, "bo", "the right one").await.0, StatusCode::OK);
}

async fn the_ledger_records_who_and_a_replay_keeps_the_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-1", "Rice").await;
    app.location("A-01", "storage").await;
    create_user(
        app.db(),
        "ana",
        Role::Clerk,
        &Password::parse("p", "ana's password").unwrap(),
    )
    .await
    .unwrap();
    let (_, cookie) = sign_in(&app, "ana", "ana's password").await;
    let cookie = cookie_pair(&cookie.unwrap());
    let receipt =
        json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 5}]});
    let by_ana = client_for(None)
        .post(app.url("/inbound/receive"))
        .header(COOKIE, &cookie)
        .json(&receipt)
        .send()
        .await
        .unwrap();
    assert_eq!(by_ana.status(), StatusCode::OK);
    // The same receipt again by the ERP's token: the first result, nothing new in the ledger.
    let (_, erp) = create_token(app.db(), "erp", Role::Clerk).await.unwrap();
    let replay = client_for(Some(&erp))
        .post(app.url("/inbound/receive"))
        .json(&receipt)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.json::<Value>().await.unwrap()["status"],
        "IDEMPOTENT"
    );
    let ship =
        json!({"ref": "SO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 2}]});
    let shipped = client_for(Some(&erp))
        .post(app.url("/outbound/commit"))
        .json(&ship)
        .send()
        .await
        .unwrap();
    assert_eq!(shipped.status(), StatusCode::OK);
    let (_, ledger) = app.get("/ledger").await;
    let actors: Vec<&str> = ledger["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["token:erp", "user:ana"], "{ledger}");
    // And on the page, in words.
    let html = app
        .client
        .get(app.url("/ledger"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-actor="user:ana">ana<"#), "{html}");
    assert!(
        html.contains(r#"data-actor="token:erp">erp (token)<"#),
        "{html}"
    );
}

async fn revoked_tokens_and_disabled_users_lose_access_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, secret) = create_token(app.db(), "script", Role::Viewer)
        .await
        .unwrap();
    let client = client_for(Some(&secret));
    assert_eq!(
        client.get(app.url("/items")).send().await.unwrap().status(),
        StatusCode::OK
    );
    revoke_token(app.db(), "script", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        client.get(app.url("/items")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    create_user(
        app.db(),
        "ana",
        Role::Viewer,
        &Password::parse("p", "ana's password").unwrap(),
    )
    .await
    .unwrap();
    let (_, cookie) = sign_in(&app, "ana", "ana's password").await;
    let cookie = cookie_pair(&cookie.unwrap());
    assert_eq!(
        get_with_cookie(&app, "/items", &cookie).await,
        StatusCode::OK
    );
    change_user(app.db(), "ana", UserChange::Disabled(true))
        .await
        .unwrap();
    assert_eq!(
        get_with_cookie(&app, "/items", &cookie).await,
        StatusCode::UNAUTHORIZED
    );
    change_user(app.db(), "ana", UserChange::Disabled(false))
        .await
        .unwrap();
    assert_eq!(
        get_with_cookie(&app, "/items", &cookie).await,
        StatusCode::UNAUTHORIZED,
        "disabling ended the session for good"
    );
}

async fn the_first_start_makes_one_admin_and_then_is_gone(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let state = app_state(test_db.db.clone(), test_config());
    let path = depot::auth::web::open_setup_if_needed(&state)
        .await
        .unwrap()
        .expect("setup opens while no user exists");
    let token = path.rsplit_once("token=").unwrap().1.to_string();
    let (base, _server) = crate::common::serve_state(state).await;

    let client = client_for(None);
    let page = |path: String| {
        client
            .get(format!("{base}{path}"))
            .header("accept", "text/html")
            .send()
    };
    assert_eq!(
        page("/setup?token=wrong".into()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page("/setup".into()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let open = page(path.clone()).await.unwrap();
    assert_eq!(open.status(), StatusCode::OK);
    assert!(open.text().await.unwrap().contains(r#"action="/setup""#));

    let too_short = client
        .post(format!("{base}/setup"))
        .json(&json!({"token": token, "username": "chief", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let made = client
        .post(format!("{base}/setup"))
        .json(&json!({"token": token, "username": "chief", "password": "the chief's password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let cookie = cookie_pair(&session_cookie(made.headers()).expect("signed in"));
    let ledger = client
        .get(format!("{base}/ledger"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(ledger.status(), StatusCode::OK);
    // Gone for good.
    assert_eq!(page(path).await.unwrap().status(), StatusCode::NOT_FOUND);
    let again = client
        .post(format!("{base}/setup"))
        .json(&json!({"token": token, "username": "second", "password": "another password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn no_password_or_secret_reaches_the_log(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let password = "a password nobody logs";
    let mut add = Command::new(env!("CARGO_BIN_EXE_depot"))
        .args(["user", "add", "ana", "--role", "clerk", "--password-stdin"])
        .env("DATABASE_URL", &test_db.url)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut add.stdin.take().unwrap(),
        format!("{password}\n").as_bytes(),
    )
    .unwrap();
    let add = add.wait_with_output().unwrap();
    assert!(add.status.success());
    let (_, secret) = create_token(&test_db.db, "erp", Role::Viewer)
        .await
        .unwrap();
    let log_path = std::env::temp_dir().join(format!("depot-log-{port}.txt"));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_depot"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &test_db.url)
        .env("RUST_LOG", "trace")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = client_for(None);
    for _ in 0..600 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for attempt in [password, "a wrong password"] {
        client
            .post(format!("{base}/login"))
            .json(&json!({"username": "ana", "password": attempt}))
            .send()
            .await
            .unwrap();
        client
            .post(format!("{base}/login"))
            .form(&[("username", "ana"), ("password", attempt)])
            .send()
            .await
            .unwrap();
    }
    let answer = client_for(Some(&secret))
        .get(format!("{base}/items"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    server.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(log.contains("signed in"), "the log was captured: {log}");
    let cli = format!(
        "{}{}",
        String::from_utf8_lossy(&add.stdout),
        String::from_utf8_lossy(&add.stderr)
    );
    for secret_text in [password, "a wrong password", secret.as_str()] {
        assert!(
            !log.contains(secret_text),
            "{secret_text} in the server log"
        );
        assert!(
            !cli.contains(secret_text),
            "{secret_text} in the command's output"
        );
    }
}

/// The session row's `(expires_at, data)`.
async fn session_row(app: &TestApp) -> (i64, String) {
    depot::with_pool!(app.db(), |pool, _backend| sqlx::query_as(
        "SELECT expires_at, data FROM sessions"
    )
    .fetch_one(pool)
    .await
    .unwrap())
}

async fn sessions_end_when_idle_and_are_not_written_per_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(
        app.db(),
        "ana",
        Role::Clerk,
        &Password::parse("p", "ana's password").unwrap(),
    )
    .await
    .unwrap();
    let (_, cookie) = sign_in(&app, "ana", "ana's password").await;
    let cookie = cookie_pair(&cookie.unwrap());
    let (signed_in, data) = session_row(&app).await;
    assert!(data.contains("touched"), "{data}");

    // Requests right after signing in (static files, pages, API calls) read the session but
    // write nothing: its end stays where signing in put it, and no new cookie is sent.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for path in ["/favicon.svg", "/pkg/depot.css", "/items", "/ledger", "/"] {
        let response = client_for(None)
            .get(app.url(path))
            .header(COOKIE, &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert!(response.status() != StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            session_cookie(response.headers()).is_none(),
            "{path} set a cookie"
        );
    }
    assert_eq!(session_row(&app).await.0, signed_in);

    // Last extended two minutes ago: the next request extends it (once) from now.
    let app = &app;
    let old = |expires: i64| async move {
        let (_, data) = session_row(app).await;
        let mut data: Value = serde_json::from_str(&data).unwrap();
        data["touched"] = json!(expires - 8 * 3600);
        depot::with_pool!(app.db(), |pool, _backend| sqlx::query(
            "UPDATE sessions SET expires_at = $1, data = $2"
        )
        .bind(expires)
        .bind(data.to_string())
        .execute(pool)
        .await
        .map(drop)
        .unwrap());
    };
    old(signed_in - 120).await;
    assert_eq!(
        get_with_cookie(app, "/items", &cookie).await,
        StatusCode::OK
    );
    let (extended, _) = session_row(app).await;
    assert!(extended > signed_in - 120, "{extended} vs {signed_in}");

    // Unused for longer than the idle timeout, it has ended.
    let now = chrono::Utc::now().timestamp();
    old(now - 1).await;
    assert_eq!(
        get_with_cookie(app, "/items", &cookie).await,
        StatusCode::UNAUTHORIZED
    );
}
