//! Reading the TOML files users edit: parse errors and wrong values both point at a line.

use crate::WorkspaceError;
use serde::de::DeserializeOwned;

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse `text` (the contents of `file`), reporting a syntax or shape error with its line.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, WorkspaceError> {
    toml::from_str(text).map_err(|e| WorkspaceError::Config {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        reason: e.message().to_string(),
    })
}
