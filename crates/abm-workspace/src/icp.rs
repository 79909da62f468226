//! The workspace's ICP: `icp.toml` parsed into [`abm_core::icp::Icp`] (mistakes reported with
//! their line), account facts built from what the store holds (attribute values in precedence
//! order, developer count, tech stack and cloud provider read at the ultimate parent), and the
//! score / diff / activate / rollback workflow over versions kept in the store.

use crate::toml_text::line_of;
use crate::WorkspaceError;
use abm_core::account::{AttributeValue, Precedence, Segment};
use abm_core::icp::{
    AccountFacts, Applies, Bands, Criterion, Explanation, Fact, FactValue, Fit, Icp, OnMissing, Profile, Test,
};
use abm_store::{ScoringInput, Store, StoredFit};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use toml::Spanned;

/// Attributes read at the ultimate parent (the spec's family roll-ups).
pub const FAMILY_ATTRIBUTES: &[&str] = &["developer_count", "tech_stack", "cloud_provider"];

/// Fields every account has, besides sourced attributes.
pub const ACCOUNT_FIELDS: &[&str] = &[
    "employees",
    "first_order_available",
    "family_carr",
    "account_type",
    "industry",
    "geo",
    "segment",
    "account_rank",
    "gtm_strategy",
    "new_logo_target",
    "annual_revenue",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIcp {
    bands: Option<Spanned<RawBands>>,
    #[serde(default)]
    profiles: Vec<Spanned<RawProfile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBands {
    #[serde(rename = "A")]
    a: u32,
    #[serde(rename = "B")]
    b: u32,
    #[serde(rename = "C")]
    c: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    segments: Vec<String>,
    min_employees: Option<u32>,
    max_employees: Option<u32>,
    #[serde(default)]
    criteria: Vec<Spanned<RawCriterion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    name: String,
    field: String,
    at_least: Option<f64>,
    at_most: Option<f64>,
    above: Option<f64>,
    below: Option<f64>,
    any_of: Option<Vec<String>>,
    all_of: Option<Vec<String>>,
    none_of: Option<Vec<String>>,
    is: Option<bool>,
    #[serde(default)]
    core: bool,
    points: Option<u32>,
    missing: Option<String>,
    #[serde(default)]
    any_source: bool,
}

/// Parse `icp.toml`. `file` names it in errors.
pub fn parse_icp(text: &str, file: &str) -> Result<Icp, WorkspaceError> {
    let err = |line: usize, reason: String| WorkspaceError::Config {
        file: file.to_string(),
        line,
        reason,
    };
    let raw: RawIcp = crate::toml_text::parse(text, file)?;
    let at = |s: std::ops::Range<usize>| line_of(text, s.start);
    let bands = match &raw.bands {
        None => Bands::default(),
        Some(b) => {
            let r = b.get_ref();
            if !(r.a <= 100 && r.a > r.b && r.b > r.c) {
                return Err(err(
                    at(b.span()),
                    format!(
                        "bands: expected 100 ≥ A > B > C, found A = {}, B = {}, C = {}",
                        r.a, r.b, r.c
                    ),
                ));
            }
            Bands { a: r.a, b: r.b, c: r.c }
        }
    };
    if raw.profiles.is_empty() {
        return Err(err(1, "no [[profiles]]: an ICP needs at least one profile".into()));
    }
    let mut fields: Vec<String> = Vec::new();
    let mut profiles = Vec::new();
    for p in &raw.profiles {
        let line = at(p.span());
        let p = p.get_ref();
        let segments = p
            .segments
            .iter()
            .map(|s| s.parse::<Segment>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(line, format!("profile {:?}: segments: {e}", p.name)))?;
        let mut criteria = Vec::new();
        let mut points = 0;
        for c in &p.criteria {
            let cl = at(c.span());
            let c = c.get_ref();
            let ctx = |m: String| err(cl, format!("profile {:?}, criterion {:?}: {m}", p.name, c.name));
            let field_ok = ACCOUNT_FIELDS.contains(&c.field.as_str())
                || (!c.field.is_empty()
                    && c.field
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch == '_' || ch.is_ascii_digit()));
            if !field_ok {
                return Err(ctx(format!(
                    "field {:?}: expected an attribute name like developer_count or one of {}",
                    c.field,
                    ACCOUNT_FIELDS.join(", ")
                )));
            }
            let mut tests = Vec::new();
            if let Some(x) = c.at_least {
                tests.push(Test::AtLeast(x));
            }
            if let Some(x) = c.at_most {
                tests.push(Test::AtMost(x));
            }
            if let Some(x) = c.above {
                tests.push(Test::Above(x));
            }
            if let Some(x) = c.below {
                tests.push(Test::Below(x));
            }
            if let Some(x) = &c.any_of {
                tests.push(Test::AnyOf(x.clone()));
            }
            if let Some(x) = &c.all_of {
                tests.push(Test::AllOf(x.clone()));
            }
            if let Some(x) = &c.none_of {
                tests.push(Test::NoneOf(x.clone()));
            }
            if let Some(b) = c.is {
                tests.push(if b { Test::IsTrue } else { Test::IsFalse });
            }
            if tests.len() != 1 {
                return Err(ctx(format!(
                    "expected exactly one test (at_least, at_most, above, below, any_of, all_of, none_of, is), found {}",
                    tests.len()
                )));
            }
            let on_missing = match c.missing.as_deref().map(str::trim) {
                None | Some("fail") => OnMissing::Fail,
                Some("pass") => OnMissing::Pass,
                Some(other) => return Err(ctx(format!("missing: expected \"fail\" or \"pass\", found {other:?}"))),
            };
            let pts = match (c.core, c.points) {
                (true, Some(_)) => return Err(ctx("a core criterion is a gate and carries no points".into())),
                (true, None) => 0,
                (false, Some(p)) if p > 0 => p,
                (false, _) => return Err(ctx("a weighted criterion needs points (more than 0)".into())),
            };
            points += pts;
            let idx = match fields.iter().position(|f| f == &c.field) {
                Some(i) => i,
                None => {
                    fields.push(c.field.clone());
                    fields.len() - 1
                }
            };
            criteria.push(Criterion::new(
                &c.name,
                idx,
                &c.field,
                tests.remove(0),
                c.core,
                pts,
                on_missing,
                c.any_source,
            ));
        }
        if points != 0 && points != 100 {
            return Err(err(
                line,
                format!(
                    "profile {:?}: weighted points sum to {points}; they must sum to 100",
                    p.name
                ),
            ));
        }
        profiles.push(Profile {
            name: p.name.clone(),
            applies: Applies {
                segments,
                min_employees: p.min_employees,
                max_employees: p.max_employees,
            },
            criteria,
        });
    }
    Ok(Icp {
        fields,
        profiles,
        bands,
    })
}

fn fact(value: &str, source: &Arc<str>, as_of: Option<chrono::NaiveDate>) -> Option<Fact> {
    FactValue::parse(value).map(|value| Fact {
        value,
        source: source.clone(),
        as_of,
    })
}

/// Interned source names for built-in fields.
struct Sources {
    crm: Arc<str>,
    family: Arc<str>,
    proxy: Arc<str>,
}

/// A sourced attribute's facts, in precedence order (then the most recent other sources).
fn ordered<'a>(p: &Precedence, attribute: &str, values: &'a [AttributeValue]) -> Vec<&'a AttributeValue> {
    let mut of: Vec<&AttributeValue> = values
        .iter()
        .filter(|v| &*v.attribute == attribute && !v.value.trim().is_empty())
        .collect();
    let order: Vec<&String> = p
        .attributes()
        .find(|(a, _)| a.as_str() == attribute)
        .map(|(_, o)| o.iter().collect())
        .unwrap_or_default();
    let rank = |v: &AttributeValue| {
        order
            .iter()
            .position(|s| s.as_str() == &*v.source)
            .unwrap_or(usize::MAX)
    };
    of.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.as_of.cmp(&a.as_of))
            .then(a.source.cmp(&b.source))
    });
    of
}

/// Builds [`AccountFacts`] for one ICP.
pub struct FactBuilder<'a> {
    icp: &'a Icp,
    precedence: &'a Precedence,
    sources: Sources,
}

impl<'a> FactBuilder<'a> {
    pub fn new(icp: &'a Icp, precedence: &'a Precedence) -> Self {
        Self {
            icp,
            precedence,
            sources: Sources {
                crm: "crm".into(),
                family: "family roll-up".into(),
                proxy: "employees (proxy)".into(),
            },
        }
    }

    /// `parent` is the ultimate parent's input (the account's own when it is one).
    pub fn facts(&self, a: &ScoringInput, parent: &ScoringInput) -> AccountFacts {
        let s = &self.sources;
        let values = self
            .icp
            .fields
            .iter()
            .map(|field| {
                let one = |v: Option<String>, src: &Arc<str>| -> Vec<Fact> {
                    v.and_then(|v| fact(&v, src, None)).into_iter().collect()
                };
                match field.as_str() {
                    "employees" => one(a.family_max_employees.map(|e| e.to_string()), &s.family),
                    "first_order_available" => one(Some(a.first_order_available.to_string()), &s.family),
                    "family_carr" => one(Some((a.family_carr_cents as f64 / 100.0).to_string()), &s.family),
                    "account_type" => one(a.account_type.clone(), &s.crm),
                    "industry" => one(a.industry.clone(), &s.crm),
                    "geo" => one(a.geo.clone(), &s.crm),
                    "segment" => one(Some(a.segment.clone()), &s.family),
                    "account_rank" => one(a.account_rank.clone(), &s.crm),
                    "gtm_strategy" => one(a.gtm_strategy.clone(), &s.crm),
                    "new_logo_target" => one(a.new_logo_target.clone(), &s.crm),
                    "annual_revenue" => one(a.annual_revenue_cents.map(|c| (c as f64 / 100.0).to_string()), &s.crm),
                    attr => {
                        let from = if FAMILY_ATTRIBUTES.contains(&attr) { parent } else { a };
                        let mut out: Vec<Fact> = ordered(self.precedence, attr, &from.attributes)
                            .into_iter()
                            .filter_map(|v| fact(&v.value, &v.source, Some(v.as_of)))
                            .collect();
                        let proxy = self
                            .precedence
                            .attributes()
                            .any(|(n, o)| n == attr && o.iter().any(|x| x == "employees"));
                        if proxy {
                            if let Some(e) = from.family_max_employees {
                                out.extend(fact(&e.to_string(), &s.proxy, None));
                            }
                        }
                        out
                    }
                }
            })
            .collect();
        AccountFacts {
            segment: a.segment.parse().ok(),
            employees: a.family_max_employees,
            values,
        }
    }
}

/// Put ICP version `version` (parsed as `icp`) in force: score every account with it and store
/// the scores with the activation, in one transaction. What the CLI and the API both do.
pub fn activate(
    store: &mut dyn Store,
    icp: &Icp,
    version: i64,
    precedence: &Precedence,
    who: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<StoredFit>, abm_store::StoreError> {
    let fits = score_all(store, icp, precedence, version)?;
    store.activate_icp(version, who, at, &fits)?;
    Ok(fits)
}

/// Score every stored account under `icp` (tagged `version`), families streamed together.
pub fn score_all(
    store: &mut dyn Store,
    icp: &Icp,
    precedence: &Precedence,
    version: i64,
) -> Result<Vec<StoredFit>, abm_store::StoreError> {
    let builder = FactBuilder::new(icp, precedence);
    let mut out = Vec::new();
    let mut parent: Option<ScoringInput> = None;
    store.each_scoring_input(&mut |a| {
        if a.crm_id == a.ultimate_parent_id {
            let fit = icp.fit(&builder.facts(&a, &a));
            out.push(stored(&a.crm_id, version, fit));
            parent = Some(a);
        } else {
            let p = parent
                .as_ref()
                .filter(|p| p.crm_id == a.ultimate_parent_id)
                .unwrap_or(&a);
            let fit = icp.fit(&builder.facts(&a, p));
            out.push(stored(&a.crm_id, version, fit));
        }
    })?;
    out.sort_by(|a, b| a.crm_id.cmp(&b.crm_id));
    Ok(out)
}

fn stored(crm_id: &str, version: i64, fit: Fit) -> StoredFit {
    StoredFit {
        crm_id: crm_id.to_string(),
        version,
        icp: fit.icp,
        score: fit.score,
        grade: fit.grade.to_string(),
    }
}

/// One account's scoring input, from the store (None: no such account).
pub fn scoring_input(store: &mut dyn Store, crm_id: &str) -> Result<Option<ScoringInput>, abm_store::StoreError> {
    let Some(d) = store.get_account(crm_id)? else {
        return Ok(None);
    };
    Ok(Some(ScoringInput {
        crm_id: d.summary.crm_id.clone(),
        name: d.summary.name.clone(),
        ultimate_parent_id: d.summary.ultimate_parent_id.clone(),
        segment: d.summary.segment.clone(),
        family_max_employees: d.family_max_employees,
        first_order_available: d.summary.first_order_available,
        family_carr_cents: (d.summary.family_carr * 100.0).round() as i64,
        account_type: d.summary.account_type.clone(),
        industry: d.industry.clone(),
        geo: d.summary.geo.clone(),
        account_rank: d.account_rank.clone(),
        gtm_strategy: d.gtm_strategy.clone(),
        new_logo_target: d.new_logo_target.clone(),
        annual_revenue_cents: d.annual_revenue.map(|r| (r * 100.0).round() as i64),
        attributes: d.attributes,
    }))
}

/// Explain one account's fit under `icp`.
pub fn explain(
    store: &mut dyn Store,
    icp: &Icp,
    precedence: &Precedence,
    crm_id: &str,
) -> Result<Option<Explanation>, abm_store::StoreError> {
    let Some(a) = scoring_input(store, crm_id)? else {
        return Ok(None);
    };
    let parent = if a.ultimate_parent_id == a.crm_id {
        None
    } else {
        scoring_input(store, &a.ultimate_parent_id)?
    };
    let builder = FactBuilder::new(icp, precedence);
    Ok(Some(icp.explain(&builder.facts(&a, parent.as_ref().unwrap_or(&a)))))
}

/// The active ICP version's explanation of one account (None until accounts are scored, or for
/// an unknown account), with the version that gives it.
pub fn explain_active(
    store: &mut dyn Store,
    precedence: &Precedence,
    crm_id: &str,
) -> Result<Option<(i64, Explanation)>, abm_store::StoreError> {
    let Some(v) = store.icp_versions()?.into_iter().find(|v| v.active) else {
        return Ok(None);
    };
    let icp = parse_icp(&v.definition, &format!("ICP version {}", v.version))
        .map_err(|e| abm_store::StoreError::Corrupt(e.to_string()))?;
    Ok(explain(store, &icp, precedence, crm_id)?.map(|e| (v.version, e)))
}

/// What `abm icp diff` reports: how grades and ICP membership would move.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct IcpDiff {
    pub accounts: u64,
    pub changed: u64,
    /// "A→B" → count.
    pub grade_moves: BTreeMap<String, u64>,
    pub entering: Vec<String>,
    pub leaving: Vec<String>,
    /// Every account whose score, grade or ICP status changes: (crm id, before, after).
    pub changes: Vec<(String, String, String)>,
}

/// Compare fits before and after (both sorted by crm id, as [`score_all`] returns them).
pub fn diff(before: &[StoredFit], after: &[StoredFit]) -> IcpDiff {
    let old: BTreeMap<&str, &StoredFit> = before.iter().map(|f| (f.crm_id.as_str(), f)).collect();
    let mut d = IcpDiff {
        accounts: after.len() as u64,
        ..Default::default()
    };
    let show = |f: Option<&StoredFit>| match f {
        None => "unscored".to_string(),
        Some(f) => format!("{} {} {}", if f.icp { "ICP" } else { "not ICP" }, f.score, f.grade),
    };
    for a in after {
        let b = old.get(a.crm_id.as_str()).copied();
        let same = b.is_some_and(|b| b.icp == a.icp && b.score == a.score && b.grade == a.grade);
        if same {
            continue;
        }
        d.changed += 1;
        let from = b.map(|b| b.grade.clone()).unwrap_or_else(|| "-".into());
        if from != a.grade {
            *d.grade_moves.entry(format!("{from}→{}", a.grade)).or_default() += 1;
        }
        match (b.map(|b| b.icp), a.icp) {
            (Some(false) | None, true) => d.entering.push(a.crm_id.clone()),
            (Some(true), false) => d.leaving.push(a.crm_id.clone()),
            _ => {}
        }
        d.changes.push((a.crm_id.clone(), show(b), show(Some(a))));
    }
    d
}
