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
    code TEXT PRIMARY KEY CONSTRAINT ledger_reasons_code_valid CHECK (code ~ '^[A-Z][A-Z_]{0,31}$')
);
-- Depot adds the reasons of the kinds it knows when it starts; these are the ones written so far.
INSERT INTO ledger_reasons (code) VALUES ('RECEIVE'), ('PUTAWAY'), ('OUTBOUND'), ('ADJUST');
ALTER TABLE stock_ledger
    DROP CONSTRAINT stock_ledger_reason_valid,
    ADD CONSTRAINT stock_ledger_reason_fkey FOREIGN KEY (reason) REFERENCES ledger_reasons (code);

CREATE TABLE movement_anchors (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL CONSTRAINT movement_anchors_kind_valid CHECK (kind ~ '^[A-Z][A-Z_]{0,31}$'),
    ref         TEXT NOT NULL CONSTRAINT movement_anchors_ref_length CHECK (char_length(ref) BETWEEN 1 AND 80),
    ref_line    INTEGER NOT NULL CONSTRAINT movement_anchors_ref_line_positive CHECK (ref_line >= 1),
    line_key    TEXT NOT NULL CONSTRAINT movement_anchors_line_key_length CHECK (char_length(line_key) BETWEEN 3 AND 200),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    content     TEXT NOT NULL,
    ledger_ids  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_movement_anchors_kind_ref_line UNIQUE (kind, ref, line_key)
);

-- Every anchor written so far, in the order it was written, with the content its kind reads.
INSERT INTO movement_anchors (kind, ref, ref_line, line_key, item_id, location_id, content, ledger_ids, created_at)
SELECT kind, ref, ref_line, line_key, item_id, location_id, content, ledger_ids, created_at
FROM (
    SELECT 1 AS k, id, 'RECEIVE' AS kind, ref, ref_line,
           item_id || '@' || location_id || '#' || batch_code AS line_key, item_id, location_id,
           json_strip_nulls(json_build_object('qty', qty, 'expiry_date', expiry_date,
                                              'production_date', production_date))::text AS content,
           COALESCE('[' || ledger_id || ']', '[]') AS ledger_ids, created_at
    FROM inbound_receipts
    UNION ALL
    SELECT 2, id, 'PUTAWAY', ref, ref_line,
           item_id || '@' || from_location_id || '>' || to_location_id, item_id, from_location_id,
           json_strip_nulls(json_build_object('qty', qty, 'batch_code', batch_code))::text,
           COALESCE('[' || from_ledger_id || ',' || to_ledger_id || ']', '[]'), created_at
    FROM putaway_moves
    UNION ALL
    SELECT 3, id, 'OUTBOUND', ref, ref_line,
           item_id || '@' || location_id, item_id, location_id,
           json_strip_nulls(json_build_object('qty', qty, 'batch_code', batch_code))::text,
           COALESCE('[' || ledger_id || ']', '[]'), created_at
    FROM outbound_commits
    UNION ALL
    SELECT 4, id, 'ADJUST', ref, ref_line,
           item_id || '@' || location_id || '#' || batch_code, item_id, location_id,
           json_strip_nulls(json_build_object('qty', qty, 'counted', CASE WHEN counted THEN true END,
                                              'reason_code', reason_code))::text,
           COALESCE('[' || ledger_id || ']', '[]'), created_at
    FROM adjustments
    UNION ALL
    SELECT 5, id, 'SHIP', ref, ref_line,
           item_id || '@' || location_id || '#' || batch_code, item_id, location_id,
           json_build_object('qty', qty)::text,
           COALESCE('[' || ledger_id || ']', '[]'), created_at
    FROM order_shipments
) AS written
ORDER BY created_at, k, id;

DROP TABLE inbound_receipts, putaway_moves, outbound_commits, adjustments, order_shipments;

-- The seed's name for the outbound anchors, kept for whoever reads it.
CREATE VIEW outbound_commits AS
SELECT id, ref, ref_line, item_id, location_id,
       (content::json ->> 'qty')::bigint AS qty,
       content::json ->> 'batch_code' AS batch_code,
       (ledger_ids::json ->> 0)::bigint AS ledger_id,
       created_at
FROM movement_anchors
WHERE kind = 'OUTBOUND';
