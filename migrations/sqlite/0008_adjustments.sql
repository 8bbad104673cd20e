-- Issue 17 (SPEC §9): adjustments. An ADJUST ledger entry carries why (`reason_code`) and, when
-- someone wrote one, a note; other entries carry neither (`depot check` verifies both rules).
ALTER TABLE stock_ledger ADD COLUMN reason_code TEXT
    CONSTRAINT stock_ledger_reason_code_valid CHECK (reason_code IS NULL OR reason_code IN
        ('COUNT_CORRECTION', 'DAMAGED', 'LOST', 'FOUND', 'EXPIRED_DISPOSAL', 'OTHER'));
ALTER TABLE stock_ledger ADD COLUMN note TEXT
    CONSTRAINT stock_ledger_note_length CHECK (note IS NULL OR length(note) BETWEEN 1 AND 500);
CREATE INDEX stock_ledger_reason_code_idx ON stock_ledger (reason_code, id) WHERE reason_code IS NOT NULL;

-- The adjustments' idempotency anchors: one per applied line, by (ref, item, location, batch).
-- `qty` is the line's change (`counted` = 0, never 0) or the quantity counted (`counted` = 1);
-- `ledger_id` is NULL when a count found what was there (nothing to change).
CREATE TABLE adjustments (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL CONSTRAINT adjustments_ref_length CHECK (length(ref) BETWEEN 1 AND 64),
    ref_line    INTEGER NOT NULL CONSTRAINT adjustments_ref_line_positive CHECK (ref_line >= 1),
    item_id     INTEGER NOT NULL REFERENCES items (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    batch_code  TEXT NOT NULL DEFAULT '',
    qty         INTEGER NOT NULL,
    counted     INTEGER NOT NULL CONSTRAINT adjustments_counted_flag CHECK (counted IN (0, 1)),
    reason_code TEXT NOT NULL CONSTRAINT adjustments_reason_code_valid CHECK (reason_code IN
        ('COUNT_CORRECTION', 'DAMAGED', 'LOST', 'FOUND', 'EXPIRED_DISPOSAL', 'OTHER')),
    ledger_id   INTEGER REFERENCES stock_ledger (id),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT adjustments_qty_valid CHECK ((counted = 1 AND qty >= 0) OR (counted = 0 AND qty <> 0)),
    CONSTRAINT uq_adjustments_ref_item_loc_batch UNIQUE (ref, item_id, location_id, batch_code)
) STRICT;
