//! The item search index (migration 0011): which items contain each short piece of text, as
//! bitmaps of item ids, so a search of any length — one Chinese character, a digit, a word —
//! answers from a few hundred rows instead of scanning or ranking every match.
//!
//! A *gram* is a substring of 1 to [`GRAM_CHARS`] characters of one field of an item's folded
//! `search_text` (its sku or its name; never across the two). `search_grams` has a row per gram
//! and block of [`BLOCK_ITEMS`] item ids: 16 words of 64 bits, bit `id % 64` of word
//! `(id / 64) % 16` set when item `id` has the gram, keyed by (block, gram) so the rows one
//! transaction writes (its items are neighbours) lie together. `search_in_stock` has the same bitmaps for
//! the items whose total is positive. Both are written in the transaction that changes what they
//! describe: an item's creation or new name (`reindex`), a movement that brings an item into
//! stock or takes its last unit (`toggle_in_stock`, from `movement::stock`). Writes are plain
//! bitwise updates (`w0 = w0 | $`) the same on both backends, with no read before them; rows are
//! taken in key order, so two transactions cannot deadlock on them.
//!
//! A pattern of at most [`GRAM_CHARS`] folded characters is one gram: its bitmap is exactly the
//! items containing it. A longer one ANDs the bitmaps of the grams that cover it: a superset,
//! which the caller verifies against `search_text` (`Matches::exact` says which). A lookup is
//! one statement whatever the pattern: the bitmaps of the items in stock, block by block, ANDed
//! in SQL with the rows of the pattern's grams ([`lookup`]). `depot check` rebuilds the index
//! from the items and totals in memory and compares ([`stale_rows`]).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::QueryBuilder;

use crate::db::{Db, Tx};
use crate::error::AppError;
use crate::search::FIELD_SEPARATOR;
use crate::{with_pool, with_tx};

/// The longest gram, in characters: patterns up to this long are answered exactly.
pub const GRAM_CHARS: usize = 3;
/// 64-bit words per bitmap row.
pub const WORDS: usize = 16;
/// Item ids per bitmap row.
pub const BLOCK_ITEMS: i64 = 64 * WORDS as i64;
/// Bitmap rows per statement (18 parameters each, within both backends' limits).
const ROWS_PER_STATEMENT: usize = 1000;

/// A set of item ids, by block: the in-memory form of a bitmap table's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemSet(BTreeMap<i64, [u64; WORDS]>);

/// (block, word, bit) of an item id.
fn position(id: i64) -> (i64, usize, u32) {
    (
        id.div_euclid(BLOCK_ITEMS),
        (id.rem_euclid(BLOCK_ITEMS) / 64) as usize,
        (id.rem_euclid(64)) as u32,
    )
}

impl ItemSet {
    pub fn insert(&mut self, id: i64) {
        let (block, word, bit) = position(id);
        self.0.entry(block).or_insert([0; WORDS])[word] |= 1 << bit;
    }

    pub fn contains(&self, id: i64) -> bool {
        let (block, word, bit) = position(id);
        self.0
            .get(&block)
            .is_some_and(|words| words[word] & (1 << bit) != 0)
    }

    /// How many ids the set holds.
    pub fn len(&self) -> i64 {
        self.0
            .values()
            .flat_map(|words| words.iter())
            .map(|w| i64::from(w.count_ones()))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(|words| words.iter().all(|w| *w == 0))
    }

    /// The ids, ascending.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().flat_map(|(block, words)| {
            words.iter().enumerate().flat_map(move |(w, word)| {
                let base = block * BLOCK_ITEMS + (w as i64) * 64;
                let mut rest = *word;
                std::iter::from_fn(move || {
                    (rest != 0).then(|| {
                        let bit = rest.trailing_zeros();
                        rest &= rest - 1;
                        base + i64::from(bit)
                    })
                })
            })
        })
    }

    /// Its non-empty blocks.
    fn blocks(&self) -> impl Iterator<Item = (i64, [u64; WORDS])> + '_ {
        self.0
            .iter()
            .filter(|(_, words)| words.iter().any(|w| *w != 0))
            .map(|(block, words)| (*block, *words))
    }
}

/// Every distinct gram of a folded `search_text`: its substrings of 1 to [`GRAM_CHARS`]
/// characters within one field.
pub fn grams(search_text: &str) -> BTreeSet<String> {
    let mut grams = BTreeSet::new();
    for field in search_text.split(FIELD_SEPARATOR) {
        let chars: Vec<char> = field.chars().collect();
        for start in 0..chars.len() {
            for end in start + 1..=(start + GRAM_CHARS).min(chars.len()) {
                grams.insert(chars[start..end].iter().collect());
            }
        }
    }
    grams
}

/// The most grams a pattern is looked up by: a long pattern's candidates are verified anyway,
/// and each gram is one more primary-key probe per block.
pub const MAX_PATTERN_GRAMS: usize = 4;

/// The grams whose bitmaps, ANDed, hold every item containing the folded `pattern`, and
/// whether they hold exactly those (a pattern of at most [`GRAM_CHARS`] characters is itself a
/// gram). `None` for a pattern no item can contain (it spans the field separator).
///
/// A longer pattern is looked up by the grams that cover it end to end (at characters 0, 3, 6…
/// and the last three), at most [`MAX_PATTERN_GRAMS`] of them, spread over it: overlapping
/// grams add probes, not selectivity worth their cost (`green tea`: `gre`, `en `, `tea`).
pub fn pattern_grams(pattern: &str) -> Option<(Vec<String>, bool)> {
    if pattern.contains(FIELD_SEPARATOR) {
        return None;
    }
    let chars: Vec<char> = pattern.chars().collect();
    if chars.len() <= GRAM_CHARS {
        return Some((vec![pattern.to_string()], true));
    }
    let last = chars.len() - GRAM_CHARS;
    let mut starts: Vec<usize> = (0..last).step_by(GRAM_CHARS).chain([last]).collect();
    if starts.len() > MAX_PATTERN_GRAMS {
        let spread = starts.len() - 1;
        starts = (0..MAX_PATTERN_GRAMS)
            .map(|n| starts[n * spread / (MAX_PATTERN_GRAMS - 1)])
            .collect();
    }
    let grams: BTreeSet<String> = starts
        .into_iter()
        .map(|start| chars[start..start + GRAM_CHARS].iter().collect())
        .collect();
    Some((grams.into_iter().collect(), false))
}

/// An item whose search text changes: its id, its old text (none for a new item), its new one.
pub struct Change<'a> {
    pub id: i64,
    pub old: Option<&'a str>,
    pub new: &'a str,
}

/// Keeps the index of `changes` (new items, new names) in the caller's transaction: the item's
/// bit is set in the rows of its new grams and cleared in those of the grams it no longer has.
/// Rows are written in key order, sets and clears alike, so two transactions that share rows
/// take their locks in the same order.
pub async fn reindex(tx: &mut Tx, changes: &[Change<'_>]) -> Result<(), AppError> {
    // (block, gram) → (bits to set, bits to clear)
    type Edit = ([u64; WORDS], [u64; WORDS]);
    let mut edits: BTreeMap<(i64, String), Edit> = BTreeMap::new();
    for change in changes {
        let new = grams(change.new);
        let old = change.old.map(grams).unwrap_or_default();
        let (block, word, bit) = position(change.id);
        for gram in new.difference(&old) {
            edits.entry((block, gram.clone())).or_default().0[word] |= 1 << bit;
        }
        for gram in old.difference(&new) {
            edits.entry((block, gram.clone())).or_default().1[word] |= 1 << bit;
        }
    }
    let mut pending: Vec<((i64, String), [u64; WORDS])> = Vec::new();
    for (key, (set, clear)) in edits {
        if set.iter().any(|w| *w != 0) {
            pending.push((key.clone(), set));
        }
        if clear.iter().any(|w| *w != 0) {
            // Clearing is rare (a renamed item): the sets before it first, then this row.
            set_bits(tx, &pending).await?;
            pending.clear();
            clear_bits(tx, &key, &clear).await?;
        } else if pending.len() == ROWS_PER_STATEMENT {
            set_bits(tx, &pending).await?;
            pending.clear();
        }
    }
    Ok(set_bits(tx, &pending).await?)
}

/// ORs bits into gram rows (created when missing), in one statement. PostgreSQL takes the
/// rows as one array per column (`unnest`): 18 parameters, not 18 per row, which it binds and
/// plans much faster for the thousands of rows a bulk load writes.
async fn set_bits(tx: &mut Tx, rows: &[((i64, String), [u64; WORDS])]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let update = assignments(|w| format!("search_grams.{w} | excluded.{w}"));
    match tx {
        Tx::Postgres(tx) => {
            let arrays = (0..WORDS)
                .map(|w| format!("${}::bigint[]", w + 3))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO search_grams (block, gram, {}) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], {arrays}) \
                 ON CONFLICT (block, gram) DO UPDATE SET {update}",
                columns()
            );
            let mut query = sqlx::query(&sql)
                .bind(
                    rows.iter()
                        .map(|((block, _), _)| *block)
                        .collect::<Vec<i64>>(),
                )
                .bind(
                    rows.iter()
                        .map(|((_, gram), _)| gram.as_str())
                        .collect::<Vec<&str>>(),
                );
            for w in 0..WORDS {
                query = query.bind(
                    rows.iter()
                        .map(|(_, words)| words[w] as i64)
                        .collect::<Vec<i64>>(),
                );
            }
            query.execute(&mut **tx).await?;
        }
        Tx::Sqlite(tx, _) => {
            let mut query = QueryBuilder::new(format!(
                "INSERT INTO search_grams (block, gram, {}) ",
                columns()
            ));
            query.push_values(rows, |mut row, ((block, gram), words)| {
                row.push_bind(*block).push_bind(gram.as_str());
                for word in words {
                    row.push_bind(*word as i64);
                }
            });
            query.push(format!(" ON CONFLICT (block, gram) DO UPDATE SET {update}"));
            query.build().execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Clears bits of one gram row. A row left empty stays (`depot check` takes it as absent).
async fn clear_bits(
    tx: &mut Tx,
    (block, gram): &(i64, String),
    bits: &[u64; WORDS],
) -> Result<(), AppError> {
    with_tx!(tx, |conn, _backend| {
        let mut query = QueryBuilder::new("UPDATE search_grams SET ");
        let mut list = query.separated(", ");
        for (w, word) in bits.iter().enumerate() {
            list.push(format!("w{w} = w{w} & "))
                .push_bind_unseparated(!*word as i64);
        }
        query
            .push(" WHERE block = ")
            .push_bind(*block)
            .push(" AND gram = ")
            .push_bind(gram.as_str());
        query.build().execute(&mut *conn).await.map(drop)?
    });
    Ok(())
}

/// Flips the in-stock bit of each item that came into stock or went out of it (`by_item`: item
/// id → +1 or -1, from `movement::stock`), in one upsert in block order. A flip is exact because
/// the caller derives each change from the item's total before and after, under its row lock;
/// XOR is written `(a | b) - (a & b)`, which SQLite can say too.
pub async fn toggle_in_stock(tx: &mut Tx, by_item: &BTreeMap<i64, i64>) -> Result<(), AppError> {
    let mut flips = ItemSet::default();
    for (item, change) in by_item {
        if *change != 0 {
            flips.insert(*item);
        }
    }
    let rows: Vec<(i64, [u64; WORDS])> = flips.blocks().collect();
    Ok(flip_in_stock(tx, &rows).await?)
}

/// XORs bitmaps into the rows of items in stock (created when missing), in block order.
async fn flip_in_stock(tx: &mut Tx, rows: &[(i64, [u64; WORDS])]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        with_tx!(tx, |conn, _backend| {
            let mut query = QueryBuilder::new(format!(
                "INSERT INTO search_in_stock (block, {}) ",
                columns()
            ));
            query.push_values(chunk, |mut row, (block, words)| {
                row.push_bind(*block);
                for word in words {
                    row.push_bind(*word as i64);
                }
            });
            query.push(format!(
                " ON CONFLICT (block) DO UPDATE SET {}",
                assignments(|w| format!(
                    "(search_in_stock.{w} | excluded.{w}) - (search_in_stock.{w} & excluded.{w})"
                ))
            ));
            query.build().execute(&mut *conn).await.map(drop)?
        });
    }
    Ok(())
}

/// `w0, w1, …, w15`.
fn columns() -> String {
    (0..WORDS)
        .map(|w| format!("w{w}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `w0 = <value of w0>, …` for an upsert's update.
fn assignments(value: impl Fn(String) -> String) -> String {
    (0..WORDS)
        .map(|w| format!("w{w} = {}", value(format!("w{w}"))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads bitmap rows (`block, w0 … w15`) into a set.
fn read_rows<R: sqlx::Row>(rows: &[R], into: &mut ItemSet) -> Result<(), sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    for row in rows {
        let block: i64 = row.try_get(0)?;
        let words = words_at(row, 1)?;
        let into = into.0.entry(block).or_insert([0; WORDS]);
        for (into, word) in into.iter_mut().zip(words) {
            *into |= word;
        }
    }
    Ok(())
}

/// The 16 words of a bitmap row, from column `first` on.
fn words_at<R: sqlx::Row>(row: &R, first: usize) -> Result<[u64; WORDS], sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut words = [0; WORDS];
    for (w, word) in words.iter_mut().enumerate() {
        *word = row.try_get::<i64, _>(first + w)? as u64;
    }
    Ok(words)
}

/// What the index says of a folded pattern, among the items in stock.
pub struct Matches {
    /// The items in stock that contain the pattern, or (not `exact`) a superset of them.
    pub items: ItemSet,
    /// Whether `items` are exactly the matches; else each must be verified.
    pub exact: bool,
    /// How many items are in stock.
    pub in_stock: i64,
}

/// Looks the folded `pattern` up among the items in stock, inside the caller's (read)
/// transaction, in one statement ([`lookup_sql`]) and one row back: the count of items in
/// stock, and per block the bitmap of the items in stock ANDed with those of the pattern's
/// grams, in SQL (a block missing a gram has no match), packed as text (`block w0 … w15,…`;
/// sqlx hands SQLite's rows over one at a time, and a block's row is 17 values).
pub async fn lookup(tx: &mut Tx, pattern: &str) -> Result<Matches, AppError> {
    // A pattern no item can contain (it spans the field separator) has no grams: no match.
    let (grams, exact) = pattern_grams(pattern).unwrap_or((Vec::new(), true));
    let sql = lookup_sql(grams.len());
    let (in_stock, packed): (i64, Option<String>) = with_tx!(tx, |conn, _backend| {
        let mut query = sqlx::query_as(&sql);
        for gram in &grams {
            query = query.bind(gram.as_str());
        }
        query.fetch_one(&mut *conn).await?
    });
    let mut items = ItemSet::default();
    for row in packed.as_deref().unwrap_or_default().split(',') {
        if row.is_empty() {
            continue;
        }
        let numbers: Vec<i64> = row
            .split(' ')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| bad_row(row))?;
        let [block, words @ ..] = numbers.as_slice() else {
            return Err(bad_row(row));
        };
        if words.len() != WORDS {
            return Err(bad_row(row));
        }
        let words: [u64; WORDS] = std::array::from_fn(|w| words[w] as u64);
        if words.iter().any(|w| *w != 0) {
            items.0.insert(*block, words);
        }
    }
    Ok(Matches {
        items,
        exact,
        in_stock,
    })
}

fn bad_row(row: &str) -> AppError {
    AppError::internal(&std::io::Error::other(format!(
        "a packed search index row is not `block w0 … w15`: {row:?}"
    )))
}

/// The statement of [`lookup`] for a pattern of `grams` grams (`$1`…): the same text on both
/// backends (`||` is text concatenation on both; its precedence differs, so every AND is in
/// brackets). With no gram, the count alone.
pub fn lookup_sql(grams: usize) -> String {
    let mut joins = String::new();
    let mut words = Vec::with_capacity(WORDS);
    for w in 0..WORDS {
        let and: Vec<String> = std::iter::once(format!("s.w{w}"))
            .chain((0..grams).map(|g| format!("g{g}.w{w}")))
            .collect();
        words.push(format!("({})", and.join(" & ")));
    }
    // CROSS JOIN: SQLite then reads the blocks in stock first and probes each gram's row by
    // its key; with a plain JOIN it scanned `search_grams` (PostgreSQL plans either freely).
    let mut conditions = Vec::with_capacity(grams);
    for g in 0..grams {
        joins.push_str(&format!(" CROSS JOIN search_grams g{g}"));
        conditions.push(format!("g{g}.block = s.block AND g{g}.gram = ${}", g + 1));
    }
    let blocks = if grams == 0 {
        "CAST(NULL AS TEXT)".to_string()
    } else {
        format!(
            "(SELECT string_agg(s.block || ' ' || {}, ',') FROM search_in_stock s{joins} WHERE {})",
            words.join(" || ' ' || "),
            conditions.join(" AND ")
        )
    };
    format!(
        "SELECT (SELECT CAST(COALESCE(SUM(items_in_stock), 0) AS BIGINT) FROM inventory_summary), \
         {blocks}"
    )
}

/// The index as the items and their stocks say it should be: (grams, items in stock).
async fn expected(
    db: &Db,
) -> Result<(BTreeMap<(i64, String), [u64; WORDS]>, ItemSet), sqlx::Error> {
    let mut grams_index: BTreeMap<(i64, String), [u64; WORDS]> = BTreeMap::new();
    let mut in_stock = ItemSet::default();
    let mut after = 0_i64;
    loop {
        let rows: Vec<(i64, String)> = with_pool!(db, |pool, _backend| sqlx::query_as(
            "SELECT id, search_text FROM items WHERE id > $1 ORDER BY id LIMIT 5000"
        )
        .bind(after)
        .fetch_all(pool)
        .await?);
        let Some((last, _)) = rows.last() else { break };
        after = *last;
        for (id, text) in &rows {
            let (block, word, bit) = position(*id);
            for gram in grams(text) {
                grams_index.entry((block, gram)).or_insert([0; WORDS])[word] |= 1 << bit;
            }
        }
    }
    // In stock as the stocks say, not `item_totals` (which `depot check` proves apart).
    let ids: Vec<i64> = with_pool!(db, |pool, _backend| sqlx::query_scalar(
        "SELECT item_id FROM stocks GROUP BY item_id HAVING SUM(qty) > 0"
    )
    .fetch_all(pool)
    .await?);
    for id in ids {
        in_stock.insert(id);
    }
    Ok((grams_index, in_stock))
}

/// Builds the index of a database whose items predate it (migration 0011), in one transaction;
/// a no-op once built (an item always has grams, so an empty index with items is unbuilt).
pub async fn backfill(db: &Db) -> Result<(), sqlx::Error> {
    let unbuilt: bool = with_pool!(db, |pool, _backend| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM items) AND NOT EXISTS (SELECT 1 FROM search_grams)"
    )
    .fetch_one(pool)
    .await?);
    if !unbuilt {
        return Ok(());
    }
    let (grams_index, in_stock) = expected(db).await?;
    // On empty tables, the upserts of everyday writes insert exactly these rows.
    let mut tx = db.begin_write().await?;
    let rows: Vec<_> = grams_index.into_iter().collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        set_bits(&mut tx, chunk).await?;
    }
    flip_in_stock(&mut tx, &in_stock.blocks().collect::<Vec<_>>()).await?;
    tx.commit().await
}

/// Where the stored index differs from the one the items and stocks make (`depot check`): one
/// line per differing row, at most `limit` of them. Rows left empty by a rename equal absent ones.
pub async fn stale_rows(db: &Db, limit: usize) -> Result<Vec<String>, sqlx::Error> {
    let (want_grams, want_in_stock) = expected(db).await?;
    let grams_sql = format!("SELECT block, gram, {} FROM search_grams", columns());
    let in_stock_sql = format!("SELECT block, {} FROM search_in_stock", columns());
    let mut have_grams: BTreeMap<(i64, String), [u64; WORDS]> = BTreeMap::new();
    let mut have_in_stock = ItemSet::default();
    with_pool!(db, |pool, _backend| {
        use sqlx::Row;
        let rows = sqlx::query(&grams_sql).fetch_all(pool).await?;
        for row in rows {
            let block: i64 = row.try_get(0)?;
            let gram: String = row.try_get(1)?;
            let words = words_at(&row, 2)?;
            if words.iter().any(|w| *w != 0) {
                have_grams.insert((block, gram), words);
            }
        }
        let rows = sqlx::query(&in_stock_sql).fetch_all(pool).await?;
        read_rows(&rows, &mut have_in_stock)?;
    });
    let mut stale = Vec::new();
    let keys: BTreeSet<&(i64, String)> = want_grams.keys().chain(have_grams.keys()).collect();
    for key in keys {
        let (want, have) = (want_grams.get(key), have_grams.get(key));
        if want != have {
            stale.push(format!(
                "gram {:?} block {}: items {:?} but the index has {:?}",
                key.1,
                key.0,
                ids_of(key.0, want),
                ids_of(key.0, have)
            ));
        }
    }
    let blocks: BTreeSet<i64> = want_in_stock
        .blocks()
        .chain(have_in_stock.blocks())
        .map(|(b, _)| b)
        .collect();
    for block in blocks {
        let (want, have) = (want_in_stock.0.get(&block), have_in_stock.0.get(&block));
        let empty = [0; WORDS];
        if want.unwrap_or(&empty) != have.unwrap_or(&empty) {
            stale.push(format!(
                "in stock, block {block}: items {:?} but the index has {:?}",
                ids_of(block, want),
                ids_of(block, have)
            ));
        }
    }
    stale.truncate(limit);
    Ok(stale)
}

/// The item ids of one block's words.
fn ids_of(block: i64, words: Option<&[u64; WORDS]>) -> Vec<i64> {
    let mut set = ItemSet::default();
    if let Some(words) = words {
        set.0.insert(block, *words);
    }
    set.ids().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn grams_stay_inside_a_field() {
        let grams = grams("ab\u{1}绿茶");
        let all: Vec<&str> = grams.iter().map(String::as_str).collect();
        assert_eq!(all, ["a", "ab", "b", "绿", "绿茶", "茶"]);
    }

    #[test]
    fn short_patterns_are_one_exact_gram() {
        assert_eq!(pattern_grams("茶"), Some((vec!["茶".to_string()], true)));
        assert_eq!(pattern_grams("tea"), Some((vec!["tea".to_string()], true)));
        assert_eq!(
            pattern_grams("green"),
            Some((vec!["een".to_string(), "gre".to_string()], false))
        );
        assert_eq!(
            pattern_grams("green tea"),
            Some((
                vec!["en ".to_string(), "gre".to_string(), "tea".to_string()],
                false
            ))
        );
        // 30 characters: the first, the last and two between, not ten.
        let (long, exact) = pattern_grams("abcdefghijklmnopqrstuvwxyz0123").unwrap();
        assert_eq!(
            (long, exact),
            (
                ["123", "abc", "jkl", "stu"].map(String::from).to_vec(),
                false
            )
        );
        assert_eq!(pattern_grams("a\u{1}b"), None);
    }

    #[test]
    fn sets_hold_ids_across_blocks_and_words() {
        let mut set = ItemSet::default();
        for id in [1, 63, 64, 1023, 1024, 5000, 70_000] {
            set.insert(id);
        }
        assert_eq!(set.len(), 7);
        assert!(set.contains(1024) && !set.contains(1025));
        assert_eq!(
            set.ids().collect::<Vec<_>>(),
            [1, 63, 64, 1023, 1024, 5000, 70_000]
        );
    }

    proptest! {
        /// A pattern's grams hold every text that contains it, and exactly those when exact.
        #[test]
        fn pattern_grams_cover_every_match(
            field in "[a-c茶绿 ]{0,8}",
            pattern in "[a-c茶绿 ]{1,5}",
        ) {
            let text = format!("sku\u{1}{field}");
            let (wanted, exact) = pattern_grams(&pattern).unwrap();
            let have = grams(&text);
            let all = wanted.iter().all(|g| have.contains(g));
            if text.contains(&pattern) {
                prop_assert!(all);
            }
            if exact {
                prop_assert_eq!(all, text.contains(&pattern));
            }
        }

        /// However long, a piece of a text is found by its grams (the cover of a long one).
        #[test]
        fn every_piece_of_a_text_is_found_by_its_grams(
            field in "[a-c茶绿 0-9]{1,40}",
            from in 0usize..40,
            len in 1usize..40,
        ) {
            let chars: Vec<char> = field.chars().collect();
            let from = from % chars.len();
            let piece: String = chars[from..(from + len).min(chars.len())].iter().collect();
            let (wanted, _) = pattern_grams(&piece).unwrap();
            prop_assert!(wanted.len() <= MAX_PATTERN_GRAMS);
            let have = grams(&format!("sku\u{1}{field}"));
            prop_assert!(wanted.iter().all(|g| have.contains(g)));
        }
    }
}
