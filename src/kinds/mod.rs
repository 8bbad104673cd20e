//! The movement kinds Depot knows, one registration each in [`KINDS`]: the router mounts each
//! kind's JSON endpoint (SPEC §4) from it, served by one handler for every kind; the role
//! table ([`crate::auth::access`]) and the navigation read who may use it and its page; the
//! ledger's pages read its reason in words, and the database's table of reasons gets the reason
//! when Depot starts. Each kind's operation in the OpenAPI document is one line of
//! `kind_operation!` in [`serve`]. The list is read on both sides (the navigation hydrates); what
//! only the server has (the kind's type, its handler: [`serve`]) is the server's part of an
//! entry.

use crate::domain::Role;

#[cfg(feature = "ssr")]
pub mod serve;

#[cfg(feature = "ssr")]
pub use serve::{form_role, register_reasons, role_of, router, Serve};

/// A movement kind as the web edge knows it.
pub struct KindEntry {
    /// Its page, and the page's name in the navigation.
    pub page: &'static str,
    pub page_words: fn() -> String,
    /// Its page's server function (`/api/<endpoint>`), which carries out the page's form
    /// (checked when compiling the page: [`is_form`]).
    pub form: &'static str,
    /// Who may use it: its endpoint, its page, the page's server function and its place in
    /// the navigation.
    pub role: Role,
    /// The reason of its ledger entries, and that reason in words.
    pub reason: &'static str,
    pub reason_words: fn() -> String,
    /// Its JSON endpoint and the endpoint's handler.
    #[cfg(feature = "ssr")]
    pub serve: Serve,
}

/// One registration: the kind's type (the server's part), the catalogue of its page's words
/// (where its name in the navigation, `nav`, and its ledger reason's, `ledger_reason`, are
/// too) and what the pages know of it.
macro_rules! kind {
    ($kind:ty {
        words: $words:ident,
        page: $page:literal,
        form: $form:literal,
        role: $role:expr,
        reason: $reason:literal $(,)?
    }) => {
        KindEntry {
            page: $page,
            page_words: || tr!($words.nav),
            form: $form,
            role: $role,
            reason: $reason,
            reason_words: || tr!($words.ledger_reason),
            #[cfg(feature = "ssr")]
            serve: serve::serve::<$kind>($reason),
        }
    };
}

/// Every movement kind, in the navigation's order: adding one is one entry here (and its
/// `kind_operation!` line in [`serve`]).
pub const KINDS: [KindEntry; 4] = [
    kind!(crate::inbound::service::Receive {
        words: inbound,
        page: "/inbound",
        form: "/api/receive_goods",
        role: Role::Clerk,
        reason: "RECEIVE",
    }),
    kind!(crate::putaway::service::Putaway {
        words: putaway,
        page: "/putaway",
        form: "/api/put_away",
        role: Role::Clerk,
        reason: "PUTAWAY",
    }),
    kind!(crate::outbound::service::Outbound {
        words: outbound,
        page: "/outbound",
        form: "/api/ship_order",
        role: Role::Clerk,
        reason: "OUTBOUND",
    }),
    kind!(crate::adjust::service::Adjust {
        words: adjust,
        page: "/adjust",
        form: "/api/adjust_stock",
        role: Role::Manager,
        reason: "ADJUST",
    }),
];

/// Whether a kind's registration names `page` and its server function `form` (a movement
/// page's island asserts its own, when compiling).
pub const fn is_form(page: &str, form: &str) -> bool {
    let mut i = 0;
    while i < KINDS.len() {
        if same(KINDS[i].page, page) && same(KINDS[i].form, form) {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether two texts are the same, when compiling.
pub(crate) const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Words in the page's language.
pub type Words = fn() -> String;

/// The ledger reasons of movement kinds served by endpoints of their own rather than from
/// [`KINDS`] (transfers, returns), with their words.
pub const OTHER_REASONS: [(&str, Words); 6] = [
    ("TRANSFER_OUT", || tr!(transfers.ledger_reason.sent)),
    ("TRANSFER_IN", || tr!(transfers.ledger_reason.received)),
    ("TRANSFER_LOSS", || tr!(transfers.ledger_reason.lost)),
    ("RETURN", || tr!(returns.ledger_reason.returned)),
    ("RETURN_RESTOCK", || tr!(returns.ledger_reason.restocked)),
    ("RETURN_SCRAP", || tr!(returns.ledger_reason.scrapped)),
];

/// The ledger's reasons, each once, in the order of [`KINDS`], then [`OTHER_REASONS`].
pub fn reasons() -> Vec<&'static str> {
    let mut reasons: Vec<&'static str> = Vec::new();
    let all = KINDS
        .iter()
        .map(|kind| kind.reason)
        .chain(OTHER_REASONS.iter().map(|(reason, _)| *reason));
    for reason in all {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    reasons
}

/// A ledger reason in words (the code itself when no kind has it).
pub fn reason_words(code: &str) -> String {
    KINDS
        .iter()
        .find(|k| k.reason == code)
        .map(|k| (k.reason_words)())
        .or_else(|| {
            OTHER_REASONS
                .iter()
                .find(|(reason, _)| *reason == code)
                .map(|(_, words)| words())
        })
        .unwrap_or_else(|| code.to_string())
}
