-- Team updates posted to Slack (issue 6), kept for the milestone digest.
CREATE TABLE team_updates (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    author TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('update', 'discuss')),
    text TEXT NOT NULL,
    link TEXT
);
CREATE INDEX team_updates_at ON team_updates (at);
