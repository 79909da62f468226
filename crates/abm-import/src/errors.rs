//! Import errors that point at the file, line and column a user has to fix.

use std::fmt;
use std::path::PathBuf;

/// One problem in one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// 1-based line of the record in the file (the header is line 1).
    pub line: u64,
    /// The column's header as written in the file.
    pub column: String,
    pub reason: String,
}

impl RowError {
    pub fn at(file: &str, line: u64, column: &str, reason: impl Into<String>) -> Self {
        RowError {
            file: file.to_string(),
            line,
            column: column.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: column {}: {}",
            self.file, self.line, self.column, self.reason
        )
    }
}

/// One problem in one item of a JSON file, found by its path (`[12].labels[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub file: String,
    pub path: String,
    pub reason: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.path, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The file as a whole cannot be read (wrong format, missing required columns).
    #[error("{file}:{line}: {reason}")]
    File { file: String, line: u64, reason: String },
    /// Rows with problems; nothing was written.
    #[error("{} bad row(s); nothing was imported", count_rows(.0))]
    BadRows(Vec<RowError>),
    /// Items of a JSON file with problems; nothing was written.
    #[error("{} problem(s) in {}; nothing was imported", .0.len(), .0.first().map(|e| e.file.as_str()).unwrap_or("the file"))]
    BadItems(Vec<JsonError>),
    #[error("{file}: mapping: {reason}")]
    Mapping { file: String, reason: String },
    #[error(transparent)]
    Store(#[from] abm_store::StoreError),
}

fn count_rows(errors: &[RowError]) -> usize {
    let mut lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    lines.dedup();
    lines.len()
}

impl ImportError {
    /// True when the user can fix it (as opposed to the database failing).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, ImportError::Store(_) | ImportError::Io { .. })
    }
}
