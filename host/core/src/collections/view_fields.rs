//! View collections: deriving the fields from the `SELECT` query (PocketBase's
//! `CreateViewFields`), the dry run used by validation and `POST /meta/dry-run-view`, and
//! the SQL view itself.
//!
//! Field inference follows PocketBase exactly: the select list is split into
//! `expression [as] alias` identifiers; `id` becomes the view's text primary key, `count(…)`
//! an integer number, `total(…)` a number, `cast(… as T)` a field of T, a column of a known
//! collection a clone of that field (random `_clone_XXXX` id) or a single relation when it
//! is that collection's `id`, and anything else a json field.

use regex::Regex;
use rusqlite::Connection;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::db::quote_ident;
use crate::model::collection::DEFAULT_ID_PATTERN;
use crate::model::field::add_field;
use crate::model::{Collection, CollectionType, Field, FieldType};
use crate::record::{Record, Visibility};
use crate::schema::sqlite_error_message;
use crate::schema::tokenizer::Tokenizer;
use crate::schema_cache::Schema;
use crate::util::{random_string, ALPHANUMERIC};

/// Fields inferred from a view query. On failure PocketBase still hands back the fields
/// found so far (validation reports on them), hence both parts.
#[derive(Debug, Default)]
pub struct ViewFields {
    pub fields: Vec<Field>,
    pub error: Option<String>,
}

/// One `SELECT`-list or `FROM`-list entry: the raw expression and its alias.
#[derive(Debug, Clone, PartialEq)]
struct Identifier {
    original: String,
    alias: String,
}

/// A field suggested for a column by looking at the query text.
struct QueryField {
    field: Field,
}

/// Trims whitespace and `;`, and rejects multiple statements.
pub fn normalize_view_select_query(query: &str) -> Result<String, String> {
    let q = query.trim().trim_matches(';').to_string();
    let parts = Tokenizer::new(&q, &[';']).scan_all().map_err(|e| e.to_string())?;
    if parts.len() > 1 {
        return Err("multiple statements are not supported".into());
    }
    Ok(q)
}

/// Infers the fields of a view query (see the module docs).
pub fn create_view_fields(conn: &Connection, schema: &Schema, query: &str) -> ViewFields {
    let mut out = ViewFields::default();
    let suggested = match parse_query_to_fields(schema, query) {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let columns = match query_column_info(conn, query) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let mut has_id = false;
    for (name, _) in columns {
        has_id |= name == "id";
        let field = match suggested.get(&name) {
            Some(q) => q.field.clone(),
            None => default_view_field(&name),
        };
        add_field(&mut out.fields, field);
    }
    if !has_id {
        out.error = Some("missing required id column (you can use `(ROW_NUMBER() OVER()) as id` if you don't have one)".into());
    }
    out
}

/// The result of a successful dry run: the fields and up to `sample_size` records.
pub struct DryRun {
    pub fields: Vec<Field>,
    pub sample: Vec<Value>,
}

/// Checks a view query the way PocketBase's `DryRunView` does: infer the fields, validate
/// their settings, then read a sample and make sure every record has a unique id.
pub fn dry_run_view(conn: &Connection, schema: &Schema, query: &str, sample_size: usize) -> Result<DryRun, String> {
    let query = normalize_view_select_query(query)?;
    let inferred = create_view_fields(conn, schema, &query);
    if let Some(e) = inferred.error {
        return Err(e);
    }
    let temp_name = format!("temp_view_{}", random_string(5, ALPHANUMERIC));
    let mut temp = Collection::new(CollectionType::View, &temp_name);
    temp.fields = inferred.fields;
    for (i, f) in temp.fields.iter().enumerate() {
        let errs = super::validate::validate_field_settings(f, &temp, None, schema);
        if !errs.is_empty() {
            return Err(format!("invalid field {:?} ({i}): {}", f.name, super::validate::plain_error_string(&errs)));
        }
    }
    let query = normalize_view_query_id(conn, &query)?;
    let temp = Arc::new(temp);
    let sql = format!(
        "SELECT {} FROM (SELECT * FROM ({query})) AS {} LIMIT {sample_size}",
        crate::record::query::select_columns(&temp, Some(&temp_name)),
        quote_ident(&temp_name)
    );
    let records = read_records(conn, &temp, &sql).map_err(|e| format!("failed to retrieve query records: {e}"))?;
    let mut ids: Vec<&str> = vec![];
    for r in &records {
        if r.id().is_empty() {
            return Err("the query could return records with empty or invalid ids".into());
        }
        if ids.contains(&r.id()) {
            return Err("the query could return records with non-unique ids".into());
        }
        ids.push(r.id());
    }
    let sample = records.iter().map(|r| r.to_json(Visibility::default())).collect();
    let fields = Arc::try_unwrap(temp).map(|c| c.fields).unwrap_or_else(|c| c.fields.clone());
    Ok(DryRun { fields, sample })
}

fn read_records(conn: &Connection, c: &Arc<Collection>, sql: &str) -> Result<Vec<Record>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| sqlite_error_message(&e))?;
    let n = c.fields.len();
    let rows = stmt
        .query_map([], |row| crate::db::row_to_values(row, n))
        .map_err(|e| sqlite_error_message(&e))?;
    let mut out = vec![];
    for row in rows {
        out.push(Record::from_columns(c.clone(), row.map_err(|e| sqlite_error_message(&e))?));
    }
    Ok(out)
}

/// Wraps the query so that its `id` column is TEXT (PocketBase only supports string ids);
/// queries whose id already is TEXT are returned as they are.
pub fn normalize_view_query_id(conn: &Connection, query: &str) -> Result<String, String> {
    let query = query.trim().trim_matches(';').to_string();
    let info = query_column_info(conn, &query)?;
    if info.iter().any(|(name, ty)| name.eq_ignore_ascii_case("id") && ty.eq_ignore_ascii_case("TEXT")) {
        return Ok(query);
    }
    let parsed = parse_identifiers(&query)?;
    let columns: Vec<String> = parsed
        .columns
        .iter()
        .map(|c| {
            let col = quote_ident(&c.alias);
            if c.alias == "id" {
                format!("CAST({col} as TEXT) {col}")
            } else {
                col
            }
        })
        .collect();
    Ok(format!("SELECT {} FROM ({query})", columns.join(",")))
}

/// (Re)creates the SQL view of a view collection.
pub fn save_view(conn: &Connection, name: &str, query: &str) -> Result<(), String> {
    let query = normalize_view_select_query(query)?;
    let view = quote_ident(name);
    let run = |sql: &str| conn.execute_batch(sql).map_err(|e| sqlite_error_message(&e));
    run(&format!("DROP VIEW IF EXISTS {view}"))?;
    run(&format!("CREATE VIEW {view} AS SELECT * FROM ({query})"))?;
    // reading the columns surfaces errors SQLite only reports on use
    if let Err(e) = table_info(conn, name) {
        let _ = run(&format!("DROP VIEW IF EXISTS {view}"));
        return Err(e);
    }
    Ok(())
}

/// Column names and declared types of a query, read from a throw-away view inside a
/// savepoint that is always rolled back.
fn query_column_info(conn: &Connection, query: &str) -> Result<Vec<(String, String)>, String> {
    let temp = format!("_temp_{}", random_string(6, ALPHANUMERIC));
    conn.execute_batch("SAVEPOINT pb_view_info").map_err(|e| sqlite_error_message(&e))?;
    let result = save_view(conn, &temp, query).and_then(|_| table_info(conn, &temp));
    let _ = conn.execute_batch("ROLLBACK TO pb_view_info; RELEASE pb_view_info");
    result
}

fn table_info(conn: &Connection, table: &str) -> Result<Vec<(String, String)>, String> {
    let sql = format!("PRAGMA table_info({})", quote_ident(table));
    let mut stmt = conn.prepare(&sql).map_err(|e| sqlite_error_message(&e))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?.unwrap_or_default())))
        .map_err(|e| sqlite_error_message(&e))?;
    let info = rows.collect::<Result<Vec<_>, _>>().map_err(|e| sqlite_error_message(&e))?;
    if info.is_empty() {
        return Err(format!("empty table info probably due to invalid or missing table {table}"));
    }
    Ok(info)
}

fn default_view_id_field() -> Field {
    let mut f = Field::new(FieldType::Text, "id");
    f.system = true;
    f.required = true;
    f.set_opt("primaryKey", serde_json::json!(true));
    f.set_opt("pattern", serde_json::json!(DEFAULT_ID_PATTERN));
    f
}

fn default_view_field(name: &str) -> Field {
    if name == "id" {
        return default_view_id_field();
    }
    // a json field's max size is unused for views, PocketBase sets 1
    let mut f = Field::new(FieldType::Json, name);
    f.set_opt("maxSize", serde_json::json!(1));
    f
}

fn cast_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?is)^cast\s*\(.*\s+as\s+(\w+)\s*\)$").expect("static regex"))
}

fn number_field(name: &str, only_int: bool) -> Field {
    let mut f = Field::new(FieldType::Number, name);
    f.set_opt("onlyInt", serde_json::json!(only_int));
    f
}

/// The field a select-list expression suggests without looking at any collection.
fn expression_field(original_lower: &str, alias: &str) -> Option<Field> {
    if original_lower.starts_with("count(") {
        return Some(number_field(alias, true));
    }
    if original_lower.starts_with("total(") {
        return Some(number_field(alias, false));
    }
    let cast = cast_regex().captures(original_lower)?;
    match cast.get(1)?.as_str() {
        "real" | "decimal" | "numeric" => Some(number_field(alias, false)),
        "int" | "integer" => Some(number_field(alias, true)),
        "text" => Some(Field::new(FieldType::Text, alias)),
        "boolean" | "bool" => Some(Field::new(FieldType::Bool, alias)),
        _ => None,
    }
}

fn parse_query_to_fields(schema: &Schema, query: &str) -> Result<HashMap<String, QueryField>, String> {
    let parsed = parse_identifiers(query)?;
    let collections = find_collections_by_identifiers(schema, &parsed.tables);
    let main_alias = parsed.tables.first().map(|t| t.alias.clone()).unwrap_or_default();
    let mut result = HashMap::new();
    for col in &parsed.columns {
        if col.alias == "*" {
            return Err("wildcard columns (*) are not supported - manually type the collection field names you want the view query to have".into());
        }
        let field = column_field(col, &collections, &main_alias);
        result.insert(col.alias.clone(), QueryField { field });
    }
    Ok(result)
}

/// The collection and original field a view column was selected from (PocketBase's
/// `findSingleViewQueryField`), `None` for expressions and unknown columns.
pub fn view_field_source(schema: &Schema, view: &Collection, field_name: &str) -> Option<(Arc<Collection>, String)> {
    let parsed = parse_identifiers(view.view_query()).ok()?;
    let collections = find_collections_by_identifiers(schema, &parsed.tables);
    let main_alias = parsed.tables.first().map(|t| t.alias.clone()).unwrap_or_default();
    let col = parsed.columns.iter().find(|c| c.alias == field_name)?;
    let parts: Vec<&str> = col.original.split('.').collect();
    let (name, collection) = match parts.as_slice() {
        [table, field] => (*field, collections.get(*table)),
        [field] => (*field, collections.get(&main_alias)),
        _ => return None,
    };
    let collection = collection?;
    let source = collection.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))?;
    Some((collection.clone(), source.name.clone()))
}

/// The suggested field of one select-list column.
fn column_field(col: &Identifier, collections: &HashMap<String, Arc<Collection>>, main_alias: &str) -> Field {
    if col.alias == "id" {
        return default_view_id_field();
    }
    if let Some(f) = expression_field(&col.original.to_lowercase(), &col.alias) {
        return f;
    }
    let parts: Vec<&str> = col.original.split('.').collect();
    let (field_name, collection) = match parts.as_slice() {
        [table, field] => (*field, collections.get(*table)),
        _ => (parts[0], collections.get(main_alias)),
    };
    let Some(collection) = collection else { return default_view_field(&col.alias) };
    let Some(source) = collection.fields.iter().find(|f| f.name.eq_ignore_ascii_case(field_name)) else {
        return default_view_field(&col.alias);
    };
    if field_name.eq_ignore_ascii_case("id") {
        let mut f = Field::new(FieldType::Relation, &col.alias);
        f.set_opt("maxSelect", serde_json::json!(1));
        f.set_opt("collectionId", serde_json::json!(collection.id));
        return f;
    }
    let mut clone = source.clone();
    clone.id = format!("_clone_{}", random_string(4, ALPHANUMERIC));
    clone.name = col.alias.clone();
    clone
}

/// Collections referenced in FROM/JOIN, keyed by their alias (exact name match).
fn find_collections_by_identifiers(schema: &Schema, tables: &[Identifier]) -> HashMap<String, Arc<Collection>> {
    let mut out = HashMap::new();
    for t in tables.iter().filter(|t| !t.alias.contains('(')) {
        if let Some(c) = schema.collections.iter().find(|c| c.name == t.original) {
            out.insert(t.alias.clone(), c.clone());
        }
    }
    out
}

#[derive(Debug, Default)]
struct ParsedQuery {
    columns: Vec<Identifier>,
    tables: Vec<Identifier>,
}

fn comments_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?m)(/\*[\s\S]*?\*/)|(--.+$)").expect("static regex"))
}

fn join_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?im)\s+(full\s+outer\s+join|left\s+outer\s+join|right\s+outer\s+join|full\s+join|cross\s+join|inner\s+join|outer\s+join|left\s+join|right\s+join|join)\s+?")
            .expect("static regex")
    })
}

fn discard_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?im)\s+(where|group\s+by|having|order|limit|with)\s+?").expect("static regex"))
}

#[derive(PartialEq)]
enum Part {
    None,
    Select,
    From,
    Join,
}

/// Splits a `SELECT` into its column and table identifiers (a port of PocketBase's
/// `identifiersParser`, including its simplifications: sub-clauses after WHERE/GROUP BY/…
/// and JOIN conditions are skipped).
fn parse_identifiers(query: &str) -> Result<ParsedQuery, String> {
    let s = query.trim().trim_matches(';');
    let s = comments_regex().replace_all(s, " ");
    let s = join_regex().replace_all(&s, " __pb_join__ ");
    let s = discard_regex().replace_all(&s, " __pb_discard__ ");

    let mut tk = Tokenizer::new(&s, &[',', ' ', '\n', '\t']).keep_separator(true);
    let (mut select, mut from, mut join) = (String::new(), String::new(), String::new());
    let mut part = Part::None;
    let mut skip = false;
    while let Some(token) = tk.scan() {
        let token = token.map_err(|e| e.to_string())?;
        let trimmed = token.trim().to_lowercase();
        match trimmed.as_str() {
            "select" => {
                skip = false;
                part = Part::Select;
            }
            "distinct" => {}
            "from" => {
                skip = false;
                part = Part::From;
            }
            "__pb_join__" => {
                skip = false;
                if part == Part::Join {
                    join.push(',');
                }
                part = Part::Join;
            }
            "__pb_discard__" => skip = true,
            _ => {
                if part == Part::Join && trimmed == "on" {
                    skip = true;
                }
                let target = match part {
                    Part::Select => Some(&mut select),
                    Part::From => Some(&mut from),
                    Part::Join => Some(&mut join),
                    Part::None => None,
                };
                if let (false, Some(t)) = (skip, target) {
                    t.push(' ');
                    t.push_str(&token);
                }
            }
        }
    }
    let mut tables = extract_identifiers(&from)?;
    tables.extend(extract_identifiers(&join)?);
    Ok(ParsedQuery { columns: extract_identifiers(&select)?, tables })
}

fn extract_identifiers(raw: &str) -> Result<Vec<Identifier>, String> {
    let mut out = vec![];
    for item in Tokenizer::new(raw, &[',']).scan_all().map_err(|e| e.to_string())? {
        let parts = Tokenizer::new(&item, &[' ', '\n', '\t']).scan_all().map_err(|e| e.to_string())?;
        out.push(identifier_from_parts(&parts)?);
    }
    Ok(out)
}

fn identifier_from_parts(parts: &[String]) -> Result<Identifier, String> {
    let (original, alias) = match parts {
        [original, as_kw, alias] => {
            if !as_kw.eq_ignore_ascii_case("as") {
                return Err(format!("invalid identifier part - expected \"as\", got {as_kw}"));
            }
            (original.clone(), alias.clone())
        }
        [original, alias] => (original.clone(), alias.clone()),
        [original] => (original.clone(), original.rsplit('.').next().unwrap_or_default().to_string()),
        _ => return Err(format!("invalid identifier parts [{}]", parts.join(" "))),
    };
    Ok(Identifier { original: trim_raw_identifier(&original, ""), alias: trim_raw_identifier(&alias, "'") })
}

fn trim_raw_identifier(raw: &str, extra: &str) -> String {
    let trim: Vec<char> = "`\"[];".chars().chain(extra.chars()).collect();
    raw.split('.').map(|p| p.trim_matches(trim.as_slice())).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Collection;

    fn ident(original: &str, alias: &str) -> Identifier {
        Identifier { original: original.into(), alias: alias.into() }
    }

    #[test]
    fn parses_columns_tables_and_joins() {
        let p = parse_identifiers(
            "SELECT DISTINCT t.id, t.label AS name, count(x.id) total FROM c_tags t LEFT JOIN other x ON x.tag = t.id WHERE 1 GROUP BY t.id",
        )
        .unwrap();
        assert_eq!(p.columns, vec![ident("t.id", "id"), ident("t.label", "name"), ident("count(x.id)", "total")]);
        assert_eq!(p.tables, vec![ident("c_tags", "t"), ident("other", "x")]);
    }

    #[test]
    fn strips_comments_and_quotes() {
        let p = parse_identifiers("select `a`.\"b\" as 'c' -- note\n from [a] /* x */").unwrap();
        assert_eq!(p.columns, vec![ident("a.b", "c")]);
        assert_eq!(p.tables, vec![ident("a", "a")]);
    }

    #[test]
    fn rejects_odd_identifiers_and_multiple_statements() {
        assert_eq!(
            parse_identifiers("select 1 as id union all select 1").unwrap_err(),
            "invalid identifier parts [1 as id union all 1]"
        );
        assert!(normalize_view_select_query("select 1 as id; select 2").is_err());
        assert_eq!(normalize_view_select_query(" select 1 as id;; ").unwrap(), "select 1 as id");
    }

    fn schema_with_tags(conn: &Connection) -> Schema {
        conn.execute_batch("CREATE TABLE c_tags (id TEXT PRIMARY KEY, label TEXT DEFAULT '' NOT NULL, n NUMERIC DEFAULT 0 NOT NULL)").unwrap();
        let mut c = Collection::new(CollectionType::Base, "c_tags");
        c.fields.push(Field::new(FieldType::Text, "label"));
        c.fields.push(Field::new(FieldType::Number, "n"));
        c.prepare_for_save(true, &|_| false);
        Schema::new(vec![c], 1)
    }

    #[test]
    fn infers_clones_relations_and_expressions() {
        let conn = Connection::open_in_memory().unwrap();
        let schema = schema_with_tags(&conn);
        let v = create_view_fields(
            &conn,
            &schema,
            "SELECT t.id, t.label, t.id AS tag, count(t.n) AS total, cast(t.n as int) AS ni, (t.n * 2) AS doubled FROM c_tags t GROUP BY t.id",
        );
        assert_eq!(v.error, None);
        let by_name = |n: &str| v.fields.iter().find(|f| f.name == n).unwrap().clone();
        assert!(by_name("id").is_primary_key());
        assert_eq!(by_name("id").id, "text3208210256");
        let label = by_name("label");
        assert!(label.id.starts_with("_clone_") && label.id.len() == 11);
        assert_eq!(label.kind, FieldType::Text);
        let tag = by_name("tag");
        assert_eq!((tag.kind, tag.opt_str("collectionId"), tag.opt_i64("maxSelect")), (FieldType::Relation, schema.collections[0].id.as_str(), 1));
        assert_eq!(tag.id, Field::default_id(FieldType::Relation, "tag"));
        assert!(by_name("total").opt_bool("onlyInt"));
        assert!(by_name("ni").opt_bool("onlyInt"));
        let doubled = by_name("doubled");
        assert_eq!((doubled.kind, doubled.opt_i64("maxSize")), (FieldType::Json, 1));
    }

    #[test]
    fn missing_id_and_wildcards_are_errors() {
        let conn = Connection::open_in_memory().unwrap();
        let schema = schema_with_tags(&conn);
        let no_id = create_view_fields(&conn, &schema, "SELECT label FROM c_tags");
        assert!(no_id.error.unwrap().starts_with("missing required id column"));
        assert_eq!(no_id.fields.len(), 1, "the fields found so far are still returned");
        let star = create_view_fields(&conn, &schema, "SELECT * FROM c_tags");
        assert!(star.error.unwrap().starts_with("wildcard columns"));
        assert!(star.fields.is_empty());
        // nothing is left behind by the temporary views
        let views: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'view'", [], |r| r.get(0)).unwrap();
        assert_eq!(views, 0);
    }

    #[test]
    fn dry_run_checks_sample_ids() {
        let conn = Connection::open_in_memory().unwrap();
        let schema = schema_with_tags(&conn);
        let ok = dry_run_view(&conn, &schema, "select (ROW_NUMBER() OVER()) as id, 'a' as b", 10).unwrap();
        assert_eq!(ok.sample.len(), 1);
        assert_eq!(ok.sample[0]["id"], "1");
        let dup = dry_run_view(&conn, &schema, "select 1 as id from (select 1 union all select 2)", 10);
        assert_eq!(dup.err().unwrap(), "the query could return records with non-unique ids");
    }
}
