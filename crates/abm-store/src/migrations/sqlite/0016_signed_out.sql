-- Sessions signed out (issue 8). A session cookie is signed, not stored, so signing out records
-- the session's nonce until the session would have expired (a Unix time): a copy of the cookie
-- kept elsewhere is refused from then on.
CREATE TABLE signed_out_sessions (
    nonce TEXT PRIMARY KEY,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
