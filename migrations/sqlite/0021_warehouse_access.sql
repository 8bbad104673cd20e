-- Issue 33: a person or a program may be limited to warehouses. No row: every warehouse (as
-- before); rows: only those. Movements, orders, counts, transfers and returns touching another
-- warehouse are refused 403, and its lists show only theirs.
CREATE TABLE user_warehouses (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
    PRIMARY KEY (user_id, warehouse_id)
) STRICT;
CREATE TABLE token_warehouses (
    token_id     INTEGER NOT NULL REFERENCES api_tokens (id),
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
    PRIMARY KEY (token_id, warehouse_id)
) STRICT;
