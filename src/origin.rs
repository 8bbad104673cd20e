//! Same-origin writes (SPEC §7, "Cross-site requests"): a state-changing request that a browser
//! sent on behalf of another site (a hidden form posting to `/api/ship_order`, a `fetch` to
//! `/outbound/commit`) is refused with 403 `FORBIDDEN` before any handler runs, so nothing is
//! written.
//!
//! A browser says where a request comes from in up to three headers, and a page cannot forge
//! any of them: `Origin` (on every cross-origin request and every POST), `Sec-Fetch-Site`, and
//! `Referer`. Each one present must name this site; one that names another site is enough to
//! refuse. Requests with none of them (curl, an ERP, scripts) are not a browser acting for a
//! stranger and pass.
//!
//! "This site" is the request's `Host`, compared as host and port, the port defaulting by
//! scheme; behind a reverse proxy listed in `DEPOT_TRUSTED_PROXIES` (`crate::proxy`), the host
//! of its `X-Forwarded-Host` too, and the scheme of its `X-Forwarded-Proto` must be the
//! browser's. From any other peer those headers are ignored. Another subdomain is another site.

use std::time::Duration;

use axum::extract::Request;
use axum::http::uri::Authority;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::extract::MAX_BODY_BYTES;
use crate::proxy::Client;

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// How long a refused request's body may take to be read and dropped (see [`refuse`]).
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Refuses a non-safe request (POST, PUT, PATCH, DELETE, …) that comes from another site.
pub async fn refuse_cross_site_writes(request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let client = request
        .extensions()
        .get::<Client>()
        .cloned()
        .unwrap_or_default();
    match foreign_source(request.headers(), request.uri().authority(), &client) {
        None => next.run(request).await,
        Some((name, value)) => refuse(request, name, &value).await,
    }
}

/// The header that shows a request to come from another site, with its value; `None` when the
/// request is this site's own or says nothing about where it comes from. `target` is the
/// request URI's authority (HTTP/2 sends the host there instead of in `Host`); `client` what a
/// trusted proxy said of the site.
pub fn foreign_source(
    headers: &HeaderMap,
    target: Option<&Authority>,
    client: &Client,
) -> Option<(&'static str, String)> {
    let shown = |value: &HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned();
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !is_this_site(headers, target, client, origin.as_bytes()) {
            return Some(("Origin", shown(origin)));
        }
    }
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        // `same-site` is another subdomain or scheme: another site for Depot.
        let site_bytes = site.as_bytes();
        if site_bytes.eq_ignore_ascii_case(b"cross-site")
            || site_bytes.eq_ignore_ascii_case(b"same-site")
        {
            return Some(("Sec-Fetch-Site", shown(site)));
        }
    }
    if let Some(referer) = headers.get(header::REFERER) {
        if !is_this_site(headers, target, client, referer.as_bytes()) {
            return Some(("Referer", shown(referer)));
        }
    }
    None
}

/// Whether `url` (an `Origin` or `Referer` value) names the host the request was sent to.
/// `Origin: null` (a sandboxed or opaque origin) and anything unreadable are not this site.
fn is_this_site(
    headers: &HeaderMap,
    target: Option<&Authority>,
    client: &Client,
    url: &[u8],
) -> bool {
    let Some((scheme, scheme_port, authority)) = url_authority(url) else {
        return false;
    };
    if client
        .forwarded_proto
        .as_deref()
        .is_some_and(|proto| proto != scheme)
    {
        return false;
    }
    headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .into_iter()
        // A proxy chain may list several hosts; the first is the one the browser used.
        .chain(client.forwarded_host.as_deref())
        .filter_map(|host| host.trim().parse::<Authority>().ok())
        .chain(target.cloned())
        .any(|host| {
            host.host().eq_ignore_ascii_case(authority.host())
                && host.port_u16().unwrap_or(scheme_port)
                    == authority.port_u16().unwrap_or(scheme_port)
        })
}

/// The scheme, its default port and the host[:port] of an http(s) URL.
fn url_authority(url: &[u8]) -> Option<(&'static str, u16, Authority)> {
    let uri = Uri::try_from(url).ok()?;
    let (scheme, default_port) = match uri.scheme_str()? {
        s if s.eq_ignore_ascii_case("https") => ("https", 443),
        s if s.eq_ignore_ascii_case("http") => ("http", 80),
        _ => return None,
    };
    let authority = uri.authority()?;
    // `user:password@host` is still `host`.
    let host_port = authority.as_str().rsplit('@').next()?;
    Some((scheme, default_port, host_port.parse().ok()?))
}

/// The 403 for a cross-site write, logged with the header that gave it away. The body is read
/// (up to the body limit, for a few seconds) and dropped first: closing a connection with unread
/// data resets it, and the client would see the reset instead of the refusal.
async fn refuse(request: Request, name: &'static str, value: &str) -> Response {
    tracing::info!(
        method = %request.method(),
        path = %request.uri().path(),
        header = name,
        value = ?value,
        "cross-site write refused"
    );
    let error = AppError::forbidden(tr!(errors.cross_site, header = name, value = value));
    let body = request.into_body();
    let _ = tokio::time::timeout(DRAIN_TIME, axum::body::to_bytes(body, MAX_BODY_BYTES)).await;
    error.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::tests::headers;

    fn foreign(pairs: &[(&str, &str)]) -> Option<&'static str> {
        foreign_source(&headers(pairs), None, &Client::default()).map(|(name, _)| name)
    }

    /// As a trusted proxy forwarded it.
    fn forwarded(host: &str, proto: &str, pairs: &[(&str, &str)]) -> Option<&'static str> {
        let client = Client {
            addr: None,
            forwarded_host: Some(host.into()),
            forwarded_proto: Some(proto.into()),
        };
        foreign_source(&headers(pairs), None, &client).map(|(name, _)| name)
    }

    #[test]
    fn this_site_passes() {
        let host = ("host", "depot.example:3000");
        assert_eq!(foreign(&[host]), None);
        assert_eq!(
            foreign(&[host, ("origin", "http://depot.example:3000")]),
            None
        );
        assert_eq!(
            foreign(&[host, ("origin", "https://DEPOT.example:3000")]),
            None
        );
        assert_eq!(
            foreign(&[
                host,
                ("referer", "http://depot.example:3000/outbound?ref=1")
            ]),
            None
        );
        assert_eq!(foreign(&[host, ("sec-fetch-site", "same-origin")]), None);
        assert_eq!(foreign(&[host, ("sec-fetch-site", "none")]), None);
        // Default ports by scheme.
        assert_eq!(
            foreign(&[
                ("host", "depot.example"),
                ("origin", "https://depot.example")
            ]),
            None
        );
        assert_eq!(
            foreign(&[
                ("host", "depot.example:443"),
                ("origin", "https://depot.example")
            ]),
            None
        );
        // Behind a trusted proxy that rewrites Host.
        let behind = [
            ("host", "127.0.0.1:3000"),
            ("origin", "https://depot.example"),
        ];
        assert_eq!(forwarded("depot.example", "https", &behind), None);
    }

    #[test]
    fn forwarding_headers_count_only_as_a_trusted_proxy_gave_them() {
        // From anyone else, X-Forwarded-Host is a header like any other.
        assert_eq!(
            foreign(&[
                ("host", "127.0.0.1:3000"),
                ("x-forwarded-host", "depot.example"),
                ("origin", "https://depot.example")
            ]),
            Some("Origin")
        );
        // The browser's scheme must be the one the proxy saw.
        let behind = [
            ("host", "127.0.0.1:3000"),
            ("origin", "http://depot.example:443"),
        ];
        assert_eq!(forwarded("depot.example", "https", &behind), Some("Origin"));
        let behind = [
            ("host", "127.0.0.1:3000"),
            ("origin", "https://other.example"),
        ];
        assert_eq!(forwarded("depot.example", "https", &behind), Some("Origin"));
    }

    #[test]
    fn another_site_is_refused() {
        let host = ("host", "depot.example:3000");
        assert_eq!(
            foreign(&[host, ("origin", "http://evil.example")]),
            Some("Origin")
        );
        assert_eq!(foreign(&[host, ("origin", "null")]), Some("Origin"));
        assert_eq!(
            foreign(&[host, ("origin", "http://depot.example:3001")]),
            Some("Origin")
        );
        assert_eq!(
            foreign(&[host, ("origin", "http://sub.depot.example:3000")]),
            Some("Origin")
        );
        assert_eq!(
            foreign(&[host, ("sec-fetch-site", "cross-site")]),
            Some("Sec-Fetch-Site")
        );
        assert_eq!(
            foreign(&[host, ("sec-fetch-site", "same-site")]),
            Some("Sec-Fetch-Site")
        );
        assert_eq!(
            foreign(&[host, ("referer", "http://evil.example/depot.example:3000")]),
            Some("Referer")
        );
        assert_eq!(
            foreign(&[host, ("referer", "http://depot.example:3000@evil.example/")]),
            Some("Referer")
        );
        assert_eq!(foreign(&[host, ("referer", "not a url")]), Some("Referer"));
        // A matching Origin does not excuse a foreign Referer.
        assert_eq!(
            foreign(&[
                host,
                ("origin", "http://depot.example:3000"),
                ("referer", "http://evil.example/")
            ]),
            Some("Referer")
        );
        // Without a Host, nothing is this site.
        assert_eq!(
            foreign(&[("origin", "http://depot.example")]),
            Some("Origin")
        );
    }
}
