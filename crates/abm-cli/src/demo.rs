//! `abm demo`: write the demo world's files into the workspace and import what abm reads so far.

use crate::accounts::{default_import_args, import_accounts_file, import_people_file};
use abm_demo::{write_world, DemoOptions};
use abm_workspace::Workspace;
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct DemoArgs {
    /// Random seed: the same seed gives the same world.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Size: 1 gives about 6,000 accounts.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The demo world's "today" (default: today in the team's time zone).
    #[arg(long, value_parser = crate::calendar::parse_date)]
    today: Option<chrono::NaiveDate>,
    /// Where to write the files (default: WORKSPACE/demo).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The demo team's password; `abm users password NAME` changes one.
pub const DEMO_PASSWORD: &str = "abm-demo";

pub fn run(dir: &Path, args: DemoArgs) -> Result<()> {
    let ws = if Workspace::config_path(dir).exists() {
        Workspace::open(dir)?
    } else {
        println!("Creating an abm workspace in {}", dir.display());
        Workspace::init(dir)?
    };
    if !(args.scale.is_finite() && args.scale > 0.0) {
        return Err(crate::user_error(format!(
            "--scale must be a positive number, found {}",
            args.scale
        )));
    }
    let out = args.out.unwrap_or_else(|| ws.dir.join("demo"));
    let today = args.today.unwrap_or_else(|| ws.today());
    let (_, manifest) = write_world(
        &out,
        DemoOptions {
            seed: args.seed,
            scale: args.scale,
            today,
        },
    )?;
    println!(
        "Demo world (seed {}, scale {}, today {}) written to {}: {} accounts, {} people, {} activities, {} web visits, {} intent rows, {} opportunities, {} requests, {} ad rows",
        manifest.seed,
        manifest.scale,
        manifest.today,
        out.display(),
        manifest.accounts,
        manifest.people,
        manifest.activities,
        manifest.web_visits,
        manifest.intent_rows,
        manifest.opportunities,
        manifest.requests,
        manifest.ad_rows
    );
    import_accounts_file(&ws, &default_import_args(&out.join("accounts.csv")))?;
    import_people_file(&ws, &default_import_args(&out.join("people.csv")))?;
    // Fits first: journey stages (Demographic Qualified) read them as activities arrive.
    crate::icp::run(&ws, Some("demo"), crate::icp::IcpCmd::Score)?;
    crate::activities::run_ip_ranges(
        &ws,
        crate::activities::IpRangesCmd::Import {
            file: out.join("ip-ranges.csv"),
        },
    )?;
    for f in ["activities.csv", "web-visits.csv", "intent.csv"] {
        crate::activities::run(
            &ws,
            crate::activities::ActivitiesCmd::Import {
                file: out.join(f),
                mapping: None,
            },
        )?;
    }
    crate::activities::run_opportunities(
        &ws,
        crate::activities::OpportunitiesCmd::Import {
            file: out.join("opportunities.csv"),
            history: Some(out.join("opportunity-stage-history.csv")),
        },
    )?;
    crate::requests::import_team_file(&ws, Some("mmanager"), &out.join("team.csv"))?;
    crate::requests::import_requests_file(&ws, &out.join("requests.json"))?;
    for ads in [
        "linkedin-campaign-performance.csv",
        "google-ads-campaign-report.csv",
        "meta-ads-report.csv",
    ] {
        crate::paid::run_ads(
            &ws,
            crate::paid::AdsCmd::Import {
                file: out.join("ads").join(ads),
                platform: None,
                mapping: None,
            },
        )?;
    }
    crate::paid::run_budget(
        &ws,
        crate::paid::BudgetCmd::Import {
            file: out.join("budget.csv"),
        },
    )?;
    if ws.list_versions_empty()? {
        crate::lists::run(
            &ws,
            Some("demo"),
            crate::lists::ListsCmd::Build {
                note: Some("the demo world's first list".into()),
            },
        )?;
        crate::lists::run(&ws, Some("demo"), crate::lists::ListsCmd::Publish { version: 1 })?;
    }
    // The team's goals and OKRs, unless the workspace has its own.
    for (name, text) in abm_demo::scorecard_files(today) {
        let path = ws.dir.join(name);
        if !path.exists() {
            std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
    }
    // The team's PTO is what capacity planning reads (abm.toml: capacity.time_away).
    let away = ws.dir.join(&ws.config.time_away_file);
    std::fs::copy(out.join("pto.csv"), &away).map_err(|e| anyhow::anyhow!("{}: {e}", away.display()))?;
    // Everyone on the demo team can sign in with the demo password (a demo on loopback only).
    {
        let mut store = ws.store()?;
        for m in store.team()? {
            if store.password_hash(&m.username)?.is_none() {
                abm_workspace::users::set_password(store.as_mut(), &m.username, DEMO_PASSWORD, ws.now().at)?;
            }
        }
    }
    println!(
        "Sign in as mmanager (manager), aabm (member), sales-sam (requester) or exec-eve (viewer), password {DEMO_PASSWORD}"
    );
    println!("Next: abm --workspace {} serve", ws.dir.display());
    Ok(())
}
