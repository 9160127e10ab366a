//! INSERT/UPDATE/DELETE of records, with PocketBase's unique-error mapping and the
//! relation cascade on delete.

use rusqlite::Connection;
use serde_json::Value;
use std::sync::Arc;

use super::values::{to_sql, to_string_list};
use super::Record;
use crate::db::quote_ident;
use crate::error::{ApiError, ApiResult, FieldError, ValidationErrors};
use crate::model::Collection;
use crate::schema_cache::Schema;

/// Maps a SQLite UNIQUE failure (`UNIQUE constraint failed: t.a, t.b`) to
/// `validation_not_unique` errors on the named columns.
pub fn unique_violation(e: &rusqlite::Error) -> Option<ValidationErrors> {
    let msg = e.to_string();
    let cols = msg.split("UNIQUE constraint failed:").nth(1)?;
    let mut errs = ValidationErrors::new();
    for part in cols.split(',') {
        let col = part.trim().rsplit('.').next().unwrap_or_default().to_string();
        if !col.is_empty() {
            errs.add(col, FieldError::new("validation_not_unique", "Value must be unique."));
        }
    }
    Some(errs)
}

fn write_error(e: rusqlite::Error, message: &str) -> ApiError {
    match unique_violation(&e) {
        Some(errs) => ApiError::validation(message, errs),
        None => {
            tracing::debug!("record write failed: {e}");
            ApiError::bad_request(message)
        }
    }
}

pub fn insert(conn: &Connection, rec: &Record) -> ApiResult<()> {
    let c = &rec.collection;
    let cols: Vec<String> = c.fields.iter().map(|f| quote_ident(&f.name)).collect();
    let marks: Vec<String> = (1..=c.fields.len()).map(|i| format!("?{i}")).collect();
    let sql = format!("INSERT INTO {} ({}) VALUES ({})", quote_ident(&c.name), cols.join(", "), marks.join(", "));
    let vals: Vec<_> = c.fields.iter().map(|f| to_sql(f, rec.get(&f.name))).collect();
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.execute(rusqlite::params_from_iter(vals)).map_err(|e| write_error(e, "Failed to create record."))?;
    crate::realtime::capture::record(crate::realtime::capture::Action::Create, rec);
    Ok(())
}

pub fn update(conn: &Connection, rec: &Record) -> ApiResult<()> {
    let c = &rec.collection;
    let sets: Vec<String> = c.fields.iter().enumerate().map(|(i, f)| format!("{} = ?{}", quote_ident(&f.name), i + 1)).collect();
    let id_pos = c.fields.len() + 1;
    let sql = format!("UPDATE {} SET {} WHERE id = ?{id_pos}", quote_ident(&c.name), sets.join(", "));
    let mut vals: Vec<_> = c.fields.iter().map(|f| to_sql(f, rec.get(&f.name))).collect();
    let original_id = rec.original("id").as_str().unwrap_or(rec.id()).to_string();
    vals.push(rusqlite::types::Value::Text(original_id));
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.execute(rusqlite::params_from_iter(vals)).map_err(|e| write_error(e, "Failed to update record."))?;
    crate::realtime::capture::record(crate::realtime::capture::Action::Update, rec);
    Ok(())
}

/// Loads a record by id (no rules).
pub fn find_by_id(conn: &Connection, c: &Arc<Collection>, id: &str) -> ApiResult<Option<Record>> {
    let sql = format!("SELECT {} FROM {} WHERE id = ?1 LIMIT 1", super::query::select_columns(c, None), quote_ident(&c.name));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(row) => Ok(Some(Record::from_columns(c.clone(), crate::db::row_to_values(row, c.fields.len())?))),
        None => Ok(None),
    }
}

/// Finds an auth record by an identity field; case-insensitive when the field's unique index
/// declares `COLLATE NOCASE`.
pub fn find_by_identity(conn: &Connection, c: &Arc<Collection>, field: &str, identity: &str) -> ApiResult<Option<Record>> {
    if c.field(field).is_none() {
        return Ok(None);
    }
    let nocase = c.indexes.iter().filter_map(|i| crate::schema::index::ParsedIndex::parse(i)).any(|idx| {
        idx.unique
            && idx.columns.len() == 1
            && idx.columns[0].name.eq_ignore_ascii_case(field)
            && idx.columns[0].collate.eq_ignore_ascii_case("nocase")
    });
    let collate = if nocase { " COLLATE NOCASE" } else { "" };
    let sql = format!(
        "SELECT {} FROM {} WHERE {} = ?1{collate} LIMIT 1",
        super::query::select_columns(c, None),
        quote_ident(&c.name),
        quote_ident(field)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([identity])?;
    match rows.next()? {
        Some(row) => Ok(Some(Record::from_columns(c.clone(), crate::db::row_to_values(row, c.fields.len())?))),
        None => Ok(None),
    }
}

const DELETE_FAILED: &str = "Failed to delete record. Make sure that the record is not part of a required relation reference.";

/// Deletes a record and applies PocketBase's relation cascade: references are removed from
/// relation fields; a reference left empty is deleted when the field cascades, and blocks the
/// delete when the field is required. Runs inside the caller's transaction.
pub fn delete(conn: &Connection, schema: &Schema, rec: &Record, depth: usize) -> ApiResult<()> {
    delete_collecting(conn, schema, rec, depth, &mut vec![])
}

/// [`delete`], also listing every deleted record (the record itself and cascaded ones) as
/// `(collectionId, recordId)` so their files can be removed after the commit.
pub fn delete_collecting(
    conn: &Connection,
    schema: &Schema,
    rec: &Record,
    depth: usize,
    deleted: &mut Vec<(String, String)>,
) -> ApiResult<()> {
    if depth > 32 {
        return Err(ApiError::bad_request(DELETE_FAILED));
    }
    let c = &rec.collection;
    let id = rec.id().to_string();
    for (ref_coll, field_name) in schema.references_to(&c.id) {
        let Some(field) = ref_coll.field(&field_name).cloned() else { continue };
        let col = quote_ident(&field_name);
        let table = quote_ident(&ref_coll.name);
        let sql = if field.is_multiple() {
            format!("SELECT id FROM {table} WHERE EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid({col}) THEN {col} ELSE '[]' END) je WHERE je.value = ?1)")
        } else {
            format!("SELECT id FROM {table} WHERE {col} = ?1")
        };
        let ids: Vec<String> = {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map([&id], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for ref_id in ids {
            if ref_coll.id == c.id && ref_id == id {
                continue; // self reference goes away with the row
            }
            let Some(mut other) = find_by_id(conn, &ref_coll, &ref_id)? else { continue };
            let remaining: Vec<String> = to_string_list(other.get(&field_name)).into_iter().filter(|v| *v != id).collect();
            if remaining.is_empty() {
                if field.opt_bool("cascadeDelete") {
                    delete_collecting(conn, schema, &other, depth + 1, deleted)?;
                    continue;
                }
                if field.required {
                    return Err(ApiError::bad_request(DELETE_FAILED));
                }
            }
            other.set(&field_name, Value::from(remaining));
            update(conn, &other)?;
        }
    }
    let sql = format!("DELETE FROM {} WHERE id = ?1", quote_ident(&c.name));
    conn.prepare_cached(&sql)?.execute([&id]).map_err(|_| ApiError::bad_request(DELETE_FAILED))?;
    deleted.push((c.id.clone(), id.clone()));
    crate::realtime::capture::record(crate::realtime::capture::Action::Delete, rec);
    if c.is_auth() {
        for t in ["_mfas", "_otps", "_externalAuths", "_authOrigins"] {
            conn.execute(&format!("DELETE FROM `{t}` WHERE collectionRef = ?1 AND recordRef = ?2"), [&c.id, &id])?;
        }
    }
    Ok(())
}
