//! Results of no-JavaScript form posts, kept on the server for a short while.
//!
//! A plain form post is answered with a redirect back to its page (so reloading the page does not
//! post again). The result must survive that redirect, but not in the URL: a URL can be crafted
//! to show anything, ends up in logs and history, and has a size limit. So the result is kept
//! here under an unguessable token, the redirect carries only the token (and the movement's ref,
//! for people), and the page reads the result back. Tokens live [`TTL`]; the store holds at most
//! [`MAX_ENTRIES`] results and [`MAX_BYTES`] of them, forgetting the oldest first.
//!
//! The store lives in one server process; behind several Depot processes without sticky
//! sessions, a redirect may reach one that does not know the token, and the page then points
//! to the ledger instead of showing the result.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a result can be read back.
pub const TTL: Duration = Duration::from_secs(15 * 60);
/// At most this many results are kept.
pub const MAX_ENTRIES: usize = 10_000;
/// At most this many bytes of results are kept (a 1 000-line form's result is about 300 KB).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// A token: 128 random bits as 32 lowercase hex digits.
const TOKEN_LEN: usize = 32;

/// The results of recent no-JavaScript form posts, by token.
#[derive(Debug)]
pub struct FlashStore {
    inner: Mutex<Inner>,
    ttl: Duration,
    max_entries: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Tokens oldest first; with one TTL for all, also the order they expire in.
    order: VecDeque<String>,
    bytes: usize,
}

#[derive(Debug)]
struct Entry {
    /// The page the result belongs to, e.g. `/outbound`.
    page: String,
    /// The movement's ref ("" for forms without one).
    reference: String,
    stored_at: Instant,
    json: String,
    /// Forgotten at its first read.
    once: bool,
}

impl Default for FlashStore {
    fn default() -> Self {
        Self::new(TTL, MAX_ENTRIES, MAX_BYTES)
    }
}

impl FlashStore {
    pub fn new(ttl: Duration, max_entries: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            ttl,
            max_entries,
            max_bytes,
        }
    }

    /// Keeps `json`, the result of a post from `page` under `reference`; returns its token, or
    /// `None` when it cannot be kept (larger than the whole store, or no randomness).
    pub fn put(&self, page: &str, reference: &str, json: String) -> Option<String> {
        self.keep(page, reference, json, false)
    }

    /// Like [`FlashStore::put`], for a result that must be shown only once (a new API token's
    /// secret): the first read takes it away.
    pub fn put_once(&self, page: &str, reference: &str, json: String) -> Option<String> {
        self.keep(page, reference, json, true)
    }

    fn keep(&self, page: &str, reference: &str, json: String, once: bool) -> Option<String> {
        let size = entry_size(page, reference, &json);
        if size > self.max_bytes {
            tracing::warn!(size, "a form result too large to keep for its page");
            return None;
        }
        let token = new_token()?;
        let now = Instant::now();
        let mut inner = self.lock();
        inner.forget_expired(now, self.ttl);
        while !inner.order.is_empty()
            && (inner.entries.len() >= self.max_entries || inner.bytes + size > self.max_bytes)
        {
            inner.forget_oldest();
        }
        inner.bytes += size;
        inner.order.push_back(token.clone());
        inner.entries.insert(
            token.clone(),
            Entry {
                page: page.to_string(),
                reference: reference.to_string(),
                stored_at: now,
                json,
                once,
            },
        );
        Some(token)
    }

    /// The result kept under `token`, if it is still here and was posted from `page` under
    /// `reference`. Reading does not consume it (reloading the page shows it again), unless it
    /// was kept with [`FlashStore::put_once`].
    pub fn get(&self, page: &str, reference: &str, token: &str) -> Option<String> {
        if !is_token(token) {
            return None;
        }
        let now = Instant::now();
        let mut inner = self.lock();
        inner.forget_expired(now, self.ttl);
        let entry = inner
            .entries
            .get(token)
            .filter(|entry| entry.page == page && entry.reference == reference)?;
        if !entry.once {
            return Some(entry.json.clone());
        }
        // Its place in `order` goes when it would have expired.
        let entry = inner.entries.remove(token)?;
        inner.bytes -= entry_size(&entry.page, &entry.reference, &entry.json);
        Some(entry.json)
    }

    /// How many results are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock, and the map stays valid if something did.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn forget_expired(&mut self, now: Instant, ttl: Duration) {
        while let Some(token) = self.order.front() {
            let expired = self
                .entries
                .get(token)
                .is_none_or(|entry| now.duration_since(entry.stored_at) >= ttl);
            if !expired {
                break;
            }
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some(token) = self.order.pop_front() {
            if let Some(entry) = self.entries.remove(&token) {
                self.bytes -= entry_size(&entry.page, &entry.reference, &entry.json);
            }
        }
    }
}

fn entry_size(page: &str, reference: &str, json: &str) -> usize {
    TOKEN_LEN + page.len() + reference.len() + json.len()
}

/// 128 bits from the operating system's random source, as hex.
fn new_token() -> Option<String> {
    let mut bytes = [0u8; TOKEN_LEN / 2];
    if let Err(error) = getrandom::fill(&mut bytes) {
        tracing::error!(%error, "no randomness for a form result token");
        return None;
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `token` has a token's form (so nothing else is looked up).
pub fn is_token(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_read_back_by_its_token_page_and_ref() {
        let store = FlashStore::default();
        let token = store.put("/outbound", "SO-1", "{}".into()).unwrap();
        assert!(is_token(&token));
        assert_eq!(
            store.get("/outbound", "SO-1", &token).as_deref(),
            Some("{}")
        );
        assert_eq!(
            store.get("/outbound", "SO-1", &token).as_deref(),
            Some("{}"),
            "reading again (a reload) still finds it"
        );
        assert_eq!(store.get("/inbound", "SO-1", &token), None);
        assert_eq!(store.get("/outbound", "SO-2", &token), None);
        assert_eq!(store.get("/outbound", "SO-1", &"0".repeat(32)), None);
        assert_eq!(store.get("/outbound", "SO-1", "not a token"), None);
    }

    #[test]
    fn a_result_kept_once_is_gone_after_its_first_read() {
        let store = FlashStore::new(TTL, 10, 1 << 20);
        let token = store
            .put_once("/admin/tokens", "", "secret".into())
            .unwrap();
        assert_eq!(store.get("/admin/tokens", "x", &token), None, "wrong ref");
        assert_eq!(
            store.get("/admin/tokens", "", &token).as_deref(),
            Some("secret")
        );
        assert_eq!(store.get("/admin/tokens", "", &token), None);
        assert!(store.is_empty());
        // Its byte count went with it: the store still takes a full load.
        let big = "x".repeat((1 << 20) - 200);
        assert!(store.put("/items", "", big).is_some());
    }

    #[test]
    fn tokens_differ() {
        let store = FlashStore::default();
        let a = store.put("/items", "", "1".into()).unwrap();
        let b = store.put("/items", "", "1".into()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn results_expire() {
        let store = FlashStore::new(Duration::ZERO, 10, 1 << 20);
        let token = store.put("/items", "", "1".into()).unwrap();
        assert_eq!(store.get("/items", "", &token), None);
        assert!(store.is_empty());
    }

    #[test]
    fn the_oldest_results_make_room() {
        let store = FlashStore::new(TTL, 3, 1 << 20);
        let tokens: Vec<String> = (0..5)
            .map(|i| store.put("/items", "", i.to_string()).unwrap())
            .collect();
        assert_eq!(store.len(), 3);
        assert_eq!(store.get("/items", "", &tokens[0]), None);
        assert_eq!(store.get("/items", "", &tokens[4]).as_deref(), Some("4"));

        let size = entry_size("/items", "", "xxxx");
        let store = FlashStore::new(TTL, 100, 2 * size);
        let first = store.put("/items", "", "xxxx".into()).unwrap();
        store.put("/items", "", "yyyy".into()).unwrap();
        store.put("/items", "", "zzzz".into()).unwrap();
        assert_eq!(store.len(), 2, "kept within the byte budget");
        assert_eq!(store.get("/items", "", &first), None);
        assert_eq!(store.put("/items", "", "x".repeat(3 * size)), None);
    }
}
