//! SPEC §11: `GET /openapi.json` describes every JSON endpoint, and Depot answers as it says —
//! real requests to every operation (successes and refusals), each answer's status documented
//! and its body valid against the document's schema. `/api-docs` renders it.

use std::collections::BTreeSet;

use depot::db::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_backends;

on_both_backends!(every_operation_answers_as_the_document_says);

/// One real request: its method, the document's path template, the concrete path and body.
struct Call {
    method: Method,
    template: &'static str,
    path: String,
    body: Option<(String, Vec<u8>)>,
}

fn call(method: Method, template: &'static str, path: impl Into<String>) -> Call {
    Call {
        method,
        template,
        path: path.into(),
        body: None,
    }
}

fn with_json(mut c: Call, body: Value) -> Call {
    c.body = Some(("application/json".into(), body.to_string().into_bytes()));
    c
}

fn with_csv(mut c: Call, body: &str) -> Call {
    c.body = Some(("text/csv".into(), body.as_bytes().to_vec()));
    c
}

/// Validates `instance` against `schema`, whose `$ref`s point into the document's components.
fn validate(doc: &Value, schema: &Value, instance: &Value) -> Result<(), String> {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"].clone(),
    });
    for (key, value) in schema.as_object().expect("a schema object") {
        root[key] = value.clone();
    }
    // OpenAPI 3.1's schemas are JSON Schema 2020-12; formats (date, date-time) are checked too.
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("bad schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

async fn every_operation_answers_as_the_document_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // The document is public: integrators read it before they have a token.
    let anonymous = reqwest::Client::new();
    let response = anonymous
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let html = anonymous.get(app.url("/api-docs")).send().await.unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    let html = html.text().await.unwrap();
    assert!(
        html.contains("POST /outbound/commit") && html.contains("schema-ErrorEnvelope"),
        "the page renders the document"
    );
    assert!(html.contains("<html lang=\"en\">") && html.contains("<h3>Answers</h3>"));
    // In Chinese too: its own words and the tags' (the operations' descriptions stay English).
    let chinese = anonymous
        .get(app.url("/api-docs"))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for words in [
        "<html lang=\"zh-CN\">",
        "Depot 接口说明",
        "<h2>库存移动</h2>",
        "<h3>应答</h3>",
        "数据结构",
        "POST /outbound/commit",
    ] {
        assert!(chinese.contains(words), "{words} on the Chinese page");
    }
    assert!(!chinese.contains("<h3>Answers</h3>"));

    crate::inbound::warehouse(&app).await;
    app.location("S-1", "shipping").await;
    let line = json!({"sku": "SKU-1", "location_code": "A-01", "qty": 5, "batch_code": "L1", "expiry_date": "2027-01-01"});
    let password = depot::auth::password::Password::parse("password", "a long password").unwrap();
    depot::auth::service::create_user(app.db(), "ana", depot::auth::Role::Viewer, &password)
        .await
        .unwrap();
    use Method as M;
    let calls = vec![
        call(M::GET, "/healthz", "/healthz"),
        with_json(
            call(M::POST, "/login", "/login"),
            json!({"username": "ana", "password": "a long password"}),
        ),
        with_json(
            call(M::POST, "/login", "/login"),
            json!({"username": "ana", "password": "wrong password"}),
        ),
        with_json(call(M::POST, "/logout", "/logout"), json!({})),
        with_json(
            call(M::POST, "/inbound/receive", "/inbound/receive"),
            json!({"ref": "PO-1", "lines": [line]}),
        ),
        with_json(
            call(M::POST, "/inbound/receive", "/inbound/receive"),
            json!({"ref": "PO-2", "lines": [{"sku": "SKU-1", "location_code": "R-1", "qty": 20}]}),
        ),
        with_json(
            call(M::POST, "/inbound/receive", "/inbound/receive"),
            json!({"ref": "PO-3", "lines": [{"sku": "NOPE", "location_code": "R-1", "qty": 1}]}),
        ),
        with_json(
            call(M::POST, "/inbound/receive", "/inbound/receive"),
            json!({"ref": "PO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 6}]}),
        ),
        with_json(
            call(M::POST, "/inbound/receive", "/inbound/receive"),
            json!({"ref": 1}),
        ),
        with_json(
            call(M::POST, "/putaway", "/putaway"),
            json!({"ref": "PA-1", "lines": [{"sku": "SKU-1", "from_location_code": "R-1", "to_location_code": "A-01", "qty": 10}]}),
        ),
        with_json(
            call(M::POST, "/outbound/commit", "/outbound/commit"),
            json!({"ref": "SO-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 2}]}),
        ),
        with_json(
            call(M::POST, "/outbound/commit", "/outbound/commit"),
            json!({"ref": "SO-2", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 999}]}),
        ),
        with_json(
            call(M::POST, "/adjust", "/adjust"),
            json!({"ref": "ADJ-1", "lines": [{"sku": "SKU-1", "location_code": "A-01", "delta": -1, "reason_code": "DAMAGED"}]}),
        ),
        call(M::GET, "/snapshot/inventory", "/snapshot/inventory?q=SKU"),
        call(M::GET, "/snapshot/inventory", "/snapshot/inventory?limit=0"),
        call(M::GET, "/stock/query", "/stock/query?sku=SKU-1"),
        call(M::GET, "/ledger", "/ledger?limit=5"),
        call(M::GET, "/scan", "/scan?code=SKU-1"),
        call(M::GET, "/scan", "/scan?code=A-01"),
        call(M::GET, "/scan", "/scan?code=NOTHING-HERE"),
        call(M::GET, "/items", "/items"),
        with_json(
            call(M::POST, "/items", "/items"),
            json!({"sku": "SKU-9", "name": "Nine", "unit": "box"}),
        ),
        with_json(
            call(M::POST, "/items", "/items"),
            json!({"sku": "SKU-9", "name": "Again"}),
        ),
        call(M::GET, "/items/{id}", "/items/1"),
        call(M::GET, "/items/{id}", "/items/999999"),
        call(M::GET, "/locations", "/locations?kind=storage"),
        with_json(
            call(M::POST, "/locations", "/locations"),
            json!({"code": "B-01", "kind": "storage"}),
        ),
        with_json(
            call(M::POST, "/counts", "/counts"),
            json!({"warehouse_code": "MAIN", "location_codes": ["A-01"]}),
        ),
        call(M::GET, "/counts", "/counts"),
        call(M::GET, "/counts/{id}", "/counts/1"),
        with_json(
            call(M::POST, "/counts/{id}/lines", "/counts/1/lines"),
            json!({"sku": "SKU-1", "location_code": "A-01", "counted_qty": 12}),
        ),
        call(M::POST, "/counts/{id}/post", "/counts/1/post"),
        call(M::POST, "/counts/{id}/post", "/counts/1/post"),
        with_json(
            call(M::POST, "/counts", "/counts"),
            json!({"skus": ["SKU-9"]}),
        ),
        call(M::POST, "/counts/{id}/cancel", "/counts/2/cancel"),
        call(M::GET, "/counts/{id}", "/counts/77"),
        with_json(
            call(M::POST, "/orders", "/orders"),
            json!({"ref": "ORD-1", "lines": [{"sku": "SKU-1", "qty": 3}]}),
        ),
        with_json(
            call(M::POST, "/orders", "/orders"),
            json!({"ref": "ORD-1", "lines": [{"sku": "SKU-1", "qty": 3}]}),
        ),
        with_json(
            call(M::POST, "/orders", "/orders"),
            json!({"ref": "ORD-2", "policy": "all_or_nothing", "lines": [{"sku": "SKU-1", "qty": 5000}]}),
        ),
        with_json(
            call(M::POST, "/orders", "/orders"),
            json!({"ref": "ORD-3", "lines": [{"sku": "SKU-1", "qty": 1}]}),
        ),
        call(M::GET, "/orders", "/orders?status=RESERVED"),
        call(M::GET, "/orders/{ref}", "/orders/ORD-1"),
        call(M::GET, "/orders/{ref}", "/orders/NOPE"),
        call(M::GET, "/orders/{ref}/picklist", "/orders/ORD-1/picklist"),
        call(M::POST, "/orders/{ref}/reserve", "/orders/ORD-1/reserve"),
        with_json(
            call(M::POST, "/orders/{ref}/pick", "/orders/ORD-1/pick"),
            json!({"lines": [{"location_code": "A-01", "sku": "SKU-1", "qty": 3}]}),
        ),
        call(M::POST, "/orders/{ref}/ship", "/orders/ORD-1/ship"),
        with_json(
            call(M::POST, "/orders/{ref}/ship", "/orders/ORD-3/ship"),
            json!({"reserved": true}),
        ),
        with_json(
            call(M::POST, "/orders", "/orders"),
            json!({"ref": "ORD-4", "lines": [{"sku": "SKU-1", "qty": 1}]}),
        ),
        call(M::POST, "/orders/{ref}/cancel", "/orders/ORD-4/cancel"),
        call(M::POST, "/orders/{ref}/cancel", "/orders/ORD-1/cancel"),
        call(M::GET, "/events", "/events?limit=3"),
        call(M::GET, "/events", "/events?wait=99"),
        call(M::GET, "/export/snapshot", "/export/snapshot"),
        call(M::GET, "/export/stock", "/export/stock?format=xlsx"),
        call(M::GET, "/export/ledger", "/export/ledger?reason=RECEIVE"),
        call(M::GET, "/export/ledger", "/export/ledger?format=ods"),
        with_csv(
            call(M::POST, "/import/items", "/import/items?dry_run=true"),
            "sku,name\nI-1,One\n",
        ),
        with_csv(
            call(M::POST, "/import/items", "/import/items"),
            "sku,name\nI-1,\n",
        ),
        with_csv(
            call(M::POST, "/import/locations", "/import/locations"),
            "location_code,kind\nC-01,storage\n",
        ),
        with_csv(
            call(M::POST, "/import/stock", "/import/stock?ref=OPEN-1"),
            "sku,location_code,qty\nSKU-1,C-01,4\n",
        ),
        // A second warehouse last: from here on, location codes need their warehouse.
        call(M::GET, "/warehouses", "/warehouses"),
        with_json(
            call(M::POST, "/warehouses", "/warehouses"),
            json!({"code": "SH", "name": "Shanghai"}),
        ),
        with_json(
            call(M::POST, "/warehouses", "/warehouses"),
            json!({"code": "SH", "name": "again"}),
        ),
        with_json(
            call(M::POST, "/locations", "/locations"),
            json!({"warehouse_code": "SH", "code": "S-01", "kind": "storage"}),
        ),
        with_json(
            call(M::POST, "/transfers", "/transfers"),
            json!({"ref": "TR-1", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 1}]}),
        ),
        with_json(
            call(M::POST, "/transfers", "/transfers"),
            json!({"ref": "TR-2", "from_warehouse": "MAIN", "to_warehouse": "MAIN", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 1}]}),
        ),
        with_json(
            call(
                M::POST,
                "/transfers/{ref}/receive",
                "/transfers/TR-1/receive",
            ),
            json!({"lines": [{"sku": "SKU-1", "location_code": "S-01", "qty": 1}]}),
        ),
        with_json(
            call(
                M::POST,
                "/transfers/{ref}/receive",
                "/transfers/NOPE/receive",
            ),
            json!({"lines": [{"sku": "SKU-1", "location_code": "S-01", "qty": 1}]}),
        ),
        call(M::POST, "/transfers/{ref}/close", "/transfers/TR-1/close"),
        call(M::POST, "/transfers/{ref}/close", "/transfers/NOPE/close"),
        with_json(
            call(M::POST, "/transfers", "/transfers"),
            json!({"ref": "TR-3", "from_warehouse": "MAIN", "to_warehouse": "SH", "lines": [{"sku": "SKU-1", "location_code": "A-01", "qty": 1}]}),
        ),
        call(M::POST, "/transfers/{ref}/close", "/transfers/TR-3/close"),
        call(M::GET, "/transfers", "/transfers?status=RECEIVED"),
        call(M::GET, "/transfers/{ref}", "/transfers/TR-1"),
        call(M::GET, "/transfers/{ref}", "/transfers/NOPE"),
        with_json(
            call(M::POST, "/returns", "/returns"),
            json!({"ref": "RT-1", "warehouse_code": "MAIN", "lines": [{"sku": "SKU-1", "qty": 2, "reason_code": "DAMAGED"}]}),
        ),
        with_json(
            call(M::POST, "/returns", "/returns"),
            json!({"ref": "RT-2", "warehouse_code": "MAIN", "lines": [{"sku": "SKU-1", "qty": 2}]}),
        ),
        with_json(
            call(M::POST, "/returns/{ref}/dispose", "/returns/RT-1/dispose"),
            json!({"lines": [{"sku": "SKU-1", "qty": 1, "action": "SCRAP"}, {"sku": "SKU-1", "qty": 1, "action": "RESTOCK", "location_code": "A-01"}]}),
        ),
        with_json(
            call(M::POST, "/returns/{ref}/dispose", "/returns/NOPE/dispose"),
            json!({"lines": [{"sku": "SKU-1", "qty": 1, "action": "SCRAP"}]}),
        ),
        call(M::GET, "/returns", "/returns?status=DISPOSED"),
        call(M::GET, "/returns/{ref}", "/returns/RT-1"),
        call(M::GET, "/returns/{ref}", "/returns/NOPE"),
    ];

    let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
    let mut statuses: BTreeSet<(String, String, u16)> = BTreeSet::new();
    for c in &calls {
        let mut request = app.client.request(c.method.clone(), app.url(&c.path));
        if let Some((content_type, body)) = &c.body {
            request = request
                .header("content-type", content_type)
                .body(body.clone());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.bytes().await.unwrap();
        let method = c.method.as_str().to_ascii_lowercase();
        let operation = &doc["paths"][c.template][&method];
        assert!(
            operation.is_object(),
            "{} {} is not in the document",
            c.method,
            c.template
        );
        let documented = &operation["responses"][status.as_str()];
        assert!(
            documented.is_object(),
            "{} {} answered {status}, which the document does not list: {}",
            c.method,
            c.path,
            String::from_utf8_lossy(&bytes)
        );
        covered.insert((method.clone(), c.template.to_owned()));
        statuses.insert((method.clone(), c.template.to_owned(), status.as_u16()));
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let Some(content) = documented["content"].as_object() else {
            assert!(
                bytes.is_empty(),
                "{} {}: a body the document does not describe",
                c.method,
                c.path
            );
            continue;
        };
        let described = content
            .iter()
            .find(|(m, _)| m.as_str() == media)
            .unwrap_or_else(|| {
                panic!(
                    "{} {}: {status} as {media}, the document says {:?}",
                    c.method,
                    c.path,
                    content.keys().collect::<Vec<_>>()
                )
            });
        if media == "application/json" {
            let body: Value = serde_json::from_slice(&bytes).expect("JSON");
            if let Err(problems) = validate(&doc, &described.1["schema"], &body) {
                panic!(
                    "{} {} answered {status} not as documented: {problems}\n{body}",
                    c.method, c.path
                );
            }
        }
    }

    // Every operation of the document was called, and every one answered a success.
    let mut operations = BTreeSet::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations.insert((method.clone(), template.clone()));
            let role = operation["x-required-role"].as_str().unwrap();
            assert!(
                ["public", "viewer", "clerk", "manager", "admin"].contains(&role),
                "{template}: {role}"
            );
        }
    }
    let missing: Vec<_> = operations.difference(&covered).collect();
    assert!(missing.is_empty(), "operations never called: {missing:?}");
    for (method, template) in &operations {
        assert!(
            statuses
                .iter()
                .any(|(m, t, s)| m == method && t == template && (200..300).contains(s)),
            "{method} {template} never succeeded"
        );
    }
    assert_eq!(
        doc["paths"]["/import/items"]["post"]["x-required-role"],
        "manager"
    );
    assert_eq!(
        doc["paths"]["/orders/{ref}/cancel"]["post"]["x-required-role"],
        "manager"
    );
    assert_eq!(
        doc["paths"]["/outbound/commit"]["post"]["x-required-role"],
        "clerk"
    );
    assert_eq!(doc["paths"]["/healthz"]["get"]["x-required-role"], "public");

    // The schemas are strict enough to catch drift: wrong shapes are refused.
    let error = json!({"$ref": "#/components/schemas/ErrorEnvelope"});
    assert!(validate(
        &doc,
        &error,
        &json!({"error": {"code": "NOT_A_CODE", "message": "x", "details": {}}})
    )
    .is_err());
    assert!(validate(&doc, &error, &json!({"code": "CONFLICT"})).is_err());
    let ledger = &doc["paths"]["/ledger"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert!(validate(
        &doc,
        ledger,
        &json!({"total": 1, "offset": 0, "limit": 5, "rows": [{"id": 1}]})
    )
    .is_err());
    assert!(validate(
        &doc,
        ledger,
        &json!({"total": "1", "offset": 0, "limit": 5, "rows": []})
    )
    .is_err());

    // A refusal common to every protected operation: no credentials.
    let response = anonymous.get(app.url("/stock/query")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    let schema = &doc["paths"]["/stock/query"]["get"]["responses"]["401"]["content"]
        ["application/json"]["schema"];
    validate(&doc, schema, &body).unwrap();
}
