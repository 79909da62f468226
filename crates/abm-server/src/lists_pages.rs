//! The Lists page: the focus list's tiers with counts per geo, its versions, what changed from
//! the version before (added, removed with the reason, re-tiered), and nominations awaiting a
//! decision with their due dates; a manager decides them here.

use crate::auth::Actor;
use crate::pages::{enc, layout};
use crate::AppState;
use abm_core::intake::Role;
use abm_core::lists::{diff, ListVersion, Nomination};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Tiers, geos, and accounts per (tier, geo) of a list version.
#[allow(clippy::type_complexity)]
fn by_tier_and_geo(l: &ListVersion) -> (BTreeSet<&str>, BTreeSet<String>, BTreeMap<(&str, String), usize>) {
    let geo = |g: &Option<String>| g.clone().unwrap_or_else(|| "—".into());
    let mut counts = BTreeMap::new();
    for e in &l.entries {
        *counts.entry((e.tier.as_str(), geo(&e.geo))).or_default() += 1;
    }
    (
        l.entries.iter().map(|e| e.tier.as_str()).collect(),
        l.entries.iter().map(|e| geo(&e.geo)).collect(),
        counts,
    )
}

/// `/lists?version=N` (default: the latest).
pub async fn lists(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(raw): Query<HashMap<String, String>>,
) -> Response {
    let manager = actor.role() == Role::Manager;
    let bad = |m: String| {
        (
            StatusCode::BAD_REQUEST,
            layout(
                "Lists",
                html! { h1 { "Focus lists" } p.error { (m) } p { a href="/lists" { "Latest list" } } },
            ),
        )
            .into_response()
    };
    if let Some(k) = raw.keys().find(|k| !["version", "decided"].contains(&k.as_str())) {
        return bad(format!("{k} is not a setting of this page (it takes version)"));
    }
    let wanted = match raw.get("version").map(|v| v.trim().parse::<i64>()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => return bad(format!("version: expected a number, found {:?}", raw["version"])),
    };
    let found = state.with_store(|s| Ok((s.list_versions()?, s.nominations()?))).await;
    let (versions, nominations): (Vec<ListVersion>, Vec<Nomination>) = match found {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let shown = match wanted {
        Some(v) => match versions.iter().position(|l| l.version == v) {
            Some(i) => Some(i),
            None => return bad(format!("version: there is no list version {v}")),
        },
        None => versions.len().checked_sub(1),
    };
    let today = state.desk.now().day;
    let pending: Vec<&Nomination> = nominations.iter().filter(|n| n.decision.is_none()).collect();
    layout(
        "Lists",
        html! {
            h1 { "Focus lists" }
            @match shown {
                None => { p.muted { "No list yet: abm lists build, then abm lists publish." } },
                Some(i) => {
                    @let l = &versions[i];
                    h2 {
                        "Version " (l.version) " · "
                        @match &l.published { Some((at, by)) => { "published " (at.date_naive()) " by " (by) }, None => { "draft" } }
                    }
                    @let (tiers, geos, counts) = by_tier_and_geo(l);
                    table data-table="tiers" {
                        thead { tr { th { "Tier" } @for g in &geos { th { (g) } } th { "Accounts" } th { "Families" } } }
                        tbody {
                            @for t in &tiers {
                                tr {
                                    td { (t) }
                                    @for g in &geos { td { (counts.get(&(*t, g.clone())).copied().unwrap_or(0)) } }
                                    td { (l.entries.iter().filter(|e| e.tier == *t).count()) }
                                    td { (l.entries.iter().filter(|e| e.tier == *t).map(|e| e.family.as_str()).collect::<BTreeSet<_>>().len()) }
                                }
                            }
                        }
                    }
                    @if i > 0 {
                        @let before = &versions[i - 1];
                        @let d = diff(before, l);
                        h2 { "Changes from version " (before.version) }
                        p { (d.added.len()) " added, " (d.removed.len()) " removed, " (d.tier_changed.len()) " changed tier" }
                        table data-table="changes" {
                            thead { tr { th { "Account" } th { "Change" } th { "Why" } } }
                            tbody {
                                @for (id, tier, why) in &d.added { tr { td { a href=(format!("/accounts/{}", enc(id))) { (id) } } td { "added to " (tier) } td { (why) } } }
                                @for (id, tier, why) in &d.removed { tr { td { a href=(format!("/accounts/{}", enc(id))) { (id) } } td { "removed from " (tier) } td { (why) } } }
                                @for (id, from, to, why) in &d.tier_changed { tr { td { a href=(format!("/accounts/{}", enc(id))) { (id) } } td { (from) " → " (to) } td { (why) } } }
                            }
                        }
                    }
                    h2 { "Accounts (" (l.entries.len()) ")" }
                    table data-table="entries" {
                        thead { tr { th { "Rank" } th { "Account" } th { "Tier" } th { "Geo" } th { "Why" } } }
                        tbody {
                            @for e in &l.entries {
                                tr {
                                    td { (e.rank) }
                                    td { a href=(format!("/accounts/{}", enc(&e.crm_id))) { (e.name) } }
                                    td { (e.tier) } td { (e.geo.as_deref().unwrap_or("—")) } td { (e.reason) }
                                }
                            }
                        }
                    }
                },
            }
            h2 { "Versions" }
            table data-table="versions" {
                thead { tr { th { "Version" } th { "Made" } th { "By" } th { "Published" } th { "Accounts" } th { "Note" } } }
                tbody {
                    @for l in versions.iter().rev() {
                        tr {
                            td { a href=(format!("/lists?version={}", l.version)) { (l.version) } }
                            td { (l.created_at.date_naive()) } td { (l.created_by) }
                            td { @match &l.published { Some((at, by)) => { (at.date_naive()) " by " (by) }, None => { "draft" } } }
                            td { (l.entries.len()) } td { (l.note.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            h2 id="nominations" { "Nominations awaiting a decision (" (pending.len()) ")" }
            @if let Some(id) = raw.get("decided") { p.ok role="status" { "Nomination " (id) " decided." } }
            table data-table="nominations" {
                thead { tr { th { "#" } th { "Family" } th { "By" } th { "Why" } th { "Submitted" } th { "Decide by" } @if manager { th { "Decision" } } } }
                tbody {
                    @for n in &pending {
                        tr {
                            td { (n.id) } td { a href=(format!("/accounts/{}", enc(&n.crm_id))) { (n.crm_id) } }
                            td { (n.by) } td { (n.reason) } td { (n.submitted) }
                            td class=(if n.decide_by < today { "bad" } else { "" }) { (n.decide_by) @if n.decide_by < today { " (overdue)" } }
                            @if manager {
                                td {
                                    form.act method="post" action=(format!("/lists/nominations/{}", n.id)) {
                                        (crate::auth::csrf_field())
                                        input name="reason" required placeholder="Why" aria-label="Why";
                                        button type="submit" name="accept" value="yes" { "Accept" }
                                        button type="submit" name="accept" value="no" { "Decline" }
                                    }
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

/// `POST /lists/nominations/{id}` (form: accept yes/no, reason): a manager's decision.
pub async fn decide(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let refused = |status: StatusCode, m: String| {
        (
            status,
            layout(
                "Lists",
                html! { h1 { "Focus lists" } p.error role="alert" { (m) } p { a href="/lists#nominations" { "Back to the nominations" } } },
            ),
        )
            .into_response()
    };
    let by = match actor.require(&[Role::Manager], "decide on nominations") {
        Ok(()) => actor.username().to_string(),
        Err(e) => return refused(e.status(), e.message()),
    };
    let Ok(id) = id.trim().parse::<i64>() else {
        return refused(
            StatusCode::BAD_REQUEST,
            format!("expected a nomination number, found {id:?}"),
        );
    };
    let reason = form.get("reason").map(|r| r.trim().to_string()).unwrap_or_default();
    let accept = form.get("accept").map(String::as_str) == Some("yes");
    let today = state.desk.now().day;
    let done = state
        .blocking(move |s| Ok(abm_workspace::lists::decide(s, id, accept, &by, &reason, today)?))
        .await;
    match done {
        Ok(_) => Redirect::to(&format!("/lists?decided={id}#nominations")).into_response(),
        Err(e) => {
            let status = e.status();
            refused(status, e.message())
        }
    }
}
