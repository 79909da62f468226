//! The team roster from CSV: `Username`, `Name`, `Role` (manager, member, requester, viewer).
//! Every bad row is reported as `FILE:LINE: column NAME: reason`; nothing is returned while any remain.

use crate::errors::{ImportError, RowError};
use crate::table::CsvTable;
use abm_core::request::{parse_username, TeamMember};
use std::path::Path;

pub fn read_team(path: &Path) -> Result<Vec<TeamMember>, ImportError> {
    let mut t = CsvTable::open(path)?;
    let col = |t: &CsvTable, name: &str| {
        t.find(&[name.to_string()]).ok_or_else(|| ImportError::File {
            file: t.file.clone(),
            line: 1,
            reason: format!("no {name} column (found: {})", t.headers.join(", ")),
        })
    };
    let (u, n, r) = (col(&t, "Username")?, col(&t, "Name")?, col(&t, "Role")?);
    let mut out: Vec<TeamMember> = Vec::new();
    let mut errors = Vec::new();
    let file = t.file.clone();
    for rec in t.reader.records() {
        let rec = rec.map_err(|e| ImportError::File {
            file: file.clone(),
            line: e.position().map(|p| p.line()).unwrap_or(0),
            reason: e.to_string(),
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let cell = |i: usize| rec.get(i).unwrap_or("").trim();
        let mut bad = |column: &str, reason: String| {
            errors.push(RowError {
                file: file.clone(),
                line,
                column: column.into(),
                reason,
            })
        };
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
