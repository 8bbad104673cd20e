-- Issue 33: several warehouses. Each has a code, a name and, optionally, its own time zone
-- ("today" for expiry on its pages); NULL follows DEPOT_TIMEZONE. What there was before is
-- warehouse MAIN. (Locations join their warehouse in a later step.)
CREATE TABLE warehouses (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL CONSTRAINT warehouses_code_length CHECK (length(code) BETWEEN 1 AND 32),
    name       TEXT NOT NULL CONSTRAINT warehouses_name_length CHECK (length(name) BETWEEN 1 AND 128),
    timezone   TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    CONSTRAINT warehouses_code_key UNIQUE (code)
) STRICT;
INSERT INTO warehouses (code, name) VALUES ('MAIN', '主仓 Main');
