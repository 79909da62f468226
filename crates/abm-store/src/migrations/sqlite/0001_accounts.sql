-- Accounts, their domains, and people. Attribute values (with source and date) live in the
-- account row as a JSON array of [attribute, source, value, as_of], sorted by attribute and source.
CREATE TABLE accounts (
    crm_id                TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    website               TEXT,
    parent_id             TEXT,
    country               TEXT,
    geo                   TEXT,
    sub_region            TEXT,
    employees             INTEGER,
    industry              TEXT,
    annual_revenue_cents  INTEGER,
    account_type          TEXT,
    carr_cents            INTEGER NOT NULL DEFAULT 0,
    owner                 TEXT,
    sdr                   TEXT,
    account_rank          TEXT,
    gtm_strategy          TEXT,
    abm_tier              TEXT,
    new_logo_target       TEXT,
    ultimate_parent_id    TEXT NOT NULL,
    segment               TEXT NOT NULL,
    segment_fy            INTEGER NOT NULL,
    family_max_employees  INTEGER,
    family_carr_cents     INTEGER NOT NULL,
    first_order_available INTEGER NOT NULL,
    attributes            TEXT NOT NULL DEFAULT '[]',
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX accounts_ultimate_parent ON accounts (ultimate_parent_id);

CREATE TABLE account_domains (
    crm_id     TEXT NOT NULL REFERENCES accounts (crm_id) ON DELETE CASCADE,
    domain     TEXT NOT NULL,
    is_primary INTEGER NOT NULL,
    PRIMARY KEY (crm_id, domain)
) WITHOUT ROWID;
CREATE INDEX account_domains_domain ON account_domains (domain);

-- People are keyed by (crm_id, person_id) so they shard with their account; '' = not linked.
CREATE TABLE people (
    crm_id      TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    email       TEXT,
    first_name  TEXT,
    last_name   TEXT,
    title       TEXT,
    link_method TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (crm_id, person_id)
);
CREATE UNIQUE INDEX people_person_id ON people (person_id);
CREATE INDEX people_email ON people (email);
