//! Automations: when an account in a population meets a trigger (entered a stage, crossed a
//! points threshold, surged), take the first of an ordered list of actions whose condition holds.
//! An account fires an automation at most once per trigger day and, when re-qualification is
//! limited, once in so many days; firings are remembered, so running twice posts once.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automations {
    #[serde(default)]
    pub automations: Vec<Automation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    pub name: String,
    pub trigger: Trigger,
    /// Only accounts in these tiers of the published focus list; empty: every account.
    #[serde(default)]
    pub tiers: Vec<String>,
    /// An account fires again only this many days after its last firing (0: once per trigger day).
    #[serde(default)]
    pub requalify_days: i64,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// The account entered this journey stage.
    EnteredStage { stage: u32 },
    /// The account's points over the window are above this.
    PointsAbove { points: f64, window_days: i64 },
    /// The account's intent surged this week.
    Surged,
    /// The account was on the previous published focus list and is not on the latest.
    LeftList,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// `slack` (post to the channel's webhook), `notify_owner` (post addressed to the owner),
    /// `nominate` (propose the account's family for the focus list, for the team to decide) or
    /// `create_request` (a request to the team from `template`, to triage).
    #[serde(rename = "do")]
    pub action: ActionKind,
    /// Only when the account has an owner.
    #[serde(default)]
    pub if_owner: bool,
    /// Only for accounts in these tiers (empty: any).
    #[serde(default)]
    pub if_tiers: Vec<String>,
    /// The environment variable holding the webhook URL (default: the one `[slack]` names).
    pub webhook_url_env: Option<String>,
    /// For `create_request`: the request template.
    pub template: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Slack,
    NotifyOwner,
    Nominate,
    CreateRequest,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Slack => "slack",
            ActionKind::NotifyOwner => "notify_owner",
            ActionKind::Nominate => "nominate",
            ActionKind::CreateRequest => "create_request",
        }
    }
}

impl Automations {
    /// Names unique and given; every automation has an action; thresholds sensible and windows
    /// among the kept ones (7, 30, 90 days); a request is made from a named template. Errors
    /// name the automation.
    pub fn validate(&self) -> Result<(), String> {
        for (i, a) in self.automations.iter().enumerate() {
            let at = format!("automations[{i}] ({:?})", a.name);
            if a.name.trim().is_empty() {
                return Err(format!("{at}: name is empty"));
            }
            if self.automations[..i].iter().any(|b| b.name == a.name) {
                return Err(format!("{at}: another automation has this name"));
            }
            if a.actions.is_empty() {
                return Err(format!("{at}: needs at least one action"));
            }
            if a.requalify_days < 0 {
                return Err(format!("{at}: requalify_days must be 0 or more"));
            }
            if let Trigger::PointsAbove { points, window_days } = a.trigger {
                if !(points >= 0.0) || !crate::journey::WINDOWS.contains(&window_days) {
                    return Err(format!("{at}: points must be 0 or more and window_days 7, 30 or 90"));
                }
            }
            if a.actions.iter().any(|x| {
                x.action == ActionKind::CreateRequest && x.template.as_deref().is_none_or(|t| t.trim().is_empty())
            }) {
                return Err(format!("{at}: a create_request action needs the template to use"));
            }
        }
        Ok(())
    }
}

/// An account meeting a trigger on a day, with what it is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub crm_id: String,
    pub day: NaiveDate,
    pub owner: Option<String>,
    pub tier: Option<String>,
    /// What happened, for the message (e.g. "entered 06 MQA: 120 points …").
    pub what: String,
}

/// A firing: an automation acted (or, in a dry run, would act) for an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Firing {
    pub automation: String,
    pub crm_id: String,
    pub day: NaiveDate,
    pub action: String,
    pub note: String,
}

/// The action an automation takes for a candidate: the first whose conditions hold.
pub fn choose<'a>(automation: &'a Automation, c: &Candidate) -> Option<&'a Action> {
    automation.actions.iter().find(|a| {
        (!a.if_owner || c.owner.as_deref().is_some_and(|o| !o.trim().is_empty()))
            && (a.if_tiers.is_empty() || c.tier.as_ref().is_some_and(|t| a.if_tiers.contains(t)))
    })
}

/// Which candidates fire, given the firings already recorded: one per account and day, none
/// within `requalify_days` of the account's last firing, none outside the population.
pub fn due(automation: &Automation, candidates: &[Candidate], past: &[Firing]) -> Vec<Candidate> {
    let mut last: std::collections::HashMap<&str, NaiveDate> = Default::default();
    for f in past.iter().filter(|f| f.automation == automation.name) {
        let e = last.entry(f.crm_id.as_str()).or_insert(f.day);
        *e = (*e).max(f.day);
    }
    let mut sorted: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| automation.tiers.is_empty() || c.tier.as_ref().is_some_and(|t| automation.tiers.contains(t)))
        .collect();
    sorted.sort_by(|a, b| (a.day, &a.crm_id).cmp(&(b.day, &b.crm_id)));
    let mut out = Vec::new();
    for c in sorted {
        let fired = past
            .iter()
            .any(|f| f.automation == automation.name && f.crm_id == c.crm_id && f.day == c.day);
        let too_soon = last
            .get(c.crm_id.as_str())
            .is_some_and(|d| c.day < *d + Duration::days(automation.requalify_days.max(0)) || c.day == *d);
        if fired || too_soon {
            continue;
        }
        last.insert(c.crm_id.as_str(), c.day);
        out.push(c.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn mqa() -> Automation {
        toml::from_str::<Automations>(
            r#"
            [[automations]]
            name = "MQA alert"
            trigger = { kind = "entered_stage", stage = 6 }
            requalify_days = 30
            [[automations.actions]]
            do = "notify_owner"
            if_owner = true
            [[automations.actions]]
            do = "slack"
            "#,
        )
        .unwrap()
        .automations
        .remove(0)
    }

    fn cand(crm: &str, day: NaiveDate, owner: Option<&str>) -> Candidate {
        Candidate {
            crm_id: crm.into(),
            day,
            owner: owner.map(String::from),
            tier: None,
            what: "entered MQA".into(),
        }
    }

    #[test]
    fn first_matching_action_wins() {
        let a = mqa();
        assert_eq!(
            choose(&a, &cand("A", d(3, 1), Some("sam"))).unwrap().action,
            ActionKind::NotifyOwner
        );
        assert_eq!(choose(&a, &cand("A", d(3, 1), None)).unwrap().action, ActionKind::Slack);
    }

    #[test]
    fn fires_once_and_requalifies_after_the_limit() {
        let a = mqa();
        let cands = vec![
            cand("A", d(3, 1), None),
            cand("A", d(3, 10), None),
            cand("A", d(4, 5), None),
            cand("B", d(3, 1), None),
        ];
        let first = due(&a, &cands, &[]);
        let days: Vec<(&str, NaiveDate)> = first.iter().map(|c| (c.crm_id.as_str(), c.day)).collect();
        assert_eq!(days, vec![("A", d(3, 1)), ("B", d(3, 1)), ("A", d(4, 5))]);
        let past: Vec<Firing> = first
            .iter()
            .map(|c| Firing {
                automation: a.name.clone(),
                crm_id: c.crm_id.clone(),
                day: c.day,
                action: "slack".into(),
                note: String::new(),
            })
            .collect();
        assert!(due(&a, &cands, &past).is_empty(), "running again fires nothing");
    }

    #[test]
    fn validation_names_the_automation() {
        let mut all = Automations {
            automations: vec![mqa(), mqa()],
        };
        assert!(all.validate().unwrap_err().contains("automations[1] (\"MQA alert\")"));
        all.automations.pop();
        all.automations[0].trigger = Trigger::PointsAbove {
            points: 50.0,
            window_days: 14,
        };
        assert!(all.validate().unwrap_err().contains("7, 30 or 90"));
        all.automations[0].trigger = Trigger::LeftList;
        all.automations[0].actions[0].action = ActionKind::CreateRequest;
        assert!(all.validate().unwrap_err().contains("needs the template"));
    }
}
