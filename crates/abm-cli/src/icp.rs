//! `abm icp`: score accounts against the ideal customer profile, see what an edit of `icp.toml`
//! would change before it counts, activate it, and roll back to any earlier version. Every
//! version is kept whole in the store; scores always say which version produced them.

use crate::output::{print_rows, Format};

use crate::user_error;
use abm_workspace::icp::{diff, parse_icp, score_all};
use abm_workspace::Workspace;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum IcpCmd {
    /// Rescore every account with the active version (the first run activates icp.toml as version 1).
    Score,
    /// What activating the edited icp.toml would change, against the stored scores. Changes nothing.
    Diff {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Save icp.toml as a new version (if it is new), make it active and rescore every account.
    Activate,
    /// Make an earlier version active again, rescore, and write it back to icp.toml.
    Rollback { version: i64 },
    /// Every version: when, by whom, which is active.
    History {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Print a version's definition (default: the active one).
    Show { version: Option<i64> },
}

pub(crate) fn actor(as_user: Option<&str>) -> String {
    as_user
        .map(str::to_string)
        .unwrap_or_else(|| std::env::var("USER").unwrap_or_else(|_| "abm".into()))
}

/// Save `text` as a version unless an identical one exists; activate it with fresh scores.
fn activate_text(ws: &Workspace, store: &mut dyn abm_store::Store, text: &str, who: &str) -> Result<i64> {
    let icp = parse_icp(text, "icp.toml")?;
    let now = ws.now().at;
    let version = match store.icp_versions()?.into_iter().find(|v| v.definition == text) {
        Some(v) => v.version,
        None => store.save_icp_version(text, who, now)?,
    };
    let fits = abm_workspace::icp::activate(store, &icp, version, &ws.config.precedence, who, now)?;
    let icp_n = fits.iter().filter(|f| f.icp).count();
    let mut grades = std::collections::BTreeMap::new();
    for f in &fits {
        *grades.entry(f.grade.as_str()).or_insert(0) += 1;
    }
    println!(
        "ICP version {version} active: {} accounts scored, {icp_n} in the ICP; grades {}",
        fits.len(),
        grades
            .iter()
            .map(|(g, n)| format!("{g} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if store.journey_coverage()?.1 > 0 {
        println!("Journey stages read fit scores: `abm engagement rebuild` replays them with these.");
    }
    Ok(version)
}

/// Saved versions of a definition (the ICP, engagement rules), the one in force marked `mark`.
pub(crate) fn print_versions(format: Format, versions: &[abm_store::IcpVersion], mark: &str) -> Result<()> {
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            vec![
                v.version.to_string(),
                v.created_at.clone(),
                v.author.clone(),
                if v.active { mark.to_string() } else { String::new() },
            ]
        })
        .collect();
    print_rows(format, &["version", "saved", "by", ""], &rows, &versions)
}

pub fn run(ws: &Workspace, as_user: Option<&str>, cmd: IcpCmd) -> Result<()> {
    let mut store = ws.store()?;
    let store = store.as_mut();
    let who = actor(as_user);
    match cmd {
        IcpCmd::Score => {
            let versions = store.icp_versions()?;
            match versions.iter().find(|v| v.active) {
                None => {
                    let (_, text) = ws.icp()?;
                    activate_text(ws, store, &text, &who)?;
                }
                Some(v) => {
                    activate_text(ws, store, &v.definition.clone(), &who)?;
                    if ws.icp().map(|(_, t)| t != v.definition).unwrap_or(true) {
                        eprintln!(
                            "note: icp.toml differs from version {}: `abm icp diff` shows what it would change, `abm icp activate` puts it in force",
                            v.version
                        );
                    }
                }
            }
            Ok(())
        }
        IcpCmd::Diff { format } => {
            let (icp, _) = ws.icp()?;
            let before = store.fits()?;
            let after = score_all(store, &icp, &ws.config.precedence, 0)?;
            let d = diff(&before, &after);
            if format == Format::Json {
                return print_rows(format, &[], &[], &d);
            }
            let rows: Vec<Vec<String>> = d
                .changes
                .iter()
                .map(|(id, b, a)| vec![id.clone(), b.clone(), a.clone()])
                .collect();
            if format == Format::Table {
                println!(
                    "{} of {} accounts would change; {} enter the ICP, {} leave it",
                    d.changed,
                    d.accounts,
                    d.entering.len(),
                    d.leaving.len()
                );
                for (m, n) in &d.grade_moves {
                    println!("  grade {m}: {n}");
                }
            }
            print_rows(format, &["crm_id", "now", "with icp.toml"], &rows, &d)
        }
        IcpCmd::Activate => {
            let (_, text) = ws.icp()?;
            activate_text(ws, store, &text, &who)?;
            Ok(())
        }
        IcpCmd::Rollback { version } => {
            let v = store
                .icp_versions()?
                .into_iter()
                .find(|v| v.version == version)
                .ok_or_else(|| user_error(format!("no ICP version {version} (abm icp history)")))?;
            activate_text(ws, store, &v.definition, &who)?;
            let path = ws.dir.join("icp.toml");
            std::fs::write(&path, &v.definition).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            println!("icp.toml now holds version {version}");
            Ok(())
        }
        IcpCmd::History { format } => print_versions(format, &store.icp_versions()?, "active"),
        IcpCmd::Show { version } => {
            let versions = store.icp_versions()?;
            let v = match version {
                Some(n) => versions.iter().find(|v| v.version == n),
                None => versions.iter().find(|v| v.active),
            }
            .ok_or_else(|| user_error("no such ICP version (abm icp history)"))?;
            print!("{}", v.definition);
            Ok(())
        }
    }
}
