//! Small SQL helpers mirroring PocketBase's `dbutils` (JSON helpers) and `inflector.Columnify`.

use pocketbun_filter::quote_ident;

/// `` `alias`.`column` ``
pub fn col(alias: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(alias), quote_ident(name))
}

/// Keeps only the characters PocketBase's `Columnify` keeps (`\w . * - @ #`).
pub fn columnify(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*' | '-' | '@' | '#')).collect()
}

/// `json_each` over a column holding either a JSON array or a single value.
pub fn json_each(column: &str) -> String {
    format!("json_each(CASE WHEN iif(json_valid({column}), json_type({column})='array', FALSE) THEN {column} ELSE json_array({column}) END)")
}

/// Number of items of a column holding a JSON array, a single value or nothing.
pub fn json_array_length(column: &str) -> String {
    format!(
        "json_array_length(CASE WHEN iif(json_valid({column}), json_type({column})='array', FALSE) THEN {column} ELSE (CASE WHEN {column} = '' OR {column} IS NULL THEN json_array() ELSE json_array({column}) END) END)"
    )
}

/// `JSON_EXTRACT` that also works on non-JSON text. `paths` are the SQL of the `$…` and
/// `$.pb…` paths (bound parameters or constant literals).
pub fn json_extract(column: &str, path: &str, pb_path: &str) -> String {
    format!("(CASE WHEN json_valid({column}) THEN JSON_EXTRACT({column}, {path}) ELSE JSON_EXTRACT(json_object('pb', {column}), {pb_path}) END)")
}

/// Whether a single-column UNIQUE index on `column` exists among `indexes`
/// (PocketBase's `dbutils.FindSingleColumnUniqueIndex`).
pub fn has_single_column_unique_index(indexes: &[String], column: &str) -> bool {
    indexes.iter().filter_map(|i| crate::schema::index::ParsedIndex::parse(i)).any(|idx| {
        idx.unique && idx.columns.len() == 1 && idx.columns[0].name.eq_ignore_ascii_case(column)
    })
}
