-- One case-insensitive search on both backends (src/search.rs): Depot folds text in Rust (NFKC,
-- then lower case) and stores it in `search_text` whenever it writes an item or a location;
-- queries fold `q` the same way and match `search_text LIKE '%q%'`, never SQL lower() (which
-- is ASCII-only here and collation-dependent on PostgreSQL).
--
-- Rows written before this migration get their `search_text` from Rust right after it
-- (`search::backfill`, run by `Db::migrate`): '' is never a folded value (skus and codes are
-- never empty), so it marks the rows still to fill, found through a partial index.

ALTER TABLE items ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE INDEX items_search_text_pending_idx ON items (id) WHERE search_text = '';
CREATE INDEX locations_search_text_pending_idx ON locations (id) WHERE search_text = '';

-- The trigram index now covers the folded text, compared as it is (already folded).
-- Queries of 3+ folded characters go through it; LIKE decides (src/snapshot/service.rs).
DROP TRIGGER items_search_insert;
DROP TRIGGER items_search_delete;
DROP TRIGGER items_search_update;
DROP TABLE items_search;
CREATE VIRTUAL TABLE items_search USING fts5(
    search_text, content = 'items', content_rowid = 'id', tokenize = 'trigram case_sensitive 1'
);
INSERT INTO items_search (items_search) VALUES ('rebuild');
CREATE TRIGGER items_search_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER items_search_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_search (items_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER items_search_update AFTER UPDATE OF search_text ON items BEGIN
    INSERT INTO items_search (items_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO items_search (rowid, search_text) VALUES (new.id, new.search_text);
END;

-- The count of items in stock, sharded (src/movement/store.rs `change_items_in_stock`): one
-- row per shard `item_id % 64`, so movements of unrelated items no longer queue on one row.
-- The snapshot's unfiltered total is their sum; `depot check` proves each shard.
DROP TABLE inventory_summary;
CREATE TABLE inventory_summary (
    id             INTEGER PRIMARY KEY CONSTRAINT inventory_summary_shard CHECK (id >= 0 AND id < 64),
    items_in_stock INTEGER NOT NULL CONSTRAINT inventory_summary_non_negative CHECK (items_in_stock >= 0)
) STRICT;
INSERT INTO inventory_summary (id, items_in_stock)
    WITH RECURSIVE shards (id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM shards WHERE id < 63)
    SELECT shards.id, COALESCE(counted.n, 0)
    FROM shards
    LEFT JOIN (SELECT item_id % 64 AS shard, COUNT(*) AS n FROM item_totals
               WHERE total_qty > 0 GROUP BY item_id % 64) counted ON counted.shard = shards.id;
