//! Goals, key metrics and OKRs on the demo world: every metric and key result has a value for
//! the last full quarter, and each value equals a query written here over the same data (the
//! demo's files and the database), not through abm's scorecard.

mod common;

use common::{abm, fails, json, ok};
use std::collections::{HashMap, HashSet};

const TODAY: &str = "2026-11-28";
/// FY27-Q3 (the fiscal year starts February 1): the last full quarter on TODAY.
const FROM: &str = "2026-08-01";
const TO: &str = "2026-10-31";
/// FY27-Q2, the quarter before.
const PREV_FROM: &str = "2026-05-01";
const PREV_TO: &str = "2026-07-31";

fn csv_rows(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn key_metrics_and_okrs_equal_hand_written_queries() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    ok(abm(&ws, TODAY, None, &["demo", "--today", TODAY]));
    let shown = json(abm(
        &ws,
        TODAY,
        None,
        &[
            "metrics",
            "show",
            "--quarter",
            "FY27-Q3",
            "--compare",
            "previous",
            "--format",
            "json",
        ],
    ));
    let value = |name: &str| -> f64 {
        let m = shown["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        m["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("{name} has no value: {m}"))
    };
    for m in shown["metrics"].as_array().unwrap() {
        assert!(
            m["value"].is_number(),
            "every metric has a value for the last full quarter: {m}"
        );
    }

    // Key accounts and tiers from the published list.
    let list = json(abm(&ws, TODAY, None, &["lists", "show", "1", "--format", "json"]));
    let tier: HashMap<String, String> = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["crm_id"].as_str().unwrap().to_string(),
                e["tier"].as_str().unwrap().to_string(),
            )
        })
        .collect();

    // Opportunities from the demo's CRM files: the day each left stage 0, closed-won days.
    let opps = csv_rows(&ws.join("demo/opportunities.csv"));
    let history = csv_rows(&ws.join("demo/opportunity-stage-history.csv"));
    let mut moves: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for h in &history {
        moves
            .entry(h["Opportunity ID"].clone())
            .or_default()
            .push((h["Stage"].clone(), h["Entered At"][..10].to_string()));
    }
    let sao_day = |id: &str| -> Option<String> {
        let m = moves.get(id)?;
        (m.first()?.0.starts_with("0-") && m.len() > 1).then(|| m[1].1.clone())
    };
    let db = rusqlite::Connection::open(ws.join("abm.db")).unwrap();
    // The same queries for the quarter and the one before (shown by --compare previous).
    let mut checked_pipeline = 0.0;
    for (from, to, values) in [(FROM, TO, &shown["metrics"]), (PREV_FROM, PREV_TO, &shown["previous"])] {
        let value = |name: &str| -> f64 {
            let m = values.as_array().unwrap().iter().find(|m| m["name"] == name).unwrap();
            m["value"]
                .as_f64()
                .unwrap_or_else(|| panic!("{name} has no value: {m}"))
        };
        let in_q = |d: &str| (from..=to).contains(&d);
        let (mut north, mut saos, mut pipeline, mut won) = (0, 0, 0.0, 0.0);
        for o in &opps {
            let key = tier.contains_key(&o["Account ID"]);
            let amount: f64 = o["Amount"].parse().unwrap();
            if sao_day(&o["Opportunity ID"]).is_some_and(|d| in_q(&d)) {
                saos += 1;
                if key {
                    pipeline += amount;
                    if o["Order Type"] == "New - First Order" {
                        north += 1;
                    }
                }
            }
            if key
                && moves[&o["Opportunity ID"]]
                    .iter()
                    .any(|(s, d)| s == "Closed Won" && in_q(d))
            {
                won += amount;
            }
        }
        checked_pipeline += pipeline;
        assert_eq!(value("SAOs from first-order key accounts"), north as f64, "{from}");
        assert!(close(value("Pipeline from key accounts"), pipeline), "{from}");
        assert!(close(value("Closed-won from key accounts"), won), "{from}");
        // Spend: USD ad facts in the quarter (the demo's are daily), straight from the database.
        let spend: f64 = db
            .query_row(
                "SELECT sum(spend_micros) / 1e6 FROM ad_facts WHERE currency = 'USD' AND date_from >= ?1 AND date_to <= ?2",
                [from, to],
                |r| r.get(0),
            )
            .unwrap();
        assert!(spend > 0.0);
        assert!(close(value("Cost per SAO"), spend / saos as f64), "{from}");
        assert!(
            close(value("Key-account pipeline per dollar of spend"), pipeline / spend),
            "{from}"
        );
        // MQLs: the budget lines of the quarter (the demo's lines are whole quarters).
        let mqls: f64 = csv_rows(&ws.join("demo/budget.csv"))
            .iter()
            .filter(|l| l["Start"] == from && l["End"] == to)
            .map(|l| l["Actual MQLs"].parse::<f64>().unwrap())
            .sum();
        assert!(close(value("Cost per MQL"), spend / mqls), "{from}");
        // MQAs: accounts whose journey entered stage 6 in the quarter.
        let mqas: i64 = db
            .query_row(
                "SELECT count(DISTINCT crm_id) FROM journey_events WHERE to_stage = 6 AND day BETWEEN ?1 AND ?2",
                [from, to],
                |r| r.get(0),
            )
            .unwrap();
        assert!(mqas > 0);
        assert_eq!(value("MQAs"), mqas as f64, "{from}");
        // Reach: key accounts with any matched activity in the quarter.
        let mut st = db
            .prepare("SELECT DISTINCT crm_id FROM activities WHERE crm_id IS NOT NULL AND substr(at, 1, 10) BETWEEN ?1 AND ?2")
            .unwrap();
        let active: HashSet<String> = st
            .query_map([from, to], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let reached = tier.keys().filter(|c| active.contains(*c)).count();
        assert!(
            close(
                value("Reach of the key list"),
                reached as f64 * 100.0 / tier.len() as f64
            ),
            "{from}"
        );
    }
    assert!(checked_pipeline > 0.0, "some key-account pipeline was compared");
    // Engagement uplift in Tier 1: explain's contributions dated in each quarter, summed.
    let points = |crm: &str, from: &str, to: &str| -> f64 {
        let e = json(abm(
            &ws,
            TODAY,
            None,
            &[
                "engagement",
                "explain",
                crm,
                "--as-of",
                to,
                "--window",
                "100",
                "--format",
                "json",
            ],
        ));
        e["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| (from..=to).contains(&&c["at"].as_str().unwrap()[..10]))
            .map(|c| c["total"].as_f64().unwrap())
            .sum()
    };
    let (mut now, mut before) = (0.0, 0.0);
    for crm in tier.iter().filter(|(_, t)| *t == "Tier 1").map(|(c, _)| c) {
        now += points(crm, FROM, TO);
        before += points(crm, PREV_FROM, PREV_TO);
    }
    assert!(close(
        value("Engagement uplift, Tier 1"),
        (now - before) / before * 100.0
    ));

    // OKRs: every key result of the quarter has a value, its progress against its target.
    let okrs = json(abm(
        &ws,
        TODAY,
        None,
        &["okrs", "show", "--quarter", "FY27-Q3", "--format", "json"],
    ));
    let krs: Vec<&serde_json::Value> = okrs
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["key_results"].as_array().unwrap())
        .collect();
    assert!(krs.len() >= 5);
    for kr in krs {
        let v = kr["value"].as_f64().unwrap_or_else(|| panic!("no value: {kr}"));
        assert!(close(v, value(kr["metric"].as_str().unwrap())), "{kr}");
        let target = kr["target"].as_f64().unwrap();
        let want = if kr["metric"] == "Cost per MQL" {
            target / v
        } else {
            v / target
        };
        assert!(close(kr["progress"].as_f64().unwrap(), want), "{kr}");
    }
    // The history: both quarters' objectives without --quarter.
    let all = ok(abm(&ws, TODAY, None, &["okrs", "show"]));
    assert!(all.contains("FY27-Q3") && all.contains("FY27-Q4"), "{all}");

    // Goal workback with given and measured rates; the sample behind each measured one.
    let wb = json(abm(
        &ws,
        TODAY,
        None,
        &["goals", "workback", "--quarter", "FY27-Q4", "--format", "json"],
    ));
    let large = wb
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["segment"] == "Large" && w["geo"] == "AMER")
        .unwrap();
    let steps = large["steps"].as_array().unwrap();
    let deal = &steps[0]["rate"];
    assert_eq!(deal["source"], "measured");
    assert_eq!(deal["quarters"], "FY26-Q4..FY27-Q3");
    assert!(close(
        deal["value"].as_f64().unwrap(),
        deal["numerator"].as_f64().unwrap() / deal["denominator"].as_f64().unwrap()
    ));
    let opportunities = 2_400_000.0 / deal["value"].as_f64().unwrap();
    assert!(close(steps[0]["needed"].as_f64().unwrap(), opportunities));
    let sao_rate = steps[1]["rate"]["value"].as_f64().unwrap();
    assert!(
        close(steps[2]["needed"].as_f64().unwrap(), opportunities / sao_rate / 0.1),
        "MQLs with the given rate"
    );
    assert_eq!(steps[3]["rate"], serde_json::json!({"source": "given", "value": 0.3}));
    let msg = fails(abm(&ws, TODAY, None, &["goals", "workback", "--quarter", "FY28-Q1"]));
    assert!(msg.contains("no pipeline target for FY28-Q1"), "{msg}");
    let msg = fails(abm(&ws, TODAY, None, &["metrics", "show", "--quarter", "Q3"]));
    assert!(msg.contains("--quarter"), "{msg}");
    // A key result naming a metric that does not exist is refused with its line.
    std::fs::write(
        ws.join("okrs.toml"),
        "[[objectives]]\nquarter = \"FY27-Q3\"\nobjective = \"x\"\n[[objectives.key_results]]\ntext = \"y\"\nmetric = \"Nope\"\ntarget = 1\n",
    )
    .unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["okrs", "show"]));
    assert!(
        msg.contains("okrs.toml:1:") && msg.contains("no metric named \"Nope\""),
        "{msg}"
    );
}
