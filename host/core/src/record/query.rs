//! Record list queries: WHERE (filter + rule), ORDER BY, paging and the total count.

use rusqlite::Connection;
use std::sync::Arc;

use super::Record;
use crate::db::{quote_ident, SqlParams};
use crate::error::ApiResult;
use crate::model::Collection;

pub const DEFAULT_PER_PAGE: i64 = 30;
pub const MAX_PER_PAGE: i64 = 1000;

/// `alias.col, ...` for the fields of a collection, in field order.
pub fn select_columns(c: &Collection, alias: Option<&str>) -> String {
    let prefix = alias.map(|a| format!("{}.", quote_ident(a))).unwrap_or_default();
    c.fields.iter().map(|f| format!("{prefix}{}", quote_ident(&f.name))).collect::<Vec<_>>().join(", ")
}

/// A compiled list request over one collection. The table is aliased by its own name.
#[derive(Debug, Default, Clone)]
pub struct RecordQuery {
    /// JOIN clauses needed by the conditions (relation paths).
    pub joins: Vec<String>,
    /// Conditions ANDed together.
    pub conditions: Vec<String>,
    pub params: SqlParams,
    pub order_by: Vec<String>,
    pub page: i64,
    pub per_page: i64,
    pub skip_total: bool,
}

#[derive(Debug)]
pub struct ListResult {
    pub items: Vec<Record>,
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
}

impl RecordQuery {
    fn from_and_where(&self, c: &Collection) -> String {
        let table = quote_ident(&c.name);
        let mut sql = format!(" FROM {table} {table}");
        for j in &self.joins {
            sql.push(' ');
            sql.push_str(j);
        }
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" AND "));
        }
        sql
    }

    /// Runs the page query (and the COUNT unless skipped).
    pub fn run(&self, conn: &Connection, c: &Arc<Collection>) -> ApiResult<ListResult> {
        let page = self.page.max(1);
        let per_page = if self.per_page <= 0 { DEFAULT_PER_PAGE } else { self.per_page.min(MAX_PER_PAGE) };
        let from_where = self.from_and_where(c);
        let distinct = if self.joins.is_empty() { "" } else { "DISTINCT " };
        let mut sql = format!("SELECT {distinct}{}{from_where}", select_columns(c, Some(&c.name)));
        if !self.order_by.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(&self.order_by.join(", "));
        }
        sql.push_str(&format!(" LIMIT {per_page} OFFSET {}", (page - 1) * per_page));
        let mut items = vec![];
        {
            let params = self.params.refs_used_in(&sql);
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params.as_slice())?;
            while let Some(row) = rows.next()? {
                items.push(Record::from_columns(c.clone(), crate::db::row_to_values(row, c.fields.len())?));
            }
        }
        let (total_items, total_pages) = if self.skip_total {
            (-1, -1)
        } else {
            let table = quote_ident(&c.name);
            // a join can repeat a row (and a view's ids need not be unique): count distinct
            // ids then; a plain table scan counts rows without the temporary b-tree
            let count_expr = match (c.is_view(), self.joins.is_empty()) {
                (true, _) => format!("DISTINCT {table}.id"),
                (false, false) => format!("DISTINCT {table}._rowid_"),
                (false, true) => "*".to_string(),
            };
            let count_sql = format!("SELECT COUNT({count_expr}){from_where}");
            let params = self.params.refs_used_in(&count_sql);
            let total: i64 = conn.prepare_cached(&count_sql)?.query_row(params.as_slice(), |r| r.get(0))?;
            (total, (total + per_page - 1) / per_page)
        };
        Ok(ListResult { items, page, per_page, total_items, total_pages })
    }

    /// Returns the first matching record (used for rule-gated view/update/delete).
    pub fn first(&self, conn: &Connection, c: &Arc<Collection>) -> ApiResult<Option<Record>> {
        let mut q = self.clone();
        q.page = 1;
        q.per_page = 1;
        q.skip_total = true;
        Ok(q.run(conn, c)?.items.into_iter().next())
    }
}
