//! The administration pages (SPEC §7) as a browser without JavaScript uses them: plain form posts
//! to their server functions, and the pages they come back to. (The same pages with JavaScript
//! are in `end2end/tests/admin.spec.ts`.)

use depot::auth::password::Password;
use depot::auth::service::create_user;
use depot::auth::Role;
use depot::db::Backend;
use reqwest::header::{AUTHORIZATION, COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{cookie_pair, TestApp};
use crate::on_both_backends;

on_both_backends!(
    admins_create_users_change_their_role_and_reset_their_password,
    disabling_a_user_ends_their_sessions_but_never_the_last_admin,
    a_new_token_is_shown_once_and_revoking_it_refuses_its_next_request,
    only_admins_reach_the_administration,
);

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Posts a plain form to the server function `endpoint` as the app's admin; returns where the
/// browser is sent back to.
async fn post_form(app: &TestApp, endpoint: &str, fields: &[(&str, &str)]) -> String {
    let response = app
        .browser()
        .post(app.url(endpoint))
        .header("accept", HTML)
        .header("origin", app.base.as_str())
        .form(fields)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_redirection(),
        "{endpoint}: {}",
        response.status()
    );
    response.headers()["location"].to_str().unwrap().to_string()
}

/// GETs a page as the app's admin browser.
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

/// Posts a form and reads the page it comes back to.
async fn outcome(app: &TestApp, endpoint: &str, fields: &[(&str, &str)]) -> (String, String) {
    let location = post_form(app, endpoint, fields).await;
    let (status, html) = page(app, &location).await;
    assert_eq!(status, StatusCode::OK, "{location}");
    (location, html)
}

/// Signs in with a password; the session cookie (`depot_session=…`) if it worked.
async fn sign_in(app: &TestApp, username: &str, password: &str) -> Option<String> {
    match crate::common::sign_in(app, username, password).await {
        (StatusCode::OK, Some(cookie)) => Some(cookie_pair(&cookie)),
        _ => None,
    }
}

async fn status_with_cookie(app: &TestApp, path: &str, cookie: &str) -> StatusCode {
    reqwest::Client::new()
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
}

async fn status_with_token(app: &TestApp, path: &str, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(app.url(path))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn admins_create_users_change_their_role_and_reset_their_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, html) = page(&app, "/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("New user"), "{html}");

    let (location, html) = outcome(
        &app,
        "/api/create_user",
        &[
            ("username", "ana"),
            ("role", "clerk"),
            ("password", "first password"),
        ],
    )
    .await;
    assert!(
        location.starts_with("/admin/users?ref=new&result="),
        "{location}"
    );
    assert!(html.contains("ana can now sign in as Clerk."), "{html}");
    assert!(html.contains(r#"data-user="ana""#), "{html}");
    assert!(!html.contains("first password"));
    let cookie = sign_in(&app, "ana", "first password")
        .await
        .expect("ana signs in");
    assert_eq!(
        status_with_cookie(&app, "/items", &cookie).await,
        StatusCode::OK
    );

    // Refused: the form comes back with the name and role, never the password.
    for (fields, field) in [
        (
            [
                ("username", "bo"),
                ("role", "manager"),
                ("password", "short"),
            ],
            "password",
        ),
        (
            [
                ("username", "ana"),
                ("role", "viewer"),
                ("password", "long enough"),
            ],
            "",
        ),
        (
            [
                ("username", "cy"),
                ("role", "root"),
                ("password", "long enough"),
            ],
            "role",
        ),
    ] {
        let (_, html) = outcome(&app, "/api/create_user", &fields).await;
        assert!(html.contains(r#"class="error""#), "{html}");
        if field.is_empty() {
            assert!(html.contains(r#"data-code="CONFLICT""#), "{html}");
        } else {
            assert!(html.contains(r#"data-code="VALIDATION_FAILED""#), "{html}");
        }
        assert!(!html.contains("short\""), "the password is not sent back");
        assert!(
            html.contains(&format!(r#"value="{}""#, fields[0].1)),
            "{html}"
        );
    }
    assert!(sign_in(&app, "bo", "short").await.is_none());

    // A new role counts from the next request.
    let (location, html) = outcome(
        &app,
        "/api/change_user",
        &[
            ("username", "ana"),
            ("change", "role"),
            ("role", "viewer"),
            ("password", ""),
        ],
    )
    .await;
    assert!(
        location.starts_with("/admin/users?ref=change&result="),
        "{location}"
    );
    assert!(html.contains("ana is now Viewer."), "{html}");
    let forbidden = reqwest::Client::new()
        .post(app.url("/inbound/receive"))
        .header(COOKIE, &cookie)
        .header("origin", app.base.as_str())
        .json(&json!({"ref": "R-1", "lines": [{"sku": "X", "location_code": "Y", "qty": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    // A new password: the old one stops working, and so do the sessions made with it.
    let (_, html) = outcome(
        &app,
        "/api/change_user",
        &[
            ("username", "ana"),
            ("change", "password"),
            ("role", ""),
            ("password", "second password"),
        ],
    )
    .await;
    assert!(html.contains("New password set for ana"), "{html}");
    assert!(!html.contains("second password"));
    assert_eq!(
        status_with_cookie(&app, "/items", &cookie).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(sign_in(&app, "ana", "first password").await.is_none());
    assert!(sign_in(&app, "ana", "second password").await.is_some());

    // Nonsense changes and unknown users are refused in words.
    for (fields, code) in [
        (
            [
                ("username", "ana"),
                ("change", "promote"),
                ("role", ""),
                ("password", ""),
            ],
            "VALIDATION_FAILED",
        ),
        (
            [
                ("username", "nobody"),
                ("change", "disable"),
                ("role", ""),
                ("password", ""),
            ],
            "NOT_FOUND",
        ),
        (
            [
                ("username", "ana"),
                ("change", "password"),
                ("role", ""),
                ("password", "1234"),
            ],
            "VALIDATION_FAILED",
        ),
    ] {
        let (_, html) = outcome(&app, "/api/change_user", &fields).await;
        assert!(html.contains(&format!(r#"data-code="{code}""#)), "{html}");
    }
}

async fn disabling_a_user_ends_their_sessions_but_never_the_last_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (name, role) in [("boss", Role::Admin), ("ana", Role::Clerk)] {
        create_user(
            app.db(),
            name,
            role,
            &Password::parse("password", "a good password").unwrap(),
        )
        .await
        .unwrap();
    }
    let cookie = sign_in(&app, "ana", "a good password").await.unwrap();
    let change = |username: &'static str, change: &'static str| {
        [
            ("username", username),
            ("change", change),
            ("role", ""),
            ("password", ""),
        ]
    };
    let (_, html) = outcome(&app, "/api/change_user", &change("ana", "disable")).await;
    assert!(
        html.contains("ana is disabled and signed out everywhere."),
        "{html}"
    );
    assert!(html.contains(r#"data-state="disabled""#), "{html}");
    assert_eq!(
        status_with_cookie(&app, "/items", &cookie).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(sign_in(&app, "ana", "a good password").await.is_none());

    let (_, html) = outcome(&app, "/api/change_user", &change("ana", "enable")).await;
    assert!(html.contains("ana can sign in again."), "{html}");
    assert!(sign_in(&app, "ana", "a good password").await.is_some());

    // boss is the only admin user: neither disabled nor demoted.
    let (_, html) = outcome(&app, "/api/change_user", &change("boss", "disable")).await;
    assert!(html.contains(r#"data-code="CONFLICT""#), "{html}");
    assert!(html.contains("no enabled admin"), "{html}");
    let demote = [
        ("username", "boss"),
        ("change", "role"),
        ("role", "manager"),
        ("password", ""),
    ];
    let (_, html) = outcome(&app, "/api/change_user", &demote).await;
    assert!(html.contains(r#"data-code="CONFLICT""#), "{html}");
    assert!(sign_in(&app, "boss", "a good password").await.is_some());
    let (_, html) = page(&app, "/admin/users").await;
    assert!(!html.contains(r#"data-state="disabled""#), "{html}");
}

async fn a_new_token_is_shown_once_and_revoking_it_refuses_its_next_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (location, html) = outcome(
        &app,
        "/api/create_token",
        &[("name", "erp"), ("role", "clerk")],
    )
    .await;
    assert!(
        location.starts_with("/admin/tokens?ref=new&result="),
        "{location}"
    );
    assert!(html.contains("Token erp (Clerk) created."), "{html}");
    let secret = html
        .split(r#"class="secret">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret on the page")
        .to_string();
    assert!(secret.starts_with("depot_"), "{secret}");
    assert!(!location.contains(&secret));
    assert_eq!(
        status_with_token(&app, "/items", &secret).await,
        StatusCode::OK
    );

    // Shown once: the same address again has no secret.
    let (status, again) = page(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!again.contains(&secret));
    assert!(again.contains("no longer available"), "{again}");
    // The list shows it, used just now, and never its secret.
    assert!(again.contains(r#"data-token="erp""#), "{again}");
    let row = again.split(r#"data-token="erp""#).nth(1).unwrap();
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(!row.contains("never"), "used: {row}");

    // A taken name is refused, and no second secret is shown.
    let (_, html) = outcome(
        &app,
        "/api/create_token",
        &[("name", "erp"), ("role", "viewer")],
    )
    .await;
    assert!(html.contains(r#"data-code="CONFLICT""#), "{html}");
    assert!(!html.contains("data-secret"));

    let (location, html) = outcome(&app, "/api/revoke_token", &[("name", "erp")]).await;
    assert!(
        location.starts_with("/admin/tokens?ref=change&result="),
        "{location}"
    );
    assert!(html.contains("erp is revoked"), "{html}");
    assert!(html.contains(r#"data-state="revoked""#), "{html}");
    assert_eq!(
        status_with_token(&app, "/items", &secret).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, html) = outcome(&app, "/api/revoke_token", &[("name", "nope")]).await;
    assert!(html.contains(r#"data-code="NOT_FOUND""#), "{html}");
}

async fn only_admins_reach_the_administration(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(
        app.db(),
        "mia",
        Role::Manager,
        &Password::parse("password", "a good password").unwrap(),
    )
    .await
    .unwrap();
    let cookie = sign_in(&app, "mia", "a good password").await.unwrap();
    for path in ["/admin/users", "/admin/tokens"] {
        assert_eq!(
            status_with_cookie(&app, path, &cookie).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let response = reqwest::Client::new()
        .post(app.url("/api/create_token"))
        .header(COOKIE, &cookie)
        .header("origin", app.base.as_str())
        .form(&[("name", "mine"), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("api_tokens").await,
        1,
        "only the test's own token"
    );
    // A manager's navigation has no administration; an admin's has.
    let html = reqwest::Client::new()
        .get(app.url("/"))
        .header(COOKIE, &cookie)
        .header("accept", HTML)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(r#"href="/admin/users""#));
    let (_, html) = page(&app, "/").await;
    assert!(html.contains(r#"href="/admin/users""#), "{html}");
}
