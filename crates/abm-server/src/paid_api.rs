//! `GET /api/reports/paid`: the paid-media report engine behind `abm report paid`, same numbers.
//! Parameters: from, to (dates), filter (repeatable `dimension=v1,v2`), group_by (comma list),
//! grain (day|week|month), compare (previous-period|previous-year).

use crate::api::ApiError;
use crate::AppState;
use abm_core::paid::{report, Compare, Filter, Grain, ReportQuery, DIMENSIONS};
use axum::extract::{RawQuery, State};
use axum::Json;
use chrono::NaiveDate;
use serde_json::{json, Value};

fn bad(param: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("query parameter {param}: {reason}"))
}

fn dimension(s: &str, param: &str) -> Result<String, ApiError> {
    let d = s.trim().to_ascii_lowercase();
    if DIMENSIONS.contains(&d.as_str()) {
        Ok(d)
    } else {
        Err(bad(
            param,
            format!("unknown dimension {s:?}; dimensions: {}", DIMENSIONS.join(", ")),
        ))
    }
}

/// Parse the query string (filters repeat, so it is read by hand).
pub fn parse(raw: &str, today: NaiveDate) -> Result<ReportQuery, ApiError> {
    let mut from = None;
    let mut to = None;
    let mut filters = Vec::new();
    let mut group_by = Vec::new();
    let mut grain = None;
    let mut compare = None;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = decode(v);
        let date = |v: &str, k: &str| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| bad(k, format!("expected a date like 2026-11-01, found {v:?}")))
        };
        match k {
            "from" => from = Some(date(&v, k)?),
            "to" => to = Some(date(&v, k)?),
            "filter" => {
                let (d, vals) = v
                    .split_once('=')
                    .ok_or_else(|| bad(k, format!("expected dimension=value, found {v:?}")))?;
                filters.push(Filter {
                    dimension: dimension(d, k)?,
                    values: vals
                        .split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect(),
                });
            }
            "group_by" => {
                for d in v.split(',').filter(|d| !d.trim().is_empty()) {
                    group_by.push(dimension(d, k)?);
                }
            }
            "grain" => {
                grain = Some(match v.as_str() {
                    "day" => Grain::Day,
                    "week" => Grain::Week,
                    "month" => Grain::Month,
                    other => return Err(bad(k, format!("expected day, week or month, found {other:?}"))),
                })
            }
            "compare" => {
                compare = match v.as_str() {
                    "" | "none" => None,
                    "previous-period" => Some(Compare::PreviousPeriod),
                    "previous-year" => Some(Compare::PreviousYear),
                    other => {
                        return Err(bad(
                            k,
                            format!("expected previous-period or previous-year, found {other:?}"),
                        ))
                    }
                }
            }
            other => {
                return Err(bad(
                    other,
                    "unknown parameter; known: from, to, filter, group_by, grain, compare",
                ))
            }
        }
    }
    if group_by.len() > abm_core::paid::MAX_GROUP_BY {
        return Err(bad(
            "group_by",
            format!("at most {} dimensions", abm_core::paid::MAX_GROUP_BY),
        ));
    }
    let from = from.ok_or_else(|| bad("from", "is required"))?;
    let to = to.ok_or_else(|| bad("to", "is required"))?;
    if to < from {
        return Err(bad("to", format!("{to} is before from ({from})")));
    }
    Ok(ReportQuery {
        from,
        to,
        filters,
        group_by,
        grain,
        compare,
        today,
    })
}

/// A query-string value, `+` and `%XX` decoded.
pub(crate) fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub async fn paid(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    let desk = state.desk.clone();
    let q = parse(raw.as_deref().unwrap_or(""), desk.now().day)?;
    let facts = state.with_store(|s| s.ad_facts()).await?;
    Ok(Json(json!(report(&facts, &desk.taxonomy, &q))))
}
