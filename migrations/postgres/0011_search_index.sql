-- The item search index (src/search/index.rs): for every substring of 1 to 3 characters of an
-- item's folded sku or name (a gram), the items that have it, as bitmaps of 1 024 item ids
-- (16 words of 64 bits; bit `id % 64` of word `(id / 64) % 16` of block `id / 1024`); and the
-- same bitmaps of the items in stock. Keyed by block first: the rows one transaction writes
-- (new items are neighbours) lie together; a search probes its gram in each block. Written in the transaction that creates or renames an
-- item, or brings it into or out of stock; filled from the items right after this migration
-- (`search::index::backfill`); `depot check` rebuilds it in memory and compares.

CREATE TABLE search_grams (
    block  BIGINT NOT NULL,
    gram   TEXT NOT NULL,
    w0    BIGINT NOT NULL DEFAULT 0,
    w1    BIGINT NOT NULL DEFAULT 0,
    w2    BIGINT NOT NULL DEFAULT 0,
    w3    BIGINT NOT NULL DEFAULT 0,
    w4    BIGINT NOT NULL DEFAULT 0,
    w5    BIGINT NOT NULL DEFAULT 0,
    w6    BIGINT NOT NULL DEFAULT 0,
    w7    BIGINT NOT NULL DEFAULT 0,
    w8    BIGINT NOT NULL DEFAULT 0,
    w9    BIGINT NOT NULL DEFAULT 0,
    w10   BIGINT NOT NULL DEFAULT 0,
    w11   BIGINT NOT NULL DEFAULT 0,
    w12   BIGINT NOT NULL DEFAULT 0,
    w13   BIGINT NOT NULL DEFAULT 0,
    w14   BIGINT NOT NULL DEFAULT 0,
    w15   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (block, gram)
);

CREATE TABLE search_in_stock (
    block  BIGINT PRIMARY KEY,
    w0    BIGINT NOT NULL DEFAULT 0,
    w1    BIGINT NOT NULL DEFAULT 0,
    w2    BIGINT NOT NULL DEFAULT 0,
    w3    BIGINT NOT NULL DEFAULT 0,
    w4    BIGINT NOT NULL DEFAULT 0,
    w5    BIGINT NOT NULL DEFAULT 0,
    w6    BIGINT NOT NULL DEFAULT 0,
    w7    BIGINT NOT NULL DEFAULT 0,
    w8    BIGINT NOT NULL DEFAULT 0,
    w9    BIGINT NOT NULL DEFAULT 0,
    w10   BIGINT NOT NULL DEFAULT 0,
    w11   BIGINT NOT NULL DEFAULT 0,
    w12   BIGINT NOT NULL DEFAULT 0,
    w13   BIGINT NOT NULL DEFAULT 0,
    w14   BIGINT NOT NULL DEFAULT 0,
    w15   BIGINT NOT NULL DEFAULT 0
);
