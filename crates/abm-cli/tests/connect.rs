//! GitLab sync and Slack updates through the `abm` binary, against local stand-ins: a GitLab
//! that answers as its REST API documents (pagination headers, label events, PUT with
//! add_labels/remove_labels) and a Slack webhook receiver. No test reaches the network.

mod common;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{abm, fails, json, ok, team_workspace, text};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "glpat-test-token";
const PAGE: usize = 2;

#[derive(Default)]
struct GitlabState {
    issues: Vec<Value>,
    events: HashMap<i64, Vec<Value>>,
    labels: Vec<String>,
    puts: Vec<(i64, Value)>,
}

type Shared = Arc<Mutex<GitlabState>>;

fn authorised(h: &HeaderMap) -> bool {
    h.get("PRIVATE-TOKEN").and_then(|v| v.to_str().ok()) == Some(TOKEN)
}

/// A GitLab listing: PAGE items a page, with the headers GitLab sends.
fn paged(items: &[Value], q: &HashMap<String, String>) -> Response {
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let pages = items.len().div_ceil(PAGE).max(1);
    let slice: Vec<Value> = items.iter().skip((page - 1) * PAGE).take(PAGE).cloned().collect();
    let next = if page < pages {
        (page + 1).to_string()
    } else {
        String::new()
    };
    (
        [
            ("X-Page", page.to_string()),
            ("X-Per-Page", PAGE.to_string()),
            ("X-Next-Page", next),
            ("X-Total-Pages", pages.to_string()),
            ("X-Total", items.len().to_string()),
        ],
        Json(Value::Array(slice)),
    )
        .into_response()
}

async fn issues(
    State(s): State<Shared>,
    h: HeaderMap,
    Path(p): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !authorised(&h) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "401 Unauthorized"}))).into_response();
    }
    assert_eq!(p, "marketing/abm", "the project path arrives encoded as one segment");
    assert_eq!(q.get("state").map(String::as_str), Some("all"));
    paged(&s.lock().unwrap().issues, &q)
}

async fn events(
    State(s): State<Shared>,
    Path((_, iid)): Path<(i64, i64)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = s.lock().unwrap();
    paged(st.events.get(&iid).map(|v| v.as_slice()).unwrap_or(&[]), &q)
}

async fn labels(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let l: Vec<Value> = s
        .lock()
        .unwrap()
        .labels
        .iter()
        .map(|n| json!({"id": 1, "name": n}))
        .collect();
    paged(&l, &q)
}

async fn milestones(Query(q): Query<HashMap<String, String>>) -> Response {
    paged(&[json!({"id": 77, "iid": 1, "title": "Mktg: 2026-12-20"})], &q)
}

async fn members(Query(q): Query<HashMap<String, String>>) -> Response {
    paged(
        &[
            json!({"id": 11, "username": "aabm"}),
            json!({"id": 12, "username": "mmanager"}),
        ],
        &q,
    )
}

async fn update(
    State(s): State<Shared>,
    h: HeaderMap,
    Path((_, iid)): Path<(i64, i64)>,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&h) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut st = s.lock().unwrap();
    st.puts.push((iid, body.clone()));
    let issue = st.issues.iter_mut().find(|i| i["iid"] == iid).expect("a known issue");
    let mut labels: Vec<String> = issue["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    if let Some(add) = body["add_labels"].as_str() {
        labels.extend(add.split(',').map(str::to_string));
    }
    if let Some(rm) = body["remove_labels"].as_str() {
        let rm: Vec<&str> = rm.split(',').collect();
        labels.retain(|l| !rm.contains(&l.as_str()));
    }
    issue["labels"] = json!(labels);
    if let Some(d) = body.get("due_date") {
        issue["due_date"] = d.clone();
    }
    if let Some(id) = body.get("milestone_id") {
        issue["milestone"] = json!({"id": id, "title": "Mktg: 2026-12-20"});
    }
    if let Some(ids) = body["assignee_ids"].as_array() {
        let name = |id: &Value| if id == 11 { "aabm" } else { "mmanager" };
        issue["assignees"] = json!(ids
            .iter()
            .map(|i| json!({"id": i, "username": name(i)}))
            .collect::<Vec<_>>());
    }
    Json(issue.clone()).into_response()
}

fn event(action: &str, label: &str, at: &str, user: &str) -> Value {
    json!({"id": 1, "action": action, "label": {"id": 1, "name": label}, "created_at": at, "user": {"username": user}})
}

fn issue(iid: i64, title: &str, labels: &[&str], due: &str, fields: &str) -> Value {
    json!({
        "id": 1000 + iid, "iid": iid, "project_id": 42, "title": title,
        "description": format!("Template: tier1-plan\n{fields}"),
        "state": "opened", "labels": labels, "milestone": null,
        "assignees": [], "author": {"username": "sales-sam"},
        "due_date": due, "weight": 2, "time_stats": {"time_estimate": 0, "total_time_spent": 0},
        "created_at": "2026-11-02T14:00:00.000Z", "updated_at": "2026-11-03T10:00:00.000Z",
        "web_url": format!("https://gitlab.example/marketing/abm/-/issues/{iid}")
    })
}

fn serve(router: Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

fn gitlab_stand_in() -> (String, Shared) {
    let mut st = GitlabState {
        labels: [
            "mktg-status::triage",
            "mktg-status::wip",
            "mktg-status::blocked",
            "ABM-Priority::Low",
            "ABM-Priority::High",
            "abm-request",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ..Default::default()
    };
    let complete = "- account: Acme\n- sales_owner: Sam";
    st.issues = vec![
        issue(
            1,
            "Plan for Acme",
            &["mktg-status::triage", "ABM-Priority::Low", "abm-request"],
            "2026-12-18",
            complete,
        ),
        issue(
            2,
            "Plan for Beta",
            &["mktg-status::blocked", "ABM-Priority::Low"],
            "2026-12-11",
            "- account: Beta",
        ),
        issue(
            3,
            "Plan for Gamma",
            &["mktg-status::triage", "ABM-Priority::High"],
            "2026-12-24",
            complete,
        ),
    ];
    st.events.insert(
        1,
        vec![
            event("add", "mktg-status::triage", "2026-11-02T14:00:00.000Z", "sales-sam"),
            event("add", "ABM-Priority::Low", "2026-11-02T14:00:00.000Z", "sales-sam"),
        ],
    );
    st.events.insert(
        2,
        vec![
            event("add", "mktg-status::triage", "2026-11-02T14:00:00.000Z", "sales-sam"),
            event("remove", "mktg-status::triage", "2026-11-03T09:00:00.000Z", "mmanager"),
            event("add", "mktg-status::blocked", "2026-11-03T09:00:00.000Z", "mmanager"),
        ],
    );
    let shared: Shared = Arc::new(Mutex::new(st));
    let router = Router::new()
        .route("/api/v4/projects/:id/issues", get(issues))
        .route("/api/v4/projects/:id/issues/:iid", axum::routing::put(update))
        .route("/api/v4/projects/:id/issues/:iid/resource_label_events", get(events))
        .route("/api/v4/projects/:id/labels", get(labels))
        .route("/api/v4/projects/:id/milestones", get(milestones))
        .route("/api/v4/projects/:id/members/all", get(members))
        .with_state(shared.clone());
    (serve(router), shared)
}

fn with_gitlab(ws: &std::path::Path, base: &str) {
    let cfg = ws.join("abm.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "\n[gitlab]\nbase_url = \"{base}\"\nproject = \"marketing/abm\"\ntoken_env = \"ABM_TEST_GITLAB_TOKEN\"\n"
    ));
    std::fs::write(cfg, text).unwrap();
}

fn sync(ws: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["gitlab", "sync"];
    args.extend_from_slice(extra);
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_abm"));
    c.arg("--workspace")
        .arg(ws)
        .args(&args)
        .env("ABM_TODAY", "2026-11-30")
        .env("ABM_TEST_GITLAB_TOKEN", TOKEN);
    c.output().unwrap()
}

fn find<'a>(list: &'a Value, title: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|r| r["title"] == title).unwrap()
}

#[test]
fn gitlab_round_trip() {
    let (base, gl) = gitlab_stand_in();
    let (_dir, ws) = team_workspace();
    with_gitlab(&ws, &base);
    let msg = fails(abm(&ws, "2026-11-30", None, &["gitlab", "sync"]));
    assert!(msg.contains("ABM_TEST_GITLAB_TOKEN"), "{msg}");

    // First sync: three issues over two pages, imported with their labels and label history.
    let out = ok(sync(&ws, &[]));
    assert!(out.contains("3 issues on GitLab: 3 imported"), "{out}");
    let all = json(abm(
        &ws,
        "2026-11-30",
        None,
        &["requests", "list", "--all", "--format", "json"],
    ));
    assert_eq!(all.as_array().unwrap().len(), 3);
    let acme = find(&all, "Plan for Acme");
    assert_eq!(acme["external_id"], "gitlab:1");
    assert!(
        acme["details_complete"].is_object(),
        "details were complete in the description"
    );
    let beta = find(&all, "Plan for Beta");
    assert!(beta["labels"]
        .as_array()
        .unwrap()
        .contains(&json!("mktg-status::blocked")));
    assert_eq!(beta["times_blocked"], 1);
    let acme_id = acme["id"].as_i64().unwrap().to_string();
    let log = json(abm(
        &ws,
        "2026-11-30",
        None,
        &["requests", "log", &acme_id, "--format", "json"],
    ));
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"] == "sales-sam" && e["after"] == "ABM-Priority::Low"));

    // A scoped-label change in abm is pushed as add_labels/remove_labels; a dry run pushes nothing.
    ok(abm(
        &ws,
        "2026-11-30",
        Some("mmanager"),
        &["requests", "edit", &acme_id, "--label", "ABM-Priority::High"],
    ));
    let out = ok(sync(&ws, &["--dry-run"]));
    assert!(out.contains("add_labels") && out.contains("dry run"), "{out}");
    assert!(gl.lock().unwrap().puts.is_empty(), "a dry run sends nothing");
    let out = ok(sync(&ws, &[]));
    assert!(out.contains("1 pushed"), "{out}");
    {
        let st = gl.lock().unwrap();
        assert_eq!(st.puts.len(), 1);
        let (iid, body) = &st.puts[0];
        assert_eq!(*iid, 1);
        assert_eq!(body["add_labels"], "ABM-Priority::High");
        assert_eq!(body["remove_labels"], "ABM-Priority::Low");
    }

    // A second sync changes nothing.
    let out = ok(sync(&ws, &[]));
    assert!(out.contains("0 imported, 0 pulled, 0 pushed, 3 unchanged"), "{out}");
    assert_eq!(gl.lock().unwrap().puts.len(), 1);

    // A change made in GitLab is pulled through the request rules, as the gitlab actor.
    {
        let mut st = gl.lock().unwrap();
        let i = st.issues.iter_mut().find(|i| i["iid"] == 3).unwrap();
        i["due_date"] = json!("2027-01-08");
        i["labels"] = json!(["mktg-status::wip", "ABM-Priority::High"]);
        i["weight"] = json!(3);
        i["time_stats"] = json!({"time_estimate": 14400, "total_time_spent": 3600});
    }
    let out = ok(sync(&ws, &[]));
    assert!(out.contains("1 pulled, 0 pushed"), "{out}");
    let gamma = find(
        &json(abm(&ws, "2026-11-30", None, &["requests", "list", "--format", "json"])),
        "Plan for Gamma",
    )
    .clone();
    assert_eq!(gamma["due_date"], "2027-01-08");
    assert_eq!(gamma["weight"], 3, "weight is GitLab's");
    assert_eq!(
        gamma["time_stats"],
        json!({"estimate_seconds": 14400, "spent_seconds": 3600})
    );
    assert!(gamma["labels"].as_array().unwrap().contains(&json!("mktg-status::wip")));
    let log = json(abm(
        &ws,
        "2026-11-30",
        None,
        &["requests", "log", &gamma["id"].to_string(), "--format", "json"],
    ));
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor"] == "gitlab" && e["after"] == "2027-01-08"));
    let out = ok(sync(&ws, &[]));
    assert!(out.contains("0 pulled, 0 pushed, 3 unchanged"), "{out}");

    // A label that does not exist on GitLab is refused, not invented.
    ok(abm(
        &ws,
        "2026-11-30",
        Some("mmanager"),
        &["requests", "edit", &acme_id, "--label", "campaign::new-idea"],
    ));
    let o = sync(&ws, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("label campaign::new-idea does not exist on GitLab"),
        "{}",
        text(&o)
    );
    assert_eq!(gl.lock().unwrap().puts.len(), 1);
}

#[derive(Default)]
struct Receiver {
    fail_first: usize,
    received: Vec<Value>,
    attempts: usize,
}

async fn hook(State(s): State<Arc<Mutex<Receiver>>>, Json(body): Json<Value>) -> Response {
    let mut r = s.lock().unwrap();
    r.attempts += 1;
    if r.fail_first > 0 {
        r.fail_first -= 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response();
    }
    r.received.push(body);
    "ok".into_response()
}

fn slack(ws: &std::path::Path, url: &str, who: &str, args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_abm"));
    c.arg("--workspace")
        .arg(ws)
        .args(args)
        .env("ABM_TODAY", "2026-11-30")
        .env("ABM_USER", who)
        .env("ABM_SLACK_WEBHOOK_URL", url);
    c.output().unwrap()
}

#[test]
fn slack_gets_one_message_per_post_and_one_retry_after_a_500() {
    let state = Arc::new(Mutex::new(Receiver {
        fail_first: 1,
        ..Default::default()
    }));
    let base = serve(
        Router::new()
            .route("/services/T0/B0/secret", post(hook))
            .with_state(state.clone()),
    );
    let url = format!("{base}/services/T0/B0/secret");
    let (_dir, ws) = team_workspace();
    let out = ok(slack(
        &ws,
        &url,
        "aabm",
        &[
            "updates",
            "post",
            "Q3 EMEA campaign is live",
            "--link",
            "https://gitlab.example/mr/7",
        ],
    ));
    assert!(out.contains("after 2 attempts"), "{out}");
    {
        let r = state.lock().unwrap();
        assert_eq!(r.attempts, 2, "one retry after the 500");
        assert_eq!(r.received.len(), 1);
        assert_eq!(
            r.received[0]["text"],
            "UPDATE: Q3 EMEA campaign is live <https://gitlab.example/mr/7>"
        );
    }
    ok(slack(
        &ws,
        &url,
        "aabm",
        &["updates", "post", "--kind", "discuss", "Split the APAC budget?"],
    ));
    {
        let r = state.lock().unwrap();
        assert_eq!((r.attempts, r.received.len()), (3, 2), "exactly one message per post");
        assert_eq!(r.received[1]["text"], "DISCUSS: Split the APAC budget?");
    }
    let digest = ok(slack(
        &ws,
        &url,
        "aabm",
        &["updates", "digest", "--milestone", "Mktg: 2026-12-06", "--dry-run"],
    ));
    assert!(
        digest.contains("• UPDATE: Q3 EMEA campaign is live") && digest.contains("• DISCUSS: Split the APAC budget?"),
        "{digest}"
    );
    assert_eq!(state.lock().unwrap().received.len(), 2, "a dry run posts nothing");
    ok(slack(
        &ws,
        &url,
        "aabm",
        &["updates", "digest", "--milestone", "Mktg: 2026-12-06"],
    ));
    assert!(state.lock().unwrap().received[2]["text"]
        .as_str()
        .unwrap()
        .starts_with("*Mktg: 2026-12-06*"));
    // Bad input stops before anything is sent; a secret never appears in an error.
    let msg = fails(slack(
        &ws,
        &url,
        "aabm",
        &["updates", "post", "x", "--link", "not a link"],
    ));
    assert!(msg.contains("link:"), "{msg}");
    fails(slack(&ws, &url, "exec-eve", &["updates", "post", "x"]));
    let gone = format!("{base}/services/T0/B0/wrong-secret");
    let msg = fails(slack(&ws, &gone, "aabm", &["updates", "post", "x"]));
    assert!(!msg.contains("wrong-secret"), "{msg}");
    assert_eq!(state.lock().unwrap().received.len(), 3);
}

const MQA_DAY: &str = "2026-03-27";

/// Acme Corp: four people fill forms in early March and two start trials, the second on March
/// 25 (120 marketing points, four engaged people: MQA). Imported in two files, so the second
/// updates the journey incrementally.
fn mqa_world() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let day = MQA_DAY;
    ok(abm(&ws, day, None, &["init"]));
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let accounts = file(
        "accounts.csv",
        "Account ID,Account Name,Website,Type,Account Owner\n0015g00000000ACM,Acme Corp,https://acme.example,Prospect,Riley Quota\n",
    );
    ok(abm(&ws, day, None, &["accounts", "import", &accounts]));
    let people = file(
        "people.csv",
        "Contact ID,First Name,Last Name,Email,Title,Account ID\n\
         0031,Ann,A,ann@acme.example,Engineer,0015g00000000ACM\n\
         0032,Bo,B,bo@acme.example,Engineer,0015g00000000ACM\n\
         0033,Cy,C,cy@acme.example,Engineer,0015g00000000ACM\n\
         0034,Di,D,di@acme.example,Engineer,0015g00000000ACM\n",
    );
    ok(abm(&ws, day, None, &["people", "import", &people]));
    let head =
        "Activity ID,Activity Date,Activity Type,Email Address,Account ID,Primary Attribute Value,Campaign,Minutes\n";
    // Four people fill forms (20 points: Engaged with People); sales emails are not marketing.
    let forms = file(
        "forms.csv",
        &format!(
            "{head}1,2026-03-01T10:00:00Z,Form Fill,ann@acme.example,,,,\n\
             2,2026-03-02T10:00:00Z,Form Fill,bo@acme.example,,,,\n\
             3,2026-03-03T10:00:00Z,Form Fill,cy@acme.example,,,,\n\
             4,2026-03-04T10:00:00Z,Form Fill,di@acme.example,,,,\n\
             5,2026-03-10T10:00:00Z,Sales Email,ann@acme.example,,,,\n"
        ),
    );
    ok(abm(&ws, day, None, &["activities", "import", &forms]));
    // Two trials: 70 points on March 20, 120 on March 25.
    let trials = file(
        "trials.csv",
        &format!(
            "{head}6,2026-03-20T10:00:00Z,Trial Start,bo@acme.example,,,,\n\
             7,2026-03-25T10:00:00Z,Trial Start,cy@acme.example,,,,\n"
        ),
    );
    let out = ok(abm(&ws, day, None, &["activities", "import", &trials]));
    assert!(out.contains("Journeys of 1 accounts replayed"), "{out}");
    (dir, ws)
}

/// The journey's acceptance case: an account crossing 100 marketing points with four engaged
/// people in three months enters MQA that day, and the MQA automation posts once, not twice.
#[test]
fn an_account_entering_mqa_is_posted_once() {
    let state = Arc::new(Mutex::new(Receiver::default()));
    let base = serve(
        Router::new()
            .route("/services/T0/B0/mqa", post(hook))
            .with_state(state.clone()),
    );
    let url = format!("{base}/services/T0/B0/mqa");
    let (_dir, ws) = mqa_world();
    let day = MQA_DAY;
    let history = json(abm(
        &ws,
        day,
        None,
        &["journey", "history", "0015g00000000ACM", "--format", "json"],
    ));
    let moves: Vec<(String, u64)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["day"].as_str().unwrap().to_string(), e["to"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        moves,
        vec![("2026-03-04".to_string(), 5), ("2026-03-25".to_string(), 6)],
        "Engaged with People at 20 points; MQA the day the second trial came"
    );
    let run = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_abm"));
        c.arg("--workspace")
            .arg(&ws)
            .args(args)
            .env("ABM_TODAY", day)
            .env("ABM_SLACK_WEBHOOK_URL", &url);
        ok(c.output().unwrap())
    };
    let dry = run(&["automations", "run", "--dry-run"]);
    assert!(dry.contains("would notify_owner: MQA alert: Acme Corp"), "{dry}");
    assert_eq!(state.lock().unwrap().attempts, 0, "a dry run posts nothing");
    // Without a webhook to post to, the run stops as the user's mistake and records nothing.
    let unset = std::process::Command::new(env!("CARGO_BIN_EXE_abm"))
        .arg("--workspace")
        .arg(&ws)
        .args(["automations", "run"])
        .env("ABM_TODAY", day)
        .env_remove("ABM_SLACK_WEBHOOK_URL")
        .output()
        .unwrap();
    assert_eq!(
        unset.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&unset.stderr)
    );
    assert!(
        String::from_utf8_lossy(&unset.stderr).contains("ABM_SLACK_WEBHOOK_URL"),
        "{}",
        String::from_utf8_lossy(&unset.stderr)
    );
    let out = run(&["automations", "run"]);
    assert!(out.contains("1 actions taken"), "{out}");
    let again = run(&["automations", "run"]);
    assert!(again.contains("0 due"), "{again}");
    let r = state.lock().unwrap();
    assert_eq!(r.received.len(), 1, "posted once, not twice");
    let text = r.received[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("@Riley Quota MQA alert: Acme Corp (0015g00000000ACM) entered 06 Marketing Qualified Account (MQA) on 2026-03-25"),
        "{text}"
    );
}

/// An automation can open a request to the team (to triage), once per account and day.
#[test]
fn an_automation_opens_a_request_once() {
    let (_dir, ws) = mqa_world();
    let day = MQA_DAY;
    ok(abm(
        &ws,
        day,
        Some("mmanager"),
        &["team", "add", "mmanager", "--role", "manager"],
    ));
    ok(abm(
        &ws,
        day,
        Some("mmanager"),
        &["team", "add", "aabm", "--role", "member"],
    ));
    std::fs::write(
        ws.join("automations.toml"),
        "[[automations]]\nname = \"MQA follow-up\"\ntrigger = { kind = \"entered_stage\", stage = 6 }\n\
         [[automations.actions]]\ndo = \"create_request\"\ntemplate = \"target-list\"\n",
    )
    .unwrap();
    let out = ok(abm(&ws, day, Some("aabm"), &["automations", "run"]));
    assert!(out.contains("create_request: MQA follow-up: Acme Corp"), "{out}");
    let again = ok(abm(&ws, day, Some("aabm"), &["automations", "run"]));
    assert!(again.contains("0 due"), "{again}");
    let requests = json(abm(&ws, day, None, &["requests", "list", "--format", "json"]));
    let titles: Vec<&str> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["MQA follow-up: Acme Corp"]);
    let fired = json(abm(&ws, day, None, &["automations", "firings", "--format", "json"]));
    assert_eq!(fired[0]["action"], "create_request");
    assert!(
        fired[0]["note"].as_str().unwrap().contains("from target-list"),
        "{fired}"
    );
    // Without a known person to act as, no request is made and nothing is recorded.
    std::fs::write(
        ws.join("automations.toml"),
        "[[automations]]\nname = \"Second\"\ntrigger = { kind = \"entered_stage\", stage = 6 }\n\
         [[automations.actions]]\ndo = \"create_request\"\ntemplate = \"target-list\"\n",
    )
    .unwrap();
    fails(abm(&ws, day, Some("nobody"), &["automations", "run"]));
    let fired = json(abm(&ws, day, None, &["automations", "firings", "--format", "json"]));
    assert_eq!(fired.as_array().unwrap().len(), 1);
}
