//! Field inference for view collections: run the query once and describe its columns.

use rusqlite::Connection;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::model::{Field, FieldType};
use crate::schema_cache::Schema;

/// Infers the fields of a view query: `id` becomes the text primary key; a column that
/// comes straight from a collection table clones that field (or becomes a relation when it
/// is that table's id); aggregates and casts become numbers/text/bools; the rest is json.
pub fn infer_view_fields(conn: &Connection, schema: &Schema, query: &str) -> ApiResult<Vec<Field>> {
    let q = query.trim().trim_end_matches(';');
    if q.is_empty() {
        return Err(ApiError::bad_request("empty query"));
    }
    let sql = format!("SELECT * FROM ({q}) LIMIT 0");
    let stmt = conn.prepare(&sql).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let lower = q.to_ascii_lowercase();
    let mut fields = vec![];
    let mut has_id = false;
    for i in 0..stmt.column_count() {
        let name = stmt.column_name(i).map_err(|e| ApiError::bad_request(e.to_string()))?.to_string();
        if name == "*" || name.contains('*') {
            return Err(ApiError::bad_request("the view query must not use *"));
        }
        let origin: Option<(String, String)> = stmt.column_metadata(i).ok().flatten().map(|m| {
            (m.1.to_string_lossy().into_owned(), m.2.to_string_lossy().into_owned())
        });
        if name == "id" {
            has_id = true;
            let mut f = crate::model::collection::id_field();
            f.set_opt("autogeneratePattern", json!(""));
            f.set_opt("min", json!(0));
            f.set_opt("max", json!(0));
            fields.push(f);
            continue;
        }
        let mut field = match origin.as_ref().and_then(|(t, c)| schema.find(t).map(|coll| (coll, c.clone()))) {
            Some((coll, col)) if col == "id" => {
                let mut f = Field::new(FieldType::Relation, &name);
                f.set_opt("collectionId", json!(coll.id));
                f.set_opt("maxSelect", json!(1));
                f
            }
            Some((coll, col)) => match coll.field(&col) {
                Some(src) => {
                    let mut f = src.clone();
                    f.name = name.clone();
                    f.system = false;
                    f.id = String::new();
                    f
                }
                None => Field::new(FieldType::Json, &name),
            },
            None => guess_expression_field(&lower, &name),
        };
        field.id = format!("_clone_{}", crc32fast::hash(format!("{q}{name}").as_bytes()) % 10_000);
        if field.kind != FieldType::Relation && origin.is_none() {
            field.id = Field::default_id(field.kind, &name);
        }
        fields.push(field);
    }
    if !has_id {
        return Err(ApiError::bad_request("missing required id column (you can use `(ROW_NUMBER() OVER()) as id` if you don't have one)"));
    }
    Ok(fields)
}

fn guess_expression_field(query_lower: &str, alias: &str) -> Field {
    // find "<expr> as alias" in the select list
    let needle = format!(" as {}", alias.to_ascii_lowercase());
    let expr = query_lower
        .find(&needle)
        .map(|pos| {
            let before = &query_lower[..pos];
            let start = before.rfind([',', '\n']).map(|p| p + 1).unwrap_or_else(|| before.find("select").map(|p| p + 6).unwrap_or(0));
            before[start..].trim().to_string()
        })
        .unwrap_or_default();
    let mut f = if expr.starts_with("count(") {
        let mut f = Field::new(FieldType::Number, alias);
        f.set_opt("onlyInt", json!(true));
        f
    } else if expr.starts_with("total(") {
        Field::new(FieldType::Number, alias)
    } else if let Some(cast) = expr.strip_prefix("cast(") {
        let ty = cast.rsplit(" as ").next().unwrap_or_default().trim_end_matches(')').trim().to_string();
        match ty.as_str() {
            "real" | "decimal" | "numeric" => Field::new(FieldType::Number, alias),
            "int" | "integer" => {
                let mut f = Field::new(FieldType::Number, alias);
                f.set_opt("onlyInt", json!(true));
                f
            }
            "text" => Field::new(FieldType::Text, alias),
            "bool" | "boolean" => Field::new(FieldType::Bool, alias),
            _ => Field::new(FieldType::Json, alias),
        }
    } else {
        Field::new(FieldType::Json, alias)
    };
    f.name = alias.to_string();
    f
}
