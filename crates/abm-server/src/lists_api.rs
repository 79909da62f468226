//! Focus-list endpoints: versions, a version, diffs, building and publishing, nominations and
//! their decisions, by the signed-in person: the ABM team builds lists and nominates;
//! only a manager publishes and decides.

use crate::api::ApiError;
use crate::AppState;
use abm_core::intake::Role;
use abm_core::lists::diff;
use abm_workspace::lists::{self, ListError};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

impl From<ListError> for ApiError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Store(s) => s.into(),
            ListError::NoAccount(_) => ApiError::BadRequest(format!("account: {e}")),
            ListError::NoNomination(_) => ApiError::NotFound(e.to_string()),
            ListError::AlreadyDecided(_) => ApiError::Conflict(e.to_string()),
            ListError::NotScored => ApiError::BadRequest(e.to_string()),
            ListError::NoReason => ApiError::BadRequest(format!("reason: {e}")),
        }
    }
}

/// The acting person, if they have one of `roles`.
fn who(actor: &crate::auth::Actor, roles: &[Role], what: &str) -> Result<String, ApiError> {
    actor.require(roles, what)?;
    Ok(actor.username().to_string())
}

fn version_param(s: &str, what: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::BadRequest(format!("{what}: expected a list version number, found {s:?}")))
}

fn body<T: serde::de::DeserializeOwned>(raw: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(raw).map_err(|e| ApiError::BadRequest(format!("body: {e}")))
}

pub async fn versions(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let v = state.with_store(|s| s.list_versions()).await?;
    Ok(Json(json!(v
        .iter()
        .map(
            |l| json!({"version": l.version, "created_at": l.created_at, "created_by": l.created_by,
            "published": l.published, "accounts": l.entries.len(), "note": l.note})
        )
        .collect::<Vec<_>>())))
}

pub async fn version(State(state): State<AppState>, Path(v): Path<String>) -> Result<Json<Value>, ApiError> {
    let v = version_param(&v, "path")?;
    let all = state.with_store(|s| s.list_versions()).await?;
    let l = all
        .into_iter()
        .find(|l| l.version == v)
        .ok_or_else(|| ApiError::NotFound(format!("no list version {v}")))?;
    Ok(Json(json!(l)))
}

pub async fn list_diff(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let get = |k: &str| {
        q.get(k)
            .ok_or_else(|| ApiError::BadRequest(format!("query parameter {k}: is required")))
            .and_then(|s| version_param(s, &format!("query parameter {k}")))
    };
    let (from, to) = (get("from")?, get("to")?);
    let all = state.with_store(|s| s.list_versions()).await?;
    let find = |v: i64| {
        all.iter()
            .find(|l| l.version == v)
            .ok_or_else(|| ApiError::NotFound(format!("no list version {v}")))
    };
    Ok(Json(json!(diff(find(from)?, find(to)?))))
}

pub async fn build(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
) -> Result<Response, ApiError> {
    let by = who(&actor, &[Role::Manager, Role::Member], "build a list")?;
    let rules = state
        .desk
        .list_rules()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let now = state.desk.now().at;
    let v = state
        .blocking(move |s| {
            let l = lists::build_version(s, &rules, &by, now, false, None)?;
            Ok(s.save_list_version(&l)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "version": v }))).into_response())
}

pub async fn publish(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    Path(v): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let by = who(&actor, &[Role::Manager], "publish a list")?;
    let v = version_param(&v, "path")?;
    let now = state.desk.now().at;
    state
        .blocking(move |s| match s.publish_list(v, &by, now) {
            Ok(()) => Ok(Json(json!({ "version": v, "published_by": by }))),
            Err(abm_store::StoreError::Conflict(_)) => Err(ApiError::Conflict(format!(
                "list version {v} is already published and cannot change"
            ))),
            Err(abm_store::StoreError::NotFound(_)) => Err(ApiError::NotFound(format!("no list version {v}"))),
            Err(e) => Err(e.into()),
        })
        .await
}

pub async fn nominations(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.with_store(|s| s.nominations()).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NominateBody {
    account: String,
    reason: String,
}

pub async fn nominate(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let by = who(&actor, &[Role::Manager, Role::Member], "nominate accounts")?;
    let b: NominateBody = body(&raw)?;
    let desk = state.desk.clone();
    let n = state
        .blocking(move |s| {
            Ok(lists::nominate(
                s,
                &b.account,
                &by,
                &b.reason,
                desk.now().day,
                &desk.calendar,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(n))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    accept: bool,
    reason: String,
}

pub async fn decide(
    State(state): State<AppState>,
    axum::Extension(actor): axum::Extension<crate::auth::Actor>,
    Path(id): Path<String>,
    raw: Bytes,
) -> Result<Json<Value>, ApiError> {
    let by = who(&actor, &[Role::Manager], "decide on nominations")?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("path: expected a nomination id, found {id:?}")))?;
    let b: DecideBody = body(&raw)?;
    let today = state.desk.now().day;
    state
        .blocking(move |s| {
            let decided = lists::decide(s, id, b.accept, &by, &b.reason, today)?;
            Ok(Json(json!(decided)))
        })
        .await
}
