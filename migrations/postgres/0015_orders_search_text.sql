-- Issue 30: an order's ref folded as every other search folds (`search::fold`: NFKC, lower
-- case), so `GET /orders?q=` finds the same refs the same way on both backends (SQL `LOWER`
-- was ASCII-only on SQLite). Filled at order creation; rows before this are filled by
-- `search::backfill` at migrate.
ALTER TABLE orders ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
