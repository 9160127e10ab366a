//! Parsing and normalising `CREATE INDEX` statements as stored in `_collections.indexes`
//! (a port of PocketBase's `dbutils.ParseIndex` / `Index.Build`; the regular expressions are
//! the ones of the 0.40 release, so that the same strings are accepted and rebuilt byte for byte).

use regex::Regex;
use std::sync::OnceLock;

use super::tokenizer::Tokenizer;

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
        Regex::new(r"(?i)\s*create\s+(unique\s+)?\s*index\s*(if\s+not\s+exists\s+)?(\S*)\s+on\s+(\S*)\s*\(([\s\S]*?)\)(?:\s+where\s+([\s\S]*?))?\s*$")
            .expect("static regex")
    })
}

fn index_column_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)^([\s\S]+?)(?:\s+collate\s+([\w]+))?(?:\s+(asc|desc))?\s*$").expect("static regex")
    })
}

/// Characters trimmed around identifiers (quotes of every SQL flavour and whitespace).
const IDENT_TRIM: &[char] = &['`', '"', '\'', '[', ']', '\r', '\n', '\t', '\u{0C}', '\u{0B}', ' '];

fn trim_ident(s: &str) -> String {
    s.trim_matches(IDENT_TRIM).to_string()
}

impl ParsedIndex {
    /// Parses a `CREATE INDEX` statement; `None` when it lacks a name, table or columns.
    pub fn parse(sql: &str) -> Option<ParsedIndex> {
        let idx = Self::parse_lenient(sql);
        idx.is_valid().then_some(idx)
    }

    /// Parses whatever parts can be found: missing parts stay empty, so the result may be
    /// invalid (callers decide whether that is an error).
    pub fn parse_lenient(sql: &str) -> ParsedIndex {
        let mut idx = ParsedIndex {
            unique: false,
            optional: false,
            schema: String::new(),
            name: String::new(),
            table: String::new(),
            columns: vec![],
            where_clause: String::new(),
        };
        let Some(caps) = index_regex().captures(sql) else { return idx };
        let group = |i: usize| caps.get(i).map(|m| m.as_str()).unwrap_or_default();
        idx.unique = !group(1).trim().is_empty();
        idx.optional = !group(2).trim().is_empty();
        let name_parts = Tokenizer::new(group(3), &['.']).scan_all().unwrap_or_default();
        match name_parts.as_slice() {
            [schema, name] => {
                idx.schema = trim_ident(schema);
                idx.name = trim_ident(name);
            }
            [name, ..] => idx.name = trim_ident(name),
            [] => {}
        }
        idx.table = trim_ident(group(4));
        for raw in Tokenizer::new(group(5), &[',']).scan_all().unwrap_or_default() {
            let Some(c) = index_column_regex().captures(&raw) else { continue };
            let name = trim_ident(c.get(1).map(|m| m.as_str()).unwrap_or_default());
            if name.is_empty() {
                continue;
            }
            idx.columns.push(IndexColumn {
                name,
                collate: c.get(2).map(|m| m.as_str().trim().to_string()).unwrap_or_default(),
                sort: c.get(3).map(|m| m.as_str().to_ascii_uppercase()).unwrap_or_default(),
            });
        }
        idx.where_clause = group(6).trim().to_string();
        idx
    }

    pub fn is_valid(&self) -> bool {
        !self.name.is_empty() && !self.table.is_empty() && !self.columns.is_empty()
    }

    /// Renders the normalised backtick form PocketBase stores ("" for an invalid index).
    pub fn build(&self) -> String {
        if !self.is_valid() {
            return String::new();
        }
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
        let multi = self.columns.len() > 1;
        if multi {
            out.push_str("\n  ");
        }
        let mut cols = vec![];
        for c in &self.columns {
            let name = c.name.trim();
            if name.is_empty() {
                continue;
            }
            // anything with parentheses or spaces is most likely an expression
            let mut s = if c.name.contains('(') || c.name.contains(' ') { name.to_string() } else { format!("`{name}`") };
            if !c.collate.is_empty() {
                s.push_str(&format!(" COLLATE {}", c.collate));
            }
            if !c.sort.is_empty() {
                s.push_str(&format!(" {}", c.sort.to_ascii_uppercase()));
            }
            cols.push(s);
        }
        out.push_str(&cols.join(",\n  "));
        if multi && !cols.is_empty() {
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

/// The first unique index on exactly `column` (case-insensitive), like PocketBase's
/// `FindSingleColumnUniqueIndex`.
pub fn find_single_column_unique_index(indexes: &[String], column: &str) -> Option<ParsedIndex> {
    indexes
        .iter()
        .map(|raw| ParsedIndex::parse_lenient(raw))
        .find(|idx| idx.unique && idx.columns.len() == 1 && idx.columns[0].name.eq_ignore_ascii_case(column))
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

    #[test]
    fn expressions_schema_and_quotes() {
        let p = ParsedIndex::parse("CREATE INDEX IF NOT EXISTS \"main\".[idx] ON 'demo' (lower(title), a || b)").unwrap();
        assert!(p.optional);
        assert_eq!((p.schema.as_str(), p.name.as_str(), p.table.as_str()), ("main", "idx", "demo"));
        assert_eq!(p.build(), "CREATE INDEX IF NOT EXISTS `main`.`idx` ON `demo` (\n  lower(title),\n  a || b\n)");
    }

    #[test]
    fn trailing_sql_after_the_columns_is_invalid() {
        assert!(ParsedIndex::parse("CREATE INDEX x ON items (title); DROP TABLE items; --").is_none());
        assert!(ParsedIndex::parse("CREATE INDEX x ON items (title) ").is_some());
    }

    #[test]
    fn finds_single_column_unique_indexes() {
        let idx = vec!["CREATE INDEX a ON t (email)".to_string(), "CREATE UNIQUE INDEX b ON t (`Email`)".to_string()];
        assert_eq!(find_single_column_unique_index(&idx, "email").map(|i| i.name), Some("b".into()));
        assert!(find_single_column_unique_index(&idx, "name").is_none());
    }
}
