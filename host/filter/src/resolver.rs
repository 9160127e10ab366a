//! The plug-in point for schema-specific identifier resolution (PocketBase's `FieldResolver`
//! and `ResolverResult`).

use std::fmt;

use crate::error::FilterError;
use crate::params::{Params, SqlValue};

/// How `=`/`!=` treat NULL vs empty string for an operand (PocketBase's
/// `NullFallbackPreference`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum NullFallback {
    /// Normalise NULL and `''` (COALESCE or `IS NULL` forms) as needed.
    #[default]
    Auto,
    /// Never coalesce: compare with plain `IS` / `IS NOT` (JSON paths, `geoDistance`).
    Disabled,
    /// Never treat the operand as "known non-empty" (`strftime`), so a fallback is applied.
    Enforced,
}

/// Wraps the SQL of a built comparison (PocketBase's `AfterBuild`).
pub type AfterBuild = Box<dyn FnOnce(String) -> String>;

/// One `LEFT JOIN` of a multi-match sub-query. All fields are raw SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiMatchJoin {
    /// Table or table-valued expression, e.g. `` `users` `` or `json_each(...)`.
    pub table: String,
    pub alias: String,
    /// Optional `ON` condition.
    pub on: Option<String>,
}

/// A sub-query listing every value of a multi-valued path for the current outer row
/// (PocketBase's `MultiMatchSubquery`). Rendered as
///
/// ```text
/// SELECT {value} as `multiMatchValue` FROM {from_table} {from_alias} [LEFT JOIN {table} {alias} [ON {on}]]…
///   WHERE {from_alias}.`id` = {target_alias}.`id`
/// ```
///
/// Every field is raw SQL inserted verbatim: quote identifiers yourself (the builder only
/// quotes the aliases it invents itself).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MultiMatch {
    /// Alias of the outer (filtered) table, e.g. `` `posts` ``.
    pub target_alias: String,
    /// The table the sub-query starts from (normally the same collection table).
    pub from_table: String,
    /// Its alias inside the sub-query, e.g. `` `__mm_posts` ``.
    pub from_alias: String,
    /// The value expression in terms of the sub-query aliases.
    pub value: String,
    pub joins: Vec<MultiMatchJoin>,
    /// Parameters used only inside this sub-query. Get their names with
    /// [`Params::reserve`]; they are bound only if the sub-query is actually emitted (it is not
    /// for the `?`-operators).
    pub params: Vec<(String, SqlValue)>,
}

impl MultiMatch {
    /// Renders the sub-query, binding its private parameters into `params`.
    pub fn render(&self, params: &mut Params) -> Result<String, FilterError> {
        if self.target_alias.is_empty() || self.from_table.is_empty() || self.from_alias.is_empty()
        {
            return Err(FilterError::invalid(
                "invalid multi-match subquery (missing target alias, table or alias)",
            ));
        }
        for (name, value) in &self.params {
            params.set(name, value.clone());
        }
        let mut joins = String::new();
        for j in &self.joins {
            joins.push_str(" LEFT JOIN ");
            joins.push_str(&j.table);
            joins.push(' ');
            joins.push_str(&j.alias);
            if let Some(on) = &j.on {
                joins.push_str(" ON ");
                joins.push_str(on);
            }
        }
        Ok(format!(
            "SELECT {} as `multiMatchValue` FROM {} {}{} WHERE {}.`id` = {}.`id`",
            self.value, self.from_table, self.from_alias, joins, self.from_alias, self.target_alias
        ))
    }
}

/// A resolved operand (PocketBase's `ResolverResult`).
pub struct Resolved {
    /// The SQL expression standing for the identifier (column, placeholder, `NULL`, …).
    pub sql: String,
    /// Names of the parameters (already bound in the bag) that make up this operand's *own*
    /// value — the equivalent of `ResolverResult.Params`. They drive the NULL/empty handling of
    /// `=`/`!=`, the `%` wrapping of `~`/`!~` and sort validation, so list exactly the params
    /// of `sql` (join/after-build params do not belong here).
    pub params: Vec<String>,
    pub null_fallback: NullFallback,
    /// Set when the path is multi-valued: plain operators then require *all* values to match.
    pub multi_match: Option<MultiMatch>,
    /// Applied to the SQL of the whole comparison after it has been built.
    pub after_build: Option<AfterBuild>,
}

impl Resolved {
    /// A plain SQL expression without parameters.
    pub fn sql(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
            null_fallback: NullFallback::Auto,
            multi_match: None,
            after_build: None,
        }
    }

    /// Binds `value` and resolves to its placeholder.
    pub fn value(params: &mut Params, value: impl Into<SqlValue>) -> Self {
        let name = params.bind(value);
        Self {
            sql: name.clone(),
            params: vec![name],
            ..Self::sql("")
        }
    }

    pub fn with_null_fallback(mut self, nf: NullFallback) -> Self {
        self.null_fallback = nf;
        self
    }

    pub fn with_multi_match(mut self, mm: MultiMatch) -> Self {
        self.multi_match = Some(mm);
        self
    }

    pub fn with_after_build(mut self, f: impl FnOnce(String) -> String + 'static) -> Self {
        self.after_build = Some(Box::new(f));
        self
    }
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolved")
            .field("sql", &self.sql)
            .field("params", &self.params)
            .field("null_fallback", &self.null_fallback)
            .field("multi_match", &self.multi_match)
            .field("after_build", &self.after_build.as_ref().map(|_| "<fn>"))
            .finish()
    }
}

/// Schema-specific identifier resolution.
///
/// The builder handles the datetime macros (`@now`, …), literals and functions itself and calls
/// `resolve` for every other identifier (including `null`/`true`/`false`, which fall back to
/// `NULL`/`1`/`0` only when `resolve` fails or returns empty SQL).
pub trait FieldResolver {
    fn resolve(&mut self, identifier: &str, params: &mut Params) -> Result<Resolved, FilterError>;

    /// SQL of the `@rowid` sort key; override to qualify it with the main table
    /// (PocketBase prefixes the first `FROM` table: `` `posts`._rowid_ ``).
    fn rowid(&mut self) -> String {
        "_rowid_".to_string()
    }
}

impl<R: FieldResolver + ?Sized> FieldResolver for &mut R {
    fn resolve(&mut self, identifier: &str, params: &mut Params) -> Result<Resolved, FilterError> {
        (**self).resolve(identifier, params)
    }
    fn rowid(&mut self) -> String {
        (**self).rowid()
    }
}

/// Quotes an identifier with backticks (doubling embedded backticks), like dbx does for SQLite.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
