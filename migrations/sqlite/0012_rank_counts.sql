-- How many items in stock have each total (src/movement/stock.rs `change_rank_counts`), in
-- shards `item_id % 8` so movements of unrelated items seldom share a row. The snapshot reads
-- a page deep by `offset` from them (src/snapshot/service.rs `push_rank_start`): the totals above
-- the page are skipped whole, not index entry by index entry (50 000 entries took 11-18 ms on
-- PostgreSQL, whose index-only scans fetch the heap of recently updated rows). Kept in every
-- movement's transaction with `item_totals`; `depot check` proves each row. (No CHECK keeps a
-- count non-negative: both databases check the row an upsert proposes, here the decrement,
-- before they find the row it updates.)
CREATE TABLE item_total_counts (
    total_qty INTEGER NOT NULL CONSTRAINT item_total_counts_in_stock CHECK (total_qty > 0),
    shard     INTEGER NOT NULL,
    items     INTEGER NOT NULL,
    PRIMARY KEY (total_qty, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO item_total_counts (total_qty, shard, items)
    SELECT total_qty, item_id % 8, COUNT(*) FROM item_totals
    WHERE total_qty > 0 GROUP BY total_qty, item_id % 8;
