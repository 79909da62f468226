//! Accounts as the CRM describes them, in the team's words: CRM ids, segments, account types,
//! ABM tiers, GTM strategies and account ranks; attribute values that keep their source and date
//! and are resolved by a configured precedence.

use crate::domain::Domain;
use crate::geo::Geo;
use chrono::NaiveDate;
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// A CRM account id (18-character Salesforce ids are common): the stable key on import.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CrmId(String);

impl CrmId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("is empty".into());
        }
        if t.len() > 64 {
            return Err(format!("is {} characters long; at most 64", t.len()));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{t:?} contains spaces or control characters"));
        }
        Ok(Self(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CrmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CrmId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Defines a closed set of CRM picklist values: display names, accepted spellings, and parsing
/// that names the allowed values when it fails.
macro_rules! picklist {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $display:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $display),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                                $(
                    if same_key(s, $display) $(|| same_key(s, $alias))* {
                        return Ok($name::$variant);
                    }
                )+
                let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                Err(format!("expected one of {}, found {:?}", allowed.join(", "), s.trim()))
            }
        }
    };
}

/// Equal ignoring case, spaces and punctuation (but not `.`, so "1.5" differs from "15"),
/// compared without allocating: picklists are parsed millions of times on import.
fn same_key(a: &str, b: &str) -> bool {
    fn key(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars()
            .filter(|c| c.is_alphanumeric() || *c == '.')
            .flat_map(char::to_lowercase)
    }
    key(a).eq(key(b))
}

picklist!(
    /// Sales segment, from the family's maximum employee count (PubSec is its own segment).
    Segment {
        Large => "Large" | "Enterprise" | "ENT",
        MidMarket => "Mid-Market" | "MM" | "Mid Market",
        Smb => "SMB" | "Small Business",
        PubSec => "PubSec" | "Public Sector",
    }
);

picklist!(
    /// The CRM's account type.
    AccountType {
        Prospect => "Prospect",
        Customer => "Customer",
        FormerCustomer => "Former Customer",
        Partner => "Partner",
        Reseller => "Reseller",
        AuthorizedReseller => "Authorized Reseller",
        UnofficialReseller => "Unofficial Reseller",
        ProspectivePartner => "Prospective Partner",
    }
);

picklist!(
    /// ABM tier: 1:1, 1:few, 1:many.
    AbmTier {
        Tier1 => "Tier 1" | "1" | "1:1",
        Tier2 => "Tier 2" | "2" | "1:few",
        Tier3 => "Tier 3" | "3" | "1:many",
    }
);

picklist!(
    /// Go-to-market strategy.
    GtmStrategy {
        AccountBased => "Account Based",
        AccountCentric => "Account Centric",
        IcpTam => "ICP Total Addressable Market" | "ICP TAM",
        Volume => "Volume",
    }
);

picklist!(
    /// Account rank, set on the ultimate parent.
    AccountRank {
        One => "1" | "1.0",
        OneAndAHalf => "1.5",
        Two => "2" | "2.0",
        Three => "3" | "3.0",
    }
);

impl Segment {
    /// Large 2,001+ employees; Mid-Market 101–2,000; SMB 0–100 (unknown falls to SMB). PubSec
    /// accounts are their own segment whatever their size.
    pub fn derive(family_max_employees: Option<u32>, geo: Option<Geo>) -> Segment {
        if geo == Some(Geo::PubSec) {
            return Segment::PubSec;
        }
        match family_max_employees {
            Some(n) if n > 2000 => Segment::Large,
            Some(n) if n > 100 => Segment::MidMarket,
            _ => Segment::Smb,
        }
    }
}

/// Money in cents, parsed from what CRM exports write: `12,345.67`, `$1,200`, `USD 5000`, `-`.
pub fn parse_money_cents(s: &str) -> Result<Option<i64>, String> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '$' | ' ' | '\u{a0}'))
        .collect();
    let t = t.trim_start_matches("USD").trim_end_matches("USD");
    if t.is_empty() || matches!(t, "-" | "--" | "—" | "n/a" | "N/A") {
        return Ok(None);
    }
    let bad = || format!("expected an amount like 12,345.67, found {:?}", s.trim());
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 {
        return Err(bad());
    }
    let w: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let f: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    let cents = w.checked_mul(100).and_then(|x| x.checked_add(f)).ok_or_else(bad)?;
    Ok(Some(if neg { -cents } else { cents }))
}

/// A count parsed from an export: `1,200`, `1200`, blank for unknown.
pub fn parse_count(s: &str) -> Result<Option<u32>, String> {
    let t: String = s.trim().chars().filter(|c| *c != ',' && *c != ' ').collect();
    if t.is_empty() || matches!(t.as_str(), "-" | "--" | "—" | "n/a" | "N/A") {
        return Ok(None);
    }
    let t = t.strip_suffix(".0").unwrap_or(&t);
    t.parse::<u32>()
        .map(Some)
        .map_err(|_| format!("expected a whole number like 1,200, found {:?}", s.trim()))
}

/// One value of an attribute as one provider reported it. Attribute and source names are shared
/// (`Arc<str>`): a million accounts carry a handful of distinct names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeValue {
    /// e.g. `developer_count`, `tech_stack`, `cloud_provider`.
    pub attribute: Arc<str>,
    /// e.g. `aberdeen`, `gainsight`, `zoominfo`, `crm`.
    pub source: Arc<str>,
    pub value: String,
    /// When the provider said so.
    pub as_of: NaiveDate,
}

/// Merge newly reported values into stored ones, keyed by (attribute, source): an incoming value
/// replaces the stored one (keeping the stored date when the value did not change), values from
/// other sources are kept. The result is sorted by attribute, then source.
pub fn merge_attribute_values(stored: &[AttributeValue], incoming: &[AttributeValue]) -> Vec<AttributeValue> {
    let mut out: Vec<AttributeValue> = stored.to_vec();
    for v in incoming {
        match out
            .iter_mut()
            .find(|s| s.attribute == v.attribute && s.source == v.source)
        {
            Some(s) if s.value == v.value => {}
            Some(s) => *s = v.clone(),
            None => out.push(v.clone()),
        }
    }
    out.sort_by(|a, b| a.attribute.cmp(&b.attribute).then_with(|| a.source.cmp(&b.source)));
    out
}

/// Which source wins for each attribute, first listed first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precedence(HashMap<String, Vec<String>>);

impl Default for Precedence {
    /// The handbook's precedence.
    fn default() -> Self {
        let mut m = HashMap::new();
        m.insert(
            "developer_count".into(),
            vec!["aberdeen".into(), "crm".into(), "employees".into()],
        );
        m.insert(
            "tech_stack".into(),
            vec!["gainsight".into(), "aberdeen".into(), "crm".into(), "zoominfo".into()],
        );
        m.insert(
            "cloud_provider".into(),
            vec!["aberdeen".into(), "crm".into(), "zoominfo".into()],
        );
        Self(m)
    }
}

impl Precedence {
    pub fn new(map: HashMap<String, Vec<String>>) -> Self {
        Self(map)
    }

    /// Pick the winning value of `attribute` among `values` (all of one account). Sources in the
    /// precedence list win in order; otherwise the most recent value of any source. The source
    /// `employees` stands for the account's employee count used as a proxy.
    pub fn resolve<'a>(&self, attribute: &str, values: &'a [AttributeValue]) -> Option<&'a AttributeValue> {
        let of_attr = || {
            values
                .iter()
                .filter(move |v| &*v.attribute == attribute && !v.value.is_empty())
        };
        if let Some(order) = self.0.get(attribute) {
            for src in order {
                if let Some(v) = of_attr().find(|v| *v.source == **src) {
                    return Some(v);
                }
            }
        }
        of_attr().max_by(|a, b| a.as_of.cmp(&b.as_of).then_with(|| b.source.cmp(&a.source)))
    }

    /// The winning value of every attribute present (and of `developer_count` from the employee
    /// count when the precedence lists `employees` and nothing better exists), sorted by name.
    pub fn resolve_all(
        &self,
        values: &[AttributeValue],
        employees: Option<u32>,
        as_of: NaiveDate,
    ) -> Vec<AttributeValue> {
        let mut all: Vec<AttributeValue> = values.to_vec();
        if let Some(e) = employees {
            for (attr, order) in &self.0 {
                if order.iter().any(|s| s == "employees") {
                    all.push(AttributeValue {
                        attribute: attr.as_str().into(),
                        source: "employees".into(),
                        value: e.to_string(),
                        as_of,
                    });
                }
            }
        }
        let mut names: Vec<&str> = all.iter().map(|v| &*v.attribute).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter_map(|n| self.resolve(n, &all).cloned())
            .collect()
    }

    pub fn attributes(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.0.iter()
    }
}

/// An account as an import supplies it (before family roll-ups).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountRecord {
    pub crm_id: CrmId,
    pub name: String,
    pub website: Option<Domain>,
    /// Every domain of the account, the website's first.
    pub domains: Vec<Domain>,
    pub parent_id: Option<CrmId>,
    pub country: Option<String>,
    pub geo: Option<Geo>,
    pub sub_region: Option<String>,
    pub employees: Option<u32>,
    pub industry: Option<String>,
    pub annual_revenue_cents: Option<i64>,
    pub account_type: Option<AccountType>,
    pub carr_cents: i64,
    pub owner: Option<String>,
    pub sdr: Option<String>,
    pub account_rank: Option<AccountRank>,
    pub gtm_strategy: Option<GtmStrategy>,
    pub abm_tier: Option<AbmTier>,
    pub new_logo_target: Option<String>,
    pub attributes: Vec<AttributeValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_from_family_maximum() {
        assert_eq!(Segment::derive(Some(2001), None), Segment::Large);
        assert_eq!(Segment::derive(Some(2000), None), Segment::MidMarket);
        assert_eq!(Segment::derive(Some(101), None), Segment::MidMarket);
        assert_eq!(Segment::derive(Some(100), None), Segment::Smb);
        assert_eq!(Segment::derive(None, None), Segment::Smb);
        assert_eq!(Segment::derive(Some(50_000), Some(Geo::PubSec)), Segment::PubSec);
    }

    #[test]
    fn picklists_accept_spellings_and_name_allowed_values() {
        assert_eq!("enterprise".parse::<Segment>().unwrap(), Segment::Large);
        assert_eq!(
            "Former customer".parse::<AccountType>().unwrap(),
            AccountType::FormerCustomer
        );
        assert_eq!("1:few".parse::<AbmTier>().unwrap(), AbmTier::Tier2);
        assert_eq!("1.5".parse::<AccountRank>().unwrap(), AccountRank::OneAndAHalf);
        let err = "Tier 9".parse::<AbmTier>().unwrap_err();
        assert!(err.contains("Tier 1, Tier 2, Tier 3"), "{err}");
    }

    #[test]
    fn money_and_counts() {
        assert_eq!(parse_money_cents("$12,345.67").unwrap(), Some(1_234_567));
        assert_eq!(parse_money_cents("5000").unwrap(), Some(500_000));
        assert_eq!(parse_money_cents("0.5").unwrap(), Some(50));
        assert_eq!(parse_money_cents("--").unwrap(), None);
        assert!(parse_money_cents("12.345").is_err());
        assert!(parse_money_cents("abc").is_err());
        assert_eq!(parse_count("1,200").unwrap(), Some(1200));
        assert!(parse_count("many").is_err());
        assert!(parse_count("-5").is_err());
    }

    #[test]
    fn precedence_picks_first_listed_source() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let v = |src: &str, val: &str| AttributeValue {
            attribute: "tech_stack".into(),
            source: src.into(),
            value: val.into(),
            as_of: d,
        };
        let values = vec![v("zoominfo", "Jenkins"), v("aberdeen", "GitHub"), v("gainsight", "")];
        let p = Precedence::default();
        assert_eq!(
            &*p.resolve("tech_stack", &values).unwrap().source,
            "aberdeen",
            "empty gainsight value does not win"
        );
        let other = vec![AttributeValue {
            attribute: "hq".into(),
            source: "x".into(),
            value: "Berlin".into(),
            as_of: d,
        }];
        assert_eq!(p.resolve("hq", &other).unwrap().value, "Berlin");
        assert!(p.resolve("tech_stack", &other).is_none());
    }

    #[test]
    fn merging_keeps_other_sources_and_unchanged_dates() {
        let d1 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let d2 = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let v = |a: &str, s: &str, val: &str, d| AttributeValue {
            attribute: a.into(),
            source: s.into(),
            value: val.into(),
            as_of: d,
        };
        let stored = vec![
            v("tech_stack", "zoominfo", "Jenkins", d1),
            v("developer_count", "aberdeen", "500", d1),
        ];
        let incoming = vec![
            v("developer_count", "aberdeen", "500", d2),
            v("tech_stack", "gainsight", "GitHub", d2),
            v("tech_stack", "zoominfo", "GitHub", d2),
        ];
        let merged = merge_attribute_values(&stored, &incoming);
        assert_eq!(
            merged,
            vec![
                v("developer_count", "aberdeen", "500", d1),
                v("tech_stack", "gainsight", "GitHub", d2),
                v("tech_stack", "zoominfo", "GitHub", d2)
            ]
        );
        assert_eq!(
            merge_attribute_values(&merged, &incoming),
            merged,
            "merging again changes nothing"
        );
    }

    #[test]
    fn employee_count_stands_in_for_developers_last() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let p = Precedence::default();
        let r = p.resolve_all(&[], Some(900), d);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (&*r[0].attribute, &*r[0].source, r[0].value.as_str()),
            ("developer_count", "employees", "900")
        );
        let crm = AttributeValue {
            attribute: "developer_count".into(),
            source: "crm".into(),
            value: "120".into(),
            as_of: d,
        };
        assert_eq!(p.resolve_all(&[crm.clone()], Some(900), d), vec![crm]);
    }
}
