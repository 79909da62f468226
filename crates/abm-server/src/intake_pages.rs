//! The intake pages: open requests with SLA badges (the triage queue first), the prioritisation
//! board, and one request with its audit log. Read-only here: changes go through the CLI and the
//! API, which know who is acting; moving cards in the browser waits for sign-in.

use crate::pages::layout;
use crate::AppState;
use abm_store::RequestQuery;
use abm_workspace::desk::SlaRow;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

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
            h2 { "Triage (" (triage.len()) ")" }
            (rows(&triage))
            h2 { "Open requests" }
            (rows(&open))
        },
    )
    .into_response()
}

/// `/board`: the prioritisation board's columns with their weight and hours.
pub async fn board(State(state): State<AppState>) -> Response {
    let desk = state.desk.clone();
    let cols = match state.blocking(move |s| Ok(desk.priority_board(s, None)?)).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    layout(
        "Board",
        html! {
            h1 { "Prioritisation board" }
            div.cards {
                @for c in &cols {
                    div.card data-column=(c.name) {
                        h3 { (c.name) " " span.muted.small { (c.cards.len()) " cards, weight " (c.weight) ", " (format!("{:.0}", c.hours)) " h" } }
                        @for card in &c.cards {
                            div.kr {
                                a href=(format!("/requests/{}", card.id)) { "#" (card.id) " " (card.title) }
                                div.muted.small {
                                    (card.assignee.as_deref().unwrap_or("unassigned"))
                                    @if let Some(d) = card.due_date { " · due " (d) }
                                    @if let Some(m) = &card.milestone { " · " (m) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// `/requests/{id}`: a request's details, labels, SLA and audit log.
pub async fn request(State(state): State<AppState>, Path(id): Path<String>) -> Response {
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
    let desk = state.desk.clone();
    let found = state
        .blocking(move |s| {
            let Some(r) = s.get_request(id)? else {
                return Ok(None);
            };
            let row = desk.sla_row(&r, desk.now().day);
            Ok(Some((r, row, s.audit_log(id)?)))
        })
        .await;
    let (r, row, log) = match found {
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
    layout(
        &r.title,
        html! {
            p { a href="/requests" { "← Requests" } }
            h1 { "#" (r.id) " " (r.title) }
            dl {
                dt { "Template" } dd { (r.template) }
                dt { "Author" } dd { (r.author) }
                dt { "Assignee" } dd { (r.assignee.as_deref().unwrap_or("—")) }
                dt { "Labels" } dd { (r.label_list()) }
                dt { "SLA" } dd { (badge(&row)) @if let Some(d) = row.sla_date { " · SLA date " (d) } }
                dt { "Due" } dd { (r.due_date.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) }
                @for (k, v) in &r.fields { dt { (k) } dd { (v) } }
            }
            h2 { "Audit log" }
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
    )
    .into_response()
}
