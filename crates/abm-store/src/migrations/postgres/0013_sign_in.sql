-- Sign-in for the web app (issue 8): a password (argon2 PHC string) per team member, API tokens
-- for scripts (only a SHA-256 of each token is kept), and the server's secrets (the cookie key),
-- kept in the store so every server sharing one database signs cookies alike.
CREATE TABLE user_passwords (
    username TEXT PRIMARY KEY REFERENCES team_members (username),
    hash TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES team_members (username),
    label TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (username, label)
);

CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
