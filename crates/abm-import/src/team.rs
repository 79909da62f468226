//! The team from CSV: the roster (`Username`, `Name`, `Role`: manager, member, requester, viewer)
//! and time away (PTO and one-off meetings).
//! Every bad row is reported as `FILE:LINE: column NAME: reason`; nothing is returned while any remain.

use crate::errors::{ImportError, RowError};
use crate::table::CsvTable;
use abm_core::capacity::{AwayKind, TimeAway};
use abm_core::request::{parse_username, TeamMember};
use std::path::Path;

pub fn read_team(path: &Path) -> Result<Vec<TeamMember>, ImportError> {
    let mut t = CsvTable::open(path)?;
    let (u, n, r) = (t.required("Username")?, t.required("Name")?, t.required("Role")?);
    let mut out: Vec<TeamMember> = Vec::new();
    let mut errors = Vec::new();
    let file = t.file.clone();
    for row in t.rows() {
        let (line, rec) = row?;
        let cell = |i: usize| rec.get(i).unwrap_or("").trim();
        let mut bad = |column: &str, reason: String| errors.push(RowError::at(&file, line, column, reason));
        let username = parse_username(cell(u)).map_err(|e| bad("Username", e)).ok();
        let role = cell(r).parse().map_err(|e| bad("Role", e)).ok();
        if let (Some(username), Some(role)) = (username, role) {
            if out.iter().any(|m| m.username == username) {
                bad("Username", format!("{username} appears twice"));
                continue;
            }
            let name = if cell(n).is_empty() {
                username.clone()
            } else {
                cell(n).to_string()
            };
            out.push(TeamMember { username, name, role });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::BadRows(errors))
    }
}

/// PTO and one-off meetings from CSV: `Username`, `Date`, `Hours` (default a full day of
/// `full_day` hours) and `Kind` (`pto`, the default, or `meeting`). A missing file is no time away.
pub fn read_time_away(path: &Path, full_day: f64) -> Result<Vec<TimeAway>, ImportError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut t = CsvTable::open(path)?;
    let (u, d) = (t.required("Username")?, t.required("Date")?);
    let h = t.find(&["Hours".to_string()]);
    let k = t.find(&["Kind".to_string()]);
    let file = t.file.clone();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for row in t.rows() {
        let (line, rec) = row?;
        let cell = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim();
        let mut bad = |column: &str, reason: String| errors.push(RowError::at(&file, line, column, reason));
        let username = parse_username(cell(Some(u))).map_err(|e| bad("Username", e)).ok();
        let day = chrono::NaiveDate::parse_from_str(cell(Some(d)), "%Y-%m-%d")
            .map_err(|_| {
                bad(
                    "Date",
                    format!("expected a date like 2026-12-24, found {:?}", cell(Some(d))),
                )
            })
            .ok();
        let hours = match cell(h) {
            "" => Some(full_day),
            s => s.parse::<f64>().ok().filter(|x| (0.0..=24.0).contains(x)).or_else(|| {
                bad("Hours", format!("expected hours from 0 to 24, found {s:?}"));
                None
            }),
        };
        let kind = match cell(k).to_ascii_lowercase().as_str() {
            "" | "pto" => Some(AwayKind::Pto),
            "meeting" => Some(AwayKind::Meeting),
            other => {
                bad("Kind", format!("expected pto or meeting, found {other:?}"));
                None
            }
        };
        if let (Some(username), Some(day), Some(hours), Some(kind)) = (username, day, hours, kind) {
            out.push(TimeAway {
                username,
                day,
                hours,
                kind,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::BadRows(errors))
    }
}
