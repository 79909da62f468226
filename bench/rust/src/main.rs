//! In-process timings of abm's calculators; each prints {"seconds": …} as JSON and writes its
//! answers for the caller to compare with its peer.
//!
//! `abm-bench calendar-offsets PAIRS.csv HOLIDAYS.txt OUT.txt`: load (date, offset) pairs and a
//! holiday list (untimed), compute every busday offset with abm-core's calendar (timed).
//!
//! `abm-bench icp-score FACTS.csv ICP.toml OUT.csv`: load flat account facts (untimed; columns
//! crm_id, segment, employees, dev_aberdeen, dev_crm, tech_stack, cloud_provider,
//! first_order_available, account_rank, new_logo_target), score every account with the ICP on one
//! core (timed, best of 3), write crm_id,icp,score,grade.
//!
//! `abm-bench paid-query FACTS.csv OUT.csv`: load ad facts (date, source, campaign, content,
//! budget, currency, spend, impressions, clicks, conversions) into a report cube (timed as
//! "build"), then run one filtered two-dimension weekly breakdown with a previous-period
//! comparison: once cold, then warm (median of 5); write week,geo,targeting,spend,impressions,clicks.

use abm_core::{BusinessCalendar, Roll};
use chrono::NaiveDate;
use std::io::{BufRead, Write};
use std::time::Instant;

fn die(msg: String) -> ! {
    eprintln!("abm-bench: {msg}");
    std::process::exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 5 && args[1] == "icp-score" {
        return icp_score(&args[2], &args[3], &args[4]);
    }
    if args.len() == 4 && args[1] == "paid-query" {
        return paid_query(&args[2], &args[3]);
    }
    if args.len() != 5 || args[1] != "calendar-offsets" {
        die(
            "usage: abm-bench calendar-offsets PAIRS.csv HOLIDAYS.txt OUT.txt | icp-score FACTS.csv ICP.toml OUT.csv"
                .into(),
        );
    }
    let open = |p: &str| std::io::BufReader::new(std::fs::File::open(p).unwrap_or_else(|e| die(format!("{p}: {e}"))));
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| die(format!("bad date {s:?}")));
    let holidays: Vec<NaiveDate> = open(&args[3]).lines().map(|l| parse(l.expect("read").trim())).collect();
    let mut pairs: Vec<(NaiveDate, i64)> = Vec::new();
    for line in open(&args[2]).lines().skip(1) {
        let line = line.expect("read");
        let (d, n) = line
            .split_once(',')
            .unwrap_or_else(|| die(format!("bad pair {line:?}")));
        pairs.push((
            parse(d),
            n.trim().parse().unwrap_or_else(|_| die(format!("bad offset {n:?}"))),
        ));
    }
    let cal = BusinessCalendar::weekdays().with_holidays(holidays);
    let started = Instant::now();
    let out: Vec<NaiveDate> = pairs.iter().map(|&(d, n)| cal.offset(d, n, Roll::Forward)).collect();
    let seconds = started.elapsed().as_secs_f64();
    let mut w =
        std::io::BufWriter::new(std::fs::File::create(&args[4]).unwrap_or_else(|e| die(format!("{}: {e}", args[4]))));
    for d in &out {
        writeln!(w, "{d}").expect("write");
    }
    println!("{}", serde_json::json!({ "seconds": seconds, "pairs": pairs.len() }));
}

fn icp_score(facts_csv: &str, icp_toml: &str, out: &str) {
    use abm_core::icp::{AccountFacts, Fact, FactValue};
    use std::sync::Arc;
    let text = std::fs::read_to_string(icp_toml).unwrap_or_else(|e| die(format!("{icp_toml}: {e}")));
    let icp = abm_workspace::icp::parse_icp(&text, icp_toml).unwrap_or_else(|e| die(e.to_string()));
    let src = |s: &str| -> Arc<str> { s.into() };
    let (aberdeen, crm, proxy, gainsight, family) = (
        src("aberdeen"),
        src("crm"),
        src("employees (proxy)"),
        src("gainsight"),
        src("family roll-up"),
    );
    let fact = |v: &str, s: &Arc<str>| {
        FactValue::parse(v).map(|value| Fact {
            value,
            source: s.clone(),
            as_of: None,
        })
    };
    let file = std::fs::File::open(facts_csv).unwrap_or_else(|e| die(format!("{facts_csv}: {e}")));
    let mut ids = Vec::new();
    let mut accounts = Vec::new();
    for line in std::io::BufReader::new(file).lines().skip(1) {
        let line = line.expect("read");
        let c: Vec<&str> = line.split(',').collect();
        if c.len() != 10 {
            die(format!("expected 10 columns: {line:?}"));
        }
        let values = icp
            .fields
            .iter()
            .map(|f| -> Vec<Fact> {
                match f.as_str() {
                    "developer_count" => [fact(c[3], &aberdeen), fact(c[4], &crm), fact(c[2], &proxy)]
                        .into_iter()
                        .flatten()
                        .collect(),
                    "tech_stack" => fact(c[5], &gainsight).into_iter().collect(),
                    "cloud_provider" => fact(c[6], &aberdeen).into_iter().collect(),
                    "first_order_available" => fact(c[7], &family).into_iter().collect(),
                    "account_rank" => fact(c[8], &crm).into_iter().collect(),
                    "new_logo_target" => fact(c[9], &crm).into_iter().collect(),
                    "employees" => fact(c[2], &family).into_iter().collect(),
                    other => die(format!("the benchmark has no column for field {other}")),
                }
            })
            .collect();
        ids.push(c[0].to_string());
        accounts.push(AccountFacts {
            segment: c[1].parse().ok(),
            employees: c[2].parse().ok(),
            values,
        });
    }
    let mut best = f64::MAX;
    let mut fits = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        fits = accounts.iter().map(|a| icp.fit(a)).collect::<Vec<_>>();
        best = best.min(started.elapsed().as_secs_f64());
    }
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap_or_else(|e| die(format!("{out}: {e}"))));
    writeln!(w, "crm_id,icp,score,grade").expect("write");
    for (id, f) in ids.iter().zip(&fits) {
        writeln!(w, "{id},{},{},{}", f.icp, f.score, f.grade).expect("write");
    }
    println!("{}", serde_json::json!({ "seconds": best, "accounts": accounts.len() }));
}

fn paid_query(facts_csv: &str, out: &str) {
    use abm_core::paid::{AdFact, Compare, Cube, Filter, Grain, ReportQuery};
    let file = std::fs::File::open(facts_csv).unwrap_or_else(|e| die(format!("{facts_csv}: {e}")));
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| die(format!("bad date {s:?}")));
    let mut facts = Vec::new();
    for line in std::io::BufReader::new(file).lines().skip(1) {
        let line = line.expect("read");
        let c: Vec<&str> = line.split(',').collect();
        if c.len() != 10 {
            die(format!("expected 10 columns: {line:?}"));
        }
        let n = |s: &str| s.parse::<i64>().unwrap_or_else(|_| die(format!("bad number {s:?}")));
        let day = parse(c[0]);
        facts.push(AdFact {
            platform: c[1].to_string(),
            account: "bench".into(),
            campaign: c[2].to_string(),
            ad_group: String::new(),
            ad: String::new(),
            date_from: day,
            date_to: day,
            currency: c[5].to_string(),
            spend_micros: n(c[6]),
            impressions: n(c[7]),
            clicks: n(c[8]),
            conversions_milli: n(c[9]),
            leads: 0,
            reach: None,
            utm: std::sync::Arc::new(
                [
                    ("utm_source".to_string(), c[1].to_string()),
                    ("utm_campaign".to_string(), c[2].to_string()),
                    ("utm_content".to_string(), c[3].to_string()),
                    ("utm_budget".to_string(), c[4].to_string()),
                ]
                .into(),
            ),
        });
    }
    let taxonomy = abm_core::taxonomy::Taxonomy::presets();
    let started = Instant::now();
    let cube = Cube::build(&facts, &taxonomy);
    let build = started.elapsed().as_secs_f64();
    let q = ReportQuery {
        from: parse("2026-08-03"),
        to: parse("2026-11-01"),
        filters: vec![Filter {
            dimension: "budget".into(),
            values: vec!["dmp".into(), "fmm".into()],
        }],
        group_by: vec!["geo".into(), "targeting".into()],
        grain: Some(Grain::Week),
        compare: Some(Compare::PreviousPeriod),
        today: parse("2026-11-28"),
    };
    let started = Instant::now();
    let mut r = cube.report(&q);
    let cold = started.elapsed().as_secs_f64();
    // Freeing the facts is left until after the cold run, so it does not land in its time.
    drop(facts);
    let mut warm = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        r = cube.report(&q);
        warm.push(started.elapsed().as_secs_f64());
    }
    warm.sort_by(|a, b| a.total_cmp(b));
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap_or_else(|e| die(format!("{out}: {e}"))));
    writeln!(w, "week,geo,targeting,spend,impressions,clicks").expect("write");
    for row in &r.rows {
        writeln!(
            w,
            "{},{},{},{:.2},{},{}",
            row.period.clone().unwrap_or_default(),
            row.key.get("geo").cloned().unwrap_or_default(),
            row.key.get("targeting").cloned().unwrap_or_default(),
            row.sums.spend,
            row.sums.impressions,
            row.sums.clicks
        )
        .expect("write");
    }
    println!(
        "{}",
        serde_json::json!({ "build_seconds": build, "cold_seconds": cold, "warm_seconds": warm[2], "rows": cube.len(), "groups": r.rows.len() })
    );
}
