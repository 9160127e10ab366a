//! Field-level validation of a record before it is written (PocketBase's codes/messages).

use rusqlite::Connection;
use serde_json::Value;

use super::values::{is_zero, to_number, to_string_list};
use super::Record;
use crate::db::quote_ident;
use crate::error::{FieldError, ValidationErrors};
use crate::model::{Field, FieldType};
use crate::schema_cache::Schema;
use crate::validate::{domain_of, is_email, is_url};

const DEFAULT_TEXT_MAX: i64 = 5000;
const DEFAULT_EDITOR_MAX_SIZE: usize = 5 << 20;
const DEFAULT_JSON_MAX_SIZE: usize = 1 << 20;

/// Validates every field of `rec`; relation ids are checked against the database.
pub fn validate_record(conn: &Connection, schema: &Schema, rec: &Record) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    for f in &rec.collection.fields {
        let v = rec.get(&f.name);
        if let Some(e) = validate_field(conn, schema, rec, f, v) {
            errs.add(&f.name, e);
        }
    }
    errs
}

fn validate_field(conn: &Connection, schema: &Schema, rec: &Record, f: &Field, v: &Value) -> Option<FieldError> {
    if f.kind == FieldType::Password {
        return None; // validated on the plain value by the write path
    }
    if f.is_primary_key() {
        return validate_pk(rec, f, v);
    }
    if is_zero(f, v) {
        return (f.required && f.kind != FieldType::Autodate).then(FieldError::required);
    }
    match f.kind {
        FieldType::Text => validate_text(f, v.as_str().unwrap_or_default()),
        FieldType::Editor => {
            let max = usize::try_from(f.opt_i64("maxSize")).ok().filter(|m| *m > 0).unwrap_or(DEFAULT_EDITOR_MAX_SIZE);
            (v.as_str().unwrap_or_default().len() > max).then(|| {
                FieldError::new("validation_content_size_limit", format!("The maximum allowed content size is {max} bytes")).param("maxSize", max)
            })
        }
        FieldType::Number => validate_number(f, to_number(v)),
        FieldType::Email => validate_domain(f, v.as_str().unwrap_or_default(), true),
        FieldType::Url => validate_domain(f, v.as_str().unwrap_or_default(), false),
        FieldType::Date => validate_date(f, v.as_str().unwrap_or_default()),
        FieldType::Select => validate_select(f, v),
        FieldType::Relation => validate_relation(conn, schema, f, v),
        FieldType::Json => {
            let max = usize::try_from(f.opt_i64("maxSize")).ok().filter(|m| *m > 0).unwrap_or(DEFAULT_JSON_MAX_SIZE);
            (v.to_string().len() > max).then(|| {
                FieldError::new("validation_json_size_limit", format!("The maximum allowed JSON size is {max} bytes")).param("maxSize", max)
            })
        }
        FieldType::GeoPoint => {
            let lon = to_number(v.get("lon").unwrap_or(&Value::Null));
            let lat = to_number(v.get("lat").unwrap_or(&Value::Null));
            if !(-90.0..=90.0).contains(&lat) {
                Some(FieldError::new("validation_invalid_latitude", "Latitude must be between -90 and 90 degrees."))
            } else if !(-180.0..=180.0).contains(&lon) {
                Some(FieldError::new("validation_invalid_longitude", "Longitude must be between -180 and 180 degrees."))
            } else {
                None
            }
        }
        FieldType::File => {
            let max = f.opt_i64("maxSelect").max(1) as usize;
            let n = to_string_list(v).len();
            (n > max).then(|| FieldError::new("validation_too_many_values", format!("Select no more than {max}")).param("maxSelect", max))
        }
        FieldType::Bool | FieldType::Autodate | FieldType::Password => None,
    }
}

fn validate_pk(rec: &Record, f: &Field, v: &Value) -> Option<FieldError> {
    let id = v.as_str().unwrap_or_default();
    if let Some(orig) = rec.original.as_ref().and_then(|o| o.get(&f.name)).and_then(Value::as_str) {
        if orig != id {
            return Some(FieldError::new("validation_pk_change", "The record primary key cannot be changed."));
        }
        return None;
    }
    if id.is_empty() {
        return Some(FieldError::required());
    }
    if id.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
        return Some(FieldError::new("validation_forbidden_pk_character", "'/', '\\', '.' and spaces are not allowed characters."));
    }
    if ["_new", "new"].contains(&id.to_ascii_lowercase().as_str()) {
        return Some(FieldError::new("validation_reserved_pk", "The id is reserved."));
    }
    validate_text(f, id)
}

pub fn validate_text(f: &Field, s: &str) -> Option<FieldError> {
    let len = s.chars().count() as i64;
    let min = f.opt_i64("min");
    let max = match f.opt_i64("max") {
        0 => DEFAULT_TEXT_MAX,
        m => m,
    };
    if min > 0 && len < min {
        return Some(FieldError::new("validation_min_text_constraint", format!("Must be at least {min} character(s).")).param("min", min));
    }
    if len > max {
        return Some(FieldError::new("validation_max_text_constraint", format!("Must be no more than {max} character(s).")).param("max", max));
    }
    let pattern = f.opt_str("pattern");
    if !pattern.is_empty() {
        match regex::Regex::new(pattern) {
            Ok(re) if re.is_match(s) => {}
            _ => return Some(FieldError::new("validation_invalid_format", "Invalid value format.")),
        }
    }
    None
}

fn validate_number(f: &Field, n: f64) -> Option<FieldError> {
    if !n.is_finite() {
        return Some(FieldError::new("validation_not_a_number", "The submitted number is not properly formatted."));
    }
    if f.opt_bool("onlyInt") && n.fract() != 0.0 {
        return Some(FieldError::new("validation_only_int_constraint", "Decimal numbers are not allowed."));
    }
    if let Some(min) = f.opt_f64("min") {
        if n < min {
            return Some(FieldError::new("validation_min_number_constraint", format!("Must be larger than {}.", crate::util::number_json(min))).param("min", crate::util::number_json(min)));
        }
    }
    if let Some(max) = f.opt_f64("max") {
        if n > max {
            return Some(FieldError::new("validation_max_number_constraint", format!("Must be less than {}.", crate::util::number_json(max))).param("max", crate::util::number_json(max)));
        }
    }
    None
}

fn validate_domain(f: &Field, s: &str, email: bool) -> Option<FieldError> {
    if email && !is_email(s) {
        return Some(FieldError::new("validation_is_email", "Must be a valid email address."));
    }
    if !email && !is_url(s) {
        return Some(FieldError::new("validation_is_url", "Must be a valid url."));
    }
    let domain = domain_of(s, email);
    let except = f.opt_strings("exceptDomains");
    let only = f.opt_strings("onlyDomains");
    let blocked = (!except.is_empty() && except.iter().any(|d| d.eq_ignore_ascii_case(&domain)))
        || (!only.is_empty() && !only.iter().any(|d| d.eq_ignore_ascii_case(&domain)));
    blocked.then(|| {
        if email {
            FieldError::new("validation_email_domain_not_allowed", "Email domain is not allowed.")
        } else {
            FieldError::new("validation_url_domain_not_allowed", "Url domain is not allowed.")
        }
    })
}

fn validate_date(f: &Field, s: &str) -> Option<FieldError> {
    let min = f.opt_str("min");
    let max = f.opt_str("max");
    if !min.is_empty() && s < crate::util::normalize_date(min).as_str() {
        return Some(FieldError::new("validation_min_date_constraint", format!("Must be no less than {min}.")).param("min", min));
    }
    if !max.is_empty() && s > crate::util::normalize_date(max).as_str() {
        return Some(FieldError::new("validation_max_date_constraint", format!("Must be no greater than {max}.")).param("max", max));
    }
    None
}

fn validate_select(f: &Field, v: &Value) -> Option<FieldError> {
    let list = to_string_list(v);
    let allowed = f.opt_strings("values");
    let max = f.opt_i64("maxSelect").max(1) as usize;
    if list.len() > max {
        return Some(FieldError::new("validation_too_many_values", format!("Select no more than {max}")).param("maxSelect", max));
    }
    list.iter().find(|item| !allowed.contains(item)).map(|bad| {
        FieldError::new("validation_invalid_value", format!("Invalid value {bad}.")).param("value", bad.clone())
    })
}

fn validate_relation(conn: &Connection, schema: &Schema, f: &Field, v: &Value) -> Option<FieldError> {
    let ids = to_string_list(v);
    let max = f.opt_i64("maxSelect").max(1) as usize;
    let min = f.opt_i64("minSelect").max(0) as usize;
    if ids.len() < min {
        return Some(FieldError::new("validation_not_enough_values", format!("Select at least {min}")).param("minSelect", min));
    }
    if ids.len() > max {
        return Some(FieldError::new("validation_too_many_values", format!("Select no more than {max}")).param("maxSelect", max));
    }
    let Some(target) = schema.find(f.opt_str("collectionId")) else {
        return Some(FieldError::new("validation_missing_rel_collection", "Relation connection is missing or cannot be accessed"));
    };
    let placeholders = vec!["?"; ids.len()].join(",");
    let sql = format!("SELECT count(*) FROM {} WHERE id IN ({placeholders})", quote_ident(&target.name));
    let found: i64 = conn
        .prepare_cached(&sql)
        .and_then(|mut st| st.query_row(rusqlite::params_from_iter(ids.iter()), |r| r.get(0)))
        .unwrap_or(0);
    (found as usize != ids.len())
        .then(|| FieldError::new("validation_missing_rel_records", "Failed to find all relation records with the provided ids."))
}
