//! End-to-end tests of intake through the `abm` binary: the team, requests, triage, the SLA clock,
//! due-date rules, the audit log and workback schedules, on the days the handbook names.

mod common;

use abm_core::BusinessCalendar;
use chrono::NaiveDate;
use common::{abm, fails, json, ok, team_workspace, text};
use serde_json::Value;
use std::path::Path;

fn request(ws: &Path, id: &str) -> Value {
    json(abm(
        ws,
        "2026-11-28",
        None,
        &["requests", "show", id, "--format", "json"],
    ))
}

fn log(ws: &Path, id: &str) -> Vec<Value> {
    json(abm(
        ws,
        "2026-11-28",
        None,
        &["requests", "log", id, "--format", "json"],
    ))
    .as_array()
    .unwrap()
    .clone()
}

fn us() -> BusinessCalendar {
    abm_workspace::builtin_calendar("us").unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn handbook_example_due_date_moves_when_details_complete() {
    let (_dir, ws) = team_workspace();
    // Submitted Oct 1 with a due date of Oct 15, one detail missing.
    let out = ok(abm(
        &ws,
        "2021-10-01",
        Some("sales-sam"),
        &[
            "requests",
            "new",
            "--template",
            "direct-mail",
            "--title",
            "Mail the top 50",
            "--field",
            "budget=5,000",
            "--field",
            "account_list=https://docs.example.com/list",
            "--field",
            "item=socks",
            "--due",
            "2021-10-15",
        ],
    ));
    assert!(out.contains("request 1 submitted"), "{out}");
    assert!(out.contains("details missing: ship_by"), "{out}");
    // The manager triages: details missing → blocked, with a comment naming them.
    let out = ok(abm(&ws, "2021-10-04", Some("mmanager"), &["triage"]));
    assert!(out.contains("missing: ship_by"), "{out}");
    ok(abm(&ws, "2021-10-04", Some("mmanager"), &["triage", "1"]));
    let r = request(&ws, "1");
    assert!(r["request"]["labels"]
        .as_array()
        .unwrap()
        .contains(&Value::from("mktg-status::blocked")));
    assert!(r["sla"]["sla_date"].is_null(), "no clock while details are missing");
    // The requester completes the details on Oct 14: back to triage, clock starts, due date moves.
    let out = ok(abm(
        &ws,
        "2021-10-14",
        Some("sales-sam"),
        &["requests", "edit", "1", "--field", "ship_by=2021-11-01"],
    ));
    assert!(out.contains("2021-10-15 → 2021-10-21"), "{out}");
    let r = request(&ws, "1");
    assert_eq!(r["request"]["due_date"], "2021-10-21");
    assert_eq!(r["request"]["requested_due"], "2021-10-15");
    assert_eq!(r["sla"]["details_complete_day"], "2021-10-14");
    assert!(r["request"]["labels"]
        .as_array()
        .unwrap()
        .contains(&Value::from("mktg-status::triage")));
    let entries = log(&ws, "1");
    let moved = entries
        .iter()
        .find(|e| e["action"] == "due_date")
        .expect("the move is logged");
    assert_eq!(moved["before"], "2021-10-15");
    assert_eq!(moved["after"], "2021-10-21");
    assert!(
        moved["note"]
            .as_str()
            .unwrap()
            .contains("earlier than the SLA date 2021-10-21"),
        "{moved}"
    );
    let comment = entries.iter().find(|e| e["action"] == "comment").unwrap();
    assert!(comment["after"].as_str().unwrap().contains("details missing: ship_by"));
    // Triage again: complete → wip and assigned.
    ok(abm(
        &ws,
        "2021-10-15",
        Some("mmanager"),
        &["triage", "1", "--assign", "aabm"],
    ));
    let r = request(&ws, "1");
    assert_eq!(r["request"]["assignee"], "aabm");
    assert!(r["request"]["labels"]
        .as_array()
        .unwrap()
        .contains(&Value::from("mktg-status::wip")));
}

#[test]
fn sla_date_counts_us_business_days() {
    let (_dir, ws) = team_workspace();
    ok(abm(
        &ws,
        "2026-07-02",
        Some("sales-sam"),
        &[
            "requests",
            "new",
            "--template",
            "abm-analysis",
            "--title",
            "Which accounts surge?",
            "--field",
            "question=Which tier 1 accounts surged?",
            "--field",
            "data_sources=intent",
        ],
    ));
    let s = json(abm(&ws, "2026-07-02", None, &["sla", "status", "--format", "json"]));
    let r = &s["requests"][0];
    assert_eq!(r["details_complete_day"], "2026-07-02");
    assert_eq!(
        r["sla_date"], "2026-07-10",
        "Fri 2026-07-03 is Independence Day observed"
    );
    assert_eq!(r["business_days_remaining"], 5);
    let s = json(abm(&ws, "2026-07-09", None, &["sla", "status", "--format", "json"]));
    assert_eq!(s["requests"][0]["at_risk"], true);
    let s = json(abm(&ws, "2026-07-14", None, &["sla", "status", "--format", "json"]));
    assert_eq!(s["requests"][0]["business_days_remaining"], -2);
    assert_eq!(s["requests"][0]["breached"], true);
}

#[test]
fn only_manager_and_assignee_change_due_dates_and_both_attempts_are_audited() {
    let (_dir, ws) = team_workspace();
    ok(abm(
        &ws,
        "2026-07-02",
        Some("sales-sam"),
        &[
            "requests",
            "new",
            "--template",
            "tier1-plan",
            "--title",
            "Plan for Acme",
            "--field",
            "account=Acme",
            "--field",
            "sales_owner=Sam",
            "--due",
            "2026-08-01",
        ],
    ));
    let msg = fails(abm(
        &ws,
        "2026-07-03",
        Some("sales-sam"),
        &["requests", "edit", "1", "--due", "2026-07-20"],
    ));
    assert!(
        msg.contains("refused: sales-sam may not change the due date: only the manager mmanager"),
        "{msg}"
    );
    assert_eq!(
        request(&ws, "1")["request"]["due_date"],
        "2026-08-01",
        "the refusal changed nothing"
    );
    ok(abm(
        &ws,
        "2026-07-03",
        Some("mmanager"),
        &["requests", "edit", "1", "--due", "2026-07-20"],
    ));
    assert_eq!(request(&ws, "1")["request"]["due_date"], "2026-07-20");
    let entries = log(&ws, "1");
    let attempts: Vec<&Value> = entries.iter().filter(|e| e["action"] == "due_date").collect();
    assert_eq!(attempts.len(), 2, "{entries:?}");
    assert_eq!(attempts[0]["actor"], "sales-sam");
    assert_eq!(attempts[0]["refused"], true);
    assert_eq!(attempts[1]["actor"], "mmanager");
    assert_eq!(attempts[1]["refused"], false);
    assert_eq!(attempts[1]["before"], "2026-08-01");
    // The assignee may too; a viewer may not even comment; nobody may act without saying who.
    ok(abm(
        &ws,
        "2026-07-03",
        Some("mmanager"),
        &["requests", "assign", "1", "aabm"],
    ));
    ok(abm(
        &ws,
        "2026-07-06",
        Some("aabm"),
        &["requests", "edit", "1", "--due", "2026-07-24"],
    ));
    fails(abm(
        &ws,
        "2026-07-06",
        Some("exec-eve"),
        &["requests", "comment", "1", "hello"],
    ));
    let msg = fails(abm(&ws, "2026-07-06", None, &["requests", "comment", "1", "hello"]));
    assert!(msg.contains("--as"), "{msg}");
    let msg = fails(abm(
        &ws,
        "2026-07-06",
        Some("nobody"),
        &["requests", "comment", "1", "hello"],
    ));
    assert!(msg.contains("nobody is not on the team"), "{msg}");
}

#[test]
fn scoped_labels_keep_one_value() {
    let (_dir, ws) = team_workspace();
    ok(abm(
        &ws,
        "2026-07-02",
        Some("aabm"),
        &[
            "requests",
            "new",
            "--template",
            "abm-milestoneplan",
            "--title",
            "Plan",
            "--field",
            "milestone=Mktg: 2026-07-12",
            "--label",
            "ABM-Priority::Low",
        ],
    ));
    ok(abm(
        &ws,
        "2026-07-02",
        Some("aabm"),
        &["requests", "edit", "1", "--label", "ABM-Priority::High"],
    ));
    let labels: Vec<String> = request(&ws, "1")["request"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        labels
            .iter()
            .filter(|l| l.starts_with("ABM-Priority::"))
            .collect::<Vec<_>>(),
        vec!["ABM-Priority::High"]
    );
    assert!(labels.contains(&"mktg-status::triage".to_string()));
    let replaced = log(&ws, "1")
        .into_iter()
        .find(|e| e["after"] == "ABM-Priority::High")
        .unwrap();
    assert_eq!(replaced["before"], "ABM-Priority::Low");
}

#[test]
fn bad_input_exits_1_names_the_field_and_stores_nothing() {
    let (_dir, ws) = team_workspace();
    let new = |extra: &[&str]| {
        let mut args = vec!["requests", "new", "--title", "T"];
        args.extend_from_slice(extra);
        abm(&ws, "2026-07-02", Some("sales-sam"), &args)
    };
    let msg = fails(new(&["--template", "podcast"]));
    assert!(
        msg.contains("unknown template \"podcast\"") && msg.contains("linkedin-campaign"),
        "{msg}"
    );
    let msg = fails(new(&["--template", "direct-mail", "--field", "budget="]));
    assert!(msg.contains("field budget: is empty"), "{msg}");
    let msg = fails(new(&["--template", "direct-mail", "--field", "ship_by=next week"]));
    assert!(msg.contains("field ship_by: expected a date"), "{msg}");
    let msg = fails(new(&["--template", "direct-mail", "--due", "2026-13-01"]));
    assert!(msg.contains("--due") && msg.contains("expected a date"), "{msg}");
    let msg = fails(new(&["--template", "direct-mail", "--label", "ABM-Priority::"]));
    assert!(msg.contains("--label") && msg.contains("empty scope or value"), "{msg}");
    let msg = fails(abm(
        &ws,
        "2026-07-02",
        Some("sales-sam"),
        &["requests", "new", "--template", "direct-mail"],
    ));
    assert!(msg.contains("--title"), "{msg}");
    let msg = fails(new(&["--template", "direct-mail", "--field", "colour=red"]));
    assert!(
        msg.contains("field colour: is not a field of template direct-mail"),
        "{msg}"
    );
    let all = json(abm(
        &ws,
        "2026-07-02",
        None,
        &["requests", "list", "--all", "--format", "json"],
    ));
    assert_eq!(all.as_array().unwrap().len(), 0, "nothing was stored");
    let msg = fails(abm(
        &ws,
        "2026-07-02",
        Some("mmanager"),
        &["team", "add", "Bad Name", "--role", "member"],
    ));
    assert!(msg.contains("username"), "{msg}");
    let msg = fails(abm(
        &ws,
        "2026-07-02",
        Some("sales-sam"),
        &["team", "add", "newbie", "--role", "member"],
    ));
    assert!(msg.contains("only a manager"), "{msg}");
}

#[test]
fn workback_lays_out_tasks_and_creates_requests() {
    let (_dir, ws) = team_workspace();
    // Sunday 2026-11-01 rolls back to Friday 2026-10-30.
    let s = json(abm(
        &ws,
        "2026-08-03",
        None,
        &[
            "workback",
            "--template",
            "webcast",
            "--launch",
            "2026-11-01",
            "--format",
            "json",
        ],
    ));
    assert_eq!(s["launch"], "2026-10-30");
    assert_eq!(s["compressed"], false);
    let tasks = s["tasks"].as_array().unwrap().clone();
    let cal = us();
    for t in &tasks {
        let (start, due) = (d(t["start"].as_str().unwrap()), d(t["due"].as_str().unwrap()));
        assert!(
            cal.is_business_day(due) && cal.is_business_day(start) && start < due,
            "{t}"
        );
    }
    assert!(
        d(tasks[0]["start"].as_str().unwrap()) >= d("2026-09-14"),
        "about 45 days before launch"
    );
    // A week before launch the schedule is compressed and names the task.
    let s = json(abm(
        &ws,
        "2026-10-23",
        None,
        &[
            "workback",
            "--template",
            "webcast",
            "--launch",
            "2026-11-01",
            "--format",
            "json",
        ],
    ));
    assert_eq!(s["compressed"], true);
    assert!(s["tasks"][0]["compressed"]
        .as_str()
        .unwrap()
        .starts_with(tasks[0]["name"].as_str().unwrap()));
    let o = abm(
        &ws,
        "2026-08-03",
        Some("mmanager"),
        &[
            "workback",
            "--template",
            "webcast",
            "--launch",
            "2026-11-01",
            "--create-requests",
            "--format",
            "json",
        ],
    );
    ok(o);
    let again = abm(
        &ws,
        "2026-08-04",
        Some("mmanager"),
        &[
            "workback",
            "--template",
            "webcast",
            "--launch",
            "2026-11-01",
            "--create-requests",
            "--format",
            "json",
        ],
    );
    assert!(
        text(&again).contains(&format!("0 requests created ({} tasks already had one)", tasks.len())),
        "{}",
        text(&again)
    );
    let made = json(abm(&ws, "2026-08-03", None, &["requests", "list", "--format", "json"]));
    let made = made.as_array().unwrap();
    assert_eq!(made.len(), tasks.len());
    for (r, t) in made.iter().zip(&tasks) {
        assert_eq!(r["due_date"], t["due"], "{r}");
        assert_eq!(r["template"], "workback-task");
    }
}

#[test]
fn demo_world_sla_status_agrees_with_the_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    let today = "2026-11-27";
    ok(abm(&ws, today, None, &["demo", "--today", today]));
    let s = json(abm(&ws, today, None, &["sla", "status", "--format", "json"]));
    assert_eq!(s["calendar"], "us");
    let rows = s["requests"].as_array().unwrap();
    assert!(rows.len() > 30, "the demo has open requests");
    let cal = us();
    let today = d(today);
    let mut started = 0;
    let mut breached = 0;
    for r in rows {
        let Some(sla) = r["sla_date"].as_str().map(d) else {
            assert!(r["business_days_remaining"].is_null());
            assert!(
                !r["missing"].as_array().unwrap().is_empty() || r["status"] == "blocked" || r["status"] == "plan",
                "{r}"
            );
            continue;
        };
        started += 1;
        let start = d(r["details_complete_day"].as_str().unwrap());
        let turnaround = r["turnaround_business_days"].as_i64().unwrap();
        let paused = r["paused_business_days"].as_i64().unwrap();
        assert_eq!(
            sla,
            cal.add_business_days(cal.add_business_days(start, turnaround), paused),
            "{r}"
        );
        let left = cal.count(today, sla);
        assert_eq!(r["business_days_remaining"].as_i64().unwrap(), left, "{r}");
        assert_eq!(r["breached"], left < 0);
        assert_eq!(r["at_risk"], (0..=1).contains(&left));
        breached += (left < 0) as usize;
        // The due date is never earlier than the SLA date unless someone changed it by hand.
        assert!(d(r["due_date"].as_str().unwrap()) >= sla, "{r}");
    }
    assert!(started > 20 && breached > 0, "{started} started, {breached} breached");
    // Spot-check with the calendar command a user would run.
    let first = rows.iter().find(|r| r["sla_date"].is_string()).unwrap();
    let out = ok(abm(
        &ws,
        "2026-11-27",
        None,
        &[
            "calendar",
            "business-days-between",
            "2026-11-27",
            first["sla_date"].as_str().unwrap(),
        ],
    ));
    assert!(out.contains(&first["business_days_remaining"].to_string()), "{out}");
    // Re-importing the same requests changes nothing.
    let out = ok(abm(
        &ws,
        "2026-11-27",
        None,
        &["requests", "import", ws.join("demo/requests.json").to_str().unwrap()],
    ));
    assert!(out.contains("0 added, 0 updated, 260 unchanged"), "{out}");
}
