//! Who is asking, behind a reverse proxy (issue 30): `DEPOT_TRUSTED_PROXIES` lists the addresses
//! (or networks) whose `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto` are
//! believed; none by default. Anyone can send those headers, so from any other peer they are
//! ignored: the client is the TCP peer and the site is the request's own `Host`.
//!
//! Behind a trusted proxy the client is the last address of `X-Forwarded-For` that is not
//! itself a trusted proxy (a client may write any address it likes at the front of the list;
//! only what the trusted hops appended counts), and the site is the first `X-Forwarded-Host`
//! with the scheme of the first `X-Forwarded-Proto`, as the browser saw them.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The proxies whose forwarding headers Depot believes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list of addresses (`127.0.0.1`, `::1`) and networks (`10.0.0.0/8`);
    /// empty for none.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = match part.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => part.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
                    format!("{part:?} is neither an IP address nor a network like 10.0.0.0/8")
                })?,
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:127.0.0.1`, a dual-stack socket's peer) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Who is asking and which site they asked for, as far as Depot can believe it; set on every
/// request by [`identify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the peer, or behind trusted proxies the one they name.
    pub addr: Option<IpAddr>,
    /// The host (and port) the browser used, from a trusted proxy's `X-Forwarded-Host`.
    pub forwarded_host: Option<String>,
    /// `http` or `https` as the browser used it, from a trusted proxy's `X-Forwarded-Proto`.
    pub forwarded_proto: Option<String>,
}

impl Client {
    /// What the request's headers say, believed only as far as `peer` is a trusted proxy.
    pub fn of(headers: &HeaderMap, peer: Option<IpAddr>, proxies: &TrustedProxies) -> Self {
        let Some(peer) = peer.map(canonical) else {
            return Self::default();
        };
        if !proxies.trusts(peer) {
            return Self {
                addr: Some(peer),
                ..Self::default()
            };
        }
        let first = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        // The hops, oldest first, then the peer itself; the client is the last untrusted one.
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| parse_hop(hop.trim()))
            .map(canonical)
            .collect();
        let addr = hops
            .iter()
            .rev()
            .find(|ip| !proxies.trusts(**ip))
            .or(hops.first())
            .copied()
            .unwrap_or(peer);
        Self {
            addr: Some(addr),
            forwarded_host: first("x-forwarded-host"),
            forwarded_proto: first("x-forwarded-proto").map(|p| p.to_ascii_lowercase()),
        }
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Puts the request's [`Client`] in its extensions for the layers and handlers after it
/// (`proxies`: the configured `DEPOT_TRUSTED_PROXIES`).
pub async fn identify(
    State(proxies): State<std::sync::Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let client = Client::of(request.headers(), peer, &proxies);
    request.extensions_mut().insert(client);
    next.run(request).await
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};

    /// A header map of `pairs` (repeated names append).
    pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::try_from(*name).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn proxies_parse_as_addresses_and_networks() {
        let proxies = TrustedProxies::parse(" 127.0.0.1, 10.0.0.0/8 ,::1").unwrap();
        assert!(proxies.trusts("127.0.0.1".parse().unwrap()));
        assert!(proxies.trusts("10.9.8.7".parse().unwrap()));
        assert!(proxies.trusts("::ffff:127.0.0.1".parse().unwrap()));
        assert!(proxies.trusts("::1".parse().unwrap()));
        assert!(!proxies.trusts("127.0.0.2".parse().unwrap()));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("localhost").is_err());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_peer() {
        let sent = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-host", "depot.example"),
            ("x-forwarded-proto", "https"),
        ]);
        let none = TrustedProxies::default();
        assert_eq!(
            Client::of(&sent, ip("198.51.100.1"), &none),
            Client {
                addr: ip("198.51.100.1"),
                ..Client::default()
            }
        );
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(
            Client::of(&sent, ip("127.0.0.1"), &proxies),
            Client {
                addr: ip("203.0.113.9"),
                forwarded_host: Some("depot.example".into()),
                forwarded_proto: Some("https".into()),
            }
        );
        // Not trusted: the peer, whatever it says.
        assert_eq!(
            Client::of(&sent, ip("127.0.0.2"), &proxies).addr,
            ip("127.0.0.2")
        );
    }

    #[test]
    fn the_client_is_the_last_address_no_trusted_proxy_added() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        // A client wrote 1.1.1.1 itself; the edge proxy 10.0.0.5 appended the real peer.
        let chain = headers(&[
            ("x-forwarded-for", "1.1.1.1, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.5"),
        ]);
        assert_eq!(
            Client::of(&chain, ip("127.0.0.1"), &proxies).addr,
            ip("203.0.113.9")
        );
        // Every hop trusted: the first.
        let inside = headers(&[("x-forwarded-for", "10.0.0.7, 10.0.0.5")]);
        assert_eq!(
            Client::of(&inside, ip("127.0.0.1"), &proxies).addr,
            ip("10.0.0.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            Client::of(&HeaderMap::new(), ip("127.0.0.1"), &proxies).addr,
            ip("127.0.0.1")
        );
        // Ports and brackets.
        let ported = headers(&[("x-forwarded-for", "[2001:db8::1]:443")]);
        assert_eq!(
            Client::of(&ported, ip("127.0.0.1"), &proxies).addr,
            ip("2001:db8::1")
        );
    }
}
