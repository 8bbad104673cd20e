-- Issue 17 (SPEC §9): cycle counts. A count's scope is locations or items (`count_scope`); its
-- lines are every (item, location, batch) with stock in scope when it was created, plus goods
-- found while counting. A counted line keeps the stock of its batch at the moment it was
-- counted (`recorded_qty`): posting applies `counted_qty - recorded_qty` as COUNT_CORRECTION
-- adjustments under ref `COUNT-<id>`, so movements made after counting are kept.
CREATE TABLE counts (
    id         INTEGER PRIMARY KEY,
    status     TEXT NOT NULL DEFAULT 'OPEN'
        CONSTRAINT counts_status_valid CHECK (status IN ('OPEN', 'POSTED', 'CANCELLED')),
    blind      INTEGER NOT NULL CONSTRAINT counts_blind_flag CHECK (blind IN (0, 1)),
    scope_kind TEXT NOT NULL CONSTRAINT counts_scope_kind_valid CHECK (scope_kind IN ('locations', 'skus')),
    created_at TEXT NOT NULL,
    created_by TEXT,
    closed_at  TEXT,
    closed_by  TEXT
) STRICT;
CREATE INDEX counts_status_idx ON counts (status, id);

CREATE TABLE count_scope (
    count_id    INTEGER NOT NULL REFERENCES counts (id),
    location_id INTEGER REFERENCES locations (id),
    item_id     INTEGER REFERENCES items (id),
    CONSTRAINT count_scope_one_of CHECK ((location_id IS NULL) <> (item_id IS NULL))
) STRICT;
CREATE INDEX count_scope_count_idx ON count_scope (count_id);

CREATE TABLE count_lines (
    id           INTEGER PRIMARY KEY,
    count_id     INTEGER NOT NULL REFERENCES counts (id),
    item_id      INTEGER NOT NULL REFERENCES items (id),
    location_id  INTEGER NOT NULL REFERENCES locations (id),
    batch_code   TEXT NOT NULL DEFAULT '',
    expected_qty INTEGER NOT NULL CONSTRAINT count_lines_expected_non_negative CHECK (expected_qty >= 0),
    counted_qty  INTEGER CONSTRAINT count_lines_counted_non_negative CHECK (counted_qty IS NULL OR counted_qty >= 0),
    recorded_qty INTEGER CONSTRAINT count_lines_recorded_non_negative CHECK (recorded_qty IS NULL OR recorded_qty >= 0),
    found        INTEGER NOT NULL CONSTRAINT count_lines_found_flag CHECK (found IN (0, 1)),
    counted_at   TEXT,
    counted_by   TEXT,
    CONSTRAINT count_lines_counted_with_recorded CHECK ((counted_qty IS NULL) = (recorded_qty IS NULL)),
    CONSTRAINT uq_count_lines UNIQUE (count_id, item_id, location_id, batch_code)
) STRICT;
