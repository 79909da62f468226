//! Keeping abm and GitLab in step, three ways: each synced request remembers what GitLab held at
//! the last sync ([`RemoteState`]). A field changed only in abm is pushed; changed only in GitLab
//! is pulled (through the same request rules, as the `gitlab` actor, so the SLA clock and the
//! audit log follow); changed on both sides, abm's value is pushed and the conflict reported.
//! New GitLab issues are imported with their label history. A request never synced before takes
//! GitLab's current state as the base, so the first sync pulls rather than overwrites.
//!
//! Labels that do not exist on the server are refused (GitLab would silently create them); a
//! milestone that does not exist there is skipped with a note. `dry_run` reports and writes nothing.

use crate::gitlab::{Client, Scope};
use crate::http::ConnectError;
use abm_core::intake::{RequestTemplate, Role};
use abm_core::labels::Label;
use abm_core::milestone::MilestoneSeries;
use abm_core::request::{Command, Moment, RemoteState, Request, Rules, TeamMember, TimeStats};
use abm_import::gitlab::{convert_issues, external_id, GitlabContext};
use abm_store::{ImportedRequest, RequestQuery, Store};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Import(#[from] abm_import::ImportError),
    #[error(transparent)]
    Store(#[from] abm_store::StoreError),
}

impl SyncError {
    pub fn is_user_error(&self) -> bool {
        match self {
            SyncError::Connect(c) => c.is_user_error(),
            SyncError::Import(i) => i.is_user_error(),
            SyncError::Store(_) => false,
        }
    }
}

/// What a sync did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    pub dry_run: bool,
    pub issues_seen: u32,
    pub imported: u32,
    pub unchanged: u32,
    /// `#ID: field: from → to`, pulled from GitLab into abm.
    pub pulled: Vec<String>,
    /// `#ID: PUT {...}`, pushed from abm to GitLab.
    pub pushed: Vec<String>,
    /// Changes not made, and why.
    pub refused: Vec<String>,
    pub notes: Vec<String>,
}

/// What the sync needs from the workspace.
pub struct SyncContext<'a> {
    pub import: GitlabContext<'a>,
    pub milestones: &'a MilestoneSeries,
    pub now: Moment,
    pub dry_run: bool,
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// GitLab's side of an issue.
pub fn remote_state(issue: &Value) -> RemoteState {
    let mut labels: Vec<String> = issue
        .get("labels")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|l| l.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    labels.sort();
    RemoteState {
        labels,
        due_date: str_field(issue, "due_date").and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        assignee: issue
            .get("assignees")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(|u| str_field(u, "username"))
            .map(|u| u.to_ascii_lowercase()),
        milestone: issue
            .get("milestone")
            .and_then(|m| str_field(m, "title"))
            .map(str::to_string),
        closed: str_field(issue, "state") == Some("closed"),
    }
}

/// abm's side of a request, in the same terms (the milestone follows the due date).
pub fn local_state(r: &Request, series: &MilestoneSeries) -> RemoteState {
    let mut labels: Vec<String> = r.labels.iter().map(|l| l.as_str().to_string()).collect();
    labels.sort();
    RemoteState {
        labels,
        due_date: r.due_date,
        assignee: r.assignee.clone(),
        milestone: r.due_date.map(|d| series.containing(d).name()),
        closed: r.closed.is_some(),
    }
}

fn gitlab_actor() -> TeamMember {
    TeamMember {
        username: "gitlab".into(),
        name: "GitLab sync".into(),
        role: Role::Manager,
    }
}

fn fallback(name: &str) -> RequestTemplate {
    RequestTemplate {
        name: name.into(),
        description: String::new(),
        fields: Vec::new(),
        turnaround_business_days: 5,
        default_labels: Vec::new(),
        workback: None,
    }
}

/// Servers' lists, fetched once and only when a push needs them.
#[derive(Default)]
struct ServerLists {
    labels: Option<HashSet<String>>,
    milestones: Option<HashMap<String, i64>>,
    members: Option<HashMap<String, i64>>,
}

/// Pull, push and import; see the module comment.
pub fn sync(client: &Client, store: &mut dyn Store, cx: &SyncContext<'_>) -> Result<SyncReport, SyncError> {
    let qualify = matches!(client.scope, Scope::Group(_));
    let mut report = SyncReport {
        dry_run: cx.dry_run,
        ..Default::default()
    };
    let issues = client.issues()?;
    report.issues_seen = issues.len() as u32;
    let mut existing: HashMap<String, Request> = store
        .list_requests(&RequestQuery::default())?
        .into_iter()
        .filter_map(|r| Some((r.external_id.clone()?, r)))
        .collect();
    let team = store.team()?;
    let mut lists = ServerLists::default();
    let mut new_issues = Vec::new();
    for mut issue in issues {
        let (Some(pid), Some(iid)) = (
            issue.get("project_id").and_then(Value::as_i64),
            issue.get("iid").and_then(Value::as_i64),
        ) else {
            report.refused.push(format!(
                "an issue without project_id or iid: {}",
                issue.get("id").unwrap_or(&Value::Null)
            ));
            continue;
        };
        let ext = external_id(Some(pid), iid, qualify);
        let remote = remote_state(&issue);
        match existing.remove(&ext) {
            None => {
                let events = client.label_events(pid, iid)?;
                issue["resource_label_events"] = Value::Array(events);
                new_issues.push((issue, remote));
            }
            Some(r) => sync_one(client, store, cx, &team, &mut lists, r, &issue, remote, &mut report)?,
        }
    }
    if !new_issues.is_empty() {
        let (values, remotes): (Vec<Value>, Vec<RemoteState>) = new_issues.into_iter().unzip();
        let mut imported: Vec<ImportedRequest> = convert_issues(values, "GitLab issues", &cx.import)?;
        for (imp, remote) in imported.iter_mut().zip(remotes) {
            imp.request.remote = Some(remote);
        }
        report.imported = imported.len() as u32;
        if !cx.dry_run {
            store.import_requests(&imported, &mut |_| {})?;
        }
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn sync_one(
    client: &Client,
    store: &mut dyn Store,
    cx: &SyncContext<'_>,
    team: &[TeamMember],
    lists: &mut ServerLists,
    mut r: Request,
    issue: &Value,
    remote: RemoteState,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let pid = issue.get("project_id").and_then(Value::as_i64).unwrap_or_default();
    let iid = issue.get("iid").and_then(Value::as_i64).unwrap_or_default();
    let base = r.remote.clone().unwrap_or_else(|| remote.clone());
    let local = local_state(&r, cx.milestones);
    let tag = format!("#{} (GitLab {iid})", r.id);

    // Pull what only GitLab changed, through the request rules.
    let mut pulls: Vec<Command> = Vec::new();
    let mut pulled_text = Vec::new();
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
    let (b, g, l) = (set(&base.labels), set(&remote.labels), set(&local.labels));
    for added in g.difference(&b).filter(|x| !l.contains(*x)) {
        match Label::parse(added) {
            Ok(label) => {
                pulls.push(Command::AddLabel(label));
                pulled_text.push(format!("label +{added}"));
            }
            Err(e) => report.refused.push(format!("{tag}: label {added:?} from GitLab: {e}")),
        }
    }
    for removed in b.difference(&g).filter(|x| l.contains(*x)) {
        pulls.push(Command::RemoveLabel(removed.clone()));
        pulled_text.push(format!("label -{removed}"));
    }
    if remote.due_date != base.due_date && local.due_date == base.due_date {
        pulls.push(Command::SetDueDate(remote.due_date));
        pulled_text.push(format!("due date → {}", opt(&remote.due_date)));
    }
    if remote.assignee != base.assignee && local.assignee == base.assignee {
        if remote
            .assignee
            .as_ref()
            .is_none_or(|a| team.iter().any(|m| &m.username == a))
        {
            pulls.push(Command::Assign(remote.assignee.clone()));
            pulled_text.push(format!("assignee → {}", opt(&remote.assignee)));
        } else {
            report.notes.push(format!(
                "{tag}: assigned on GitLab to {}, who is not on abm's team; left as is",
                opt(&remote.assignee)
            ));
        }
    }
    if remote.closed != base.closed && local.closed == base.closed {
        pulls.push(if remote.closed { Command::Close } else { Command::Reopen });
        pulled_text.push(if remote.closed { "closed" } else { "reopened" }.to_string());
    }

    // Weight and time tracking are GitLab's: pulled whenever they differ.
    let remote_weight = issue
        .get("weight")
        .and_then(Value::as_i64)
        .filter(|w| (1..=5).contains(w))
        .map(|w| w as u8);
    if remote_weight != r.weight {
        pulls.push(Command::SetWeight(remote_weight));
        pulled_text.push(format!("weight → {}", opt(&remote_weight)));
    }
    let remote_time = issue.get("time_stats").map(|t| TimeStats {
        estimate_seconds: t.get("time_estimate").and_then(Value::as_i64).unwrap_or(0),
        spent_seconds: t.get("total_time_spent").and_then(Value::as_i64).unwrap_or(0),
    });
    let time_changed = remote_time.is_some() && remote_time != r.time_stats;
    if time_changed {
        pulled_text.push("time tracking".into());
    }

    // Push what abm changed.
    let mut body = serde_json::Map::new();
    let add: Vec<&String> = l.difference(&b).filter(|x| !g.contains(*x)).collect();
    let remove: Vec<&String> = b.difference(&l).filter(|x| g.contains(*x)).collect();
    if !add.is_empty() {
        let known = match &lists.labels {
            Some(k) => k,
            None => lists.labels.insert(client.label_names()?),
        };
        let missing: Vec<&&String> = add.iter().filter(|a| !known.contains(a.as_str())).collect();
        if !missing.is_empty() {
            report.refused.push(format!(
                "{tag}: not pushed: label {} does not exist on GitLab (create it there first; GitLab would invent it)",
                missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            ));
            return Ok(());
        }
        body.insert(
            "add_labels".into(),
            json!(add.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")),
        );
    }
    if !remove.is_empty() {
        body.insert(
            "remove_labels".into(),
            json!(remove.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")),
        );
    }
    let conflict = |field: &str, report: &mut SyncReport| {
        report.notes.push(format!(
            "{tag}: {field} changed in abm and in GitLab; abm's value was pushed"
        ))
    };
    if local.due_date != base.due_date && local.due_date != remote.due_date {
        if remote.due_date != base.due_date {
            conflict("due date", report);
        }
        body.insert("due_date".into(), json!(local.due_date.map(|d| d.to_string())));
    }
    if local.assignee != base.assignee && local.assignee != remote.assignee {
        if remote.assignee != base.assignee {
            conflict("assignee", report);
        }
        match &local.assignee {
            None => {
                body.insert("assignee_ids".into(), json!([]));
            }
            Some(a) => {
                let members = match &lists.members {
                    Some(m) => m,
                    None => lists.members.insert(client.member_ids()?),
                };
                match members.get(a) {
                    Some(id) => {
                        body.insert("assignee_ids".into(), json!([id]));
                    }
                    None => {
                        report
                            .refused
                            .push(format!("{tag}: not pushed: {a} is not a member on GitLab"));
                        return Ok(());
                    }
                }
            }
        }
    }
    if local.closed != base.closed && local.closed != remote.closed {
        body.insert(
            "state_event".into(),
            json!(if local.closed { "close" } else { "reopen" }),
        );
    }
    let in_progress = r.status() == Some("wip");
    if in_progress && local.milestone.is_some() && local.milestone != remote.milestone {
        let title = local.milestone.clone().unwrap_or_default();
        let ids = match &lists.milestones {
            Some(m) => m,
            None => lists.milestones.insert(client.milestone_ids()?),
        };
        match ids.get(&title) {
            Some(id) => {
                body.insert("milestone_id".into(), json!(id));
            }
            None => report
                .notes
                .push(format!("{tag}: milestone {title:?} does not exist on GitLab; not set")),
        }
    }

    if pulls.is_empty() && body.is_empty() && !time_changed {
        if r.remote.as_ref() != Some(&remote) {
            if !cx.dry_run {
                r.remote = Some(remote);
                store.update_request(&r, &[])?;
            }
        } else {
            report.unchanged += 1;
        }
        return Ok(());
    }
    if !pulled_text.is_empty() {
        report.pulled.push(format!("{tag}: {}", pulled_text.join("; ")));
    }
    let body = Value::Object(body);
    if body.as_object().is_some_and(|b| !b.is_empty()) {
        report
            .pushed
            .push(format!("{tag}: PUT /projects/{pid}/issues/{iid} {body}"));
    }
    if cx.dry_run {
        return Ok(());
    }
    // Apply the pulls to abm first (nothing leaves abm if the rules refuse them).
    let template = cx
        .import
        .templates
        .iter()
        .find(|t| t.name == r.template)
        .cloned()
        .unwrap_or_else(|| fallback(&r.template));
    let rules = Rules {
        template: &template,
        calendar: cx.import.calendar,
        reblock: cx.import.reblock,
    };
    let actor = gitlab_actor();
    let mut audit = Vec::new();
    for cmd in pulls {
        match r.apply(cmd, &actor, team, cx.now, rules) {
            Ok(entries) => audit.extend(entries.into_iter().map(|mut e| {
                e.note = Some(
                    e.note
                        .map(|n| format!("{n}; pulled from GitLab"))
                        .unwrap_or_else(|| "pulled from GitLab".into()),
                );
                e
            })),
            Err(e) => report
                .refused
                .push(format!("{tag}: a change from GitLab was not applied: {e}")),
        }
    }
    let new_remote = if body.as_object().is_some_and(|b| !b.is_empty()) {
        remote_state(&client.update_issue(pid, iid, &body)?)
    } else {
        remote
    };
    r.remote = Some(new_remote);
    if time_changed {
        r.time_stats = remote_time;
    }
    store.update_request(&r, &audit)?;
    Ok(())
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_else(|| "none".into())
}
