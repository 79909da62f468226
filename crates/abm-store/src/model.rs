//! The shapes that cross the store boundary: what imports write and what readers get back.

use abm_core::account::{AccountRecord, AttributeValue};
use abm_core::hierarchy::FamilyFacts;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One account import, apart from its records (which arrive from an [`AccountSource`]): which
/// incoming accounts are already stored, and roll-up changes for stored accounts not in the import
/// whose family changed.
#[derive(Debug, Clone, Default)]
pub struct AccountWrite {
    /// crm ids among the incoming records that were already stored (their domain sets are replaced).
    pub existing: std::collections::HashSet<String>,
    pub rollup_updates: Vec<(String, FamilyFacts)>,
    /// RFC 3339 UTC time of the import, recorded on rows that change.
    pub at: String,
    /// How many records the source will yield (for choosing a bulk-load strategy; 0 if unknown).
    pub expected_records: u64,
}

/// Records to write, in batches, so an import never needs all of them in memory at once.
pub trait AccountSource {
    /// The next batch of records with their roll-ups; an empty batch when done. An error aborts
    /// the write (nothing of it is kept).
    fn next_batch(&mut self) -> std::result::Result<Vec<(AccountRecord, FamilyFacts)>, String>;

    /// Hand a written batch back (a source that allocated it on another thread can free it
    /// there, off the writer's path). By default it is dropped.
    fn recycle(&mut self, batch: Vec<(AccountRecord, FamilyFacts)>) {
        drop(batch);
    }

    /// Roll-up changes known only once every batch has been read (a source that wrote its
    /// records with provisional family facts corrects them here), applied in the same
    /// transaction after the records and [`AccountWrite::rollup_updates`]. An error aborts the
    /// write. By default there are none.
    fn late_rollups(&mut self) -> std::result::Result<Vec<(String, FamilyFacts)>, String> {
        Ok(Vec::new())
    }
}

/// A source over records already in memory.
pub struct InMemory(pub Option<Vec<(AccountRecord, FamilyFacts)>>);

impl AccountSource for InMemory {
    fn next_batch(&mut self) -> std::result::Result<Vec<(AccountRecord, FamilyFacts)>, String> {
        Ok(self.0.take().unwrap_or_default())
    }
}

/// What a write changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WriteSummary {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Filters and paging for account lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountQuery {
    pub segment: Option<String>,
    pub geo: Option<String>,
    pub tier: Option<String>,
    /// ICP grade (A–D) under the active version.
    pub grade: Option<String>,
    /// In (true) or out of (false) the ICP under the active version.
    pub icp: Option<bool>,
    /// The journey stage the account is in now.
    pub stage: Option<u32>,
    /// Case-insensitive match on name, or exact crm id, or domain prefix.
    pub text: Option<String>,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// A row of an account list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSummary {
    pub crm_id: String,
    pub name: String,
    pub domains: Vec<String>,
    pub segment: String,
    pub geo: Option<String>,
    pub country: Option<String>,
    pub parent_id: Option<String>,
    pub ultimate_parent_id: String,
    pub account_type: Option<String>,
    pub abm_tier: Option<String>,
    pub employees: Option<u32>,
    pub family_carr: f64,
    pub first_order_available: bool,
    /// The stored fit under the ICP version that scored it (none until `abm icp score`).
    pub icp: Option<bool>,
    pub fit_score: Option<u32>,
    pub grade: Option<String>,
    pub icp_version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountPage {
    pub total: u64,
    pub offset: u64,
    pub accounts: Vec<AccountSummary>,
}

/// One account in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountDetail {
    #[serde(flatten)]
    pub summary: AccountSummary,
    pub website: Option<String>,
    pub sub_region: Option<String>,
    pub industry: Option<String>,
    pub annual_revenue: Option<f64>,
    pub carr: f64,
    pub owner: Option<String>,
    pub sdr: Option<String>,
    pub account_rank: Option<String>,
    pub gtm_strategy: Option<String>,
    pub new_logo_target: Option<String>,
    pub family_max_employees: Option<u32>,
    pub segment_fiscal_year: i32,
    pub attributes: Vec<AttributeValue>,
    /// The ultimate parent's family: every account under it, the ultimate parent first.
    pub family: Vec<FamilyMember>,
    pub people: Vec<PersonSummary>,
    pub created_at: String,
    pub updated_at: String,
}

/// An account with the winning value of each attribute (by the workspace's precedence) beside
/// every value kept: what the CLI and the API show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedAccount {
    #[serde(flatten)]
    pub detail: AccountDetail,
    pub resolved_attributes: Vec<AttributeValue>,
}

impl AccountDetail {
    /// Resolve attribute values by `precedence`; the employee-count proxy is dated when the
    /// account row last changed.
    pub fn resolve(self, precedence: &abm_core::account::Precedence) -> ResolvedAccount {
        let as_of = self
            .updated_at
            .get(..10)
            .and_then(|d| d.parse().ok())
            .unwrap_or_default();
        let resolved_attributes = precedence.resolve_all(&self.attributes, self.summary.employees, as_of);
        ResolvedAccount {
            detail: self,
            resolved_attributes,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyMember {
    pub crm_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub employees: Option<u32>,
    pub carr: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonSummary {
    pub person_id: String,
    pub email: Option<String>,
    pub name: String,
    pub title: Option<String>,
}

/// A domain claimed by an account, with how many people that account has (ties between
/// accounts claiming one domain go to the one with most people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainClaim {
    pub domain: String,
    pub crm_id: String,
    pub people: u64,
}

/// A person to upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub person_id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    /// The linked account, or None when no account could be found.
    pub crm_id: Option<String>,
    /// `account_id` or `email_domain`.
    pub link_method: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    pub accounts: u64,
    pub domains: u64,
    pub attributes: u64,
    pub people: u64,
    pub requests: u64,
    pub activities: u64,
    pub opportunities: u64,
    pub ad_facts: u64,
    pub list_versions: u64,
}

/// Counts of the tables besides accounts, in [`StoreCounts`] order after `people`.
pub(crate) const OTHER_COUNTS: &str = "(SELECT count(*) FROM requests), (SELECT count(*) FROM activities), \
     (SELECT count(*) FROM opportunities), (SELECT count(*) FROM ad_facts), (SELECT count(*) FROM list_versions)";

pub(crate) fn cents_to_f64(c: i64) -> f64 {
    c as f64 / 100.0
}

/// Reads the columns of [`crate::sql::summary_select`] from a row of either backend (both row
/// types have a generic `get(index)`).
macro_rules! read_account_row {
    ($row:expr $(, $q:tt)?) => {{
        let r = $row;
        let domains: Option<String> = r.get(2)$($q)?;
        let employees: Option<i32> = r.get(10)$($q)?;
        let family_max: Option<i32> = r.get(23)$($q)?;
        let summary = $crate::model::AccountSummary {
            crm_id: r.get(0)$($q)?,
            name: r.get(1)$($q)?,
            domains: domains.map(|d| d.split(' ').map(String::from).collect()).unwrap_or_default(),
            segment: r.get(3)$($q)?,
            geo: r.get(4)$($q)?,
            country: r.get(5)$($q)?,
            parent_id: r.get(6)$($q)?,
            ultimate_parent_id: r.get(7)$($q)?,
            account_type: r.get(8)$($q)?,
            abm_tier: r.get(9)$($q)?,
            employees: employees.map(|e| e as u32),
            family_carr: $crate::model::cents_to_f64(r.get(11)$($q)?),
            first_order_available: r.get(12)$($q)?,
            icp: {
                let v: Option<i32> = r.get(27)$($q)?;
                v.map(|v| v != 0)
            },
            fit_score: {
                let v: Option<i32> = r.get(28)$($q)?;
                v.map(|v| v as u32)
            },
            grade: r.get(29)$($q)?,
            icp_version: r.get(30)$($q)?,
        };
        let revenue: Option<i64> = r.get(16)$($q)?;
        $crate::model::AccountDetail {
            summary,
            website: r.get(13)$($q)?,
            sub_region: r.get(14)$($q)?,
            industry: r.get(15)$($q)?,
            annual_revenue: revenue.map($crate::model::cents_to_f64),
            carr: $crate::model::cents_to_f64(r.get(17)$($q)?),
            owner: r.get(18)$($q)?,
            sdr: r.get(19)$($q)?,
            account_rank: r.get(20)$($q)?,
            gtm_strategy: r.get(21)$($q)?,
            new_logo_target: r.get(22)$($q)?,
            family_max_employees: family_max.map(|e| e as u32),
            segment_fiscal_year: r.get(24)$($q)?,
            attributes: Vec::new(),
            family: Vec::new(),
            people: Vec::new(),
            created_at: r.get(25)$($q)?,
            updated_at: r.get(26)$($q)?,
        }
    }};
}
pub(crate) use read_account_row;

/// Reads a stored hierarchy row (crm_id, parent_id, employees, carr_cents, geo, segment,
/// segment_fy, ultimate_parent_id, family_max_employees, family_carr_cents, first_order_available).
macro_rules! read_hierarchy_row {
    ($row:expr $(, $q:tt)?) => {{
        let r = $row;
        let employees: Option<i32> = r.get(2)$($q)?;
        let family_max: Option<i32> = r.get(8)$($q)?;
        let seg: String = r.get(5)$($q)?;
        let segment: abm_core::Segment =
            seg.parse().map_err(|e: String| $crate::StoreError::Corrupt(format!("accounts.segment: {e}")))?;
        let segment_fy: i32 = r.get(6)$($q)?;
        let geo: Option<String> = r.get(4)$($q)?;
        abm_core::hierarchy::StoredMember {
            input: abm_core::hierarchy::HierarchyInput {
                id: r.get(0)$($q)?,
                parent: r.get(1)$($q)?,
                employees: employees.map(|e| e as u32),
                carr_cents: r.get(3)$($q)?,
                geo: geo.and_then(|g| g.parse().ok()),
                frozen_segment: Some((segment, segment_fy)),
            },
            facts: abm_core::hierarchy::FamilyFacts {
                ultimate_parent: r.get(7)$($q)?,
                family_max_employees: family_max.map(|e| e as u32),
                family_carr_cents: r.get(9)$($q)?,
                first_order_available: r.get(10)$($q)?,
                segment,
                segment_fy,
            },
        }
    }};
}
pub(crate) use read_hierarchy_row;

pub(crate) const HIERARCHY_SELECT: &str = "SELECT crm_id, parent_id, employees, carr_cents, geo, segment, segment_fy, \
     ultimate_parent_id, family_max_employees, family_carr_cents, first_order_available FROM accounts";

pub(crate) const FAMILY_SELECT: &str = "SELECT crm_id, name, parent_id, employees, carr_cents FROM accounts \
     WHERE ultimate_parent_id = ";

pub(crate) const PEOPLE_SELECT: &str = "SELECT person_id, email, first_name, last_name, title FROM people \
     WHERE crm_id = $1 ORDER BY lower(last_name), lower(first_name), person_id LIMIT 200";

pub(crate) fn read_person(
    person_id: String,
    email: Option<String>,
    first: Option<String>,
    last: Option<String>,
    title: Option<String>,
) -> PersonSummary {
    let name = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
    PersonSummary {
        person_id,
        email,
        name,
        title,
    }
}

/// Filters for request lists. Results come in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestQuery {
    /// Leave out closed requests.
    pub open_only: bool,
    /// The `mktg-status::` value, e.g. `triage`.
    pub status: Option<String>,
    pub author: Option<String>,
    pub assignee: Option<String>,
}

/// A request read from outside (a GitLab export), with the history that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRequest {
    /// Must carry an `external_id`: re-imports match on it.
    pub request: abm_core::request::Request,
    /// Written when the request is first imported; a changed re-import adds one `import` entry.
    pub history: Vec<abm_core::request::AuditEntry>,
}

/// An account's stored fit under an ICP version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFit {
    pub crm_id: String,
    pub version: i64,
    pub icp: bool,
    pub score: u32,
    pub grade: String,
}

/// A saved definition (an ICP, or a rules file such as engagement.toml). Versions never change
/// once saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcpVersion {
    pub version: i64,
    pub created_at: String,
    pub author: String,
    pub definition: String,
    /// Whether it is the one in force.
    pub active: bool,
}

/// What an account's journey reads besides its activities: its type, its stored fit, its
/// people's titles (lower-case email → title) and its opportunities.
#[derive(Debug, Clone, PartialEq)]
pub struct JourneyFacts {
    pub crm_id: String,
    pub account_type: Option<String>,
    pub fit: Option<u32>,
    pub titles: Vec<(String, String)>,
    pub opportunities: Vec<abm_core::opportunity::Opportunity>,
}

/// A saved version of a rules file (engagement.toml).
pub type RulesVersion = IcpVersion;

/// What scoring reads about one account: its own fields and its attribute values by source.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringInput {
    pub crm_id: String,
    pub name: String,
    pub ultimate_parent_id: String,
    pub segment: String,
    pub family_max_employees: Option<u32>,
    pub first_order_available: bool,
    pub family_carr_cents: i64,
    pub account_type: Option<String>,
    pub industry: Option<String>,
    pub geo: Option<String>,
    pub account_rank: Option<String>,
    pub gtm_strategy: Option<String>,
    pub new_logo_target: Option<String>,
    pub annual_revenue_cents: Option<i64>,
    pub attributes: Vec<abm_core::account::AttributeValue>,
}

/// An API token for scripts, as stored: only a hash of the token itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    /// Hex SHA-256 of the token.
    #[serde(skip)]
    pub token_hash: String,
    pub username: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
}
