-- The inventory snapshot (SPEC §4, the homepage) costs O(page size), not O(all stock):
-- per-item totals and the count of items in stock are kept up to date inside every movement's
-- transaction (src/movement/store.rs), and sku/name substring search has a trigram index.
-- `depot check` proves both derived tables equal what the stocks say.

-- Σ stocks.qty per item; a row appears with the item's first stock movement.
CREATE TABLE item_totals (
    item_id     INTEGER PRIMARY KEY REFERENCES items (id),
    total_qty   INTEGER NOT NULL CONSTRAINT item_totals_qty_non_negative CHECK (total_qty >= 0)
) STRICT;
-- The snapshot's order, over the items in stock only.
CREATE INDEX item_totals_rank_idx ON item_totals (total_qty DESC, item_id) WHERE total_qty > 0;

-- One row: how many items have total_qty > 0 (the snapshot's unfiltered `total`).
CREATE TABLE inventory_summary (
    id             INTEGER PRIMARY KEY CONSTRAINT inventory_summary_single_row CHECK (id = 1),
    items_in_stock INTEGER NOT NULL CONSTRAINT inventory_summary_non_negative CHECK (items_in_stock >= 0)
) STRICT;

INSERT INTO item_totals (item_id, total_qty)
    SELECT item_id, SUM(qty) FROM stocks GROUP BY item_id;
INSERT INTO inventory_summary (id, items_in_stock)
    SELECT 1, COUNT(*) FROM item_totals WHERE total_qty > 0;

-- Substring search on sku and name: an FTS5 trigram index over the items table (case folded,
-- any script). Queries of 3+ characters go through it; shorter ones scan (src/snapshot/service.rs).
CREATE VIRTUAL TABLE items_search USING fts5(
    sku, name, content = 'items', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO items_search (items_search) VALUES ('rebuild');
CREATE TRIGGER items_search_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_search (rowid, sku, name) VALUES (new.id, new.sku, new.name);
END;
CREATE TRIGGER items_search_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_search (items_search, rowid, sku, name) VALUES ('delete', old.id, old.sku, old.name);
END;
CREATE TRIGGER items_search_update AFTER UPDATE OF sku, name ON items BEGIN
    INSERT INTO items_search (items_search, rowid, sku, name) VALUES ('delete', old.id, old.sku, old.name);
    INSERT INTO items_search (rowid, sku, name) VALUES (new.id, new.sku, new.name);
END;
