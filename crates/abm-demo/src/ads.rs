//! Ad-platform exports in the layouts the platforms really produce (see spec/reporting.md):
//! LinkedIn Campaign Manager with metadata lines above the header; Google Ads with a title and
//! date-range line, `5.00%` percentages, `--` for missing values, thousands separators and
//! `Total:` rows; Meta Ads Manager with the currency in the `Amount spent (USD)` header.
//! Campaign names follow the agency taxonomy, except a few that deliberately do not.

use crate::names::{CAMPAIGN_CODES, CONTENT};
use crate::world::World;
use crate::writers::{csv_writer, io_err, row};
use crate::DemoError;
use chrono::Duration;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

pub struct AdsWritten {
    pub rows: usize,
    pub non_conforming: Vec<String>,
}

struct Campaign {
    name: String,
    content: String,
    budget: &'static str,
    daily_spend: f64,
    ctr: f64,
    cpc: f64,
    conforming: bool,
}

fn campaigns(rng: &mut ChaCha8Rng, platform: &str) -> Vec<Campaign> {
    let geos = ["amer", "emea", "apac", "amer-california", "emea-dach", "pubsec"];
    let mut out = Vec::new();
    let (targetings, units, matchtypes): (&[&str], &[&str], &[&str]) = match platform {
        "google" => (&["pr", "rtg"], &["rsa", "eta"], &["exact", "phrase", "broad"]),
        "linkedin" => (&["abm", "pr", "rtg"], &["sponsoredcontent", "inmail"], &["x"]),
        _ => (&["pr", "rtg"], &["feed", "stories"], &["x"]),
    };
    for i in 0..6 {
        let code = CAMPAIGN_CODES[(i * 3 + platform.len()) % CAMPAIGN_CODES.len()];
        let geo = geos[rng.gen_range(0..geos.len())];
        let name = format!(
            "{code}_{geo}_{}_{}_{}_{}",
            targetings[rng.gen_range(0..targetings.len())],
            units[rng.gen_range(0..units.len())],
            if rng.gen_bool(0.8) { "nb" } else { "br" },
            matchtypes[rng.gen_range(0..matchtypes.len())]
        );
        let budget = ["abm", "dmp", "fmm", "corp"][rng.gen_range(0..4)];
        let team = if budget == "abm" { "abm" } else { "digital" };
        let content = format!(
            "{}_{team}_x-{}_{}_",
            CONTENT[rng.gen_range(0..CONTENT.len())],
            ["pr", "rtg"][rng.gen_range(0..2)],
            ["english", "english", "german", "french", "japanese"][rng.gen_range(0..5)]
        );
        out.push(Campaign {
            name,
            content,
            budget,
            daily_spend: rng.gen_range(40.0..400.0),
            ctr: rng.gen_range(0.003..0.04),
            cpc: rng.gen_range(2.0..14.0),
            conforming: true,
        });
    }
    // Deliberately non-conforming names, as real accounts always have a few.
    let bad = match platform {
        "google" => "Brand - Search (legacy)",
        "linkedin" => "competegh_emea_pr",
        _ => "Retargeting Q3 FINAL v2",
    };
    out.push(Campaign {
        name: bad.to_string(),
        content: "legacy".into(),
        budget: "dmp",
        daily_spend: rng.gen_range(20.0..80.0),
        ctr: 0.01,
        cpc: 5.0,
        conforming: false,
    });
    out
}

fn thousands(v: f64) -> String {
    let s = format!("{v:.2}");
    let (int, frac) = s.split_once('.').expect("two decimals");
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{frac}")
}

fn url(platform: &str, c: &Campaign) -> String {
    let (source, medium) = match platform {
        "google" => ("google", "cpc"),
        "linkedin" => ("linkedin", "paidsocial"),
        _ => ("facebook", "paidsocial"),
    };
    format!(
        "https://abm-demo.example/free-trial/?utm_source={source}&utm_medium={medium}&utm_campaign={}&utm_content={}&utm_budget={}",
        c.name.replace(' ', "%20"),
        c.content,
        c.budget
    )
}

pub fn write_ads(world: &World, file: &mut dyn FnMut(&str) -> PathBuf) -> Result<AdsWritten, DemoError> {
    let mut rng = ChaCha8Rng::seed_from_u64(world.options.seed ^ 0xad5);
    let today = world.options.today;
    let start = today - Duration::days(364);
    let scale = world.options.scale.clamp(0.05, 20.0);
    let mut rows = 0usize;
    let mut non_conforming = Vec::new();
    let days: Vec<_> = (0..365).map(|d| start + Duration::days(d)).collect();

    // LinkedIn Campaign Manager: creative performance, daily.
    let li = campaigns(&mut rng, "linkedin");
    let p = file("ads/linkedin-campaign-performance.csv");
    let mut w = csv_writer(&p)?;
    row(&mut w, &p, &["Campaign Performance Report (in UTC)".to_string()])?;
    row(&mut w, &p, &[format!("Report Start: {}", start.format("%m/%d/%Y"))])?;
    row(&mut w, &p, &[format!("Report End: {}", today.format("%m/%d/%Y"))])?;
    row(&mut w, &p, &["Account: ABM Demo (507123456)".to_string()])?;
    w.flush().map_err(io_err(&p))?;
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(std::fs::OpenOptions::new().append(true).open(&p).map_err(io_err(&p))?);
    row(
        &mut w,
        &p,
        &[
            "Start Date (in UTC)",
            "Account Name",
            "Campaign Group Name",
            "Campaign Name",
            "Campaign ID",
            "Creative Name",
            "Total Spent",
            "Impressions",
            "Clicks",
            "Clicks to Landing Page",
            "Reach",
            "Leads",
            "Conversions",
            "Currency",
            "Click URL",
        ]
        .map(String::from),
    )?;
    for (ci, c) in li.iter().enumerate() {
        if !c.conforming {
            non_conforming.push(c.name.clone());
        }
        let currency = if c.name.contains("emea-dach") { "EUR" } else { "USD" };
        for day in &days {
            for creative in 0..2 {
                let spend = c.daily_spend * scale * rng.gen_range(0.5..1.5) / 2.0;
                let clicks = (spend / c.cpc).round();
                let impressions = (clicks / c.ctr).round().max(clicks);
                let leads = (clicks * rng.gen_range(0.0..0.08)).round();
                row(
                    &mut w,
                    &p,
                    &[
                        day.format("%m/%d/%Y").to_string(),
                        "ABM Demo".into(),
                        format!("FY{} ABM", day.format("%y")),
                        c.name.clone(),
                        format!("{}", 180_000_000 + ci * 10 + creative),
                        format!(
                            "{} creative {}",
                            c.content.split('_').next().unwrap_or(""),
                            creative + 1
                        ),
                        format!("{spend:.2}"),
                        format!("{impressions}"),
                        format!("{clicks}"),
                        format!("{}", (clicks * 0.9).round()),
                        format!("{}", (impressions * 0.7).round()),
                        format!("{leads}"),
                        format!("{}", leads + (clicks * 0.01).round()),
                        currency.into(),
                        url("linkedin", c),
                    ],
                )?;
                rows += 1;
            }
        }
    }
    w.flush().map_err(io_err(&p))?;

    // Google Ads UI download.
    let g = campaigns(&mut rng, "google");
    let p = file("ads/google-ads-campaign-report.csv");
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(&p)
        .map_err(|e| DemoError::Io {
            path: p.clone(),
            source: e.into(),
        })?;
    row(&mut w, &p, &["Campaign report".to_string()])?;
    row(
        &mut w,
        &p,
        &[format!(
            "{} - {}",
            start.format("%B %-d, %Y"),
            today.format("%B %-d, %Y")
        )],
    )?;
    row(
        &mut w,
        &p,
        &[
            "Day",
            "Campaign",
            "Ad group",
            "Impr.",
            "Clicks",
            "CTR",
            "Avg. CPC",
            "Cost",
            "Conversions",
            "Cost / conv.",
            "Conv. rate",
            "Currency code",
            "Final URL",
        ]
        .map(String::from),
    )?;
    let (mut ti, mut tc, mut ts, mut tv) = (0f64, 0f64, 0f64, 0f64);
    for c in &g {
        if !c.conforming {
            non_conforming.push(c.name.clone());
        }
        for day in &days {
            for group in ["core terms", "competitor terms"] {
                let spend = c.daily_spend * scale * rng.gen_range(0.4..1.6) / 2.0;
                let clicks = (spend / c.cpc).round();
                let impressions = (clicks / (c.ctr * 3.0)).round().max(clicks);
                let conv = (clicks * rng.gen_range(0.0..0.1)).round();
                let pct = |n: f64, d: f64| {
                    if d == 0.0 {
                        "--".to_string()
                    } else {
                        format!("{:.2}%", n / d * 100.0)
                    }
                };
                let per = |n: f64, d: f64| if d == 0.0 { "--".to_string() } else { thousands(n / d) };
                row(
                    &mut w,
                    &p,
                    &[
                        day.to_string(),
                        c.name.clone(),
                        group.into(),
                        thousands(impressions).trim_end_matches(".00").to_string(),
                        format!("{clicks}"),
                        pct(clicks, impressions),
                        per(spend, clicks),
                        thousands(spend),
                        format!("{conv:.2}"),
                        per(spend, conv),
                        pct(conv, clicks),
                        "USD".into(),
                        url("google", c),
                    ],
                )?;
                rows += 1;
                ti += impressions;
                tc += clicks;
                ts += spend;
                tv += conv;
            }
        }
    }
    row(
        &mut w,
        &p,
        &[
            "Total: Account".into(),
            "--".into(),
            "--".into(),
            thousands(ti).trim_end_matches(".00").to_string(),
            format!("{tc}"),
            format!("{:.2}%", tc / ti * 100.0),
            thousands(ts / tc),
            thousands(ts),
            format!("{tv:.2}"),
            thousands(ts / tv),
            format!("{:.2}%", tv / tc * 100.0),
            "USD".into(),
            "--".into(),
        ],
    )?;
    w.flush().map_err(io_err(&p))?;

    // Meta Ads Manager, daily breakdown.
    let m = campaigns(&mut rng, "meta");
    let p = file("ads/meta-ads-report.csv");
    let mut w = csv_writer(&p)?;
    row(
        &mut w,
        &p,
        &[
            "Reporting starts",
            "Reporting ends",
            "Campaign name",
            "Ad set name",
            "Ad name",
            "Amount spent (USD)",
            "Impressions",
            "Reach",
            "Link clicks",
            "Results",
            "Leads",
            "Website URL",
        ]
        .map(String::from),
    )?;
    for c in &m {
        if !c.conforming {
            non_conforming.push(c.name.clone());
        }
        for day in &days {
            let spend = c.daily_spend * scale * rng.gen_range(0.5..1.5) * 0.6;
            let clicks = (spend / (c.cpc * 0.5)).round();
            let impressions = (clicks / c.ctr).round().max(clicks);
            let leads = (clicks * rng.gen_range(0.0..0.05)).round();
            let results = if leads == 0.0 {
                String::new()
            } else {
                format!("{leads}")
            };
            row(
                &mut w,
                &p,
                &[
                    day.to_string(),
                    day.to_string(),
                    c.name.clone(),
                    format!(
                        "{} audience",
                        if c.name.contains("_rtg_") {
                            "Retargeting"
                        } else {
                            "Prospecting"
                        }
                    ),
                    c.content.clone(),
                    format!("{spend:.2}"),
                    format!("{impressions}"),
                    format!("{}", (impressions * 0.6).round()),
                    format!("{clicks}"),
                    results,
                    format!("{leads}"),
                    url("meta", c),
                ],
            )?;
            rows += 1;
        }
    }
    w.flush().map_err(io_err(&p))?;
    Ok(AdsWritten { rows, non_conforming })
}
