-- The inventory snapshot (SPEC §4, the homepage) costs O(page size), not O(all stock):
-- per-item totals and the count of items in stock are kept up to date inside every movement's
-- transaction (src/movement/store.rs), and sku/name substring search has a trigram index.
-- `depot check` proves both derived tables equal what the stocks say.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Σ stocks.qty per item; a row appears with the item's first stock movement.
CREATE TABLE item_totals (
    item_id     BIGINT PRIMARY KEY REFERENCES items (id),
    total_qty   BIGINT NOT NULL CONSTRAINT item_totals_qty_non_negative CHECK (total_qty >= 0)
);
-- The snapshot's order, over the items in stock only.
CREATE INDEX item_totals_rank_idx ON item_totals (total_qty DESC, item_id) WHERE total_qty > 0;

-- One row: how many items have total_qty > 0 (the snapshot's unfiltered `total`).
CREATE TABLE inventory_summary (
    id             SMALLINT PRIMARY KEY CONSTRAINT inventory_summary_single_row CHECK (id = 1),
    items_in_stock BIGINT NOT NULL CONSTRAINT inventory_summary_non_negative CHECK (items_in_stock >= 0)
);

INSERT INTO item_totals (item_id, total_qty)
    SELECT item_id, SUM(qty) FROM stocks GROUP BY item_id;
INSERT INTO inventory_summary (id, items_in_stock)
    SELECT 1, COUNT(*) FROM item_totals WHERE total_qty > 0;

-- Case-insensitive substring search (`lower(x) LIKE '%q%'`) on sku and name, Chinese included.
CREATE INDEX items_sku_trgm_idx ON items USING gin (lower(sku) gin_trgm_ops);
CREATE INDEX items_name_trgm_idx ON items USING gin (lower(name) gin_trgm_ops);
