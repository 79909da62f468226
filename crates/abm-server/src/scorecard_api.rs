//! Scorecard endpoints: key metrics for a quarter (with the previous one to compare), OKR
//! progress, and goal workbacks, computed by abm-workspace's scorecard from the served
//! workspace's metrics.toml, okrs.toml and goals.toml.

use crate::api::ApiError;
use crate::requests_api::{bad, only};
use crate::AppState;
use abm_core::fiscal::FiscalQuarter;
use abm_workspace::scorecard;
use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn quarter(raw: &HashMap<String, String>, required: bool) -> Result<Option<FiscalQuarter>, ApiError> {
    match raw.get("quarter") {
        Some(q) => q
            .parse::<FiscalQuarter>()
            .map(Some)
            .map_err(|e| bad("query parameter quarter", e)),
        None if required => Err(bad("query parameter quarter", "is required (like FY27-Q3)")),
        None => Ok(None),
    }
}

fn workspace(state: &AppState) -> Result<Arc<abm_workspace::Workspace>, ApiError> {
    state
        .workspace
        .clone()
        .ok_or_else(|| ApiError::NotFound("this server has no workspace to read metrics, OKRs or goals from".into()))
}

/// A workspace error: its files are the user's, so a mistake in them is a 400 naming the line.
pub(crate) fn ws_err(e: abm_workspace::WorkspaceError) -> ApiError {
    match e {
        abm_workspace::WorkspaceError::Store(s) => s.into(),
        e @ abm_workspace::WorkspaceError::Config { .. } => ApiError::BadRequest(e.to_string()),
        e => ApiError::Internal(e.to_string()),
    }
}

/// `GET /api/metrics?quarter=FY27-Q3[&compare=previous]`.
pub async fn metrics(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["quarter", "compare"])?;
    let q = quarter(&raw, true)?.expect("required");
    let compare = match raw.get("compare").map(String::as_str) {
        None => false,
        Some("previous") => true,
        Some(other) => {
            return Err(bad(
                "query parameter compare",
                format!("expected previous, found {other:?}"),
            ))
        }
    };
    let ws = workspace(&state)?;
    state
        .blocking(move |s| {
            let quarters = if compare { vec![q, q.previous()] } else { vec![q] };
            let mut values = scorecard::metric_values_many(&ws, s, &quarters).map_err(ws_err)?;
            let previous = compare.then(|| values.pop().unwrap_or_default());
            let now = values.pop().unwrap_or_default();
            Ok(Json(
                json!({"quarter": q.to_string(), "metrics": now, "previous": previous}),
            ))
        })
        .await
}

/// `GET /api/okrs[?quarter=]`: objectives with each key result's progress.
pub async fn okrs(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["quarter"])?;
    let q = quarter(&raw, false)?;
    let ws = workspace(&state)?;
    state
        .blocking(move |s| {
            let okrs = scorecard::okr_progress(&ws, s, q).map_err(ws_err)?;
            Ok(Json(json!(okrs
                .into_iter()
                .map(|(o, krs)| json!({"quarter": o.quarter, "objective": o.objective, "key_results": krs}))
                .collect::<Vec<_>>())))
        })
        .await
}

/// `GET /api/goals/workback?quarter=`: every target of the quarter worked back.
pub async fn workback(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only(&raw, &["quarter"])?;
    let q = quarter(&raw, true)?.expect("required");
    let ws = workspace(&state)?;
    state
        .blocking(move |s| Ok(Json(json!(scorecard::workbacks(&ws, s, q).map_err(ws_err)?))))
        .await
}
