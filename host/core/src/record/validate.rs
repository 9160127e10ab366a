//! Field-level validation of a record before it is written (PocketBase's codes/messages).

use rusqlite::Connection;
use serde_json::Value;

use super::values::{is_zero, to_number, to_string_list};
use super::Record;
use crate::db::quote_ident;
use crate::error::{FieldError, ValidationErrors};
use crate::files::names::is_valid_stored_name;
use crate::files::PendingUpload;
use crate::model::{Field, FieldType};
use crate::schema_cache::Schema;
use crate::util::number_json;
use crate::validate::{domain_of, is_email, is_url};

const DEFAULT_TEXT_MAX: i64 = 5000;
const DEFAULT_EDITOR_MAX_SIZE: usize = 5 << 20;
const DEFAULT_JSON_MAX_SIZE: usize = 1 << 20;
const DEFAULT_FILE_MAX_SIZE: usize = 5 << 20;

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
        return validate_password(rec, f, v);
    }
    if f.is_primary_key() {
        return validate_pk(conn, rec, f, v);
    }
    if f.kind == FieldType::File {
        return validate_files(rec, f, v);
    }
    if f.kind == FieldType::Json {
        return validate_json(f, v);
    }
    if is_zero(f, v) {
        return (f.required && f.kind != FieldType::Autodate).then(FieldError::required);
    }
    match f.kind {
        FieldType::Text => validate_text(f, v.as_str().unwrap_or_default()),
        FieldType::Editor => {
            let max = usize::try_from(f.opt_i64("maxSize")).ok().filter(|m| *m > 0).unwrap_or(DEFAULT_EDITOR_MAX_SIZE);
            (v.as_str().unwrap_or_default().len() > max).then(|| {
                FieldError::new("validation_content_size_limit", format!("The maximum allowed content size is {max} bytes."))
                    .param("maxSize", max)
            })
        }
        FieldType::Number => validate_number(f, to_number(v)),
        FieldType::Email => validate_domain(f, v.as_str().unwrap_or_default(), true),
        FieldType::Url => validate_domain(f, v.as_str().unwrap_or_default(), false),
        FieldType::Date => validate_date(f, v.as_str().unwrap_or_default()),
        FieldType::Select => validate_select(f, v),
        FieldType::Relation => validate_relation(conn, schema, f, v),
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
        FieldType::Bool | FieldType::Autodate | FieldType::Password | FieldType::File | FieldType::Json => None,
    }
}

/// Passwords: the stored hash for `required`, the plain value (when set now) for the rules.
fn validate_password(rec: &Record, f: &Field, hash: &Value) -> Option<FieldError> {
    if f.required && hash.as_str().unwrap_or_default().is_empty() {
        return Some(FieldError::required());
    }
    let plain = rec.plain_passwords.get(&f.name)?;
    super::write::validate_plain_password(f, plain)
}

fn validate_json(f: &Field, v: &Value) -> Option<FieldError> {
    let max = usize::try_from(f.opt_i64("maxSize")).ok().filter(|m| *m > 0).unwrap_or(DEFAULT_JSON_MAX_SIZE);
    let raw = if v.is_null() { String::new() } else { v.to_string() };
    if raw.len() > max {
        return Some(
            FieldError::new("validation_json_size_limit", format!("The maximum allowed JSON size is {max} bytes.")).param("maxSize", max),
        );
    }
    let empty = matches!(raw.trim(), "" | "null" | "\"\"" | "[]" | "{}");
    (f.required && empty).then(FieldError::required)
}

/// File values: names already stored on the record or uploads made in this request.
fn validate_files(rec: &Record, f: &Field, v: &Value) -> Option<FieldError> {
    let names = to_string_list(v);
    if names.is_empty() {
        return f.required.then(FieldError::required);
    }
    let old = to_string_list(rec.original(&f.name));
    let uploads: Vec<&PendingUpload> = rec.uploads.iter().filter(|u| u.field == f.name).collect();
    let invalid: Vec<String> = names
        .iter()
        .filter(|n| !old.contains(n) && !uploads.iter().any(|u| &u.name == *n))
        .map(|n| n.chars().take(250).collect())
        .collect();
    if !invalid.is_empty() {
        return Some(
            FieldError::new("validation_invalid_file", format!("Invalid new files: [{}].", invalid.join(" ")))
                .param("invalidFiles", invalid),
        );
    }
    let max_select = f.opt_i64("maxSelect").max(1) as usize;
    if names.len() > max_select {
        return Some(
            FieldError::new("validation_too_many_files", format!("The maximum allowed files is {max_select}.")).param("maxSelect", max_select),
        );
    }
    uploads.iter().filter(|u| names.contains(&u.name)).find_map(|u| validate_upload(f, u))
}

fn validate_upload(f: &Field, u: &PendingUpload) -> Option<FieldError> {
    let len = u.name.chars().count();
    if !(1..=150).contains(&len) {
        return Some(
            FieldError::new("validation_length_out_of_range", "The length must be between 1 and 150.").param("min", 1).param("max", 150),
        );
    }
    if !is_valid_stored_name(&u.name) {
        return Some(FieldError::new("validation_match_invalid", "Must be in a valid format."));
    }
    let max_size = usize::try_from(f.opt_i64("maxSize")).ok().filter(|m| *m > 0).unwrap_or(DEFAULT_FILE_MAX_SIZE);
    if u.size() > max_size {
        return Some(
            FieldError::new("validation_file_size_limit", format!("Failed to upload {} - the maximum allowed file size is {max_size} bytes.", u.original_name))
                .param("file", u.original_name.clone())
                .param("maxSize", max_size),
        );
    }
    let allowed = f.opt_strings("mimeTypes");
    let base_type = u.content_type.split(';').next().unwrap_or_default().trim().to_string();
    if !allowed.is_empty() && !allowed.iter().any(|t| t.eq_ignore_ascii_case(&base_type) || t.eq_ignore_ascii_case(&u.content_type)) {
        return Some(FieldError::new(
            "validation_invalid_mime_type",
            format!("{:?} mime type must be one of: {}.", u.name, allowed.join(", ")),
        ));
    }
    None
}

const DEFAULT_ID_PATTERN: &str = "^[a-z0-9]+$";
const FORBIDDEN_PK_CHARS: &[&str] = &[".", "/", "\\", "|", "\"", "'", "`", "<", ">", ":", "?", "*", "%", "$", "\0", "\t", "\n", "\r", " "];
const RESERVED_PKS: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn validate_pk(conn: &Connection, rec: &Record, f: &Field, v: &Value) -> Option<FieldError> {
    let id = v.as_str().unwrap_or_default();
    if let Some(orig) = rec.original.as_ref().and_then(|o| o.get(&f.name)).and_then(Value::as_str) {
        if orig != id {
            return Some(FieldError::new("validation_pk_change", "The record primary key cannot be changed."));
        }
        // ids may come from imports that don't follow the current rules
        return None;
    }
    let pattern = f.opt_str("pattern");
    if pattern != DEFAULT_ID_PATTERN && pk_exists_nocase(conn, &rec.collection.name, id) {
        return Some(FieldError::new("validation_pk_invalid", "The record primary key is invalid or already exists."));
    }
    if id.is_empty() {
        return Some(FieldError::required());
    }
    if let Some(e) = validate_text(f, id) {
        return Some(e);
    }
    if pattern != DEFAULT_ID_PATTERN {
        if let Some(ch) = FORBIDDEN_PK_CHARS.iter().find(|ch| id.contains(*ch)) {
            return Some(
                FieldError::new("validation_forbidden_pk_character", format!("'{ch}' is not a valid primary key character."))
                    .param("ch", *ch),
            );
        }
        if let Some(r) = RESERVED_PKS.iter().find(|r| r.eq_ignore_ascii_case(id)) {
            return Some(
                FieldError::new("validation_reserved_pk", format!("The primary key '{r}' is reserved and cannot be used."))
                    .param("reserved", *r),
            );
        }
    }
    None
}

fn pk_exists_nocase(conn: &Connection, table: &str, id: &str) -> bool {
    let sql = format!("SELECT 1 FROM {} WHERE id = ?1 COLLATE NOCASE LIMIT 1", quote_ident(table));
    conn.prepare_cached(&sql).and_then(|mut st| st.exists([id])).unwrap_or(true)
}

/// Text constraints of a non-empty value (length in characters, pattern).
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
    if max > 0 && len > max {
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
    if let Some(min) = f.opt_f64("min").filter(|min| n < *min) {
        let min = number_json(min);
        return Some(FieldError::new("validation_min_number_constraint", format!("Must be greater or equal than {min}.")).param("min", min));
    }
    if let Some(max) = f.opt_f64("max").filter(|max| n > *max) {
        let max = number_json(max);
        return Some(FieldError::new("validation_max_number_constraint", format!("Must be less or equal than {max}.")).param("max", max));
    }
    None
}

fn validate_domain(f: &Field, s: &str, email: bool) -> Option<FieldError> {
    if email && !is_email(s) {
        return Some(FieldError::new("validation_is_email", "Must be a valid email address."));
    }
    if !email && !is_url(s) {
        return Some(FieldError::new("validation_invalid_url", "Must be a valid url."));
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
    let value = crate::util::parse_date(s)?;
    let bound = |key: &str| crate::util::parse_date(f.opt_str(key));
    if let Some(min) = bound("min").filter(|min| value < *min) {
        return Some(date_threshold_error("validation_min_greater_equal_than_required", "Must be no less than", min));
    }
    if let Some(max) = bound("max").filter(|max| value > *max) {
        return Some(date_threshold_error("validation_max_less_equal_than_required", "Must be no greater than", max));
    }
    None
}

/// ozzo-validation's threshold error: the message shows Go's `time.Time` string, the param
/// its JSON (RFC 3339) form.
fn date_threshold_error(code: &str, prefix: &str, t: chrono::DateTime<chrono::Utc>) -> FieldError {
    let frac = t.format("%.f").to_string();
    let frac = frac.trim_end_matches('0').trim_end_matches('.');
    let go_string = format!("{}{frac} +0000 UTC", t.format("%Y-%m-%d %H:%M:%S"));
    let rfc3339 = t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    FieldError::new(code, format!("{prefix} {go_string}.")).param("threshold", rfc3339)
}

fn validate_select(f: &Field, v: &Value) -> Option<FieldError> {
    let list = to_string_list(v);
    let allowed = f.opt_strings("values");
    let max = f.opt_i64("maxSelect").max(1) as usize;
    if list.len() > max {
        return Some(FieldError::new("validation_too_many_values", format!("Select no more than {max}.")).param("maxSelect", max));
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
        return Some(FieldError::new("validation_not_enough_values", format!("Select at least {min}.")).param("minSelect", min));
    }
    if ids.len() > max {
        return Some(FieldError::new("validation_too_many_values", format!("Select no more than {max}.")).param("maxSelect", max));
    }
    let Some(target) = schema.find(f.opt_str("collectionId")) else {
        return Some(FieldError::new("validation_missing_rel_collection", "Relation connection is missing or cannot be accessed."));
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
