//! Database failures reach the client mapped (SPEC §4), never as a 500: each test makes a normal
//! request meet one class of failure in its own database — a trigger installed by the test makes
//! the request's own statements break a named rule, raise a PostgreSQL contention code, or another
//! connection holds SQLite's write lock — and checks the answer and that nothing was written.

use std::time::Duration;

use depot::config::Config;
use depot::db::{Backend, Db, PoolSettings, WRITE_ATTEMPTS};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, test_settings, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    a_check_violation_in_a_movement_is_a_conflict,
    a_foreign_key_violation_in_a_movement_is_a_conflict,
    a_unique_violation_in_a_movement_is_a_conflict,
    rewriting_the_ledger_is_a_conflict,
    a_check_violation_on_a_field_is_validation_failed_naming_it,
    a_duplicate_sku_is_a_conflict,
    a_transaction_abandoned_while_it_begins_leaves_no_transaction_behind,
);

/// An item and a receiving location, and a one-line receive of it.
async fn warehouse(app: &TestApp) -> Value {
    app.item("SKU-1", "Water").await;
    app.location("R-1", "receiving").await;
    json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "R-1", "qty": 5}]})
}

/// Installs a row trigger named `name` on `event` (e.g. `AFTER INSERT ON stock_ledger`) that runs
/// `body`, statements both dialects accept (`NEW.` names the row).
async fn install_trigger(app: &TestApp, name: &str, event: &str, body: &str) {
    let sql = match app.db().backend() {
        Backend::Sqlite => format!("CREATE TRIGGER {name} {event} FOR EACH ROW BEGIN {body} END;"),
        Backend::Postgres => format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN {body} RETURN NEW; END $$; \
             CREATE TRIGGER {name} {event} FOR EACH ROW EXECUTE FUNCTION {name}();"
        ),
    };
    depot::with_pool!(app.db(), |pool, _backend| sqlx::raw_sql(&sql)
        .execute(pool)
        .await
        .map(drop)
        .expect("install the test trigger"));
}

/// POSTs `body` to `path`: status, `Retry-After` and JSON body.
async fn post(app: &TestApp, path: &str, body: &Value) -> (StatusCode, Option<String>, Value) {
    let response = app
        .client
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = crate::common::into_json(response).await;
    (status, retry_after, body)
}

/// Posts `receive`, expects `code` at `status`, and that nothing was written.
async fn assert_refused(app: &TestApp, receive: &Value, status: StatusCode, code: &str) -> Value {
    let before = app.footprint().await;
    let (got, _, body) = post(app, "/inbound/receive", receive).await;
    assert_eq!(got, status, "{body}");
    assert_error(&body, code);
    assert_eq!(app.footprint().await, before, "nothing written");
    body
}

async fn a_check_violation_in_a_movement_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receive = warehouse(&app).await;
    // The real CHECK (SQLite 275, PostgreSQL 23514) on the request's own stock row.
    install_trigger(
        &app,
        "test_negative_stock",
        "AFTER INSERT ON stock_ledger",
        "UPDATE stocks SET qty = -1 WHERE id = NEW.stock_id;",
    )
    .await;
    let body = assert_refused(&app, &receive, StatusCode::CONFLICT, "CONFLICT").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("below zero"),
        "{body}"
    );
}

async fn a_foreign_key_violation_in_a_movement_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receive = warehouse(&app).await;
    // Batch detail for a batch that does not exist (SQLite 787, PostgreSQL 23503).
    install_trigger(
        &app,
        "test_missing_batch",
        "AFTER INSERT ON stock_ledger",
        "INSERT INTO ledger_batches (ledger_id, batch_id, delta) VALUES (NEW.id, -1, 1);",
    )
    .await;
    assert_refused(&app, &receive, StatusCode::CONFLICT, "CONFLICT").await;
}

async fn a_unique_violation_in_a_movement_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receive = warehouse(&app).await;
    // A second location with the request's location code (SQLite 2067, PostgreSQL 23505).
    install_trigger(
        &app,
        "test_duplicate_location",
        "AFTER INSERT ON stock_ledger",
        "INSERT INTO locations (warehouse_id, code, name, kind) \
         SELECT warehouse_id, code, name, kind FROM locations WHERE id = NEW.location_id;",
    )
    .await;
    let body = assert_refused(&app, &receive, StatusCode::CONFLICT, "CONFLICT").await;
    assert_eq!(body["error"]["details"]["field"], "code", "{body}");
    assert_eq!(app.count("locations").await, 1);
}

async fn rewriting_the_ledger_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receive = warehouse(&app).await;
    // The append-only triggers (SQLite 1811, PostgreSQL 23001 restrict_violation).
    install_trigger(
        &app,
        "test_rewrite_ledger",
        "AFTER INSERT ON stock_ledger",
        "UPDATE stock_ledger SET ref = 'REWRITTEN' WHERE id = NEW.id;",
    )
    .await;
    let body = assert_refused(&app, &receive, StatusCode::CONFLICT, "CONFLICT").await;
    assert_eq!(body["error"]["message"], "the ledger is append-only");
}

async fn a_check_violation_on_a_field_is_validation_failed_naming_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // The item's name emptied as it is stored: the real items_name_length CHECK.
    install_trigger(
        &app,
        "test_empty_name",
        "AFTER INSERT ON items",
        "UPDATE items SET name = '' WHERE id = NEW.id;",
    )
    .await;
    let (status, _, body) = post(&app, "/items", &json!({"sku": "SKU-1", "name": "Water"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "VALIDATION_FAILED");
    assert_eq!(body["error"]["details"]["field"], "name", "{body}");
    assert_eq!(app.count("items").await, 0, "nothing written");
}

async fn a_duplicate_sku_is_a_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-1", "Water").await;
    // No pre-check: the database's unique constraint refuses it.
    let (status, _, body) = post(&app, "/items", &json!({"sku": "SKU-1", "name": "Other"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "CONFLICT");
    assert_eq!(body["error"]["details"]["field"], "sku", "{body}");
    assert_eq!(app.count("items").await, 1);
}

/// PostgreSQL's contention codes, which only it raises.
mod postgres_only {
    use super::*;

    /// Makes the first `failures` ledger inserts raise `sqlstate`. The attempts are counted in a
    /// sequence, which a rollback does not undo.
    async fn contend(app: &TestApp, sqlstate: &str, failures: i64) {
        depot::with_pool!(app.db(), |pool, _backend| sqlx::raw_sql(
            "CREATE SEQUENCE test_attempts"
        )
        .execute(pool)
        .await
        .map(drop)
        .unwrap());
        install_trigger(
            app,
            "test_contend",
            "BEFORE INSERT ON stock_ledger",
            &format!(
                "IF nextval('test_attempts') <= {failures} THEN \
                 RAISE EXCEPTION 'forced contention' USING ERRCODE = '{sqlstate}'; END IF;"
            ),
        )
        .await;
    }

    async fn attempts(app: &TestApp) -> i64 {
        depot::with_pool!(app.db(), |pool, _backend| sqlx::query_scalar(
            "SELECT last_value FROM test_attempts"
        )
        .fetch_one(pool)
        .await
        .unwrap())
    }

    async fn contention_past_the_retry_budget_answers_503(sqlstate: &str) {
        let app = TestApp::spawn(Backend::Postgres).await;
        let receive = warehouse(&app).await;
        contend(&app, sqlstate, i64::MAX).await;
        let before = app.footprint().await;
        let (status, retry_after, body) = post(&app, "/inbound/receive", &receive).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_error(&body, "UNAVAILABLE");
        assert!(retry_after.is_some(), "503 carries Retry-After");
        assert_eq!(
            attempts(&app).await,
            i64::from(WRITE_ATTEMPTS),
            "bounded retries"
        );
        assert_eq!(app.footprint().await, before, "nothing written");
    }

    async fn contention_within_the_retry_budget_is_retried(sqlstate: &str) {
        let app = TestApp::spawn(Backend::Postgres).await;
        let receive = warehouse(&app).await;
        contend(&app, sqlstate, 2).await;
        let (status, _, body) = post(&app, "/inbound/receive", &receive).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "OK");
        assert_eq!(
            attempts(&app).await,
            3,
            "two failed attempts, then one that committed"
        );
        assert_eq!(app.count("stock_ledger").await, 1, "applied once");
        app.assert_consistent().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serialization_failures_past_the_retry_budget_answer_503() {
        contention_past_the_retry_budget_answers_503("40001").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deadlocks_past_the_retry_budget_answer_503() {
        contention_past_the_retry_budget_answers_503("40P01").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_serialization_failure_is_retried_until_the_write_succeeds() {
        contention_within_the_retry_budget_is_retried("40001").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deadlock_is_retried_until_the_write_succeeds() {
        contention_within_the_retry_budget_is_retried("40P01").await;
    }
}

/// SQLite's busy database: another connection holds the write lock.
mod sqlite_only {
    use sqlx::Connection;

    use super::*;

    const BUSY_TIMEOUT: Duration = Duration::from_millis(200);

    /// An app whose statements wait at most [`BUSY_TIMEOUT`] for a lock.
    async fn spawn() -> TestApp {
        let settings = PoolSettings {
            sqlite_busy_timeout: BUSY_TIMEOUT,
            ..test_settings()
        };
        let test_db = TestDb::new_with(Backend::Sqlite, settings).await;
        TestApp::spawn_with(test_db, Config::default()).await
    }

    /// Another connection to the app's file, holding the write lock until it is dropped or
    /// rolled back.
    async fn hold_write_lock(app: &TestApp) -> sqlx::SqliteConnection {
        let mut conn = sqlx::SqliteConnection::connect(&app.test_db.url)
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    }

    async fn release(mut conn: sqlx::SqliteConnection) {
        sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_lock_held_past_the_retry_budget_answers_503_then_the_request_succeeds() {
        let app = spawn().await;
        let receive = warehouse(&app).await;
        let before = app.footprint().await;
        let lock = hold_write_lock(&app).await;

        let (status, retry_after, body) = post(&app, "/inbound/receive", &receive).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_error(&body, "UNAVAILABLE");
        assert!(retry_after.is_some(), "503 carries Retry-After");

        release(lock).await;
        assert_eq!(app.footprint().await, before, "nothing written");
        let (status, _, body) = post(&app, "/inbound/receive", &receive).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "OK");
        app.assert_consistent().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_lock_released_within_the_retry_budget_is_waited_out() {
        let app = spawn().await;
        let receive = warehouse(&app).await;
        let lock = hold_write_lock(&app).await;
        // Longer than one busy timeout, shorter than all the attempts together.
        let releaser = tokio::spawn(async move {
            tokio::time::sleep(BUSY_TIMEOUT + BUSY_TIMEOUT / 2).await;
            release(lock).await;
        });

        let (status, _, body) = post(&app, "/inbound/receive", &receive).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "OK");
        releaser.await.unwrap();
        assert_eq!(app.count("stock_ledger").await, 1, "applied once");
        app.assert_consistent().await;
    }
    /// One node's writers wait their turn in the order they came (`db::WriterQueue`), not in
    /// SQLite's busy handler, whose sleeps of 1 … 100 ms let a late writer overtake one that
    /// waited longer and left the lock free while every writer slept (p99 130 ms at 8 clients
    /// in `make bench`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_of_one_node_take_turns_in_the_order_they_came() {
        let test_db = TestDb::new_with(Backend::Sqlite, test_settings()).await;
        let app = TestApp::spawn_with(test_db, Config::default()).await;
        let receive = warehouse(&app).await;
        // This node's turn to write, held by a transaction of its own.
        let held = app.db().begin_write().await.unwrap();
        let mut writers = Vec::new();
        for n in 1..=5 {
            let mut body = receive.clone();
            body["ref"] = json!(format!("PO-{n}"));
            let client = app.client.clone();
            let url = app.url("/inbound/receive");
            writers.push(tokio::spawn(async move {
                client.post(url).json(&body).send().await.unwrap().status()
            }));
            // Each writer is waiting before the next one comes.
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        held.rollback().await.unwrap();
        for writer in writers {
            assert_eq!(writer.await.unwrap(), StatusCode::OK);
        }
        let order: Vec<String> = depot::with_pool!(app.db(), |pool, _backend| {
            sqlx::query_scalar("SELECT ref FROM stock_ledger ORDER BY id")
                .fetch_all(pool)
                .await
                .unwrap()
        });
        assert_eq!(order, ["PO-1", "PO-2", "PO-3", "PO-4", "PO-5"]);
        app.assert_consistent().await;
    }
}

/// A request cancelled while its transaction is beginning (a browser navigating away, a client
/// timing out) must hand its connection back clean. sqlx 0.8.6 returned it to the pool inside the
/// half-begun transaction, and the next request's transaction began inside that one: after an
/// abandoned read, a movement failed with "cannot execute INSERT in a read-only transaction"
/// (seen once in the browser tests as a 500). With one connection, every abandoned begin here
/// would poison the next write.
async fn a_transaction_abandoned_while_it_begins_leaves_no_transaction_behind(backend: Backend) {
    let settings = PoolSettings {
        max_connections: Some(1),
        ..test_settings()
    };
    let app = TestApp::spawn_with(
        TestDb::new_with(backend, settings).await,
        crate::common::test_config(),
    )
    .await;
    let order = warehouse(&app).await;
    for round in 0..400u64 {
        // Polled until some point of acquiring, sending BEGIN or waiting for its answer, then
        // dropped.
        let begin = app.db().begin_read();
        let _ = tokio::time::timeout(Duration::from_micros(round * 37 % 1500), begin).await;
        if let Db::Postgres(pool) = app.db() {
            let read_only: String = sqlx::query_scalar("SHOW transaction_read_only")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(
                read_only, "off",
                "round {round}: a read-only transaction was left open"
            );
        }
        if round % 40 == 0 {
            let mut body = order.clone();
            body["ref"] = json!(format!("PO-{round}"));
            let (status, answer) = app.post("/inbound/receive", &body).await;
            assert_eq!(status, StatusCode::OK, "round {round}: {answer}");
        }
    }
    app.assert_consistent().await;
}
