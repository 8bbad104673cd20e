//! `GET /snapshot/inventory` (SPEC §4): totals, order, top-2 locations, earliest expiry,
//! near expiry, search, paging, refusals; and the derived totals behind it staying exact.

use std::sync::Arc;

use chrono::Duration;
use depot::config::Config;
use depot::db::Backend;
use depot::with_pool;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Barrier;

use crate::common::{assert_error, TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    totals_top2_and_order_follow_the_stocks,
    earliest_expiry_ignores_emptied_batches,
    near_expiry_is_judged_at_the_warehouse_date,
    pages_cover_the_total_without_overlap,
    deep_pages_by_offset_skip_whole_totals_exactly,
    search_matches_sku_and_name_substrings,
    a_scanned_barcode_finds_its_item_on_every_item_list,
    bad_parameters_are_422,
    derived_totals_stay_exact_under_concurrent_outbounds,
    concurrent_in_stock_changes_over_shared_shards_neither_deadlock_nor_drift,
);

async fn post_ok(app: &TestApp, path: &str, body: Value) -> Value {
    let (status, answer) = app.post(path, &body).await;
    assert_eq!(status, StatusCode::OK, "{path} {body}: {answer}");
    assert_eq!(answer["status"], "OK", "{path} {body}: {answer}");
    answer
}

async fn receive(
    app: &TestApp,
    r: &str,
    sku: &str,
    code: &str,
    qty: i64,
    batch: Option<(&str, &str)>,
) {
    let mut line = json!({"sku": sku, "location_code": code, "qty": qty});
    if let Some((batch_code, expiry)) = batch {
        line["batch_code"] = json!(batch_code);
        line["expiry_date"] = json!(expiry);
    }
    post_ok(app, "/inbound/receive", json!({"ref": r, "lines": [line]})).await;
}

async fn put_away(app: &TestApp, r: &str, sku: &str, from: &str, to: &str, qty: i64) {
    post_ok(
        app,
        "/putaway",
        json!({"ref": r, "lines": [{"sku": sku, "from_location_code": from, "to_location_code": to, "qty": qty}]}),
    )
    .await;
}

async fn ship(app: &TestApp, r: &str, sku: &str, code: &str, qty: i64) {
    post_ok(
        app,
        "/outbound/commit",
        json!({"ref": r, "lines": [{"sku": sku, "location_code": code, "qty": qty}]}),
    )
    .await;
}

async fn snapshot(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.get(&format!("/snapshot/inventory{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn skus(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sku"].as_str().unwrap().to_string())
        .collect()
}

async fn totals_top2_and_order_follow_the_stocks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dock = app.location("R-1", "receiving").await;
    let a01 = app.location("A-01", "storage").await;
    let a02 = app.location("A-02", "storage").await;
    let a03 = app.location("A-03", "storage").await;
    let apple = app.item("APPLE", "Apple juice 苹果汁").await;
    let pear = app.item("PEAR", "Pear").await;
    app.item("IDLE", "Never received").await;
    app.item("GONE", "Shipped out").await;

    // APPLE: 22 in all, 10 at A-02 and A-03 (a tie: the lower location id first), 2 at the
    // dock, and an emptied stock at A-01 that must not show.
    receive(&app, "PO-1", "APPLE", "R-1", 30, None).await;
    put_away(&app, "PA-1", "APPLE", "R-1", "A-03", 10).await;
    put_away(&app, "PA-2", "APPLE", "R-1", "A-02", 10).await;
    put_away(&app, "PA-3", "APPLE", "R-1", "A-01", 6).await;
    ship(&app, "SO-1", "APPLE", "A-01", 6).await;
    ship(&app, "SO-2", "APPLE", "R-1", 2).await;
    // PEAR: also 22, a higher item id, so after APPLE.
    receive(&app, "PO-2", "PEAR", "A-01", 22, None).await;
    // GONE: received and shipped in full: not in stock, not listed.
    receive(&app, "PO-3", "GONE", "A-01", 4, None).await;
    ship(&app, "SO-3", "GONE", "A-01", 4).await;
    // A small item, last.
    app.item("SMALL", "Small").await;
    receive(&app, "PO-4", "SMALL", "R-1", 1, None).await;

    let page = snapshot(&app, "").await;
    assert_eq!(page["total"], 3, "{page}");
    assert_eq!(page["offset"], 0);
    assert_eq!(page["limit"], 50);
    assert_eq!(skus(&page), ["APPLE", "PEAR", "SMALL"]);
    assert_eq!(
        page["items"][0],
        json!({
            "item_id": apple, "sku": "APPLE", "name": "Apple juice 苹果汁", "spec": "", "total_qty": 22, "reserved_qty": 0, "available_qty": 22,
            "in_transit_qty": 0, "quarantine_qty": 0,
            "top2_locations": [
                {"location_id": a02, "location_code": "A-02", "qty": 10},
                {"location_id": a03, "location_code": "A-03", "qty": 10}
            ],
            "earliest_expiry": null, "near_expiry": false
        })
    );
    assert_eq!(page["items"][1]["item_id"], pear);
    assert_eq!(
        page["items"][1]["top2_locations"],
        json!([{"location_id": a01, "location_code": "A-01", "qty": 22}])
    );
    assert_eq!(
        page["items"][2]["top2_locations"],
        json!([{"location_id": dock, "location_code": "R-1", "qty": 1}])
    );

    // Shipping reorders: APPLE drops below PEAR.
    ship(&app, "SO-4", "APPLE", "A-02", 5).await;
    let page = snapshot(&app, "").await;
    assert_eq!(skus(&page), ["PEAR", "APPLE", "SMALL"]);
    assert_eq!(page["items"][1]["total_qty"], 17);
    assert_eq!(
        page["items"][1]["top2_locations"][0]["location_code"],
        "A-03"
    );
    app.assert_consistent().await;
}

async fn earliest_expiry_ignores_emptied_batches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("A-01", "storage").await;
    app.item("MILK", "Milk").await;
    receive(
        &app,
        "PO-1",
        "MILK",
        "A-01",
        3,
        Some(("EARLY", "2099-01-01")),
    )
    .await;
    receive(
        &app,
        "PO-2",
        "MILK",
        "A-01",
        4,
        Some(("LATE", "2099-06-01")),
    )
    .await;
    let page = snapshot(&app, "").await;
    assert_eq!(page["items"][0]["earliest_expiry"], "2099-01-01");
    // FEFO empties EARLY: its row stays (qty 0) but no longer counts.
    ship(&app, "SO-1", "MILK", "A-01", 3).await;
    let page = snapshot(&app, "").await;
    assert_eq!(page["items"][0]["total_qty"], 4);
    assert_eq!(page["items"][0]["earliest_expiry"], "2099-06-01", "{page}");
    assert_eq!(page["items"][0]["near_expiry"], false);
    app.assert_consistent().await;
}

async fn near_expiry_is_judged_at_the_warehouse_date(backend: Backend) {
    // UTC+14 and UTC−11: "today" differs from UTC's for part of every day.
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        let config = Config {
            timezone: zone.parse().unwrap(),
            near_expiry_days: 10,
            ..crate::common::test_config()
        };
        let today = config.today();
        let app = TestApp::spawn_with(TestDb::new(backend).await, config).await;
        app.location("A-01", "storage").await;
        for sku in ["EDGE", "AFTER", "NONE", "OLD"] {
            app.item(sku, sku).await;
        }
        let day = |d: i64| (today + Duration::days(d)).to_string();
        receive(&app, "PO-1", "EDGE", "A-01", 5, Some(("E", &day(10)))).await;
        receive(&app, "PO-2", "AFTER", "A-01", 4, Some(("A", &day(11)))).await;
        receive(&app, "PO-3", "NONE", "A-01", 3, None).await;
        receive(&app, "PO-4", "OLD", "A-01", 2, Some(("O", &day(0)))).await;
        // A day passes for OLD's batch: it expired yesterday (receiving refuses a past date).
        with_pool!(app.db(), |pool, _backend| sqlx::query(
            "UPDATE batches SET expiry_date = $1 WHERE batch_code = 'O'"
        )
        .bind(today - Duration::days(1))
        .execute(pool)
        .await
        .map(drop)
        .unwrap());

        let page = snapshot(&app, "").await;
        let flags: Vec<(String, Value, Value)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["sku"].as_str().unwrap().to_string(),
                    i["earliest_expiry"].clone(),
                    i["near_expiry"].clone(),
                )
            })
            .collect();
        assert_eq!(
            flags,
            vec![
                ("EDGE".into(), json!(day(10)), json!(true)),
                ("AFTER".into(), json!(day(11)), json!(false)),
                ("NONE".into(), json!(null), json!(false)),
                ("OLD".into(), json!(day(-1)), json!(true)),
            ],
            "{zone}: today is {today}"
        );
    }
}

async fn pages_cover_the_total_without_overlap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("A-01", "storage").await;
    // 11 items, some with equal totals, so the tie-break by item id matters across pages.
    for n in 1..=11 {
        let sku = format!("P-{n:02}");
        app.item(&sku, &format!("Item {n}")).await;
        receive(&app, &format!("PO-{n}"), &sku, "A-01", (n % 4) + 1, None).await;
    }
    let all = snapshot(&app, "?limit=200").await;
    assert_eq!(all["total"], 11);
    let mut paged = Vec::new();
    for offset in (0..12).step_by(4) {
        let page = snapshot(&app, &format!("?limit=4&offset={offset}")).await;
        assert_eq!(page["total"], 11);
        assert_eq!(page["offset"], offset);
        assert_eq!(page["limit"], 4);
        paged.extend(skus(&page));
    }
    assert_eq!(paged, skus(&all), "pages in order, no overlap, no gap");
    let totals: Vec<(i64, i64)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                -i["total_qty"].as_i64().unwrap(),
                i["item_id"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = totals.clone();
    sorted.sort();
    assert_eq!(totals, sorted, "total desc, then item id");
    let past = snapshot(&app, "?offset=50").await;
    assert_eq!(past["total"], 11);
    assert_eq!(past["items"], json!([]));

    // By place: each answer's `next` reads the following page, its `prev` the one before,
    // the same rows as by offset. The last page has no `next`, the first no `prev`.
    let first = snapshot(&app, "?limit=4").await;
    assert!(first.get("prev").is_none(), "{first}");
    let mut forward = skus(&first);
    let mut pages = vec![first.clone()];
    let mut page = first;
    for offset in [4, 8] {
        let next = page["next"]
            .as_str()
            .expect("a page before the last has next");
        page = snapshot(&app, &format!("?limit=4&offset={offset}&after={next}")).await;
        assert_eq!(
            (&page["total"], &page["offset"]),
            (&json!(11), &json!(offset))
        );
        forward.extend(skus(&page));
        pages.push(page.clone());
    }
    assert!(page.get("next").is_none(), "the last page: {page}");
    assert_eq!(
        forward,
        skus(&all),
        "by place, in order, no overlap, no gap"
    );
    for n in (0..2).rev() {
        let prev = pages[n + 1]["prev"]
            .as_str()
            .expect("a page after the first has prev");
        let back = snapshot(&app, &format!("?limit=4&offset={}&before={prev}", n * 4)).await;
        assert_eq!(skus(&back), skus(&pages[n]), "the page before {prev}");
    }
    // A place in a search's order, and one past the end.
    let tie = &all["items"][4];
    let after = format!("{}-{}", tie["total_qty"], tie["item_id"]);
    let rest = snapshot(&app, &format!("?limit=200&after={after}")).await;
    assert_eq!(skus(&rest), skus(&all)[5..]);
    let end = snapshot(&app, "?after=0-0").await;
    assert_eq!((&end["total"], &end["items"]), (&json!(11), &json!([])));
    let searched = snapshot(&app, &format!("?q=item%201&limit=200&after={after}")).await;
    let expected: Vec<String> = skus(&all)[5..]
        .iter()
        .filter(|sku| ["P-01", "P-10", "P-11"].contains(&sku.as_str()))
        .cloned()
        .collect();
    assert_eq!(skus(&searched), expected, "{searched}");
}

/// A page by offset past the first starts from the counts of items by total (migration 0012):
/// every page agrees with the whole list, at every offset, as movements move items between
/// totals, take one out of stock and give one a total of its own; the counts stay exact.
async fn deep_pages_by_offset_skip_whole_totals_exactly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("A-01", "storage").await;
    // 30 items over 5 totals (10 … 50), 6 of each: ties across and within pages.
    for n in 1..=30 {
        let sku = format!("D-{n:02}");
        app.item(&sku, &format!("Deep {n}")).await;
        receive(
            &app,
            &format!("PO-{n}"),
            &sku,
            "A-01",
            (n % 5 + 1) * 10,
            None,
        )
        .await;
    }
    let compare = |label: &'static str| {
        let app = &app;
        async move {
            let all = snapshot(app, "?limit=200").await;
            let total = all["total"].as_i64().unwrap() as usize;
            assert_eq!(all["items"].as_array().unwrap().len(), total, "{label}");
            let all = skus(&all);
            for limit in [4, 7] {
                for offset in 0..=total + 1 {
                    let page = snapshot(app, &format!("?limit={limit}&offset={offset}")).await;
                    assert_eq!(page["total"], total, "{label}: offset {offset}");
                    let want = &all[offset.min(total)..(offset + limit).min(total)];
                    assert_eq!(skus(&page), want, "{label}: limit {limit}, offset {offset}");
                }
            }
            assert_eq!(
                depot::check::find_violations(&app.test_db.db)
                    .await
                    .unwrap(),
                vec![],
                "{label}"
            );
            let emptied: i64 = with_pool!(&app.test_db.db, |pool, _backend| {
                sqlx::query_scalar("SELECT COUNT(*) FROM item_total_counts WHERE items = 0")
                    .fetch_one(pool)
                    .await
                    .unwrap()
            });
            assert_eq!(emptied, 0, "{label}: a count left at zero is deleted");
        }
    };
    compare("as received").await;
    ship(&app, "SO-1", "D-03", "A-01", 15).await; // 40 → 25: a total of its own
    ship(&app, "SO-2", "D-07", "A-01", 30).await; // out of stock
    receive(&app, "PO-31", "D-11", "A-01", 10, None).await; // 20 → 30: joins a tie
    ship(&app, "SO-3", "D-05", "A-01", 5).await; // 10 → 5: the smallest total, alone
    compare("after movements").await;
    ship(&app, "SO-4", "D-05", "A-01", 5).await; // the total of 5 empties: its count goes
    compare("after the smallest total emptied").await;
}

async fn search_matches_sku_and_name_substrings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("A-01", "storage").await;
    for (sku, name, qty) in [
        ("WATER-500", "Mineral water 矿泉水 500ml", 5),
        ("WATER-1L", "Mineral water 矿泉水 1L", 9),
        ("TEA-GRN", "Green tea 绿茶", 7),
        ("TEA-100%", "Pure tea", 2),
    ] {
        app.item(sku, name).await;
        receive(&app, &format!("PO-{sku}"), sku, "A-01", qty, None).await;
    }
    app.item("WATER-EMPTY", "Water not in stock").await;

    let search = |q: &str| {
        let url = format!("?q={}", depot::ui::urlencode(q));
        let app = &app;
        async move { snapshot(app, &url).await }
    };
    // sku, any case; 3+ characters go through the trigram index.
    let page = search("water").await;
    assert_eq!(
        page["total"], 2,
        "items without stock are not listed: {page}"
    );
    assert_eq!(skus(&page), ["WATER-1L", "WATER-500"]);
    assert_eq!(skus(&search("ter-5").await), ["WATER-500"]);
    // Chinese names: a 3-character and a 2-character (shorter than a trigram) substring.
    assert_eq!(skus(&search("矿泉水").await), ["WATER-1L", "WATER-500"]);
    assert_eq!(skus(&search("绿茶").await), ["TEA-GRN"]);
    assert_eq!(skus(&search("G").await), ["TEA-GRN"]);
    // Name words and surrounding blanks; LIKE wildcards and FTS syntax are plain text.
    assert_eq!(skus(&search("  GREEN TEA ").await), ["TEA-GRN"]);
    assert_eq!(skus(&search("100%").await), ["TEA-100%"]);
    assert_eq!(search("%").await["items"].as_array().unwrap().len(), 1);
    assert_eq!(search("_").await["total"], 0);
    assert_eq!(search("\"tea\" OR x").await["total"], 0);
    assert_eq!(search("NEAR(tea)").await["total"], 0);
    assert_eq!(search("no such thing").await["total"], 0);
    // Paging within a search.
    let second = snapshot(&app, "?q=tea&limit=1&offset=1").await;
    assert_eq!(second["total"], 2);
    assert_eq!(skus(&second), ["TEA-100%"]);
    let past = snapshot(&app, "?q=tea&offset=5").await;
    assert_eq!((&past["total"], &past["items"]), (&json!(2), &json!([])));
}

async fn bad_parameters_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("offset=-1", "offset"),
        ("limit=abc", "limit"),
        ("offset=1.5", "offset"),
        ("limit=99999999999999999999", "limit"),
        ("after=12", "after"),
        ("after=a-1", "after"),
        ("after=-1-2", "after"),
        ("after=1-+2", "after"),
        ("before=1.5-2", "before"),
        ("after=1-2&before=3-4", "before"),
    ] {
        let (status, body) = app.get(&format!("/snapshot/inventory?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_error(&body, "VALIDATION_FAILED");
        assert_eq!(body["error"]["details"]["field"], field, "{query}: {body}");
    }
    let long = "x".repeat(65);
    let (status, body) = app.get(&format!("/snapshot/inventory?q={long}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["field"], "q");
    let (status, body) = app.get("/snapshot/inventory?limit=200&offset=0&q=").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"total": 0, "offset": 0, "limit": 200, "items": []})
    );
}

async fn derived_totals_stay_exact_under_concurrent_outbounds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("A-01", "storage").await;
    app.location("A-02", "storage").await;
    for sku in ["HOT", "WARM"] {
        app.item(sku, sku).await;
        receive(&app, &format!("PO-{sku}-1"), sku, "A-01", 40, None).await;
        receive(&app, &format!("PO-{sku}-2"), sku, "A-02", 40, None).await;
    }
    // 32 orders at once, each taking 1 of HOT and 1 of WARM from alternating locations, with
    // lines in opposite orders; then WARM is emptied to zero by the last ones.
    let barrier = Arc::new(Barrier::new(32));
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let (client, url, barrier) = (
                app.client.clone(),
                app.url("/outbound/commit"),
                barrier.clone(),
            );
            let code = if n % 2 == 0 { "A-01" } else { "A-02" };
            let mut lines = vec![
                json!({"sku": "HOT", "location_code": code, "qty": 1}),
                json!({"sku": "WARM", "location_code": code, "qty": 2}),
            ];
            if n % 3 == 0 {
                lines.reverse();
            }
            let body = json!({"ref": format!("SO-{n}"), "lines": lines});
            tokio::spawn(async move {
                barrier.wait().await;
                let response = client.post(url).json(&body).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let answer: Value = response.json().await.unwrap();
                assert_eq!(answer["status"], "OK", "{answer}");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let page = snapshot(&app, "").await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][0]["sku"], "HOT");
    assert_eq!(page["items"][0]["total_qty"], 80 - 32);
    assert_eq!(page["items"][1]["total_qty"], 80 - 64);
    ship(&app, "SO-LAST-1", "WARM", "A-01", 8).await;
    ship(&app, "SO-LAST-2", "WARM", "A-02", 8).await;
    let page = snapshot(&app, "").await;
    assert_eq!(page["total"], 1, "WARM left the stock list: {page}");
    assert_eq!(skus(&page), ["HOT"]);
    app.assert_consistent().await;
}

/// Many transactions change the same in-stock shards at once, each through items whose id
/// order is not its shard order: shards are locked in one order, so none deadlocks (no 40P01
/// on PostgreSQL), and every change lands.
async fn concurrent_in_stock_changes_over_shared_shards_neither_deadlock_nor_drift(
    backend: Backend,
) {
    use depot::movement::projections::{change_items_in_stock, IN_STOCK_SHARDS};
    use std::collections::BTreeMap;

    let test_db = TestDb::new(backend).await;
    let rounds = 24;
    let barrier = Arc::new(Barrier::new(rounds));
    let tasks: Vec<_> = (0..rounds as i64)
        .map(|n| {
            let (db, barrier) = (test_db.db.clone(), barrier.clone());
            // Shards 3, 2, 1 through ascending item ids (3, 66, 129), or 1, 2, 3 (1, 2, 3):
            // the item order and the shard order disagree for half of the transactions.
            let items: BTreeMap<i64, i64> = if n % 2 == 0 {
                [
                    (3, 1),
                    (IN_STOCK_SHARDS + 2, 1),
                    (2 * IN_STOCK_SHARDS + 1, 1),
                ]
                .into()
            } else {
                [(1, 1), (2, 1), (3, 1)].into()
            };
            tokio::spawn(async move {
                barrier.wait().await;
                let mut tx = db.begin_write().await.unwrap();
                change_items_in_stock(&mut tx, &items).await.unwrap();
                // Hold the locks a moment, so the transactions overlap.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                tx.commit().await.unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let shards: Vec<(i64, i64)> = with_pool!(&test_db.db, |pool, _backend| sqlx::query_as(
        "SELECT CAST(id AS BIGINT), items_in_stock FROM inventory_summary \
         WHERE items_in_stock <> 0 ORDER BY id"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    let each = rounds as i64;
    assert_eq!(shards, vec![(1, each), (2, each), (3, each)]);
}

/// Issue 31, point 5: a search that is an item's barcode (an EAN, or a GS1 string carrying its
/// GTIN) finds that item on the snapshot, its export, the stock list and the item list, as
/// every scan field accepts it; digits that are no barcode of an item are still text.
async fn a_scanned_barcode_finds_its_item_on_every_item_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post(
            "/items",
            &json!({"sku": "MILK-1", "name": "Milk powder", "barcode": "6900000000120"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.item("TEA-1", "Tea").await;
    app.location("A-01", "storage").await;
    post_ok(
        &app,
        "/inbound/receive",
        json!({"ref": "PO-1", "lines": [
            {"sku": "MILK-1", "location_code": "A-01", "qty": 370, "batch_code": "L1", "expiry_date": "2099-01-01"},
            {"sku": "TEA-1", "location_code": "A-01", "qty": 5}
        ]}),
    )
    .await;
    let gs1 = "(01)06900000000120(17)990101(10)L1";
    for q in [
        "6900000000120",
        "06900000000120",
        gs1,
        "]d20106900000000120",
    ] {
        let encoded = urlencode(q);
        let page = snapshot(&app, &format!("?q={encoded}")).await;
        assert_eq!(skus(&page), vec!["MILK-1"], "{q}");
        assert_eq!(page["total"], 1, "{q}");
        assert_eq!(page["items"][0]["total_qty"], 370, "{q}");
        let (status, stock) = app.get(&format!("/stock/query?q={encoded}")).await;
        assert_eq!(status, StatusCode::OK, "{stock}");
        assert_eq!(stock["total"], 1, "{q}: {stock}");
        let (status, items) = app.get(&format!("/items?q={encoded}")).await;
        assert_eq!(status, StatusCode::OK, "{items}");
        assert_eq!(items["total"], 1, "{q}: {items}");
        let response = app
            .client
            .get(app.url(&format!("/export/snapshot?q={encoded}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{q}");
        let csv = response.text().await.unwrap();
        assert!(
            csv.contains("MILK-1") && !csv.contains("TEA-1"),
            "{q}: {csv}"
        );
    }
    // A valid GTIN that is no item's barcode is searched as text: nothing holds it.
    let page = snapshot(&app, "?q=4006381333931").await;
    assert_eq!(page["total"], 0, "{page}");
}

fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
