-- The item search index (src/search/index.rs): for every substring of 1 to 3 characters of an
-- item's folded sku or name (a gram), the items that have it, as bitmaps of 1 024 item ids
-- (16 words of 64 bits; bit `id % 64` of word `(id / 64) % 16` of block `id / 1024`); and the
-- same bitmaps of the items in stock. Keyed by block first: the rows one transaction writes
-- (new items are neighbours) lie together; a search probes its gram in each block. Written in the transaction that creates or renames an
-- item, or brings it into or out of stock; filled from the items right after this migration
-- (`search::index::backfill`); `depot check` rebuilds it in memory and compares.
--
-- It replaces the FTS5 trigram index of migration 0004, which answered only patterns of three
-- characters or more and only the snapshot used.

DROP TRIGGER items_search_insert;
DROP TRIGGER items_search_delete;
DROP TRIGGER items_search_update;
DROP TABLE items_search;

CREATE TABLE search_grams (
    block  INTEGER NOT NULL,
    gram   TEXT NOT NULL,
    w0    INTEGER NOT NULL DEFAULT 0,
    w1    INTEGER NOT NULL DEFAULT 0,
    w2    INTEGER NOT NULL DEFAULT 0,
    w3    INTEGER NOT NULL DEFAULT 0,
    w4    INTEGER NOT NULL DEFAULT 0,
    w5    INTEGER NOT NULL DEFAULT 0,
    w6    INTEGER NOT NULL DEFAULT 0,
    w7    INTEGER NOT NULL DEFAULT 0,
    w8    INTEGER NOT NULL DEFAULT 0,
    w9    INTEGER NOT NULL DEFAULT 0,
    w10   INTEGER NOT NULL DEFAULT 0,
    w11   INTEGER NOT NULL DEFAULT 0,
    w12   INTEGER NOT NULL DEFAULT 0,
    w13   INTEGER NOT NULL DEFAULT 0,
    w14   INTEGER NOT NULL DEFAULT 0,
    w15   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (block, gram)
) STRICT, WITHOUT ROWID;

CREATE TABLE search_in_stock (
    block  INTEGER PRIMARY KEY,
    w0    INTEGER NOT NULL DEFAULT 0,
    w1    INTEGER NOT NULL DEFAULT 0,
    w2    INTEGER NOT NULL DEFAULT 0,
    w3    INTEGER NOT NULL DEFAULT 0,
    w4    INTEGER NOT NULL DEFAULT 0,
    w5    INTEGER NOT NULL DEFAULT 0,
    w6    INTEGER NOT NULL DEFAULT 0,
    w7    INTEGER NOT NULL DEFAULT 0,
    w8    INTEGER NOT NULL DEFAULT 0,
    w9    INTEGER NOT NULL DEFAULT 0,
    w10   INTEGER NOT NULL DEFAULT 0,
    w11   INTEGER NOT NULL DEFAULT 0,
    w12   INTEGER NOT NULL DEFAULT 0,
    w13   INTEGER NOT NULL DEFAULT 0,
    w14   INTEGER NOT NULL DEFAULT 0,
    w15   INTEGER NOT NULL DEFAULT 0
) STRICT;
