//! Applying a create/update request body to a record: field modifiers, hidden-field
//! filtering, auth password rules, and the values PocketBase fills in on save.

use serde_json::{json, Map, Value};

use super::values::{to_number, to_string_list};
use super::Record;
use crate::auth::password;
use crate::error::{FieldError, ValidationErrors};
use crate::files::{InputFile, PendingUpload};
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

/// Applies the request body to `rec`: field values (with modifiers) and, for auth
/// collections, the password form rules. Returns the form errors (PocketBase reports these
/// alone, before any field validation).
pub fn apply_body(rec: &mut Record, body: &Map<String, Value>, access: WriteAccess) -> ValidationErrors {
    apply_values(rec, body, access);
    check_auth_form(rec, body, access)
}

/// Sets the field values of the body (modifiers applied, hidden fields only for superusers).
pub fn apply_values(rec: &mut Record, body: &Map<String, Value>, access: WriteAccess) {
    apply_field_values(rec, body, access);
    retain_referenced_uploads(rec);
}

/// The body as the rules see it (`@request.body`): modifier keys replaced by the resulting
/// field value under the plain field name.
pub fn resolve_modifiers(rec: &Record, body: &Map<String, Value>) -> Map<String, Value> {
    let mut copy = rec.clone();
    let mut out = body.clone();
    for key in keys_by_length(body) {
        let Some((field, _)) = split_modifier(key, &copy) else { continue };
        let (name, is_password) = (field.name.clone(), field.kind == FieldType::Password);
        apply_one(&mut copy, key, &body[key.as_str()], WriteAccess { superuser: true, manager: true });
        out.remove(key.as_str());
        let value = if is_password { json!(copy.plain_passwords.get(&name).cloned().unwrap_or_default()) } else { copy.get(&name).clone() };
        out.insert(name, value);
    }
    out
}

/// Keys shortest first, so `field` is applied before `field+` (PocketBase's order).
fn keys_by_length(body: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = body.keys().collect();
    keys.sort_by_key(|k| k.len());
    keys
}

fn apply_field_values(rec: &mut Record, body: &Map<String, Value>, access: WriteAccess) {
    for key in keys_by_length(body) {
        apply_one(rec, key, &body[key.as_str()], access);
    }
}

fn apply_one(rec: &mut Record, key: &str, value: &Value, access: WriteAccess) {
    let is_auth = rec.collection.is_auth();
    let Some((field, modifier)) = split_modifier(key, rec) else { return };
    let field = field.clone();
    let is_auth_password = is_auth && field.name == "password";
    if field.hidden && !access.superuser && !is_auth_password {
        return;
    }
    if field.kind == FieldType::Autodate {
        return;
    }
    if field.kind == FieldType::Password {
        if modifier == Modifier::Set {
            set_password(rec, &field, &super::values::to_text(value));
        }
        return;
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

/// Remembers a new plain password (validated as is, hashed by [`hash_passwords`] right before
/// the save). An empty value leaves the current password untouched.
fn set_password(rec: &mut Record, field: &Field, plain: &str) {
    if plain.is_empty() {
        rec.plain_passwords.shift_remove(&field.name);
        return;
    }
    rec.plain_passwords.insert(field.name.clone(), plain.to_string());
}

fn password_cost(rec: &Record, name: &str) -> u32 {
    rec.collection.field(name).map(|f| u32::try_from(f.opt_i64("cost")).unwrap_or(0)).unwrap_or(0)
}

/// Hashes the record's new plain passwords into their columns on the hasher pool, so the
/// costly hashing neither blocks the async workers nor runs for records that fail earlier
/// checks. Call it once, right before `prepare_insert`/`prepare_update`.
pub async fn hash_passwords(rec: &mut Record) -> crate::error::ApiResult<()> {
    for (name, plain) in rec.plain_passwords.clone() {
        let hash = crate::auth::hasher::hash(plain, password_cost(rec, &name)).await?;
        rec.values.insert(name, json!(hash));
    }
    Ok(())
}

/// [`hash_passwords`] for synchronous callers (the CLI).
pub fn hash_passwords_blocking(rec: &mut Record) {
    for (name, plain) in rec.plain_passwords.clone() {
        let hash = password::hash(&plain, password_cost(rec, &name));
        rec.values.insert(name, json!(hash));
    }
}

/// Attaches uploaded files to the body: each file key (`f`, `+f`, `f+`) gets the list of the
/// new files' stored names; a plain key keeps the names sent next to the files.
pub fn attach_uploads(rec: &mut Record, body: &mut Map<String, Value>, files: Vec<(String, Vec<InputFile>)>) {
    for (key, inputs) in files {
        let Some((field, modifier)) = split_modifier(&key, rec) else { continue };
        if field.kind != FieldType::File || !matches!(modifier, Modifier::Set | Modifier::Append | Modifier::Prepend) {
            continue;
        }
        let field_name = field.name.clone();
        let mut names: Vec<Value> = vec![];
        if modifier == Modifier::Set {
            if let Some(existing) = body.get(&key).filter(|v| !v.is_null()) {
                names.extend(to_string_list(existing).into_iter().map(Value::String));
            }
        }
        for input in &inputs {
            let upload = PendingUpload::new(&field_name, input);
            names.push(json!(upload.name));
            rec.uploads.push(upload);
        }
        body.insert(key, Value::Array(names));
    }
}

/// Drops uploads that no longer appear in their field (replaced or removed by modifiers).
fn retain_referenced_uploads(rec: &mut Record) {
    let values = rec.values.clone();
    rec.uploads.retain(|u| values.get(&u.field).map(|v| to_string_list(v).contains(&u.name)).unwrap_or(false));
}

const MISMATCH: (&str, &str) = ("validation_values_mismatch", "Values don't match.");

/// PocketBase's auth form rules: email/verified only by managers, password confirmation and
/// the old password for non-managers.
pub fn check_auth_form(rec: &Record, body: &Map<String, Value>, access: WriteAccess) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    if !rec.collection.is_auth() {
        return errs;
    }
    let is_new = rec.is_new();
    let original_verified = rec.original("verified").as_bool().unwrap_or(false);
    if !access.manager {
        if !is_new && rec.get("email") != rec.original("email") {
            errs.add("email", FieldError::new(MISMATCH.0, MISMATCH.1));
        }
        if rec.get("verified").as_bool().unwrap_or(false) != original_verified {
            errs.add("verified", FieldError::new(MISMATCH.0, MISMATCH.1));
        }
    }
    let text = |key: &str| body.get(key).map(super::values::to_text).unwrap_or_default();
    let (password, confirm, old) = (text("password"), text("passwordConfirm"), text("oldPassword"));
    if (is_new || !confirm.is_empty() || !old.is_empty()) && password.is_empty() {
        errs.add("password", FieldError::required());
    }
    if (is_new || !password.is_empty() || !old.is_empty()) && confirm.is_empty() {
        errs.add("passwordConfirm", FieldError::required());
    } else if confirm != password {
        errs.add("passwordConfirm", FieldError::new(MISMATCH.0, MISMATCH.1));
    }
    if !is_new && !access.manager && (!password.is_empty() || !confirm.is_empty()) {
        let stored = rec.original("password").as_str().unwrap_or_default();
        if old.is_empty() {
            errs.add("oldPassword", FieldError::required());
        } else if !password::verify(&old, stored) {
            errs.add("oldPassword", FieldError::new("validation_invalid_old_password", "Missing or invalid old password."));
        }
    }
    errs
}

pub fn validate_plain_password(f: &Field, plain: &str) -> Option<FieldError> {
    let len = plain.chars().count() as i64;
    let min = f.opt_i64("min").max(0);
    let max = match f.opt_i64("max") {
        0 => 71,
        m => m,
    };
    if len < min {
        return Some(FieldError::new("validation_min_text_constraint", format!("Must be at least {min} character(s).")));
    }
    if len > max {
        return Some(FieldError::new("validation_max_text_constraint", format!("Must be less than {max} character(s).")));
    }
    let pattern = f.opt_str("pattern");
    if !pattern.is_empty() && !regex::Regex::new(pattern).map(|re| re.is_match(plain)).unwrap_or(false) {
        return Some(FieldError::new("validation_invalid_format", "Invalid value format."));
    }
    None
}

/// Superusers are always verified.
fn mark_superuser_verified(rec: &mut Record) {
    if rec.collection.is_superusers() {
        rec.values.insert("verified".into(), json!(true));
    }
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
    mark_superuser_verified(rec);
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
    mark_superuser_verified(rec);
    if rec.collection.is_auth() {
        let changed = |n: &str| rec.get(n) != rec.original(n);
        if (changed("password") || changed("email")) && !changed("tokenKey") {
            rec.values.insert("tokenKey".into(), json!(random_string(50, ALPHANUMERIC)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Collection, CollectionType};
    use std::sync::Arc;

    fn collection() -> Arc<Collection> {
        let mut c = Collection::new(CollectionType::Base, "items");
        let mut labels = Field::new(FieldType::Select, "labels");
        labels.set_opt("values", json!(["a", "b", "c", "d"]));
        labels.set_opt("maxSelect", json!(4));
        let mut code = Field::new(FieldType::Text, "code");
        code.set_opt("autogeneratePattern", json!("[A-Z]{4}"));
        let mut docs = Field::new(FieldType::File, "docs");
        docs.set_opt("maxSelect", json!(5));
        c.fields.extend([Field::new(FieldType::Number, "num"), labels, code, docs]);
        Arc::new(c)
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn modifiers_apply_shortest_key_first() {
        let mut rec = Record::new(collection());
        apply_body(&mut rec, &body(json!({"num": 5, "num+": 10, "labels": ["a", "b"], "labels-": "a", "+labels": ["c", "b"]})), WriteAccess::default());
        assert_eq!(rec.get("num"), &json!(15));
        // "labels" is applied first, then "+labels" and "labels-" (same length, either order)
        assert_eq!(rec.get("labels"), &json!(["c", "b"]));
        apply_body(&mut rec, &body(json!({"num-": 20.5})), WriteAccess::default());
        assert_eq!(rec.get("num"), &json!(-5.5));
    }

    #[test]
    fn autogenerate_modifier_appends_a_generated_suffix() {
        let mut rec = Record::new(collection());
        apply_body(&mut rec, &body(json!({"code:autogenerate": "pre-"})), WriteAccess::default());
        assert!(regex::Regex::new("^pre-[A-Z]{4}$").unwrap().is_match(rec.get_str("code")));
    }

    #[test]
    fn uploads_keep_sent_names_and_drop_replaced_files() {
        let mut rec = Record::new(collection());
        let file = |name: &str| InputFile { original_name: name.into(), content: crate::files::FileSource::memory(b"x".to_vec()) };
        let mut data = body(json!({"docs": ["kept.txt"]}));
        attach_uploads(&mut rec, &mut data, vec![("docs".into(), vec![file("a.txt"), file("b.txt")])]);
        assert_eq!(data["docs"].as_array().map(Vec::len), Some(3));
        assert_eq!(data["docs"][0], json!("kept.txt"));
        let removed = rec.uploads[0].name.clone();
        data.insert("docs-".into(), json!([removed]));
        apply_body(&mut rec, &data, WriteAccess::default());
        assert_eq!(rec.uploads.len(), 1, "the removed upload is not stored");
        assert_eq!(to_string_list(rec.get("docs")).len(), 2);
    }

    #[test]
    fn resolved_body_replaces_modifier_keys() {
        let rec = Record::new(collection());
        let resolved = resolve_modifiers(&rec, &body(json!({"num+": 3, "other": 1})));
        assert_eq!(resolved.get("num"), Some(&json!(3)));
        assert!(!resolved.contains_key("num+"));
        assert_eq!(resolved.get("other"), Some(&json!(1)));
    }
}
