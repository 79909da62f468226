//! Activity exports, recognised by their header: a marketing-automation export (Activity ID,
//! Activity Date, Activity Type, Email Address, Account ID, …), a web-analytics export
//! (Timestamp, Visitor IP, Page URL, Known Email, UTM Campaign) and an intent export (Week Start,
//! Company Domain, Keyword Set, Topic, Intent Strength). Rows without an id of their own get a
//! hash of their content, so re-importing a file never adds an activity twice. Also the IP-range
//! table (CIDR, Account ID). Errors are `FILE:LINE: column NAME: reason`; a bad file gives nothing.

use crate::errors::{ImportError, RowError};
use crate::table::CsvTable;
use abm_core::activity::{parse_cidr, Activity, IpTable, Resolver};
use abm_store::Store;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::path::Path;

/// FNV-1a over the fields, as a stable id for rows that carry none.
fn content_id(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0x1f)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        })
        .map_err(|_| format!("expected a timestamp like 2026-07-02T14:00:00Z, found {t:?}"))
}

/// What identity resolution matches against, from the store: each domain's owner (most people,
/// then the smaller CRM id, as `people::domain_owners` decides), every account id, and the IP
/// ranges.
pub fn resolver(store: &mut dyn Store) -> Result<Resolver, ImportError> {
    Ok(Resolver {
        domains: crate::people::domain_owners(store)?.0,
        accounts: store.hierarchy_rows()?.into_iter().map(|m| m.input.id).collect(),
        ips: IpTable::new(store.ip_ranges()?),
    })
}

/// Read an activity export; returns the kind of export and its activities.
pub fn read_activities(path: &Path) -> Result<(&'static str, Vec<Activity>), ImportError> {
    let mut t = CsvTable::open(path)?;
    let has = |t: &CsvTable, n: &str| t.find(&[n.to_string()]).is_some();
    let kind = if has(&t, "Activity ID") && has(&t, "Activity Type") {
        "marketing-automation"
    } else if has(&t, "Visitor IP") && has(&t, "Page URL") {
        "web-analytics"
    } else if has(&t, "Company Domain") && has(&t, "Intent Strength") {
        "intent"
    } else {
        return Err(ImportError::File {
            file: t.file.clone(),
            line: 1,
            reason: format!(
                "not an activity export abm knows (marketing automation, web analytics, intent); found columns {}",
                t.headers.join(", ")
            ),
        });
    };
    let opt = |t: &CsvTable, n: &str| t.find(&[n.to_string()]);
    let cols: BTreeMap<&str, Option<usize>> = [
        "Activity ID",
        "Activity Date",
        "Activity Type",
        "Email Address",
        "Account ID",
        "Primary Attribute Value",
        "Campaign",
        "Minutes",
        "Timestamp",
        "Visitor IP",
        "Page URL",
        "Known Email",
        "UTM Campaign",
        "Week Start",
        "Company Domain",
        "Company Name",
        "Keyword Set",
        "Topic",
        "Intent Strength",
    ]
    .iter()
    .map(|n| (*n, opt(&t, n)))
    .collect();
    let file = t.file.clone();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for row in t.rows() {
        let (line, rec) = row?;
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |n: &str| {
            cols.get(n)
                .copied()
                .flatten()
                .and_then(|i| rec.get(i))
                .unwrap_or("")
                .trim()
        };
        let some = |n: &str| Some(cell(n)).filter(|v| !v.is_empty()).map(String::from);
        let mut bad = |column: &str, reason: String| errors.push(RowError::at(&file, line, column, reason));
        let mut attributes = BTreeMap::new();
        let a = match kind {
            "marketing-automation" => {
                let at = timestamp(cell("Activity Date"))
                    .map_err(|e| bad("Activity Date", e))
                    .ok();
                let id = cell("Activity ID");
                if id.is_empty() {
                    bad("Activity ID", "is required".into());
                }
                for (k, n) in [
                    ("value", "Primary Attribute Value"),
                    ("campaign", "Campaign"),
                    ("minutes", "Minutes"),
                ] {
                    if let Some(v) = some(n) {
                        attributes.insert(k.to_string(), v);
                    }
                }
                at.map(|at| Activity {
                    source: kind.into(),
                    source_id: id.to_string(),
                    at,
                    kind: cell("Activity Type").to_string(),
                    email: some("Email Address"),
                    account_id: some("Account ID"),
                    ip: None,
                    company_domain: None,
                    attributes: std::mem::take(&mut attributes),
                })
            }
            "web-analytics" => {
                let at = timestamp(cell("Timestamp")).map_err(|e| bad("Timestamp", e)).ok();
                let ip = match cell("Visitor IP") {
                    "" => None,
                    v => v
                        .parse()
                        .map_err(|_| bad("Visitor IP", format!("{v:?} is not an IPv4 address")))
                        .ok(),
                };
                for (k, n) in [("url", "Page URL"), ("campaign", "UTM Campaign")] {
                    if let Some(v) = some(n) {
                        attributes.insert(k.to_string(), v);
                    }
                }
                at.map(|at| Activity {
                    source: kind.into(),
                    source_id: content_id(&[
                        cell("Timestamp"),
                        cell("Visitor IP"),
                        cell("Page URL"),
                        cell("Known Email"),
                    ]),
                    at,
                    kind: "Web Visit".into(),
                    email: some("Known Email"),
                    account_id: None,
                    ip,
                    company_domain: None,
                    attributes: std::mem::take(&mut attributes),
                })
            }
            _ => {
                let at = timestamp(cell("Week Start")).map_err(|e| bad("Week Start", e)).ok();
                let strength = cell("Intent Strength").to_ascii_uppercase();
                if !["HIGH", "MEDIUM", "LOW"].contains(&strength.as_str()) {
                    bad(
                        "Intent Strength",
                        format!("expected HIGH, MEDIUM or LOW, found {strength:?}"),
                    );
                }
                for (k, n) in [
                    ("keyword_set", "Keyword Set"),
                    ("topic", "Topic"),
                    ("company", "Company Name"),
                ] {
                    if let Some(v) = some(n) {
                        attributes.insert(k.to_string(), v);
                    }
                }
                attributes.insert("strength".into(), strength);
                at.map(|at| Activity {
                    source: kind.into(),
                    source_id: content_id(&[
                        cell("Week Start"),
                        cell("Company Domain"),
                        cell("Keyword Set"),
                        cell("Topic"),
                    ]),
                    at,
                    kind: "Intent".into(),
                    email: None,
                    account_id: None,
                    ip: None,
                    company_domain: some("Company Domain"),
                    attributes: std::mem::take(&mut attributes),
                })
            }
        };
        out.extend(a);
    }
    if errors.is_empty() {
        Ok((kind, out))
    } else {
        Err(ImportError::BadRows(errors))
    }
}

/// The IP-range table: `CIDR`, `Account ID`.
pub fn read_ip_ranges(path: &Path) -> Result<Vec<(String, u32, u32, String)>, ImportError> {
    let mut t = CsvTable::open(path)?;
    let (c, a) = (t.required("CIDR")?, t.required("Account ID")?);
    let file = t.file.clone();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for row in t.rows() {
        let (line, rec) = row?;
        let cidr = rec.get(c).unwrap_or("").trim();
        let account = rec.get(a).unwrap_or("").trim();
        match parse_cidr(cidr) {
            Ok((first, last)) if !account.is_empty() => out.push((cidr.to_string(), first, last, account.to_string())),
            Ok(_) => errors.push(RowError {
                file: file.clone(),
                line,
                column: "Account ID".into(),
                reason: "is required".into(),
            }),
            Err(reason) => errors.push(RowError {
                file: file.clone(),
                line,
                column: "CIDR".into(),
                reason,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::BadRows(errors))
    }
}
