//! Parsing and normalising `CREATE INDEX` statements as stored in `_collections.indexes`.

use regex::Regex;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq)]
pub struct IndexColumn {
    /// Column name, or the raw expression when it is not a plain identifier.
    pub name: String,
    pub collate: String,
    pub sort: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedIndex {
    pub unique: bool,
    pub optional: bool,
    pub schema: String,
    pub name: String,
    pub table: String,
    pub columns: Vec<IndexColumn>,
    pub where_clause: String,
}

fn index_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?is)^\s*create\s+(unique\s+)?\s*index\s*(if\s+not\s+exists\s+)?(\S*)\s+on\s+(\S*)\s*\((.*?)\)(?:\s*where\s+(.*))?\s*;?\s*$")
            .expect("static regex")
    })
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let pairs = [('`', '`'), ('"', '"'), ('\'', '\''), ('[', ']')];
    for (a, b) in pairs {
        if s.len() >= 2 && s.starts_with(a) && s.ends_with(b) {
            return s[1..s.len() - 1].to_string();
        }
    }
    s.to_string()
}

fn split_top_level_commas(s: &str) -> Vec<String> {
    let mut parts = vec![];
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        parts.push(cur);
    }
    parts
}

impl ParsedIndex {
    pub fn parse(sql: &str) -> Option<ParsedIndex> {
        let caps = index_regex().captures(sql)?;
        let full_name = caps.get(3).map(|m| m.as_str()).unwrap_or_default();
        let (schema, name) = match full_name.split_once('.') {
            Some((s, n)) => (unquote(s), unquote(n)),
            None => (String::new(), unquote(full_name)),
        };
        let table = unquote(caps.get(4).map(|m| m.as_str()).unwrap_or_default());
        let cols_raw = caps.get(5).map(|m| m.as_str()).unwrap_or_default();
        let mut columns = vec![];
        for part in split_top_level_commas(cols_raw) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let mut col = IndexColumn { name: part.to_string(), collate: String::new(), sort: String::new() };
            let upper = part.to_ascii_uppercase();
            let mut body = part.to_string();
            if upper.ends_with(" ASC") || upper.ends_with(" DESC") {
                let idx = body.rfind(' ').unwrap_or(0);
                col.sort = body[idx + 1..].to_ascii_uppercase();
                body.truncate(idx);
            }
            if let Some(pos) = body.to_ascii_uppercase().find(" COLLATE ") {
                col.collate = body[pos + 9..].trim().to_string();
                body.truncate(pos);
            }
            col.name = unquote(&body);
            columns.push(col);
        }
        let where_clause = caps.get(6).map(|m| m.as_str().trim().to_string()).unwrap_or_default();
        let idx = ParsedIndex {
            unique: caps.get(1).is_some(),
            optional: caps.get(2).is_some(),
            schema,
            name,
            table,
            columns,
            where_clause,
        };
        idx.is_valid().then_some(idx)
    }

    pub fn is_valid(&self) -> bool {
        !self.name.is_empty() && !self.table.is_empty() && !self.columns.is_empty()
    }

    /// Renders the normalised backtick form PocketBase stores.
    pub fn build(&self) -> String {
        let mut out = String::from("CREATE ");
        if self.unique {
            out.push_str("UNIQUE ");
        }
        out.push_str("INDEX ");
        if self.optional {
            out.push_str("IF NOT EXISTS ");
        }
        if !self.schema.is_empty() {
            out.push_str(&format!("`{}`.", self.schema));
        }
        out.push_str(&format!("`{}` ON `{}` (", self.name, self.table));
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let mut s = if is_identifier(&c.name) { format!("`{}`", c.name) } else { c.name.clone() };
                if !c.collate.is_empty() {
                    s.push_str(&format!(" COLLATE {}", c.collate));
                }
                if !c.sort.is_empty() {
                    s.push_str(&format!(" {}", c.sort));
                }
                s
            })
            .collect();
        if cols.len() == 1 {
            out.push_str(&cols[0]);
        } else {
            out.push_str("\n  ");
            out.push_str(&cols.join(",\n  "));
            out.push('\n');
        }
        out.push(')');
        if !self.where_clause.is_empty() {
            out.push_str(" WHERE ");
            out.push_str(&self.where_clause);
        }
        out
    }
}

pub fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rebuilds() {
        let p = ParsedIndex::parse("create unique index idx_a on demo (title collate nocase, `b` desc) where x != ''").unwrap();
        assert!(p.unique);
        assert_eq!(p.name, "idx_a");
        assert_eq!(p.table, "demo");
        assert_eq!(p.columns[0].collate, "nocase");
        assert_eq!(p.columns[1].sort, "DESC");
        assert_eq!(p.build(), "CREATE UNIQUE INDEX `idx_a` ON `demo` (\n  `title` COLLATE nocase,\n  `b` DESC\n) WHERE x != ''");
        let q = ParsedIndex::parse("CREATE UNIQUE INDEX `idx_email_x` ON `users` (`email`) WHERE `email` != ''").unwrap();
        assert_eq!(q.build(), "CREATE UNIQUE INDEX `idx_email_x` ON `users` (`email`) WHERE `email` != ''");
        assert!(ParsedIndex::parse("create unique idx_test1 on demo1 (text)").is_none());
    }
}
