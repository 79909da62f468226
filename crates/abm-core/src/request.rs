//! Requests: the work other teams ask of the ABM team, and the rules that move them along.
//!
//! A [`Request`] holds its template's submitter details, its labels (one value per scope), its
//! assignee and due dates, and the marks of its SLA clock. People change it only through
//! [`Request::apply`], which checks who may do what, applies the handbook's rules (the clock starts
//! when the last required detail arrives; a due date earlier than the SLA date moves to it; a
//! requester completing details sends a blocked request back to triage) and returns the audit
//! entries to keep: who, when, what, before, after, and why. Refused attempts are audited too.
//! Nothing here reads a clock: callers pass the moment as a [`Moment`].

use crate::calendar::BusinessCalendar;
use crate::intake::{may_change_due_date, FieldError, RequestTemplate, Role};
use crate::labels::{Added, Label, LabelSet};
use crate::sla::{apply_due_date_rule, run_clock, standing, ClockEvent, ReblockPolicy, SlaClock, SlaStanding};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The scope of the status labels.
pub const STATUS: &str = "mktg-status";
/// The scope of the priority labels.
pub const PRIORITY: &str = "ABM-Priority";
/// The name audit entries carry for changes abm's rules make on their own.
pub const RULES_ACTOR: &str = "abm";

/// A point in time, with the day it falls on in the team's time zone (business days count days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    pub at: DateTime<Utc>,
    pub day: NaiveDate,
}

/// A person on the team's roster, as they are known to abm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub username: String,
    pub name: String,
    pub role: Role,
}

/// Parse a username: 1 to 64 characters of letters, digits, `.`, `_` and `-`, lower-cased.
pub fn parse_username(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() || t.len() > 64 || !t.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(format!(
            "expected a username of letters, digits, '.', '_' or '-' (at most 64), found {t:?}"
        ));
    }
    Ok(t.to_ascii_lowercase())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarkKind {
    /// Details complete and not blocked: the clock runs from here.
    Complete,
    /// Blocked (or details no longer complete) after the clock started: the clock stops here.
    Blocked,
}

/// One start or stop of a request's SLA clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockMark {
    pub event: MarkKind,
    pub at: DateTime<Utc>,
    pub day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// 0 until the store assigns one.
    pub id: i64,
    /// Where an imported request came from, e.g. `gitlab:42`; re-imports match on it.
    pub external_id: Option<String>,
    pub template: String,
    pub title: String,
    pub author: String,
    pub assignee: Option<String>,
    pub labels: LabelSet,
    pub fields: BTreeMap<String, String>,
    /// The due date the requester asked for.
    pub requested_due: Option<NaiveDate>,
    /// The due date in force.
    pub due_date: Option<NaiveDate>,
    pub weight: Option<u8>,
    pub submitted: Moment,
    /// When the last required detail was first provided (the SLA clock's start).
    pub details_complete: Option<Moment>,
    pub clock: Vec<ClockMark>,
    pub times_blocked: u32,
    pub closed: Option<Moment>,
    /// Bumped by the store on every save; a save against a stale version is refused.
    pub version: i64,
    /// What the issue tracker held at the last sync (None: never synced).
    #[serde(default)]
    pub remote: Option<RemoteState>,
    /// Time tracked in the issue tracker (GitLab's `time_stats`), when synced from one.
    #[serde(default)]
    pub time_stats: Option<TimeStats>,
}

/// Estimated and spent time, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeStats {
    pub estimate_seconds: i64,
    pub spent_seconds: i64,
}

/// The fields abm keeps in step with an issue tracker, as they stood at the last sync. A sync
/// compares abm's side and the tracker's side with this to see who changed what.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteState {
    /// Sorted.
    pub labels: Vec<String>,
    pub due_date: Option<NaiveDate>,
    pub assignee: Option<String>,
    pub milestone: Option<String>,
    pub closed: bool,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub request_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub field: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub note: Option<String>,
    /// The attempt was refused and changed nothing.
    pub refused: bool,
}

/// What a person asks to do to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    SetTitle(String),
    /// Set submitter details (raw text, checked against the template); an empty value clears one.
    SetFields(BTreeMap<String, String>),
    Comment(String),
    Assign(Option<String>),
    AddLabel(Label),
    RemoveLabel(String),
    SetDueDate(Option<NaiveDate>),
    SetWeight(Option<u8>),
    /// The manager's triage decision: details complete → `wip` and assigned; details missing →
    /// `blocked` with a comment naming them; `plan` for ideas.
    Triage {
        assignee: Option<String>,
        plan: bool,
    },
    Close,
    Reopen,
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::SetTitle(_) => "title",
            Command::SetFields(_) => "field",
            Command::Comment(_) => "comment",
            Command::Assign(_) => "assign",
            Command::AddLabel(_) => "label",
            Command::RemoveLabel(_) => "unlabel",
            Command::SetDueDate(_) => "due_date",
            Command::SetWeight(_) => "weight",
            Command::Triage { .. } => "triage",
            Command::Close => "close",
            Command::Reopen => "reopen",
        }
    }
}

/// What a new request is made of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewRequest {
    pub title: String,
    pub fields: BTreeMap<String, String>,
    pub due: Option<NaiveDate>,
    pub labels: Vec<Label>,
    pub weight: Option<u8>,
}

/// The rules a request is judged by: its template, the team's calendar and the re-block setting.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub template: &'a RequestTemplate,
    pub calendar: &'a BusinessCalendar,
    pub reblock: ReblockPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The person may not do this; the attempt is audited (`audit`) and nothing else changes.
    #[error("{message}")]
    Refused { message: String, audit: AuditEntry },
    /// Bad input: nothing is stored.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
}

fn invalid(field: &str, reason: impl Into<String>) -> RequestError {
    RequestError::Invalid(vec![FieldError {
        field: field.into(),
        reason: reason.into(),
    }])
}

/// Weights run 1 to 5.
pub fn parse_weight(s: &str) -> Result<u8, String> {
    match s.trim().parse::<u8>() {
        Ok(w @ 1..=5) => Ok(w),
        _ => Err(format!("expected a weight from 1 to 5, found {:?}", s.trim())),
    }
}

/// An audit entry under construction.
struct Log<'a> {
    request_id: i64,
    now: Moment,
    actor: &'a str,
    entries: Vec<AuditEntry>,
}

impl Log<'_> {
    fn push(
        &mut self,
        action: &str,
        field: Option<&str>,
        before: Option<String>,
        after: Option<String>,
        note: Option<String>,
    ) {
        self.entries.push(AuditEntry {
            request_id: (self.request_id != 0).then_some(self.request_id),
            at: self.now.at,
            actor: self.actor.to_string(),
            action: action.to_string(),
            field: field.map(str::to_string),
            before,
            after,
            note,
            refused: false,
        });
    }

    fn by_rule(
        &mut self,
        action: &str,
        field: Option<&str>,
        before: Option<String>,
        after: Option<String>,
        note: String,
    ) {
        self.push(action, field, before, after, Some(note));
        if let Some(e) = self.entries.last_mut() {
            e.actor = RULES_ACTOR.to_string();
        }
    }
}

impl Request {
    /// Submit a new request from a template. Fields are checked against the template; the
    /// template's default labels are applied, then the given ones (which may replace them).
    pub fn submit(
        new: NewRequest,
        actor: &TeamMember,
        now: Moment,
        rules: Rules<'_>,
    ) -> Result<(Request, Vec<AuditEntry>), RequestError> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(invalid("title", "is required"));
        }
        let fields = rules
            .template
            .check_fields(&new.fields)
            .map_err(RequestError::Invalid)?;
        let mut labels = LabelSet::new();
        for l in rules.template.default_labels.iter().chain(&new.labels) {
            labels.add(l.clone());
        }
        if labels.value_of(STATUS).is_none() {
            labels.add(Label::parse("mktg-status::triage").expect("a valid label"));
        }
        let mut r = Request {
            id: 0,
            external_id: None,
            template: rules.template.name.clone(),
            title: title.to_string(),
            author: actor.username.clone(),
            assignee: None,
            labels,
            fields,
            requested_due: new.due,
            due_date: new.due,
            weight: new.weight,
            submitted: now,
            details_complete: None,
            clock: Vec::new(),
            times_blocked: 0,
            closed: None,
            version: 0,
            remote: None,
            time_stats: None,
        };
        let mut log = Log {
            request_id: 0,
            now,
            actor: &actor.username,
            entries: Vec::new(),
        };
        if actor.role == Role::Viewer {
            return Err(refuse(
                &log,
                "submit",
                format!("{} is a viewer and may not submit requests", actor.username),
            ));
        }
        log.push(
            "submit",
            None,
            None,
            Some(r.title.clone()),
            Some(format!(
                "template {}; labels {}; due {}",
                r.template,
                r.label_list(),
                r.due_date.map(|d| d.to_string()).unwrap_or_else(|| "none".into())
            )),
        );
        for (k, v) in &r.fields {
            log.push("field", Some(k), None, Some(v.clone()), None);
        }
        let missing = rules.template.missing(&r.fields);
        if !missing.is_empty() {
            log.by_rule(
                "details",
                None,
                None,
                None,
                format!(
                    "details missing: {}; the SLA clock starts when they are provided",
                    missing.join(", ")
                ),
            );
        }
        r.settle(false, &mut log, rules);
        Ok((r, log.entries))
    }

    pub fn status(&self) -> Option<&str> {
        self.labels.value_of(STATUS)
    }

    pub fn priority(&self) -> Option<&str> {
        self.labels.value_of(PRIORITY)
    }

    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    pub fn label_list(&self) -> String {
        self.labels.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The required details still missing, in template order.
    pub fn missing<'t>(&self, template: &'t RequestTemplate) -> Vec<&'t str> {
        template.missing(&self.fields)
    }

    /// The SLA clock as its marks give it (None until details are complete).
    pub fn sla_clock(&self, rules: Rules<'_>) -> Option<SlaClock> {
        let events: Vec<ClockEvent> = self
            .clock
            .iter()
            .map(|m| match m.event {
                MarkKind::Complete => ClockEvent::DetailsComplete(m.day),
                MarkKind::Blocked => ClockEvent::Blocked(m.day),
            })
            .collect();
        run_clock(
            &events,
            rules.template.turnaround_business_days,
            rules.reblock,
            rules.calendar,
        )
    }

    fn clock_running(&self) -> bool {
        self.clock.last().is_some_and(|m| m.event == MarkKind::Complete)
    }

    /// Whether the clock should be running now: details complete, open, not blocked, not an idea.
    fn should_run(&self, template: &RequestTemplate) -> bool {
        self.is_open()
            && template.missing(&self.fields).is_empty()
            && !matches!(self.status(), Some("blocked" | "plan"))
    }

    /// Apply the rules after a change: back to triage when a blocked request's details become
    /// complete, start or stop the clock, and move the due date to the SLA date when it is earlier.
    fn settle(&mut self, was_complete: bool, log: &mut Log<'_>, rules: Rules<'_>) {
        let now = log.now;
        let complete = rules.template.missing(&self.fields).is_empty();
        if complete && !was_complete && self.status() == Some("blocked") && self.is_open() {
            let label = Label::parse("mktg-status::triage").expect("a valid label");
            self.labels.add(label);
            log.by_rule(
                "label",
                Some(STATUS),
                Some("mktg-status::blocked".into()),
                Some("mktg-status::triage".into()),
                "details complete: back to triage".into(),
            );
        }
        let before = self.sla_clock(rules).map(|c| c.sla_date);
        let run = self.should_run(rules.template);
        if run != self.clock_running() && (run || !self.clock.is_empty()) {
            let event = if run { MarkKind::Complete } else { MarkKind::Blocked };
            self.clock.push(ClockMark {
                event,
                at: now.at,
                day: now.day,
            });
            let first = self.details_complete.is_none();
            if run && first {
                self.details_complete = Some(now);
            }
            let note = match (event, first) {
                (MarkKind::Complete, true) => format!(
                    "details complete: the SLA clock starts ({} business days)",
                    rules.template.turnaround_business_days
                ),
                (MarkKind::Complete, false) => match rules.reblock {
                    ReblockPolicy::Pause => {
                        "the SLA clock resumes; the SLA date moves by the business days blocked".into()
                    }
                    ReblockPolicy::Restart => "the SLA clock restarts".into(),
                },
                (MarkKind::Blocked, _) => "the SLA clock stops while the request is blocked".into(),
            };
            log.by_rule(
                "sla",
                Some("clock"),
                None,
                Some(format!("{event:?}").to_lowercase()),
                note,
            );
        }
        let Some(clock) = self.sla_clock(rules) else { return };
        if before == Some(clock.sla_date) {
            return;
        }
        if let Some(b) = before {
            log.by_rule(
                "sla",
                Some("sla_date"),
                Some(b.to_string()),
                Some(clock.sla_date.to_string()),
                format!("{} business days blocked so far", clock.paused_business_days),
            );
        }
        if self.is_open() && self.due_date.is_none_or(|d| d < clock.sla_date) {
            let (due, reason) = apply_due_date_rule(self.due_date, &clock, rules.template.turnaround_business_days);
            let old = self.due_date.map(|d| d.to_string());
            self.due_date = Some(due);
            log.by_rule(
                "due_date",
                Some("due_date"),
                old,
                Some(due.to_string()),
                reason.unwrap_or_default(),
            );
        }
    }

    /// Apply one command as `actor`. On success the request has changed and the returned entries
    /// say how; on refusal nothing has changed and the error carries the audit entry to keep.
    pub fn apply(
        &mut self,
        cmd: Command,
        actor: &TeamMember,
        team: &[TeamMember],
        now: Moment,
        rules: Rules<'_>,
    ) -> Result<Vec<AuditEntry>, RequestError> {
        let mut log = Log {
            request_id: self.id,
            now,
            actor: &actor.username,
            entries: Vec::new(),
        };
        if let Some(why) = self.forbidden(&cmd, actor, team) {
            return Err(refuse(&log, cmd.name(), why));
        }
        let was_complete = rules.template.missing(&self.fields).is_empty();
        match cmd {
            Command::SetTitle(t) => {
                let t = t.trim().to_string();
                if t.is_empty() {
                    return Err(invalid("title", "is required"));
                }
                if t != self.title {
                    log.push("title", Some("title"), Some(self.title.clone()), Some(t.clone()), None);
                    self.title = t;
                }
            }
            Command::SetFields(given) => {
                let (set, cleared): (BTreeMap<_, _>, BTreeMap<_, _>) = given
                    .into_iter()
                    .partition(|(_, v): &(String, String)| !v.trim().is_empty());
                let checked = rules.template.check_fields(&set).map_err(RequestError::Invalid)?;
                for name in cleared.keys() {
                    if !rules.template.fields.iter().any(|f| &f.name == name) {
                        return Err(invalid(
                            name,
                            format!("is not a field of template {}", rules.template.name),
                        ));
                    }
                }
                for (k, v) in checked {
                    let old = self.fields.insert(k.clone(), v.clone());
                    if old.as_ref() != Some(&v) {
                        log.push("field", Some(&k), old, Some(v), None);
                    }
                }
                for k in cleared.keys() {
                    if let Some(old) = self.fields.remove(k) {
                        log.push("field", Some(k), Some(old), None, None);
                    }
                }
            }
            Command::Comment(text) => {
                let text = text.trim().to_string();
                if text.is_empty() {
                    return Err(invalid("comment", "is empty"));
                }
                log.push("comment", None, None, Some(text), None);
            }
            Command::Assign(who) => {
                if let Some(w) = &who {
                    check_assignee(w, team)?;
                }
                if who != self.assignee {
                    log.push("assign", Some("assignee"), self.assignee.clone(), who.clone(), None);
                    self.assignee = who;
                }
            }
            Command::AddLabel(label) => {
                let name = label.as_str().to_string();
                match self.labels.add(label) {
                    Added::AlreadyThere => {}
                    Added::New => log.push("label", label_scope(&name), None, Some(name.clone()), None),
                    Added::Replaced(old) => log.push(
                        "label",
                        label_scope(&name),
                        Some(old.as_str().to_string()),
                        Some(name.clone()),
                        Some(format!("one value per scope: {name} replaces {old}")),
                    ),
                }
                if name == "mktg-status::blocked" {
                    self.times_blocked += 1;
                }
            }
            Command::RemoveLabel(name) => {
                if self.labels.remove(&name) {
                    log.push("label", label_scope(&name), Some(name.clone()), None, None);
                }
            }
            Command::SetDueDate(due) => {
                if due != self.due_date {
                    log.push(
                        "due_date",
                        Some("due_date"),
                        self.due_date.map(|d| d.to_string()),
                        due.map(|d| d.to_string()),
                        None,
                    );
                    self.due_date = due;
                }
            }
            Command::SetWeight(w) => {
                if w != self.weight {
                    log.push(
                        "weight",
                        Some("weight"),
                        self.weight.map(|w| w.to_string()),
                        w.map(|w| w.to_string()),
                        None,
                    );
                    self.weight = w;
                }
            }
            Command::Triage { assignee, plan } => self.triage(assignee, plan, team, &mut log, rules)?,
            Command::Close => {
                if self.closed.is_some() {
                    return Err(invalid("state", format!("request {} is already closed", self.id)));
                }
                self.closed = Some(now);
                log.push("close", Some("state"), Some("open".into()), Some("closed".into()), None);
            }
            Command::Reopen => {
                if self.closed.is_none() {
                    return Err(invalid("state", format!("request {} is open", self.id)));
                }
                self.closed = None;
                log.push(
                    "reopen",
                    Some("state"),
                    Some("closed".into()),
                    Some("open".into()),
                    None,
                );
            }
        }
        self.settle(was_complete, &mut log, rules);
        Ok(log.entries)
    }

    fn triage(
        &mut self,
        assignee: Option<String>,
        plan: bool,
        team: &[TeamMember],
        log: &mut Log<'_>,
        rules: Rules<'_>,
    ) -> Result<(), RequestError> {
        if self.status() != Some("triage") {
            return Err(invalid(
                "mktg-status",
                format!(
                    "request {} is in {}, not mktg-status::triage",
                    self.id,
                    self.status()
                        .map(|s| format!("mktg-status::{s}"))
                        .unwrap_or_else(|| "no status".into())
                ),
            ));
        }
        let set_status = |r: &mut Request, log: &mut Log<'_>, to: &str, note: Option<String>| {
            let new = format!("mktg-status::{to}");
            r.labels.add(Label::parse(&new).expect("a valid label"));
            log.push(
                "label",
                Some(STATUS),
                Some("mktg-status::triage".into()),
                Some(new),
                note,
            );
        };
        if plan {
            set_status(self, log, "plan", Some("an idea, not yet a request".into()));
            return Ok(());
        }
        let missing = self.missing(rules.template);
        if !missing.is_empty() {
            set_status(self, log, "blocked", None);
            self.times_blocked += 1;
            log.push(
                "comment",
                None,
                None,
                Some(format!(
                    "@{} details missing: {}. Please add them; the request returns to triage when they are complete, and the SLA clock starts then.",
                    self.author,
                    missing.join(", ")
                )),
                None,
            );
            return Ok(());
        }
        let who = match assignee.or_else(|| self.assignee.clone()) {
            Some(w) => w,
            None => {
                return Err(invalid(
                    "assignee",
                    "details are complete: name who takes it (--assign NAME)",
                ))
            }
        };
        check_assignee(&who, team)?;
        if Some(&who) != self.assignee.as_ref() {
            log.push(
                "assign",
                Some("assignee"),
                self.assignee.clone(),
                Some(who.clone()),
                None,
            );
            self.assignee = Some(who);
        }
        set_status(self, log, "wip", None);
        Ok(())
    }

    /// Why `actor` may not do `cmd`, if they may not.
    fn forbidden(&self, cmd: &Command, actor: &TeamMember, team: &[TeamMember]) -> Option<String> {
        let me = actor.username.as_str();
        let own = self.author == me;
        let team_role = actor.role.is_abm_team();
        match (actor.role, cmd) {
            (Role::Viewer, _) => Some(format!("{me} is a viewer and may not change requests")),
            (_, Command::SetDueDate(_)) => {
                let managers: Vec<&str> = team
                    .iter()
                    .filter(|m| m.role == Role::Manager)
                    .map(|m| m.username.as_str())
                    .collect();
                may_change_due_date(me, actor.role, self.assignee.as_deref(), &managers).err()
            }
            (_, Command::Comment(_)) => None,
            (_, Command::SetTitle(_) | Command::SetFields(_) | Command::Close | Command::Reopen)
                if own || team_role =>
            {
                None
            }
            (Role::Requester, Command::AddLabel(l)) if own && l.as_str() == "mktg-status::triage" => None,
            (
                _,
                Command::Assign(_)
                | Command::AddLabel(_)
                | Command::RemoveLabel(_)
                | Command::SetWeight(_)
                | Command::Triage { .. },
            ) if team_role => None,
            (role, cmd) => Some(format!(
                "{me} ({role}) may not {} request {}: only the ABM team{} may",
                match cmd {
                    Command::SetTitle(_) => "retitle",
                    Command::SetFields(_) => "edit the details of",
                    Command::Assign(_) => "assign",
                    Command::AddLabel(_) | Command::RemoveLabel(_) => "change the labels of",
                    Command::SetWeight(_) => "weigh",
                    Command::Triage { .. } => "triage",
                    Command::Close => "close",
                    Command::Reopen => "reopen",
                    _ => "change",
                },
                self.id,
                if matches!(
                    cmd,
                    Command::SetTitle(_) | Command::SetFields(_) | Command::Close | Command::Reopen
                ) {
                    format!(" and the requester {}", self.author)
                } else {
                    String::new()
                }
            )),
        }
    }

    /// Where the request stands against its SLA on `today` (None until details are complete).
    pub fn sla_view(&self, rules: Rules<'_>, today: NaiveDate) -> SlaView {
        let clock = self.sla_clock(rules);
        SlaView {
            sla_date: clock.as_ref().map(|c| c.sla_date),
            blocked_since: clock.as_ref().and_then(|c| c.blocked_since),
            paused_business_days: clock.as_ref().map(|c| c.paused_business_days).unwrap_or(0),
            standing: clock.as_ref().map(|c| standing(c.sla_date, today, rules.calendar)),
        }
    }
}

/// A request's SLA figures on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SlaView {
    pub sla_date: Option<NaiveDate>,
    pub blocked_since: Option<NaiveDate>,
    pub paused_business_days: i64,
    pub standing: Option<SlaStanding>,
}

fn label_scope(name: &str) -> Option<&str> {
    Some(name.rsplit_once("::").map(|(s, _)| s).unwrap_or(name))
}

fn check_assignee(who: &str, team: &[TeamMember]) -> Result<(), RequestError> {
    match team.iter().find(|m| m.username == who) {
        Some(m) if m.role.is_abm_team() => Ok(()),
        Some(m) => Err(invalid(
            "assignee",
            format!(
                "{who} is a {}; requests are assigned to the ABM team (manager or member)",
                m.role
            ),
        )),
        None => Err(invalid("assignee", format!("{who} is not on the team (abm team list)"))),
    }
}

fn refuse(log: &Log<'_>, action: &str, message: String) -> RequestError {
    RequestError::Refused {
        audit: AuditEntry {
            request_id: (log.request_id != 0).then_some(log.request_id),
            at: log.now.at,
            actor: log.actor.to_string(),
            action: action.to_string(),
            field: None,
            before: None,
            after: None,
            note: Some(message.clone()),
            refused: true,
        },
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holidays::us_federal;
    use crate::intake::{FieldKind, FieldSpec};
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(day: &str) -> Moment {
        let day = d(day);
        Moment {
            at: Utc.from_utc_datetime(&day.and_hms_opt(15, 0, 0).unwrap()),
            day,
        }
    }

    fn member(u: &str, role: Role) -> TeamMember {
        TeamMember {
            username: u.into(),
            name: u.into(),
            role,
        }
    }

    fn team() -> Vec<TeamMember> {
        vec![
            member("mmanager", Role::Manager),
            member("aabm", Role::Member),
            member("sales-sam", Role::Requester),
            member("exec-eve", Role::Viewer),
        ]
    }

    fn template() -> RequestTemplate {
        RequestTemplate {
            name: "direct-mail".into(),
            description: String::new(),
            fields: ["budget", "item"]
                .iter()
                .map(|n| FieldSpec {
                    name: n.to_string(),
                    kind: FieldKind::Text,
                    required: true,
                    help: String::new(),
                })
                .collect(),
            turnaround_business_days: 5,
            default_labels: vec![
                Label::parse("mktg-status::triage").unwrap(),
                Label::parse("ABM-Priority::TBD").unwrap(),
            ],
            workback: None,
        }
    }

    fn cal() -> BusinessCalendar {
        BusinessCalendar::weekdays().with_holidays(us_federal(2020, 2030).into_iter().map(|h| h.date))
    }

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    struct World {
        t: RequestTemplate,
        c: BusinessCalendar,
        team: Vec<TeamMember>,
    }

    impl World {
        fn new() -> Self {
            Self {
                t: template(),
                c: cal(),
                team: team(),
            }
        }
        fn rules(&self) -> Rules<'_> {
            Rules {
                template: &self.t,
                calendar: &self.c,
                reblock: ReblockPolicy::Pause,
            }
        }
        fn who(&self, u: &str) -> &TeamMember {
            self.team.iter().find(|m| m.username == u).unwrap()
        }
        fn apply(&self, r: &mut Request, cmd: Command, u: &str, day: &str) -> Result<Vec<AuditEntry>, RequestError> {
            r.apply(cmd, self.who(u), &self.team, at(day), self.rules())
        }
        fn submit(&self, new: NewRequest, u: &str, day: &str) -> Result<(Request, Vec<AuditEntry>), RequestError> {
            Request::submit(new, self.who(u), at(day), self.rules())
        }
    }

    #[test]
    fn handbook_example_due_date_moves_to_the_sla_date() {
        let w = World::new();
        let (mut r, log) = w
            .submit(
                NewRequest {
                    title: "Mail the top 50".into(),
                    fields: fields(&[("budget", "5000")]),
                    due: Some(d("2021-10-15")),
                    ..Default::default()
                },
                "sales-sam",
                "2021-10-01",
            )
            .unwrap();
        assert!(log
            .iter()
            .any(|e| e.note.as_deref().unwrap_or("").contains("details missing: item")));
        assert!(r.clock.is_empty());
        r.id = 7;
        w.apply(
            &mut r,
            Command::Triage {
                assignee: None,
                plan: false,
            },
            "mmanager",
            "2021-10-04",
        )
        .unwrap();
        assert_eq!(r.status(), Some("blocked"));
        let log = w
            .apply(
                &mut r,
                Command::SetFields(fields(&[("item", "socks")])),
                "sales-sam",
                "2021-10-14",
            )
            .unwrap();
        assert_eq!(r.status(), Some("triage"), "completing details returns it to triage");
        assert_eq!(r.details_complete, Some(at("2021-10-14")));
        assert_eq!(r.due_date, Some(d("2021-10-21")));
        assert_eq!(r.requested_due, Some(d("2021-10-15")));
        let due = log.iter().find(|e| e.action == "due_date").unwrap();
        assert_eq!(due.actor, RULES_ACTOR);
        assert_eq!(due.before.as_deref(), Some("2021-10-15"));
        assert!(due
            .note
            .as_deref()
            .unwrap()
            .contains("earlier than the SLA date 2021-10-21"));
        w.apply(
            &mut r,
            Command::Triage {
                assignee: Some("aabm".into()),
                plan: false,
            },
            "mmanager",
            "2021-10-15",
        )
        .unwrap();
        assert_eq!(r.status(), Some("wip"));
        assert_eq!(r.assignee.as_deref(), Some("aabm"));
        assert_eq!(r.times_blocked, 1);
    }

    #[test]
    fn only_manager_and_assignee_change_due_dates() {
        let w = World::new();
        let (mut r, _) = w
            .submit(
                NewRequest {
                    title: "x".into(),
                    fields: fields(&[("budget", "1"), ("item", "mug")]),
                    ..Default::default()
                },
                "sales-sam",
                "2026-07-02",
            )
            .unwrap();
        r.id = 3;
        assert_eq!(r.due_date, Some(d("2026-07-10")), "no due date asked: the SLA date");
        let before = r.clone();
        let err = w
            .apply(
                &mut r,
                Command::SetDueDate(Some(d("2026-07-08"))),
                "sales-sam",
                "2026-07-03",
            )
            .unwrap_err();
        let RequestError::Refused { message, audit } = err else {
            panic!()
        };
        assert!(
            message.contains("only the manager mmanager and the assignee (none yet) may"),
            "{message}"
        );
        assert!(audit.refused && audit.request_id == Some(3) && audit.actor == "sales-sam");
        assert_eq!(r, before, "a refusal changes nothing");
        w.apply(
            &mut r,
            Command::SetDueDate(Some(d("2026-07-08"))),
            "mmanager",
            "2026-07-03",
        )
        .unwrap();
        assert_eq!(r.due_date, Some(d("2026-07-08")));
        assert!(w
            .apply(&mut r, Command::Comment("hi".into()), "exec-eve", "2026-07-03")
            .is_err());
        assert!(w
            .apply(
                &mut r,
                Command::AddLabel(Label::parse("ABM-Priority::High").unwrap()),
                "sales-sam",
                "2026-07-03"
            )
            .is_err());
    }

    #[test]
    fn scoped_labels_replace_and_are_logged() {
        let w = World::new();
        let (mut r, _) = w
            .submit(
                NewRequest {
                    title: "x".into(),
                    labels: vec![Label::parse("ABM-Priority::Low").unwrap()],
                    ..Default::default()
                },
                "aabm",
                "2026-07-02",
            )
            .unwrap();
        assert_eq!(r.priority(), Some("Low"));
        let log = w
            .apply(
                &mut r,
                Command::AddLabel(Label::parse("ABM-Priority::High").unwrap()),
                "aabm",
                "2026-07-02",
            )
            .unwrap();
        assert_eq!(
            r.labels
                .iter()
                .filter(|l| l.scope() == Some(PRIORITY))
                .map(|l| l.as_str())
                .collect::<Vec<_>>(),
            vec!["ABM-Priority::High"]
        );
        assert_eq!(log[0].before.as_deref(), Some("ABM-Priority::Low"));
    }

    #[test]
    fn reblocking_pauses_the_clock() {
        let w = World::new();
        let (mut r, _) = w
            .submit(
                NewRequest {
                    title: "x".into(),
                    fields: fields(&[("budget", "1"), ("item", "mug")]),
                    due: Some(d("2026-12-01")),
                    ..Default::default()
                },
                "sales-sam",
                "2026-08-03",
            )
            .unwrap();
        r.id = 1;
        w.apply(
            &mut r,
            Command::Triage {
                assignee: Some("aabm".into()),
                plan: false,
            },
            "mmanager",
            "2026-08-03",
        )
        .unwrap();
        assert_eq!(r.sla_view(w.rules(), d("2026-08-03")).sla_date, Some(d("2026-08-10")));
        w.apply(
            &mut r,
            Command::AddLabel(Label::parse("mktg-status::blocked").unwrap()),
            "mmanager",
            "2026-08-05",
        )
        .unwrap();
        let v = r.sla_view(w.rules(), d("2026-08-06"));
        assert_eq!(v.blocked_since, Some(d("2026-08-05")));
        w.apply(
            &mut r,
            Command::AddLabel(Label::parse("mktg-status::wip").unwrap()),
            "mmanager",
            "2026-08-10",
        )
        .unwrap();
        let v = r.sla_view(w.rules(), d("2026-08-10"));
        assert_eq!(v.sla_date, Some(d("2026-08-13")));
        assert_eq!(v.paused_business_days, 3);
        assert_eq!(r.due_date, Some(d("2026-12-01")), "a later requested date stands");
        assert_eq!(r.times_blocked, 1);
    }

    #[test]
    fn bad_input_names_the_field() {
        let w = World::new();
        let err = w
            .submit(
                NewRequest {
                    title: "x".into(),
                    fields: fields(&[("colour", "red")]),
                    ..Default::default()
                },
                "sales-sam",
                "2026-07-02",
            )
            .unwrap_err();
        assert!(err.to_string().starts_with("field colour: is not a field"), "{err}");
        let (mut r, _) = w
            .submit(
                NewRequest {
                    title: "x".into(),
                    fields: fields(&[("budget", "1"), ("item", "mug")]),
                    ..Default::default()
                },
                "sales-sam",
                "2026-07-02",
            )
            .unwrap();
        let before = r.clone();
        let err = w
            .apply(
                &mut r,
                Command::Triage {
                    assignee: Some("exec-eve".into()),
                    plan: false,
                },
                "mmanager",
                "2026-07-02",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "field assignee: exec-eve is a viewer; requests are assigned to the ABM team (manager or member)"
        );
        assert_eq!(r, before);
        assert!(parse_username("Bad Name").is_err());
        assert_eq!(parse_username(" Sales-Sam ").unwrap(), "sales-sam");
        assert!(parse_weight("6").is_err());
    }
}
