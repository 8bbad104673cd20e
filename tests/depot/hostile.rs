//! Hostile input (SPEC §4): a table of bad requests over every JSON endpoint and every query
//! parameter. Each must be answered 4xx in the error shape, write nothing and leak nothing of
//! the server's insides; none may be a 5xx.

use depot::auth::password::Password;
use depot::auth::service::{create_token, create_user, revoke_token, UserChange};
use depot::auth::Role;
use depot::db::Backend;
use reqwest::header::{HeaderValue, AUTHORIZATION, COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, TestApp};
use crate::on_both_backends;

on_both_backends!(
    every_hostile_request_is_refused_cleanly,
    every_hostile_no_js_form_and_page_is_answered_without_a_server_error,
    every_hostile_credential_is_refused_cleanly,
);

/// Words that would betray the server's insides in an error message.
const LEAKS: &[&str] = &[
    "sqlx",
    "sqlite",
    "postgres",
    "pg_",
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "constraint",
    "panicked",
    "backtrace",
    ".rs:",
    "/src/",
    "thread '",
];

/// One request of the corpus.
struct Case {
    what: String,
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn post(path: &str, what: impl Into<String>, body: &Value) -> Case {
    Case {
        what: what.into(),
        method: "POST",
        path: path.into(),
        content_type: Some("application/json"),
        body: serde_json::to_vec(body).unwrap(),
    }
}

fn raw(
    path: &str,
    what: impl Into<String>,
    content_type: Option<&'static str>,
    body: &[u8],
) -> Case {
    Case {
        what: what.into(),
        method: "POST",
        path: path.into(),
        content_type,
        body: body.to_vec(),
    }
}

fn get(path: impl Into<String>) -> Case {
    let path = path.into();
    Case {
        what: format!("GET {path}"),
        method: "GET",
        path,
        content_type: None,
        body: Vec::new(),
    }
}

/// `base` with the value at `pointer` (e.g. `/lines/0/qty`) replaced, or removed when `None`.
fn with(base: &Value, pointer: &str, value: Option<Value>) -> Value {
    let mut body = base.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = body
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}"));
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_string(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
        (other, _) => panic!("{pointer} in {other}"),
    }
    body
}

fn long(n: usize) -> Value {
    Value::String("x".repeat(n))
}

/// Values no field of a given sort accepts.
fn wrong_types() -> Vec<Value> {
    vec![
        json!(true),
        json!([]),
        json!({}),
        json!([1, 2]),
        json!({"a": 1}),
    ]
}

fn bad_required_text(max: usize) -> Vec<Value> {
    let mut values = vec![
        Value::Null,
        json!(""),
        json!("   "),
        json!(5),
        json!(1.5),
        long(max + 1),
        long(100_000),
        json!("a\u{0}b"),
        json!("\u{1b}[31mred"),
        json!("a\u{7f}"),
        json!("tab\there"),
    ];
    values.extend(wrong_types());
    values
}

fn bad_optional_text(max: usize) -> Vec<Value> {
    let mut values = vec![
        json!(5),
        long(max + 1),
        json!("a\u{0}b"),
        json!("\u{1b}[2J"),
    ];
    values.extend(wrong_types());
    values
}

fn bad_qty() -> Vec<Value> {
    let mut values = vec![
        Value::Null,
        json!(0),
        json!(-1),
        json!(1.5),
        json!(0.0001),
        json!("1"),
        json!(1_000_000_001_i64),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e300),
    ];
    values.extend(wrong_types());
    values
}

fn bad_id() -> Vec<Value> {
    let mut values = vec![
        json!(0),
        json!(-1),
        json!(999_999_999),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1.5),
        json!("1"),
    ];
    values.extend(wrong_types());
    values
}

/// References to things that do not exist, spelled to tempt an injection.
fn unknown_refs() -> Vec<Value> {
    [
        "'; DROP TABLE items; --",
        "%",
        "_",
        "A-0%",
        "\" OR 1=1 --",
        "NOPE-404",
        "Ｓ",
        "😀",
    ]
    .iter()
    .map(|s| json!(s))
    .collect()
}

fn bad_dates() -> Vec<Value> {
    [
        "2026-13-01",
        "2026-02-30",
        "tomorrow",
        "",
        "26-1-1",
        "2026-01-01T00:00:00Z",
    ]
    .iter()
    .map(|s| json!(s))
    .chain([json!(20260101), json!(true)])
    .collect()
}

/// Mutations of a movement body's common parts.
fn movement_cases(path: &str, base: &Value, cases: &mut Vec<Case>) {
    for v in bad_required_text(64) {
        cases.push(post(
            path,
            format!("ref = {v}"),
            &with(base, "/ref", Some(v)),
        ));
    }
    cases.push(post(path, "no ref", &with(base, "/ref", None)));
    for v in [
        Value::Null,
        json!({}),
        json!("x"),
        json!([]),
        json!([null]),
        json!([5]),
        json!([[]]),
    ] {
        cases.push(post(
            path,
            format!("lines = {v}"),
            &with(base, "/lines", Some(v)),
        ));
    }
    cases.push(post(path, "no lines", &with(base, "/lines", None)));
    let line = base["lines"][0].clone();
    cases.push(post(
        path,
        "1001 lines",
        &with(base, "/lines", Some(json!(vec![line.clone(); 1001]))),
    ));
    cases.push(post(
        path,
        "a duplicate line",
        &with(base, "/lines", Some(json!([line.clone(), line]))),
    ));
    cases.push(post(
        path,
        "an unknown field",
        &with(base, "/bogus", Some(json!(1))),
    ));
    cases.push(post(
        path,
        "an unknown line field",
        &with(base, "/lines/0/bogus", Some(json!(1))),
    ));
    for v in bad_qty() {
        cases.push(post(
            path,
            format!("qty = {v}"),
            &with(base, "/lines/0/qty", Some(v)),
        ));
    }
    cases.push(post(path, "no qty", &with(base, "/lines/0/qty", None)));
    for v in unknown_refs() {
        cases.push(post(
            path,
            format!("sku = {v}"),
            &with(base, "/lines/0/sku", Some(v)),
        ));
    }
    for v in bad_required_text(64) {
        cases.push(post(
            path,
            format!("sku = {v}"),
            &with(base, "/lines/0/sku", Some(v)),
        ));
    }
    cases.push(post(
        path,
        "neither sku nor item_id",
        &with(base, "/lines/0/sku", None),
    ));
    for v in bad_id() {
        let body = with(
            &with(base, "/lines/0/sku", None),
            "/lines/0/item_id",
            Some(v.clone()),
        );
        cases.push(post(path, format!("item_id = {v}"), &body));
    }
    for v in bad_optional_text(64) {
        cases.push(post(
            path,
            format!("batch_code = {v}"),
            &with(base, "/lines/0/batch_code", Some(v)),
        ));
    }
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();

    // The bodies every POST endpoint would accept.
    let bases = [
        (
            "/items",
            json!({"sku": "NEW-1", "name": "New item", "spec": "1kg", "unit": "bag"}),
        ),
        (
            "/locations",
            json!({"code": "NEW-LOC", "name": "New", "kind": "storage"}),
        ),
        (
            "/inbound/receive",
            json!({"ref": "PO-H", "lines": [{"sku": "SKU-1", "location_code": "R-01", "qty": 1,
                   "batch_code": "L9", "expiry_date": "2030-01-01", "production_date": "2029-01-01"}]}),
        ),
        (
            "/putaway",
            json!({"ref": "PA-H", "lines": [{"sku": "SKU-1", "from_location_code": "R-01",
                   "to_location_code": "A-01", "qty": 1, "batch_code": "L1"}]}),
        ),
        (
            "/outbound/commit",
            json!({"ref": "SO-H", "atomic": true, "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 1, "batch_code": "L1"}]}),
        ),
        (
            "/adjust",
            json!({"ref": "ADJ-H", "lines": [{"sku": "SKU-1", "location_code": "A-01", "batch_code": "L1",
                   "delta": -1, "reason_code": "DAMAGED", "note": "crushed"}]}),
        ),
        (
            "/counts",
            json!({"location_codes": ["A-01"], "blind": true}),
        ),
        (
            "/orders/ORD-1/pick",
            json!({"lines": [{"location_code": "A-01", "sku": "SKU-1", "batch_code": "L1", "qty": 9}]}),
        ),
    ];

    for (path, base) in &bases {
        let text = serde_json::to_string(base).unwrap();
        // Truncated anywhere, and other bodies that are not one JSON object.
        for cut in (0..text.len()).step_by(7) {
            cases.push(raw(
                path,
                format!("truncated at {cut}"),
                Some("application/json"),
                &text.as_bytes()[..cut],
            ));
        }
        for body in [
            &b"null"[..],
            b"[]",
            b"\"text\"",
            b"0",
            b"{",
            b"}",
            b"\xff\xfe\x00",
            b"\xef\xbb\xbf{}",
            b"{\"ref\": \"a\", \"ref\": \"b\"}",
            b"{'single': 'quotes'}",
            b"{\"a\": NaN}",
        ] {
            cases.push(raw(
                path,
                format!("body {}", String::from_utf8_lossy(body)),
                Some("application/json"),
                body,
            ));
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        cases.push(raw(
            path,
            "nested 100 000 deep",
            Some("application/json"),
            deep.as_bytes(),
        ));
        let mut big = text.clone().into_bytes();
        big.truncate(big.len() - 1);
        big.extend(format!(", \"pad\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)).into_bytes());
        cases.push(raw(path, "a 2 MiB body", Some("application/json"), &big));
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/xml"),
        ] {
            cases.push(raw(
                path,
                format!("content type {content_type:?}"),
                content_type,
                text.as_bytes(),
            ));
        }
    }

    let item = &bases[0].1;
    for field in ["sku", "name"] {
        let max = if field == "sku" { 64 } else { 128 };
        for v in bad_required_text(max) {
            cases.push(post(
                "/items",
                format!("{field} = {v}"),
                &with(item, &format!("/{field}"), Some(v)),
            ));
        }
    }
    cases.push(post(
        "/items",
        "an existing sku",
        &with(item, "/sku", Some(json!("SKU-1"))),
    ));
    cases.push(post(
        "/items",
        "an existing sku, padded",
        &with(item, "/sku", Some(json!("  SKU-1 "))),
    ));
    for v in bad_optional_text(256) {
        cases.push(post(
            "/items",
            format!("spec = {v}"),
            &with(item, "/spec", Some(v)),
        ));
    }
    for v in bad_optional_text(16).into_iter().chain([json!("")]) {
        cases.push(post(
            "/items",
            format!("unit = {v}"),
            &with(item, "/unit", Some(v)),
        ));
    }
    cases.push(post(
        "/items",
        "an unknown field",
        &with(item, "/price", Some(json!(5))),
    ));

    let location = &bases[1].1;
    for v in bad_required_text(32) {
        cases.push(post(
            "/locations",
            format!("code = {v}"),
            &with(location, "/code", Some(v)),
        ));
    }
    for v in [
        json!("shelf"),
        json!("STORAGE "),
        json!(""),
        Value::Null,
        json!(1),
    ] {
        cases.push(post(
            "/locations",
            format!("kind = {v}"),
            &with(location, "/kind", Some(v)),
        ));
    }
    cases.push(post(
        "/locations",
        "an existing code",
        &with(location, "/code", Some(json!("A-01"))),
    ));
    cases.push(post(
        "/locations",
        "an unknown field",
        &with(location, "/aisle", Some(json!(3))),
    ));

    let receive = &bases[2].1;
    movement_cases("/inbound/receive", receive, &mut cases);
    for v in unknown_refs() {
        cases.push(post(
            "/inbound/receive",
            format!("location_code = {v}"),
            &with(receive, "/lines/0/location_code", Some(v)),
        ));
    }
    for v in bad_id() {
        let body = with(
            &with(receive, "/lines/0/location_code", None),
            "/lines/0/location_id",
            Some(v.clone()),
        );
        cases.push(post(
            "/inbound/receive",
            format!("location_id = {v}"),
            &body,
        ));
    }
    for v in bad_dates() {
        cases.push(post(
            "/inbound/receive",
            format!("expiry_date = {v}"),
            &with(receive, "/lines/0/expiry_date", Some(v.clone())),
        ));
        cases.push(post(
            "/inbound/receive",
            format!("production_date = {v}"),
            &with(receive, "/lines/0/production_date", Some(v)),
        ));
    }
    cases.push(post(
        "/inbound/receive",
        "produced after it expires",
        &with(
            receive,
            "/lines/0/production_date",
            Some(json!("2031-01-01")),
        ),
    ));
    cases.push(post(
        "/inbound/receive",
        "an existing batch with another expiry",
        &with(
            &with(receive, "/lines/0/batch_code", Some(json!("L1"))),
            "/lines/0/expiry_date",
            Some(json!("2031-05-05")),
        ),
    ));

    let putaway = &bases[3].1;
    movement_cases("/putaway", putaway, &mut cases);
    for field in ["from_location_code", "to_location_code"] {
        for v in unknown_refs() {
            cases.push(post(
                "/putaway",
                format!("{field} = {v}"),
                &with(putaway, &format!("/lines/0/{field}"), Some(v)),
            ));
        }
    }
    cases.push(post(
        "/putaway",
        "to where it comes from",
        &with(putaway, "/lines/0/to_location_code", Some(json!("R-01"))),
    ));
    cases.push(post(
        "/putaway",
        "more than there is",
        &with(putaway, "/lines/0/qty", Some(json!(11))),
    ));

    let outbound = &bases[4].1;
    movement_cases("/outbound/commit", outbound, &mut cases);
    for v in [json!("yes"), json!(1), json!([]), json!({})] {
        cases.push(post(
            "/outbound/commit",
            format!("atomic = {v}"),
            &with(outbound, "/atomic", Some(v)),
        ));
    }
    cases.push(post(
        "/outbound/commit",
        "more than there is",
        &with(outbound, "/lines/0/qty", Some(json!(6))),
    ));
    cases.push(post(
        "/outbound/commit",
        "from a dock it is not on",
        &with(outbound, "/lines/0/location_code", Some(json!("R-02"))),
    ));

    // Adjustments: every field wrong in turn (a valid body would adjust, so none is sent).
    let adjust = &bases[5].1;
    for v in [
        Value::Null,
        json!(0),
        json!(1.5),
        json!("1"),
        json!(true),
        json!([]),
        json!(1_000_000_001),
        json!(-1_000_000_001),
        json!(i64::MIN),
    ] {
        cases.push(post(
            "/adjust",
            format!("delta = {v}"),
            &with(adjust, "/lines/0/delta", Some(v)),
        ));
    }
    cases.push(post(
        "/adjust",
        "a delta and a count",
        &with(adjust, "/lines/0/counted_qty", Some(json!(3))),
    ));
    cases.push(post(
        "/adjust",
        "neither a delta nor a count",
        &with(adjust, "/lines/0/delta", None),
    ));
    for v in [json!(-1), json!(1.5), json!("3"), json!(1_000_000_001)] {
        cases.push(post(
            "/adjust",
            format!("counted_qty = {v}"),
            &with(
                &with(adjust, "/lines/0/delta", None),
                "/lines/0/counted_qty",
                Some(v),
            ),
        ));
    }
    for v in [
        Value::Null,
        json!(""),
        json!("damaged "),
        json!("BROKEN"),
        json!(1),
        json!([]),
    ] {
        cases.push(post(
            "/adjust",
            format!("reason_code = {v}"),
            &with(adjust, "/lines/0/reason_code", Some(v)),
        ));
    }
    cases.push(post(
        "/adjust",
        "OTHER without a note",
        &with(
            &with(adjust, "/lines/0/reason_code", Some(json!("OTHER"))),
            "/lines/0/note",
            None,
        ),
    ));
    cases.push(post(
        "/adjust",
        "a note of 501 characters",
        &with(adjust, "/lines/0/note", Some(json!("x".repeat(501)))),
    ));
    cases.push(post(
        "/adjust",
        "a count's own ref",
        &with(adjust, "/ref", Some(json!("COUNT-1"))),
    ));
    cases.push(post(
        "/adjust",
        "more than there is",
        &with(adjust, "/lines/0/delta", Some(json!(-1000))),
    ));
    for v in unknown_refs() {
        cases.push(post(
            "/adjust",
            format!("sku = {v}"),
            &with(adjust, "/lines/0/sku", Some(v.clone())),
        ));
        cases.push(post(
            "/adjust",
            format!("location_code = {v}"),
            &with(adjust, "/lines/0/location_code", Some(v)),
        ));
    }
    for v in bad_required_text(64) {
        cases.push(post(
            "/adjust",
            format!("ref = {v}"),
            &with(adjust, "/ref", Some(v)),
        ));
    }
    let line = adjust["lines"][0].clone();
    cases.push(post(
        "/adjust",
        "1001 lines",
        &with(adjust, "/lines", Some(json!(vec![line.clone(); 1001]))),
    ));
    cases.push(post(
        "/adjust",
        "a duplicate line",
        &with(adjust, "/lines", Some(json!([line.clone(), line]))),
    ));

    // Counts: scopes no count can have (a valid one would start a count).
    let count = &bases[6].1;
    for (what, body) in [
        ("both scopes", with(count, "/skus", Some(json!(["SKU-1"])))),
        ("no scope", with(count, "/location_codes", None)),
        (
            "an empty scope",
            with(count, "/location_codes", Some(json!([]))),
        ),
        (
            "a scope of text",
            with(count, "/location_codes", Some(json!("A-01"))),
        ),
        (
            "an unknown location",
            with(count, "/location_codes", Some(json!(["A-01", "NOPE"]))),
        ),
        (
            "a blank code",
            with(count, "/location_codes", Some(json!([" "]))),
        ),
        ("blind = yes", with(count, "/blind", Some(json!("yes")))),
        (
            "1001 locations",
            with(count, "/location_codes", Some(json!(vec!["A-01"; 1001]))),
        ),
    ] {
        cases.push(post("/counts", what, &body));
    }
    for (what, body) in [
        (
            "a count that does not exist",
            json!({"sku": "SKU-1", "location_code": "A-01", "counted_qty": 1}),
        ),
        (
            "a negative count",
            json!({"sku": "SKU-1", "location_code": "A-01", "counted_qty": -1}),
        ),
        ("no sku", json!({"location_code": "A-01", "counted_qty": 1})),
    ] {
        cases.push(post("/counts/999999/lines", what, &body));
        cases.push(post("/counts/not-a-number/lines", what, &body));
    }
    cases.push(post(
        "/counts/999999/post",
        "a count that does not exist",
        &json!({}),
    ));
    cases.push(post("/counts/0/cancel", "count 0", &json!({})));

    // Orders (SPEC §10): ORD-1 holds 2 of SKU-1 at A-01, nothing picked.
    let order =
        json!({"ref": "ORD-H", "policy": "all_or_nothing", "lines": [{"sku": "SKU-1", "qty": 1}]});
    for (what, body) in [
        ("qty 0", with(&order, "/lines/0/qty", Some(json!(0)))),
        ("qty -1", with(&order, "/lines/0/qty", Some(json!(-1)))),
        ("qty 1.5", with(&order, "/lines/0/qty", Some(json!(1.5)))),
        (
            "qty as text",
            with(&order, "/lines/0/qty", Some(json!("1"))),
        ),
        (
            "qty 10^10",
            with(&order, "/lines/0/qty", Some(json!(10_000_000_000_i64))),
        ),
        (
            "qty i64::MIN",
            with(&order, "/lines/0/qty", Some(json!(i64::MIN))),
        ),
        ("no lines", with(&order, "/lines", None)),
        ("empty lines", with(&order, "/lines", Some(json!([])))),
        (
            "1001 lines",
            with(
                &order,
                "/lines",
                Some(json!(vec![json!({"sku": "SKU-1", "qty": 1}); 1001])),
            ),
        ),
        (
            "the same item twice",
            with(
                &order,
                "/lines",
                Some(json!([{"sku": "SKU-1", "qty": 1}, {"item_id": 1, "qty": 1}])),
            ),
        ),
        (
            "an unknown sku",
            with(&order, "/lines/0/sku", Some(json!("NOPE"))),
        ),
        (
            "an unknown item id",
            with(
                &order,
                "/lines/0",
                Some(json!({"item_id": 999_999, "qty": 1})),
            ),
        ),
        ("no item", with(&order, "/lines/0", Some(json!({"qty": 1})))),
        (
            "an unknown field",
            with(&order, "/lines/0/location_code", Some(json!("A-01"))),
        ),
        (
            "policy maybe",
            with(&order, "/policy", Some(json!("maybe"))),
        ),
        ("policy 1", with(&order, "/policy", Some(json!(1)))),
        (
            "a ref of 65",
            with(&order, "/ref", Some(json!("x".repeat(65)))),
        ),
        (
            "a ref with a control",
            with(&order, "/ref", Some(json!("SO\u{7}1"))),
        ),
        ("no ref", with(&order, "/ref", None)),
        (
            "more than there is",
            with(&order, "/lines/0/qty", Some(json!(1_000_000))),
        ),
        (
            "ORD-1 again with other lines",
            with(&order, "/ref", Some(json!("ORD-1"))),
        ),
    ] {
        cases.push(post("/orders", what, &body));
    }
    let pick = &bases.last().unwrap().1;
    for (what, body) in [
        ("more than reserved", pick.clone()),
        (
            "a negative qty",
            with(pick, "/lines/0/qty", Some(json!(-1))),
        ),
        (
            "where nothing is reserved",
            with(pick, "/lines/0/location_code", Some(json!("R-01"))),
        ),
        (
            "an unknown location",
            with(pick, "/lines/0/location_code", Some(json!("NOPE"))),
        ),
        (
            "a batch not reserved",
            with(pick, "/lines/0/batch_code", Some(json!("L2"))),
        ),
        ("no location", with(pick, "/lines/0/location_code", None)),
        ("no lines", json!({"lines": []})),
    ] {
        cases.push(post("/orders/ORD-1/pick", what, &body));
        cases.push(post("/orders/NOPE/pick", what, &body));
    }
    for (what, body) in [
        ("nothing picked", json!({})),
        ("reserved = yes", json!({"reserved": "yes"})),
        ("an unknown field", json!({"all": true})),
    ] {
        cases.push(post("/orders/ORD-1/ship", what, &body));
        cases.push(post("/orders/NOPE/ship", what, &body));
    }
    for action in ["reserve", "cancel", "ship"] {
        cases.push(post(
            &format!("/orders/NOPE/{action}"),
            "an unknown order",
            &json!({}),
        ));
        cases.push(post(
            &format!("/orders/%00/{action}"),
            "a NUL ref",
            &json!({}),
        ));
    }

    // Every query parameter, with values no endpoint accepts.
    let paging_bad = [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=",
        "limit=99999999999999999999",
        "offset=-1",
        "offset=abc",
        "offset=1.5",
        "offset=99999999999999999999",
        "limit=1&limit=2",
    ];
    for path in [
        "/items",
        "/locations",
        "/ledger",
        "/snapshot/inventory",
        "/orders",
    ] {
        for query in paging_bad {
            cases.push(get(format!("{path}?{query}")));
        }
    }
    let too_long = "x".repeat(65);
    for path in [
        "/items",
        "/locations",
        "/snapshot/inventory",
        "/stock/query",
        "/orders",
    ] {
        cases.push(get(format!("{path}?q={too_long}")));
        cases.push(get(format!("{path}?q=%00")));
        cases.push(get(format!("{path}?q=%1b%5b2J")));
    }
    // (An empty parameter means "any", as a form's blank choice sends it; unknown parameters
    // are ignored, as links carrying extra ones are common.)
    for query in ["kind=shelf", "kind=STORAGE%00", "kind=%ff"] {
        cases.push(get(format!("/locations?{query}")));
    }
    for query in ["status=LOST", "status=shipped", "status=SHIPPED%00"] {
        cases.push(get(format!("/orders?{query}")));
    }
    for path in ["/orders/NOPE", "/orders/NOPE/picklist"] {
        cases.push(get(path.to_string()));
    }
    for query in [
        "reason=STEAL",
        "ref=%00",
        &format!("ref={too_long}"),
        "sku=%00",
        &format!("location_code={too_long}"),
        "sku=%C3%28",
    ] {
        cases.push(get(format!("/ledger?{query}")));
    }
    for query in [
        "sku=%00",
        &format!("location_code={}", "x".repeat(33)),
        "sku=%ff",
    ] {
        cases.push(get(format!("/stock/query?{query}")));
    }
    for id in ["0", "-1", "abc", "1.5", "99999999999999999999", "%00"] {
        cases.push(get(format!("/items/{id}")));
    }
    // Methods a path does not take: 405 (or 404) in the error shape, never an empty answer.
    for (method, path) in [
        ("PUT", "/healthz"),
        ("DELETE", "/healthz"),
        ("PUT", "/login"),
        ("DELETE", "/logout"),
        ("PATCH", "/setup"),
        ("DELETE", "/items"),
        ("PUT", "/scan"),
        ("POST", "/snapshot/inventory"),
        ("DELETE", "/outbound/commit"),
    ] {
        cases.push(Case {
            what: format!("{method} {path}"),
            method,
            path: path.into(),
            content_type: None,
            body: Vec::new(),
        });
    }
    bad_sheets(&mut cases);
    cases
}

/// Files an import must refuse with a report (SPEC §11), never a 500 or a partial import.
fn bad_sheets(cases: &mut Vec<Case>) {
    use std::io::Write;
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let zip_of = |parts: &[(&str, Vec<u8>)]| {
        let mut bytes = Vec::new();
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in parts {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
        bytes
    };
    let formula = {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "sku").unwrap();
        sheet.write_string(0, 1, "name").unwrap();
        sheet.write_string(1, 0, "F-1").unwrap();
        sheet.write_formula(1, 1, "=1+1").unwrap();
        workbook.save_to_buffer().unwrap()
    };
    let sparse = {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "sku").unwrap();
        sheet.write_string(1_048_575, 16_383, "far").unwrap();
        workbook.save_to_buffer().unwrap()
    };
    let mut rows_100_001 = String::from("sku,name\n");
    for n in 0..100_001 {
        rows_100_001.push_str(&format!("H-{n},x\n"));
    }
    let mut wide = (0..2000)
        .map(|n| format!("c{n}"))
        .collect::<Vec<_>>()
        .join(",");
    wide.push('\n');
    let files: Vec<(&str, &str, Option<&'static str>, Vec<u8>)> =
        vec![
        (
            "/import/items",
            "neither UTF-8 nor GB18030",
            Some("text/csv"),
            b"sku,name\n\xff\xfe\xff,x\n".to_vec(),
        ),
        (
            "/import/items",
            "a PNG",
            Some("image/png"),
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
        ),
        (
            "/import/items",
            "NUL bytes",
            Some("text/csv"),
            b"sku,name\nA\0,B\n".to_vec(),
        ),
        (
            "/import/items",
            "a ZIP of other files",
            Some(XLSX),
            zip_of(&[("a.txt", b"hello".to_vec())]),
        ),
        (
            "/import/items",
            "a truncated XLSX",
            Some(XLSX),
            formula[..200].to_vec(),
        ),
        (
            "/import/items",
            "an XLSX bomb",
            Some(XLSX),
            zip_of(&[
                ("xl/workbook.xml", b"<workbook/>".to_vec()),
                ("xl/worksheets/sheet1.xml", vec![b' '; 30 * 1024 * 1024]),
            ]),
        ),
        (
            "/import/items",
            "a workbook without sheets",
            Some(XLSX),
            zip_of(&[("xl/workbook.xml", b"<workbook/>".to_vec())]),
        ),
        ("/import/items", "a formula", Some(XLSX), formula.clone()),
        ("/import/items", "two cells spanning the whole grid", Some(XLSX), sparse),
        (
            "/import/items",
            "missing name column",
            Some("text/csv"),
            b"sku\nA-1\n".to_vec(),
        ),
        (
            "/import/items",
            "duplicate skus",
            Some("text/csv"),
            b"sku,name\nD-1,a\nD-1,b\n".to_vec(),
        ),
        (
            "/import/items",
            "a sku too long",
            Some("text/csv"),
            format!("sku,name\n{},x\n", "S".repeat(65)).into_bytes(),
        ),
        (
            "/import/items",
            "control characters",
            Some("text/csv"),
            b"sku,name\nC-1,bell\x07\n".to_vec(),
        ),
        (
            "/import/items",
            "a bad barcode",
            Some("text/csv"),
            b"sku,name,barcode\nB-1,x,12345\n".to_vec(),
        ),
        (
            "/import/items",
            "100 001 rows",
            Some("text/csv"),
            rows_100_001.into_bytes(),
        ),
        (
            "/import/items",
            "a header only",
            Some("text/csv"),
            b"sku,name\n".to_vec(),
        ),
        (
            "/import/items",
            "a BOM only",
            Some("text/csv"),
            b"\xef\xbb\xbf".to_vec(),
        ),
        (
            "/import/items",
            "blank lines only",
            Some("text/csv"),
            b"\n\n,,\n".to_vec(),
        ),
        (
            "/import/items",
            "2 000 columns",
            Some("text/csv"),
            wide.into_bytes(),
        ),
        (
            "/import/items",
            "an unclosed quote",
            Some("text/csv"),
            b"sku,name\n\"Q-1,x\n".to_vec(),
        ),
        (
            "/import/items",
            "the same column twice",
            Some("text/csv"),
            b"sku,name,\xe5\x93\x81\xe5\x90\x8d\nA,b,c\n".to_vec(),
        ),
        (
            "/import/items",
            "an empty body",
            Some("text/csv"),
            Vec::new(),
        ),
        (
            "/import/items",
            "JSON",
            Some("application/json"),
            br#"{"sku": "A", "name": "B"}"#.to_vec(),
        ),
        (
            "/import/items",
            "multipart without a file",
            Some("multipart/form-data; boundary=X"),
            b"--X\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nA\r\n--X--\r\n".to_vec(),
        ),
        (
            "/import/items",
            "multipart cut short",
            Some("multipart/form-data; boundary=X"),
            b"--X\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nsku,na".to_vec(),
        ),
        (
            "/import/items",
            "multipart without a boundary",
            Some("multipart/form-data"),
            b"sku,name\nA,B\n".to_vec(),
        ),
        (
            "/import/locations",
            "an unknown kind",
            Some("text/csv"),
            b"location_code,kind\nL-1,basement\n".to_vec(),
        ),
        (
            "/import/locations",
            "missing kind column",
            Some("text/csv"),
            b"location_code\nL-1\n".to_vec(),
        ),
        (
            "/import/locations",
            "an existing location with another kind",
            Some("text/csv"),
            b"location_code,kind\nA-01,shipping\n".to_vec(),
        ),
        (
            "/import/stock",
            "quantities not whole numbers",
            Some("text/csv"),
            b"sku,location_code,qty\nSKU-1,A-01,1.5\nSKU-1,R-01,abc\nSKU-1,R-02,0\n".to_vec(),
        ),
        (
            "/import/stock",
            "dates in other formats",
            Some("text/csv"),
            b"sku,location_code,qty,expiry_date\nSKU-1,A-01,1,31/12/2030\nSKU-1,R-01,1,20301231\n"
                .to_vec(),
        ),
        (
            "/import/stock",
            "unknown sku and location",
            Some("text/csv"),
            b"sku,location_code,qty\nNOPE,A-01,1\nSKU-1,NOWHERE,1\n".to_vec(),
        ),
        (
            "/import/stock",
            "an expired lot",
            Some("text/csv"),
            b"sku,location_code,qty,batch_code,expiry_date\nSKU-1,A-01,1,OLD,2001-01-01\n".to_vec(),
        ),
        (
            "/import/stock",
            "the same line twice",
            Some("text/csv"),
            b"sku,location_code,qty\nSKU-1,A-01,1\nSKU-1,A-01,2\n".to_vec(),
        ),
        (
            "/import/stock?ref=PO-1",
            "a ref whose line said another qty",
            Some("text/csv"),
            b"sku,location_code,qty,batch_code,expiry_date\nSKU-1,R-01,3,L1,2030-01-01\n".to_vec(),
        ),
        (
            "/import/stock?ref=%00",
            "a bad ref",
            Some("text/csv"),
            b"sku,location_code,qty\nSKU-1,A-01,3\n".to_vec(),
        ),
        (
            "/import/items?dry_run=perhaps",
            "a bad dry_run",
            Some("text/csv"),
            b"sku,name\nA,B\n".to_vec(),
        ),
    ];
    for (path, what, content_type, body) in files {
        cases.push(raw(path, format!("sheet: {what}"), content_type, &body));
    }
    for path in [
        "/export/stock?format=ods",
        "/export/ledger?reason=STOLEN",
        "/export/ledger?limit=-1",
        "/export/snapshot?q=%FF",
        "/export/stock?sku=%00",
        "/events?after=-5",
        "/events?wait=100000",
        "/events?limit=0",
    ] {
        cases.push(get(path));
    }
}

async fn every_hostile_request_is_refused_cleanly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-1", "Rice 大米").await;
    app.location("R-01", "receiving").await;
    app.location("R-02", "receiving").await;
    app.location("A-01", "storage").await;
    let setup = [
        (
            "/inbound/receive",
            json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "R-01", "qty": 10, "batch_code": "L1", "expiry_date": "2030-01-01"}]}),
        ),
        (
            "/putaway",
            json!({"ref": "PA-1", "lines": [{"sku": "SKU-1", "from_location_code": "R-01", "to_location_code": "A-01", "qty": 5}]}),
        ),
    ];
    for (path, body) in setup {
        let (status, body) = app.post(path, &body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = app
        .post(
            "/orders",
            &json!({"ref": "ORD-1", "lines": [{"sku": "SKU-1", "qty": 2}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let footprint = || async {
        let mut counts = app.footprint().await;
        counts.push(app.count("items").await);
        counts.push(app.count("locations").await);
        counts.push(app.count("counts").await);
        counts.push(app.count("count_lines").await);
        counts.push(app.count("orders").await);
        counts.push(app.count("allocations").await);
        counts.push(app.count("movement_anchors").await);
        counts
    };
    let before = footprint().await;

    let cases = corpus();
    let mut failures = Vec::new();
    for case in &cases {
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
        let mut request = app
            .client
            .request(method, app.url(&case.path))
            .body(case.body.clone());
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        let verdict = match serde_json::from_str::<Value>(&text) {
            _ if !status.is_client_error() => Some(format!("answered {status}")),
            Err(_) => Some(format!("{status} is not JSON: {text:.200}")),
            Ok(body) => {
                let code = body["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let message = body["error"]["message"].as_str().unwrap_or_default();
                if code.is_empty() || message.is_empty() || message.trim_end().ends_with("takes") {
                    Some(format!("{status} not in the error shape: {text:.200}"))
                } else if let Some(leak) = LEAKS.iter().find(|w| text.contains(*w)) {
                    Some(format!("{status} leaks {leak:?}: {text:.300}"))
                } else {
                    assert_error(&body, &code);
                    None
                }
            }
        };
        if let Some(verdict) = verdict {
            failures.push(format!(
                "{} {} ({}): {verdict}",
                case.method, case.path, case.what
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile requests were not refused cleanly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(
        footprint().await,
        before,
        "refused requests wrote something"
    );
    app.assert_consistent().await;
    eprintln!(
        "hostile corpus ({backend:?}): {} requests refused cleanly",
        cases.len()
    );
}

/// Form bodies no browser's form would send, to every page's server function: impossible line
/// indices, wrong shapes, bad values. Each one names no existing item or has a bad value, so none
/// may write.
fn no_js_corpus() -> Vec<(&'static str, String)> {
    let movement = |line: &str| {
        [
            format!("reference=R-H&{line}"),
            format!("reference=R-H&lines[99999999999]{line}"),
            format!("reference=R-H&lines[18446744073709551616]{line}"),
            format!("reference=R-H&lines[-1]{line}"),
            format!("reference=R-H&lines[0x1]{line}"),
            format!("reference=R-H&lines[]{line}"),
        ]
    };
    let mut cases = Vec::new();
    for path in ["/api/ship_order", "/api/receive_goods", "/api/put_away"] {
        for body in movement("[sku]=NOPE&lines[0][qty]=1") {
            cases.push((path, body));
        }
        for qty in [
            "0",
            "-1",
            "1.5",
            "1e3",
            "99999999999999999999",
            "%00",
            "%ff",
            "１",
        ] {
            cases.push((
                path,
                format!("reference=R-H&lines[0][sku]=SKU-1&lines[0][location_code]=A-01&lines[0][from_location_code]=R-01&lines[0][to_location_code]=A-01&lines[0][qty]={qty}"),
            ));
        }
        for body in [
            String::new(),
            "reference=R-H".to_string(),
            "reference=R-H&lines=x".to_string(),
            "reference=R-H&lines[0]=x".to_string(),
            "reference=R-H&lines[0][sku][x]=NOPE".to_string(),
            "reference=R-H&lines[0][a][b][c][d][e][f][g]=1".to_string(),
            "reference[]=a&reference[]=b&lines[0][sku]=NOPE".to_string(),
            "reference=a&reference=b&lines[0][sku]=NOPE&lines[0][qty]=1".to_string(),
            "reference=%00&lines[0][sku]=SKU-1&lines[0][qty]=1".to_string(),
            format!("reference={}&lines[0][sku]=NOPE&lines[0][qty]=1", "x".repeat(10_000)),
            "%ff%fe=%ff&reference=R-H".to_string(),
            "reference=R-H&lines[0][sku]=NOPE&lines[0][qty]=1&lines[1000000][sku]=NOPE&lines[1000000][qty]=1".to_string(),
            (0..1001)
                .map(|i| format!("lines[{i}][sku]=NOPE&lines[{i}][qty]=1"))
                .collect::<Vec<_>>()
                .join("&")
                + "&reference=R-H",
        ] {
            cases.push((path, body));
        }
    }
    cases.push((
        "/api/ship_order",
        "reference=R-H&all_or_nothing[]=on&lines[0][sku]=NOPE&lines[0][qty]=1".to_string(),
    ));
    for date in ["2026-02-30", "%00", "99999-01-01", "-1-01-01", "2026-1-1x"] {
        cases.push((
            "/api/receive_goods",
            format!("reference=R-H&lines[0][sku]=SKU-1&lines[0][location_code]=R-01&lines[0][qty]=1&lines[0][expiry_date]={date}"),
        ));
    }
    for body in [
        "",
        "sku=%00&name=x&spec=&unit=",
        "sku[]=a&name=x&spec=&unit=",
        "sku=SKU-1&name=dup&spec=&unit=",
    ] {
        cases.push(("/api/create_item", body.to_string()));
    }
    for body in [
        "",
        "code=X&name=&kind=shelf",
        "code=A-01&name=&kind=storage",
        "code[0]=X&name=&kind=storage",
    ] {
        cases.push(("/api/create_location", body.to_string()));
    }
    // The administration's forms (the test's client is an admin); none names a valid change.
    let long = "x".repeat(10_000);
    for body in [
        String::new(),
        "username=a%00b&role=clerk&password=long+enough".to_string(),
        format!("username={long}&role=clerk&password=long+enough"),
        "username=ok&role[]=clerk&password=long+enough".to_string(),
        "username=ok&role=clerk&password=%00".to_string(),
        format!("username=ok&role=clerk&password={long}"),
    ] {
        cases.push(("/api/create_user", body));
    }
    for body in [
        "username=a%00b&change=disable&role=&password=".to_string(),
        "username=nobody&change=enable&role=&password=".to_string(),
        "username=nobody&change=%ff&role=&password=".to_string(),
        format!("username={long}&change=role&role=admin&password="),
        "username=nobody&change=password&role=&password=%00%00%00%00%00%00%00%00".to_string(),
    ] {
        cases.push(("/api/change_user", body));
    }
    for body in [
        "name=a%00b&role=clerk".to_string(),
        format!("name={long}&role=clerk"),
        "name=ok&role=root".to_string(),
    ] {
        cases.push(("/api/create_token", body));
    }
    for body in ["name=a%00b", "name=", "name[]=x"] {
        cases.push(("/api/revoke_token", body.to_string()));
    }
    cases
}

/// Page URLs a stranger could craft: old-style results in the URL (a `ref_line` of 0 once made
/// the page index line -1), made-up tokens, broken encodings.
fn no_js_urls() -> Vec<String> {
    let outcome = |ref_line: i64| {
        let json = json!({
            "form": {"reference": "SO-H", "all_or_nothing": false, "lines": []},
            "result": {"Ok": {"ref": "SO-H", "status": "OK", "lines": [
                {"ref_line": ref_line, "from_after_qty": 0, "to_after_qty": 0, "item_id": 1,
                 "location_id": 1, "qty": 1, "status": "OK", "after_qty": 0, "batches": []}]}}
        });
        form_urlencoded::byte_serialize(json.to_string().as_bytes()).collect::<String>()
    };
    let mut urls = Vec::new();
    for page in [
        "/outbound",
        "/inbound",
        "/putaway",
        "/items",
        "/locations",
        "/admin/users",
        "/admin/tokens",
    ] {
        for ref_line in [0, -1, 4_294_967_295, i64::MAX] {
            urls.push(format!("{page}?outcome={}", outcome(ref_line)));
        }
        for query in [
            "ref=%00&result=%ff",
            "ref=SO-H&result=00000000000000000000000000000000",
            "result=%C3%28",
            "__path=/api/ship_order&__err=%%%",
            "__path=/api/ship_order&__err=e30",
        ] {
            urls.push(format!("{page}?{query}"));
        }
    }
    for query in [
        "kind=items&result=00000000000000000000000000000000",
        "kind=../../etc&result=%ff",
        "kind=%00&result=",
        "kind=stock",
        "result=0123456789abcdef0123456789abcdef",
    ] {
        urls.push(format!("/import?{query}"));
    }
    urls
}

async fn every_hostile_no_js_form_and_page_is_answered_without_a_server_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-1", "Rice 大米").await;
    app.location("R-01", "receiving").await;
    app.location("A-01", "storage").await;
    let (status, body) = app
        .post(
            "/inbound/receive",
            &json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 10}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let footprint = || async {
        let mut counts = app.footprint().await;
        for table in ["items", "locations", "users", "api_tokens"] {
            counts.push(app.count(table).await);
        }
        counts
    };
    let before = footprint().await;
    let client = app.browser();

    let mut failures = Vec::new();
    let mut count = 0;
    for (path, body) in no_js_corpus() {
        // As a browser's plain form, and as a script's call.
        for accept in ["text/html,application/xhtml+xml", "*/*"] {
            count += 1;
            let response = client
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", accept)
                .body(body.clone())
                .send()
                .await
                .expect("the server answers");
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap_or("?").to_string());
            let text = response.text().await.unwrap();
            if status.is_server_error() || LEAKS.iter().any(|w| text.contains(w)) {
                failures.push(format!(
                    "POST {path} {body:.120} ({accept}): {status} {text:.200}"
                ));
            }
            if let Some(location) = location.as_ref().filter(|l| l.len() > 300) {
                failures.push(format!(
                    "POST {path} {body:.120}: a long redirect {location:.200}"
                ));
            }
            // A refusal that is not a redirect is in SPEC §4's one shape.
            if status.is_client_error() && location.is_none() {
                let shaped = serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| {
                    v["error"]["code"].is_string() && v["error"]["message"].is_string()
                });
                if !shaped {
                    failures.push(format!(
                        "POST {path} {body:.120} ({accept}): {status} not in the error shape: {text:.200}"
                    ));
                }
            }
        }
    }
    for url in no_js_urls() {
        count += 1;
        let response = client
            .get(app.url(&url))
            .header("accept", "text/html")
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        let html = response.text().await.unwrap();
        if status != StatusCode::OK || html.contains("panicked") || html.contains("role=\"alert\"")
        {
            failures.push(format!("GET {url:.200}: {status}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} hostile no-JS requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(footprint().await, before, "a hostile form wrote something");
    app.assert_consistent().await;
}

/// One request of the credentials corpus: what it sends and the status it must get.
struct Credential {
    what: String,
    method: &'static str,
    path: &'static str,
    authorization: Option<HeaderValue>,
    cookie: Option<HeaderValue>,
    json: Option<Value>,
    expected: StatusCode,
}

/// Credentials no honest client sends, and honest ones that are not enough (SPEC §7): each is
/// refused 401 or 403 in the error shape (sign-ins 400/401/413/422/429), writes nothing and
/// never answers 5xx.
async fn every_hostile_credential_is_refused_cleanly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.item("SKU-1", "Rice 大米").await;
    app.location("A-01", "storage").await;
    let password = Password::parse("password", "a good password").unwrap();
    create_user(app.db(), "ana", Role::Clerk, &password)
        .await
        .unwrap();
    create_user(app.db(), "off", Role::Manager, &password)
        .await
        .unwrap();
    depot::auth::service::change_user(app.db(), "off", UserChange::Disabled(true))
        .await
        .unwrap();
    let (_, viewer) = create_token(app.db(), "viewer", Role::Viewer)
        .await
        .unwrap();
    let (_, revoked) = create_token(app.db(), "gone", Role::Admin).await.unwrap();
    revoke_token(app.db(), "gone", chrono::Utc::now())
        .await
        .unwrap();
    // A session that signed out.
    let (_, cookie) = crate::common::sign_in(&app, "ana", "a good password").await;
    let old_session = crate::common::cookie_pair(&cookie.expect("signed in"));
    let signed_out = reqwest::Client::new()
        .post(app.url("/logout"))
        .header(COOKIE, &old_session)
        .header("origin", app.base.as_str())
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(signed_out.status().is_success(), "{}", signed_out.status());

    let ship =
        json!({"ref": "SO-H", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 1}]});
    let bearer = |what: &str, value: &[u8], path: &'static str, expected: StatusCode| Credential {
        what: what.to_string(),
        method: if path == "/items" { "GET" } else { "POST" },
        path,
        authorization: Some(HeaderValue::from_bytes(value).unwrap()),
        cookie: None,
        json: (path != "/items").then(|| ship.clone()),
        expected,
    };
    let unauthorized = StatusCode::UNAUTHORIZED;
    let mut cases = vec![
        Credential {
            what: "no credentials".into(),
            method: "POST",
            path: "/outbound/commit",
            authorization: None,
            cookie: None,
            json: Some(ship.clone()),
            expected: unauthorized,
        },
        bearer("an empty bearer", b"Bearer", "/items", unauthorized),
        bearer("a blank bearer", b"Bearer    ", "/items", unauthorized),
        bearer("a bare prefix", b"Bearer depot_", "/items", unauthorized),
        bearer(
            "a made-up token",
            format!("Bearer depot_{}", "A".repeat(43)).as_bytes(),
            "/items",
            unauthorized,
        ),
        bearer(
            "a huge token",
            format!("Bearer depot_{}", "x".repeat(16 * 1024)).as_bytes(),
            "/items",
            unauthorized,
        ),
        bearer(
            "bytes outside ASCII",
            b"Bearer depot_\xff\xfe",
            "/items",
            unauthorized,
        ),
        bearer(
            "SQL in a token",
            b"Bearer ' OR '1'='1",
            "/items",
            unauthorized,
        ),
        bearer(
            "basic auth",
            b"Basic YW5hOmEgZ29vZCBwYXNzd29yZA==",
            "/items",
            unauthorized,
        ),
        bearer(
            "a token without its scheme",
            viewer.as_bytes(),
            "/items",
            unauthorized,
        ),
        bearer(
            "a revoked token",
            format!("Bearer {revoked}").as_bytes(),
            "/items",
            unauthorized,
        ),
        bearer(
            "a revoked token writing",
            format!("Bearer {revoked}").as_bytes(),
            "/outbound/commit",
            unauthorized,
        ),
        bearer(
            "a viewer shipping",
            format!("Bearer {viewer}").as_bytes(),
            "/outbound/commit",
            StatusCode::FORBIDDEN,
        ),
        bearer(
            "a viewer creating items",
            format!("Bearer {viewer}").as_bytes(),
            "/api/create_item",
            StatusCode::FORBIDDEN,
        ),
        bearer(
            "a viewer making tokens",
            format!("Bearer {viewer}").as_bytes(),
            "/api/create_token",
            StatusCode::FORBIDDEN,
        ),
    ];
    for (what, cookie) in [
        ("a forged session", "depot_session=forged".to_string()),
        ("an empty session", "depot_session=".to_string()),
        (
            "a huge session",
            format!("depot_session={}", "A".repeat(4000)),
        ),
        ("a session of NULs", "depot_session=%00%00%00".to_string()),
        ("a signed-out session", old_session.clone()),
        (
            "a session cookie twice",
            format!("{old_session}; depot_session=x"),
        ),
    ] {
        cases.push(Credential {
            what: what.into(),
            method: "POST",
            path: "/outbound/commit",
            authorization: None,
            cookie: Some(HeaderValue::from_str(&cookie).unwrap()),
            json: Some(ship.clone()),
            expected: unauthorized,
        });
    }
    // Sign-ins no form sends.
    let login = |what: &str, body: Value, expected: StatusCode| Credential {
        what: what.into(),
        method: "POST",
        path: "/login",
        authorization: None,
        cookie: None,
        json: Some(body),
        expected,
    };
    let (invalid, malformed) = (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::BAD_REQUEST);
    cases.extend([
        login(
            "a sign-in without a password",
            json!({"username": "ana"}),
            invalid,
        ),
        login(
            "a sign-in with a number",
            json!({"username": "ana", "password": 12345678}),
            invalid,
        ),
        login(
            "a sign-in as an array",
            json!(["ana", "a good password"]),
            malformed,
        ),
        login("a sign-in as a string", json!("ana"), malformed),
        login(
            "a disabled user",
            json!({"username": "off", "password": "a good password"}),
            unauthorized,
        ),
        login(
            "a huge username",
            json!({"username": "a".repeat(100_000), "password": "a good password"}),
            unauthorized,
        ),
        login(
            "a huge password",
            json!({"username": "ana", "password": "p".repeat(100_000)}),
            unauthorized,
        ),
        login(
            "a NUL in the name",
            json!({"username": "ana\u{0}", "password": "a good password"}),
            unauthorized,
        ),
        login(
            "SQL in the name",
            json!({"username": "ana' --", "password": "x"}),
            unauthorized,
        ),
    ]);

    let footprint = || async {
        let mut counts = app.footprint().await;
        for table in ["items", "locations", "users", "api_tokens"] {
            counts.push(app.count(table).await);
        }
        counts
    };
    let before = footprint().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let mut request = match case.method {
            "GET" => client.get(app.url(case.path)),
            _ => client.post(app.url(case.path)),
        };
        if let Some(value) = &case.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        if let Some(value) = &case.cookie {
            request = request
                .header(COOKIE, value.clone())
                .header("origin", app.base.as_str());
        }
        if let Some(body) = &case.json {
            request = request.json(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let shaped = body["error"]["code"].is_string() && body["error"]["message"].is_string();
        if status != case.expected || !shaped {
            failures.push(format!(
                "{} ({}): {status}, expected {}: {text:.200}",
                case.path, case.what, case.expected
            ));
        } else if let Some(leak) = LEAKS.iter().find(|w| text.contains(*w)) {
            failures.push(format!("{} ({}): leaks {leak:?}", case.path, case.what));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile credentials were not refused cleanly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(
        footprint().await,
        before,
        "a refused credential wrote something"
    );
    assert_eq!(app.stock_qty(1, 1).await, 0);
}
