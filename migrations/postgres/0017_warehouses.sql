-- Issue 33: several warehouses. Each has a code, a name and, optionally, its own time zone
-- ("today" for expiry on its pages); NULL follows DEPOT_TIMEZONE. What there was before is
-- warehouse MAIN. (Locations join their warehouse in a later step.)
CREATE TABLE warehouses (
    id         BIGSERIAL,
    code       TEXT NOT NULL CONSTRAINT warehouses_code_length CHECK (length(code) BETWEEN 1 AND 32),
    name       TEXT NOT NULL CONSTRAINT warehouses_name_length CHECK (length(name) BETWEEN 1 AND 128),
    timezone   TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT warehouses_pkey PRIMARY KEY (id),
    CONSTRAINT warehouses_code_key UNIQUE (code)
);
INSERT INTO warehouses (code, name) VALUES ('MAIN', '主仓 Main');
