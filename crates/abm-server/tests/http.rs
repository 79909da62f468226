//! HTTP tests: the app on a random port against a fresh SQLite database, spoken to over real HTTP.

use abm_core::FiscalCalendar;
use abm_import::accounts::{import_accounts, AccountImportOptions, Quiet};
use abm_import::mapping::ColumnMap;
use abm_store::{SqliteStore, Store};
use std::io::Write;

mod common;

struct App {
    base: String,
    /// The manager's API token, and a viewer's.
    token: String,
    viewer: String,
    _dir: tempfile::TempDir,
}

const CSV: &str =
    "Account ID,Account Name,Website,Parent Account ID,Geo,Employees,CARR,ABM Tier,Aberdeen Developer Count\n\
A1,Acme Holdings,acme.example,,AMER,5000,0,Tier 1,800\n\
A2,Acme Europe,acme.de,A1,EMEA,300,0,,\n\
B1,<script>alert(1)</script> Corp,beta.example,,APAC,40,1200,Tier 3,\n";

fn start() -> App {
    start_in(None)
}

/// Where an app made by `start_in` keeps its database.
fn app_db(app: &App) -> std::path::PathBuf {
    app._dir.path().join("abm.db")
}

/// The app over the test store, serving a workspace when one is given.
fn start_in(ws: Option<abm_workspace::Workspace>) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("abm.db")).unwrap();
    let file = dir.path().join("accounts.csv");
    std::fs::File::create(&file).unwrap().write_all(CSV.as_bytes()).unwrap();
    let opts = AccountImportOptions {
        map: ColumnMap::accounts(),
        skip_bad_rows: false,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        fiscal: FiscalCalendar::default(),
        at: "2026-11-28T10:00:00Z".into(),
    };
    import_accounts(&mut store, &file, &opts, &mut Quiet).unwrap();
    // The shipped ICP as version 1, and a manager who may activate it.
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
        .unwrap()
        .to_utc();
    let icp = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../abm-workspace/defaults/icp.toml"
    ))
    .unwrap();
    store.save_icp_version(&icp, "setup", at).unwrap();
    // The manager (who may activate it) and a viewer are added, with API tokens, further down.
    store
        .replace_ad_facts("google", "acct", day(1), day(3), &ad_facts())
        .unwrap();
    // Four people at Acme fill forms in November; journeys replayed through November 28.
    common::acme_form_fills(&mut store, [day(10), day(11), day(12), day(13)], day(28));
    drop(store);
    let db = dir.path().join("abm.db");
    let token = common::member(&db, "mmanager", abm_core::intake::Role::Manager, None);
    let viewer = common::member(&db, "exec-eve", abm_core::intake::Role::Viewer, None);
    let store = SqliteStore::open(&db).unwrap();
    let state = abm_server::AppState::new(Box::new(store) as Box<dyn Store>);
    let base = common::serve(match ws {
        Some(ws) => state.with_workspace(ws),
        None => state,
    });
    App {
        base,
        token,
        viewer,
        _dir: dir,
    }
}

/// The app over an empty store in `dir` serving `ws`, as a viewer sees it (both tokens are the
/// viewer's).
fn viewer_app(dir: &std::path::Path, ws: &abm_workspace::Workspace) -> App {
    let db = dir.join("abm.db");
    let token = common::member(&db, "exec-eve", abm_core::intake::Role::Viewer, None);
    let store = SqliteStore::open(&db).unwrap();
    let base = common::serve(abm_server::AppState::new(Box::new(store) as Box<dyn Store>).with_workspace(ws.clone()));
    App {
        base,
        viewer: token.clone(),
        token,
        _dir: tempfile::tempdir().unwrap(),
    }
}

fn day(d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn ad_facts() -> Vec<abm_core::paid::AdFact> {
    [
        ("autosd_amer_pr_rsa_nb_exact", 1, 12.5, 400, 9),
        ("autosd_emea_pr_rsa_nb_exact", 2, 30.0, 1000, 12),
        ("autosd_amer_rtg_rsa_nb_exact", 3, 7.25, 0, 0),
    ]
    .iter()
    .map(|(c, d, spend, imps, clicks)| abm_core::paid::AdFact {
        platform: "google".into(),
        account: "acct".into(),
        campaign: c.to_string(),
        ad_group: "core".into(),
        ad: String::new(),
        date_from: day(*d),
        date_to: day(*d),
        currency: "USD".into(),
        spend_micros: (*spend * 1e6) as i64,
        impressions: *imps,
        clicks: *clicks,
        conversions_milli: 1000,
        leads: 1,
        reach: None,
        utm: std::sync::Arc::new([("utm_source".to_string(), "google".to_string())].into()),
    })
    .collect()
}

fn get(app: &App, path: &str) -> (u16, String) {
    match ureq::get(&format!("{}{}", app.base, path))
        .set("Authorization", &format!("Bearer {}", app.token))
        .call()
    {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("{path}: {e}"),
    }
}

/// Each page is refused with 400 and a message saying what is wrong.
fn refused(app: &App, cases: &[(&str, &str)]) {
    for (path, want) in cases {
        let (code, body) = get(app, path);
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body.contains(want), "{path}: {body}");
    }
}

fn json(app: &App, path: &str) -> (u16, serde_json::Value) {
    let (code, body) = get(app, path);
    (
        code,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
    )
}

#[test]
fn healthz_reports_the_store() {
    let app = start();
    let (code, v) = json(&app, "/healthz");
    assert_eq!(code, 200);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["backend"], "sqlite");
    assert_eq!(v["accounts"], 3);
}

#[test]
fn account_list_filters_and_pages() {
    let app = start();
    let (code, v) = json(&app, "/api/accounts");
    assert_eq!(code, 200);
    assert_eq!(v["total"], 3);
    let (_, v) = json(&app, "/api/accounts?segment=enterprise");
    let ids: Vec<&str> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["crm_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["A2", "A1"], "the child is Large through its family");
    let (_, v) = json(&app, "/api/accounts?tier=Tier%201");
    assert_eq!(v["accounts"][0]["crm_id"], "A1");
    let (_, v) = json(&app, "/api/accounts?q=acme&per_page=1&page=2");
    assert_eq!(
        (v["total"].as_u64(), v["accounts"][0]["crm_id"].as_str()),
        (Some(2), Some("A1"))
    );
}

#[test]
fn one_account_with_its_family() {
    let app = start();
    let (code, v) = json(&app, "/api/accounts/A2");
    assert_eq!(code, 200);
    assert_eq!(v["ultimate_parent_id"], "A1");
    let family: Vec<&str> = v["family"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["crm_id"].as_str().unwrap())
        .collect();
    assert_eq!(family, vec!["A1", "A2"]);
    let (_, v) = json(&app, "/api/accounts/A1");
    let dev = &v["resolved_attributes"][0];
    assert_eq!(
        (dev["attribute"].as_str(), dev["source"].as_str(), dev["value"].as_str()),
        (Some("developer_count"), Some("aberdeen"), Some("800"))
    );
    let (code, v) = json(&app, "/api/accounts/NOPE");
    assert_eq!(code, 404);
    assert!(v["error"].as_str().unwrap().contains("NOPE"));
}

#[test]
fn bad_query_parameters_are_400_naming_the_parameter() {
    let app = start();
    for (path, param) in [
        ("/api/accounts?page=0", "page"),
        ("/api/accounts?geo=Mars", "geo"),
        ("/api/accounts?sort=name", "sort"),
    ] {
        let (code, v) = json(&app, path);
        assert_eq!(code, 400, "{path}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains(&format!("query parameter {param}")),
            "{path}: {v}"
        );
    }
    let (code, body) = get(&app, "/accounts?per_page=99999");
    assert_eq!(code, 400);
    assert!(body.contains("query parameter per_page"), "the HTML page explains too");
}

#[test]
fn html_pages_show_accounts_and_escape_names() {
    let app = start();
    let (code, body) = get(&app, "/accounts");
    assert_eq!(code, 200);
    assert!(body.contains("Acme Holdings"));
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt; Corp"),
        "names are escaped"
    );
    assert!(!body.contains("<script>alert(1)"));
    let (code, body) = get(&app, "/accounts/A1");
    assert_eq!(code, 200);
    assert!(
        body.contains("Acme Europe") && body.contains("aberdeen"),
        "family and attribute sources shown"
    );
    let (code, _) = get(&app, "/accounts/NOPE");
    assert_eq!(code, 404);
}

#[test]
fn icp_versions_activate_and_explain() {
    let app = start();
    let (_, v) = json(&app, "/api/icp/versions");
    assert_eq!(v[0]["version"], 1);
    assert_eq!(v[0]["active"], false);
    let post = |who: Option<&str>, body: serde_json::Value| {
        let mut r = ureq::post(&format!("{}/api/icp/activate", app.base));
        if let Some(token) = who {
            r = r.set("Authorization", &format!("Bearer {token}"));
        }
        match r.send_json(body) {
            Ok(r) => (r.status(), r.into_json::<serde_json::Value>().unwrap()),
            Err(ureq::Error::Status(c, r)) => (c, r.into_json::<serde_json::Value>().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(post(None, serde_json::json!({"version": 1})).0, 401);
    let (code, v) = post(Some(&app.viewer), serde_json::json!({"version": 1}));
    assert_eq!(code, 403, "a viewer may not change the ICP: {v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("exec-eve (viewer) may not change the ICP"),
        "{v}"
    );
    assert_eq!(post(Some(&app.token), serde_json::json!({"version": 9})).0, 404);
    let (code, v) = post(Some(&app.token), serde_json::json!({"version": 1}));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["accounts"], 3);
    let (_, a1) = json(&app, "/api/accounts/A1");
    let e = &a1["icp_explanation"][1];
    let sum: i64 = e["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["points"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, e["score"].as_i64().unwrap());
    assert_eq!(a1["icp_explanation"][0], 1, "the explanation names its version");
    let (_, list) = json(&app, "/api/accounts?icp=false");
    assert_eq!(
        list["total"].as_u64().unwrap() + json(&app, "/api/accounts?icp=true").1["total"].as_u64().unwrap(),
        3
    );
    // A dry run of an edited definition changes nothing stored.
    let icp = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../abm-workspace/defaults/icp.toml"
    ))
    .unwrap();
    let dry = |body: String| match ureq::post(&format!("{}/api/icp/diff", app.base))
        .set("Authorization", &format!("Bearer {}", app.token))
        .send_string(&body)
    {
        Ok(r) => (r.status(), r.into_json::<serde_json::Value>().unwrap()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_json::<serde_json::Value>().unwrap()),
        Err(e) => panic!("{e}"),
    };
    let (code, d) = dry(icp.clone());
    assert_eq!(code, 200, "{d}");
    assert_eq!(d["changed"], 0, "the same definition changes nothing");
    let (code, d) = dry(icp.replace("A = 80", "A = 101"));
    assert_eq!(code, 400);
    assert!(d["error"].as_str().unwrap().contains("body:"), "{d}");
    let (_, a1_again) = json(&app, "/api/accounts/A1");
    assert_eq!(a1_again["icp_explanation"], a1["icp_explanation"]);
    let (code, v) = json(&app, "/api/accounts?grade=Z");
    assert_eq!(code, 400);
    assert!(v["error"].as_str().unwrap().contains("query parameter grade"), "{v}");
}

#[test]
fn lists_over_http() {
    let app = start();
    let send = |method: &str, path: &str, body: Option<serde_json::Value>| {
        let r = ureq::request(method, &format!("{}{}", app.base, path))
            .set("Authorization", &format!("Bearer {}", app.token));
        let res = match body {
            Some(b) => r.send_json(b),
            None => r.call(),
        };
        match res {
            Ok(r) => (r.status(), r.into_json::<serde_json::Value>().unwrap()),
            Err(ureq::Error::Status(c, r)) => (c, r.into_json::<serde_json::Value>().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    let (code, v) = send("POST", "/api/lists", None);
    assert_eq!(code, 400, "accounts must be scored first: {v}");
    assert_eq!(
        send("POST", "/api/icp/activate", Some(serde_json::json!({"version": 1}))).0,
        200
    );
    let (code, v) = send("POST", "/api/lists", None);
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["version"], 1);
    let (code, l) = json(&app, "/api/lists/1");
    assert_eq!(code, 200, "{l}");
    assert!(l["published"].is_null());
    assert_eq!(send("POST", "/api/lists/1/publish", None).0, 200);
    let (code, v) = send("POST", "/api/lists/1/publish", None);
    assert_eq!(code, 409, "{v}");
    let (code, n) = send(
        "POST",
        "/api/lists/nominations",
        Some(serde_json::json!({"account": "A2", "reason": "strategic"})),
    );
    assert_eq!(code, 201, "{n}");
    assert_eq!(n["crm_id"], "A1", "nominations are for the family");
    let id = n["id"].as_i64().unwrap();
    let (code, d) = send(
        "POST",
        &format!("/api/lists/nominations/{id}/decision"),
        Some(serde_json::json!({"accept": true, "reason": "fits"})),
    );
    assert_eq!(code, 200, "{d}");
    assert_eq!(
        send(
            "POST",
            &format!("/api/lists/nominations/{id}/decision"),
            Some(serde_json::json!({"accept": false, "reason": "no"}))
        )
        .0,
        409
    );
    assert_eq!(send("POST", "/api/lists", None).0, 201);
    let (code, d) = json(&app, "/api/lists/diff?from=1&to=2");
    assert_eq!(code, 200, "{d}");
    let (code, v) = json(&app, "/api/lists/diff?from=1");
    assert_eq!(code, 400);
    assert!(v["error"].as_str().unwrap().contains("query parameter to"), "{v}");
    let (_, all) = json(&app, "/api/lists");
    assert_eq!(all.as_array().unwrap().len(), 2);
    // The Lists page: tiers by geo, the changes from version 1, the versions, open nominations.
    let (_, l2) = json(&app, "/api/lists/2");
    let (code, page) = get(&app, "/lists");
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("Version 2 · draft"), "{page}");
    assert!(page.contains(&format!("Accounts ({})", l2["entries"].as_array().unwrap().len())));
    for table in ["tiers", "changes", "entries", "versions", "nominations"] {
        assert!(page.contains(&format!("data-table=\"{table}\"")), "{table}");
    }
    assert!(
        page.contains("Nominations awaiting a decision (0)"),
        "the one nomination was decided"
    );
    let (code, page) = get(&app, "/lists?version=1");
    assert_eq!(code, 200);
    assert!(page.contains("Version 1 · published"), "{page}");
    refused(
        &app,
        &[
            ("/lists?version=9", "no list version 9"),
            ("/lists?version=x", "expected a number"),
            ("/lists?tier=1", "tier is not a setting"),
        ],
    );
}

#[test]
fn paid_report_over_http_is_the_engine_s() {
    let app = start();
    let (code, v) = json(
        &app,
        "/api/reports/paid?from=2026-11-01&to=2026-11-30&group_by=geo&filter=campaign_code%3Dauto*",
    );
    assert_eq!(code, 200, "{v}");
    let q = abm_core::paid::ReportQuery {
        from: day(1),
        to: day(30),
        filters: vec![abm_core::paid::Filter {
            dimension: "campaign_code".into(),
            values: vec!["auto*".into()],
        }],
        group_by: vec!["geo".into()],
        grain: None,
        compare: None,
        today: v["to"].as_str().map(|_| day(30)).unwrap(),
    };
    let want = abm_core::paid::report(&ad_facts(), &abm_core::taxonomy::Taxonomy::presets(), &q);
    assert_eq!(v["rows"], serde_json::to_value(&want.rows).unwrap());
    assert_eq!(v["rows"][0]["metrics"]["ctr"].as_f64(), Some(9.0 / 400.0));
    for (path, param) in [
        ("/api/reports/paid?to=2026-11-30", "from"),
        ("/api/reports/paid?from=2026-11-30&to=2026-11-01", "to"),
        (
            "/api/reports/paid?from=2026-11-01&to=2026-11-30&group_by=colour",
            "group_by",
        ),
        ("/api/reports/paid?from=2026-11-01&to=2026-11-30&grain=year", "grain"),
    ] {
        let (code, v) = json(&app, path);
        assert_eq!(code, 400, "{path}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains(&format!("query parameter {param}")),
            "{v}"
        );
    }
}

#[test]
fn engagement_and_journeys_over_http() {
    let app = start();
    let (code, e) = json(&app, "/api/engagement/A1?as_of=2026-11-28&window=90");
    assert_eq!(code, 200, "{e}");
    let parts: f64 = e["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["total"].as_f64().unwrap())
        .sum();
    assert_eq!(parts, 20.0);
    assert_eq!(e["score"], 20.0);
    assert_eq!(e["engaged_people"], 4);
    let (code, j) = json(&app, "/api/journey/accounts/A1");
    assert_eq!(code, 200, "{j}");
    assert_eq!(j["stage"], 5);
    assert_eq!(j["stage_name"], "Engaged with People");
    assert_eq!(j["events"][0]["day"], "2026-11-13", "the fourth form made 20 points");
    assert_eq!(
        j["scores"][2]["points"], e["score"],
        "the stored score is the explained one"
    );
    let (_, counts) = json(&app, "/api/journey/as-of?date=2026-11-28");
    let stage = |n: u64| {
        counts["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["stage"] == n)
            .unwrap()["accounts"]
            .as_u64()
            .unwrap()
    };
    assert_eq!((stage(1), stage(5)), (2, 1));
    let (_, before) = json(&app, "/api/journey/as-of?date=2026-11-12");
    assert_eq!(before["stages"][4]["accounts"], 0, "not engaged before the fourth form");
    let (code, f) = json(&app, "/api/journey/funnel?from=2026-11-01&to=2026-11-28");
    assert_eq!(code, 200);
    assert_eq!(f["stages"][4]["reached"], 1);
    let (_, m) = json(&app, "/api/activities/matching");
    assert_eq!(m["by_method"][0], serde_json::json!(["email_domain", 4]));
    let (_, fired) = json(&app, "/api/automations/firings");
    assert_eq!(fired, serde_json::json!([]));
    refused(
        &app,
        &[
            (
                "/api/journey/funnel?from=2026-11-28&to=2026-11-01",
                "query parameter to",
            ),
            ("/api/journey/as-of?date=yesterday", "query parameter date"),
            ("/api/journey/as-of", "query parameter date: is required"),
            ("/api/journey/as-of?date=2026-11-28&stage=6", "stage"),
            ("/api/engagement/A1?window=0", "query parameter window"),
        ],
    );
    assert_eq!(get(&app, "/api/journey/accounts/NOPE").0, 404);
    assert_eq!(get(&app, "/api/engagement/NOPE").0, 404);
}

#[test]
fn scorecard_over_http_reads_the_workspace_files() {
    let dir = tempfile::tempdir().unwrap();
    let ws = abm_workspace::Workspace::init(&dir.path().join("ws")).unwrap();
    std::fs::write(
        ws.dir.join("goals.toml"),
        "[[targets]]\nquarter = \"FY27-Q4\"\nsegment = \"Large\"\ngeo = \"AMER\"\npipeline = 1200000\n\
         average_deal_size = 60000\nsao_to_opportunity = 0.5\nmql_to_sao = 0.08\ninquiry_to_mql = 0.25\n",
    )
    .unwrap();
    std::fs::write(
        ws.dir.join("okrs.toml"),
        "[[objectives]]\nquarter = \"FY27-Q4\"\nobjective = \"Grow\"\n[[objectives.key_results]]\ntext = \"Qualify 10 MQAs\"\nmetric = \"MQAs\"\ntarget = 10\n",
    )
    .unwrap();
    let app = viewer_app(dir.path(), &ws);
    let (code, wb) = json(&app, "/api/goals/workback?quarter=FY27-Q4");
    assert_eq!(code, 200, "{wb}");
    let needed: Vec<f64> = wb[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["needed"].as_f64().unwrap())
        .collect();
    assert_eq!(
        needed,
        vec![20.0, 40.0, 500.0, 2000.0],
        "1,200,000 ÷ 60,000 ÷ 0.5 ÷ 0.08 ÷ 0.25"
    );
    let (code, m) = json(&app, "/api/metrics?quarter=FY27-Q4&compare=previous");
    assert_eq!(code, 200, "{m}");
    assert_eq!(m["metrics"].as_array().unwrap().len(), 10, "the shipped metrics.toml");
    assert_eq!(m["metrics"][0]["group"], "North Star");
    assert!(m["previous"].is_array());
    let cost = m["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "Cost per MQL")
        .unwrap();
    assert!(
        cost["value"].is_null() && cost["why_none"].as_str().unwrap().contains("no ad spend"),
        "{cost}"
    );
    let (code, o) = json(&app, "/api/okrs?quarter=FY27-Q4");
    assert_eq!(code, 200, "{o}");
    assert_eq!(o[0]["key_results"][0]["value"], 0.0);
    assert_eq!(o[0]["key_results"][0]["progress"], 0.0);
    refused(
        &app,
        &[
            ("/api/metrics?quarter=Q3", "query parameter quarter"),
            ("/api/metrics", "query parameter quarter: is required"),
            ("/api/metrics?quarter=FY27-Q4&compare=next", "query parameter compare"),
            ("/api/goals/workback?quarter=FY27-Q4&segment=Large", "segment"),
        ],
    );
    std::fs::write(
        ws.dir.join("okrs.toml"),
        "[[objectives]]\nquarter = \"FY27-Q4\"\nobjective = \"x\"\nkey_results = []\n",
    )
    .unwrap();
    let (code, body) = get(&app, "/api/okrs");
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("okrs.toml:1:") && body.contains("at least one key result"),
        "{body}"
    );
    // A server without a workspace says so.
    let bare = start();
    let (code, body) = get(&bare, "/api/metrics?quarter=FY27-Q4");
    assert_eq!(code, 404);
    assert!(body.contains("no workspace"), "{body}");
    // The Overview page: scorecards by group and OKR progress bars, for the quarter asked.
    std::fs::write(
        ws.dir.join("okrs.toml"),
        "[[objectives]]\nquarter = \"FY27-Q4\"\nobjective = \"Grow\"\n[[objectives.key_results]]\ntext = \"Qualify 10 MQAs\"\nmetric = \"MQAs\"\ntarget = 10\n",
    )
    .unwrap();
    let (code, page) = get(&app, "/overview?quarter=FY27-Q4");
    assert_eq!(code, 200, "{page}");
    for want in [
        "Overview FY27-Q4",
        "North Star",
        "Efficiency",
        "Business impact",
        "Supporting",
        "Qualify 10 MQAs",
        "<svg",
    ] {
        assert!(page.contains(want), "{want}");
    }
    assert!(
        page.contains("no ad spend is held for the quarter"),
        "a metric without a value says why"
    );
    refused(
        &app,
        &[
            ("/overview?quarter=Q9", "quarter"),
            (
                "/overview?quarter=FY27-Q4&geo=emea",
                "geo is not a setting of this page",
            ),
        ],
    );
    let (code, _) = get(&bare, "/overview");
    assert_eq!(code, 404, "no workspace, no overview");
}

#[test]
fn journey_and_account_pages_show_stages() {
    let app = start();
    let (code, page) = get(&app, "/journey?date=2026-11-14&from=2026-11-01&to=2026-11-28");
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("Accounts per stage on 2026-11-14") && page.contains("<svg"));
    assert!(page.contains("05 Engaged with People"));
    assert!(
        page.contains("Movers in the week to 2026-11-14 (1)"),
        "A1 moved on November 13"
    );
    assert!(page.contains("href=\"/accounts/A1\""));
    refused(
        &app,
        &[
            ("/journey?from=2026-11-28&to=2026-11-01", "is before from"),
            ("/journey?date=yesterday", "date: expected a date"),
            ("/journey?stage=6", "stage is not a setting"),
        ],
    );
    let (_, account) = get(&app, "/accounts/A1");
    assert!(
        account.contains("05 Engaged with People") && account.contains("20.0 over 90 days"),
        "{account}"
    );
    // The account page's engagement is the explain API's, with its contributions and a trend.
    let (_, explained) = json(&app, "/api/engagement/A1");
    let score = explained["score"].as_f64().unwrap();
    assert!(account.contains(&format!("data-points=\"{score:.1}\"")), "{account}");
    let listed = account
        .split("data-table=\"engagement\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert_eq!(
        listed.matches("<tr>").count() - 1,
        explained["contributions"].as_array().unwrap().len(),
        "every contribution is listed"
    );
    assert!(account.contains("aria-label=\"90-day points at the end of each week\""));
    assert!(account.contains("No active ICP yet") && account.contains("Not on any focus list version"));
    // Accounts filter by the stage they are in now.
    let (code, list) = get(&app, "/accounts?stage=05");
    assert_eq!(code, 200, "{list}");
    assert!(
        list.contains("Acme Holdings") && !list.contains("Acme Europe"),
        "{list}"
    );
    assert!(list.contains("<option value=\"05\" selected>05 Engaged with People</option>"));
    let (code, list) = get(&app, "/accounts?stage=later");
    assert_eq!(code, 400);
    assert!(list.contains("stage: expected a stage number"), "{list}");
}

/// The numbers on the paid-media page are the report API's for the same settings.
#[test]
fn paid_media_page_equals_the_report() {
    let app = start();
    let data_value = |page: &str, metric: &str| -> f64 {
        let at = page
            .find(&format!("data-metric=\"{metric}\" data-value=\""))
            .unwrap_or_else(|| panic!("{metric}"));
        let rest = &page[at..];
        let start = rest.find("data-value=\"").unwrap() + 12;
        rest[start..start + rest[start..].find('"').unwrap()].parse().unwrap()
    };
    let range = "from=2026-11-01&to=2026-11-03";
    let (code, page) = get(&app, &format!("/paid?{range}"));
    assert_eq!(code, 200, "{page}");
    let (_, api) = json(&app, &format!("/api/reports/paid?{range}&compare=previous-period"));
    let spend = api["totals"][0]["metrics"]["spend"].as_f64().unwrap();
    assert_eq!(data_value(&page, "spend"), spend);
    assert_eq!(spend, 49.75);
    assert_eq!(
        data_value(&page, "clicks"),
        api["totals"][0]["metrics"]["clicks"].as_f64().unwrap()
    );
    for table in ["channel", "budget", "segment", "geo", "content", "language"] {
        assert!(page.contains(&format!("data-table=\"{table}\"")), "{table}");
    }
    // A filter in the URL narrows every number the same way the API's filter does.
    let (_, by_geo) = json(&app, &format!("/api/reports/paid?{range}&group_by=geo"));
    let geo = by_geo["rows"][0]["key"]["geo"].as_str().unwrap().to_string();
    let (_, page) = get(&app, &format!("/paid?{range}&geo={geo}"));
    let (_, api) = json(
        &app,
        &format!("/api/reports/paid?{range}&compare=previous-period&filter=geo={geo}"),
    );
    let narrowed = data_value(&page, "spend");
    assert_eq!(narrowed, api["totals"][0]["metrics"]["spend"].as_f64().unwrap());
    assert!(narrowed < spend);
    assert!(
        page.contains(&format!("<option value=\"{geo}\" selected>")),
        "the filter shows what is picked"
    );
    // Any table as CSV, with its total.
    let (code, csv) = get(&app, &format!("/paid.csv?{range}&table=geo"));
    assert_eq!(code, 200);
    assert!(
        csv.starts_with("Geo,Spend,Impressions,Clicks,Conversions,Leads\n"),
        "{csv}"
    );
    assert!(csv.contains("Total,49.75,"), "{csv}");
    refused(
        &app,
        &[
            ("/paid?from=2026-11-03&to=2026-11-01", "before from"),
            ("/paid?from=soon", "expected a date"),
            ("/paid?colour=red", "colour is not a setting of this page"),
            ("/paid.csv?table=weather", "table: expected one of"),
        ],
    );
}

/// The Overview's scorecards are cached, but never stale: a write to the store (here by another
/// connection, as an import would) or an edit of okrs.toml shows on the next load.
#[test]
fn overview_follows_the_data_and_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let ws = abm_workspace::Workspace::init(&dir.path().join("ws")).unwrap();
    let q = ws.fiscal().quarter_of(ws.today()).previous();
    let db = dir.path().join("abm.db");
    let app = viewer_app(dir.path(), &ws);
    let mqas = |page: &str| -> String {
        let card = page.split("data-metric=\"MQAs\"").nth(1).unwrap();
        let big = card.split("class=\"big\">").nth(1).unwrap();
        big.split('<').next().unwrap().to_string()
    };
    let (code, page) = get(&app, &format!("/overview?quarter={q}"));
    assert_eq!(code, 200, "{page}");
    assert_eq!(mqas(&page), "0");
    assert_eq!(mqas(&get(&app, &format!("/overview?quarter={q}")).1), "0");
    // Two accounts enter MQA (stage 6) in the quarter, written by another connection.
    let day = ws.fiscal().quarter_start(q) + chrono::Duration::days(3);
    let journey = |crm: &str| abm_core::journey::Journey {
        crm_id: crm.into(),
        base_stage: 1,
        through: day,
        events: vec![abm_core::journey::StageEvent {
            crm_id: crm.into(),
            day,
            from: 1,
            to: 6,
            cause: "test".into(),
        }],
        scores: vec![],
    };
    SqliteStore::open(&db)
        .unwrap()
        .replace_journeys(&[journey("A1"), journey("B1")])
        .unwrap();
    assert_eq!(mqas(&get(&app, &format!("/overview?quarter={q}")).1), "2");
    // A new objective in okrs.toml shows at once.
    std::fs::write(
        ws.dir.join("okrs.toml"),
        format!("[[objectives]]\nquarter = \"{q}\"\nobjective = \"Warm up\"\n[[objectives.key_results]]\ntext = \"Qualify 4 MQAs\"\nmetric = \"MQAs\"\ntarget = 4\n"),
    )
    .unwrap();
    let page = get(&app, &format!("/overview?quarter={q}")).1;
    assert!(page.contains("Qualify 4 MQAs"), "{page}");
}

/// A running server explains with the engagement rules in force now: activating another version
/// (here from another connection, as `abm engagement activate` does) shows without a restart.
#[test]
fn explanations_follow_the_rules_in_force() {
    let wsdir = tempfile::tempdir().unwrap();
    let ws = abm_workspace::Workspace::init(&wsdir.path().join("ws")).unwrap();
    let app = start_in(Some(ws));
    let explain = "/api/engagement/A1?as_of=2026-11-28&window=90";
    let (code, before) = json(&app, explain);
    assert_eq!(code, 200, "{before}");
    assert_eq!(before["score"], 20.0, "four form fills at 5 points");
    let rules = include_str!("../../abm-workspace/defaults/engagement.toml")
        .replace("kind = \"Form Fill\"\npoints = 5", "kind = \"Form Fill\"\npoints = 25");
    let db = app_db(&app);
    let mut other = SqliteStore::open(&db).unwrap();
    let at = chrono::Utc::now();
    let v = other.save_rules_version("engagement", &rules, "mmanager", at).unwrap();
    let journeys = other.journeys(None).unwrap();
    other
        .activate_rules("engagement", v, "mmanager", at, &journeys)
        .unwrap();
    let (_, after) = json(&app, explain);
    assert_eq!(after["score"], 100.0, "the version in force now: {after}");
}
