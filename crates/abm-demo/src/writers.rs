//! Writing the demo world as files, in the layouts the importers (and real exports) use.

use crate::world::{gen_accounts, gen_requests, gen_team, generate, DemoAccount, World};
use crate::{ads, DemoError, DemoOptions};
use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::path::{Path, PathBuf};

/// What was written, for the CLI's summary and for tests of later importers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Manifest {
    pub seed: u64,
    pub scale: f64,
    pub today: NaiveDate,
    pub accounts: usize,
    pub people: usize,
    pub activities: usize,
    pub web_visits: usize,
    pub intent_rows: usize,
    pub opportunities: usize,
    pub requests: usize,
    pub team: usize,
    pub ad_rows: usize,
    /// Campaign names in the ad exports that deliberately break the naming taxonomy.
    pub non_conforming_campaigns: Vec<String>,
    pub files: Vec<String>,
}

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn csv_writer(path: &Path) -> Result<csv::Writer<std::fs::File>, DemoError> {
    csv::Writer::from_path(path).map_err(|e| DemoError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

pub(crate) fn row<W: std::io::Write>(w: &mut csv::Writer<W>, path: &Path, fields: &[String]) -> Result<(), DemoError> {
    w.write_record(fields).map_err(|e| DemoError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

pub const ACCOUNT_HEADER: &[&str] = &[
    "Account ID",
    "Account Name",
    "Website",
    "Additional Domains",
    "Parent Account ID",
    "Billing Country",
    "Geo",
    "Sub-Region",
    "Employees",
    "Industry",
    "Annual Revenue",
    "Type",
    "CARR",
    "Account Owner",
    "SDR",
    "Account Rank",
    "GTM Strategy",
    "ABM Tier",
    "New Logo Target Account",
    "Aberdeen Developer Count",
    "Developer Count (Sales)",
    "Gainsight Tech Stack",
    "Aberdeen Tech Stack",
    "ZoomInfo Tech Stack",
    "Aberdeen Cloud Provider",
    "ZoomInfo Cloud Provider",
    "Last Modified Date",
];

fn account_row(a: &DemoAccount, all: &[DemoAccount]) -> Vec<String> {
    vec![
        a.id.clone(),
        a.name.clone(),
        format!("https://www.{}", a.domain),
        a.extra_domains.join(";"),
        a.parent.map(|p| all[p].id.clone()).unwrap_or_default(),
        a.country.to_string(),
        a.geo.to_string(),
        a.sub_region.to_string(),
        opt(&a.employees),
        a.industry.to_string(),
        a.revenue_cents.map(money).unwrap_or_default(),
        a.account_type.to_string(),
        money(a.carr_cents),
        a.owner.to_string(),
        opt(&a.sdr),
        opt(&a.rank),
        a.gtm.to_string(),
        String::new(),
        opt(&a.new_logo),
        opt(&a.dev_aberdeen),
        opt(&a.dev_sales),
        opt(&a.tech_gainsight),
        opt(&a.tech_aberdeen),
        opt(&a.tech_zoominfo),
        opt(&a.cloud_aberdeen),
        opt(&a.cloud_zoominfo),
        a.last_modified.to_string(),
    ]
}

/// Write `rows` accounts in families (a CRM export), for benchmarks and tests.
pub fn write_accounts_csv(path: &Path, seed: u64, rows: usize, today: NaiveDate) -> Result<usize, DemoError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut accounts = gen_accounts(&mut rng, (rows as f64 / 6_300.0).max(0.001) * 1.1, today);
    while accounts.len() < rows {
        accounts = gen_accounts(&mut rng, accounts.len().max(1) as f64 / 6_300.0 * 2.0 + 0.01, today);
    }
    accounts.truncate(rows);
    write_csv(path, ACCOUNT_HEADER, accounts.iter().map(|a| account_row(a, &accounts)))?;
    Ok(accounts.len())
}

/// Requests shaped like GitLab issues with their resource label events.
fn requests_json(requests: &[crate::world::DemoRequest]) -> Vec<serde_json::Value> {
    requests
        .iter()
        .map(|r| {
            let mut labels: Vec<String> = Vec::new();
            for (action, label, _, _) in &r.label_events {
                if *action == "add" {
                    labels.push(label.clone());
                } else {
                    labels.retain(|l| l != label);
                }
            }
            labels.push("abm-request".into());
            let description = std::iter::once(format!("Template: {}", r.template))
                .chain(r.fields.iter().map(|(k, v)| format!("- {k}: {v}")))
                .collect::<Vec<_>>()
                .join("\n");
            json!({
                "iid": r.iid,
                "title": r.title,
                "description": description,
                "template": r.template,
                "fields": r.fields.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "state": r.state,
                "labels": labels,
                "author": {"username": r.author},
                "assignees": r.assignee.iter().map(|a| json!({"username": a})).collect::<Vec<_>>(),
                "created_at": r.created.format(STAMP).to_string(),
                "closed_at": r.closed.map(|c| c.format(STAMP).to_string()),
                "due_date": r.due.map(|d| d.to_string()),
                "weight": r.weight,
                "resource_label_events": r.label_events.iter().map(|(action, label, at, user)| json!({
                    "action": action,
                    "label": {"name": label},
                    "created_at": at.format(STAMP).to_string(),
                    "user": {"username": user},
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// Write `count` requests (a GitLab issues export over the year to `today`), for benchmarks.
pub fn write_requests_json(path: &Path, seed: u64, count: u32, today: NaiveDate) -> Result<usize, DemoError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = today - chrono::Duration::days(364);
    let team = gen_team(&mut rng, start, today);
    let requests = gen_requests(&mut rng, &team, start, today, count);
    let text = serde_json::to_string(&requests_json(&requests)).expect("json");
    std::fs::write(path, text).map_err(io_err(path))?;
    Ok(requests.len())
}

/// A budget export (Allocadia-style) for the demo's paid campaigns, quarter by quarter.
fn write_budget(path: &Path, today: NaiveDate) -> Result<(), DemoError> {
    use chrono::Datelike;
    let fiscal = abm_core::FiscalCalendar::default();
    let mut q = fiscal.quarter_of(today - chrono::Duration::days(270));
    let mut rows = Vec::new();
    for _ in 0..4 {
        let (start, end) = (fiscal.quarter_start(q), fiscal.quarter_end(q));
        for (i, (sub, vendor, campaign, plan, mqls)) in [
            ("Paid search", "Google", "*", 106_000.0, 300.0),
            ("Paid social", "LinkedIn", "*", 120_000.0, 260.0),
            ("Paid social", "Meta", "*", 111_000.0, 120.0),
            ("Content syndication", "TechTarget", "", 15_000.0, 90.0),
        ]
        .iter()
        .enumerate()
        {
            let actual = if campaign.is_empty() {
                format!("{:.2}", plan * (0.9 + 0.05 * ((start.month() as usize + i) % 4) as f64))
            } else {
                String::new()
            };
            // Quarters that have ended carry the MQLs they brought.
            let actual_mqls = if end < today {
                format!("{:.0}", mqls * (0.8 + 0.1 * ((start.month() as usize + i) % 4) as f64))
            } else {
                String::new()
            };
            rows.push(vec![
                "Demand generation".to_string(),
                sub.to_string(),
                format!("{q} {vendor} {sub}"),
                vendor.to_string(),
                "Global".into(),
                campaign.to_string(),
                start.to_string(),
                end.to_string(),
                format!("{:.2}", plan * 1.1),
                format!("{plan:.2}"),
                format!("{:.2}", plan * 0.97),
                actual,
                format!("{mqls}"),
                actual_mqls,
                String::new(),
            ]);
        }
        q = q.next();
    }
    write_csv(
        path,
        &[
            "Category",
            "Sub-category",
            "Line item",
            "Vendor",
            "Region",
            "Campaign",
            "Start",
            "End",
            "Target",
            "Plan",
            "Forecast",
            "Actual",
            "Planned MQLs",
            "Actual MQLs",
            "Comment",
        ],
        rows.into_iter(),
    )
}

/// Write a CSV file: a header and rows.
fn write_csv(path: &Path, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<(), DemoError> {
    let mut w = csv_writer(path)?;
    row(&mut w, path, &header.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    for r in rows {
        row(&mut w, path, &r)?;
    }
    w.flush().map_err(io_err(path))
}

const STAMP: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Generate the world and write every file into `dir`.
pub fn write_world(dir: &Path, options: DemoOptions) -> Result<(World, Manifest), DemoError> {
    let world = generate(options)?;
    std::fs::create_dir_all(dir.join("ads")).map_err(io_err(dir))?;
    let mut files = Vec::new();
    let mut file = |name: &str| -> PathBuf {
        files.push(name.to_string());
        dir.join(name)
    };
    let a = &world.accounts;
    let people = &world.people;
    // The CRM carries the account id on most people; the rest are matched by email domain.
    let account_id = |person: usize| {
        let p = &people[person];
        if p.has_account_id {
            a[p.account].id.clone()
        } else {
            String::new()
        }
    };

    write_csv(
        &file("accounts.csv"),
        ACCOUNT_HEADER,
        a.iter().map(|acc| account_row(acc, a)),
    )?;
    write_csv(
        &file("people.csv"),
        &["Contact ID", "First Name", "Last Name", "Email", "Title", "Account ID"],
        people.iter().enumerate().map(|(i, p)| {
            vec![
                p.id.clone(),
                p.first.into(),
                p.last.into(),
                p.email.clone(),
                p.title.into(),
                account_id(i),
            ]
        }),
    )?;
    // Marketing-automation activity export (Marketo-style).
    write_csv(
        &file("activities.csv"),
        &[
            "Activity ID",
            "Activity Date",
            "Activity Type",
            "Email Address",
            "Account ID",
            "Primary Attribute Value",
            "Campaign",
            "Minutes",
        ],
        world.activities.iter().map(|act| {
            vec![
                act.id.to_string(),
                act.at.format(STAMP).to_string(),
                act.kind.into(),
                people[act.person].email.clone(),
                account_id(act.person),
                act.detail.clone(),
                opt(&act.campaign),
                opt(&act.minutes),
            ]
        }),
    )?;
    // Web-analytics export: page views, known (cookie-matched email) or anonymous by IP.
    write_csv(
        &file("web-visits.csv"),
        &["Timestamp", "Visitor IP", "Page URL", "Known Email", "UTM Campaign"],
        world.visits.iter().map(|v| {
            vec![
                v.at.format(STAMP).to_string(),
                v.ip.clone(),
                format!("https://abm-demo.example{}", v.url),
                v.person.map(|i| people[i].email.clone()).unwrap_or_default(),
                opt(&v.utm_campaign),
            ]
        }),
    )?;
    // Intent export (weekly, per company domain and topic).
    write_csv(
        &file("intent.csv"),
        &[
            "Week Start",
            "Company Domain",
            "Company Name",
            "Keyword Set",
            "Topic",
            "Intent Strength",
        ],
        world.intent.iter().map(|i| {
            let acc = &a[i.account];
            vec![
                i.week.to_string(),
                acc.domain.clone(),
                acc.name.clone(),
                i.keyword_set.into(),
                i.topic.into(),
                i.strength.into(),
            ]
        }),
    )?;
    write_csv(
        &file("ip-ranges.csv"),
        &["CIDR", "Account ID"],
        a.iter().filter(|acc| acc.heat > 0.25).map(|acc| {
            vec![
                format!("{}.{}.{}.0/24", acc.ip_block[0], acc.ip_block[1], acc.ip_block[2]),
                acc.id.clone(),
            ]
        }),
    )?;
    write_csv(
        &file("opportunities.csv"),
        &[
            "Opportunity ID",
            "Account ID",
            "Opportunity Name",
            "Created Date",
            "Stage",
            "Amount",
            "Order Type",
            "Close Date",
        ],
        world.opportunities.iter().map(|o| {
            let (stage, last) = *o.history.last().expect("an opportunity has a stage");
            let closed = stage.starts_with("Closed") || stage.starts_with("8-");
            vec![
                o.id.clone(),
                a[o.account].id.clone(),
                o.name.clone(),
                o.created.to_string(),
                stage.into(),
                money(o.amount_cents),
                o.order_type.into(),
                if closed { last.to_string() } else { String::new() },
            ]
        }),
    )?;
    write_csv(
        &file("opportunity-stage-history.csv"),
        &["Opportunity ID", "Stage", "Entered At"],
        world.opportunities.iter().flat_map(|o| {
            o.history
                .iter()
                .map(|(s, d)| vec![o.id.clone(), s.to_string(), format!("{d}T12:00:00Z")])
        }),
    )?;
    write_csv(
        &file("team.csv"),
        &["Username", "Name", "Role", "Hours Per Day"],
        world.team.iter().map(|m| {
            vec![
                m.username.clone(),
                m.name.clone(),
                m.role.into(),
                m.hours_per_day.to_string(),
            ]
        }),
    )?;
    write_csv(
        &file("pto.csv"),
        &["Username", "Date", "Hours"],
        world.team.iter().flat_map(|m| {
            m.pto
                .iter()
                .map(|(d, h)| vec![m.username.clone(), d.to_string(), h.to_string()])
        }),
    )?;

    // Requests, shaped like GitLab issues with their resource label events.
    let p = file("requests.json");
    let requests = requests_json(&world.requests);
    let text = serde_json::to_string_pretty(&requests).expect("json");
    std::fs::write(&p, text).map_err(io_err(&p))?;

    let ad = ads::write_ads(&world, &mut file)?;
    write_budget(&file("budget.csv"), options.today)?;

    let manifest = Manifest {
        seed: options.seed,
        scale: options.scale,
        today: options.today,
        accounts: a.len(),
        people: world.people.len(),
        activities: world.activities.len(),
        web_visits: world.visits.len(),
        intent_rows: world.intent.len(),
        opportunities: world.opportunities.len(),
        requests: world.requests.len(),
        team: world.team.len(),
        ad_rows: ad.rows,
        non_conforming_campaigns: ad.non_conforming,
        files: files.clone(),
    };
    let p = dir.join("manifest.json");
    std::fs::write(&p, serde_json::to_string_pretty(&manifest).expect("json")).map_err(io_err(&p))?;
    Ok((world, manifest))
}
