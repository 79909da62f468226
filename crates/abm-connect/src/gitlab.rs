//! A GitLab REST client (API v4) for what issue sync needs: issues of a project or group with
//! paging, each issue's `resource_label_events`, the labels, milestones and members that exist,
//! and `PUT /projects/:id/issues/:iid` to push changes. The token goes in the `PRIVATE-TOKEN`
//! header and nowhere else.

use crate::http::{agent, send, ConnectError, Retry};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// What to sync: one project, or every project of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A numeric id or a `group/project` path.
    Project(String),
    Group(String),
}

impl Scope {
    fn path(&self) -> String {
        let (kind, id) = match self {
            Scope::Project(p) => ("projects", p),
            Scope::Group(g) => ("groups", g),
        };
        format!("/{kind}/{}", utf8_percent_encode(id.trim(), NON_ALPHANUMERIC))
    }
}

pub struct Client {
    api: String,
    token: String,
    agent: ureq::Agent,
    pub retry: Retry,
    pub scope: Scope,
}

/// At most this many pages of one listing (100 items each).
const MAX_PAGES: u32 = 10_000;

impl Client {
    pub fn new(base_url: &str, token: &str, scope: Scope) -> Result<Self, ConnectError> {
        let base = base_url.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ConnectError::Invalid(format!(
                "gitlab.base_url: expected a URL like https://gitlab.com, found {base:?}"
            )));
        }
        if token.trim().is_empty() {
            return Err(ConnectError::Invalid("the GitLab access token is empty".into()));
        }
        Ok(Self {
            api: format!("{base}/api/v4"),
            token: token.trim().to_string(),
            agent: agent(),
            retry: Retry::default(),
            scope,
        })
    }

    fn get(&self, path: &str) -> Result<ureq::Response, ConnectError> {
        let url = format!("{}{path}", self.api);
        send(&format!("GET {path}"), self.retry, || {
            self.agent.get(&url).set("PRIVATE-TOKEN", &self.token).call()
        })
        .map(|(r, _)| r)
    }

    /// Every item of a paged listing, following `X-Next-Page`.
    pub fn get_all(&self, path: &str) -> Result<Vec<Value>, ConnectError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let p = format!("{path}{sep}per_page=100&page={page}");
            let r = self.get(&p)?;
            let next = r
                .header("X-Next-Page")
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            let body: Value = r.into_json().map_err(|e| ConnectError::Unexpected {
                what: format!("GET {p}"),
                reason: e.to_string(),
            })?;
            match body {
                Value::Array(items) => out.extend(items),
                other => {
                    return Err(ConnectError::Unexpected {
                        what: format!("GET {p}"),
                        reason: format!("expected a JSON array, found {}", short(&other)),
                    })
                }
            }
            match next.parse::<u32>() {
                Ok(n) if n > page && n <= MAX_PAGES => page = n,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Every issue in scope, open and closed.
    pub fn issues(&self) -> Result<Vec<Value>, ConnectError> {
        self.get_all(&format!(
            "{}/issues?scope=all&state=all&order_by=created_at&sort=asc",
            self.scope.path()
        ))
    }

    pub fn label_events(&self, project_id: i64, iid: i64) -> Result<Vec<Value>, ConnectError> {
        self.get_all(&format!("/projects/{project_id}/issues/{iid}/resource_label_events"))
    }

    /// The label names that exist for the scope (including ancestor groups' labels).
    pub fn label_names(&self) -> Result<HashSet<String>, ConnectError> {
        let q = match self.scope {
            Scope::Project(_) => "include_ancestor_groups=true",
            Scope::Group(_) => "include_ancestor_groups=true&only_group_labels=false",
        };
        Ok(self
            .get_all(&format!("{}/labels?{q}", self.scope.path()))?
            .iter()
            .filter_map(|l| l.get("name").and_then(Value::as_str).map(str::to_string))
            .collect())
    }

    /// Milestone title → id, including ancestor groups' milestones.
    pub fn milestone_ids(&self) -> Result<HashMap<String, i64>, ConnectError> {
        let q = match self.scope {
            Scope::Project(_) => "include_ancestors=true",
            Scope::Group(_) => "include_ancestors=true",
        };
        Ok(self
            .get_all(&format!("{}/milestones?{q}", self.scope.path()))?
            .iter()
            .filter_map(|m| Some((m.get("title")?.as_str()?.to_string(), m.get("id")?.as_i64()?)))
            .collect())
    }

    /// Username → user id of everyone who can be assigned.
    pub fn member_ids(&self) -> Result<HashMap<String, i64>, ConnectError> {
        Ok(self
            .get_all(&format!("{}/members/all", self.scope.path()))?
            .iter()
            .filter_map(|m| Some((m.get("username")?.as_str()?.to_string(), m.get("id")?.as_i64()?)))
            .collect())
    }

    /// `PUT /projects/:id/issues/:iid` with `changes`; returns the updated issue.
    pub fn update_issue(&self, project_id: i64, iid: i64, changes: &Value) -> Result<Value, ConnectError> {
        let path = format!("/projects/{project_id}/issues/{iid}");
        let url = format!("{}{path}", self.api);
        let (r, _) = send(&format!("PUT {path}"), self.retry, || {
            self.agent
                .put(&url)
                .set("PRIVATE-TOKEN", &self.token)
                .send_json(changes)
        })?;
        r.into_json().map_err(|e| ConnectError::Unexpected {
            what: format!("PUT {path}"),
            reason: e.to_string(),
        })
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}…", &s[..120])
    } else {
        s
    }
}
