//! Persistence for abm behind one interface, [`Store`], with a SQLite implementation (the default,
//! one file beside `abm.toml`) and a PostgreSQL one (for teams that share a server). Both embed
//! their migrations and apply them on open; one conformance suite ([`conformance`]) runs against
//! both, so callers never need to know which they have.

pub mod conformance;
mod migrate;
pub mod model;
mod postgres_store;
mod request_rows;
mod sql;
mod sqlite_store;

pub use abm_core::activity::{Activity, Match};
pub use abm_core::automation::Firing;
pub use abm_core::budget::BudgetLine;
pub use abm_core::journey::{Journey, StageEvent};
pub use abm_core::lists::{ListVersion, Nomination};
pub use abm_core::opportunity::Opportunity;
pub use abm_core::paid::AdFact;
pub use abm_core::request::{AuditEntry, Request, TeamMember};
pub use abm_core::updates::TeamUpdate;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
pub use model::*;
pub use postgres_store::PostgresStore;
pub use sqlite_store::SqliteStore;

use std::path::Path;

/// Errors from the store. Messages are for the people who run abm.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("database URL {0:?} is not understood: use a file path, sqlite://PATH or postgres://USER@HOST/DB")]
    BadUrl(String),
    #[error("the database was written by a newer abm (schema version {found}, this abm knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The records being written could not be produced (nothing was written).
    #[error("{0}")]
    Source(String),
    /// Someone else changed the item since it was read; read it again and retry.
    #[error("{0} was changed by someone else since it was read: try again")]
    Conflict(String),
    #[error("{0} does not exist")]
    NotFound(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Called with the number of rows written so far, during long writes.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// Replayed journeys to store, a run at a time: the next run, an empty one at the end, or why
/// the write must stop ([`StoreError::Source`]; nothing is stored).
pub type JourneyRuns<'a> = &'a mut dyn FnMut() -> std::result::Result<Vec<Journey>, String>;

/// Activities to append, a batch at a time: the next batch, an empty one at the end, or why
/// the write must stop. Each call is handed back the batch before, written (empty the first
/// time): a caller that made it on another thread can free it there, where it is quickest.
pub type ActivityBatches<'a> =
    &'a mut dyn FnMut(Vec<(Activity, Match)>) -> std::result::Result<Vec<(Activity, Match)>, String>;

/// What an activity write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActivityWrite {
    pub added: u64,
    /// Offered but already held (same source and source id), so skipped.
    pub already: u64,
    /// The store held no activity when the write began (seen inside its transaction): what it
    /// added is every activity the store now holds.
    pub into_empty: bool,
}

impl ActivityWrite {
    /// Of `offered` activities, `added` were new.
    fn counted(offered: u64, added: u64, into_empty: bool) -> ActivityWrite {
        ActivityWrite {
            added,
            already: offered - added,
            into_empty,
        }
    }
}

/// The first day of a copy of every matched activity ([`Store::keep_recent_activities`]):
/// 1 January of the year 0, before any activity.
pub fn all_history() -> NaiveDate {
    NaiveDate::from_ymd_opt(0, 1, 1).expect("a day chrono knows")
}

/// Everything abm keeps. One implementation per database; every method that writes is one
/// transaction: it lands whole or not at all.
pub trait Store: Send {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// The highest migration applied.
    fn schema_version(&mut self) -> Result<i64>;

    /// The hierarchy facts of every stored account, for family roll-ups on import.
    fn hierarchy_rows(&mut self) -> Result<Vec<abm_core::hierarchy::StoredMember>>;

    /// Upsert imported accounts (with their roll-ups) and update the roll-ups of other accounts
    /// whose family changed, as one transaction. Rows whose values did not change are left alone.
    fn write_accounts(
        &mut self,
        write: &AccountWrite,
        source: &mut dyn AccountSource,
        progress: Progress<'_>,
    ) -> Result<WriteSummary>;

    /// A page of accounts matching the query, and how many match in all.
    fn list_accounts(&mut self, query: &AccountQuery) -> Result<AccountPage>;

    /// One account with its domains, attribute values, family and people.
    fn get_account(&mut self, crm_id: &str) -> Result<Option<AccountDetail>>;

    /// Every (domain, account, people at the account) claim, for linking people and activities,
    /// in no particular order.
    fn domain_claims(&mut self) -> Result<Vec<DomainClaim>>;

    /// The claims on `domains` only (what [`Store::domain_claims`] holds for them): a small
    /// import's matching reads these instead of every claim.
    fn domain_claims_for(&mut self, domains: &[String]) -> Result<Vec<DomainClaim>>;

    /// Which of `ids` are accounts.
    fn accounts_among(&mut self, ids: &[String]) -> Result<Vec<String>>;

    /// Upsert people as one transaction.
    fn write_people(&mut self, people: &[PersonRow], progress: Progress<'_>) -> Result<WriteSummary>;

    /// Counts of what is stored, for status lines and tests.
    fn counts(&mut self) -> Result<StoreCounts>;

    /// Add a person to the team or change their name and role; returns who they were before.
    fn put_team_member(&mut self, member: &TeamMember, audit: &AuditEntry) -> Result<Option<TeamMember>>;

    /// The team, by username.
    fn team(&mut self) -> Result<Vec<TeamMember>>;

    /// Store a new request with its audit entries; returns the id it was given.
    fn insert_request(&mut self, request: &Request, audit: &[AuditEntry]) -> Result<i64>;

    /// Save a changed request with its audit entries. `request.version` must be the version that
    /// was read: if someone saved in between, nothing is written and the error is `Conflict`.
    fn update_request(&mut self, request: &Request, audit: &[AuditEntry]) -> Result<()>;

    fn get_request(&mut self, id: i64) -> Result<Option<Request>>;

    /// Hand each request matching `query` to `f`, in id order, without holding them all.
    fn each_request(&mut self, query: &RequestQuery, f: &mut dyn FnMut(Request)) -> Result<()>;

    /// The requests matching `query`, in id order.
    fn list_requests(&mut self, query: &RequestQuery) -> Result<Vec<Request>> {
        let mut out = Vec::new();
        self.each_request(query, &mut |r| out.push(r))?;
        Ok(out)
    }

    /// Keep audit entries that go with no change (refused attempts, team changes).
    fn append_audit(&mut self, entries: &[AuditEntry]) -> Result<()>;

    /// A request's audit log, oldest first.
    fn audit_log(&mut self, request_id: i64) -> Result<Vec<AuditEntry>>;

    /// Import requests matched on `external_id`: new ones are inserted with their history,
    /// changed ones replaced, identical ones left alone. One transaction.
    fn import_requests(&mut self, requests: &[ImportedRequest], progress: Progress<'_>) -> Result<WriteSummary>;

    /// Keep a posted team update; returns its id.
    fn add_update(&mut self, update: &TeamUpdate) -> Result<i64>;

    /// Updates posted in `[from, to)`, oldest first.
    fn updates(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<TeamUpdate>>;

    /// Save an ICP definition as the next version; returns its number.
    fn save_icp_version(&mut self, definition: &str, author: &str, at: DateTime<Utc>) -> Result<i64>;

    /// Every ICP version, oldest first, the active one marked.
    fn icp_versions(&mut self) -> Result<Vec<IcpVersion>>;

    /// Make `version` the one in force and replace every stored fit with `fits` (computed under
    /// it), in one transaction.
    fn activate_icp(&mut self, version: i64, actor: &str, at: DateTime<Utc>, fits: &[StoredFit]) -> Result<()>;

    /// Hand every account's scoring input to `f`, families together with the ultimate parent first.
    fn each_scoring_input(&mut self, f: &mut dyn FnMut(ScoringInput)) -> Result<()>;

    /// Every account's crm id and account type, by crm id: where replaying every journey
    /// starts (a scoring input holds much more, all of it read).
    fn account_types(&mut self) -> Result<Vec<(String, Option<String>)>>;

    /// Every account's crm id, by crm id: what matching activities to accounts numbers them by.
    fn account_ids(&mut self) -> Result<Vec<String>> {
        Ok(self.account_types()?.into_iter().map(|(id, _)| id).collect())
    }

    /// Every stored fit, by crm id.
    fn fits(&mut self) -> Result<Vec<StoredFit>>;

    /// Store a built list as the next version (a draft); returns its number.
    fn save_list_version(&mut self, list: &ListVersion) -> Result<i64>;

    /// Every list version, oldest first.
    fn list_versions(&mut self) -> Result<Vec<ListVersion>>;

    /// Publish a draft: it never changes again. Publishing a published version is a `Conflict`.
    fn publish_list(&mut self, version: i64, by: &str, at: DateTime<Utc>) -> Result<()>;

    /// Record a nomination; returns its id.
    fn add_nomination(&mut self, n: &Nomination) -> Result<i64>;

    /// Record the decision on an undecided nomination (`Conflict` if it was decided already).
    fn decide_nomination(&mut self, n: &Nomination) -> Result<()>;

    fn nominations(&mut self) -> Result<Vec<Nomination>>;

    /// Flag a family (no budget, …) so lists leave it out; `None` clears the flag.
    fn set_flag(&mut self, crm_id: &str, flag: Option<(&str, &str)>, at: DateTime<Utc>) -> Result<()>;

    /// (crm id, reason) of every flagged family.
    fn flags(&mut self) -> Result<Vec<(String, String)>>;

    /// Replace one export's facts: every fact of `platform` and `account` within `[from, to]` is
    /// deleted and `facts` written, in one transaction, so an overlapping re-import never double
    /// counts. Returns (deleted, written).
    fn replace_ad_facts(
        &mut self,
        platform: &str,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
        facts: &[AdFact],
    ) -> Result<(u64, u64)>;

    /// Every ad fact.
    fn ad_facts(&mut self) -> Result<Vec<AdFact>>;

    /// Replace every budget line with `lines` (a budget export is a full snapshot).
    fn replace_budget(&mut self, lines: &[BudgetLine]) -> Result<()>;

    /// Every budget line, by key.
    fn budget(&mut self) -> Result<Vec<BudgetLine>>;

    /// Append activities with their matches, batch by batch, in one transaction; ones already
    /// held (same source and source id) are skipped. `next` gives the next batch, an empty one at
    /// the end, or an error that rolls the whole write back ([`StoreError::Source`]). Returns
    /// what it did.
    fn insert_activity_batches(&mut self, next: ActivityBatches<'_>) -> Result<ActivityWrite>;

    /// Whether the store holds any activity.
    fn holds_activities(&mut self) -> Result<bool>;

    /// [`Store::insert_activity_batches`] with one batch: (added, already there).
    fn insert_activities(&mut self, activities: &[(Activity, Match)]) -> Result<(u64, u64)> {
        let mut once = Some(activities.to_vec());
        let w = self.insert_activity_batches(&mut |_| Ok(once.take().unwrap_or_default()))?;
        Ok((w.added, w.already))
    }

    /// Every matched activity of one kind (e.g. `Intent`) with its account, oldest first.
    fn activities_of_kind(&mut self, kind: &str) -> Result<Vec<(String, Activity)>>;

    /// The activities matched to an account, oldest first.
    fn activities_of(&mut self, crm_id: &str) -> Result<Vec<Activity>>;

    /// The activities matched to an account on or after the day `since` (UTC), oldest first.
    fn activities_since(&mut self, crm_id: &str, since: NaiveDate) -> Result<Vec<Activity>>;

    /// The activities matched to any of these accounts on or after the day `since`, with their
    /// account, in no particular order.
    fn activities_of_since(&mut self, crm_ids: &[String], since: NaiveDate) -> Result<Vec<(String, Activity)>>;

    /// Keep a copy of the matched activities dated `since` or later, clustered by account, so
    /// that [`Store::activities_of_since`] from that day on reads a few pages per account
    /// instead of one per activity. `recent` must give every matched activity dated `since` or
    /// later (a rebuild holds them all), packed by [`abm_core::packing::put_activity`] with its
    /// account, one value per run of one account's activities ([`abm_core::packing::by_account`]),
    /// best in account order; the copy replaces any earlier one (or, when an earlier one starts
    /// no later, the store may keep that one and leave `recent` unread), and activities
    /// inserted afterwards are copied as they land. What the
    /// reads return is the same with or without a copy; a store whose account index reads
    /// quickly enough keeps none (the default).
    fn keep_recent_activities(
        &mut self,
        since: NaiveDate,
        recent: &mut dyn Iterator<Item = (String, Vec<u8>)>,
    ) -> Result<()> {
        let _ = (since, recent);
        Ok(())
    }

    /// Whether the store lacks a copy of every matched activity that it needs: give it one,
    /// [`Store::keep_recent_activities`] from [`all_history`]. SQLite skips its account index
    /// for a first load (eight seconds of ten million rows) and reads each account's activities
    /// from that copy instead. Until it has one, reads stay right (only slower); a copy from a
    /// later day makes it build the index after all.
    fn wants_every_activity_copied(&mut self) -> Result<bool> {
        Ok(false)
    }

    /// Counts of activities by match method, and of unmatched ones by reason.
    fn activity_summary(&mut self) -> Result<(Vec<(String, u64)>, Vec<(String, u64)>)>;

    /// Replace the IP-range table: (cidr, first address, last address, crm id).
    fn replace_ip_ranges(&mut self, ranges: &[(String, u32, u32, String)]) -> Result<()>;

    /// (first address, last address, crm id) of every range.
    fn ip_ranges(&mut self) -> Result<Vec<(u32, u32, String)>>;

    /// Insert or replace opportunities by id (identical ones are left alone). One transaction.
    fn upsert_opportunities(&mut self, opportunities: &[Opportunity]) -> Result<WriteSummary>;

    /// Every opportunity, by id.
    fn opportunities(&mut self) -> Result<Vec<Opportunity>>;

    /// Every matched activity with its account, in no particular order (a plain scan).
    fn each_matched_activity(&mut self, f: &mut dyn FnMut(String, Activity)) -> Result<()>;

    /// [`Store::each_matched_activity`] with each activity lent rather than built, for a caller
    /// that copies them elsewhere (a replay of every account packs ten million).
    fn each_matched_activity_lent(
        &mut self,
        f: &mut dyn FnMut(&str, abm_core::activity::ActivityView<'_>),
    ) -> Result<()> {
        self.each_matched_activity(&mut |crm, a| f(&crm, a.view()))
    }

    /// The journey facts of these accounts (those held), each read through its indexes.
    fn journey_facts(&mut self, crm_ids: &[String]) -> Result<Vec<JourneyFacts>>;

    /// (crm id, lower-case email, title) of every person with both.
    fn person_titles(&mut self) -> Result<Vec<(String, String, String)>>;

    /// Store replayed journeys in place of every stored one. One transaction.
    fn replace_journeys(&mut self, journeys: &[Journey]) -> Result<()>;

    /// Store replayed journeys in place of every stored one as a replay hands them over, a run
    /// at a time (it may still be replaying the accounts after): what [`Store::replace_journeys`]
    /// does with all of them, in one transaction. By default the runs are gathered and stored
    /// together; a store may write each as it comes.
    fn replace_journeys_in_runs(&mut self, next: JourneyRuns<'_>) -> Result<()> {
        let mut all = Vec::new();
        loop {
            let run = next().map_err(StoreError::Source)?;
            if run.is_empty() {
                return self.replace_journeys(&all);
            }
            all.extend(run);
        }
    }

    /// Store journeys resumed from a day (`None`: replayed whole): each replaces its account's
    /// journey row, and its stage changes on or after that day replace the stored ones from that
    /// day on; earlier ones stand, as the resume kept them. One transaction.
    fn revise_journeys(&mut self, revised: &[(Journey, Option<NaiveDate>)]) -> Result<()>;

    /// Save a rules file's text (`kind`: `engagement`) as its next version; returns the number.
    fn save_rules_version(&mut self, kind: &str, definition: &str, author: &str, at: DateTime<Utc>) -> Result<i64>;

    /// Every saved version of a rules file, oldest first, the one in force marked.
    fn rules_versions(&mut self, kind: &str) -> Result<Vec<RulesVersion>>;

    /// Put a version in force and store every account's journey replayed with it, as one
    /// transaction.
    fn activate_rules(
        &mut self,
        kind: &str,
        version: i64,
        actor: &str,
        at: DateTime<Utc>,
        journeys: &[Journey],
    ) -> Result<()>;

    /// Record that an automation fired; false (and nothing written) when it already had for that
    /// account and day.
    fn record_firing(&mut self, firing: &Firing) -> Result<bool>;

    /// Every recorded firing, by automation, day and account.
    fn firings(&mut self) -> Result<Vec<Firing>>;

    /// (accounts held, accounts with a stored journey).
    fn journey_coverage(&mut self) -> Result<(u64, u64)>;

    /// The stored journeys of these accounts (those that have one), in the order asked.
    fn journeys_of(&mut self, crm_ids: &[String]) -> Result<Vec<Journey>>;

    /// The stored journeys (one account's, or all), by account, events oldest first.
    fn journeys(&mut self, crm_id: Option<&str>) -> Result<Vec<Journey>>;

    /// Set a team member's password hash (an argon2 PHC string); the member must exist.
    fn set_password(&mut self, username: &str, hash: &str, at: DateTime<Utc>) -> Result<()>;

    /// A team member's password hash, if they have one.
    fn password_hash(&mut self, username: &str) -> Result<Option<String>>;

    /// Record that the session with `nonce` was signed out, until it would have expired at
    /// `expires` (a Unix time); sessions expired before `now` are forgotten.
    fn sign_out_session(&mut self, nonce: &str, expires: i64, now: i64) -> Result<()>;

    /// Whether the session with `nonce` was signed out.
    fn session_signed_out(&mut self, nonce: &str) -> Result<bool>;

    /// Keep an API token (its hash); a member's labels are unique (`Conflict` otherwise).
    fn add_api_token(&mut self, token: &ApiToken) -> Result<()>;

    /// Whose token has this hash.
    fn token_owner(&mut self, token_hash: &str) -> Result<Option<String>>;

    /// Every API token, by username and label.
    fn api_tokens(&mut self) -> Result<Vec<ApiToken>>;

    /// Forget a member's token by label; false when there was none.
    fn revoke_api_token(&mut self, username: &str, label: &str) -> Result<bool>;

    /// A value that changes whenever anything is written to the database (by this connection
    /// or another); readers cache derived results under it. It may also change without a write.
    fn data_version(&mut self) -> Result<String>;

    /// The server secret called `name`: the one stored, or `fresh` stored now when there is none
    /// (so concurrent servers agree on one).
    fn server_secret(&mut self, name: &str, fresh: &str) -> Result<String>;
}

/// Open the store a database URL names: a path or `sqlite://PATH` for SQLite (relative paths are
/// taken from `base`), `postgres://` or `postgresql://` for PostgreSQL.
pub fn open(url: &str, base: &Path) -> Result<Box<dyn Store>> {
    let u = url.trim();
    if u.starts_with("postgres://") || u.starts_with("postgresql://") {
        return Ok(Box::new(PostgresStore::open(u)?));
    }
    let path = u.strip_prefix("sqlite://").unwrap_or(u);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::BadUrl(url.to_string()));
    }
    let p = Path::new(path);
    let full = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
    Ok(Box::new(SqliteStore::open(&full)?))
}
