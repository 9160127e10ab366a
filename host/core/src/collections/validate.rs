use serde_json::Value;

use crate::error::{FieldError, ValidationErrors};
use crate::model::{Collection, CollectionType, Field, FieldType};
use crate::schema::index::ParsedIndex;
use crate::schema_cache::Schema;
use crate::validate::is_word;

const RESERVED_FIELD_NAMES: [&str; 7] = ["null", "true", "false", "_rowid_", "expand", "collectionId", "collectionName"];
const RESERVED_AUTH_FIELD_NAMES: [&str; 2] = ["passwordConfirm", "oldPassword"];

/// Validates a collection about to be saved (`old` is the stored version on update).
pub fn validate_collection(c: &Collection, old: Option<&Collection>, schema: &Schema) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    validate_identity(c, old, schema, &mut errs);
    let field_errs = validate_fields(c, schema);
    if !field_errs.is_empty() {
        errs.nest("fields", field_errs);
    } else if let Some(old) = old {
        if let Some(e) = system_field_change(c, old) {
            errs.add("fields", e);
        }
    }
    validate_indexes(c, schema, &mut errs);
    validate_rules(c, &mut errs);
    match c.kind {
        CollectionType::Auth => validate_auth_options(c, &mut errs),
        CollectionType::View => {
            if c.view_query().trim().is_empty() {
                errs.add("viewQuery", FieldError::required());
            }
        }
        CollectionType::Base => {}
    }
    errs
}

fn validate_identity(c: &Collection, old: Option<&Collection>, schema: &Schema, errs: &mut ValidationErrors) {
    if let Some(old) = old {
        if old.kind != c.kind {
            errs.add("type", FieldError::new("validation_collection_type_change", "Collection type cannot be changed."));
        }
        if old.system != c.system {
            errs.add("system", FieldError::new("validation_collection_system_flag_change", "System collection state cannot be changed."));
        }
        if old.system && old.name != c.name {
            errs.add("name", FieldError::new("validation_collection_system_name_change", "System collection name cannot be changed."));
        }
    } else if !c.id.is_empty() && schema.collections.iter().any(|x| x.id == c.id) {
        errs.add("id", FieldError::new("validation_collection_id_exists", "Collection id already exists."));
    }
    if c.name.is_empty() {
        errs.add("name", FieldError::required());
    } else if c.name.len() > 255 {
        errs.add("name", FieldError::new("validation_length_too_long", "The length must be no more than 255.").param("max", 255));
    } else if !is_word(&c.name) || c.name.contains("_via_") {
        errs.add("name", FieldError::new("validation_collection_name_invalid", "Collection name must contain only letters, numbers and underscores."));
    } else if schema.collections.iter().any(|x| x.id != c.id && x.name.eq_ignore_ascii_case(&c.name)) {
        errs.add("name", FieldError::new("validation_collection_name_exists", "Collection name must be unique (case insensitive)."));
    } else if schema.collections.iter().any(|x| x.id != c.id && x.id.eq_ignore_ascii_case(&c.name)) {
        errs.add("name", FieldError::new("validation_collection_name_id_duplicate", "The name must not match an existing collection id."));
    }
}

fn validate_fields(c: &Collection, schema: &Schema) -> ValidationErrors {
    let mut errs = ValidationErrors::new();
    for (i, f) in c.fields.iter().enumerate() {
        let mut fe = ValidationErrors::new();
        if f.id.is_empty() {
            fe.add("id", FieldError::required());
        } else if c.fields.iter().take(i).any(|o| o.id == f.id) {
            fe.add("id", FieldError::new("validation_duplicated_field_id", "Duplicated or invalid field id."));
        }
        if f.name.is_empty() {
            fe.add("name", FieldError::required());
        } else if RESERVED_FIELD_NAMES.contains(&f.name.as_str()) {
            fe.add("name", FieldError::new("validation_not_in_invalid", "Must not be one of the reserved values."));
        } else if c.is_auth() && RESERVED_AUTH_FIELD_NAMES.contains(&f.name.as_str()) {
            fe.add("name", FieldError::new("validation_reserved_field_name", "The field name is reserved and cannot be used."));
        } else if !is_word(&f.name) || f.name.contains("_via_") || f.name.len() > 100 {
            fe.add("name", FieldError::new("validation_field_name_invalid", "Field name must contain only letters, numbers and underscores."));
        } else if c.fields.iter().take(i).any(|o| o.name.eq_ignore_ascii_case(&f.name)) {
            fe.add("name", FieldError::new("validation_duplicated_field_name", "Duplicated or invalid field name."));
        }
        if f.help.chars().count() > 300 {
            fe.add("help", FieldError::new("validation_length_too_long", "The length must be no more than 300.").param("max", 300));
        }
        validate_field_options(f, schema, &mut fe);
        errs.nest(i.to_string(), fe);
    }
    errs
}

fn validate_field_options(f: &Field, schema: &Schema, fe: &mut ValidationErrors) {
    match f.kind {
        FieldType::Text => {
            if f.opt_i64("min") < 0 {
                fe.add("min", FieldError::new("validation_min_greater_equal_than_required", "Must be no less than 0."));
            }
            let max = f.opt_i64("max");
            if max != 0 && max < f.opt_i64("min") {
                fe.add("max", FieldError::new("validation_min_greater_equal_than_required", "Must be no less than min."));
            }
            for key in ["pattern", "autogeneratePattern"] {
                let p = f.opt_str(key);
                if !p.is_empty() && regex::Regex::new(p).is_err() {
                    fe.add(key, FieldError::new("validation_invalid_regex", "Invalid regular expression."));
                }
            }
            if f.is_primary_key() && f.name != "id" {
                fe.add("primaryKey", FieldError::new("validation_invalid_primary_key", "Only the id field can be a primary key."));
            }
        }
        FieldType::Number => {
            if let (Some(min), Some(max)) = (f.opt_f64("min"), f.opt_f64("max")) {
                if max < min {
                    fe.add("max", FieldError::new("validation_min_greater_equal_than_required", "Must be no less than min."));
                }
            }
        }
        FieldType::Select => {
            let values = f.opt_strings("values");
            if values.is_empty() {
                fe.add("values", FieldError::required());
            }
            if f.opt_i64("maxSelect") > values.len() as i64 && !values.is_empty() {
                fe.add("maxSelect", FieldError::new("validation_max_less_equal_than_required", format!("Must be no greater than {}.", values.len())));
            }
        }
        FieldType::Relation => {
            let target = f.opt_str("collectionId");
            if target.is_empty() {
                fe.add("collectionId", FieldError::required());
            } else if schema.find(target).is_none_or(|t| t.id != target) {
                fe.add("collectionId", FieldError::new("validation_missing_collection", "The relation collection doesn't exist."));
            }
            if f.opt_i64("minSelect") > f.opt_i64("maxSelect").max(1) {
                fe.add("maxSelect", FieldError::new("validation_max_less_than_min", "Must be greater than or equal to minSelect."));
            }
        }
        FieldType::Autodate => {
            if !f.opt_bool("onCreate") && !f.opt_bool("onUpdate") {
                fe.add("onUpdate", FieldError::new("validation_autodate_no_event", "At least one of the onCreate or onUpdate options must be set."));
            }
        }
        FieldType::Date => {
            for key in ["min", "max"] {
                let v = f.opt_str(key);
                if !v.is_empty() && crate::util::parse_date(v).is_none() {
                    fe.add(key, FieldError::new("validation_invalid_date", "Must be a valid date."));
                }
            }
        }
        _ => {}
    }
}

fn system_field_change(c: &Collection, old: &Collection) -> Option<FieldError> {
    for of in old.fields.iter().filter(|f| f.system) {
        match c.field_by_id(&of.id) {
            Some(nf) if nf.name == of.name && nf.kind == of.kind && nf.system => {}
            _ => return Some(FieldError::new("validation_system_field_change", "System fields cannot be deleted or changed.")),
        }
    }
    for nf in &c.fields {
        if let (Some(of), FieldType::Relation) = (old.field_by_id(&nf.id), nf.kind) {
            if of.kind == FieldType::Relation && of.opt_str("collectionId") != nf.opt_str("collectionId") {
                return Some(FieldError::new("validation_field_relation_change", "The relation collection cannot be changed."));
            }
        }
    }
    None
}

fn validate_indexes(c: &Collection, schema: &Schema, errs: &mut ValidationErrors) {
    if c.kind == CollectionType::View {
        return;
    }
    let mut ie = ValidationErrors::new();
    let mut names: Vec<String> = vec![];
    for (i, raw) in c.indexes.iter().enumerate() {
        let Some(idx) = ParsedIndex::parse(raw) else {
            ie.add(i.to_string(), FieldError::new("validation_invalid_index_expression", "Invalid CREATE INDEX expression."));
            continue;
        };
        let lname = idx.name.to_ascii_lowercase();
        if names.contains(&lname) {
            ie.add(i.to_string(), FieldError::new("validation_duplicated_index_name", "The index name must be unique."));
            continue;
        }
        names.push(lname.clone());
        let taken = schema.collections.iter().filter(|o| o.id != c.id).any(|o| {
            o.name.eq_ignore_ascii_case(&idx.name)
                || o.indexes.iter().filter_map(|r| ParsedIndex::parse(r)).any(|p| p.name.eq_ignore_ascii_case(&idx.name))
        });
        if taken {
            ie.add(i.to_string(), FieldError::new("validation_existing_index_name", "The index name is already used by another collection or table."));
            continue;
        }
        let missing = idx.columns.iter().any(|col| {
            crate::schema::index::is_identifier(&col.name) && !c.fields.iter().any(|f| f.name.eq_ignore_ascii_case(&col.name))
        });
        if missing {
            ie.add(i.to_string(), FieldError::new("validation_invalid_index_column", "One or more index columns are missing or invalid."));
        }
    }
    errs.nest("indexes", ie);
}

fn validate_rules(c: &Collection, errs: &mut ValidationErrors) {
    let mut rules: Vec<(&str, Option<&str>)> = vec![
        ("listRule", c.list_rule.as_deref()),
        ("viewRule", c.view_rule.as_deref()),
    ];
    if c.kind != CollectionType::View {
        rules.extend([
            ("createRule", c.create_rule.as_deref()),
            ("updateRule", c.update_rule.as_deref()),
            ("deleteRule", c.delete_rule.as_deref()),
        ]);
    }
    if c.is_auth() {
        rules.push(("authRule", c.options.get("authRule").and_then(Value::as_str)));
        if let Some(m) = c.options.get("manageRule").and_then(Value::as_str) {
            if m.is_empty() {
                errs.add("manageRule", FieldError::new("validation_invalid_rule", "Invalid rule. Raw error: the manageRule cannot be empty (use null instead)."));
            }
            rules.push(("manageRule", Some(m)));
        }
    }
    for (key, rule) in rules {
        let Some(rule) = rule.filter(|r| !r.trim().is_empty()) else { continue };
        if let Err(e) = crate::record::rules::check_rule_syntax(c, rule) {
            errs.add(key, FieldError::new("validation_invalid_rule", format!("Invalid rule. Raw error: {e}")));
        }
    }
}

fn validate_auth_options(c: &Collection, errs: &mut ValidationErrors) {
    let mut pa = ValidationErrors::new();
    for name in c.identity_fields() {
        if c.field(&name).is_none() {
            pa.add("identityFields", FieldError::new("validation_missing_field", format!("Invalid or missing field \"{name}\".")));
        }
    }
    errs.nest("passwordAuth", pa);
    for key in crate::model::collection::TOKEN_OPTION_KEYS {
        let mut te = ValidationErrors::new();
        let secret = c.token_secret(key);
        if secret.len() < 30 || secret.len() > 255 {
            te.add("secret", FieldError::new("validation_length_out_of_range", "The length must be between 30 and 255."));
        }
        let d = c.token_duration(key);
        if !(10..=94_670_856).contains(&d) {
            te.add("duration", FieldError::new("validation_min_greater_equal_than_required", "Must be no less than 10."));
        }
        errs.nest(key, te);
    }
}
