//! SPEC §8: every page and every form outcome reads in Chinese, the language is chosen by the
//! cookie, then `Accept-Language`, then `DEPOT_LANGUAGE`; the header's switcher is a plain link;
//! JSON errors carry their message in the request's language with the same code.

use depot::db::Backend;
use depot::lang::Locale;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{test_config, TestApp, TestDb};
use crate::on_both_backends;
use crate::origin::form_body;

on_both_backends!(
    every_page_and_form_outcome_reads_in_chinese,
    the_language_is_the_cookie_then_accept_language_then_the_default,
    the_switcher_keeps_the_choice_and_the_page,
    json_errors_speak_the_language_asked_for,
);

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Words that may stay as they are in a Chinese page: the product's name, the switcher's link
/// to English (written in English on purpose), units, the time standard, rule names, the
/// location kinds' codes (named by the refusal of an unknown one), and the refs this test gives
/// its movements (pinyin initials, as Chinese warehouses write them); on the tokens page, the
/// HTTP header a program sends, as it is sent, and "ERP", as Chinese warehouses say it; the
/// barcode standards' names (EAN, UPC, GTIN), written so on Chinese labels.
const ALLOWED: &[&str] = &[
    "Authorization",
    "Bearer",
    "ERP",
    "EAN",
    "UPC",
    "GTIN",
    "Depot",
    "English",
    "pcs",
    "UTC",
    "FEFO",
    "receiving",
    "storage",
    "shipping",
    "quarantine",
    // The warehouse Depot starts with, by its code.
    "MAIN",
    "CG",
    "SJ",
    "FH",
    "TZ",
    // A count's adjustments' ref, as SPEC §9 names it: `COUNT-<id>`.
    "COUNT",
    // The import page (SPEC §11): file formats and encodings by their names, as Chinese
    // software writes them, the date pattern, and an opening stock's ref (`IMPORT-<digest>`).
    "CSV",
    "XLSX",
    "UTF",
    "GB",
    "YYYY",
    "MM",
    "DD",
    "IMPORT",
];

/// GETs `path` as a browser whose language is `accept_language`; status, headers and HTML.
async fn page_in(
    app: &TestApp,
    path: &str,
    accept_language: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    page_at(app, &app.base, path, accept_language).await
}

/// [`page_in`] on the server at `base`.
async fn page_at(
    app: &TestApp,
    base: &str,
    path: &str,
    accept_language: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = app
        .browser()
        .get(format!("{base}{path}"))
        .header("accept", HTML)
        .header("accept-language", accept_language)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// Posts a plain form as a Chinese browser to the server at `base` and reads the page it is
/// sent back to.
async fn outcome_in_chinese(
    app: &TestApp,
    base: &str,
    endpoint: &str,
    fields: &[(&str, &str)],
) -> String {
    let response = app
        .browser()
        .post(format!("{base}{endpoint}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", HTML)
        .header("accept-language", "zh-CN,zh;q=0.9")
        .header("origin", base)
        .body(form_body(fields))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_redirection(),
        "{endpoint}: {}",
        response.status()
    );
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (status, _, html) = page_at(app, base, &location, "zh-CN,zh;q=0.9").await;
    assert_eq!(status, StatusCode::OK, "{location}");
    html
}

/// The words a person reads on the page: text, and the attributes shown or spoken (placeholder,
/// title, aria-label, alt, the description); scripts, styles and comments left out.
fn read_words(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        text.push(' ');
        rest = &rest[start..];
        let skipped = [
            ("<script", "</script>"),
            ("<style", "</style>"),
            ("<!--", "-->"),
        ]
        .into_iter()
        .find(|(open, _)| rest.starts_with(open));
        if let Some((_, close)) = skipped {
            let end = rest.find(close).map_or(rest.len(), |i| i + close.len());
            rest = &rest[end..];
            continue;
        }
        let end = rest.find('>').map_or(rest.len(), |i| i + 1);
        let tag = &rest[..end];
        for attribute in ["placeholder", "title", "aria-label", "alt"] {
            if let Some(value) = attribute_value(tag, attribute) {
                text.push_str(value);
                text.push(' ');
            }
        }
        if tag.contains(r#"name="description""#) {
            text.push_str(attribute_value(tag, "content").unwrap_or_default());
        }
        rest = &rest[end..];
    }
    text.push_str(rest);
    let text = strip_entities(&text);
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 2 && !ALLOWED.contains(w))
        .map(str::to_string)
        .collect()
}

fn attribute_value<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

fn strip_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        match rest.find(';').filter(|&end| end <= 10) {
            Some(end) => rest = &rest[end + 1..],
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Fails with every English word of `html` outside [`ALLOWED`], and checks it says it is Chinese.
#[track_caller]
fn assert_chinese(what: &str, html: &str) {
    assert!(
        html.contains(r#"<html lang="zh-CN""#),
        "{what}: not marked zh-CN"
    );
    let english = read_words(html);
    assert!(
        english.is_empty(),
        "{what}: English words {english:?}\n{html}"
    );
}

async fn post_json(app: &TestApp, path: &str, body: &Value) {
    let (status, answer) = app.post(path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
}

/// A warehouse with something on every page: 55 items (two pages), batches that will be near
/// expiry and expired by [`LATER`], and ledger entries of every movement.
async fn furnished(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    for (code, kind) in [
        ("R-01", "receiving"),
        ("A-01", "storage"),
        ("S-01", "shipping"),
    ] {
        app.location(code, kind).await;
    }
    for n in 0..55 {
        post_json(
            &app,
            "/items",
            &json!({"sku": format!("A{n:04}"), "name": format!("大米{n}"), "spec": "5公斤"}),
        )
        .await;
    }
    post_json(
        &app,
        "/inbound/receive",
        &json!({"ref": "CG-1", "lines": [
            {"sku": "A0000", "location_code": "R-01", "qty": 1200, "batch_code": "L1", "expiry_date": "2026-07-10"},
            {"sku": "A0001", "location_code": "A-01", "qty": 5, "batch_code": "L2", "expiry_date": "2026-06-20"},
            {"sku": "A0002", "location_code": "A-01", "qty": 8}
        ]}),
    )
    .await;
    for n in 3..55 {
        post_json(
            &app,
            "/inbound/receive",
            &json!({"ref": format!("CG-{n}"), "lines": [{"sku": format!("A{n:04}"), "location_code": "A-01", "qty": 1}]}),
        )
        .await;
    }
    post_json(
        &app,
        "/putaway",
        &json!({"ref": "SJ-1", "lines": [{"sku": "A0000", "from_location_code": "R-01", "to_location_code": "A-01", "qty": 200}]}),
    )
    .await;
    post_json(
        &app,
        "/outbound/commit",
        &json!({"ref": "FH-1", "lines": [{"sku": "A0002", "location_code": "A-01", "qty": 3}]}),
    )
    .await;
    app
}

/// When the pages are read: one batch has expired since it was received, one is near expiry.
const LATER: &str = "2026-06-25T12:00:00Z";

async fn every_page_and_form_outcome_reads_in_chinese(backend: Backend) {
    let app = furnished(backend).await;
    let base = &app
        .serve_again(depot::config::Config {
            clock: depot::config::Clock::Fixed(LATER.parse().unwrap()),
            ..test_config()
        })
        .await;
    let zh = "zh-CN,zh;q=0.9,en;q=0.8";
    for path in [
        "/",
        "/?page=2",
        "/?q=%E5%A4%A7%E7%B1%B30",
        "/?q=%E6%97%A0%E6%AD%A4%E5%95%86%E5%93%81",
        "/?page=0",
        "/inbound",
        "/putaway",
        "/outbound",
        "/stock",
        "/adjust",
        "/stock?page=2",
        "/stock?sku=A0000",
        "/stock?sku=Z9999",
        "/ledger",
        "/ledger?ref=SJ-1",
        "/ledger?ref=Z9999",
        "/ledger?page=0",
        "/items",
        "/items?page=2",
        "/items?q=Z9999",
        "/items?page=-1",
        "/locations",
        "/locations?kind=shipping",
        "/locations?q=Z9999",
        "/locations?kind=nonsense",
        "/returns",
        "/returns?status=OPEN",
        "/returns/9999",
        "/transfers",
        "/transfers?status=IN_TRANSIT",
        "/transfers/9999",
        "/outbound?ref=FH-9&result=0123456789abcdef0123456789abcdef",
        "/admin/users",
        "/import",
        "/admin/tokens",
        "/admin/tokens?ref=new&result=0123456789abcdef0123456789abcdef",
        "/no-such-page",
    ] {
        let (status, _, html) = page_at(&app, base, path, zh).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
        assert_chinese(path, &html);
    }

    // Import reports (SPEC §11): a preview, a refusal with its rows, a file that is no sheet.
    for (kind, file, dry_run) in [
        ("items", "货号,品名\nNEW-1,新商品\n", true),
        ("items", "货号,品名\nNEW-1,\nNEW-1,重复\n", false),
        ("stock", "not,a,sheet\u{0}", false),
        ("locations", "库位,库位类型\nK-1,存储\n", false),
    ] {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(file.as_bytes().to_vec()).file_name("f.csv"),
        );
        if dry_run {
            form = form.text("dry_run", "true");
        }
        let response = app
            .browser()
            .post(format!("{base}/import/{kind}"))
            .header("accept", HTML)
            .header("accept-language", zh)
            .header("origin", base)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "{kind}: {}",
            response.status()
        );
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let (status, _, html) = page_at(&app, base, &location, zh).await;
        assert_eq!(status, StatusCode::OK, "{location}");
        assert!(
            html.contains("import-report"),
            "{location}: a report is shown"
        );
        assert_chinese(&location, &html);
    }

    let line = |sku: &'static str, location: &'static str, qty: &'static str| {
        [
            ("lines[0][sku]", sku),
            ("lines[0][location_code]", location),
            ("lines[0][qty]", qty),
        ]
    };
    // Receive: applied, applied before, refused (bad date, unknown item, bad quantity).
    for (what, reference, sku, qty, expiry) in [
        ("receive", "CG-100", "A0005", "10", "2027-01-01"),
        ("receive again", "CG-100", "A0005", "10", "2027-01-01"),
        (
            "receive with a bad date",
            "CG-101",
            "A0005",
            "10",
            "31/12/2027",
        ),
        ("receive an unknown item", "CG-102", "Z9999", "10", ""),
        ("receive no quantity", "CG-103", "A0005", "0", ""),
    ] {
        let mut fields = vec![("reference", reference)];
        fields.extend(line(sku, "R-01", qty));
        fields.push(("lines[0][expiry_date]", expiry));
        let html = outcome_in_chinese(&app, base, "/api/receive_goods", &fields).await;
        assert_chinese(what, &html);
    }
    // A form of blank rows only.
    let mut fields = vec![("reference", "CG-104")];
    fields.extend(line("", "", ""));
    let html = outcome_in_chinese(&app, base, "/api/receive_goods", &fields).await;
    assert_chinese("receive no lines", &html);

    // Put away: applied, short, unknown location.
    for (what, reference, qty, to) in [
        ("put away", "SJ-100", "10", "A-01"),
        ("put away too much", "SJ-101", "99999", "A-01"),
        ("put away to nowhere", "SJ-102", "1", "X-99"),
    ] {
        let html = outcome_in_chinese(
            &app,
            base,
            "/api/put_away",
            &[
                ("reference", reference),
                ("lines[0][sku]", "A0000"),
                ("lines[0][from_location_code]", "R-01"),
                ("lines[0][to_location_code]", to),
                ("lines[0][qty]", qty),
            ],
        )
        .await;
        assert_chinese(what, &html);
    }

    // Ship: applied, applied before, partly short, all-or-nothing refused, expired only.
    let ship = |reference: &'static str, atomic: bool, lines: &[(&'static str, &'static str)]| {
        let mut fields = vec![("reference", reference)];
        if atomic {
            fields.push(("all_or_nothing", "on"));
        }
        let names = [
            ["lines[0][sku]", "lines[0][location_code]", "lines[0][qty]"],
            ["lines[1][sku]", "lines[1][location_code]", "lines[1][qty]"],
        ];
        for ((sku, qty), names) in lines.iter().zip(names) {
            fields.extend([(names[0], *sku), (names[1], "A-01"), (names[2], *qty)]);
        }
        fields
    };
    for (what, fields) in [
        ("ship", ship("FH-100", false, &[("A0000", "5")])),
        ("ship again", ship("FH-100", false, &[("A0000", "5")])),
        (
            "ship partly short",
            ship("FH-101", false, &[("A0000", "1"), ("A0002", "500")]),
        ),
        (
            "ship all or nothing, short",
            ship("FH-102", true, &[("A0000", "1"), ("A0002", "500")]),
        ),
        (
            "ship expired goods",
            ship("FH-103", false, &[("A0001", "1")]),
        ),
        (
            "ship twice in one order",
            ship("FH-104", false, &[("A0000", "1"), ("A0000", "1")]),
        ),
    ] {
        let html = outcome_in_chinese(&app, base, "/api/ship_order", &fields).await;
        assert_chinese(what, &html);
    }

    // Adjust: applied, applied before, below zero, a change that is not a number, Other
    // without its note; then the ledger showing the adjustment.
    let adjust =
        |reference: &'static str, reason: &'static str, delta: &'static str, note: &'static str| {
            vec![
                ("reference", reference),
                ("reason_code", reason),
                ("note", note),
                ("lines[0][sku]", "A0000"),
                ("lines[0][location_code]", "A-01"),
                ("lines[0][batch_code]", ""),
                ("lines[0][delta]", delta),
                ("lines[0][counted_qty]", ""),
            ]
        };
    for (what, fields) in [
        ("adjust", adjust("TZ-1", "DAMAGED", "-2", "压坏")),
        ("adjust again", adjust("TZ-1", "DAMAGED", "-2", "压坏")),
        ("adjust below zero", adjust("TZ-2", "LOST", "-99999", "")),
        ("adjust by a word", adjust("TZ-3", "FOUND", "三", "")),
        (
            "adjust for another reason",
            adjust("TZ-4", "OTHER", "1", ""),
        ),
    ] {
        let html = outcome_in_chinese(&app, base, "/api/adjust_stock", &fields).await;
        assert_chinese(what, &html);
    }
    // Counts: the list, a blind count being counted (a line, a wrong line), then posted.
    let (status, count) = app
        .post(
            "/counts",
            &json!({"location_codes": ["A-01"], "blind": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{count}");
    let id = count["id"].as_i64().unwrap().to_string();
    let recorded = outcome_in_chinese(
        &app,
        base,
        "/api/record_counts",
        &[
            ("reference", id.as_str()),
            ("lines[0][location_code]", "A-01"),
            ("lines[0][sku]", "A0000"),
            ("lines[0][batch_code]", ""),
            ("lines[0][counted_qty]", "7"),
        ],
    )
    .await;
    assert_chinese("record a count", &recorded);
    let refused = outcome_in_chinese(
        &app,
        base,
        "/api/record_counts",
        &[
            ("reference", id.as_str()),
            ("lines[0][location_code]", "R-01"),
            ("lines[0][sku]", "A0000"),
            ("lines[0][batch_code]", ""),
            ("lines[0][counted_qty]", "x"),
        ],
    )
    .await;
    assert_chinese("record a wrong count", &refused);
    for path in ["/counts".to_string(), format!("/counts/{id}")] {
        let (status, _, html) = page_at(&app, base, &path, zh).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_chinese(&path, &html);
    }
    let (status, posted) = app.post(&format!("/counts/{id}/post"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    let (_, _, html) = page_at(&app, base, &format!("/counts/{id}"), zh).await;
    assert_chinese("a posted count", &html);

    // Orders: created from the page's form (and refused), its pages, a wrong scan, shipped.
    let created = outcome_in_chinese(
        &app,
        base,
        "/api/create_order",
        &[
            ("reference", "TZ-88"),
            ("policy", "partial"),
            ("lines", "A0000 2"),
        ],
    )
    .await;
    assert_chinese("create an order", &created);
    let refused = outcome_in_chinese(
        &app,
        base,
        "/api/create_order",
        &[
            ("reference", "TZ-89"),
            ("policy", "partial"),
            ("lines", "A0000 二"),
        ],
    )
    .await;
    assert_chinese("create an order from a bad row", &refused);
    let (status, list) = app.get("/orders/TZ-88/picklist").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let row = &list["rows"][0];
    let (location, sku) = (
        row["location_code"].as_str().unwrap(),
        row["sku"].as_str().unwrap(),
    );
    let wrong = outcome_in_chinese(
        &app,
        base,
        "/api/confirm_pick",
        &[
            ("reference", "TZ-88"),
            ("expect_location", location),
            ("expect_sku", sku),
            ("expect_batch", row["batch_code"].as_str().unwrap()),
            ("location", "Z-99"),
            ("item", ""),
            ("qty", "2"),
        ],
    )
    .await;
    assert_chinese("a wrong scan on the pick screen", &wrong);
    for path in [
        "/orders",
        "/orders/TZ-88",
        "/orders/TZ-88/pick",
        "/orders?status=RESERVED",
    ] {
        let (status, _, html) = page_at(&app, base, path, zh).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_chinese(path, &html);
    }
    let shipped = outcome_in_chinese(
        &app,
        base,
        "/api/order_action",
        &[("reference", "TZ-88"), ("action", "ship_reserved")],
    )
    .await;
    assert_chinese("ship an order", &shipped);
    for path in ["/orders/TZ-88", "/orders/TZ-88/pick", "/orders/TZ-0"] {
        let (status, _, html) = page_at(&app, base, path, zh).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
        assert_chinese(path, &html);
    }

    let (status, _, html) = page_at(&app, base, "/ledger?reason=ADJUST", zh).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("压坏"), "the note is shown");
    assert_chinese("the ledger of adjustments", &html);

    // Items and locations: created, duplicate, invalid.
    for (what, fields) in [
        (
            "create an item",
            vec![
                ("sku", "B0001"),
                ("name", "绿茶"),
                ("spec", ""),
                ("unit", "盒"),
            ],
        ),
        (
            "create a duplicate item",
            vec![
                ("sku", "B0001"),
                ("name", "绿茶"),
                ("spec", ""),
                ("unit", ""),
            ],
        ),
        (
            "create an item without a name",
            vec![("sku", "B0002"), ("name", ""), ("spec", ""), ("unit", "")],
        ),
    ] {
        let html = outcome_in_chinese(&app, base, "/api/create_item", &fields).await;
        assert_chinese(what, &html);
    }
    for (what, fields) in [
        (
            "create a location",
            vec![("code", "B-02"), ("name", "二号架"), ("kind", "storage")],
        ),
        (
            "create a duplicate location",
            vec![("code", "B-02"), ("name", ""), ("kind", "storage")],
        ),
        (
            "create a location of no kind",
            vec![("code", "B-03"), ("name", ""), ("kind", "attic")],
        ),
    ] {
        let html = outcome_in_chinese(&app, base, "/api/create_location", &fields).await;
        assert_chinese(what, &html);
    }

    // Users: created, refused, each change, the last admin kept.
    let user = |name: &'static str, role: &'static str, password: &'static str| {
        vec![("username", name), ("role", role), ("password", password)]
    };
    for (what, fields) in [
        ("create a user", user("张三", "clerk", "一个足够长的密码")),
        (
            "create a user again",
            user("张三", "clerk", "一个足够长的密码"),
        ),
        (
            "create a user with a short password",
            user("李四", "viewer", "短"),
        ),
        (
            "create a user of no role",
            user("李四", "boss", "一个足够长的密码"),
        ),
        ("create an admin", user("王五", "admin", "一个足够长的密码")),
    ] {
        let html = outcome_in_chinese(&app, base, "/api/create_user", &fields).await;
        assert_chinese(what, &html);
    }
    let change = |name: &'static str, change: &'static str, role: &'static str| {
        vec![
            ("username", name),
            ("change", change),
            ("role", role),
            ("password", "另一个足够长的密码"),
        ]
    };
    for (what, fields) in [
        ("change a role", change("张三", "role", "manager")),
        ("reset a password", change("张三", "password", "")),
        ("disable a user", change("张三", "disable", "")),
        ("enable a user", change("张三", "enable", "")),
        ("disable the last admin", change("王五", "disable", "")),
        ("change nobody", change("赵六", "role", "viewer")),
    ] {
        let html = outcome_in_chinese(&app, base, "/api/change_user", &fields).await;
        assert_chinese(what, &html);
    }

    // Tokens: created (its secret is random letters, left out), refused, revoked.
    for (what, fields) in [
        (
            "create a token",
            vec![("name", "仓库一号"), ("role", "clerk")],
        ),
        (
            "create a token again",
            vec![("name", "仓库一号"), ("role", "clerk")],
        ),
        (
            "create a token of no role",
            vec![("name", "仓库二号"), ("role", "x")],
        ),
    ] {
        let html = outcome_in_chinese(&app, base, "/api/create_token", &fields).await;
        let html = match html.split_once(r#"class="secret">"#) {
            Some((before, after)) => format!("{before}{}", &after[after.find('<').unwrap()..]),
            None => html,
        };
        assert_chinese(what, &html);
    }
    for (what, name) in [("revoke a token", "仓库一号"), ("revoke no token", "无")] {
        let html = outcome_in_chinese(&app, base, "/api/revoke_token", &[("name", name)]).await;
        assert_chinese(what, &html);
    }
}

async fn the_language_is_the_cookie_then_accept_language_then_the_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let lang_of = |html: &str| {
        let start = html.find("<html lang=\"").expect("<html lang>") + 12;
        html[start..start + html[start..].find('"').unwrap()].to_string()
    };
    for (accept_language, expected) in [
        ("", "en"),
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("fr-FR, zh;q=0.5, en;q=0.4", "zh-CN"),
        ("fr, en-GB;q=0.8", "en"),
        ("de", "en"),
    ] {
        let (status, headers, html) = page_in(&app, "/stock", accept_language).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            lang_of(&html),
            expected,
            "Accept-Language: {accept_language}"
        );
        let vary = headers
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(
            vary.contains("accept-language") && vary.contains("cookie"),
            "{vary}"
        );
    }
    assert!(page_in(&app, "/stock", "zh").await.2.contains("库存"));
    assert!(page_in(&app, "/stock", "en").await.2.contains("Stock"));

    // The cookie wins over Accept-Language.
    let (_, _, html) = {
        let response = app
            .browser()
            .get(app.url("/stock"))
            .header("accept", HTML)
            .header("accept-language", "zh-CN")
            .header("cookie", "other=1; depot_lang=en")
            .send()
            .await
            .unwrap();
        (response.status(), (), response.text().await.unwrap())
    };
    assert_eq!(lang_of(&html), "en");

    // DEPOT_LANGUAGE decides when neither does.
    let chinese = depot::config::Config {
        language: Locale::zh_CN,
        ..test_config()
    };
    let other = TestApp::spawn_with(TestDb::new(backend).await, chinese).await;
    assert_eq!(lang_of(&page_in(&other, "/stock", "").await.2), "zh-CN");
    assert_eq!(lang_of(&page_in(&other, "/stock", "en-US").await.2), "en");
}

async fn the_switcher_keeps_the_choice_and_the_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // The header links to the other language, on the same page and query.
    let (_, _, html) = page_in(&app, "/stock?sku=A-1&q=%E7%B1%B3", "en").await;
    assert!(
        html.contains(r#"href="/stock?sku=A-1&amp;q=%E7%B1%B3&amp;lang=zh-CN""#),
        "{html}"
    );
    let response = app
        .browser()
        .get(app.url("/stock?sku=A-1&lang=zh-CN&q=%E7%B1%B3"))
        .header("accept", HTML)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/stock?sku=A-1&q=%E7%B1%B3");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("depot_lang=zh-CN;"), "{cookie}");
    assert!(
        cookie.contains("Path=/") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // A language Depot does not have changes nothing but the address.
    let response = app
        .browser()
        .get(app.url("/?lang=xx"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/");
    assert!(response.headers().get("set-cookie").is_none());
}

async fn json_errors_speak_the_language_asked_for(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("A0001", "大米").await;
    app.location("A-01", "storage").await;
    let send = |accept_language: &'static str, body: Value| {
        let request = app
            .client
            .post(app.url("/outbound/commit"))
            .header("accept-language", accept_language)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let bad_qty =
        json!({"ref": "FH-1", "lines": [{"sku": "A0001", "location_code": "A-01", "qty": 0}]});
    let unknown =
        json!({"ref": "FH-2", "lines": [{"sku": "Z9", "location_code": "A-01", "qty": 1}]});
    for body in [bad_qty, unknown] {
        let (status_en, en) = send("en-US,en;q=0.9", body.clone()).await;
        let (status_zh, zh) = send("zh-CN,zh;q=0.9", body.clone()).await;
        assert_eq!(status_en, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status_en, status_zh);
        assert_eq!(en["error"]["code"], zh["error"]["code"], "{en} {zh}");
        assert_eq!(
            en["error"]["details"]["field"],
            zh["error"]["details"]["field"]
        );
        let message = zh["error"]["message"].as_str().unwrap();
        assert!(
            message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{zh}"
        );
        assert!(en["error"]["message"].as_str().unwrap().is_ascii(), "{en}");
    }
    // Errors made outside a handler (no route) speak it too.
    let response = app
        .client
        .get(app.url("/no/such/endpoint"))
        .header("accept-language", "zh")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert!(
        !body["error"]["message"].as_str().unwrap().is_ascii(),
        "{body}"
    );
}
