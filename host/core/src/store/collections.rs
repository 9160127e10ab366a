use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{ApiError, ApiResult};
use crate::model::collection::CollectionRow;
use crate::model::Collection;

const SELECT: &str = "SELECT id, system, type, name, fields, indexes, listRule, viewRule, createRule, updateRule, deleteRule, options, created, updated FROM _collections";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CollectionRow> {
    Ok(CollectionRow {
        id: r.get(0)?,
        system: r.get(1)?,
        kind: r.get(2)?,
        name: r.get(3)?,
        fields: r.get(4)?,
        indexes: r.get(5)?,
        rules: [r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?],
        options: r.get(11)?,
        created: r.get(12)?,
        updated: r.get(13)?,
    })
}

/// All collections in rowid (creation) order.
pub fn load_all(conn: &Connection) -> ApiResult<Vec<Collection>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY rowid"))?;
    let rows = stmt.query_map([], read_row)?;
    let mut out = vec![];
    for row in rows {
        let row = row?;
        let name = row.name.clone();
        out.push(Collection::from_row(row).map_err(|e| ApiError::internal(format!("collection {name}: {}", e.0)))?);
    }
    Ok(out)
}

pub fn load_one(conn: &Connection, id: &str) -> ApiResult<Option<Collection>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?;
    let row = stmt.query_row([id], read_row).optional()?;
    row.map(|r| Collection::from_row(r).map_err(|e| ApiError::internal(e.0))).transpose()
}

pub fn insert(conn: &Connection, c: &Collection) -> ApiResult<()> {
    let (fields, indexes, options) = c.to_row_values();
    conn.execute(
        "INSERT INTO _collections (id, system, type, name, fields, indexes, listRule, viewRule, createRule, updateRule, deleteRule, options, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            c.id, c.system, c.kind.as_str(), c.name, fields, indexes, c.list_rule, c.view_rule,
            c.create_rule, c.update_rule, c.delete_rule, options, c.created, c.updated
        ],
    )?;
    Ok(())
}

pub fn update(conn: &Connection, c: &Collection) -> ApiResult<()> {
    let (fields, indexes, options) = c.to_row_values();
    conn.execute(
        "UPDATE _collections SET system = ?2, type = ?3, name = ?4, fields = ?5, indexes = ?6, listRule = ?7, viewRule = ?8, createRule = ?9, updateRule = ?10, deleteRule = ?11, options = ?12, updated = ?13 WHERE id = ?1",
        params![
            c.id, c.system, c.kind.as_str(), c.name, fields, indexes, c.list_rule, c.view_rule,
            c.create_rule, c.update_rule, c.delete_rule, options, c.updated
        ],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.execute("DELETE FROM _collections WHERE id = ?1", [id])?;
    Ok(())
}
