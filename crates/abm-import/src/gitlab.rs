//! Requests from a GitLab issues export (`GET /projects/:id/issues` with each issue's
//! `resource_label_events` inlined, as abm's GitLab sync and the demo world write it).
//!
//! The label history is the only reliable record of when a request moved, so the SLA clock is
//! rebuilt from it: details count as complete at submission, or, when the request was blocked
//! before it reached `mktg-status::wip`, when it last came back from blocked; later blocks stop the
//! clock and returns start it again. A request whose details are still missing has no clock.
//! Submitter details come from a `fields` object or, as GitLab issue templates leave them, from
//! `- name: value` lines in the description. Every problem names the file and the JSON path (`[12].labels[1]`); nothing is imported
//! while any remain. Requests are matched on `gitlab:IID`, so re-importing changes nothing.

use crate::errors::{ImportError, JsonError};
use abm_core::intake::RequestTemplate;
use abm_core::labels::{Label, LabelSet};
use abm_core::request::{self as req, AuditEntry, ClockMark, MarkKind, Moment, Request, Rules};
use abm_core::sla::{apply_due_date_rule, ReblockPolicy};
use abm_core::BusinessCalendar;
use abm_store::ImportedRequest;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct Issue {
    iid: Option<i64>,
    project_id: Option<i64>,
    title: Option<String>,
    description: Option<String>,
    template: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, serde_json::Value>,
    state: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
    author: Option<User>,
    #[serde(default)]
    assignees: Vec<User>,
    created_at: Option<String>,
    closed_at: Option<String>,
    updated_at: Option<String>,
    due_date: Option<String>,
    weight: Option<i64>,
    time_stats: Option<RawTimeStats>,
    #[serde(default)]
    resource_label_events: Vec<LabelEvent>,
}

#[derive(Deserialize)]
struct RawTimeStats {
    #[serde(default)]
    time_estimate: i64,
    #[serde(default)]
    total_time_spent: i64,
}

#[derive(Deserialize)]
struct User {
    username: String,
}

#[derive(Deserialize)]
struct LabelEvent {
    action: String,
    label: Option<LabelRef>,
    created_at: String,
    user: Option<User>,
}

#[derive(Deserialize)]
struct LabelRef {
    name: String,
}

/// What the import judges requests by.
pub struct GitlabContext<'a> {
    pub templates: &'a [RequestTemplate],
    pub calendar: &'a BusinessCalendar,
    pub reblock: ReblockPolicy,
    /// The day a timestamp falls on in the team's time zone.
    pub moment: &'a dyn Fn(DateTime<Utc>) -> Moment,
    /// Name requests `gitlab:PROJECT#IID` (issues from a whole group) rather than `gitlab:IID`.
    pub qualify_with_project: bool,
}

/// The external id abm gives a GitLab issue.
pub fn external_id(project_id: Option<i64>, iid: i64, qualify_with_project: bool) -> String {
    match (qualify_with_project, project_id) {
        (true, Some(p)) => format!("gitlab:{p}#{iid}"),
        _ => format!("gitlab:{iid}"),
    }
}

/// Read and check every issue in `path`.
pub fn read_requests(path: &Path, cx: &GitlabContext<'_>) -> Result<Vec<ImportedRequest>, ImportError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let issues: Vec<Issue> = serde_json::from_str(&text).map_err(|e| ImportError::File {
        file: file.clone(),
        line: e.line() as u64,
        reason: format!("not a GitLab issues export (a JSON array of issues): {e}"),
    })?;
    convert_all(issues, &file, cx)
}

/// Check issues fetched from GitLab's API (`source` names them in errors, e.g. the URL).
pub fn convert_issues(
    issues: Vec<serde_json::Value>,
    source: &str,
    cx: &GitlabContext<'_>,
) -> Result<Vec<ImportedRequest>, ImportError> {
    let mut parsed = Vec::with_capacity(issues.len());
    let mut errors = Vec::new();
    for (i, v) in issues.into_iter().enumerate() {
        match serde_json::from_value::<Issue>(v) {
            Ok(issue) => parsed.push(issue),
            Err(e) => errors.push(JsonError {
                file: source.to_string(),
                path: format!("[{i}]"),
                reason: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::BadItems(errors));
    }
    convert_all(parsed, source, cx)
}

fn convert_all(issues: Vec<Issue>, file: &str, cx: &GitlabContext<'_>) -> Result<Vec<ImportedRequest>, ImportError> {
    let mut out = Vec::with_capacity(issues.len());
    let mut errors = Vec::new();
    for (i, issue) in issues.into_iter().enumerate() {
        let mut bad = |path: String, reason: String| {
            errors.push(JsonError {
                file: file.to_string(),
                path: format!("[{i}]{path}"),
                reason,
            })
        };
        if let Some(r) = convert(issue, cx, &mut bad) {
            out.push(r);
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::BadItems(errors));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, r) in out.iter().enumerate() {
        if !seen.insert(r.request.external_id.clone()) {
            return Err(ImportError::BadItems(vec![JsonError {
                file: file.to_string(),
                path: format!("[{i}].iid"),
                reason: format!("{} appears twice", r.request.external_id.as_deref().unwrap_or("")),
            }]));
        }
    }
    Ok(out)
}

fn timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("expected a timestamp like 2026-07-02T14:00:00Z, found {s:?}"))
}

/// One issue as a request with its history; problems go to `bad` (and give None).
fn convert(issue: Issue, cx: &GitlabContext<'_>, bad: &mut dyn FnMut(String, String)) -> Option<ImportedRequest> {
    let errors_before = std::cell::Cell::new(0usize);
    let mut fail = |p: &str, r: String| {
        errors_before.set(errors_before.get() + 1);
        bad(p.to_string(), r)
    };
    let iid = issue.iid.filter(|i| *i > 0);
    if iid.is_none() {
        fail(".iid", "is required (a positive issue number)".into());
    }
    let title = issue.title.clone().unwrap_or_default();
    if title.trim().is_empty() {
        fail(".title", "is required".into());
    }
    let template_name = issue.template.clone().or_else(|| {
        issue
            .description
            .as_deref()?
            .lines()
            .find_map(|l| l.trim().strip_prefix("Template:").map(|t| t.trim().to_string()))
    });
    let template = match &template_name {
        None => {
            fail(
                ".template",
                "is missing (and the description has no \"Template: NAME\" line)".into(),
            );
            None
        }
        Some(n) => {
            let t = cx.templates.iter().find(|t| &t.name == n);
            if t.is_none() {
                fail(
                    ".template",
                    format!(
                        "unknown template {n:?}; templates: {}",
                        cx.templates
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            t
        }
    };
    let author = issue.author.as_ref().map(|a| req::parse_username(&a.username));
    let author = match author {
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            fail(".author.username", e);
            None
        }
        None => {
            fail(".author", "is required".into());
            None
        }
    };
    let assignee = match issue.assignees.first().map(|a| req::parse_username(&a.username)) {
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            fail(".assignees[0].username", e);
            None
        }
        None => None,
    };
    let created = match issue.created_at.as_deref().map(timestamp) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            fail(".created_at", e);
            None
        }
        None => {
            fail(".created_at", "is required".into());
            None
        }
    };
    let due = match issue.due_date.as_deref() {
        None => None,
        Some(s) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                fail(".due_date", format!("expected a date like 2026-07-02, found {s:?}"));
                None
            }
        },
    };
    let weight = match issue.weight {
        None => None,
        Some(w @ 1..=5) => Some(w as u8),
        Some(w) => {
            fail(".weight", format!("expected a weight from 1 to 5, found {w}"));
            None
        }
    };
    let mut labels = LabelSet::new();
    for (j, l) in issue.labels.iter().enumerate() {
        match Label::parse(l) {
            Ok(l) => {
                labels.add(l);
            }
            Err(e) => fail(&format!(".labels[{j}]"), e.to_string()),
        }
    }
    let mut events: Vec<(DateTime<Utc>, bool, Label, String)> = Vec::new();
    for (j, e) in issue.resource_label_events.iter().enumerate() {
        let at = match timestamp(&e.created_at) {
            Ok(t) => t,
            Err(r) => {
                fail(&format!(".resource_label_events[{j}].created_at"), r);
                continue;
            }
        };
        let add = match e.action.as_str() {
            "add" => true,
            "remove" => false,
            other => {
                fail(
                    &format!(".resource_label_events[{j}].action"),
                    format!("expected \"add\" or \"remove\", found {other:?}"),
                );
                continue;
            }
        };
        let Some(name) = e.label.as_ref().map(|l| l.name.as_str()) else {
            // GitLab leaves `label` null when the label was deleted since.
            continue;
        };
        match Label::parse(name) {
            Ok(l) => events.push((
                at,
                add,
                l,
                e.user.as_ref().map(|u| u.username.clone()).unwrap_or_default(),
            )),
            Err(r) => fail(&format!(".resource_label_events[{j}].label.name"), r.to_string()),
        }
    }
    let mut fields = BTreeMap::new();
    for (k, v) in &issue.fields {
        match v {
            serde_json::Value::String(s) => {
                fields.insert(k.clone(), s.clone());
            }
            serde_json::Value::Number(n) => {
                fields.insert(k.clone(), n.to_string());
            }
            serde_json::Value::Null => {}
            _ => fail(&format!(".fields.{k}"), "expected text or a number".into()),
        }
    }
    // Issues made from a template in GitLab carry their details in the description, one
    // `- name: value` line each; an explicit `fields` object wins.
    if issue.fields.is_empty() {
        if let (Some(t), Some(desc)) = (template, issue.description.as_deref()) {
            for line in desc.lines() {
                let Some((k, v)) = line.trim().strip_prefix("- ").and_then(|l| l.split_once(':')) else {
                    continue;
                };
                let k = k.trim();
                if t.fields.iter().any(|f| f.name == k) && !v.trim().is_empty() {
                    fields.insert(k.to_string(), v.trim().to_string());
                }
            }
        }
    }
    let fields = match template.map(|t| t.check_fields(&fields)) {
        Some(Ok(f)) => f,
        Some(Err(es)) => {
            for e in es {
                fail(&format!(".fields.{}", e.field), e.reason);
            }
            BTreeMap::new()
        }
        None => BTreeMap::new(),
    };
    let closed_at = match issue.state.as_deref() {
        Some("closed") => {
            let s = issue.closed_at.as_deref().or(issue.updated_at.as_deref());
            match s.map(timestamp) {
                Some(Ok(t)) => Some(t),
                Some(Err(e)) => {
                    fail(".closed_at", e);
                    None
                }
                None => events.last().map(|e| e.0).or(created),
            }
        }
        Some("opened") | Some("reopened") | None => None,
        Some(other) => {
            fail(".state", format!("expected \"opened\" or \"closed\", found {other:?}"));
            None
        }
    };
    if errors_before.get() > 0 {
        return None;
    }
    let (template, author, created, iid) = (template?, author?, created?, iid?);
    let time_stats = issue.time_stats;
    events.sort_by_key(|e| e.0);
    let rules = Rules {
        template,
        calendar: cx.calendar,
        reblock: cx.reblock,
    };
    let submitted = (cx.moment)(created);
    let mut r = Request {
        id: 0,
        external_id: Some(external_id(issue.project_id, iid, cx.qualify_with_project)),
        template: template.name.clone(),
        title: title.trim().to_string(),
        author: author.clone(),
        assignee,
        labels,
        fields,
        requested_due: due,
        due_date: due,
        weight,
        submitted,
        details_complete: None,
        clock: Vec::new(),
        times_blocked: events
            .iter()
            .filter(|e| e.1 && e.2.as_str() == "mktg-status::blocked")
            .count() as u32,
        closed: closed_at.map(|t| (cx.moment)(t)),
        version: 0,
        remote: None,
        time_stats: time_stats.map(|t| abm_core::request::TimeStats {
            estimate_seconds: t.time_estimate,
            spent_seconds: t.total_time_spent,
        }),
    };
    let entry = |at: DateTime<Utc>,
                 actor: &str,
                 action: &str,
                 before: Option<String>,
                 after: Option<String>,
                 note: Option<String>| AuditEntry {
        request_id: None,
        at,
        actor: actor.to_string(),
        action: action.to_string(),
        field: None,
        before,
        after,
        note,
        refused: false,
    };
    let mut history = vec![entry(
        created,
        &author,
        "submit",
        None,
        Some(r.title.clone()),
        Some(format!("imported from GitLab issue {iid}; template {}", template.name)),
    )];
    for (at, add, label, user) in &events {
        let (b, a) = if *add {
            (None, Some(label.to_string()))
        } else {
            (Some(label.to_string()), None)
        };
        history.push(AuditEntry {
            field: Some(label.scope().unwrap_or(label.as_str()).to_string()),
            ..entry(*at, user, "label", b, a, None)
        });
    }
    r.clock = rebuild_clock(&r, template, created, &events, &cx.moment);
    r.details_complete = r.clock.first().map(|m| Moment { at: m.at, day: m.day });
    for m in &r.clock {
        history.push(entry(
            m.at,
            req::RULES_ACTOR,
            "sla",
            None,
            Some(format!("{:?}", m.event).to_lowercase()),
            Some("rebuilt from the label history".into()),
        ));
    }
    if let Some(clock) = r.sla_clock(rules) {
        if r.due_date.is_none_or(|d| d < clock.sla_date) {
            let (d, reason) = apply_due_date_rule(r.due_date, &clock, template.turnaround_business_days);
            history.push(entry(
                r.details_complete.map(|m| m.at).unwrap_or(created),
                req::RULES_ACTOR,
                "due_date",
                r.due_date.map(|d| d.to_string()),
                Some(d.to_string()),
                reason,
            ));
            r.due_date = Some(d);
        }
    }
    if let Some(c) = r.closed {
        history.push(entry(
            c.at,
            &author,
            "close",
            Some("open".into()),
            Some("closed".into()),
            None,
        ));
    }
    history.sort_by_key(|e| e.at);
    Some(ImportedRequest { request: r, history })
}

/// The clock marks a label history implies (see the module comment).
fn rebuild_clock(
    r: &Request,
    template: &RequestTemplate,
    created: DateTime<Utc>,
    events: &[(DateTime<Utc>, bool, Label, String)],
    moment: &dyn Fn(DateTime<Utc>) -> Moment,
) -> Vec<ClockMark> {
    let complete = template.missing(&r.fields).is_empty();
    if !complete {
        return Vec::new();
    }
    let mark = |event, at| {
        let m = moment(at);
        ClockMark {
            event,
            at: m.at,
            day: m.day,
        }
    };
    let mut marks = Vec::new();
    let mut pending = Some(created);
    let mut status: Option<String> = None;
    for (at, add, label, _) in events {
        if !add || label.scope() != Some(req::STATUS) {
            continue;
        }
        let to = label.value().to_string();
        let was_blocked = status.as_deref() == Some("blocked");
        if marks.is_empty() {
            if to == "blocked" {
                pending = None;
            } else if was_blocked {
                pending = Some(*at);
            }
            if to == "wip" {
                if let Some(p) = pending {
                    marks.push(mark(MarkKind::Complete, p));
                }
            }
        } else if to == "blocked" && !was_blocked {
            marks.push(mark(MarkKind::Blocked, *at));
        } else if to != "blocked" && was_blocked {
            marks.push(mark(MarkKind::Complete, *at));
        }
        status = Some(to);
    }
    if marks.is_empty() && !matches!(status.as_deref(), Some("blocked" | "plan")) {
        if let Some(p) = pending {
            marks.push(mark(MarkKind::Complete, p));
        }
    }
    marks
}
