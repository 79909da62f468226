//! The ICP through the `abm` binary on the demo world: scores, explanations, diff, activate and
//! rollback, and what a malformed icp.toml does.

mod common;

use abm_store::Store;
use common::{abm, fails, json, ok};
use std::path::Path;

const TODAY: &str = "2026-11-27";

fn fits(ws: &Path) -> Vec<abm_store::StoredFit> {
    abm_store::SqliteStore::open(&ws.join("abm.db"))
        .unwrap()
        .fits()
        .unwrap()
}

#[test]
fn demo_world_scores_explain_diff_activate_and_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    ok(abm(&ws, TODAY, None, &["demo", "--today", TODAY]));
    // The demo scores its accounts; A-grade accounts are there and are A.
    let a = json(abm(
        &ws,
        TODAY,
        None,
        &["accounts", "list", "--grade", "A", "--format", "json"],
    ));
    let a = a.as_array().unwrap();
    assert!(a.len() > 20, "{} A accounts", a.len());
    assert!(a
        .iter()
        .all(|x| x["grade"] == "A" && x["icp"] == true && x["icp_version"] == 1));
    let one = a[0]["crm_id"].as_str().unwrap();
    let shown = json(abm(&ws, TODAY, None, &["accounts", "show", one, "--format", "json"]));
    let e = &shown["icp_explanation"][1];
    let sum: i64 = e["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["points"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, e["score"].as_i64().unwrap());
    assert_eq!(e["score"], a[0]["fit_score"]);
    assert!(
        e["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["source"].is_string()),
        "values say where they came from"
    );

    // Every account's explanation adds up to its stored score.
    let before = fits(&ws);
    assert!(before.len() > 5000);
    {
        let (icp, _) = abm_workspace::Workspace::open(&ws).unwrap().icp().unwrap();
        let cfg = abm_workspace::Workspace::open(&ws).unwrap().config;
        let mut store = abm_store::SqliteStore::open(&ws.join("abm.db")).unwrap();
        for f in &before {
            let e = abm_workspace::icp::explain(&mut store, &icp, &cfg.precedence, &f.crm_id)
                .unwrap()
                .unwrap();
            assert_eq!(
                e.criteria.iter().map(|c| c.points).sum::<u32>(),
                e.score,
                "{}",
                f.crm_id
            );
            assert_eq!(
                (e.icp, e.score, e.grade.to_string()),
                (f.icp, f.score, f.grade.clone()),
                "{}",
                f.crm_id
            );
        }
    }

    // Raise the developer threshold (Large, 2,000 → 4,000 points) and the Mid-Market gate (100 →
    // 400): diff lists exactly the accounts that change, and stores nothing.
    let icp_path = ws.join("icp.toml");
    let original = std::fs::read_to_string(&icp_path).unwrap();
    let edited = original.replacen("at_least = 2000", "at_least = 4000", 1).replacen(
        "at_least = 100\ncore = true\nany_source = true",
        "at_least = 400\ncore = true",
        1,
    );
    assert_ne!(edited, original);
    std::fs::write(&icp_path, &edited).unwrap();
    let d = json(abm(&ws, TODAY, None, &["icp", "diff", "--format", "json"]));
    assert_eq!(fits(&ws), before, "a diff changes no stored score");
    let listed: std::collections::BTreeSet<String> = d["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[0].as_str().unwrap().to_string())
        .collect();
    assert!(
        !listed.is_empty() && !d["leaving"].as_array().unwrap().is_empty(),
        "{d}"
    );
    ok(abm(&ws, TODAY, Some("mmanager"), &["icp", "activate"]));
    let after = fits(&ws);
    let changed: std::collections::BTreeSet<String> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| (b.icp, b.score, &b.grade) != (a.icp, a.score, &a.grade))
        .map(|(b, _)| b.crm_id.clone())
        .collect();
    assert_eq!(listed, changed, "the diff listed exactly the accounts that changed");
    assert!(after.iter().all(|f| f.version == 2));
    let history = json(abm(&ws, TODAY, None, &["icp", "history", "--format", "json"]));
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[1]["active"], true);
    assert_eq!(history[1]["author"], "mmanager");

    // Roll back: the previous scores return bit for bit, and icp.toml holds version 1 again.
    ok(abm(&ws, TODAY, Some("mmanager"), &["icp", "rollback", "1"]));
    assert_eq!(fits(&ws), before);
    assert_eq!(std::fs::read_to_string(&icp_path).unwrap(), original);

    // A malformed icp.toml is reported with its line; nothing changes.
    let broken = original.replacen("at_least = 2000", "at_least = \"lots\"", 1);
    std::fs::write(&icp_path, &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("\"lots\"")).unwrap() + 1;
    let msg = fails(abm(&ws, TODAY, None, &["icp", "activate"]));
    assert!(msg.contains(&format!("icp.toml:{line}:")), "{msg}");
    let unbalanced = original.replacen("points = 30", "points = 35", 1);
    std::fs::write(&icp_path, &unbalanced).unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["icp", "diff"]));
    assert!(msg.contains("sum to 105; they must sum to 100"), "{msg}");
    assert_eq!(fits(&ws), before);
    assert_eq!(
        json(abm(&ws, TODAY, None, &["icp", "history", "--format", "json"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn lists_publish_frozen_and_diff_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    ok(abm(&ws, TODAY, None, &["demo", "--today", TODAY]));
    // The demo builds and publishes a first list with all three tiers.
    let v1 = json(abm(&ws, TODAY, None, &["lists", "show", "1", "--format", "json"]));
    assert!(v1["published"].is_array(), "{}", v1["published"]);
    let tiers: std::collections::BTreeSet<&str> = v1["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["tier"].as_str().unwrap())
        .collect();
    assert_eq!(tiers, ["Tier 1", "Tier 2", "Tier 3"].into());
    let tier1 = v1["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tier"] == "Tier 1" && e["family"] == e["crm_id"])
        .count();
    assert!((5..=28).contains(&tier1), "{tier1} Tier 1 families");
    // A published version cannot change.
    let msg = fails(abm(&ws, TODAY, Some("mmanager"), &["lists", "publish", "1"]));
    assert!(msg.contains("already published"), "{msg}");
    // Flag a listed family, raise the bar for Tier 3, rebuild: every removal has a reason.
    let listed = v1["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["tier"] == "Tier 2" && e["family"] == e["crm_id"])
        .unwrap();
    let flagged = listed["crm_id"].as_str().unwrap();
    ok(abm(
        &ws,
        TODAY,
        Some("sales-sam"),
        &["lists", "flag", flagged, "--reason", "no budget this year"],
    ));
    let rules = std::fs::read_to_string(ws.join("lists.toml")).unwrap();
    std::fs::write(
        ws.join("lists.toml"),
        rules.replace("max_accounts = 100", "max_accounts = 40"),
    )
    .unwrap();
    ok(abm(&ws, TODAY, Some("mmanager"), &["lists", "build"]));
    let d = json(abm(&ws, TODAY, None, &["lists", "diff", "1", "2", "--format", "json"]));
    let removed = d["removed"].as_array().unwrap();
    assert!(removed.len() > 20, "{} removed", removed.len());
    assert!(
        removed.iter().all(|r| !r[2].as_str().unwrap().is_empty()),
        "every removal has a reason"
    );
    let why = removed.iter().find(|r| r[0] == flagged).unwrap();
    assert_eq!(why[2], "flagged by sales: no budget this year");
    assert_eq!(
        json(abm(&ws, TODAY, None, &["lists", "show", "1", "--format", "json"])),
        v1,
        "version 1 did not change"
    );
    // Nominations get a decision date 5 business days out; a decision needs a reason.
    let out = ok(abm(
        &ws,
        TODAY,
        None,
        &[
            "lists",
            "nominate",
            flagged,
            "--by",
            "sales-sam",
            "--reason",
            "budget found",
        ],
    ));
    assert!(out.contains("due by 2026-12-04"), "{out}");
    fails(abm(
        &ws,
        TODAY,
        Some("mmanager"),
        &["lists", "decide", "1", "accept", "--reason", " "],
    ));
    ok(abm(
        &ws,
        TODAY,
        Some("mmanager"),
        &["lists", "decide", "1", "decline", "--reason", "flag stands"],
    ));
    fails(abm(
        &ws,
        TODAY,
        Some("mmanager"),
        &["lists", "decide", "1", "accept", "--reason", "changed my mind"],
    ));
    // Exports: the CRM update file and LinkedIn's company list.
    let crm = dir.path().join("crm.csv");
    let li = dir.path().join("linkedin.csv");
    ok(abm(
        &ws,
        TODAY,
        None,
        &[
            "lists",
            "export",
            "2",
            "--crm",
            crm.to_str().unwrap(),
            "--linkedin",
            li.to_str().unwrap(),
        ],
    ));
    let crm = std::fs::read_to_string(crm).unwrap();
    assert!(crm.starts_with("Account ID,ABM Tier,GTM Strategy\n"));
    let li = std::fs::read_to_string(li).unwrap();
    assert!(li.starts_with("companyname,companywebsite,companyemaildomain,linkedincompanypageurl,stocksymbol,industry,city,state,companycountry,zipcode\n"));
    assert_eq!(crm.lines().count(), li.lines().count());
    // A malformed lists.toml names its line.
    std::fs::write(
        ws.join("lists.toml"),
        rules.replacen("min_grade = \"B\"", "min_grade = \"E\"", 1),
    )
    .unwrap();
    let line = rules.lines().position(|l| l.contains("name = \"Tier 2\"")).unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["lists", "build"]));
    assert!(
        msg.contains("lists.toml:") && msg.contains("min_grade"),
        "{msg} (tier 2 starts near line {line})"
    );
    assert_eq!(
        json(abm(&ws, TODAY, None, &["lists", "history", "--format", "json"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
