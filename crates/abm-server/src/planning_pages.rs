//! The Planning page: a milestone's plan per person — available hours, the 70% budget, the
//! committed work against it as a bar, and the proposed drops with why — plus work due in the
//! milestone that nobody is assigned to, and the requesters to tell about drops.

use crate::pages::layout;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use std::collections::HashMap;

/// `/planning?name=Mktg: 2026-12-06` (default: the current milestone).
pub async fn planning(State(state): State<AppState>, Query(raw): Query<HashMap<String, String>>) -> Response {
    let bad = |m: String| {
        (
            StatusCode::BAD_REQUEST,
            layout(
                "Planning",
                html! { h1 { "Planning" } p.error { (m) } p { a href="/planning" { "The current milestone" } } },
            ),
        )
            .into_response()
    };
    if let Some(k) = raw.keys().find(|k| k.as_str() != "name") {
        return bad(format!("{k} is not a setting of this page (it takes name)"));
    }
    let desk = state.desk.clone();
    let today = desk.now().day;
    let m = match desk.milestone(raw.get("name").map(String::as_str), today) {
        Ok(m) => m,
        Err(e) => return bad(e.to_string()),
    };
    let before = desk
        .milestones
        .from(m.start() - chrono::Duration::days(1), 1)
        .into_iter()
        .next();
    let after = desk
        .milestones
        .from(m.end + chrono::Duration::days(1), 1)
        .into_iter()
        .next();
    let plan = {
        let m = m.clone();
        match state.blocking(move |s| Ok(desk.plan_milestone(s, &m)?)).await {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        }
    };
    let link = |name: String| format!("/planning?name={}", crate::pages::enc(&name));
    layout(
        "Planning",
        html! {
            h1 { "Planning " (m) }
            p {
                (m.start()) " to " (m.end) ". "
                @if let Some(b) = &before { a href=(link(b.name())) { "← " (b) } " " }
                @if let Some(a) = &after { a href=(link(a.name())) { (a) " →" } }
            }
            table data-table="people" {
                thead { tr { th { "Person" } th { "Business days" } th { "Available h" } th { "Budget h (70%)" } th { "Committed h" } th { "" } th { "Dropped" } } }
                tbody {
                    @for p in &plan.people {
                        @let c = &p.capacity;
                        @let share = if c.budget_hours > 0.0 { (p.committed_hours / c.budget_hours).min(1.0) } else { 0.0 };
                        tr {
                            td { (c.username) }
                            td { (c.business_days) }
                            td { (format!("{:.1}", c.available_hours)) }
                            td { (format!("{:.1}", c.budget_hours)) }
                            td { (format!("{:.1}", p.committed_hours)) }
                            td {
                                svg width="160" height="12" role="img" aria-label=(format!("{} committed {:.0}% of the budget", c.username, share * 100.0)) {
                                    rect width="160" height="12" fill="#e6e1f2" {}
                                    rect width=((share * 160.0).round()) height="12" fill="#6b4fbb" {}
                                }
                            }
                            td { (p.dropped.len()) }
                        }
                    }
                }
            }
            @for p in &plan.people {
                h2 { (p.capacity.username) }
                @if p.committed.is_empty() && p.dropped.is_empty() { p.muted { "Nothing due in this milestone." } }
                table {
                    thead { tr { th { "#" } th { "Request" } th { "Priority" } th { "Hours" } th { "Due" } th { "Plan" } } }
                    tbody {
                        @for i in &p.committed {
                            tr { td { (i.id) } td { (i.title) } td { (i.priority.as_deref().unwrap_or("—")) } td { (format!("{:.1}", i.hours)) } td { (i.due.map(|d| d.to_string()).unwrap_or_default()) } td { "committed" } }
                        }
                        @for d in &p.dropped {
                            tr.bad { td { (d.item.id) } td { (d.item.title) } td { (d.item.priority.as_deref().unwrap_or("—")) } td { (format!("{:.1}", d.item.hours)) } td { (d.item.due.map(|x| x.to_string()).unwrap_or_default()) } td { "drop: " (d.reason) } }
                        }
                    }
                }
            }
            h2 { "Unassigned (" (plan.unassigned.len()) ")" }
            table {
                thead { tr { th { "#" } th { "Request" } th { "Priority" } th { "Hours" } th { "Due" } } }
                tbody { @for i in &plan.unassigned { tr { td { (i.id) } td { (i.title) } td { (i.priority.as_deref().unwrap_or("—")) } td { (format!("{:.1}", i.hours)) } td { (i.due.map(|d| d.to_string()).unwrap_or_default()) } } } }
            }
            @if !plan.tell.is_empty() {
                h2 { "Requesters to tell about drops" }
                ul { @for (who, ids) in &plan.tell { li { (who) ": " (ids.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(", ")) } } }
            }
        },
    )
    .into_response()
}
