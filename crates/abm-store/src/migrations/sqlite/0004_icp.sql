-- ICP versions, which one is active, and each account's fit under it (issue 3).
CREATE TABLE icp_versions (
    version INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    author TEXT NOT NULL,
    definition TEXT NOT NULL
);

CREATE TABLE icp_activations (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL REFERENCES icp_versions (version),
    at TEXT NOT NULL,
    actor TEXT NOT NULL
);

CREATE TABLE icp_scores (
    crm_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    icp INTEGER NOT NULL,
    score INTEGER NOT NULL,
    grade TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX icp_scores_grade ON icp_scores (grade);
