//! Which automations are due: candidates gathered from the stored journeys, scores and intent,
//! narrowed by each automation's population and re-qualification limit against the recorded
//! firings, each with the action it would take. Taking the actions (HTTP) is the caller's.

use crate::{Result, Workspace};
use abm_core::automation::{choose, due, Action, Automation, Candidate, Trigger};
use abm_core::journey::Stages;
use abm_store::Store;
use chrono::NaiveDate;
use std::collections::HashMap;

/// An automation due to act for an account, and how.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Due {
    pub automation: String,
    pub candidate: Candidate,
    pub action: Option<Action>,
    /// The account's name, for messages.
    pub name: String,
}

/// The tier of each account in the latest published focus list.
fn tiers(store: &mut dyn Store) -> Result<HashMap<String, String>> {
    Ok(store
        .list_versions()?
        .into_iter()
        .rev()
        .find(|v| v.published.is_some())
        .map(|v| v.entries.into_iter().map(|e| (e.crm_id, e.tier)).collect())
        .unwrap_or_default())
}

fn candidates(
    a: &Automation,
    stages: &Stages,
    journeys: &[abm_core::journey::Journey],
    surges: &[abm_core::intent::Surge],
    since: NaiveDate,
    today: NaiveDate,
) -> Vec<Candidate> {
    let base = |crm: &str, day: NaiveDate, what: String| Candidate {
        crm_id: crm.to_string(),
        day,
        owner: None,
        tier: None,
        what,
    };
    match &a.trigger {
        Trigger::EnteredStage { stage } => journeys
            .iter()
            .flat_map(|j| j.events.iter())
            .filter(|e| e.to == *stage && e.day >= since && e.day <= today)
            .map(|e| {
                base(
                    &e.crm_id,
                    e.day,
                    format!("entered {:02} {} on {}: {}", e.to, stages.name_of(e.to), e.day, e.cause),
                )
            })
            .collect(),
        Trigger::PointsAbove { points, window_days } => journeys
            .iter()
            .filter_map(|j| {
                let s = j.scores.iter().find(|s| s.window_days == *window_days)?;
                (s.points > *points).then(|| {
                    base(
                        &j.crm_id,
                        j.through,
                        format!("{:.1} points in {window_days} days (above {points})", s.points),
                    )
                })
            })
            .collect(),
        Trigger::Surged => surges
            .iter()
            .map(|s| {
                base(
                    &s.crm_id,
                    today,
                    format!("intent surging on {} ({} this week)", s.keyword_set, s.recent),
                )
            })
            .collect(),
    }
}

/// What every automation would do for triggers from `since` to `today`.
pub fn plan(ws: &Workspace, store: &mut dyn Store, since: NaiveDate, today: NaiveDate) -> Result<Vec<Due>> {
    let automations = ws.automations()?;
    if automations.automations.is_empty() {
        return Ok(vec![]);
    }
    let stages = ws.stages()?;
    let journeys = store.journeys(None)?;
    let surges = if automations.automations.iter().any(|a| a.trigger == Trigger::Surged) {
        let intent = store.activities_of_kind("Intent")?;
        abm_core::intent::surging(&intent, abm_core::journey::end_of(today), 3, 1.5)
    } else {
        vec![]
    };
    let tiers = tiers(store)?;
    let past = store.firings()?;
    let mut out = Vec::new();
    let mut details: HashMap<String, (String, Option<String>)> = HashMap::new();
    for a in &automations.automations {
        let mut found = candidates(a, &stages, &journeys, &surges, since, today);
        for c in &mut found {
            c.tier = tiers.get(&c.crm_id).cloned();
        }
        for mut c in due(a, &found, &past) {
            if !details.contains_key(&c.crm_id) {
                let d = store.get_account(&c.crm_id)?;
                let v = d.map(|d| (d.summary.name, d.owner)).unwrap_or_default();
                details.insert(c.crm_id.clone(), v);
            }
            let (name, owner) = details[&c.crm_id].clone();
            c.owner = owner;
            out.push(Due {
                automation: a.name.clone(),
                action: choose(a, &c).cloned(),
                candidate: c,
                name,
            });
        }
    }
    Ok(out)
}
