//! The `abm` command: `abm <noun> <verb>`. Reads take `--format table|json|csv`; every command
//! takes `--workspace DIR` (or `ABM_WORKSPACE`). Exit status: 0 ok, 1 a mistake the user can fix
//! (bad input, unknown names), 2 something went wrong inside abm or its database.

/// Imports allocate and free millions of small values (fields, records, attribute lists) across
/// threads; mimalloc does that markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod accounts;
mod activities;
mod automations;
mod calendar;
mod connect;
mod demo;
mod icp;
mod journey;
mod lists;
mod output;
mod paid;
mod planning;
mod progress;
mod requests;
mod scorecard;
mod users;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "abm",
    version,
    about = "abm: the operating system for an account-based marketing team"
)]
struct Cli {
    /// The workspace folder (holds abm.toml). Defaults to the current directory.
    #[arg(long, global = true, env = "ABM_WORKSPACE", default_value = ".")]
    workspace: PathBuf,
    /// Who is acting (a username on the team); changes are audited under this name.
    #[arg(long = "as", global = true, env = "ABM_USER", value_name = "USERNAME")]
    as_user: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a workspace: abm.toml and commented default configuration files.
    Init {
        /// Folder to create it in (default: --workspace).
        dir: Option<PathBuf>,
    },
    /// Business days, holidays and the fiscal calendar.
    #[command(subcommand)]
    Calendar(calendar::CalendarCmd),
    /// Accounts from the CRM: import, list, show.
    #[command(subcommand)]
    Accounts(accounts::AccountsCmd),
    /// The ideal customer profile: score, diff, activate, roll back.
    #[command(subcommand)]
    Icp(icp::IcpCmd),
    /// Focus account lists in tiers: build, diff, publish, nominations, the quarterly refresh, exports.
    #[command(subcommand)]
    Lists(lists::ListsCmd),
    /// Activities (marketing automation, web analytics, intent) matched to accounts.
    #[command(subcommand)]
    Activities(activities::ActivitiesCmd),
    /// Engagement points, explained activity by activity.
    #[command(subcommand)]
    Engagement(activities::EngagementCmd),
    /// Journey stages: an account's history, stage counts on a day, the funnel between two days.
    #[command(subcommand)]
    Journey(journey::JourneyCmd),
    /// Automations: act when accounts enter a stage, cross a threshold or surge; the weekly digest.
    #[command(subcommand)]
    Automations(automations::AutomationsCmd),
    /// Intent: which accounts are surging on which keyword sets.
    #[command(subcommand)]
    Intent(activities::IntentCmd),
    /// Opportunities and their stage history; SAOs.
    #[command(subcommand)]
    Opportunities(activities::OpportunitiesCmd),
    /// The IP-range table anonymous visits are matched with.
    #[command(subcommand, name = "ip-ranges")]
    IpRanges(activities::IpRangesCmd),
    /// People (contacts) linked to accounts.
    #[command(subcommand)]
    People(accounts::PeopleCmd),
    /// The team: who is a manager, member, requester or viewer.
    #[command(subcommand)]
    Team(requests::TeamCmd),
    /// Who may sign in to the web app: passwords, roles and API tokens for scripts.
    #[command(subcommand)]
    Users(users::UsersCmd),
    /// Requests to the ABM team: submit, edit, comment, assign, close, show, list, log, import.
    #[command(subcommand)]
    Requests(requests::RequestsCmd),
    /// List the requests waiting in mktg-status::triage, or decide on one.
    Triage(requests::TriageArgs),
    /// Where requests stand against their SLA, and how the team has done.
    #[command(subcommand)]
    Sla(requests::SlaCmd),
    /// Lay out a workback schedule backward from a launch date (and create its requests).
    Workback(requests::WorkbackArgs),
    /// The two-week milestones ("Mktg: YYYY-MM-DD").
    #[command(subcommand)]
    Milestones(planning::MilestonesCmd),
    /// Plan a milestone at 70% of each person's available hours; carry-over.
    #[command(subcommand)]
    Plan(planning::PlanCmd),
    /// The prioritisation board, the milestone board and blocked requests; move cards.
    #[command(subcommand)]
    Board(planning::BoardCmd),
    /// Keep GitLab issues and abm's requests in step.
    #[command(subcommand)]
    Gitlab(connect::GitlabCmd),
    /// Team updates to Slack: UPDATE / DISCUSS messages and milestone digests.
    #[command(subcommand)]
    Updates(connect::UpdatesCmd),
    /// Ad-platform exports (LinkedIn, Google Ads, Meta).
    #[command(subcommand)]
    Ads(paid::AdsCmd),
    /// Budget lines against actuals: import, list with variances and cost per MQL.
    #[command(subcommand)]
    Budget(paid::BudgetCmd),
    /// UTM naming taxonomies: decode a value, check every imported name.
    #[command(subcommand)]
    Taxonomy(paid::TaxonomyCmd),
    /// Reports: paid media by any dimension, with period comparisons.
    #[command(subcommand)]
    Report(paid::ReportCmd),
    /// Pipeline targets worked back to opportunities, SAOs, MQLs and inquiries.
    #[command(subcommand)]
    Goals(scorecard::GoalsCmd),
    /// Key metrics per fiscal quarter: the North Star, efficiency, impact, supporting metrics.
    #[command(subcommand)]
    Metrics(scorecard::MetricsCmd),
    /// Objectives and key results, with progress computed from the data.
    #[command(subcommand)]
    Okrs(scorecard::OkrsCmd),
    /// Fill the workspace with a deterministic, realistic demo world.
    Demo(demo::DemoArgs),
    /// Serve the web app and JSON API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Mark session cookies Secure (sent over HTTPS only): when abm is served behind TLS.
        #[arg(long)]
        secure_cookies: bool,
    },
    /// What the workspace holds.
    Status {
        #[arg(long, value_enum, default_value_t = output::Format::Table)]
        format: output::Format,
    },
}

/// A mistake the user can fix: exit status 1.
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UserError {}

pub fn user_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(msg.into()))
}

pub(crate) fn is_user_error(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<UserError>()
            || c.downcast_ref::<abm_import::ImportError>()
                .is_some_and(|e| e.is_user_error())
            || c.downcast_ref::<abm_workspace::desk::DeskError>()
                .is_some_and(|e| e.is_user_error())
            || c.downcast_ref::<abm_workspace::automations::ActionError>()
                .is_some_and(|e| e.is_user_error())
            || c.downcast_ref::<abm_workspace::WorkspaceError>().is_some_and(|e| {
                !matches!(
                    e,
                    abm_workspace::WorkspaceError::Store(_) | abm_workspace::WorkspaceError::Io { .. }
                )
            })
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early (`abm … | head`) is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let import = e.downcast_ref::<abm_import::ImportError>().or_else(|| {
                match e.downcast_ref::<abm_workspace::desk::DeskError>() {
                    Some(abm_workspace::desk::DeskError::File(f)) => Some(f),
                    _ => None,
                }
            });
            match import {
                Some(abm_import::ImportError::BadRows(rows)) => rows.iter().for_each(|r| eprintln!("{r}")),
                Some(abm_import::ImportError::BadItems(items)) => items.iter().for_each(|i| eprintln!("{i}")),
                _ => {}
            }
            eprintln!("error: {e:#}");
            if is_user_error(&e) {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

fn open_workspace(dir: &std::path::Path) -> Result<abm_workspace::Workspace> {
    Ok(abm_workspace::Workspace::open(dir)?)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init { dir } => {
            let dir = dir.unwrap_or(cli.workspace);
            let ws = abm_workspace::Workspace::init(&dir)?;
            ws.store()?;
            println!("Created an abm workspace in {}", dir.display());
            println!(
                "Next: abm --workspace {} demo   (or: abm --workspace {} accounts import FILE.csv)",
                dir.display(),
                dir.display()
            );
            Ok(())
        }
        Command::Calendar(cmd) => calendar::run(&cli.workspace, cmd),
        Command::Accounts(cmd) => accounts::run(&open_workspace(&cli.workspace)?, cmd),
        Command::Icp(cmd) => icp::run(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd),
        Command::Lists(cmd) => lists::run(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd),
        Command::Activities(cmd) => activities::run(&open_workspace(&cli.workspace)?, cmd),
        Command::Engagement(cmd) => {
            activities::run_engagement(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd)
        }
        Command::Journey(cmd) => journey::run(&open_workspace(&cli.workspace)?, cmd),
        Command::Goals(cmd) => scorecard::run_goals(&open_workspace(&cli.workspace)?, cmd),
        Command::Metrics(cmd) => scorecard::run_metrics(&open_workspace(&cli.workspace)?, cmd),
        Command::Okrs(cmd) => scorecard::run_okrs(&open_workspace(&cli.workspace)?, cmd),
        Command::Automations(cmd) => automations::run(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd),
        Command::Intent(cmd) => activities::run_intent(&open_workspace(&cli.workspace)?, cmd),
        Command::Opportunities(cmd) => activities::run_opportunities(&open_workspace(&cli.workspace)?, cmd),
        Command::IpRanges(cmd) => activities::run_ip_ranges(&open_workspace(&cli.workspace)?, cmd),
        Command::People(cmd) => accounts::run_people(&open_workspace(&cli.workspace)?, cmd),
        Command::Users(cmd) => users::run(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd),
        Command::Team(cmd) => requests::run_team(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd),
        Command::Requests(cmd) => requests::run_requests(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd),
        Command::Triage(args) => requests::run_triage(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), args),
        Command::Sla(cmd) => requests::run_sla(&open_workspace(&cli.workspace)?, cmd),
        Command::Workback(args) => {
            requests::run_workback(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), args)
        }
        Command::Milestones(cmd) => planning::run_milestones(&open_workspace(&cli.workspace)?, cmd),
        Command::Plan(cmd) => planning::run_plan(&open_workspace(&cli.workspace)?, cmd),
        Command::Board(cmd) => planning::run_board(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd),
        Command::Gitlab(cmd) => connect::run_gitlab(&open_workspace(&cli.workspace)?, cmd),
        Command::Updates(cmd) => connect::run_updates(&open_workspace(&cli.workspace)?, cli.as_user.as_deref(), cmd),
        Command::Ads(cmd) => paid::run_ads(&open_workspace(&cli.workspace)?, cmd),
        Command::Budget(cmd) => paid::run_budget(&open_workspace(&cli.workspace)?, cmd),
        Command::Taxonomy(cmd) => paid::run_taxonomy(&open_workspace(&cli.workspace)?, cmd),
        Command::Report(cmd) => paid::run_report(&open_workspace(&cli.workspace)?, cmd),
        Command::Demo(args) => demo::run(&cli.workspace, args),
        Command::Serve { addr, secure_cookies } => serve(&open_workspace(&cli.workspace)?, &addr, secure_cookies),
        Command::Status { format } => {
            let ws = open_workspace(&cli.workspace)?;
            let mut store = ws.store()?;
            let counts = store.counts()?;
            let rows = vec![
                vec!["workspace".into(), ws.dir.display().to_string()],
                vec![
                    "database".into(),
                    format!("{} ({})", ws.config.database_url, store.backend()),
                ],
                vec!["schema version".into(), store.schema_version()?.to_string()],
                vec!["accounts".into(), counts.accounts.to_string()],
                vec!["domains".into(), counts.domains.to_string()],
                vec!["attribute values".into(), counts.attributes.to_string()],
                vec!["people".into(), counts.people.to_string()],
                vec!["activities".into(), counts.activities.to_string()],
                vec!["opportunities".into(), counts.opportunities.to_string()],
                vec!["requests".into(), counts.requests.to_string()],
                vec!["ad facts".into(), counts.ad_facts.to_string()],
                vec!["list versions".into(), counts.list_versions.to_string()],
            ];
            output::print_rows(
                format,
                &["item", "value"],
                &rows,
                &serde_json::json!({
                    "workspace": ws.dir, "backend": store.backend(), "counts": counts,
                }),
            )
        }
    }
}

fn serve(ws: &abm_workspace::Workspace, addr: &str, secure_cookies: bool) -> Result<()> {
    let store = ws.store()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| user_error(format!("cannot listen on {addr}: {e}")))?;
        println!(
            "abm is serving {} at http://{}/",
            ws.dir.display(),
            listener.local_addr()?
        );
        abm_server::serve(
            listener,
            abm_server::AppState::new(store)
                .with_secure_cookies(secure_cookies)
                .with_precedence(ws.config.precedence.clone())
                .with_desk(abm_workspace::desk::Desk::from_workspace(ws)?)
                .with_journey_rules(ws.engagement_rules()?, ws.stages()?)
                .with_workspace(ws.clone()),
        )
        .await?;
        Ok(())
    })
}
