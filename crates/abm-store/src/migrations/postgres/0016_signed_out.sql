-- Sessions signed out (issue 8). A session cookie is signed, not stored, so signing out records
-- the session's nonce until the session would have expired (a Unix time): a copy of the cookie
-- kept elsewhere is refused from then on. A reference table under Citus.
CREATE TABLE signed_out_sessions (
    nonce TEXT PRIMARY KEY,
    expires BIGINT NOT NULL
);
