//! Focus account lists: which families the team works, in tiers (1:1, 1:few, 1:many). A list is
//! built from rules (eligibility, tier grades, caps per tier and per geo, the 15% cap on
//! expansion accounts), ranked by fit, decided per ultimate parent and cascaded to the children.
//! Every account left out that was listed before carries a written reason, so any two versions
//! can be diffed with reasons. Nominations get a decision within 5 business days; the quarterly
//! refresh has fixed dates.

use crate::calendar::BusinessCalendar;
use crate::fiscal::{FiscalCalendar, FiscalQuarter};
use crate::icp::Grade;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The list rules (`lists.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListRules {
    /// Only ICP families (under the active ICP version).
    pub require_icp: bool,
    /// Only first-order families, except PubSec when `pubsec_skips_first_order`; expansion
    /// families are allowed up to `max_expansion_share` when this is false.
    pub require_first_order: bool,
    pub pubsec_skips_first_order: bool,
    /// If not empty, only these account ranks.
    pub account_ranks: Vec<String>,
    /// If not empty, only these GTM strategies.
    pub gtm_strategies: Vec<String>,
    /// At most this share of tiered families may be expansion (not first order).
    pub max_expansion_share: f64,
    pub tiers: Vec<TierRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierRule {
    pub name: String,
    /// The lowest grade a family needs (accepted nominations skip this).
    pub min_grade: Grade,
    pub max_accounts: usize,
    /// Caps per geo; geos not listed are uncapped within `max_accounts`.
    pub per_geo: BTreeMap<String, usize>,
}

/// A family as list building sees it (its ultimate parent's facts and fit).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub crm_id: String,
    pub name: String,
    pub geo: Option<String>,
    pub segment: String,
    pub icp: bool,
    pub score: u32,
    pub grade: Grade,
    pub first_order: bool,
    pub account_rank: Option<String>,
    pub gtm_strategy: Option<String>,
    pub new_logo_target: Option<String>,
    /// Every other account of the family.
    pub children: Vec<String>,
}

/// Why a family is up for consideration beyond the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// An accepted nomination: eligible whatever the rules say, ranked first among its grade.
    pub nominated: Option<String>,
    /// Sales flagged it (no budget, …): never listed, with this reason.
    pub flagged: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    pub crm_id: String,
    pub name: String,
    pub tier: String,
    pub geo: Option<String>,
    /// The ultimate parent (itself for parents).
    pub family: String,
    /// Position in the ranking (1 = best), the same for a family.
    pub rank: usize,
    pub first_order: bool,
    pub reason: String,
}

/// One built list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListVersion {
    /// 0 until stored.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub published: Option<(DateTime<Utc>, String)>,
    pub icp_version: Option<i64>,
    pub entries: Vec<ListEntry>,
    /// Accounts listed in an earlier version and not in this one: why.
    pub removed: BTreeMap<String, String>,
    pub note: Option<String>,
}

/// The order of preference the handbook gives: nominated ICP families, ICP families, lookalikes,
/// other nominated families; then fit.
fn preference(c: &Candidate, o: Option<&Override>) -> u8 {
    let nominated = o.is_some_and(|o| o.nominated.is_some());
    match (nominated, c.icp) {
        (true, true) => 0,
        (false, true) => 1,
        (false, false)
            if c.new_logo_target
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("lookalike")) =>
        {
            2
        }
        _ => 3,
    }
}

/// Why a family is not eligible, if it is not.
fn ineligible(rules: &ListRules, c: &Candidate, o: Option<&Override>) -> Option<String> {
    if let Some(f) = o.and_then(|o| o.flagged.as_ref()) {
        return Some(format!("flagged by sales: {f}"));
    }
    if o.is_some_and(|o| o.nominated.is_some()) {
        return None;
    }
    if rules.require_icp && !c.icp {
        return Some("not in the ICP".into());
    }
    let pubsec = c.segment == "PubSec" || c.geo.as_deref() == Some("PubSec");
    if rules.require_first_order && !c.first_order && !(pubsec && rules.pubsec_skips_first_order) {
        return Some("not first order (the family has a paying customer)".into());
    }
    if !rules.account_ranks.is_empty() && !c.account_rank.as_ref().is_some_and(|r| rules.account_ranks.contains(r)) {
        return Some(format!(
            "account rank {} is not one of {}",
            c.account_rank.as_deref().unwrap_or("(none)"),
            rules.account_ranks.join(", ")
        ));
    }
    if !rules.gtm_strategies.is_empty()
        && !c
            .gtm_strategy
            .as_ref()
            .is_some_and(|g| rules.gtm_strategies.contains(g))
    {
        return Some(format!(
            "GTM strategy {} is not one of {}",
            c.gtm_strategy.as_deref().unwrap_or("(none)"),
            rules.gtm_strategies.join(", ")
        ));
    }
    None
}

/// Build a list. `previous` is every account listed in earlier versions (to give reasons for
/// those left out); `overrides` are nominations and flags by ultimate-parent crm id.
pub fn build(
    rules: &ListRules,
    candidates: &[Candidate],
    overrides: &HashMap<String, Override>,
    previous: &BTreeSet<String>,
) -> (Vec<ListEntry>, BTreeMap<String, String>) {
    let mut why_not: BTreeMap<String, String> = BTreeMap::new();
    let mut ranked: Vec<(&Candidate, Option<&Override>)> = Vec::new();
    for c in candidates {
        let o = overrides.get(&c.crm_id);
        match ineligible(rules, c, o) {
            Some(r) => {
                why_not.insert(c.crm_id.clone(), r);
            }
            None => ranked.push((c, o)),
        }
    }
    ranked.sort_by(|(a, oa), (b, ob)| {
        (preference(a, *oa), std::cmp::Reverse(a.score), &a.crm_id).cmp(&(
            preference(b, *ob),
            std::cmp::Reverse(b.score),
            &b.crm_id,
        ))
    });
    // Fill tiers in order.
    let mut taken: Vec<(usize, &Candidate, Option<&Override>, usize)> = Vec::new(); // (tier, candidate, override, rank)
    let mut used: Vec<bool> = vec![false; ranked.len()];
    for (t, tier) in rules.tiers.iter().enumerate() {
        let mut count = 0;
        let mut per_geo: BTreeMap<String, usize> = BTreeMap::new();
        for (i, (c, o)) in ranked.iter().enumerate() {
            if used[i] || count >= tier.max_accounts {
                continue;
            }
            let nominated = o.is_some_and(|o| o.nominated.is_some());
            if !nominated && (!c.icp || c.grade > tier.min_grade) {
                continue;
            }
            let geo = c.geo.clone().unwrap_or_default();
            if let Some(cap) = tier.per_geo.get(&geo) {
                if per_geo.get(&geo).copied().unwrap_or(0) >= *cap {
                    continue;
                }
            }
            used[i] = true;
            count += 1;
            *per_geo.entry(geo).or_default() += 1;
            taken.push((t, c, *o, i + 1));
        }
    }
    // The expansion cap: drop the lowest-ranked expansion families until within it.
    let max_share = rules.max_expansion_share.clamp(0.0, 1.0);
    loop {
        let total = taken.len();
        let expansion = taken.iter().filter(|(_, c, _, _)| !c.first_order).count();
        if total == 0 || (expansion as f64) <= (max_share * total as f64).floor() {
            break;
        }
        let worst = taken
            .iter()
            .enumerate()
            .filter(|(_, (_, c, _, _))| !c.first_order)
            .max_by_key(|(_, (t, _, _, r))| (*t, *r))
            .map(|(i, _)| i)
            .expect("an expansion family");
        let (_, c, _, _) = taken.remove(worst);
        why_not.insert(
            c.crm_id.clone(),
            format!(
                "expansion family over the {:.0}% cap on expansion accounts",
                max_share * 100.0
            ),
        );
    }
    for (i, (c, _)) in ranked.iter().enumerate() {
        if !used[i] || !taken.iter().any(|(_, t, _, _)| t.crm_id == c.crm_id) {
            why_not.entry(c.crm_id.clone()).or_insert_with(|| {
                if c.icp {
                    format!(
                        "grade {} (fit {}) did not make a tier within its caps",
                        c.grade, c.score
                    )
                } else {
                    "not in the ICP and not nominated".into()
                }
            });
        }
    }
    let mut entries = Vec::new();
    for (t, c, o, rank) in &taken {
        let tier = &rules.tiers[*t].name;
        let reason = match o.and_then(|o| o.nominated.as_ref()) {
            Some(n) => format!("nominated: {n}; grade {}, fit {}", c.grade, c.score),
            None => format!("ICP grade {}, fit {}", c.grade, c.score),
        };
        entries.push(ListEntry {
            crm_id: c.crm_id.clone(),
            name: c.name.clone(),
            tier: tier.clone(),
            geo: c.geo.clone(),
            family: c.crm_id.clone(),
            rank: *rank,
            first_order: c.first_order,
            reason,
        });
        for child in &c.children {
            entries.push(ListEntry {
                crm_id: child.clone(),
                name: String::new(),
                tier: tier.clone(),
                geo: c.geo.clone(),
                family: c.crm_id.clone(),
                rank: *rank,
                first_order: c.first_order,
                reason: format!("cascaded from its ultimate parent {}", c.crm_id),
            });
        }
    }
    entries.sort_by(|a, b| (a.rank, a.family != a.crm_id, &a.crm_id).cmp(&(b.rank, b.family != b.crm_id, &b.crm_id)));
    // Reasons for every earlier member left out (children inherit their family's reason).
    let family_of: HashMap<&str, &Candidate> = candidates
        .iter()
        .flat_map(|c| std::iter::once((c.crm_id.as_str(), c)).chain(c.children.iter().map(move |ch| (ch.as_str(), c))))
        .collect();
    let listed: BTreeSet<&str> = entries.iter().map(|e| e.crm_id.as_str()).collect();
    let mut removed = BTreeMap::new();
    for p in previous.iter().filter(|p| !listed.contains(p.as_str())) {
        let reason = match family_of.get(p.as_str()) {
            None => "no longer in the CRM".to_string(),
            Some(c) => why_not.get(&c.crm_id).cloned().unwrap_or_else(|| "not selected".into()),
        };
        removed.insert(p.clone(), reason);
    }
    (entries, removed)
}

/// What changed between two list versions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListDiff {
    pub added: Vec<(String, String, String)>,
    /// (crm id, tier it had, reason)
    pub removed: Vec<(String, String, String)>,
    /// (crm id, from tier, to tier, why it has the new tier)
    pub tier_changed: Vec<(String, String, String, String)>,
}

/// Diff `a` → `b`. Removal reasons come from `b` (recorded when it was built), or say that `b`
/// predates the listing.
pub fn diff(a: &ListVersion, b: &ListVersion) -> ListDiff {
    let ta: BTreeMap<&str, &ListEntry> = a.entries.iter().map(|e| (e.crm_id.as_str(), e)).collect();
    let tb: BTreeMap<&str, &ListEntry> = b.entries.iter().map(|e| (e.crm_id.as_str(), e)).collect();
    let mut d = ListDiff::default();
    for (id, e) in &tb {
        match ta.get(id) {
            None => d.added.push((id.to_string(), e.tier.clone(), e.reason.clone())),
            Some(old) if old.tier != e.tier => {
                let why = match tier_rank(&old.tier, b).cmp(&tier_rank(&e.tier, b)) {
                    std::cmp::Ordering::Less => format!("demoted: {}", e.reason),
                    _ => format!("promoted: {}", e.reason),
                };
                d.tier_changed
                    .push((id.to_string(), old.tier.clone(), e.tier.clone(), why))
            }
            _ => {}
        }
    }
    for (id, e) in &ta {
        if !tb.contains_key(id) {
            let reason = b.removed.get(*id).cloned().unwrap_or_else(|| {
                if b.version < a.version {
                    format!("version {} was built before it was listed", b.version)
                } else {
                    "not selected".into()
                }
            });
            d.removed.push((id.to_string(), e.tier.clone(), reason));
        }
    }
    d
}

/// A tier's position (Tier 1 first) by its name's number, else alphabetically.
fn tier_rank(tier: &str, _in: &ListVersion) -> (u32, String) {
    let n = tier
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap_or(u32::MAX);
    (n, tier.to_string())
}

/// A nomination by sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nomination {
    pub id: i64,
    pub crm_id: String,
    pub by: String,
    pub reason: String,
    pub submitted: NaiveDate,
    /// 5 business days after submission.
    pub decide_by: NaiveDate,
    pub decision: Option<Decision>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub accepted: bool,
    pub by: String,
    pub on: NaiveDate,
    pub reason: String,
}

/// The day a nomination submitted on `submitted` must be decided by.
pub fn decide_by(submitted: NaiveDate, cal: &BusinessCalendar) -> NaiveDate {
    cal.add_business_days(submitted, 5)
}

/// The quarterly refresh calendar for the list that takes effect in `quarter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshCalendar {
    pub quarter: String,
    /// Sales nominations close two weeks before the previous quarter ends.
    pub nominations_close: NaiveDate,
    /// The previous quarter's last day: purge and refill.
    pub purge_and_refill: NaiveDate,
    /// The first business day of the quarter: publish and write back to the CRM.
    pub publish: NaiveDate,
}

pub fn refresh_calendar(quarter: FiscalQuarter, fiscal: &FiscalCalendar, cal: &BusinessCalendar) -> RefreshCalendar {
    let start = fiscal.quarter_start(quarter);
    let last = start - Duration::days(1);
    RefreshCalendar {
        quarter: quarter.to_string(),
        nominations_close: last - Duration::days(14),
        purge_and_refill: last,
        publish: cal.next_business_day(start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, geo: &str, grade: Grade, score: u32, icp: bool, first_order: bool) -> Candidate {
        Candidate {
            crm_id: id.into(),
            name: format!("{id} Inc"),
            geo: Some(geo.into()),
            segment: "Large".into(),
            icp,
            score,
            grade,
            first_order,
            account_rank: None,
            gtm_strategy: None,
            new_logo_target: None,
            children: Vec::new(),
        }
    }

    fn rules() -> ListRules {
        ListRules {
            require_icp: true,
            require_first_order: false,
            pubsec_skips_first_order: true,
            account_ranks: vec![],
            gtm_strategies: vec![],
            max_expansion_share: 0.15,
            tiers: vec![
                TierRule {
                    name: "Tier 1".into(),
                    min_grade: Grade::A,
                    max_accounts: 2,
                    per_geo: [("EMEA".to_string(), 1)].into(),
                },
                TierRule {
                    name: "Tier 2".into(),
                    min_grade: Grade::B,
                    max_accounts: 3,
                    per_geo: BTreeMap::new(),
                },
            ],
        }
    }

    #[test]
    fn tiers_fill_by_fit_within_caps_and_children_follow() {
        let mut a = cand("A", "EMEA", Grade::A, 95, true, true);
        a.children = vec!["A-child".into()];
        let cs = vec![
            a,
            cand("B", "EMEA", Grade::A, 90, true, true),
            cand("C", "AMER", Grade::A, 85, true, true),
            cand("D", "AMER", Grade::B, 70, true, true),
            cand("E", "AMER", Grade::C, 50, true, true),
            cand("F", "AMER", Grade::A, 99, false, true),
        ];
        let prev: BTreeSet<String> = ["E".to_string(), "F".to_string()].into();
        let (entries, removed) = build(&rules(), &cs, &HashMap::new(), &prev);
        let got: Vec<(&str, &str)> = entries.iter().map(|e| (e.crm_id.as_str(), e.tier.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("A", "Tier 1"),
                ("A-child", "Tier 1"),
                ("B", "Tier 2"),
                ("C", "Tier 1"),
                ("D", "Tier 2")
            ]
        );
        assert!(entries[1].reason.contains("cascaded from its ultimate parent A"));
        assert_eq!(removed["F"], "not in the ICP");
        assert!(removed["E"].contains("grade C"), "{}", removed["E"]);
    }

    #[test]
    fn expansion_is_capped_and_flags_win() {
        let mut cs: Vec<Candidate> = (0..10)
            .map(|i| cand(&format!("N{i}"), "AMER", Grade::B, 70 - i, true, true))
            .collect();
        cs.push(cand("X1", "AMER", Grade::B, 75, true, false));
        cs.push(cand("X2", "AMER", Grade::B, 74, true, false));
        let mut r = rules();
        r.tiers[1].max_accounts = 12;
        let mut o = HashMap::new();
        o.insert(
            "N0".to_string(),
            Override {
                nominated: None,
                flagged: Some("no budget".into()),
            },
        );
        let prev: BTreeSet<String> = ["N0".to_string(), "X2".to_string()].into();
        let (entries, removed) = build(&r, &cs, &o, &prev);
        let expansion = entries.iter().filter(|e| !e.first_order).count();
        assert!(
            expansion as f64 <= (0.15 * entries.len() as f64).floor(),
            "{expansion} of {}",
            entries.len()
        );
        assert_eq!(removed["N0"], "flagged by sales: no budget");
        assert!(removed["X2"].contains("15% cap"), "{}", removed["X2"]);
    }

    #[test]
    fn diff_gives_reasons_and_refresh_dates() {
        let v = |n: i64, ids: &[(&str, &str)], removed: &[(&str, &str)]| ListVersion {
            version: n,
            created_at: DateTime::UNIX_EPOCH,
            created_by: "x".into(),
            published: None,
            icp_version: None,
            entries: ids
                .iter()
                .map(|(id, t)| ListEntry {
                    crm_id: id.to_string(),
                    name: String::new(),
                    tier: t.to_string(),
                    geo: None,
                    family: id.to_string(),
                    rank: 1,
                    first_order: true,
                    reason: "ICP".into(),
                })
                .collect(),
            removed: removed.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            note: None,
        };
        let a = v(1, &[("A", "Tier 1"), ("B", "Tier 2")], &[]);
        let b = v(2, &[("A", "Tier 2"), ("C", "Tier 3")], &[("B", "closed-won")]);
        let d = diff(&a, &b);
        assert_eq!(d.added[0].0, "C");
        assert_eq!(
            d.removed,
            vec![("B".to_string(), "Tier 2".to_string(), "closed-won".to_string())]
        );
        assert_eq!(
            d.tier_changed,
            vec![(
                "A".to_string(),
                "Tier 1".to_string(),
                "Tier 2".to_string(),
                "demoted: ICP".to_string()
            )]
        );
        let back = diff(&b, &a);
        assert!(back.removed[0].2.contains("built before"), "{:?}", back.removed);

        let cal = BusinessCalendar::weekdays();
        let fiscal = FiscalCalendar::default();
        let r = refresh_calendar("FY27-Q1".parse().unwrap(), &fiscal, &cal);
        assert_eq!(r.purge_and_refill, NaiveDate::from_ymd_opt(2026, 1, 31).unwrap());
        assert_eq!(r.nominations_close, NaiveDate::from_ymd_opt(2026, 1, 17).unwrap());
        assert_eq!(
            r.publish,
            NaiveDate::from_ymd_opt(2026, 2, 2).unwrap(),
            "Feb 1 2026 is a Sunday"
        );
        assert_eq!(
            decide_by(NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(), &cal),
            NaiveDate::from_ymd_opt(2026, 1, 22).unwrap()
        );
    }
}
