//! SQL builder: [`Expr`] -> SQLite boolean expression, mirroring PocketBase's
//! `tools/search/filter.go` operator translation.

use chrono::{DateTime, Utc};

use crate::ast::{Comparison, Expr, Joined, Op, OpKind, Operand};
use crate::error::{ErrorKind, FilterError};
use crate::functions;
use crate::macros;
use crate::params::{placeholders, Params, SqlValue};
use crate::parser::MAX_GROUP_DEPTH;
use crate::resolver::{AfterBuild, FieldResolver, MultiMatch, NullFallback, Resolved};

/// PocketBase's `search.DefaultFilterExprLimit`.
pub const MAX_EXPRESSIONS: usize = 200;

/// Build-time options.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The instant the datetime macros are evaluated against.
    pub now: DateTime<Utc>,
    /// Maximum number of comparisons (counted in source order while building, like PocketBase).
    pub max_expressions: usize,
    /// Recursion guard for group nesting.
    pub max_depth: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self::at(Utc::now())
    }
}

impl BuildOptions {
    /// Default limits with a fixed "now".
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now,
            max_expressions: MAX_EXPRESSIONS,
            max_depth: MAX_GROUP_DEPTH,
        }
    }
}

/// Builds the SQL `WHERE` expression for a parsed filter. Literals are bound into `params`.
///
/// The result is a single SQLite boolean expression; a multi-item group is parenthesised, a
/// single comparison may not be, so wrap it in parentheses when combining it with other SQL.
pub fn build_where(
    expr: &Expr,
    resolver: &mut dyn FieldResolver,
    params: &mut Params,
    opts: &BuildOptions,
) -> Result<String, FilterError> {
    let mut b = Builder {
        resolver,
        params,
        opts,
        budget: opts.max_expressions,
        dropped: Vec::new(),
    };
    let sql = match expr {
        Expr::Group(items) => b.group(items, 1)?,
        Expr::Compare(c) => {
            let sql = b.counted_comparison(c)?;
            concat(vec![sql])
        }
    };
    // values of operands folded into `''` are not referenced any more: unbind them, since
    // SQLite drivers reject unused named values
    if !b.dropped.is_empty() {
        let used = placeholders(&sql);
        for name in &b.dropped {
            if !used.contains(name.as_str()) {
                b.params.remove(name);
            }
        }
    }
    Ok(sql)
}

/// What `AfterBuild` does: the builder's own `NOT (…)` or a resolver's closure.
pub(crate) enum After {
    Not,
    Custom(AfterBuild),
}

impl After {
    fn apply(self, sql: String) -> String {
        match self {
            After::Not => format!("NOT ({sql})"),
            After::Custom(f) => f(sql),
        }
    }
}

/// A resolved operand inside the builder; `params` holds the original (name, value) pairs.
pub(crate) struct Side {
    pub sql: String,
    pub params: Vec<(String, SqlValue)>,
    pub null_fallback: NullFallback,
    pub multi_match: Option<MultiMatch>,
    pub after_build: Option<After>,
}

impl Side {
    pub(crate) fn plain(sql: impl Into<String>) -> Self {
        Side {
            sql: sql.into(),
            params: Vec::new(),
            null_fallback: NullFallback::Auto,
            multi_match: None,
            after_build: None,
        }
    }

    fn bound(params: &mut Params, value: SqlValue) -> Self {
        let name = params.bind(value.clone());
        Side {
            sql: name.clone(),
            params: vec![(name, value)],
            ..Side::plain("")
        }
    }
}

pub(crate) struct Builder<'a> {
    pub resolver: &'a mut dyn FieldResolver,
    pub params: &'a mut Params,
    pub opts: &'a BuildOptions,
    budget: usize,
    /// Params of operands that `=`/`!=` replaced by `''`.
    dropped: Vec<String>,
}

impl Builder<'_> {
    fn group(&mut self, items: &[Joined], depth: usize) -> Result<String, FilterError> {
        if depth > self.opts.max_depth {
            return Err(FilterError::new(
                ErrorKind::TooDeep,
                None,
                format!("max group nesting reached (max: {})", self.opts.max_depth),
            ));
        }
        if items.is_empty() {
            return Err(FilterError::new(
                ErrorKind::Empty,
                None,
                "empty filter expression",
            ));
        }
        let mut parts = Vec::with_capacity(items.len() * 2);
        for item in items {
            let sql = match &item.expr {
                Expr::Compare(c) => self.counted_comparison(c)?,
                Expr::Group(g) => self.group(g, depth + 1)?,
            };
            if !parts.is_empty() {
                parts.push(item.join.sql().to_string());
            }
            parts.push(sql);
        }
        Ok(concat(parts))
    }

    fn counted_comparison(&mut self, c: &Comparison) -> Result<String, FilterError> {
        if self.budget == 0 {
            return Err(FilterError::new(
                ErrorKind::TooManyExpressions,
                Some(c.pos),
                format!(
                    "max filter expressions limit reached (max: {})",
                    self.opts.max_expressions
                ),
            ));
        }
        self.budget -= 1;
        let left = self.operand_checked(&c.left, "left", c.pos)?;
        let right = self.operand_checked(&c.right, "right", c.right_pos)?;
        self.combine(left, c.op, right)
    }

    fn operand_checked(
        &mut self,
        op: &Operand,
        side: &str,
        pos: usize,
    ) -> Result<Side, FilterError> {
        let fail = |msg: String| {
            FilterError::new(
                ErrorKind::Invalid,
                Some(pos),
                format!("invalid {side} operand {:?} - {msg}", op.literal()),
            )
        };
        match self.operand(op) {
            Ok(s) if !s.sql.is_empty() => Ok(s),
            Ok(_) => Err(fail("empty SQL expression".to_string())),
            Err(e) if e.kind == ErrorKind::Invalid => Err(fail(e.message)),
            Err(e) => Err(e.at(pos)),
        }
    }

    /// Resolves one operand: macros, literals, functions, then the field resolver with the
    /// `null`/`true`/`false` fallback.
    pub(crate) fn operand(&mut self, op: &Operand) -> Result<Side, FilterError> {
        match op {
            Operand::Text(s) => Ok(Side::bound(self.params, SqlValue::Text(s.clone()))),
            Operand::Number(n) => Ok(Side::bound(self.params, SqlValue::Real(*n))),
            Operand::Function { name, args } => functions::call(self, name, args),
            Operand::Identifier(name) => {
                if let Some(v) = macros::macro_value(name, &self.opts.now) {
                    return Ok(Side::bound(self.params, v));
                }
                let mark = self.params.len();
                let res = self.resolver.resolve(name, self.params);
                match res {
                    Ok(r) if !r.sql.is_empty() => self.side_from(r),
                    other => {
                        if let Some(kw) = keyword(name) {
                            self.params.truncate(mark);
                            return Ok(Side::plain(kw));
                        }
                        match other {
                            Err(e) => Err(e),
                            Ok(_) => Err(FilterError::invalid(format!(
                                "failed to resolve field {name:?}"
                            ))),
                        }
                    }
                }
            }
        }
    }

    fn side_from(&self, r: Resolved) -> Result<Side, FilterError> {
        let mut params = Vec::with_capacity(r.params.len());
        for name in r.params {
            let v = self.params.get(&name).cloned().ok_or_else(|| {
                FilterError::invalid(format!("resolver returned the unbound parameter {name:?}"))
            })?;
            params.push((name, v));
        }
        Ok(Side {
            sql: r.sql,
            params,
            null_fallback: r.null_fallback,
            multi_match: r.multi_match,
            after_build: r.after_build.map(After::Custom),
        })
    }

    /// PocketBase's `buildResolversExpr`.
    fn combine(&mut self, left: Side, op: Op, right: Side) -> Result<String, FilterError> {
        let mut expr = match op.kind {
            OpKind::Eq | OpKind::Neq => {
                let (sql, l_dropped, r_dropped) = equal_expr(op.kind == OpKind::Eq, &left, &right);
                for (dropped, side) in [(l_dropped, &left), (r_dropped, &right)] {
                    if dropped {
                        self.dropped
                            .extend(side.params.iter().map(|(n, _)| n.clone()));
                    }
                }
                sql
            }
            OpKind::Like | OpKind::NotLike => {
                let not = if op.kind == OpKind::NotLike {
                    "NOT "
                } else {
                    ""
                };
                if right.params.is_empty() {
                    format!(
                        "{} {not}LIKE ('%' || {} || '%') ESCAPE '\\'",
                        left.sql, right.sql
                    )
                } else {
                    for (name, value) in &right.params {
                        self.params
                            .set(name, SqlValue::Text(like_pattern(&value.to_text())));
                    }
                    format!("{} {not}LIKE {} ESCAPE '\\'", left.sql, right.sql)
                }
            }
            OpKind::Lt => format!("{} < {}", left.sql, right.sql),
            OpKind::Lte => format!("{} <= {}", left.sql, right.sql),
            OpKind::Gt => format!("{} > {}", left.sql, right.sql),
            OpKind::Gte => format!("{} >= {}", left.sql, right.sql),
        };

        if !op.any {
            let extra = match (&left.multi_match, &right.multi_match) {
                (Some(lm), Some(rm)) => {
                    Some(self.many_vs_many(lm, left.null_fallback, rm, right.null_fallback, op)?)
                }
                (Some(lm), None) => {
                    Some(self.many_vs_one(lm, left.null_fallback, &right, op, false)?)
                }
                (None, Some(rm)) => {
                    Some(self.many_vs_one(rm, right.null_fallback, &left, op, true)?)
                }
                (None, None) => None,
            };
            if let Some(extra) = extra {
                expr = format!("(({expr}) AND ({extra}))");
            }
        }

        if let Some(ab) = left.after_build {
            expr = ab.apply(expr);
        }
        if let Some(ab) = right.after_build {
            expr = ab.apply(expr);
        }
        Ok(expr)
    }

    /// "Every left value matches every right value".
    fn many_vs_many(
        &mut self,
        lm: &MultiMatch,
        lnf: NullFallback,
        rm: &MultiMatch,
        rnf: NullFallback,
        op: Op,
    ) -> Result<String, FilterError> {
        let la = self.params.unique_alias("__ml");
        let ra = self.params.unique_alias("__mr");
        let l = Side {
            null_fallback: lnf,
            ..Side::plain(format!("`{la}`.`multiMatchValue`"))
        };
        let r = Side {
            null_fallback: rnf,
            after_build: Some(After::Not),
            ..Side::plain(format!("`{ra}`.`multiMatchValue`"))
        };
        let where_sql = self.combine(l, op, r)?;
        let lq = lm.render(self.params)?;
        let rq = rm.render(self.params)?;
        Ok(format!(
            "NOT EXISTS (SELECT 1 FROM ({lq}) `{la}` LEFT JOIN ({rq}) `{ra}` WHERE {where_sql})"
        ))
    }

    /// "No value of the multi-valued side fails the comparison with the other side".
    fn many_vs_one(
        &mut self,
        mm: &MultiMatch,
        nf: NullFallback,
        other: &Side,
        op: Op,
        inverse: bool,
    ) -> Result<String, FilterError> {
        let alias = self.params.unique_alias("__sm");
        let value = Side {
            null_fallback: nf,
            after_build: Some(After::Not),
            ..Side::plain(format!("`{alias}`.`multiMatchValue`"))
        };
        // like PocketBase, only the SQL and params of the other operand are carried over
        let other = Side {
            params: other.params.clone(),
            ..Side::plain(other.sql.clone())
        };
        let where_sql = if inverse {
            self.combine(other, op, value)?
        } else {
            self.combine(value, op, other)?
        };
        let sub = mm.render(self.params)?;
        Ok(format!(
            "NOT EXISTS (SELECT 1 FROM ({sub}) `{alias}` WHERE {where_sql})"
        ))
    }
}

/// `null`/`true`/`false` identifiers (case-insensitive) that the resolver could not resolve.
fn keyword(name: &str) -> Option<&'static str> {
    if name.eq_ignore_ascii_case("null") {
        Some("NULL")
    } else if name.eq_ignore_ascii_case("true") {
        Some("1")
    } else if name.eq_ignore_ascii_case("false") {
        Some("0")
    } else {
        None
    }
}

/// Joins group parts; no parentheses for a single part that has no top-level-looking AND/OR.
fn concat(parts: Vec<String>) -> String {
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    if parts.len() == 1 {
        let upper = parts[0].to_ascii_uppercase();
        if !upper.contains(" AND ") && !upper.contains(" OR ") {
            return parts.into_iter().next().unwrap_or_default();
        }
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("({})", parts.join(" "))
}

fn has_empty_param_value(s: &Side) -> bool {
    s.params.iter().any(|(_, v)| v.is_empty_value())
}

fn is_empty_identifier(s: &Side) -> bool {
    matches!(
        s.sql.to_ascii_lowercase().as_str(),
        "" | "null" | "''" | "\"\"" | "``"
    )
}

fn is_known_non_empty(s: &Side) -> bool {
    if s.null_fallback == NullFallback::Enforced {
        return false;
    }
    if matches!(
        s.sql.to_ascii_lowercase().as_str(),
        "1" | "0" | "false" | "true"
    ) {
        return true;
    }
    !s.params.is_empty() && !has_empty_param_value(s) && !is_empty_identifier(s)
}

/// `=` / `!=` with PocketBase's NULL vs empty-string normalisation (`resolveEqualExpr`).
/// Also tells which operands were left out of the SQL.
fn equal_expr(equal: bool, l: &Side, r: &Side) -> (String, bool, bool) {
    let (eq, null_eq, concat_op, null_expr) = if equal {
        ("=", "IS", "OR", "IS NULL")
    } else {
        ("IS NOT", "IS NOT", "AND", "IS NOT NULL")
    };

    if l.null_fallback == NullFallback::Disabled || r.null_fallback == NullFallback::Disabled {
        return (format!("{} {null_eq} {}", l.sql, r.sql), false, false);
    }

    let empty = |s: &Side| {
        is_empty_identifier(s)
            || (s.null_fallback == NullFallback::Auto
                && s.params.len() == 1
                && has_empty_param_value(s))
    };
    let l_empty = empty(l);
    let r_empty = empty(r);

    if l_empty && r_empty {
        return (format!("'' {eq} ''"), true, true);
    }
    if is_known_non_empty(l) || is_known_non_empty(r) {
        let ls = if l_empty { "''" } else { l.sql.as_str() };
        let rs = if r_empty { "''" } else { r.sql.as_str() };
        return (format!("{ls} {eq} {rs}"), l_empty, r_empty);
    }
    if l_empty {
        return (
            format!("('' {eq} {r} {concat_op} {r} {null_expr})", r = r.sql),
            true,
            false,
        );
    }
    if r_empty {
        return (
            format!("({l} {eq} '' {concat_op} {l} {null_expr})", l = l.sql),
            false,
            true,
        );
    }
    (
        format!("COALESCE({}, '') {eq} COALESCE({}, '')", l.sql, r.sql),
        false,
        false,
    )
}

/// The pattern bound for `~`/`!~` with a literal right side: used as-is when it contains an
/// unescaped `%`, otherwise `\`, `%`, `_` are escaped (unless already escaped) and the value is
/// wrapped in `%…%` ("contains").
pub fn like_pattern(value: &str) -> String {
    if contains_unescaped(value, '%') {
        return value.to_string();
    }
    format!("%{}%", escape_unescaped(value, &['\\', '%', '_']))
}

fn contains_unescaped(s: &str, ch: char) -> bool {
    let mut prev = '\0';
    for c in s.chars() {
        if c == ch && prev != '\\' {
            return true;
        }
        prev = if c == '\\' && prev == '\\' { '\0' } else { c };
    }
    false
}

/// Walks the string backwards and puts a `\` before every char of `escape` that is not already
/// preceded by one.
fn escape_unescaped(s: &str, escape: &[char]) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len() + 4);
    let mut pending = false;
    for i in (0..chars.len()).rev() {
        let c = chars[i];
        if pending {
            if c != '\\' {
                out.push('\\');
            }
            pending = false;
        } else if escape.contains(&c) {
            pending = true;
        }
        out.push(c);
        if i == 0 && pending {
            out.push('\\');
        }
    }
    out.reverse();
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_pocketbase_table() {
        // (input, bound pattern) pairs from PocketBase's LIKE wrapping behaviour
        let cases = [
            ("abc", "%abc%"),
            ("ab%c", "ab%c"),
            ("ab\\%c", "%ab\\%c%"),
            ("%ab\\%c", "%ab\\%c"),
            ("ab\\\\%c", "ab\\\\%c"),
            ("ab\\\\\\%c", "%ab\\\\\\%c%"),
            ("ab_c", "%ab\\_c%"),
            ("ab\\_c", "%ab\\_c%"),
            ("%ab_c", "%ab_c"),
            ("ab\\c", "%ab\\\\c%"),
            ("_ab\\c_", "%\\_ab\\\\c\\_%"),
            ("ab\\c%", "ab\\c%"),
            ("a\nb\\", "%a\nb\\\\%"),
            ("", "%%"),
        ];
        for (input, want) in cases {
            assert_eq!(like_pattern(input), want, "input {input:?}");
        }
    }

    #[test]
    fn concat_rules() {
        assert_eq!(concat(vec!["a = 1".into()]), "a = 1");
        assert_eq!(concat(vec!["(x or y)".into()]), "((x or y))");
        assert_eq!(
            concat(vec!["a".into(), "AND".into(), "b".into()]),
            "(a AND b)"
        );
        assert_eq!(concat(vec![String::new()]), "");
    }
}
