-- Issue 32: one table of idempotency anchors for every movement kind, and the ledger's reasons
-- in a table, so a new kind of movement adds rows rather than a table, flags and a CHECK.
--
-- An anchor (SPEC §1) is one applied line: its kind, its ref and its line identity (unique
-- together), what else the line said (its content, JSON) and the ledger entries of its legs
-- (a JSON array of ids, in leg order; empty for a count that found what was there). The
-- identity is written `<item>@<location>[><location>][#<lot>]`: the item, the line's locations
-- in the kind's order and, for kinds whose lot is part of the identity, the lot's code ('' for
-- the no-batch lot). `item_id` and `location_id` (the first location) repeat it as keys.

CREATE TABLE ledger_reasons (
    code TEXT PRIMARY KEY CONSTRAINT ledger_reasons_code_valid
        CHECK (length(code) BETWEEN 1 AND 32 AND code GLOB '[A-Z]*' AND code NOT GLOB '*[^A-Z_]*')
) STRICT;
-- Depot adds the reasons of the kinds it knows when it starts; these are the ones written so far.
INSERT INTO ledger_reasons (code) VALUES ('RECEIVE'), ('PUTAWAY'), ('OUTBOUND'), ('ADJUST');

CREATE TABLE movement_anchors (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CONSTRAINT movement_anchors_kind_valid
        CHECK (length(kind) BETWEEN 1 AND 32 AND kind GLOB '[A-Z]*' AND kind NOT GLOB '*[^A-Z_]*'),
    ref         TEXT NOT NULL CONSTRAINT movement_anchors_ref_length CHECK (length(ref) BETWEEN 1 AND 80),
    ref_line    INTEGER NOT NULL CONSTRAINT movement_anchors_ref_line_positive CHECK (ref_line >= 1),
    line_key    TEXT NOT NULL CONSTRAINT movement_anchors_line_key_length CHECK (length(line_key) BETWEEN 3 AND 200),
    item_id     INTEGER NOT NULL REFERENCES items (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    content     TEXT NOT NULL,
    ledger_ids  TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT uq_movement_anchors_kind_ref_line UNIQUE (kind, ref, line_key)
) STRICT;

-- Every anchor written so far, in the order it was written, with the content its kind reads
-- (`json_patch` onto `{}` leaves out what is NULL).
INSERT INTO movement_anchors (kind, ref, ref_line, line_key, item_id, location_id, content, ledger_ids, created_at)
SELECT kind, ref, ref_line, line_key, item_id, location_id, content, ledger_ids, created_at
FROM (
    SELECT 1 AS k, id, 'RECEIVE' AS kind, ref, ref_line,
           item_id || '@' || location_id || '#' || batch_code AS line_key, item_id, location_id,
           json_patch('{}', json_object('qty', qty, 'expiry_date', expiry_date,
                                        'production_date', production_date)) AS content,
           COALESCE('[' || ledger_id || ']', '[]') AS ledger_ids, created_at
    FROM inbound_receipts
    UNION ALL
    SELECT 2, id, 'PUTAWAY', ref, ref_line,
           item_id || '@' || from_location_id || '>' || to_location_id, item_id, from_location_id,
           json_patch('{}', json_object('qty', qty, 'batch_code', batch_code)),
           COALESCE('[' || from_ledger_id || ',' || to_ledger_id || ']', '[]'), created_at
    FROM putaway_moves
    UNION ALL
    SELECT 3, id, 'OUTBOUND', ref, ref_line,
           item_id || '@' || location_id, item_id, location_id,
           json_patch('{}', json_object('qty', qty, 'batch_code', batch_code)),
           COALESCE('[' || ledger_id || ']', '[]'), created_at
    FROM outbound_commits
    UNION ALL
    SELECT 4, id, 'ADJUST', ref, ref_line,
           item_id || '@' || location_id || '#' || batch_code, item_id, location_id,
           json_patch('{}', json_object('qty', qty,
                                        'counted', CASE WHEN counted = 1 THEN json('true') END,
                                        'reason_code', reason_code)),
           COALESCE('[' || ledger_id || ']', '[]'), created_at
    FROM adjustments
    UNION ALL
    SELECT 5, id, 'SHIP', ref, ref_line,
           item_id || '@' || location_id || '#' || batch_code, item_id, location_id,
           json_object('qty', qty),
           COALESCE('[' || ledger_id || ']', '[]'), created_at
    FROM order_shipments
)
ORDER BY created_at, k, id;

DROP TABLE inbound_receipts;
DROP TABLE putaway_moves;
DROP TABLE outbound_commits;
DROP TABLE adjustments;
DROP TABLE order_shipments;

-- The ledger's reason becomes a key of `ledger_reasons` rather than a CHECK. SQLite changes a
-- table's rules only by building it again: the ledger and its detail (which refers to it) are
-- copied into new tables, the old ones dropped — the detail first, so dropping the ledger
-- leaves nothing referring to it — and the new ones renamed, which points the detail at the
-- renamed ledger. Ids, rows, indexes and the append-only triggers stay as they were.
CREATE TABLE stock_ledger_new (
    id          INTEGER PRIMARY KEY,
    stock_id    INTEGER NOT NULL,
    item_id     INTEGER NOT NULL,
    location_id INTEGER NOT NULL,
    delta       INTEGER NOT NULL CONSTRAINT stock_ledger_delta_non_zero CHECK (delta <> 0),
    after_qty   INTEGER NOT NULL CONSTRAINT stock_ledger_after_qty_non_negative CHECK (after_qty >= 0),
    occurred_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    reason      TEXT NOT NULL REFERENCES ledger_reasons (code),
    ref         TEXT NOT NULL CONSTRAINT stock_ledger_ref_length CHECK (length(ref) BETWEEN 1 AND 64),
    ref_line    INTEGER NOT NULL CONSTRAINT stock_ledger_ref_line_positive CHECK (ref_line >= 1),
    actor       TEXT,
    reason_code TEXT CONSTRAINT stock_ledger_reason_code_valid CHECK (reason_code IS NULL OR reason_code IN
        ('COUNT_CORRECTION', 'DAMAGED', 'LOST', 'FOUND', 'EXPIRED_DISPOSAL', 'OTHER')),
    note        TEXT CONSTRAINT stock_ledger_note_length CHECK (note IS NULL OR length(note) BETWEEN 1 AND 500),
    CONSTRAINT stock_ledger_stock_fkey FOREIGN KEY (stock_id, item_id, location_id)
        REFERENCES stocks (id, item_id, location_id)
) STRICT;
INSERT INTO stock_ledger_new (id, stock_id, item_id, location_id, delta, after_qty, occurred_at,
                              reason, ref, ref_line, actor, reason_code, note)
SELECT id, stock_id, item_id, location_id, delta, after_qty, occurred_at,
       reason, ref, ref_line, actor, reason_code, note
FROM stock_ledger ORDER BY id;

CREATE TABLE ledger_batches_new (
    ledger_id       INTEGER NOT NULL REFERENCES stock_ledger_new (id),
    batch_id        INTEGER NOT NULL REFERENCES batches (id),
    delta           INTEGER NOT NULL CONSTRAINT ledger_batches_delta_non_zero CHECK (delta <> 0),
    batch_code      TEXT NOT NULL DEFAULT '' CONSTRAINT ledger_batches_code_length CHECK (length(batch_code) <= 64),
    expiry_date     TEXT CONSTRAINT ledger_batches_expiry_is_date CHECK (expiry_date IS NULL OR date(expiry_date) IS expiry_date),
    production_date TEXT CONSTRAINT ledger_batches_production_is_date CHECK (production_date IS NULL OR date(production_date) IS production_date),
    PRIMARY KEY (ledger_id, batch_id)
) STRICT;
INSERT INTO ledger_batches_new (ledger_id, batch_id, delta, batch_code, expiry_date, production_date)
SELECT ledger_id, batch_id, delta, batch_code, expiry_date, production_date
FROM ledger_batches ORDER BY ledger_id, batch_id;

DROP TABLE ledger_batches;
DROP TABLE stock_ledger;
ALTER TABLE stock_ledger_new RENAME TO stock_ledger;
ALTER TABLE ledger_batches_new RENAME TO ledger_batches;

CREATE INDEX stock_ledger_stock_idx ON stock_ledger (stock_id, id);
CREATE INDEX stock_ledger_item_idx ON stock_ledger (item_id, id);
CREATE INDEX stock_ledger_location_idx ON stock_ledger (location_id, id);
CREATE INDEX stock_ledger_ref_idx ON stock_ledger (ref, id);
CREATE INDEX stock_ledger_reason_idx ON stock_ledger (reason, id);
CREATE INDEX stock_ledger_reason_code_idx ON stock_ledger (reason_code, id) WHERE reason_code IS NOT NULL;
CREATE INDEX ledger_batches_batch_idx ON ledger_batches (batch_id);
CREATE TRIGGER stock_ledger_no_update BEFORE UPDATE ON stock_ledger
BEGIN SELECT RAISE(ABORT, 'stock_ledger is append-only'); END;
CREATE TRIGGER stock_ledger_no_delete BEFORE DELETE ON stock_ledger
BEGIN SELECT RAISE(ABORT, 'stock_ledger is append-only'); END;
CREATE TRIGGER ledger_batches_no_update BEFORE UPDATE ON ledger_batches
BEGIN SELECT RAISE(ABORT, 'ledger_batches is append-only'); END;
CREATE TRIGGER ledger_batches_no_delete BEFORE DELETE ON ledger_batches
BEGIN SELECT RAISE(ABORT, 'ledger_batches is append-only'); END;

-- The seed's name for the outbound anchors, kept for whoever reads it.
CREATE VIEW outbound_commits AS
SELECT id, ref, ref_line, item_id, location_id,
       json_extract(content, '$.qty') AS qty,
       json_extract(content, '$.batch_code') AS batch_code,
       json_extract(ledger_ids, '$[0]') AS ledger_id,
       created_at
FROM movement_anchors
WHERE kind = 'OUTBOUND';
