//! End-to-end tests through the `abm` binary: what a user types, what they see, what is stored.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn abm(ws: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_abm"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env("ABM_TODAY", "2026-11-28")
        .env_remove("ABM_TEST_ABORT_AFTER_ROWS")
        .output()
        .expect("abm runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "abm failed ({:?}):\n{}\n{}",
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    ok(abm(&ws, &["init"]));
    (dir, ws)
}

fn list_json(ws: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(abm(ws, &["accounts", "list", "--format", "json"]))).unwrap()
}

/// A CRM export of `rows` accounts from the demo generator.
fn accounts_csv(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join(format!("accounts-{rows}.csv"));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    abm_demo::write_accounts_csv(&path, 7, rows, today).unwrap();
    path
}

/// Replace field `col` (by header name) on file line `line` (1-based; header is line 1).
fn set_field(path: &Path, line: usize, col: &str, value: &str) {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    let mut rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let c = rows[0].iter().position(|h| h == col).unwrap();
    rows[line - 1][c] = value.to_string();
    let mut w = csv::Writer::from_path(path).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn calendar_answers_from_the_issue() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        ok(abm(
            dir.path(),
            &["calendar", "add-business-days", "2026-07-02", "5", "--calendar", "us"]
        ))
        .trim(),
        "2026-07-10"
    );
    assert_eq!(
        ok(abm(dir.path(), &["calendar", "fiscal-quarter", "2021-09-15"])).trim(),
        "FY22-Q3"
    );
    assert_eq!(
        ok(abm(
            dir.path(),
            &["calendar", "business-days-between", "2026-07-02", "2026-07-10"]
        ))
        .trim(),
        "5"
    );
    assert_eq!(
        ok(abm(dir.path(), &["calendar", "add-business-days", "2026-07-10", "-5"])).trim(),
        "2026-07-02"
    );
    let q = ok(abm(dir.path(), &["calendar", "quarter", "FY27-Q1", "--format", "json"]));
    let q: serde_json::Value = serde_json::from_str(&q).unwrap();
    assert_eq!(q["start"], "2026-02-01");
    assert_eq!(q["end"], "2026-04-30");
    assert_eq!(q["first_business_day"], "2026-02-02");
}

#[test]
fn calendar_mistakes_exit_1_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let o = abm(dir.path(), &["calendar", "add-business-days", "07/02/2026", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expected a date like 2026-07-02"), "{}", stderr(&o));
    let o = abm(
        dir.path(),
        &["calendar", "add-business-days", "2026-07-02", "5", "--calendar", "mars"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unknown calendar \"mars\""), "{}", stderr(&o));
}

#[test]
fn workspace_calendar_from_abm_toml() {
    let (_d, ws) = workspace();
    std::fs::write(ws.join("shutdown.txt"), "2026-07-06 Summer shutdown\n").unwrap();
    let mut cfg = std::fs::read_to_string(ws.join("abm.toml")).unwrap();
    cfg = cfg.replace("default_calendar = \"us\"", "default_calendar = \"team\"");
    cfg.push_str("\n[calendars.team]\nbase = \"us\"\nholidays = [\"shutdown.txt\"]\n");
    std::fs::write(ws.join("abm.toml"), cfg).unwrap();
    // US holiday Jul 3 and the team's own Jul 6 are both skipped.
    assert_eq!(
        ok(abm(&ws, &["calendar", "add-business-days", "2026-07-02", "5"])).trim(),
        "2026-07-13"
    );
    let o = abm(&ws, &["calendar", "list"]);
    assert!(stdout(&o).contains("team (default)"));
    // Holidays keep their names, from the US base and from the team's own file.
    let h: serde_json::Value = serde_json::from_str(&ok(abm(
        &ws,
        &["calendar", "holidays", "--year", "2026", "--format", "json"],
    )))
    .unwrap();
    let named = |date: &str| {
        h.as_array()
            .unwrap()
            .iter()
            .find(|x| x["date"] == date)
            .map(|x| x["name"].clone())
    };
    assert_eq!(named("2026-07-03"), Some(serde_json::json!("Independence Day")));
    assert_eq!(named("2026-07-06"), Some(serde_json::json!("Summer shutdown")));
}

#[test]
fn commands_outside_a_workspace_say_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let o = abm(dir.path(), &["accounts", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("abm init"), "{}", stderr(&o));
    let o = abm(dir.path(), &["accounts", "frobnicate"]);
    assert_eq!(o.status.code(), Some(1), "usage mistakes are user errors");
}

#[test]
fn bad_rows_are_all_reported_and_nothing_is_written() {
    let (dir, ws) = workspace();
    let file = accounts_csv(dir.path(), 1000);
    set_field(&file, 10, "Employees", "lots");
    set_field(&file, 500, "Account Name", "");
    set_field(&file, 1001, "Website", "https://gmail.com");
    let o = abm(&ws, &["accounts", "import", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let name = file.display().to_string();
    assert!(
        err.contains(&format!("{name}:10: column Employees: expected a whole number")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:500: column Account Name: is required")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:1001: column Website: ")) && err.contains("free-mail"),
        "{err}"
    );
    assert!(err.contains("3 bad row(s); nothing was imported"), "{err}");
    assert_eq!(list_json(&ws).as_array().unwrap().len(), 0, "the store is unchanged");

    let out = ok(abm(
        &ws,
        &["accounts", "import", file.to_str().unwrap(), "--skip-bad-rows"],
    ));
    assert!(out.contains("997 accounts added"), "{out}");
    assert_eq!(list_json(&ws).as_array().unwrap().len(), 997);
    let rejects = dir.path().join("accounts-1000.rejects.csv");
    let mut r = csv::Reader::from_path(&rejects).unwrap();
    let lines: Vec<String> = r.records().map(|x| x.unwrap().get(27).unwrap().to_string()).collect();
    assert_eq!(lines, vec!["10", "500", "1001"]);
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let (dir, ws) = workspace();
    let file = accounts_csv(dir.path(), 300);
    ok(abm(&ws, &["accounts", "import", file.to_str().unwrap()]));
    let before = list_json(&ws);
    let first = before[0]["crm_id"].as_str().unwrap().to_string();
    let show_before = ok(abm(&ws, &["accounts", "show", &first, "--format", "json"]));
    let out = ok(abm(&ws, &["accounts", "import", file.to_str().unwrap()]));
    assert!(out.contains("0 accounts added, 0 updated, 300 unchanged"), "{out}");
    assert_eq!(list_json(&ws), before);
    assert_eq!(
        ok(abm(&ws, &["accounts", "show", &first, "--format", "json"])),
        show_before
    );
}

#[test]
fn a_crash_mid_import_leaves_the_store_as_it_was() {
    let (dir, ws) = workspace();
    let small = accounts_csv(dir.path(), 200);
    ok(abm(&ws, &["accounts", "import", small.to_str().unwrap()]));
    let before = list_json(&ws);
    // A bigger file adds 24,800 accounts; the process dies after 10,000 rows are written.
    let big = accounts_csv(dir.path(), 25_000);
    let o = Command::new(env!("CARGO_BIN_EXE_abm"))
        .arg("--workspace")
        .arg(&ws)
        .args(["accounts", "import", big.to_str().unwrap()])
        .env("ABM_TEST_ABORT_AFTER_ROWS", "10000")
        .output()
        .unwrap();
    assert!(!o.status.success(), "the import was killed");
    assert!(stderr(&o).contains("aborting after 10000 rows"), "{}", stderr(&o));
    assert_eq!(list_json(&ws), before, "nothing of the killed import is visible");
    // And the store still works: the import goes through when run again.
    let out = ok(abm(&ws, &["accounts", "import", big.to_str().unwrap()]));
    assert!(out.contains("25000 rows read"), "{out}");
}

#[test]
fn a_crash_mid_bulk_load_keeps_the_old_data_and_indexes() {
    // Loads of 50,000+ accounts take the bulk path: rollback journal, indexes rebuilt at the end.
    let (dir, ws) = workspace();
    let small = accounts_csv(dir.path(), 100);
    ok(abm(&ws, &["accounts", "import", small.to_str().unwrap()]));
    let before = list_json(&ws);
    let big = accounts_csv(dir.path(), 60_000);
    let o = Command::new(env!("CARGO_BIN_EXE_abm"))
        .arg("--workspace")
        .arg(&ws)
        .args(["accounts", "import", big.to_str().unwrap()])
        .env("ABM_TEST_ABORT_AFTER_ROWS", "30000")
        .output()
        .unwrap();
    assert!(stderr(&o).contains("aborting after 30000 rows"), "{}", stderr(&o));
    assert_eq!(list_json(&ws), before);
    let db = rusqlite::Connection::open(ws.join("abm.db")).unwrap();
    let mut indexes: Vec<String> = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('accounts', 'account_domains', 'people') ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    indexes.sort();
    assert_eq!(
        indexes,
        vec!["accounts_ultimate_parent", "people_email", "people_person_id"]
    );
    let mode: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    drop(db);
    assert_eq!(mode, "wal", "reopening restores the WAL journal");
    let out = ok(abm(&ws, &["accounts", "import", big.to_str().unwrap()]));
    assert!(out.contains("59900 accounts added, 0 updated, 100 unchanged"), "{out}");
    let search: serde_json::Value = serde_json::from_str(&ok(abm(
        &ws,
        &["accounts", "list", "-q", "treygroup", "--format", "json"],
    )))
    .unwrap();
    assert!(
        !search.as_array().unwrap().is_empty(),
        "domain search works after the rebuild"
    );
}

#[test]
fn column_flags_and_mapping_files_rename_columns() {
    let (dir, ws) = workspace();
    let file = dir.path().join("hubspot.csv");
    std::fs::write(&file, "Company ID;Company name;Company Domain Name;Number of Employees;HG Dev Count\nH1;Hub One;hubone.example;2500;700\nH2;Hub Two;hubtwo.example;40;\n").unwrap();
    let o = abm(&ws, &["accounts", "import", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no column for crm_id"), "{}", stderr(&o));
    let mapping = dir.path().join("map.toml");
    std::fs::write(&mapping, "[columns]\nname = \"Company name\"\nwebsite = \"Company Domain Name\"\n\n[attributes]\n\"HG Dev Count\" = \"developer_count@hginsights\"\n").unwrap();
    ok(abm(
        &ws,
        &[
            "accounts",
            "import",
            file.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--column",
            "crm_id=Company ID",
        ],
    ));
    let shown: serde_json::Value =
        serde_json::from_str(&ok(abm(&ws, &["accounts", "show", "H1", "--format", "json"]))).unwrap();
    assert_eq!(shown["segment"], "Large");
    assert_eq!(shown["domains"][0], "hubone.example");
    assert_eq!(shown["attributes"][0]["source"], "hginsights");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[columns]\nfavourite_colour = \"x\"\n").unwrap();
    let o = abm(
        &ws,
        &[
            "accounts",
            "import",
            file.to_str().unwrap(),
            "--mapping",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown field \"favourite_colour\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn hierarchy_problems_are_reported() {
    let (dir, ws) = workspace();
    let file = dir.path().join("loop.csv");
    std::fs::write(
        &file,
        "Account ID,Account Name,Parent Account ID,Employees,CARR\nA,Alpha,B,10,0\nB,Beta,A,20,0\nC,Gamma,ZZZ,3000,0\nD,Delta,C,5,100\n",
    )
    .unwrap();
    let o = abm(&ws, &["accounts", "import", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(":2: column Parent Account ID: the parent chain loops"),
        "{err}"
    );
    assert!(
        err.contains(":3: column Parent Account ID: the parent chain loops"),
        "{err}"
    );
    let out = ok(abm(
        &ws,
        &["accounts", "import", file.to_str().unwrap(), "--skip-bad-rows"],
    ));
    assert!(out.contains("C → ZZZ"), "missing parents are listed: {out}");
    let d: serde_json::Value =
        serde_json::from_str(&ok(abm(&ws, &["accounts", "show", "D", "--format", "json"]))).unwrap();
    assert_eq!(d["ultimate_parent_id"], "C");
    assert_eq!(d["segment"], "Large", "segment from the family maximum");
    assert_eq!(d["first_order_available"], false, "family CARR 100 > 0");
}

#[test]
fn demo_world_has_thousands_of_accounts_with_what_users_need() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo-ws");
    ok(abm(&ws, &["demo", "--seed", "3", "--today", "2026-11-28"]));
    let all = list_json(&ws);
    let all = all.as_array().unwrap();
    assert!(all.len() >= 5000, "{} accounts", all.len());
    for a in all {
        for key in ["crm_id", "name", "domains", "segment", "geo", "ultimate_parent_id"] {
            assert!(a.get(key).is_some(), "{key} missing in {a}");
        }
    }
    // Everyone on the demo team can sign in to the web app (the demo password is printed).
    let users: serde_json::Value = serde_json::from_str(&ok(abm(&ws, &["users", "list", "--format", "json"]))).unwrap();
    let users = users.as_array().unwrap();
    assert!(users
        .iter()
        .any(|u| u["username"] == "mmanager" && u["role"] == "manager"));
    assert!(users.iter().all(|u| u["can_sign_in"] == true), "{users:?}");
    let families = all.iter().filter(|a| a["ultimate_parent_id"] != a["crm_id"]).count();
    assert!(families > 500, "accounts in parent/child families: {families}");
    for seg in ["Large", "Mid-Market", "SMB", "PubSec"] {
        assert!(all.iter().any(|a| a["segment"] == seg), "no {seg} accounts");
    }
    for geo in ["AMER", "EMEA", "APAC", "PubSec"] {
        assert!(all.iter().any(|a| a["geo"] == geo), "no {geo} accounts");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("demo/manifest.json")).unwrap()).unwrap();
    assert!(manifest["activities"].as_u64().unwrap() > 10_000);
    assert!(manifest["opportunities"].as_u64().unwrap() > 50);
    for f in [
        "activities.csv",
        "opportunities.csv",
        "opportunity-stage-history.csv",
        "requests.json",
        "team.csv",
        "pto.csv",
        "ads/linkedin-campaign-performance.csv",
        "ads/google-ads-campaign-report.csv",
        "ads/meta-ads-report.csv",
    ] {
        assert!(ws.join("demo").join(f).exists(), "{f}");
    }
    let status = ok(abm(&ws, &["status", "--format", "json"]));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert!(status["counts"]["people"].as_u64().unwrap() > 10_000);
    // Deterministic: the same seed and date give the same files.
    let again = dir.path().join("again");
    ok(abm(&again, &["demo", "--seed", "3", "--today", "2026-11-28"]));
    for f in [
        "accounts.csv",
        "people.csv",
        "activities.csv",
        "requests.json",
        "ads/google-ads-campaign-report.csv",
    ] {
        assert_eq!(
            std::fs::read(ws.join("demo").join(f)).unwrap(),
            std::fs::read(again.join("demo").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn list_filters_paging_and_formats() {
    let (dir, ws) = workspace();
    let file = accounts_csv(dir.path(), 400);
    ok(abm(&ws, &["accounts", "import", file.to_str().unwrap()]));
    let emea: serde_json::Value = serde_json::from_str(&ok(abm(
        &ws,
        &["accounts", "list", "--geo", "emea", "--format", "json"],
    )))
    .unwrap();
    let emea = emea.as_array().unwrap();
    assert!(!emea.is_empty() && emea.iter().all(|a| a["geo"] == "EMEA"));
    let page2: serde_json::Value = serde_json::from_str(&ok(abm(
        &ws,
        &[
            "accounts",
            "list",
            "--page",
            "2",
            "--per-page",
            "10",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    let all = list_json(&ws);
    assert_eq!(page2.as_array().unwrap().as_slice(), &all.as_array().unwrap()[10..20]);
    let csv_out = ok(abm(&ws, &["accounts", "list", "--limit", "5", "--format", "csv"]));
    assert_eq!(csv_out.lines().count(), 6);
    assert!(csv_out.starts_with("crm_id,name,domains,segment,geo"));
    let o = abm(&ws, &["accounts", "list", "--segment", "Huge"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--segment: expected one of Large, Mid-Market, SMB, PubSec"),
        "{}",
        stderr(&o)
    );
    let o = abm(&ws, &["accounts", "show", "nope"]);
    assert_eq!(o.status.code(), Some(1));
}
