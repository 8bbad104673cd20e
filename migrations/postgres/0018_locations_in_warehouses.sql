-- Issue 33: every location belongs to one warehouse, and its code is unique within it (the
-- same `A-01` may exist in two); a count counts in one warehouse and an order ships from one.
-- What there was is in warehouse MAIN. Locations may also be
-- of kind `quarantine` (returns wait there for a decision) and `transit` (a warehouse's goods
-- on their way to it).
ALTER TABLE locations ADD COLUMN warehouse_id BIGINT REFERENCES warehouses (id);
UPDATE locations SET warehouse_id = (SELECT id FROM warehouses WHERE code = 'MAIN');
ALTER TABLE locations ALTER COLUMN warehouse_id SET NOT NULL;
ALTER TABLE locations DROP CONSTRAINT locations_code_key;
ALTER TABLE locations ADD CONSTRAINT locations_warehouse_code_key UNIQUE (warehouse_id, code);
-- A code named without its warehouse (one warehouse, or to say which warehouses have it).
CREATE INDEX locations_code_idx ON locations (code);
ALTER TABLE locations DROP CONSTRAINT locations_kind_valid;
ALTER TABLE locations ADD CONSTRAINT locations_kind_valid
    CHECK (kind IN ('receiving', 'storage', 'shipping', 'quarantine', 'transit'));
ALTER TABLE counts ADD COLUMN warehouse_id BIGINT REFERENCES warehouses (id);
UPDATE counts SET warehouse_id = (SELECT id FROM warehouses WHERE code = 'MAIN');
ALTER TABLE counts ALTER COLUMN warehouse_id SET NOT NULL;
ALTER TABLE orders ADD COLUMN warehouse_id BIGINT REFERENCES warehouses (id);
UPDATE orders SET warehouse_id = (SELECT id FROM warehouses WHERE code = 'MAIN');
ALTER TABLE orders ALTER COLUMN warehouse_id SET NOT NULL;
CREATE INDEX counts_warehouse_idx ON counts (warehouse_id, id);
CREATE INDEX orders_warehouse_idx ON orders (warehouse_id, id);
