//! SPEC §7, the accounts underneath sign-in: users with argon2id password hashes, the last admin
//! kept, API tokens stored as digests and revocable, and the command line that makes both.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{TimeDelta, Utc};
use depot::auth::password::Password;
use depot::auth::service::{
    authenticate_token, change_user, check_password, count_users, create_token, create_user,
    list_tokens, list_users, revoke_token, UserChange,
};
use depot::auth::{PrincipalKind, Role};
use depot::db::{Backend, Db};
use depot::error::ErrorCode;

use crate::common::TestDb;
use crate::on_both_backends;

on_both_backends!(
    users_sign_in_with_their_password_only,
    the_last_admin_cannot_be_disabled_or_demoted,
    tokens_are_kept_as_digests_and_revocable,
    the_command_line_adds_users_and_prints_a_token_alone,
    commands_print_only_their_result_and_end_quietly_when_the_reader_leaves,
);

fn password(text: &str) -> Password {
    Password::parse("password", text).unwrap()
}

/// Every text the `users` and `api_tokens` tables hold, as one string.
async fn stored_text(db: &Db) -> String {
    let sql = "SELECT username || ' ' || password_hash || ' ' || role FROM users \
               UNION ALL SELECT name || ' ' || digest || ' ' || role FROM api_tokens";
    let rows: Vec<String> = match db {
        Db::Sqlite(pool, _) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    };
    rows.join("\n")
}

async fn users_sign_in_with_their_password_only(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = &test_db.db;
    assert_eq!(count_users(db).await.unwrap(), 0);
    let ana = create_user(db, " ana ", Role::Clerk, &password("lagerhaus-7"))
        .await
        .unwrap();
    assert_eq!((ana.username.as_str(), ana.role), ("ana", Role::Clerk));
    create_user(db, "管理员", Role::Admin, &password("仓库管理员的密码"))
        .await
        .unwrap();

    let signed_in = check_password(db, "ana", "lagerhaus-7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signed_in.kind, PrincipalKind::User);
    assert_eq!(signed_in.actor(), "user:ana");
    assert_eq!(signed_in.role, Role::Clerk);
    assert!(check_password(db, "管理员", "仓库管理员的密码")
        .await
        .unwrap()
        .is_some());
    assert!(check_password(db, "ana", "lagerhaus-8")
        .await
        .unwrap()
        .is_none());
    assert!(check_password(db, "ANA", "lagerhaus-7")
        .await
        .unwrap()
        .is_none());
    assert!(check_password(db, "nobody", "lagerhaus-7")
        .await
        .unwrap()
        .is_none());

    // A taken name is a conflict; the password is nowhere in clear.
    let again = create_user(db, "ana", Role::Viewer, &password("something-else"))
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::Conflict);
    assert_eq!(again.details["field"], "username");
    let stored = stored_text(db).await;
    assert!(
        !stored.contains("lagerhaus-7") && !stored.contains("仓库管理员的密码"),
        "{stored}"
    );
    assert!(stored.contains("$argon2id$"), "{stored}");
    let bad = create_user(db, "   ", Role::Viewer, &password("12345678"))
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::ValidationFailed);

    // A disabled user cannot sign in; a reset password replaces the old one.
    change_user(db, "ana", UserChange::Disabled(true))
        .await
        .unwrap();
    assert!(check_password(db, "ana", "lagerhaus-7")
        .await
        .unwrap()
        .is_none());
    change_user(db, "ana", UserChange::Disabled(false))
        .await
        .unwrap();
    let hash = password("new-password-1").hash().unwrap();
    change_user(db, "ana", UserChange::PasswordHash(hash))
        .await
        .unwrap();
    assert!(check_password(db, "ana", "lagerhaus-7")
        .await
        .unwrap()
        .is_none());
    assert!(check_password(db, "ana", "new-password-1")
        .await
        .unwrap()
        .is_some());
    let names: Vec<String> = list_users(db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["ana", "管理员"]);
}

async fn the_last_admin_cannot_be_disabled_or_demoted(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = &test_db.db;
    create_user(db, "root", Role::Admin, &password("first-admin"))
        .await
        .unwrap();
    for change in [UserChange::Disabled(true), UserChange::Role(Role::Manager)] {
        let refused = change_user(db, "root", change).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::Conflict, "{refused:?}");
    }
    assert_eq!(list_users(db).await.unwrap()[0].role, Role::Admin);
    assert!(!list_users(db).await.unwrap()[0].disabled);

    // With a second admin, the first may go; then the second is the last.
    create_user(db, "boss", Role::Manager, &password("second-admin"))
        .await
        .unwrap();
    change_user(db, "boss", UserChange::Role(Role::Admin))
        .await
        .unwrap();
    change_user(db, "root", UserChange::Disabled(true))
        .await
        .unwrap();
    let refused = change_user(db, "boss", UserChange::Role(Role::Viewer))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Conflict);
    let missing = change_user(db, "ghost", UserChange::Disabled(true))
        .await
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);
}

async fn tokens_are_kept_as_digests_and_revocable(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = &test_db.db;
    let now = Utc::now();
    let (token, secret) = create_token(db, "erp", Role::Clerk).await.unwrap();
    assert_eq!((token.name.as_str(), token.role), ("erp", Role::Clerk));
    assert!(token.last_used_at.is_none() && token.revoked_at.is_none());
    assert!(!stored_text(db).await.contains(&secret));

    let principal = authenticate_token(db, &secret, now).await.unwrap().unwrap();
    assert_eq!(principal.actor(), "token:erp");
    assert_eq!(principal.role, Role::Clerk);
    let used = list_tokens(db).await.unwrap()[0].last_used_at.unwrap();
    assert!((used - now).abs() < TimeDelta::seconds(1), "{used} {now}");
    // Within the minute it is not written again; later it is.
    authenticate_token(db, &secret, now + TimeDelta::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        list_tokens(db).await.unwrap()[0].last_used_at.unwrap(),
        used
    );
    let later = now + TimeDelta::minutes(5);
    authenticate_token(db, &secret, later).await.unwrap();
    let used = list_tokens(db).await.unwrap()[0].last_used_at.unwrap();
    assert!((used - later).abs() < TimeDelta::seconds(1));

    for wrong in [
        "",
        "depot_",
        &secret[..secret.len() - 1],
        &format!("{secret}x"),
    ] {
        assert!(
            authenticate_token(db, wrong, now).await.unwrap().is_none(),
            "{wrong}"
        );
    }
    let taken = create_token(db, "erp", Role::Viewer).await.unwrap_err();
    assert_eq!(taken.code, ErrorCode::Conflict);

    let revoked = revoke_token(db, "erp", now).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(authenticate_token(db, &secret, now)
        .await
        .unwrap()
        .is_none());
    let missing = revoke_token(db, "nope", now).await.unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);
}

/// Runs `depot ARGS` on `url` with `stdin`; exit code, stdout, stderr.
fn depot(url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_depot"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run depot");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn the_command_line_adds_users_and_prints_a_token_alone(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let url = test_db.url.as_str();
    let (code, out, err) = depot(
        url,
        &[
            "user",
            "add",
            "chief",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("passphrase") && !err.contains("passphrase"));
    assert!(check_password(&test_db.db, "chief", "a long passphrase")
        .await
        .unwrap()
        .is_some());

    // The password only from standard input, and by the rules.
    let (code, _, _) = depot(
        url,
        &["user", "add", "x", "--role", "admin"],
        "a long passphrase\n",
    );
    assert_ne!(code, 0);
    let (code, _, err) = depot(
        url,
        &[
            "user",
            "add",
            "shorty",
            "--role",
            "clerk",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_ne!(code, 0);
    assert!(err.contains("password"), "{err}");
    let (code, _, _) = depot(
        url,
        &["user", "add", "x", "--role", "root", "--password-stdin"],
        "a long passphrase\n",
    );
    assert_ne!(code, 0);

    // Roles, disabling and new passwords from the command line; the last admin stays.
    let (code, _, err) = depot(url, &["user", "disable", "chief"], "");
    assert_ne!(code, 0);
    assert!(err.contains("admin"), "{err}");
    let add = [
        "user",
        "add",
        "second",
        "--role",
        "clerk",
        "--password-stdin",
    ];
    assert_eq!(depot(url, &add, "second's password\n").0, 0);
    assert_eq!(
        depot(url, &["user", "set-role", "second", "--role", "admin"], "").0,
        0
    );
    assert_eq!(depot(url, &["user", "disable", "chief"], "").0, 0);
    let reset = ["user", "reset-password", "second", "--password-stdin"];
    assert_eq!(depot(url, &reset, "a brand new password\n").0, 0);
    assert!(
        check_password(&test_db.db, "second", "a brand new password")
            .await
            .unwrap()
            .is_some()
    );
    let (code, out, _) = depot(url, &["user", "list"], "");
    assert_eq!(code, 0);
    assert_eq!(out, "chief\tadmin (disabled)\nsecond\tadmin\n");

    // The token alone on stdout, so `TOKEN=$(depot token create …)` works.
    let (code, out, err) = depot(
        url,
        &["token", "create", "--name", "bench", "--role", "clerk"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let secret = out.strip_suffix('\n').expect("one line");
    assert!(
        !secret.contains('\n') && secret.starts_with("depot_"),
        "{out}"
    );
    let principal = authenticate_token(&test_db.db, secret, Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(principal.actor(), "token:bench");
    assert!(!err.contains(secret));

    let (code, _, _) = depot(url, &["token", "revoke", "--name", "bench"], "");
    assert_eq!(code, 0);
    assert!(authenticate_token(&test_db.db, secret, Utc::now())
        .await
        .unwrap()
        .is_none());
}

/// Issue 30: on an already migrated PostgreSQL, `depot token create`'s first stdout line was a
/// log line (a migration notice at the default `info`), and `| head -n 1` closing the pipe made
/// depot panic. Logs go to stderr; stdout is the result alone; a closed stdout ends quietly.
async fn commands_print_only_their_result_and_end_quietly_when_the_reader_leaves(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let run = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_depot"))
            .args(["token", "create", "--name", name, "--role", "admin"])
            .env("DATABASE_URL", &test_db.url)
            // The default filter, as a newcomer runs it.
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run depot")
    };
    let output = run("first").wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "stdout is the token alone: {out:?}");
    assert!(lines[0].starts_with("depot_"), "{out:?}");
    assert!(
        authenticate_token(&test_db.db, lines[0], Utc::now())
            .await
            .unwrap()
            .is_some(),
        "the printed line is the token"
    );

    // The reader leaves before anything is written (`| head -c0`, a closed pipe).
    let mut child = run("second");
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
    // Exit 0, or killed by SIGPIPE like a shell tool (no code): never a panic's 101.
    assert!(
        matches!(output.status.code(), Some(0) | None),
        "{:?} {err}",
        output.status
    );
}
