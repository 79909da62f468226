//! `abm ads import`, `abm taxonomy decode|check` and `abm report paid`: ad-platform exports in,
//! campaign names decoded through the workspace's taxonomy, and paid-media reports with filters,
//! grouping, a time grain and period comparisons.

use crate::calendar::parse_date;
use crate::output::{print_rows, Format};
use crate::user_error;
use abm_core::paid::{report, Compare, Filter, Grain, ReportQuery, DIMENSIONS};
use abm_import::ads::{read_export, Platform};
use abm_workspace::Workspace;
use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AdsCmd {
    /// Import an ad-platform export (LinkedIn, Google Ads, Meta). Re-importing an export replaces
    /// its days; nothing is counted twice.
    Import {
        file: PathBuf,
        /// linkedin, google or meta (default: recognised from the file).
        #[arg(long, value_parser = Platform::parse)]
        platform: Option<Platform>,
        /// Any other export: a TOML file naming its columns (see README), e.g. for Demandbase.
        #[arg(long, conflicts_with = "platform")]
        mapping: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum BudgetCmd {
    /// Import budget lines (an Allocadia-style CSV); replaces the lines held.
    Import { file: PathBuf },
    /// Every line with plan, forecast, actual (or mapped ad spend), variance, comment flags and
    /// planned against actual cost per MQL.
    List {
        /// Only lines that need a comment (variance over $5,000 without one).
        #[arg(long)]
        needs_comment: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum TaxonomyCmd {
    /// Decode one UTM value with the workspace's taxonomy.
    Decode {
        value: String,
        #[arg(long, default_value = "utm_campaign")]
        parameter: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every imported name that does not conform, and why.
    Check {
        #[arg(long, default_value = "utm_campaign")]
        parameter: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum ReportCmd {
    /// Paid-media performance: spend, impressions, clicks, conversions, leads and the ratios,
    /// recomputed from sums, optionally compared with an earlier period.
    Paid {
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        #[arg(long, value_parser = parse_date)]
        to: NaiveDate,
        /// DIMENSION=VALUE[,VALUE…] (a value ending in * matches a prefix); repeatable.
        #[arg(long = "filter")]
        filters: Vec<String>,
        /// Comma-separated dimensions.
        #[arg(long)]
        group_by: Option<String>,
        /// day, week or month.
        #[arg(long)]
        grain: Option<String>,
        /// previous-period (with --grain: each week or month against the one before) or previous-year.
        #[arg(long)]
        compare: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

fn dimension(s: &str, what: &str) -> Result<String> {
    let d = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    if DIMENSIONS.contains(&d.as_str()) {
        Ok(d)
    } else {
        Err(user_error(format!(
            "{what}: unknown dimension {s:?}; dimensions: {}",
            DIMENSIONS.join(", ")
        )))
    }
}

pub fn run_ads(ws: &Workspace, cmd: AdsCmd) -> Result<()> {
    let AdsCmd::Import {
        file,
        platform,
        mapping,
    } = cmd;
    let started = std::time::Instant::now();
    let export = match mapping {
        Some(m) => abm_import::ads::read_generic(&file, &abm_import::ads::read_mapping(&m)?)?,
        None => read_export(&file, platform)?,
    };
    let read = started.elapsed();
    let mut store = ws.store()?;
    let (deleted, written) = store.replace_ad_facts(
        &export.platform_name,
        &export.account,
        export.first_day,
        export.last_day,
        &export.facts,
    )?;
    println!(
        "{}: {} export for {}, {} to {}: {} rows ({} total rows skipped) → {} facts; {} earlier facts for these days replaced ({:.1}s: read {:.1}s, write {:.1}s)",
        file.display(),
        export.platform_name,
        export.account,
        export.first_day,
        export.last_day,
        export.rows,
        export.skipped_total_rows,
        written,
        deleted,
        started.elapsed().as_secs_f64(),
        read.as_secs_f64(),
        (started.elapsed() - read).as_secs_f64()
    );
    Ok(())
}

pub fn run_taxonomy(ws: &Workspace, cmd: TaxonomyCmd) -> Result<()> {
    let taxonomy = ws.taxonomy()?;
    match cmd {
        TaxonomyCmd::Decode {
            value,
            parameter,
            format,
        } => {
            let d = taxonomy
                .decode(&parameter, &value)
                .map_err(|e| user_error(format!("{value:?} does not conform: {e}")))?;
            let rows: Vec<Vec<String>> = d.fields.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect();
            if format == Format::Table {
                println!("{} ({})", d.raw, d.format);
            }
            print_rows(format, &["field", "value"], &rows, &d)
        }
        TaxonomyCmd::Check { parameter, format } => {
            let facts = ws.store()?.ad_facts()?;
            let mut seen: BTreeMap<String, (String, u64)> = BTreeMap::new();
            for f in &facts {
                let v = if parameter == "utm_campaign" {
                    f.utm.get("utm_campaign").cloned().unwrap_or_else(|| f.campaign.clone())
                } else {
                    match f.utm.get(&parameter) {
                        Some(v) => v.clone(),
                        None => continue,
                    }
                };
                if let Some(e) = seen.get_mut(&v) {
                    e.1 += 1;
                    continue;
                }
                if let Err(why) = taxonomy.decode(&parameter, &v) {
                    seen.insert(v, (why, 1));
                } else {
                    seen.insert(v, (String::new(), 1));
                }
            }
            let bad: Vec<(String, String, u64)> = seen
                .into_iter()
                .filter(|(_, (why, _))| !why.is_empty())
                .map(|(v, (why, n))| (v, why, n))
                .collect();
            let rows: Vec<Vec<String>> = bad
                .iter()
                .map(|(v, why, n)| vec![v.clone(), n.to_string(), why.clone()])
                .collect();
            if format == Format::Table {
                println!("{} {parameter} value(s) do not conform", bad.len());
            }
            let json: Vec<serde_json::Value> = bad
                .iter()
                .map(|(v, why, n)| serde_json::json!({"value": v, "facts": n, "why": why}))
                .collect();
            print_rows(format, &["value", "facts", "why"], &rows, &json)
        }
    }
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_else(|| "—".into())
}

pub fn run_report(ws: &Workspace, cmd: ReportCmd) -> Result<()> {
    let ReportCmd::Paid {
        from,
        to,
        filters,
        group_by,
        grain,
        compare,
        format,
    } = cmd;
    if to < from {
        return Err(user_error(format!("--to {to} is before --from {from}")));
    }
    let filters = filters
        .iter()
        .map(|f| {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| user_error(format!("--filter: expected DIMENSION=VALUE, found {f:?}")))?;
            Ok(Filter {
                dimension: dimension(k, "--filter")?,
                values: v
                    .split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let group_by = group_by
        .map(|g| {
            g.split(',')
                .map(|d| dimension(d, "--group-by"))
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    if group_by.len() > abm_core::paid::MAX_GROUP_BY {
        return Err(user_error(format!(
            "--group-by: at most {} dimensions",
            abm_core::paid::MAX_GROUP_BY
        )));
    }
    let grain = match grain.as_deref() {
        None => None,
        Some("day") => Some(Grain::Day),
        Some("week") => Some(Grain::Week),
        Some("month") => Some(Grain::Month),
        Some(other) => {
            return Err(user_error(format!(
                "--grain: expected day, week or month, found {other:?}"
            )))
        }
    };
    let compare = match compare.as_deref() {
        None | Some("none") => None,
        Some("previous-period") => Some(Compare::PreviousPeriod),
        Some("previous-year") => Some(Compare::PreviousYear),
        Some(other) => {
            return Err(user_error(format!(
                "--compare: expected previous-period or previous-year, found {other:?}"
            )))
        }
    };
    let q = ReportQuery {
        from,
        to,
        filters,
        group_by: group_by.clone(),
        grain,
        compare,
        today: ws.today(),
    };
    let facts = ws.store()?.ad_facts()?;
    let r = report(&facts, &ws.taxonomy()?, &q);
    let mut header: Vec<String> = Vec::new();
    if grain.is_some() {
        header.push("period".into());
    }
    header.extend(group_by.iter().cloned());
    if !group_by.iter().any(|g| g == "currency") {
        header.push("currency".into());
    }
    for m in [
        "spend",
        "impressions",
        "clicks",
        "ctr",
        "cpc",
        "cpm",
        "conversions",
        "conversion_rate",
        "cost_per_conversion",
        "leads",
        "cpl",
    ] {
        header.push(m.into());
    }
    if compare.is_some() {
        header.extend(["spend Δ%".into(), "clicks Δ%".into(), "ctr Δpp".into(), "cpc Δ%".into()]);
    }
    let line = |row: &abm_core::paid::ReportRow, total: bool| -> Vec<String> {
        let mut out = Vec::new();
        if grain.is_some() {
            out.push(if total {
                "total".into()
            } else {
                row.period.clone().unwrap_or_default()
            });
        }
        for g in &group_by {
            out.push(if total && g != "currency" {
                "total".into()
            } else {
                row.key.get(g).cloned().unwrap_or_default()
            });
        }
        if !group_by.iter().any(|g| g == "currency") {
            out.push(row.key.get("currency").cloned().unwrap_or_default());
        }
        let m = &row.metrics;
        out.extend([
            format!("{:.2}", m.spend),
            m.impressions.to_string(),
            m.clicks.to_string(),
            fmt_opt(m.ctr.map(|x| x * 100.0), 2),
            fmt_opt(m.cpc, 2),
            fmt_opt(m.cpm, 2),
            format!("{:.2}", m.conversions),
            fmt_opt(m.conversion_rate.map(|x| x * 100.0), 2),
            fmt_opt(m.cost_per_conversion, 2),
            m.leads.to_string(),
            fmt_opt(m.cpl, 2),
        ]);
        if compare.is_some() {
            let d = |k: &str| row.deltas.get(k);
            out.push(fmt_opt(d("spend").and_then(|d| d.percent), 1));
            out.push(fmt_opt(d("clicks").and_then(|d| d.percent), 1));
            out.push(fmt_opt(d("ctr").and_then(|d| d.points), 2));
            out.push(fmt_opt(d("cpc").and_then(|d| d.percent), 1));
        }
        out
    };
    let mut rows: Vec<Vec<String>> = r.rows.iter().map(|row| line(row, false)).collect();
    rows.extend(r.totals.iter().map(|row| line(row, true)));
    if format == Format::Table {
        println!(
            "paid media {} to {}{}",
            r.from,
            r.to,
            r.compared_with
                .map(|(a, b)| format!(", compared with {a} to {b}"))
                .unwrap_or_default()
        );
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    print_rows(format, &header, &rows, &r)
}

pub fn run_budget(ws: &Workspace, cmd: BudgetCmd) -> Result<()> {
    let mut store = ws.store()?;
    match cmd {
        BudgetCmd::Import { file } => {
            let lines = abm_import::budget::read_budget(&file)?;
            store.replace_budget(&lines)?;
            println!("{}: {} budget lines", file.display(), lines.len());
            Ok(())
        }
        BudgetCmd::List { needs_comment, format } => {
            let lines = store.budget()?;
            let facts = store.ad_facts()?;
            let taxonomy = ws.taxonomy()?;
            let code_of = |f: &abm_core::paid::AdFact| {
                let c = f.utm.get("utm_campaign").cloned().unwrap_or_else(|| f.campaign.clone());
                taxonomy
                    .decode("utm_campaign", &c)
                    .ok()
                    .and_then(|d| d.fields.get("campaign_code").cloned())
            };
            let mut rows = abm_core::budget::evaluate(&lines, &facts, &code_of);
            if needs_comment {
                rows.retain(|r| r.needs_comment);
            }
            let money = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into());
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.line.key(),
                        format!("{} to {}", r.line.start, r.line.end),
                        money(r.line.target),
                        money(Some(r.line.plan)),
                        money(r.line.forecast),
                        money(r.actual_used),
                        r.ad_spend
                            .iter()
                            .map(|(c, s)| format!("{s:.2} {c}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        money(r.variance),
                        if r.needs_comment {
                            "NEEDS A COMMENT".into()
                        } else {
                            r.line.comment.clone().unwrap_or_default()
                        },
                        money(r.planned_cost_per_mql),
                        money(r.actual_cost_per_mql),
                    ]
                })
                .collect();
            print_rows(
                format,
                &[
                    "line",
                    "dates",
                    "target",
                    "plan",
                    "forecast",
                    "actual",
                    "ad spend",
                    "variance",
                    "comment",
                    "plan / MQL",
                    "actual / MQL",
                ],
                &table,
                &rows,
            )
        }
    }
}
