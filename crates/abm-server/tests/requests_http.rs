//! The intake API over real HTTP: the app on a random port against a fresh SQLite database.

use abm_core::intake::Role;
use abm_store::{SqliteStore, Store};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;

mod common;

struct App {
    base: String,
    db: std::path::PathBuf,
    /// Each signed-in person's API token.
    tokens: RefCell<HashMap<String, String>>,
    _dir: tempfile::TempDir,
}

/// The app with a manager (`mmanager`) who can sign in.
fn start() -> App {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("abm.db");
    let store = SqliteStore::open(&db).unwrap();
    let boss = common::member(&db, "mmanager", Role::Manager, None);
    let base = common::serve(abm_server::AppState::new(Box::new(store) as Box<dyn Store>));
    App {
        base,
        db,
        tokens: RefCell::new([("mmanager".to_string(), boss)].into()),
        _dir: dir,
    }
}

/// Call the API as `who` (by their token; a name without one sends an unknown token), or as
/// nobody.
fn call(app: &App, method: &str, path: &str, who: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut req = ureq::request(method, &format!("{}{}", app.base, path));
    if let Some(w) = who {
        let token = app
            .tokens
            .borrow()
            .get(w)
            .cloned()
            .unwrap_or_else(|| format!("abm_unknown_{w}"));
        req = req.set("Authorization", &format!("Bearer {token}"));
    }
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let (code, text) = match res {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("{path}: {e}"),
    };
    (
        code,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}")),
    )
}

/// The manager adds a member and a requester, who are then given API tokens.
fn team(app: &App) {
    for (u, role) in [("aabm", "member"), ("sales-sam", "requester")] {
        let (code, v) = call(
            app,
            "POST",
            "/api/team",
            Some("mmanager"),
            Some(json!({"username": u, "role": role})),
        );
        assert_eq!(code, 201, "{v}");
        let token = common::member(&app.db, u, Role::Member, None);
        app.tokens.borrow_mut().insert(u.to_string(), token);
    }
}

#[test]
fn a_request_through_its_life() {
    let app = start();
    team(&app);
    let (code, v) = call(
        &app,
        "POST",
        "/api/requests",
        Some("sales-sam"),
        Some(json!({
            "template": "tier1-plan", "title": "Plan for Acme",
            "fields": {"account": "Acme"}, "due": "2026-12-01", "labels": ["ABM-Priority::Low"]
        })),
    );
    assert_eq!(code, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (_, list) = call(&app, "GET", "/api/triage", Some("mmanager"), None);
    assert_eq!(list[0]["missing"], json!(["sales_owner"]));
    let (code, v) = call(
        &app,
        "POST",
        &format!("/api/requests/{id}/triage"),
        Some("mmanager"),
        None,
    );
    assert_eq!(code, 200, "{v}");
    assert!(v["request"]["labels"]
        .as_array()
        .unwrap()
        .contains(&json!("mktg-status::blocked")));
    let (code, v) = call(
        &app,
        "PATCH",
        &format!("/api/requests/{id}"),
        Some("sales-sam"),
        Some(json!({"fields": {"sales_owner": "Sam"}})),
    );
    assert_eq!(code, 200, "{v}");
    assert!(v["request"]["labels"]
        .as_array()
        .unwrap()
        .contains(&json!("mktg-status::triage")));
    assert!(v["request"]["details_complete"].is_object());
    // A requester may not move the due date; the manager may. Both attempts are logged.
    let (code, v) = call(
        &app,
        "PATCH",
        &format!("/api/requests/{id}"),
        Some("sales-sam"),
        Some(json!({"due_date": "2026-12-24"})),
    );
    assert_eq!(code, 403);
    assert!(
        v["error"].as_str().unwrap().contains("only the manager mmanager"),
        "{v}"
    );
    let (code, _) = call(
        &app,
        "PATCH",
        &format!("/api/requests/{id}"),
        Some("mmanager"),
        Some(json!({"due_date": "2026-12-24", "add_labels": ["ABM-Priority::High"]})),
    );
    assert_eq!(code, 200);
    let (_, log) = call(&app, "GET", &format!("/api/requests/{id}/log"), Some("mmanager"), None);
    let due: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "due_date" && e["actor"] != "abm")
        .collect();
    assert_eq!(due.len(), 2);
    assert_eq!(
        (due[0]["refused"].as_bool(), due[1]["refused"].as_bool()),
        (Some(true), Some(false))
    );
    let (_, v) = call(&app, "GET", &format!("/api/requests/{id}"), Some("mmanager"), None);
    let labels = v["request"]["labels"].as_array().unwrap();
    assert!(labels.contains(&json!("ABM-Priority::High")) && !labels.contains(&json!("ABM-Priority::Low")));
    assert!(v["sla"]["sla_date"].is_string());
    let (code, v) = call(
        &app,
        "POST",
        &format!("/api/requests/{id}/triage"),
        Some("mmanager"),
        Some(json!({"assignee": "aabm"})),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["request"]["assignee"], "aabm");
    let (_, s) = call(&app, "GET", "/api/sla/status", Some("mmanager"), None);
    assert_eq!(s["requests"][0]["id"], id);
    let (code, _) = call(
        &app,
        "POST",
        &format!("/api/requests/{id}/comments"),
        Some("sales-sam"),
        Some(json!({"body": "Thanks!"})),
    );
    assert_eq!(code, 200);
    let (code, _) = call(&app, "POST", &format!("/api/requests/{id}/close"), Some("aabm"), None);
    assert_eq!(code, 200);
    let (_, open) = call(&app, "GET", "/api/requests", Some("mmanager"), None);
    assert_eq!(open, json!([]));
    let (_, r) = call(
        &app,
        "GET",
        "/api/sla/report?from=2000-01-01&to=2100-01-01",
        Some("mmanager"),
        None,
    );
    assert_eq!(r["submitted"], 1);
}

#[test]
fn bad_bodies_name_the_json_path_and_store_nothing() {
    let app = start();
    team(&app);
    let post = |body: Value| call(&app, "POST", "/api/requests", Some("sales-sam"), Some(body));
    for (body, want) in [
        (
            json!({"template": "podcast", "title": "x"}),
            "unknown template \"podcast\"",
        ),
        (json!({"title": "x"}), "missing field `template`"),
        (
            json!({"template": "tier1-plan", "title": "x", "due": "01/12/2026"}),
            "due: expected a date",
        ),
        (
            json!({"template": "tier1-plan", "title": "x", "labels": ["ok", "ABM-Priority::"]}),
            "labels[1]:",
        ),
        (
            json!({"template": "tier1-plan", "title": "x", "fields": {"account": 5}}),
            "fields.account:",
        ),
        (
            json!({"template": "tier1-plan", "title": "x", "colour": "red"}),
            "unknown field `colour`",
        ),
        (
            json!({"template": "direct-mail", "title": "x", "fields": {"ship_by": "soon"}}),
            "field ship_by: expected a date",
        ),
        (
            json!({"template": "tier1-plan", "title": " "}),
            "field title: is required",
        ),
    ] {
        let (code, v) = post(body.clone());
        assert_eq!(code, 400, "{body}: {v}");
        assert!(v["error"].as_str().unwrap().contains(want), "{body}: {v}");
    }
    let (code, _) = call(
        &app,
        "POST",
        "/api/requests",
        None,
        Some(json!({"template": "tier1-plan", "title": "x"})),
    );
    assert_eq!(code, 401, "nobody said who they are");
    let (code, _) = call(
        &app,
        "POST",
        "/api/requests",
        Some("stranger"),
        Some(json!({"template": "tier1-plan", "title": "x"})),
    );
    assert_eq!(code, 401, "an unknown token is refused");
    let (code, v) = call(&app, "GET", "/api/requests/abc", Some("mmanager"), None);
    assert_eq!(code, 400, "{v}");
    let (code, _) = call(&app, "GET", "/api/requests/99", Some("mmanager"), None);
    assert_eq!(code, 404);
    let (code, v) = call(&app, "GET", "/api/sla/report?from=2026-01-01", Some("mmanager"), None);
    assert_eq!(code, 400);
    assert!(v["error"].as_str().unwrap().contains("query parameter to"), "{v}");
    let (_, all) = call(&app, "GET", "/api/requests?all=true", Some("mmanager"), None);
    assert_eq!(all, json!([]), "nothing was stored");
}

#[test]
fn workback_schedules_and_creates_requests_once() {
    let app = start();
    team(&app);
    let body = json!({"template": "external-content", "launch": "2030-03-01", "create_requests": true});
    let (code, v) = call(&app, "POST", "/api/workback", Some("mmanager"), Some(body.clone()));
    assert_eq!(code, 200, "{v}");
    let tasks = v["schedule"]["tasks"].as_array().unwrap().len();
    assert_eq!(v["created"].as_array().unwrap().len(), tasks);
    let (_, v) = call(&app, "POST", "/api/workback", Some("mmanager"), Some(body));
    assert_eq!(v["created"], json!([]), "running it again creates nothing new");
    let (_, open) = call(&app, "GET", "/api/requests", Some("mmanager"), None);
    assert_eq!(open.as_array().unwrap().len(), tasks);
}

#[test]
fn plans_and_boards() {
    let app = start();
    team(&app);
    let mut ids = Vec::new();
    for (priority, weight) in [("High", 5), ("Low", 2)] {
        let (code, v) = call(
            &app,
            "POST",
            "/api/requests",
            Some("aabm"),
            Some(json!({
                "template": "abm-milestoneplan", "title": format!("{priority} work"), "fields": {"milestone": "Q1"},
                "due": "2030-03-01", "labels": [format!("ABM-Priority::{priority}")], "weight": weight
            })),
        );
        assert_eq!(code, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (code, _) = call(
            &app,
            "PATCH",
            &format!("/api/requests/{id}"),
            Some("mmanager"),
            Some(json!({"assignee": "aabm"})),
        );
        assert_eq!(code, 200);
        ids.push(id);
    }
    let (_, ms) = call(
        &app,
        "GET",
        "/api/milestones?from=2030-03-01&count=1",
        Some("mmanager"),
        None,
    );
    let name = ms[0]["name"].as_str().unwrap().to_string();
    assert!(ms[0]["start"].as_str().unwrap() <= "2030-03-01" && ms[0]["end"].as_str().unwrap() >= "2030-03-01");
    let q = format!("name={}", name.replace(' ', "%20"));
    let (code, plan) = call(&app, "GET", &format!("/api/plan/milestone?{q}"), Some("mmanager"), None);
    assert_eq!(code, 200, "{plan}");
    let aabm = plan["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["capacity"]["username"] == "aabm")
        .unwrap();
    assert!(aabm["committed_hours"].as_f64().unwrap() <= aabm["capacity"]["budget_hours"].as_f64().unwrap());
    let (_, board) = call(
        &app,
        "GET",
        &format!("/api/boards/milestone?{q}"),
        Some("mmanager"),
        None,
    );
    assert_eq!(board["lanes"][0]["hours"].as_f64(), Some(48.0), "40 h + 8 h");
    let (code, v) = call(
        &app,
        "POST",
        "/api/boards/priority/move",
        Some("sales-sam"),
        Some(json!({"id": ids[1], "to": "Top"})),
    );
    assert_eq!(code, 403, "{v}");
    let (code, v) = call(
        &app,
        "POST",
        "/api/boards/priority/move",
        Some("mmanager"),
        Some(json!({"id": ids[1], "to": "Huge"})),
    );
    assert_eq!(code, 400);
    assert!(v["error"].as_str().unwrap().starts_with("to:"), "{v}");
    let (code, _) = call(
        &app,
        "POST",
        "/api/boards/priority/move",
        Some("mmanager"),
        Some(json!({"id": ids[1], "to": "top"})),
    );
    assert_eq!(code, 200);
    let (_, cols) = call(&app, "GET", "/api/boards/priority", Some("mmanager"), None);
    assert_eq!(cols[0]["name"], "Top");
    assert_eq!(cols[0]["cards"][0]["id"], ids[1]);
    let (code, v) = call(
        &app,
        "GET",
        "/api/plan/milestone?name=Mktg:%202030-03-05",
        Some("mmanager"),
        None,
    );
    assert_eq!(code, 400);
    assert!(v["error"].as_str().unwrap().contains("query parameter name"), "{v}");
    let (code, _) = call(&app, "GET", "/api/boards/blocked", Some("mmanager"), None);
    assert_eq!(code, 200);
    let (code, _) = call(&app, "GET", "/api/plan/carry-over", Some("mmanager"), None);
    assert_eq!(code, 200);
    // The Planning page shows the same plan: each person's hours against the 70% budget.
    let boss = app.tokens.borrow()["mmanager"].clone();
    let page = |path: &str| match ureq::get(&format!("{}{}", app.base, path))
        .set("Authorization", &format!("Bearer {boss}"))
        .call()
    {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap()),
        Err(e) => panic!("{path}: {e}"),
    };
    let (code, html) = page(&format!("/planning?{q}"));
    assert_eq!(code, 200, "{html}");
    assert!(html.contains(&format!("Planning {name}")), "{html}");
    let budget = format!("{:.1}", aabm["capacity"]["budget_hours"].as_f64().unwrap());
    let committed = format!("{:.1}", aabm["committed_hours"].as_f64().unwrap());
    assert!(
        html.contains(&format!("<td>aabm</td>")) && html.contains(&budget) && html.contains(&committed),
        "{html}"
    );
    assert_eq!(
        html.matches("drop: ").count(),
        plan["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["dropped"].as_array().unwrap().len())
            .sum::<usize>(),
        "every proposed drop is shown with why"
    );
    let (code, html) = page("/planning?name=Mktg:%202030-03-05");
    assert_eq!(code, 400);
    assert!(html.contains("2030-03-05 does not end a milestone"), "{html}");
    let (code, _) = page("/planning?who=aabm");
    assert_eq!(code, 400);
    // The intake pages: open requests with SLA badges, the board, a request with its audit log.
    let (code, html) = page("/requests");
    assert_eq!(code, 200, "{html}");
    let open = call(&app, "GET", "/api/sla/status", Some("mmanager"), None).1["requests"]
        .as_array()
        .unwrap()
        .len();
    let triage = call(&app, "GET", "/api/triage", Some("mmanager"), None)
        .1
        .as_array()
        .unwrap()
        .len();
    assert!(open > 0);
    assert_eq!(
        html.matches("data-sla=").count(),
        open + triage,
        "a badge for every open request, triage first"
    );
    assert!(html.contains(&format!("Triage ({triage})")));
    let (code, html) = page("/board");
    assert_eq!(code, 200);
    assert!(
        html.contains("data-column=\"Top\"") && html.contains(&format!("href=\"/requests/{}\"", ids[1])),
        "{html}"
    );
    let (code, html) = page(&format!("/requests/{}", ids[1]));
    assert_eq!(code, 200);
    let (_, log) = call(
        &app,
        "GET",
        &format!("/api/requests/{}/log", ids[1]),
        Some("mmanager"),
        None,
    );
    assert_eq!(
        html.split("data-table=\"audit\"")
            .nth(1)
            .unwrap()
            .matches("<tr")
            .count()
            - 1,
        log.as_array().unwrap().len(),
        "every audit entry is a row"
    );
    assert!(html.contains("(refused)"), "the requester's refused move is in the log");
    assert_eq!(page("/requests/x").0, 400);
    assert_eq!(page("/requests/999999").0, 404);
}
