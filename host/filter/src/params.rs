//! Bound SQL parameters: every literal reaches SQLite through here, never spliced into SQL.

use std::collections::HashSet;
use std::fmt;

/// A value bound to a named placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl SqlValue {
    /// The value as text, like Go's `cast.ToString` (used when wrapping `LIKE` patterns).
    pub fn to_text(&self) -> String {
        match self {
            SqlValue::Null => String::new(),
            SqlValue::Integer(i) => i.to_string(),
            SqlValue::Real(f) => crate::ast::format_number(*f),
            SqlValue::Text(s) => s.clone(),
        }
    }

    /// `NULL` or the empty string (PocketBase's `hasEmptyParamValue`).
    pub fn is_empty_value(&self) -> bool {
        match self {
            SqlValue::Null => true,
            SqlValue::Text(s) => s.is_empty(),
            _ => false,
        }
    }
}

impl fmt::Display for SqlValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlValue::Null => f.write_str("NULL"),
            SqlValue::Integer(i) => write!(f, "{i}"),
            SqlValue::Real(r) => write!(f, "{r:?}"),
            SqlValue::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
        }
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Integer(v)
    }
}
impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        SqlValue::Real(v)
    }
}
impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Integer(v as i64)
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// A bag of named parameters handing out unique placeholders (`:f0`, `:f1`, …).
///
/// Names include the leading `:` exactly as they appear in the SQL (the form `rusqlite`'s named
/// parameters expect). Several builders can share one statement by sharing one bag, or by
/// seeding different prefixes/counters with [`Params::with_prefix`].
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    prefix: String,
    next: usize,
    alias_next: usize,
    values: Vec<(String, SqlValue)>,
}

impl Default for Params {
    fn default() -> Self {
        Self::new()
    }
}

impl Params {
    /// Placeholders `:f0`, `:f1`, …
    pub fn new() -> Self {
        Self::with_prefix("f", 0)
    }

    /// Placeholders `:{prefix}{start}`, `:{prefix}{start+1}`, … (`prefix` should be `\w+`).
    pub fn with_prefix(prefix: &str, start: usize) -> Self {
        Self {
            prefix: prefix.to_string(),
            next: start,
            alias_next: 0,
            values: Vec::new(),
        }
    }

    /// A fresh placeholder name that is not bound (yet); see [`crate::MultiMatch::params`].
    pub fn reserve(&mut self) -> String {
        let name = format!(":{}{}", self.prefix, self.next);
        self.next += 1;
        name
    }

    /// Binds a value under a fresh name and returns the placeholder to put in the SQL.
    pub fn bind(&mut self, value: impl Into<SqlValue>) -> String {
        let name = self.reserve();
        self.values.push((name.clone(), value.into()));
        name
    }

    /// Binds or overwrites a value under an explicit name (with its leading `:`).
    pub fn set(&mut self, name: &str, value: SqlValue) {
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.values.push((name.to_string(), value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&SqlValue> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A unique SQL alias such as `__sm0` for sub-queries the builder invents.
    pub fn unique_alias(&mut self, prefix: &str) -> String {
        let a = format!("{prefix}{}{}", self.prefix, self.alias_next);
        self.alias_next += 1;
        a
    }

    /// The counter the next placeholder will use.
    pub fn next_index(&self) -> usize {
        self.next
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &SqlValue)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v))
    }

    pub fn as_slice(&self) -> &[(String, SqlValue)] {
        &self.values
    }

    pub fn into_vec(self) -> Vec<(String, SqlValue)> {
        self.values
    }

    /// The values whose placeholder occurs in `sql` (the complete statement), in bind order —
    /// what dbx binds. [`crate::build_where`] already removes the values it folded away (e.g.
    /// the `''` of `a = ''`), so binding every value works too; this is a safety net for
    /// values a resolver bound but did not use.
    pub fn used_in(&self, sql: &str) -> Vec<(&str, &SqlValue)> {
        let found = placeholders(sql);
        self.iter().filter(|(n, _)| found.contains(n)).collect()
    }

    /// Removes a value by name (no-op when absent).
    pub fn remove(&mut self, name: &str) {
        self.values.retain(|(n, _)| n != name);
    }

    /// Drops values bound after `len` (names are not reused).
    pub fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
    }

    /// Renders `sql` with every placeholder replaced by its literal value (debugging only:
    /// never execute the result).
    pub fn debug_inline(&self, sql: &str) -> String {
        let mut names: Vec<&(String, SqlValue)> = self.values.iter().collect();
        // longest first so `:f1` does not clobber `:f10`
        names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        let mut out = sql.to_string();
        for (n, v) in names {
            out = out.replace(n.as_str(), &v.to_string());
        }
        out
    }
}

/// Every `:name` token in `sql`.
pub(crate) fn placeholders(sql: &str) -> HashSet<&str> {
    let mut found = HashSet::new();
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if i > start + 1 {
                found.insert(&sql[start..i]);
            }
        } else {
            i += 1;
        }
    }
    found
}
