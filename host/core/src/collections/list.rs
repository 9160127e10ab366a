//! `GET /api/collections`: filter/sort/paging over `_collections`.

use pocketbun_filter::{quote_ident, FieldResolver, FilterError, Params, Resolved};

use crate::app::App;
use crate::error::ApiResult;
use crate::list_sql::{compile_list_sql, ListSql};
use crate::model::Collection;
use crate::record::query::{DEFAULT_PER_PAGE, MAX_PER_PAGE};

/// Resolves a fixed set of plain columns of one table.
pub struct ColumnResolver {
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

impl FieldResolver for ColumnResolver {
    fn resolve(&mut self, identifier: &str, _params: &mut Params) -> Result<Resolved, FilterError> {
        if self.columns.contains(&identifier) {
            Ok(Resolved::sql(format!("{}.{}", quote_ident(self.table), quote_ident(identifier))))
        } else {
            Err(FilterError::invalid(format!("invalid filter field {identifier:?}")))
        }
    }
    fn rowid(&mut self) -> String {
        format!("{}._rowid_", quote_ident(self.table))
    }
}

pub struct CollectionsPage {
    pub items: Vec<Collection>,
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
}

/// Lists collections with the API's filter/sort columns (`id, created, updated, name, system, type`).
pub async fn list_collections(app: &App, filter: &str, sort: &str, page: i64, per_page: i64, skip_total: bool) -> ApiResult<CollectionsPage> {
    const COLUMNS: &[&str] = &["id", "created", "updated", "name", "system", "type"];
    let mut resolver = ColumnResolver { table: "_collections", columns: COLUMNS };
    let ListSql { where_sql, mut order_sql, params: sp } = compile_list_sql(filter, sort, &mut resolver, "c")?;
    if order_sql.is_empty() {
        order_sql = " ORDER BY `_collections`.rowid".to_string();
    }
    let page = page.max(1);
    let per_page = if per_page <= 0 { DEFAULT_PER_PAGE } else { per_page.min(MAX_PER_PAGE) };
    let schema = app.schema();
    app.data
        .read(move |conn| {
            let refs = sp.as_refs();
            let sql = format!(
                "SELECT `_collections`.id FROM `_collections`{where_sql}{order_sql} LIMIT {per_page} OFFSET {}",
                (page - 1) * per_page
            );
            let ids: Vec<String> = conn.prepare(&sql)?.query_map(refs.as_slice(), |r| r.get(0))?.collect::<Result<_, _>>()?;
            let items = ids.iter().filter_map(|id| schema.collections.iter().find(|c| &c.id == id).map(|c| (**c).clone())).collect();
            let (total_items, total_pages) = if skip_total {
                (-1, -1)
            } else {
                let n: i64 = conn.prepare(&format!("SELECT count(*) FROM `_collections`{where_sql}"))?.query_row(refs.as_slice(), |r| r.get(0))?;
                (n, (n + per_page - 1) / per_page)
            };
            Ok(CollectionsPage { items, page, per_page, total_items, total_pages })
        })
        .await
}
