-- Automation firings (issue 4): one per automation, account and trigger day, so running the
-- automations again acts on nothing twice.
CREATE TABLE automation_firings (
    automation TEXT NOT NULL,
    crm_id TEXT NOT NULL,
    day DATE NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (automation, crm_id, day)
);
