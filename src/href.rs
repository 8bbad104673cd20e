//! Links: a query value percent-encoded, a path with its query. Every layer may build one (a
//! page's links, a redirect to sign-in).

/// A link to the current path with `params` as its query (blank values left out).
pub fn query_href(path: &str, params: &[(&str, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_links_encode_and_skip_blanks() {
        assert_eq!(
            query_href("/items", &[("q", "绿 茶&".into()), ("page", "".into())]),
            "/items?q=%E7%BB%BF%20%E8%8C%B6%26"
        );
        assert_eq!(query_href("/items", &[]), "/items");
    }
}
