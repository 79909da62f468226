//! The Overview page (the key metrics as scorecards with deltas against the quarter before, and
//! OKR progress bars) and the Journey page (stage counts as a bar chart, the funnel between two
//! days, and the week's movers). Server-rendered; the charts are SVG drawn here.

use crate::api::ApiError;
use crate::pages::{enc, layout};
use crate::AppState;
use abm_core::fiscal::FiscalQuarter;
use abm_core::journey::{counts_on, funnel, Journey};
use abm_core::metrics::{KeyResultProgress, MetricValue, Objective};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use maud::{html, Markup};
use std::collections::HashMap;

/// A page saying what was wrong with the request, with the status it deserves.
fn problem(status: StatusCode, title: &str, message: &str, back: &str) -> Response {
    (
        status,
        layout(
            title,
            html! { h1 { (title) } p.error { (message) } p { a href=(back) { "Start again" } } },
        ),
    )
        .into_response()
}

fn from_api(e: ApiError, back: &str) -> Response {
    match e {
        ApiError::BadRequest(m) => problem(StatusCode::BAD_REQUEST, "Check the page's settings", &m, back),
        ApiError::NotFound(m) => problem(StatusCode::NOT_FOUND, "Nothing to show", &m, back),
        e => e.into_response(),
    }
}

fn unknown_params(raw: &HashMap<String, String>, known: &[&str]) -> Option<String> {
    raw.keys()
        .find(|k| !known.contains(&k.as_str()))
        .map(|k| format!("{k} is not a setting of this page (it takes {})", known.join(", ")))
}

/// A scorecard: value, target, and the change against the quarter before in the metric's
/// polarity colour (green when it moved the good way).
fn scorecard(v: &MetricValue, before: Option<&MetricValue>) -> Markup {
    let delta = before.and_then(|b| abm_core::metrics::change(v, b));
    html! {
        div.card data-metric=(v.name) {
            div.muted { (v.name) }
            div.big {
                @match v.value { Some(x) => { (abm_core::metrics::format_value(x, v.unit)) }, None => { "–" } }
            }
            @if let Some(why) = &v.why_none { div.muted { (why) } }
            @if let Some(t) = v.target { div { "target " (abm_core::metrics::format_value(t, v.unit)) } }
            @if let Some(d) = delta {
                div class=(match d.better { None => "flat", Some(true) => "good", Some(false) => "bad" }) {
                    (format!("{:+.1}%", d.percent)) " vs the quarter before"
                }
            }
            div.muted.small { (v.detail) }
        }
    }
}

/// An OKR progress bar: the share of the target reached, capped at the bar's end.
fn progress_bar(k: &KeyResultProgress) -> Markup {
    let share = k.progress.unwrap_or(0.0).clamp(0.0, 1.0);
    let width = (share * 300.0).round();
    html! {
        div.kr {
            div { (k.text) }
            svg width="300" height="14" role="img" aria-label=(format!("{} progress {:.0}%", k.text, k.progress.unwrap_or(0.0) * 100.0)) {
                rect width="300" height="14" fill="#e6e1f2" {}
                rect width=(width) height="14" fill=(if share >= 1.0 { "#1a7f4b" } else { "#6b4fbb" }) {}
            }
            span.muted {
                @match (k.value, k.progress) {
                    (Some(v), Some(p)) => { (format!(" {v:.1} of {} ({:.0}%)", k.target, p * 100.0)) },
                    _ => { " – " (k.why_none.clone().unwrap_or_default()) },
                }
            }
        }
    }
}

/// What the Overview shows for a quarter: its metrics, the quarter before's, and its OKRs.
pub type Scorecards = (
    Vec<MetricValue>,
    Vec<MetricValue>,
    Vec<(Objective, Vec<KeyResultProgress>)>,
);

/// A quarter's scorecards, from the cache while nothing they read has changed: the store's data
/// version, today, and the workspace's metrics.toml and okrs.toml.
pub async fn scorecards(
    state: &AppState,
    ws: std::sync::Arc<abm_workspace::Workspace>,
    q: FiscalQuarter,
) -> Result<std::sync::Arc<Scorecards>, ApiError> {
    let cache = state.scorecards.clone();
    state
        .blocking(move |s| {
            let mut key = format!("{}|{}", s.data_version()?, ws.today());
            for file in ["metrics.toml", "okrs.toml"] {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(ws.dir.join(file)).ok().hash(&mut h);
                key.push_str(&format!("|{:x}", h.finish()));
            }
            if let Some((k, v)) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&q) {
                if *k == key {
                    return Ok(v.clone());
                }
            }
            let err = crate::scorecard_api::ws_err;
            let mut both = abm_workspace::scorecard::metric_values_many(&ws, s, &[q, q.previous()]).map_err(err)?;
            let before = both.pop().unwrap_or_default();
            let now = both.pop().unwrap_or_default();
            let known = [(q, now.clone())].into_iter().collect();
            let okrs = abm_workspace::scorecard::okr_progress_with(&ws, s, Some(q), known).map_err(err)?;
            let made = std::sync::Arc::new((now, before, okrs));
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            if c.len() > 16 {
                c.clear();
            }
            c.insert(q, (key, made.clone()));
            Ok(made)
        })
        .await
}

/// The quarter the Overview shows by default: the last full one.
pub fn default_quarter(ws: &abm_workspace::Workspace) -> FiscalQuarter {
    ws.fiscal().quarter_of(ws.today()).previous()
}

/// `/overview?quarter=FY27-Q3`: the North Star, efficiency and impact scorecards, supporting
/// metrics and OKR progress (default: the last full quarter).
pub async fn overview(State(state): State<AppState>, Query(raw): Query<HashMap<String, String>>) -> Response {
    if let Some(m) = unknown_params(&raw, &["quarter"]) {
        return problem(StatusCode::BAD_REQUEST, "Check the page's settings", &m, "/overview");
    }
    let Some(ws) = state.workspace.clone() else {
        return problem(
            StatusCode::NOT_FOUND,
            "No workspace",
            "this server was started without a workspace, so it has no metrics to show",
            "/accounts",
        );
    };
    let fiscal = ws.fiscal();
    let q = match raw.get("quarter").map(|q| q.parse::<FiscalQuarter>()) {
        None => default_quarter(&ws),
        Some(Ok(q)) => q,
        Some(Err(e)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Check the page's settings",
                &format!("quarter: {e}"),
                "/overview",
            )
        }
    };
    let cards = match scorecards(&state, ws, q).await {
        Ok(x) => x,
        Err(e) => return from_api(e, "/overview"),
    };
    // Read from the cached scorecards, not copied out of them.
    let (now, before, okrs) = (&cards.0, &cards.1, &cards.2);
    let quarters: Vec<FiscalQuarter> = {
        let mut v = vec![fiscal.quarter_of(state.desk.now().day)];
        for _ in 0..7 {
            let p = v.last().expect("one").previous();
            v.push(p);
        }
        v
    };
    let groups = ["North Star", "Efficiency", "Business impact", "Supporting"];
    layout(
        "Overview",
        html! {
            h1 { "Overview " (q) }
            form.filters method="get" action="/overview" {
                label { "Quarter " select name="quarter" {
                    @for o in &quarters { option value=(o) selected[*o == q] { (o) } }
                } }
                button type="submit" { "Show" }
            }
            @for g in groups {
                @let cards: Vec<(usize, &MetricValue)> = now.iter().enumerate().filter(|(_, v)| v.group == g).collect();
                @if !cards.is_empty() {
                    h2 { (g) }
                    div.cards { @for (i, v) in cards { (scorecard(v, before.get(i))) } }
                }
            }
            @let others: Vec<(usize, &MetricValue)> = now.iter().enumerate().filter(|(_, v)| !groups.contains(&v.group.as_str())).collect();
            @if !others.is_empty() {
                h2 { "Other metrics" }
                div.cards { @for (i, v) in others { (scorecard(v, before.get(i))) } }
            }
            h2 { "OKRs" }
            @if okrs.is_empty() {
                p.muted { "No objectives for " (q) " in okrs.toml." }
            }
            @for (o, krs) in okrs {
                h3 { (o.objective) }
                @for k in krs { (progress_bar(k)) }
            }
            p { a href="/journey" { "Journey stages →" } " " a href="/accounts" { "Accounts →" } }
        },
    )
    .into_response()
}

fn parse_day(raw: &HashMap<String, String>, k: &str) -> Result<Option<NaiveDate>, String> {
    raw.get(k)
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| format!("{k}: expected a date like 2026-07-02, found {v:?}"))
        })
        .transpose()
}

/// A horizontal bar chart of accounts per stage.
fn stage_chart(rows: &[(u32, String, usize)]) -> Markup {
    let max = rows.iter().map(|r| r.2).max().unwrap_or(0).max(1) as f64;
    let h = rows.len() * 22 + 4;
    html! {
        svg width="100%" height=(h) viewBox=(format!("0 0 640 {h}")) role="img" aria-label="Accounts per journey stage" {
            @for (i, (n, name, c)) in rows.iter().enumerate() {
                @let y = i * 22 + 2;
                text x="0" y=(y + 14) font-size="12" { (format!("{n:02} {name}")) }
                rect x="260" y=(y) width=(((*c as f64) / max * 320.0).round()) height="16" fill="#6b4fbb" {}
                text x=(266.0 + (*c as f64) / max * 320.0) y=(y + 13) font-size="12" { (c) }
            }
        }
    }
}

/// `/journey?date=&from=&to=`: accounts per stage on a day, the funnel between two days, and
/// the accounts that moved in the week to `date`.
pub async fn journey(State(state): State<AppState>, Query(raw): Query<HashMap<String, String>>) -> Response {
    if let Some(m) = unknown_params(&raw, &["date", "from", "to"]) {
        return problem(StatusCode::BAD_REQUEST, "Check the page's settings", &m, "/journey");
    }
    let today = state.desk.now().day;
    let (date, from, to) = match (parse_day(&raw, "date"), parse_day(&raw, "from"), parse_day(&raw, "to")) {
        (Ok(d), Ok(f), Ok(t)) => (
            d.unwrap_or(today),
            f.unwrap_or(today - Duration::days(90)),
            t.unwrap_or(today),
        ),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return problem(StatusCode::BAD_REQUEST, "Check the page's settings", &e, "/journey")
        }
    };
    if to < from {
        return problem(
            StatusCode::BAD_REQUEST,
            "Check the page's settings",
            &format!("to ({to}) is before from ({from})"),
            "/journey",
        );
    }
    let stages = state.stages.clone();
    let journeys: Vec<Journey> = match state.with_store(|s| s.journeys(None)).await {
        Ok(j) => j,
        Err(e) => return e.into_response(),
    };
    let counts: Vec<(u32, String, usize)> = counts_on(&stages, &journeys, date)
        .into_iter()
        .map(|(n, c)| (n, stages.name_of(n).to_string(), c))
        .collect();
    let rows = funnel(&stages, &journeys, from, to);
    let week = date - Duration::days(7);
    let mut movers: Vec<(&str, NaiveDate, u32, u32)> = journeys
        .iter()
        .flat_map(|j| j.events.iter())
        .filter(|e| e.day > week && e.day <= date)
        .map(|e| (e.crm_id.as_str(), e.day, e.from, e.to))
        .collect();
    movers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let pct = |v: Option<f64>| v.map(|c| format!("{:.1}%", c * 100.0)).unwrap_or_else(|| "–".into());
    layout(
        "Journey",
        html! {
            h1 { "Journey stages" }
            @if journeys.is_empty() {
                p.muted { "No journeys yet: import activities, or run abm engagement rebuild." }
            }
            form.filters method="get" action="/journey" {
                label { "Stages on " input type="date" name="date" value=(date); }
                label { "Funnel from " input type="date" name="from" value=(from); }
                label { "to " input type="date" name="to" value=(to); }
                button type="submit" { "Show" }
                a href="/journey" { "Reset" }
            }
            h2 { "Accounts per stage on " (date) }
            (stage_chart(&counts))
            h2 { "Funnel " (from) " to " (to) }
            table {
                thead { tr { th { "Stage" } th { "At start" } th { "Reached" } th { "At end" } th { "Moved on" } th { "Conversion" } th { "Median days to next" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (format!("{:02} {}", r.stage, r.name)) }
                            td { (r.at_start) } td { (r.reached) } td { (r.at_end) }
                            td { (r.moved_on) " of " (r.were_in) }
                            td { (pct(r.conversion)) }
                            td { (r.median_days_to_next.map(|d| format!("{d:.0}")).unwrap_or_else(|| "–".into())) }
                        }
                    }
                }
            }
            h2 { "Movers in the week to " (date) " (" (movers.len()) ")" }
            table {
                thead { tr { th { "Day" } th { "Account" } th { "From" } th { "To" } } }
                tbody {
                    @for (crm, day, f, t) in movers.iter().take(200) {
                        tr {
                            td { (day) }
                            td { a href=(format!("/accounts/{}", enc(crm))) { (crm) } }
                            td { (format!("{f:02} {}", stages.name_of(*f))) }
                            td { (format!("{t:02} {}", stages.name_of(*t))) }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}
