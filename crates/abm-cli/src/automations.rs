//! `abm automations run|firings|digest`: act on accounts that met a trigger (post to Slack,
//! notify the owner, nominate for the focus list), each firing recorded so nothing acts twice;
//! and the weekly digest of accounts that moved, per owner.

use crate::output::{print_rows, Format};
use abm_workspace::automations::{describe, ActionError, Due, Taken};
use abm_workspace::Workspace;
use anyhow::Result;
use chrono::{Duration, NaiveDate};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AutomationsCmd {
    /// Take each due automation's action (first matching), and record the firing.
    Run {
        /// Show what would happen; post, nominate and record nothing.
        #[arg(long)]
        dry_run: bool,
        /// Triggers from this day on (default: a week ago).
        #[arg(long, value_parser = crate::calendar::parse_date)]
        since: Option<NaiveDate>,
    },
    /// Recorded firings.
    Firings {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Accounts whose journey stage changed in the last week, grouped by owner.
    Digest {
        /// Post one message per owner to Slack.
        #[arg(long)]
        post: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub fn run(ws: &Workspace, as_user: Option<&str>, cmd: AutomationsCmd) -> Result<()> {
    let today = ws.today();
    let mut store = ws.store()?;
    match cmd {
        AutomationsCmd::Run { dry_run, since } => {
            let since = since.unwrap_or(today - Duration::days(7));
            if since > today {
                return Err(crate::user_error(format!("--since {since} is after today ({today})")));
            }
            let due = abm_workspace::automations::plan(ws, store.as_mut(), since, today)?;
            let mut post = |env: Option<&str>, text: &str| {
                let hook = crate::connect::webhook_from(ws, env).map_err(post_err)?;
                hook.post(text)
                    .map(|_| ())
                    .map_err(|e| post_err(crate::connect::connect_err(e)))
            };
            let mut done = 0;
            let mut each = |d: &Due, taken: &Taken| {
                let what = describe(d);
                match taken {
                    Taken::Skipped => println!(
                        "{}no action's condition holds: {what}",
                        if dry_run { "would skip, " } else { "" }
                    ),
                    Taken::Would(kind) => println!("would {}: {what}", kind.as_str()),
                    Taken::Done(kind, _) => {
                        println!("{}: {what}", kind.as_str());
                        done += 1;
                    }
                }
            };
            abm_workspace::automations::take(ws, store.as_mut(), as_user, &due, dry_run, today, &mut post, &mut each)?;
            println!(
                "{} due from {since} to {today}{}",
                due.len(),
                if dry_run {
                    " (dry run: nothing done)".to_string()
                } else {
                    format!("; {done} actions taken")
                }
            );
            Ok(())
        }
        AutomationsCmd::Firings { format } => {
            let all = store.firings()?;
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|f| {
                    vec![
                        f.automation.clone(),
                        f.day.to_string(),
                        f.crm_id.clone(),
                        f.action.clone(),
                        f.note.clone(),
                    ]
                })
                .collect();
            print_rows(format, &["automation", "day", "account", "action", "note"], &rows, &all)
        }
        AutomationsCmd::Digest { post, format } => {
            let since = today - Duration::days(7);
            let by_owner = abm_workspace::automations::movers_by_owner(&ws.stages()?, store.as_mut(), since, today)?;
            let rows: Vec<Vec<String>> = by_owner
                .iter()
                .flat_map(|(o, v)| {
                    v.iter()
                        .map(move |(n, f, t)| vec![o.clone(), n.clone(), f.clone(), t.clone()])
                })
                .collect();
            if format == Format::Table {
                println!(
                    "Accounts that moved from {} to {today}, by owner",
                    since + Duration::days(1)
                );
            }
            print_rows(format, &["owner", "account", "from", "to"], &rows, &by_owner)?;
            if post {
                let hook = crate::connect::webhook_from(ws, None)?;
                for (owner, moved) in &by_owner {
                    let lines: Vec<String> = moved.iter().map(|(n, f, t)| format!("• {n}: {f} → {t}")).collect();
                    hook.post(&format!(
                        "@{owner} your accounts that moved this week:\n{}",
                        lines.join("\n")
                    ))
                    .map_err(crate::connect::connect_err)?;
                }
                println!("posted {} digests", by_owner.len());
            }
            Ok(())
        }
    }
}

/// A failure to post, keeping whether it is the user's to fix.
fn post_err(e: anyhow::Error) -> ActionError {
    ActionError::Post {
        message: format!("{e:#}"),
        user: crate::is_user_error(&e),
    }
}
