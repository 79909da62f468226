-- Focus account lists (issue 3): versions kept whole as JSON documents, nominations, flags.
CREATE TABLE list_versions (
    version INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    published_at TEXT,
    doc TEXT NOT NULL
);

CREATE TABLE nominations (
    id INTEGER PRIMARY KEY,
    crm_id TEXT NOT NULL,
    decided INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL
);

CREATE TABLE list_flags (
    crm_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    flagged_by TEXT NOT NULL,
    at TEXT NOT NULL
) WITHOUT ROWID;
