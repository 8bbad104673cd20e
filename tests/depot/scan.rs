//! Issue 16: items carry a barcode, and `GET /scan?code=` resolves whatever a scanner typed — a
//! sku, a barcode (as 8, 12, 13 or 14 digits), a location code, or a GS1 barcode with its batch,
//! dates and count — the same way for the pages and for third-party handhelds.

use depot::db::Backend;
use depot::scan::gs1::with_check_digit;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, TestApp};
use crate::on_both_backends;

on_both_backends!(
    items_keep_one_valid_barcode_each,
    a_scan_names_an_item_a_location_or_gs1_goods,
    bad_scans_are_refused_in_words,
);

/// `GET /scan` with `query` (already encoded).
async fn scan(app: &TestApp, query: &str) -> (StatusCode, Value) {
    app.get(&format!("/scan?{query}")).await
}

fn encode(code: &str) -> String {
    form_urlencoded::byte_serialize(code.as_bytes()).collect()
}

async fn items_keep_one_valid_barcode_each(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ean = with_check_digit("690123456789");
    // Given as GTIN-14, kept in its canonical (EAN-13) form.
    let (status, item) = app
        .post(
            "/items",
            &json!({"sku": "TEA-1", "name": "绿茶 250g", "barcode": format!("0{ean}")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    assert_eq!(item["barcode"], ean.as_str());
    let (_, fetched) = app.get(&format!("/items/{}", item["id"])).await;
    assert_eq!(fetched["barcode"], ean.as_str());

    // The same GTIN again, in any form, is taken.
    let (status, body) = app
        .post(
            "/items",
            &json!({"sku": "TEA-2", "name": "x", "barcode": ean}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["details"]["field"], "barcode");

    let wrong_check = format!("{}{}", &ean[..12], (ean.as_bytes()[12] - b'0' + 1) % 10);
    for bad in [
        wrong_check.as_str(),
        "12345",
        "ABC1234567890",
        "690-1234-56789",
    ] {
        let (status, body) = app
            .post(
                "/items",
                &json!({"sku": "TEA-3", "name": "x", "barcode": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_error(&body, "VALIDATION_FAILED");
        assert_eq!(body["error"]["details"]["field"], "barcode", "{body}");
    }
    // Blank is no barcode, and many items have none.
    for sku in ["NB-1", "NB-2"] {
        let (status, body) = app
            .post("/items", &json!({"sku": sku, "name": "x", "barcode": ""}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["barcode"], Value::Null);
    }
    // The item list finds an item by its barcode, scanned in any of its forms.
    for q in [ean.clone(), format!("0{ean}")] {
        let (status, page) = app.get(&format!("/items?q={q}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["total"], 1, "{q}: {page}");
        assert_eq!(page["items"][0]["sku"], "TEA-1");
    }
}

async fn a_scan_names_an_item_a_location_or_gs1_goods(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ean = with_check_digit("690123456789");
    let gtin = format!("0{ean}");
    let (_, item) = app
        .post(
            "/items",
            &json!({"sku": "TEA-1", "name": "绿茶 250g", "unit": "box", "barcode": ean}),
        )
        .await;
    app.location("A-01", "storage").await;
    // A code that is both a sku and a location code.
    app.item("B-02", "Both").await;
    app.location("B-02", "storage").await;

    for code in ["TEA-1", ean.as_str(), gtin.as_str(), " TEA-1\r\n"] {
        let (status, body) = scan(&app, &format!("code={}", encode(code))).await;
        assert_eq!(status, StatusCode::OK, "{code:?}: {body}");
        assert_eq!(body["kind"], "item");
        assert_eq!(body["item"]["id"], item["id"]);
        assert_eq!(body["item"]["name"], "绿茶 250g");
        assert_eq!(body["item"]["unit"], "box");
        assert!(body.get("location").is_none(), "{body}");
    }
    let (status, body) = scan(&app, "code=A-01").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "location");
    assert_eq!(body["location"]["code"], "A-01");
    assert_eq!(body["location"]["kind"], "storage");
    // What the field expects decides between a sku and a location code.
    let (_, body) = scan(&app, "code=B-02").await;
    assert_eq!(body["kind"], "item");
    let (_, body) = scan(&app, "code=B-02&expect=location").await;
    assert_eq!(body["kind"], "location");

    // GS1: human-readable, with the symbology identifier and a group separator, and as a
    // scanner without separators types it (the variable-length batch last).
    for (code, qty) in [
        (format!("(01){gtin}(17)271231(10)LOT-7(30)24"), Some(24)),
        (format!("]C101{gtin}1727123110LOT-7"), None),
        (format!("]C101{gtin}10LOT-7\u{1d}172712313024"), Some(24)),
        (format!("]d201{gtin}1727123110LOT-7\u{1d}3024"), Some(24)),
        (format!("01{gtin}172712313024\u{1d}10LOT-7"), Some(24)),
        (format!("01{gtin}1727123110LOT-7"), None),
    ] {
        let (status, body) = scan(&app, &format!("code={}", encode(&code))).await;
        assert_eq!(status, StatusCode::OK, "{code:?}: {body}");
        assert_eq!(body["kind"], "gs1", "{code:?}");
        assert_eq!(body["item"]["sku"], "TEA-1", "{code:?}");
        assert_eq!(body["batch_code"], "LOT-7", "{code:?}");
        assert_eq!(body["expiry_date"], "2027-12-31", "{code:?}");
        assert_eq!(
            body.get("qty").and_then(Value::as_i64),
            qty,
            "{code:?}: {body}"
        );
    }
    // Day 00 is the month's last day; production dates are read too.
    let code = format!("(01){gtin}(11)260100(17)280200");
    let (_, body) = scan(&app, &format!("code={}", encode(&code))).await;
    assert_eq!(body["production_date"], "2026-01-31", "{body}");
    assert_eq!(body["expiry_date"], "2028-02-29", "{body}");
    assert!(body.get("batch_code").is_none());
}

async fn bad_scans_are_refused_in_words(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ean = with_check_digit("690123456789");
    app.post(
        "/items",
        &json!({"sku": "TEA-1", "name": "Tea", "barcode": ean}),
    )
    .await;
    let unknown = with_check_digit("0690123450001");
    let cases: Vec<(String, StatusCode, &str)> = vec![
        ("code=NOPE".into(), StatusCode::NOT_FOUND, "NOT_FOUND"),
        (
            format!("code={}", encode(&format!("(01){unknown}(10)X"))),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            format!("code={}", encode("(00)106141411234567897")),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            format!("code={}", encode("(01)123(10)X")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            format!("code={}", encode(&format!("(01)0{ean}(17)271399"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            format!("code={}", encode(&format!("(01)0{ean}(10"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            "code=".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            "".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            "code=%00".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            format!("code={}", "9".repeat(600)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            "code=TEA-1&expect=pallet".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            "code=%ff".into(),
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
        ),
    ];
    for (query, status, code) in cases {
        let (got, body) = scan(&app, &query).await;
        assert_eq!(got, status, "{query}: {body}");
        assert_error(&body, code);
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(body["error"]["details"]["field"].is_string(), "{body}");
        }
    }
    // An unknown GTIN says which, so the clerk can have it added.
    let (_, body) = scan(&app, &format!("code={}", encode(&format!("(01){unknown}")))).await;
    assert_eq!(
        body["error"]["details"]["gtin"],
        unknown.trim_start_matches('0')
    );
    // In the asker's language.
    let response = app
        .client
        .get(app.url("/scan?code=NOPE"))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("库位"),
        "{body}"
    );
}
