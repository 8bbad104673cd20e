//! Issue 16: the label pages print barcodes that scan back into Depot. Each test renders a real
//! label page over HTTP, rasterises every barcode on it (resvg), decodes the pixels (rxing, a
//! ZXing port) and sends what a scanner would type to `GET /scan`, which must name the location,
//! or the item with its batch and expiry.

use std::collections::HashSet;

use chrono::Duration;
use depot::db::Backend;
use depot::scan::gs1::with_check_digit;
use reqwest::StatusCode;
use rxing::common::HybridBinarizer;
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHintValue, DecodeHints, Luma8Source, MultiFormatReader,
    Reader,
};
use serde_json::{json, Value};

use crate::common::{test_config, TestApp};
use crate::on_both_backends;

on_both_backends!(
    location_labels_scan_back_to_their_location,
    batch_labels_scan_back_to_item_batch_and_expiry,
    label_pages_refuse_what_names_nothing,
);

/// The barcodes of a label page: (symbology, SVG) in page order.
fn symbols(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("data-symbology=\"") {
        rest = &rest[at + "data-symbology=\"".len()..];
        let symbology = rest[..rest.find('"').unwrap()].to_string();
        let start = rest.find("<svg").expect("an SVG after data-symbology");
        let end = rest[start..].find("</svg>").expect("a closed SVG") + start + "</svg>".len();
        found.push((symbology, rest[start..end].to_string()));
        rest = &rest[end..];
    }
    found
}

/// What a scanner reading the printed `svg` types: its text, with GS1's symbology identifier
/// `]C1` and a GS for each FNC1 separator.
fn scan_printed(symbology: &str, svg: &str) -> String {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("an SVG");
    let scale = 3.0;
    let (width, height) = (
        (tree.size().width() * scale).ceil() as u32,
        (tree.size().height() * scale).ceil() as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height).expect("a pixmap");
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let luma = pixmap.pixels().iter().map(|p| p.red()).collect();
    let source = Luma8Source::new(luma, width, height).expect("a luma source");
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    let format = match symbology {
        "qr" => BarcodeFormat::QR_CODE,
        _ => BarcodeFormat::CODE_128,
    };
    let hints = DecodeHints::default()
        .with(DecodeHintValue::PossibleFormats(HashSet::from([format])))
        .with(DecodeHintValue::AssumeGs1(symbology == "gs1-128"));
    let result = MultiFormatReader::default()
        .decode_with_hints(&mut bitmap, &hints)
        .unwrap_or_else(|e| panic!("no {symbology} readable in {svg}: {e:?}"));
    let text = result.getText();
    // ZXing's reader turns a check character of value 102 (FNC1's) into a trailing GS; no
    // scanner sends it.
    text.strip_suffix('\u{1d}').unwrap_or(text).to_string()
}

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.browser().get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

async fn scan(app: &TestApp, code: &str) -> Value {
    let query: String = form_urlencoded::byte_serialize(code.as_bytes()).collect();
    let (status, body) = app.get(&format!("/scan?code={query}")).await;
    assert_eq!(status, StatusCode::OK, "{code:?}: {body}");
    body
}

async fn location_labels_scan_back_to_their_location(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (code, kind) in [
        ("A-01-02", "storage"),
        ("RCV-1", "receiving"),
        ("库位-9", "storage"),
    ] {
        app.location(code, kind).await;
    }

    // One location: its code as Code 128 and as a QR code, both scanning back to it.
    let html = page(&app, "/labels/locations?code=A-01-02").await;
    let found = symbols(&html);
    assert_eq!(
        found.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        ["qr", "code128"]
    );
    for (symbology, svg) in &found {
        let typed = scan_printed(symbology, svg);
        assert_eq!(typed, "A-01-02", "{symbology}");
        let scanned = scan(&app, &typed).await;
        assert_eq!(scanned["kind"], "location");
        assert_eq!(scanned["location"]["code"], "A-01-02");
    }

    // A search prints each match; a Chinese code cannot be Code 128, so it gets its QR only.
    let html = page(&app, "/labels/locations?kind=storage&size=a4").await;
    assert!(html.contains(r#"data-stock="a4""#));
    let found = symbols(&html);
    let decoded: Vec<(String, String)> = found
        .iter()
        .map(|(symbology, svg)| (symbology.clone(), scan_printed(symbology, svg)))
        .collect();
    assert_eq!(
        decoded,
        [
            ("qr".to_string(), "A-01-02".to_string()),
            ("code128".to_string(), "A-01-02".to_string()),
            ("qr".to_string(), "库位-9".to_string()),
        ]
    );
    assert_eq!(scan(&app, "库位-9").await["location"]["code"], "库位-9");
}

async fn batch_labels_scan_back_to_item_batch_and_expiry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ean = with_check_digit("690123456789");
    let (status, body) = app
        .post(
            "/items",
            &json!({"sku": "TEA-1", "name": "绿茶 250g", "barcode": ean}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.item("PLAIN-1", "No barcode").await;
    app.location("A-01", "storage").await;
    let today = test_config().today();
    let (soon, later) = (today + Duration::days(30), today + Duration::days(200));
    let (status, body) = app
        .post("/inbound/receive", &json!({"ref": "PO-1", "lines": [
            {"sku": "TEA-1", "location_code": "A-01", "qty": 5, "batch_code": "L-LATE", "expiry_date": later},
            {"sku": "TEA-1", "location_code": "A-01", "qty": 5, "batch_code": "L-SOON", "expiry_date": soon},
            {"sku": "PLAIN-1", "location_code": "A-01", "qty": 1, "batch_code": "P1"},
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Every batch in stock, first expiry first, each a GS1-128 of GTIN, expiry and batch that
    // the scan fields read back whole. Found by the barcode as well as by the sku.
    let html = page(&app, &format!("/labels/batches?sku={ean}&size=100x50")).await;
    let found = symbols(&html);
    assert_eq!(found.len(), 2, "{found:?}");
    for ((symbology, svg), (batch, expiry)) in
        found.iter().zip([("L-SOON", soon), ("L-LATE", later)])
    {
        assert_eq!(symbology, "gs1-128");
        let typed = scan_printed(symbology, svg);
        assert!(typed.starts_with("]C101"), "{typed:?}");
        let scanned = scan(&app, &typed).await;
        assert_eq!(scanned["kind"], "gs1", "{scanned}");
        assert_eq!(scanned["item"]["sku"], "TEA-1");
        assert_eq!(scanned["batch_code"], batch);
        assert_eq!(scanned["expiry_date"], expiry.to_string());
        // As a scanner without symbology identifiers types it, too.
        let bare = scan(&app, typed.trim_start_matches("]C1")).await;
        assert_eq!(bare["batch_code"], batch);
    }

    // One batch by name, even one not received yet (a label for goods about to arrive).
    let html = page(&app, "/labels/batches?sku=TEA-1&batch=L-NEXT").await;
    let found = symbols(&html);
    assert_eq!(found.len(), 1);
    let scanned = scan(&app, &scan_printed(&found[0].0, &found[0].1)).await;
    assert_eq!(scanned["batch_code"], "L-NEXT");
    assert!(
        scanned.get("expiry_date").is_none_or(Value::is_null),
        "{scanned}"
    );

    // Without a GTIN: a Code 128 of the sku, and the page says why.
    let html = page(&app, "/labels/batches?sku=PLAIN-1").await;
    let found = symbols(&html);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "code128");
    let typed = scan_printed(&found[0].0, &found[0].1);
    assert_eq!(scan(&app, &typed).await["item"]["sku"], "PLAIN-1");
    assert!(
        html.contains("Code 128"),
        "the page explains the missing GTIN"
    );
}

async fn label_pages_refuse_what_names_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let html = page(&app, "/labels/batches?sku=NOPE-1").await;
    assert!(html.contains(r#"data-code="NOT_FOUND""#), "{html}");
    assert!(symbols(&html).is_empty());
    let html = page(&app, "/labels/locations?code=NOWHERE").await;
    assert!(html.contains(r#"data-code="NOT_FOUND""#));
    let html = page(&app, "/labels/locations?kind=attic").await;
    assert!(html.contains(r#"data-code="VALIDATION_FAILED""#));
    // No query: nothing to print yet, and no error.
    let html = page(&app, "/labels/batches").await;
    assert!(!html.contains("data-code="));
    // The server functions behind the pages need a signed-in viewer, like the pages.
    let response = reqwest::Client::new()
        .post(app.url("/api/batch_labels"))
        .form(&[("sku", "TEA-1"), ("batch", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
