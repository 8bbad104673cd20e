//! Writing what one wave of a movement did: its ledger entries with their batch detail, and the
//! anchors of its lines. On PostgreSQL that is one statement — the entries' insert, with the
//! detail and the anchors joined to the ids it took in data-modifying `WITH`s — not three
//! round trips. SQLite has no data-modifying `WITH`: there they are three statements.

use std::ops::Range;

use sqlx::QueryBuilder;

use crate::db::Tx;
use crate::error::AppError;
use crate::movement::anchors::{self, Anchor};
use crate::movement::ledger::{self, LedgerEntry, Stamp};
use crate::movement::projections::{self, MaybeEmptied};
use crate::movement::ROWS_PER_STATEMENT;

/// A line's anchor, whose ledger ids are those of `entries` (indexes into the wave's entries,
/// one per leg) once they are written.
#[derive(Debug, Clone)]
pub struct NewAnchor {
    pub anchor: Anchor,
    pub entries: Range<usize>,
}

/// Appends `entries` to the ledger with their batch detail, in order, anchors the lines of
/// `anchor_ref` as `kind`'s, and deletes the counts by total the stock change left at zero.
pub async fn record(
    tx: &mut Tx,
    kind: &str,
    anchor_ref: &str,
    stamp: Stamp<'_>,
    entries: &[LedgerEntry],
    anchors: Vec<NewAnchor>,
    emptied: &MaybeEmptied,
) -> Result<(), AppError> {
    let detail = entries.iter().map(|e| e.batches.len()).sum::<usize>();
    let one_statement =
        !entries.is_empty() && entries.len().max(detail).max(anchors.len()) <= ROWS_PER_STATEMENT;
    match tx {
        Tx::Postgres(conn) if one_statement => {
            let places = ledger::places(entries);
            let mut query = QueryBuilder::new("WITH e AS (");
            ledger::push_entries(&mut query, stamp, entries, true);
            query.push("), ");
            query.push(ledger::NUMBERED);
            projections::push_tidy(&mut query, emptied);
            ledger::push_detail(&mut query, entries, &places);
            let written: Vec<Anchor> = anchors.iter().map(|a| a.anchor.clone()).collect();
            query.push("a AS (");
            // An anchor's entry ids, as the JSON array `[12,13]`, from the ids `e` took.
            anchors::push_insert(&mut query, kind, anchor_ref, &written, |row, a| {
                if anchors[a].entries.is_empty() {
                    row.push_bind("[]".to_string());
                    return;
                }
                row.push("concat('[', concat_ws(','");
                for i in anchors[a].entries.clone() {
                    row.push_unseparated(", (SELECT id FROM n WHERE stock_id = ")
                        .push_bind_unseparated(entries[i].stock_id)
                        .push_unseparated(" AND ref_line = ")
                        .push_bind_unseparated(entries[i].ref_line as i32)
                        .push_unseparated(" AND place = ")
                        .push_bind_unseparated(places[i])
                        .push_unseparated(")");
                }
                row.push_unseparated("), ']')");
            });
            query.push(") SELECT id, stock_id, ref_line FROM e");
            let rows: Vec<(i64, i64, i32)> = query.build_query_as().fetch_all(&mut **conn).await?;
            ledger::ids_in_order(entries, rows).map(drop)
        }
        _ => {
            projections::tidy(tx, emptied).await?;
            let ids = ledger::append_ledger(tx, stamp, entries).await?;
            let written: Vec<Anchor> = anchors
                .into_iter()
                .map(
                    |NewAnchor {
                         mut anchor,
                         entries,
                     }| {
                        anchor.ledger_ids = ids[entries].to_vec();
                        anchor
                    },
                )
                .collect();
            anchors::write(tx, kind, anchor_ref, &written).await
        }
    }
}
