//! The paid-media page: a filter bar (Budget, Team, Campaign Code, Channel, Geo, Segment, a date
//! range with a comparison) whose settings live in the URL, scorecards with deltas in their
//! polarity colours, a weekly spend chart, and breakdown tables by Channel, Budget, Segment,
//! Geo, Content and Language with totals, each downloadable as CSV. The numbers come from the
//! same report engine and query parsing as `GET /api/reports/paid` and `abm report paid`.

use crate::pages::layout;
use crate::paid_api::decode;
use crate::AppState;
use abm_core::paid::{Report, ReportRow};
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use maud::{html, Markup};
use std::collections::{BTreeMap, BTreeSet};

/// The filters the bar offers, in the team's words.
const FILTERS: &[(&str, &str)] = &[
    ("budget", "Budget"),
    ("team", "Team"),
    ("campaign_code", "Campaign Code"),
    ("channel", "Channel"),
    ("geo", "Geo"),
    ("segment", "Segment"),
];

/// The breakdown tables.
const BREAKDOWNS: &[(&str, &str)] = &[
    ("channel", "Channel"),
    ("budget", "Budget"),
    ("segment", "Segment"),
    ("geo", "Geo"),
    ("content", "Content"),
    ("language", "Language"),
];

/// The page's settings: the URL's `from`, `to`, `compare` and one parameter per filter
/// (`budget=dmp,fmm`), turned into the report API's query string.
struct Settings {
    from: String,
    to: String,
    compare: String,
    filters: BTreeMap<String, Vec<String>>,
}

fn settings(raw: &str, today: chrono::NaiveDate) -> Result<Settings, String> {
    let mut s = Settings {
        from: (today - Duration::days(27)).to_string(),
        to: today.to_string(),
        compare: "previous-period".into(),
        filters: BTreeMap::new(),
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = decode(v);
        match k {
            "from" if !v.is_empty() => s.from = v,
            "to" if !v.is_empty() => s.to = v,
            "compare" => s.compare = v,
            "from" | "to" | "table" => {}
            k if FILTERS.iter().any(|(d, _)| *d == k) => {
                if !v.trim().is_empty() {
                    s.filters.entry(k.to_string()).or_default().push(v.trim().to_string());
                }
            }
            other => {
                return Err(format!(
                    "{other} is not a setting of this page (it takes from, to, compare, {})",
                    FILTERS.iter().map(|(d, _)| *d).collect::<Vec<_>>().join(", ")
                ))
            }
        }
    }
    Ok(s)
}

impl Settings {
    /// The report API's query string for these settings, grouped and grained as asked.
    fn api_query(&self, group_by: Option<&str>, grain: Option<&str>) -> String {
        let mut q = format!("from={}&to={}", self.from, self.to);
        if !self.compare.is_empty() {
            q.push_str(&format!("&compare={}", self.compare));
        }
        for (d, vals) in &self.filters {
            q.push_str(&format!("&filter={d}={}", vals.join(",")));
        }
        if let Some(g) = group_by {
            q.push_str(&format!("&group_by={g}"));
        }
        if let Some(g) = grain {
            q.push_str(&format!("&grain={g}"));
        }
        q
    }

    /// This page's own URL (for links), with `extra` appended.
    fn url(&self, path: &str, extra: &str) -> String {
        let mut q = format!("from={}&to={}&compare={}", self.from, self.to, self.compare);
        for (d, vals) in &self.filters {
            for v in vals {
                q.push_str(&format!("&{d}={}", crate::pages::enc(v)));
            }
        }
        format!("{path}?{q}{extra}")
    }
}

fn fmt_metric(name: &str, v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) => match name {
            "spend" | "cpc" | "cpl" | "cost_per_conversion" | "cpm" => format!("${x:.2}"),
            "ctr" | "conversion_rate" => format!("{:.2}%", x * 100.0),
            _ if x.fract() == 0.0 => format!("{x:.0}"),
            _ => format!("{x:.1}"),
        },
    }
}

fn value(row: &ReportRow, name: &str) -> Option<f64> {
    let m = &row.metrics;
    match name {
        "spend" => Some(m.spend),
        "impressions" => Some(m.impressions as f64),
        "clicks" => Some(m.clicks as f64),
        "ctr" => m.ctr,
        "cpc" => m.cpc,
        "conversions" => Some(m.conversions),
        "leads" => Some(m.leads as f64),
        "cpl" => m.cpl,
        _ => None,
    }
}

const CARDS: &[(&str, &str)] = &[
    ("spend", "Spend"),
    ("impressions", "Impressions"),
    ("clicks", "Clicks"),
    ("ctr", "CTR"),
    ("cpc", "CPC"),
    ("conversions", "Conversions"),
    ("leads", "Leads"),
    ("cpl", "Cost per lead"),
];

fn scorecards(totals: &[ReportRow]) -> Markup {
    html! {
        @for t in totals {
            @let currency = t.key.get("currency").cloned().unwrap_or_default();
            div.cards data-currency=(currency) {
                @for (name, label) in CARDS {
                    @let d = t.deltas.get(name);
                    div.card data-metric=(name) data-value=(value(t, name).map(|v| v.to_string()).unwrap_or_default()) {
                        div.muted { (label) @if !currency.is_empty() && ["spend", "cpc", "cpl"].contains(name) { " (" (currency) ")" } }
                        div.big { (fmt_metric(name, value(t, name))) }
                        @if let Some(d) = d {
                            @if let Some(p) = d.percent {
                                div class=(match d.better { Some(true) => "good", Some(false) => "bad", None => "flat" }) {
                                    (format!("{p:+.1}%")) " vs " (fmt_metric(name, d.previous))
                                }
                            } @else if d.previous.is_some() {
                                div.muted { "new (was " (fmt_metric(name, d.previous)) ")" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Weekly spend as an SVG line with points.
fn spend_chart(weekly: &Report) -> Markup {
    let points: Vec<(String, f64)> = weekly
        .rows
        .iter()
        .filter_map(|r| Some((r.period.clone()?, r.metrics.spend)))
        .collect();
    if points.is_empty() {
        return html! { p.muted { "No spend in the range." } };
    }
    crate::charts::line(&points, "Spend by week", |v| format!("${v:.2}"))
}

fn breakdown(dim: &str, label: &str, r: &Report, s: &Settings) -> Markup {
    html! {
        h3 { "By " (label) " " a.small href=(s.url("/paid.csv", &format!("&table={dim}"))) { "CSV" } }
        table data-table=(dim) {
            thead { tr { th { (label) } th { "Spend" } th { "Impressions" } th { "Clicks" } th { "CTR" } th { "CPC" } th { "Conversions" } th { "Leads" } th { "Spend change" } } }
            tbody {
                @for row in &r.rows {
                    tr {
                        td { (row.key.get(dim).cloned().unwrap_or_default()) }
                        td { (fmt_metric("spend", Some(row.metrics.spend))) }
                        td { (row.metrics.impressions) } td { (row.metrics.clicks) }
                        td { (fmt_metric("ctr", row.metrics.ctr)) } td { (fmt_metric("cpc", row.metrics.cpc)) }
                        td { (fmt_metric("conversions", Some(row.metrics.conversions))) } td { (row.metrics.leads) }
                        td { (row.deltas.get("spend").and_then(|d| d.percent).map(|p| format!("{p:+.1}%")).unwrap_or_else(|| "–".into())) }
                    }
                }
                @for t in &r.totals {
                    tr.total {
                        td { strong { "Total" } }
                        td { strong { (fmt_metric("spend", Some(t.metrics.spend))) } }
                        td { (t.metrics.impressions) } td { (t.metrics.clicks) }
                        td { (fmt_metric("ctr", t.metrics.ctr)) } td { (fmt_metric("cpc", t.metrics.cpc)) }
                        td { (fmt_metric("conversions", Some(t.metrics.conversions))) } td { (t.metrics.leads) }
                        td { (t.deltas.get("spend").and_then(|d| d.percent).map(|p| format!("{p:+.1}%")).unwrap_or_else(|| "–".into())) }
                    }
                }
            }
        }
    }
}

fn refused(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        layout(
            "Paid media",
            html! { h1 { "Paid media" } p.error { (message) } p { a href="/paid" { "Reset" } } },
        ),
    )
        .into_response()
}

/// Parse the page's URL and run the reports it shows: totals, weekly, and each breakdown.
/// What the page shows: settings, totals, weekly rows, each breakdown, and the values each
/// filter offers.
type PageData = (
    Settings,
    Report,
    Report,
    Vec<(String, Report)>,
    BTreeMap<String, BTreeSet<String>>,
);

async fn run(state: &AppState, raw: &str) -> Result<PageData, String> {
    let desk = state.desk.clone();
    let today = desk.now().day;
    let s = settings(raw, today)?;
    let parse = |q: String| crate::paid_api::parse(&q, today).map_err(|e| e.message());
    let totals_q = parse(s.api_query(None, None))?;
    let weekly_q = parse(s.api_query(None, Some("week")))?;
    let mut breakdown_qs = Vec::new();
    for (d, _) in BREAKDOWNS {
        breakdown_qs.push((d.to_string(), parse(s.api_query(Some(d), None))?));
    }
    let facts = state.with_store(|s| s.ad_facts()).await.map_err(|e| e.message())?;
    // One cube for every report on the page: the facts are decoded once.
    let cube = abm_core::paid::Cube::build(&facts, &desk.taxonomy);
    let values: BTreeMap<String, BTreeSet<String>> = FILTERS
        .iter()
        .map(|(d, _)| (d.to_string(), cube.values(d).map(str::to_string).collect()))
        .filter(|(_, v): &(String, BTreeSet<String>)| !v.is_empty())
        .collect();
    let totals = cube.report(&totals_q);
    let weekly = cube.report(&weekly_q);
    let breakdowns = breakdown_qs.into_iter().map(|(d, q)| (d, cube.report(&q))).collect();
    Ok((s, totals, weekly, breakdowns, values))
}

/// `/paid?from=&to=&compare=&budget=…`.
pub async fn paid(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let (s, totals, weekly, breakdowns, values) = match run(&state, &raw).await {
        Ok(x) => x,
        Err(m) => return refused(&m),
    };
    layout(
        "Paid media",
        html! {
            h1 { "Paid media" }
            form.filters method="get" action="/paid" {
                @for (d, label) in FILTERS {
                    label { (label) " "
                        select name=(d) {
                            option value="" { "All" }
                            @for v in values.get(*d).into_iter().flatten() {
                                option value=(v) selected[s.filters.get(*d).is_some_and(|x| x.iter().any(|y| y.split(',').any(|z| z == v)))] { (v) }
                            }
                        }
                    }
                }
                label { "From " input type="date" name="from" value=(s.from); }
                label { "To " input type="date" name="to" value=(s.to); }
                label { "Compare with "
                    select name="compare" {
                        option value="previous-period" selected[s.compare == "previous-period"] { "the period before" }
                        option value="previous-year" selected[s.compare == "previous-year"] { "the year before" }
                        option value="none" selected[s.compare == "none"] { "nothing" }
                    }
                }
                button type="submit" { "Apply" }
                a.button href="/paid" { "Reset" }
            }
            p.muted {
                (totals.from) " to " (totals.to)
                @if let Some((f, t)) = totals.compared_with { ", compared with " (f) " to " (t) }
            }
            (scorecards(&totals.totals))
            h2 { "Spend by week" }
            (spend_chart(&weekly))
            h2 { "Breakdowns" }
            @for (d, r) in &breakdowns {
                @let label = BREAKDOWNS.iter().find(|(x, _)| x == d).map(|(_, l)| *l).unwrap_or("");
                (breakdown(d, label, r, &s))
            }
        },
    )
    .into_response()
}

/// `/paid.csv?…&table=geo`: one breakdown table as CSV.
pub async fn paid_csv(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let table = raw
        .split('&')
        .find_map(|p| p.strip_prefix("table="))
        .map(decode)
        .unwrap_or_default();
    let Some((dim, label)) = BREAKDOWNS.iter().find(|(d, _)| *d == table) else {
        return refused(&format!(
            "table: expected one of {}, found {table:?}",
            BREAKDOWNS.iter().map(|(d, _)| *d).collect::<Vec<_>>().join(", ")
        ));
    };
    let (_, _, _, breakdowns, _) = match run(&state, &raw).await {
        Ok(x) => x,
        Err(m) => return refused(&m),
    };
    let r = &breakdowns
        .iter()
        .find(|(d, _)| d == dim)
        .expect("every breakdown runs")
        .1;
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([*label, "Spend", "Impressions", "Clicks", "Conversions", "Leads"]);
    for row in r.rows.iter().chain(&r.totals) {
        let name = row.key.get(*dim).cloned().unwrap_or_else(|| "Total".into());
        let _ = w.write_record([
            name,
            format!("{:.2}", row.metrics.spend),
            row.metrics.impressions.to_string(),
            row.metrics.clicks.to_string(),
            row.metrics.conversions.to_string(),
            row.metrics.leads.to_string(),
        ]);
    }
    let body = w.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"paid-{dim}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}
