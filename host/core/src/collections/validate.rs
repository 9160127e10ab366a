//! Collection validation, mirroring PocketBase's `collectionValidator`: the same checks in
//! the same order, with the same codes, messages and params. Every top-level key reports
//! only its first failing check (ozzo-validation semantics).

use regex::Regex;
use rusqlite::Connection;
use serde_json::{json, Value};
use std::sync::OnceLock;

use super::view_fields::dry_run_view;
use crate::error::{FieldError, ValidationErrors};
use crate::model::collection::TOKEN_OPTION_KEYS;
use crate::model::{Collection, CollectionType, Field, FieldType};
use crate::schema::index::{find_single_column_unique_index, ParsedIndex};
use crate::schema_cache::Schema;

/// Names that clash with filter literals or the dynamic record keys.
const EXCLUDED_FIELD_NAMES: [&str; 7] = ["null", "true", "false", "_rowid_", "collectionId", "collectionName", "expand"];
const RESERVED_AUTH_FIELD_NAMES: [&str; 2] = ["passwordConfirm", "oldPassword"];
const MAX_SAFE_JSON_INT: i64 = (1 << 53) - 1;
const MAX_TOKEN_DURATION: i64 = 94_670_856; // ~3 years

/// What the validator may look at besides the collection itself.
pub struct ValidationContext<'a> {
    pub conn: &'a Connection,
    /// Every stored collection (inside the running transaction, when there is one).
    pub schema: &'a Schema,
}

/// Validates a collection about to be saved. `original` is the stored version (None when
/// creating). View collections must already carry the fields inferred from their query.
pub fn validate_collection(ctx: &ValidationContext, c: &Collection, original: Option<&Collection>) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    if let Some(e) = check_id(ctx, c, original) {
        errs.add("id", e);
    }
    if original.is_some_and(|o| o.system != c.system) {
        errs.add("system", FieldError::new("validation_collection_system_flag_change", "System collection state cannot be changed."));
    }
    if let Some(e) = check_type(c, original) {
        errs.add("type", e);
    }
    if let Some(e) = check_name(ctx, c, original) {
        errs.add("name", e);
    }
    add_result(&mut errs, "fields", check_fields(ctx, c, original));
    check_rules(ctx, c, original, &mut errs);
    add_result(&mut errs, "indexes", check_indexes(ctx, c, original));
    let options = match c.kind {
        CollectionType::Auth => check_auth_options(ctx, c, original),
        CollectionType::View => check_view_options(ctx, c),
        CollectionType::Base => ValidationErrors::new(),
    };
    errs.merge(options);
    errs
}

/// A check failing either with a single error or with nested ones.
enum Failure {
    One(FieldError),
    Nested(ValidationErrors),
}

fn add_result(errs: &mut ValidationErrors, key: &str, result: Option<Failure>) {
    match result {
        Some(Failure::One(e)) => errs.add(key, e),
        Some(Failure::Nested(n)) => errs.nest(key, n),
        None => {}
    }
}

fn nested_one(key: impl Into<String>, e: FieldError) -> Failure {
    let mut n = ValidationErrors::new();
    n.add(key, e);
    Failure::Nested(n)
}

fn nested_two(outer: impl Into<String>, inner: &str, e: FieldError) -> Failure {
    let mut i = ValidationErrors::new();
    i.add(inner, e);
    let mut n = ValidationErrors::new();
    n.nest(outer, i);
    Failure::Nested(n)
}

// ---------------------------------------------------------------------------------------
// common error constructors (ozzo-validation's built-in errors, as PocketBase renders them)

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn err_match() -> FieldError {
    FieldError::new("validation_match_invalid", "Must be in a valid format.")
}

fn err_length(min: i64, max: i64) -> FieldError {
    FieldError::new("validation_length_out_of_range", format!("The length must be between {min} and {max}."))
        .param("max", max)
        .param("min", min)
}

fn err_min(threshold: impl Into<Value> + std::fmt::Display + Copy) -> FieldError {
    FieldError::new("validation_min_greater_equal_than_required", format!("Must be no less than {threshold}.")).param("threshold", threshold)
}

fn err_max(threshold: impl Into<Value> + std::fmt::Display + Copy) -> FieldError {
    FieldError::new("validation_max_less_equal_than_required", format!("Must be no greater than {threshold}.")).param("threshold", threshold)
}

fn err_empty() -> FieldError {
    FieldError::new("validation_empty", "Must be blank.")
}

fn err_via() -> FieldError {
    FieldError::new("validation_found_via", "The value cannot contain \"_via_\".")
}

fn contains_via(s: &str) -> bool {
    s.to_lowercase().contains("_via_")
}

/// ozzo's `Min`/`Max` skip zero values ("empty"); only non-zero values are compared.
fn check_int_range(v: i64, min: i64, max: i64) -> Option<FieldError> {
    if v == 0 {
        return None;
    }
    if v < min {
        return Some(err_min(min));
    }
    if v > max {
        return Some(err_max(max));
    }
    None
}

fn rune_len(s: &str) -> i64 {
    s.chars().count() as i64
}

/// A float as a JSON number, integral values as integers (like Go renders float64 params).
fn num_json(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        json!(f as i64)
    } else {
        json!(f)
    }
}

// ---------------------------------------------------------------------------------------
// id, type, name

fn check_id(ctx: &ValidationContext, c: &Collection, original: Option<&Collection>) -> Option<FieldError> {
    if c.id.is_empty() {
        return Some(FieldError::required());
    }
    match original {
        None => {
            if rune_len(&c.id) > 100 {
                Some(err_length(1, 100))
            } else if !is_word(&c.id) {
                Some(err_match())
            } else if ctx.schema.collections.iter().any(|x| x.id == c.id) {
                Some(FieldError::new("validation_invalid_or_existing_id", "The model id is invalid or already exists."))
            } else {
                None
            }
        }
        Some(o) if o.id != c.id => Some(FieldError::new("validation_values_mismatch", "Values don't match.")),
        Some(_) => None,
    }
}

fn check_type(c: &Collection, original: Option<&Collection>) -> Option<FieldError> {
    if c.invalid_type.is_some() {
        return Some(FieldError::new("validation_in_invalid", "Must be a valid value."));
    }
    match original {
        Some(o) if o.kind != c.kind => Some(FieldError::new("validation_collection_type_change", "Collection type cannot be changed.")),
        _ => None,
    }
}

fn check_name(ctx: &ValidationContext, c: &Collection, original: Option<&Collection>) -> Option<FieldError> {
    let name = c.name.as_str();
    if name.is_empty() {
        return Some(FieldError::required());
    }
    if rune_len(name) > 255 {
        return Some(err_length(1, 255));
    }
    if contains_via(name) {
        return Some(err_via());
    }
    if !is_word(name) {
        return Some(err_match());
    }
    if original.is_some_and(|o| o.system && o.name != name) {
        return Some(FieldError::new("validation_collection_system_name_change", "System collection name cannot be changed."));
    }
    let own_id = original.map(|o| o.id.as_str()).unwrap_or_default();
    let name_taken = |exclude: &str| ctx.schema.collections.iter().any(|x| x.id != exclude && x.name.eq_ignore_ascii_case(name));
    if name_taken(own_id) {
        return Some(FieldError::new("validation_collection_name_exists", "Collection name must be unique (case insensitive)."));
    }
    if ctx.schema.collections.iter().any(|x| x.id == name) {
        return Some(FieldError::new("validation_collection_name_id_duplicate", "The name must not match an existing collection id."));
    }
    let renamed = original.map(|o| o.name != name).unwrap_or(true);
    if renamed && !name_taken("") && has_table(ctx.conn, name) {
        return Some(FieldError::new("validation_collection_name_invalid", "The name shouldn't match with an existing internal table."));
    }
    None
}

fn has_table(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type IN ('table', 'view') AND LOWER(name) = LOWER(?1)",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// fields

fn check_fields(ctx: &ValidationContext, c: &Collection, original: Option<&Collection>) -> Option<Failure> {
    if let Some(f) = check_field_duplicates(&c.fields) {
        return Some(f);
    }
    if let Some(f) = check_min_fields(c) {
        return Some(f);
    }
    if !c.is_view() {
        if let Some(o) = original {
            if system_fields_changed(c, o) {
                return Some(Failure::One(FieldError::new(
                    "validation_system_field_change",
                    "System fields cannot be deleted or renamed.",
                )));
            }
            if let Some(f) = check_field_type_changes(c, o) {
                return Some(f);
            }
        }
    }
    if c.is_auth() {
        let mut errs = ValidationErrors::new();
        for (i, _) in c.fields.iter().enumerate().filter(|(_, f)| RESERVED_AUTH_FIELD_NAMES.contains(&f.name.as_str())) {
            let mut fe = ValidationErrors::new();
            fe.add("name", FieldError::new("validation_reserved_field_name", "The field name is reserved and cannot be used."));
            errs.nest(i.to_string(), fe);
        }
        if !errs.is_empty() {
            return Some(Failure::Nested(errs));
        }
    }
    let mut errs = ValidationErrors::new();
    for (i, f) in c.fields.iter().enumerate() {
        errs.nest(i.to_string(), validate_field_settings(f, c, original, ctx.schema));
    }
    (!errs.is_empty()).then_some(Failure::Nested(errs))
}

fn check_field_duplicates(fields: &[Field]) -> Option<Failure> {
    let mut ids: Vec<&str> = vec![];
    let mut names: Vec<String> = vec![];
    for (i, f) in fields.iter().enumerate() {
        if ids.contains(&f.id.as_str()) {
            let e = FieldError::new("validation_duplicated_field_id", format!("Duplicated or invalid field id {:?}.", f.id));
            return Some(nested_two(i.to_string(), "id", e));
        }
        // field names are columns, so they must be unique case-insensitively
        let lower = f.name.to_lowercase();
        if names.contains(&lower) {
            let e = FieldError::new("validation_duplicated_field_name", format!("Duplicated or invalid field name {}.", f.name))
                .param("fieldName", f.name.clone());
            return Some(nested_two(i.to_string(), "name", e));
        }
        ids.push(&f.id);
        names.push(lower);
    }
    None
}

fn check_min_fields(c: &Collection) -> Option<Failure> {
    if c.fields.is_empty() {
        return Some(Failure::One(FieldError::required()));
    }
    let by_name = |name: &str, kind: FieldType| c.field(name).filter(|f| f.kind == kind);
    if !by_name("id", FieldType::Text).is_some_and(Field::is_primary_key) {
        return Some(Failure::One(FieldError::new("validation_missing_primary_key", "Missing or invalid \"id\" PK field.")));
    }
    if !c.is_auth() {
        return None;
    }
    let must_be_system_and_hidden =
        || FieldError::new("validation_must_be_system_and_hidden", "The field must be marked as \"System\" and \"Hidden\".");
    let must_be_system = || FieldError::new("validation_must_be_system", "The field must be marked as \"System\".");
    let checks: [(&str, FieldType, bool); 5] = [
        ("password", FieldType::Password, true),
        ("tokenKey", FieldType::Text, true),
        ("email", FieldType::Email, false),
        ("emailVisibility", FieldType::Bool, false),
        ("verified", FieldType::Bool, false),
    ];
    for (name, kind, hidden) in checks {
        let Some(f) = by_name(name, kind) else {
            return Some(Failure::One(FieldError::new(
                &format!("validation_missing_{name}_field"),
                format!("System \"{name}\" field is required."),
            )));
        };
        if hidden && !(f.hidden && f.system) {
            return Some(nested_one(name, must_be_system_and_hidden()));
        }
        if !hidden && !f.system {
            return Some(nested_one(name, must_be_system()));
        }
    }
    None
}

fn system_fields_changed(c: &Collection, original: &Collection) -> bool {
    original.fields.iter().filter(|f| f.system).any(|of| c.field_by_id(&of.id).is_none_or(|nf| nf.name != of.name))
}

fn check_field_type_changes(c: &Collection, original: &Collection) -> Option<Failure> {
    let mut errs = ValidationErrors::new();
    for (i, f) in c.fields.iter().enumerate() {
        if original.field_by_id(&f.id).is_some_and(|of| of.kind != f.kind) {
            errs.add(i.to_string(), FieldError::new("validation_field_type_change", "Field type cannot be changed."));
        }
    }
    (!errs.is_empty()).then_some(Failure::Nested(errs))
}

/// The settings checks of one field (PocketBase's `Field.ValidateSettings`).
pub fn validate_field_settings(f: &Field, c: &Collection, original: Option<&Collection>, schema: &Schema) -> ValidationErrors {
    let mut fe = ValidationErrors::new();
    if f.id.is_empty() {
        fe.add("id", FieldError::required());
    } else if rune_len(&f.id) > 100 {
        fe.add("id", err_length(1, 100));
    }
    if let Some(e) = check_field_name(&f.name) {
        fe.add("name", e);
    }
    if f.kind != FieldType::Autodate && rune_len(&f.help) > 300 {
        fe.add("help", err_length(1, 300));
    }
    match f.kind {
        FieldType::Text => check_text_options(f, c, &mut fe),
        FieldType::Number => check_number_options(f, &mut fe),
        FieldType::Select => check_select_options(f, &mut fe),
        FieldType::Relation => check_relation_options(f, c, original, schema, &mut fe),
        FieldType::Autodate => check_autodate_options(f, original, &mut fe),
        FieldType::Email | FieldType::Url => check_domain_options(f, &mut fe),
        FieldType::Editor | FieldType::Json => {
            if let Some(e) = check_int_range(f.opt_i64("maxSize"), 0, MAX_SAFE_JSON_INT) {
                fe.add("maxSize", e);
            }
        }
        FieldType::File => check_file_options(f, &mut fe),
        FieldType::Password => check_password_options(f, &mut fe),
        FieldType::Bool | FieldType::Date | FieldType::GeoPoint => {}
    }
    fe
}

fn check_field_name(name: &str) -> Option<FieldError> {
    if name.is_empty() {
        Some(FieldError::required())
    } else if rune_len(name) > 100 {
        Some(err_length(1, 100))
    } else if !is_word(name) {
        Some(err_match())
    } else if EXCLUDED_FIELD_NAMES.contains(&name) {
        Some(FieldError::new("validation_not_in_invalid", "Must not be in list."))
    } else if contains_via(name) {
        Some(err_via())
    } else {
        None
    }
}

fn check_regex(pattern: &str) -> Option<FieldError> {
    let e = Regex::new(pattern).err()?;
    // the parser's last line names the problem ("error: unclosed group"), like Go's message
    let text = e.to_string();
    let reason = text.lines().rev().find_map(|l| l.trim().strip_prefix("error: ")).unwrap_or(text.as_str()).to_string();
    Some(FieldError::new("validation_invalid_regex", format!("Error parsing regexp: {reason}.")))
}

fn check_text_options(f: &Field, c: &Collection, fe: &mut ValidationErrors) {
    let pk = f.is_primary_key();
    if pk && f.name != "id" && !fe.has("name") {
        fe.add("name", FieldError::new("validation_in_invalid", "The primary key must be named \"id\"."));
    }
    if pk && c.fields.iter().filter(|x| x.is_primary_key()).count() > 1 {
        fe.add(
            "primaryKey",
            FieldError::new("validation_unsupported_composite_pk", "Composite PKs are not supported and the collection must have only 1 PK."),
        );
    }
    let (min, max) = (f.opt_i64("min"), f.opt_i64("max"));
    if let Some(e) = check_int_range(min, 0, MAX_SAFE_JSON_INT) {
        fe.add("min", e);
    }
    if let Some(e) = check_int_range(max, min, MAX_SAFE_JSON_INT) {
        fe.add("max", e);
    }
    let pattern = f.opt_str("pattern");
    if pk && pattern.is_empty() {
        fe.add("pattern", FieldError::required());
    } else if let Some(e) = check_regex(pattern).filter(|_| !pattern.is_empty()) {
        fe.add("pattern", e);
    }
    if pk && f.hidden {
        fe.add("hidden", err_empty());
    }
    if pk && !f.required {
        fe.add("required", FieldError::required());
    }
    let auto = f.opt_str("autogeneratePattern");
    if !auto.is_empty() {
        if let Some(e) = check_regex(auto).or_else(|| check_autogenerate_pattern(f, auto)) {
            fe.add("autogeneratePattern", e);
        }
    }
}

/// Generates a few values from the pattern and checks them against the field's own rules.
fn check_autogenerate_pattern(f: &Field, pattern: &str) -> Option<FieldError> {
    for _ in 0..10 {
        let generated = crate::record::write::generate_from_pattern(pattern);
        if crate::record::validate::validate_text(f, &generated).is_some() {
            return Some(FieldError::new(
                "validation_invalid_autogenerate_pattern_value",
                format!("The provided autogenerate pattern could produce invalid field values, ex.: {generated:?}."),
            ));
        }
    }
    None
}

fn check_number_options(f: &Field, fe: &mut ValidationErrors) {
    let only_int = f.opt_bool("onlyInt");
    let not_int = |v: Option<f64>| only_int && v.is_some_and(|v| v.fract() != 0.0);
    let only_int_err = || FieldError::new("validation_only_int_constraint", "Decimal numbers are not allowed.");
    let (min, max) = (f.opt_f64("min"), f.opt_f64("max"));
    if not_int(min) {
        fe.add("min", only_int_err());
    }
    if not_int(max) {
        fe.add("max", only_int_err());
    } else if let (Some(min), Some(max)) = (min, max) {
        if max < min {
            let shown = num_json(min);
            fe.add(
                "max",
                FieldError::new("validation_min_number_constraint", format!("Must be greater or equal than {shown}.")).param("min", shown),
            );
        }
    }
}

fn check_select_options(f: &Field, fe: &mut ValidationErrors) {
    let values = f.opt_strings("values");
    if values.is_empty() {
        fe.add("values", FieldError::required());
    }
    let max = values.len().max(1) as i64;
    if let Some(e) = check_int_range(f.opt_i64("maxSelect"), 0, max) {
        fe.add("maxSelect", e);
    }
}

fn check_relation_options(f: &Field, c: &Collection, original: Option<&Collection>, schema: &Schema, fe: &mut ValidationErrors) {
    let target_id = f.opt_str("collectionId");
    if target_id.is_empty() {
        fe.add("collectionId", FieldError::required());
    } else if let Some(e) = check_relation_target(f, target_id, c, original, schema) {
        fe.add("collectionId", e);
    }
    let min_select = f.opt_i64("minSelect");
    if min_select < 0 {
        fe.add("minSelect", err_min(0));
    }
    let max_select = f.opt_i64("maxSelect");
    if min_select > 0 && max_select == 0 {
        fe.add("maxSelect", FieldError::required());
    } else if max_select != 0 && max_select < min_select {
        fe.add("maxSelect", err_min(min_select));
    }
}

fn check_relation_target(f: &Field, target_id: &str, c: &Collection, original: Option<&Collection>, schema: &Schema) -> Option<FieldError> {
    let old_target = original
        .and_then(|o| o.field_by_id(&f.id))
        .filter(|of| of.kind == FieldType::Relation)
        .map(|of| of.opt_str("collectionId").to_string());
    if old_target.is_some_and(|old| old != target_id) {
        return Some(FieldError::new("validation_field_relation_change", "The relation collection cannot be changed."));
    }
    // the target must be referenced by id, not by name
    let target = schema.find(target_id).filter(|t| t.id == target_id);
    let Some(target) = target else {
        return Some(FieldError::new("validation_field_relation_missing_collection", "The relation collection doesn't exist."));
    };
    if !c.is_view() && target.is_view() {
        return Some(FieldError::new(
            "validation_relation_field_non_view_base_collection",
            "Only view collections are allowed to have relations to other views.",
        ));
    }
    None
}

fn check_autodate_options(f: &Field, original: Option<&Collection>, fe: &mut ValidationErrors) {
    let (on_create, on_update) = (f.opt_bool("onCreate"), f.opt_bool("onUpdate"));
    let old = original.and_then(|o| o.field_by_id(&f.id)).filter(|of| of.kind == FieldType::Autodate);
    let (old_create, old_update) = old.map(|of| (of.opt_bool("onCreate"), of.opt_bool("onUpdate"))).unwrap_or((on_create, on_update));
    let mismatch = || FieldError::new("validation_values_mismatch", "Values don't match.");
    let no_event = || FieldError::new("validation_required", "Either onCreate or onUpdate must be enabled.");
    if f.system && on_create != old_create {
        fe.add("onCreate", mismatch());
    } else if !on_create && !on_update {
        fe.add("onCreate", no_event());
    }
    if f.system && on_update != old_update {
        fe.add("onUpdate", mismatch());
    } else if !on_create && !on_update {
        fe.add("onUpdate", no_event());
    }
}

fn domain_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{1,63}| xn--[a-z0-9]{1,59})$").expect("static regex")
    })
}

fn check_domain_options(f: &Field, fe: &mut ValidationErrors) {
    let except = f.opt_strings("exceptDomains");
    let only = f.opt_strings("onlyDomains");
    for (key, list, other) in [("exceptDomains", &except, &only), ("onlyDomains", &only, &except)] {
        if !other.is_empty() {
            if !list.is_empty() {
                fe.add(key, err_empty());
            }
            continue;
        }
        let mut each = ValidationErrors::new();
        for (i, d) in list.iter().enumerate() {
            if d.len() > 255 || !domain_regex().is_match(d) {
                each.add(i.to_string(), FieldError::new("validation_is_domain", "Must be a valid domain."));
            }
        }
        fe.nest(key, each);
    }
}

fn thumb_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^(\d+)x(\d+)(t|b|f)?$").expect("static regex"))
}

fn check_file_options(f: &Field, fe: &mut ValidationErrors) {
    for key in ["maxSelect", "maxSize"] {
        if let Some(e) = check_int_range(f.opt_i64(key), 0, MAX_SAFE_JSON_INT) {
            fe.add(key, e);
        }
    }
    let mut each = ValidationErrors::new();
    for (i, t) in f.opt_strings("thumbs").iter().enumerate() {
        if ["0x0", "0x0t", "0x0b", "0x0f"].contains(&t.as_str()) {
            each.add(i.to_string(), FieldError::new("validation_not_in_invalid", "Must not be in list."));
        } else if !t.is_empty() && !thumb_regex().is_match(t) {
            each.add(i.to_string(), err_match());
        }
    }
    fe.nest("thumbs", each);
}

fn check_password_options(f: &Field, fe: &mut ValidationErrors) {
    let (min, max) = (f.opt_i64("min"), f.opt_i64("max"));
    if let Some(e) = check_int_range(min, 1, 71) {
        fe.add("min", e);
    }
    if let Some(e) = check_int_range(max, min, 71) {
        fe.add("max", e);
    }
    // bcrypt's MinCost..MaxCost
    if let Some(e) = check_int_range(f.opt_i64("cost"), 4, 31) {
        fe.add("cost", e);
    }
    let pattern = f.opt_str("pattern");
    if let Some(e) = check_regex(pattern).filter(|_| !pattern.is_empty()) {
        fe.add("pattern", e);
    }
}

// ---------------------------------------------------------------------------------------
// rules

fn check_rules(ctx: &ValidationContext, c: &Collection, original: Option<&Collection>, errs: &mut ValidationErrors) {
    let rules = [
        ("listRule", &c.list_rule, original.map(|o| &o.list_rule), false),
        ("viewRule", &c.view_rule, original.map(|o| &o.view_rule), false),
        ("createRule", &c.create_rule, original.map(|o| &o.create_rule), true),
        ("updateRule", &c.update_rule, original.map(|o| &o.update_rule), true),
        ("deleteRule", &c.delete_rule, original.map(|o| &o.delete_rule), true),
    ];
    for (key, rule, old, write_rule) in rules {
        if write_rule && c.is_view() && rule.is_some() {
            errs.add(key, FieldError::new("validation_nil", "Must be blank."));
            continue;
        }
        if let Some(e) = check_rule(ctx, c, rule.as_deref()).or_else(|| check_system_rule_change(original, rule, old)) {
            errs.add(key, e);
        }
    }
}

fn check_rule(_ctx: &ValidationContext, c: &Collection, rule: Option<&str>) -> Option<FieldError> {
    let rule = rule.filter(|r| !r.is_empty())?;
    crate::record::rules::check_rule_syntax(_ctx.schema, c, rule)
        .err()
        .map(|e| FieldError::new("validation_invalid_rule", format!("Invalid rule. Raw error: {}", raw_error(&e.message))))
}

/// The message of a wrapped error, sentence-cased the way the API renders it.
fn raw_error(msg: &str) -> String {
    let m = msg.trim_end_matches('.');
    format!("{m}.")
}

fn check_system_rule_change(original: Option<&Collection>, rule: &Option<String>, old: Option<&Option<String>>) -> Option<FieldError> {
    let (Some(o), Some(old)) = (original, old) else { return None };
    if !o.system || rule == old {
        return None;
    }
    Some(FieldError::new("validation_collection_system_rule_change", "System collection API rule cannot be changed."))
}

// ---------------------------------------------------------------------------------------
// indexes

fn check_indexes(ctx: &ValidationContext, c: &Collection, original: Option<&Collection>) -> Option<Failure> {
    if c.is_view() {
        if c.indexes.is_empty() {
            return None;
        }
        return Some(Failure::One(FieldError::new("validation_indexes_not_supported", "View collections don't support indexes.")));
    }
    let original_name = original.map(|o| o.name.as_str()).unwrap_or_default();
    let mut names: Vec<String> = vec![];
    let mut definitions: Vec<String> = vec![];
    for (i, raw) in c.indexes.iter().enumerate() {
        let key = i.to_string();
        let mut parsed = ParsedIndex::parse_lenient(raw);
        // the table name is always synced with the collection name, so it doesn't matter here
        parsed.table = "validator".into();
        if !parsed.is_valid() {
            return Some(nested_one(key, FieldError::new("validation_invalid_index_expression", "Invalid CREATE INDEX expression.")));
        }
        let lower = parsed.name.to_lowercase();
        if names.contains(&lower) {
            return Some(nested_one(key, FieldError::new("validation_duplicated_index_name", "The index name already exists.")));
        }
        names.push(lower);
        if let Some(table) = index_used_by_other_table(ctx.conn, &parsed.name, original_name, &c.name) {
            let e = FieldError::new("validation_existing_index_name", format!("The index name is already used in {table} collection."))
                .param("usedTableName", table);
            return Some(nested_one(key, e));
        }
        parsed.schema = "validator".into();
        parsed.name = "validator".into();
        let definition = parsed.build();
        if definitions.contains(&definition) {
            return Some(nested_one(key, FieldError::new("validation_duplicated_index_definition", "The index definition already exists.")));
        }
        definitions.push(definition);
    }
    if let Some(e) = original.and_then(|o| check_system_unique_indexes(c, o)) {
        return Some(Failure::One(e));
    }
    if c.is_auth() {
        for name in ["tokenKey", "email"] {
            if find_single_column_unique_index(&c.indexes, name).is_none() {
                return Some(Failure::One(
                    FieldError::new("validation_missing_required_unique_index", format!("Missing required unique index for field \"{name}\"."))
                        .param("fieldName", name),
                ));
            }
        }
    }
    None
}

/// The table of an existing index with this name on a table other than the collection's.
fn index_used_by_other_table(conn: &Connection, index: &str, old_name: &str, new_name: &str) -> Option<String> {
    conn.query_row(
        "SELECT tbl_name FROM sqlite_schema WHERE type = 'index' AND LOWER(tbl_name) != LOWER(?1) AND LOWER(tbl_name) != LOWER(?2) AND LOWER(name) = LOWER(?3) LIMIT 1",
        [old_name, new_name, index],
        |r| r.get::<_, String>(0),
    )
    .ok()
    .filter(|t| !t.is_empty())
}

/// Unique indexes covering system fields must survive an update (their definition may only
/// change in name, table, collation, sort order or WHERE clause).
fn check_system_unique_indexes(c: &Collection, original: &Collection) -> Option<FieldError> {
    let strip = |idx: &mut ParsedIndex| {
        for col in idx.columns.iter_mut() {
            col.collate.clear();
            col.sort.clear();
        }
    };
    for raw in &original.indexes {
        let mut old = ParsedIndex::parse_lenient(raw);
        if !old.unique {
            continue;
        }
        strip(&mut old);
        let old_def = old.build();
        let system_field = old.columns.iter().find_map(|col| {
            original.fields.iter().find(|f| f.system && f.name.eq_ignore_ascii_case(&col.name))
        });
        let Some(field) = system_field else { continue };
        let kept = c.indexes.iter().any(|raw_new| {
            let mut new = ParsedIndex::parse_lenient(raw_new);
            new.schema = old.schema.clone();
            new.name = old.name.clone();
            new.table = old.table.clone();
            new.where_clause = old.where_clause.clone();
            strip(&mut new);
            new.build() == old_def
        });
        if !kept {
            return Some(
                FieldError::new(
                    "validation_invalid_unique_system_field_index",
                    format!("Unique index definition on system fields ({}) is invalid or missing.", field.name),
                )
                .param("fieldName", field.name.clone()),
            );
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// type options

fn check_view_options(ctx: &ValidationContext, c: &Collection) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    let query = c.view_query();
    if query.is_empty() {
        errs.add("viewQuery", FieldError::required());
    } else if let Err(e) = dry_run_view(ctx.conn, ctx.schema, query, 10) {
        // restricted just as an extra precaution
        let raw: String = e.chars().take(500).collect();
        errs.add("viewQuery", FieldError::new("validation_invalid_view_query", raw_error(&format!("Invalid query - {raw}"))));
    }
    errs
}

fn opt<'a>(c: &'a Collection, path: &[&str]) -> &'a Value {
    let mut v = c.options.get(path[0]).unwrap_or(&Value::Null);
    for key in &path[1..] {
        v = v.get(key).unwrap_or(&Value::Null);
    }
    v
}

fn opt_str<'a>(c: &'a Collection, path: &[&str]) -> &'a str {
    opt(c, path).as_str().unwrap_or_default()
}

fn opt_i64(c: &Collection, path: &[&str]) -> i64 {
    opt(c, path).as_i64().unwrap_or(0)
}

fn opt_bool(c: &Collection, path: &[&str]) -> bool {
    opt(c, path).as_bool().unwrap_or(false)
}

fn opt_rule(c: &Collection, key: &str) -> Option<String> {
    c.options.get(key).and_then(Value::as_str).map(str::to_string)
}

fn check_email_template(c: &Collection, path: &[&str]) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    for part in ["subject", "body"] {
        let mut p = path.to_vec();
        p.push(part);
        if opt_str(c, &p).is_empty() {
            errs.add(part, FieldError::required());
        }
    }
    errs
}

fn check_auth_options(ctx: &ValidationContext, c: &Collection, original: Option<&Collection>) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    for key in ["authRule", "manageRule"] {
        let rule = opt_rule(c, key);
        if key == "manageRule" && rule.as_deref() == Some("") {
            errs.add(key, FieldError::new("validation_nil_or_not_empty_required", "Cannot be blank."));
            continue;
        }
        let old = original.map(|o| opt_rule(o, key));
        if let Some(e) = check_rule(ctx, c, rule.as_deref()).or_else(|| check_system_rule_change(original, &rule, old.as_ref())) {
            errs.add(key, e);
        }
    }
    let mut alert = ValidationErrors::new();
    alert.nest("emailTemplate", check_email_template(c, &["authAlert", "emailTemplate"]));
    errs.nest("authAlert", alert);
    if opt_bool(c, &["passwordAuth", "enabled"]) && opt(c, &["passwordAuth", "identityFields"]).as_array().is_none_or(Vec::is_empty) {
        let mut pa = ValidationErrors::new();
        pa.add("identityFields", FieldError::required());
        errs.nest("passwordAuth", pa);
    }
    if opt_bool(c, &["oauth2", "enabled"]) {
        errs.nest("oauth2", check_oauth2_providers(c));
    }
    errs.nest("otp", check_otp(c));
    errs.nest("mfa", check_duration_when_enabled(c, "mfa"));
    for key in TOKEN_OPTION_KEYS {
        errs.nest(key, check_token(c, key));
    }
    for key in ["verificationTemplate", "resetPasswordTemplate", "confirmEmailChangeTemplate"] {
        errs.nest(key, check_email_template(c, &[key]));
    }
    if !errs.is_empty() {
        return errs;
    }
    check_auth_methods(ctx, c, original)
}

fn check_duration_when_enabled(c: &Collection, group: &str) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    if opt_bool(c, &[group, "enabled"]) {
        let d = opt_i64(c, &[group, "duration"]);
        if d == 0 {
            errs.add("duration", FieldError::required());
        } else if let Some(e) = check_int_range(d, 10, 86_400) {
            errs.add("duration", e);
        }
    }
    errs
}

fn check_otp(c: &Collection) -> ValidationErrors {
    let mut errs = check_duration_when_enabled(c, "otp");
    if opt_bool(c, &["otp", "enabled"]) {
        let len = opt_i64(c, &["otp", "length"]);
        if len == 0 {
            errs.add("length", FieldError::required());
        } else if len < 4 {
            errs.add("length", err_min(4));
        }
    }
    errs.nest("emailTemplate", check_email_template(c, &["otp", "emailTemplate"]));
    errs
}

fn check_token(c: &Collection, key: &str) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    let secret = opt_str(c, &[key, "secret"]);
    if secret.is_empty() {
        errs.add("secret", FieldError::required());
    } else if !(30..=255).contains(&rune_len(secret)) {
        errs.add("secret", err_length(30, 255));
    }
    let duration = opt_i64(c, &[key, "duration"]);
    if duration == 0 {
        errs.add("duration", FieldError::required());
    } else if let Some(e) = check_int_range(duration, 10, MAX_TOKEN_DURATION) {
        errs.add("duration", e);
    }
    errs
}

fn check_oauth2_providers(c: &Collection) -> ValidationErrors {
    let providers = opt(c, &["oauth2", "providers"]).as_array().cloned().unwrap_or_default();
    let mut list = ValidationErrors::new();
    let mut seen: Vec<&str> = vec![];
    for (i, p) in providers.iter().enumerate() {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        if seen.contains(&name) {
            let mut pe = ValidationErrors::new();
            pe.add(
                "name",
                FieldError::new("validation_duplicated_provider", format!("The provider {name} is already registered.")).param("name", name),
            );
            list.nest(i.to_string(), pe);
            let mut errs = ValidationErrors::new();
            errs.nest("providers", list);
            return errs;
        }
        seen.push(name);
    }
    for (i, p) in providers.iter().enumerate() {
        let mut pe = ValidationErrors::new();
        let text = |key: &str| p.get(key).and_then(Value::as_str).unwrap_or_default();
        for key in ["name", "clientId", "clientSecret"] {
            if text(key).is_empty() {
                pe.add(key, FieldError::required());
            }
        }
        let name = text("name");
        if !name.is_empty() && crate::auth::oauth2::find_spec(name).is_none() {
            pe.add(
                "name",
                FieldError::new("validation_missing_provider", format!("Invalid or missing provider with name {name}.")).param("name", name),
            );
        }
        for key in ["authURL", "tokenURL", "userInfoURL"] {
            if !text(key).is_empty() && !crate::validate::is_url(text(key)) {
                pe.add(key, FieldError::new("validation_is_url", "Must be a valid URL."));
            }
        }
        list.nest(i.to_string(), pe);
    }
    let mut errs = ValidationErrors::new();
    errs.nest("providers", list);
    errs
}

/// The checks PocketBase runs only once the option structs themselves are valid.
fn check_auth_methods(ctx: &ValidationContext, c: &Collection, original: Option<&Collection>) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    if opt_bool(c, &["mfa", "enabled"]) {
        let enabled = ["passwordAuth", "oauth2", "otp"].iter().filter(|g| opt_bool(c, &[g, "enabled"])).count();
        if enabled < 2 {
            let mut mfa = ValidationErrors::new();
            mfa.add("enabled", FieldError::new("validation_mfa_not_enough_auths", "MFA requires at least 2 auth methods to be enabled."));
            errs.nest("mfa", mfa);
            return errs;
        }
        let rule = opt_str(c, &["mfa", "rule"]).to_string();
        if !rule.is_empty() {
            let old = original.map(|o| Some(opt_str(o, &["mfa", "rule"]).to_string()));
            let failure = check_rule(ctx, c, Some(&rule)).or_else(|| check_system_rule_change(original, &Some(rule.clone()), old.as_ref()));
            if let Some(e) = failure {
                let mut mfa = ValidationErrors::new();
                mfa.add("rule", e);
                errs.nest("mfa", mfa);
                return errs;
            }
        }
    }
    if opt_bool(c, &["passwordAuth", "enabled"]) {
        for name in c.identity_fields() {
            let e = if c.field(&name).is_none() {
                FieldError::new("validation_missing_field", format!("Invalid or missing field {name}."))
            } else if find_single_column_unique_index(&c.indexes, &name).is_none() {
                FieldError::new("validation_missing_unique_constraint", format!("The field {name} doesn't have a UNIQUE constraint."))
            } else {
                continue;
            };
            let mut pa = ValidationErrors::new();
            pa.add("identityFields", e.param("fieldName", name));
            errs.nest("passwordAuth", pa);
            break;
        }
    }
    errs
}

/// Validation errors as one line of text (used where PocketBase embeds them in a message).
pub fn plain_error_string(errs: &ValidationErrors) -> String {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        let Value::Object(m) = v else { return };
        if let Some(msg) = m.get("message").and_then(Value::as_str) {
            out.push(format!("{prefix}: {}", msg.trim_end_matches('.')));
            return;
        }
        for (k, sub) in m {
            let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            walk(&p, sub, out);
        }
    }
    let mut out = vec![];
    walk("", &Value::Object(errs.clone().into_map()), &mut out);
    format!("{}.", out.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::collection::Collection;

    fn ctx_parts() -> (Connection, Schema) {
        let conn = Connection::open_in_memory().unwrap();
        let mut users = Collection::new(CollectionType::Auth, "users");
        users.id = "_pb_users_auth_".into();
        users.prepare_for_save(true, &|_| false);
        (conn, Schema::new(vec![users], 1))
    }

    fn validate_new(body: Value) -> Value {
        let (conn, schema) = ctx_parts();
        let ctx = ValidationContext { conn: &conn, schema: &schema };
        let mut c = Collection::from_api_json(body.as_object().unwrap()).unwrap();
        c.prepare_for_save(true, &|id| schema.collections.iter().any(|x| x.id == id));
        Value::Object(validate_collection(&ctx, &c, None).into_map())
    }

    #[test]
    fn name_errors_use_the_generic_codes() {
        assert_eq!(validate_new(json!({"name": ""}))["name"]["code"], "validation_required");
        assert_eq!(validate_new(json!({"name": "bad name"}))["name"], json!({"code": "validation_match_invalid", "message": "Must be in a valid format."}));
        assert_eq!(validate_new(json!({"name": "a_via_b"}))["name"]["code"], "validation_found_via");
        assert_eq!(validate_new(json!({"name": "USERS"}))["name"]["code"], "validation_collection_name_exists");
        assert_eq!(validate_new(json!({"name": "_pb_users_auth_"}))["name"]["code"], "validation_collection_name_id_duplicate");
        assert_eq!(validate_new(json!({"name": "x", "type": "weird"}))["type"]["code"], "validation_in_invalid");
    }

    #[test]
    fn reserved_and_duplicated_field_names() {
        let e = validate_new(json!({"name": "c", "fields": [{"name": "expand", "type": "text"}]}));
        assert_eq!(e["fields"]["1"]["name"], json!({"code": "validation_not_in_invalid", "message": "Must not be in list."}));
        let e = validate_new(json!({"name": "c", "type": "auth", "fields": [{"name": "oldPassword", "type": "text"}]}));
        assert_eq!(e["fields"]["1"]["name"]["code"], "validation_reserved_field_name");
        let e = validate_new(json!({"name": "c", "fields": [{"name": "ok", "type": "text"}, {"name": "OK", "type": "number"}]}));
        assert_eq!(
            e["fields"],
            json!({"2": {"name": {"code": "validation_duplicated_field_name", "message": "Duplicated or invalid field name OK.", "params": {"fieldName": "OK"}}}})
        );
    }

    #[test]
    fn field_option_errors() {
        let e = validate_new(json!({"name": "c", "fields": [
            {"name": "a", "type": "autodate"},
            {"name": "n", "type": "number", "min": 5, "max": 2},
            {"name": "t", "type": "text", "min": -1, "max": -5},
            {"name": "s", "type": "select", "values": ["a"], "maxSelect": 3},
            {"name": "f", "type": "file", "thumbs": ["0x0", "abc"]},
            {"name": "r", "type": "relation", "collectionId": "users"},
            {"name": "e", "type": "email", "onlyDomains": ["x"], "exceptDomains": ["y"]}
        ]}));
        let f = &e["fields"];
        assert_eq!(f["1"]["onCreate"]["message"], "Either onCreate or onUpdate must be enabled.");
        assert_eq!(f["2"]["max"], json!({"code": "validation_min_number_constraint", "message": "Must be greater or equal than 5.", "params": {"min": 5}}));
        assert_eq!(f["3"]["min"]["params"], json!({"threshold": 0}));
        assert_eq!(f["3"]["max"]["message"], "Must be no less than -1.");
        assert_eq!(f["4"]["maxSelect"]["message"], "Must be no greater than 1.");
        assert_eq!(f["5"]["thumbs"]["0"]["code"], "validation_not_in_invalid");
        assert_eq!(f["5"]["thumbs"]["1"]["code"], "validation_match_invalid");
        assert_eq!(f["6"]["collectionId"]["code"], "validation_field_relation_missing_collection");
        assert_eq!(f["7"]["onlyDomains"]["code"], "validation_empty");
    }

    #[test]
    fn view_write_rules_must_be_null() {
        let e = validate_new(json!({"name": "v", "type": "view", "viewQuery": "select 1 as id", "createRule": ""}));
        assert_eq!(e["createRule"], json!({"code": "validation_nil", "message": "Must be blank."}));
    }

    #[test]
    fn system_field_rename_and_system_rules() {
        let (conn, schema) = ctx_parts();
        let ctx = ValidationContext { conn: &conn, schema: &schema };
        let old = (*schema.collections[0]).clone();
        let mut renamed = old.clone();
        renamed.field_mut("email").unwrap().name = "mail".into();
        renamed.prepare_for_save(false, &|_| false);
        let e = Value::Object(validate_collection(&ctx, &renamed, Some(&old)).into_map());
        assert_eq!(e["fields"], json!({"code": "validation_system_field_change", "message": "System fields cannot be deleted or renamed."}));

        let mut sys = old.clone();
        sys.system = true;
        let mut changed = sys.clone();
        changed.list_rule = Some(String::new());
        let e = Value::Object(validate_collection(&ctx, &changed, Some(&sys)).into_map());
        assert_eq!(e["listRule"]["code"], "validation_collection_system_rule_change");
    }

    #[test]
    fn index_checks() {
        let e = validate_new(json!({"name": "c", "fields": [{"name": "a", "type": "text"}], "indexes": ["not sql"]}));
        assert_eq!(e["indexes"]["0"]["code"], "validation_invalid_index_expression");
        let e = validate_new(json!({"name": "c", "fields": [{"name": "a", "type": "text"}], "indexes": ["CREATE INDEX i1 ON c (a)", "create index I1 on c (a)"]}));
        assert_eq!(e["indexes"]["1"]["code"], "validation_duplicated_index_name");
        let e = validate_new(json!({"name": "c", "fields": [{"name": "a", "type": "text"}], "indexes": ["CREATE INDEX i1 ON c (a)", "create index i2 on c (a)"]}));
        assert_eq!(e["indexes"]["1"]["code"], "validation_duplicated_index_definition");
    }

    #[test]
    fn auth_option_errors() {
        let e = validate_new(json!({"name": "c", "type": "auth", "authToken": {"duration": 1, "secret": "x"}, "manageRule": ""}));
        assert_eq!(e["authToken"]["duration"]["params"], json!({"threshold": 10}));
        assert_eq!(e["authToken"]["secret"]["params"], json!({"min": 30, "max": 255}));
        assert_eq!(e["manageRule"]["code"], "validation_nil_or_not_empty_required");
        let e = validate_new(json!({"name": "c", "type": "auth", "mfa": {"enabled": true}}));
        assert_eq!(e["mfa"]["enabled"]["code"], "validation_mfa_not_enough_auths");
    }
}
