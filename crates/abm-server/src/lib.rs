//! The abm HTTP server: a JSON API for scripts and the web app, and server-rendered HTML pages.
//! Handlers parse their input into domain values (bad input is a 400 that names the parameter),
//! run store calls on the blocking pool, and never hold business rules of their own.

mod api;
pub mod auth;
mod charts;
mod icp_api;
mod intake_pages;
mod journey_api;
mod lists_api;
mod lists_pages;
mod overview_pages;
mod pages;
mod paid_api;
mod paid_pages;
mod params;
mod planning_pages;
mod requests_api;
mod scorecard_api;

use abm_store::Store;
use axum::routing::{get, post};
use axum::Router;
use std::sync::{Arc, Mutex};

/// Shared state: the store behind a lock (SQLite connections are not shared between threads).
#[derive(Clone)]
pub struct AppState {
    store: Arc<Mutex<Box<dyn Store>>>,
    /// Which source wins for each attribute (from the workspace's abm.toml).
    precedence: Arc<abm_core::account::Precedence>,
    /// Templates, calendar and settings requests are judged by.
    desk: Arc<abm_workspace::desk::Desk>,
    /// Engagement rules explanations are computed with when no workspace is served (see
    /// `engagement_rules`), and the stages journeys are named by.
    engagement: Arc<abm_core::engagement::EngagementRules>,
    stages: Arc<abm_core::journey::Stages>,
    /// The workspace served, for what is read from its files on each request (metrics, OKRs,
    /// goals); none when serving a bare store.
    workspace: Option<Arc<abm_workspace::Workspace>>,
    /// The key session cookies are signed with (kept in the store).
    cookie_key: axum_extra::extract::cookie::Key,
    /// Cookies only over HTTPS (set when abm is served behind TLS).
    secure_cookies: bool,
    /// Recent failed sign-ins.
    throttle: Arc<auth::Throttle>,
    /// The Overview's scorecards per quarter, with the key they were computed under.
    #[allow(clippy::type_complexity)]
    scorecards: Arc<
        Mutex<std::collections::HashMap<abm_core::fiscal::FiscalQuarter, (String, Arc<overview_pages::Scorecards>)>>,
    >,
}

impl AppState {
    pub fn new(mut store: Box<dyn Store>) -> Self {
        let cookie_key = auth::cookie_key(store.as_mut());
        Self {
            cookie_key,
            secure_cookies: false,
            throttle: Default::default(),
            scorecards: Default::default(),
            store: Arc::new(Mutex::new(store)),
            precedence: Arc::new(Default::default()),
            desk: Arc::new(abm_workspace::desk::Desk::shipped()),
            engagement: Arc::new(abm_workspace::shipped_engagement_rules()),
            stages: Arc::new(abm_workspace::shipped_stages()),
            workspace: None,
        }
    }

    /// Mark cookies Secure (browsers then send them over HTTPS only): for abm behind TLS.
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// Serve a workspace: its metrics.toml, okrs.toml and goals.toml are read on each request.
    pub fn with_workspace(mut self, ws: abm_workspace::Workspace) -> Self {
        self.workspace = Some(Arc::new(ws));
        self
    }

    /// Explain and name journeys with a workspace's engagement rules and stages.
    pub fn with_journey_rules(
        mut self,
        engagement: abm_core::engagement::EngagementRules,
        stages: abm_core::journey::Stages,
    ) -> Self {
        self.engagement = Arc::new(engagement);
        self.stages = Arc::new(stages);
        self
    }

    /// Judge requests by a workspace's templates, calendar and settings.
    pub fn with_desk(mut self, desk: abm_workspace::desk::Desk) -> Self {
        self.desk = Arc::new(desk);
        self
    }

    pub fn with_precedence(mut self, precedence: abm_core::account::Precedence) -> Self {
        self.precedence = Arc::new(precedence);
        self
    }

    /// The engagement rules in force now. Serving a workspace, that is its active version, read
    /// from the store on each call, so an activation made elsewhere (`abm engagement activate`)
    /// applies at once; otherwise the rules the server was given.
    pub(crate) fn engagement_rules(
        &self,
        store: &mut dyn Store,
    ) -> Result<Arc<abm_core::engagement::EngagementRules>, api::ApiError> {
        match &self.workspace {
            Some(ws) => ws
                .engagement_rules_in(store)
                .map(Arc::new)
                .map_err(scorecard_api::ws_err),
            None => Ok(self.engagement.clone()),
        }
    }

    /// Run `f` with the store on the blocking pool.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> abm_store::Result<T> + Send + 'static,
    ) -> Result<T, api::ApiError> {
        self.blocking(move |s| f(s).map_err(|e| api::ApiError::Internal(e.to_string())))
            .await
    }

    /// Run `f` with the store on the blocking pool; `f` says how it failed.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, api::ApiError> + Send + 'static,
    ) -> Result<T, api::ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().unwrap_or_else(|e| e.into_inner());
            f(guard.as_mut())
        })
        .await
        .map_err(|e| api::ApiError::Internal(e.to_string()))?
    }
}

/// Every route abm serves.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/accounts", get(api::list_accounts))
        .route("/api/accounts/:id", get(api::get_account))
        .route("/api/icp/versions", get(icp_api::versions))
        .route("/api/icp/activate", post(icp_api::activate))
        .route("/api/icp/diff", post(icp_api::diff))
        .route("/api/lists", get(lists_api::versions).post(lists_api::build))
        .route("/api/lists/diff", get(lists_api::list_diff))
        .route(
            "/api/lists/nominations",
            get(lists_api::nominations).post(lists_api::nominate),
        )
        .route("/api/lists/nominations/:id/decision", post(lists_api::decide))
        .route("/api/lists/:version", get(lists_api::version))
        .route("/api/lists/:version/publish", post(lists_api::publish))
        .route("/api/reports/paid", get(paid_api::paid))
        .route("/api/engagement/:id", get(journey_api::explain))
        .route("/api/journey/accounts/:id", get(journey_api::history))
        .route("/api/journey/as-of", get(journey_api::as_of))
        .route("/api/journey/funnel", get(journey_api::funnel_report))
        .route("/api/intent/surging", get(journey_api::surging))
        .route("/api/activities/matching", get(journey_api::matching))
        .route("/api/automations/firings", get(journey_api::firings))
        .route("/api/metrics", get(scorecard_api::metrics))
        .route("/api/okrs", get(scorecard_api::okrs))
        .route("/api/goals/workback", get(scorecard_api::workback))
        .route("/api/team", get(requests_api::team).post(requests_api::add_team_member))
        .route(
            "/api/requests",
            get(requests_api::list_requests).post(requests_api::create_request),
        )
        .route(
            "/api/requests/:id",
            get(requests_api::get_request).patch(requests_api::edit_request),
        )
        .route("/api/requests/:id/log", get(requests_api::request_log))
        .route("/api/requests/:id/comments", post(requests_api::comment))
        .route("/api/requests/:id/close", post(requests_api::close))
        .route("/api/requests/:id/reopen", post(requests_api::reopen))
        .route("/api/requests/:id/triage", post(requests_api::triage_one))
        .route("/api/triage", get(requests_api::triage_list))
        .route("/api/sla/status", get(requests_api::sla_status))
        .route("/api/sla/report", get(requests_api::sla_report))
        .route("/api/workback", post(requests_api::workback))
        .route("/api/milestones", get(requests_api::milestones))
        .route("/api/plan/milestone", get(requests_api::plan_milestone))
        .route("/api/plan/carry-over", get(requests_api::carry_over))
        .route("/api/boards/priority", get(requests_api::priority_board))
        .route("/api/boards/priority/move", post(requests_api::move_card))
        .route("/api/boards/milestone", get(requests_api::milestone_board))
        .route("/api/boards/blocked", get(requests_api::blocked_board))
        .route("/", get(pages::home))
        .route("/overview", get(overview_pages::overview))
        .route("/journey", get(overview_pages::journey))
        .route("/paid", get(paid_pages::paid))
        .route("/lists", get(lists_pages::lists))
        .route("/lists/nominations/:id", post(lists_pages::decide))
        .route("/planning", get(planning_pages::planning))
        .route("/requests", get(intake_pages::requests))
        .route(
            "/requests/new",
            get(intake_pages::new_request).post(intake_pages::submit_request),
        )
        .route(
            "/requests/:id",
            get(intake_pages::request).post(intake_pages::request_action),
        )
        .route("/board", get(intake_pages::board))
        .route("/board/move", post(intake_pages::move_card))
        .route("/paid.csv", get(paid_pages::paid_csv))
        .route("/accounts", get(pages::accounts))
        .route("/accounts/:id", get(pages::account))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_sign_in,
        ))
        .with_state(state)
}

/// Serve until Ctrl-C. The Overview's default quarter is computed in the background first, so
/// the first person to open it does not wait for it.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    if let Some(ws) = state.workspace.clone() {
        let warm = state.clone();
        tokio::spawn(async move {
            let q = overview_pages::default_quarter(&ws);
            let _ = overview_pages::scorecards(&warm, ws, q).await;
        });
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
