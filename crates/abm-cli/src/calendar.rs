//! `abm calendar …`: business-day arithmetic and the fiscal calendar from the command line. Works
//! without a workspace (built-in calendars, February fiscal year); inside one, its calendars and
//! fiscal year apply.

use crate::output::{print_rows, Format};
use crate::user_error;
use abm_core::FiscalQuarter;
use abm_workspace::Workspace;
use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum CalendarCmd {
    /// DATE plus N business days (a non-business DATE first rolls forward; N may be negative).
    AddBusinessDays {
        #[arg(value_parser = parse_date)]
        date: NaiveDate,
        #[arg(allow_negative_numbers = true)]
        n: i64,
        #[arg(long)]
        calendar: Option<String>,
    },
    /// Business days in [START, END) (negative when END is before START).
    BusinessDaysBetween {
        #[arg(value_parser = parse_date)]
        start: NaiveDate,
        #[arg(value_parser = parse_date)]
        end: NaiveDate,
        #[arg(long)]
        calendar: Option<String>,
    },
    /// The fiscal quarter DATE falls in, e.g. FY22-Q3.
    FiscalQuarter {
        #[arg(value_parser = parse_date)]
        date: NaiveDate,
    },
    /// Start, end and first business day of a fiscal quarter (e.g. FY27-Q1).
    Quarter {
        #[arg(value_parser = parse_quarter)]
        quarter: FiscalQuarter,
        #[arg(long)]
        calendar: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Holidays of a calendar.
    Holidays {
        #[arg(long)]
        calendar: Option<String>,
        /// Only this calendar year.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The calendars available in this workspace.
    List,
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| format!("expected a date like 2026-07-02, found {s:?}"))
}

pub(crate) fn parse_quarter(s: &str) -> Result<FiscalQuarter, String> {
    s.parse::<FiscalQuarter>().map_err(|e| e.to_string())
}

/// The workspace if there is one; calendars also work outside one.
fn workspace(dir: &Path) -> Result<Option<Workspace>> {
    if Workspace::config_path(dir).exists() {
        Ok(Some(Workspace::open(dir)?))
    } else {
        Ok(None)
    }
}

fn calendar(ws: &Option<Workspace>, name: Option<&str>) -> Result<abm_core::BusinessCalendar> {
    match ws {
        Some(ws) => Ok(ws.calendar(name)?),
        None => {
            let name = name.unwrap_or("us");
            abm_workspace::builtin_calendar(name).ok_or_else(|| {
                user_error(format!(
                    "unknown calendar {name:?}; outside a workspace the calendars are: {}",
                    abm_workspace::BUILTIN.join(", ")
                ))
            })
        }
    }
}

pub fn run(dir: &Path, cmd: CalendarCmd) -> Result<()> {
    let ws = workspace(dir)?;
    let fiscal = ws.as_ref().map(|w| w.fiscal()).unwrap_or_default();
    match cmd {
        CalendarCmd::AddBusinessDays {
            date,
            n,
            calendar: name,
        } => {
            println!("{}", calendar(&ws, name.as_deref())?.add_business_days(date, n));
        }
        CalendarCmd::BusinessDaysBetween {
            start,
            end,
            calendar: name,
        } => {
            println!("{}", calendar(&ws, name.as_deref())?.count(start, end));
        }
        CalendarCmd::FiscalQuarter { date } => println!("{}", fiscal.quarter_of(date)),
        CalendarCmd::Quarter {
            quarter,
            calendar: name,
            format,
        } => {
            let cal = calendar(&ws, name.as_deref())?;
            let (start, end) = (fiscal.quarter_start(quarter), fiscal.quarter_end(quarter));
            let first = fiscal.quarter_first_business_day(quarter, &cal);
            let rows = vec![vec![
                quarter.to_string(),
                start.to_string(),
                end.to_string(),
                first.to_string(),
                cal.count(start, end + chrono::Duration::days(1)).to_string(),
            ]];
            print_rows(
                format,
                &["quarter", "start", "end", "first business day", "business days"],
                &rows,
                &serde_json::json!({"quarter": quarter.to_string(), "start": start, "end": end, "first_business_day": first, "business_days": cal.count(start, end + chrono::Duration::days(1))}),
            )?;
        }
        CalendarCmd::Holidays {
            calendar: name,
            year,
            format,
        } => {
            let cal = calendar(&ws, name.as_deref())?;
            use chrono::Datelike;
            let days: Vec<_> = cal
                .named_holidays()
                .filter(|h| year.is_none_or(|y| h.date.year() == y))
                .collect();
            let rows: Vec<Vec<String>> = days
                .iter()
                .map(|h| vec![h.date.to_string(), h.date.format("%a").to_string(), h.name.clone()])
                .collect();
            let json: Vec<_> = days
                .iter()
                .map(|h| serde_json::json!({"date": h.date, "name": Some(&h.name).filter(|n| !n.is_empty())}))
                .collect();
            print_rows(format, &["date", "day", "name"], &rows, &serde_json::json!(json))?;
        }
        CalendarCmd::List => {
            let names = match &ws {
                Some(w) => w.calendar_names(),
                None => abm_workspace::BUILTIN.iter().map(|s| s.to_string()).collect(),
            };
            let default = ws
                .as_ref()
                .map(|w| w.config.default_calendar.clone())
                .unwrap_or_else(|| "us".into());
            for n in names {
                println!("{n}{}", if n == default { " (default)" } else { "" });
            }
        }
    }
    Ok(())
}
