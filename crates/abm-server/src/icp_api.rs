//! ICP endpoints: the versions, making one active (a rescore), and the explanation the account
//! endpoint carries. Editing and dry-running a new definition happen in the workspace (`abm icp
//! diff`), where the file lives.

use crate::api::ApiError;
use crate::AppState;
use abm_core::intake::Role;
use abm_workspace::icp::{parse_icp, score_all};
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn versions(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let v = state.with_store(|s| s.icp_versions()).await?;
    Ok(Json(json!(v)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
    version: i64,
}

/// Make a saved version active and rescore every account (a rollback, or a roll forward).
pub async fn activate(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: ActivateBody = serde_json::from_slice(&raw).map_err(|e| ApiError::BadRequest(format!("body: {e}")))?;
    actor.require(&[Role::Manager, Role::Member], "change the ICP")?;
    let who = actor.username().to_string();
    let precedence = state.precedence.clone();
    let now = state.desk.now().at;
    state
        .blocking(move |s| {
            let v = s
                .icp_versions()?
                .into_iter()
                .find(|v| v.version == b.version)
                .ok_or_else(|| ApiError::NotFound(format!("no ICP version {}", b.version)))?;
            let icp = parse_icp(&v.definition, "icp").map_err(|e| ApiError::Internal(e.to_string()))?;
            let fits = abm_workspace::icp::activate(s, &icp, v.version, &precedence, &who, now)?;
            Ok(Json(
                json!({ "version": v.version, "accounts": fits.len(), "icp": fits.iter().filter(|f| f.icp).count() }),
            ))
        })
        .await
}

/// A dry run: what activating `definition` (the text of an edited icp.toml, as the request body)
/// would change against the stored scores. Nothing is stored.
pub async fn diff(State(state): State<AppState>, raw: Bytes) -> Result<Json<Value>, ApiError> {
    let text = String::from_utf8(raw.to_vec()).map_err(|_| ApiError::BadRequest("body: is not UTF-8 text".into()))?;
    let icp = parse_icp(&text, "body").map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let precedence = state.precedence.clone();
    state
        .blocking(move |s| {
            let before = s.fits()?;
            let after = score_all(s, &icp, &precedence, 0)?;
            Ok(Json(json!(abm_workspace::icp::diff(&before, &after))))
        })
        .await
}
