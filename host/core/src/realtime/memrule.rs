//! In-memory evaluation of simple API rules for the realtime fan-out, so that the common
//! rules (`@request.auth.id != ""`, `owner = @request.auth.id`, `views > 10 && published = true`)
//! need no database round trip per subscriber group.
//!
//! The evaluation mirrors the SQL the rule compiles to when it is checked against a record
//! snapshot (`service::snapshot_matches`): the snapshot's columns are bound parameters, so
//! values compare by SQLite storage class without column affinity (numbers numerically, below
//! texts, texts bytewise), `=`/`!=` get PocketBase's NULL-vs-`''` normalisation
//! (`pocketbun_filter`'s `equal_expr`), and `&&` binds tighter than `||` as in SQL. A NULL
//! comparison counts as false, which is exact because the language has no negation.
//!
//! Anything else (relations or `@collection` joins, multi-value or JSON fields, modifiers,
//! functions, `?=` and `~` operators, other `@request.*` values) is not decided here: the
//! caller falls back to the SQL check.

use pocketbun_filter::{parse, Comparison, Expr, Join, OpKind, Operand};
use rusqlite::types::Value as Sql;
use serde_json::Value;
use std::cmp::Ordering;

use crate::model::{Collection, FieldType};
use crate::record::values::to_sql;
use crate::record::Record;

/// Whether `rec` satisfies `rule` for the subscriber `auth`; None when the rule is not simple
/// enough to be decided in memory.
pub fn evaluate(rule: &str, rec: &Record, auth: Option<&Record>) -> Option<bool> {
    let expr = parse(rule).ok()?;
    eval_expr(&expr, &Scope { rec, auth, hidden_ok: true })
}

/// Whether `rec` satisfies a subscriber's `options.filter`; None when it is not simple enough.
/// Unlike rules, a filter may name hidden fields only when `allow_hidden` (superusers): any
/// other use of a hidden field is left to the SQL check, which rejects it.
pub fn evaluate_filter(filter: &str, rec: &Record, auth: Option<&Record>, allow_hidden: bool) -> Option<bool> {
    let expr = parse(filter).ok()?;
    eval_expr(&expr, &Scope { rec, auth, hidden_ok: allow_hidden })
}

/// What an expression is evaluated against.
struct Scope<'a> {
    rec: &'a Record,
    auth: Option<&'a Record>,
    /// Whether hidden fields may be read.
    hidden_ok: bool,
}

fn eval_expr(expr: &Expr, sc: &Scope) -> Option<bool> {
    match expr {
        Expr::Compare(c) => compare(c, sc),
        Expr::Group(items) => {
            // SQL precedence: OR of AND-chains
            let mut any = false;
            let mut chain = true;
            for (i, item) in items.iter().enumerate() {
                let v = eval_expr(&item.expr, sc)?;
                if i > 0 && item.join == Join::Or {
                    any |= chain;
                    chain = true;
                }
                chain &= v;
            }
            Some(any || chain)
        }
    }
}

/// One resolved operand with the properties `equal_expr` looks at.
struct Side {
    value: Sql,
    /// An empty identifier (`null`, auth values that are missing) or an empty bound value.
    empty: bool,
    /// A bound non-empty value or a `true`/`false`/number keyword.
    known_non_empty: bool,
}

impl Side {
    fn bound(value: Sql) -> Side {
        let empty = matches!(&value, Sql::Null) || matches!(&value, Sql::Text(s) if s.is_empty());
        Side { value, empty, known_non_empty: !empty }
    }
    fn keyword_null() -> Side {
        Side { value: Sql::Null, empty: true, known_non_empty: false }
    }
    fn column(value: Sql) -> Side {
        Side { value, empty: false, known_non_empty: false }
    }
}

/// A plain single-value field of the record whose stored value is what the SQL compares.
fn field_side(c: &Collection, sc: &Scope, name: &str) -> Option<Side> {
    let f = c.field(name)?;
    let simple = (sc.hidden_ok || !f.hidden) && matches!(
        f.kind,
        FieldType::Text
            | FieldType::Email
            | FieldType::Url
            | FieldType::Editor
            | FieldType::Number
            | FieldType::Bool
            | FieldType::Date
            | FieldType::Autodate
            | FieldType::Select
            | FieldType::Relation
    ) && !f.is_multiple();
    simple.then(|| Side::column(to_sql(f, sc.rec.get(name))))
}

/// Auth values the request resolver binds from the auth record itself (the other fields are
/// joined from the database, so they are left to SQL).
const PLAIN_AUTH_FIELDS: [&str; 6] = ["id", "collectionId", "collectionName", "email", "emailVisibility", "verified"];

/// `@request.auth.<key>` as the request resolver binds it (NULL for guests).
fn auth_side(base: &Collection, auth: Option<&Record>, key: &str) -> Option<Side> {
    let Some(a) = auth else { return Some(Side::keyword_null()) };
    if !PLAIN_AUTH_FIELDS.contains(&key) {
        return None;
    }
    let value = match key {
        "collectionId" => Value::String(a.collection.id.clone()),
        "collectionName" => Value::String(a.collection.name.clone()),
        _ => a.values.get(key).cloned().unwrap_or(Value::Null),
    };
    Some(match value {
        Value::Null => Side::keyword_null(),
        Value::String(s) => {
            let number = base.field(key).is_some_and(|f| f.kind == FieldType::Number);
            match s.trim().parse::<f64>() {
                Ok(n) if number && !s.trim().is_empty() => Side::bound(Sql::Real(n)),
                _ => Side::bound(Sql::Text(s)),
            }
        }
        Value::Bool(b) => Side::bound(Sql::Integer(i64::from(b))),
        Value::Number(n) => Side::bound(match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or(0.0)),
        }),
        other => Side::bound(Sql::Text(other.to_string())),
    })
}

fn operand(op: &Operand, sc: &Scope) -> Option<Side> {
    let c = &sc.rec.collection;
    match op {
        Operand::Text(s) => Some(Side::bound(Sql::Text(s.clone()))),
        Operand::Number(n) => Some(Side::bound(Sql::Real(*n))),
        Operand::Function { .. } => None,
        Operand::Identifier(name) => {
            if let Some(key) = name.strip_prefix("@request.auth.") {
                if key.is_empty() || key.contains(['.', ':']) {
                    return None;
                }
                return auth_side(c, sc.auth, key);
            }
            if name.starts_with('@') || name.contains(['.', ':']) {
                return None;
            }
            if let Some(side) = field_side(c, sc, name) {
                return Some(side);
            }
            if c.field(name).is_some() {
                return None;
            }
            // unresolved keywords (a field of that name would have won above)
            if name.eq_ignore_ascii_case("null") {
                Some(Side::keyword_null())
            } else if name.eq_ignore_ascii_case("true") {
                Some(Side { value: Sql::Integer(1), empty: false, known_non_empty: true })
            } else if name.eq_ignore_ascii_case("false") {
                Some(Side { value: Sql::Integer(0), empty: false, known_non_empty: true })
            } else {
                None
            }
        }
    }
}

/// SQLite's ordering of two non-NULL values compared without affinity.
fn order(a: &Sql, b: &Sql) -> Ordering {
    fn class(v: &Sql) -> u8 {
        match v {
            Sql::Null => 0,
            Sql::Integer(_) | Sql::Real(_) => 1,
            Sql::Text(_) => 2,
            Sql::Blob(_) => 3,
        }
    }
    match (a, b) {
        (Sql::Integer(x), Sql::Integer(y)) => x.cmp(y),
        (Sql::Integer(x), Sql::Real(y)) => (*x as f64).partial_cmp(y).unwrap_or(Ordering::Equal),
        (Sql::Real(x), Sql::Integer(y)) => x.partial_cmp(&(*y as f64)).unwrap_or(Ordering::Equal),
        (Sql::Real(x), Sql::Real(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Sql::Text(x), Sql::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Sql::Blob(x), Sql::Blob(y)) => x.cmp(y),
        _ => class(a).cmp(&class(b)),
    }
}

/// `a = b` (NULL is not equal to anything).
fn eq(a: &Sql, b: &Sql) -> bool {
    !matches!(a, Sql::Null) && !matches!(b, Sql::Null) && order(a, b) == Ordering::Equal
}

/// `a IS NOT b` (NULL-safe).
fn is_not(a: &Sql, b: &Sql) -> bool {
    match (a, b) {
        (Sql::Null, Sql::Null) => false,
        (Sql::Null, _) | (_, Sql::Null) => true,
        _ => order(a, b) != Ordering::Equal,
    }
}

fn empty_text() -> Sql {
    Sql::Text(String::new())
}

fn coalesce(v: Sql) -> Sql {
    if matches!(v, Sql::Null) {
        empty_text()
    } else {
        v
    }
}

fn compare(c: &Comparison, sc: &Scope) -> Option<bool> {
    if c.op.any {
        return None;
    }
    let l = operand(&c.left, sc)?;
    let r = operand(&c.right, sc)?;
    let ordered = |want: fn(Ordering) -> bool| -> bool {
        !matches!(l.value, Sql::Null) && !matches!(r.value, Sql::Null) && want(order(&l.value, &r.value))
    };
    Some(match c.op.kind {
        OpKind::Eq | OpKind::Neq => {
            let equal = c.op.kind == OpKind::Eq;
            if l.empty && r.empty {
                equal
            } else if l.known_non_empty || r.known_non_empty {
                let ls = if l.empty { empty_text() } else { l.value };
                let rs = if r.empty { empty_text() } else { r.value };
                if equal {
                    eq(&ls, &rs)
                } else {
                    is_not(&ls, &rs)
                }
            } else if l.empty || r.empty {
                let other = if l.empty { r.value } else { l.value };
                if equal {
                    eq(&empty_text(), &other) || matches!(other, Sql::Null)
                } else {
                    is_not(&empty_text(), &other) && !matches!(other, Sql::Null)
                }
            } else {
                let (ls, rs) = (coalesce(l.value), coalesce(r.value));
                if equal {
                    eq(&ls, &rs)
                } else {
                    is_not(&ls, &rs)
                }
            }
        }
        OpKind::Lt => ordered(|o| o == Ordering::Less),
        OpKind::Lte => ordered(|o| o != Ordering::Greater),
        OpKind::Gt => ordered(|o| o == Ordering::Greater),
        OpKind::Gte => ordered(|o| o != Ordering::Less),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
