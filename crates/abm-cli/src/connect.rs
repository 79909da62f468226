//! `abm gitlab sync` and `abm updates`: keeping GitLab in step and posting team updates to Slack.
//! Secrets (the GitLab token, the Slack webhook URL) come from environment variables named in
//! abm.toml, never from the file itself or the command line.

use crate::calendar::parse_date;
use crate::output::{print_rows, Format};
use crate::user_error;
use abm_connect::gitlab::{Client, Scope};
use abm_connect::slack::Webhook;
use abm_connect::sync::{sync, SyncContext};
use abm_core::updates::{check_update, message, TeamUpdate, UpdateKind};
use abm_workspace::desk::Desk;
use abm_workspace::Workspace;
use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum GitlabCmd {
    /// Pull issues (and their label history) from GitLab, push abm's label, due-date, milestone
    /// and assignee changes back. Running it twice changes nothing the second time.
    Sync {
        /// Print what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum UpdatesCmd {
    /// Post `UPDATE: ...` or `DISCUSS: ...` to the team's Slack channel.
    Post {
        /// update or discuss.
        #[arg(long, default_value = "update", value_parser = parse_kind)]
        kind: UpdateKind,
        /// A brief description.
        text: String,
        /// The merge request or issue it is about.
        #[arg(long)]
        link: Option<String>,
    },
    /// Post a milestone's digest: its updates, topics to discuss and request counts.
    Digest {
        #[arg(long)]
        milestone: Option<String>,
        /// Print it, post nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Updates posted between two days.
    List {
        #[arg(long, value_parser = parse_date)]
        from: Option<NaiveDate>,
        #[arg(long, value_parser = parse_date)]
        to: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

fn parse_kind(s: &str) -> Result<UpdateKind, String> {
    s.parse()
}

fn secret(var: &str, what: &str) -> Result<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(user_error(format!("{what}: set the environment variable {var}"))),
    }
}

pub(crate) fn connect_err(e: abm_connect::ConnectError) -> anyhow::Error {
    if e.is_user_error() {
        user_error(e.to_string())
    } else {
        anyhow::Error::new(e)
    }
}

pub fn run_gitlab(ws: &Workspace, cmd: GitlabCmd) -> Result<()> {
    let GitlabCmd::Sync { dry_run, format } = cmd;
    let cfg = ws
        .config
        .gitlab
        .as_ref()
        .ok_or_else(|| user_error("no [gitlab] section in abm.toml: add base_url and project (or group)"))?;
    let token = secret(&cfg.token_env, "the GitLab access token")?;
    let scope = match (&cfg.project, &cfg.group) {
        (Some(p), _) => Scope::Project(p.clone()),
        (None, Some(g)) => Scope::Group(g.clone()),
        (None, None) => unreachable!("checked when abm.toml is read"),
    };
    let client = Client::new(&cfg.base_url, &token, scope).map_err(connect_err)?;
    let desk = Desk::from_workspace(ws)?;
    let tz = ws.config.time_zone;
    let moment = move |at: chrono::DateTime<chrono::Utc>| abm_core::request::Moment {
        at,
        day: at.with_timezone(&tz).date_naive(),
    };
    let cx = SyncContext {
        import: abm_import::gitlab::GitlabContext {
            templates: &desk.templates,
            calendar: &desk.calendar,
            reblock: desk.reblock,
            moment: &moment,
            qualify_with_project: cfg.group.is_some(),
        },
        milestones: &desk.milestones,
        now: ws.now(),
        dry_run,
    };
    let mut store = ws.store()?;
    let report = sync(&client, store.as_mut(), &cx).map_err(|e| {
        if e.is_user_error() {
            user_error(e.to_string())
        } else {
            anyhow::Error::new(e)
        }
    })?;
    if format == Format::Json {
        return print_rows(format, &[], &[], &report);
    }
    println!(
        "{}{} issues on GitLab: {} imported, {} pulled, {} pushed, {} unchanged, {} refused",
        if dry_run { "dry run: " } else { "" },
        report.issues_seen,
        report.imported,
        report.pulled.len(),
        report.pushed.len(),
        report.unchanged,
        report.refused.len()
    );
    for (what, lines) in [
        ("pull", &report.pulled),
        ("push", &report.pushed),
        ("refused", &report.refused),
        ("note", &report.notes),
    ] {
        for l in lines {
            println!("  {what}: {l}");
        }
    }
    if !report.refused.is_empty() {
        return Err(user_error(format!(
            "{} changes were refused (see above)",
            report.refused.len()
        )));
    }
    Ok(())
}

fn webhook(ws: &Workspace) -> Result<Webhook> {
    webhook_from(ws, None)
}

/// The Slack webhook whose URL the environment variable `env` holds (default: the one `[slack]`
/// in abm.toml names, else `ABM_SLACK_WEBHOOK_URL`).
pub(crate) fn webhook_from(ws: &Workspace, env: Option<&str>) -> Result<Webhook> {
    let var = env.map(String::from).unwrap_or_else(|| {
        ws.config
            .slack
            .as_ref()
            .map(|s| s.webhook_url_env.clone())
            .unwrap_or_else(|| "ABM_SLACK_WEBHOOK_URL".into())
    });
    Webhook::new(&secret(&var, "the Slack incoming-webhook URL")?).map_err(connect_err)
}

pub fn run_updates(ws: &Workspace, as_user: Option<&str>, cmd: UpdatesCmd) -> Result<()> {
    let desk = Desk::from_workspace(ws)?;
    let mut store = ws.store()?;
    let store = store.as_mut();
    match cmd {
        UpdatesCmd::Post { kind, text, link } => {
            let (me, _) = desk.actor(store, as_user)?;
            if me.role == abm_core::intake::Role::Viewer {
                return Err(user_error(format!(
                    "refused: {} is a viewer and may not post updates",
                    me.username
                )));
            }
            let (text, link) = check_update(&text, link.as_deref()).map_err(user_error)?;
            let hook = webhook(ws)?;
            let attempts = hook.post(&message(kind, &text, link.as_deref())).map_err(connect_err)?;
            let id = store.add_update(&TeamUpdate {
                id: 0,
                at: ws.now().at,
                author: me.username,
                kind,
                text,
                link,
            })?;
            println!(
                "posted update {id}{}",
                if attempts > 1 {
                    format!(" (after {attempts} attempts)")
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        UpdatesCmd::Digest { milestone, dry_run } => {
            let m = desk.milestone(milestone.as_deref(), ws.today())?;
            let text = desk.milestone_digest(store, &m, ws.today())?;
            if dry_run {
                println!("{text}");
                return Ok(());
            }
            let attempts = webhook(ws)?.post(&text).map_err(connect_err)?;
            println!(
                "posted the digest of {}{}",
                m.name(),
                if attempts > 1 {
                    format!(" (after {attempts} attempts)")
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        UpdatesCmd::List { from, to, format } => {
            let today = ws.today();
            let from = from.unwrap_or(today - chrono::Duration::days(14));
            let to = to.unwrap_or(today);
            let list = desk.updates_between(store, from, to)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|u| {
                    vec![
                        u.at.format("%Y-%m-%d %H:%M").to_string(),
                        u.author.clone(),
                        u.kind.to_string(),
                        u.text.clone(),
                        u.link.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(format, &["when (UTC)", "who", "kind", "text", "link"], &rows, &list)
        }
    }
}
