-- Journey stages (issue 4): each account's replayed journey (the stage without dated facts, the
-- day it was replayed through, its scores then) and its stage changes, with day and cause.
CREATE TABLE journeys (
    crm_id TEXT PRIMARY KEY,
    base_stage INTEGER NOT NULL,
    through TEXT NOT NULL,
    scores TEXT NOT NULL
);
CREATE TABLE journey_events (
    crm_id TEXT NOT NULL,
    day TEXT NOT NULL,
    from_stage INTEGER NOT NULL,
    to_stage INTEGER NOT NULL,
    cause TEXT NOT NULL
);
CREATE INDEX journey_events_crm_id ON journey_events (crm_id, day);
CREATE INDEX journey_events_day ON journey_events (day);
