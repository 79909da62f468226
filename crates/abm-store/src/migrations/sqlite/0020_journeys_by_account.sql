-- Journeys clustered by account (issue 4). As a rowid table keyed by crm_id, each journey was
-- written twice, into the table and into the key's own index; a first load writes a million
-- of them. Keyed by crm_id without row ids, the table is that index.
CREATE TABLE journeys_by_account (
    crm_id TEXT PRIMARY KEY,
    base_stage INTEGER NOT NULL,
    through TEXT NOT NULL,
    scores TEXT NOT NULL,
    stage INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO journeys_by_account (crm_id, base_stage, through, scores, stage)
    SELECT crm_id, base_stage, through, scores, stage FROM journeys;
DROP TABLE journeys;
ALTER TABLE journeys_by_account RENAME TO journeys;
CREATE INDEX journeys_stage ON journeys (stage);
