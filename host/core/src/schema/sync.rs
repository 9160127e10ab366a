//! Record tables of base/auth collections: creation, removal, and the sync that runs when a
//! collection changes (PocketBase's `SyncRecordTableSchema`). Fields are matched by id, so
//! renamed fields keep their data; only removed fields lose their column.

use rusqlite::Connection;

use super::index::ParsedIndex;
use super::sqlite_error_message;
use crate::db::quote_ident;
use crate::error::{FieldError, ValidationErrors};
use crate::model::{Collection, Field};
use crate::util::{random_string, ALPHANUMERIC};

/// Why a table sync failed: index statements SQLite rejected (reported like validation
/// errors under `indexes`), or any other database error.
#[derive(Debug)]
pub enum SyncError {
    Indexes(ValidationErrors),
    Db(String),
}

impl From<rusqlite::Error> for SyncError {
    fn from(e: rusqlite::Error) -> Self {
        SyncError::Db(sqlite_error_message(&e))
    }
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Indexes(_) => write!(f, "failed to create the collection indexes"),
            SyncError::Db(m) => write!(f, "{m}"),
        }
    }
}

type SyncResult = Result<(), SyncError>;

fn exec(conn: &Connection, sql: &str) -> SyncResult {
    conn.execute_batch(sql)?;
    Ok(())
}

/// `CREATE TABLE` with one column per field, in alphabetical order (as PocketBase's query
/// builder emits them), then the collection's indexes. Views have no table.
pub fn create_collection_table(conn: &Connection, c: &Collection) -> SyncResult {
    if c.is_view() {
        return Ok(());
    }
    let mut cols: Vec<&Field> = c.fields.iter().collect();
    cols.sort_by(|a, b| a.name.cmp(&b.name));
    let defs: Vec<String> = cols.iter().map(|f| format!("{} {}", quote_ident(&f.name), f.column_type())).collect();
    exec(conn, &format!("CREATE TABLE {} ({})", quote_ident(&c.name), defs.join(", ")))?;
    create_indexes(conn, c)
}

pub fn drop_collection_table(conn: &Connection, c: &Collection) -> SyncResult {
    let kind = if c.is_view() { "VIEW" } else { "TABLE" };
    exec(conn, &format!("DROP {kind} IF EXISTS {}", quote_ident(&c.name)))
}

/// Creates every index of the collection on its current table; failures are collected per
/// index position, like PocketBase's `createCollectionIndexes`.
fn create_indexes(conn: &Connection, c: &Collection) -> SyncResult {
    let mut errs = ValidationErrors::new();
    for (i, raw) in c.indexes.iter().enumerate() {
        let mut idx = ParsedIndex::parse_lenient(raw);
        idx.table = c.name.clone();
        if !idx.is_valid() {
            errs.add(i.to_string(), FieldError::new("validation_invalid_index_expression", "Invalid CREATE INDEX expression."));
            continue;
        }
        // a single prepared statement: anything smuggled after the WHERE clause is rejected
        if let Err(e) = conn.execute(&idx.build(), []) {
            let reason = match &e {
                rusqlite::Error::MultipleStatement => "multiple statements are not supported".to_string(),
                other => sqlite_error_message(other),
            };
            errs.add(
                i.to_string(),
                FieldError::new("validation_invalid_index_expression", format!("Failed to create index {} - {reason}.", idx.name)),
            );
        }
    }
    if errs.is_empty() {
        return Ok(());
    }
    let mut wrapped = ValidationErrors::new();
    wrapped.nest("indexes", errs);
    Err(SyncError::Indexes(wrapped))
}

fn drop_indexes(conn: &Connection, c: &Collection) -> SyncResult {
    for raw in &c.indexes {
        let idx = ParsedIndex::parse_lenient(raw);
        if idx.name.is_empty() {
            return Err(SyncError::Db(format!("failed to drop index - missing index name: {raw}")));
        }
        exec(conn, &format!("DROP INDEX IF EXISTS {}", quote_ident(&idx.name)))?;
    }
    Ok(())
}

fn has_table(conn: &Connection, name: &str) -> Result<bool, SyncError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type IN ('table', 'view') AND LOWER(name) = LOWER(?1)",
        [name],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Brings the table of `old` (None for a new collection) in line with `new`: renames the
/// table, drops removed columns, adds new ones, renames renamed ones (through temporary
/// names so that swaps work), converts single <-> multiple values and recreates indexes.
/// Must run inside a transaction.
pub fn sync_collection_table(conn: &Connection, old: Option<&Collection>, new: &Collection) -> SyncResult {
    if new.is_view() {
        return Ok(());
    }
    let Some(old) = old.filter(|o| has_table(conn, &o.name).unwrap_or(false)) else {
        return create_collection_table(conn, new);
    };
    let table = quote_ident(&new.name);
    // SQLite table names are case-insensitive: a case-only rename keeps the table
    let rename_table = !old.name.eq_ignore_ascii_case(&new.name);
    let fields_json = |c: &Collection| serde_json::to_string(&c.fields.iter().map(Field::to_json).collect::<Vec<_>>()).unwrap_or_default();
    let update_indexes = rename_table || fields_json(old) != fields_json(new) || old.indexes != new.indexes;

    if update_indexes {
        drop_indexes(conn, old)?;
    }
    if rename_table {
        exec(conn, &format!("ALTER TABLE {} RENAME TO {table}", quote_ident(&old.name)))?;
    }
    for f in old.fields.iter().filter(|f| new.field_by_id(&f.id).is_none()) {
        exec(conn, &format!("ALTER TABLE {table} DROP COLUMN {}", quote_ident(&f.name)))
            .map_err(|e| SyncError::Db(format!("failed to drop column {} - {e}", f.name)))?;
    }
    let mut renames = vec![];
    for nf in &new.fields {
        let temp = format!("{}{}", nf.name, random_string(5, ALPHANUMERIC));
        match old.field_by_id(&nf.id) {
            None => {
                exec(conn, &format!("ALTER TABLE {table} ADD COLUMN {} {}", quote_ident(&temp), nf.column_type()))
                    .map_err(|e| SyncError::Db(format!("failed to add column {} - {e}", nf.name)))?;
            }
            Some(of) if of.name != nf.name => {
                exec(conn, &format!("ALTER TABLE {table} RENAME COLUMN {} TO {}", quote_ident(&of.name), quote_ident(&temp)))
                    .map_err(|e| SyncError::Db(format!("failed to rename column {} - {e}", of.name)))?;
            }
            Some(_) => continue,
        }
        renames.push((temp, nf.name.clone()));
    }
    for (temp, name) in renames {
        exec(conn, &format!("ALTER TABLE {table} RENAME COLUMN {} TO {}", quote_ident(&temp), quote_ident(&name)))?;
    }
    for nf in &new.fields {
        let was_multiple = old.field_by_id(&nf.id).map(Field::is_multiple).unwrap_or(false);
        if was_multiple != nf.is_multiple() {
            convert_multiplicity(conn, &new.name, nf, was_multiple)?;
        }
    }
    if update_indexes {
        create_indexes(conn, new)?;
    }
    Ok(())
}

/// Rewrites a column between the single (text) and multiple (JSON array) representation:
/// single -> multiple wraps non-empty values; multiple -> single keeps the last element.
/// Views are dropped and recreated around the change since they may select the column.
fn convert_multiplicity(conn: &Connection, table: &str, f: &Field, was_multiple: bool) -> SyncResult {
    let views: Vec<(String, String)> = {
        let mut stmt = conn.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'view' AND sql IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (name, _) in &views {
        exec(conn, &format!("DROP VIEW IF EXISTS {}", quote_ident(name)))?;
    }
    let t = quote_ident(table);
    let col = quote_ident(&f.name);
    let old = quote_ident(&format!("_{}{}", f.name, random_string(5, ALPHANUMERIC)));
    let expr = if was_multiple {
        format!("CASE WHEN COALESCE({old}, '[]') = '[]' THEN '' ELSE (CASE WHEN json_valid({old}) AND json_type({old}) == 'array' THEN COALESCE(json_extract({old}, '$[#-1]'), '') ELSE {old} END) END")
    } else {
        format!("CASE WHEN COALESCE({old}, '') = '' THEN '[]' ELSE (CASE WHEN json_valid({old}) AND json_type({old}) == 'array' THEN {old} ELSE json_array({old}) END) END")
    };
    exec(conn, &format!("ALTER TABLE {t} RENAME COLUMN {col} TO {old}"))?;
    exec(conn, &format!("ALTER TABLE {t} ADD COLUMN {col} {}", f.column_type()))?;
    exec(conn, &format!("UPDATE {t} SET {col} = ({expr})"))?;
    exec(conn, &format!("ALTER TABLE {t} DROP COLUMN {old}"))?;
    for (_, sql) in &views {
        exec(conn, sql)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CollectionType, FieldType};
    use serde_json::json;

    fn collection(fields: Vec<Field>) -> Collection {
        let mut c = Collection::new(CollectionType::Base, "notes");
        c.fields.extend(fields);
        c.prepare_for_save(true, &|_| false);
        c
    }

    fn rows(conn: &Connection, sql: &str) -> Vec<Vec<String>> {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| Ok((0..n).map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")).unwrap()).collect()))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn renames_adds_and_drops_columns_keeping_data() {
        let conn = Connection::open_in_memory().unwrap();
        let old = collection(vec![Field::new(FieldType::Text, "keep"), Field::new(FieldType::Number, "old_name"), Field::new(FieldType::Text, "gone")]);
        sync_collection_table(&conn, None, &old).unwrap();
        conn.execute_batch("INSERT INTO notes (id, keep, old_name, gone) VALUES ('r1', 'k', 7, 'bye')").unwrap();

        let mut new = old.clone();
        new.name = "notes2".into();
        new.fields.retain(|f| f.name != "gone");
        new.field_mut("old_name").unwrap().name = "new_name".into();
        new.fields.push(Field::new(FieldType::Bool, "added"));
        new.prepare_for_save(false, &|_| false);
        sync_collection_table(&conn, Some(&old), &new).unwrap();

        assert_eq!(
            rows(&conn, "SELECT id, keep, new_name, added FROM notes2"),
            vec![vec!["Text(\"r1\")", "Text(\"k\")", "Integer(7)", "Integer(0)"]]
        );
        assert!(conn.prepare("SELECT gone FROM notes2").is_err());
    }

    #[test]
    fn swapping_two_field_names_keeps_each_value_with_its_field() {
        let conn = Connection::open_in_memory().unwrap();
        let old = collection(vec![Field::new(FieldType::Text, "a"), Field::new(FieldType::Text, "b")]);
        sync_collection_table(&conn, None, &old).unwrap();
        conn.execute_batch("INSERT INTO notes (id, a, b) VALUES ('r1', 'A', 'B')").unwrap();
        let mut new = old.clone();
        new.field_mut("a").unwrap().name = "tmp".into();
        new.field_mut("b").unwrap().name = "a".into();
        new.field_mut("tmp").unwrap().name = "b".into();
        sync_collection_table(&conn, Some(&old), &new).unwrap();
        assert_eq!(rows(&conn, "SELECT a, b FROM notes"), vec![vec!["Text(\"B\")", "Text(\"A\")"]]);
    }

    #[test]
    fn single_and_multiple_values_convert() {
        let conn = Connection::open_in_memory().unwrap();
        let mut sel = Field::new(FieldType::Select, "tags");
        sel.set_opt("values", json!(["a", "b"]));
        let old = collection(vec![sel]);
        sync_collection_table(&conn, None, &old).unwrap();
        conn.execute_batch("INSERT INTO notes (id, tags) VALUES ('r1', 'a'), ('r2', '')").unwrap();
        let mut multi = old.clone();
        multi.field_mut("tags").unwrap().set_opt("maxSelect", json!(2));
        sync_collection_table(&conn, Some(&old), &multi).unwrap();
        assert_eq!(rows(&conn, "SELECT tags FROM notes ORDER BY id"), vec![vec!["Text(\"[\\\"a\\\"]\")"], vec!["Text(\"[]\")"]]);
        conn.execute_batch("UPDATE notes SET tags = '[\"a\",\"b\"]' WHERE id = 'r1'").unwrap();
        sync_collection_table(&conn, Some(&multi), &old).unwrap();
        assert_eq!(rows(&conn, "SELECT tags FROM notes ORDER BY id"), vec![vec!["Text(\"b\")"], vec!["Text(\"\")"]]);
    }

    #[test]
    fn index_failures_are_reported_per_position() {
        let conn = Connection::open_in_memory().unwrap();
        let mut c = collection(vec![Field::new(FieldType::Text, "a")]);
        c.indexes = vec!["CREATE INDEX idx_ok ON notes (a)".into(), "CREATE INDEX idx_x ON notes (missing)".into()];
        match sync_collection_table(&conn, None, &c) {
            Err(SyncError::Indexes(e)) => assert_eq!(
                serde_json::Value::Object(e.into_map()).to_string(),
                r#"{"indexes":{"1":{"code":"validation_invalid_index_expression","message":"Failed to create index idx_x - SQL logic error: no such column: missing (1)."}}}"#
            ),
            other => panic!("unexpected {other:?}"),
        }
    }
}
