//! Compiling filters and API rules for a collection into SQL through the filter engine.
//!
//! This resolver covers the collection's own fields (including multi-valued ones with
//! PocketBase's all/any semantics and JSON sub-paths) and the `@request.*` namespace.
//! Relation paths, back-relations and `@collection.*` are resolved by the query engine
//! extension (tracked separately) and are rejected here with a clear error.

use pocketbun_filter::{
    build_where, parse, parse_sort, quote_ident, BuildOptions, FieldResolver, FilterError, MultiMatch, MultiMatchJoin,
    NullFallback, Params, Resolved, SqlValue,
};
use rusqlite::types::Value as SqliteValue;
use serde_json::{Map, Value};

use super::Record;
use crate::db::SqlParams;
use crate::model::{Collection, FieldType};

/// What `@request.*` refers to while evaluating a rule or filter.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub auth: Option<Record>,
    pub method: String,
    pub context: String,
    pub query: Map<String, Value>,
    pub headers: Map<String, Value>,
    pub body: Map<String, Value>,
}

impl RequestInfo {
    pub fn is_superuser(&self) -> bool {
        self.auth.as_ref().map(|a| a.collection.is_superusers()).unwrap_or(false)
    }
}

/// Resolves identifiers of one collection (aliased by its own table name).
pub struct RecordResolver<'a> {
    pub collection: &'a Collection,
    pub request: &'a RequestInfo,
    /// Non-superusers may not reference hidden fields.
    pub allow_hidden: bool,
    pub joins: Vec<String>,
    join_count: usize,
}

impl<'a> RecordResolver<'a> {
    pub fn new(collection: &'a Collection, request: &'a RequestInfo, allow_hidden: bool) -> Self {
        Self { collection, request, allow_hidden, joins: vec![], join_count: 0 }
    }

    fn table(&self) -> String {
        quote_ident(&self.collection.name)
    }
}

pub fn json_to_sql_value(v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

fn lookup_path<'v>(root: &'v Map<String, Value>, path: &[&str]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    let mut cur = root.get(*first)?;
    for p in rest {
        cur = match cur {
            Value::Object(m) => m.get(*p)?,
            Value::Array(a) => a.get(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

impl FieldResolver for RecordResolver<'_> {
    fn resolve(&mut self, identifier: &str, params: &mut Params) -> Result<Resolved, FilterError> {
        let (path, modifier) = match identifier.split_once(':') {
            Some((p, m)) => (p, Some(m)),
            None => (identifier, None),
        };
        if let Some(rest) = path.strip_prefix("@request.") {
            return self.resolve_request(rest, modifier, params);
        }
        if path.starts_with("@collection.") {
            return Err(FilterError::invalid(format!("{identifier}: @collection references are not supported yet")));
        }
        let parts: Vec<&str> = path.split('.').collect();
        let Some(field) = self.collection.field(parts[0]) else {
            return Err(FilterError::invalid(format!("unknown field {:?}", parts[0])));
        };
        if field.hidden && !self.allow_hidden {
            return Err(FilterError::invalid(format!("only superusers can filter by hidden field {:?}", field.name)));
        }
        let col = format!("{}.{}", self.table(), quote_ident(&field.name));
        if parts.len() > 1 {
            if field.kind == FieldType::Json {
                let json_path = format!("$.{}", parts[1..].join("."));
                let p = params.bind(SqlValue::Text(json_path));
                return Ok(Resolved::sql(format!(
                    "(CASE WHEN json_valid({col}) THEN JSON_EXTRACT({col}, {p}) ELSE JSON_EXTRACT(json_object('pb', {col}), '$.pb') END)"
                ))
                .with_null_fallback(NullFallback::Disabled));
            }
            return Err(FilterError::invalid(format!("{path}: relation paths are not supported yet")));
        }
        match modifier {
            Some("length") if field.is_multiple() => {
                return Ok(Resolved::sql(format!("json_array_length(CASE WHEN json_valid({col}) THEN {col} ELSE '[]' END)")));
            }
            Some("lower") => return Ok(Resolved::sql(format!("LOWER({col})"))),
            Some(m) if !matches!(m, "each" | "length") => {
                return Err(FilterError::invalid(format!("unsupported modifier {m:?} for {path}")));
            }
            _ => {}
        }
        if field.is_multiple() {
            self.join_count += 1;
            let je = format!("`__je{}`", self.join_count);
            self.joins.push(format!(
                "LEFT JOIN json_each(CASE WHEN json_valid({col}) THEN {col} ELSE json_array({col}) END) {je}"
            ));
            let mm_alias = format!("`__mm{}`", self.join_count);
            let mm_je = format!("`__mmje{}`", self.join_count);
            let inner_col = format!("{mm_alias}.{}", quote_ident(&field.name));
            let mm = MultiMatch {
                target_alias: self.table(),
                from_table: self.table(),
                from_alias: mm_alias,
                value: format!("{mm_je}.value"),
                joins: vec![MultiMatchJoin {
                    table: format!(
                        "json_each(CASE WHEN json_valid({inner_col}) THEN {inner_col} ELSE json_array({inner_col}) END)"
                    ),
                    alias: mm_je,
                    on: None,
                }],
                params: vec![],
            };
            return Ok(Resolved::sql(format!("{je}.value")).with_multi_match(mm));
        }
        Ok(Resolved::sql(col))
    }

    fn rowid(&mut self) -> String {
        format!("{}._rowid_", self.table())
    }
}

impl RecordResolver<'_> {
    fn resolve_request(&mut self, rest: &str, modifier: Option<&str>, params: &mut Params) -> Result<Resolved, FilterError> {
        let parts: Vec<&str> = rest.split('.').collect();
        let value: Value = match parts[0] {
            "method" => Value::String(self.request.method.to_uppercase()),
            "context" => Value::String(if self.request.context.is_empty() { "default".into() } else { self.request.context.clone() }),
            "auth" => match &self.request.auth {
                None => Value::Null,
                Some(a) if parts.len() == 2 => match parts[1] {
                    "collectionId" => Value::String(a.collection.id.clone()),
                    "collectionName" => Value::String(a.collection.name.clone()),
                    name => a.values.get(name).cloned().unwrap_or(Value::Null),
                },
                Some(_) => return Err(FilterError::invalid(format!("@request.{rest}: auth relation paths are not supported yet"))),
            },
            "query" => lookup_path(&self.request.query, &parts[1..]).cloned().unwrap_or(Value::Null),
            "headers" => {
                let key = parts.get(1).map(|k| k.to_ascii_lowercase().replace('-', "_")).unwrap_or_default();
                self.request.headers.get(&key).cloned().unwrap_or(Value::Null)
            }
            "body" => lookup_path(&self.request.body, &parts[1..]).cloned().unwrap_or(Value::Null),
            other => return Err(FilterError::invalid(format!("unknown @request field {other:?}"))),
        };
        if modifier == Some("isset") {
            let set = match parts[0] {
                "body" => lookup_path(&self.request.body, &parts[1..]).is_some(),
                "query" => lookup_path(&self.request.query, &parts[1..]).is_some(),
                _ => !value.is_null(),
            };
            return Ok(Resolved::sql(if set { "TRUE" } else { "FALSE" }));
        }
        if modifier == Some("length") {
            let n = value.as_array().map(|a| a.len()).unwrap_or(0) as i64;
            return Ok(Resolved::value(params, SqlValue::Integer(n)));
        }
        let v = match (modifier, &value) {
            (Some("lower"), Value::String(s)) => Value::String(s.to_lowercase()),
            _ => value,
        };
        if let Value::Array(items) = &v {
            // multi-valued request data: compare against each item (any/all like fields)
            let json = Value::Array(items.clone()).to_string();
            let p = params.bind(SqlValue::Text(json));
            self.join_count += 1;
            let je = format!("`__rje{}`", self.join_count);
            self.joins.push(format!("LEFT JOIN json_each({p}) {je}"));
            return Ok(Resolved::sql(format!("{je}.value")));
        }
        Ok(Resolved::value(params, json_to_sql_value(&v)))
    }
}

/// A compiled condition plus the joins and parameters it needs.
pub struct CompiledCondition {
    pub sql: String,
    pub joins: Vec<String>,
    pub params: SqlParams,
}

fn convert_params(p: Params, out: &mut SqlParams) {
    for (name, v) in p.into_vec() {
        let sv = match v {
            SqlValue::Null => SqliteValue::Null,
            SqlValue::Integer(i) => SqliteValue::Integer(i),
            SqlValue::Real(f) => SqliteValue::Real(f),
            SqlValue::Text(s) => SqliteValue::Text(s),
        };
        out.push(name, sv);
    }
}

/// Compiles a filter or rule expression. `prefix` keeps parameter names unique when several
/// expressions share a statement.
pub fn compile_condition(
    collection: &Collection,
    request: &RequestInfo,
    expr_src: &str,
    allow_hidden: bool,
    prefix: &str,
) -> Result<CompiledCondition, FilterError> {
    let expr = parse(expr_src)?;
    let mut resolver = RecordResolver::new(collection, request, allow_hidden);
    let mut params = Params::with_prefix(prefix, 0);
    let sql = build_where(&expr, &mut resolver, &mut params, &BuildOptions::default())?;
    let mut out = SqlParams::new();
    convert_params(params, &mut out);
    Ok(CompiledCondition { sql, joins: resolver.joins, params: out })
}

/// Compiles `?sort=` into ORDER BY terms.
pub fn compile_sort(
    collection: &Collection,
    request: &RequestInfo,
    sort_src: &str,
    allow_hidden: bool,
) -> Result<(Vec<String>, Vec<String>, SqlParams), FilterError> {
    let fields = parse_sort(sort_src)?;
    let mut resolver = RecordResolver::new(collection, request, allow_hidden);
    let mut params = Params::with_prefix("s", 0);
    let mut order = vec![];
    for f in &fields {
        order.push(pocketbun_filter::build_sort_field(f, &mut resolver, &mut params)?);
    }
    let mut out = SqlParams::new();
    convert_params(params, &mut out);
    Ok((order, resolver.joins, out))
}

/// Checks that a rule parses and resolves against the collection (used on collection save).
pub fn check_rule_syntax(collection: &Collection, rule: &str) -> Result<(), FilterError> {
    compile_condition(collection, &RequestInfo::default(), rule, true, "r").map(|_| ())
}
