//! Per-field-type value normalisation (PocketBase's loose casts) and the SQLite encoding.

use rusqlite::types::Value as SqliteValue;
use serde_json::{json, Value};

use crate::model::{Field, FieldType};
use crate::util::{normalize_date, number_json};

/// Casts an arbitrary JSON value to the string PocketBase's `cast.ToString` would give.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_f64().map(|f| number_json(f).to_string()).unwrap_or_else(|| n.to_string()),
        // Go's cast.ToString gives "" for maps and slices
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

pub fn to_number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        // strconv.ParseFloat: no surrounding whitespace allowed
        Value::String(s) => s.parse::<f64>().ok().filter(|f| f.is_finite()).unwrap_or(0.0),
        _ => 0.0,
    }
}

pub fn to_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
        Value::String(s) => matches!(s.as_str(), "true" | "1" | "TRUE" | "True" | "t" | "T"),
        _ => false,
    }
}

/// select/relation/file input to a de-duplicated list of non-empty strings.
pub fn to_string_list(v: &Value) -> Vec<String> {
    let raw: Vec<String> = match v {
        Value::Null => vec![],
        Value::Array(items) => items.iter().map(to_text).collect(),
        Value::String(s) if s.contains('[') => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(items)) => items.iter().map(to_text).collect(),
            _ => vec![s.clone()],
        },
        other => vec![to_text(other)],
    };
    let mut out: Vec<String> = vec![];
    for s in raw {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Normalises an input value for a field, as a write would store it.
pub fn normalize(field: &Field, v: &Value) -> Value {
    match field.kind {
        FieldType::Text | FieldType::Editor | FieldType::Email | FieldType::Url | FieldType::Password => {
            json!(to_text(v))
        }
        FieldType::Number => number_json(to_number(v)),
        FieldType::Bool => json!(to_bool(v)),
        FieldType::Date | FieldType::Autodate => json!(normalize_date_value(v)),
        FieldType::Select | FieldType::Relation | FieldType::File => {
            let list = to_string_list(v);
            if field.is_multiple() {
                json!(list)
            } else {
                json!(list.last().cloned().unwrap_or_default())
            }
        }
        FieldType::Json => normalize_json(v),
        FieldType::GeoPoint => normalize_geo(v),
    }
}

/// Date input to the canonical UTC string. Only strings are parsed, and unix timestamps are
/// not (PocketBase stores `""` for `1700000000` and `"1700000000"` alike).
pub fn normalize_date_value(v: &Value) -> String {
    match v {
        Value::String(s) if s.trim().parse::<f64>().is_err() => normalize_date(s),
        _ => String::new(),
    }
}

fn normalize_json(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let t = s.trim();
            let looks_json = t.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '"' | '[' | '{'))
                || matches!(t, "null" | "true" | "false");
            if looks_json {
                if let Ok(parsed) = serde_json::from_str::<Value>(t) {
                    return parsed;
                }
            }
            v.clone()
        }
        other => other.clone(),
    }
}

fn normalize_geo(v: &Value) -> Value {
    let obj = match v {
        Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    let lon = obj.get("lon").map(to_number).unwrap_or(0.0);
    let lat = obj.get("lat").map(to_number).unwrap_or(0.0);
    json!({"lon": number_json(lon), "lat": number_json(lat)})
}

/// The zero value of a field type (what an unset column reads as).
pub fn zero(field: &Field) -> Value {
    match field.kind {
        FieldType::Number => json!(0),
        FieldType::Bool => json!(false),
        FieldType::Json => Value::Null,
        FieldType::GeoPoint => json!({"lon": 0, "lat": 0}),
        FieldType::Select | FieldType::Relation | FieldType::File if field.is_multiple() => json!([]),
        _ => json!(""),
    }
}

/// Whether a value is "blank" for `required` purposes.
pub fn is_zero(field: &Field, v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => {
            if field.kind == FieldType::GeoPoint {
                to_number(o.get("lon").unwrap_or(&Value::Null)) == 0.0 && to_number(o.get("lat").unwrap_or(&Value::Null)) == 0.0
            } else {
                o.is_empty()
            }
        }
    }
}

/// Encodes a normalised value for its column.
pub fn to_sql(field: &Field, v: &Value) -> SqliteValue {
    match field.kind {
        FieldType::Number => {
            let f = to_number(v);
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                SqliteValue::Integer(f as i64)
            } else {
                SqliteValue::Real(f)
            }
        }
        FieldType::Bool => SqliteValue::Integer(i64::from(to_bool(v))),
        FieldType::Json => match v {
            Value::Null => SqliteValue::Null,
            other => SqliteValue::Text(other.to_string()),
        },
        FieldType::GeoPoint => SqliteValue::Text(v.to_string()),
        FieldType::Select | FieldType::Relation | FieldType::File if field.is_multiple() => {
            SqliteValue::Text(json!(to_string_list(v)).to_string())
        }
        _ => SqliteValue::Text(to_text(v)),
    }
}

/// Decodes a column value into the API value for the field.
pub fn from_sql(field: &Field, v: SqliteValue) -> Value {
    match field.kind {
        FieldType::Number => match v {
            SqliteValue::Integer(i) => json!(i),
            SqliteValue::Real(f) => number_json(f),
            SqliteValue::Text(s) => number_json(s.parse::<f64>().unwrap_or(0.0)),
            _ => json!(0),
        },
        FieldType::Bool => match v {
            SqliteValue::Integer(i) => json!(i != 0),
            SqliteValue::Real(f) => json!(f != 0.0),
            SqliteValue::Text(s) => json!(matches!(s.as_str(), "1" | "true" | "TRUE")),
            _ => json!(false),
        },
        FieldType::Json => match v {
            SqliteValue::Null => Value::Null,
            SqliteValue::Text(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
            SqliteValue::Integer(i) => json!(i),
            SqliteValue::Real(f) => number_json(f),
            SqliteValue::Blob(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
        },
        FieldType::GeoPoint => match v {
            SqliteValue::Text(s) => normalize_geo(&Value::String(s)),
            _ => json!({"lon": 0, "lat": 0}),
        },
        FieldType::Select | FieldType::Relation | FieldType::File => {
            let text = sql_text(v);
            if field.is_multiple() {
                json!(to_string_list(&Value::String(if text.is_empty() { "[]".into() } else { text })))
            } else {
                json!(text)
            }
        }
        _ => json!(sql_text(v)),
    }
}

fn sql_text(v: SqliteValue) -> String {
    match v {
        SqliteValue::Null => String::new(),
        SqliteValue::Integer(i) => i.to_string(),
        SqliteValue::Real(f) => number_json(f).to_string(),
        SqliteValue::Text(s) => s,
        SqliteValue::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_follow_pocketbase_rules() {
        let f = Field::new(FieldType::Json, "j");
        assert_eq!(normalize(&f, &json!("plain text")), json!("plain text"));
        assert_eq!(normalize(&f, &json!("[1,2]")), json!([1, 2]));
        assert_eq!(to_sql(&f, &json!("plain text")), SqliteValue::Text("\"plain text\"".into()));
    }

    #[test]
    fn lists_dedupe_and_single_keeps_last() {
        let mut f = Field::new(FieldType::Select, "s");
        assert_eq!(normalize(&f, &json!(["a", "b", "a", ""])), json!("b"));
        f.set_opt("maxSelect", json!(3));
        assert_eq!(normalize(&f, &json!("[\"a\",\"b\",\"a\"]")), json!(["a", "b"]));
    }

    #[test]
    fn dates_ignore_unix_seconds_and_convert_offsets() {
        let d = Field::new(FieldType::Date, "d");
        assert_eq!(normalize(&d, &json!("1700000000")), json!(""));
        assert_eq!(normalize(&d, &json!(1700000000)), json!(""));
        assert_eq!(normalize(&d, &json!("2024-01-02T10:00:00+02:00")), json!("2024-01-02 08:00:00.000Z"));
        assert_eq!(normalize(&d, &json!("2024-01-02 10:00:00.123456Z")), json!("2024-01-02 10:00:00.123Z"));
        assert_eq!(normalize(&d, &json!("not a date")), json!(""));
    }

    #[test]
    fn wrong_types_are_coerced() {
        let t = Field::new(FieldType::Text, "t");
        assert_eq!(normalize(&t, &json!({"a": 1})), json!(""));
        assert_eq!(normalize(&t, &json!(12345)), json!("12345"));
        let mut s = Field::new(FieldType::Select, "s");
        s.set_opt("maxSelect", json!(3));
        assert_eq!(normalize(&s, &json!({"a": 1})), json!([]));
        let g = Field::new(FieldType::GeoPoint, "g");
        assert_eq!(normalize(&g, &json!("nope")), json!({"lon": 0, "lat": 0}));
    }

    #[test]
    fn numbers_and_bools_cast_loosely() {
        let n = Field::new(FieldType::Number, "n");
        assert_eq!(normalize(&n, &json!("12")), json!(12));
        assert_eq!(normalize(&n, &json!(true)), json!(1));
        assert_eq!(normalize(&n, &json!("abc")), json!(0));
        let b = Field::new(FieldType::Bool, "b");
        assert_eq!(normalize(&b, &json!("1")), json!(true));
        assert_eq!(normalize(&b, &json!("no")), json!(false));
    }
}
