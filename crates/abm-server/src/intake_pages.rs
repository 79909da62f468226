//! The intake pages: open requests with SLA badges (the triage queue first), a request form built
//! from the templates, the prioritisation board whose cards move by drag or by buttons, and one
//! request with its audit log and the changes the signed-in person may make. Every change goes
//! through the same request desk as the CLI and the API, so refusals are the desk's (and audited),
//! and the pages only offer what the person's role allows.

use crate::api::ApiError;
use crate::auth::{csrf_field, Actor};
use crate::pages::layout;
use crate::AppState;
use abm_core::intake::{FieldKind, Role};
use abm_core::request::{Command, NewRequest};
use abm_store::RequestQuery;
use abm_workspace::desk::SlaRow;
use abm_workspace::planner::{priority_label, PRIORITY_COLUMNS};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use std::collections::{BTreeMap, HashMap};

/// The SLA badge: breached, at risk, on track, or waiting for details.
fn badge(r: &SlaRow) -> Markup {
    let (class, text) = if r.breached {
        (
            "bad",
            format!("breached ({} business days)", r.business_days_remaining.unwrap_or(0)),
        )
    } else if r.at_risk {
        (
            "bad",
            format!("at risk ({} left)", r.business_days_remaining.unwrap_or(0)),
        )
    } else if let Some(left) = r.business_days_remaining {
        ("good", format!("on track ({left} left)"))
    } else {
        ("muted", "waiting for details".to_string())
    };
    html! { span class=(class) data-sla=(class) { (text) } }
}

fn rows(list: &[SlaRow]) -> Markup {
    html! {
        table {
            thead { tr { th { "#" } th { "Request" } th { "Status" } th { "Priority" } th { "Assignee" } th { "SLA date" } th { "Due" } th { "SLA" } } }
            tbody {
                @for r in list {
                    tr {
                        td { a href=(format!("/requests/{}", r.id)) { (r.id) } }
                        td { a href=(format!("/requests/{}", r.id)) { (r.title) } " " span.muted { (r.template) } }
                        td { (r.status.as_deref().unwrap_or("—")) }
                        td { (r.priority.as_deref().unwrap_or("—")) }
                        td { (r.assignee.as_deref().unwrap_or("—")) }
                        td { (r.sla_date.map(|d| d.to_string()).unwrap_or_default()) }
                        td { (r.due_date.map(|d| d.to_string()).unwrap_or_default()) }
                        td { (badge(r)) }
                    }
                }
            }
        }
    }
}

/// `/requests`: the triage queue, then every open request, with SLA badges.
pub async fn requests(State(state): State<AppState>) -> Response {
    let desk = state.desk.clone();
    let found = state
        .blocking(move |s| {
            let today = desk.now().day;
            let open = desk.sla_status(
                s,
                &RequestQuery {
                    open_only: true,
                    ..Default::default()
                },
                today,
            )?;
            Ok(open)
        })
        .await;
    let open = match found {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let triage: Vec<SlaRow> = open
        .iter()
        .filter(|r| r.status.as_deref() == Some("triage"))
        .cloned()
        .collect();
    let breached = open.iter().filter(|r| r.breached).count();
    let at_risk = open.iter().filter(|r| r.at_risk && !r.breached).count();
    layout(
        "Requests",
        html! {
            h1 { "Requests" }
            p { (open.len()) " open; " span.bad { (breached) " breached" } ", " span.bad { (at_risk) " at risk" } ". " a href="/board" { "The prioritisation board →" } }
            @if crate::auth::current().is_some_and(|a| a.may_change()) {
                p { a.button href="/requests/new" { "New request" } }
            }
            h2 { "Triage (" (triage.len()) ")" }
            (rows(&triage))
            h2 { "Open requests" }
            (rows(&open))
        },
    )
    .into_response()
}

/// `/board`: the prioritisation board's columns with their weight and hours. The ABM team moves
/// cards by dragging them to a column, by the arrow buttons, or by choosing a column.
pub async fn board(State(state): State<AppState>, Extension(actor): Extension<Actor>) -> Response {
    render_board(&state, &actor, None, StatusCode::OK).await
}

async fn render_board(state: &AppState, actor: &Actor, error: Option<String>, status: StatusCode) -> Response {
    let desk = state.desk.clone();
    let cols = match state.blocking(move |s| Ok(desk.priority_board(s, None)?)).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let movable = actor.role().is_abm_team();
    let page = layout(
        "Board",
        html! {
            h1 { "Prioritisation board" }
            @if let Some(e) = &error { p.error role="alert" { (e) } }
            @if movable { p.muted.small { "Drag a card to another column, or use its arrow buttons." } }
            div.cards.board {
                @for (i, c) in cols.iter().enumerate() {
                    div.card data-column=(c.name) {
                        h3 { (c.name) " " span.muted.small { (c.cards.len()) " cards, weight " (c.weight) ", " (format!("{:.0}", c.hours)) " h" } }
                        @for card in &c.cards {
                            div.kr id=(format!("card-{}", card.id)) data-id=(card.id) draggable=[movable.then_some("true")] {
                                a href=(format!("/requests/{}", card.id)) { "#" (card.id) " " (card.title) }
                                div.muted.small {
                                    (card.assignee.as_deref().unwrap_or("unassigned"))
                                    @if let Some(d) = card.due_date { " · due " (d) }
                                    @if let Some(m) = &card.milestone { " · " (m) }
                                }
                                @if movable {
                                    form.act id=(format!("move-{}", card.id)) method="post" action="/board/move" {
                                        (csrf_field())
                                        input type="hidden" name="id" value=(card.id);
                                        @if i > 0 {
                                            button type="submit" name="to" value=(cols[i - 1].name) title=(format!("Move to {}", cols[i - 1].name)) { "← " (cols[i - 1].name) }
                                        }
                                        @if i + 1 < cols.len() {
                                            button type="submit" name="to" value=(cols[i + 1].name) title=(format!("Move to {}", cols[i + 1].name)) { (cols[i + 1].name) " →" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if movable { script { (maud::PreEscaped(DRAG_SCRIPT)) } }
        },
    );
    (status, page).into_response()
}

/// Drag and drop on the board: dropping a card on a column submits the card's move form with
/// that column (the same request the buttons send).
const DRAG_SCRIPT: &str = r#"(function(){
var cards=document.querySelectorAll('.kr[draggable=true]');
cards.forEach(function(k){k.addEventListener('dragstart',function(e){e.dataTransfer.setData('text/plain',k.dataset.id);});});
document.querySelectorAll('.card[data-column]').forEach(function(col){
col.addEventListener('dragover',function(e){e.preventDefault();col.dataset.drop='over';});
col.addEventListener('dragleave',function(){delete col.dataset.drop;});
col.addEventListener('drop',function(e){e.preventDefault();delete col.dataset.drop;
var f=document.getElementById('move-'+e.dataTransfer.getData('text/plain'));if(!f)return;
var to=document.createElement('input');to.type='hidden';to.name='to';to.value=col.dataset.column;f.appendChild(to);f.submit();});
});})();"#;

/// `POST /board/move` (form: id, to): move a card to a column, i.e. swap its priority label.
pub async fn move_card(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let id = get("id").parse::<i64>().ok().filter(|n| *n > 0);
    let (id, cmds) = match (id, priority_label(&get("to"))) {
        (Some(id), Ok(l)) => (id, vec![Command::AddLabel(l)]),
        (None, _) => {
            let msg = "choose a card to move".to_string();
            return render_board(&state, &actor, Some(msg), StatusCode::BAD_REQUEST).await;
        }
        (_, Err(e)) => {
            let msg = format!("column: {e}");
            return render_board(&state, &actor, Some(msg), StatusCode::BAD_REQUEST).await;
        }
    };
    match act(&state, &actor, id, cmds).await {
        Ok(()) => Redirect::to(&format!("/board#card-{id}")).into_response(),
        Err(e) => {
            let status = e.status();
            render_board(&state, &actor, Some(e.message()), status).await
        }
    }
}

/// Apply commands to a request as the signed-in person, through the desk.
async fn act(state: &AppState, actor: &Actor, id: i64, cmds: Vec<Command>) -> Result<(), ApiError> {
    let desk = state.desk.clone();
    let who = actor.username().to_string();
    state
        .blocking(move |s| {
            let (me, team) = desk.actor(s, Some(&who))?;
            desk.act(s, id, &me, &team, cmds, desk.now())?;
            Ok(())
        })
        .await
}

/// `/requests/{id}`: a request's details, labels, SLA and audit log, and the changes the person
/// may make.
pub async fn request(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Ok(id) = id.trim().parse::<i64>() else {
        return (
            StatusCode::BAD_REQUEST,
            layout(
                "Request",
                html! { h1 { "No such request" } p.error { "a request number, like /requests/12" } },
            ),
        )
            .into_response();
    };
    let done = q.get("done").map(|d| match d.as_str() {
        "comment" => "Comment added.",
        "due" => "Due date changed.",
        "triage" => "Triaged.",
        "priority" => "Priority changed.",
        "close" => "Closed.",
        "reopen" => "Reopened.",
        "new" => "Request submitted.",
        _ => "Saved.",
    });
    render_request(&state, &actor, id, done.map(|d| Ok(d.to_string())), StatusCode::OK).await
}

async fn render_request(
    state: &AppState,
    actor: &Actor,
    id: i64,
    outcome: Option<Result<String, String>>,
    status: StatusCode,
) -> Response {
    let desk = state.desk.clone();
    let found = state
        .blocking(move |s| {
            let Some(r) = s.get_request(id)? else {
                return Ok(None);
            };
            let row = desk.sla_row(&r, desk.now().day);
            Ok(Some((r, row, s.audit_log(id)?, s.team()?)))
        })
        .await;
    let (r, row, log, team) = match found {
        Ok(Some(x)) => x,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                layout("Request", html! { h1 { "No such request" } p { "There is no request " (id) "." } a href="/requests" { "Requests" } }),
            )
                .into_response()
        }
        Err(e) => return e.into_response(),
    };
    let role = actor.role();
    let team_role = role.is_abm_team();
    let action = format!("/requests/{}", r.id);
    let in_triage = r.status() == Some("triage");
    let page = layout(
        &r.title,
        html! {
            p { a href="/requests" { "← Requests" } }
            h1 { "#" (r.id) " " (r.title) }
            @match &outcome {
                Some(Ok(m)) => p.ok role="status" { (m) },
                Some(Err(m)) => p.error role="alert" { (m) },
                None => {},
            }
            dl {
                dt { "Template" } dd { (r.template) }
                dt { "Author" } dd { (r.author) }
                dt { "Assignee" } dd { (r.assignee.as_deref().unwrap_or("—")) }
                dt { "Labels" } dd data-field="labels" { (r.label_list()) }
                dt { "SLA" } dd { (badge(&row)) @if let Some(d) = row.sla_date { " · SLA date " (d) } }
                dt { "Due" } dd data-field="due" { (r.due_date.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) }
                @for (k, v) in &r.fields { dt { (k) } dd { (v) } }
            }
            @if actor.may_change() {
                h2 { "Change" }
                @if role == Role::Manager && in_triage {
                    form.act method="post" action=(action) data-form="triage" {
                        (csrf_field())
                        input type="hidden" name="action" value="triage";
                        label { "Assign to " select name="assignee" {
                            option value="" { "—" }
                            @for m in team.iter().filter(|m| m.role.is_abm_team()) {
                                option value=(m.username) selected[r.assignee.as_deref() == Some(m.username.as_str())] { (m.name) }
                            }
                        } }
                        button type="submit" name="plan" value="no" { "Triage" }
                        button type="submit" name="plan" value="yes" { "Triage as a plan" }
                    }
                }
                form.act method="post" action=(action) data-form="due" {
                    (csrf_field())
                    input type="hidden" name="action" value="due";
                    label { "Due date " input type="date" name="due" value=(r.due_date.map(|d| d.to_string()).unwrap_or_default()); }
                    button type="submit" { "Change due date" }
                    span.muted.small { "Only the ABM manager and the assignee may change it." }
                }
                @if team_role {
                    form.act method="post" action=(action) data-form="priority" {
                        (csrf_field())
                        input type="hidden" name="action" value="priority";
                        label { "Priority " select name="to" {
                            @for c in PRIORITY_COLUMNS { option value=(c) selected[r.priority() == Some(*c)] { (c) } }
                        } }
                        button type="submit" { "Set priority" }
                    }
                    form.act method="post" action=(action) {
                        (csrf_field())
                        @if r.is_open() {
                            input type="hidden" name="action" value="close";
                            button type="submit" { "Close" }
                        } @else {
                            input type="hidden" name="action" value="reopen";
                            button type="submit" { "Reopen" }
                        }
                    }
                }
                form.act method="post" action=(action) data-form="comment" {
                    (csrf_field())
                    input type="hidden" name="action" value="comment";
                    label { "Comment " textarea name="body" rows="2" cols="50" required {} }
                    button type="submit" { "Comment" }
                }
            } @else {
                p.muted { "You can look; a viewer does not change requests." }
            }
            h2 id="log" { "Audit log" }
            table data-table="audit" {
                thead { tr { th { "When" } th { "Who" } th { "What" } th { "Field" } th { "Before" } th { "After" } th { "Note" } } }
                tbody {
                    @for e in &log {
                        tr class=(if e.refused { "bad" } else { "" }) {
                            td { (e.at.format("%Y-%m-%d %H:%M")) } td { (e.actor) }
                            td { (e.action) @if e.refused { " (refused)" } }
                            td { (e.field.as_deref().unwrap_or("")) } td { (e.before.as_deref().unwrap_or("")) }
                            td { (e.after.as_deref().unwrap_or("")) } td { (e.note.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        },
    );
    (status, page).into_response()
}

/// The commands a request page form asks for (`action` says which form).
fn commands(form: &HashMap<String, String>) -> Result<Vec<Command>, String> {
    let get = |k: &str| form.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    Ok(match get("action").as_str() {
        "comment" if get("body").is_empty() => return Err("write a comment first".into()),
        "comment" => vec![Command::Comment(get("body"))],
        "due" => {
            let due = get("due");
            if due.is_empty() {
                vec![Command::SetDueDate(None)]
            } else {
                let d = chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d")
                    .map_err(|_| format!("due date: expected a date like 2026-07-02, found {due:?}"))?;
                vec![Command::SetDueDate(Some(d))]
            }
        }
        "triage" => vec![Command::Triage {
            assignee: Some(get("assignee")).filter(|a| !a.is_empty()),
            plan: get("plan") == "yes",
        }],
        "priority" => {
            vec![Command::AddLabel(
                priority_label(&get("to")).map_err(|e| format!("priority: {e}"))?,
            )]
        }
        "close" => vec![Command::Close],
        "reopen" => vec![Command::Reopen],
        other => return Err(format!("unknown change {other:?}")),
    })
}

/// `POST /requests/{id}`: one change from the request page's forms.
pub async fn request_action(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Ok(id) = id.trim().parse::<i64>() else {
        return (
            StatusCode::BAD_REQUEST,
            layout("Request", html! { p.error { "a request number, like /requests/12" } }),
        )
            .into_response();
    };
    let cmds = match commands(&form) {
        Ok(c) => c,
        Err(e) => return render_request(&state, &actor, id, Some(Err(e)), StatusCode::BAD_REQUEST).await,
    };
    match act(&state, &actor, id, cmds).await {
        Ok(()) => {
            let done = form.get("action").map(String::as_str).unwrap_or("saved");
            Redirect::to(&format!("/requests/{id}?done={done}")).into_response()
        }
        Err(e) => {
            let status = e.status();
            let m = e.message();
            let m = m.strip_prefix("refused: ").unwrap_or(&m);
            render_request(&state, &actor, id, Some(Err(format!("Refused: {m}"))), status).await
        }
    }
}

/// `/requests/new`: the request form of a template (`?template=NAME`).
pub async fn new_request(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    new_request_page(&state, &actor, &q, None, StatusCode::OK)
}

fn new_request_page(
    state: &AppState,
    actor: &Actor,
    values: &HashMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let chosen = get("template");
    let template = state.desk.templates.iter().find(|t| t.name == chosen);
    let page = layout(
        "New request",
        html! {
            p { a href="/requests" { "← Requests" } }
            h1 { "New request" }
            @if let Some(e) = &error { p.error role="alert" { (e) } }
            @if !actor.may_change() {
                p.error { "A viewer does not submit requests." }
            } @else {
                form.filters method="get" action="/requests/new" {
                    label { "Template " select name="template" {
                        option value="" { "Choose…" }
                        @for t in &state.desk.templates {
                            option value=(t.name) selected[t.name == chosen] { (t.name) }
                        }
                    } }
                    button type="submit" { "Choose" }
                }
                @if let Some(t) = template {
                    p.muted { (t.description) }
                    form.signin method="post" action="/requests/new" {
                        (csrf_field())
                        input type="hidden" name="template" value=(t.name);
                        label { "Title " input name="title" required value=(get("title")); }
                        label { "Requested due date " input type="date" name="due" value=(get("due")); }
                        @for f in &t.fields {
                            @let name = format!("field.{}", f.name);
                            label {
                                (f.name) @if f.required { " *" } " "
                                @match &f.kind {
                                    FieldKind::Choice(options) => select name=(name) {
                                        option value="" { "—" }
                                        @for o in options { option value=(o) selected[get(&name) == *o] { (o) } }
                                    },
                                    FieldKind::Date => input type="date" name=(name) value=(get(&name));,
                                    FieldKind::Url => input type="url" name=(name) value=(get(&name));,
                                    FieldKind::Number | FieldKind::Money => input inputmode="decimal" name=(name) value=(get(&name));,
                                    FieldKind::Text => textarea name=(name) rows="2" { (get(&name)) },
                                }
                                @if !f.help.is_empty() { " " span.muted.small { (f.help) } }
                            }
                        }
                        button type="submit" { "Submit request" }
                    }
                }
            }
        },
    );
    (status, page).into_response()
}

/// `POST /requests/new`: submit a request from the form.
pub async fn submit_request(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let due = match get("due") {
        d if d.is_empty() => None,
        d => match chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                let msg = format!("Requested due date: expected a date like 2026-07-02, found {d:?}");
                return new_request_page(&state, &actor, &form, Some(msg), StatusCode::BAD_REQUEST);
            }
        },
    };
    let fields: BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("field.").map(|n| (n.to_string(), v.trim().to_string())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let new = NewRequest {
        title: get("title"),
        fields,
        due,
        ..Default::default()
    };
    let desk = state.desk.clone();
    let (who, template) = (actor.username().to_string(), get("template"));
    let made = state
        .blocking(move |s| {
            let (me, _) = desk.actor(s, Some(&who))?;
            Ok(desk.submit(s, &me, &template, new, desk.now())?.0.id)
        })
        .await;
    match made {
        Ok(id) => Redirect::to(&format!("/requests/{id}?done=new")).into_response(),
        Err(e) => {
            let status = e.status();
            new_request_page(&state, &actor, &form, Some(e.message()), status)
        }
    }
}
