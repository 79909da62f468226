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
    assert!((unmatched as f64) < 0.05 * total as f64, "{unmatched} of {total} unmatched");
    let methods: Vec<&str> = s["by_method"].as_array().unwrap().iter().map(|m| m[0].as_str().unwrap()).collect();
    for m in ["account_id", "company_domain", "email_domain", "ip_range"] {
        assert!(methods.contains(&m), "{methods:?}");
    }
    let reasons: u64 = s["unmatched_by_reason"].as_array().unwrap().iter().map(|r| r[1].as_u64().unwrap()).sum();
    assert_eq!(reasons, unmatched, "every unmatched activity says why");
    let out = ok(abm(&ws, TODAY, None, &["activities", "import", ws.join("demo/web-visits.csv").to_str().unwrap()]));
    assert!(out.contains(" 0 added, 208450 already held"), "{out}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Timestamp,Visitor IP,Page URL,Known Email,UTM Campaign\n2026-11-01T10:00:00Z,999.1.1.1,https://x.example/,,\nyesterday,10.0.0.1,https://x.example/,,\n").unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["activities", "import", bad.to_str().unwrap()]));
    assert!(msg.contains("bad.csv:2: column Visitor IP") && msg.contains("bad.csv:3: column Timestamp"), "{msg}");
    let again = json(abm(&ws, TODAY, None, &["activities", "unmatched", "--format", "json"]));
    assert_eq!(again["total"], s["total"], "a bad file adds nothing");
    std::fs::write(&bad, "CIDR,Account ID\n100.0.0.0/40,0015g0000000000001\n").unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["ip-ranges", "import", bad.to_str().unwrap()]));
    assert!(msg.contains("bad.csv:2: column CIDR"), "{msg}");
}
