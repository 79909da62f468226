//! The workspace's focus lists: `lists.toml` parsed into [`ListRules`] (mistakes reported with
//! their line), families gathered from the store with their stored ICP fit, nominations and flags
//! applied, and the quarterly refresh (closed-won logos out, with the reason).

use crate::toml_text::line_of;
use crate::WorkspaceError;
use abm_core::icp::Grade;
use abm_core::lists::{build, decide_by, Candidate, Decision, ListRules, ListVersion, Nomination, Override, TierRule};
use abm_core::BusinessCalendar;
use abm_store::Store;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default = "yes")]
    require_icp: bool,
    #[serde(default)]
    require_first_order: bool,
    #[serde(default = "yes")]
    pubsec_skips_first_order: bool,
    #[serde(default)]
    account_ranks: Vec<String>,
    #[serde(default)]
    gtm_strategies: Vec<String>,
    max_expansion_percent: Option<Spanned<f64>>,
    #[serde(default)]
    tiers: Vec<Spanned<RawTier>>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    name: String,
    min_grade: String,
    max_accounts: usize,
    #[serde(default)]
    per_geo: BTreeMap<String, usize>,
}

pub fn parse_rules(text: &str, file: &str) -> Result<ListRules, WorkspaceError> {
    let err = |line: usize, reason: String| WorkspaceError::Config {
        file: file.to_string(),
        line,
        reason,
    };
    let raw: RawRules = crate::toml_text::parse(text, file)?;
    let share = match &raw.max_expansion_percent {
        None => 0.15,
        Some(p) if (0.0..=100.0).contains(p.get_ref()) => p.get_ref() / 100.0,
        Some(p) => {
            return Err(err(
                line_of(text, p.span().start),
                format!("max_expansion_percent: expected 0 to 100, found {}", p.get_ref()),
            ))
        }
    };
    if raw.tiers.is_empty() {
        return Err(err(1, "no [[tiers]]: a list needs at least one tier".into()));
    }
    let mut tiers = Vec::new();
    for t in &raw.tiers {
        let line = line_of(text, t.span().start);
        let t = t.get_ref();
        let min_grade: Grade = t
            .min_grade
            .parse()
            .map_err(|e| err(line, format!("tier {:?}: min_grade: {e}", t.name)))?;
        if tiers.iter().any(|x: &TierRule| x.name == t.name) {
            return Err(err(line, format!("tier {:?} appears twice", t.name)));
        }
        tiers.push(TierRule {
            name: t.name.clone(),
            min_grade,
            max_accounts: t.max_accounts,
            per_geo: t.per_geo.clone(),
        });
    }
    Ok(ListRules {
        require_icp: raw.require_icp,
        require_first_order: raw.require_first_order,
        pubsec_skips_first_order: raw.pubsec_skips_first_order,
        account_ranks: raw.account_ranks,
        gtm_strategies: raw.gtm_strategies,
        max_expansion_share: share,
        tiers,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("accounts have not been scored: run `abm icp score` first")]
    NotScored,
    #[error("no account {0:?}")]
    NoAccount(String),
    #[error("no nomination {0}")]
    NoNomination(i64),
    #[error("nomination {0} was already decided")]
    AlreadyDecided(i64),
    #[error("is empty (every nomination and decision says why)")]
    NoReason,
    #[error(transparent)]
    Store(#[from] abm_store::StoreError),
}

/// Families (ultimate parents with their children) and their parent's stored fit, and every
/// account's name.
pub fn candidates(store: &mut dyn Store) -> Result<(Vec<Candidate>, HashMap<String, String>), ListError> {
    let fits: HashMap<String, abm_store::StoredFit> =
        store.fits()?.into_iter().map(|f| (f.crm_id.clone(), f)).collect();
    if fits.is_empty() {
        return Err(ListError::NotScored);
    }
    let mut out: Vec<Candidate> = Vec::new();
    let mut names = HashMap::new();
    store.each_scoring_input(&mut |a| {
        names.insert(a.crm_id.clone(), a.name.clone());
        if a.crm_id == a.ultimate_parent_id {
            let fit = fits.get(&a.crm_id);
            out.push(Candidate {
                crm_id: a.crm_id.clone(),
                name: a.name.clone(),
                geo: a.geo.clone(),
                segment: a.segment.clone(),
                icp: fit.is_some_and(|f| f.icp),
                score: fit.map(|f| f.score).unwrap_or(0),
                grade: fit.and_then(|f| f.grade.parse().ok()).unwrap_or(Grade::D),
                first_order: a.first_order_available,
                account_rank: a.account_rank.clone(),
                gtm_strategy: a.gtm_strategy.clone(),
                new_logo_target: a.new_logo_target.clone(),
                children: Vec::new(),
            });
        } else if let Some(p) = out.last_mut().filter(|p| p.crm_id == a.ultimate_parent_id) {
            p.children.push(a.crm_id.clone());
        }
    })?;
    Ok((out, names))
}

/// Build the next list version (not stored). `closed_won` removes families that were listed as
/// first order in the last published version and have since become customers (the refresh).
pub fn build_version(
    store: &mut dyn Store,
    rules: &ListRules,
    by: &str,
    at: DateTime<Utc>,
    closed_won: bool,
    note: Option<String>,
) -> Result<ListVersion, ListError> {
    let (cands, names) = candidates(store)?;
    let versions = store.list_versions()?;
    let previous: BTreeSet<String> = versions
        .iter()
        .flat_map(|v| v.entries.iter().map(|e| e.crm_id.clone()))
        .collect();
    let mut overrides: HashMap<String, Override> = HashMap::new();
    for n in store.nominations()? {
        if let Some(d) = n.decision.as_ref().filter(|d| d.accepted) {
            overrides
                .entry(n.crm_id.clone())
                .or_insert(Override {
                    nominated: None,
                    flagged: None,
                })
                .nominated = Some(format!("by {} ({}); accepted by {}", n.by, n.reason, d.by));
        }
    }
    for (id, reason) in store.flags()? {
        overrides
            .entry(id)
            .or_insert(Override {
                nominated: None,
                flagged: None,
            })
            .flagged = Some(reason);
    }
    if closed_won {
        if let Some(last) = versions.iter().rev().find(|v| v.published.is_some()) {
            let was_first_order: BTreeSet<&str> = last
                .entries
                .iter()
                .filter(|e| e.first_order && e.family == e.crm_id)
                .map(|e| e.crm_id.as_str())
                .collect();
            for c in cands
                .iter()
                .filter(|c| !c.first_order && was_first_order.contains(c.crm_id.as_str()))
            {
                overrides
                    .entry(c.crm_id.clone())
                    .or_insert(Override {
                        nominated: None,
                        flagged: None,
                    })
                    .flagged = Some(format!(
                    "closed-won: the family became a customer after version {}",
                    last.version
                ));
            }
        }
    }
    let (mut entries, removed) = build(rules, &cands, &overrides, &previous);
    for e in entries.iter_mut().filter(|e| e.name.is_empty()) {
        e.name = names.get(&e.crm_id).cloned().unwrap_or_default();
    }
    let icp_version = store.icp_versions()?.into_iter().find(|v| v.active).map(|v| v.version);
    Ok(ListVersion {
        version: 0,
        created_at: at,
        created_by: by.to_string(),
        published: None,
        icp_version,
        entries,
        removed,
        note,
    })
}

/// The family (ultimate parent) of an account id, checked against the store.
pub fn family_of(store: &mut dyn Store, account: &str) -> Result<String, ListError> {
    let d = store
        .get_account(account.trim())?
        .ok_or_else(|| ListError::NoAccount(account.to_string()))?;
    Ok(d.summary.ultimate_parent_id)
}

/// Record a sales nomination of an account's family; a decision is due within 5 business days
/// of `today` on `calendar`. Returns the stored nomination.
pub fn nominate(
    store: &mut dyn Store,
    account: &str,
    by: &str,
    reason: &str,
    today: NaiveDate,
    calendar: &BusinessCalendar,
) -> Result<Nomination, ListError> {
    if reason.trim().is_empty() {
        return Err(ListError::NoReason);
    }
    let mut n = Nomination {
        id: 0,
        crm_id: family_of(store, account)?,
        by: by.trim().to_string(),
        reason: reason.trim().to_string(),
        submitted: today,
        decide_by: decide_by(today, calendar),
        decision: None,
    };
    n.id = store.add_nomination(&n)?;
    Ok(n)
}

/// Accept or decline nomination `id`, once. Returns the nomination as decided.
pub fn decide(
    store: &mut dyn Store,
    id: i64,
    accepted: bool,
    by: &str,
    reason: &str,
    today: NaiveDate,
) -> Result<Nomination, ListError> {
    if reason.trim().is_empty() {
        return Err(ListError::NoReason);
    }
    let n = store
        .nominations()?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or(ListError::NoNomination(id))?;
    let decided = Nomination {
        decision: Some(Decision {
            accepted,
            by: by.to_string(),
            on: today,
            reason: reason.trim().to_string(),
        }),
        ..n
    };
    match store.decide_nomination(&decided) {
        Err(abm_store::StoreError::Conflict(_)) => Err(ListError::AlreadyDecided(id)),
        other => Ok(other.map(|_| decided)?),
    }
}
