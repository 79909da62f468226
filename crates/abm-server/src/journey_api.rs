//! Engagement and journey endpoints: an account's explained score and stage history, stage
//! counts on a day, the funnel between two days, intent surges, activity matching, and the
//! automations' firings. Journeys are read as stored (replayed by imports and `abm engagement
//! rebuild`); explanations are computed from the activities on each request.

use crate::api::ApiError;
use crate::requests_api::{bad, date, only};
use crate::AppState;
use abm_core::journey::{counts_on, end_of, funnel};
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::HashMap;

fn optional_date(raw: &HashMap<String, String>, k: &str) -> Result<Option<NaiveDate>, ApiError> {
    raw.get(k).map(|v| date(&format!("query parameter {k}"), v)).transpose()
}

fn required_date(raw: &HashMap<String, String>, k: &str) -> Result<NaiveDate, ApiError> {
    optional_date(raw, k)?.ok_or_else(|| bad(&format!("query parameter {k}"), "is required"))
}

/// `GET /api/engagement/{id}?as_of=&window=`: every contributing activity; they sum to the score.
pub async fn explain(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["as_of", "window"])?;
    let window: i64 = match raw.get("window") {
        Some(w) => w
            .trim()
            .parse()
            .ok()
            .filter(|w| (1..=3650).contains(w))
            .ok_or_else(|| {
                bad(
                    "query parameter window",
                    format!("expected 1 to 3650 days, found {w:?}"),
                )
            })?,
        None => 90,
    };
    let at = optional_date(&raw, "as_of")?
        .map(end_of)
        .unwrap_or_else(|| state.desk.now().at);
    let st = state.clone();
    state
        .blocking(move |s| {
            let rules = st.engagement_rules(s)?;
            let (_, acts) = abm_workspace::journey::account_activities(s, &id)?
                .ok_or_else(|| ApiError::NotFound(format!("no account {id:?}")))?;
            Ok(Json(json!(abm_core::engagement::explain(&rules, &acts, at, window))))
        })
        .await
}

/// `GET /api/journey/accounts/{id}`: the account's stage now, its changes with causes, and scores.
pub async fn history(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let stages = state.stages.clone();
    state
        .blocking(move |s| {
            let j = s
                .journeys(Some(&id))?
                .pop()
                .ok_or_else(|| ApiError::NotFound(format!("no journey for account {id:?}")))?;
            let mut v = json!(j);
            v["stage"] = json!(j.stage());
            v["stage_name"] = json!(stages.name_of(j.stage()));
            Ok(Json(v))
        })
        .await
}

/// `GET /api/journey/as-of?date=`: accounts per stage at the end of the day.
pub async fn as_of(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["date"])?;
    let day = required_date(&raw, "date")?;
    let stages = state.stages.clone();
    state
        .blocking(move |s| {
            let journeys = s.journeys(None)?;
            let counts: Vec<Value> = counts_on(&stages, &journeys, day)
                .into_iter()
                .map(|(n, c)| json!({"stage": n, "name": stages.name_of(n), "accounts": c}))
                .collect();
            Ok(Json(json!({"date": day, "stages": counts})))
        })
        .await
}

/// `GET /api/journey/funnel?from=&to=`: reached, conversion and median days per funnel stage.
pub async fn funnel_report(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["from", "to"])?;
    let (from, to) = (required_date(&raw, "from")?, required_date(&raw, "to")?);
    if to < from {
        return Err(bad("query parameter to", format!("{to} is before from ({from})")));
    }
    let stages = state.stages.clone();
    state
        .blocking(move |s| {
            let journeys = s.journeys(None)?;
            Ok(Json(
                json!({"from": from, "to": to, "stages": funnel(&stages, &journeys, from, to)}),
            ))
        })
        .await
}

/// `GET /api/intent/surging?as_of=`: (account, keyword set) pairs surging in the week.
pub async fn surging(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["as_of"])?;
    let at = optional_date(&raw, "as_of")?
        .map(end_of)
        .unwrap_or_else(|| state.desk.now().at);
    state
        .with_store(move |s| {
            let intent = s.activities_of_kind("Intent")?;
            Ok(Json(json!(abm_core::intent::surging(&intent, at, 3, 1.5))))
        })
        .await
}

/// `GET /api/activities/matching`: activities by match method, unmatched ones by reason.
pub async fn matching(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .with_store(|s| {
            let (methods, why) = s.activity_summary()?;
            Ok(Json(json!({"by_method": methods, "unmatched_by_reason": why})))
        })
        .await
}

/// `GET /api/automations/firings`: what the automations did.
pub async fn firings(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.with_store(|s| Ok(Json(json!(s.firings()?)))).await
}
