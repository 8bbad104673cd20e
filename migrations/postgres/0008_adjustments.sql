-- Issue 17 (SPEC §9): adjustments. An ADJUST ledger entry carries why (`reason_code`) and, when
-- someone wrote one, a note; other entries carry neither (`depot check` verifies both rules).
ALTER TABLE stock_ledger
    ADD COLUMN reason_code TEXT
        CONSTRAINT stock_ledger_reason_code_valid CHECK (reason_code IS NULL OR reason_code IN
            ('COUNT_CORRECTION', 'DAMAGED', 'LOST', 'FOUND', 'EXPIRED_DISPOSAL', 'OTHER')),
    ADD COLUMN note TEXT
        CONSTRAINT stock_ledger_note_length CHECK (note IS NULL OR char_length(note) BETWEEN 1 AND 500);
CREATE INDEX stock_ledger_reason_code_idx ON stock_ledger (reason_code, id) WHERE reason_code IS NOT NULL;

-- The adjustments' idempotency anchors: one per applied line, by (ref, item, location, batch).
-- `qty` is the line's change (not `counted`, never 0) or the quantity counted (`counted`);
-- `ledger_id` is NULL when a count found what was there (nothing to change).
CREATE TABLE adjustments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref         TEXT NOT NULL CONSTRAINT adjustments_ref_length CHECK (char_length(ref) BETWEEN 1 AND 64),
    ref_line    INTEGER NOT NULL CONSTRAINT adjustments_ref_line_positive CHECK (ref_line >= 1),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    batch_code  TEXT NOT NULL DEFAULT '',
    qty         BIGINT NOT NULL,
    counted     BOOLEAN NOT NULL,
    reason_code TEXT NOT NULL CONSTRAINT adjustments_reason_code_valid CHECK (reason_code IN
        ('COUNT_CORRECTION', 'DAMAGED', 'LOST', 'FOUND', 'EXPIRED_DISPOSAL', 'OTHER')),
    ledger_id   BIGINT REFERENCES stock_ledger (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT adjustments_qty_valid CHECK ((counted AND qty >= 0) OR (NOT counted AND qty <> 0)),
    CONSTRAINT uq_adjustments_ref_item_loc_batch UNIQUE (ref, item_id, location_id, batch_code)
);
