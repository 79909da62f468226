//! `abm accounts …` and `abm people …`: imports with all-or-nothing checking, lists and the
//! account page in the terminal.

use crate::output::{print_rows, write_table, Format};
use crate::progress::Bar;
use crate::user_error;
use abm_import::accounts::{import_accounts, AccountImportOptions, AccountImportReport};
use abm_import::mapping::ColumnMap;
use abm_store::AccountQuery;
use abm_workspace::Workspace;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ImportArgs {
    /// The CSV export.
    pub file: PathBuf,
    /// A TOML file naming the columns (see mappings/accounts.example.toml).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Rename one column: --column crm_id=Id (repeatable).
    #[arg(long = "column", value_name = "FIELD=HEADER")]
    pub columns: Vec<String>,
    /// Import the good rows and write the bad ones, with reasons, to NAME.rejects.csv.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

#[derive(Subcommand)]
pub enum AccountsCmd {
    /// Import a CRM account export (CSV). Upserts by CRM id; all or nothing unless --skip-bad-rows.
    Import(ImportArgs),
    /// List accounts.
    List {
        #[arg(long)]
        segment: Option<String>,
        #[arg(long)]
        geo: Option<String>,
        #[arg(long)]
        tier: Option<String>,
        /// ICP grade under the active ICP version (A, B, C or D).
        #[arg(long, value_parser = parse_grade)]
        grade: Option<abm_core::icp::Grade>,
        /// Only accounts now in this journey stage (e.g. 06).
        #[arg(long)]
        stage: Option<u32>,
        /// Only accounts in the ICP (`--icp true`) or out of it (`--icp false`).
        #[arg(long)]
        icp: Option<bool>,
        /// Search names, domains and CRM ids.
        #[arg(long, short = 'q')]
        search: Option<String>,
        /// Page number (pages of --per-page accounts).
        #[arg(long)]
        page: Option<u64>,
        #[arg(long, default_value_t = 50)]
        per_page: u64,
        /// At most this many accounts (without --page: all of them).
        #[arg(long)]
        limit: Option<u64>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One account: its family, domains, every attribute with its source, people.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum PeopleCmd {
    /// Import a people/contacts export (CSV), linking each person to an account.
    Import(ImportArgs),
}

fn column_map(mut map: ColumnMap, args: &ImportArgs) -> Result<ColumnMap> {
    if let Some(m) = &args.mapping {
        map.apply_file(m)?;
    }
    map.apply_flags(&args.columns)?;
    Ok(map)
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Import accounts from `file` into the workspace and print what happened.
pub fn import_accounts_file(ws: &Workspace, args: &ImportArgs) -> Result<AccountImportReport> {
    let opts = AccountImportOptions {
        map: column_map(ColumnMap::accounts(), args)?,
        skip_bad_rows: args.skip_bad_rows,
        today: ws.today(),
        fiscal: ws.fiscal(),
        at: now_rfc3339(),
    };
    let mut store = ws.store()?;
    let started = std::time::Instant::now();
    let report = import_accounts(store.as_mut(), &args.file, &opts, &mut Bar::new())?;
    let secs = started.elapsed().as_secs_f64();
    let s = report.summary;
    let phases: Vec<String> = report
        .timings
        .iter()
        .map(|(k, d)| format!("{k} {:.1}s", d.as_secs_f64()))
        .collect();
    println!(
        "{}: {} rows read; {} accounts added, {} updated, {} unchanged ({:.1}s: {})",
        args.file.display(),
        report.rows,
        s.inserted,
        s.updated,
        s.unchanged,
        secs,
        phases.join(", ")
    );
    if let Some(rejects) = &report.rejects_file {
        for r in &report.rejected {
            eprintln!("{r}");
        }
        println!(
            "{} rows rejected; they are in {}",
            report.rejected_rows,
            rejects.display()
        );
    }
    if !report.missing_parents.is_empty() {
        println!(
            "{} accounts name a parent abm does not have; each counts as its own ultimate parent until the parent is imported:",
            report.missing_parents.len()
        );
        for (child, parent) in report.missing_parents.iter().take(20) {
            println!("  {child} → {parent}");
        }
    }
    Ok(report)
}

pub fn import_people_file(ws: &Workspace, args: &ImportArgs) -> Result<()> {
    let map = column_map(ColumnMap::people(), args)?;
    let mut store = ws.store()?;
    let r = abm_import::people::import_people(
        store.as_mut(),
        &args.file,
        &map,
        args.skip_bad_rows,
        &now_rfc3339(),
        &mut Bar::new(),
    )?;
    println!(
        "{}: {} rows read; {} people added, {} updated, {} unchanged",
        args.file.display(),
        r.rows,
        r.summary.inserted,
        r.summary.updated,
        r.summary.unchanged
    );
    println!(
        "linked by account id {}, by email domain {}, not linked {}",
        r.by_account_id, r.by_email_domain, r.unlinked
    );
    if !r.rejected.is_empty() {
        for e in &r.rejected {
            eprintln!("{e}");
        }
        println!("{} rows rejected", r.rejected.len());
    }
    if !r.conflicts.is_empty() {
        println!(
            "{} domains are claimed by several accounts (the one with most people wins):",
            r.conflicts.len()
        );
        for (domain, winner, others) in r.conflicts.iter().take(20) {
            println!("  {domain}: {winner} (also {})", others.join(", "));
        }
    }
    Ok(())
}

fn canonical<T: std::str::FromStr<Err = String> + ToString>(flag: &str, v: Option<String>) -> Result<Option<String>> {
    v.map(|s| {
        s.parse::<T>()
            .map(|t| t.to_string())
            .map_err(|e| user_error(format!("--{flag}: {e}")))
    })
    .transpose()
}

fn parse_grade(s: &str) -> Result<abm_core::icp::Grade, String> {
    s.parse()
}

pub fn run(ws: &Workspace, cmd: AccountsCmd) -> Result<()> {
    match cmd {
        AccountsCmd::Import(args) => import_accounts_file(ws, &args).map(|_| ()),
        AccountsCmd::List {
            segment,
            geo,
            tier,
            grade,
            icp,
            stage,
            search,
            page,
            per_page,
            limit,
            format,
        } => {
            if per_page == 0 {
                return Err(user_error("--per-page must be at least 1"));
            }
            let (limit, offset) = match page {
                Some(0) => return Err(user_error("--page starts at 1")),
                Some(p) => (Some(per_page), (p - 1) * per_page),
                None => (limit, 0),
            };
            let q = AccountQuery {
                segment: canonical::<abm_core::Segment>("segment", segment)?,
                geo: canonical::<abm_core::Geo>("geo", geo)?,
                tier: canonical::<abm_core::AbmTier>("tier", tier)?,
                grade: grade.map(|g| g.to_string()),
                icp,
                stage,
                text: search,
                limit,
                offset,
            };
            let page = ws.store()?.list_accounts(&q)?;
            let rows: Vec<Vec<String>> = page
                .accounts
                .iter()
                .map(|a| {
                    vec![
                        a.crm_id.clone(),
                        a.name.clone(),
                        a.domains.join(" "),
                        a.segment.clone(),
                        a.geo.clone().unwrap_or_default(),
                        a.account_type.clone().unwrap_or_default(),
                        a.ultimate_parent_id.clone(),
                        a.abm_tier.clone().unwrap_or_default(),
                        format!("{:.2}", a.family_carr),
                        a.icp
                            .map(|i| if i { "yes" } else { "no" }.to_string())
                            .unwrap_or_default(),
                        a.fit_score.map(|s| s.to_string()).unwrap_or_default(),
                        a.grade.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(
                format,
                &[
                    "crm_id",
                    "name",
                    "domains",
                    "segment",
                    "geo",
                    "type",
                    "ultimate_parent_id",
                    "abm_tier",
                    "family_carr",
                    "icp",
                    "fit",
                    "grade",
                ],
                &rows,
                &serde_json::to_value(&page.accounts)?,
            )?;
            if format == Format::Table {
                eprintln!("{} of {} accounts", page.accounts.len(), page.total);
            }
            Ok(())
        }
        AccountsCmd::Show { id, format } => show(ws, &id, format),
    }
}

pub fn run_people(ws: &Workspace, cmd: PeopleCmd) -> Result<()> {
    match cmd {
        PeopleCmd::Import(args) => import_people_file(ws, &args),
    }
}

fn show(ws: &Workspace, id: &str, format: Format) -> Result<()> {
    let mut store = ws.store()?;
    let account = store
        .get_account(id)?
        .ok_or_else(|| user_error(format!("no account {id:?}")))?
        .resolve(&ws.config.precedence);
    let explanation = abm_workspace::icp::explain_active(store.as_mut(), &ws.config.precedence, id)?;
    let (detail, resolved) = (&account.detail, &account.resolved_attributes);
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(&account)?;
            v["icp_explanation"] = serde_json::to_value(&explanation)?;
            println!("{}", serde_json::to_string_pretty(&v)?)
        }
        Format::Csv => {
            let rows: Vec<Vec<String>> = detail
                .attributes
                .iter()
                .map(|a| {
                    vec![
                        detail.summary.crm_id.clone(),
                        a.attribute.to_string(),
                        a.source.to_string(),
                        a.value.clone(),
                        a.as_of.to_string(),
                    ]
                })
                .collect();
            print_rows(
                Format::Csv,
                &["crm_id", "attribute", "source", "value", "as_of"],
                &rows,
                &serde_json::Value::Null,
            )?;
        }
        Format::Table => {
            print_detail(detail, resolved)?;
            if let Some((version, e)) = &explanation {
                println!("\nICP (version {version}): {}", e.summary);
                for c in &e.criteria {
                    println!(
                        "  {} {:<70} {:>3}/{:<3} {} = {}{}",
                        if c.passed { "✓" } else { "✗" },
                        c.criterion,
                        c.points,
                        if c.core {
                            "core".to_string()
                        } else {
                            c.max_points.to_string()
                        },
                        c.field,
                        c.value,
                        c.source
                            .as_ref()
                            .map(|s| format!(" ({s}{})", c.as_of.map(|d| format!(", {d}")).unwrap_or_default()))
                            .unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}

fn print_detail(d: &abm_store::AccountDetail, resolved: &[abm_core::account::AttributeValue]) -> Result<()> {
    let a = &d.summary;
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    writeln!(out, "{} ({})", a.name, a.crm_id)?;
    let facts = [
        ("domains", a.domains.join(", ")),
        (
            "segment",
            format!("{} (set for FY{:02})", a.segment, d.segment_fiscal_year % 100),
        ),
        (
            "geo",
            format!("{} {}", opt(&a.geo), d.sub_region.clone().unwrap_or_default()),
        ),
        ("country", opt(&a.country)),
        ("industry", opt(&d.industry)),
        ("employees", a.employees.map(|e| e.to_string()).unwrap_or("—".into())),
        (
            "family max employees",
            d.family_max_employees.map(|e| e.to_string()).unwrap_or("—".into()),
        ),
        ("type", opt(&a.account_type)),
        ("CARR", format!("{:.2} (family {:.2})", d.carr, a.family_carr)),
        (
            "first order available",
            if a.first_order_available {
                "yes".into()
            } else {
                "no".into()
            },
        ),
        ("owner / SDR", format!("{} / {}", opt(&d.owner), opt(&d.sdr))),
        ("account rank", opt(&d.account_rank)),
        ("GTM strategy", opt(&d.gtm_strategy)),
        ("ABM tier", opt(&a.abm_tier)),
        ("ultimate parent", a.ultimate_parent_id.clone()),
    ];
    for (k, v) in facts {
        writeln!(out, "  {k:<22} {v}")?;
    }
    writeln!(out, "\nFamily ({} accounts)", d.family.len())?;
    let fam: Vec<Vec<String>> = d
        .family
        .iter()
        .map(|m| {
            vec![
                m.crm_id.clone(),
                m.name.clone(),
                m.parent_id.clone().unwrap_or_default(),
                m.employees.map(|e| e.to_string()).unwrap_or_default(),
                format!("{:.2}", m.carr),
            ]
        })
        .collect();
    write_table(&mut out, &["crm_id", "name", "parent", "employees", "carr"], &fam)?;
    writeln!(out, "\nAttributes (* = the value used, by precedence)")?;
    let attrs: Vec<Vec<String>> = resolved
        .iter()
        .filter(|r| &*r.source == "employees")
        .chain(d.attributes.iter())
        .map(|v| {
            let used = resolved.iter().any(|r| r == v);
            vec![
                if used { "*".into() } else { String::new() },
                v.attribute.to_string(),
                v.source.to_string(),
                v.value.clone(),
                v.as_of.to_string(),
            ]
        })
        .collect();
    write_table(&mut out, &["", "attribute", "source", "value", "as_of"], &attrs)?;
    writeln!(out, "\nPeople ({})", d.people.len())?;
    let people: Vec<Vec<String>> = d
        .people
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.title.clone().unwrap_or_default(),
                p.email.clone().unwrap_or_default(),
            ]
        })
        .collect();
    write_table(&mut out, &["name", "title", "email"], &people)?;
    Ok(())
}

/// For `abm demo`: import a file with the default mapping.
pub fn default_import_args(file: &Path) -> ImportArgs {
    ImportArgs {
        file: file.to_path_buf(),
        mapping: None,
        columns: Vec::new(),
        skip_bad_rows: false,
    }
}
