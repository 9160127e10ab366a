//! Bound statement parameters and row helpers.

use rusqlite::types::Value as SqliteValue;
use rusqlite::{Row, ToSql};

/// Named parameters for a statement (`:name` -> value). Every user-supplied value reaches
/// SQLite through here; nothing user-controlled is spliced into SQL text.
#[derive(Debug, Default, Clone)]
pub struct SqlParams(pub Vec<(String, SqliteValue)>);

impl SqlParams {
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a value under a fresh unique name and returns the placeholder (`:p3`).
    pub fn bind(&mut self, v: impl Into<SqliteValue>) -> String {
        let name = format!(":p{}", self.0.len());
        self.0.push((name.clone(), v.into()));
        name
    }
    pub fn push(&mut self, name: impl Into<String>, v: SqliteValue) {
        self.0.push((name.into(), v));
    }
    pub fn extend(&mut self, other: SqlParams) {
        self.0.extend(other.0);
    }
    /// Only the values whose placeholder occurs in `sql` (a statement may use a subset).
    pub fn refs_used_in(&self, sql: &str) -> Vec<(&str, &dyn ToSql)> {
        self.0
            .iter()
            .filter(|(k, _)| {
                sql.match_indices(k.as_str()).any(|(i, _)| {
                    !sql[i + k.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                })
            })
            .map(|(k, v)| (k.as_str(), v as &dyn ToSql))
            .collect()
    }
    pub fn as_refs(&self) -> Vec<(&str, &dyn ToSql)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v as &dyn ToSql)).collect()
    }
}

/// Reads every column of a row as an owned SQLite value.
pub fn row_to_values(row: &Row<'_>, n: usize) -> rusqlite::Result<Vec<SqliteValue>> {
    (0..n).map(|i| row.get::<_, SqliteValue>(i)).collect()
}
