//! Migration 0016 (issue 32) moves every kind's idempotency anchors into one table: a ref
//! applied before the migration replays after it exactly as before — the same original result,
//! the same conflict when a retry says something else, nothing written — and the ledger's
//! reason is a key of the table of reasons that Depot fills from its kinds when it starts.

use depot::db::Backend;
use depot::movement::anchors::{self, Content, LineKey};
use depot::with_pool;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{test_config, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    refs_written_before_migration_0016_replay_unchanged,
    the_ledger_takes_the_reasons_of_the_kinds_depot_knows,
);

/// What an older Depot wrote, at migration 0015.
struct Planted {
    item: i64,
    a: i64,
    b: i64,
    /// The ledger entries, in order: receive, putaway out of A and into B, outbound, adjust.
    entries: Vec<i64>,
}

/// Plants, in the schema of migration 0015, the rows an older Depot wrote for one ref of each
/// kind: `R-OLD` received 10 of batch B1 into OLD-A; `P-OLD` moved 4 of them (FEFO) to OLD-B;
/// `O-OLD` shipped 1 of B1 from OLD-B; `A-OLD` counted OLD-A right (6, no entry) and wrote off
/// 1 damaged at OLD-B; the shipment `SO-OLD#1` of an order took 1 of B1 at OLD-B.
async fn plant_before_0016(db: &depot::db::Db) -> Planted {
    with_pool!(db, |pool, _backend| {
        let item: i64 = sqlx::query_scalar(
            "INSERT INTO items (sku, name, search_text) VALUES ('OLD-1', 'Old', 'old-1 old') RETURNING id",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let mut locations = Vec::new();
        for code in ["OLD-A", "OLD-B"] {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO locations (code, kind, search_text) VALUES ($1, 'storage', $2) RETURNING id",
            )
            .bind(code)
            .bind(code.to_lowercase())
            .fetch_one(pool)
            .await
            .unwrap();
            locations.push(id);
        }
        let (a, b) = (locations[0], locations[1]);
        let mut stocks = Vec::new();
        let mut batches = Vec::new();
        for (location, qty) in [(a, 6_i64), (b, 2)] {
            let stock: i64 = sqlx::query_scalar(
                "INSERT INTO stocks (item_id, location_id, qty) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(item)
            .bind(location)
            .bind(qty)
            .fetch_one(pool)
            .await
            .unwrap();
            let batch: i64 = sqlx::query_scalar(
                "INSERT INTO batches (stock_id, item_id, location_id, batch_code, qty, expiry_date) \
                 VALUES ($1, $2, $3, 'B1', $4, $5) RETURNING id",
            )
            .bind(stock)
            .bind(item)
            .bind(location)
            .bind(qty)
            .bind(chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap())
            .fetch_one(pool)
            .await
            .unwrap();
            stocks.push(stock);
            batches.push(batch);
        }
        // (stock, location, batch, delta, after, reason, ref, line, reason code)
        let legs = [
            (0, a, 10_i64, 10_i64, "RECEIVE", "R-OLD", 1, None),
            (0, a, -4, 6, "PUTAWAY", "P-OLD", 1, None),
            (1, b, 4, 4, "PUTAWAY", "P-OLD", 1, None),
            (1, b, -1, 3, "OUTBOUND", "O-OLD", 1, None),
            (1, b, -1, 2, "ADJUST", "A-OLD", 2, Some("DAMAGED")),
        ];
        let mut entries = Vec::new();
        for (at, location, delta, after, reason, r#ref, line, code) in legs {
            let entry: i64 = sqlx::query_scalar(
                "INSERT INTO stock_ledger (stock_id, item_id, location_id, delta, after_qty, reason, ref, ref_line, reason_code) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(stocks[at])
            .bind(item)
            .bind(location)
            .bind(delta)
            .bind(after)
            .bind(reason)
            .bind(r#ref)
            .bind(line)
            .bind(code)
            .fetch_one(pool)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO ledger_batches (ledger_id, batch_id, delta, batch_code, expiry_date) \
                 VALUES ($1, $2, $3, 'B1', $4)",
            )
            .bind(entry)
            .bind(batches[at])
            .bind(delta)
            .bind(chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap())
            .execute(pool)
            .await
            .unwrap();
            entries.push(entry);
        }
        let anchors: [(&str, Vec<i64>); 6] = [
            (
                "INSERT INTO inbound_receipts (ref, ref_line, item_id, location_id, batch_code, qty, expiry_date, ledger_id) \
                 VALUES ('R-OLD', 1, $1, $2, 'B1', 10, '2030-01-01', $3)",
                vec![item, a, entries[0]],
            ),
            (
                "INSERT INTO putaway_moves (ref, ref_line, item_id, from_location_id, to_location_id, qty, from_ledger_id, to_ledger_id) \
                 VALUES ('P-OLD', 1, $1, $2, $3, 4, $4, $5)",
                vec![item, a, b, entries[1], entries[2]],
            ),
            (
                "INSERT INTO outbound_commits (ref, ref_line, item_id, location_id, qty, batch_code, ledger_id) \
                 VALUES ('O-OLD', 1, $1, $2, 1, 'B1', $3)",
                vec![item, b, entries[3]],
            ),
            (
                "INSERT INTO adjustments (ref, ref_line, item_id, location_id, batch_code, qty, counted, reason_code, ledger_id) \
                 VALUES ('A-OLD', 1, $1, $2, '', 6, 1 = 1, 'COUNT_CORRECTION', NULL)",
                vec![item, a],
            ),
            (
                "INSERT INTO adjustments (ref, ref_line, item_id, location_id, batch_code, qty, counted, reason_code, ledger_id) \
                 VALUES ('A-OLD', 2, $1, $2, '', -1, 1 = 0, 'DAMAGED', $3)",
                vec![item, b, entries[4]],
            ),
            (
                "INSERT INTO order_shipments (ref, ref_line, item_id, location_id, batch_code, qty, ledger_id) \
                 VALUES ('SO-OLD#1', 1, $1, $2, 'B1', 1, $3)",
                vec![item, b, entries[3]],
            ),
        ];
        for (sql, binds) in anchors {
            let mut query = sqlx::query(sql);
            for value in binds {
                query = query.bind(value);
            }
            query.execute(pool).await.unwrap();
        }
        Planted {
            item,
            a,
            b,
            entries,
        }
    })
}

async fn refs_written_before_migration_0016_replay_unchanged(backend: Backend) {
    let test_db = TestDb::empty(backend).await;
    test_db
        .db
        .migrate_schema_until(15)
        .await
        .expect("migrations 1–15 apply");
    let planted = plant_before_0016(&test_db.db).await;
    depot::cli::migrate(&test_db.db)
        .await
        .expect("migration 0016 applies over them");

    // Each anchor reads back as its kind's line identity, content and ledger entries.
    let e = &planted.entries;
    let mut tx = test_db.db.begin_write().await.unwrap();
    let shipped = anchors::read(&mut tx, "SHIP", "SO-OLD#1").await.unwrap();
    let key = LineKey {
        item_id: planted.item,
        locations: vec![planted.b],
        lot: Some("B1".into()),
    };
    assert_eq!(
        shipped[&key].content,
        Content {
            qty: 1,
            ..Content::default()
        }
    );
    assert_eq!(shipped[&key].ledger_ids, vec![e[3]]);
    let moved = anchors::read(&mut tx, "PUTAWAY", "P-OLD").await.unwrap();
    let key = LineKey {
        item_id: planted.item,
        locations: vec![planted.a, planted.b],
        lot: None,
    };
    assert_eq!(
        moved[&key].content,
        Content {
            qty: 4,
            ..Content::default()
        }
    );
    assert_eq!(moved[&key].ledger_ids, vec![e[1], e[2]]);
    tx.rollback().await.unwrap();

    let app = TestApp::spawn_with(test_db, test_config()).await;
    let footprint = app.footprint().await;
    assert_eq!(
        app.count("outbound_commits").await,
        1,
        "the seed's name still reads"
    );

    // Every ref replays with its original result.
    let receive = json!({"ref": "R-OLD", "lines": [{"sku": "OLD-1", "location_code": "OLD-A", "qty": 10, "batch_code": "B1", "expiry_date": "2030-01-01"}]});
    let line = replayed(&app, "/inbound/receive", &receive).await;
    assert_eq!(line["after_qty"], 10);
    assert_eq!(
        line["batches"],
        json!([{"batch_code": "B1", "qty": 10, "expiry_date": "2030-01-01"}])
    );

    let putaway = json!({"ref": "P-OLD", "lines": [{"sku": "OLD-1", "from_location_code": "OLD-A", "to_location_code": "OLD-B", "qty": 4}]});
    let line = replayed(&app, "/putaway", &putaway).await;
    assert_eq!(
        (line["from_after_qty"].clone(), line["to_after_qty"].clone()),
        (json!(6), json!(4))
    );

    let outbound = json!({"ref": "O-OLD", "lines": [{"sku": "OLD-1", "location_code": "OLD-B", "qty": 1, "batch_code": "B1"}]});
    let line = replayed(&app, "/outbound/commit", &outbound).await;
    assert_eq!(line["after_qty"], 3);

    let adjust = json!({"ref": "A-OLD", "lines": [
        {"sku": "OLD-1", "location_code": "OLD-A", "counted_qty": 6, "reason_code": "COUNT_CORRECTION"},
        {"sku": "OLD-1", "location_code": "OLD-B", "delta": -1, "reason_code": "DAMAGED"},
    ]});
    let (status, body) = app.post("/adjust", &adjust).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "IDEMPOTENT", "{body}");
    assert_eq!(body["lines"][0]["delta"], 0, "{body}");
    assert_eq!(body["lines"][1]["delta"], -1, "{body}");
    assert_eq!(body["lines"][1]["after_qty"], 2, "{body}");

    // A retry that says something else is refused, as before.
    for (path, mut request, change) in [
        ("/inbound/receive", receive, ("qty", json!(11))),
        ("/putaway", putaway, ("batch_code", json!("B1"))),
        ("/outbound/commit", outbound, ("batch_code", Value::Null)),
        ("/adjust", adjust, ("counted_qty", json!(5))),
    ] {
        request["lines"][0][change.0] = change.1;
        let (status, body) = app.post(path, &request).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {body}");
        assert_eq!(
            body["error"]["code"], "IDEMPOTENCY_CONFLICT",
            "{path}: {body}"
        );
    }
    assert_eq!(app.footprint().await, footprint, "replays wrote nothing");

    // New refs are anchored in the new table, and replay.
    let fresh = json!({"ref": "R-NEW", "lines": [{"sku": "OLD-1", "location_code": "OLD-A", "qty": 2, "batch_code": "B2"}]});
    let (status, body) = app.post("/inbound/receive", &fresh).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("OK")),
        "{body}"
    );
    let line = replayed(&app, "/inbound/receive", &fresh).await;
    assert_eq!(line["after_qty"], 8);
    assert_eq!(app.stock_qty(planted.item, planted.a).await, 8);
}

/// Sends `request` again: it must answer `IDEMPOTENT`; returns its first line.
async fn replayed(app: &TestApp, path: &str, request: &Value) -> Value {
    let (status, body) = app.post(path, request).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    assert_eq!(body["status"], "IDEMPOTENT", "{path}: {body}");
    assert_eq!(body["lines"][0]["status"], "IDEMPOTENT", "{path}: {body}");
    body["lines"][0].clone()
}

/// A reason missing from the table refuses the movement (nothing written) until Depot, starting,
/// adds the reasons of the kinds it knows.
async fn the_ledger_takes_the_reasons_of_the_kinds_depot_knows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("RS-1", "Reason").await;
    app.location("RS-A", "storage").await;
    with_pool!(app.db(), |pool, _backend| sqlx::query(
        "DELETE FROM ledger_reasons WHERE code = 'RECEIVE'"
    )
    .execute(pool)
    .await
    .map(drop)
    .unwrap());
    let receive =
        json!({"ref": "RS-R1", "lines": [{"sku": "RS-1", "location_code": "RS-A", "qty": 3}]});
    let footprint = app.footprint().await;
    let (status, body) = app.post("/inbound/receive", &receive).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(app.footprint().await, footprint, "nothing written");

    depot::kinds::register_reasons(app.db()).await.unwrap();
    let (status, body) = app.post("/inbound/receive", &receive).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("OK")),
        "{body}"
    );
    let (_, page) = app.get("/ledger?reason=RECEIVE").await;
    assert_eq!(page["total"], 1, "{page}");
    let (status, body) = app.get("/ledger?reason=SHIPPED").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("RECEIVE, PUTAWAY, OUTBOUND, ADJUST"),
        "{body}"
    );
}
