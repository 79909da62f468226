-- No query looks an account up by domain in SQL: domain claims are read whole and grouped in
-- memory. The index on account_domains (domain) only ordered that read, and building it was a
-- fifth of a million-account import.
DROP INDEX account_domains_domain;
