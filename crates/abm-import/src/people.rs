//! People import: contacts from a CRM or marketing-automation export, linked to accounts by the
//! account id they carry or, failing that, by their email domain. Where several accounts claim a
//! domain, the one with the most people wins and the conflict is listed.

use crate::accounts::ImportProgress;
use crate::errors::{ImportError, RowError};
use crate::mapping::ColumnMap;
use crate::table::CsvTable;
use abm_core::Domain;
use abm_store::{PersonRow, Store, WriteSummary};
use std::collections::{HashMap, HashSet};
use std::path::Path;

#[derive(Debug, Default)]
pub struct PeopleImportReport {
    pub rows: u64,
    pub summary: WriteSummary,
    pub by_account_id: u64,
    pub by_email_domain: u64,
    pub unlinked: u64,
    /// Domains claimed by several accounts: (domain, winner, the others).
    pub conflicts: Vec<(String, String, Vec<String>)>,
    pub rejected: Vec<RowError>,
}

/// Each claimed domain with the crm id of the account it identifies, by domain.
pub type DomainOwners = Vec<(String, String)>;

/// Domains claimed by several accounts: (domain, winner, the others).
pub type DomainConflicts = Vec<(String, String, Vec<String>)>;

/// Which account each domain identifies: most people wins, then the smaller crm id.
pub fn domain_owners(store: &mut dyn Store) -> Result<(DomainOwners, DomainConflicts), ImportError> {
    Ok(owners_of(store.domain_claims()?))
}

/// Each claimed domain's owner (most people, then the smaller crm id), in no particular order,
/// and the domains claimed by several accounts, by domain: (domain, winner, the others).
pub fn owners_of(claims: Vec<abm_store::DomainClaim>) -> (DomainOwners, DomainConflicts) {
    use std::hash::BuildHasher;
    let hasher = abm_core::paid::FxBuild::default();
    owners_hashed(claims, |domain| hasher.hash_one(domain))
}

/// [`owners_of`], domains grouped by `hash`.
fn owners_hashed(claims: Vec<abm_store::DomainClaim>, hash: impl Fn(&str) -> u64) -> (DomainOwners, DomainConflicts) {
    // Grouped by each domain's hash, sorted as a number, rather than sorted by the domains'
    // text (a million domains took a third of a second so, most of loading what matching
    // needs); domains sharing a hash, and a domain's several claims, are then told apart
    // within their run. (Sorted once rather than grouped in a tree: a million domains took
    // seconds that way.)
    let mut order: Vec<(u64, u32)> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| (hash(&c.domain), i as u32))
        .collect();
    order.sort_unstable();
    let mut claims: Vec<Option<abm_store::DomainClaim>> = claims.into_iter().map(Some).collect();
    let mut take = |i: u32| claims[i as usize].take().expect("each claim taken once");
    let mut owners = Vec::with_capacity(order.len());
    let mut conflicts = Vec::new();
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        if let [(_, only)] = run {
            let c = take(*only);
            owners.push((c.domain, c.crm_id));
            continue;
        }
        // By domain, then most people, then the smaller crm id: each domain's first claim wins.
        let mut run: Vec<abm_store::DomainClaim> = run.iter().map(|&(_, i)| take(i)).collect();
        run.sort_unstable_by(|a, b| {
            (a.domain.as_str(), std::cmp::Reverse(a.people), a.crm_id.as_str()).cmp(&(
                b.domain.as_str(),
                std::cmp::Reverse(b.people),
                b.crm_id.as_str(),
            ))
        });
        let mut run = run.into_iter().peekable();
        while let Some(first) = run.next() {
            let mut others = Vec::new();
            while let Some(next) = run.next_if(|c| c.domain == first.domain) {
                others.push(next.crm_id);
            }
            if !others.is_empty() {
                conflicts.push((first.domain.clone(), first.crm_id.clone(), others));
            }
            owners.push((first.domain, first.crm_id));
        }
    }
    conflicts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    (owners, conflicts)
}

/// Import people: all or nothing unless `skip_bad_rows`.
pub fn import_people(
    store: &mut dyn Store,
    path: &Path,
    map: &ColumnMap,
    skip_bad_rows: bool,
    at: &str,
    progress: &mut dyn ImportProgress,
) -> Result<PeopleImportReport, ImportError> {
    let table = CsvTable::open(path)?;
    let col = |f: &str| map.fields.get(f).and_then(|hs| table.find(hs));
    let (c_id, c_email, c_first, c_last, c_title, c_account) = (
        col("person_id"),
        col("email"),
        col("first_name"),
        col("last_name"),
        col("title"),
        col("account_id"),
    );
    if c_id.is_none() && c_email.is_none() {
        return Err(ImportError::File {
            file: table.file.clone(),
            line: 1,
            reason: "no person id or email column (looked for \"Contact ID\", \"Email\"); name one with --column"
                .into(),
        });
    }
    let accounts: HashSet<String> = store.hierarchy_rows()?.into_iter().map(|r| r.input.id).collect();
    let (owners, conflicts) = domain_owners(store)?;
    let owners: HashMap<String, String> = owners.into_iter().collect();
    let CsvTable {
        file,
        headers,
        mut reader,
        bytes,
    } = table;
    progress.phase("reading", bytes);
    let mut report = PeopleImportReport {
        conflicts,
        ..Default::default()
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(ImportError::File {
                    file,
                    line,
                    reason: format!("cannot read CSV (is it UTF-8?): {e}"),
                });
            }
        }
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |c: Option<usize>| {
            c.and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let mut bad: Vec<(usize, String)> = Vec::new();
        let mut err = |c: usize, reason: String| bad.push((c, reason));
        let email = get(c_email).map(|e| e.to_lowercase());
        let domain = match (&email, c_email) {
            (Some(e), Some(c)) => match Domain::from_email(e) {
                Ok(d) => Some(d),
                Err(_) => {
                    err(c, format!("{e:?} is not an email address"));
                    None
                }
            },
            _ => None,
        };
        let person_id = match get(c_id).or_else(|| email.clone()) {
            Some(id) => id,
            None => {
                err(
                    c_id.or(c_email).unwrap_or(0),
                    "is required (a person id or an email)".into(),
                );
                String::new()
            }
        };
        if let Some(first) = Some(&person_id)
            .filter(|p| !p.is_empty())
            .and_then(|p| seen.insert(p.clone(), line))
        {
            err(
                c_id.or(c_email).unwrap_or(0),
                format!("person {person_id} appears again (first on line {first})"),
            );
        }
        let (crm_id, method) = match get(c_account) {
            Some(a) if accounts.contains(&a) => (Some(a), Some("account_id")),
            Some(a) => {
                err(
                    c_account.unwrap_or(0),
                    format!("no account {a:?} in abm (import accounts first)"),
                );
                (None, None)
            }
            None => match domain
                .as_ref()
                .filter(|d| !d.is_free_mail())
                .and_then(|d| owners.get(d.as_str()))
            {
                Some(owner) => (Some(owner.clone()), Some("email_domain")),
                None => (None, None),
            },
        };
        if !bad.is_empty() {
            errors.extend(bad.into_iter().map(|(c, reason)| RowError {
                file: file.clone(),
                line,
                column: headers[c].clone(),
                reason,
            }));
            continue;
        }
        match method {
            Some("account_id") => report.by_account_id += 1,
            Some(_) => report.by_email_domain += 1,
            None => report.unlinked += 1,
        }
        rows.push(PersonRow {
            person_id,
            email,
            first_name: get(c_first),
            last_name: get(c_last),
            title: get(c_title),
            crm_id,
            link_method: method.map(String::from),
            at: at.to_string(),
        });
    }
    progress.advance(bytes);
    if !errors.is_empty() && !skip_bad_rows {
        return Err(ImportError::BadRows(errors));
    }
    report.rejected = errors;
    progress.phase("writing", rows.len() as u64);
    report.summary = store.write_people(&rows, &mut |n| progress.advance(n))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each domain's owner grouped the plain way: most people, then the smaller crm id.
    fn owners_grouped(claims: &[abm_store::DomainClaim]) -> (DomainOwners, DomainConflicts) {
        let mut by_domain: std::collections::BTreeMap<&str, Vec<(u64, &str)>> = Default::default();
        for c in claims {
            by_domain.entry(&c.domain).or_default().push((c.people, &c.crm_id));
        }
        let (mut owners, mut conflicts) = (Vec::new(), Vec::new());
        for (domain, mut claims) in by_domain {
            claims.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            if claims.len() > 1 {
                let others = claims[1..].iter().map(|c| c.1.to_string()).collect();
                conflicts.push((domain.to_string(), claims[0].1.to_string(), others));
            }
            owners.push((domain.to_string(), claims[0].1.to_string()));
        }
        (owners, conflicts)
    }

    proptest! {
        /// Contested domains (several accounts, some with as many people) go to the same owner,
        /// and are listed the same, as grouping them one by one would; and so when every domain
        /// has the same hash.
        #[test]
        fn domains_go_to_most_people_then_the_smaller_id(
            raw in proptest::collection::vec((0u8..6, 0u8..8, 0u64..4), 0..60)
        ) {
            let claims: Vec<abm_store::DomainClaim> = raw
                .iter()
                .map(|(d, a, p)| abm_store::DomainClaim {
                    domain: format!("d{d}.example"),
                    crm_id: format!("001A{a}"),
                    people: *p,
                })
                .collect();
            let want = owners_grouped(&claims);
            let (mut owners, conflicts) = owners_of(claims.clone());
            owners.sort();
            prop_assert_eq!((owners, conflicts), want.clone());
            let (mut owners, conflicts) = owners_hashed(claims, |_| 7);
            owners.sort();
            prop_assert_eq!((owners, conflicts), want);
        }
    }
}
