//! Applying a create/update request body to a record: field modifiers, hidden-field
//! filtering, auth password rules, and the values PocketBase fills in on save.

use serde_json::{json, Map, Value};

use super::values::{to_number, to_string_list};
use super::Record;
use crate::auth::password;
use crate::error::{FieldError, ValidationErrors};
use crate::model::{Field, FieldType};
use crate::util::{new_record_id, now_string, random_string, ALPHANUMERIC};

/// Who is writing: decides which keys are accepted.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteAccess {
    /// Superuser: hidden fields writable, no old password needed.
    pub superuser: bool,
    /// Superuser or manageRule match on an auth collection.
    pub manager: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Modifier {
    Set,
    Append,
    Prepend,
    Remove,
    Autogenerate,
}

fn split_modifier<'a>(key: &'a str, rec: &'a Record) -> Option<(&'a Field, Modifier)> {
    let c = &rec.collection;
    if let Some(f) = c.field(key) {
        return Some((f, Modifier::Set));
    }
    let multi_kind = |f: &Field| matches!(f.kind, FieldType::Number | FieldType::Select | FieldType::Relation | FieldType::File);
    if let Some(name) = key.strip_suffix(":autogenerate") {
        return c.field(name).filter(|f| f.kind == FieldType::Text).map(|f| (f, Modifier::Autogenerate));
    }
    if let Some(name) = key.strip_suffix('+') {
        return c.field(name).filter(|f| multi_kind(f)).map(|f| (f, Modifier::Append));
    }
    if let Some(name) = key.strip_prefix('+') {
        return c.field(name).filter(|f| multi_kind(f) && f.kind != FieldType::Number).map(|f| (f, Modifier::Prepend));
    }
    if let Some(name) = key.strip_suffix('-') {
        return c.field(name).filter(|f| multi_kind(f)).map(|f| (f, Modifier::Remove));
    }
    None
}

/// Generates a random string matching `pattern` (text `autogeneratePattern`).
pub fn generate_from_pattern(pattern: &str) -> String {
    match rand_regex::Regex::compile(pattern, 16) {
        Ok(gen) => {
            use rand::Rng;
            rand::thread_rng().sample::<String, _>(&gen)
        }
        Err(_) => String::new(),
    }
}

/// Applies the request body to `rec`. Returns validation errors found while reading the
/// body (password rules, forbidden auth changes).
pub fn apply_body(rec: &mut Record, body: &Map<String, Value>, access: WriteAccess) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    let is_auth = rec.collection.is_auth();
    let mut keys: Vec<&String> = body.keys().collect();
    keys.sort_by_key(|k| k.len());
    for key in keys {
        let value = &body[key.as_str()];
        if is_auth && matches!(key.as_str(), "password" | "passwordConfirm" | "oldPassword") {
            continue;
        }
        let Some((field, modifier)) = split_modifier(key, rec) else { continue };
        let field = field.clone();
        if field.hidden && !access.superuser {
            continue;
        }
        if field.kind == FieldType::Autodate || field.kind == FieldType::Password {
            continue;
        }
        if is_auth && field.name == "tokenKey" && !access.superuser {
            continue;
        }
        let current = rec.get(&field.name).clone();
        let next = match modifier {
            Modifier::Set => value.clone(),
            Modifier::Autogenerate => {
                json!(format!("{}{}", super::values::to_text(value), generate_from_pattern(field.opt_str("autogeneratePattern"))))
            }
            Modifier::Append | Modifier::Prepend | Modifier::Remove if field.kind == FieldType::Number => {
                let delta = to_number(value);
                let cur = to_number(&current);
                json!(if modifier == Modifier::Remove { cur - delta } else { cur + delta })
            }
            Modifier::Append => {
                let mut list = to_string_list(&current);
                list.extend(to_string_list(value));
                json!(list)
            }
            Modifier::Prepend => {
                let mut list = to_string_list(value);
                list.extend(to_string_list(&current));
                json!(list)
            }
            Modifier::Remove => {
                let remove = to_string_list(value);
                json!(to_string_list(&current).into_iter().filter(|v| !remove.contains(v)).collect::<Vec<_>>())
            }
        };
        rec.set(&field.name, next);
    }
    if is_auth {
        apply_auth_fields(rec, body, access, &mut errs);
    }
    errs
}

fn apply_auth_fields(rec: &mut Record, body: &Map<String, Value>, access: WriteAccess, errs: &mut ValidationErrors) {
    let is_new = rec.is_new();
    if !access.manager && !is_new {
        // only managers may change email and verified directly
        for name in ["email", "verified"] {
            let orig = rec.original(name).clone();
            if *rec.get(name) != orig {
                if name == "email" {
                    errs.add(name, FieldError::new("validation_values_mismatch", "Values don't match."));
                }
                rec.values.insert(name.to_string(), orig);
            }
        }
    }
    if !access.manager && is_new && rec.get("verified").as_bool() == Some(true) {
        rec.values.insert("verified".into(), json!(false));
    }
    let password = body.get("password").map(super::values::to_text).unwrap_or_default();
    let confirm = body.get("passwordConfirm").map(super::values::to_text);
    let old = body.get("oldPassword").map(super::values::to_text).unwrap_or_default();
    let field = rec.collection.field("password").cloned();
    if is_new && password.is_empty() {
        errs.add("password", FieldError::required());
        return;
    }
    if password.is_empty() {
        return;
    }
    if !is_new && !access.manager {
        let stored = rec.original("password").as_str().unwrap_or_default();
        if old.is_empty() || !password::verify(&old, stored) {
            errs.add("oldPassword", FieldError::new("validation_invalid_old_password", "Missing or invalid old password."));
        }
    }
    match confirm {
        None => errs.add("passwordConfirm", FieldError::required()),
        Some(c) if c.is_empty() => errs.add("passwordConfirm", FieldError::required()),
        Some(c) if c != password => errs.add("passwordConfirm", FieldError::new("validation_values_mismatch", "Values don't match.")),
        _ => {}
    }
    if let Some(f) = &field {
        if let Some(e) = validate_plain_password(f, &password) {
            errs.add("password", e);
            return;
        }
        let cost = u32::try_from(f.opt_i64("cost")).unwrap_or(0);
        rec.values.insert("password".into(), json!(password::hash(&password, cost)));
    }
}

pub fn validate_plain_password(f: &Field, plain: &str) -> Option<FieldError> {
    let len = plain.chars().count() as i64;
    let min = f.opt_i64("min").max(0);
    let max = match f.opt_i64("max") {
        0 => 71,
        m => m,
    };
    if len < min {
        return Some(FieldError::new("validation_min_text_constraint", format!("Must be at least {min} character(s).")).param("min", min));
    }
    if len > max {
        return Some(FieldError::new("validation_max_text_constraint", format!("Must be less than {max} character(s).")).param("max", max));
    }
    let pattern = f.opt_str("pattern");
    if !pattern.is_empty() && !regex::Regex::new(pattern).map(|re| re.is_match(plain)).unwrap_or(false) {
        return Some(FieldError::new("validation_invalid_format", "Invalid value format."));
    }
    None
}

/// Fills generated values before an insert: id, autogenerate patterns, autodates, tokenKey.
pub fn prepare_insert(rec: &mut Record) {
    let now = now_string();
    let fields = rec.collection.fields.clone();
    for f in &fields {
        match f.kind {
            FieldType::Text if rec.get_str(&f.name).is_empty() => {
                let pattern = f.opt_str("autogeneratePattern");
                if f.is_primary_key() && pattern.is_empty() {
                    rec.values.insert(f.name.clone(), json!(new_record_id()));
                } else if !pattern.is_empty() {
                    rec.values.insert(f.name.clone(), json!(generate_from_pattern(pattern)));
                }
            }
            FieldType::Autodate if f.opt_bool("onCreate") => {
                rec.values.insert(f.name.clone(), json!(now));
            }
            _ => {}
        }
    }
    if rec.collection.is_auth() && rec.get_str("tokenKey").is_empty() {
        rec.values.insert("tokenKey".into(), json!(random_string(50, ALPHANUMERIC)));
    }
}

/// Fills `onUpdate` autodates and rotates the auth tokenKey when password or email changed.
pub fn prepare_update(rec: &mut Record) {
    let now = now_string();
    let fields = rec.collection.fields.clone();
    for f in fields.iter().filter(|f| f.kind == FieldType::Autodate && f.opt_bool("onUpdate")) {
        rec.values.insert(f.name.clone(), json!(now));
    }
    if rec.collection.is_auth() {
        let changed = |n: &str| rec.get(n) != rec.original(n);
        if (changed("password") || changed("email")) && !changed("tokenKey") {
            rec.values.insert("tokenKey".into(), json!(random_string(50, ALPHANUMERIC)));
        }
    }
}
