//! The language a request is answered in (SPEC §8): the `depot_lang` cookie, else the first
//! language of `Accept-Language` that Depot has (`zh*` → `zh-CN`), else `DEPOT_LANGUAGE`.
//!
//! The words themselves live in the catalogues under `locales/` (one file per language and
//! page, through `leptos_i18n`, see [`crate::i18n`]); `tr!` picks one in the
//! language of what is being rendered or answered now ([`current`]).
//!
//! On the server a middleware ([`choose_language`]) decides the language of every request once
//! and keeps it for the handler, the page render and any error made on the way; the page's
//! `<html lang>` carries it to the browser, which hydrates in the same language.

use leptos::prelude::*;

pub use crate::i18n::Locale;

/// The cookie that keeps a person's choice of language.
pub const COOKIE: &str = "depot_lang";
/// The query parameter of the header's language switcher (`?lang=zh-CN`).
pub const QUERY_PARAM: &str = "lang";

/// The language's tag as HTML and HTTP write it (`en`, `zh-CN`).
pub fn tag(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "en",
        Locale::zh_CN => "zh-CN",
    }
}

/// The language Depot has for a language tag: `en*` → English, `zh*` → Chinese (simplified).
pub fn from_tag(tag: &str) -> Option<Locale> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.as_str() {
        "en" => Some(Locale::en),
        "zh" => Some(Locale::zh_CN),
        _ => None,
    }
}

/// The first language of an `Accept-Language` header that Depot has, by quality (ties keep
/// the header's order); `q=0` means "not this one".
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut ranges: Vec<(u16, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(position, entry)| {
            let mut parts = entry.split(';');
            let range = parts.next()?.trim();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(Some(1000), parse_quality)?;
            (!range.is_empty() && quality > 0).then_some((quality, position, range))
        })
        .collect();
    ranges.sort_by_key(|&(quality, position, _)| (std::cmp::Reverse(quality), position));
    ranges.into_iter().find_map(|(_, _, range)| from_tag(range))
}

/// A quality value (`0.8`) in thousandths; `None` when it is not one.
fn parse_quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

/// The language of what is being rendered or answered now: the page's (Leptos context), else
/// the request's (server), else English (the CLI stays English); in the browser, the page's.
pub fn current() -> Locale {
    if let Some(locale) = use_context::<Locale>() {
        return locale;
    }
    #[cfg(feature = "ssr")]
    {
        server::request_locale().unwrap_or(Locale::en)
    }
    // In the browser an island has no context from the page around it: the page's own.
    #[cfg(not(feature = "ssr"))]
    {
        page_locale()
    }
}

/// The language of the page being rendered: the request's on the server; in the browser the
/// one the server rendered (`<html lang>`), so that hydration says the same words.
pub fn page_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        server::request_locale().unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|lang| from_tag(&lang))
            .unwrap_or_default()
    }
}

/// A catalogue entry in the language of [`current`], as text:
/// `tr!(inbound.title)`, `tr!(common.rows, first = 1, last = 50, total = 120)`.
macro_rules! tr {
    ($($key:tt)*) => {
        $crate::i18n::td_string!($crate::lang::current(), $($key)*).to_string()
    };
}

#[cfg(feature = "ssr")]
pub use server::{choose_language, negotiate};

#[cfg(feature = "ssr")]
mod server {
    use axum::extract::{Request, State};
    use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
    use axum::middleware::Next;
    use axum::response::{IntoResponse, Response};

    use super::*;

    tokio::task_local! {
        /// The language of the request this task is answering.
        static REQUEST_LOCALE: Locale;
    }

    /// How long the choice of language is kept (a year).
    const COOKIE_MAX_AGE_SECONDS: u32 = 365 * 24 * 60 * 60;

    /// The request's language, where one is being answered: set by [`choose_language`] for the
    /// task, and kept in the request (`Parts`) that Leptos gives pages and server functions.
    pub fn request_locale() -> Option<Locale> {
        REQUEST_LOCALE.try_with(|locale| *locale).ok().or_else(|| {
            use_context::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Locale>().copied())
        })
    }

    /// The language for a request with these headers: cookie, else `Accept-Language`, else
    /// `default` (`DEPOT_LANGUAGE`).
    pub fn negotiate(headers: &HeaderMap, default: Locale) -> Locale {
        cookie_locale(headers)
            .or_else(|| {
                headers
                    .get_all(header::ACCEPT_LANGUAGE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(from_accept_language)
            })
            .unwrap_or(default)
    }

    fn cookie_locale(headers: &HeaderMap) -> Option<Locale> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, value)| from_tag(value.trim_matches('"')))
    }

    /// Decides the request's language and answers it in that language. A `GET` with `?lang=…`
    /// (the header's switcher) keeps the choice in the cookie and goes back to the same page and
    /// query without it, so the switch works as a plain link. `default` is `DEPOT_LANGUAGE`.
    pub async fn choose_language(
        State(default): State<Locale>,
        mut request: Request,
        next: Next,
    ) -> Response {
        if request.method() == Method::GET {
            if let Some(response) = switch_language(&request) {
                return response;
            }
        }
        let locale = negotiate(request.headers(), default);
        request.extensions_mut().insert(locale);
        let mut response = REQUEST_LOCALE.scope(locale, next.run(request)).await;
        // Pages and error messages depend on the language; static files do not.
        let worded = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html") || t.starts_with("application/json"));
        if worded {
            response.headers_mut().append(
                header::VARY,
                HeaderValue::from_static("accept-language, cookie"),
            );
        }
        response
    }

    /// The answer to `?lang=…`: back to the page without it, the cookie set when Depot has the
    /// language asked for (an unknown one changes nothing).
    fn switch_language(request: &Request) -> Option<Response> {
        let query = request.uri().query()?;
        let mut asked = None;
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let name = pair.split('=').next().unwrap_or_default();
            if name == QUERY_PARAM {
                asked = Some(pair.split_once('=').map_or("", |(_, v)| v));
            } else if !pair.is_empty() {
                kept.push(pair);
            }
        }
        let asked = asked?;
        let path = request.uri().path();
        let location = if kept.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", kept.join("&"))
        };
        let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
        let decoded = percent_encoding::percent_decode_str(asked).decode_utf8_lossy();
        if let Some(locale) = from_tag(&decoded) {
            let cookie = format!(
                "{COOKIE}={}; Path=/; Max-Age={COOKIE_MAX_AGE_SECONDS}; SameSite=Lax",
                tag(locale)
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
        }
        Some(response)
    }

    /// `DEPOT_LANGUAGE`: a language Depot has (`en`, `zh-CN`).
    pub fn parse_language(text: &str) -> Result<Locale, String> {
        from_tag(text).ok_or_else(|| format!("'{text}' is not a language Depot has (en, zh-CN)"))
    }
}

#[cfg(feature = "ssr")]
pub use server::parse_language;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_first_language_depot_has() {
        assert_eq!(
            from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Locale::zh_CN)
        );
        assert_eq!(from_accept_language("zh-TW"), Some(Locale::zh_CN));
        assert_eq!(from_accept_language("fr-FR, en-GB;q=0.7"), Some(Locale::en));
        assert_eq!(
            from_accept_language("en;q=0.5, zh;q=0.9"),
            Some(Locale::zh_CN)
        );
        assert_eq!(from_accept_language("zh;q=0, en"), Some(Locale::en));
        assert_eq!(from_accept_language("fr, de"), None);
        assert_eq!(from_accept_language("*"), None);
        assert_eq!(from_accept_language(""), None);
        assert_eq!(from_accept_language("en;q=abc"), None);
    }

    /// Every catalogue entry as `namespace.key.path` → text, for one language.
    fn catalogue(language: &str) -> std::collections::BTreeMap<String, String> {
        fn flatten(
            prefix: &str,
            value: &serde_json::Value,
            out: &mut std::collections::BTreeMap<String, String>,
        ) {
            match value {
                serde_json::Value::Object(entries) => {
                    for (key, value) in entries {
                        flatten(&format!("{prefix}.{key}"), value, out);
                    }
                }
                serde_json::Value::String(text) => {
                    out.insert(prefix.to_string(), text.clone());
                }
                other => panic!("{prefix}: not a text: {other}"),
            }
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(language);
        let mut out = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let namespace = path.file_stem().unwrap().to_str().unwrap().to_string();
            let value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            flatten(&namespace, &value, &mut out);
        }
        out
    }

    /// The `{{ name }}` parameters of a text.
    fn parameters(text: &str) -> std::collections::BTreeSet<String> {
        text.split("{{")
            .skip(1)
            .filter_map(|rest| rest.split_once("}}"))
            .map(|(name, _)| name.trim().to_string())
            .collect()
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_parameters() {
        let en = catalogue("en");
        let zh = catalogue("zh-CN");
        let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(only_en.is_empty(), "missing in zh-CN: {only_en:?}");
        assert!(only_zh.is_empty(), "missing in en: {only_zh:?}");
        assert!(en.len() > 100, "{} keys", en.len());
        for (key, english) in &en {
            let chinese = &zh[key];
            assert!(
                !english.trim().is_empty() && !chinese.trim().is_empty(),
                "{key} is blank"
            );
            // A language may leave a parameter out (Chinese says "line 3", not `lines[2]`), but
            // never use one the other does not give (a typo).
            let missing: Vec<_> = parameters(chinese)
                .difference(&parameters(english))
                .cloned()
                .collect();
            assert!(missing.is_empty(), "{key}: zh-CN uses {missing:?}");
        }
    }

    #[test]
    fn tags_round_trip() {
        for locale in [Locale::en, Locale::zh_CN] {
            assert_eq!(from_tag(tag(locale)), Some(locale));
        }
        assert_eq!(from_tag("ZH_cn"), Some(Locale::zh_CN));
        assert_eq!(from_tag("de"), None);
    }
}
