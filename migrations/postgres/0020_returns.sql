-- Issue 33: returns into quarantine. A return receives goods into a quarantine location of its
-- warehouse (stock there, never available: not shipped, reserved, counted or put away) and
-- keeps, line by line, what came back of each lot at each quarantine location, why, and how much
-- of it has since been restocked or scrapped. With an order, what it may take back is bounded by
-- what that order shipped. A disposition says the whole quantity of a lot restocked at one
-- location (or scrapped) so far, so a retry changes nothing; `disposals` numbers them, as their
-- lines are anchored apart.
CREATE TABLE returns (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref          TEXT NOT NULL CONSTRAINT returns_ref_length CHECK (char_length(ref) BETWEEN 1 AND 64),
    warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
    order_id     BIGINT REFERENCES orders (id),
    status       TEXT NOT NULL CONSTRAINT returns_status_valid CHECK (status IN ('OPEN', 'DISPOSED')),
    disposals    BIGINT NOT NULL DEFAULT 0 CONSTRAINT returns_disposals_non_negative CHECK (disposals >= 0),
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT,
    updated_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT returns_ref_key UNIQUE (ref)
);
CREATE INDEX returns_warehouse_idx ON returns (warehouse_id, id);
CREATE INDEX returns_order_idx ON returns (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE return_lines (
    return_id   BIGINT NOT NULL REFERENCES returns (id),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    batch_code  TEXT NOT NULL,
    expiry_date DATE,
    line        INTEGER NOT NULL CONSTRAINT return_lines_line_positive CHECK (line >= 1),
    qty         BIGINT NOT NULL CONSTRAINT return_lines_qty_positive CHECK (qty >= 1),
    reason_code TEXT NOT NULL CONSTRAINT return_lines_reason_code_valid CHECK (reason_code IN
        ('CUSTOMER_RETURN', 'DAMAGED', 'WRONG_ITEM', 'EXPIRED', 'OTHER')),
    note        TEXT CONSTRAINT return_lines_note_length CHECK (note IS NULL OR char_length(note) BETWEEN 1 AND 500),
    restocked   BIGINT NOT NULL DEFAULT 0 CONSTRAINT return_lines_restocked_non_negative CHECK (restocked >= 0),
    scrapped    BIGINT NOT NULL DEFAULT 0 CONSTRAINT return_lines_scrapped_non_negative CHECK (scrapped >= 0),
    CONSTRAINT return_lines_within_qty CHECK (restocked + scrapped <= qty),
    PRIMARY KEY (return_id, item_id, location_id, batch_code)
);

-- What each disposition of a lot has done so far: RESTOCK at a storage location, or SCRAP
-- (no location).
CREATE TABLE return_disposals (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    return_id   BIGINT NOT NULL REFERENCES returns (id),
    item_id     BIGINT NOT NULL REFERENCES items (id),
    batch_code  TEXT NOT NULL,
    action      TEXT NOT NULL CONSTRAINT return_disposals_action_valid CHECK (action IN ('RESTOCK', 'SCRAP')),
    location_id BIGINT REFERENCES locations (id),
    qty         BIGINT NOT NULL CONSTRAINT return_disposals_qty_non_negative CHECK (qty >= 0),
    CONSTRAINT return_disposals_place CHECK ((action = 'RESTOCK') = (location_id IS NOT NULL))
);
CREATE UNIQUE INDEX return_disposals_key
    ON return_disposals (return_id, item_id, batch_code, action, COALESCE(location_id, 0));
