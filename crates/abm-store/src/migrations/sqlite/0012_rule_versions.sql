-- Versions of rule files users edit (issue 4: engagement.toml), which one is in force, and when
-- each was made so; the journeys replayed with it are written in the same transaction.
CREATE TABLE rule_versions (
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    author TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (kind, version)
);
CREATE TABLE rule_activations (
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (kind, seq)
);
