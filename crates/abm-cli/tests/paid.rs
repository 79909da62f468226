//! Paid-media reporting through the `abm` binary on the demo world's ad exports.

mod common;

use abm_core::paid::AdFact;
use abm_store::Store;
use common::{abm, fails, json, ok};
use serde_json::Value;
use std::collections::BTreeMap;

const TODAY: &str = "2026-11-27";

fn sum(facts: &[AdFact], pick: impl Fn(&AdFact) -> bool, field: impl Fn(&AdFact) -> i64) -> f64 {
    facts.iter().filter(|f| pick(f)).map(|f| field(f) as f64).sum()
}

#[test]
fn demo_exports_import_decode_and_report_from_summed_parts() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    ok(abm(&ws, TODAY, None, &["demo", "--today", TODAY]));
    // Exactly the deliberately non-conforming campaign names are reported.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("demo/manifest.json")).unwrap()).unwrap();
    let mut want: Vec<String> = manifest["non_conforming_campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    want.sort();
    let check = json(abm(&ws, TODAY, None, &["taxonomy", "check", "--format", "json"]));
    let mut got: Vec<String> = check
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, want);
    let d = json(abm(
        &ws,
        TODAY,
        None,
        &[
            "taxonomy",
            "decode",
            "devsecopsusecase_amer_pr_rsa_nb_exact",
            "--format",
            "json",
        ],
    ));
    let f = &d["fields"];
    assert_eq!(
        (
            f["campaign_code"].as_str(),
            f["geo"].as_str(),
            f["targeting"].as_str(),
            f["ad_unit"].as_str(),
            f["brand"].as_str(),
            f["match_type"].as_str()
        ),
        (
            Some("devsecopsusecase"),
            Some("amer"),
            Some("pr"),
            Some("rsa"),
            Some("nb"),
            Some("exact")
        )
    );

    // Every row's ratios equal the ratios of its summed parts, recomputed here from the raw facts.
    let facts: Vec<AdFact> = abm_store::SqliteStore::open(&ws.join("abm.db"))
        .unwrap()
        .ad_facts()
        .unwrap();
    let taxonomy = abm_core::taxonomy::Taxonomy::presets();
    let r = json(abm(
        &ws,
        TODAY,
        None,
        &[
            "report",
            "paid",
            "--from",
            "2026-09-01",
            "--to",
            "2026-11-27",
            "--group-by",
            "channel,geo",
            "--format",
            "json",
        ],
    ));
    let rows = r["rows"].as_array().unwrap();
    assert!(rows.len() >= 6, "{} rows", rows.len());
    for row in rows {
        let key: BTreeMap<String, String> = serde_json::from_value(row["key"].clone()).unwrap();
        let pick = |f: &AdFact| {
            let dims = abm_core::paid::dimensions(f, &taxonomy);
            f.date_from.to_string().as_str() >= "2026-09-01"
                && f.date_to.to_string().as_str() <= "2026-11-27"
                && key
                    .iter()
                    .all(|(k, v)| dims.get(k.as_str()).map(String::as_str).unwrap_or("(none)") == v)
        };
        let spend = sum(&facts, &pick, |f| f.spend_micros) / 1e6;
        let imps = sum(&facts, &pick, |f| f.impressions);
        let clicks = sum(&facts, &pick, |f| f.clicks);
        let conv = sum(&facts, &pick, |f| f.conversions_milli) / 1e3;
        let m = &row["metrics"];
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
        assert!(
            close(m["spend"].as_f64().unwrap(), (spend * 100.0).round() / 100.0),
            "{key:?}"
        );
        assert!(close(m["ctr"].as_f64().unwrap(), clicks / imps), "{key:?}");
        assert!(close(m["cpc"].as_f64().unwrap(), spend / clicks), "{key:?}");
        assert!(close(m["cpm"].as_f64().unwrap(), spend / imps * 1000.0), "{key:?}");
        if conv > 0.0 {
            assert!(
                close(m["cost_per_conversion"].as_f64().unwrap(), spend / conv),
                "{key:?}"
            );
        } else {
            assert!(m["cost_per_conversion"].is_null());
        }
    }
    // "This month" on the 2nd compares with the previous month's last two days.
    let r = json(abm(
        &ws,
        "2026-11-02",
        None,
        &[
            "report",
            "paid",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--compare",
            "previous-period",
            "--format",
            "json",
        ],
    ));
    assert_eq!(r["compared_with"], serde_json::json!(["2026-10-30", "2026-10-31"]));

    // Re-importing the same export leaves every total unchanged.
    let totals = |ws: &std::path::Path| {
        json(abm(
            ws,
            TODAY,
            None,
            &[
                "report",
                "paid",
                "--from",
                "2025-01-01",
                "--to",
                "2026-12-31",
                "--format",
                "json",
            ],
        ))["totals"]
            .clone()
    };
    let before = totals(&ws);
    let out = ok(abm(
        &ws,
        TODAY,
        None,
        &[
            "ads",
            "import",
            ws.join("demo/ads/google-ads-campaign-report.csv").to_str().unwrap(),
        ],
    ));
    assert!(out.contains("5110 earlier facts for these days replaced"), "{out}");
    assert_eq!(totals(&ws), before);

    // A bad file names its line and column and writes nothing; an ambiguous date order is refused.
    let bad = dir.path().join("bad.csv");
    let text = std::fs::read_to_string(ws.join("demo/ads/meta-ads-report.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[3] = lines[3].replacen(",3", ",lots", 1);
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["ads", "import", bad.to_str().unwrap()]));
    assert!(msg.contains("bad.csv:4: column"), "{msg}");
    std::fs::write(&bad, "Report\nStart Date (in UTC),Account Name,Campaign Group Name,Campaign Name,Campaign ID,Creative Name,Total Spent,Impressions,Clicks,Currency\n03/04/2026,A,G,autosd_amer_pr_rsa_nb_exact,1,C,10,100,1,USD\n").unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["ads", "import", bad.to_str().unwrap()]));
    assert!(msg.contains("could be day/month or month/day"), "{msg}");
    std::fs::write(&bad, [0x50u8, 0x4b, 0x03, 0x04, 0, 0]).unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["ads", "import", bad.to_str().unwrap()]));
    assert!(msg.contains(".xlsx"), "{msg}");
    assert_eq!(totals(&ws), before, "nothing was written");
    let msg = fails(abm(
        &ws,
        TODAY,
        None,
        &["report", "paid", "--from", "2026-11-01", "--to", "2026-10-01"],
    ));
    assert!(msg.contains("before"), "{msg}");
    let msg = fails(abm(
        &ws,
        TODAY,
        None,
        &[
            "report",
            "paid",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--group-by",
            "colour",
        ],
    ));
    assert!(msg.contains("unknown dimension"), "{msg}");
}

#[test]
fn budget_lines_take_actuals_from_ad_spend_and_flag_big_variances() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    ok(abm(&ws, TODAY, None, &["demo", "--today", TODAY]));
    let rows = json(abm(&ws, TODAY, None, &["budget", "list", "--format", "json"]));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let facts: Vec<AdFact> = abm_store::SqliteStore::open(&ws.join("abm.db"))
        .unwrap()
        .ad_facts()
        .unwrap();
    for r in rows {
        let variance = r["variance"].as_f64();
        let needs = r["needs_comment"].as_bool().unwrap();
        assert_eq!(needs, variance.is_some_and(|v| v.abs() > 5000.0), "{r}");
        if r["vendor"] == "Google" {
            let (start, end) = (r["start"].as_str().unwrap(), r["end"].as_str().unwrap());
            let spend: f64 = facts
                .iter()
                .filter(|f| {
                    f.platform == "google"
                        && f.date_from.to_string().as_str() >= start
                        && f.date_to.to_string().as_str() <= end
                })
                .map(|f| f.spend_micros as f64 / 1e6)
                .sum();
            assert!((r["actual_used"].as_f64().unwrap() - spend).abs() < 0.01, "{r}");
        }
        if r["vendor"] == "LinkedIn" {
            assert!(r["actual_used"].is_null(), "spend in two currencies is not summed: {r}");
        }
    }
    assert!(rows.iter().any(|r| r["needs_comment"] == true) && rows.iter().any(|r| r["needs_comment"] == false));
    // A broken budget file names its line and column and replaces nothing.
    let bad = dir.path().join("budget.csv");
    std::fs::write(&bad, "Category,Line item,Start,End,Plan\nPaid,Search,2026-11-01,2026-10-01,100\nPaid,Social,2026-11-01,2026-11-30,lots\n").unwrap();
    let msg = fails(abm(&ws, TODAY, None, &["budget", "import", bad.to_str().unwrap()]));
    assert!(
        msg.contains("budget.csv:2: column End") && msg.contains("budget.csv:3: column Plan"),
        "{msg}"
    );
    assert_eq!(
        json(abm(&ws, TODAY, None, &["budget", "list", "--format", "json"]))
            .as_array()
            .unwrap()
            .len(),
        16
    );
}

#[test]
fn a_generic_export_imports_through_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    ok(abm(&ws, TODAY, None, &["init"]));
    let map = dir.path().join("demandbase.toml");
    std::fs::write(
        &map,
        "platform = \"demandbase\"\naccount = \"ABM Demo\"\ncurrency = \"USD\"\n[columns]\ndate = \"Date\"\ncampaign = \"Campaign\"\nspend = \"Spend\"\nimpressions = \"Impressions\"\nclicks = \"Clicks\"\nreach = \"Accounts Reached\"\n",
    )
    .unwrap();
    let csv = dir.path().join("demandbase.csv");
    std::fs::write(
        &csv,
        "Date;Campaign;Spend;Impressions;Clicks;Accounts Reached\n\
         2026-11-02;autosd_amer_abm_display_nb_x;1.234,50;10.000;12;40\n\
         2026-11-03;autosd_amer_abm_display_nb_x;765,50;5.000;8;35\n",
    )
    .unwrap();
    let out = ok(abm(
        &ws,
        TODAY,
        None,
        &[
            "ads",
            "import",
            csv.to_str().unwrap(),
            "--mapping",
            map.to_str().unwrap(),
        ],
    ));
    assert!(out.contains("demandbase export for ABM Demo"), "{out}");
    let r = json(abm(
        &ws,
        TODAY,
        None,
        &[
            "report",
            "paid",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--group-by",
            "channel,targeting",
            "--format",
            "json",
        ],
    ));
    let row = &r["rows"][0];
    assert_eq!(row["key"]["channel"], "demandbase");
    assert_eq!(row["key"]["targeting"], "abm");
    assert_eq!(
        row["metrics"]["spend"].as_f64(),
        Some(2000.0),
        "decimal commas read per file"
    );
    assert_eq!(row["metrics"]["impressions"], 15000);
    // A mapping that names a column the file does not have says so.
    std::fs::write(
        &map,
        "platform = \"x\"\ncurrency = \"USD\"\n[columns]\ndate = \"Day\"\ncampaign = \"Campaign\"\nspend = \"Spend\"\n",
    )
    .unwrap();
    let msg = fails(abm(
        &ws,
        TODAY,
        None,
        &[
            "ads",
            "import",
            csv.to_str().unwrap(),
            "--mapping",
            map.to_str().unwrap(),
        ],
    ));
    assert!(msg.contains("no Day column"), "{msg}");
}
