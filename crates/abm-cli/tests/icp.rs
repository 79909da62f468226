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
