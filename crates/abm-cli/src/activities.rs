//! `abm activities import|unmatched` and `abm ip-ranges import`: activity exports matched to
//! accounts by identity resolution (email domain, account id, company domain, IP range), kept as
//! append-only facts; re-importing a file adds nothing twice.

use crate::output::{print_rows, Format};
use abm_core::activity::{IpTable, Resolver};
use abm_workspace::Workspace;
use anyhow::Result;
use clap::Subcommand;
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ActivitiesCmd {
    /// Import an activity export (marketing automation, web analytics or intent, recognised by
    /// its columns) and match each activity to an account.
    Import { file: PathBuf },
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

/// What identity resolution matches against, from the store.
fn resolver(store: &mut dyn abm_store::Store) -> Result<Resolver> {
    let mut best: HashMap<String, (String, u64)> = HashMap::new();
    for c in store.domain_claims()? {
        let e = best.entry(c.domain.clone()).or_insert((c.crm_id.clone(), c.people));
        if c.people > e.1 {
            *e = (c.crm_id, c.people);
        }
    }
    Ok(Resolver {
        domains: best.into_iter().map(|(d, (id, _))| (d, id)).collect(),
        accounts: store.hierarchy_rows()?.into_iter().map(|m| m.input.id).collect(),
        ips: IpTable::new(store.ip_ranges()?),
    })
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
        ActivitiesCmd::Import { file } => {
            let (kind, activities) = abm_import::activities::read_activities(&file)?;
            let r = resolver(store.as_mut())?;
            let matched: Vec<_> = activities
                .into_iter()
                .map(|a| {
                    let m = r.resolve(&a);
                    (a, m)
                })
                .collect();
            let hits = matched.iter().filter(|(_, m)| m.account.is_some()).count();
            let (added, already) = store.insert_activities(&matched)?;
            println!(
                "{}: {kind} export, {} activities: {added} added, {already} already held; {hits} matched to an account ({:.1}%)",
                file.display(),
                matched.len(),
                if matched.is_empty() { 0.0 } else { hits as f64 * 100.0 / matched.len() as f64 }
            );
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
