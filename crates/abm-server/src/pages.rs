//! Server-rendered HTML pages: the accounts list and an account page. The frame the web app grows
//! in; no JavaScript, no external assets.

use crate::params;
use crate::AppState;
use abm_store::{AccountDetail, AccountPage};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup, DOCTYPE};
use std::collections::HashMap;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1f1f2e}header{background:#2e1a5e;color:#fff;padding:.6rem 1rem}\
header a{color:#fff;text-decoration:none;margin-right:1rem}main{padding:1rem;max-width:1200px}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;font-size:.9rem}th{background:#f4f2fa}\
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:1rem}.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}\
.muted{color:#666}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}\
.cards{display:flex;flex-wrap:wrap;gap:.75rem}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;min-width:14rem;max-width:20rem}\
.big{font-size:1.6rem;font-weight:600}tr.total td{border-top:2px solid #999}a.button{padding:.2rem .6rem;border:1px solid #999;border-radius:3px;text-decoration:none;color:inherit}\
.cards+.cards{margin-top:.75rem}.small{font-size:.8rem}.good{color:#1a7f4b}.bad{color:#b3261e}.flat{color:#666}.kr{margin:.4rem 0}\
header{display:flex;flex-wrap:wrap;gap:.25rem 0}a:focus,button:focus,select:focus,input:focus{outline:3px solid #f0b400;outline-offset:1px}\
@media (max-width:760px){main{padding:.5rem}table{display:block;overflow-x:auto}.card{min-width:0;max-width:none;flex:1 1 100%}\
dl{grid-template-columns:1fr}h1{font-size:1.4rem}.kr svg{max-width:100%}}";

pub(crate) fn layout(title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · abm" }
                    style { (maud::PreEscaped(STYLE)) }
                }
                body {
                    header {
                        a href="/" { strong { "abm" } }
                        a href="/overview" { "Overview" }
                        a href="/journey" { "Journey" }
                        a href="/paid" { "Paid media" }
                        a href="/lists" { "Lists" }
                        a href="/requests" { "Requests" }
                        a href="/planning" { "Planning" }
                        a href="/accounts" { "Accounts" }
                    }
                    main { (body) }
                }
            }
        }
        .into_string(),
    )
}

pub async fn home(axum::extract::State(state): axum::extract::State<AppState>) -> Redirect {
    Redirect::to(if state.workspace.is_some() {
        "/overview"
    } else {
        "/accounts"
    })
}

fn money(v: f64) -> String {
    let s = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("${out}")
}

pub async fn accounts(State(state): State<AppState>, Query(raw): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| raw.get(k).cloned().unwrap_or_default();
    let filters = html! {
        form.filters method="get" action="/accounts" {
            input type="search" name="q" placeholder="Name, domain or CRM id" value=(get("q")) aria-label="Search";
            select name="segment" aria-label="Segment" {
                option value="" { "Any segment" }
                @for s in abm_core::Segment::ALL { option value=(s.as_str()) selected[get("segment") == s.as_str()] { (s.as_str()) } }
            }
            select name="geo" aria-label="Geo" {
                option value="" { "Any geo" }
                @for g in abm_core::Geo::ALL { option value=(g.as_str()) selected[get("geo") == g.as_str()] { (g.as_str()) } }
            }
            button type="submit" { "Filter" }
            a href="/accounts" { "Reset" }
        }
    };
    let p = match params::account_list(&raw) {
        Ok(p) => p,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                layout(
                    "Accounts",
                    html! { h1 { "Accounts" } (filters) p.error { (e.to_string()) } },
                ),
            )
                .into_response()
        }
    };
    let query = p.query.clone();
    let page: AccountPage = match state.with_store(move |s| s.list_accounts(&query)).await {
        Ok(page) => page,
        Err(e) => return e.into_response(),
    };
    let pages = page.total.div_ceil(p.per_page).max(1);
    let link = |n: u64| {
        let mut q: Vec<(String, String)> = raw
            .iter()
            .filter(|(k, _)| *k != "page")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        q.sort();
        q.push(("page".into(), n.to_string()));
        format!(
            "/accounts?{}",
            q.iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect::<Vec<_>>()
                .join("&")
        )
    };
    layout(
        "Accounts",
        html! {
            h1 { "Accounts" }
            (filters)
            p.muted { (page.total) " accounts · page " (p.page) " of " (pages) }
            table {
                thead { tr { th { "Account" } th { "Domains" } th { "Segment" } th { "Geo" } th { "Type" } th { "Ultimate parent" } th { "Family CARR" } } }
                tbody {
                    @for a in &page.accounts {
                        tr {
                            td { a href=(format!("/accounts/{}", enc(&a.crm_id))) { (a.name) } }
                            td { (a.domains.join(", ")) }
                            td { (a.segment) }
                            td { (a.geo.as_deref().unwrap_or("—")) }
                            td { (a.account_type.as_deref().unwrap_or("—")) }
                            td { @if a.ultimate_parent_id == a.crm_id { span.muted { "itself" } } @else { a href=(format!("/accounts/{}", enc(&a.ultimate_parent_id))) { (a.ultimate_parent_id) } } }
                            td { (money(a.family_carr)) }
                        }
                    }
                }
            }
            nav {
                @if p.page > 1 { a href=(link(p.page - 1)) rel="prev" { "← Previous" } " " }
                @if p.page < pages { a href=(link(p.page + 1)) rel="next" { "Next →" } }
            }
        },
    )
    .into_response()
}

pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn account(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let lookup = id.clone();
    let found = state
        .with_store(move |s| Ok(s.get_account(&lookup)?.map(|d| (d, s.journeys(Some(&lookup))))))
        .await;
    let (detail, journey): (AccountDetail, Option<abm_core::journey::Journey>) = match found {
        Ok(Some((d, j))) => (d, j.ok().and_then(|mut j| j.pop())),
        Ok(None) => {
            return (StatusCode::NOT_FOUND, layout("Not found", html! { h1 { "No such account" } p { "There is no account " code { (id) } "." } a href="/accounts" { "All accounts" } }))
                .into_response()
        }
        Err(e) => return e.into_response(),
    };
    let a = &detail.summary;
    layout(
        &a.name,
        html! {
            p { a href="/accounts" { "← Accounts" } }
            h1 { (a.name) }
            dl {
                dt { "CRM id" } dd { code { (a.crm_id) } }
                dt { "Domains" } dd { (a.domains.join(", ")) }
                dt { "Segment" } dd { (a.segment) " (set for FY" (detail.segment_fiscal_year % 100) ")" }
                dt { "Geo" } dd { (a.geo.as_deref().unwrap_or("—")) " " (detail.sub_region.as_deref().unwrap_or("")) }
                dt { "Country" } dd { (a.country.as_deref().unwrap_or("—")) }
                dt { "Industry" } dd { (detail.industry.as_deref().unwrap_or("—")) }
                dt { "Employees" } dd { (a.employees.map(|e| e.to_string()).unwrap_or("—".into())) " (family max " (detail.family_max_employees.map(|e| e.to_string()).unwrap_or("—".into())) ")" }
                dt { "Type" } dd { (a.account_type.as_deref().unwrap_or("—")) }
                dt { "CARR" } dd { (money(detail.carr)) " (family " (money(a.family_carr)) ")" }
                dt { "First order available" } dd { @if a.first_order_available { "yes" } @else { "no" } }
                dt { "Owner" } dd { (detail.owner.as_deref().unwrap_or("—")) }
                dt { "ABM tier" } dd { (a.abm_tier.as_deref().unwrap_or("—")) }
            }
            h2 { "Journey" }
            @if let Some(j) = &journey {
                p {
                    "Stage " strong { (format!("{:02} {}", j.stage(), state.stages.name_of(j.stage()))) }
                    " on " (j.through) ". Points: "
                    @for (i, sc) in j.scores.iter().enumerate() {
                        @if i > 0 { ", " }
                        (format!("{:.1}", sc.points)) " over " (sc.window_days) " days"
                    }
                    @if let Some(sc) = j.scores.first() { "; " (sc.engaged_people) " engaged people." }
                }
                table {
                    thead { tr { th { "Day" } th { "From" } th { "To" } th { "Because" } } }
                    tbody {
                        @for e in j.events.iter().rev() {
                            tr {
                                td { (e.day) }
                                td { (format!("{:02} {}", e.from, state.stages.name_of(e.from))) }
                                td { (format!("{:02} {}", e.to, state.stages.name_of(e.to))) }
                                td { (e.cause) }
                            }
                        }
                    }
                }
            } @else {
                p.muted { "No journey yet: import activities, or run abm engagement rebuild." }
            }
            h2 { "Family" }
            table {
                thead { tr { th { "Account" } th { "Parent" } th { "Employees" } th { "CARR" } } }
                tbody {
                    @for m in &detail.family {
                        tr {
                            td { @if m.crm_id == a.crm_id { strong { (m.name) } } @else { a href=(format!("/accounts/{}", enc(&m.crm_id))) { (m.name) } } }
                            td { (m.parent_id.as_deref().unwrap_or("—")) }
                            td { (m.employees.map(|e| e.to_string()).unwrap_or("—".into())) }
                            td { (money(m.carr)) }
                        }
                    }
                }
            }
            h2 { "Attributes by source" }
            table {
                thead { tr { th { "Attribute" } th { "Source" } th { "Value" } th { "As of" } } }
                tbody { @for v in &detail.attributes { tr { td { (v.attribute) } td { (v.source) } td { (v.value) } td { (v.as_of) } } } }
            }
            h2 { "People (" (detail.people.len()) ")" }
            table {
                thead { tr { th { "Name" } th { "Title" } th { "Email" } } }
                tbody { @for p in &detail.people { tr { td { (p.name) } td { (p.title.as_deref().unwrap_or("—")) } td { (p.email.as_deref().unwrap_or("—")) } } } }
            }
        },
    )
    .into_response()
}
