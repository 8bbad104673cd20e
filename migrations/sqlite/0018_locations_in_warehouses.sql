-- Issue 33: every location belongs to one warehouse, and its code is unique within it (the
-- same `A-01` may exist in two); a count counts in one warehouse and an order ships from one.
-- What there was is in warehouse MAIN. Locations may also be of kind `quarantine` (returns
-- wait there for a decision) and `transit` (a warehouse's goods on their way to it).
--
-- SQLite changes a table's keys only by building it again, and the table is referred to by
-- stocks, counts, orders and the ledger: dropping the old one with foreign keys enforced would
-- count as deleting every row they refer to, and enforcement can be turned off only outside a
-- transaction. sqlx runs each SQLite migration in a transaction (it ignores `no-transaction`
-- there), so this one ends it, rebuilds the table with enforcement off in a transaction of its
-- own (all or nothing), turns enforcement on again and begins the transaction sqlx goes on to
-- record the migration in and commit. The ids stay, so every reference still holds; were the
-- process to stop between the two commits, running this again rebuilds the table the same way.
COMMIT;
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE locations_new (
    id           INTEGER PRIMARY KEY,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
    code         TEXT NOT NULL CONSTRAINT locations_code_length CHECK (length(code) BETWEEN 1 AND 32),
    name         TEXT NOT NULL DEFAULT '' CONSTRAINT locations_name_length CHECK (length(name) <= 128),
    kind         TEXT NOT NULL CONSTRAINT locations_kind_valid
        CHECK (kind IN ('receiving', 'storage', 'shipping', 'quarantine', 'transit')),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    search_text  TEXT NOT NULL DEFAULT '',
    CONSTRAINT locations_warehouse_code_key UNIQUE (warehouse_id, code)
) STRICT;
INSERT INTO locations_new (id, warehouse_id, code, name, kind, created_at, search_text)
SELECT id, (SELECT id FROM warehouses WHERE code = 'MAIN'), code, name, kind, created_at, search_text
FROM locations ORDER BY id;
DROP TABLE locations;
ALTER TABLE locations_new RENAME TO locations;
CREATE INDEX locations_search_text_pending_idx ON locations (id) WHERE search_text = '';
-- A code named without its warehouse (one warehouse, or to say which warehouses have it).
CREATE INDEX locations_code_idx ON locations (code);
-- Counts and orders are in MAIN, warehouse 1 (the first row of migration 0017). SQLite adds a
-- column that refers to another table with a default only while enforcement is off; Depot
-- always names the warehouse, the default serves the rows there were.
ALTER TABLE counts ADD COLUMN warehouse_id INTEGER NOT NULL DEFAULT 1 REFERENCES warehouses (id);
ALTER TABLE orders ADD COLUMN warehouse_id INTEGER NOT NULL DEFAULT 1 REFERENCES warehouses (id);
CREATE INDEX counts_warehouse_idx ON counts (warehouse_id, id);
CREATE INDEX orders_warehouse_idx ON orders (warehouse_id, id);
COMMIT;
PRAGMA foreign_keys = ON;
BEGIN;
