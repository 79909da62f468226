//! `abm journey history|as-of|funnel` and `abm engagement rebuild`: the stages accounts moved
//! through, as replayed from their facts and stored by abm-workspace.

use crate::output::{print_rows, Format};
use abm_core::journey::{counts_on, funnel, Journey};
use abm_workspace::Workspace;
use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum JourneyCmd {
    /// An account's stage changes, each with its day and cause.
    History {
        account: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every account's stage now, the day it entered it, and its points over 7, 30 and 90 days
    /// (JSON: the whole journeys).
    Accounts {
        /// Only accounts in this stage (its number).
        #[arg(long)]
        stage: Option<u32>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// How many accounts sat in each stage at the end of a day.
    AsOf {
        #[arg(value_parser = crate::calendar::parse_date)]
        date: NaiveDate,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Accounts reaching each stage between two days, conversion to later stages and the median
    /// days it took (accounts held on both days only).
    Funnel {
        #[arg(long, value_parser = crate::calendar::parse_date)]
        from: NaiveDate,
        #[arg(long, value_parser = crate::calendar::parse_date)]
        to: NaiveDate,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// The stored journeys, or a user error saying how to make them.
fn stored(ws: &Workspace) -> Result<Vec<Journey>> {
    let journeys = ws.store()?.journeys(None)?;
    if journeys.is_empty() {
        return Err(crate::user_error(
            "no journeys yet: import activities or run `abm engagement rebuild`",
        ));
    }
    Ok(journeys)
}

/// A note when some journeys were replayed through an earlier day than `day`.
fn staleness(journeys: &[Journey], day: NaiveDate) {
    let behind = journeys.iter().filter(|j| j.through < day).count();
    if behind > 0 {
        eprintln!(
            "note: {behind} accounts were last replayed before {day}; `abm engagement rebuild` brings every account to today"
        );
    }
}

pub fn run(ws: &Workspace, cmd: JourneyCmd) -> Result<()> {
    let stages = ws.stages()?;
    match cmd {
        JourneyCmd::History { account, format } => {
            let mut store = ws.store()?;
            let detail = store
                .get_account(account.trim())?
                .ok_or_else(|| crate::user_error(format!("no account {account:?}")))?;
            let crm = &detail.summary.crm_id;
            let j = store.journeys(Some(crm))?.pop().ok_or_else(|| {
                crate::user_error(format!(
                    "no journey for {crm} yet: import activities or run `abm engagement rebuild`"
                ))
            })?;
            if format == Format::Table {
                println!(
                    "{} ({crm}): {} {} on {}; without dated facts: {} {}",
                    detail.summary.name,
                    j.stage(),
                    stages.name_of(j.stage()),
                    j.through,
                    j.base_stage,
                    stages.name_of(j.base_stage)
                );
            }
            let rows: Vec<Vec<String>> = j
                .events
                .iter()
                .map(|e| {
                    vec![
                        e.day.to_string(),
                        format!("{:02} {}", e.from, stages.name_of(e.from)),
                        format!("{:02} {}", e.to, stages.name_of(e.to)),
                        e.cause.clone(),
                    ]
                })
                .collect();
            print_rows(format, &["day", "from", "to", "because"], &rows, &j)
        }
        JourneyCmd::Accounts { stage, format } => {
            if let Some(n) = stage.filter(|n| !stages.stages.iter().any(|s| s.number == *n)) {
                return Err(crate::user_error(format!(
                    "--stage {n}: stages.toml has stages {}",
                    stages
                        .stages
                        .iter()
                        .map(|s| s.number.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let journeys: Vec<Journey> = stored(ws)?
                .into_iter()
                .filter(|j| stage.is_none_or(|n| j.stage() == n))
                .collect();
            staleness(&journeys, ws.today());
            let rows: Vec<Vec<String>> = journeys
                .iter()
                .map(|j| {
                    let mut row = vec![
                        j.crm_id.clone(),
                        format!("{:02} {}", j.stage(), stages.name_of(j.stage())),
                        j.events.last().map(|e| e.day.to_string()).unwrap_or_default(),
                    ];
                    row.extend(j.scores.iter().map(|s| format!("{:.1}", s.points)));
                    row.push(
                        j.scores
                            .first()
                            .map(|s| s.engaged_people.to_string())
                            .unwrap_or_default(),
                    );
                    row
                })
                .collect();
            if format == Format::Table {
                println!("{} accounts", journeys.len());
            }
            print_rows(
                format,
                &[
                    "account",
                    "stage",
                    "since",
                    "points 7d",
                    "points 30d",
                    "points 90d",
                    "engaged people",
                ],
                &rows,
                &journeys,
            )
        }
        JourneyCmd::AsOf { date, format } => {
            let journeys = stored(ws)?;
            staleness(&journeys, date);
            let counts = counts_on(&stages, &journeys, date);
            if format == Format::Table {
                println!("{} accounts by stage at the end of {date}", journeys.len());
            }
            let rows: Vec<Vec<String>> = counts
                .iter()
                .map(|(n, c)| vec![format!("{n:02}"), stages.name_of(*n).to_string(), c.to_string()])
                .collect();
            let json: Vec<serde_json::Value> = counts
                .iter()
                .map(|(n, c)| serde_json::json!({"stage": n, "name": stages.name_of(*n), "accounts": c}))
                .collect();
            print_rows(format, &["#", "stage", "accounts"], &rows, &json)
        }
        JourneyCmd::Funnel { from, to, format } => {
            if to < from {
                return Err(crate::user_error(format!("--to {to} is before --from {from}")));
            }
            let journeys = stored(ws)?;
            staleness(&journeys, to);
            let rows = funnel(&stages, &journeys, from, to);
            let pct = |v: Option<f64>| v.map(|c| format!("{:.1}%", c * 100.0)).unwrap_or_else(|| "–".into());
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        format!("{:02}", r.stage),
                        r.name.clone(),
                        r.at_start.to_string(),
                        r.reached.to_string(),
                        r.at_end.to_string(),
                        format!("{} of {}", r.moved_on, r.were_in),
                        pct(r.conversion),
                        r.median_days_to_next
                            .map(|d| format!("{d:.0}"))
                            .unwrap_or_else(|| "–".into()),
                    ]
                })
                .collect();
            if format == Format::Table {
                println!("Journey funnel {from} to {to}");
            }
            print_rows(
                format,
                &[
                    "#",
                    "stage",
                    "at start",
                    "reached",
                    "at end",
                    "moved on",
                    "conversion",
                    "median days to next",
                ],
                &table,
                &rows,
            )
        }
    }
}

/// `abm engagement rebuild`: replay every account from the facts.
pub fn rebuild(ws: &Workspace) -> Result<()> {
    let mut store = ws.store()?;
    let (stages, engagement) = (ws.stages()?, ws.engagement_rules_in(store.as_mut())?);
    let rules = abm_workspace::journey::Rules {
        stages: &stages,
        engagement: &engagement,
    };
    let r =
        crate::progress::watching(|watch| abm_workspace::journey::rebuild(&rules, store.as_mut(), ws.today(), watch))?;
    println!(
        "Replayed {} accounts ({} activities) through {}: {} stage changes in {} ms (read {}, replay {}, write {})",
        r.accounts, r.activities, r.through, r.stage_changes, r.millis, r.read_ms, r.replay_ms, r.write_ms
    );
    Ok(())
}

/// `abm engagement diff`: replay every account with engagement.toml as it stands, compare.
pub fn rules_diff(ws: &Workspace, format: Format) -> Result<()> {
    let (draft, _) = ws.engagement_draft()?;
    let stages = ws.stages()?;
    let rules = abm_workspace::journey::Rules {
        stages: &stages,
        engagement: &draft,
    };
    let mut store = ws.store()?;
    let before = store.journeys(None)?;
    let after =
        crate::progress::watching(|watch| abm_workspace::journey::preview(&rules, store.as_mut(), ws.today(), watch))?;
    let changes = abm_workspace::journey::changes(&before, &after);
    let moved = changes.iter().filter(|c| c.1 != c.2).count();
    let mut by_move: std::collections::BTreeMap<(u32, u32), usize> = Default::default();
    for c in changes.iter().filter(|c| c.1 != c.2) {
        *by_move.entry((c.1, c.2)).or_default() += 1;
    }
    let rows: Vec<Vec<String>> = by_move
        .iter()
        .map(|((f, t), n)| {
            vec![
                format!("{f:02} {}", stages.name_of(*f)),
                format!("{t:02} {}", stages.name_of(*t)),
                n.to_string(),
            ]
        })
        .collect();
    if format == Format::Table {
        println!(
            "engagement.toml against the rules in force: {} of {} accounts change points, {moved} change stage (nothing stored)",
            changes.len(),
            after.len()
        );
    }
    let json: Vec<serde_json::Value> = changes
        .iter()
        .map(|(crm, f, t, pb, pa)| serde_json::json!({"crm_id": crm, "stage_before": f, "stage_after": t, "points_90d_before": pb, "points_90d_after": pa}))
        .collect();
    print_rows(format, &["stage now", "stage with the edit", "accounts"], &rows, &json)
}

/// `abm engagement activate` (the file) or `rollback VERSION`: save, put in force, replay.
pub fn rules_activate(ws: &Workspace, as_user: Option<&str>, version: Option<i64>) -> Result<()> {
    let mut store = ws.store()?;
    let who = crate::icp::actor(as_user);
    let a = abm_workspace::journey::activate_engagement(ws, store.as_mut(), version, &who, ws.now().at)?;
    println!(
        "engagement rules version {} in force; replayed {} accounts: {} stage changes in {} ms",
        a.version, a.refresh.accounts, a.refresh.stage_changes, a.refresh.millis
    );
    if a.file_rewritten {
        println!("engagement.toml now holds version {}", a.version);
    }
    Ok(())
}

/// `abm engagement history`.
pub fn rules_history(ws: &Workspace, format: Format) -> Result<()> {
    crate::icp::print_versions(format, &ws.store()?.rules_versions("engagement")?, "in force")
}
