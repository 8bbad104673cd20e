//! Transfers between warehouses (issue 33): goods leave the source warehouse into the
//! destination's transit location (`TRANSFER_OUT`, batches and dates travelling), where they
//! count in neither warehouse's available stock, and are received at the destination's
//! locations (`TRANSFER_IN`), in part or whole. Two movement kinds on the pipeline, and the
//! transfer itself: what it carries of each lot, sent and received.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::movement::MovementResponse;
use crate::putaway::PutawayLineResult;

#[cfg(feature = "ssr")]
pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;

/// Where a transfer is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferStatus {
    /// Sent, nothing received yet.
    InTransit,
    PartiallyReceived,
    /// Everything sent is received.
    Received,
    /// Closed with goods missing, written off (`TRANSFER_LOSS`).
    ClosedShort,
}

impl TransferStatus {
    pub const ALL: [TransferStatus; 4] = [
        TransferStatus::InTransit,
        TransferStatus::PartiallyReceived,
        TransferStatus::Received,
        TransferStatus::ClosedShort,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::InTransit => "IN_TRANSIT",
            TransferStatus::PartiallyReceived => "PARTIALLY_RECEIVED",
            TransferStatus::Received => "RECEIVED",
            TransferStatus::ClosedShort => "CLOSED_SHORT",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// The body of `POST /transfers`: the goods to send, each line from a location of the source
/// warehouse.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    pub r#ref: String,
    pub from_warehouse: String,
    pub to_warehouse: String,
    pub lines: Vec<TransferLineInput>,
}

/// One line sent or received: an item (`item_id` or `sku`), a location (`location_id` or
/// `location_code`, in the warehouse it leaves or reaches), a quantity and optionally the batch
/// (sent without one: first expiry first out over what is available).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferLineInput {
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub location_id: Option<i64>,
    #[serde(default)]
    pub location_code: Option<String>,
    pub qty: i64,
    #[serde(default)]
    pub batch_code: Option<String>,
}

/// The body of `POST /transfers/{ref}/receive`: per line, the **whole** quantity of the item (and
/// batch) received at that location of the destination so far, as a pick does — so a retry, or
/// the same receipt sent twice at once, changes nothing.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveTransfer {
    pub lines: Vec<TransferLineInput>,
}

/// What a transfer carries of one lot: sent, received, written off, still on its way.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferLot {
    pub item_id: i64,
    pub sku: String,
    pub batch_code: String,
    pub expiry_date: Option<NaiveDate>,
    pub sent: i64,
    pub received: i64,
    pub lost: i64,
    /// `sent − received − lost`.
    pub in_transit: i64,
}

/// A transfer (`GET /transfers/{ref}`, and the answer of send and receive).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub r#ref: String,
    pub from_warehouse: String,
    pub to_warehouse: String,
    pub status: TransferStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub lots: Vec<TransferLot>,
    /// What each place of the destination has received of each lot so far: a receipt line
    /// names this total, plus what it adds.
    pub receipts: Vec<TransferReceipt>,
}

/// What one place of the destination has received of one lot so far.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferReceipt {
    pub sku: String,
    pub batch_code: String,
    pub location_code: String,
    pub qty: i64,
}

/// The answer of `POST /transfers` and `POST /transfers/{ref}/receive`: the transfer and what
/// the request moved, line by line (`IDEMPOTENT` lines were applied before).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferResponse {
    pub transfer: Transfer,
    pub movement: MovementResponse<PutawayLineResult>,
}

/// `GET /transfers?status=&warehouse=&offset=&limit=`: newest first; `warehouse` is either end.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransferFilter {
    pub status: Option<String>,
    pub warehouse: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// One page of transfers.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferList {
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
    pub transfers: Vec<Transfer>,
}
