//! One compiler per SQL statement: the API rule, the client filter and the sort share one
//! resolver (and so its joins), as in PocketBase's list handler; joined collections' listRules
//! are added last for non-superuser filters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use pocketbun_filter::{build_sort_field, build_where, parse_sort, parse_with, BuildOptions, Expr, FilterError, ParseOptions, Params, SqlValue};
use rusqlite::types::Value as SqliteValue;

use super::resolver::{Join, RecordResolver};
use crate::db::SqlParams;
use crate::model::Collection;
use crate::record::rules::RequestInfo;
use crate::schema_cache::Schema;

/// The SQL pieces of a compiled statement.
#[derive(Debug, Default)]
pub struct CompiledQuery {
    pub conditions: Vec<String>,
    pub joins: Vec<String>,
    pub order_by: Vec<String>,
    pub params: SqlParams,
}

type ExprCache = HashMap<(bool, String), Arc<Expr>>;

/// Parsed expressions keyed by source, dropped whenever the schema version changes.
fn parse_cached(src: &str, limited: bool, version: u64) -> Result<Arc<Expr>, FilterError> {
    static CACHE: OnceLock<Mutex<(u64, ExprCache)>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new((version, HashMap::new())));
    let key = (limited, src.to_string());
    {
        let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
        if guard.0 != version {
            *guard = (version, HashMap::new());
        }
        if let Some(e) = guard.1.get(&key) {
            return Ok(e.clone());
        }
    }
    let opts = if limited { ParseOptions::default() } else { ParseOptions::without_length_limit() };
    let expr = Arc::new(parse_with(src, &opts)?);
    let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
    if guard.0 == version && guard.1.len() < 4096 {
        guard.1.insert(key, expr.clone());
    }
    Ok(expr)
}

pub struct QueryCompiler<'a> {
    resolver: RecordResolver<'a>,
    params: Params,
    conditions: Vec<String>,
    order_by: Vec<String>,
    version: u64,
}

impl<'a> QueryCompiler<'a> {
    /// `prefix` names the bound parameters (`:{prefix}0`…), keep it unique per statement.
    pub fn new(schema: &'a Schema, collection: &Collection, request: &'a RequestInfo, prefix: &str) -> Self {
        Self {
            resolver: RecordResolver::new(schema, collection, request, true),
            params: Params::with_prefix(prefix, 0),
            conditions: vec![],
            order_by: vec![],
            version: schema.version,
        }
    }

    /// Resolves the base collection from a CTE/alias instead of its table.
    pub fn with_base_alias(mut self, table: &str, alias: &str) -> Self {
        self.resolver = self.resolver.with_base_alias(table, alias);
        self
    }

    /// Hidden fields (and locked related collections) are accessible only when allowed.
    pub fn set_allow_hidden(&mut self, allow: bool) {
        self.resolver.allow_hidden = allow;
    }

    /// Adds an API rule (no length limit).
    pub fn add_rule(&mut self, src: &str) -> Result<(), FilterError> {
        let expr = parse_cached(src, false, self.version)?;
        self.add_expr(&expr)
    }

    /// Adds a client `filter` (3500-byte limit).
    pub fn add_filter(&mut self, src: &str) -> Result<(), FilterError> {
        let expr = parse_cached(src, true, self.version)?;
        self.add_expr(&expr)
    }

    fn add_expr(&mut self, expr: &Expr) -> Result<(), FilterError> {
        let sql = build_where(expr, &mut self.resolver, &mut self.params, &BuildOptions::default())?;
        self.conditions.push(sql);
        Ok(())
    }

    pub fn add_sort(&mut self, src: &str) -> Result<(), FilterError> {
        for f in parse_sort(src)? {
            let sql = build_sort_field(&f, &mut self.resolver, &mut self.params)?;
            self.order_by.push(sql);
        }
        Ok(())
    }

    /// Adds the listRule constraints of joined collections and collects the SQL.
    pub fn finish(mut self) -> Result<CompiledQuery, FilterError> {
        let rule_joins = std::mem::take(&mut self.resolver.rule_joins);
        let mut joins: Vec<Join> = std::mem::take(&mut self.resolver.joins);
        for (c, alias) in rule_joins {
            let Some(rule) = c.list_rule.as_deref().filter(|r| !r.is_empty()) else { continue };
            let mut clone = RecordResolver::new(self.resolver.schema, &c, self.resolver.request, true).with_base_alias(&c.name, &alias);
            clone.alias_suffix = crate::util::random_string(8, crate::util::ALPHANUMERIC);
            let expr = parse_with(&format!("id='' || (\n{rule}\n)"), &ParseOptions::without_length_limit())?;
            let sql = build_where(&expr, &mut clone, &mut self.params, &BuildOptions::default())?;
            self.conditions.push(sql);
            joins.extend(clone.joins);
        }
        let joins: Vec<String> = joins.iter().map(Join::sql).collect();
        let all_sql = format!("{} {} {}", joins.join(" "), self.conditions.join(" "), self.order_by.join(" "));
        let mut params = SqlParams::new();
        for (name, v) in self.params.used_in(&all_sql) {
            params.push(name.to_string(), to_sqlite(v.clone()));
        }
        Ok(CompiledQuery { conditions: self.conditions, joins, order_by: self.order_by, params })
    }
}

fn to_sqlite(v: SqlValue) -> SqliteValue {
    match v {
        SqlValue::Null => SqliteValue::Null,
        SqlValue::Integer(i) => SqliteValue::Integer(i),
        SqlValue::Real(f) => SqliteValue::Real(f),
        SqlValue::Text(s) => SqliteValue::Text(s),
    }
}
