-- Issue 33: transfers between warehouses. Goods sent wait in the destination's transit location
-- (stock there, a location of kind `transit`, never available); a transfer keeps what it
-- carries of each lot — sent, received, written off — and what each place of the destination
-- has received of each lot (a receipt says the whole quantity received there, so a retry
-- changes nothing). `receipts` numbers a transfer's receipts, whose lines are anchored apart.
CREATE TABLE transfers (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref               TEXT NOT NULL CONSTRAINT transfers_ref_length CHECK (char_length(ref) BETWEEN 1 AND 64),
    from_warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
    to_warehouse_id   BIGINT NOT NULL REFERENCES warehouses (id),
    status            TEXT NOT NULL CONSTRAINT transfers_status_valid
        CHECK (status IN ('IN_TRANSIT', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CLOSED_SHORT')),
    receipts          BIGINT NOT NULL DEFAULT 0 CONSTRAINT transfers_receipts_non_negative CHECK (receipts >= 0),
    created_at        TIMESTAMPTZ NOT NULL,
    created_by        TEXT,
    updated_at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT transfers_ref_key UNIQUE (ref),
    CONSTRAINT transfers_two_warehouses CHECK (from_warehouse_id <> to_warehouse_id)
);
CREATE INDEX transfers_from_idx ON transfers (from_warehouse_id, id);
CREATE INDEX transfers_to_idx ON transfers (to_warehouse_id, id);

CREATE TABLE transfer_lots (
    transfer_id BIGINT NOT NULL REFERENCES transfers (id),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    batch_code  TEXT NOT NULL,
    expiry_date DATE,
    sent        BIGINT NOT NULL CONSTRAINT transfer_lots_sent_non_negative CHECK (sent >= 0),
    received    BIGINT NOT NULL DEFAULT 0 CONSTRAINT transfer_lots_received_non_negative CHECK (received >= 0),
    lost        BIGINT NOT NULL DEFAULT 0 CONSTRAINT transfer_lots_lost_non_negative CHECK (lost >= 0),
    CONSTRAINT transfer_lots_within_sent CHECK (received + lost <= sent),
    PRIMARY KEY (transfer_id, item_id, batch_code)
);

CREATE TABLE transfer_receipts (
    transfer_id BIGINT NOT NULL REFERENCES transfers (id),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    batch_code  TEXT NOT NULL,
    qty         BIGINT NOT NULL CONSTRAINT transfer_receipts_qty_non_negative CHECK (qty >= 0),
    PRIMARY KEY (transfer_id, item_id, location_id, batch_code)
);
