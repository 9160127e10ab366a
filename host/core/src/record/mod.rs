//! Records: a collection row as field-name -> JSON value, its API form, and the
//! operations on it (validation, persistence, queries).

pub mod batch;
pub mod expand;
pub mod hooked;
pub mod persist;
pub mod query;
pub mod rules;
pub mod service;
pub mod validate;
pub mod values;
pub mod write;

use indexmap::IndexMap;
use rusqlite::types::Value as SqliteValue;
use serde_json::{json, Map, Value};
use std::sync::Arc;

use crate::files::PendingUpload;
use crate::model::{Collection, FieldType};

#[derive(Debug, Clone)]
pub struct Record {
    pub collection: Arc<Collection>,
    /// Values of every field, keyed by field name, normalised for the field type.
    pub values: IndexMap<String, Value>,
    /// Related records attached by `?expand=`.
    pub expand: Option<Map<String, Value>>,
    /// Values as loaded from the database (None for a new record).
    pub original: Option<IndexMap<String, Value>>,
    /// New files referenced by file field values, stored when the record is saved.
    pub uploads: Vec<PendingUpload>,
    /// Plain values of passwords set in this write (field name -> plain), for validation.
    pub plain_passwords: IndexMap<String, String>,
    /// Export the email regardless of `emailVisibility` (the viewer manages this record).
    pub ignore_email_visibility: bool,
}

/// What a viewer may see of a record.
#[derive(Debug, Clone, Copy, Default)]
pub struct Visibility {
    /// Superusers see hidden fields and every email.
    pub superuser: bool,
    /// The viewer is the record itself or has manage access: email is shown.
    pub owner: bool,
}

impl Record {
    pub fn new(collection: Arc<Collection>) -> Self {
        let values = collection.fields.iter().map(|f| (f.name.clone(), values::zero(f))).collect();
        Self { collection, values, expand: None, original: None, uploads: vec![], plain_passwords: IndexMap::new(), ignore_email_visibility: false }
    }

    /// Builds a record from columns selected in `collection.fields` order.
    pub fn from_columns(collection: Arc<Collection>, cols: Vec<SqliteValue>) -> Self {
        let mut vals = IndexMap::with_capacity(collection.fields.len());
        for (f, v) in collection.fields.iter().zip(cols) {
            vals.insert(f.name.clone(), values::from_sql(f, v));
        }
        Self { collection, original: Some(vals.clone()), values: vals, expand: None, uploads: vec![], plain_passwords: IndexMap::new(), ignore_email_visibility: false }
    }

    pub fn id(&self) -> &str {
        self.get_str("id")
    }
    pub fn get(&self, name: &str) -> &Value {
        self.values.get(name).unwrap_or(&Value::Null)
    }
    pub fn get_str(&self, name: &str) -> &str {
        self.get(name).as_str().unwrap_or_default()
    }
    pub fn set(&mut self, name: &str, v: Value) {
        if let Some(f) = self.collection.field(name) {
            let nv = values::normalize(f, &v);
            self.values.insert(name.to_string(), nv);
        }
    }
    /// The record as it now is in the database: its values are the original ones (it is no
    /// longer new) and its pending uploads are done.
    pub fn mark_stored(&mut self) {
        self.original = Some(self.values.clone());
        self.uploads.clear();
    }

    pub fn is_new(&self) -> bool {
        self.original.is_none()
    }
    pub fn original(&self, name: &str) -> &Value {
        self.original.as_ref().and_then(|o| o.get(name)).unwrap_or(&Value::Null)
    }

    /// The API JSON: visible fields plus collectionId/collectionName (and expand), keys sorted.
    pub fn to_json(&self, vis: Visibility) -> Value {
        let mut pairs: Vec<(String, Value)> = Vec::with_capacity(self.values.len() + 3);
        let c = &self.collection;
        let email_visible = vis.superuser || vis.owner || self.ignore_email_visibility || self.get("emailVisibility").as_bool() == Some(true);
        for f in &c.fields {
            // auth secrets are never exported, not even to superusers
            if c.is_auth() && (f.name == "password" || f.name == "tokenKey") {
                continue;
            }
            if f.hidden && !vis.superuser {
                continue;
            }
            if c.is_auth() && f.name == "email" && !email_visible {
                continue;
            }
            // a visible password field shows its key but never the hash
            let value = if f.kind == FieldType::Password { json!("") } else { self.get(&f.name).clone() };
            pairs.push((f.name.clone(), value));
        }
        pairs.push(("collectionId".into(), json!(c.id)));
        pairs.push(("collectionName".into(), json!(c.name)));
        if let Some(exp) = &self.expand {
            pairs.push(("expand".into(), Value::Object(exp.clone())));
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(pairs.into_iter().collect())
    }
}
