//! JSON endpoints. Errors are JSON too: `{"error": "..."}` with a 4xx for the caller's mistakes
//! and a 500 only for ours.

use crate::params::{self, ParamError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    /// Nobody said who is acting.
    Unauthorized(String),
    /// The acting person may not do this.
    Forbidden(String),
    NotFound(String),
    /// Someone else changed it first.
    Conflict(String),
    Internal(String),
}

impl From<abm_store::StoreError> for ApiError {
    fn from(e: abm_store::StoreError) -> Self {
        match e {
            abm_store::StoreError::Conflict(_) => ApiError::Conflict(e.to_string()),
            _ => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl ApiError {
    /// The message, for pages that show it.
    pub fn message(self) -> String {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::Internal(m) => m,
        }
    }
}

impl ApiError {
    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, m),
            ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
        };
        (status, Json(json!({ "error": msg }))).into_response()
    }
}

pub async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let (backend, version, counts) = state
        .with_store(|s| Ok((s.backend(), s.schema_version()?, s.counts()?)))
        .await?;
    Ok(Json(
        json!({ "status": "ok", "backend": backend, "schema_version": version, "accounts": counts.accounts }),
    ))
}

pub async fn list_accounts(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let p = params::account_list(&raw)?;
    let query = p.query.clone();
    let page = state.with_store(move |s| s.list_accounts(&query)).await?;
    Ok(Json(json!({
        "total": page.total,
        "page": p.page,
        "per_page": p.per_page,
        "accounts": page.accounts,
    })))
}

pub async fn get_account(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let lookup = id.clone();
    let precedence = state.precedence.clone();
    let found = state
        .with_store(move |s| {
            let Some(detail) = s.get_account(&lookup)? else {
                return Ok(None);
            };
            let explanation = abm_workspace::icp::explain_active(s, &precedence, &lookup)?;
            Ok(Some((detail, explanation)))
        })
        .await?;
    match found {
        Some((detail, explanation)) => {
            let mut v = serde_json::to_value(detail.resolve(&state.precedence))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            v["icp_explanation"] = json!(explanation);
            Ok(Json(v).into_response())
        }
        None => Err(ApiError::NotFound(format!("no account {id:?}"))),
    }
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such page".into())
}
