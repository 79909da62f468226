//! Activities through the `abm` binary: the demo world's exports match to accounts, re-imports add
//! nothing, and bad files name their line.

mod common;

use common::{abm, fails, json, ok};

const TODAY: &str = "2026-11-27";

#[test]
fn demo_activities_match_and_reimports_add_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    ok(abm(&ws, TODAY, None, &["demo", "--today", TODAY]));
    let s = json(abm(&ws, TODAY, None, &["activities", "unmatched", "--format", "json"]));
    let total = s["total"].as_u64().unwrap();
    let unmatched: u64 = s["by_method"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m[0] == "unmatched")
        .map(|m| m[1].as_u64().unwrap())
        .sum();
    assert!(total > 400_000, "{total} activities");
    assert!(
        (unmatched as f64) < 0.05 * total as f64,
        "{unmatched} of {total} unmatched"
    );
    let methods: Vec<&str> = s["by_method"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[0].as_str().unwrap())
        .collect();
    for m in ["account_id", "company_domain", "email_domain", "ip_range"] {
        assert!(methods.contains(&m), "{methods:?}");
    }
    let reasons: u64 = s["unmatched_by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_u64().unwrap())
        .sum();
    assert_eq!(reasons, unmatched, "every unmatched activity says why");
    let out = ok(abm(
        &ws,
        TODAY,
        None,
        &["activities", "import", ws.join("demo/web-visits.csv").to_str().unwrap()],
    ));
    assert!(out.contains(" 0 added, 208450 already held"), "{out}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Timestamp,Visitor IP,Page URL,Known Email,UTM Campaign\n2026-11-01T10:00:00Z,999.1.1.1,https://x.example/,,\nyesterday,10.0.0.1,https://x.example/,,\n").unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["activities", "import", bad.to_str().unwrap()]));
    assert!(
        msg.contains("bad.csv:2: column Visitor IP") && msg.contains("bad.csv:3: column Timestamp"),
        "{msg}"
    );
    let again = json(abm(&ws, TODAY, None, &["activities", "unmatched", "--format", "json"]));
    assert_eq!(again["total"], s["total"], "a bad file adds nothing");
    // SAOs: opportunities whose history leaves stage 0, counted here from the raw files.
    let history = std::fs::read_to_string(ws.join("demo/opportunity-stage-history.csv")).unwrap();
    let mut stages: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for l in history.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        stages.entry(c[0]).or_default().push(c[1]);
    }
    let want = stages
        .values()
        .filter(|s| s[0].starts_with("0-") && s.len() > 1)
        .count();
    let saos = json(abm(
        &ws,
        TODAY,
        None,
        &[
            "opportunities",
            "saos",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
            "--format",
            "json",
        ],
    ));
    assert_eq!(saos.as_array().unwrap().len(), want);
    assert!(want > 100, "{want} SAOs");
    let out = ok(abm(
        &ws,
        TODAY,
        None,
        &[
            "opportunities",
            "import",
            ws.join("demo/opportunities.csv").to_str().unwrap(),
            "--history",
            ws.join("demo/opportunity-stage-history.csv").to_str().unwrap(),
        ],
    ));
    assert!(out.contains("0 added, 0 updated, 294 unchanged"), "{out}");
    // Engagement: for accounts with activity, the explained contributions add up to the score.
    let accounts = json(abm(
        &ws,
        TODAY,
        None,
        &["accounts", "list", "--limit", "40", "--format", "json"],
    ));
    let mut scored = 0;
    for a in accounts.as_array().unwrap() {
        let e = json(abm(
            &ws,
            TODAY,
            None,
            &[
                "engagement",
                "explain",
                a["crm_id"].as_str().unwrap(),
                "--window",
                "90",
                "--format",
                "json",
            ],
        ));
        let parts: Vec<f64> = e["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["total"].as_f64().unwrap())
            .collect();
        let sum: f64 = parts.iter().sum();
        // Exact in abm (see the core property test); JSON parsing may differ in the last bit.
        assert!(
            (sum - e["score"].as_f64().unwrap()).abs() <= 1e-9 * sum.abs().max(1.0),
            "{}",
            a["crm_id"]
        );
        if let Some(last) = e["contributions"].as_array().unwrap().last() {
            assert_eq!(last["running_total"], e["score"]);
            scored += 1;
        }
    }
    assert!(scored > 10, "{scored} of 40 accounts have engagement");
    // Intent surges: this week against the three before.
    let surges = json(abm(&ws, TODAY, None, &["intent", "surging", "--format", "json"]));
    let surges = surges.as_array().unwrap();
    assert!(!surges.is_empty());
    for s in surges {
        assert!(s["recent"].as_f64().unwrap() >= 2.0, "{s}");
        assert!(s["lift"].is_null() || s["lift"].as_f64().unwrap() >= 1.5, "{s}");
    }
    std::fs::write(&bad, "CIDR,Account ID\n100.0.0.0/40,0015g0000000000001\n").unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["ip-ranges", "import", bad.to_str().unwrap()]));
    assert!(msg.contains("bad.csv:2: column CIDR"), "{msg}");
    journeys_of_the_demo_world(&ws);
}

/// The demo's imports kept journeys current account by account; a rebuild from the facts
/// gives the same; every stage from 01 to 11 is held; the last quarter's funnel is sane.
fn journeys_of_the_demo_world(ws: &std::path::Path) {
    let incremental = json(abm(ws, TODAY, None, &["journey", "accounts", "--format", "json"]));
    let journeys = incremental.as_array().unwrap();
    assert_eq!(journeys.len(), 6309, "every account has a journey");
    // Stored 90-day scores are what explain lists, for accounts with activity.
    for j in journeys
        .iter()
        .filter(|j| j["scores"][2]["points"].as_f64().unwrap() > 0.0)
        .take(15)
    {
        let e = json(abm(
            ws,
            TODAY,
            None,
            &[
                "engagement",
                "explain",
                j["crm_id"].as_str().unwrap(),
                "--as-of",
                TODAY,
                "--format",
                "json",
            ],
        ));
        assert_eq!(e["score"], j["scores"][2]["points"], "{}", j["crm_id"]);
        assert_eq!(e["engaged_people"], j["scores"][2]["engaged_people"]);
    }
    ok(abm(ws, TODAY, None, &["engagement", "rebuild"]));
    let rebuilt = json(abm(ws, TODAY, None, &["journey", "accounts", "--format", "json"]));
    assert!(incremental == rebuilt, "incremental updates must equal a rebuild");
    let counts = json(abm(ws, TODAY, None, &["journey", "as-of", TODAY, "--format", "json"]));
    for c in counts
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["stage"].as_u64().unwrap() <= 11)
    {
        assert!(c["accounts"].as_u64().unwrap() > 0, "no account in {c}");
    }
    let total: u64 = counts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["accounts"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 6309);
    // Counting one account's stage changes: `as-of` agrees with the history on either side.
    let mqa = journeys
        .iter()
        .find(|j| j["events"].as_array().unwrap().iter().any(|e| e["to"] == 6))
        .expect("an account reached MQA");
    let entered = mqa["events"].as_array().unwrap().iter().find(|e| e["to"] == 6).unwrap();
    let history = ok(abm(
        ws,
        TODAY,
        None,
        &["journey", "history", mqa["crm_id"].as_str().unwrap()],
    ));
    assert!(
        history.contains(&format!("{}  ", entered["day"].as_str().unwrap())) && history.contains("engaged people"),
        "{history}"
    );
    let funnel = json(abm(
        ws,
        TODAY,
        None,
        &[
            "journey",
            "funnel",
            "--from",
            "2026-08-01",
            "--to",
            "2026-10-31",
            "--format",
            "json",
        ],
    ));
    let rows = funnel.as_array().unwrap();
    assert_eq!(rows.len(), 11, "stages 01 to 11 are in the funnel");
    for r in rows {
        let (were, moved) = (r["were_in"].as_u64().unwrap(), r["moved_on"].as_u64().unwrap());
        assert!(moved <= were, "{r}");
        if let Some(c) = r["conversion"].as_f64() {
            assert!((0.0..=1.0).contains(&c), "{r}");
        }
    }
    let mqa_row = rows.iter().find(|r| r["stage"] == 6).unwrap();
    assert!(
        mqa_row["reached"].as_u64().unwrap() > 10,
        "accounts reached MQA last quarter: {mqa_row}"
    );
    let msg = fails(abm(
        ws,
        TODAY,
        None,
        &["journey", "funnel", "--from", "2026-10-31", "--to", "2026-08-01"],
    ));
    assert!(msg.contains("before --from"), "{msg}");
}

/// NDJSON exports and exports with other column names (through a mapping) import like the CSV
/// presets; re-imports add nothing; bad lines name their line and field.
#[test]
fn ndjson_and_mapped_exports() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let day = "2026-03-27";
    ok(abm(&ws, day, None, &["init"]));
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let accounts = file(
        "accounts.csv",
        "Account ID,Account Name,Website,Type\n0015g00000000ACM,Acme Corp,https://acme.example,Prospect\n",
    );
    ok(abm(&ws, day, None, &["accounts", "import", &accounts]));
    let nd = file(
        "activities.ndjson",
        "{\"Activity ID\": 1, \"Activity Date\": \"2026-03-01T10:00:00Z\", \"Activity Type\": \"Form Fill\", \"Email Address\": \"ann@acme.example\"}\n\
         \n\
         {\"Activity ID\": \"2\", \"Activity Date\": \"2026-03-02T10:00:00Z\", \"Activity Type\": \"Meeting\", \"Email Address\": \"bo@acme.example\", \"Minutes\": 30}\n",
    );
    let out = ok(abm(&ws, day, None, &["activities", "import", &nd]));
    assert!(
        out.contains("marketing-automation export, 2 activities: 2 added") && out.contains("2 matched"),
        "{out}"
    );
    let again = ok(abm(&ws, day, None, &["activities", "import", &nd]));
    assert!(again.contains("0 added, 2 already held"), "{again}");
    let e = json(abm(
        &ws,
        day,
        None,
        &[
            "engagement",
            "explain",
            "0015g00000000ACM",
            "--as-of",
            day,
            "--format",
            "json",
        ],
    ));
    assert_eq!(e["score"], 35.0, "a form (5) and a 30-minute meeting (its minutes)");
    // A web-analytics tool with its own column names, through a mapping.
    let mapping = file(
        "visits.toml",
        "preset = \"web-analytics\"\n[columns]\n\"Timestamp\" = \"Hit Time\"\n\"Visitor IP\" = \"Client IP\"\n\"Page URL\" = \"Page\"\n\"Known Email\" = \"User\"\n",
    );
    let visits = file(
        "visits.csv",
        "Hit Time,Client IP,Page,User\n2026-03-03T09:00:00Z,203.0.113.9,https://x.example/pricing,cy@acme.example\n",
    );
    let out = ok(abm(
        &ws,
        day,
        None,
        &["activities", "import", &visits, "--mapping", &mapping],
    ));
    assert!(
        out.contains("web-analytics export, 1 activities: 1 added") && out.contains("1 matched"),
        "{out}"
    );
    let bad_map = file("bad.toml", "preset = \"crm\"\n[columns]\n");
    let msg = fails(abm(
        &ws,
        day,
        None,
        &["activities", "import", &visits, "--mapping", &bad_map],
    ));
    assert!(msg.contains("bad.toml") && msg.contains("preset"), "{msg}");
    let bad = file(
        "bad.ndjson",
        "{\"Activity ID\": 3, \"Activity Date\": \"2026-03-04T10:00:00Z\", \"Activity Type\": \"Form Fill\"}\n\
         [1, 2]\n\
         {\"Activity ID\": 4, \"Activity Date\": \"soon\", \"Activity Type\": \"Form Fill\", \"Campaign\": {\"x\": 1}}\n",
    );
    let msg = fails(abm(&ws, day, None, &["activities", "import", &bad]));
    assert!(
        msg.contains("bad.ndjson:2:") && msg.contains("expected a JSON object"),
        "{msg}"
    );
    assert!(
        msg.contains("bad.ndjson:3: column Campaign: expected text or a number"),
        "{msg}"
    );
    let s = json(abm(&ws, day, None, &["activities", "unmatched", "--format", "json"]));
    assert_eq!(s["total"], 3, "a bad file adds nothing");
    engagement_rules_are_versioned(&ws, day);
}

/// Engagement rules are versioned like the ICP: a dry-run diff, activate, roll back.
fn engagement_rules_are_versioned(ws: &std::path::Path, day: &str) {
    let score = || {
        json(abm(
            ws,
            day,
            Some("aabm"),
            &[
                "engagement",
                "explain",
                "0015g00000000ACM",
                "--as-of",
                day,
                "--format",
                "json",
            ],
        ))["score"]
            .as_f64()
            .unwrap()
    };
    let out = ok(abm(ws, day, Some("aabm"), &["engagement", "activate"]));
    assert!(out.contains("engagement rules version 1 in force"), "{out}");
    // Forms worth 50 instead of 5: the diff shows it, nothing changes until activated.
    let path = ws.join("engagement.toml");
    let v1 = std::fs::read_to_string(&path).unwrap();
    let v2 = v1.replacen(
        "kind = \"Form Fill\"\npoints = 5",
        "kind = \"Form Fill\"\npoints = 50",
        1,
    );
    assert_ne!(v1, v2);
    std::fs::write(&path, &v2).unwrap();
    let diff = json(abm(ws, day, Some("aabm"), &["engagement", "diff", "--format", "json"]));
    assert_eq!(
        diff[0]["points_90d_before"], 40.0,
        "form 5 + meeting 30 + a pricing page view 1 + 4"
    );
    assert_eq!(diff[0]["points_90d_after"], 85.0);
    assert_eq!(score(), 40.0, "explain reads the rules in force, not the edited file");
    ok(abm(ws, day, Some("aabm"), &["engagement", "activate"]));
    assert_eq!(score(), 85.0);
    let stored = json(abm(ws, day, None, &["journey", "accounts", "--format", "json"]));
    assert_eq!(
        stored[0]["scores"][2]["points"], 85.0,
        "activation replays the journeys"
    );
    let out = ok(abm(ws, day, Some("aabm"), &["engagement", "rollback", "1"]));
    assert!(out.contains("engagement.toml now holds version 1"), "{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), v1);
    assert_eq!(score(), 40.0);
    let history = json(abm(ws, day, None, &["engagement", "history", "--format", "json"]));
    let active: Vec<bool> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["active"].as_bool().unwrap())
        .collect();
    assert_eq!(active, vec![true, false]);
    let msg = fails(abm(ws, day, None, &["engagement", "rollback", "7"]));
    assert!(msg.contains("no engagement rules version 7"), "{msg}");
}
