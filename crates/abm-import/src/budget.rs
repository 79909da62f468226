//! Budget lines from CSV (an Allocadia-style export): Category, Sub-category, Line item, Vendor,
//! Region, Campaign, Start, End, Target, Plan, Forecast, Actual, Planned MQLs, Actual MQLs,
//! Comment. Category, Line item, Start, End and Plan are required. Every bad row is reported as
//! `FILE:LINE: column NAME: reason`; a file with problems gives nothing.

use crate::errors::{ImportError, RowError};
use crate::table::CsvTable;
use abm_core::account::parse_money_cents;
use abm_core::budget::BudgetLine;
use chrono::NaiveDate;
use std::path::Path;

pub fn read_budget(path: &Path) -> Result<Vec<BudgetLine>, ImportError> {
    let mut t = CsvTable::open(path)?;
    let find = |t: &CsvTable, n: &str| t.find(&[n.to_string()]);
    let (cat, item, start, end, plan) = (
        t.required("Category")?,
        t.required("Line item")?,
        t.required("Start")?,
        t.required("End")?,
        t.required("Plan")?,
    );
    let opt_cols: Vec<(&str, Option<usize>)> = [
        "Sub-category",
        "Vendor",
        "Region",
        "Campaign",
        "Target",
        "Forecast",
        "Actual",
        "Planned MQLs",
        "Actual MQLs",
        "Comment",
    ]
    .iter()
    .map(|n| (*n, find(&t, n)))
    .collect();
    let file = t.file.clone();
    let mut out: Vec<BudgetLine> = Vec::new();
    let mut errors = Vec::new();
    for row in t.rows() {
        let (line, rec) = row?;
        let cell = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_string();
        let opt = |n: &str| {
            let v = cell(opt_cols.iter().find(|(c, _)| *c == n).and_then(|(_, i)| *i));
            (!v.is_empty()).then_some(v)
        };
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut bad = |column: &str, reason: String| errors.push(RowError::at(&file, line, column, reason));
        let money = |v: Option<String>, col: &str, bad: &mut dyn FnMut(&str, String)| -> Option<f64> {
            let v = v?;
            match parse_money_cents(&v) {
                Ok(Some(c)) => Some(c as f64 / 100.0),
                Ok(None) => None,
                Err(e) => {
                    bad(col, e.to_string());
                    None
                }
            }
        };
        let date = |v: String, col: &str, bad: &mut dyn FnMut(&str, String)| {
            NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .map_err(|_| bad(col, format!("expected a date like 2026-11-01, found {v:?}")))
                .ok()
        };
        let category = cell(Some(cat));
        let line_item = cell(Some(item));
        if category.is_empty() {
            bad("Category", "is required".into());
        }
        if line_item.is_empty() {
            bad("Line item", "is required".into());
        }
        let s = date(cell(Some(start)), "Start", &mut bad);
        let e = date(cell(Some(end)), "End", &mut bad);
        let p = money(Some(cell(Some(plan))).filter(|v| !v.is_empty()), "Plan", &mut bad);
        if p.is_none() && !cell(Some(plan)).is_empty() {
            // reported above
        } else if p.is_none() {
            bad("Plan", "is required".into());
        }
        let l = BudgetLine {
            category,
            sub_category: opt("Sub-category").unwrap_or_default(),
            line_item,
            vendor: opt("Vendor"),
            region: opt("Region"),
            campaign: opt("Campaign"),
            start: s.unwrap_or_default(),
            end: e.unwrap_or_default(),
            target: money(opt("Target"), "Target", &mut bad),
            plan: p.unwrap_or_default(),
            forecast: money(opt("Forecast"), "Forecast", &mut bad),
            actual: money(opt("Actual"), "Actual", &mut bad),
            planned_mqls: money(opt("Planned MQLs"), "Planned MQLs", &mut bad),
            actual_mqls: money(opt("Actual MQLs"), "Actual MQLs", &mut bad),
            comment: opt("Comment"),
        };
        if let (Some(s), Some(e)) = (s, e) {
            if e < s {
                bad("End", format!("{e} is before the start {s}"));
            }
        }
        if out.iter().any(|o| o.key() == l.key()) {
            bad("Line item", format!("{} appears twice", l.key()));
        }
        out.push(l);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::BadRows(errors))
    }
}
