//! JSON endpoints for the team's intake: the team, requests, triage, the SLA and workbacks. They
//! call the same request desk as the CLI, so the rules and the audit log are the same whichever
//! way a change arrives.
//!
//! Who is acting is the signed-in person (see `auth`). Bodies are
//! untrusted: unknown fields are refused, and every error names the JSON path (`fields.budget`).

use crate::api::ApiError;
use crate::AppState;
use abm_core::intake::Role;
use abm_core::labels::Label;
use abm_core::request::{parse_username, parse_weight, AuditEntry, Command, NewRequest, TeamMember};
use abm_core::workback;
use abm_store::RequestQuery;
use abm_workspace::desk::DeskError;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

impl From<DeskError> for ApiError {
    fn from(e: DeskError) -> Self {
        let msg = e.to_string();
        match e {
            DeskError::NoActor => ApiError::Unauthorized("sign in first".into()),
            DeskError::UnknownPerson(_) | DeskError::Refused(_) => ApiError::Forbidden(msg),
            DeskError::NoSuchRequest(_) => ApiError::NotFound(msg),
            DeskError::Store(abm_store::StoreError::Conflict(_)) => ApiError::Conflict(msg),
            DeskError::Store(_) => ApiError::Internal(msg),
            DeskError::File(ref f) if !f.is_user_error() => ApiError::Internal(msg),
            DeskError::File(_) => ApiError::BadRequest(msg),
            DeskError::UnknownTemplate { .. } | DeskError::Invalid(_) => ApiError::BadRequest(msg),
        }
    }
}

/// Parse a JSON body, naming the path of the first problem.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let reason = inner.to_string();
        let reason = reason.split(" at line ").next().unwrap_or(&reason).to_string();
        if path == "." {
            ApiError::BadRequest(format!("body: {reason}"))
        } else {
            ApiError::BadRequest(format!("{path}: {reason}"))
        }
    })
}

pub(crate) fn bad(path: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("{path}: {reason}"))
}

pub(crate) fn date(path: &str, s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| bad(path, format!("expected a date like 2026-07-02, found {s:?}")))
}

fn label(path: &str, s: &str) -> Result<Label, ApiError> {
    Label::parse(s).map_err(|e| bad(path, e))
}

/// The `:id` of a request URL.
fn request_id(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad("path", format!("a request id is a positive number, found {s:?}")))
}

fn changes(id: i64, log: Vec<AuditEntry>, request: impl serde::Serialize) -> Json<Value> {
    Json(json!({ "id": id, "changes": log, "request": request }))
}

pub(crate) fn only(raw: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    match raw.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(bad(
            &format!("query parameter {k}"),
            format!("unknown parameter; known: {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

pub async fn team(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let team = state.with_store(|s| s.team()).await?;
    Ok(Json(json!(team)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    username: String,
    role: String,
    name: Option<String>,
}

pub async fn add_team_member(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let b: TeamBody = body(&raw)?;
    let username = parse_username(&b.username).map_err(|e| bad("username", e))?;
    let role: Role = b.role.parse().map_err(|e: String| bad("role", e))?;
    let member = TeamMember {
        name: b
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| username.clone()),
        username,
        role,
    };
    let who = Some(actor.username().to_string());
    let desk = state.desk.clone();
    let (created, member) = state
        .blocking(move |s| {
            let before = desk.put_team_members(s, who.as_deref(), std::slice::from_ref(&member), desk.now())?;
            Ok((before[0].is_none(), member))
        })
        .await?;
    let code = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((code, Json(json!(member))).into_response())
}

pub async fn list_requests(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["status", "author", "assignee", "all"])?;
    let all = match raw.get("all").map(|s| s.as_str()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(bad(
                "query parameter all",
                format!("expected true or false, found {other:?}"),
            ))
        }
    };
    let q = RequestQuery {
        open_only: !all,
        status: raw
            .get("status")
            .map(|s| s.trim_start_matches("mktg-status::").to_string()),
        author: raw.get("author").cloned(),
        assignee: raw.get("assignee").cloned(),
    };
    let rs = state.with_store(move |s| s.list_requests(&q)).await?;
    Ok(Json(json!(rs)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBody {
    template: String,
    title: String,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    due: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
    weight: Option<u8>,
}

pub async fn create_request(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let b: NewBody = body(&raw)?;
    let due = b.due.as_deref().map(|d| date("due", d)).transpose()?;
    let labels = b
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| label(&format!("labels[{i}]"), l))
        .collect::<Result<Vec<_>, _>>()?;
    let weight = b
        .weight
        .map(|w| parse_weight(&w.to_string()).map_err(|e| bad("weight", e)))
        .transpose()?;
    let new = NewRequest {
        title: b.title,
        fields: b.fields,
        due,
        labels,
        weight,
    };
    let who = Some(actor.username().to_string());
    let desk = state.desk.clone();
    let (r, log) = state
        .blocking(move |s| {
            let (me, _) = desk.actor(s, who.as_deref())?;
            Ok(desk.submit(s, &me, &b.template, new, desk.now())?)
        })
        .await?;
    Ok((StatusCode::CREATED, changes(r.id, log, &r)).into_response())
}

pub async fn get_request(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = request_id(&id)?;
    let desk = state.desk.clone();
    state
        .blocking(move |s| {
            let r = s.get_request(id)?.ok_or(DeskError::NoSuchRequest(id))?;
            let sla = desk.sla_rows(std::slice::from_ref(&r), desk.now().day).remove(0);
            Ok(Json(json!({ "request": r, "sla": sla })))
        })
        .await
}

pub async fn request_log(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = request_id(&id)?;
    state
        .blocking(move |s| {
            s.get_request(id)?.ok_or(DeskError::NoSuchRequest(id))?;
            Ok(Json(json!(s.audit_log(id)?)))
        })
        .await
}

/// A change, GitLab style: `add_labels`, `remove_labels`, `due_date` (null clears it), ...
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    title: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "present")]
    due_date: Option<Option<String>>,
    weight: Option<u8>,
    #[serde(default)]
    add_labels: Vec<String>,
    #[serde(default)]
    remove_labels: Vec<String>,
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
}

/// Tell "absent" (None) from "null" (Some(None)).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub async fn edit_request(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    Path(id): Path<String>,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = request_id(&id)?;
    let b: EditBody = body(&raw)?;
    let mut cmds = Vec::new();
    if let Some(t) = b.title {
        cmds.push(Command::SetTitle(t));
    }
    if !b.fields.is_empty() {
        cmds.push(Command::SetFields(b.fields));
    }
    if let Some(a) = b.assignee {
        let a = a
            .map(|a| parse_username(&a).map_err(|e| bad("assignee", e)))
            .transpose()?;
        cmds.push(Command::Assign(a));
    }
    if let Some(d) = b.due_date {
        cmds.push(Command::SetDueDate(
            d.as_deref().map(|d| date("due_date", d)).transpose()?,
        ));
    }
    if let Some(w) = b.weight {
        cmds.push(Command::SetWeight(Some(
            parse_weight(&w.to_string()).map_err(|e| bad("weight", e))?,
        )));
    }
    for (i, l) in b.add_labels.iter().enumerate() {
        cmds.push(Command::AddLabel(label(&format!("add_labels[{i}]"), l)?));
    }
    cmds.extend(b.remove_labels.into_iter().map(Command::RemoveLabel));
    if cmds.is_empty() {
        return Err(bad("body", "nothing to change"));
    }
    act(state, actor, id, cmds).await
}

async fn act(state: AppState, actor: crate::auth::Actor, id: i64, cmds: Vec<Command>) -> Result<Json<Value>, ApiError> {
    let who = Some(actor.username().to_string());
    let desk = state.desk.clone();
    state
        .blocking(move |s| {
            let (me, team) = desk.actor(s, who.as_deref())?;
            let (r, log) = desk.act(s, id, &me, &team, cmds, desk.now())?;
            Ok(changes(id, log, &r))
        })
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    body: String,
}

pub async fn comment(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    Path(id): Path<String>,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = request_id(&id)?;
    let b: CommentBody = body(&raw)?;
    act(state, actor, id, vec![Command::Comment(b.body)]).await
}

pub async fn close(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = request_id(&id)?;
    act(state, actor, id, vec![Command::Close]).await
}

pub async fn reopen(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = request_id(&id)?;
    act(state, actor, id, vec![Command::Reopen]).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TriageBody {
    assignee: Option<String>,
    #[serde(default)]
    plan: bool,
}

pub async fn triage_one(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    Path(id): Path<String>,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = request_id(&id)?;
    let b: TriageBody = if raw.iter().all(|c| c.is_ascii_whitespace()) {
        TriageBody::default()
    } else {
        body(&raw)?
    };
    let assignee = b
        .assignee
        .map(|a| parse_username(&a).map_err(|e| bad("assignee", e)))
        .transpose()?;
    act(state, actor, id, vec![Command::Triage { assignee, plan: b.plan }]).await
}

pub async fn triage_list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let desk = state.desk.clone();
    state
        .blocking(move |s| {
            let rs = s.list_requests(&RequestQuery {
                open_only: true,
                status: Some("triage".into()),
                ..Default::default()
            })?;
            Ok(Json(json!(desk.sla_rows(&rs, desk.now().day))))
        })
        .await
}

pub async fn sla_status(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let desk = state.desk.clone();
    state
        .blocking(move |s| {
            let today = desk.now().day;
            let query = RequestQuery {
                open_only: true,
                ..Default::default()
            };
            Ok(Json(json!({
                "today": today,
                "calendar": desk.calendar.name(),
                "requests": desk.sla_status(s, &query, today)?,
            })))
        })
        .await
}

pub async fn sla_report(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["from", "to"])?;
    let need = |k: &str| -> Result<NaiveDate, ApiError> {
        let v = raw
            .get(k)
            .ok_or_else(|| bad(&format!("query parameter {k}"), "is required"))?;
        date(&format!("query parameter {k}"), v)
    };
    let (from, to) = (need("from")?, need("to")?);
    if to < from {
        return Err(bad("query parameter to", format!("{to} is before from ({from})")));
    }
    let desk = state.desk.clone();
    state
        .blocking(move |s| Ok(Json(json!(desk.sla_report(s, from, to, desk.now().day)?))))
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkbackBody {
    template: String,
    launch: String,
    details_complete: Option<String>,
    #[serde(default)]
    create_requests: bool,
}

pub async fn workback(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: WorkbackBody = body(&raw)?;
    let launch = date("launch", &b.launch)?;
    let details = b
        .details_complete
        .as_deref()
        .map(|d| date("details_complete", d))
        .transpose()?;
    let who = Some(actor.username().to_string());
    let desk = state.desk.clone();
    state
        .blocking(move |s| {
            let t = desk.workback(&b.template)?;
            let now = desk.now();
            let schedule = workback::schedule(t, launch, &desk.calendar, now.day, details);
            let created = if b.create_requests {
                let (me, _) = desk.actor(s, who.as_deref())?;
                desk.create_workback_requests(s, &me, &schedule, now)?
            } else {
                Vec::new()
            };
            Ok(Json(json!({ "schedule": schedule, "created": created })))
        })
        .await
}

/// `?name=Mktg: 2026-12-06` (default: the current milestone).
fn milestone_param(
    desk: &abm_workspace::desk::Desk,
    raw: &HashMap<String, String>,
) -> Result<abm_core::milestone::Milestone, ApiError> {
    only(raw, &["name"])?;
    desk.milestone(raw.get("name").map(|s| s.as_str()), desk.now().day)
        .map_err(|e| bad("query parameter name", e.to_string().trim_start_matches("milestone: ")))
}

pub async fn milestones(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["from", "count"])?;
    let from = raw.get("from").map(|f| date("query parameter from", f)).transpose()?;
    let count = match raw.get("count") {
        None => 6,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=520).contains(n))
            .ok_or_else(|| bad("query parameter count", format!("expected 1 to 520, found {c:?}")))?,
    };
    let desk = &state.desk;
    Ok(Json(json!(desk
        .milestones
        .from(from.unwrap_or_else(|| desk.now().day), count))))
}

pub async fn plan_milestone(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let desk = state.desk.clone();
    let m = milestone_param(&desk, &raw)?;
    state
        .blocking(move |s| Ok(Json(json!(desk.plan_milestone(s, &m)?))))
        .await
}

pub async fn carry_over(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let desk = state.desk.clone();
    state
        .blocking(move |s| Ok(Json(json!(desk.carry_over(s, desk.now().day)?))))
        .await
}

pub async fn priority_board(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["assignee"])?;
    let desk = state.desk.clone();
    let assignee = raw.get("assignee").cloned();
    state
        .blocking(move |s| Ok(Json(json!(desk.priority_board(s, assignee.as_deref())?))))
        .await
}

pub async fn milestone_board(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let desk = state.desk.clone();
    let m = milestone_param(&desk, &raw)?;
    state
        .blocking(move |s| Ok(Json(json!(desk.milestone_board(s, &m)?))))
        .await
}

pub async fn blocked_board(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let desk = state.desk.clone();
    state
        .blocking(move |s| Ok(Json(json!(desk.blocked_board(s, desk.now().day)?))))
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    id: i64,
    to: String,
}

/// Move a card on the prioritisation board: a scoped-label swap, as the acting person.
pub async fn move_card(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: MoveBody = body(&raw)?;
    let l = abm_workspace::planner::priority_label(&b.to).map_err(|e| bad("to", e))?;
    act(state, actor, b.id, vec![Command::AddLabel(l)]).await
}
