//! The API's description (SPEC §11): `GET /openapi.json`, an OpenAPI 3.1 document derived from
//! the handlers (`#[utoipa::path]`) and the request and answer types (`ToSchema`), with the
//! role each operation needs taken from the one access table ([`crate::auth::access`]); and
//! `/api-docs`, a page Depot renders from it (nothing fetched from elsewhere).

use std::sync::OnceLock;

use axum::http::{header, Method};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use crate::auth::access::{required, Access};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Depot",
        description = "Depot's JSON API (SPEC §4, §7, §9–§11). Authenticate with \
            `Authorization: Bearer <token>` (an API token, `depot token create`) or a signed-in \
            session's cookie. Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}`; \
            `message` follows `Accept-Language` (en, zh-CN), `code` never changes. Movements \
            are idempotent by `ref`: resending the same request changes nothing."
    ),
    paths(
        crate::health::healthz,
        crate::auth::web::login,
        crate::auth::web::logout,
        crate::snapshot::api::inventory,
        crate::stock::api::query_stock,
        crate::ledger::api::list_ledger,
        crate::scan::api::scan,
        crate::items::api::list_items,
        crate::items::api::create_item,
        crate::items::api::get_item,
        crate::locations::api::list_locations,
        crate::locations::api::create_location,
        crate::warehouses::api::list_warehouses,
        crate::warehouses::api::create_warehouse,
        crate::counts::api::list_counts,
        crate::counts::api::create_count,
        crate::counts::api::get_count,
        crate::counts::api::record_line,
        crate::counts::api::post_count,
        crate::counts::api::cancel_count,
        crate::orders::api::create_order,
        crate::orders::api::list_orders,
        crate::orders::api::get_order,
        crate::orders::api::picklist,
        crate::orders::api::reserve,
        crate::orders::api::pick,
        crate::orders::api::ship,
        crate::orders::api::cancel,
        crate::transfers::api::send_transfer,
        crate::transfers::api::receive_transfer,
        crate::transfers::api::close_transfer,
        crate::transfers::api::list_transfers,
        crate::transfers::api::get_transfer,
        crate::returns::api::receive_return,
        crate::returns::api::dispose_return,
        crate::returns::api::list_returns,
        crate::returns::api::get_return,
        crate::events::api::events,
        crate::export::api::snapshot,
        crate::export::api::stock,
        crate::export::api::ledger,
        crate::import::api::items,
        crate::import::api::locations,
        crate::import::api::stock,
    ),
    components(schemas(crate::error::ErrorEnvelope)),
    tags(
        (name = "movements", description = "Receive, put away, ship, adjust: each one transaction, idempotent by ref"),
        (name = "stock", description = "What is where: snapshot, stock, ledger, scans"),
        (name = "items and locations", description = "The catalogue and the warehouse's places"),
        (name = "counts", description = "Cycle counts (SPEC §9)"),
        (name = "orders", description = "Orders, reservations, picking, shipping (SPEC §10)"),
        (name = "integration", description = "Change feed, export, import (SPEC §11)"),
        (name = "health", description = "Whether Depot and its database answer"),
        (name = "sign-in", description = "People's sessions (programs use a bearer token instead)"),
    )
)]
struct ApiDoc;

/// A concrete path for an OpenAPI path template, to ask the access table about it.
fn example_path(template: &str) -> String {
    template.replace("{id}", "1").replace("{ref}", "R-1")
}

/// The document, with each operation's required role (`x-required-role`), its security, and
/// the refusals every operation may answer.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut api = ApiDoc::openapi();
        // Each movement kind's operation, from the kinds' registry.
        for kind in &crate::kinds::KINDS {
            api.merge((kind.serve.document)());
        }
        let mut doc = serde_json::to_value(api).unwrap_or_default();
        let error = json!({"$ref": "#/components/schemas/ErrorEnvelope"});
        let refusal = |description: &str| {
            json!({"description": description, "content": {"application/json": {"schema": error}}})
        };
        if let Some(components) = doc["components"].as_object_mut() {
            components.insert(
                "securitySchemes".into(),
                json!({
                    "bearer": {"type": "http", "scheme": "bearer", "description": "An API token (`depot token create --name NAME --role ROLE`, or /admin/tokens)"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "depot_session", "description": "A signed-in person's session (POST /login)"}
                }),
            );
        }
        if let Some(paths) = doc["paths"].as_object_mut() {
            for (template, item) in paths.iter_mut() {
                let Some(item) = item.as_object_mut() else { continue };
                for (method, operation) in item.iter_mut() {
                    let Ok(http_method) = method.to_ascii_uppercase().parse::<Method>() else {
                        continue;
                    };
                    let Some(operation) = operation.as_object_mut() else { continue };
                    let access = required(&http_method, &example_path(template));
                    let role = match access {
                        Some(Access::Public) => "public",
                        Some(Access::Role(role)) => role.as_str(),
                        None => "none",
                    };
                    operation.insert("x-required-role".into(), json!(role));
                    let security = if role == "public" {
                        json!([])
                    } else {
                        json!([{"bearer": []}, {"session": []}])
                    };
                    operation.insert("security".into(), security);
                    let responses = operation
                        .entry("responses")
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                        .expect("responses is an object");
                    if role != "public" {
                        responses.entry("401").or_insert_with(|| refusal("No valid credentials (UNAUTHENTICATED)"));
                        responses.entry("403").or_insert_with(|| refusal(&format!("The role is below {role}, or a write from another site (FORBIDDEN)")));
                    }
                    if http_method == Method::POST {
                        responses.entry("413").or_insert_with(|| refusal("The body is too large (PAYLOAD_TOO_LARGE)"));
                    }
                    responses.entry("400").or_insert_with(|| refusal("Malformed request (MALFORMED_REQUEST)"));
                    responses.entry("503").or_insert_with(|| refusal("The database is unavailable or the request timed out (UNAVAILABLE); retry with the same ref"));
                    responses.entry("500").or_insert_with(|| refusal("An internal error (INTERNAL); the server log has its cause"));
                    let description = operation
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let needs = if role == "public" {
                        "Open to anyone.".to_owned()
                    } else {
                        format!("Requires the role `{role}` or above.")
                    };
                    let description = if description.is_empty() {
                        needs
                    } else {
                        format!("{description}\n\n{needs}")
                    };
                    operation.insert("description".into(), json!(description));
                }
            }
        }
        doc
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/api-docs", get(api_docs))
}

async fn openapi_json() -> Response {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        axum::Json(document()),
    )
        .into_response()
}

/// The document as a page: every operation by tag, with its role, parameters, body and answers,
/// and every schema with its fields.
/// In the request's language: the page's own words and the tags'; each operation's and
/// field's description stays English (paths, fields, statuses and codes are the same in both).
async fn api_docs() -> Html<String> {
    static PAGES: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    let locale = crate::lang::current();
    let page = match locale {
        crate::lang::Locale::en => &PAGES[0],
        crate::lang::Locale::zh_CN => &PAGES[1],
    };
    Html(page.get_or_init(|| render(document(), locale)).clone())
}

/// A tag's name and description in the page's language (the document's own, English, for a
/// tag the catalogue does not know).
fn tag_words(name: &str, about: &str) -> (String, String) {
    macro_rules! tag {
        ($key:ident) => {
            (
                tr!(common.api_docs.tag.$key.name),
                tr!(common.api_docs.tag.$key.about),
            )
        };
    }
    match name {
        "movements" => tag!(movements),
        "stock" => tag!(stock),
        "items and locations" => tag!(catalogue),
        "counts" => tag!(counts),
        "orders" => tag!(orders),
        "integration" => tag!(integration),
        "health" => tag!(health),
        "sign-in" => tag!(sign_in),
        _ => (name.to_string(), about.to_string()),
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `#/components/schemas/Name` → a link to it; inline schemas as their type.
fn schema_words(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    if let Some(items) = schema.get("items") {
        return tr!(common.api_docs.array_of, what = schema_words(items));
    }
    if let Some(options) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        return options
            .iter()
            .map(schema_words)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| format!("<code>{}</code>", esc(&v.to_string())))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    };
    match schema.get("format").and_then(Value::as_str) {
        Some(format) => format!("{kind} ({format})"),
        None => kind,
    }
}

fn render(doc: &Value, locale: crate::lang::Locale) -> String {
    use crate::lang::{tag, Locale, QUERY_PARAM};
    let mut out = String::new();
    let other = match locale {
        Locale::en => Locale::zh_CN,
        Locale::zh_CN => Locale::en,
    };
    let note = tr!(common.api_docs.words_note);
    out.push_str(&format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\"><link rel=\"stylesheet\" href=\"/pkg/depot.css\"></head>\
         <body class=\"api-docs\"><main><h1>{title} <small>OpenAPI {version}</small></h1>\
         <p>{intro}</p>{note}<p><a href=\"/openapi.json\">/openapi.json</a> · <a href=\"/\">{back}</a> · \
         <a href=\"/api-docs?{QUERY_PARAM}={other}\" hreflang=\"{other}\" lang=\"{other}\" rel=\"external\">{switch}</a></p>",
        lang = tag(locale),
        title = esc(&tr!(common.api_docs.title)),
        version = esc(doc["openapi"].as_str().unwrap_or_default()),
        intro = esc(&tr!(common.api_docs.intro)),
        note = if note.is_empty() { String::new() } else { format!("<p class=\"hint\">{}</p>", esc(&note)) },
        back = esc(&tr!(common.api_docs.back)),
        other = tag(other),
        switch = esc(&tr!(common.switch_to)),
    ));
    let empty = Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    for tag in doc["tags"].as_array().into_iter().flatten() {
        let name = tag["name"].as_str().unwrap_or_default();
        let (title, about) = tag_words(name, tag["description"].as_str().unwrap_or_default());
        out.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2><p class=\"hint\">{}</p>",
            esc(&title),
            esc(&about)
        ));
        for (path, item) in paths {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let tagged = operation["tags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|t| t == name));
                if !tagged {
                    continue;
                }
                out.push_str(&format!(
                    "<details class=\"operation\"><summary><code>{} {}</code> {} <span class=\"badge\">{}</span></summary>",
                    esc(&method.to_ascii_uppercase()),
                    esc(path),
                    esc(operation["summary"].as_str().unwrap_or_default()),
                    esc(operation["x-required-role"].as_str().unwrap_or_default()),
                ));
                let description = operation["description"].as_str().unwrap_or_default();
                for paragraph in description.split("\n\n") {
                    out.push_str(&format!("<p>{}</p>", esc(paragraph)));
                }
                if let Some(params) = operation["parameters"].as_array() {
                    out.push_str(&format!("<h3>{}</h3><ul>", tr!(common.api_docs.parameters)));
                    for p in params {
                        out.push_str(&format!(
                            "<li><code>{}</code> ({}{}) {} — {}</li>",
                            esc(p["name"].as_str().unwrap_or_default()),
                            esc(p["in"].as_str().unwrap_or_default()),
                            if p["required"] == true {
                                format!(", {}", tr!(common.api_docs.required))
                            } else {
                                String::new()
                            },
                            schema_words(&p["schema"]),
                            esc(p["description"].as_str().unwrap_or_default()),
                        ));
                    }
                    out.push_str("</ul>");
                }
                if let Some(content) = operation["requestBody"]["content"].as_object() {
                    out.push_str(&format!("<h3>{}</h3><ul>", tr!(common.api_docs.body)));
                    for (media, body) in content {
                        out.push_str(&format!(
                            "<li><code>{}</code>: {}</li>",
                            esc(media),
                            schema_words(&body["schema"])
                        ));
                    }
                    out.push_str("</ul>");
                }
                out.push_str(&format!("<h3>{}</h3><ul>", tr!(common.api_docs.answers)));
                for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                    let bodies: Vec<String> = response["content"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(media, body)| {
                            format!(
                                "<code>{}</code> {}",
                                esc(media),
                                schema_words(&body["schema"])
                            )
                        })
                        .collect();
                    out.push_str(&format!(
                        "<li><strong>{}</strong> {} {}</li>",
                        esc(status),
                        esc(response["description"].as_str().unwrap_or_default()),
                        bodies.join(", ")
                    ));
                }
                out.push_str("</ul></details>");
            }
        }
        out.push_str("</section>");
    }
    out.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>",
        tr!(common.api_docs.schemas)
    ));
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "<details id=\"schema-{0}\" class=\"schema\"><summary><code>{0}</code> {1}</summary>",
            esc(name),
            esc(schema["description"].as_str().unwrap_or_default())
        ));
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(properties) = schema["properties"].as_object() {
            out.push_str("<ul>");
            for (field, property) in properties {
                out.push_str(&format!(
                    "<li><code>{}</code>{}: {} {}</li>",
                    esc(field),
                    if required.contains(&field.as_str()) {
                        format!(" ({})", tr!(common.api_docs.required))
                    } else {
                        String::new()
                    },
                    schema_words(property),
                    esc(property["description"].as_str().unwrap_or_default())
                ));
            }
            out.push_str("</ul>");
        } else {
            out.push_str(&format!("<p>{}</p>", schema_words(schema)));
        }
        out.push_str("</details>");
    }
    out.push_str("</section></main></body></html>");
    out
}
