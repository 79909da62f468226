//! Which automations are due: candidates gathered from the stored journeys, scores and intent,
//! narrowed by each automation's population and re-qualification limit against the recorded
//! firings, each with the action it would take; and taking those actions, each firing recorded
//! so nothing acts twice. Posting to Slack (HTTP) is passed in by the caller.

use crate::{Result, Workspace};
use abm_core::automation::{choose, due, Action, ActionKind, Automation, Candidate, Firing, Trigger};
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

/// Why an action could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Workspace(#[from] crate::WorkspaceError),
    #[error(transparent)]
    Desk(#[from] crate::desk::DeskError),
    #[error(transparent)]
    List(#[from] crate::lists::ListError),
    /// Posting to Slack failed; `user`: the user's to fix (no webhook configured, a refusal).
    #[error("{message}")]
    Post { message: String, user: bool },
}

impl ActionError {
    /// The user's to fix (exit 1), not abm's.
    pub fn is_user_error(&self) -> bool {
        match self {
            ActionError::Workspace(e) => {
                !matches!(e, crate::WorkspaceError::Store(_) | crate::WorkspaceError::Io { .. })
            }
            ActionError::Desk(e) => e.is_user_error(),
            ActionError::List(e) => !matches!(e, crate::lists::ListError::Store(_)),
            ActionError::Post { user, .. } => *user,
        }
    }
}

impl From<abm_store::StoreError> for ActionError {
    fn from(e: abm_store::StoreError) -> Self {
        ActionError::Workspace(e.into())
    }
}

/// What became of one due automation.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// No action's condition held (recorded, so it is not tried again).
    Skipped,
    /// A dry run: the action it would take.
    Would(ActionKind),
    /// Taken and recorded, with what it did.
    Done(ActionKind, String),
}

/// How a due automation is named in messages and posts.
pub fn describe(d: &Due) -> String {
    let c = &d.candidate;
    format!("{}: {} ({}) {}", d.automation, d.name, c.crm_id, c.what)
}

/// Posts `text` through the Slack webhook named by an environment variable (None: the
/// workspace's).
pub type Post<'a> = &'a mut dyn FnMut(Option<&str>, &str) -> std::result::Result<(), ActionError>;

/// Take each due automation's action, in order, recording each firing (also when no action's
/// condition holds) so a later run does not act again; with `dry_run`, only say what would be
/// done. `each` hears of every automation as it is dealt with; the first failure stops the run
/// (what was done before it stays recorded).
#[allow(clippy::too_many_arguments)]
pub fn take(
    ws: &Workspace,
    store: &mut dyn Store,
    as_user: Option<&str>,
    due: &[Due],
    dry_run: bool,
    today: NaiveDate,
    post: Post<'_>,
    each: &mut dyn FnMut(&Due, &Taken),
) -> std::result::Result<(), ActionError> {
    for d in due {
        let c = &d.candidate;
        let what = describe(d);
        let firing = |action: &str, note: &str| Firing {
            automation: d.automation.clone(),
            crm_id: c.crm_id.clone(),
            day: c.day,
            action: action.to_string(),
            note: note.to_string(),
        };
        let Some(action) = &d.action else {
            if !dry_run {
                store.record_firing(&firing("none", "no action's condition held"))?;
            }
            each(d, &Taken::Skipped);
            continue;
        };
        let kind = action.action;
        if dry_run {
            each(d, &Taken::Would(kind));
            continue;
        }
        let note = match kind {
            ActionKind::Slack | ActionKind::NotifyOwner => {
                let text = match (&kind, &c.owner) {
                    (ActionKind::NotifyOwner, Some(owner)) => format!("@{owner} {what}"),
                    _ => what.clone(),
                };
                post(action.webhook_url_env.as_deref(), &text)?;
                format!("posted: {text}")
            }
            ActionKind::CreateRequest => {
                let desk = crate::desk::Desk::from_workspace(ws)?;
                let (me, _) = desk.actor(store, as_user)?;
                let new = abm_core::request::NewRequest {
                    title: format!("{}: {}", d.automation, d.name),
                    fields: Default::default(),
                    due: None,
                    labels: vec![],
                    weight: None,
                };
                let template = action.template.clone().unwrap_or_default();
                let (r, _) = desk.submit(store, &me, &template, new, ws.now())?;
                format!("request {} from {template}", r.id)
            }
            ActionKind::Nominate => {
                let n = crate::lists::nominate(
                    store,
                    &c.crm_id,
                    &format!("automation: {}", d.automation),
                    &c.what,
                    today,
                    &ws.calendar(None)?,
                )?;
                format!("nomination {} for family {}", n.id, n.crm_id)
            }
        };
        store.record_firing(&firing(kind.as_str(), &note))?;
        each(d, &Taken::Done(kind, note));
    }
    Ok(())
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
