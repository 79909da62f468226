//! Opportunities from a CRM export (Opportunity ID, Account ID, Opportunity Name, Created Date,
//! Stage, Amount, Order Type, Close Date) with an optional stage-history export (Opportunity ID,
//! Stage, Entered At). Errors are `FILE:LINE: column NAME: reason`; a bad file gives nothing.

use crate::errors::{ImportError, RowError};
use crate::table::CsvTable;
use abm_core::account::parse_money_cents;
use abm_core::opportunity::Opportunity;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::path::Path;

pub fn read_opportunities(path: &Path, history: Option<&Path>) -> Result<Vec<Opportunity>, ImportError> {
    let mut t = CsvTable::open(path)?;
    let cols = [
        t.required("Opportunity ID")?,
        t.required("Account ID")?,
        t.required("Stage")?,
        t.required("Created Date")?,
    ];
    let name = t.find(&["Opportunity Name".to_string()]);
    let amount = t.find(&["Amount".to_string()]);
    let order = t.find(&["Order Type".to_string()]);
    let close = t.find(&["Close Date".to_string()]);
    let file = t.file.clone();
    let mut errors = Vec::new();
    let mut out: Vec<Opportunity> = Vec::new();
    let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d");
    for row in t.rows() {
        let (line, rec) = row?;
        let cell = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim();
        let mut bad = |column: &str, reason: String| errors.push(RowError::at(&file, line, column, reason));
        let id = cell(Some(cols[0])).to_string();
        let crm_id = cell(Some(cols[1])).to_string();
        if id.is_empty() {
            bad("Opportunity ID", "is required".into());
        }
        if crm_id.is_empty() {
            bad("Account ID", "is required".into());
        }
        let created = day(cell(Some(cols[3])))
            .map_err(|_| {
                bad(
                    "Created Date",
                    format!("expected a date like 2026-03-03, found {:?}", cell(Some(cols[3]))),
                )
            })
            .ok();
        let amount_cents = match parse_money_cents(cell(amount)) {
            Ok(v) => v.unwrap_or(0),
            Err(e) => {
                bad("Amount", e);
                0
            }
        };
        let close_date = match cell(close) {
            "" => None,
            v => day(v)
                .map_err(|_| bad("Close Date", format!("expected a date, found {v:?}")))
                .ok(),
        };
        if let Some(created) = created {
            out.push(Opportunity {
                id,
                crm_id,
                name: cell(name).to_string(),
                created,
                stage: cell(Some(cols[2])).to_string(),
                amount_cents,
                order_type: cell(order).to_string(),
                close_date,
                history: Vec::new(),
            });
        }
    }
    if let Some(h) = history {
        let mut t = CsvTable::open(h)?;
        let (o, s, a) = (
            t.required("Opportunity ID")?,
            t.required("Stage")?,
            t.required("Entered At")?,
        );
        let hfile = t.file.clone();
        let index: HashMap<String, usize> = out.iter().enumerate().map(|(i, o)| (o.id.clone(), i)).collect();
        for row in t.rows() {
            let (line, rec) = row?;
            let cell = |i: usize| rec.get(i).unwrap_or("").trim();
            let at = DateTime::parse_from_rfc3339(cell(a)).map(|d| d.with_timezone(&Utc));
            match (index.get(cell(o)), at) {
                (Some(i), Ok(at)) => out[*i].history.push((cell(s).to_string(), at)),
                (None, _) => errors.push(RowError {
                    file: hfile.clone(),
                    line,
                    column: "Opportunity ID".into(),
                    reason: format!("{:?} is not in {}", cell(o), file),
                }),
                (_, Err(_)) => errors.push(RowError {
                    file: hfile.clone(),
                    line,
                    column: "Entered At".into(),
                    reason: format!("expected a timestamp like 2026-03-23T12:00:00Z, found {:?}", cell(a)),
                }),
            }
        }
        for o in &mut out {
            o.history.sort_by_key(|h| h.1);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::BadRows(errors))
    }
}
