-- A ledger entry says forever what it said when written (SPEC §1, "ledger batch detail"): the
-- batch code and dates it moved are copied into its detail, never re-read from a batch row that
-- may since have been emptied and refilled with another lot under the same code.
-- Entries written before this migration get the dates their batches hold now: the best record
-- there is.

ALTER TABLE ledger_batches
    ADD COLUMN batch_code TEXT NOT NULL DEFAULT ''
        CONSTRAINT ledger_batches_code_length CHECK (char_length(batch_code) <= 64),
    ADD COLUMN expiry_date DATE,
    ADD COLUMN production_date DATE;

ALTER TABLE ledger_batches DISABLE TRIGGER ledger_batches_append_only;
UPDATE ledger_batches lb
SET batch_code = b.batch_code, expiry_date = b.expiry_date, production_date = b.production_date
FROM batches b
WHERE b.id = lb.batch_id;
ALTER TABLE ledger_batches ENABLE TRIGGER ledger_batches_append_only;
