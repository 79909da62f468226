//! The team's scorecard over the store: a quarter's facts gathered for the key metrics
//! (metrics.toml), key results' progress (okrs.toml), and goal workbacks (goals.toml) with
//! rates measured from the quarters before. The arithmetic is abm-core's (`metrics`, `goals`).

use crate::{Result, Workspace};
use abm_core::fiscal::{FiscalCalendar, FiscalQuarter};
use abm_core::goals::{work_back, CellHistory, Workback};
use abm_core::journey::end_of;
use abm_core::metrics::{
    evaluate, progress, KeyResultProgress, Member, MetricKind, MetricValue, Metrics, Objective, QuarterData,
};
use abm_store::Store;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

/// Days `[a, b]` and `[c, d]` share.
fn overlap(a: NaiveDate, b: NaiveDate, c: NaiveDate, d: NaiveDate) -> i64 {
    ((b.min(d) - a.max(c)).num_days() + 1).max(0)
}

/// Engagement points of an account's activities dated in `[start, end]`, read at the end of
/// `end`: what explain's contributions for those days add up to.
pub fn points_between(
    rules: &abm_core::engagement::EngagementRules,
    activities: &[(abm_core::activity::Activity, Option<String>)],
    start: NaiveDate,
    end: NaiveDate,
) -> f64 {
    let as_of = end_of(end);
    activities
        .iter()
        .filter(|(a, _)| (start..=end).contains(&a.at.date_naive()) && a.at <= as_of)
        .filter_map(|(a, title)| {
            let parts = abm_core::engagement::score_activity(rules, a, title.as_deref())?;
            Some(
                parts
                    .iter()
                    .map(|p| p.points * p.weight * p.decay_at(a.at, as_of))
                    .sum::<f64>(),
            )
        })
        .sum::<f64>()
        + 0.0
}

/// What the metrics read from the store, loaded once for any number of quarters (the
/// population's activities reach back to the quarter before the earliest asked for).
struct Facts {
    accounts: HashMap<String, Member>,
    mqa_entries: Vec<(String, NaiveDate)>,
    ad_facts: Vec<abm_core::paid::AdFact>,
    budget: Vec<abm_core::budget::BudgetLine>,
    opportunities: Vec<abm_core::opportunity::Opportunity>,
    /// The accounts whose engagement a metric reads, with their activities and titles.
    population: HashMap<String, Vec<(abm_core::activity::Activity, Option<String>)>>,
    rules: abm_core::engagement::EngagementRules,
}

fn load(ws: &Workspace, store: &mut dyn Store, metrics: &Metrics, earliest: FiscalQuarter) -> Result<Facts> {
    let fiscal = ws.fiscal();
    let mut accounts: HashMap<String, Member> = HashMap::new();
    if let Some(list) = store.list_versions()?.into_iter().rev().find(|v| v.published.is_some()) {
        for e in list.entries {
            accounts.insert(
                e.crm_id,
                Member {
                    key: true,
                    tier: Some(e.tier),
                },
            );
        }
    }
    let unfiltered = |kind: MetricKind| {
        metrics
            .metrics
            .iter()
            .any(|m| m.kind == kind && !m.key_accounts && m.tiers.is_empty())
    };
    if unfiltered(MetricKind::Reach) || unfiltered(MetricKind::EngagementUplift) {
        store.each_scoring_input(&mut |s| {
            accounts.entry(s.crm_id).or_default();
        })?;
    }
    let mqa_entries = store
        .journeys(None)?
        .into_iter()
        .flat_map(|j| j.events)
        .filter(|e| e.to == metrics.mqa_stage)
        .map(|e| (e.crm_id, e.day))
        .collect();
    // Per-account engagement only for the accounts of populations that read it.
    let ids: Vec<String> = accounts
        .iter()
        .filter(|(_, m)| {
            metrics.metrics.iter().any(|d| {
                matches!(d.kind, MetricKind::EngagementUplift | MetricKind::Reach)
                    && (!d.key_accounts || m.key)
                    && (d.tiers.is_empty() || m.tier.as_ref().is_some_and(|t| d.tiers.contains(t)))
            })
        })
        .map(|(c, _)| c.clone())
        .collect();
    let mut titles: HashMap<String, HashMap<String, String>> = HashMap::new();
    for f in store.journey_facts(&ids)? {
        titles.insert(f.crm_id, f.titles.into_iter().collect());
    }
    let mut population: HashMap<String, Vec<(abm_core::activity::Activity, Option<String>)>> =
        ids.iter().map(|c| (c.clone(), Vec::new())).collect();
    for (crm, a) in store.activities_of_since(&ids, fiscal.quarter_start(earliest.previous()))? {
        let t = titles
            .get(&crm)
            .and_then(|t| a.email.as_ref().and_then(|e| t.get(&e.to_lowercase()).cloned()));
        population.entry(crm).or_default().push((a, t));
    }
    Ok(Facts {
        accounts,
        mqa_entries,
        ad_facts: store.ad_facts()?,
        budget: store.budget()?,
        opportunities: store.opportunities()?,
        population,
        rules: ws.engagement_rules_in(store)?,
    })
}

/// One quarter's data from the loaded facts.
fn quarter_of(fiscal: &FiscalCalendar, metrics: &Metrics, f: &Facts, q: FiscalQuarter) -> QuarterData {
    let (start, end) = (fiscal.quarter_start(q), fiscal.quarter_end(q));
    let mut spend = None;
    for a in &f.ad_facts {
        let days = overlap(a.date_from, a.date_to, start, end);
        if days > 0 && a.currency.eq_ignore_ascii_case(&metrics.currency) {
            let span = (a.date_to - a.date_from).num_days() + 1;
            *spend.get_or_insert(0.0) += a.spend_micros as f64 / 1e6 * days as f64 / span as f64;
        }
    }
    let mut mqls = None;
    for l in &f.budget {
        let days = overlap(l.start, l.end, start, end);
        if let (true, Some(m)) = (days > 0, l.actual_mqls) {
            let span = (l.end - l.start).num_days() + 1;
            *mqls.get_or_insert(0.0) += m * days as f64 / span as f64;
        }
    }
    let prev = q.previous();
    let (pstart, pend) = (fiscal.quarter_start(prev), fiscal.quarter_end(prev));
    let mut points = HashMap::new();
    let mut active = HashSet::new();
    for (crm, acts) in &f.population {
        if acts.iter().any(|(a, _)| (start..=end).contains(&a.at.date_naive())) {
            active.insert(crm.clone());
        }
        points.insert(
            crm.clone(),
            (
                points_between(&f.rules, acts, start, end),
                points_between(&f.rules, acts, pstart, pend),
            ),
        );
    }
    QuarterData {
        start,
        end,
        accounts: f.accounts.clone(),
        opportunities: f.opportunities.clone(),
        mqa_entries: f.mqa_entries.clone(),
        spend,
        mqls,
        points,
        active,
    }
}

/// Gather what `metrics` need for quarter `q`.
pub fn quarter_data(ws: &Workspace, store: &mut dyn Store, metrics: &Metrics, q: FiscalQuarter) -> Result<QuarterData> {
    let f = load(ws, store, metrics, q)?;
    Ok(quarter_of(&ws.fiscal(), metrics, &f, q))
}

/// Every key metric's value in each of `quarters`, the store read once.
pub fn metric_values_many(
    ws: &Workspace,
    store: &mut dyn Store,
    quarters: &[FiscalQuarter],
) -> Result<Vec<Vec<MetricValue>>> {
    let metrics = ws.metrics()?;
    let Some(earliest) = quarters.iter().min().copied() else {
        return Ok(vec![]);
    };
    let f = load(ws, store, &metrics, earliest)?;
    let fiscal = ws.fiscal();
    Ok(quarters
        .iter()
        .map(|q| {
            let data = quarter_of(&fiscal, &metrics, &f, *q);
            let label = q.to_string();
            metrics.metrics.iter().map(|m| evaluate(m, &label, &data)).collect()
        })
        .collect())
}

/// Every key metric's value in quarter `q`.
pub fn metric_values(ws: &Workspace, store: &mut dyn Store, q: FiscalQuarter) -> Result<Vec<MetricValue>> {
    Ok(metric_values_many(ws, store, &[q])?.pop().unwrap_or_default())
}

/// The objectives of quarter `q` (every quarter's when `None`), each key result with its progress.
pub fn okr_progress(
    ws: &Workspace,
    store: &mut dyn Store,
    q: Option<FiscalQuarter>,
) -> Result<Vec<(Objective, Vec<KeyResultProgress>)>> {
    okr_progress_with(ws, store, q, HashMap::new())
}

/// [`okr_progress`], with the metric values of some quarters already computed.
pub fn okr_progress_with(
    ws: &Workspace,
    store: &mut dyn Store,
    q: Option<FiscalQuarter>,
    known: HashMap<FiscalQuarter, Vec<MetricValue>>,
) -> Result<Vec<(Objective, Vec<KeyResultProgress>)>> {
    let metrics = ws.metrics()?;
    let okrs = ws.okrs(&metrics)?;
    let mut by_quarter = known;
    let mut out = Vec::new();
    for o in okrs.objectives {
        let oq: FiscalQuarter = o.quarter.parse().expect("validated");
        if q.is_some_and(|q| q != oq) {
            continue;
        }
        if !by_quarter.contains_key(&oq) {
            let data = quarter_data(ws, store, &metrics, oq)?;
            let label = oq.to_string();
            by_quarter.insert(oq, metrics.metrics.iter().map(|m| evaluate(m, &label, &data)).collect());
        }
        let values = &by_quarter[&oq];
        let krs = o
            .key_results
            .iter()
            .map(|kr| {
                let v = values.iter().find(|v| v.name == kr.metric).expect("validated");
                progress(kr, v)
            })
            .collect();
        out.push((o, krs));
    }
    Ok(out)
}

/// The quarters before `q` a workback's history covers, oldest first, and their label.
fn history(fiscal: &FiscalCalendar, q: FiscalQuarter, n: u32) -> (NaiveDate, NaiveDate, String) {
    let mut first = q;
    for _ in 0..n.max(1) {
        first = first.previous();
    }
    let last = q.previous();
    (
        fiscal.quarter_start(first),
        fiscal.quarter_end(last),
        if first == last {
            first.to_string()
        } else {
            format!("{first}..{last}")
        },
    )
}

/// Workbacks for every target of quarter `q` in goals.toml.
pub fn workbacks(ws: &Workspace, store: &mut dyn Store, q: FiscalQuarter) -> Result<Vec<Workback>> {
    let goals = ws.goals()?;
    let (from, to, label) = history(&ws.fiscal(), q, goals.history_quarters);
    let mut cell_of: HashMap<String, (String, String)> = HashMap::new();
    store.each_scoring_input(&mut |s| {
        cell_of.insert(
            s.crm_id,
            (s.segment.to_lowercase(), s.geo.unwrap_or_default().to_lowercase()),
        );
    })?;
    let opportunities = store.opportunities()?;
    let in_history = |d: NaiveDate| d >= from && d <= to;
    Ok(goals
        .targets
        .iter()
        .filter(|t| t.quarter.parse::<FiscalQuarter>().ok() == Some(q))
        .map(|t| {
            let cell = (t.segment.to_lowercase(), t.geo.to_lowercase());
            let h = CellHistory {
                opportunities: opportunities
                    .iter()
                    .filter(|o| cell_of.get(&o.crm_id) == Some(&cell))
                    .collect(),
                mqls: None,
                inquiries: None,
            };
            work_back(t, &h, &in_history, &label)
        })
        .collect())
}
