//! Sign-in over real HTTP: sessions in signed cookies, CSRF on every form, API tokens, and the
//! changes each role may make from the pages. The app runs on a random port against a fresh
//! SQLite database; redirects are not followed so each step can be checked.

use abm_core::intake::Role;
use abm_store::{SqliteStore, Store};
use serde_json::Value;

mod common;

struct App {
    base: String,
    db: std::path::PathBuf,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// A manager and a requester who can sign in; tokens for the manager.
fn start() -> (App, String) {
    start_with(false)
}

fn start_with(secure_cookies: bool) -> (App, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("abm.db");
    let store = SqliteStore::open(&db).unwrap();
    let token = common::member(&db, "mmanager", Role::Manager, Some("correct horse"));
    common::member(&db, "sales-sam", Role::Requester, Some("sam's secret"));
    common::member(&db, "exec-eve", Role::Viewer, Some("eve's secret"));
    let base =
        common::serve(abm_server::AppState::new(Box::new(store) as Box<dyn Store>).with_secure_cookies(secure_cookies));
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    (
        App {
            base,
            db,
            agent,
            _dir: dir,
        },
        token,
    )
}

struct Reply {
    code: u16,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

fn reply(r: ureq::Response) -> Reply {
    Reply {
        code: r.status(),
        location: r.header("location").map(str::to_string),
        cookies: r.all("set-cookie").into_iter().map(str::to_string).collect(),
        body: r.into_string().unwrap(),
    }
}

impl App {
    fn send(&self, method: &str, path: &str, cookie: Option<&str>, form: Option<&[(&str, &str)]>) -> Reply {
        let mut req = self.agent.request(method, &format!("{}{}", self.base, path));
        if let Some(c) = cookie {
            req = req.set("Cookie", c);
        }
        let res = match form {
            Some(f) => req.send_form(f),
            None => req.call(),
        };
        match res {
            Ok(r) | Err(ureq::Error::Status(_, r)) => reply(r),
            Err(e) => panic!("{path}: {e}"),
        }
    }

    /// Post the sign-in form (fetched afresh, with its login cookie).
    fn attempt(&self, username: &str, password: &str) -> Reply {
        self.attempt_from(None, username, password)
    }

    /// [`App::attempt`] from a browser holding `device` (an `abm_device=…` cookie pair) too.
    fn attempt_from(&self, device: Option<&str>, username: &str, password: &str) -> Reply {
        let form = self.send("GET", "/login", None, None);
        assert_eq!(form.code, 200);
        let mut cookies = cookie_pair(&form.cookies, "abm_login");
        if let Some(d) = device {
            cookies = format!("{cookies}; {d}");
        }
        let csrf = csrf_of(&form.body);
        self.send(
            "POST",
            "/login",
            Some(&cookies),
            Some(&[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
                ("next", "/board"),
            ]),
        )
    }

    /// Sign in through the form; returns the session cookie and its CSRF token.
    fn sign_in(&self, username: &str, password: &str) -> (String, String) {
        let r = self.attempt(username, password);
        assert_eq!(r.code, 303, "{}", r.body);
        let session = cookie_pair(&r.cookies, "abm_session");
        let page = self.send("GET", "/board", Some(&session), None);
        assert_eq!(page.code, 200);
        let token = csrf_of(&page.body);
        (session, token)
    }
}

/// `name=value` of a Set-Cookie header.
fn cookie_pair(set: &[String], name: &str) -> String {
    set.iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {set:?}"))
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The value of the first hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

fn api(app: &App, path: &str, token: &str) -> (u16, Value) {
    match ureq::get(&format!("{}{}", app.base, path))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r.into_json().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn strangers_are_sent_to_sign_in() {
    let (app, token) = start();
    let r = app.send("GET", "/requests?all=true", None, None);
    assert_eq!(r.code, 303);
    assert_eq!(r.location.as_deref(), Some("/login?next=%2Frequests%3Fall%3Dtrue"));
    let r = app.send("GET", "/api/requests", None, None);
    assert_eq!(r.code, 401);
    assert!(r.body.contains("sign in first"), "{}", r.body);
    assert_eq!(app.send("GET", "/healthz", None, None).code, 200);
    // Tokens: a live one works, a made-up one is refused, a revoked one stops working.
    let (code, me) = api(&app, "/api/me", &token);
    assert_eq!(
        (code, me["username"].as_str(), me["role"].as_str()),
        (200, Some("mmanager"), Some("manager"))
    );
    assert_eq!(api(&app, "/api/me", "abm_made_up").0, 401);
    let mut store = SqliteStore::open(&app.db).unwrap();
    let label = store
        .api_tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.username == "mmanager")
        .unwrap()
        .label;
    assert!(store.revoke_api_token("mmanager", &label).unwrap());
    assert_eq!(api(&app, "/api/me", &token).0, 401, "a revoked token is refused");
    // A forged session (an unsigned cookie) is no session.
    let r = app.send("GET", "/board", Some("abm_session=mmanager:x:y:99999999999"), None);
    assert_eq!(r.code, 303);
}

#[test]
fn sign_in_checks_the_password_and_the_form() {
    let (app, _) = start();
    let form = app.send("GET", "/login?next=/paid", None, None);
    let login_cookie = cookie_pair(&form.cookies, "abm_login");
    let csrf = csrf_of(&form.body);
    assert!(form.body.contains("value=\"/paid\""), "the page to return to is kept");
    let post = |cookie: Option<&str>, csrf: &str, password: &str, next: &str| {
        app.send(
            "POST",
            "/login",
            cookie,
            Some(&[
                ("csrf", csrf),
                ("username", "mmanager"),
                ("password", password),
                ("next", next),
            ]),
        )
    };
    let wrong = post(Some(&login_cookie), &csrf, "wrong horse", "/paid");
    assert_eq!(wrong.code, 401);
    assert!(wrong.body.contains("Wrong username or password"));
    assert!(wrong.cookies.iter().all(|c| !c.starts_with("abm_session=")));
    // Without the login cookie the form's token proves nothing (login CSRF).
    assert_eq!(post(None, &csrf, "correct horse", "/paid").code, 403);
    let ok = post(Some(&login_cookie), &csrf, "correct horse", "//evil.example/");
    assert_eq!(ok.code, 303);
    assert_eq!(
        ok.location.as_deref(),
        Some("/"),
        "only paths on this site are followed"
    );
    let set = ok.cookies.iter().find(|c| c.starts_with("abm_session=")).unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let session = cookie_pair(&ok.cookies, "abm_session");
    let page = app.send("GET", "/requests", Some(&session), None);
    assert_eq!(page.code, 200);
    assert!(
        page.body.contains("data-user=\"mmanager\""),
        "the header names who is signed in"
    );

    // A new password signs out every session made with the old one.
    let mut store = SqliteStore::open(&app.db).unwrap();
    abm_workspace::users::set_password(&mut store, "mmanager", "battery staple", chrono::Utc::now()).unwrap();
    assert_eq!(app.send("GET", "/requests", Some(&session), None).code, 303);
}

#[test]
fn pages_change_requests_by_role_with_csrf() {
    let (app, _) = start();
    let (boss, boss_csrf) = app.sign_in("mmanager", "correct horse");
    // A request from the template form.
    let r = app.send(
        "POST",
        "/requests/new",
        Some(&boss),
        Some(&[
            ("csrf", &boss_csrf),
            ("template", "direct-mail"),
            ("title", "Socks for Acme"),
            ("due", "2030-01-15"),
            ("field.item", "socks"),
        ]),
    );
    assert_eq!(r.code, 303, "{}", r.body);
    let at = r.location.unwrap();
    let id: i64 = at
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let page = app.send("GET", &at, Some(&boss), None);
    assert!(page.body.contains("Request submitted."), "{}", page.body);
    assert!(page.body.contains("ABM-Priority::TBD"));

    // Moving a card without the form's token changes nothing; with it, the label changes.
    let no_token = app.send(
        "POST",
        "/board/move",
        Some(&boss),
        Some(&[("id", &id.to_string()), ("to", "High")]),
    );
    assert_eq!(no_token.code, 403);
    assert!(no_token.body.contains("CSRF"), "{}", no_token.body);
    let other = app.send(
        "POST",
        "/board/move",
        Some(&boss),
        Some(&[("csrf", "not-the-token"), ("id", &id.to_string()), ("to", "High")]),
    );
    assert_eq!(other.code, 403);
    let labels = |cookie: &str| {
        let page = app.send("GET", &format!("/requests/{id}"), Some(cookie), None).body;
        let at = page.find("data-field=\"labels\">").unwrap();
        page[at..].split("</dd>").next().unwrap().to_string()
    };
    assert!(labels(&boss).contains("ABM-Priority::TBD"));
    let moved = app.send(
        "POST",
        "/board/move",
        Some(&boss),
        Some(&[("csrf", &boss_csrf), ("id", &id.to_string()), ("to", "High")]),
    );
    assert_eq!(moved.code, 303);
    assert_eq!(moved.location.as_deref(), Some(format!("/board#card-{id}").as_str()));
    let now = labels(&boss);
    assert!(
        now.contains("ABM-Priority::High") && !now.contains("ABM-Priority::TBD"),
        "{now}"
    );
    let bad = app.send(
        "POST",
        "/board/move",
        Some(&boss),
        Some(&[("csrf", &boss_csrf), ("id", &id.to_string()), ("to", "Urgent")]),
    );
    assert_eq!(bad.code, 400);
    assert!(bad.body.contains("Top, High, Med, Low, TBD"), "{}", bad.body);

    // A requester may comment, but is refused a due-date change, and the refusal is audited.
    let (sam, sam_csrf) = app.sign_in("sales-sam", "sam's secret");
    let page = app.send("GET", &format!("/requests/{id}"), Some(&sam), None).body;
    assert!(
        !page.contains("data-form=\"priority\""),
        "a requester is not offered the priority"
    );
    let due = app.send(
        "POST",
        &format!("/requests/{id}"),
        Some(&sam),
        Some(&[("csrf", &sam_csrf), ("action", "due"), ("due", "2030-01-02")]),
    );
    assert_eq!(due.code, 403);
    assert!(due.body.contains("Refused:"), "{}", due.body);
    assert!(due.body.contains("2030-01-15"), "the due date is unchanged");
    let (_, log) = api(
        &app,
        &format!("/api/requests/{id}/log"),
        &common::member(&app.db, "mmanager", Role::Manager, None),
    );
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "sales-sam" && e["refused"] == true),
        "{log}"
    );
    // Sam's token is Sam's: it does not work in the manager's session.
    let cross = app.send(
        "POST",
        &format!("/requests/{id}"),
        Some(&boss),
        Some(&[("csrf", &sam_csrf), ("action", "comment"), ("body", "hi")]),
    );
    assert_eq!(cross.code, 403);
    let comment = app.send(
        "POST",
        &format!("/requests/{id}"),
        Some(&sam),
        Some(&[("csrf", &sam_csrf), ("action", "comment"), ("body", "Any news?")]),
    );
    assert_eq!(comment.code, 303);

    // A viewer is offered no changes, and the desk refuses them anyway.
    let (eve, eve_csrf) = app.sign_in("exec-eve", "eve's secret");
    let page = app.send("GET", &format!("/requests/{id}"), Some(&eve), None).body;
    assert!(page.contains("a viewer does not change requests") && !page.contains("data-form=\"comment\""));
    let r = app.send(
        "POST",
        &format!("/requests/{id}"),
        Some(&eve),
        Some(&[("csrf", &eve_csrf), ("action", "comment"), ("body", "hi")]),
    );
    assert_eq!(r.code, 403);

    // Signing out ends the session: the cookie is cleared, and a copy kept elsewhere no longer
    // works; another session of the same person goes on.
    let (other, _) = app.sign_in("mmanager", "correct horse");
    assert_eq!(app.send("GET", "/requests", Some(&boss), None).code, 200);
    let out = app.send("POST", "/logout", Some(&boss), Some(&[("csrf", &boss_csrf)]));
    assert_eq!(out.code, 303);
    let cleared = out.cookies.iter().find(|c| c.starts_with("abm_session=")).unwrap();
    assert!(
        cleared.contains("Max-Age=0") || cleared.contains("Expires"),
        "{cleared}"
    );
    let copied = app.send("GET", "/requests", Some(&boss), None);
    assert_eq!(copied.code, 303, "a copy of a signed-out cookie is refused");
    let to = copied.location.unwrap_or_default();
    assert!(to.starts_with("/login"), "{to}");
    assert_eq!(app.send("GET", "/requests", Some(&other), None).code, 200);
}

/// Someone guessing a colleague's password locks out browsers the colleague has not signed in
/// on, not the colleague at their own browser (which a signed cookie remembers); that browser's
/// own wrong guesses are counted, and lock it, all the same.
#[test]
fn guessing_does_not_lock_a_colleague_out_of_their_own_browser() {
    let (app, _) = start();
    let mine = app.attempt("mmanager", "correct horse");
    assert_eq!(mine.code, 303, "{}", mine.body);
    let device = cookie_pair(&mine.cookies, "abm_device");
    for _ in 0..5 {
        assert_eq!(app.attempt("MManager", "wrong horse").code, 401);
    }
    assert_eq!(
        app.attempt("mmanager", "correct horse").code,
        429,
        "an unknown browser waits"
    );
    let again = app.attempt_from(Some(&device), "mmanager", "correct horse");
    assert_eq!(again.code, 303, "{}", again.body);
    // The cookie speaks only for the name it was given for.
    let sams = app.attempt("sales-sam", "sam's secret");
    let sams_device = cookie_pair(&sams.cookies, "abm_device");
    assert_eq!(
        app.attempt_from(Some(&sams_device), "mmanager", "correct horse").code,
        429
    );
    // A forged cookie is not signed: it counts as none.
    assert_eq!(
        app.attempt_from(Some("abm_device=mmanager:forged"), "mmanager", "correct horse")
            .code,
        429
    );
    for _ in 0..5 {
        assert_eq!(app.attempt_from(Some(&device), "mmanager", "wrong horse").code, 401);
    }
    assert_eq!(app.attempt_from(Some(&device), "mmanager", "correct horse").code, 429);
}

/// Five wrong passwords for a name, and that name is refused unchecked for a while, even with the
/// right password; other people are not affected. `abm serve --secure-cookies` marks cookies
/// Secure.
#[test]
fn guessing_is_slowed_and_cookies_can_be_https_only() {
    let (app, _) = start();
    let attempt = |username: &str, password: &str| app.attempt(username, password);
    for _ in 0..5 {
        assert_eq!(attempt("mmanager", "wrong horse").code, 401);
    }
    let refused = attempt("MManager", "correct horse");
    assert_eq!(refused.code, 429, "{}", refused.body);
    assert!(
        refused.body.contains("Too many failed sign-ins for MManager"),
        "{}",
        refused.body
    );
    assert!(refused.cookies.iter().all(|c| !c.starts_with("abm_session=")));
    assert_eq!(
        attempt("sales-sam", "sam's secret").code,
        303,
        "others sign in as usual"
    );

    let (secure, _) = start_with(true);
    let form = secure.send("GET", "/login", None, None);
    assert!(
        form.cookies.iter().all(|c| c.contains("; Secure")),
        "{:?}",
        form.cookies
    );
    assert!(app
        .send("GET", "/login", None, None)
        .cookies
        .iter()
        .all(|c| !c.contains("Secure")));
}
