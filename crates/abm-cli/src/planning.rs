//! `abm milestones`, `abm plan` and `abm board`: the two-week milestones, each person's commitment
//! at 70% of their available hours, carry-over, and the three boards. Moving a card on the
//! prioritisation board is a scoped-label swap made as a person, like any other change.

use crate::calendar::parse_date;
use crate::output::{print_rows, Format};
use crate::user_error;
use abm_core::request::Command;
use abm_workspace::desk::Desk;
use abm_workspace::planner::PRIORITY_COLUMNS;
use abm_workspace::Workspace;
use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum MilestonesCmd {
    /// The milestones from the one containing --from (default today).
    List {
        #[arg(long, value_parser = parse_date)]
        from: Option<NaiveDate>,
        #[arg(long, default_value_t = 6)]
        count: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum PlanCmd {
    /// Propose each person's commitment for a milestone (default: the current one): Top, High, Med,
    /// Low up to 70% of available hours; what is dropped and whom to tell.
    Milestone {
        /// e.g. "Mktg: 2026-12-06" or 2026-12-06.
        name: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Issues and weight rolled over at the end of each past milestone, per person.
    CarryOver {
        /// Only milestones ending on or after this day.
        #[arg(long, value_parser = parse_date)]
        since: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum BoardCmd {
    /// The prioritisation board: a column per ABM-Priority value.
    Priority {
        #[arg(long)]
        assignee: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The milestone board: per assignee, columns by priority, weight and hours against budget.
    Milestone {
        name: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Blocked requests for each requester, with what they are missing.
    Blocked {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Move a card to another priority column (swaps its ABM-Priority label).
    Move {
        id: i64,
        /// Top, High, Med, Low or TBD.
        to: String,
    },
}

fn hours(h: f64) -> String {
    format!("{h:.1}")
}

pub fn run_milestones(ws: &Workspace, cmd: MilestonesCmd) -> Result<()> {
    let MilestonesCmd::List { from, count, format } = cmd;
    let series = &ws.config.milestones;
    let ms = series.from(from.unwrap_or_else(|| ws.today()), count.clamp(1, 520));
    let rows: Vec<Vec<String>> = ms
        .iter()
        .map(|m| vec![m.name(), m.start().to_string(), m.end.to_string()])
        .collect();
    print_rows(format, &["milestone", "start", "end"], &rows, &ms)
}

pub fn run_plan(ws: &Workspace, cmd: PlanCmd) -> Result<()> {
    let desk = Desk::from_workspace(ws)?;
    let mut store = ws.store()?;
    let today = ws.today();
    match cmd {
        PlanCmd::Milestone { name, format } => {
            let m = desk.milestone(name.as_deref(), today)?;
            let plan = desk.plan_milestone(store.as_mut(), &m)?;
            if format == Format::Json {
                return print_rows(format, &[], &[], &plan);
            }
            let mut rows = Vec::new();
            for p in &plan.people {
                let c = &p.capacity;
                for i in &p.committed {
                    rows.push(vec![
                        c.username.clone(),
                        "commit".into(),
                        i.id.to_string(),
                        i.priority.clone().unwrap_or_default(),
                        hours(i.hours),
                        i.title.clone(),
                        i.author.clone(),
                        String::new(),
                    ]);
                }
                for d in &p.dropped {
                    rows.push(vec![
                        c.username.clone(),
                        "DROP".into(),
                        d.item.id.to_string(),
                        d.item.priority.clone().unwrap_or_default(),
                        hours(d.item.hours),
                        d.item.title.clone(),
                        d.item.author.clone(),
                        d.reason.clone(),
                    ]);
                }
            }
            if format == Format::Table {
                println!("{} ({} to {})", m.name(), m.start(), m.end);
                for p in &plan.people {
                    let c = &p.capacity;
                    println!(
                        "  {:<12} available {} h (working {} − PTO {} − meetings {}), budget {} h, committed {} h",
                        c.username,
                        hours(c.available_hours),
                        hours(c.working_hours),
                        hours(c.pto_hours),
                        hours(c.meeting_hours),
                        hours(c.budget_hours),
                        hours(p.committed_hours)
                    );
                }
                println!();
            }
            print_rows(
                format,
                &[
                    "person",
                    "decision",
                    "id",
                    "priority",
                    "hours",
                    "title",
                    "requester",
                    "why",
                ],
                &rows,
                &plan,
            )?;
            if format == Format::Table {
                for (who, ids) in &plan.tell {
                    let ids: Vec<String> = ids.iter().map(|i| format!("#{i}")).collect();
                    println!("tell {who}: {} will not fit this milestone", ids.join(", "));
                }
                if !plan.unassigned.is_empty() {
                    println!(
                        "unassigned work due by {}: {}",
                        m.end,
                        plan.unassigned
                            .iter()
                            .map(|i| format!("#{}", i.id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            Ok(())
        }
        PlanCmd::CarryOver { since, format } => {
            let mut c = desk.carry_over(store.as_mut(), today)?;
            if let Some(s) = since {
                c.retain(|x| x.milestone.end >= s);
            }
            let rows: Vec<Vec<String>> = c
                .iter()
                .map(|x| {
                    vec![
                        x.milestone.name(),
                        x.assignee.clone(),
                        x.issues.to_string(),
                        x.weight.to_string(),
                        x.ids.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(" "),
                    ]
                })
                .collect();
            print_rows(
                format,
                &["milestone", "person", "issues rolled over", "weight", "requests"],
                &rows,
                &c,
            )
        }
    }
}

pub fn run_board(ws: &Workspace, as_user: Option<&str>, cmd: BoardCmd) -> Result<()> {
    let desk = Desk::from_workspace(ws)?;
    let mut store = ws.store()?;
    let store = store.as_mut();
    let today = ws.today();
    match cmd {
        BoardCmd::Priority { assignee, format } => {
            let cols = desk.priority_board(store, assignee.as_deref())?;
            let rows: Vec<Vec<String>> = cols
                .iter()
                .flat_map(|c| {
                    c.cards.iter().map(|k| {
                        vec![
                            c.name.clone(),
                            k.id.to_string(),
                            k.title.clone(),
                            k.assignee.clone().unwrap_or_default(),
                            k.status.clone().unwrap_or_default(),
                            k.weight.map(|w| w.to_string()).unwrap_or_default(),
                            k.due_date.map(|d| d.to_string()).unwrap_or_default(),
                        ]
                    })
                })
                .collect();
            if format == Format::Table {
                let counts: Vec<String> = cols.iter().map(|c| format!("{} {}", c.name, c.cards.len())).collect();
                println!("{}", counts.join(" · "));
            }
            print_rows(
                format,
                &["column", "id", "title", "assignee", "status", "weight", "due"],
                &rows,
                &cols,
            )
        }
        BoardCmd::Milestone { name, format } => {
            let m = desk.milestone(name.as_deref(), today)?;
            let b = desk.milestone_board(store, &m)?;
            let rows: Vec<Vec<String>> = b
                .lanes
                .iter()
                .map(|l| {
                    let mut r = vec![l.assignee.clone()];
                    r.extend(l.columns.iter().map(|c| {
                        if c.cards.is_empty() {
                            String::new()
                        } else {
                            format!("{} (w{})", c.cards.len(), c.weight)
                        }
                    }));
                    r.push(hours(l.hours));
                    r.push(hours(l.budget_hours));
                    r.push(if l.over_budget { "OVER".into() } else { String::new() });
                    r
                })
                .collect();
            if format == Format::Table {
                println!("{} ({} to {})", m.name(), m.start(), m.end);
            }
            let mut header = vec!["assignee"];
            header.extend(PRIORITY_COLUMNS);
            header.extend(["hours", "70% budget", ""]);
            print_rows(format, &header, &rows, &b)
        }
        BoardCmd::Blocked { format } => {
            let lanes = desk.blocked_board(store, today)?;
            let rows: Vec<Vec<String>> = lanes
                .iter()
                .flat_map(|l| {
                    l.requests.iter().map(|b| {
                        vec![
                            l.requester.clone(),
                            b.card.id.to_string(),
                            b.card.title.clone(),
                            b.missing.join(", "),
                            b.card.due_date.map(|d| d.to_string()).unwrap_or_default(),
                        ]
                    })
                })
                .collect();
            print_rows(format, &["requester", "id", "title", "missing", "due"], &rows, &lanes)
        }
        BoardCmd::Move { id, to } => {
            let label = abm_workspace::planner::priority_label(&to).map_err(|e| user_error(format!("to: {e}")))?;
            let (me, team) = desk.actor(store, as_user)?;
            let (_, log) = desk.act(store, id, &me, &team, vec![Command::AddLabel(label)], ws.now())?;
            crate::requests::print_changes(id, &log);
            Ok(())
        }
    }
}
