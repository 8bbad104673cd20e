-- One case-insensitive search on both backends (src/search.rs): Depot folds text in Rust (NFKC,
-- then lower case) and stores it in `search_text` whenever it writes an item or a location;
-- queries fold `q` the same way and match `search_text LIKE '%q%'`, never SQL lower() (which
-- follows the collation here and is ASCII-only on SQLite).
--
-- Rows written before this migration get their `search_text` from Rust right after it
-- (`search::backfill`, run by `Db::migrate`): '' is never a folded value (skus and codes are
-- never empty), so it marks the rows still to fill, found through a partial index.

ALTER TABLE items ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE INDEX items_search_text_pending_idx ON items (id) WHERE search_text = '';
CREATE INDEX locations_search_text_pending_idx ON locations (id) WHERE search_text = '';

-- Substring search (`search_text LIKE '%q%'`) through trigrams, Chinese included.
DROP INDEX items_sku_trgm_idx;
DROP INDEX items_name_trgm_idx;
CREATE INDEX items_search_trgm_idx ON items USING gin (search_text gin_trgm_ops);
CREATE INDEX locations_search_trgm_idx ON locations USING gin (search_text gin_trgm_ops);

-- The count of items in stock, sharded (src/movement/store.rs `change_items_in_stock`): one
-- row per shard `item_id % 64`, so movements of unrelated items no longer queue on one row.
-- The snapshot's unfiltered total is their sum; `depot check` proves each shard.
DROP TABLE inventory_summary;
CREATE TABLE inventory_summary (
    id             SMALLINT PRIMARY KEY CONSTRAINT inventory_summary_shard CHECK (id >= 0 AND id < 64),
    items_in_stock BIGINT NOT NULL CONSTRAINT inventory_summary_non_negative CHECK (items_in_stock >= 0)
);
INSERT INTO inventory_summary (id, items_in_stock)
    SELECT shards.id, COALESCE(counted.n, 0)
    FROM generate_series(0, 63) AS shards (id)
    LEFT JOIN (SELECT item_id % 64 AS shard, COUNT(*) AS n FROM item_totals
               WHERE total_qty > 0 GROUP BY item_id % 64) counted ON counted.shard = shards.id;
