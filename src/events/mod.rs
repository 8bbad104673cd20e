//! The change feed (SPEC §11): the ledger's entries after a cursor, oldest first, so an ERP
//! can follow what moved without reading pages of the ledger again.

use serde::{Deserialize, Serialize};

use crate::ledger::LedgerRow;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod service;

/// `GET /events?after=&limit=&wait=`; every parameter optional.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventsQuery {
    /// The cursor: entries with a larger id follow (0, the default, is the beginning).
    pub after: Option<i64>,
    /// At most this many entries (1 to 1000; 100 by default).
    pub limit: Option<i64>,
    /// Seconds to wait for an entry when there is none yet (0 to 30; 0 by default).
    pub wait: Option<i64>,
}

/// One answer of the feed: the entries after the cursor, oldest first, and the cursor to ask
/// with next time (`after` again when nothing new is final yet).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<LedgerRow>,
    pub next: i64,
}
