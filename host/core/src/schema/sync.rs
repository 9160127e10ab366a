use rusqlite::Connection;

use super::index::ParsedIndex;
use crate::db::quote_ident;
use crate::error::{ApiError, ApiResult};
use crate::model::{Collection, CollectionType, Field};

fn exec(conn: &Connection, sql: &str) -> ApiResult<()> {
    conn.execute_batch(sql).map_err(|e| ApiError::bad_request("").with_data(raw_error_data(&e)))
}

fn raw_error_data(e: &rusqlite::Error) -> serde_json::Map<String, serde_json::Value> {
    tracing::debug!("schema sync failed: {e}");
    serde_json::Map::new()
}

/// `CREATE TABLE` with one column per field, alphabetically (as PocketBase does), then the
/// collection's indexes. Views are created from their query instead.
pub fn create_collection_table(conn: &Connection, c: &Collection) -> ApiResult<()> {
    if c.kind == CollectionType::View {
        return super::view::create_view(conn, &c.name, c.view_query());
    }
    let mut cols: Vec<&Field> = c.fields.iter().collect();
    cols.sort_by(|a, b| a.name.cmp(&b.name));
    let defs: Vec<String> = cols.iter().map(|f| format!("{} {}", quote_ident(&f.name), f.column_type())).collect();
    exec(conn, &format!("CREATE TABLE {} ({})", quote_ident(&c.name), defs.join(", ")))?;
    create_indexes(conn, c)
}

pub fn drop_collection_table(conn: &Connection, c: &Collection) -> ApiResult<()> {
    if c.kind == CollectionType::View {
        exec(conn, &format!("DROP VIEW IF EXISTS {}", quote_ident(&c.name)))
    } else {
        exec(conn, &format!("DROP TABLE IF EXISTS {}", quote_ident(&c.name)))
    }
}

fn create_indexes(conn: &Connection, c: &Collection) -> ApiResult<()> {
    for raw in &c.indexes {
        if let Some(mut idx) = ParsedIndex::parse(raw) {
            idx.table = c.name.clone();
            exec(conn, &idx.build())?;
        }
    }
    Ok(())
}

fn drop_indexes(conn: &Connection, c: &Collection) -> ApiResult<()> {
    for raw in &c.indexes {
        if let Some(idx) = ParsedIndex::parse(raw) {
            exec(conn, &format!("DROP INDEX IF EXISTS {}", quote_ident(&idx.name)))?;
        }
    }
    Ok(())
}

/// Brings the table of `old` in line with `new` (fields matched by id), never losing the
/// data of fields that survive. Must run inside a transaction.
pub fn sync_collection_table(conn: &Connection, old: &Collection, new: &Collection) -> ApiResult<()> {
    if new.kind == CollectionType::View {
        exec(conn, &format!("DROP VIEW IF EXISTS {}", quote_ident(&old.name)))?;
        return super::view::create_view(conn, &new.name, new.view_query());
    }
    let table = quote_ident(&new.name);
    if old.name != new.name {
        if old.name.eq_ignore_ascii_case(&new.name) {
            // SQLite treats case-only renames as no-ops on some versions: go through a temp name
            let tmp = quote_ident(&format!("_tmp_{}", new.name));
            exec(conn, &format!("ALTER TABLE {} RENAME TO {tmp}", quote_ident(&old.name)))?;
            exec(conn, &format!("ALTER TABLE {tmp} RENAME TO {table}"))?;
        } else {
            exec(conn, &format!("ALTER TABLE {} RENAME TO {table}", quote_ident(&old.name)))?;
        }
    }
    drop_indexes(conn, old)?;

    // removed fields
    for f in old.fields.iter().filter(|f| new.field_by_id(&f.id).is_none()) {
        exec(conn, &format!("ALTER TABLE {table} DROP COLUMN {}", quote_ident(&f.name)))?;
    }
    // renamed fields go through temp names so swaps work
    let mut renames = vec![];
    for nf in &new.fields {
        if let Some(of) = old.field_by_id(&nf.id) {
            if of.name != nf.name {
                let tmp = format!("_pbtmp_{}", nf.id);
                exec(conn, &format!("ALTER TABLE {table} RENAME COLUMN {} TO {}", quote_ident(&of.name), quote_ident(&tmp)))?;
                renames.push((tmp, nf.name.clone()));
            }
        }
    }
    for (tmp, name) in renames {
        exec(conn, &format!("ALTER TABLE {table} RENAME COLUMN {} TO {}", quote_ident(&tmp), quote_ident(&name)))?;
    }
    // added fields
    for nf in new.fields.iter().filter(|f| old.field_by_id(&f.id).is_none()) {
        exec(conn, &format!("ALTER TABLE {table} ADD COLUMN {} {}", quote_ident(&nf.name), nf.column_type()))?;
    }
    // single <-> multiple value conversions
    for nf in &new.fields {
        let Some(of) = old.field_by_id(&nf.id) else { continue };
        if of.kind != nf.kind || of.is_multiple() == nf.is_multiple() {
            continue;
        }
        convert_multiplicity(conn, &new.name, nf)?;
    }
    create_indexes(conn, new)
}

/// Rewrites a column between the single (text) and multiple (JSON array) representation:
/// single -> multi wraps non-empty values; multi -> single keeps the last element.
fn convert_multiplicity(conn: &Connection, table: &str, f: &Field) -> ApiResult<()> {
    let t = quote_ident(table);
    let col = quote_ident(&f.name);
    let tmp = quote_ident(&format!("_pbconv_{}", f.id));
    let expr = if f.is_multiple() {
        format!("CASE WHEN COALESCE({col}, '') = '' THEN '[]' ELSE (CASE WHEN json_valid({col}) AND json_type({col}) = 'array' THEN {col} ELSE json_array({col}) END) END")
    } else {
        format!("CASE WHEN json_valid({col}) AND json_type({col}) = 'array' THEN COALESCE(json_extract({col}, '$[#-1]'), '') ELSE COALESCE({col}, '') END")
    };
    exec(conn, &format!("ALTER TABLE {t} ADD COLUMN {tmp} {}", f.column_type()))?;
    exec(conn, &format!("UPDATE {t} SET {tmp} = {expr}"))?;
    exec(conn, &format!("ALTER TABLE {t} DROP COLUMN {col}"))?;
    exec(conn, &format!("ALTER TABLE {t} RENAME COLUMN {tmp} TO {col}"))
}
