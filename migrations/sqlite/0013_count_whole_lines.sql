-- Issue 30: a count line without a batch counts the item's whole stock at its location (all
-- its batches), as `POST /adjust` reads `counted_qty` without `batch_code`; it was a no-batch
-- lot with recorded 0, so counting 10 of 10 posted +10. A whole line keeps batch_code '' and
-- `whole`; one (item, location) is counted either whole or by batch within a count.
ALTER TABLE count_lines ADD COLUMN whole INTEGER NOT NULL DEFAULT 0
    CONSTRAINT count_lines_whole_flag CHECK (whole IN (0, 1));
