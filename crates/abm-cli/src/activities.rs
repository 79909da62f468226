//! `abm activities import|unmatched` and `abm ip-ranges import`: activity exports matched to
//! accounts by identity resolution (email domain, account id, company domain, IP range), kept as
//! append-only facts; re-importing a file adds nothing twice.

use crate::output::{print_rows, Format};
use abm_workspace::Workspace;
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ActivitiesCmd {
    /// Import an activity export (marketing automation, web analytics or intent, recognised by
    /// its columns; CSV or NDJSON) and match each activity to an account.
    Import {
        file: PathBuf,
        /// A TOML file mapping another export's columns onto a preset's (preset = "...",
        /// [columns] "Activity Date" = "Their Column", …).
        #[arg(long)]
        mapping: Option<PathBuf>,
    },
    /// How activities were matched, and why the unmatched ones were not.
    Unmatched {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum IpRangesCmd {
    /// Replace the IP-range table (CIDR, Account ID) anonymous visits are matched with.
    Import { file: PathBuf },
}

pub fn run_ip_ranges(ws: &Workspace, cmd: IpRangesCmd) -> Result<()> {
    let IpRangesCmd::Import { file } = cmd;
    let ranges = abm_import::activities::read_ip_ranges(&file)?;
    ws.store()?.replace_ip_ranges(&ranges)?;
    println!("{}: {} IP ranges", file.display(), ranges.len());
    Ok(())
}

pub fn run(ws: &Workspace, cmd: ActivitiesCmd) -> Result<()> {
    let mut store = ws.store()?;
    match cmd {
        ActivitiesCmd::Import { file, mapping } => {
            let mapping = mapping.map(|m| abm_import::activities::read_mapping(&m)).transpose()?;
            let (stages, engagement) = (ws.stages()?, ws.engagement_rules_in(store.as_mut())?);
            let rules = abm_workspace::journey::Rules {
                stages: &stages,
                engagement: &engagement,
            };
            // A first load of history is replayed while the import finishes writing it, with
            // the accounts' other facts read through a second connection.
            let open = || ws.store();
            let ahead = abm_workspace::journey::ReplayAhead {
                rules: &rules,
                through: ws.today(),
                open: &open,
            };
            let (r, replayed) = abm_workspace::journey::import_activities(
                store.as_mut(),
                &file,
                mapping.as_ref(),
                &mut crate::progress::Bar::new(),
                &ahead,
            )?;
            println!(
                "{}: {} export, {} activities: {} added, {} already held; {} matched to an account ({:.1}%) \
                 (load accounts {:.1}s, read and match {:.1}s, write {:.1}s)",
                file.display(),
                r.kind,
                r.activities,
                r.added,
                r.already,
                r.matched,
                if r.activities == 0 {
                    0.0
                } else {
                    r.matched as f64 * 100.0 / r.activities as f64
                },
                r.load.as_secs_f64(),
                r.read.as_secs_f64(),
                r.write.as_secs_f64(),
            );
            if r.added > 0 {
                update_journeys(ws, &rules, store.as_mut(), &r.touched, r.since, replayed)?;
            }
            Ok(())
        }
        ActivitiesCmd::Unmatched { format } => {
            let (methods, why) = store.activity_summary()?;
            let total: u64 = methods.iter().map(|(_, n)| n).sum();
            let mut rows: Vec<Vec<String>> = methods
                .iter()
                .map(|(m, n)| {
                    let what = if m == "unmatched" {
                        "not matched".to_string()
                    } else {
                        format!("matched by {m}")
                    };
                    vec![what, n.to_string()]
                })
                .collect();
            rows.extend(why.iter().map(|(w, n)| vec![format!("unmatched: {w}"), n.to_string()]));
            if format == Format::Table {
                println!("{total} activities");
            }
            print_rows(
                format,
                &["what", "activities"],
                &rows,
                &serde_json::json!({"total": total, "by_method": methods, "unmatched_by_reason": why}),
            )
        }
    }
}

/// Bring the journeys of the accounts new facts touched up to today; `since`: the earliest day
/// of new activities (none: replay those accounts whole, as after opportunity changes);
/// `replayed`: every account, replayed alongside a first load of history.
fn update_journeys(
    ws: &Workspace,
    rules: &abm_workspace::journey::Rules,
    store: &mut dyn abm_store::Store,
    touched: &std::collections::BTreeSet<String>,
    since: Option<chrono::NaiveDate>,
    replayed: Option<abm_workspace::journey::Replayed>,
) -> Result<()> {
    let r = crate::progress::watching(|watch| {
        abm_workspace::journey::update(rules, store, touched, since, ws.today(), watch, replayed)
    })?;
    let (read, replay) = (r.read_ms, r.replay_ms);
    let how = if r.as_imported {
        format!("read {read} and replay {replay} alongside the import, activities as imported; then write")
    } else {
        format!("read {read}, replay {replay}, write")
    };
    println!(
        "Journeys of {} accounts replayed through {}: {} stage changes in {} ms ({how} {})",
        r.accounts, r.through, r.stage_changes, r.millis, r.write_ms
    );
    Ok(())
}

#[derive(Subcommand)]
pub enum OpportunitiesCmd {
    /// Import opportunities (and their stage history); re-imports replace by id.
    Import {
        file: PathBuf,
        /// The stage-history export (Opportunity ID, Stage, Entered At).
        #[arg(long)]
        history: Option<PathBuf>,
    },
    /// Sales-accepted opportunities: those that left stage 0 between two days.
    Saos {
        #[arg(long, value_parser = crate::calendar::parse_date)]
        from: chrono::NaiveDate,
        #[arg(long, value_parser = crate::calendar::parse_date)]
        to: chrono::NaiveDate,
        /// Only New – First Order opportunities.
        #[arg(long)]
        first_order: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub fn run_opportunities(ws: &Workspace, cmd: OpportunitiesCmd) -> Result<()> {
    let mut store = ws.store()?;
    match cmd {
        OpportunitiesCmd::Import { file, history } => {
            let opps = abm_import::opportunities::read_opportunities(&file, history.as_deref())?;
            let s = store.upsert_opportunities(&opps)?;
            println!(
                "{}: {} opportunities; {} added, {} updated, {} unchanged",
                file.display(),
                opps.len(),
                s.inserted,
                s.updated,
                s.unchanged
            );
            if s.inserted + s.updated > 0 {
                let touched = opps.iter().map(|o| o.crm_id.clone()).collect();
                let (stages, engagement) = (ws.stages()?, ws.engagement_rules_in(store.as_mut())?);
                let rules = abm_workspace::journey::Rules {
                    stages: &stages,
                    engagement: &engagement,
                };
                update_journeys(ws, &rules, store.as_mut(), &touched, None, None)?;
            }
            Ok(())
        }
        OpportunitiesCmd::Saos {
            from,
            to,
            first_order,
            format,
        } => {
            if to < from {
                return Err(crate::user_error(format!("--to {to} is before --from {from}")));
            }
            let saos: Vec<(chrono::DateTime<chrono::Utc>, abm_core::opportunity::Opportunity)> = store
                .opportunities()?
                .into_iter()
                .filter(|o| !first_order || o.is_first_order())
                .filter_map(|o| o.sao_at().map(|at| (at, o)))
                .filter(|(at, _)| (from..=to).contains(&at.date_naive()))
                .collect();
            let rows: Vec<Vec<String>> = saos
                .iter()
                .map(|(at, o)| {
                    vec![
                        at.date_naive().to_string(),
                        o.id.clone(),
                        o.crm_id.clone(),
                        o.name.clone(),
                        o.order_type.clone(),
                        format!("{:.2}", o.amount_cents as f64 / 100.0),
                        o.stage.clone(),
                    ]
                })
                .collect();
            if format == Format::Table {
                println!("{} SAOs from {from} to {to}", saos.len());
            }
            let json: Vec<serde_json::Value> = saos
                .iter()
                .map(|(at, o)| serde_json::json!({"sao_at": at, "opportunity": o}))
                .collect();
            print_rows(
                format,
                &["sao day", "id", "account", "name", "order type", "amount", "stage now"],
                &rows,
                &json,
            )
        }
    }
}

#[derive(Subcommand)]
pub enum EngagementCmd {
    /// Every activity that counts towards an account's engagement score, with rule, points,
    /// weight, decay and running total; the total is the score.
    Explain {
        account: String,
        /// The moment the score is read at (default: now).
        #[arg(long, value_parser = crate::calendar::parse_date)]
        as_of: Option<chrono::NaiveDate>,
        /// The window in days (7, 30 or 90 are the usual ones).
        #[arg(long, default_value_t = 90)]
        window: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Replay every account's scores and journey stages from the facts (after editing
    /// stages.toml, activating an ICP, or to bring every account to today).
    Rebuild,
    /// Dry run: how stages and 90-day points would change if engagement.toml as edited were put
    /// in force. Nothing is stored.
    Diff {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Put engagement.toml in force (saved as a new version unless identical to one) and
    /// replay every account with it.
    Activate,
    /// Put an earlier version back in force (and back into engagement.toml).
    Rollback { version: i64 },
    /// Every saved version of the engagement rules, the one in force marked.
    History {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub fn run_engagement(ws: &Workspace, as_user: Option<&str>, cmd: EngagementCmd) -> Result<()> {
    let (account, as_of, window, format) = match cmd {
        EngagementCmd::Rebuild => return crate::journey::rebuild(ws),
        EngagementCmd::Diff { format } => return crate::journey::rules_diff(ws, format),
        EngagementCmd::Activate => return crate::journey::rules_activate(ws, as_user, None),
        EngagementCmd::Rollback { version } => return crate::journey::rules_activate(ws, as_user, Some(version)),
        EngagementCmd::History { format } => return crate::journey::rules_history(ws, format),
        EngagementCmd::Explain {
            account,
            as_of,
            window,
            format,
        } => (account, as_of, window, format),
    };
    if !(1..=3650).contains(&window) {
        return Err(crate::user_error(format!(
            "--window: expected 1 to 3650 days, found {window}"
        )));
    }
    let mut store = ws.store()?;
    let rules = ws.engagement_rules_in(store.as_mut())?;
    let (detail, activities) = abm_workspace::journey::account_activities(store.as_mut(), account.trim())?
        .ok_or_else(|| crate::user_error(format!("no account {account:?}")))?;
    let at = match as_of {
        Some(d) => d.and_hms_opt(23, 59, 59).expect("a time").and_utc(),
        None => ws.now().at,
    };
    let e = abm_core::engagement::explain(&rules, &activities, at, window);
    if format == Format::Table {
        println!(
            "{} ({}): {:.2} points over {window} days to {}, {} engaged people{}",
            detail.summary.name,
            detail.summary.crm_id,
            e.score,
            at.format("%Y-%m-%d"),
            e.engaged_people,
            if e.engaged { " — engaged" } else { "" }
        );
    }
    let rows: Vec<Vec<String>> = e
        .contributions
        .iter()
        .map(|c| {
            vec![
                c.at.format("%Y-%m-%d %H:%M").to_string(),
                c.kind.clone(),
                c.email.clone().unwrap_or_default(),
                c.rule.clone(),
                format!("{}", c.points),
                format!("{}", c.weight),
                format!("{:.3}", c.decay),
                format!("{:.2}", c.total),
                format!("{:.2}", c.running_total),
            ]
        })
        .collect();
    print_rows(
        format,
        &[
            "when", "kind", "person", "rule", "points", "weight", "decay", "total", "running",
        ],
        &rows,
        &e,
    )
}

#[derive(Subcommand)]
pub enum IntentCmd {
    /// Accounts whose intent for a keyword set surged: this week against the weeks before.
    Surging {
        #[arg(long, value_parser = crate::calendar::parse_date)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long, default_value_t = 3)]
        baseline_weeks: i64,
        /// How much above the baseline's weekly average counts as a surge.
        #[arg(long, default_value_t = 1.5)]
        factor: f64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub fn run_intent(ws: &Workspace, cmd: IntentCmd) -> Result<()> {
    let IntentCmd::Surging {
        as_of,
        baseline_weeks,
        factor,
        format,
    } = cmd;
    if !(1..=52).contains(&baseline_weeks) || !(factor > 0.0) {
        return Err(crate::user_error(
            "--baseline-weeks must be 1 to 52 and --factor above 0",
        ));
    }
    let at = match as_of {
        Some(d) => d.and_hms_opt(23, 59, 59).expect("a time").and_utc(),
        None => ws.now().at,
    };
    let mut store = ws.store()?;
    let intent = store.activities_of_kind("Intent")?;
    let surges = abm_core::intent::surging(&intent, at, baseline_weeks, factor);
    let rows: Vec<Vec<String>> = surges
        .iter()
        .map(|s| {
            vec![
                s.crm_id.clone(),
                s.keyword_set.clone(),
                format!("{}", s.recent),
                format!("{:.2}", s.baseline),
                s.lift.map(|l| format!("{l:.2}x")).unwrap_or_else(|| "new".into()),
            ]
        })
        .collect();
    if format == Format::Table {
        println!(
            "{} surging (account, keyword set) pairs in the week to {}",
            surges.len(),
            at.format("%Y-%m-%d")
        );
    }
    print_rows(
        format,
        &["account", "keyword set", "this week", "baseline / week", "lift"],
        &rows,
        &surges,
    )
}
