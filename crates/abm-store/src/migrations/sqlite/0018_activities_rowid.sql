-- Activities in a rowid table (issue 4). Keyed by (source, source_id), ten million rows were
-- each placed among the others by a text key; with row ids they are appended in arrival order,
-- and the account index holds 8-byte row ids instead of the text key. Re-imports still match on
-- (source, source_id), now a unique index, which an import into an empty table builds once at
-- the end.
CREATE TABLE activities_by_row (
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
    attributes TEXT NOT NULL
);
INSERT INTO activities_by_row
    SELECT source, source_id, at, kind, email, account_id, ip, company_domain, crm_id, method,
           confidence, why_not, attributes
    FROM activities;
DROP TABLE activities;
ALTER TABLE activities_by_row RENAME TO activities;
CREATE UNIQUE INDEX activities_key ON activities (source, source_id);
CREATE INDEX activities_crm_id ON activities (crm_id, at);
