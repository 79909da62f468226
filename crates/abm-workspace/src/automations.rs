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

/// Accounts on the previous published list and not on the latest: (account, day the latest was
/// published, why it left).
fn left_list(store: &mut dyn Store) -> Result<Vec<(String, NaiveDate, String)>> {
    let published: Vec<_> = store
        .list_versions()?
        .into_iter()
        .filter(|v| v.published.is_some())
        .collect();
    let [.., before, latest] = published.as_slice() else {
        return Ok(vec![]);
    };
    let now: std::collections::HashSet<&str> = latest.entries.iter().map(|e| e.crm_id.as_str()).collect();
    let day = latest
        .published
        .as_ref()
        .map(|(at, _)| at.date_naive())
        .unwrap_or_default();
    Ok(before
        .entries
        .iter()
        .filter(|e| !now.contains(e.crm_id.as_str()))
        .map(|e| {
            let why = latest.removed.get(&e.crm_id).cloned().unwrap_or_default();
            (e.crm_id.clone(), day, why)
        })
        .collect())
}

fn candidates(
    a: &Automation,
    stages: &Stages,
    journeys: &[abm_core::journey::Journey],
    surges: &[abm_core::intent::Surge],
    left: &[(String, NaiveDate, String)],
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
        Trigger::LeftList => left
            .iter()
            .filter(|(_, day, _)| *day >= since && *day <= today)
            .map(|(crm, day, why)| base(crm, *day, format!("left the focus list on {day}: {why}")))
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
    let left = if automations.automations.iter().any(|a| a.trigger == Trigger::LeftList) {
        left_list(store)?
    } else {
        vec![]
    };
    let past = store.firings()?;
    let mut out = Vec::new();
    let mut details: HashMap<String, (String, Option<String>)> = HashMap::new();
    for a in &automations.automations {
        let mut found = candidates(a, &stages, &journeys, &surges, &left, since, today);
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

/// The weekly owner digest: per owner (or "(no owner)"), each account whose stage changed after
/// `since` and by `today`, as (account name, stage it left, stage it is in), stages named.
pub fn movers_by_owner(
    stages: &Stages,
    store: &mut dyn Store,
    since: NaiveDate,
    today: NaiveDate,
) -> Result<std::collections::BTreeMap<String, Vec<(String, String, String)>>> {
    let mut by_owner: std::collections::BTreeMap<String, Vec<(String, String, String)>> = Default::default();
    for j in store.journeys(None)? {
        let moved: Vec<_> = j.events.iter().filter(|e| e.day > since && e.day <= today).collect();
        let (Some(first), Some(last)) = (moved.first(), moved.last()) else {
            continue;
        };
        let detail = store.get_account(&j.crm_id)?;
        let (name, owner) = detail.map(|d| (d.summary.name, d.owner)).unwrap_or_default();
        by_owner
            .entry(owner.unwrap_or_else(|| "(no owner)".into()))
            .or_default()
            .push((
                name,
                format!("{:02} {}", first.from, stages.name_of(first.from)),
                format!("{:02} {}", last.to, stages.name_of(last.to)),
            ));
    }
    Ok(by_owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use abm_core::lists::{ListEntry, ListVersion};
    use chrono::TimeZone;

    fn list(ids: &[&str]) -> ListVersion {
        ListVersion {
            version: 0,
            created_at: chrono::Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
            created_by: "t".into(),
            published: None,
            icp_version: None,
            entries: ids
                .iter()
                .enumerate()
                .map(|(i, id)| ListEntry {
                    crm_id: id.to_string(),
                    name: id.to_string(),
                    tier: "Tier 1".into(),
                    geo: None,
                    family: id.to_string(),
                    rank: i + 1,
                    first_order: true,
                    reason: String::new(),
                })
                .collect(),
            removed: [("B".to_string(), "became a customer".to_string())].into(),
            note: None,
        }
    }

    #[test]
    fn accounts_that_left_the_published_list_trigger_once() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::init(&dir.path().join("ws")).unwrap();
        std::fs::write(
            ws.dir.join("automations.toml"),
            "[[automations]]\nname = \"Left the list\"\ntrigger = { kind = \"left_list\" }\n[[automations.actions]]\ndo = \"slack\"\n",
        )
        .unwrap();
        let mut store = ws.store().unwrap();
        let at = |d| chrono::Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).unwrap();
        let v1 = store.save_list_version(&list(&["A", "B"])).unwrap();
        store.publish_list(v1, "t", at(2)).unwrap();
        let v2 = store.save_list_version(&list(&["A", "C"])).unwrap();
        store.publish_list(v2, "t", at(20)).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let due = plan(&ws, store.as_mut(), day(15), day(28)).unwrap();
        assert_eq!(due.len(), 1, "{due:?}");
        assert_eq!((due[0].candidate.crm_id.as_str(), due[0].candidate.day), ("B", day(20)));
        assert!(
            due[0].candidate.what.contains("became a customer"),
            "{}",
            due[0].candidate.what
        );
        assert_eq!(
            due[0].action.as_ref().unwrap().action,
            abm_core::automation::ActionKind::Slack
        );
        store
            .record_firing(&abm_core::automation::Firing {
                automation: "Left the list".into(),
                crm_id: "B".into(),
                day: day(20),
                action: "slack".into(),
                note: String::new(),
            })
            .unwrap();
        assert!(
            plan(&ws, store.as_mut(), day(15), day(28)).unwrap().is_empty(),
            "fired once"
        );
    }
}
