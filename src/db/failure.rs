//! What a failed database call means for the request: the one table from the database's
//! refusals ([`DbFailure`], [`classify`]) to Depot's answers ([`AppError`]).

use serde_json::json;

use crate::db::{classify, ConstraintKind, DbFailure, Violation};
use crate::error::{AppError, ErrorCode};

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match classify(&error) {
            DbFailure::Unavailable => {
                tracing::warn!(cause = %crate::error::error_chain(&error), "database unavailable");
                AppError::unavailable()
            }
            DbFailure::Contention => {
                // Retried by `Db::write`, which warns if it gives up.
                tracing::debug!(cause = %crate::error::error_chain(&error), "database contention");
                AppError::contention()
            }
            DbFailure::Constraint(violation) => {
                let answer = constraint_error(&violation);
                if answer.is_none() {
                    tracing::warn!(
                        cause = %crate::error::error_chain(&error),
                        "violation of a constraint without a mapping"
                    );
                }
                answer.unwrap_or_else(|| AppError::conflict(tr!(errors.conflict.db_rule)))
            }
            // A safety net: every parser refuses control characters in the fields it knows.
            DbFailure::BadText => {
                tracing::warn!(cause = %crate::error::error_chain(&error), "text the database cannot store");
                AppError::new(
                    ErrorCode::ValidationFailed,
                    tr!(errors.value.text_unstorable),
                )
            }
            DbFailure::Other => AppError::internal(&error),
        }
    }
}

/// The one table from schema rules (every migration) to answers: a violation is never a 500
/// (SPEC §4). A name is either spelling a backend gives: PostgreSQL's constraint or unique
/// index name, or SQLite's columns for unique and not-null rules (`items.sku`; a unique
/// index over an expression by its name). Every rule in either database's catalogue has an
/// arm (tests/depot/constraints.rs); `None` for a rule with no mapping here, which the caller
/// logs and answers `CONFLICT`.
pub fn constraint_error(violation: &Violation) -> Option<AppError> {
    let Some(name) = violation.name.as_deref() else {
        return match violation.kind {
            // SQLite does not name foreign keys. Every row a change refers to was looked up
            // in the same transaction, so a missing one vanished under it: a conflict.
            ConstraintKind::ForeignKey => Some(vanished()),
            _ => None,
        };
    };
    let field = |field: &str, reason: String| AppError::validation(field, reason);
    let length = |name: &str, min: usize, max: usize| {
        field(name, tr!(errors.value.chars_between, min = min, max = max))
    };
    let at_most = |name: &str, max: usize| field(name, tr!(errors.value.at_most_chars, max = max));
    Some(match name {
        "items_sku_key" | "items.sku" => {
            AppError::conflict(tr!(errors.item.this_sku_exists))
                .with_details(json!({"field": "sku"}))
        }
        "items_barcode" | "items.barcode" => {
            AppError::conflict(tr!(errors.item.this_barcode_exists))
                .with_details(json!({"field": "barcode"}))
        }
        "users_username_unique" | "users.username" => {
            AppError::conflict(tr!(errors.auth.username_exists, username = ""))
                .with_details(json!({"field": "username"}))
        }
        "api_tokens_name_unique" | "api_tokens.name" => {
            AppError::conflict(tr!(errors.auth.token_exists, name = ""))
                .with_details(json!({"field": "name"}))
        }
        "locations_warehouse_code_key" | "locations.warehouse_id, locations.code" => {
            AppError::conflict(tr!(errors.location.this_code_exists))
                .with_details(json!({"field": "code"}))
        }
        "warehouses_code_key" | "warehouses.code" => {
            AppError::conflict(tr!(errors.warehouse.this_code_exists))
                .with_details(json!({"field": "code"}))
        }
        // Creating an order reads its ref first (the same ref again answers that order), so
        // this is a twin request that created it meanwhile: a retry reads it.
        "orders_ref_key" | "orders.ref" => {
            AppError::conflict(tr!(errors.order.ref_taken))
                .with_details(json!({"field": "ref"}))
        }

        // Lengths and enumerations the request parsers check first: reached only when a
        // check here and there disagree, and then the client's field is still what is wrong.
        "items_sku_length" => length("sku", 1, 64),
        "items_name_length" => length("name", 1, 128),
        "items_spec_length" => at_most("spec", 256),
        "items_unit_length" => length("unit", 1, 16),
        "locations_code_length" => length("code", 1, 32),
        "locations_name_length" => at_most("name", 128),
        "warehouses_code_length" => length("code", 1, 32),
        "warehouses_name_length" => length("name", 1, 128),
        "locations_kind_valid" => {
            field("kind", tr!(errors.value.kind_either))
        }
        "batches_code_length" | "ledger_batches_code_length" => at_most("batch_code", 64),
        "batches_expiry_is_date" | "ledger_batches_expiry_is_date" => {
            field("expiry_date", tr!(errors.value.date))
        }
        "batches_production_is_date" | "ledger_batches_production_is_date" => {
            field("production_date", tr!(errors.value.date))
        }
        "batches_dates_ordered" => {
            field("expiry_date", tr!(errors.value.expiry_before_production))
        }
        // A shipment's ref is `<order ref>#<n>`: the order's ref is what the client sent.
        "stock_ledger_ref_length"
        | "orders_ref_length"
        | "movement_anchors_ref_length" => length("ref", 1, 64),
        "stock_ledger_note_length" => length("note", 1, 500),
        "stock_ledger_reason_code_valid" => field("reason_code", tr!(errors.adjust.reason_code)),
        "order_lines_qty_positive"
        | "stock_ledger_delta_non_zero"
        | "ledger_batches_delta_non_zero" => field("qty", tr!(errors.value.at_least_one)),
        // Line numbers are the lines' places in the request's `lines`, counted from 1.
        "stock_ledger_ref_line_positive"
        | "movement_anchors_ref_line_positive"
        | "order_lines_line_positive" => field("lines", tr!(errors.value.line_number)),
        "order_lines_item_key" | "order_lines.order_id, order_lines.item_id" => {
            field("lines", tr!(errors.order.item_once))
        }
        "orders_policy_valid" => field("policy", tr!(errors.order.policy)),
        "users_role_known" | "api_tokens_role_known" => {
            field("role", tr!(errors.value.role_one_of))
        }
        // A count covers locations or skus, as the request chose by giving one list.
        "counts_scope_kind_valid" | "count_scope_one_of" => {
            field("location_codes", tr!(errors.count.scope))
        }
        "counts_blind_flag" => field("blind", tr!(errors.value.true_or_false)),
        "count_lines_counted_non_negative" => field(
            "counted_qty",
            tr!(errors.adjust.counted_range, max = crate::domain::MAX_QTY),
        ),
        // Migration 0013 (SQLite): a line counts one batch, or the whole stock when the
        // request gave no batch_code.
        "count_lines_whole_flag" => field("batch_code", tr!(errors.count.whole_or_batch)),

        // Quantities never go below zero. The services check what is available under the
        // stock's row lock before taking it, so reaching a check means the stock changed
        // under this request: CONFLICT (retry), not INSUFFICIENT_STOCK, whose
        // `details.shortages` (what is required, what is available) a constraint cannot say.
        "stocks_qty_non_negative"
        | "batches_qty_non_negative"
        | "stock_ledger_after_qty_non_negative"
        | "item_totals_qty_non_negative"
        | "inventory_summary_non_negative" => AppError::conflict(tr!(errors.conflict.went_negative)),
        "batches_reserved_within_qty" => AppError::conflict(tr!(errors.conflict.below_reserved)),
        // The totals kept beside the stock (sharded counts of items in stock, ranks by total).
        "inventory_summary_shard" | "item_total_counts_in_stock" => {
            AppError::conflict(tr!(errors.conflict.totals_changed))
        }

        // Rows created on first use (stocks, batches, totals, ledger detail) or idempotency
        // anchors that a concurrent request created first.
        "stocks_item_location_key"
        | "stocks.item_id, stocks.location_id"
        | "stocks_id_item_location_key"
        | "stocks.id, stocks.item_id, stocks.location_id"
        | "batches_item_location_code_key"
        | "batches.item_id, batches.location_id, batches.batch_code"
        | "item_totals_pkey"
        | "item_totals.item_id"
        | "item_total_counts_pkey"
        | "item_total_counts.total_qty, item_total_counts.shard"
        | "inventory_summary_pkey"
        | "inventory_summary.id"
        | "ledger_batches_pkey"
        | "ledger_batches.ledger_id, ledger_batches.batch_id"
        | "uq_movement_anchors_kind_ref_line"
        | "movement_anchors.kind, movement_anchors.ref, movement_anchors.line_key" => AppError::conflict(tr!(errors.conflict.concurrent_change)),

        // An order's lines, reservations, shipments and status, all written under the
        // order's row lock: another request changed them meanwhile.
        "order_lines_pkey"
        | "order_lines.order_id, order_lines.line"
        | "allocations_order_line_batch_key"
        | "allocations.order_id, allocations.line, allocations.batch_id"
        | "allocations_qty_non_negative"
        | "allocations_picked_within_qty"
        | "allocations_shipped_non_negative"
        | "orders_shipments_non_negative"
        | "orders_status_valid" => AppError::conflict(tr!(errors.conflict.order_changed)),

        // A count's lines and status, which Depot derives (expected and recorded are the
        // stock read under its lock, found is a line outside the first listing).
        "uq_count_lines"
        | "count_lines.count_id, count_lines.item_id, count_lines.location_id, count_lines.batch_code"
        | "count_lines_expected_non_negative"
        | "count_lines_recorded_non_negative"
        | "count_lines_counted_with_recorded"
        | "count_lines_found_flag"
        | "counts_status_valid" => AppError::conflict(tr!(errors.conflict.count_changed)),

        // A movement's reason and kind are Depot's (RECEIVE, PUTAWAY, …), never sent; each
        // reason is added to `ledger_reasons` when Depot starts (migration 0016).
        "stock_ledger_reason_fkey"
        | "ledger_reasons_code_valid"
        | "movement_anchors_kind_valid"
        | "movement_anchors_line_key_length" => AppError::conflict(tr!(errors.conflict.ledger_reason)),

        // Keys the database or Depot draws (identity ids, a session's or token's digest, a
        // search index block): taken twice only by a concurrent writer.
        "items_pkey"
        | "items.id"
        | "locations_pkey"
        | "locations.id"
        | "warehouses_pkey"
        | "warehouses.id"
        | "stocks_pkey"
        | "stocks.id"
        | "batches_pkey"
        | "batches.id"
        | "stock_ledger_pkey"
        | "stock_ledger.id"
        | "movement_anchors_pkey"
        | "movement_anchors.id"
        | "ledger_reasons_pkey"
        | "ledger_reasons.code"
        | "counts_pkey"
        | "counts.id"
        | "count_lines_pkey"
        | "count_lines.id"
        | "orders_pkey"
        | "orders.id"
        | "allocations_pkey"
        | "allocations.id"
        | "users_pkey"
        | "users.id"
        | "api_tokens_pkey"
        | "api_tokens.id"
        | "api_tokens_digest_unique"
        | "api_tokens.digest"
        | "sessions_pkey"
        | "sessions.id_digest"
        | "search_grams_pkey"
        | "search_grams.block, search_grams.gram"
        | "search_in_stock_pkey"
        | "search_in_stock.block" => AppError::conflict(tr!(errors.conflict.concurrent_write)),

        // Foreign keys (PostgreSQL's default names): see `vanished`.
        "stocks_item_id_fkey"
        | "stocks_location_id_fkey"
        | "batches_stock_fkey"
        | "stock_ledger_stock_fkey"
        | "ledger_batches_ledger_id_fkey"
        | "ledger_batches_batch_id_fkey"
        | "item_totals_item_id_fkey"
        | "sessions_user_id_fkey"
        | "count_scope_count_id_fkey"
        | "count_scope_location_id_fkey"
        | "count_scope_item_id_fkey"
        | "count_lines_count_id_fkey"
        | "count_lines_item_id_fkey"
        | "count_lines_location_id_fkey"
        | "order_lines_order_id_fkey"
        | "order_lines_item_id_fkey"
        | "allocations_line_fkey"
        | "allocations_batch_id_fkey"
        | "allocations_item_id_fkey"
        | "allocations_location_id_fkey"
        | "movement_anchors_item_id_fkey"
        | "movement_anchors_location_id_fkey"
        | "locations_warehouse_id_fkey"
        | "counts_warehouse_id_fkey"
        | "orders_warehouse_id_fkey" => vanished(),

        // History is corrected by new entries (ADJUST), never rewritten.
        "stock_ledger_append_only" | "ledger_batches_append_only" => {
            AppError::conflict(tr!(errors.conflict.ledger_append_only))
        }

        // Transfers (migration 0019): the ref is the client's; the rest Depot writes under the
        // transfer's lock from what it checked, so only a change made meanwhile breaks them.
        "transfers_ref_key" | "transfers.ref" => {
            AppError::conflict(tr!(errors.conflict.row_vanished)).with_details(json!({"field": "ref"}))
        }
        "transfers_ref_length" => length("ref", 1, 64),
        "transfers_two_warehouses" => field("to_warehouse", tr!(errors.transfer.same_warehouse)),
        "transfers_pkey"
        | "transfers.id"
        | "transfers_status_valid"
        | "transfers_receipts_non_negative"
        | "transfer_lots_pkey"
        | "transfer_lots.transfer_id, transfer_lots.item_id, transfer_lots.batch_code"
        | "transfer_lots_expiry_is_date"
        | "transfer_lots_sent_non_negative"
        | "transfer_lots_received_non_negative"
        | "transfer_lots_lost_non_negative"
        | "transfer_lots_within_sent"
        | "transfer_receipts_pkey"
        | "transfer_receipts.transfer_id, transfer_receipts.item_id, transfer_receipts.location_id, transfer_receipts.batch_code"
        | "transfer_receipts_qty_non_negative" => {
            AppError::conflict(tr!(errors.conflict.transfer_changed))
        }
        "transfers_from_warehouse_id_fkey"
        | "transfers_to_warehouse_id_fkey"
        | "transfer_lots_transfer_id_fkey"
        | "transfer_lots_item_id_fkey"
        | "transfer_receipts_transfer_id_fkey"
        | "transfer_receipts_item_id_fkey"
        | "transfer_receipts_location_id_fkey" => vanished(),

        // Who may work where (migration 0021): Depot writes these rows from warehouses it found
        // and users or tokens it made in the same transaction.
        "user_warehouses_pkey"
        | "user_warehouses.user_id, user_warehouses.warehouse_id"
        | "token_warehouses_pkey"
        | "token_warehouses.token_id, token_warehouses.warehouse_id" => {
            AppError::conflict(tr!(errors.conflict.row_vanished))
        }
        "user_warehouses_user_id_fkey"
        | "user_warehouses_warehouse_id_fkey"
        | "token_warehouses_token_id_fkey"
        | "token_warehouses_warehouse_id_fkey" => vanished(),

        // Returns (migration 0020): the ref is the client's; the rest Depot writes under the
        // return's lock from what it checked, so only a change made meanwhile breaks them.
        "returns_ref_key" | "returns.ref" => {
            AppError::conflict(tr!(errors.conflict.row_vanished)).with_details(json!({"field": "ref"}))
        }
        "returns_ref_length" => length("ref", 1, 64),
        "return_lines_note_length" => length("note", 1, 500),
        "returns_pkey"
        | "returns.id"
        | "returns_status_valid"
        | "returns_disposals_non_negative"
        | "return_lines_pkey"
        | "return_lines.return_id, return_lines.item_id, return_lines.location_id, return_lines.batch_code"
        | "return_lines_expiry_is_date"
        | "return_lines_line_positive"
        | "return_lines_qty_positive"
        | "return_lines_reason_code_valid"
        | "return_lines_restocked_non_negative"
        | "return_lines_scrapped_non_negative"
        | "return_lines_within_qty"
        | "return_disposals_pkey"
        | "return_disposals.id"
        | "return_disposals_key"
        | "return_disposals_action_valid"
        | "return_disposals_qty_non_negative"
        | "return_disposals_place" => AppError::conflict(tr!(errors.conflict.return_changed)),
        "returns_warehouse_id_fkey"
        | "returns_order_id_fkey"
        | "return_lines_return_id_fkey"
        | "return_lines_item_id_fkey"
        | "return_lines_location_id_fkey"
        | "return_disposals_return_id_fkey"
        | "return_disposals_item_id_fkey"
        | "return_disposals_location_id_fkey" => vanished(),

        // What nodes share between requests (migration 0014): only Depot writes these rows,
        // with keys it drew at random and values it made, so a refusal is Depot's fault.
        "form_results_pkey"
        | "form_results.token_digest"
        | "form_results_once_flag"
        | "sign_in_failures_pkey"
        | "sign_in_failures.id"
        | "setup_tokens_pkey"
        | "setup_tokens.token_digest" => AppError::opaque_internal(),

        _ => return None,
    })
}

fn vanished() -> AppError {
    AppError::conflict(tr!(errors.conflict.row_vanished))
}
