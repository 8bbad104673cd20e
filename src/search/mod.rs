//! Case-insensitive search, the same on both backends: text is folded here, in Rust, once.
//!
//! SQL `lower()` is ASCII-only on SQLite and follows the collation on PostgreSQL, so "ÄPFEL"
//! found "Äpfel" on one backend only. Instead, Depot stores each item's and location's folded
//! text in a `search_text` column (migration 0004) whenever it writes the row, folds the query
//! the same way, and matches with a plain `search_text LIKE '%q%'`: no case rule of the database
//! takes part, so both backends match the same rows.
//!
//! [`fold`] is Unicode compatibility normalisation (NFKC: full-width `Ａ` is `A`, `ﬁ` is `fi`)
//! then lower case, char by char, with the Greek final sigma `ς` as `σ` (so a word's end
//! matches the middle of another). It is not full case folding: `ß` stays `ß` (so "STRASSE"
//! does not find "Straße"), and accents are kept (`ä` ≠ `a`).

use unicode_normalization::UnicodeNormalization;

pub mod index;

use crate::db::{Backend, Db};
use crate::with_pool;

/// Between the fields of one `search_text`: a control character, which no sku, name, code or
/// query may contain, so a pattern never matches across two fields.
pub const FIELD_SEPARATOR: char = '\u{1}';

/// Rows folded per statement (and transaction) by [`backfill`].
const BACKFILL_ROWS: i64 = 1000;

/// `text` as search compares it: NFKC, lower case, final sigma as sigma.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect()
}

/// The `items.search_text` of an item: its sku and name, folded.
pub fn item_search_text(sku: &str, name: &str) -> String {
    format!("{}{FIELD_SEPARATOR}{}", fold(sku), fold(name))
}

/// The `locations.search_text` of a location: its code and name, folded.
pub fn location_search_text(code: &str, name: &str) -> String {
    format!("{}{FIELD_SEPARATOR}{}", fold(code), fold(name))
}

/// The `orders.search_text` of an order: its ref, folded.
pub fn order_search_text(reference: &str) -> String {
    fold(reference)
}

/// How a table's key and name fold into its `search_text`.
type Searched = (
    &'static str,
    &'static str,
    &'static str,
    fn(&str, &str) -> String,
);

/// The tables with a folded `search_text`: the table, its key column, its name column (`''`:
/// none) and how the two fold into the text. `backfill` fills them, `depot check` proves them.
const SEARCHED: [Searched; 3] = [
    ("items", "sku", "name", item_search_text),
    ("locations", "code", "name", location_search_text),
    ("orders", "ref", "''", |reference, _| {
        order_search_text(reference)
    }),
];

/// `q` folded, as `LIKE … ESCAPE '\'` takes it: `%q%`, with the wildcards in `q` taken literally.
/// Matches `q` in any field of a `search_text`.
pub fn like_pattern(q: &str) -> String {
    format!("%{}%", escape_like(&fold(q)))
}

/// Like [`like_pattern`], but matches `q` in the first field only (a location's code, not its
/// name): the separator must follow the match.
pub fn first_field_pattern(q: &str) -> String {
    format!("%{}%{FIELD_SEPARATOR}%", escape_like(&fold(q)))
}

fn escape_like(folded: &str) -> String {
    let mut escaped = String::with_capacity(folded.len());
    for c in folded.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Brings a database up to date: the pending SQL migrations ([`Db::migrate_schema`]), then what
/// SQL cannot compute ([`backfill`]); a no-op when there is nothing to do.
pub async fn migrate(db: &Db) -> Result<(), sqlx::migrate::MigrateError> {
    db.migrate_schema().await?;
    backfill(db)
        .await
        .map_err(sqlx::migrate::MigrateError::Execute)
}

/// Fills the `search_text` of rows written before migration 0004 (its default `''` is never a
/// folded value: a sku and a code are never empty). Idempotent: a no-op once every row has
/// one, found through a partial index of the rows still empty. Runs after the migrations.
///
/// A backfill rewrites every row, so it then tidies up: PostgreSQL's trigram index keeps the
/// new entries in its pending list and the table its dead rows until a VACUUM (a search took
/// 20 ms instead of 2 at 20 000 items, autovacuum off). Then the search index (migration 0011)
/// is built from the folded texts, if it is not yet.
pub async fn backfill(db: &Db) -> Result<(), sqlx::Error> {
    for (table, key, name, search_text) in SEARCHED {
        if backfill_table(db, table, key, name, search_text).await? == 0 {
            continue;
        }
        if db.backend() == Backend::Postgres {
            let tidy = format!("VACUUM (ANALYZE) {table}");
            with_pool!(db, |pool, _backend| sqlx::query(&tidy)
                .execute(pool)
                .await
                .map(drop))?;
        }
    }
    index::backfill(db).await
}

/// Fills one table's empty `search_text`s; returns how many rows it filled.
async fn backfill_table(
    db: &Db,
    table: &str,
    key: &str,
    name: &str,
    search_text: fn(&str, &str) -> String,
) -> Result<usize, sqlx::Error> {
    let pending = format!(
        "SELECT id, {key}, {name} FROM {table} WHERE search_text = '' ORDER BY id LIMIT {BACKFILL_ROWS}"
    );
    let mut filled = 0;
    loop {
        let mut tx = db.begin_write().await?;
        let rows = crate::with_tx!(&mut tx, |conn, _backend| {
            let rows: Vec<(i64, String, String)> =
                sqlx::query_as(&pending).fetch_all(&mut *conn).await?;
            if !rows.is_empty() {
                let mut query = sqlx::QueryBuilder::new(format!(
                    "UPDATE {table} SET search_text = v.column2 FROM ("
                ));
                query.push_values(&rows, |mut row, (id, key, name)| {
                    row.push_bind(*id).push_bind(search_text(key, name));
                });
                query.push(format!(") AS v WHERE {table}.id = v.column1"));
                query.build().execute(&mut *conn).await?;
            }
            rows.len()
        });
        tx.commit().await?;
        filled += rows;
        if rows < BACKFILL_ROWS as usize {
            return Ok(filled);
        }
    }
}

/// Rows whose `search_text` is not what [`fold`] makes of them: (table, id, stored, expected).
/// Reads every item and location (`depot check`).
pub async fn stale_search_texts(
    db: &Db,
) -> Result<Vec<(&'static str, i64, String, String)>, sqlx::Error> {
    let mut stale = Vec::new();
    for (table, key, name, search_text) in SEARCHED {
        let sql = format!("SELECT id, {key}, {name}, search_text FROM {table} ORDER BY id");
        let rows: Vec<(i64, String, String, String)> =
            with_pool!(db, |pool, _backend| sqlx::query_as(&sql)
                .fetch_all(pool)
                .await?);
        for (id, key, name, stored) in rows {
            let expected = search_text(&key, &name);
            if stored != expected {
                stale.push((table, id, stored, expected));
            }
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn upper_and_lower_case_fold_alike() {
        assert_eq!(fold("ÄPFEL"), "äpfel");
        for (upper, lower) in [
            ("ÄPFEL", "äpfel"),
            ("ΣΊΣΥΦΟΣ", "σίσυφος"),
            ("ΣΟΦΙΑ", "σοφια"),
            ("GRÜN", "grün"),
            ("STRASSE", "strasse"),
            ("ÉCOLE", "école"),
        ] {
            assert_eq!(fold(upper), fold(lower), "{upper} / {lower}");
        }
    }

    #[test]
    fn final_sigma_folds_as_sigma() {
        assert_eq!(fold("ΣΊΣΥΦΟΣ"), "σίσυφοσ");
        assert_eq!(fold("σίσυφος"), "σίσυφοσ");
    }

    #[test]
    fn full_width_latin_is_plain_latin() {
        assert_eq!(fold("ＡＢＣ１２３"), "abc123");
        assert_eq!(fold("ａｂｃ"), "abc");
    }

    #[test]
    fn chinese_is_unchanged() {
        assert_eq!(fold("绿茶"), "绿茶");
        assert_eq!(fold("矿泉水 500ml"), "矿泉水 500ml");
    }

    #[test]
    fn sharp_s_is_not_ss() {
        assert_eq!(fold("ẞ"), "ß");
        assert_eq!(fold("Straße"), "straße");
        assert_ne!(fold("STRASSE"), fold("Straße"));
    }

    #[test]
    fn patterns_take_wildcards_literally_and_fold_the_query() {
        assert_eq!(like_pattern("ÄPF"), "%äpf%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
        assert_eq!(like_pattern("ＴＥＡ"), "%tea%");
        assert_eq!(first_field_pattern("A-01"), "%a-01%\u{1}%");
    }

    #[test]
    fn fields_are_folded_apart() {
        assert_eq!(item_search_text("SKU-1", "Äpfel"), "sku-1\u{1}äpfel");
        assert_eq!(location_search_text("A-01", ""), "a-01\u{1}");
    }

    proptest! {
        #[test]
        fn folding_is_idempotent(text in "\\PC{0,16}") {
            let once = fold(&text);
            prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn folding_adds_no_control_character(text in "\\PC{0,16}") {
            prop_assert!(!fold(&text).chars().any(char::is_control));
        }
    }
}
