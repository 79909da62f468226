-- Opportunities with their stage history (issue 4), kept whole as JSON documents by id.
CREATE TABLE opportunities (
    id TEXT PRIMARY KEY,
    crm_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX opportunities_crm_id ON opportunities (crm_id);
