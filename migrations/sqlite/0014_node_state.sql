-- Issue 30: several Depot processes behind a load balancer share nothing but this database, so
-- what a node keeps between requests is kept here, with its expiry, rather than in its memory
-- (where the other nodes could not see it and a restart lost it). Moments are Unix seconds of
-- the server's clock (`DEPOT_CLOCK`).

-- No-JavaScript form results (src/flash.rs), read back by the page a post redirects to. The key
-- is the SHA-256 digest of the token the redirect's URL carries; `body` is the result encrypted
-- under a key derived from that token, so the table alone reads no result (a new API token's
-- secret among them). A row is read for 15 minutes; writes delete expired rows a few at a time.
-- A row kept `once` is deleted by the read that returns it.
CREATE TABLE form_results (
    token_digest TEXT NOT NULL,
    page         TEXT NOT NULL,
    reference    TEXT NOT NULL,
    body         BLOB NOT NULL,
    once         INTEGER NOT NULL CONSTRAINT form_results_once_flag CHECK (once IN (0, 1)),
    created_at   INTEGER NOT NULL,
    CONSTRAINT form_results_pkey PRIMARY KEY (token_digest)
) STRICT;
CREATE INDEX form_results_created_idx ON form_results (created_at);

-- Failed sign-ins (SPEC §7, src/auth/throttle.rs): five for one username within 15 minutes hold
-- its next sign-in off until the first leaves the window. A sign-in deletes its name's rows;
-- every failure deletes a few rows older than the window.
CREATE TABLE sign_in_failures (
    id        INTEGER CONSTRAINT sign_in_failures_pkey PRIMARY KEY,
    username  TEXT NOT NULL,
    failed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sign_in_failures_username_idx ON sign_in_failures (username, failed_at);
CREATE INDEX sign_in_failures_failed_at_idx ON sign_in_failures (failed_at);

-- First-start setup links (SPEC §7, src/auth/web.rs): each node that starts while no user exists
-- prints a link of its own and keeps the SHA-256 digest of its token here. Any of them opens
-- setup on any node until the first admin exists; creating that admin deletes them all in the
-- same transaction.
CREATE TABLE setup_tokens (
    token_digest TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    CONSTRAINT setup_tokens_pkey PRIMARY KEY (token_digest)
) STRICT;
