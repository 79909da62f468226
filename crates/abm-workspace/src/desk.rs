//! The request desk: what the CLI and the API share to act on requests. It loads what a rule
//! needs (the template, the team, the calendar, the re-block setting), runs the domain's rule, and
//! saves the request with its audit entries in one write. A refused attempt is audited and
//! reported; bad input stores nothing. It also turns stored requests into SLA rows and reports.

use crate::{Workspace, WorkspaceError};
use abm_core::capacity::{CapacityRules, TimeAway};
use abm_core::intake::{RequestTemplate, Role};
use abm_core::milestone::MilestoneSeries;
use abm_core::request::{AuditEntry, Command, Moment, NewRequest, Request, RequestError, Rules, TeamMember};
use abm_core::sla::ReblockPolicy;
use abm_core::workback::Schedule;
use abm_core::workback::WorkbackTemplate;
use abm_core::BusinessCalendar;
use abm_store::{ImportedRequest, RequestQuery, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("unknown template {name:?}; templates: {known}")]
    UnknownTemplate { name: String, known: String },
    #[error("{0} is not on the team: add them with `abm team add {0} --role ROLE`")]
    UnknownPerson(String),
    #[error("say who you are: pass --as USERNAME (or set ABM_USER)")]
    NoActor,
    #[error("request {0} does not exist")]
    NoSuchRequest(i64),
    /// Not allowed; the attempt is in the audit log.
    #[error("refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Invalid(String),
    /// A workspace file (time away) has problems.
    #[error(transparent)]
    File(#[from] abm_import::ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeskError {
    /// Everything but a database failure is something the user can fix.
    pub fn is_user_error(&self) -> bool {
        match self {
            DeskError::Store(e) => matches!(e, StoreError::Conflict(_)),
            DeskError::File(e) => e.is_user_error(),
            _ => true,
        }
    }
}

pub type Result<T> = std::result::Result<T, DeskError>;

/// Templates, calendar and settings requests are judged by.
#[derive(Debug, Clone)]
pub struct Desk {
    pub templates: Vec<RequestTemplate>,
    pub workbacks: Vec<WorkbackTemplate>,
    pub calendar: BusinessCalendar,
    pub reblock: ReblockPolicy,
    pub time_zone: chrono_tz::Tz,
    pub milestones: MilestoneSeries,
    pub capacity: CapacityRules,
    /// The time-away CSV (PTO and one-off meetings), read afresh whenever capacity is computed.
    pub time_away_file: Option<PathBuf>,
    /// The list rules file, read afresh for each build (None: the shipped rules).
    pub list_rules_file: Option<PathBuf>,
    /// The UTM taxonomy paid-media reports decode campaign names with.
    pub taxonomy: abm_core::taxonomy::Taxonomy,
}

impl Desk {
    pub fn from_workspace(ws: &Workspace) -> std::result::Result<Self, WorkspaceError> {
        Ok(Self {
            templates: ws.request_templates()?,
            workbacks: ws.workback_templates()?,
            calendar: ws.calendar(None)?,
            reblock: ws.config.reblock,
            time_zone: ws.config.time_zone,
            milestones: ws.config.milestones.clone(),
            capacity: ws.config.capacity.clone(),
            time_away_file: Some(ws.dir.join(&ws.config.time_away_file)),
            list_rules_file: Some(ws.dir.join("lists.toml")),
            taxonomy: ws.taxonomy()?,
        })
    }

    /// The templates abm ships, the US calendar, UTC and the default re-block setting: what a
    /// fresh workspace has before anyone edits it.
    pub fn shipped() -> Self {
        let mut templates = Vec::new();
        let mut workbacks = Vec::new();
        for (path, text) in crate::defaults::FILES {
            let p = std::path::Path::new(path);
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            if path.starts_with("templates/") {
                templates.extend(crate::templates::parse_request_template(name, text, p).ok());
            } else if path.starts_with("workbacks/") {
                workbacks.extend(crate::templates::parse_workback(name, text, p).ok());
            }
        }
        Self {
            templates,
            workbacks,
            calendar: crate::builtin_calendar("us").expect("the us calendar is built in"),
            reblock: ReblockPolicy::default(),
            time_zone: chrono_tz::UTC,
            milestones: MilestoneSeries::default(),
            capacity: CapacityRules {
                meetings: abm_core::capacity::handbook_meetings(NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date")),
                ..Default::default()
            },
            time_away_file: None,
            list_rules_file: None,
            taxonomy: abm_core::taxonomy::Taxonomy::presets(),
        }
    }

    /// The focus-list rules: the workspace's lists.toml, or the shipped one.
    pub fn list_rules(&self) -> std::result::Result<abm_core::lists::ListRules, WorkspaceError> {
        match &self.list_rules_file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| WorkspaceError::Io {
                    path: p.clone(),
                    source,
                })?;
                crate::lists::parse_rules(&text, &p.display().to_string())
            }
            None => crate::lists::parse_rules(include_str!("../defaults/lists.toml"), "lists.toml"),
        }
    }

    /// PTO and one-off meetings, from the workspace's time-away file.
    pub fn time_away(&self) -> Result<Vec<TimeAway>> {
        match &self.time_away_file {
            None => Ok(Vec::new()),
            Some(p) => Ok(abm_import::team::read_time_away(p, self.capacity.hours_per_day)?),
        }
    }

    /// Now in the team's time zone (`ABM_NOW` / `ABM_TODAY` pin it).
    pub fn now(&self) -> Moment {
        crate::now_in(self.time_zone)
    }

    pub fn workback(&self, name: &str) -> Result<&WorkbackTemplate> {
        find_named(&self.workbacks, name, |t| &t.name)
    }

    pub fn template(&self, name: &str) -> Result<&RequestTemplate> {
        find_named(&self.templates, name, |t| &t.name)
    }

    pub fn rules<'a>(&'a self, template: &'a RequestTemplate) -> Rules<'a> {
        Rules {
            template,
            calendar: &self.calendar,
            reblock: self.reblock,
        }
    }

    /// The rules for a stored request. A request whose template file was removed keeps working
    /// under an empty template with the default turnaround.
    fn rules_for<'a>(&'a self, r: &Request, fallback: &'a RequestTemplate) -> Rules<'a> {
        self.rules(self.template(&r.template).unwrap_or(fallback))
    }

    pub fn moment(&self, at: DateTime<Utc>) -> Moment {
        Moment {
            at,
            day: at.with_timezone(&self.time_zone).date_naive(),
        }
    }

    /// The acting person and the whole team.
    pub fn actor(&self, store: &mut dyn Store, username: Option<&str>) -> Result<(TeamMember, Vec<TeamMember>)> {
        let name = username.filter(|u| !u.trim().is_empty()).ok_or(DeskError::NoActor)?;
        let name = name.trim().to_ascii_lowercase();
        let team = store.team()?;
        let me = team
            .iter()
            .find(|m| m.username == name)
            .cloned()
            .ok_or(DeskError::UnknownPerson(name))?;
        Ok((me, team))
    }

    /// Add or update team members as `acting`. Once the team has a manager only a manager may
    /// change it (a refusal is audited); before that anyone may, so a new workspace can be set
    /// up (`setup` when nobody says who they are). Who may is decided once for the whole batch,
    /// so a team file that names the first manager imports whole. Returns each member as they
    /// were before.
    pub fn put_team_members(
        &self,
        store: &mut dyn Store,
        acting: Option<&str>,
        members: &[TeamMember],
        now: Moment,
    ) -> Result<Vec<Option<TeamMember>>> {
        let entry = |actor: &str| AuditEntry {
            request_id: None,
            at: now.at,
            actor: actor.to_string(),
            action: "team".into(),
            field: None,
            before: None,
            after: None,
            note: None,
            refused: false,
        };
        let has_manager = store.team()?.iter().any(|m| m.role == Role::Manager);
        let actor = if has_manager {
            let (me, _) = self.actor(store, acting)?;
            if me.role != Role::Manager {
                let msg = format!(
                    "{} ({}) may not change the team: only a manager may",
                    me.username, me.role
                );
                let refusal = AuditEntry {
                    note: Some(msg.clone()),
                    refused: true,
                    ..entry(&me.username)
                };
                store.append_audit(&[refusal])?;
                return Err(DeskError::Refused(msg));
            }
            me.username
        } else {
            acting.unwrap_or("setup").to_string()
        };
        let mut before = Vec::with_capacity(members.len());
        for member in members {
            let change = AuditEntry {
                field: Some(member.username.clone()),
                after: Some(describe_member(member)),
                ..entry(&actor)
            };
            before.push(store.put_team_member(member, &change)?);
        }
        Ok(before)
    }

    /// Submit a new request as `actor`.
    pub fn submit(
        &self,
        store: &mut dyn Store,
        actor: &TeamMember,
        template: &str,
        new: NewRequest,
        now: Moment,
    ) -> Result<(Request, Vec<AuditEntry>)> {
        let t = self.template(template)?;
        match Request::submit(new, actor, now, self.rules(t)) {
            Ok((mut r, log)) => {
                r.id = store.insert_request(&r, &log)?;
                r.version = 1;
                Ok((r, log))
            }
            Err(e) => Err(self.failed(store, e)?),
        }
    }

    /// One request per task of a workback schedule (template `workback-task`), due on the task's
    /// due date, written in one transaction. Tasks already created for the same template and
    /// launch are left alone, so running it twice creates nothing new. Returns the requests made.
    pub fn create_workback_requests(
        &self,
        store: &mut dyn Store,
        actor: &TeamMember,
        schedule: &Schedule,
        now: Moment,
    ) -> Result<Vec<Request>> {
        let t = self.template(WORKBACK_TASK)?;
        let existing: std::collections::HashSet<String> = store
            .list_requests(&RequestQuery::default())?
            .into_iter()
            .filter(|r| r.template == WORKBACK_TASK)
            .filter_map(|r| r.external_id)
            .collect();
        let mut items = Vec::new();
        for (i, k) in schedule.tasks.iter().enumerate() {
            let key = format!("workback:{}:{}:{}", schedule.template, schedule.launch, i + 1);
            if existing.contains(&key) {
                continue;
            }
            let new = NewRequest {
                title: format!("{}: {} (launch {})", schedule.template, k.name, schedule.launch),
                due: Some(k.due),
                ..Default::default()
            };
            match Request::submit(new, actor, now, self.rules(t)) {
                Ok((mut r, history)) => {
                    r.external_id = Some(key);
                    items.push(ImportedRequest { request: r, history });
                }
                Err(e) => return Err(self.failed(store, e)?),
            }
        }
        store.import_requests(&items, &mut |_| {})?;
        let made: std::collections::HashSet<Option<String>> =
            items.iter().map(|i| i.request.external_id.clone()).collect();
        Ok(store
            .list_requests(&RequestQuery::default())?
            .into_iter()
            .filter(|r| made.contains(&r.external_id))
            .collect())
    }

    /// Apply commands to request `id` as `actor`: all of them or none. The first refusal is
    /// audited and returned.
    pub fn act(
        &self,
        store: &mut dyn Store,
        id: i64,
        actor: &TeamMember,
        team: &[TeamMember],
        commands: Vec<Command>,
        now: Moment,
    ) -> Result<(Request, Vec<AuditEntry>)> {
        let mut r = store.get_request(id)?.ok_or(DeskError::NoSuchRequest(id))?;
        let fallback = fallback_template(&r.template);
        let rules = self.rules_for(&r, &fallback);
        let mut log = Vec::new();
        for cmd in commands {
            match r.apply(cmd, actor, team, now, rules) {
                Ok(entries) => log.extend(entries),
                Err(e) => return Err(self.failed(store, e)?),
            }
        }
        if !log.is_empty() {
            store.update_request(&r, &log)?;
            r.version += 1;
        }
        Ok((r, log))
    }

    /// Audit a refusal; turn a domain error into the desk's.
    fn failed(&self, store: &mut dyn Store, e: RequestError) -> Result<DeskError> {
        Ok(match e {
            RequestError::Refused { message, audit } => {
                store.append_audit(&[audit])?;
                DeskError::Refused(message)
            }
            RequestError::Invalid(errors) => {
                DeskError::Invalid(errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))
            }
        })
    }

    /// One SLA row per request.
    pub fn sla_rows(&self, requests: &[Request], today: NaiveDate) -> Vec<SlaRow> {
        requests.iter().map(|r| self.sla_row(r, today)).collect()
    }

    /// Where one request stands against its SLA on `today`.
    pub fn sla_row(&self, r: &Request, today: NaiveDate) -> SlaRow {
        let fallback;
        let t = match self.template(&r.template) {
            Ok(t) => t,
            Err(_) => {
                fallback = fallback_template(&r.template);
                &fallback
            }
        };
        let v = r.sla_view(self.rules(t), today);
        let s = v.standing;
        SlaRow {
            id: r.id,
            title: r.title.clone(),
            template: r.template.clone(),
            status: r.status().map(str::to_string),
            priority: r.priority().map(str::to_string),
            author: r.author.clone(),
            assignee: r.assignee.clone(),
            submitted_at: r.submitted.at,
            details_complete_at: r.details_complete.map(|m| m.at),
            details_complete_day: r.details_complete.map(|m| m.day),
            turnaround_business_days: t.turnaround_business_days,
            sla_date: v.sla_date,
            due_date: r.due_date,
            milestone: r.due_date.map(|d| self.milestones.containing(d).name()),
            business_days_remaining: s.map(|s| s.business_days_remaining),
            at_risk: s.is_some_and(|s| s.at_risk),
            breached: s.is_some_and(|s| s.breached),
            paused_business_days: v.paused_business_days,
            blocked_since: v.blocked_since,
            missing: r.missing(t).into_iter().map(str::to_string).collect(),
            closed: r.closed.is_some(),
        }
    }

    /// SLA rows for every request matching `query`, computed as they are read.
    pub fn sla_status(&self, store: &mut dyn Store, query: &RequestQuery, today: NaiveDate) -> Result<Vec<SlaRow>> {
        let mut rows = Vec::new();
        store.each_request(query, &mut |r| rows.push(self.sla_row(&r, today)))?;
        Ok(rows)
    }

    /// `abm sla report`: requests submitted in [from, to].
    pub fn sla_report(
        &self,
        store: &mut dyn Store,
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
    ) -> Result<SlaReport> {
        let all = store.list_requests(&RequestQuery::default())?;
        let in_window: Vec<&Request> = all.iter().filter(|r| (from..=to).contains(&r.submitted.day)).collect();
        let mut closed = 0u64;
        let mut on_time = 0u64;
        let mut to_details: Vec<i64> = Vec::new();
        let mut per: BTreeMap<&str, RequesterBlocks> = BTreeMap::new();
        for r in &in_window {
            if let (Some(c), Some(due)) = (r.closed, r.due_date) {
                closed += 1;
                if c.day <= due {
                    on_time += 1;
                }
            }
            if let Some(d) = r.details_complete {
                to_details.push(self.calendar.count(r.submitted.day, d.day));
            }
            let e = per.entry(r.author.as_str()).or_insert_with(|| RequesterBlocks {
                requester: r.author.clone(),
                ..Default::default()
            });
            e.requests += 1;
            if r.times_blocked > 0 {
                e.blocked_requests += 1;
            }
            e.times_blocked += r.times_blocked as u64;
        }
        to_details.sort_unstable();
        let median = match to_details.len() {
            0 => None,
            n if n % 2 == 1 => Some(to_details[n / 2] as f64),
            n => Some((to_details[n / 2 - 1] + to_details[n / 2]) as f64 / 2.0),
        };
        let today = today.min(to);
        let open_rows = self.sla_rows(
            &in_window
                .iter()
                .filter(|r| r.is_open())
                .map(|r| (*r).clone())
                .collect::<Vec<_>>(),
            today,
        );
        Ok(SlaReport {
            from,
            to,
            submitted: in_window.len() as u64,
            closed_with_due_date: closed,
            closed_on_time: on_time,
            on_time_rate: (closed > 0).then(|| on_time as f64 / closed as f64),
            median_business_days_to_details_complete: median,
            details_complete: to_details.len() as u64,
            open_breached: open_rows.iter().filter(|r| r.breached).count() as u64,
            open_at_risk: open_rows.iter().filter(|r| r.at_risk).count() as u64,
            blocked_by_requester: per.into_values().collect(),
        })
    }
}

/// The template called `name`, or an error listing the ones there are.
fn find_named<'a, T>(all: &'a [T], name: &str, name_of: impl Fn(&T) -> &str) -> Result<&'a T> {
    all.iter()
        .find(|t| name_of(t) == name)
        .ok_or_else(|| DeskError::UnknownTemplate {
            name: name.to_string(),
            known: all.iter().map(&name_of).collect::<Vec<_>>().join(", "),
        })
}

/// The request template workback tasks are made from.
pub const WORKBACK_TASK: &str = "workback-task";

/// The template a request falls back on when its file is gone: no fields, 5 business days.
fn fallback_template(name: &str) -> RequestTemplate {
    RequestTemplate {
        name: name.to_string(),
        description: String::new(),
        fields: Vec::new(),
        turnaround_business_days: 5,
        default_labels: Vec::new(),
        workback: None,
    }
}

/// A request against its SLA.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaRow {
    pub id: i64,
    pub title: String,
    pub template: String,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub author: String,
    pub assignee: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub details_complete_at: Option<DateTime<Utc>>,
    /// The day the clock started, in the team's time zone.
    pub details_complete_day: Option<NaiveDate>,
    pub turnaround_business_days: u32,
    pub sla_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// The milestone the due date falls in.
    pub milestone: Option<String>,
    /// Negative once breached; none until the details are complete.
    pub business_days_remaining: Option<i64>,
    pub at_risk: bool,
    pub breached: bool,
    pub paused_business_days: i64,
    pub blocked_since: Option<NaiveDate>,
    pub missing: Vec<String>,
    pub closed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RequesterBlocks {
    pub requester: String,
    pub requests: u64,
    pub blocked_requests: u64,
    pub times_blocked: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub submitted: u64,
    pub closed_with_due_date: u64,
    pub closed_on_time: u64,
    pub on_time_rate: Option<f64>,
    pub details_complete: u64,
    pub median_business_days_to_details_complete: Option<f64>,
    pub open_breached: u64,
    pub open_at_risk: u64,
    pub blocked_by_requester: Vec<RequesterBlocks>,
}

/// How a team member reads in the audit log and in messages: `Name (role)`.
pub fn describe_member(m: &TeamMember) -> String {
    format!("{} ({})", m.name, m.role)
}
