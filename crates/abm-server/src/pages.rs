//! The layout every page shares (the header, with who is signed in and a sign-out form), the
//! accounts list and an account page. No JavaScript here, no external assets.

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
header{display:flex;flex-wrap:wrap;gap:.25rem 0;align-items:center}form.signout{margin-left:auto;font-size:.85rem}\
form.signout button{margin-left:.4rem}form.signin{display:grid;gap:.6rem;max-width:20rem}form.inline{display:inline}\
form.act{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.4rem 0}.ok{background:#e6f4ea;color:#1a5c33;padding:.6rem;border-radius:4px}\
.card[data-drop=over]{outline:3px dashed #2e1a5e}.board{display:grid;grid-template-columns:repeat(5,minmax(0,1fr))}\
.board .card{min-width:0;max-width:none}\
input,select,textarea{max-width:100%;box-sizing:border-box}label{max-width:100%}.kr[draggable=true]{cursor:grab}a:focus,button:focus,select:focus,input:focus{outline:3px solid #f0b400;outline-offset:1px}\
@media (max-width:760px){main{padding:.5rem}.board{grid-template-columns:1fr}table{display:block;overflow-x:auto}.card{min-width:0;max-width:none;flex:1 1 100%}\
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
                        @if let Some(me) = crate::auth::current() {
                            form.signout method="post" action="/logout" {
                                span data-user=(me.member.username) { (me.member.name) " (" (me.member.role) ")" }
                                " "
                                (crate::auth::csrf_field())
                                button type="submit" { "Sign out" }
                            }
                        }
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
            select name="grade" aria-label="ICP grade" {
                option value="" { "Any grade" }
                @for g in ["A", "B", "C", "D"] { option value=(g) selected[get("grade") == g] { "Grade " (g) } }
            }
            select name="tier" aria-label="ABM tier" {
                option value="" { "Any tier" }
                @for t in abm_core::AbmTier::ALL { option value=(t.as_str()) selected[get("tier") == t.as_str()] { (t.as_str()) } }
            }
            select name="stage" aria-label="Journey stage" {
                option value="" { "Any stage" }
                @for st in &state.stages.stages {
                    @let v = format!("{:02}", st.number);
                    option value=(v) selected[get("stage") == v] { (v) " " (st.name) }
                }
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

/// What the account page shows besides the account itself.
struct AccountViews {
    journey: Option<abm_core::journey::Journey>,
    fit: Option<(i64, abm_core::icp::Explanation)>,
    engagement: Option<abm_core::engagement::Explanation>,
    /// 90-day points at the end of each of the last 13 weeks.
    trend: Vec<(String, f64)>,
    /// (list version, published, tier) for each list version the account is on.
    tiers: Vec<(i64, Option<chrono::NaiveDate>, String)>,
}

pub async fn account(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let lookup = id.clone();
    let (precedence, st) = (state.precedence.clone(), state.clone());
    let now = state.desk.now().at;
    let found = state
        .blocking(move |s| {
            let Some(d) = s.get_account(&lookup)? else {
                return Ok(None);
            };
            let journey = s.journeys(Some(&lookup))?.pop();
            let fit = abm_workspace::icp::explain_active(s, &precedence, &lookup)?;
            let rules = st.engagement_rules(s)?;
            let acts = abm_workspace::journey::account_activities(s, &lookup)?;
            let (engagement, trend) = match acts {
                Some((_, acts)) if !acts.is_empty() => {
                    let today = abm_core::engagement::explain(&rules, &acts, now, 90);
                    // The twelve weeks before, then today's (already explained) points.
                    let mut trend: Vec<(String, f64)> = (1..13)
                        .rev()
                        .map(|w| {
                            let at = now - chrono::Duration::weeks(w);
                            let e = abm_core::engagement::explain(&rules, &acts, at, 90);
                            (at.date_naive().to_string(), e.score)
                        })
                        .collect();
                    trend.push((now.date_naive().to_string(), today.score));
                    (Some(today), trend)
                }
                _ => (None, Vec::new()),
            };
            let tiers = s
                .list_versions()?
                .into_iter()
                .filter_map(|v| {
                    let e = v.entries.iter().find(|e| e.crm_id == lookup)?;
                    Some((v.version, v.published.map(|(at, _)| at.date_naive()), e.tier.clone()))
                })
                .collect();
            Ok(Some((
                d,
                AccountViews {
                    journey,
                    fit,
                    engagement,
                    trend,
                    tiers,
                },
            )))
        })
        .await;
    let (detail, views): (AccountDetail, AccountViews) = match found {
        Ok(Some(x)) => x,
        Ok(None) => {
            return (StatusCode::NOT_FOUND, layout("Not found", html! { h1 { "No such account" } p { "There is no account " code { (id) } "." } a href="/accounts" { "All accounts" } }))
                .into_response()
        }
        Err(e) => return e.into_response(),
    };
    let journey = &views.journey;
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
            @if let Some(j) = journey {
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
            h2 { "Fit" }
            @if let Some((version, fit)) = &views.fit {
                p data-fit=(fit.score) {
                    "Grade " strong { (fit.grade.to_string()) } ", fit " (fit.score)
                    @if fit.icp { " — in the ICP" } @else { " — not in the ICP" }
                    " (ICP version " (version) @if let Some(p) = &fit.profile { ", profile " (p) } "). " (fit.summary)
                }
                table {
                    thead { tr { th { "Criterion" } th { "Value" } th { "Source" } th { "Passed" } th { "Points" } } }
                    tbody {
                        @for c in &fit.criteria {
                            tr {
                                td { (c.criterion) @if c.core { " " span.muted.small { "core" } } }
                                td { (c.value) }
                                td { (c.source.as_deref().unwrap_or("—")) @if let Some(d) = c.as_of { " " span.muted.small { (d) } } }
                                td { @if c.passed { span.good { "yes" } } @else { span.bad { "no" } } }
                                td { (c.points) " / " (c.max_points) }
                            }
                        }
                    }
                }
            } @else {
                p.muted { "No active ICP yet: abm icp activate." }
            }
            h2 { "Engagement" }
            @if let Some(e) = &views.engagement {
                p data-points=(format!("{:.1}", e.score)) {
                    strong { (format!("{:.1}", e.score)) " points" } " in the last " (e.window_days) " days from "
                    (e.engaged_people) " engaged people"
                    @if e.engaged { " — an engaged account." } @else { "." }
                }
                (crate::charts::line(&views.trend, "90-day points at the end of each week", |v| format!("{v:.1} points")))
                table data-table="engagement" {
                    thead { tr { th { "When" } th { "Activity" } th { "Person" } th { "Rule" } th { "Points" } th { "Weight" } th { "Decay" } th { "Counted" } th { "Running total" } } }
                    tbody {
                        @for c in &e.contributions {
                            tr {
                                td { (c.at.format("%Y-%m-%d")) } td { (c.kind) } td { (c.email.as_deref().unwrap_or("—")) }
                                td { (c.rule) } td { (format!("{:.1}", c.points)) } td { (format!("×{:.2}", c.weight)) }
                                td { (format!("×{:.2}", c.decay)) } td { (format!("{:.2}", c.total)) } td { (format!("{:.2}", c.running_total)) }
                            }
                        }
                    }
                }
            } @else {
                p.muted { "No activities matched to this account." }
            }
            h2 { "Tier history" }
            @if views.tiers.is_empty() {
                p.muted { "Not on any focus list version." }
            } @else {
                table {
                    thead { tr { th { "List version" } th { "Published" } th { "Tier" } } }
                    tbody {
                        @for (v, published, tier) in &views.tiers {
                            tr { td { (v) } td { (published.map(|d| d.to_string()).unwrap_or_else(|| "draft".into())) } td { (tier) } }
                        }
                    }
                }
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
