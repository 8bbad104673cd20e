-- Depot schema (SPEC §1) for PostgreSQL. Every rule the database can hold lives here, named,
-- so a violation maps to a precise API error (src/error.rs) and no code path can bypass it.

CREATE TABLE items (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         TEXT NOT NULL CONSTRAINT items_sku_length CHECK (char_length(sku) BETWEEN 1 AND 64),
    name        TEXT NOT NULL CONSTRAINT items_name_length CHECK (char_length(name) BETWEEN 1 AND 128),
    spec        TEXT NOT NULL DEFAULT '' CONSTRAINT items_spec_length CHECK (char_length(spec) <= 256),
    unit        TEXT NOT NULL DEFAULT 'pcs' CONSTRAINT items_unit_length CHECK (char_length(unit) BETWEEN 1 AND 16),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT items_sku_key UNIQUE (sku)
);

CREATE TABLE locations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        TEXT NOT NULL CONSTRAINT locations_code_length CHECK (char_length(code) BETWEEN 1 AND 32),
    name        TEXT NOT NULL DEFAULT '' CONSTRAINT locations_name_length CHECK (char_length(name) <= 128),
    kind        TEXT NOT NULL CONSTRAINT locations_kind_valid CHECK (kind IN ('receiving', 'storage', 'shipping')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT locations_code_key UNIQUE (code)
);

CREATE TABLE stocks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id     BIGINT NOT NULL REFERENCES items (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    qty         BIGINT NOT NULL DEFAULT 0 CONSTRAINT stocks_qty_non_negative CHECK (qty >= 0),
    CONSTRAINT stocks_item_location_key UNIQUE (item_id, location_id),
    -- lets batches and ledger rows reference (stock, item, location) together
    CONSTRAINT stocks_id_item_location_key UNIQUE (id, item_id, location_id)
);
CREATE INDEX stocks_location_idx ON stocks (location_id);

CREATE TABLE batches (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stock_id        BIGINT NOT NULL,
    item_id         BIGINT NOT NULL,
    location_id     BIGINT NOT NULL,
    batch_code      TEXT NOT NULL DEFAULT '' CONSTRAINT batches_code_length CHECK (char_length(batch_code) <= 64),
    expiry_date     DATE,
    production_date DATE,
    qty             BIGINT NOT NULL DEFAULT 0 CONSTRAINT batches_qty_non_negative CHECK (qty >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT batches_item_location_code_key UNIQUE (item_id, location_id, batch_code),
    CONSTRAINT batches_dates_ordered CHECK (production_date IS NULL OR expiry_date IS NULL OR production_date <= expiry_date),
    CONSTRAINT batches_stock_fkey FOREIGN KEY (stock_id, item_id, location_id)
        REFERENCES stocks (id, item_id, location_id)
);
-- FEFO walks one stock's batches by expiry
CREATE INDEX batches_stock_expiry_idx ON batches (stock_id, expiry_date, id);

CREATE TABLE stock_ledger (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stock_id    BIGINT NOT NULL,
    item_id     BIGINT NOT NULL,
    location_id BIGINT NOT NULL,
    delta       BIGINT NOT NULL CONSTRAINT stock_ledger_delta_non_zero CHECK (delta <> 0),
    after_qty   BIGINT NOT NULL CONSTRAINT stock_ledger_after_qty_non_negative CHECK (after_qty >= 0),
    occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reason      TEXT NOT NULL CONSTRAINT stock_ledger_reason_valid CHECK (reason IN ('RECEIVE', 'PUTAWAY', 'OUTBOUND', 'ADJUST')),
    ref         TEXT NOT NULL CONSTRAINT stock_ledger_ref_length CHECK (char_length(ref) BETWEEN 1 AND 64),
    ref_line    INTEGER NOT NULL CONSTRAINT stock_ledger_ref_line_positive CHECK (ref_line >= 1),
    actor       TEXT,
    CONSTRAINT stock_ledger_stock_fkey FOREIGN KEY (stock_id, item_id, location_id)
        REFERENCES stocks (id, item_id, location_id)
);
CREATE INDEX stock_ledger_stock_idx ON stock_ledger (stock_id, id);
CREATE INDEX stock_ledger_item_idx ON stock_ledger (item_id, id);
CREATE INDEX stock_ledger_location_idx ON stock_ledger (location_id, id);
CREATE INDEX stock_ledger_ref_idx ON stock_ledger (ref, id);
CREATE INDEX stock_ledger_reason_idx ON stock_ledger (reason, id);

-- Which batches one ledger entry moved, signed like the entry's delta.
CREATE TABLE ledger_batches (
    ledger_id   BIGINT NOT NULL REFERENCES stock_ledger (id),
    batch_id    BIGINT NOT NULL REFERENCES batches (id),
    delta       BIGINT NOT NULL CONSTRAINT ledger_batches_delta_non_zero CHECK (delta <> 0),
    PRIMARY KEY (ledger_id, batch_id)
);
CREATE INDEX ledger_batches_batch_idx ON ledger_batches (batch_id);

-- The ledger is append-only: history is corrected by new entries (ADJUST), never rewritten.
CREATE FUNCTION depot_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER stock_ledger_append_only BEFORE UPDATE OR DELETE ON stock_ledger
    FOR EACH ROW EXECUTE FUNCTION depot_refuse_change();
CREATE TRIGGER ledger_batches_append_only BEFORE UPDATE OR DELETE ON ledger_batches
    FOR EACH ROW EXECUTE FUNCTION depot_refuse_change();

-- Idempotency anchors (SPEC §1): one row per applied line, unique on the line's identity,
-- pointing at the ledger entries that carry the original result.

-- The seed's outbound_commits (ref, item_id, location_id, qty).
CREATE TABLE outbound_commits (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref         TEXT NOT NULL CONSTRAINT outbound_commits_ref_length CHECK (char_length(ref) BETWEEN 1 AND 64),
    ref_line    INTEGER NOT NULL CONSTRAINT outbound_commits_ref_line_positive CHECK (ref_line >= 1),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    qty         BIGINT NOT NULL CONSTRAINT outbound_commits_qty_positive CHECK (qty > 0),
    batch_code  TEXT,  -- as requested; NULL means FEFO
    ledger_id   BIGINT REFERENCES stock_ledger (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_outbound_ref_item_loc UNIQUE (ref, item_id, location_id)
);

CREATE TABLE inbound_receipts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref             TEXT NOT NULL CONSTRAINT inbound_receipts_ref_length CHECK (char_length(ref) BETWEEN 1 AND 64),
    ref_line        INTEGER NOT NULL CONSTRAINT inbound_receipts_ref_line_positive CHECK (ref_line >= 1),
    item_id         BIGINT NOT NULL REFERENCES items (id),
    location_id     BIGINT NOT NULL REFERENCES locations (id),
    batch_code      TEXT NOT NULL DEFAULT '',
    qty             BIGINT NOT NULL CONSTRAINT inbound_receipts_qty_positive CHECK (qty > 0),
    expiry_date     DATE,
    production_date DATE,
    ledger_id       BIGINT REFERENCES stock_ledger (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_inbound_ref_item_loc_batch UNIQUE (ref, item_id, location_id, batch_code)
);

CREATE TABLE putaway_moves (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref              TEXT NOT NULL CONSTRAINT putaway_moves_ref_length CHECK (char_length(ref) BETWEEN 1 AND 64),
    ref_line         INTEGER NOT NULL CONSTRAINT putaway_moves_ref_line_positive CHECK (ref_line >= 1),
    item_id          BIGINT NOT NULL REFERENCES items (id),
    from_location_id BIGINT NOT NULL REFERENCES locations (id),
    to_location_id   BIGINT NOT NULL REFERENCES locations (id),
    batch_code       TEXT,  -- as requested; NULL means FEFO
    qty              BIGINT NOT NULL CONSTRAINT putaway_moves_qty_positive CHECK (qty > 0),
    from_ledger_id   BIGINT REFERENCES stock_ledger (id),
    to_ledger_id     BIGINT REFERENCES stock_ledger (id),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT putaway_moves_distinct_locations CHECK (from_location_id <> to_location_id)
);
-- A FEFO line (NULL batch) is its own identity: ' ' can never be a batch code (codes are trimmed).
CREATE UNIQUE INDEX uq_putaway_ref_item_from_to_batch
    ON putaway_moves (ref, item_id, from_location_id, to_location_id, COALESCE(batch_code, ' '));
