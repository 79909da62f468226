-- The copy of recent activities as one value per account (issue 4): the account's recent
-- activities packed one after another (`abm_core::packing`). As 2.9 million rows keyed by text,
-- a first load's copy took five seconds of the import; as about a million packed values it is
-- written in a fraction of that, and an update reads one value per touched account. The old
-- copy is dropped, not converted: reads go to `activities` (as they do without a copy) until the
-- next replay of every account (`abm engagement rebuild`, or a first load) writes it afresh.
DROP TABLE recent_activities;
DELETE FROM recent_activities_since;
CREATE TABLE recent_activities (
    crm_id TEXT PRIMARY KEY,
    activities BLOB NOT NULL
) WITHOUT ROWID;
