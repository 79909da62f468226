-- ICP versions, which one is active, and each account's fit under it (issue 3).
CREATE TABLE icp_versions (
    version BIGINT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    author TEXT NOT NULL,
    definition TEXT NOT NULL
);

CREATE TABLE icp_activations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version BIGINT NOT NULL REFERENCES icp_versions (version),
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL
);

CREATE TABLE icp_scores (
    crm_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    icp INTEGER NOT NULL,
    score INTEGER NOT NULL,
    grade TEXT NOT NULL
);
CREATE INDEX icp_scores_grade ON icp_scores (grade);
