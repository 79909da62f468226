//! Sign-in: who is making each request, and whether they may. Every route but `/login` and
//! `/healthz` needs a signed-in person: a browser by its session cookie (signed, HTTP-only,
//! SameSite=Lax), a script by an API token (`Authorization: Bearer abm_…`). The person's role
//! comes from the team on every request, so a change of role applies at once; a session carries
//! a fingerprint of the password it was made with, so a new password signs old sessions out, and
//! signing out records the session as ended, so a copied cookie stops working with it.
//!
//! Every change a browser sends (POST, PATCH, PUT, DELETE) must carry the session's CSRF token,
//! in the `csrf` form field or the `X-CSRF-Token` header; this layer checks it before any handler
//! runs, so no form can forget. Token requests carry no cookie and need none.

use crate::pages::layout;
use crate::AppState;
use abm_core::intake::Role;
use abm_core::request::TeamMember;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};
use maud::html;
use serde::Deserialize;

pub const SESSION_COOKIE: &str = "abm_session";
/// Before sign-in: the nonce the login form's CSRF token must match.
const LOGIN_COOKIE: &str = "abm_login";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
const SESSION_DAYS: i64 = 7;
/// The most a form body may hold (forms here are small).
const MAX_FORM: usize = 1 << 20;

/// Failed sign-ins a username may have within [`FAIL_WINDOW`]; after them, attempts are refused
/// without looking at the password until the window has passed.
const MAX_FAILURES: u32 = 5;
const FAIL_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A browser that has signed in as someone carries this cookie (signed: the lower-case username
/// and a random token) for a year. Its attempts for that name are counted apart from everyone
/// else's, so that someone guessing a colleague's password locks out the guesser, not the
/// colleague at their own browser.
const DEVICE_COOKIE: &str = "abm_device";
const DEVICE_DAYS: i64 = 365;

/// The token of a device cookie's value (`name:token`) when the cookie was given to `name`
/// (lower case).
fn device_token<'d>(device: Option<&'d str>, name: &str) -> Option<&'d str> {
    let (known, token) = device?.split_once(':')?;
    (known == name).then_some(token)
}

/// Recent failed sign-ins per username (lower case), and per username and known browser, kept
/// in memory: guessing a password takes more than five tries per quarter of an hour.
#[derive(Default)]
pub struct Throttle(std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>);

impl Throttle {
    /// The count an attempt for `username` goes to: the browser's own when it signed in as
    /// `username` before (`device`: its cookie's value), or the name's.
    fn key(username: &str, device: Option<&str>) -> String {
        let name = username.trim().to_ascii_lowercase();
        match device_token(device, &name) {
            Some(token) => format!("{name}:{token}"),
            None => name,
        }
    }

    /// How long until this attempt's count lets it try again, if it may not now.
    fn wait(&self, key: &str) -> Option<std::time::Duration> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (n, first) = map.get(key)?;
        let left = FAIL_WINDOW.checked_sub(first.elapsed())?;
        (*n >= MAX_FAILURES).then_some(left)
    }

    fn failed(&self, key: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            // Names tried long ago (or made up) are forgotten rather than kept forever.
            map.retain(|_, (_, first)| first.elapsed() <= FAIL_WINDOW);
        }
        let e = map.entry(key.to_string()).or_insert((0, std::time::Instant::now()));
        if e.1.elapsed() > FAIL_WINDOW {
            *e = (0, std::time::Instant::now());
        }
        e.0 += 1;
    }

    /// Only this attempt's count starts again: a colleague signing in at their own browser does
    /// not give someone guessing their name five more tries.
    fn succeeded(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// The signed-in person making a request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub member: TeamMember,
    /// The session's CSRF token; none for API tokens.
    pub csrf: Option<String>,
}

impl Actor {
    pub fn username(&self) -> &str {
        &self.member.username
    }

    pub fn role(&self) -> Role {
        self.member.role
    }

    /// Refuse unless the person has one of `roles`.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), crate::api::ApiError> {
        if roles.contains(&self.member.role) {
            Ok(())
        } else {
            Err(crate::api::ApiError::Forbidden(format!(
                "{} ({}) may not {what}: only {} may",
                self.member.username,
                self.member.role,
                roles.iter().map(|r| format!("a {r}")).collect::<Vec<_>>().join(" or ")
            )))
        }
    }

    /// May change requests and boards at all (viewers only look).
    pub fn may_change(&self) -> bool {
        self.member.role != Role::Viewer
    }
}

tokio::task_local! {
    /// The person the page being rendered is for (the header shows them and a sign-out form).
    static CURRENT: Actor;
}

/// The person the current request is for, while a handler renders it.
pub fn current() -> Option<Actor> {
    CURRENT.try_with(|a| a.clone()).ok()
}

/// A hidden form field with the current session's CSRF token.
pub fn csrf_field() -> maud::Markup {
    let token = current().and_then(|a| a.csrf).unwrap_or_default();
    html! { input type="hidden" name="csrf" value=(token); }
}

/// What a session cookie holds: `username:fingerprint:nonce:expires` (signed by the jar).
struct Session {
    username: String,
    fingerprint: String,
    nonce: String,
    expires: i64,
}

impl Session {
    fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split(':');
        let session = Session {
            username: parts.next()?.to_string(),
            fingerprint: parts.next()?.to_string(),
            nonce: parts.next()?.to_string(),
            expires: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(session)
    }

    fn value(&self) -> String {
        format!("{}:{}:{}:{}", self.username, self.fingerprint, self.nonce, self.expires)
    }
}

fn nonce() -> Result<String, crate::api::ApiError> {
    abm_workspace::users::random_bytes(24)
        .map(|b| abm_workspace::users::hex(&b))
        .map_err(|e| crate::api::ApiError::Internal(e.to_string()))
}

fn cookie(state: &AppState, name: &'static str, value: String, days: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time_days(days))
        .build()
}

fn time_days(days: i64) -> cookie::time::Duration {
    cookie::time::Duration::days(days)
}

fn jar(state: &AppState, headers: &axum::http::HeaderMap) -> SignedCookieJar {
    SignedCookieJar::from_headers(headers, state.cookie_key.clone())
}

/// Paths anyone may reach.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/healthz" | "/favicon.ico")
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn unauthorized(path: &str, query: Option<&str>, why: &str) -> Response {
    if is_api(path) {
        return crate::api::ApiError::Unauthorized(why.to_string()).into_response();
    }
    let target = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let next = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
    Redirect::to(&format!("/login?{next}")).into_response()
}

/// Who is asking: by API token, or by session cookie. `Err` is the response to send instead.
async fn identify(state: &AppState, headers: &axum::http::HeaderMap) -> Result<Option<Actor>, Response> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string())
            .unwrap_or_default();
        let found = state
            .blocking(move |s| {
                abm_workspace::users::token_member(s, &token).map_err(|e| crate::api::ApiError::Internal(e.to_string()))
            })
            .await
            .map_err(|e| e.into_response())?;
        return match found {
            Some(member) => Ok(Some(Actor { member, csrf: None })),
            None => Err(crate::api::ApiError::Unauthorized(
                "the API token is not known (revoked, or mistyped); `abm users token` issues one".into(),
            )
            .into_response()),
        };
    }
    let Some(session) = jar(state, headers)
        .get(SESSION_COOKIE)
        .and_then(|c| Session::parse(c.value()))
    else {
        return Ok(None);
    };
    if session.expires < chrono::Utc::now().timestamp() {
        return Ok(None);
    }
    let (username, fingerprint, nonce) = (
        session.username.clone(),
        session.fingerprint.clone(),
        session.nonce.clone(),
    );
    let found = state
        .blocking(move |s| {
            abm_workspace::users::session_member(s, &username, &fingerprint, &nonce)
                .map_err(|e| crate::api::ApiError::Internal(e.to_string()))
        })
        .await
        .map_err(|e| e.into_response())?;
    Ok(found.map(|member| Actor {
        member,
        csrf: Some(session.nonce),
    }))
}

/// The CSRF token a change carries: the header, or the `csrf` field of a form body (which is
/// read here and handed on unchanged).
async fn carried_csrf(req: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(v) = req.headers().get(CSRF_HEADER) {
        let token = v.to_str().ok().map(str::to_string);
        return Ok((token, req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response())?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let token = pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// The layer in front of every route: identify, check CSRF on changes, and refuse strangers.
pub async fn require_sign_in(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_public(&path) {
        return next.run(req).await;
    }
    let headers = req.headers().clone();
    let actor = match identify(&state, &headers).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return unauthorized(
                &path,
                req.uri().query(),
                "sign in first: send `Authorization: Bearer TOKEN` (see `abm users token`)",
            )
        }
        Err(resp) => return resp,
    };
    let mut req = req;
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        if let Some(expected) = actor.csrf.clone() {
            let (carried, rebuilt) = match carried_csrf(req).await {
                Ok(x) => x,
                Err(resp) => return resp,
            };
            if carried.as_deref() != Some(expected.as_str()) {
                let msg = "this form is out of date or did not come from abm (CSRF check failed); reload the page and try again";
                return if is_api(&path) {
                    crate::api::ApiError::Forbidden(msg.into()).into_response()
                } else {
                    (
                        StatusCode::FORBIDDEN,
                        layout("Refused", html! { h1 { "Refused" } p.error { (msg) } }),
                    )
                        .into_response()
                };
            }
            req = rebuilt;
        }
    }
    req.extensions_mut().insert(actor.clone());
    CURRENT.scope(actor, next.run(req)).await
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only paths on this site are followed after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn login_page(status: StatusCode, csrf: &str, next: &str, error: Option<&str>, username: &str) -> Response {
    (
        status,
        layout(
            "Sign in",
            html! {
                h1 { "Sign in to abm" }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                form.signin method="post" action="/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="next" value=(next);
                    label { "Username " input name="username" autocomplete="username" required value=(username); }
                    label { "Password " input type="password" name="password" autocomplete="current-password" required; }
                    button type="submit" { "Sign in" }
                }
                p.muted.small { "No account? A manager adds you with " code { "abm users add NAME --role ROLE" } "." }
            },
        ),
    )
        .into_response()
}

/// `GET /login`: the sign-in form, with a fresh login nonce.
pub async fn login_form(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let jar = jar(&state, &headers);
    // Keep the nonce a browser already has: other tabs (and the browser's own requests, like
    // the favicon) must not invalidate a form it is showing.
    let kept = jar.get(LOGIN_COOKIE).map(|c| c.value().to_string());
    let n = match kept.map(Ok).unwrap_or_else(nonce) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let jar = jar.add(cookie(&state, LOGIN_COOKIE, n.clone(), 1));
    (
        jar,
        login_page(StatusCode::OK, &n, &safe_next(q.next.as_deref()), None, ""),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`: check the credentials; on success a session cookie and off to `next`.
pub async fn login(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let jar = jar(&state, &headers);
    let next = safe_next(f.next.as_deref());
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_string());
    let fresh = match nonce() {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    // The form again, with a fresh nonce and why.
    let again = |jar: SignedCookieJar, status: StatusCode, msg: &str| {
        let jar = jar.add(cookie(&state, LOGIN_COOKIE, fresh.clone(), 1));
        (jar, login_page(status, &fresh, &next, Some(msg), &f.username)).into_response()
    };
    if expected.is_none() || expected.as_deref() != Some(f.csrf.as_str()) {
        return again(
            jar,
            StatusCode::FORBIDDEN,
            "The sign-in form had expired; please sign in again.",
        );
    }
    let device = jar.get(DEVICE_COOKIE).map(|c| c.value().to_string());
    let count = Throttle::key(&f.username, device.as_deref());
    if let Some(left) = state.throttle.wait(&count) {
        let msg = format!(
            "Too many failed sign-ins for {}; try again in {} minutes.",
            f.username.trim(),
            left.as_secs() / 60 + 1
        );
        return again(jar, StatusCode::TOO_MANY_REQUESTS, &msg);
    }
    let (username, password) = (f.username.clone(), f.password.clone());
    let found = state
        .blocking(move |s| {
            abm_workspace::users::sign_in(s, &username, &password)
                .map_err(|e| crate::api::ApiError::Internal(e.to_string()))
        })
        .await;
    match found {
        Ok(Some((member, fingerprint))) => {
            state.throttle.succeeded(&count);
            // This browser is known for this name from now on (a cookie for another name is
            // replaced: one browser, the last person who signed in on it).
            let name = member.username.trim().to_ascii_lowercase();
            let known = device.filter(|d| device_token(Some(d), &name).is_some());
            let device = match known.map(Ok).unwrap_or_else(|| nonce().map(|t| format!("{name}:{t}"))) {
                Ok(d) => d,
                Err(e) => return e.into_response(),
            };
            let jar = jar.add(cookie(&state, DEVICE_COOKIE, device, DEVICE_DAYS));
            let session = Session {
                username: member.username,
                fingerprint,
                nonce: fresh,
                expires: chrono::Utc::now().timestamp() + SESSION_DAYS * 86_400,
            };
            let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/")).add(cookie(
                &state,
                SESSION_COOKIE,
                session.value(),
                SESSION_DAYS,
            ));
            (jar, Redirect::to(&next)).into_response()
        }
        Ok(None) => {
            state.throttle.failed(&count);
            again(jar, StatusCode::UNAUTHORIZED, "Wrong username or password.")
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /logout` (CSRF-checked like every change): end the session. The cookie is removed, and
/// the session is recorded as signed out, so a copy of the cookie kept elsewhere stops working too.
pub async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let jar = jar(&state, &headers);
    if let Some(session) = jar.get(SESSION_COOKIE).and_then(|c| Session::parse(c.value())) {
        let now = chrono::Utc::now().timestamp();
        let recorded = state
            .with_store(move |s| s.sign_out_session(&session.nonce, session.expires, now))
            .await;
        if let Err(e) = recorded {
            return e.into_response();
        }
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, Redirect::to("/login")).into_response()
}

/// `GET /api/me`: who the token or session belongs to.
pub async fn me(axum::Extension(actor): axum::Extension<Actor>) -> Json<serde_json::Value> {
    Json(
        serde_json::json!({ "username": actor.member.username, "name": actor.member.name, "role": actor.member.role.to_string() }),
    )
}

/// The key cookies are signed with: the store's, or (if the store cannot give one) a random
/// key for this process only.
pub fn cookie_key(store: &mut dyn abm_store::Store) -> Key {
    match abm_workspace::users::cookie_key(store) {
        Ok(k) => Key::from(&k),
        Err(e) => {
            eprintln!("warning: no stored cookie key ({e}); sessions end when the server stops");
            Key::generate()
        }
    }
}
