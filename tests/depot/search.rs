//! Case-insensitive search folds text the same way on both backends (`depot::search::fold`):
//! German, Greek, full-width Latin and Chinese match alike on SQLite and PostgreSQL, in the
//! snapshot, the items and locations lists and the stock query; rows written before the
//! folded column existed are filled by the migration step.

use depot::check::find_violations;
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

    for (q, expected) in EXPECTED {
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
        sqlx::query("INSERT INTO locations (code, name, kind) VALUES ('ＺＺ-1', 'Süd', 'storage')")
            .execute(pool)
            .await
            .unwrap();
    });
    let stale = find_violations(&test_db.db).await.unwrap();
    assert_eq!(stale.len(), 2501, "every older row is reported stale");

    test_db
        .db
        .migrate()
        .await
        .expect("migrate fills search_text");
    test_db.db.migrate().await.expect("and again, as a no-op");
    assert_eq!(find_violations(&test_db.db).await.unwrap(), vec![]);

    let paging = Paging::parse(None, None).unwrap();
    let items = list_items(&test_db.db, Some("älterer artikel 1234"), paging)
        .await
        .unwrap();
    assert_eq!(items.total, 1);
    assert_eq!(items.items[0].sku, "OLD-11234");
    let locations = list_locations(&test_db.db, Some("zz-1"), None, paging)
        .await
        .unwrap();
    assert_eq!(locations.total, 1);
}
