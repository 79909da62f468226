//! Milestones, capacity planning and boards through the `abm` binary.

mod common;

use common::{abm, fails, json, ok, team_workspace};
use serde_json::Value;
use std::path::Path;

/// A request for `aabm` due `due`, with a priority and a weight.
fn work(ws: &Path, title: &str, priority: &str, weight: &str, due: &str) -> i64 {
    let out = ok(abm(
        ws,
        "2027-01-04",
        Some("aabm"),
        &[
            "requests",
            "new",
            "--template",
            "abm-milestoneplan",
            "--title",
            title,
            "--field",
            "milestone=Q1",
            "--label",
            &format!("ABM-Priority::{priority}"),
            "--weight",
            weight,
            "--due",
            due,
        ],
    ));
    let id: i64 = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    ok(abm(
        ws,
        "2027-01-04",
        Some("mmanager"),
        &["requests", "assign", &id.to_string(), "aabm"],
    ));
    id
}

#[test]
fn milestone_budget_is_70_percent_of_available_hours_and_low_goes_first() {
    let (_dir, ws) = team_workspace();
    // Mktg: 2027-01-17 runs Jan 4-17: ten business days (80 h). The default calls give 4 h
    // (Tue 5 and Wed 6 bi-weekly, Thu 7 and 14 weekly); a 2-hour one-off and a PTO day.
    std::fs::write(
        ws.join("time-away.csv"),
        "Username,Date,Hours,Kind\naabm,2027-01-11,8,pto\naabm,2027-01-12,2,meeting\n",
    )
    .unwrap();
    let top = work(&ws, "Top work", "Top", "4", "2027-01-15");
    let high = work(&ws, "High work", "High", "3", "2027-01-15");
    let med = work(&ws, "Med work", "Med", "2", "2027-01-14");
    let low = work(&ws, "Low work", "Low", "1", "2027-01-08");
    let plan = json(abm(
        &ws,
        "2027-01-04",
        None,
        &["plan", "milestone", "Mktg: 2027-01-17", "--format", "json"],
    ));
    let me = plan["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["capacity"]["username"] == "aabm")
        .unwrap();
    let c = &me["capacity"];
    assert_eq!(
        (
            c["working_hours"].as_f64(),
            c["pto_hours"].as_f64(),
            c["meeting_hours"].as_f64()
        ),
        (Some(80.0), Some(8.0), Some(6.0))
    );
    assert_eq!(c["budget_hours"].as_f64(), Some(46.2));
    let committed: Vec<i64> = me["committed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(committed, vec![top, high], "24 h + 16 h; the 8 h Med would make 48 h");
    assert!(me["committed_hours"].as_f64().unwrap() <= 46.2);
    let dropped: Vec<i64> = me["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(dropped, vec![med, low], "Low is dropped once Med does not fit");
    assert_eq!(plan["tell"]["aabm"], serde_json::json!([med, low]));
    // The table says the same in words.
    let out = ok(abm(&ws, "2027-01-04", None, &["plan", "milestone", "2027-01-17"]));
    assert!(out.contains("budget 46.2 h"), "{out}");
    assert!(out.contains("tell aabm:"), "{out}");
    // The milestone board shows the hours against the budget; the prioritisation board moves cards.
    let b = json(abm(
        &ws,
        "2027-01-04",
        None,
        &["board", "milestone", "Mktg: 2027-01-17", "--format", "json"],
    ));
    let lane = &b["lanes"][0];
    assert_eq!(lane["assignee"], "aabm");
    assert_eq!(lane["hours"].as_f64(), Some(52.0));
    assert_eq!(lane["over_budget"], true);
    fails(abm(
        &ws,
        "2027-01-04",
        Some("sales-sam"),
        &["board", "move", &low.to_string(), "Top"],
    ));
    ok(abm(
        &ws,
        "2027-01-04",
        Some("mmanager"),
        &["board", "move", &low.to_string(), "top"],
    ));
    let cols = json(abm(&ws, "2027-01-04", None, &["board", "priority", "--format", "json"]));
    let top_ids: Vec<i64> = cols[0]["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(top_ids, vec![top, low]);
    let log = json(abm(
        &ws,
        "2027-01-04",
        None,
        &["requests", "log", &low.to_string(), "--format", "json"],
    ));
    let moved: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["after"] == "ABM-Priority::Top")
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["before"], "ABM-Priority::Low");
    // A bad time-away file is named by file, line and column.
    std::fs::write(ws.join("time-away.csv"), "Username,Date,Hours\naabm,next week,8\n").unwrap();
    let msg = fails(abm(&ws, "2027-01-04", None, &["plan", "milestone"]));
    assert!(msg.contains("time-away.csv:2: column Date"), "{msg}");
}

#[test]
fn due_dates_decide_the_milestone() {
    let (_dir, ws) = team_workspace();
    let ms = json(abm(
        &ws,
        "2026-11-30",
        None,
        &["milestones", "list", "--count", "2", "--format", "json"],
    ));
    assert_eq!(ms[0]["name"], "Mktg: 2026-12-06");
    assert_eq!(ms[1]["name"], "Mktg: 2026-12-20");
    for (due, want) in [("2026-12-02", "Mktg: 2026-12-06"), ("2026-12-07", "Mktg: 2026-12-20")] {
        // Submitted early enough that the SLA date (5 business days) does not move the due date.
        let out = ok(abm(
            &ws,
            "2026-11-20",
            Some("aabm"),
            &[
                "requests",
                "new",
                "--template",
                "abm-milestoneplan",
                "--title",
                "x",
                "--field",
                "milestone=x",
                "--due",
                due,
            ],
        ));
        let id = out.split_whitespace().nth(1).unwrap().to_string();
        let r = json(abm(
            &ws,
            "2026-11-30",
            None,
            &["requests", "show", &id, "--format", "json"],
        ));
        assert_eq!(r["sla"]["milestone"], want, "due {due}");
    }
    let msg = fails(abm(&ws, "2026-11-30", None, &["plan", "milestone", "Mktg: 2026-12-13"]));
    assert!(msg.contains("Mktg: 2026-12-20"), "{msg}");
}

#[test]
fn carry_over_counts_work_that_rolled() {
    let (_dir, ws) = team_workspace();
    let id = work(&ws, "Rolls", "High", "3", "2027-01-08");
    let c = json(abm(
        &ws,
        "2027-02-01",
        None,
        &["plan", "carry-over", "--format", "json"],
    ));
    let rolled: Vec<(String, i64, i64)> = c
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["milestone"]["name"].as_str().unwrap().to_string(),
                x["issues"].as_i64().unwrap(),
                x["weight"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rolled,
        vec![("Mktg: 2027-01-17".into(), 1, 3), ("Mktg: 2027-01-31".into(), 1, 3)]
    );
    ok(abm(
        &ws,
        "2027-02-02",
        Some("aabm"),
        &["requests", "close", &id.to_string()],
    ));
    let c = json(abm(
        &ws,
        "2027-03-01",
        None,
        &["plan", "carry-over", "--format", "json"],
    ));
    assert_eq!(c.as_array().unwrap().len(), 2, "closing it stops the rolling");
}
