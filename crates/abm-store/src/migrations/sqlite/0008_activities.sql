-- Activities (issue 4): append-only facts with the account identity resolution found.
CREATE TABLE activities (
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    email TEXT,
    account_id TEXT,
    ip TEXT,
    company_domain TEXT,
    crm_id TEXT,
    method TEXT NOT NULL,
    confidence REAL NOT NULL,
    why_not TEXT,
    attributes TEXT NOT NULL,
    PRIMARY KEY (source, source_id)
) WITHOUT ROWID;
CREATE INDEX activities_crm_id ON activities (crm_id, at);

CREATE TABLE ip_ranges (
    cidr TEXT PRIMARY KEY,
    first_ip BIGINT NOT NULL,
    last_ip BIGINT NOT NULL,
    crm_id TEXT NOT NULL
);
