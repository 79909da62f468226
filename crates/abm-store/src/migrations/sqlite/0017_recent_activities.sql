-- The recent matched activities again, clustered by account (issue 4). An update after a small
-- import resumes each touched account's journey from its last three months of activities; in
-- `activities` (keyed by source id) those lie on about as many pages as there are activities,
-- here on a few pages per account. A rebuild writes the copy from the day in
-- `recent_activities_since` (no row: no copy); each insert into `activities` from that day on is
-- copied in the same transaction.
CREATE TABLE recent_activities (
    crm_id TEXT NOT NULL,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    email TEXT,
    account_id TEXT,
    ip TEXT,
    company_domain TEXT,
    attributes TEXT NOT NULL,
    PRIMARY KEY (crm_id, at, source, source_id)
) WITHOUT ROWID;
CREATE TABLE recent_activities_since (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    since TEXT NOT NULL
);
