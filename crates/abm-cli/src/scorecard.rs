//! `abm goals workback`, `abm metrics show` and `abm okrs show`: the team's targets worked back,
//! its key metrics per quarter, and its OKRs' progress, computed by abm-workspace's scorecard.

use crate::output::{print_rows, Format};
use abm_core::fiscal::FiscalQuarter;
use abm_core::goals::Rate;
use abm_core::metrics::MetricValue;
use abm_workspace::scorecard;
use abm_workspace::Workspace;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum GoalsCmd {
    /// Per segment × geo: the opportunities, SAOs, MQLs and inquiries a quarter's pipeline
    /// target needs, step by step, with each rate given or measured (and its sample).
    Workback {
        #[arg(long, value_parser = crate::calendar::parse_quarter)]
        quarter: FiscalQuarter,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum MetricsCmd {
    /// The key metrics of a quarter: values, targets and, with --compare previous, deltas.
    Show {
        #[arg(long, value_parser = crate::calendar::parse_quarter)]
        quarter: FiscalQuarter,
        /// Compare with the quarter before.
        #[arg(long, value_parser = ["previous"])]
        compare: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum OkrsCmd {
    /// Objectives and key results with progress computed from the data (every quarter's
    /// without --quarter: the history).
    Show {
        #[arg(long, value_parser = crate::calendar::parse_quarter)]
        quarter: Option<FiscalQuarter>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

fn shown(v: &MetricValue) -> String {
    match (v.value, &v.why_none) {
        (Some(x), _) => abm_core::metrics::format_value(x, v.unit),
        (None, Some(why)) => format!("– ({why})"),
        (None, None) => "–".into(),
    }
}

pub fn run_goals(ws: &Workspace, cmd: GoalsCmd) -> Result<()> {
    let GoalsCmd::Workback { quarter, format } = cmd;
    let mut store = ws.store()?;
    let wbs = scorecard::workbacks(ws, store.as_mut(), quarter)?;
    if wbs.is_empty() {
        return Err(crate::user_error(format!(
            "goals.toml has no pipeline target for {quarter}: add [[targets]] with quarter = \"{quarter}\", segment, geo and pipeline"
        )));
    }
    let mut rows = Vec::new();
    for w in &wbs {
        let mut from = format!("${:.2} pipeline", w.pipeline);
        for s in &w.steps {
            let rate = match &s.rate {
                Rate::Given { value } => format!("{value} (given)"),
                Rate::Measured {
                    value,
                    numerator,
                    denominator,
                    quarters,
                } => format!("{value:.4} = {numerator} ÷ {denominator} over {quarters}"),
                Rate::Missing { why } => format!("missing: {why}"),
            };
            let needed = match (s.needed, s.plan) {
                (Some(n), Some(p)) => format!("{n:.2} → plan {p}"),
                _ => "–".into(),
            };
            rows.push(vec![
                format!("{} {}", w.segment, w.geo),
                s.what.to_string(),
                format!("{from} ÷ {}", s.rate_name),
                needed.clone(),
                rate,
            ]);
            from = match s.needed {
                Some(n) => format!("{n:.2} {}", s.what),
                None => format!("(no {})", s.what),
            };
        }
    }
    if format == Format::Table {
        println!("Goal workback for {quarter}");
    }
    print_rows(
        format,
        &["segment × geo", "needed", "step", "value", "rate"],
        &rows,
        &wbs,
    )
}

pub fn run_metrics(ws: &Workspace, cmd: MetricsCmd) -> Result<()> {
    let MetricsCmd::Show {
        quarter,
        compare,
        format,
    } = cmd;
    let mut store = ws.store()?;
    let quarters = match compare {
        Some(_) => vec![quarter, quarter.previous()],
        None => vec![quarter],
    };
    let mut values = scorecard::metric_values_many(ws, store.as_mut(), &quarters)?;
    let before = (values.len() > 1).then(|| values.pop().unwrap_or_default());
    let now = values.pop().unwrap_or_default();
    let rows: Vec<Vec<String>> = now
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut row = vec![v.group.clone(), v.name.clone(), shown(v)];
            row.push(
                v.target
                    .map(|t| abm_core::metrics::format_value(t, v.unit))
                    .unwrap_or_else(|| "–".into()),
            );
            if let Some(b) = &before {
                let prev = &b[i];
                row.push(shown(prev));
                row.push(match abm_core::metrics::change(v, prev) {
                    Some(c) => format!(
                        "{:+.1}% ({})",
                        c.percent,
                        match c.better {
                            None => "flat",
                            Some(true) => "better",
                            Some(false) => "worse",
                        }
                    ),
                    None => "–".into(),
                });
            }
            row.push(v.detail.clone());
            row
        })
        .collect();
    let mut header = vec!["group", "metric", "value", "target"];
    if before.is_some() {
        header.extend(["previous", "change"]);
    }
    header.push("made of");
    if format == Format::Table {
        println!("Key metrics for {quarter}");
    }
    let json = serde_json::json!({"quarter": quarter.to_string(), "metrics": now, "previous": before});
    print_rows(format, &header, &rows, &json)
}

pub fn run_okrs(ws: &Workspace, cmd: OkrsCmd) -> Result<()> {
    let OkrsCmd::Show { quarter, format } = cmd;
    let mut store = ws.store()?;
    let okrs = scorecard::okr_progress(ws, store.as_mut(), quarter)?;
    if okrs.is_empty() {
        return Err(crate::user_error(match quarter {
            Some(q) => format!("okrs.toml has no objective for {q}"),
            None => "okrs.toml has no objectives yet".into(),
        }));
    }
    let rows: Vec<Vec<String>> = okrs
        .iter()
        .flat_map(|(o, krs)| {
            krs.iter().map(move |k| {
                vec![
                    o.quarter.clone(),
                    o.objective.clone(),
                    k.text.clone(),
                    k.value
                        .map(|v| format!("{v:.1}"))
                        .unwrap_or_else(|| format!("– ({})", k.why_none.clone().unwrap_or_default())),
                    format!("{}", k.target),
                    k.progress
                        .map(|p| format!("{:.0}%", p * 100.0))
                        .unwrap_or_else(|| "–".into()),
                ]
            })
        })
        .collect();
    let json: Vec<serde_json::Value> = okrs
        .iter()
        .map(|(o, krs)| serde_json::json!({"quarter": o.quarter, "objective": o.objective, "key_results": krs}))
        .collect();
    print_rows(
        format,
        &["quarter", "objective", "key result", "value", "target", "progress"],
        &rows,
        &json,
    )
}
