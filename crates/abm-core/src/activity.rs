//! Activities and identity resolution: every signal (page view, email open, form fill, meeting,
//! intent, …) is an append-only fact, matched to an account in the order the spec gives: the
//! person's email domain (free-mail never matches; a domain several accounts claim goes to the one
//! with the most people), an explicit account id, then the visitor's IP against the CIDR table.
//! The method and confidence are kept; what stays unmatched is counted with why.

use crate::domain::Domain;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;

/// One activity as imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Which kind of export it came from (`marketing-automation`, `web-analytics`, `intent`).
    pub source: String,
    /// The export's id for it, or a hash of its content: re-imports match on (source, source_id).
    pub source_id: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub email: Option<String>,
    pub account_id: Option<String>,
    pub ip: Option<Ipv4Addr>,
    /// A company domain the activity names (intent data).
    pub company_domain: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// An activity's fields lent by whoever holds them (a store's row as it is read), so that they
/// can be copied to where they are kept without building an [`Activity`] first: a replay of
/// every account copies ten million of them.
#[derive(Debug, Clone, Copy)]
pub struct ActivityView<'a> {
    pub source: &'a str,
    pub source_id: &'a str,
    pub at: DateTime<Utc>,
    pub kind: &'a str,
    pub email: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub ip: Option<Ipv4Addr>,
    pub company_domain: Option<&'a str>,
    pub attributes: &'a BTreeMap<String, String>,
}

impl ActivityView<'_> {
    /// The activity, owned.
    pub fn to_activity(&self) -> Activity {
        Activity {
            source: self.source.into(),
            source_id: self.source_id.into(),
            at: self.at,
            kind: self.kind.into(),
            email: self.email.map(String::from),
            account_id: self.account_id.map(String::from),
            ip: self.ip,
            company_domain: self.company_domain.map(String::from),
            attributes: self.attributes.clone(),
        }
    }
}

impl Activity {
    /// Its fields, lent.
    pub fn view(&self) -> ActivityView<'_> {
        ActivityView {
            source: &self.source,
            source_id: &self.source_id,
            at: self.at,
            kind: &self.kind,
            email: self.email.as_deref(),
            account_id: self.account_id.as_deref(),
            ip: self.ip,
            company_domain: self.company_domain.as_deref(),
            attributes: &self.attributes,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    EmailDomain,
    AccountId,
    CompanyDomain,
    IpRange,
    Unmatched,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::EmailDomain => "email_domain",
            Method::AccountId => "account_id",
            Method::CompanyDomain => "company_domain",
            Method::IpRange => "ip_range",
            Method::Unmatched => "unmatched",
        }
    }
}

/// The account an activity belongs to, how it was found, and how sure that is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub account: Option<String>,
    pub method: Method,
    pub confidence: f32,
    /// Why it did not match (for `abm activities unmatched`).
    pub why_not: Option<&'static str>,
}

/// CIDR ranges → accounts, for anonymous visitors.
#[derive(Debug, Clone, Default)]
pub struct IpTable {
    /// (first, last, account), sorted by first address.
    ranges: Vec<(u32, u32, String)>,
}

/// Parse `a.b.c.d/n`.
pub fn parse_cidr(s: &str) -> Result<(u32, u32), String> {
    let (ip, bits) = s
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("expected a range like 100.0.7.0/24, found {s:?}"))?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| format!("{ip:?} is not an IPv4 address"))?;
    let bits: u32 = bits
        .parse()
        .ok()
        .filter(|b| *b <= 32)
        .ok_or_else(|| format!("prefix length {bits:?} is not 0 to 32"))?;
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    let first = u32::from(ip) & mask;
    Ok((first, first | !mask))
}

impl IpTable {
    pub fn new(mut ranges: Vec<(u32, u32, String)>) -> Self {
        ranges.sort_by_key(|r| (r.0, r.1));
        Self { ranges }
    }

    pub fn lookup(&self, ip: Ipv4Addr) -> Option<&str> {
        let x = u32::from(ip);
        let i = self.ranges.partition_point(|r| r.0 <= x);
        self.ranges[..i]
            .iter()
            .rev()
            .take(8)
            .find(|r| r.1 >= x)
            .map(|r| r.2.as_str())
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// What identity resolution matches against: each domain's owner, the CRM's account ids and the
/// IP ranges. Every account it can match to has a number (its place among [`Resolver::account`]),
/// given with each match, so that a caller filing ten million matches by account indexes a list
/// instead of looking each crm id up.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    /// Domain → the number of the account that wins it (most people).
    domains: crate::text_table::TextTable,
    /// Crm id → number, for every account numbered.
    numbers: HashMap<String, u32, crate::paid::FxBuild>,
    /// Number → crm id, and whether it is one of the CRM's account ids (an explicit account id
    /// matches only those).
    ids: Vec<(String, bool)>,
    ips: IpTable,
}

/// A domain as written when it is already what [`Domain::parse`] would make of it as far as a
/// lookup goes: lower-case letters, digits, dots and hyphens, not starting `www.`.
fn plain(domain: &str) -> Option<&str> {
    let plain = domain
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    (plain && !domain.starts_with("www.")).then_some(domain)
}

/// An email's domain as written: after its last `@`, with something before it.
fn written_domain(email: &str) -> Option<&str> {
    let (local, domain) = email.trim().rsplit_once('@')?;
    (!local.is_empty()).then_some(domain)
}

/// An activity's match, with its account's number in the resolver when it matched.
pub type Numbered = (Match, Option<u32>);

/// The domains and account ids resolving `activities` looks up: a [`Resolver`] holding only
/// these (and the IP ranges) resolves them as one holding every account would.
pub fn lookups(activities: &[Activity]) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut domains, mut ids) = (BTreeSet::new(), BTreeSet::new());
    for a in activities {
        if let Some(Ok(d)) = a.email.as_deref().map(Domain::from_email) {
            domains.insert(d.as_str().to_string());
        }
        if let Some(id) = a.account_id.as_deref().filter(|i| !i.is_empty()) {
            ids.insert(id.to_string());
        }
        if let Some(Ok(d)) = a.company_domain.as_deref().map(Domain::parse_company) {
            domains.insert(d.as_str().to_string());
        }
    }
    (domains, ids)
}

impl Resolver {
    /// A resolver from each domain and its owner (crm id), the CRM's account ids and the IP
    /// ranges.
    pub fn new(
        owners: impl IntoIterator<Item = (String, String)>,
        accounts: impl IntoIterator<Item = String>,
        ips: IpTable,
    ) -> Resolver {
        let mut r = Resolver::default();
        let (owners, accounts) = (owners.into_iter(), accounts.into_iter());
        let most = accounts.size_hint().0.max(owners.size_hint().0);
        r.numbers.reserve(most);
        r.ids.reserve(most);
        for id in accounts {
            let n = r.number(id);
            r.ids[n as usize].1 = true;
        }
        let mut domains = Vec::with_capacity(owners.size_hint().0);
        for (domain, owner) in owners {
            let n = r.number(owner);
            domains.push((domain, n));
        }
        r.domains = crate::text_table::TextTable::new(domains);
        for (_, _, owner) in &ips.ranges {
            r.number(owner.clone());
        }
        r.ips = ips;
        r
    }

    fn number(&mut self, crm_id: String) -> u32 {
        if let Some(&n) = self.numbers.get(&crm_id) {
            return n;
        }
        let n = self.ids.len() as u32;
        self.ids.push((crm_id.clone(), false));
        self.numbers.insert(crm_id, n);
        n
    }

    /// How many accounts are numbered: every number is below it.
    pub fn accounts(&self) -> usize {
        self.ids.len()
    }

    /// The crm id of account number `n`.
    pub fn account(&self, n: u32) -> &str {
        &self.ids[n as usize].0
    }

    /// The number of the account a domain names, looked up as written: only when the text is
    /// already what [`Domain::parse`] would make of it as far as a lookup goes (lower-case
    /// letters, digits, dots and hyphens, not starting `www.`). Text found among the domains
    /// (all parsed, so none ends in a dot) is its own parse; the rest goes the long way, so
    /// reasons for no match stay the same. Most emails are written so: this spares a parse
    /// (three allocations) per activity.
    fn as_written(&self, domain: &str) -> Option<u32> {
        plain(domain).and_then(|d| self.domains.get(d))
    }

    /// Resolve many activities; an email domain seen before is looked up once.
    pub fn resolve_all(&self, activities: &[Activity]) -> Vec<Numbered> {
        let mut seen: HashMap<&str, Numbered, crate::paid::FxBuild> = HashMap::default();
        // Only the plain email-domain path is remembered: the rest depends on more fields.
        let email_only: Vec<Option<&str>> = activities
            .iter()
            .map(|a| {
                a.email
                    .as_deref()
                    .and_then(written_domain)
                    .filter(|_| a.account_id.is_none() && a.company_domain.is_none() && a.ip.is_none())
            })
            .collect();
        // The domains as written, looked up together (see `TextTable::get_many`).
        let written: Vec<Option<&str>> = email_only.iter().map(|d| d.and_then(plain)).collect();
        let found = self.domains.get_many(&written);
        activities
            .iter()
            .zip(email_only.iter().zip(found))
            .map(|(a, (domain, found))| match (domain, found) {
                // Found as written: as quick as the cache, and not worth a place in it.
                (_, Some(n)) => self.found(n, Method::EmailDomain, 0.95),
                (Some(d), None) => seen.entry(d).or_insert_with(|| self.resolve_numbered(a)).clone(),
                (None, None) => self.resolve_numbered(a),
            })
            .collect()
    }

    fn found(&self, n: u32, method: Method, confidence: f32) -> Numbered {
        let m = Match {
            account: Some(self.ids[n as usize].0.clone()),
            method,
            confidence,
            why_not: None,
        };
        (m, Some(n))
    }

    pub fn resolve(&self, a: &Activity) -> Match {
        self.resolve_numbered(a).0
    }

    /// The match, with the account's number.
    pub fn resolve_numbered(&self, a: &Activity) -> Numbered {
        let mut why = "no email, account id, company domain or IP";
        if let Some(email) = &a.email {
            if let Some(n) = written_domain(email).and_then(|d| self.as_written(d)) {
                return self.found(n, Method::EmailDomain, 0.95);
            }
            match Domain::from_email(email) {
                Ok(d) => match self.domains.get(d.as_str()) {
                    Some(n) => return self.found(n, Method::EmailDomain, 0.95),
                    None => why = "email domain belongs to no account",
                },
                Err(_) => why = "free-mail or malformed email",
            }
        }
        if let Some(id) = a.account_id.as_deref().filter(|i| !i.is_empty()) {
            if let Some(&n) = self.numbers.get(id).filter(|&&n| self.ids[n as usize].1) {
                return self.found(n, Method::AccountId, 1.0);
            }
            why = "account id not in the CRM";
        }
        if let Some(d) = &a.company_domain {
            if let Ok(d) = Domain::parse_company(d) {
                if let Some(n) = self.domains.get(d.as_str()) {
                    return self.found(n, Method::CompanyDomain, 0.9);
                }
            }
            why = "company domain belongs to no account";
        }
        if let Some(ip) = a.ip {
            if let Some(&n) = self.ips.lookup(ip).and_then(|acct| self.numbers.get(acct)) {
                return self.found(n, Method::IpRange, 0.7);
            }
            why = "IP address in no known range";
        }
        let unmatched = Match {
            account: None,
            method: Method::Unmatched,
            confidence: 0.0,
            why_not: Some(why),
        };
        (unmatched, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(email: Option<&str>, account: Option<&str>, ip: Option<&str>) -> Activity {
        Activity {
            source: "t".into(),
            source_id: "1".into(),
            at: DateTime::UNIX_EPOCH,
            kind: "Web Visit".into(),
            email: email.map(String::from),
            account_id: account.map(String::from),
            ip: ip.map(|i| i.parse().unwrap()),
            company_domain: None,
            attributes: BTreeMap::new(),
        }
    }

    #[test]
    fn email_domain_then_account_id_then_ip() {
        let (f, l) = parse_cidr("100.0.7.0/24").unwrap();
        let r = Resolver::new(
            [("acme.com".to_string(), "A1".to_string())],
            ["A1".to_string(), "B1".to_string()],
            IpTable::new(vec![(f, l, "B1".into())]),
        );
        let m = r.resolve(&act(Some("jo@acme.com"), Some("B1"), None));
        assert_eq!((m.account.as_deref(), m.method), (Some("A1"), Method::EmailDomain));
        let m = r.resolve(&act(Some("jo@gmail.com"), Some("B1"), None));
        assert_eq!((m.account.as_deref(), m.method), (Some("B1"), Method::AccountId));
        let m = r.resolve(&act(None, None, Some("100.0.7.200")));
        assert_eq!((m.account.as_deref(), m.method), (Some("B1"), Method::IpRange));
        let m = r.resolve(&act(Some("jo@gmail.com"), None, Some("100.0.8.1")));
        assert_eq!(m.method, Method::Unmatched);
        assert_eq!(m.why_not, Some("IP address in no known range"));
        // An account known only as a domain's owner or an IP range's is not a CRM account id.
        let r = Resolver::new(
            [("beta.com".to_string(), "C1".to_string())],
            ["A1".to_string()],
            IpTable::new(vec![(f, l, "D1".into())]),
        );
        for id in ["C1", "D1"] {
            let m = r.resolve(&act(None, Some(id), None));
            assert_eq!(m.why_not, Some("account id not in the CRM"));
        }
        assert_eq!(
            r.resolve(&act(Some("jo@beta.com"), None, None)).account.as_deref(),
            Some("C1")
        );
        assert_eq!(r.accounts(), 3);
        assert!(parse_cidr("100.0.7.0/33").is_err());
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap(), (0x0a00_0000, 0x0aff_ffff));
    }

    #[test]
    fn resolving_many_gives_what_resolving_each_gives() {
        let (f, l) = parse_cidr("100.0.7.0/24").unwrap();
        let r = Resolver::new(
            [("acme.com".to_string(), "A1".to_string())],
            ["A1".to_string(), "B1".to_string()],
            IpTable::new(vec![(f, l, "B1".into())]),
        );
        let all = vec![
            act(Some("jo@acme.com"), None, None),
            act(Some("@acme.com"), None, None),
            act(Some(" al@acme.com "), None, None),
            act(Some("jo@gmail.com"), Some("B1"), None),
            act(Some("jo@gmail.com"), None, None),
            act(Some("jo@nowhere.example"), None, Some("100.0.7.9")),
            act(Some("bo@acme.com"), None, None),
            // Written otherwise than parsed: each still matches as parsed.
            act(Some("cy@ACME.com"), None, None),
            act(Some("cy@www.acme.com"), None, None),
            act(Some("cy@acme.com."), None, None),
            act(Some("cy@www.www.acme.com"), None, None),
            act(Some("cy@nowhere.example"), None, None),
        ];
        let each: Vec<Numbered> = all.iter().map(|a| r.resolve_numbered(a)).collect();
        assert_eq!(r.resolve_all(&all), each);
        for (m, n) in &each {
            assert_eq!(
                m.account.as_deref(),
                n.map(|n| r.account(n)),
                "the number names the account"
            );
        }
        assert_eq!(
            each[1].0.method,
            Method::Unmatched,
            "no local part: malformed, even at a known domain"
        );
    }
}
