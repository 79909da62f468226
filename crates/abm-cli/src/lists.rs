//! `abm lists`: build focus account lists from `lists.toml` and the ICP, diff and publish versions
//! (a published version never changes), take sales nominations and flags, lay out the quarterly
//! refresh, and export the CRM update and LinkedIn company-list files.

use crate::output::{print_rows, Format};
use crate::user_error;
use abm_core::lists::{diff, refresh_calendar, ListVersion};
use abm_workspace::lists::{build_version, decide, family_of, nominate, ListError};
use abm_workspace::Workspace;
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ListsCmd {
    /// Build the next list version (a draft) from lists.toml and the stored ICP scores.
    Build {
        #[arg(long)]
        note: Option<String>,
    },
    /// The quarterly refresh for a quarter (e.g. FY27-Q1): its dates, and a draft without
    /// closed-won logos and flagged families, refilled by fit.
    Refresh {
        #[arg(long)]
        quarter: String,
    },
    /// A version's accounts (default: the latest).
    Show {
        version: Option<i64>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Added, removed (with the reason) and re-tiered accounts between two versions.
    Diff {
        from: i64,
        to: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Publish a draft: it is frozen from then on.
    Publish { version: i64 },
    /// Every version: when, by whom, published or draft, size.
    History {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// A sales nomination; a decision is due within 5 business days.
    Nominate {
        account: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Accept or decline a nomination, with a reason.
    Decide {
        id: i64,
        /// accept or decline
        decision: String,
        #[arg(long)]
        reason: String,
    },
    /// Nominations, with their due dates and decisions.
    Nominations {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Flag a family sales want left out (no budget, …); lists leave it out with the reason.
    Flag {
        account: String,
        #[arg(long)]
        reason: String,
    },
    /// Clear a flag.
    Unflag { account: String },
    /// Write a version as a CRM update file (account id, ABM tier, GTM strategy) and/or
    /// LinkedIn's company-list template.
    Export {
        version: i64,
        #[arg(long)]
        crm: Option<PathBuf>,
        #[arg(long)]
        linkedin: Option<PathBuf>,
    },
}

fn actor(as_user: Option<&str>) -> String {
    as_user
        .map(str::to_string)
        .unwrap_or_else(|| std::env::var("USER").unwrap_or_else(|_| "abm".into()))
}

pub(crate) fn list_err(e: ListError) -> anyhow::Error {
    match e {
        ListError::Store(s) => anyhow::Error::new(s),
        ListError::NoReason => user_error(format!("--reason: {e}")),
        e => user_error(e.to_string()),
    }
}

fn get(versions: &[ListVersion], v: i64) -> Result<&ListVersion> {
    versions
        .iter()
        .find(|x| x.version == v)
        .ok_or_else(|| user_error(format!("no list version {v} (abm lists history)")))
}

fn summary(l: &ListVersion) -> String {
    let mut tiers: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for e in &l.entries {
        let t = tiers.entry(e.tier.as_str()).or_default();
        t.1 += 1;
        if e.family == e.crm_id {
            t.0 += 1;
        }
    }
    tiers
        .iter()
        .map(|(t, (f, a))| format!("{t}: {f} families, {a} accounts"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn run(ws: &Workspace, as_user: Option<&str>, cmd: ListsCmd) -> Result<()> {
    let mut store = ws.store()?;
    let store = store.as_mut();
    let who = actor(as_user);
    let now = ws.now();
    match cmd {
        ListsCmd::Build { note } => {
            let rules = ws.list_rules()?;
            let l = build_version(store, &rules, &who, now.at, false, note).map_err(list_err)?;
            let v = store.save_list_version(&l)?;
            println!(
                "list version {v} (draft): {}; {} earlier accounts left out",
                summary(&l),
                l.removed.len()
            );
            Ok(())
        }
        ListsCmd::Refresh { quarter } => {
            let q: abm_core::FiscalQuarter = quarter.parse().map_err(|e| user_error(format!("--quarter: {e}")))?;
            let cal = ws.calendar(None)?;
            let r = refresh_calendar(q, &ws.fiscal(), &cal);
            println!("refresh for {}:", r.quarter);
            println!("  {}  sales nominations close", r.nominations_close);
            println!(
                "  {}  purge and refill (last day of the quarter before)",
                r.purge_and_refill
            );
            println!("  {}  publish and write tiers back to the CRM", r.publish);
            let rules = ws.list_rules()?;
            let l = build_version(
                store,
                &rules,
                &who,
                now.at,
                true,
                Some(format!("refresh for {}", r.quarter)),
            )
            .map_err(list_err)?;
            let v = store.save_list_version(&l)?;
            println!("proposed list version {v} (draft): {}", summary(&l));
            for (id, why) in &l.removed {
                println!("  out: {id}: {why}");
            }
            Ok(())
        }
        ListsCmd::Show { version, format } => {
            let versions = store.list_versions()?;
            let l = match version {
                Some(v) => get(&versions, v)?,
                None => versions
                    .last()
                    .ok_or_else(|| user_error("no lists yet: abm lists build"))?,
            };
            let rows: Vec<Vec<String>> = l
                .entries
                .iter()
                .map(|e| {
                    vec![
                        e.tier.clone(),
                        e.rank.to_string(),
                        e.crm_id.clone(),
                        e.name.clone(),
                        e.geo.clone().unwrap_or_default(),
                        e.family.clone(),
                        e.reason.clone(),
                    ]
                })
                .collect();
            if format == Format::Table {
                println!(
                    "list version {} ({}): {}",
                    l.version,
                    match &l.published {
                        Some((at, by)) => format!("published {} by {by}", at.format("%Y-%m-%d")),
                        None => "draft".into(),
                    },
                    summary(l)
                );
            }
            print_rows(
                format,
                &["tier", "rank", "crm_id", "name", "geo", "family", "why"],
                &rows,
                l,
            )
        }
        ListsCmd::Diff { from, to, format } => {
            let versions = store.list_versions()?;
            let d = diff(get(&versions, from)?, get(&versions, to)?);
            let mut rows = Vec::new();
            for (id, tier, why) in &d.added {
                rows.push(vec![
                    "added".into(),
                    id.clone(),
                    String::new(),
                    tier.clone(),
                    why.clone(),
                ]);
            }
            for (id, tier, why) in &d.removed {
                rows.push(vec![
                    "removed".into(),
                    id.clone(),
                    tier.clone(),
                    String::new(),
                    why.clone(),
                ]);
            }
            for (id, a, b, why) in &d.tier_changed {
                rows.push(vec![
                    "tier changed".into(),
                    id.clone(),
                    a.clone(),
                    b.clone(),
                    why.clone(),
                ]);
            }
            print_rows(format, &["change", "crm_id", "from", "to", "why"], &rows, &d)
        }
        ListsCmd::Publish { version } => {
            match store.publish_list(version, &who, now.at) {
                Err(abm_store::StoreError::Conflict(_)) => {
                    return Err(user_error(format!(
                        "list version {version} is already published and cannot change"
                    )))
                }
                Err(abm_store::StoreError::NotFound(_)) => {
                    return Err(user_error(format!("no list version {version}")))
                }
                other => other?,
            }
            println!("list version {version} published by {who}");
            Ok(())
        }
        ListsCmd::History { format } => {
            let versions = store.list_versions()?;
            let rows: Vec<Vec<String>> = versions
                .iter()
                .map(|l| {
                    vec![
                        l.version.to_string(),
                        l.created_at.format("%Y-%m-%d %H:%M").to_string(),
                        l.created_by.clone(),
                        l.published
                            .as_ref()
                            .map(|(at, by)| format!("published {} by {by}", at.format("%Y-%m-%d")))
                            .unwrap_or_else(|| "draft".into()),
                        summary(l),
                        l.note.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let brief: Vec<serde_json::Value> = versions
                .iter()
                .map(|l| {
                    serde_json::json!({"version": l.version, "created_at": l.created_at, "created_by": l.created_by,
                        "published": l.published, "accounts": l.entries.len(), "note": l.note})
                })
                .collect();
            print_rows(
                format,
                &["version", "built", "by", "state", "tiers", "note"],
                &rows,
                &brief,
            )
        }
        ListsCmd::Nominate { account, by, reason } => {
            let n = nominate(store, &account, &by, &reason, now.day, &ws.calendar(None)?).map_err(list_err)?;
            let (id, family) = (n.id, &n.crm_id);
            println!(
                "nomination {id}: family {family} by {}; a decision is due by {}",
                n.by, n.decide_by
            );
            Ok(())
        }
        ListsCmd::Decide { id, decision, reason } => {
            let accepted = match decision.trim().to_ascii_lowercase().as_str() {
                "accept" | "accepted" => true,
                "decline" | "declined" => false,
                other => {
                    return Err(user_error(format!(
                        "decision: expected accept or decline, found {other:?}"
                    )))
                }
            };
            let n = decide(store, id, accepted, &who, &reason, now.day).map_err(list_err)?;
            println!(
                "nomination {id} {}{}",
                if accepted { "accepted" } else { "declined" },
                if now.day > n.decide_by {
                    format!(" (late: it was due by {})", n.decide_by)
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        ListsCmd::Nominations { format } => {
            let ns = store.nominations()?;
            let rows: Vec<Vec<String>> = ns
                .iter()
                .map(|n| {
                    vec![
                        n.id.to_string(),
                        n.crm_id.clone(),
                        n.by.clone(),
                        n.reason.clone(),
                        n.submitted.to_string(),
                        n.decide_by.to_string(),
                        match &n.decision {
                            Some(d) => format!(
                                "{} by {} on {}: {}",
                                if d.accepted { "accepted" } else { "declined" },
                                d.by,
                                d.on,
                                d.reason
                            ),
                            None if now.day > n.decide_by => "OVERDUE".into(),
                            None => "waiting".into(),
                        },
                    ]
                })
                .collect();
            print_rows(
                format,
                &["id", "family", "by", "why", "submitted", "decide by", "decision"],
                &rows,
                &ns,
            )
        }
        ListsCmd::Flag { account, reason } => {
            if reason.trim().is_empty() {
                return Err(user_error("--reason: is empty"));
            }
            let family = family_of(store, &account).map_err(list_err)?;
            store.set_flag(&family, Some((reason.trim(), &who)), now.at)?;
            println!("family {family} flagged: {}", reason.trim());
            Ok(())
        }
        ListsCmd::Unflag { account } => {
            let family = family_of(store, &account).map_err(list_err)?;
            store.set_flag(&family, None, now.at)?;
            println!("family {family} unflagged");
            Ok(())
        }
        ListsCmd::Export { version, crm, linkedin } => {
            if crm.is_none() && linkedin.is_none() {
                return Err(user_error(
                    "say what to write: --crm FILE.csv and/or --linkedin FILE.csv",
                ));
            }
            let versions = store.list_versions()?;
            let l = get(&versions, version)?.clone();
            if let Some(path) = crm {
                let mut w = csv::Writer::from_path(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                w.write_record(["Account ID", "ABM Tier", "GTM Strategy"])?;
                for e in &l.entries {
                    w.write_record([e.crm_id.as_str(), e.tier.as_str(), "Account Based"])?;
                }
                w.flush()?;
                println!("{}: {} accounts (CRM update)", path.display(), l.entries.len());
            }
            if let Some(path) = linkedin {
                let mut w = csv::Writer::from_path(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                w.write_record([
                    "companyname",
                    "companywebsite",
                    "companyemaildomain",
                    "linkedincompanypageurl",
                    "stocksymbol",
                    "industry",
                    "city",
                    "state",
                    "companycountry",
                    "zipcode",
                ])?;
                let mut n = 0;
                for e in &l.entries {
                    let Some(d) = store.get_account(&e.crm_id)? else {
                        continue;
                    };
                    let domain = d.summary.domains.first().cloned().unwrap_or_default();
                    w.write_record([
                        d.summary.name.as_str(),
                        d.website
                            .as_deref()
                            .map(|w| format!("https://{w}"))
                            .unwrap_or_default()
                            .as_str(),
                        domain.as_str(),
                        "",
                        "",
                        d.industry.as_deref().unwrap_or(""),
                        "",
                        "",
                        d.summary.country.as_deref().unwrap_or(""),
                        "",
                    ])?;
                    n += 1;
                }
                w.flush()?;
                println!("{}: {n} companies (LinkedIn company list)", path.display());
            }
            Ok(())
        }
    }
}
