//! Requests made from templates: the submitter details a template requires (typed, so a budget is
//! a number and a launch date is a date), what is still missing, and who may do what. The clock
//! that starts once nothing is missing is in [`crate::sla`].

use crate::labels::Label;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What a person may do in the team's intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Manager,
    Member,
    Requester,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Member => "member",
            Role::Requester => "requester",
            Role::Viewer => "viewer",
        }
    }

    /// On the ABM team (the manager and members): who is assigned requests, plans milestones
    /// and prioritises the board.
    pub fn is_abm_team(self) -> bool {
        matches!(self, Role::Manager | Role::Member)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "manager" => Ok(Role::Manager),
            "member" | "team member" => Ok(Role::Member),
            "requester" => Ok(Role::Requester),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "expected one of manager, member, requester, viewer, found {other:?}"
            )),
        }
    }
}

/// Only the ABM manager and the request's assignee may change a due date; the refusal says who can.
pub fn may_change_due_date(actor: &str, role: Role, assignee: Option<&str>, managers: &[&str]) -> Result<(), String> {
    if role == Role::Manager || assignee == Some(actor) {
        return Ok(());
    }
    let mut who: Vec<String> = managers.iter().map(|m| format!("the manager {m}")).collect();
    match assignee {
        Some(a) => who.push(format!("the assignee {a}")),
        None => who.push("the assignee (none yet)".into()),
    }
    Err(format!(
        "{actor} may not change the due date: only {} may",
        who.join(" and ")
    ))
}

/// The type of a submitter detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "type", content = "choices")]
pub enum FieldKind {
    Text,
    Number,
    Money,
    Date,
    Url,
    Choice(Vec<String>),
}

impl FieldKind {
    /// Check a value and return it in normal form.
    pub fn check(&self, value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.is_empty() {
            return Err("is empty".into());
        }
        match self {
            FieldKind::Text => Ok(v.to_string()),
            FieldKind::Number => v
                .replace(',', "")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|n| n.to_string())
                .ok_or_else(|| format!("expected a number, found {v:?}")),
            FieldKind::Money => crate::account::parse_money_cents(v)
                .ok()
                .flatten()
                .map(|c| format!("{}.{:02}", c / 100, (c % 100).abs()))
                .ok_or_else(|| format!("expected an amount like 12,500.00, found {v:?}")),
            FieldKind::Date => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(|d| d.to_string())
                .map_err(|_| format!("expected a date like 2026-07-02, found {v:?}")),
            FieldKind::Url => {
                if (v.starts_with("https://") || v.starts_with("http://"))
                    && v.len() > 8
                    && !v.contains(char::is_whitespace)
                {
                    Ok(v.to_string())
                } else {
                    Err(format!("expected a link starting with https://, found {v:?}"))
                }
            }
            FieldKind::Choice(choices) => choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(v))
                .cloned()
                .ok_or_else(|| format!("expected one of {}, found {v:?}", choices.join(", "))),
        }
    }
}

/// One submitter detail of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    pub required: bool,
    pub help: String,
}

/// A request template, e.g. `linkedin-campaign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestTemplate {
    pub name: String,
    pub description: String,
    pub fields: Vec<FieldSpec>,
    /// Business days from details-complete to the SLA date (default 5).
    pub turnaround_business_days: u32,
    pub default_labels: Vec<Label>,
    /// The workback template to schedule from, if any.
    pub workback: Option<String>,
}

/// A problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl RequestTemplate {
    /// Check `given` details against the template: every value typed correctly, no unknown
    /// fields. Returns the values in normal form, or every problem.
    pub fn check_fields(&self, given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Vec<FieldError>> {
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, value) in given {
            match self.fields.iter().find(|f| &f.name == name) {
                None => errors.push(FieldError {
                    field: name.clone(),
                    reason: format!(
                        "is not a field of template {} (fields: {})",
                        self.name,
                        self.fields
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
                Some(spec) => match spec.kind.check(value) {
                    Ok(v) => {
                        out.insert(name.clone(), v);
                    }
                    Err(reason) => errors.push(FieldError {
                        field: name.clone(),
                        reason,
                    }),
                },
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Required details not yet provided, in the template's order.
    pub fn missing<'a>(&'a self, given: &BTreeMap<String, String>) -> Vec<&'a str> {
        self.fields
            .iter()
            .filter(|f| f.required && given.get(&f.name).is_none_or(|v| v.trim().is_empty()))
            .map(|f| f.name.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> RequestTemplate {
        let f = |name: &str, kind: FieldKind, required: bool| FieldSpec {
            name: name.into(),
            kind,
            required,
            help: String::new(),
        };
        RequestTemplate {
            name: "linkedin-campaign".into(),
            description: String::new(),
            fields: vec![
                f("budget", FieldKind::Money, true),
                f("duration_weeks", FieldKind::Number, true),
                f(
                    "geo_target",
                    FieldKind::Choice(vec!["AMER".into(), "EMEA".into(), "APAC".into()]),
                    true,
                ),
                f("account_list", FieldKind::Url, true),
                f("launch", FieldKind::Date, false),
            ],
            turnaround_business_days: 5,
            default_labels: vec![],
            workback: None,
        }
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn fields_are_typed_and_normalised() {
        let t = template();
        let ok = t
            .check_fields(&given(&[
                ("budget", "$12,500"),
                ("geo_target", "emea"),
                ("launch", "2026-09-01"),
            ]))
            .unwrap();
        assert_eq!(ok["budget"], "12500.00");
        assert_eq!(ok["geo_target"], "EMEA");
        let errs = t
            .check_fields(&given(&[
                ("budget", "lots"),
                ("launch", "09/01/2026"),
                ("colour", "red"),
            ]))
            .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["budget", "colour", "launch"]);
        assert!(errs[1].reason.contains("is not a field of template linkedin-campaign"));
    }

    #[test]
    fn missing_details_in_template_order() {
        let t = template();
        assert_eq!(
            t.missing(&given(&[("budget", "10"), ("account_list", " ")])),
            vec!["duration_weeks", "geo_target", "account_list"]
        );
        assert!(t
            .missing(&given(&[
                ("budget", "1"),
                ("duration_weeks", "2"),
                ("geo_target", "AMER"),
                ("account_list", "https://x.example/l")
            ]))
            .is_empty());
    }

    #[test]
    fn only_manager_and_assignee_change_due_dates() {
        assert!(may_change_due_date("mmanager", Role::Manager, Some("aabm"), &["mmanager"]).is_ok());
        assert!(may_change_due_date("aabm", Role::Member, Some("aabm"), &["mmanager"]).is_ok());
        let err = may_change_due_date("sales-sam", Role::Requester, Some("aabm"), &["mmanager"]).unwrap_err();
        assert_eq!(
            err,
            "sales-sam may not change the due date: only the manager mmanager and the assignee aabm may"
        );
        assert!(may_change_due_date("bcampaigns", Role::Member, Some("aabm"), &["mmanager"]).is_err());
    }
}
