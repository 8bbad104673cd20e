-- Depot schema (SPEC §1) for SQLite: the same tables, keys and rules as the PostgreSQL
-- migration. STRICT tables refuse values of the wrong type; dates are 'YYYY-MM-DD' text
-- (checked), timestamps RFC 3339 UTC text.

CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    sku         TEXT NOT NULL CONSTRAINT items_sku_length CHECK (length(sku) BETWEEN 1 AND 64),
    name        TEXT NOT NULL CONSTRAINT items_name_length CHECK (length(name) BETWEEN 1 AND 128),
    spec        TEXT NOT NULL DEFAULT '' CONSTRAINT items_spec_length CHECK (length(spec) <= 256),
    unit        TEXT NOT NULL DEFAULT 'pcs' CONSTRAINT items_unit_length CHECK (length(unit) BETWEEN 1 AND 16),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT items_sku_key UNIQUE (sku)
) STRICT;

CREATE TABLE locations (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL CONSTRAINT locations_code_length CHECK (length(code) BETWEEN 1 AND 32),
    name        TEXT NOT NULL DEFAULT '' CONSTRAINT locations_name_length CHECK (length(name) <= 128),
    kind        TEXT NOT NULL CONSTRAINT locations_kind_valid CHECK (kind IN ('receiving', 'storage', 'shipping')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT locations_code_key UNIQUE (code)
) STRICT;

CREATE TABLE stocks (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES items (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    qty         INTEGER NOT NULL DEFAULT 0 CONSTRAINT stocks_qty_non_negative CHECK (qty >= 0),
    CONSTRAINT stocks_item_location_key UNIQUE (item_id, location_id),
    CONSTRAINT stocks_id_item_location_key UNIQUE (id, item_id, location_id)
) STRICT;
CREATE INDEX stocks_location_idx ON stocks (location_id);

CREATE TABLE batches (
    id              INTEGER PRIMARY KEY,
    stock_id        INTEGER NOT NULL,
    item_id         INTEGER NOT NULL,
    location_id     INTEGER NOT NULL,
    batch_code      TEXT NOT NULL DEFAULT '' CONSTRAINT batches_code_length CHECK (length(batch_code) <= 64),
    expiry_date     TEXT CONSTRAINT batches_expiry_is_date CHECK (expiry_date IS NULL OR date(expiry_date) IS expiry_date),
    production_date TEXT CONSTRAINT batches_production_is_date CHECK (production_date IS NULL OR date(production_date) IS production_date),
    qty             INTEGER NOT NULL DEFAULT 0 CONSTRAINT batches_qty_non_negative CHECK (qty >= 0),
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT batches_item_location_code_key UNIQUE (item_id, location_id, batch_code),
    CONSTRAINT batches_dates_ordered CHECK (production_date IS NULL OR expiry_date IS NULL OR production_date <= expiry_date),
    CONSTRAINT batches_stock_fkey FOREIGN KEY (stock_id, item_id, location_id)
        REFERENCES stocks (id, item_id, location_id)
) STRICT;
CREATE INDEX batches_stock_expiry_idx ON batches (stock_id, expiry_date, id);

CREATE TABLE stock_ledger (
    id          INTEGER PRIMARY KEY,
    stock_id    INTEGER NOT NULL,
    item_id     INTEGER NOT NULL,
    location_id INTEGER NOT NULL,
    delta       INTEGER NOT NULL CONSTRAINT stock_ledger_delta_non_zero CHECK (delta <> 0),
    after_qty   INTEGER NOT NULL CONSTRAINT stock_ledger_after_qty_non_negative CHECK (after_qty >= 0),
    occurred_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    reason      TEXT NOT NULL CONSTRAINT stock_ledger_reason_valid CHECK (reason IN ('RECEIVE', 'PUTAWAY', 'OUTBOUND', 'ADJUST')),
    ref         TEXT NOT NULL CONSTRAINT stock_ledger_ref_length CHECK (length(ref) BETWEEN 1 AND 64),
    ref_line    INTEGER NOT NULL CONSTRAINT stock_ledger_ref_line_positive CHECK (ref_line >= 1),
    actor       TEXT,
    CONSTRAINT stock_ledger_stock_fkey FOREIGN KEY (stock_id, item_id, location_id)
        REFERENCES stocks (id, item_id, location_id)
) STRICT;
CREATE INDEX stock_ledger_stock_idx ON stock_ledger (stock_id, id);
CREATE INDEX stock_ledger_item_idx ON stock_ledger (item_id, id);
CREATE INDEX stock_ledger_location_idx ON stock_ledger (location_id, id);
CREATE INDEX stock_ledger_ref_idx ON stock_ledger (ref, id);
CREATE INDEX stock_ledger_reason_idx ON stock_ledger (reason, id);

CREATE TABLE ledger_batches (
    ledger_id   INTEGER NOT NULL REFERENCES stock_ledger (id),
    batch_id    INTEGER NOT NULL REFERENCES batches (id),
    delta       INTEGER NOT NULL CONSTRAINT ledger_batches_delta_non_zero CHECK (delta <> 0),
    PRIMARY KEY (ledger_id, batch_id)
) STRICT;
CREATE INDEX ledger_batches_batch_idx ON ledger_batches (batch_id);

CREATE TRIGGER stock_ledger_no_update BEFORE UPDATE ON stock_ledger
BEGIN SELECT RAISE(ABORT, 'stock_ledger is append-only'); END;
CREATE TRIGGER stock_ledger_no_delete BEFORE DELETE ON stock_ledger
BEGIN SELECT RAISE(ABORT, 'stock_ledger is append-only'); END;
CREATE TRIGGER ledger_batches_no_update BEFORE UPDATE ON ledger_batches
BEGIN SELECT RAISE(ABORT, 'ledger_batches is append-only'); END;
CREATE TRIGGER ledger_batches_no_delete BEFORE DELETE ON ledger_batches
BEGIN SELECT RAISE(ABORT, 'ledger_batches is append-only'); END;

CREATE TABLE outbound_commits (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL CONSTRAINT outbound_commits_ref_length CHECK (length(ref) BETWEEN 1 AND 64),
    ref_line    INTEGER NOT NULL CONSTRAINT outbound_commits_ref_line_positive CHECK (ref_line >= 1),
    item_id     INTEGER NOT NULL REFERENCES items (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    qty         INTEGER NOT NULL CONSTRAINT outbound_commits_qty_positive CHECK (qty > 0),
    batch_code  TEXT,
    ledger_id   INTEGER REFERENCES stock_ledger (id),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT uq_outbound_ref_item_loc UNIQUE (ref, item_id, location_id)
) STRICT;

CREATE TABLE inbound_receipts (
    id              INTEGER PRIMARY KEY,
    ref             TEXT NOT NULL CONSTRAINT inbound_receipts_ref_length CHECK (length(ref) BETWEEN 1 AND 64),
    ref_line        INTEGER NOT NULL CONSTRAINT inbound_receipts_ref_line_positive CHECK (ref_line >= 1),
    item_id         INTEGER NOT NULL REFERENCES items (id),
    location_id     INTEGER NOT NULL REFERENCES locations (id),
    batch_code      TEXT NOT NULL DEFAULT '',
    qty             INTEGER NOT NULL CONSTRAINT inbound_receipts_qty_positive CHECK (qty > 0),
    expiry_date     TEXT,
    production_date TEXT,
    ledger_id       INTEGER REFERENCES stock_ledger (id),
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT uq_inbound_ref_item_loc_batch UNIQUE (ref, item_id, location_id, batch_code)
) STRICT;

CREATE TABLE putaway_moves (
    id               INTEGER PRIMARY KEY,
    ref              TEXT NOT NULL CONSTRAINT putaway_moves_ref_length CHECK (length(ref) BETWEEN 1 AND 64),
    ref_line         INTEGER NOT NULL CONSTRAINT putaway_moves_ref_line_positive CHECK (ref_line >= 1),
    item_id          INTEGER NOT NULL REFERENCES items (id),
    from_location_id INTEGER NOT NULL REFERENCES locations (id),
    to_location_id   INTEGER NOT NULL REFERENCES locations (id),
    batch_code       TEXT,
    qty              INTEGER NOT NULL CONSTRAINT putaway_moves_qty_positive CHECK (qty > 0),
    from_ledger_id   INTEGER REFERENCES stock_ledger (id),
    to_ledger_id     INTEGER REFERENCES stock_ledger (id),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT putaway_moves_distinct_locations CHECK (from_location_id <> to_location_id)
) STRICT;
CREATE UNIQUE INDEX uq_putaway_ref_item_from_to_batch
    ON putaway_moves (ref, item_id, from_location_id, to_location_id, COALESCE(batch_code, ' '));
