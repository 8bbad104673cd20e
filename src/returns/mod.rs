//! Returns into quarantine (issue 33): goods coming back — from a customer, with or without the
//! order that shipped them — are received into a quarantine location of a warehouse
//! (`RETURN`), where they are never available: not shipped, reserved, counted or put away. A
//! manager later disposes of them: back to a storage location (`RETURN_RESTOCK`) or written off
//! (`RETURN_SCRAP`). Three movement kinds on the pipeline, and the return itself: what came back
//! of each lot, where, why, and what became of it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::movement::{LineResult, LineStatus, MovementResponse};

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// Why goods came back.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnReason {
    CustomerReturn,
    Damaged,
    WrongItem,
    Expired,
    Other,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 5] = [
        ReturnReason::CustomerReturn,
        ReturnReason::Damaged,
        ReturnReason::WrongItem,
        ReturnReason::Expired,
        ReturnReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::CustomerReturn => "CUSTOMER_RETURN",
            ReturnReason::Damaged => "DAMAGED",
            ReturnReason::WrongItem => "WRONG_ITEM",
            ReturnReason::Expired => "EXPIRED",
            ReturnReason::Other => "OTHER",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// What becomes of returned goods.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisposeAction {
    /// Back to a storage location of the return's warehouse, available again.
    Restock,
    /// Written off.
    Scrap,
}

impl DisposeAction {
    pub const ALL: [DisposeAction; 2] = [DisposeAction::Restock, DisposeAction::Scrap];

    pub fn as_str(self) -> &'static str {
        match self {
            DisposeAction::Restock => "RESTOCK",
            DisposeAction::Scrap => "SCRAP",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// Where a return is: `OPEN` while anything of it waits in quarantine, `DISPOSED` once all of
/// it is restocked or scrapped.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnStatus {
    Open,
    Disposed,
}

impl ReturnStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Open => "OPEN",
            ReturnStatus::Disposed => "DISPOSED",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [ReturnStatus::Open, ReturnStatus::Disposed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// The body of `POST /returns`: goods coming back into quarantine. With `order_ref`, each line
/// returns at most what that order shipped of the item and batch (less what came back before),
/// and the batch defaults to the one shipped. `warehouse_code` defaults to the order's warehouse,
/// or the only one.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    pub r#ref: String,
    #[serde(default)]
    pub order_ref: Option<String>,
    #[serde(default)]
    pub warehouse_code: Option<String>,
    pub lines: Vec<ReturnLineInput>,
}

/// One line coming back: an item, a quantity, why; optionally its batch and expiry date and the
/// quarantine location it goes to (default: the warehouse's `QUARANTINE`, made the first time).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub sku: Option<String>,
    pub qty: i64,
    #[serde(default)]
    pub batch_code: Option<String>,
    #[serde(default)]
    pub expiry_date: Option<NaiveDate>,
    /// `CUSTOMER_RETURN`, `DAMAGED`, `WRONG_ITEM`, `EXPIRED` or `OTHER` (with a note).
    #[serde(default)]
    pub reason_code: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub location_id: Option<i64>,
    #[serde(default)]
    pub location_code: Option<String>,
}

/// The body of `POST /returns/{ref}/dispose` (managers): per line, the **whole** quantity of the
/// item (and batch) restocked at that location — or scrapped — so far, as a transfer's receipt
/// does; so a retry, or the same disposition sent twice at once, changes nothing.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisposeReturn {
    pub lines: Vec<DisposeLineInput>,
}

/// One disposition: `RESTOCK` names the storage location, `SCRAP` none.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisposeLineInput {
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub sku: Option<String>,
    pub qty: i64,
    #[serde(default)]
    pub batch_code: Option<String>,
    /// `RESTOCK` or `SCRAP`.
    pub action: String,
    #[serde(default)]
    pub location_id: Option<i64>,
    #[serde(default)]
    pub location_code: Option<String>,
}

/// What came back of one lot at one quarantine location, and what became of it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    /// The line of the request that brought it back.
    pub line: i64,
    pub item_id: i64,
    pub sku: String,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub location_code: String,
    pub qty: i64,
    pub reason_code: String,
    pub note: Option<String>,
    pub restocked: i64,
    pub scrapped: i64,
    /// `qty − restocked − scrapped`: still in quarantine.
    pub in_quarantine: i64,
}

/// What the dispositions of one lot have done so far with one action at one place: the
/// quantity a new disposition line names is this total, plus what it adds.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnDisposal {
    pub sku: String,
    pub batch_code: String,
    pub action: DisposeAction,
    /// Where it was restocked; `None` for `SCRAP`.
    pub location_code: Option<String>,
    pub qty: i64,
}

/// A return (`GET /returns/{ref}`, and the answer of receiving and disposing).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    pub r#ref: String,
    pub warehouse_code: String,
    pub order_ref: Option<String>,
    pub status: ReturnStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub lines: Vec<ReturnLine>,
    pub disposals: Vec<ReturnDisposal>,
}

/// The answer of `POST /returns`: the return and what the request moved into quarantine, line
/// by line (`IDEMPOTENT` lines were received before).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnResponse {
    pub r#return: Return,
    pub movement: MovementResponse<LineResult>,
}

/// One line of a disposition as applied: `qty` the whole quantity so far, `moved` what this
/// request moved of it (0: `IDEMPOTENT`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisposeLineResult {
    pub ref_line: u32,
    pub item_id: i64,
    pub sku: String,
    pub batch_code: String,
    pub action: DisposeAction,
    pub location_code: Option<String>,
    pub qty: i64,
    pub moved: i64,
    pub status: LineStatus,
}

/// The answer of `POST /returns/{ref}/dispose`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisposeResponse {
    pub r#return: Return,
    pub status: LineStatus,
    pub lines: Vec<DisposeLineResult>,
}

/// `GET /returns?status=&warehouse=&order_ref=&offset=&limit=`: newest first.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReturnFilter {
    pub status: Option<String>,
    pub warehouse: Option<String>,
    pub order_ref: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// One page of returns.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnList {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub returns: Vec<Return>,
}
