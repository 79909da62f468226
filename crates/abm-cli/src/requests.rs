//! `abm team`, `abm requests`, `abm triage`, `abm sla` and `abm workback`: the team's intake from
//! the command line. Every change is made as a person (`--as NAME` or `ABM_USER`) and lands in the
//! audit log with what it changed and why; refusals are logged too and exit with status 1.

use crate::calendar::parse_date;
use crate::output::{print_rows, Format};
use crate::progress::Bar;
use crate::user_error;
use abm_core::intake::Role;
use abm_core::labels::Label;
use abm_core::request::{parse_username, parse_weight, AuditEntry, Command, NewRequest, Request, TeamMember};
use abm_core::workback;
use abm_import::accounts::ImportProgress;
use abm_store::{RequestQuery, Store};
use abm_workspace::desk::{describe_member, Desk, SlaRow};
use abm_workspace::Workspace;
use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum TeamCmd {
    /// Add a person to the team (or change their name or role). Only a manager may, once the
    /// team has one.
    Add {
        username: String,
        /// manager, member, requester or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Their full name (default: the username).
        #[arg(long)]
        name: Option<String>,
    },
    /// Everyone on the team with their role.
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Add or update people from a CSV with Username, Name and Role columns.
    Import { file: PathBuf },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, found {s:?}"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("expected NAME=VALUE, found {s:?}"));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

fn parse_label(s: &str) -> Result<Label, String> {
    Label::parse(s).map_err(|e| e.to_string())
}

/// A date, or `none` to clear it.
#[derive(Debug, Clone, Copy)]
pub struct DateOrNone(Option<NaiveDate>);

fn parse_optional_date(s: &str) -> Result<DateOrNone, String> {
    if s.trim().eq_ignore_ascii_case("none") {
        Ok(DateOrNone(None))
    } else {
        parse_date(s).map(|d| DateOrNone(Some(d)))
    }
}

#[derive(Subcommand)]
pub enum RequestsCmd {
    /// Submit a request from a template.
    New {
        /// The template (a file in templates/).
        #[arg(long)]
        template: String,
        #[arg(long)]
        title: String,
        /// A submitter detail, NAME=VALUE (repeatable).
        #[arg(long = "field", value_parser = parse_field)]
        fields: Vec<(String, String)>,
        /// The due date you are asking for (it moves to the SLA date if that is later).
        #[arg(long, value_parser = parse_date)]
        due: Option<NaiveDate>,
        /// An extra label (repeatable); a scoped label replaces the template's value for its scope.
        #[arg(long = "label", value_parser = parse_label)]
        labels: Vec<Label>,
        /// Effort, 1 (a few hours) to 5 (a full week).
        #[arg(long, value_parser = parse_weight)]
        weight: Option<u8>,
    },
    /// Change a request: details, title, due date, weight, labels, assignee.
    Edit(EditArgs),
    /// Comment on a request.
    Comment { id: i64, text: String },
    /// Assign a request to a team member (`none` to unassign).
    Assign { id: i64, username: String },
    /// Close a request.
    Close { id: i64 },
    /// Reopen a closed request.
    Reopen { id: i64 },
    /// One request: details, labels, dates and what is missing.
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Requests, open ones by default.
    List {
        /// Only this mktg-status (triage, blocked, wip, plan).
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        author: Option<String>,
        #[arg(long)]
        assignee: Option<String>,
        /// Include closed requests.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// A request's audit log: who changed what, when, from what to what, and why.
    Log {
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Import requests from a GitLab issues export (JSON with resource_label_events).
    Import { file: PathBuf },
}

#[derive(Args)]
pub struct EditArgs {
    id: i64,
    #[arg(long)]
    title: Option<String>,
    /// Set a submitter detail, NAME=VALUE (repeatable); NAME= clears it.
    #[arg(long = "field", value_parser = parse_field)]
    fields: Vec<(String, String)>,
    /// New due date (`none` to clear). Only the manager and the assignee may.
    #[arg(long, value_parser = parse_optional_date)]
    due: Option<DateOrNone>,
    #[arg(long, value_parser = parse_weight)]
    weight: Option<u8>,
    /// Add a label (repeatable); a scoped label replaces the old value of its scope.
    #[arg(long = "label", value_parser = parse_label)]
    labels: Vec<Label>,
    /// Remove a label (repeatable).
    #[arg(long = "unlabel")]
    unlabels: Vec<String>,
    /// Assign to a team member (`none` to unassign).
    #[arg(long)]
    assign: Option<String>,
}

#[derive(Args)]
pub struct TriageArgs {
    /// Decide on this request; without it, list the requests waiting in triage.
    id: Option<i64>,
    /// Who takes it when its details are complete.
    #[arg(long)]
    assign: Option<String>,
    /// An idea rather than a request: move it to mktg-status::plan.
    #[arg(long)]
    plan: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Subcommand)]
pub enum SlaCmd {
    /// Each open request against its SLA: details-complete time, SLA date, business days remaining
    /// (negative when breached), at risk (1 day or less), breached.
    Status {
        /// Only requests whose clock has started.
        #[arg(long)]
        started: bool,
        /// Closed requests too (how they stood against their SLA today).
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// On-time rate, median submission → details-complete, and how often each requester was
    /// blocked, for requests submitted between --from and --to.
    Report {
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        #[arg(long, value_parser = parse_date)]
        to: NaiveDate,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Args)]
pub struct WorkbackArgs {
    /// The workback template (a file in workbacks/).
    #[arg(long)]
    template: String,
    /// The launch date; a non-business day rolls back to the business day before.
    #[arg(long, value_parser = parse_date)]
    launch: NaiveDate,
    /// When the request's details were complete (tasks starting earlier are flagged).
    #[arg(long, value_parser = parse_date)]
    details_complete: Option<NaiveDate>,
    /// Create one request per task (template workback-task), due on the task's due date.
    #[arg(long)]
    create_requests: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

fn desk(ws: &Workspace) -> Result<Desk> {
    Ok(Desk::from_workspace(ws)?)
}

pub fn print_changes(id: i64, log: &[AuditEntry]) {
    if log.is_empty() {
        println!("request {id}: nothing to change");
        return;
    }
    println!("request {id}:");
    for e in log {
        println!("  {}", describe(e));
    }
}

/// One audit entry as a sentence-ish line.
fn describe(e: &AuditEntry) -> String {
    let what = match (&e.before, &e.after) {
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (None, Some(a)) => a.clone(),
        (Some(b), None) => format!("removed {b}"),
        (None, None) => String::new(),
    };
    let mut s = format!(
        "{}{}{}",
        e.action,
        e.field.as_deref().map(|f| format!(" {f}")).unwrap_or_default(),
        if what.is_empty() {
            String::new()
        } else {
            format!(": {what}")
        }
    );
    if let Some(n) = &e.note {
        s.push_str(&format!(" ({n})"));
    }
    if e.actor == abm_core::request::RULES_ACTOR {
        s.push_str(" [rule]");
    }
    s
}

pub fn run_team(ws: &Workspace, as_user: Option<&str>, cmd: TeamCmd) -> Result<()> {
    let mut store = ws.store()?;
    match cmd {
        TeamCmd::Add { username, role, name } => {
            let username = parse_username(&username).map_err(|e| user_error(format!("username: {e}")))?;
            let member = TeamMember {
                name: name
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| username.clone()),
                username,
                role,
            };
            put_members(ws, store.as_mut(), as_user, &[member])
        }
        TeamCmd::List { format } => {
            let team = store.team()?;
            let rows: Vec<Vec<String>> = team
                .iter()
                .map(|m| vec![m.username.clone(), m.name.clone(), m.role.to_string()])
                .collect();
            print_rows(format, &["username", "name", "role"], &rows, &team)
        }
        TeamCmd::Import { file } => import_team_file(ws, as_user, &file),
    }
}

/// Add or update everyone in a team CSV.
pub fn import_team_file(ws: &Workspace, as_user: Option<&str>, file: &std::path::Path) -> Result<()> {
    let mut store = ws.store()?;
    let people = abm_import::team::read_team(file)?;
    put_members(ws, store.as_mut(), as_user, &people)?;
    println!("{}: {} people on the team", file.display(), people.len());
    Ok(())
}

/// Add or update members, saying what changed for each.
pub fn put_members(ws: &Workspace, store: &mut dyn Store, as_user: Option<&str>, people: &[TeamMember]) -> Result<()> {
    let before = desk(ws)?.put_team_members(store, as_user, people, ws.now())?;
    for (m, before) in people.iter().zip(before) {
        match before {
            None => println!("added {} as {}", m.username, m.role),
            Some(b) if b == *m => println!("{} is already {}", m.username, m.role),
            Some(b) => println!("{}: {} → {}", m.username, describe_member(&b), describe_member(m)),
        }
    }
    Ok(())
}

pub fn run_requests(ws: &Workspace, as_user: Option<&str>, cmd: RequestsCmd) -> Result<()> {
    let mut store = ws.store()?;
    let store = store.as_mut();
    let desk = desk(ws)?;
    let now = ws.now();
    let mut act = |id: i64, commands: Vec<Command>| -> Result<()> {
        let (me, team) = desk.actor(store, as_user)?;
        let (_, log) = desk.act(store, id, &me, &team, commands, now)?;
        print_changes(id, &log);
        Ok(())
    };
    match cmd {
        RequestsCmd::New {
            template,
            title,
            fields,
            due,
            labels,
            weight,
        } => {
            let (me, _) = desk.actor(store, as_user)?;
            let new = NewRequest {
                title,
                fields: fields.into_iter().collect(),
                due,
                labels,
                weight,
            };
            let (r, _) = desk.submit(store, &me, &template, new, now)?;
            let t = desk.template(&r.template)?;
            println!("request {} submitted: {}", r.id, r.title);
            println!("  labels: {}", r.label_list());
            let missing = r.missing(t);
            if missing.is_empty() {
                let sla = r.sla_view(desk.rules(t), now.day).sla_date;
                println!(
                    "  details complete: the SLA clock started; SLA date {} ({} business days), due {}",
                    sla.map(|d| d.to_string()).unwrap_or_default(),
                    t.turnaround_business_days,
                    r.due_date.map(|d| d.to_string()).unwrap_or_default()
                );
            } else {
                println!(
                    "  details missing: {}. The SLA clock starts when they are provided (abm requests edit {} --field NAME=VALUE).",
                    missing.join(", "),
                    r.id
                );
            }
            Ok(())
        }
        RequestsCmd::Edit(a) => {
            let mut cmds = Vec::new();
            if let Some(t) = a.title {
                cmds.push(Command::SetTitle(t));
            }
            if !a.fields.is_empty() {
                cmds.push(Command::SetFields(a.fields.into_iter().collect::<BTreeMap<_, _>>()));
            }
            if let Some(who) = a.assign {
                cmds.push(Command::Assign(optional_user(&who)?));
            }
            if let Some(DateOrNone(d)) = a.due {
                cmds.push(Command::SetDueDate(d));
            }
            if let Some(w) = a.weight {
                cmds.push(Command::SetWeight(Some(w)));
            }
            cmds.extend(a.labels.into_iter().map(Command::AddLabel));
            cmds.extend(a.unlabels.into_iter().map(Command::RemoveLabel));
            if cmds.is_empty() {
                return Err(user_error(
                    "nothing to change: pass --field, --title, --due, --weight, --label, --unlabel or --assign",
                ));
            }
            act(a.id, cmds)
        }
        RequestsCmd::Comment { id, text } => act(id, vec![Command::Comment(text)]),
        RequestsCmd::Assign { id, username } => act(id, vec![Command::Assign(optional_user(&username)?)]),
        RequestsCmd::Close { id } => act(id, vec![Command::Close]),
        RequestsCmd::Reopen { id } => act(id, vec![Command::Reopen]),
        RequestsCmd::Show { id, format } => {
            let r = store
                .get_request(id)?
                .ok_or_else(|| user_error(format!("request {id} does not exist")))?;
            let row = desk.sla_rows(std::slice::from_ref(&r), now.day).remove(0);
            let opt = |d: Option<String>| d.unwrap_or_default();
            let mut rows = vec![
                vec!["id".into(), r.id.to_string()],
                vec!["title".into(), r.title.clone()],
                vec!["template".into(), r.template.clone()],
                vec!["author".into(), r.author.clone()],
                vec!["assignee".into(), opt(r.assignee.clone())],
                vec!["labels".into(), r.label_list()],
                vec!["submitted".into(), r.submitted.at.to_rfc3339()],
                vec![
                    "details complete".into(),
                    opt(r.details_complete.map(|m| m.at.to_rfc3339())),
                ],
                vec!["missing".into(), row.missing.join(", ")],
                vec!["requested due".into(), opt(r.requested_due.map(|d| d.to_string()))],
                vec!["due".into(), opt(r.due_date.map(|d| d.to_string()))],
                vec!["SLA date".into(), opt(row.sla_date.map(|d| d.to_string()))],
                vec![
                    "business days remaining".into(),
                    opt(row.business_days_remaining.map(|d| d.to_string())),
                ],
                vec!["weight".into(), opt(r.weight.map(|w| w.to_string()))],
                vec!["closed".into(), opt(r.closed.map(|m| m.at.to_rfc3339()))],
            ];
            rows.extend(r.fields.iter().map(|(k, v)| vec![format!("field {k}"), v.clone()]));
            print_rows(
                format,
                &["item", "value"],
                &rows,
                &serde_json::json!({"request": r, "sla": row}),
            )
        }
        RequestsCmd::List {
            status,
            author,
            assignee,
            all,
            format,
        } => {
            let q = RequestQuery {
                open_only: !all,
                status: status.map(|s| s.trim_start_matches("mktg-status::").to_string()),
                author,
                assignee,
            };
            let rs = store.list_requests(&q)?;
            let rows: Vec<Vec<String>> = rs.iter().map(request_line).collect();
            print_rows(
                format,
                &[
                    "id", "title", "template", "status", "priority", "author", "assignee", "due",
                ],
                &rows,
                &rs,
            )
        }
        RequestsCmd::Log { id, format } => {
            if store.get_request(id)?.is_none() {
                return Err(user_error(format!("request {id} does not exist")));
            }
            let log = store.audit_log(id)?;
            let rows: Vec<Vec<String>> = log
                .iter()
                .map(|e| {
                    vec![
                        e.at.format("%Y-%m-%d %H:%M").to_string(),
                        e.actor.clone(),
                        if e.refused {
                            format!("{} REFUSED", e.action)
                        } else {
                            e.action.clone()
                        },
                        e.field.clone().unwrap_or_default(),
                        e.before.clone().unwrap_or_default(),
                        e.after.clone().unwrap_or_default(),
                        e.note.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(
                format,
                &["when (UTC)", "who", "action", "field", "before", "after", "note"],
                &rows,
                &log,
            )
        }
        RequestsCmd::Import { file } => import_requests_file(ws, &file),
    }
}

/// Import a GitLab issues export.
pub fn import_requests_file(ws: &Workspace, file: &std::path::Path) -> Result<()> {
    let desk = desk(ws)?;
    let mut store = ws.store()?;
    let tz = ws.config.time_zone;
    let moment = move |at: chrono::DateTime<chrono::Utc>| abm_core::request::Moment {
        at,
        day: at.with_timezone(&tz).date_naive(),
    };
    let cx = abm_import::gitlab::GitlabContext {
        templates: &desk.templates,
        calendar: &desk.calendar,
        reblock: desk.reblock,
        moment: &moment,
        qualify_with_project: false,
    };
    let requests = abm_import::gitlab::read_requests(file, &cx)?;
    let mut bar = Bar::new();
    bar.phase("writing", requests.len() as u64);
    let s = store.import_requests(&requests, &mut |n| bar.advance(n))?;
    drop(bar);
    println!(
        "{}: {} requests; {} added, {} updated, {} unchanged",
        file.display(),
        requests.len(),
        s.inserted,
        s.updated,
        s.unchanged
    );
    Ok(())
}

fn optional_user(s: &str) -> Result<Option<String>> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    parse_username(s)
        .map(Some)
        .map_err(|e| user_error(format!("assignee: {e}")))
}

fn request_line(r: &Request) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.title.clone(),
        r.template.clone(),
        r.status().unwrap_or("").to_string(),
        r.priority().unwrap_or("").to_string(),
        r.author.clone(),
        r.assignee.clone().unwrap_or_default(),
        r.due_date.map(|d| d.to_string()).unwrap_or_default(),
    ]
}

pub fn run_triage(ws: &Workspace, as_user: Option<&str>, a: TriageArgs) -> Result<()> {
    let mut store = ws.store()?;
    let store = store.as_mut();
    let desk = desk(ws)?;
    let now = ws.now();
    match a.id {
        Some(id) => {
            let (me, team) = desk.actor(store, as_user)?;
            let assignee = a.assign.as_deref().map(optional_user).transpose()?.flatten();
            let (r, log) = desk.act(
                store,
                id,
                &me,
                &team,
                vec![Command::Triage { assignee, plan: a.plan }],
                now,
            )?;
            print_changes(id, &log);
            println!("  now: {}", r.label_list());
            Ok(())
        }
        None => {
            let rs = store.list_requests(&RequestQuery {
                open_only: true,
                status: Some("triage".into()),
                ..Default::default()
            })?;
            let rows = desk.sla_rows(&rs, now.day);
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.title.clone(),
                        r.template.clone(),
                        r.author.clone(),
                        r.submitted_at.format("%Y-%m-%d").to_string(),
                        if r.missing.is_empty() {
                            "complete".into()
                        } else {
                            format!("missing: {}", r.missing.join(", "))
                        },
                        r.due_date.map(|d| d.to_string()).unwrap_or_default(),
                        if r.missing.is_empty() {
                            format!("abm triage {} --assign NAME", r.id)
                        } else {
                            format!("abm triage {}  (blocks it)", r.id)
                        },
                    ]
                })
                .collect();
            print_rows(
                a.format,
                &[
                    "id",
                    "title",
                    "template",
                    "requester",
                    "submitted",
                    "details",
                    "due",
                    "next",
                ],
                &table,
                &rows,
            )
        }
    }
}

pub fn run_sla(ws: &Workspace, cmd: SlaCmd) -> Result<()> {
    let mut store = ws.store()?;
    let desk = desk(ws)?;
    let today = ws.today();
    match cmd {
        SlaCmd::Status { started, all, format } => {
            let query = RequestQuery {
                open_only: !all,
                ..Default::default()
            };
            let mut rows = desk.sla_status(store.as_mut(), &query, today)?;
            if started {
                rows.retain(|r| r.sla_date.is_some());
            }
            let table: Vec<Vec<String>> = rows.iter().map(sla_line).collect();
            print_rows(
                format,
                &[
                    "id",
                    "title",
                    "status",
                    "assignee",
                    "details complete",
                    "SLA date",
                    "due",
                    "business days left",
                    "standing",
                ],
                &table,
                &SlaStatus {
                    today,
                    calendar: desk.calendar.name(),
                    requests: &rows,
                },
            )
        }
        SlaCmd::Report { from, to, format } => {
            if to < from {
                return Err(user_error(format!("--to {to} is before --from {from}")));
            }
            let r = desk.sla_report(store.as_mut(), from, to, today)?;
            let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into());
            let mut rows = vec![
                vec!["requests submitted".into(), r.submitted.to_string()],
                vec!["closed (with a due date)".into(), r.closed_with_due_date.to_string()],
                vec!["closed on time".into(), r.closed_on_time.to_string()],
                vec!["on-time rate".into(), pct(r.on_time_rate)],
                vec![
                    "median business days, submission → details complete".into(),
                    r.median_business_days_to_details_complete
                        .map(|m| format!("{m}"))
                        .unwrap_or_else(|| "–".into()),
                ],
                vec!["open and breached".into(), r.open_breached.to_string()],
                vec!["open and at risk".into(), r.open_at_risk.to_string()],
            ];
            for b in &r.blocked_by_requester {
                rows.push(vec![
                    format!("blocked: {}", b.requester),
                    format!(
                        "{} of {} requests, {} times",
                        b.blocked_requests, b.requests, b.times_blocked
                    ),
                ]);
            }
            print_rows(format, &["measure", "value"], &rows, &r)
        }
    }
}

/// What `abm sla status --format json` prints.
#[derive(serde::Serialize)]
struct SlaStatus<'a> {
    today: NaiveDate,
    calendar: &'a str,
    requests: &'a [SlaRow],
}

fn sla_line(r: &SlaRow) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.title.clone(),
        r.status.clone().unwrap_or_default(),
        r.assignee.clone().unwrap_or_default(),
        r.details_complete_day.map(|d| d.to_string()).unwrap_or_default(),
        r.sla_date.map(|d| d.to_string()).unwrap_or_default(),
        r.due_date.map(|d| d.to_string()).unwrap_or_default(),
        r.business_days_remaining.map(|d| d.to_string()).unwrap_or_default(),
        if r.breached {
            "BREACHED".into()
        } else if r.at_risk {
            "at risk".into()
        } else if r.sla_date.is_none() {
            format!("waiting for: {}", r.missing.join(", "))
        } else if r.blocked_since.is_some() {
            "paused (blocked)".into()
        } else {
            "on track".into()
        },
    ]
}

pub fn run_workback(ws: &Workspace, as_user: Option<&str>, a: WorkbackArgs) -> Result<()> {
    let desk = desk(ws)?;
    let t = desk.workback(&a.template)?;
    let now = ws.now();
    let s = workback::schedule(t, a.launch, &desk.calendar, now.day, a.details_complete);
    if a.format == Format::Table {
        println!(
            "{}: launch {}{}",
            t.name,
            s.launch,
            if s.launch != s.requested_launch {
                format!(" (rolled back from {}, not a business day)", s.requested_launch)
            } else {
                String::new()
            }
        );
    }
    let rows: Vec<Vec<String>> = s
        .tasks
        .iter()
        .map(|k| {
            vec![
                k.name.clone(),
                k.start.to_string(),
                k.due.to_string(),
                k.compressed.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print_rows(a.format, &["task", "start", "due", "compressed"], &rows, &s)?;
    if s.compressed && a.format == Format::Table {
        println!("COMPRESSED: at least one task cannot get its full time (see the compressed column)");
    }
    if a.create_requests {
        let mut store = ws.store()?;
        let store = store.as_mut();
        let (me, _) = desk.actor(store, as_user)?;
        let made = desk.create_workback_requests(store, &me, &s, now)?;
        for r in &made {
            eprintln!(
                "request {} created: {} due {}",
                r.id,
                r.title,
                r.due_date.map(|d| d.to_string()).unwrap_or_default()
            );
        }
        eprintln!(
            "{} requests created ({} tasks already had one)",
            made.len(),
            s.tasks.len() - made.len()
        );
    }
    Ok(())
}
