-- The team, requests and the audit log (issue 5). A request is kept whole as a JSON document
-- (`doc`); the columns beside it are copies of the fields lists and reports filter on.
CREATE TABLE team_members (
    username TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('manager', 'member', 'requester', 'viewer')),
    added_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    external_id TEXT UNIQUE,
    template TEXT NOT NULL,
    status TEXT,
    author TEXT NOT NULL,
    assignee TEXT,
    due_date TEXT,
    submitted_at TEXT NOT NULL,
    closed_at TEXT,
    doc TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX requests_status ON requests (status);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    request_id INTEGER REFERENCES requests (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    field TEXT,
    before TEXT,
    after TEXT,
    note TEXT,
    refused INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_log_request ON audit_log (request_id, id);
