//! Collection fields: the type-specific options PocketBase stores in `_collections.fields`.
//!
//! A field is kept as its common attributes plus a JSON map of type options normalised
//! against [`FieldType::option_defaults`]. Serialisation emits keys alphabetically, exactly
//! like PocketBase (its field structs marshal through sorted maps).

use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Text,
    Editor,
    Number,
    Bool,
    Email,
    Url,
    Date,
    Autodate,
    Select,
    Relation,
    File,
    Json,
    GeoPoint,
    Password,
}

impl FieldType {
    pub const ALL: [FieldType; 14] = [
        FieldType::Text,
        FieldType::Editor,
        FieldType::Number,
        FieldType::Bool,
        FieldType::Email,
        FieldType::Url,
        FieldType::Date,
        FieldType::Autodate,
        FieldType::Select,
        FieldType::Relation,
        FieldType::File,
        FieldType::Json,
        FieldType::GeoPoint,
        FieldType::Password,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Editor => "editor",
            FieldType::Number => "number",
            FieldType::Bool => "bool",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Date => "date",
            FieldType::Autodate => "autodate",
            FieldType::Select => "select",
            FieldType::Relation => "relation",
            FieldType::File => "file",
            FieldType::Json => "json",
            FieldType::GeoPoint => "geoPoint",
            FieldType::Password => "password",
        }
    }

    /// Whether the type has the common `help`/`required` keys (autodate has neither).
    fn has_help_and_required(self) -> bool {
        self != FieldType::Autodate
    }

    /// Type-specific option keys and their defaults.
    pub fn option_defaults(self) -> Vec<(&'static str, Value)> {
        match self {
            FieldType::Text => vec![
                ("autogeneratePattern", json!("")),
                ("max", json!(0)),
                ("min", json!(0)),
                ("pattern", json!("")),
                ("primaryKey", json!(false)),
            ],
            FieldType::Password => {
                vec![("cost", json!(0)), ("max", json!(0)), ("min", json!(0)), ("pattern", json!(""))]
            }
            FieldType::Email | FieldType::Url => vec![("exceptDomains", json!([])), ("onlyDomains", json!([]))],
            FieldType::Number => vec![("max", Value::Null), ("min", Value::Null), ("onlyInt", json!(false))],
            FieldType::Editor => vec![("convertURLs", json!(false)), ("maxSize", json!(0))],
            FieldType::Date => vec![("max", json!("")), ("min", json!(""))],
            FieldType::Autodate => vec![("onCreate", json!(false)), ("onUpdate", json!(false))],
            FieldType::Select => vec![("maxSelect", json!(0)), ("values", json!([]))],
            FieldType::Relation => vec![
                ("cascadeDelete", json!(false)),
                ("collectionId", json!("")),
                ("maxSelect", json!(0)),
                ("minSelect", json!(0)),
            ],
            FieldType::File => vec![
                ("maxSelect", json!(0)),
                ("maxSize", json!(0)),
                ("mimeTypes", json!([])),
                ("protected", json!(false)),
                ("thumbs", json!([])),
            ],
            FieldType::Json => vec![("maxSize", json!(0))],
            FieldType::Bool | FieldType::GeoPoint => vec![],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: String,
    pub name: String,
    pub kind: FieldType,
    pub system: bool,
    pub hidden: bool,
    pub presentable: bool,
    pub required: bool,
    pub help: String,
    /// Type-specific options, always holding every key of `option_defaults`.
    pub opts: Map<String, Value>,
}

/// Why a field definition could not be read at all (PocketBase answers such input with
/// "Failed to load the submitted data due to invalid formatting.").
#[derive(Debug, Clone)]
pub struct FieldFormatError(pub String);

impl Field {
    pub fn new(kind: FieldType, name: &str) -> Self {
        let opts = kind.option_defaults().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Self {
            id: String::new(),
            name: name.to_string(),
            kind,
            system: false,
            hidden: false,
            presentable: false,
            required: false,
            help: String::new(),
            opts,
        }
    }

    /// Reads a field object (from the API or from `_collections.fields`).
    pub fn from_json(v: &Value) -> Result<Self, FieldFormatError> {
        let obj = v.as_object().ok_or_else(|| FieldFormatError("field must be an object".into()))?;
        let type_name = obj.get("type").and_then(Value::as_str).unwrap_or_default();
        let kind = FieldType::parse(type_name)
            .ok_or_else(|| FieldFormatError(format!("unknown field type {type_name:?}")))?;
        let mut f = Field::new(kind, "");
        f.id = get_string(obj, "id")?;
        f.name = get_string(obj, "name")?;
        f.system = get_bool(obj, "system")?;
        f.hidden = get_bool(obj, "hidden")?;
        f.presentable = get_bool(obj, "presentable")?;
        if kind.has_help_and_required() {
            f.required = get_bool(obj, "required")?;
            f.help = get_string(obj, "help")?;
        }
        for (key, default) in kind.option_defaults() {
            if let Some(v) = obj.get(key) {
                f.opts.insert(key.to_string(), coerce_like(key, v, &default)?);
            }
        }
        Ok(f)
    }

    /// The JSON form, keys sorted alphabetically (PocketBase's order).
    pub fn to_json(&self) -> Value {
        let mut pairs: Vec<(String, Value)> = vec![
            ("hidden".into(), json!(self.hidden)),
            ("id".into(), json!(self.id)),
            ("name".into(), json!(self.name)),
            ("presentable".into(), json!(self.presentable)),
            ("system".into(), json!(self.system)),
            ("type".into(), json!(self.kind.as_str())),
        ];
        if self.kind.has_help_and_required() {
            pairs.push(("help".into(), json!(self.help)));
            pairs.push(("required".into(), json!(self.required)));
        }
        for (k, v) in &self.opts {
            pairs.push((k.clone(), v.clone()));
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(pairs.into_iter().collect())
    }

    pub fn opt(&self, key: &str) -> &Value {
        self.opts.get(key).unwrap_or(&Value::Null)
    }
    pub fn opt_str(&self, key: &str) -> &str {
        self.opt(key).as_str().unwrap_or_default()
    }
    pub fn opt_bool(&self, key: &str) -> bool {
        self.opt(key).as_bool().unwrap_or(false)
    }
    pub fn opt_f64(&self, key: &str) -> Option<f64> {
        self.opt(key).as_f64()
    }
    pub fn opt_i64(&self, key: &str) -> i64 {
        self.opt(key).as_f64().map(|f| f as i64).unwrap_or(0)
    }
    pub fn opt_strings(&self, key: &str) -> Vec<String> {
        self.opt(key)
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
    pub fn set_opt(&mut self, key: &str, v: Value) {
        self.opts.insert(key.to_string(), v);
    }

    /// Select/relation/file fields with `maxSelect > 1` store a JSON array.
    pub fn is_multiple(&self) -> bool {
        matches!(self.kind, FieldType::Select | FieldType::Relation | FieldType::File) && self.opt_i64("maxSelect") > 1
    }

    pub fn is_primary_key(&self) -> bool {
        self.kind == FieldType::Text && self.opt_bool("primaryKey")
    }

    /// The column definition used in CREATE TABLE / ADD COLUMN.
    pub fn column_type(&self) -> &'static str {
        match self.kind {
            FieldType::Text if self.is_primary_key() => {
                "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"
            }
            FieldType::Number => "NUMERIC DEFAULT 0 NOT NULL",
            FieldType::Bool => "BOOLEAN DEFAULT FALSE NOT NULL",
            FieldType::Json => "JSON DEFAULT NULL",
            FieldType::GeoPoint => "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL",
            FieldType::Select | FieldType::Relation | FieldType::File if self.is_multiple() => {
                "JSON DEFAULT '[]' NOT NULL"
            }
            _ => "TEXT DEFAULT '' NOT NULL",
        }
    }

    /// Auto-generated field id: type + CRC-32 of the name (PocketBase's scheme).
    pub fn default_id(kind: FieldType, name: &str) -> String {
        format!("{}{}", kind.as_str(), crc32fast::hash(name.as_bytes()))
    }
}

/// Adds a field the way PocketBase's `FieldsList.Add` does, which defines what a submitted
/// `fields` array means:
/// - a field without id gets `type + crc32(name)` (suffixed 2, 3, … while taken); if a field
///   with the same name exists it is replaced in place and keeps that field's id;
/// - a field with an id replaces the field with the same id in place;
/// - otherwise it is appended.
pub fn add_field(fields: &mut Vec<Field>, mut field: Field) {
    if field.id.is_empty() {
        let base = Field::default_id(field.kind, &field.name);
        let mut id = base.clone();
        let mut n = 2;
        while n < 1000 && fields.iter().any(|f| f.id == id) {
            id = format!("{base}{n}");
            n += 1;
        }
        field.id = id;
        if !field.name.is_empty() {
            if let Some(existing) = fields.iter_mut().find(|f| f.name == field.name) {
                field.id = existing.id.clone();
                *existing = field;
                return;
            }
        }
    } else if let Some(existing) = fields.iter_mut().find(|f| f.id == field.id) {
        *existing = field;
        return;
    }
    fields.push(field);
}

/// Reads a JSON array of field objects with [`add_field`] semantics.
pub fn fields_from_json(items: &[Value]) -> Result<Vec<Field>, FieldFormatError> {
    let mut fields = Vec::with_capacity(items.len());
    for item in items {
        add_field(&mut fields, Field::from_json(item)?);
    }
    Ok(fields)
}

fn get_string(obj: &Map<String, Value>, key: &str) -> Result<String, FieldFormatError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(FieldFormatError(format!("{key} must be a string"))),
    }
}

fn get_bool(obj: &Map<String, Value>, key: &str) -> Result<bool, FieldFormatError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(FieldFormatError(format!("{key} must be a bool"))),
    }
}

/// Checks that an option value has the JSON type of its default (null allowed where the
/// default is null, e.g. number min/max; arrays must hold strings).
fn coerce_like(key: &str, v: &Value, default: &Value) -> Result<Value, FieldFormatError> {
    let bad = || FieldFormatError(format!("invalid value for {key}"));
    Ok(match default {
        Value::Null => match v {
            Value::Null | Value::Number(_) => v.clone(),
            _ => return Err(bad()),
        },
        Value::Bool(_) => match v {
            Value::Bool(_) => v.clone(),
            Value::Null => default.clone(),
            _ => return Err(bad()),
        },
        Value::Number(_) => match v {
            Value::Number(n) => {
                // integer options (min/max lengths, sizes, counts) are Go ints
                let f = n.as_f64().ok_or_else(bad)?;
                if f.fract() != 0.0 {
                    return Err(bad());
                }
                json!(f as i64)
            }
            Value::Null => default.clone(),
            _ => return Err(bad()),
        },
        Value::String(_) => match v {
            Value::String(_) => v.clone(),
            Value::Null => default.clone(),
            _ => return Err(bad()),
        },
        Value::Array(_) => match v {
            Value::Array(items) if items.iter().all(Value::is_string) => v.clone(),
            Value::Null => json!([]),
            _ => return Err(bad()),
        },
        Value::Object(_) => v.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_field_json_matches_pocketbase() {
        let f = Field::from_json(&json!({"type":"text","id":"12345789","name":"test"})).unwrap();
        assert_eq!(
            f.to_json().to_string(),
            r#"{"autogeneratePattern":"","help":"","hidden":false,"id":"12345789","max":0,"min":0,"name":"test","pattern":"","presentable":false,"primaryKey":false,"required":false,"system":false,"type":"text"}"#
        );
    }

    #[test]
    fn autodate_has_no_help_or_required() {
        let f = Field::from_json(&json!({"type":"autodate","name":"created","onCreate":true})).unwrap();
        assert_eq!(
            f.to_json().to_string(),
            r#"{"hidden":false,"id":"","name":"created","onCreate":true,"onUpdate":false,"presentable":false,"system":false,"type":"autodate"}"#
        );
    }

    #[test]
    fn unknown_type_and_bad_option_types_are_format_errors() {
        assert!(Field::from_json(&json!({"type":"nope","name":"x"})).is_err());
        assert!(Field::from_json(&json!({"type":"text","name":"x","min":"3"})).is_err());
    }

    #[test]
    fn fields_list_add_replaces_by_id_and_by_name() {
        // same id: the later definition replaces the earlier one in place
        let same_id = fields_from_json(&[
            json!({"type":"text","name":"a","id":"x1"}),
            json!({"type":"text","name":"b","id":"x1"}),
        ])
        .unwrap();
        assert_eq!(same_id.iter().map(|f| (f.id.as_str(), f.name.as_str())).collect::<Vec<_>>(), vec![("x1", "b")]);
        // no ids, same name: replaced in place, keeping the first generated id
        let same_name = fields_from_json(&[json!({"type":"text","name":"a"}), json!({"type":"number","name":"a"})]).unwrap();
        assert_eq!(same_name.len(), 1);
        assert_eq!(same_name[0].kind, FieldType::Number);
        assert_eq!(same_name[0].id, "text3904355907");
        // a generated id that is taken gets a numeric suffix
        let taken = fields_from_json(&[json!({"type":"text","name":"b","id":"text3904355907"}), json!({"type":"text","name":"a"})]).unwrap();
        assert_eq!(taken[1].id, "text39043559072");
    }

    #[test]
    fn default_ids_follow_crc32() {
        assert_eq!(Field::default_id(FieldType::Text, "id"), "text3208210256");
        assert_eq!(Field::default_id(FieldType::Autodate, "created"), "autodate2990389176");
    }
}
