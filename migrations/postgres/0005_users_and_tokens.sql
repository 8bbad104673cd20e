-- SPEC §7: people (argon2id password hashes, never the password) and programs' API tokens
-- (the SHA-256 digest of the secret, never the secret). Roles: viewer < clerk < manager < admin.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL CONSTRAINT users_username_unique UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL
        CONSTRAINT users_role_known CHECK (role IN ('viewer', 'clerk', 'manager', 'admin')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL CONSTRAINT api_tokens_name_unique UNIQUE,
    role         TEXT NOT NULL
        CONSTRAINT api_tokens_role_known CHECK (role IN ('viewer', 'clerk', 'manager', 'admin')),
    digest       TEXT NOT NULL CONSTRAINT api_tokens_digest_unique UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
