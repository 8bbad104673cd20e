//! `depot demo` loads through the real operations and leaves a consistent warehouse.

use depot::db::Backend;

use crate::common::TestApp;
use crate::on_both_backends;

on_both_backends!(
    the_demo_warehouse_is_consistent_and_refuses_a_used_database,
    a_chinese_warehouse_gets_a_chinese_demo,
    the_demo_speaks_the_language_of_whoever_sets_depot_up
);

async fn the_demo_warehouse_is_consistent_and_refuses_a_used_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let summary = depot::demo::load_demo(app.db(), &crate::common::test_config(), 300, english())
        .await
        .unwrap();
    assert_eq!(summary.items, 300);
    assert_eq!(summary.locations, 40);
    assert_eq!(summary.stock_rows, 900, "a dock and two shelves per item");
    assert_eq!(app.count("items").await, 300);
    assert_eq!(
        app.count("stock_ledger").await as usize,
        summary.receipt_lines + 2 * summary.putaway_lines
    );
    app.assert_consistent().await;

    // The English demo (the default language) speaks English only.
    let (_, page) = app.get("/items?q=water").await;
    assert!(page["total"].as_i64().unwrap() > 0);
    assert!(page["items"][0]["name"]
        .as_str()
        .unwrap()
        .contains("Mineral water"));
    let (_, all) = app.get("/items?limit=200").await;
    for item in all["items"].as_array().unwrap() {
        for field in ["name", "spec", "unit"] {
            let text = item[field].as_str().unwrap();
            let chinese = text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            assert!(!chinese, "{field} {text} of the English demo");
        }
    }
    let (_, stock) = app.get("/stock/query?location_code=A-01&limit=200").await;
    assert!(stock["total"].as_i64().unwrap() > 0);
    // Every demo movement says who made it: the demo command.
    let (_, ledger) = app.get("/ledger?limit=200").await;
    let rows = ledger["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["actor"] == "cli:demo"), "{ledger}");

    let again =
        depot::demo::load_demo(app.db(), &crate::common::test_config(), 10, english()).await;
    assert!(again.is_err(), "the demo loads only into an empty database");
    assert_eq!(app.count("items").await, 300);
}

/// `DEPOT_LANGUAGE=zh-CN`: names, specs and units in Chinese (罐, 箱, 瓶), the places too.
async fn a_chinese_warehouse_gets_a_chinese_demo(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let config = depot::config::Config {
        language: depot::lang::Locale::zh_CN,
        ..crate::common::test_config()
    };
    let names = depot::demo::Names::In(config.language);
    depot::demo::load_demo(app.db(), &config, 80, names)
        .await
        .unwrap();
    app.assert_consistent().await;
    let (_, page) = app.get("/items?q=%E7%9F%BF%E6%B3%89%E6%B0%B4").await; // 矿泉水
    assert_eq!(page["items"][0]["name"], "经典矿泉水", "{page}");
    assert_eq!(page["items"][0]["unit"], "箱");
    assert_eq!(page["items"][0]["spec"], "550毫升×24瓶");
    let (_, all) = app.get("/items?limit=200").await;
    let units: std::collections::BTreeSet<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["unit"].as_str().unwrap())
        .collect();
    for unit in ["罐", "箱", "瓶"] {
        assert!(units.contains(unit), "{unit} among {units:?}");
    }
    for item in all["items"].as_array().unwrap() {
        let name = item["name"].as_str().unwrap();
        assert!(
            !name.chars().any(|c| c.is_ascii_alphabetic()) || name.contains("维生素C"),
            "{name}: no English in a Chinese demo's names"
        );
    }
    let (_, locations) = app.get("/locations").await;
    let names: Vec<&str> = locations["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"1 号收货口"), "{names:?}");
}

fn english() -> depot::demo::Names {
    depot::demo::Names::In(depot::lang::Locale::en)
}

/// `serve --demo-if-empty`: the empty warehouse is filled when the first admin is set up, in the
/// language of that browser; nothing is loaded before (an empty database stays empty).
async fn the_demo_speaks_the_language_of_whoever_sets_depot_up(backend: Backend) {
    let test_db = crate::common::TestDb::new(backend).await;
    let config = depot::config::Config {
        demo_if_empty: true,
        ..crate::common::test_config()
    };
    let state = crate::common::app_state(test_db.db.clone(), config);
    let path = depot::auth::web::open_setup_if_needed(&state)
        .await
        .unwrap()
        .expect("setup opens while no user exists");
    let token = path.rsplit_once("token=").unwrap().1.to_string();
    let (base, _server) = crate::common::serve_state(state).await;
    let items = || async {
        depot::with_pool!(&test_db.db, |pool, _backend| sqlx::query_as::<
            _,
            (String, Option<String>),
        >(
            "SELECT name, unit FROM items ORDER BY sku"
        )
        .fetch_all(pool)
        .await
        .unwrap())
    };
    assert!(items().await.is_empty(), "nothing before the setup");
    let made = reqwest::Client::new()
        .post(format!("{base}/setup"))
        .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.5")
        .json(&serde_json::json!({"token": token, "username": "chief", "password": "the chief's password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), reqwest::StatusCode::CREATED);
    let items = items().await;
    assert_eq!(items.len(), depot::demo::DEFAULT_ITEMS);
    assert_eq!(items[0], ("经典矿泉水".to_string(), Some("箱".to_string())));
}
