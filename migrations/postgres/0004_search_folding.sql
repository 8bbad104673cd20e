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
