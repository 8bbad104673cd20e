//! Tokens this process has recently found valid, so a program's request does not cost a
//! connection and two round trips of its own before its work (issue 30, point 7).
//!
//! Memory here is only a hint: a token found here is still confirmed by the database within
//! the request, so one revoked on any node is refused from the next request on, on every node.
//! The request's first write transaction confirms it as its first statement
//! ([`crate::db::WriteCheck`]); a request that wrote nothing is confirmed after its handler and
//! answered 401 instead if the token was revoked meanwhile. An entry lasts [`FRESH`]: then the
//! token is looked up again, which also notes when it was last used (to the minute).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use crate::auth::Principal;

/// How long an entry is used before the token is looked up (and its use noted) again.
pub const FRESH: TimeDelta = TimeDelta::minutes(1);

/// At most this many tokens are remembered; past it the memory starts again (a warehouse has
/// a handful of programs, not thousands).
const CAPACITY: usize = 1024;

/// Confirms, inside a write transaction, that the token with id `$1` is still valid.
pub const CONFIRM: &str = "SELECT 1 FROM api_tokens WHERE id = $1 AND revoked_at IS NULL";

/// Digest of a secret → the principal it stood for, and when that was read from the database.
#[derive(Debug, Default)]
pub struct KnownTokens {
    entries: Mutex<HashMap<String, (Principal, DateTime<Utc>)>>,
}

impl KnownTokens {
    /// The principal `digest` stood for when last read, if that was less than [`FRESH`] ago.
    pub fn get(&self, digest: &str, now: DateTime<Utc>) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(digest)
            .filter(|(_, read)| now - *read < FRESH && *read <= now)
            .map(|(principal, _)| principal.clone())
    }

    /// Notes what `digest` stands for, read from the database at `now`.
    pub fn remember(&self, digest: String, principal: Principal, now: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&digest) {
            entries.clear();
        }
        entries.insert(digest, (principal, now));
    }

    /// Forgets `digest` (found revoked).
    pub fn forget(&self, digest: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{PrincipalKind, Role};

    fn principal() -> Principal {
        Principal {
            id: 7,
            kind: PrincipalKind::Token,
            name: "erp".into(),
            role: Role::Clerk,
            warehouses: Vec::new(),
        }
    }

    #[test]
    fn an_entry_is_used_for_a_minute_then_read_again() {
        let known = KnownTokens::default();
        let read = DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        known.remember("d".into(), principal(), read);
        assert_eq!(
            known.get("d", read + TimeDelta::seconds(59)),
            Some(principal())
        );
        assert_eq!(known.get("d", read + FRESH), None);
        // A clock that went back does not stretch an entry.
        assert_eq!(known.get("d", read - TimeDelta::seconds(1)), None);
        assert_eq!(known.get("other", read), None);
        known.forget("d");
        assert_eq!(known.get("d", read), None);
    }
}
