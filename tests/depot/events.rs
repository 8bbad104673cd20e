//! `GET /events` (SPEC §11): the change feed over the ledger — a cursor, oldest first,
//! long-polling without a database connection, refusals. The consumer that must see every
//! entry exactly once beside concurrent writers is in `stress.rs`.

use depot::db::{Backend, PoolSettings};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, test_config, TestApp, TestDb};
use crate::inbound::warehouse;
use crate::on_both_backends;

on_both_backends!(
    the_feed_pages_the_ledger_oldest_first,
    a_waiting_request_answers_with_the_next_entry,
    waiting_requests_hold_no_database_connection,
    bad_cursors_are_422,
    only_an_open_ledger_writer_holds_the_feed_back,
);

async fn receive(app: &TestApp, r: &str, qty: i64) {
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": r, "lines": [{"sku": "SKU-1", "location_code": "R-1", "qty": qty}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn ids(page: &Value) -> Vec<i64> {
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

async fn the_feed_pages_the_ledger_oldest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    let (status, empty) = app.get("/events").await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty, json!({"events": [], "next": 0}));

    for (n, qty) in [(1, 5), (2, 7), (3, 2)] {
        receive(&app, &format!("PO-{n}"), qty).await;
    }
    let (status, put) = app
        .post(
            "/putaway",
            &json!({"ref": "PA-1", "lines": [{"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 4}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{put}");

    let (_, all) = app.get("/events").await;
    let all_ids = ids(&all);
    assert_eq!(all_ids.len(), 5, "{all}");
    assert!(
        all_ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {all_ids:?}"
    );
    assert_eq!(all["next"], *all_ids.last().unwrap());
    // The entries are the ledger's, with their detail.
    let first = &all["events"][0];
    assert_eq!(first["reason"], "RECEIVE");
    assert_eq!(first["ref"], "PO-1");
    assert_eq!(first["sku"], "SKU-1");
    assert_eq!(first["location_code"], "R-1");
    assert_eq!(first["delta"], 5);
    assert_eq!(first["after_qty"], 5);
    let reasons: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["RECEIVE", "RECEIVE", "RECEIVE", "PUTAWAY", "PUTAWAY"]
    );

    // Page by page with the cursor: the same entries, each once.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = app.get(&format!("/events?after={after}&limit=2")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page_ids = ids(&page);
        assert!(page_ids.len() <= 2);
        after = page["next"].as_i64().unwrap();
        if page_ids.is_empty() {
            break;
        }
        seen.extend(page_ids);
    }
    assert_eq!(seen, all_ids);
    assert_eq!(
        after,
        *all_ids.last().unwrap(),
        "the cursor rests at the last entry"
    );

    // Nothing new: the same cursor back.
    let (_, none) = app.get(&format!("/events?after={after}")).await;
    assert_eq!(none, json!({"events": [], "next": after}));
    // A cursor past the end (another database's, a typo) answers nothing and keeps it.
    let (_, beyond) = app.get("/events?after=1000000").await;
    assert_eq!(beyond, json!({"events": [], "next": 1000000}));
}

async fn a_waiting_request_answers_with_the_next_entry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    receive(&app, "PO-1", 5).await;
    let (_, now) = app.get("/events").await;
    let after = now["next"].as_i64().unwrap();

    let waiting = {
        let (client, url) = (
            app.client.clone(),
            format!("{}/events?after={after}&wait=30", app.base),
        );
        tokio::spawn(async move {
            let response = client.get(url).send().await.expect("answered");
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.expect("JSON")
        })
    };
    // Give the request time to start waiting (if it has not, it finds the entry at once: the
    // answer is the same either way).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    receive(&app, "PO-2", 3).await;
    let page = waiting.await.expect("the waiting request ends");
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["events"][0]["ref"], "PO-2");
    assert_eq!(page["next"], page["events"][0]["id"]);

    // Nothing comes: after the wait, an empty answer with the same cursor.
    let next = page["next"].as_i64().unwrap();
    let (status, none) = app.get(&format!("/events?after={next}&wait=1")).await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none, json!({"events": [], "next": next}));
}

/// With a pool of one connection, ten requests waiting for entries leave it free: a receipt
/// goes through while they wait, and they all see it.
async fn waiting_requests_hold_no_database_connection(backend: Backend) {
    let settings = PoolSettings {
        max_connections: Some(1),
        ..crate::common::test_settings()
    };
    let app = TestApp::spawn_with(TestDb::new_with(backend, settings).await, test_config()).await;
    warehouse(&app).await;
    let mut waiting = Vec::new();
    for _ in 0..10 {
        let (client, url) = (app.client.clone(), format!("{}/events?wait=30", app.base));
        waiting.push(tokio::spawn(async move {
            let response = client.get(url).send().await.expect("answered");
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.expect("JSON")
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    receive(&app, "PO-1", 5).await;
    for request in waiting {
        let page = request.await.expect("the waiting request ends");
        assert_eq!(page["events"][0]["ref"], "PO-1", "{page}");
    }
}

async fn bad_cursors_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, field) in [
        ("after=-1", "after"),
        ("after=x", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("wait=31", "wait"),
        ("wait=-1", "wait"),
        ("wait=1.5", "wait"),
    ] {
        let (status, body) = app.get(&format!("/events?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_error(&body, "VALIDATION_FAILED");
        assert_eq!(body["error"]["details"]["field"], field, "{query}: {body}");
    }
}

/// Issue 30: a 20-second write transaction in another database of the same PostgreSQL cluster
/// held the feed empty after a committed receipt (the horizon was the cluster's snapshot xmin).
/// Transactions that write no ledger — in another database, on a Depot table outside the
/// ledger, idle — hold nothing back; an open ledger writer holds back only the ids after its
/// own, and the entries before it are delivered at once.
async fn only_an_open_ledger_writer_holds_the_feed_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    warehouse(&app).await;
    receive(&app, "PO-1", 1).await;
    let (_, first) = app.get("/events").await;
    assert_eq!(ids(&first).len(), 1, "{first}");
    let cursor = first["next"].as_i64().unwrap();

    // Write transactions of others, left open (idle in transaction) for the rest of the test.
    let other = TestDb::empty(backend).await;
    let mut elsewhere = other.db.begin_write().await.unwrap();
    depot::with_tx!(&mut elsewhere, |conn, _backend| {
        sqlx::query("CREATE TABLE busy (x INTEGER)")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO busy VALUES (1)")
            .execute(&mut *conn)
            .await
            .unwrap();
    });
    // On a Depot table outside the ledger (SQLite runs one writer at a time: there, a reader).
    app.location("X-01", "storage").await;
    let mut beside = match backend {
        Backend::Postgres => app.db().begin_write().await.unwrap(),
        Backend::Sqlite => app.db().begin_read().await.unwrap(),
    };
    if let depot::db::Tx::Postgres(tx) = &mut beside {
        sqlx::query("UPDATE locations SET name = name || '.' WHERE code = 'X-01'")
            .execute(&mut **tx)
            .await
            .unwrap();
    } else {
        depot::with_tx!(&mut beside, |conn, _backend| {
            sqlx::query("SELECT COUNT(*) FROM locations")
                .execute(&mut *conn)
                .await
                .map(drop)
                .unwrap()
        });
    }

    receive(&app, "PO-2", 2).await;
    // No wait: the entry is final the moment its receipt answered.
    let (status, page) = app.get(&format!("/events?after={cursor}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let refs: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["PO-2"], "{page}");
    let cursor = page["next"].as_i64().unwrap();

    if backend == Backend::Postgres {
        // A Depot ledger writer still open (a receipt of another item, written, not committed)
        // holds back what comes after it, not before.
        app.item("SKU-2", "Tea").await;
        let open = depot::inbound::service::Receive::parse(
            &serde_json::from_value(json!({"ref": "PO-OPEN", "lines": [
                {"sku": "SKU-2", "location_code": "R-1", "qty": 4}
            ]}))
            .unwrap(),
        )
        .unwrap();
        let mut writer = app.db().begin_write().await.unwrap();
        let now = chrono::Utc::now();
        let moment = depot::movement::pipeline::Moment {
            now,
            today: now.date_naive(),
        };
        depot::movement::pipeline::apply(&mut writer, &open, moment, None)
            .await
            .unwrap();
        receive(&app, "PO-3", 3).await;
        let (_, held) = app.get(&format!("/events?after={cursor}")).await;
        assert_eq!(ids(&held), Vec::<i64>::new(), "{held}");
        assert_eq!(held["next"], cursor, "{held}");
        let (_, all) = app.get("/events").await;
        assert_eq!(ids(&all).len(), 2, "the entries before it: {all}");
        writer.rollback().await.unwrap();
        let (_, after) = app.get(&format!("/events?after={cursor}")).await;
        let refs: Vec<&str> = after["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["ref"].as_str().unwrap())
            .collect();
        assert_eq!(refs, ["PO-3"], "{after}");
    }
    drop(beside);
    drop(elsewhere);
    // Exactly once, in order, over the whole run.
    let (_, all) = app.get("/events").await;
    let all_ids = ids(&all);
    let mut sorted = all_ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(all_ids, sorted, "{all}");
}
