-- Each journey's current stage as a column (issue 8: the Accounts page filters by stage). A replay
-- changes an account's stage at most once a day, so the latest event is the stage now.
ALTER TABLE journeys ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;
UPDATE journeys SET stage = COALESCE(
    (SELECT e.to_stage FROM journey_events e WHERE e.crm_id = journeys.crm_id ORDER BY e.day DESC LIMIT 1),
    base_stage);
CREATE INDEX journeys_stage ON journeys (stage);
