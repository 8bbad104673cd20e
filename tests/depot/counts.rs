//! Cycle counts (SPEC §9): created from the stock in scope, counted line by line (blind counts
//! never show clerks what is expected), posted as one transaction of COUNT_CORRECTION
//! adjustments of `counted − recorded` — so goods moved while counting are kept — and refused
//! when closed, out of scope or short.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use depot::auth::Role;
use depot::db::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, into_json, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_count_lists_every_batch_in_scope_and_hides_expected_from_clerks_when_blind,
    posting_applies_counted_minus_recorded_once,
    a_closed_or_foreign_count_refuses_changes,
    a_post_that_would_go_below_zero_writes_nothing,
    counting_while_goods_move_keeps_every_movement,
    roles_count_and_post,
    a_count_without_a_batch_counts_the_whole_stock,
    a_place_is_counted_whole_or_by_batch_not_both,
);

/// Two items at two shelves in batches: TEA at A-01 (L1 5, L2 3) and B-01 (L1 4); RICE at A-01
/// (no batch, 10). A third shelf C-01 is empty.
async fn stocked(app: &TestApp) {
    app.item("TEA", "Green tea 绿茶").await;
    app.item("RICE", "Rice 大米").await;
    for code in ["A-01", "B-01", "C-01"] {
        app.location(code, "storage").await;
    }
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": [
            {"sku": "TEA", "location_code": "A-01", "qty": 5, "batch_code": "L1", "expiry_date": "2099-01-01"},
            {"sku": "TEA", "location_code": "A-01", "qty": 3, "batch_code": "L2", "expiry_date": "2099-06-01"},
            {"sku": "TEA", "location_code": "B-01", "qty": 4, "batch_code": "L1", "expiry_date": "2099-01-01"},
            {"sku": "RICE", "location_code": "A-01", "qty": 10}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn client_of(app: &TestApp, role: Role) -> reqwest::Client {
    let (_, secret) = depot::auth::service::create_token(
        app.db(),
        &format!("T-{}-{}", role.as_str(), fastrand::u32(..)),
        role,
    )
    .await
    .unwrap();
    TestApp::client_with(&secret, reqwest::redirect::Policy::none())
}

async fn send(client: &reqwest::Client, url: String, body: Option<&Value>) -> (StatusCode, Value) {
    let request = match body {
        Some(body) => client.post(url).json(body),
        None => client.get(url),
    };
    into_json(request.send().await.unwrap()).await
}

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, count) = app.post("/counts", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{count}");
    count
}

async fn count_line(app: &TestApp, id: i64, body: Value) -> Value {
    let (status, count) = app.post(&format!("/counts/{id}/lines"), &body).await;
    assert_eq!(status, StatusCode::OK, "{count}");
    count
}

/// (sku, location, batch) → the line.
fn line<'a>(count: &'a Value, sku: &str, location: &str, batch: &str) -> &'a Value {
    count["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == sku && l["location_code"] == location && l["batch_code"] == batch)
        .unwrap_or_else(|| panic!("no line {sku} {location} {batch} in {count}"))
}

async fn a_count_lists_every_batch_in_scope_and_hides_expected_from_clerks_when_blind(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let count = create(
        &app,
        json!({"location_codes": ["A-01", "C-01"], "blind": true}),
    )
    .await;
    assert_eq!(count["status"], "OPEN");
    assert_eq!(count["blind"], true);
    assert_eq!(
        count["scope"],
        json!({"kind": "locations", "values": ["A-01", "C-01"]})
    );
    assert_eq!(count["lines"].as_array().unwrap().len(), 3, "{count}");
    assert_eq!(line(&count, "TEA", "A-01", "L1")["expected_qty"], 5);
    assert_eq!(line(&count, "RICE", "A-01", "")["expected_qty"], 10);

    let by_sku = create(&app, json!({"skus": ["TEA"]})).await;
    assert_eq!(by_sku["lines"].as_array().unwrap().len(), 3);
    assert_eq!(line(&by_sku, "TEA", "B-01", "L1")["expected_qty"], 4);

    // A clerk reading the blind count (and counting in it) never sees what is expected.
    let id = count["id"].as_i64().unwrap();
    let clerk = client_of(&app, Role::Clerk).await;
    let (status, seen) = send(&clerk, app.url(&format!("/counts/{id}")), None).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["expected_shown"], false);
    let (status, after) = send(
        &clerk,
        app.url(&format!("/counts/{id}/lines")),
        Some(&json!({"sku": "TEA", "location_code": "A-01", "batch_code": "L1", "counted_qty": 4})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    for body in [&seen, &after] {
        for line in body["lines"].as_array().unwrap() {
            for hidden in ["expected_qty", "recorded_qty", "difference"] {
                assert!(
                    line.get(hidden).is_none(),
                    "{hidden} shown to a clerk: {line}"
                );
            }
        }
    }
    assert_eq!(line(&after, "TEA", "A-01", "L1")["counted_qty"], 4);
    // The page does not show it either.
    let html = clerk
        .get(app.url(&format!("/counts/{id}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("TEA"), "{html}");
    assert!(!html.contains("data-expected"), "{html}");
    // A manager sees it.
    let (_, managed) = app.get(&format!("/counts/{id}")).await;
    assert_eq!(line(&managed, "TEA", "A-01", "L1")["expected_qty"], 5);
    assert_eq!(line(&managed, "TEA", "A-01", "L1")["difference"], -1);

    let (status, list) = app.get("/counts?status=open").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 2);
    assert_eq!(list["counts"][0]["id"], by_sku["id"], "newest first");
    assert_eq!(list["counts"][1]["counted"], 1);
}

async fn posting_applies_counted_minus_recorded_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let count = create(&app, json!({"location_codes": ["A-01"]})).await;
    let id = count["id"].as_i64().unwrap();
    count_line(
        &app,
        id,
        json!({"sku": "TEA", "location_code": "A-01", "batch_code": "L1", "counted_qty": 2}),
    )
    .await;
    count_line(
        &app,
        id,
        json!({"sku": "TEA", "location_code": "A-01", "batch_code": "L2", "counted_qty": 3}),
    )
    .await;
    // Counted again: the later count replaces the first.
    count_line(
        &app,
        id,
        json!({"sku": "RICE", "location_code": "A-01", "counted_qty": 9}),
    )
    .await;
    let counted = count_line(
        &app,
        id,
        json!({"sku": "RICE", "location_code": "A-01", "counted_qty": 12}),
    )
    .await;
    // Goods nobody expected: a line of its own.
    let counted_found = count_line(
        &app,
        id,
        json!({"sku": "TEA", "location_code": "A-01", "batch_code": "X9", "counted_qty": 2}),
    )
    .await;
    assert_eq!(line(&counted_found, "TEA", "A-01", "X9")["found"], true);
    // RICE counted without a batch: its whole stock (10), found 12.
    assert_eq!(line(&counted, "RICE", "A-01", "")["whole"], true);
    assert_eq!(line(&counted, "RICE", "A-01", "")["recorded_qty"], 10);
    assert_eq!(line(&counted, "RICE", "A-01", "")["difference"], 2);

    let (status, posted) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    assert_eq!(posted["count"]["status"], "POSTED");
    assert_eq!(posted["adjustment"]["ref"], format!("COUNT-{id}"));
    assert_eq!(posted["adjustment"]["status"], "OK");
    assert_eq!(
        posted["adjustment"]["lines"].as_array().unwrap().len(),
        3,
        "L2 matched: {posted}"
    );
    let (_, stock) = app.get("/stock/query?sku=TEA&location_code=A-01").await;
    assert_eq!(stock["rows"][0]["qty"], 7, "L1 2, L2 3, X9 2");
    let (_, stock) = app.get("/stock/query?sku=RICE&location_code=A-01").await;
    assert_eq!(stock["rows"][0]["qty"], 12);
    let (_, ledger) = app
        .get(&format!(
            "/ledger?ref=COUNT-{id}&reason_code=COUNT_CORRECTION"
        ))
        .await;
    assert_eq!(ledger["total"], 3);

    let before = app.footprint().await;
    let (status, again) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["adjustment"]["status"], "IDEMPOTENT");
    assert_eq!(app.footprint().await, before, "posted once");
    // Its ref is the count's own.
    let (status, body) = app
        .post(
            "/adjust",
            &json!({"ref": format!("count-{id}"), "lines": [
                {"sku": "TEA", "location_code": "A-01", "delta": 1, "reason_code": "FOUND"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["field"], "ref");
    app.assert_consistent().await;
}

async fn a_closed_or_foreign_count_refuses_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let id = create(&app, json!({"location_codes": ["A-01"]})).await["id"]
        .as_i64()
        .unwrap();
    let before = app.footprint().await;
    let cases = [
        (
            json!({"sku": "TEA", "location_code": "B-01", "counted_qty": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            json!({"sku": "NOPE", "location_code": "A-01", "counted_qty": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNKNOWN_ITEM",
        ),
        (
            json!({"sku": "TEA", "location_code": "Z-99", "counted_qty": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNKNOWN_LOCATION",
        ),
        (
            json!({"sku": "TEA", "location_code": "A-01", "counted_qty": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
    ];
    for (body, status, code) in &cases {
        let (got, answer) = app.post(&format!("/counts/{id}/lines"), body).await;
        assert_eq!(got, *status, "{body}: {answer}");
        assert_error(&answer, code);
    }
    let (status, answer) = app.post("/counts/99999/lines", &cases[0].0).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = app
        .post(
            "/counts",
            &json!({"location_codes": ["A-01"], "skus": ["TEA"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, answer) = app
        .post("/counts", &json!({"location_codes": ["A-01", "Z-99"]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_error(&answer, "UNKNOWN_LOCATION");
    assert_eq!(answer["error"]["details"]["field"], "location_codes[1]");

    // Cancelled: nothing more may be counted or posted; cancelling again is no change.
    let (status, cancelled) = app.post(&format!("/counts/{id}/cancel"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    let (status, _) = app.post(&format!("/counts/{id}/cancel"), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    for path in [format!("/counts/{id}/lines"), format!("/counts/{id}/post")] {
        let body =
            json!({"sku": "TEA", "location_code": "A-01", "batch_code": "L1", "counted_qty": 1});
        let body = if path.ends_with("post") {
            json!({})
        } else {
            body
        };
        let (status, answer) = app.post(&path, &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {answer}");
        assert_error(&answer, "CONFLICT");
    }
    // Posted: no more counting, no cancelling.
    let id = create(&app, json!({"location_codes": ["A-01"]})).await["id"]
        .as_i64()
        .unwrap();
    // Nothing counted yet: nothing to post (issue 31).
    let (status, answer) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_error(&answer, "CONFLICT");
    let (status, answer) = app
        .post(
            &format!("/counts/{id}/lines"),
            &json!({"sku": "TEA", "location_code": "A-01", "batch_code": "L1", "counted_qty": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = app
        .post(
            &format!("/counts/{id}/lines"),
            &json!({"sku": "TEA", "location_code": "A-01", "counted_qty": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let (status, answer) = app.post(&format!("/counts/{id}/cancel"), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(
        app.footprint().await,
        before,
        "no stock, ledger or anchor changed"
    );
    app.assert_consistent().await;
}

async fn a_post_that_would_go_below_zero_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let id = create(&app, json!({"skus": ["TEA"]})).await["id"]
        .as_i64()
        .unwrap();
    // Counted 1 of L1 at A-01 (recorded 5: a correction of −4) ...
    count_line(
        &app,
        id,
        json!({"sku": "TEA", "location_code": "A-01", "batch_code": "L1", "counted_qty": 1}),
    )
    .await;
    count_line(
        &app,
        id,
        json!({"sku": "TEA", "location_code": "B-01", "batch_code": "L1", "counted_qty": 6}),
    )
    .await;
    // ... then 3 of it shipped: only 2 left, −4 would go below zero.
    let (status, body) = app
        .post(
            "/outbound/commit",
            &json!({"ref": "SO-1", "lines": [
                {"sku": "TEA", "location_code": "A-01", "batch_code": "L1", "qty": 3}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = app.footprint().await;
    let (status, answer) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_error(&answer, "INSUFFICIENT_STOCK");
    let shortage = &answer["error"]["details"]["shortages"][0];
    assert_eq!(shortage["sku"], "TEA");
    assert_eq!(shortage["location_code"], "A-01");
    assert_eq!(shortage["batch_code"], "L1");
    assert_eq!(
        app.footprint().await,
        before,
        "nothing written, B-01's correction neither"
    );
    let (_, count) = app.get(&format!("/counts/{id}")).await;
    assert_eq!(count["status"], "OPEN", "still open, to recount");
    app.assert_consistent().await;
}

/// SPEC §9's promise: movements between counting and posting are kept. Outbound and receive
/// traffic runs on the counted stocks the whole time the count is entered and posted; after it
/// stops, each counted batch holds what was counted plus every movement made after it was
/// counted, i.e. `initial + all traffic + (counted − recorded)`.
async fn counting_while_goods_move_keeps_every_movement(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await);
    app.item("HOT", "Hot item").await;
    let shelves = ["S-01", "S-02", "S-03", "S-04"];
    let mut receipt = Vec::new();
    for shelf in shelves {
        app.location(shelf, "storage").await;
        receipt.push(json!({"sku": "HOT", "location_code": shelf, "qty": 200, "batch_code": "B1", "expiry_date": "2099-01-01"}));
    }
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "PO-0", "lines": receipt}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = create(&app, json!({"location_codes": shelves})).await["id"]
        .as_i64()
        .unwrap();

    // Traffic: per shelf, ship 1 or receive 1 of B1, each its own ref; its net per shelf.
    let stop = Arc::new(AtomicBool::new(false));
    let nets: Arc<Vec<AtomicI64>> = Arc::new(shelves.iter().map(|_| AtomicI64::new(0)).collect());
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (app, stop, nets) = (app.clone(), stop.clone(), nets.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) || n < 10 {
                n += 1;
                let shelf = (worker + n) % shelves.len();
                let reference = format!("T-{worker}-{n}");
                let (path, body, delta) = if n % 2 == 0 {
                    ("/outbound/commit", json!({"ref": reference, "lines": [
                        {"sku": "HOT", "location_code": shelves[shelf], "batch_code": "B1", "qty": 1}]}), -1)
                } else {
                    ("/inbound/receive", json!({"ref": reference, "lines": [
                        {"sku": "HOT", "location_code": shelves[shelf], "batch_code": "B1", "qty": 1, "expiry_date": "2099-01-01"}]}), 1)
                };
                let (status, answer) = app.post(path, &body).await;
                match status {
                    StatusCode::OK if answer["status"] == "OK" => {
                        nets[shelf].fetch_add(delta, Ordering::Relaxed);
                    }
                    // Contention past the retry budget: nothing was written.
                    StatusCode::SERVICE_UNAVAILABLE => {}
                    _ => panic!("{path}: {status} {answer}"),
                }
            }
        }));
    }
    // Count each shelf while goods move, a little off what is there.
    for (i, shelf) in shelves.iter().enumerate() {
        let counted = 190 + i as i64 * 7;
        let (status, answer) = app
            .post(&format!("/counts/{id}/lines"), &json!({"sku": "HOT", "location_code": shelf, "batch_code": "B1", "counted_qty": counted}))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (status, posted) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }

    let (_, count) = app.get(&format!("/counts/{id}")).await;
    for (i, shelf) in shelves.iter().enumerate() {
        let line = line(&count, "HOT", shelf, "B1");
        let counted = line["counted_qty"].as_i64().unwrap();
        let recorded = line["recorded_qty"].as_i64().unwrap();
        let net = nets[i].load(Ordering::Relaxed);
        let (_, stock) = app
            .get(&format!("/stock/query?sku=HOT&location_code={shelf}"))
            .await;
        assert_eq!(
            stock["rows"][0]["qty"].as_i64().unwrap(),
            200 + net + counted - recorded,
            "{shelf}: counted {counted}, recorded {recorded}, traffic {net}"
        );
    }
    app.assert_consistent().await;
}

async fn roles_count_and_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let clerk = client_of(&app, Role::Clerk).await;
    let viewer = client_of(&app, Role::Viewer).await;
    let (status, _) = send(
        &clerk,
        app.url("/counts"),
        Some(&json!({"location_codes": ["A-01"]})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "clerks do not create counts");
    let id = create(&app, json!({"location_codes": ["A-01"]})).await["id"]
        .as_i64()
        .unwrap();
    let line = json!({"sku": "TEA", "location_code": "A-01", "batch_code": "L1", "counted_qty": 5});
    let (status, _) = send(
        &viewer,
        app.url(&format!("/counts/{id}/lines")),
        Some(&line),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers do not count");
    let (status, _) = send(&clerk, app.url(&format!("/counts/{id}/lines")), Some(&line)).await;
    assert_eq!(status, StatusCode::OK, "clerks count");
    for action in ["post", "cancel"] {
        let (status, _) = send(
            &clerk,
            app.url(&format!("/counts/{id}/{action}")),
            Some(&json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "clerks do not {action}");
    }
    let (status, _) = send(&viewer, app.url(&format!("/counts/{id}")), None).await;
    assert_eq!(status, StatusCode::OK, "viewers read");
}

/// Issue 30: 10 units of batch L1 at PX-01, counted by scanning the item (no batch) as 10,
/// posted 20. A line without a batch counts the whole stock: recorded 10, difference 0, and
/// posting changes nothing; a count short of the whole takes from the batches by FEFO, as a
/// whole-stock adjustment does (expired first: proven by the adjust tests); one above it joins
/// the no-batch lot.
async fn a_count_without_a_batch_counts_the_whole_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("PHX-1", "Phoenix").await;
    app.item("PHX-2", "Phoenix two").await;
    app.location("PX-01", "storage").await;
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-PHX", "lines": [
            {"sku": "PHX-1", "location_code": "PX-01", "qty": 10, "batch_code": "L1", "expiry_date": "2099-01-01"},
            {"sku": "PHX-2", "location_code": "PX-01", "qty": 5, "batch_code": "LATE", "expiry_date": "2099-06-01"},
            {"sku": "PHX-2", "location_code": "PX-01", "qty": 4, "batch_code": "SOON", "expiry_date": "2098-01-01"}
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = create(&app, json!({"location_codes": ["PX-01"]})).await["id"]
        .as_i64()
        .unwrap();
    let counted = count_line(
        &app,
        id,
        json!({"sku": "PHX-1", "location_code": "PX-01", "counted_qty": 10}),
    )
    .await;
    let whole = line(&counted, "PHX-1", "PX-01", "");
    assert_eq!(whole["whole"], true, "{counted}");
    assert_eq!(whole["found"], false, "L1 was expected here: {counted}");
    assert_eq!(whole["expected_qty"], 10);
    assert_eq!(whole["recorded_qty"], 10);
    assert_eq!(whole["difference"], 0);
    // Its expected batch line is taken into the whole line, not left uncounted beside it.
    assert_eq!(
        counted["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["sku"] == "PHX-1")
            .count(),
        1,
        "{counted}"
    );
    // PHX-2: 9 on the shelf, counted 6 as a whole: 3 less, taken from SOON (FEFO) — nothing
    // expired here to take first.
    count_line(
        &app,
        id,
        json!({"sku": "PHX-2", "location_code": "PX-01", "batch_code": "", "counted_qty": 6}),
    )
    .await;
    let (status, posted) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    let lines = posted["adjustment"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "PHX-1 matched: {posted}");
    assert_eq!(lines[0]["delta"], -3, "{posted}");
    assert!(
        lines[0].get("batch_code").is_none_or(Value::is_null),
        "{posted}"
    );
    let (_, stock) = app.get("/stock/query?sku=PHX-1&location_code=PX-01").await;
    assert_eq!(stock["rows"][0]["qty"], 10, "never 20: {stock}");
    let (_, stock) = app.get("/stock/query?sku=PHX-2&location_code=PX-01").await;
    assert_eq!(stock["rows"][0]["qty"], 6, "{stock}");
    let batches: Vec<(String, i64)> = stock["rows"][0]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["batch_code"].as_str().unwrap().to_string(),
                b["qty"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        batches.contains(&("SOON".to_string(), 1)),
        "FEFO: {batches:?}"
    );
    assert!(batches.contains(&("LATE".to_string(), 5)), "{batches:?}");
    app.assert_consistent().await;

    // Found more than the whole stock: the surplus joins the no-batch lot.
    let id = create(&app, json!({"location_codes": ["PX-01"]})).await["id"]
        .as_i64()
        .unwrap();
    count_line(
        &app,
        id,
        json!({"sku": "PHX-1", "location_code": "PX-01", "counted_qty": 12}),
    )
    .await;
    let (status, posted) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    let (_, stock) = app.get("/stock/query?sku=PHX-1&location_code=PX-01").await;
    assert_eq!(stock["rows"][0]["qty"], 12, "{stock}");
    app.assert_consistent().await;
}

/// One (item, location) is counted either whole or by batch within one count: the other way is
/// 422 naming what was counted, nothing written; in one request too.
async fn a_place_is_counted_whole_or_by_batch_not_both(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stocked(&app).await;
    let id = create(&app, json!({"location_codes": ["A-01"]})).await["id"]
        .as_i64()
        .unwrap();
    count_line(
        &app,
        id,
        json!({"sku": "TEA", "location_code": "A-01", "batch_code": "L1", "counted_qty": 5}),
    )
    .await;
    let (_, before) = app.get(&format!("/counts/{id}")).await;
    let (status, answer) = app
        .post(
            &format!("/counts/{id}/lines"),
            &json!({"sku": "TEA", "location_code": "A-01", "counted_qty": 8}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_error(&answer, "VALIDATION_FAILED");
    assert_eq!(answer["error"]["details"]["field"], "batch_code");
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("L1"),
        "{answer}"
    );
    // RICE counted whole, then by batch: refused the other way round.
    count_line(
        &app,
        id,
        json!({"sku": "RICE", "location_code": "A-01", "counted_qty": 10}),
    )
    .await;
    let (status, answer) = app
        .post(
            &format!("/counts/{id}/lines"),
            &json!({"sku": "RICE", "location_code": "A-01", "batch_code": "B7", "counted_qty": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_error(&answer, "VALIDATION_FAILED");
    // Both ways in one request (the page's form sends several lines).
    let other = create(&app, json!({"location_codes": ["B-01"]})).await["id"]
        .as_i64()
        .unwrap();
    let input = |batch: Option<&str>| depot::counts::CountLineInput {
        sku: Some("TEA".into()),
        location_code: Some("B-01".into()),
        batch_code: batch.map(str::to_string),
        counted_qty: 4,
    };
    let refused = depot::counts::service::record_lines(
        app.db(),
        &crate::common::test_config(),
        other,
        &[input(Some("L1")), input(None)],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code, depot::error::ErrorCode::ValidationFailed);
    assert_eq!(
        refused.details["field"], "lines[1].batch_code",
        "{refused:?}"
    );
    let (_, after) = app.get(&format!("/counts/{id}")).await;
    let tea = |count: &Value| line(count, "TEA", "A-01", "L1").clone();
    assert_eq!(tea(&before), tea(&after), "nothing written");
    assert_eq!(
        line(&after, "TEA", "A-01", "L2")["counted_qty"],
        Value::Null
    );
}
