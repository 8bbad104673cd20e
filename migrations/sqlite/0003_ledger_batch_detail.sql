-- A ledger entry says forever what it said when written (SPEC §1, "ledger batch detail"): the
-- batch code and dates it moved are copied into its detail, never re-read from a batch row that
-- may since have been emptied and refilled with another lot under the same code.
-- Entries written before this migration get the dates their batches hold now: the best record
-- there is.

ALTER TABLE ledger_batches ADD COLUMN batch_code TEXT NOT NULL DEFAULT ''
    CONSTRAINT ledger_batches_code_length CHECK (length(batch_code) <= 64);
ALTER TABLE ledger_batches ADD COLUMN expiry_date TEXT
    CONSTRAINT ledger_batches_expiry_is_date CHECK (expiry_date IS NULL OR date(expiry_date) IS expiry_date);
ALTER TABLE ledger_batches ADD COLUMN production_date TEXT
    CONSTRAINT ledger_batches_production_is_date CHECK (production_date IS NULL OR date(production_date) IS production_date);

DROP TRIGGER ledger_batches_no_update;
UPDATE ledger_batches SET
    batch_code = (SELECT b.batch_code FROM batches b WHERE b.id = ledger_batches.batch_id),
    expiry_date = (SELECT b.expiry_date FROM batches b WHERE b.id = ledger_batches.batch_id),
    production_date = (SELECT b.production_date FROM batches b WHERE b.id = ledger_batches.batch_id);
CREATE TRIGGER ledger_batches_no_update BEFORE UPDATE ON ledger_batches
BEGIN SELECT RAISE(ABORT, 'ledger_batches is append-only'); END;
