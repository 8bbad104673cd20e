-- SPEC §7: people's sessions, kept in the database (tower-sessions, src/auth/sessions.rs). The
-- key is the SHA-256 digest of the session id the cookie carries, so the table alone signs
-- nobody in; `user_id` lets disabling a user end their sessions; `expires_at` is Unix seconds.
CREATE TABLE sessions (
    id_digest  TEXT PRIMARY KEY,
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
