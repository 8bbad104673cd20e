-- Issue 18 (SPEC §10): orders, reservations and picking.
--
-- `batches.reserved` is what open orders hold of a batch: always Σ allocations.qty of the batch
-- (`depot check` proves it), never more than the batch holds. Available to anyone else is
-- `qty - reserved` of a batch that has not expired (src/movement/mod.rs `available`).
ALTER TABLE batches ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE batches ADD CONSTRAINT batches_reserved_within_qty CHECK (reserved >= 0 AND reserved <= qty);
CREATE INDEX batches_reserved_idx ON batches (item_id) WHERE reserved > 0;

-- An order's status is kept with it (derived from its lines' quantities on every change, for
-- the list's filter); `shipments` counts its shipments (each one's anchors are `<ref>#<n>`).
CREATE TABLE orders (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref         TEXT NOT NULL CONSTRAINT orders_ref_length CHECK (char_length(ref) BETWEEN 1 AND 64),
    policy      TEXT NOT NULL CONSTRAINT orders_policy_valid CHECK (policy IN ('partial', 'all_or_nothing')),
    status      TEXT NOT NULL CONSTRAINT orders_status_valid CHECK (status IN
        ('BACKORDERED', 'RESERVED', 'PICKING', 'PICKED', 'SHIPPED', 'CANCELLED')),
    shipments   INTEGER NOT NULL DEFAULT 0 CONSTRAINT orders_shipments_non_negative CHECK (shipments >= 0),
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT orders_ref_key UNIQUE (ref)
);
CREATE INDEX orders_status_idx ON orders (status, id);

CREATE TABLE order_lines (
    order_id BIGINT NOT NULL REFERENCES orders (id),
    line     INTEGER NOT NULL CONSTRAINT order_lines_line_positive CHECK (line >= 1),
    item_id  BIGINT NOT NULL REFERENCES items (id),
    qty      BIGINT NOT NULL CONSTRAINT order_lines_qty_positive CHECK (qty >= 1),
    PRIMARY KEY (order_id, line),
    CONSTRAINT order_lines_item_key UNIQUE (order_id, item_id)
);

-- What an order line holds of one batch: `qty` reserved now (picked or not, not yet shipped),
-- `picked` of it confirmed picked, `shipped` what left from it. A released allocation keeps its
-- row with qty 0.
CREATE TABLE allocations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    BIGINT NOT NULL,
    line        INTEGER NOT NULL,
    batch_id    BIGINT NOT NULL REFERENCES batches (id),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    qty         BIGINT NOT NULL CONSTRAINT allocations_qty_non_negative CHECK (qty >= 0),
    picked      BIGINT NOT NULL DEFAULT 0 CONSTRAINT allocations_picked_within_qty CHECK (picked >= 0 AND picked <= qty),
    shipped     BIGINT NOT NULL DEFAULT 0 CONSTRAINT allocations_shipped_non_negative CHECK (shipped >= 0),
    CONSTRAINT allocations_line_fkey FOREIGN KEY (order_id, line) REFERENCES order_lines (order_id, line),
    CONSTRAINT allocations_order_line_batch_key UNIQUE (order_id, line, batch_id)
);
CREATE INDEX allocations_batch_idx ON allocations (batch_id) WHERE qty > 0;

-- The shipments' idempotency anchors (the pipeline's), one per batch shipped, under ref
-- `<order ref>#<shipment>`; their ledger entries carry the order's ref.
CREATE TABLE order_shipments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref         TEXT NOT NULL CONSTRAINT order_shipments_ref_length CHECK (char_length(ref) BETWEEN 3 AND 80),
    ref_line    INTEGER NOT NULL CONSTRAINT order_shipments_ref_line_positive CHECK (ref_line >= 1),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    batch_code  TEXT NOT NULL DEFAULT '',
    qty         BIGINT NOT NULL CONSTRAINT order_shipments_qty_positive CHECK (qty > 0),
    ledger_id   BIGINT REFERENCES stock_ledger (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_order_shipments_ref_item_loc_batch UNIQUE (ref, item_id, location_id, batch_code)
);
