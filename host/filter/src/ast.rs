//! Syntax tree produced by [`crate::parse`].
//!
//! PocketBase's parser has no operator precedence: a (parenthesised or top-level) list of
//! comparisons is kept flat, each item carrying the join (`&&`/`||`) that precedes it, and the
//! SQL builder emits `e1 AND e2 OR e3` inside one pair of parentheses so SQLite's own
//! precedence applies. [`Expr::Group`] preserves exactly that shape.

use std::fmt;

/// `&&` or `||`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Join {
    And,
    Or,
}

impl Join {
    pub fn as_str(self) -> &'static str {
        match self {
            Join::And => "&&",
            Join::Or => "||",
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            Join::And => "AND",
            Join::Or => "OR",
        }
    }
}

/// The comparison operator without its "any" prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `=`
    Eq,
    /// `!=`
    Neq,
    /// `~`
    Like,
    /// `!~`
    NotLike,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

/// A comparison operator; `any` is set for the `?`-prefixed forms (`?=`, `?!~`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Op {
    pub kind: OpKind,
    pub any: bool,
}

impl Op {
    pub const fn new(kind: OpKind, any: bool) -> Self {
        Self { kind, any }
    }

    /// Parses an operator exactly as written in a filter (`?>=`, `!~`, …).
    pub fn from_symbol(s: &str) -> Option<Op> {
        let (any, rest) = match s.strip_prefix('?') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let kind = match rest {
            "=" => OpKind::Eq,
            "!=" => OpKind::Neq,
            "~" => OpKind::Like,
            "!~" => OpKind::NotLike,
            "<" => OpKind::Lt,
            "<=" => OpKind::Lte,
            ">" => OpKind::Gt,
            ">=" => OpKind::Gte,
            _ => return None,
        };
        Some(Op { kind, any })
    }

    pub fn symbol(self) -> &'static str {
        match (self.any, self.kind) {
            (false, OpKind::Eq) => "=",
            (false, OpKind::Neq) => "!=",
            (false, OpKind::Like) => "~",
            (false, OpKind::NotLike) => "!~",
            (false, OpKind::Lt) => "<",
            (false, OpKind::Lte) => "<=",
            (false, OpKind::Gt) => ">",
            (false, OpKind::Gte) => ">=",
            (true, OpKind::Eq) => "?=",
            (true, OpKind::Neq) => "?!=",
            (true, OpKind::Like) => "?~",
            (true, OpKind::NotLike) => "?!~",
            (true, OpKind::Lt) => "?<",
            (true, OpKind::Lte) => "?<=",
            (true, OpKind::Gt) => "?>",
            (true, OpKind::Gte) => "?>=",
        }
    }
}

/// One side of a comparison (or a function argument).
///
/// `true`, `false` and `null` are *identifiers* here, exactly as in fexpr: the builder first
/// offers them to the resolver and only falls back to `1`/`0`/`NULL` when it cannot resolve them.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `title`, `author.name`, `@request.auth.id`, `tags:each`, `@now`, `null`, …
    Identifier(String),
    /// A quoted literal, already unescaped.
    Text(String),
    /// A numeric literal (always bound as a REAL, like PocketBase's `float64`).
    Number(f64),
    /// `name(arg, …)`; arguments are identifiers, numbers, texts or nested functions.
    Function { name: String, args: Vec<Operand> },
}

impl Operand {
    /// Short literal used in error messages (the function name for functions).
    pub fn literal(&self) -> String {
        match self {
            Operand::Identifier(s) | Operand::Text(s) => s.clone(),
            Operand::Number(n) => format_number(*n),
            Operand::Function { name, .. } => name.clone(),
        }
    }
}

/// `left op right`. `pos`/`right_pos` are byte offsets of the operands in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub left: Operand,
    pub op: Op,
    pub right: Operand,
    pub pos: usize,
    pub right_pos: usize,
}

/// An item of a group together with the join written before it (ignored for the first item).
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    pub join: Join,
    pub expr: Expr,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Compare(Comparison),
    /// The top level or a `( … )` group: items applied left to right without precedence.
    Group(Vec<Joined>),
}

impl Expr {
    /// Number of comparisons in the tree.
    pub fn comparison_count(&self) -> usize {
        match self {
            Expr::Compare(_) => 1,
            Expr::Group(items) => items.iter().map(|j| j.expr.comparison_count()).sum(),
        }
    }

    /// Maximum group nesting (a top-level group counts as 1).
    pub fn depth(&self) -> usize {
        match self {
            Expr::Compare(_) => 0,
            Expr::Group(items) => 1 + items.iter().map(|j| j.expr.depth()).max().unwrap_or(0),
        }
    }

    /// The same tree with source positions zeroed, for comparing trees parsed from
    /// different texts (e.g. a printed-and-reparsed expression).
    pub fn without_positions(&self) -> Expr {
        match self {
            Expr::Compare(c) => Expr::Compare(Comparison { pos: 0, right_pos: 0, ..c.clone() }),
            Expr::Group(items) => Expr::Group(
                items.iter().map(|j| Joined { join: j.join, expr: j.expr.without_positions() }).collect(),
            ),
        }
    }
}

/// Formats a number the way Go's `strconv.FormatFloat(f, 'f', -1, 64)` does for finite values.
pub(crate) fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{n}")
    }
}

fn write_text(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\'' => f.write_str("\\'")?,
            '\0' => f.write_str("\\x00")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Identifier(s) => f.write_str(s),
            Operand::Text(s) => write_text(f, s),
            Operand::Number(n) => f.write_str(&format_number(*n)),
            Operand::Function { name, args } => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.left, self.op.symbol(), self.right)
    }
}

/// Prints filter source that parses back to the same tree (top-level group without parentheses).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Compare(c) => write!(f, "{c}"),
            Expr::Group(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " {} ", item.join.as_str())?;
                    }
                    match &item.expr {
                        Expr::Compare(c) => write!(f, "{c}")?,
                        g @ Expr::Group(_) => write!(f, "({g})")?,
                    }
                }
                Ok(())
            }
        }
    }
}
