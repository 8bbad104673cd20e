//! Case-insensitive search folds text the same way on both backends (`depot::search::fold`):
//! German, Greek, full-width Latin and Chinese match alike on SQLite and PostgreSQL, in the
//! snapshot, the items and locations lists and the stock query; rows written before the
//! folded column existed are filled by the migration step.

use depot::check::{find_violations, Violation};
use depot::db::Backend;
use depot::domain::Paging;
use depot::items::service::list_items;
use depot::locations::service::list_locations;
use depot::with_pool;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    search_folds_the_same_on_both_backends,
    locations_and_stock_search_fold_alike,
    migration_fills_the_search_text_of_older_rows,
    search_index_matches_a_plain_substring_scan,
    a_broad_long_pattern_estimates_its_total_and_says_so,
);

/// (sku, name) of the items every search below runs over.
const ITEMS: &[(&str, &str)] = &[
    ("F-1", "Äpfel grün"),
    ("F-2", "ΣΟΦΙΑ tea"),
    ("F-3", "ＡＢＣ full-width"),
    ("F-4", "绿茶 green tea"),
    ("F-5", "Straße"),
];

/// Each query and the skus it finds, the same on both backends.
const EXPECTED: &[(&str, &[&str])] = &[
    ("äpfel", &["F-1"]),
    ("ÄPFEL", &["F-1"]),
    ("Ä", &["F-1"]),
    ("GRÜN", &["F-1"]),
    ("σοφια", &["F-2"]),
    ("ΣΟΦΙΑ", &["F-2"]),
    ("Σοφ", &["F-2"]),
    ("abc", &["F-3"]),
    ("ＡＢＣ", &["F-3"]),
    ("Full-Width", &["F-3"]),
    ("绿茶", &["F-4"]),
    ("茶", &["F-4"]),
    ("TEA", &["F-2", "F-4"]),
    ("straße", &["F-5"]),
    ("STRAẞE", &["F-5"]),
    // Lower case is not full case folding: ß is not ss.
    ("STRASSE", &[]),
    // The sku and the name are apart: no match across the two.
    ("1äpfel", &[]),
    ("f-", &["F-1", "F-2", "F-3", "F-4", "F-5"]),
    ("%", &[]),
];

fn skus(list: &Value) -> Vec<String> {
    let mut skus: Vec<String> = list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {list}"))
        .iter()
        .map(|i| i["sku"].as_str().unwrap().to_string())
        .collect();
    skus.sort();
    skus
}

/// `?q=…&limit=200`, percent-encoded.
fn query(q: &str) -> String {
    let mut encoded = String::new();
    for byte in q.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("?q={encoded}&limit=200")
}

async fn get_ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn search_folds_the_same_on_both_backends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("A-01", "storage").await;
    let lines: Vec<Value> = ITEMS
        .iter()
        .map(|(sku, _)| json!({"sku": sku, "location_code": "A-01", "qty": 5}))
        .collect();
    for (sku, name) in ITEMS {
        app.item(sku, name).await;
    }
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": lines}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An order per item whose ref carries its name (issue 30: order search used SQL `LOWER`,
    // ASCII-only on SQLite).
    for (sku, name) in ITEMS {
        let (status, body) = app
            .post(
                "/orders",
                &json!({"ref": format!("{sku} {name}"), "lines": [{"sku": sku, "qty": 1}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    for (q, expected) in EXPECTED {
        let orders = get_ok(&app, &format!("/orders{}", query(q))).await;
        let mut found: Vec<String> = orders["orders"]
            .as_array()
            .unwrap_or_else(|| panic!("orders: {orders}"))
            .iter()
            .map(|o| {
                o["ref"]
                    .as_str()
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        found.sort();
        assert_eq!(found, *expected, "orders q={q}");
        assert_eq!(orders["total"], expected.len(), "orders total q={q}");
        let export = app
            .client
            .get(app.url(&format!("/export/snapshot{}", query(q))))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let exported: Vec<&str> = ITEMS
            .iter()
            .map(|(sku, _)| *sku)
            .filter(|sku| export.lines().any(|l| l.starts_with(&format!("{sku},"))))
            .collect();
        assert_eq!(exported, *expected, "export q={q}: {export}");
        let snapshot = get_ok(&app, &format!("/snapshot/inventory{}", query(q))).await;
        assert_eq!(skus(&snapshot), *expected, "snapshot q={q}");
        assert_eq!(snapshot["total"], expected.len(), "snapshot total q={q}");
        let items = get_ok(&app, &format!("/items{}", query(q))).await;
        assert_eq!(skus(&items), *expected, "items q={q}");
        assert_eq!(items["total"], expected.len(), "items total q={q}");
    }
    app.assert_consistent().await;
}

async fn locations_and_stock_search_fold_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (code, name) in [("KÜHL-1", "Kühlraum Süd"), ("B-02", "ＮＯＲＤ shelf")] {
        let (status, body) = app
            .post(
                "/locations",
                &json!({"code": code, "name": name, "kind": "storage"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let codes = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["code"].as_str().unwrap().to_string())
            .collect()
    };
    let cases: &[(&str, &[&str])] = &[
        ("kühl", &["KÜHL-1"]),
        ("SÜD", &["KÜHL-1"]),
        ("nord", &["B-02"]),
        ("ＢＢ", &[]),
        ("-0", &["B-02"]),
    ];
    for (q, expected) in cases {
        let list = get_ok(&app, &format!("/locations{}", query(q))).await;
        assert_eq!(codes(&list), *expected, "locations q={q}");
    }

    app.item("F-1", "Äpfel grün").await;
    app.item("F-2", "Birnen").await;
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "PO-1", "lines": [
                {"sku": "F-1", "location_code": "B-02", "qty": 3},
                {"sku": "F-2", "location_code": "KÜHL-1", "qty": 4},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stock = |body: &Value| -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["sku"].as_str().unwrap().to_string(),
                    r["location_code"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let f1 = ("F-1".to_string(), "B-02".to_string());
    let f2 = ("F-2".to_string(), "KÜHL-1".to_string());
    for (q, expected) in [
        ("ÄPFEL", vec![f1.clone()]),
        ("kühl", vec![f2.clone()]),
        ("b-0", vec![f1.clone()]),
        // The stock query searches a location's code, not its name.
        ("nord", vec![]),
        ("f-", vec![f1, f2]),
    ] {
        let body = get_ok(&app, &format!("/stock/query{}", query(q))).await;
        assert_eq!(stock(&body), expected, "stock q={q}");
    }
}

async fn migration_fills_the_search_text_of_older_rows(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    // Rows as they were before migration 0004: its column default, no folded text.
    with_pool!(&test_db.db, |pool, _backend| {
        sqlx::query(
            "WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2499) \
             INSERT INTO items (sku, name) SELECT 'OLD-' || (10000 + i), 'ÄLTERER Artikel ' || i FROM n",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO locations (warehouse_id, code, name, kind) \
             VALUES ((SELECT id FROM warehouses), 'ＺＺ-1', 'Süd', 'storage')",
        )
        .execute(pool)
        .await
        .unwrap();
        // An order from before migration 0015.
        sqlx::query(
            "INSERT INTO orders (ref, warehouse_id, policy, status, created_at, updated_at) \
             VALUES ('SO-ÄLTER', (SELECT id FROM warehouses), 'partial', 'BACKORDERED', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        )
        .execute(pool)
        .await
        .unwrap();
    });
    let stale = find_violations(&test_db.db).await.unwrap();
    let texts = stale
        .iter()
        .filter(|v| matches!(v, Violation::SearchTextStale { .. }))
        .count();
    assert_eq!(texts, 2502, "every older row is reported stale");
    // The index follows the stored texts (empty here), so it is not reported as well.
    assert_eq!(stale.len(), texts, "only the texts are stale");

    depot::search::migrate(&test_db.db)
        .await
        .expect("migrate fills search_text");
    depot::search::migrate(&test_db.db)
        .await
        .expect("and again, as a no-op");
    assert_eq!(find_violations(&test_db.db).await.unwrap(), vec![]);

    let paging = Paging::parse(None, None).unwrap();
    let items = list_items(&test_db.db, Some("älterer artikel 1234"), paging)
        .await
        .unwrap();
    assert_eq!(items.total, 1);
    assert_eq!(items.items[0].sku, "OLD-11234");
    let locations = list_locations(&test_db.db, Some("zz-1"), None, None, paging)
        .await
        .unwrap();
    assert_eq!(locations.total, 1);
    let orders = depot::orders::service::list_orders(
        &test_db.db,
        &depot::orders::OrderFilter {
            q: Some("so-älter".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(orders.total, 1);
}

/// A small deterministic generator (xorshift), so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }
}

/// What names are made of: a few Chinese characters (so one- and two-character queries match
/// many items), Latin letters in both cases, digits, spaces and full-width forms.
const NAME_CHARS: &[&str] = &[
    "绿", "茶", "红", "面", "粉", "米", "油", "奶", "水", "果", "a", "B", "c", "T", "e", "4", "2",
    "0", " ", "Ａ", "-",
];

/// The snapshot's search is exactly a substring scan of the folded texts, whatever the index
/// does: over generated Chinese and mixed names (renamed ones too, and items that came into
/// and out of stock), every query's total and every page (by offset, deep, and by place both
/// ways) equal what filtering every item in stock with `str::contains` and sorting gives.
async fn search_index_matches_a_plain_substring_scan(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shelf = app.location("S-1", "storage").await;
    let mut rng = Rng(0x5EA2_C4ED_1DE7_0001);
    let mut names = Vec::new();
    for n in 0..1200 {
        let len = 1 + rng.below(7);
        let mut name: String = (0..len).map(|_| *rng.pick(NAME_CHARS)).collect();
        if name.trim().is_empty() {
            name = "茶".to_string();
        }
        // A third of the items share a character and the smallest totals: a broad search whose
        // matches all sit at the end of the order (the walk must read on, batch after batch).
        if n % 3 == 0 {
            name.push('尾');
        }
        names.push((format!("G-{n:04}"), name));
    }
    // Texts whose three-character pieces all occur without the pattern: "abcd" is not in them.
    names.push(("X-1".into(), "abc bcd".into()));
    names.push(("X-2".into(), "xabcdx".into()));
    names.push(("X-3".into(), "bcd abc".into()));
    let csv: String = std::iter::once("sku,name\n".to_string())
        .chain(names.iter().map(|(sku, name)| format!("{sku},{name}\n")))
        .collect();
    let (status, body) = app
        .post_raw("/import/items", "text/csv", csv.into_bytes())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // One created the single way too.
    app.item("Y-1", "单品 绿茶").await;

    // Stock: most items, the shared-character ones with 1 unit, some none at all.
    let mut lines = Vec::new();
    for (n, (sku, _)) in names.iter().enumerate() {
        let qty = if n % 3 == 0 {
            1
        } else {
            2 + rng.below(9) as i64
        };
        if n % 7 != 3 {
            lines.push(json!({"sku": sku, "location_code": "S-1", "qty": qty}));
        }
    }
    lines.push(json!({"sku": "Y-1", "location_code": "S-1", "qty": 4}));
    receive_in_chunks(&app, &lines, 500).await;
    // Some go out of stock again, and some get new names.
    let totals: Vec<(i64, i64)> = depot::with_pool!(app.db(), |pool, _backend| {
        sqlx::query_as(
        "SELECT item_id, total_qty FROM item_totals WHERE total_qty > 0 ORDER BY item_id LIMIT 60"
    )
    .fetch_all(pool)
    .await
    .unwrap()
    });
    let ship: Vec<Value> = totals
        .iter()
        .step_by(2)
        .map(|(id, qty)| json!({"item_id": id, "location_id": shelf, "qty": qty}))
        .collect();
    let (status, body) = app
        .post("/outbound/commit", &json!({"ref": "SO-1", "lines": ship}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renamed: String = std::iter::once("sku,name\n".to_string())
        .chain(
            (0..120)
                .step_by(3)
                .map(|n| format!("G-{n:04},改名 红茶 Re{n}\n")),
        )
        .collect();
    let (status, body) = app
        .post_raw("/import/items", "text/csv", renamed.into_bytes())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.assert_consistent().await;

    // Every item in stock with its folded text and total, by the list's order.
    let mut in_stock: Vec<(i64, String, i64)> = depot::with_pool!(app.db(), |pool, _backend| {
        sqlx::query_as(
            "SELECT i.id, i.search_text, t.total_qty FROM items i \
             JOIN item_totals t ON t.item_id = i.id WHERE t.total_qty > 0",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    in_stock.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));

    let mut queries: Vec<String> = [
        "茶",
        "绿茶",
        "尾",
        "4",
        "42",
        "a",
        "ａ",
        "T",
        "te",
        "tea",
        "g-0",
        "G-00",
        "G-0123",
        "abcd",
        "abc",
        "bcd",
        "改名",
        "红茶 re",
        "re3",
        "单品",
        "-",
        " ",
        "無",
        "ZZZZ",
        "茶尾",
        "Ａb",
    ]
    .iter()
    .map(|q| q.to_string())
    .collect();
    for _ in 0..60 {
        let (_, name) = rng.pick(&names);
        let chars: Vec<char> = name.chars().collect();
        let start = rng.below(chars.len());
        let len = 1 + rng.below(5);
        let q: String = chars[start..(start + len).min(chars.len())]
            .iter()
            .collect();
        if !q.trim().is_empty() {
            queries.push(q);
        }
    }
    for _ in 0..20 {
        let len = 1 + rng.below(4);
        queries.push((0..len).map(|_| *rng.pick(NAME_CHARS)).collect());
    }
    for q in &queries {
        if q.trim().is_empty() {
            continue;
        }
        let folded = depot::search::fold(q.trim());
        let want: Vec<i64> = in_stock
            .iter()
            .filter(|(_, text, _)| text.contains(&folded))
            .map(|(id, _, _)| *id)
            .collect();
        let encoded = query(q.trim()).replace("&limit=200", "");
        let total = want.len();
        for offset in [0, total / 2, total.saturating_sub(3), total + 5] {
            let page = get_ok(
                &app,
                &format!("/snapshot/inventory{encoded}&limit=20&offset={offset}"),
            )
            .await;
            assert_eq!(page["total"], total, "q={q:?} total");
            let end = (offset + 20).min(total);
            let expected = if offset < total {
                &want[offset..end]
            } else {
                &[][..]
            };
            assert_eq!(page_ids(&page), expected, "q={q:?} offset={offset}");
        }
        // By place: forward from the first page, then back again.
        let first = get_ok(&app, &format!("/snapshot/inventory{encoded}&limit=20")).await;
        if let Some(next) = first["next"].as_str() {
            let second = get_ok(
                &app,
                &format!("/snapshot/inventory{encoded}&limit=20&after={next}"),
            )
            .await;
            let end = 40.min(total);
            assert_eq!(page_ids(&second), &want[20..end], "q={q:?} after {next}");
            let prev = second["prev"]
                .as_str()
                .expect("a page after another has prev");
            let back = get_ok(
                &app,
                &format!("/snapshot/inventory{encoded}&limit=20&before={prev}"),
            )
            .await;
            assert_eq!(page_ids(&back), &want[..20], "q={q:?} before {prev}");
        }
    }
}

/// A long pattern that nearly every item's text matches (`SKU-0`, where most skus share the
/// prefix) is not verified item by item: its pages are still exactly the matches, in order,
/// and its total is an estimate the answer says is one.
async fn a_broad_long_pattern_estimates_its_total_and_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("S-1", "storage").await;
    // 6 000 skus `SKU-0nnnn`; every 10th item's sku is `SKU-1nnnn` but its name says `sku-x0`
    // (a candidate for `sku-0`, as it has every trigram of it, but not a match).
    let csv: String = std::iter::once("sku,name\n".to_string())
        .chain((0..6000).map(|n| {
            if n % 10 == 0 {
                format!("SKU-1{n:04},sku-x0 u-0 part\n")
            } else {
                format!("SKU-0{n:04},part {n}\n")
            }
        }))
        .collect();
    let (status, body) = app
        .post_raw("/import/items", "text/csv", csv.into_bytes())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines: Vec<Value> = (0..6000)
        .map(|n| {
            let sku = if n % 10 == 0 {
                format!("SKU-1{n:04}")
            } else {
                format!("SKU-0{n:04}")
            };
            json!({"sku": sku, "location_code": "S-1", "qty": 1 + n % 13})
        })
        .collect();
    receive_in_chunks(&app, &lines, 1000).await;
    let mut want: Vec<(i64, i64, String)> = depot::with_pool!(app.db(), |pool, _backend| {
        sqlx::query_as(
            "SELECT i.id, t.total_qty, i.sku FROM items i JOIN item_totals t ON t.item_id = i.id \
             WHERE t.total_qty > 0 AND i.search_text LIKE '%sku-0%'",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    assert_eq!(want.len(), 5400);
    let want_ids: Vec<i64> = want.iter().map(|w| w.0).collect();
    for offset in [0, 50, 2000, 5350] {
        let page = get_ok(
            &app,
            &format!("/snapshot/inventory?q=SKU-0&limit=50&offset={offset}"),
        )
        .await;
        assert_eq!(page["total_estimated"], true, "{offset}");
        let total = page["total"].as_i64().unwrap();
        assert!(
            (5000..=6000).contains(&total),
            "an estimate near 5 400: {total}"
        );
        assert_eq!(
            page_ids(&page),
            &want_ids[offset..offset + 50],
            "offset {offset}"
        );
        // A full page links on, the last one does not.
        assert_eq!(page["next"].is_string(), offset < 5350, "offset {offset}");
    }
    // A narrow long pattern is still counted exactly, and says nothing of estimates.
    let page = get_ok(&app, "/snapshot/inventory?q=SKU-0001&limit=50").await;
    assert_eq!(
        page["total"], 9,
        "SKU-00011 to SKU-00019 (item 10 is SKU-10010)"
    );
    assert!(page.get("total_estimated").is_none(), "{page}");
}

/// Receives `lines` at the app, `size` lines per receipt.
async fn receive_in_chunks(app: &TestApp, lines: &[Value], size: usize) {
    for (n, chunk) in lines.chunks(size).enumerate() {
        let (status, body) = app
            .post(
                "/inbound/receive",
                &json!({"ref": format!("PO-{n}"), "lines": chunk}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

/// The item ids of a snapshot page, in its order.
fn page_ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| i["item_id"].as_i64().unwrap())
        .collect()
}
