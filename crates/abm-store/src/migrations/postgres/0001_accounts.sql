-- Accounts, their domains, and people. Attribute values (with source and date) live in the
-- account row as a JSON array of [attribute, source, value, as_of], sorted by attribute and source.
-- Account-scoped tables carry crm_id in their primary key so that Citus can distribute them by
-- crm_id and co-locate them (see ARCHITECTURE.md).
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
    annual_revenue_cents  BIGINT,
    account_type          TEXT,
    carr_cents            BIGINT NOT NULL DEFAULT 0,
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
    family_carr_cents     BIGINT NOT NULL,
    first_order_available BOOLEAN NOT NULL,
    attributes            JSONB NOT NULL DEFAULT '[]',
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX accounts_ultimate_parent ON accounts (ultimate_parent_id);

CREATE TABLE account_domains (
    crm_id     TEXT NOT NULL REFERENCES accounts (crm_id) ON DELETE CASCADE,
    domain     TEXT NOT NULL,
    is_primary BOOLEAN NOT NULL,
    PRIMARY KEY (crm_id, domain)
);
CREATE INDEX account_domains_domain ON account_domains (domain);

-- '' = not linked to an account. people_person_id must be dropped before distributing with
-- Citus (a unique index must contain the distribution column); the import keeps person_id
-- unique itself by deleting a person's row under its old account when it moves.
CREATE TABLE people (
    crm_id      TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    email       TEXT,
    first_name  TEXT,
    last_name   TEXT,
    title       TEXT,
    link_method TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (crm_id, person_id)
);
CREATE UNIQUE INDEX people_person_id ON people (person_id);
CREATE INDEX people_email ON people (email);
