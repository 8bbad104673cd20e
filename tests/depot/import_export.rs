//! Import and export (SPEC §11): CSV (UTF-8 with or without BOM, GB18030) and XLSX, English
//! and Chinese headers, dry runs, all-or-nothing imports, idempotent opening stock, bad files
//! refused with a report and nothing written, exports with the pages' filters that import back.

use std::io::{Cursor, Write};

use depot::db::Backend;
use depot::sheet::read::{read, Value};
use depot::sheet::Format;
use reqwest::StatusCode;
use serde_json::{json, Value as Json};

use crate::common::{assert_error, TestApp};
use crate::on_both_backends;

on_both_backends!(
    items_import_previews_creates_updates_and_repeats_as_nothing,
    chinese_headers_in_gb18030_and_xlsx_with_excel_dates,
    opening_stock_is_one_idempotent_receipt,
    bad_files_get_a_report_and_write_nothing,
    a_real_import_with_problems_is_422_and_writes_nothing,
    uploads_as_multipart_and_browser_posts_come_back_to_the_page,
    exports_stream_with_filters_and_headers_in_the_language,
    an_xlsx_stock_export_imports_back_to_the_same_stock,
    imports_are_for_managers,
    item_dry_runs_meet_the_databases_own_rules_as_the_import_does,
    location_dry_runs_meet_the_databases_own_rules_as_the_import_does,
);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn import(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Json) {
    app.post_raw(path, content_type, body).await
}

fn csv(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

/// A workbook of one sheet from rows of cells (`=…` is written as a formula).
fn xlsx(rows: &[Vec<XCell>]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                XCell::S(s) => {
                    sheet.write_string(r, c, *s).unwrap();
                }
                XCell::N(n) => {
                    sheet.write_number(r, c, *n).unwrap();
                }
                XCell::D(d) => {
                    let d = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
                    sheet.write_datetime_with_format(r, c, d, &date).unwrap();
                }
                XCell::F(f) => {
                    sheet.write_formula(r, c, *f).unwrap();
                }
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

enum XCell {
    S(&'static str),
    N(f64),
    D(&'static str),
    F(&'static str),
}
use XCell::{D, F, N, S};

async fn item_names(app: &TestApp) -> Vec<(String, String, String, String)> {
    let (_, items) = app.get("/items?limit=200").await;
    items["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["sku"].as_str().unwrap().to_owned(),
                i["name"].as_str().unwrap().to_owned(),
                i["spec"].as_str().unwrap().to_owned(),
                i["unit"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn items_import_previews_creates_updates_and_repeats_as_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-OLD", "Old name").await;
    let file = csv("\u{feff}sku,name,spec,unit\r\nSKU-1,Green tea 绿茶,500g,box\r\nSKU-2,Flour,,\r\nSKU-OLD,New name,1kg,\r\n\r\n");

    let (status, preview) =
        import(&app, "/import/items?dry_run=true", "text/csv", file.clone()).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview,
        json!({"dry_run": true, "rows": 3, "created": 2, "updated": 1, "errors": []})
    );
    assert_eq!(item_names(&app).await.len(), 1, "a dry run writes nothing");

    let (status, done) = import(&app, "/import/items", "text/csv", file.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["created"], 2);
    assert_eq!(done["updated"], 1);
    let items = item_names(&app).await;
    assert!(
        items.contains(&(
            "SKU-1".into(),
            "Green tea 绿茶".into(),
            "500g".into(),
            "box".into()
        )),
        "{items:?}"
    );
    assert!(
        items.contains(&("SKU-2".into(), "Flour".into(), "".into(), "pcs".into())),
        "{items:?}"
    );
    assert!(
        items.contains(&(
            "SKU-OLD".into(),
            "New name".into(),
            "1kg".into(),
            "pcs".into()
        )),
        "{items:?}"
    );
    // The new items are found by search like any other.
    let (_, found) = app.get("/items?q=%E7%BB%BF%E8%8C%B6").await;
    assert_eq!(found["total"], 1, "{found}");

    // The same file again: nothing to do.
    let (status, again) = import(&app, "/import/items", "text/csv", file).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["created"].clone(), again["updated"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(item_names(&app).await.len(), 3);
    app.assert_consistent().await;
}

async fn chinese_headers_in_gb18030_and_xlsx_with_excel_dates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Excel on Chinese Windows saves "CSV" in GB18030.
    let text = "商品编码,品名,规格,单位\r\nTEA-1,西湖龙井,250克,罐\r\n";
    let (gb, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&gb).is_err(),
        "really GB18030, not UTF-8"
    );
    let (status, report) = import(&app, "/import/items", "text/csv", gb.into_owned()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 1);
    assert!(item_names(&app).await.contains(&(
        "TEA-1".into(),
        "西湖龙井".into(),
        "250克".into(),
        "罐".into()
    )));

    // Locations and opening stock from XLSX with Chinese headers; a sku typed as a number,
    // an expiry as an Excel date cell and another as text with slashes.
    let locations = xlsx(&[
        vec![S("库位"), S("库位名称"), S("库位类型")],
        vec![S("R-1"), S("收货区"), S("收货")],
        vec![S("A-01"), S("货架 A1"), S("存储")],
    ]);
    let (status, report) = import(&app, "/import/locations", XLSX, locations).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 2);
    let items = xlsx(&[vec![S("货号"), S("名称")], vec![N(12345.0), S("数字货号")]]);
    let (status, report) = import(&app, "/import/items", XLSX, items).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let stock = xlsx(&[
        vec![S("货号"), S("库位"), S("数量"), S("批次"), S("有效期至")],
        vec![S("TEA-1"), S("A-01"), N(12.0), S("L1"), D("2027-03-31")],
        vec![N(12345.0), S("R-1"), N(5.0), S(""), S("2027/01/15")],
    ]);
    let (status, report) = import(&app, "/import/stock?ref=OPEN-1", XLSX, stock).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["ref"], "OPEN-1");
    let (_, rows) = app.get("/stock/query?sku=TEA-1").await;
    assert_eq!(rows["rows"][0]["qty"], 12);
    assert_eq!(
        rows["rows"][0]["batches"][0],
        json!({"batch_code": "L1", "expiry_date": "2027-03-31", "qty": 12})
    );
    let (_, rows) = app.get("/stock/query?sku=12345").await;
    assert_eq!(rows["rows"][0]["batches"][0]["expiry_date"], "2027-01-15");
    app.assert_consistent().await;
}

async fn opening_stock_is_one_idempotent_receipt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    crate::inbound::warehouse(&app).await;
    app.item("SKU-2", "Flour").await;
    let file = csv("sku,location_code,qty,batch_code,expiry_date\nSKU-1,A-01,10,L1,2027-01-01\nSKU-2,A-01,4,,\nSKU-1,R-1,3,,\n");

    let (status, preview) =
        import(&app, "/import/stock?dry_run=true", "text/csv", file.clone()).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["created"], 3);
    assert!(
        preview["ref"].as_str().unwrap().starts_with("IMPORT-"),
        "{preview}"
    );
    assert_eq!(
        app.count("stock_ledger").await,
        0,
        "a dry run writes nothing"
    );

    let (status, done) = import(&app, "/import/stock", "text/csv", file.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["created"], 3);
    assert_eq!(done["ref"], preview["ref"], "the ref follows the file");
    let (_, ledger) = app
        .get(&format!("/ledger?ref={}", done["ref"].as_str().unwrap()))
        .await;
    assert_eq!(ledger["total"], 3);
    assert!(ledger["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["reason"] == "RECEIVE"));

    // The same file again is the same receipt: nothing more is received.
    let (status, again) = import(&app, "/import/stock", "text/csv", file).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(app.count("stock_ledger").await, 3);
    let (_, stock) = app.get("/stock/query?sku=SKU-1&location_code=A-01").await;
    assert_eq!(stock["rows"][0]["qty"], 10);

    // A problem the pipeline finds (an unknown sku on row 3) is reported on its row and column,
    // in the same report as the sheet's own problems (a bad qty on row 4), row by row.
    let bad =
        csv("sku,location_code,qty\nSKU-1,A-01,1\nNOPE,A-01,2\nSKU-1,R-1,x\nSKU-2,NOWHERE,1\n");
    let (status, report) = import(&app, "/import/stock?dry_run=true", "text/csv", bad).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let found: Vec<(i64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [(3, "sku"), (4, "qty"), (5, "location_code")],
        "{report}"
    );
    assert_eq!(app.count("stock_ledger").await, 3, "nothing written");
    app.assert_consistent().await;
}

/// A bad file: the report names the problem; nothing is written; never a 500.
async fn refused(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> Json {
    let before = app.footprint().await;
    let (status, report) = import(app, path, content_type, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {report}");
    assert_error(&report, "VALIDATION_FAILED");
    assert!(!report["errors"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!(app.footprint().await, before, "nothing written: {report}");
    let (status, items) = app.get("/items").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(items["total"], 1, "{items}");
    report
}

async fn bad_files_get_a_report_and_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    crate::inbound::warehouse(&app).await;
    let message = |r: &Json| r["errors"][0]["message"].as_str().unwrap().to_owned();

    // Neither UTF-8 nor GB18030.
    let r = refused(
        &app,
        "/import/items",
        "text/csv",
        b"sku,name\n\xff\xff\xff,x\n".to_vec(),
    )
    .await;
    assert!(message(&r).contains("UTF-8"), "{r}");
    // Not a spreadsheet: an image, a ZIP of other things.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let r = refused(&app, "/import/items", "text/csv", png).await;
    assert_eq!(r["errors"][0]["row"], Json::Null, "{r}");
    let mut zipped = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(Cursor::new(&mut zipped));
        zip.start_file("notes.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"hello").unwrap();
        zip.finish().unwrap();
    }
    refused(&app, "/import/items", XLSX, zipped).await;
    // A required column missing.
    let r = refused(
        &app,
        "/import/items",
        "text/csv",
        csv("sku,spec\nX-1,1kg\n"),
    )
    .await;
    assert_eq!(r["errors"][0]["row"], 1);
    assert_eq!(r["errors"][0]["column"], "name");
    // Duplicate skus, every problem of every row at once.
    let r = refused(
        &app,
        "/import/items",
        "text/csv",
        csv("sku,name\nX-1,One\nX-2,\nX-1,Again\n"),
    )
    .await;
    let errors: Vec<(i64, String)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [(3, "name".to_owned()), (4, "sku".to_owned())],
        "{r}"
    );
    assert!(
        r["errors"][1]["message"].as_str().unwrap().contains('2'),
        "names the first row: {r}"
    );
    // Quantities that are not whole numbers, dates in other formats.
    let r = refused(
        &app,
        "/import/stock",
        "text/csv",
        csv("sku,location_code,qty,expiry_date\nSKU-1,A-01,1.5,\nSKU-1,A-01,abc,\nSKU-1,A-01,2,31/12/2027\nSKU-1,A-01,0,\n"),
    )
    .await;
    let columns: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["column"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["qty", "qty", "expiry_date", "qty"], "{r}");
    // 100 001 rows.
    let mut big = String::from("sku,name\n");
    for n in 0..100_001 {
        big.push_str(&format!("B-{n},Item {n}\n"));
    }
    let r = refused(&app, "/import/items", "text/csv", big.into_bytes()).await;
    assert!(message(&r).contains("100"), "{r}");
    // A formula.
    let formula = xlsx(&[
        vec![S("sku"), S("name")],
        vec![S("F-1"), F("=CONCAT(\"a\",\"b\")")],
    ]);
    let r = refused(&app, "/import/items", XLSX, formula).await;
    assert_eq!(r["errors"][0]["row"], 2, "{r}");
    assert_eq!(r["errors"][0]["column"], "name", "{r}");
    // Two cells spanning the whole grid (A1 and XFD1048576): read cell by cell, never as one
    // range of 17 billion cells (that would abort the server).
    let sparse = {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "sku").unwrap();
        sheet.write_string(0, 1, "name").unwrap();
        sheet.write_string(1_048_575, 16_383, "far away").unwrap();
        workbook.save_to_buffer().unwrap()
    };
    let r = refused(&app, "/import/items", XLSX, sparse).await;
    assert_eq!(r["errors"][0]["row"], Json::Null, "no rows: {r}");
    // An XLSX bomb: a sheet part inflating a thousand times.
    let mut bomb = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(Cursor::new(&mut bomb));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/workbook.xml", options).unwrap();
        zip.write_all(b"<workbook/>").unwrap();
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let zeros = vec![b' '; 1024 * 1024];
        for _ in 0..20 {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap();
    }
    refused(&app, "/import/items", XLSX, bomb).await;
    // The same bad files in a dry run: 200 with the report.
    let (status, report) = import(
        &app,
        "/import/items?dry_run=true",
        "text/csv",
        csv("sku\nX\n"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["errors"][0]["column"], "name");
    // An empty body, and an unknown parameter value.
    let (status, body) = import(&app, "/import/items", "text/csv", Vec::new()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "VALIDATION_FAILED");
    let (status, body) = import(
        &app,
        "/import/items?dry_run=maybe",
        "text/csv",
        csv("sku,name\nA,B\n"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "VALIDATION_FAILED");
    app.assert_consistent().await;
}

async fn a_real_import_with_problems_is_422_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 2 000 good rows and one bad near the end: all or nothing.
    let mut text = String::from("sku,name\n");
    for n in 0..2000 {
        text.push_str(&format!("G-{n},Good {n}\n"));
    }
    text.push_str("G-bad!\u{7},Bad\n");
    let (status, report) = import(&app, "/import/items", "text/csv", text.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["rows"], 2001);
    assert_eq!(report["errors"][0]["row"], 2002);
    assert_error(&report, "VALIDATION_FAILED");
    let (_, items) = app.get("/items").await;
    assert_eq!(items["total"], 0, "nothing imported");
    // In Chinese, the same report in Chinese.
    let response = app
        .client
        .post(app.url("/import/items"))
        .header("content-type", "text/csv")
        .header("accept-language", "zh-CN")
        .body("sku,spec\nX,Y\n")
        .send()
        .await
        .unwrap();
    let (status, report) = crate::common::into_json(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("缺少"),
        "{report}"
    );
}

async fn uploads_as_multipart_and_browser_posts_come_back_to_the_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let form = reqwest::multipart::Form::new()
        .text("dry_run", "true")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"sku,name\nM-1,Multi\n".to_vec())
                .file_name("items.csv"),
        );
    let response = app
        .client
        .post(app.url("/import/items"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, report) = crate::common::into_json(response).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["dry_run"].clone(), report["created"].clone()),
        (json!(true), json!(1))
    );

    // A browser's form post: redirected to the page, which shows the report.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"sku,name\nM-1,Multi\n".to_vec()).file_name("items.csv"),
    );
    let response = app
        .browser()
        .post(app.url("/import/items"))
        .header("accept", "text/html")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/import?kind=items&result="),
        "{location}"
    );
    let page = app
        .browser()
        .get(app.url(&location))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Imported 1 rows: 1 new, 0 changed."),
        "{html}"
    );
    assert_eq!(item_names(&app).await.len(), 1);
}

/// The rows of a CSV download (BOM dropped).
async fn csv_rows(
    app: &TestApp,
    path: &str,
    language: &str,
) -> (reqwest::header::HeaderMap, Vec<Vec<String>>) {
    let response = app
        .client
        .get(app.url(path))
        .header("accept-language", language)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM first");
    let sheet = read(&bytes, Format::Csv).expect("a CSV");
    let mut rows = vec![sheet.headers];
    rows.extend(sheet.rows.into_iter().map(|r| {
        r.values
            .into_iter()
            .map(|v| match v {
                Value::Text(t) => t,
                other => format!("{other:?}"),
            })
            .collect()
    }));
    (headers, rows)
}

async fn exports_stream_with_filters_and_headers_in_the_language(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    crate::inbound::warehouse(&app).await;
    app.item("=SUM(A1)", "Formula-looking 绿茶").await;
    // More stocks than one read of an export takes (2 000).
    let mut text = String::from("sku,name\n");
    for n in 0..2100 {
        text.push_str(&format!("E-{n:05},Export {n}\n"));
    }
    let (status, _) = import(&app, "/import/items", "text/csv", text.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let mut stock = String::from("sku,location_code,qty,batch_code,expiry_date\n");
    for n in 0..2100 {
        stock.push_str(&format!("E-{n:05},A-01,{},B{n},2027-06-30\n", n + 1));
    }
    stock.push_str("=SUM(A1),R-1,7,,\nSKU-1,A-01,5,L1,2027-01-01\nSKU-1,A-01,6,L2,\n");
    let (status, report) = import(&app, "/import/stock", "text/csv", stock.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{report}");

    let (headers, rows) = csv_rows(&app, "/export/stock", "en").await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("depot-stock-2026-06-15.csv"));
    assert_eq!(
        rows[0],
        [
            "sku",
            "name",
            "warehouse_code",
            "location_code",
            "batch_code",
            "expiry_date",
            "qty",
            "reserved",
            "available"
        ]
    );
    assert_eq!(
        rows.len(),
        1 + 2100 + 1 + 2,
        "every batch of every stock, once"
    );
    let formula = rows.iter().find(|r| r[3] == "R-1").unwrap();
    assert_eq!(
        formula[0], "=SUM(A1)",
        "written behind a ' and read back without it"
    );
    // Filters as on the page; Chinese headers.
    let (_, rows) = csv_rows(&app, "/export/stock?sku=SKU-1", "zh-CN").await;
    assert_eq!(
        rows[0],
        [
            "货号",
            "品名",
            "仓库",
            "库位",
            "批次",
            "效期",
            "数量",
            "已预留",
            "可用量"
        ]
    );
    assert_eq!(
        rows[1..].iter().map(|r| r[4].as_str()).collect::<Vec<_>>(),
        ["L1", "L2"]
    );
    assert_eq!(rows[1][5], "2027-01-01");

    let (_, snapshot) = csv_rows(&app, "/export/snapshot?q=%E7%BB%BF%E8%8C%B6", "en").await;
    assert_eq!(
        snapshot[0][..5],
        ["sku", "name", "spec", "unit", "total_qty"]
    );
    assert_eq!(snapshot.len(), 2, "{snapshot:?}");
    assert_eq!(snapshot[1][4], "7");

    let (_, ledger) = csv_rows(&app, "/export/ledger?sku=SKU-1", "en").await;
    assert_eq!(ledger[0][..4], ["id", "occurred_at", "reason", "ref"]);
    assert_eq!(ledger.len(), 3);
    let ids: Vec<i64> = ledger[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(ids[0] > ids[1], "newest first");
    assert_eq!(ledger[1][10], "L2 ×6");
    let (_, all) = csv_rows(&app, "/export/ledger", "en").await;
    assert_eq!(all.len(), 1 + 2103);

    // XLSX of the same rows.
    let response = app
        .client
        .get(app.url("/export/stock?format=xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], XLSX);
    let bytes = response.bytes().await.unwrap();
    let sheet = read(&bytes, Format::Xlsx).expect("an XLSX");
    assert_eq!(sheet.rows.len(), 2103);
    assert_eq!(sheet.rows[0].values[0], Value::Text("=SUM(A1)".into()));

    // Compressed as a browser asks (the body stream ends once, whatever polls it).
    for format in ["csv", "xlsx"] {
        let response = app
            .client
            .get(app.url(&format!("/export/ledger?format={format}")))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers().contains_key("content-encoding"),
            "{format} compressed"
        );
        let bytes = response.bytes().await.expect("the whole compressed file");
        assert!(bytes.len() > 1000, "{format}: {} bytes", bytes.len());
    }

    // Bad parameters: 422 before any byte of a file; blank filters are no filter.
    for query in [
        "/export/stock?format=pdf",
        "/export/ledger?reason=LOST",
        "/export/stock?limit=x",
    ] {
        let (status, body) = app.get(query).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_error(&body, "VALIDATION_FAILED");
    }
    for query in ["/export/snapshot?q=", "/export/stock?location_code=%20"] {
        let response = app.client.get(app.url(query)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{query}");
    }
}

async fn an_xlsx_stock_export_imports_back_to_the_same_stock(backend: Backend) {
    let source = TestApp::spawn(backend).await;
    crate::inbound::warehouse(&source).await;
    source.item("SKU-2", "Tea 茶").await;
    for (r, body) in [
        (
            "PO-1",
            json!([{"sku": "SKU-1", "location_code": "A-01", "qty": 5, "batch_code": "L1", "expiry_date": "2027-01-31"}, {"sku": "SKU-2", "location_code": "R-1", "qty": 9}]),
        ),
        (
            "PO-2",
            json!([{"sku": "SKU-1", "location_code": "A-01", "qty": 2, "batch_code": "L2", "expiry_date": "2026-12-01"}]),
        ),
    ] {
        let (status, answer) = source
            .post("/inbound/receive", &json!({"ref": r, "lines": body}))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let stock_file = source
        .client
        .get(source.url("/export/stock?format=xlsx"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let items_file = source
        .client
        .get(source.url("/export/snapshot?format=xlsx"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    let target = TestApp::spawn(backend).await;
    target.location("R-1", "receiving").await;
    target.location("A-01", "storage").await;
    let (status, report) = import(&target, "/import/items", XLSX, items_file.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (status, report) = import(&target, "/import/stock", XLSX, stock_file.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let strip = |v: Json| -> Json {
        json!(v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!([
                r["sku"],
                r["name"],
                r["location_code"],
                r["qty"],
                r["batches"]
            ]))
            .collect::<Vec<_>>())
    };
    assert_eq!(
        strip(target.get("/stock/query").await.1),
        strip(source.get("/stock/query").await.1)
    );
    target.assert_consistent().await;
}

async fn imports_are_for_managers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, clerk) =
        depot::auth::service::create_token(app.db(), "clerk", depot::auth::Role::Clerk)
            .await
            .unwrap();
    let clerk = TestApp::client_with(&clerk, reqwest::redirect::Policy::none());
    for path in ["/import/items", "/import/locations", "/import/stock"] {
        let response = clerk
            .post(app.url(path))
            .header("content-type", "text/csv")
            .body("sku,name\nA,B\n")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Exports are for everyone signed in (viewer and up).
    let (_, viewer) =
        depot::auth::service::create_token(app.db(), "viewer", depot::auth::Role::Viewer)
            .await
            .unwrap();
    let viewer = TestApp::client_with(&viewer, reqwest::redirect::Policy::none());
    let response = viewer.get(app.url("/export/stock")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.count("items").await, 0);
}

/// Runs `sql` on the app's database as it is: a rule of the deployment's own, which the
/// import's checks in memory know nothing of.
async fn execute(app: &TestApp, sql: &str) {
    depot::with_pool!(app.db(), |pool, _backend| sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .map(drop)
        .unwrap());
}

/// Everything an import could write: items, locations, the search index, the stock tables.
async fn written(app: &TestApp) -> Json {
    let items: Vec<(String, String, String, String, Option<String>)> =
        depot::with_pool!(app.db(), |pool, _backend| sqlx::query_as(
            "SELECT sku, name, spec, unit, barcode FROM items ORDER BY sku"
        )
        .fetch_all(pool)
        .await
        .unwrap());
    let locations: Vec<(String, String, String)> =
        depot::with_pool!(app.db(), |pool, _backend| sqlx::query_as(
            "SELECT code, name, kind FROM locations ORDER BY code"
        )
        .fetch_all(pool)
        .await
        .unwrap());
    json!({
        "items": items,
        "locations": locations,
        "search_grams": app.count("search_grams").await,
        "stock": app.footprint().await,
    })
}

/// The (row, column) of each problem of a report.
fn problems(report: &Json) -> Vec<(i64, String)> {
    report["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a report: {report}"))
        .iter()
        .map(|e| {
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{report}"
            );
            (
                e["row"].as_i64().unwrap_or(-1),
                e["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// A dry run of `file` and then the real import: the dry run writes nothing and reports
/// `expected` (row, column) problems; the real import gives the same report, as 422 and
/// writing nothing when there are problems. Returns the report.
async fn dry_run_then_import(
    app: &TestApp,
    kind: &str,
    file: &str,
    expected: &[(i64, &str)],
) -> Json {
    let before = written(app).await;
    let (status, dry) = import(
        app,
        &format!("/import/{kind}?dry_run=true"),
        "text/csv",
        csv(file),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["dry_run"], true, "{dry}");
    let expected: Vec<(i64, String)> = expected
        .iter()
        .map(|(row, column)| (*row, (*column).to_owned()))
        .collect();
    assert_eq!(problems(&dry), expected, "the dry run: {dry}");
    assert_eq!(
        written(app).await,
        before,
        "a dry run writes nothing: {dry}"
    );

    let (status, real) = import(app, &format!("/import/{kind}"), "text/csv", csv(file)).await;
    let mut same = real.clone();
    if expected.is_empty() {
        assert_eq!(status, StatusCode::OK, "{real}");
    } else {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{real}");
        assert_error(&real, "VALIDATION_FAILED");
        assert_eq!(written(app).await, before, "nothing imported: {real}");
        same.as_object_mut().unwrap().remove("error");
    }
    same["dry_run"] = json!(true);
    assert_eq!(same, dry, "the real import reports what its dry run did");
    real
}

async fn item_dry_runs_meet_the_databases_own_rules_as_the_import_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("Tea-1", "Tea").await;
    let (status, body) = app
        .post(
            "/items",
            &json!({"sku": "BC-1", "name": "Coded", "barcode": "9501101020917"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Rules the database holds and the import's checks do not: skus unique whatever their
    // case, and a closed list of units (SQLite adds no CHECK to a table: a trigger names it).
    execute(
        &app,
        "CREATE UNIQUE INDEX items_sku_folded ON items (lower(sku))",
    )
    .await;
    match backend {
        Backend::Postgres => {
            execute(
                &app,
                "ALTER TABLE items ADD CONSTRAINT items_unit_known CHECK (unit IN ('pcs', 'box'))",
            )
            .await
        }
        Backend::Sqlite => {
            for event in ["INSERT", "UPDATE OF unit"] {
                execute(
                    &app,
                    &format!(
                        "CREATE TRIGGER \"items_unit_known {event}\" BEFORE {event} ON items \
                         WHEN NEW.unit NOT IN ('pcs', 'box') BEGIN \
                         SELECT RAISE(ABORT, 'CHECK constraint failed: items_unit_known'); END"
                    ),
                )
                .await
            }
        }
    }

    // Two rows one sku but for case; a row that is an existing item but for case; a unit off
    // the list: only the database sees them, on the row and column each is about.
    let report = dry_run_then_import(
        &app,
        "items",
        "sku,name,unit\nab-1,First,pcs\nAB-1,Second,box\ntea-1,Tea again,\nCR-1,Crate,crate\nOK-1,Fine,box\n",
        &[(3, "sku"), (4, "sku"), (5, "unit")],
    )
    .await;
    assert_eq!(report["rows"], 5, "{report}");

    // More rows than one statement writes: a row of the second statement that collides with
    // one of the first is found, on its row.
    let mut big = String::from("sku,name\n");
    for n in 0..1500 {
        big.push_str(&format!("Big-{n},Item {n}\n"));
    }
    big.push_str("big-7,Again\n");
    let report = dry_run_then_import(&app, "items", &big, &[(1502, "sku")]).await;
    assert_eq!(report["created"], 1500, "{report}");

    // A barcode another item has (in another of its forms), and two rows of one barcode in
    // two forms: reported alike by both.
    dry_run_then_import(
        &app,
        "items",
        "sku,name,barcode\nNEW-1,New,09501101020917\nNEW-2,Other,4006381333931\nNEW-3,Third,04006381333931\n",
        &[(2, "barcode"), (4, "barcode")],
    )
    .await;

    // A clean file: the dry run's counts are the import's.
    let report = dry_run_then_import(
        &app,
        "items",
        "sku,name,unit,barcode\nab-1,First,pcs,\nTea-1,Tea renamed,box,\nNEW-2,Other,,4006381333931\n",
        &[],
    )
    .await;
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (json!(2), json!(1)),
        "{report}"
    );
    assert_eq!(app.count("items").await, 4);
    let (_, found) = app.get("/items?q=renamed").await;
    assert_eq!(found["total"], 1, "{found}");
    app.assert_consistent().await;
}

async fn location_dry_runs_meet_the_databases_own_rules_as_the_import_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.location("A-01", "storage").await;
    // Codes unique whatever their case: a rule of the database's, not of the import's.
    execute(
        &app,
        "CREATE UNIQUE INDEX locations_code_folded ON locations (lower(code))",
    )
    .await;

    // Two rows one code but for case; a row that is an existing location but for case (and
    // another kind): only the database sees them.
    dry_run_then_import(
        &app,
        "locations",
        "location_code,name,kind\nb-01,Shelf B1,storage\nB-01,Shelf B1 again,storage\na-01,Dock,shipping\nS-1,Dock,shipping\n",
        &[(3, "location_code"), (4, "location_code")],
    )
    .await;
    // A kind changed: reported alike by both.
    dry_run_then_import(
        &app,
        "locations",
        "code,name,kind\nA-01,Shelf A1,shipping\nS-1,Dock,shipping\n",
        &[(2, "kind")],
    )
    .await;

    // A clean file: the dry run's counts are the import's.
    let report = dry_run_then_import(
        &app,
        "locations",
        "code,name,kind\nA-01,Shelf A1,storage\nb-01,Shelf B1,storage\nS-1,Dock,shipping\n",
        &[],
    )
    .await;
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (json!(2), json!(1)),
        "{report}"
    );
    assert_eq!(app.count("locations").await, 3);
    app.assert_consistent().await;
}
