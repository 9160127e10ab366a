//! Compiling a list request's `filter` and `sort` over one table into SQL clauses, shared by
//! the system lists (collections, logs). Record lists have their own resolver in `record/`.

use pocketbun_filter::{build_sort_field, build_where, parse, parse_sort, BuildOptions, FieldResolver, FilterError, Params, SqlValue};
use rusqlite::types::Value as SqliteValue;

use crate::db::SqlParams;
use crate::error::ApiError;

/// ` WHERE …` and ` ORDER BY …` (each empty when not requested) plus their bound values.
pub struct ListSql {
    pub where_sql: String,
    pub order_sql: String,
    pub params: SqlParams,
}

/// Converts the filter engine's parameter bag into statement parameters.
pub fn to_sql_params(params: Params) -> SqlParams {
    let mut out = SqlParams::new();
    for (name, v) in params.into_vec() {
        let v = match v {
            SqlValue::Null => SqliteValue::Null,
            SqlValue::Integer(i) => SqliteValue::Integer(i),
            SqlValue::Real(f) => SqliteValue::Real(f),
            SqlValue::Text(s) => SqliteValue::Text(s),
        };
        out.push(name, v);
    }
    out
}

/// Compiles `filter` and `sort` with `resolver`; any problem is PocketBase's plain 400.
pub fn compile_list_sql(filter: &str, sort: &str, resolver: &mut dyn FieldResolver, prefix: &str) -> Result<ListSql, ApiError> {
    let bad = |e: FilterError| {
        tracing::debug!("invalid filter/sort: {e}");
        ApiError::bad_request("")
    };
    let mut params = Params::with_prefix(prefix, 0);
    let mut where_sql = String::new();
    if !filter.trim().is_empty() {
        let expr = parse(filter).map_err(bad)?;
        where_sql = format!(" WHERE {}", build_where(&expr, resolver, &mut params, &BuildOptions::default()).map_err(bad)?);
    }
    let mut order = vec![];
    for f in parse_sort(sort).map_err(bad)? {
        order.push(build_sort_field(&f, resolver, &mut params).map_err(bad)?);
    }
    let order_sql = if order.is_empty() { String::new() } else { format!(" ORDER BY {}", order.join(", ")) };
    Ok(ListSql { where_sql, order_sql, params: to_sql_params(params) })
}
