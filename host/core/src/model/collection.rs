//! Collections: the rows of `_collections` and their API JSON form.

use serde_json::{json, Map, Value};

use super::field::{Field, FieldFormatError, FieldType};
use crate::util::{now_string, random_string, ALPHANUMERIC};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionType {
    Base,
    Auth,
    View,
}

impl CollectionType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "base" => Some(Self::Base),
            "auth" => Some(Self::Auth),
            "view" => Some(Self::View),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::Auth => "auth",
            Self::View => "view",
        }
    }
}

/// The per-purpose token settings of auth collections, in PocketBase's key order.
pub const TOKEN_OPTION_KEYS: [&str; 5] =
    ["authToken", "passwordResetToken", "emailChangeToken", "verificationToken", "fileToken"];

pub const SUPERUSERS_ID: &str = "pbc_3142635823";
pub const SUPERUSERS: &str = "_superusers";

const AUTH_OPTIONS_DEFAULTS: &str = include_str!("data/auth_options_defaults.json");

#[derive(Debug, Clone)]
pub struct Collection {
    pub id: String,
    pub name: String,
    pub kind: CollectionType,
    pub system: bool,
    pub fields: Vec<Field>,
    pub indexes: Vec<String>,
    pub list_rule: Option<String>,
    pub view_rule: Option<String>,
    pub create_rule: Option<String>,
    pub update_rule: Option<String>,
    pub delete_rule: Option<String>,
    /// Type options exactly as stored in `_collections.options` (secrets included).
    pub options: Map<String, Value>,
    pub created: String,
    pub updated: String,
}

/// Raw column values of one `_collections` row.
pub struct CollectionRow {
    pub id: String,
    pub system: bool,
    pub kind: String,
    pub name: String,
    pub fields: String,
    pub indexes: String,
    pub rules: [Option<String>; 5],
    pub options: String,
    pub created: String,
    pub updated: String,
}

impl Collection {
    /// A blank collection of the given type with its system fields and default options.
    pub fn new(kind: CollectionType, name: &str) -> Self {
        let mut c = Collection {
            id: String::new(),
            name: name.to_string(),
            kind,
            system: false,
            fields: vec![],
            indexes: vec![],
            list_rule: None,
            view_rule: None,
            create_rule: None,
            update_rule: None,
            delete_rule: None,
            options: Map::new(),
            created: String::new(),
            updated: String::new(),
        };
        c.init_type_defaults();
        c
    }

    fn init_type_defaults(&mut self) {
        match self.kind {
            CollectionType::Auth => {
                let mut o: Map<String, Value> = serde_json::from_str(AUTH_OPTIONS_DEFAULTS).unwrap_or_default();
                for key in TOKEN_OPTION_KEYS {
                    if let Some(Value::Object(t)) = o.get_mut(key) {
                        t.insert("secret".into(), json!(random_string(50, ALPHANUMERIC)));
                    }
                }
                self.options = o;
            }
            CollectionType::View => {
                self.options = Map::from_iter([("viewQuery".to_string(), json!(""))]);
            }
            CollectionType::Base => self.options = Map::new(),
        }
    }

    pub fn from_row(row: CollectionRow) -> Result<Self, FieldFormatError> {
        let kind = CollectionType::parse(&row.kind).unwrap_or(CollectionType::Base);
        let fields_json: Value = serde_json::from_str(&row.fields).unwrap_or(json!([]));
        let fields = fields_json.as_array().map(|a| a.iter().map(Field::from_json).collect()).unwrap_or(Ok(vec![]))?;
        let indexes: Vec<String> = serde_json::from_str(&row.indexes).unwrap_or_default();
        let options: Map<String, Value> = serde_json::from_str(&row.options).unwrap_or_default();
        let [list_rule, view_rule, create_rule, update_rule, delete_rule] = row.rules;
        Ok(Collection {
            id: row.id,
            name: row.name,
            kind,
            system: row.system,
            fields,
            indexes,
            list_rule,
            view_rule,
            create_rule,
            update_rule,
            delete_rule,
            options,
            created: row.created,
            updated: row.updated,
        })
    }

    pub fn is_auth(&self) -> bool {
        self.kind == CollectionType::Auth
    }
    pub fn is_view(&self) -> bool {
        self.kind == CollectionType::View
    }
    pub fn is_superusers(&self) -> bool {
        self.name == SUPERUSERS
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.name == name)
    }
    pub fn field_by_id(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    pub fn view_query(&self) -> &str {
        self.options.get("viewQuery").and_then(Value::as_str).unwrap_or_default()
    }

    /// `options.<group>.<key>` for auth options such as `authToken.duration`.
    pub fn option(&self, group: &str, key: &str) -> &Value {
        self.options.get(group).and_then(|g| g.get(key)).unwrap_or(&Value::Null)
    }

    pub fn token_secret(&self, purpose: &str) -> String {
        self.option(purpose, "secret").as_str().unwrap_or_default().to_string()
    }

    pub fn token_duration(&self, purpose: &str) -> i64 {
        self.option(purpose, "duration").as_i64().unwrap_or(0)
    }

    /// The auth identity fields allowed for password sign-in.
    pub fn identity_fields(&self) -> Vec<String> {
        self.option("passwordAuth", "identityFields")
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    pub fn rule(&self, which: RuleKind) -> Option<&str> {
        match which {
            RuleKind::List => self.list_rule.as_deref(),
            RuleKind::View => self.view_rule.as_deref(),
            RuleKind::Create => self.create_rule.as_deref(),
            RuleKind::Update => self.update_rule.as_deref(),
            RuleKind::Delete => self.delete_rule.as_deref(),
            RuleKind::Manage => self.options.get("manageRule").and_then(Value::as_str),
            RuleKind::Auth => self.options.get("authRule").and_then(Value::as_str),
        }
    }

    /// API JSON (options flattened, secrets removed), in PocketBase's key order.
    pub fn to_api_json(&self) -> Value {
        let mut v = self.to_full_json();
        if let Value::Object(m) = &mut v {
            for key in TOKEN_OPTION_KEYS {
                if let Some(Value::Object(t)) = m.get_mut(key) {
                    t.remove("secret");
                }
            }
            if let Some(Value::Array(providers)) = m.get_mut("oauth2").and_then(|o| o.get_mut("providers")) {
                for p in providers.iter_mut().filter_map(Value::as_object_mut) {
                    p.remove("clientSecret");
                }
            }
        }
        v
    }

    /// Like the API JSON but with secrets kept (used for merging patches and imports).
    pub fn to_full_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("listRule".into(), json!(self.list_rule));
        m.insert("viewRule".into(), json!(self.view_rule));
        m.insert("createRule".into(), json!(self.create_rule));
        m.insert("updateRule".into(), json!(self.update_rule));
        m.insert("deleteRule".into(), json!(self.delete_rule));
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.kind.as_str()));
        m.insert("fields".into(), Value::Array(self.fields.iter().map(Field::to_json).collect()));
        m.insert("indexes".into(), json!(self.indexes));
        m.insert("created".into(), json!(self.created));
        m.insert("updated".into(), json!(self.updated));
        m.insert("system".into(), json!(self.system));
        for (k, v) in &self.options {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// Builds a collection from (API) JSON: `type` picks the defaults, the rest is applied
    /// over them (objects merged key by key, arrays replaced), like Go's json.Unmarshal
    /// into a pre-initialised struct.
    pub fn from_api_json(input: &Map<String, Value>) -> Result<Self, FieldFormatError> {
        let kind_str = match input.get("type") {
            None | Some(Value::Null) => "base",
            Some(Value::String(s)) if s.is_empty() => "base",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(FieldFormatError("type must be a string".into())),
        };
        let kind = CollectionType::parse(kind_str).ok_or_else(|| FieldFormatError("invalid collection type".into()))?;
        let mut base = Collection::new(kind, "");
        base.fields.clear();
        base.apply_json(input)?;
        Ok(base)
    }

    /// Applies a (partial) JSON object over this collection.
    pub fn apply_json(&mut self, input: &Map<String, Value>) -> Result<(), FieldFormatError> {
        let mut full = self.to_full_json();
        let keep_kind = self.kind;
        if let Value::Object(m) = &mut full {
            for (k, v) in input {
                match k.as_str() {
                    "fields" | "indexes" => {
                        m.insert(k.clone(), v.clone());
                    }
                    "created" | "updated" => {}
                    _ => merge_json(m.entry(k.clone()).or_insert(Value::Null), v),
                }
            }
        }
        let m = full.as_object().cloned().unwrap_or_default();
        let str_of = |key: &str| -> Result<String, FieldFormatError> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(FieldFormatError(format!("{key} must be a string"))),
            }
        };
        let rule_of = |key: &str| -> Result<Option<String>, FieldFormatError> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(FieldFormatError(format!("{key} must be a string or null"))),
            }
        };
        self.id = str_of("id")?;
        self.name = str_of("name")?;
        let kind_str = str_of("type")?;
        self.kind = CollectionType::parse(&kind_str).unwrap_or(keep_kind);
        if let Some(Value::Bool(b)) = m.get("system") {
            self.system = *b;
        }
        self.list_rule = rule_of("listRule")?;
        self.view_rule = rule_of("viewRule")?;
        self.create_rule = rule_of("createRule")?;
        self.update_rule = rule_of("updateRule")?;
        self.delete_rule = rule_of("deleteRule")?;
        self.fields = match m.get("fields") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(items)) => items.iter().map(Field::from_json).collect::<Result<_, _>>()?,
            Some(_) => return Err(FieldFormatError("fields must be an array".into())),
        };
        self.indexes = match m.get("indexes") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(|| FieldFormatError("invalid index".into())))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(FieldFormatError("indexes must be an array".into())),
        };
        if self.kind != keep_kind {
            // a type change re-initialises the option set (validation rejects it for existing collections)
            self.init_type_defaults();
        }
        let option_keys: Vec<String> = self.options.keys().cloned().collect();
        for key in option_keys {
            if let Some(v) = m.get(&key) {
                self.options.insert(key, v.clone());
            }
        }
        Ok(())
    }

    /// Fills what PocketBase fills on save: ids, the system fields of the type, the auth
    /// indexes and the timestamps.
    pub fn prepare_for_save(&mut self, existing_ids: &dyn Fn(&str) -> bool) {
        if self.id.is_empty() {
            let base = format!("pbc_{}", crc32fast::hash(format!("{}{}", self.kind.as_str(), self.name).as_bytes()));
            let mut id = base.clone();
            let mut n = 2;
            while existing_ids(&id) {
                id = format!("{base}{n}");
                n += 1;
            }
            self.id = id;
        }
        if self.kind != CollectionType::View {
            self.ensure_id_field();
        }
        if self.kind == CollectionType::Auth {
            self.ensure_auth_fields();
        }
        self.assign_field_ids();
        let now = now_string();
        if self.created.is_empty() {
            self.created = now.clone();
        }
        self.updated = now;
    }

    fn ensure_id_field(&mut self) {
        match self.fields.iter_mut().find(|f| f.name == "id") {
            Some(f) => {
                f.system = true;
                f.required = true;
                f.hidden = false;
                if f.kind == FieldType::Text {
                    f.set_opt("primaryKey", json!(true));
                }
                if f.id.is_empty() {
                    f.id = "text3208210256".into();
                }
            }
            None => self.fields.insert(0, id_field()),
        }
    }

    fn ensure_auth_fields(&mut self) {
        let defaults = auth_system_fields();
        for def in defaults {
            match self.fields.iter().position(|f| f.name == def.name) {
                Some(i) => {
                    let f = &mut self.fields[i];
                    if f.kind != def.kind {
                        // a same-named field of another type is replaced by the system one
                        *f = def;
                        continue;
                    }
                    f.system = true;
                    if f.id.is_empty() {
                        f.id = def.id.clone();
                    }
                    match f.name.as_str() {
                        "password" | "tokenKey" => {
                            f.hidden = true;
                            f.required = true;
                        }
                        "email" => f.required = true,
                        _ => {}
                    }
                }
                None => self.fields.push(def),
            }
        }
        let token_idx = format!("idx_tokenKey_{}", self.id);
        let email_idx = format!("idx_email_{}", self.id);
        let has_unique_on = |indexes: &[String], col: &str| {
            indexes.iter().any(|i| {
                crate::schema::index::ParsedIndex::parse(i)
                    .map(|p| p.unique && p.columns.len() == 1 && p.columns[0].name.eq_ignore_ascii_case(col))
                    .unwrap_or(false)
            })
        };
        if !has_unique_on(&self.indexes, "tokenKey") {
            self.indexes.push(format!("CREATE UNIQUE INDEX `{token_idx}` ON `{}` (`tokenKey`)", self.name));
        }
        if !has_unique_on(&self.indexes, "email") {
            self.indexes
                .push(format!("CREATE UNIQUE INDEX `{email_idx}` ON `{}` (`email`) WHERE `email` != ''", self.name));
        }
    }

    fn assign_field_ids(&mut self) {
        let mut used: Vec<String> = self.fields.iter().filter(|f| !f.id.is_empty()).map(|f| f.id.clone()).collect();
        for f in self.fields.iter_mut().filter(|f| f.id.is_empty()) {
            let base = Field::default_id(f.kind, &f.name);
            let mut id = base.clone();
            let mut n = 2;
            while used.contains(&id) {
                id = format!("{base}{n}");
                n += 1;
            }
            used.push(id.clone());
            f.id = id;
        }
    }

    /// Column values for INSERT/UPDATE of `_collections`.
    pub fn to_row_values(&self) -> (String, String, String) {
        let fields = Value::Array(self.fields.iter().map(Field::to_json).collect()).to_string();
        let indexes = json!(self.indexes).to_string();
        let options = Value::Object(self.options.clone()).to_string();
        (fields, indexes, options)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    List,
    View,
    Create,
    Update,
    Delete,
    Manage,
    Auth,
}

/// Deep-merges `patch` into `target`: objects key by key, everything else replaced.
pub fn merge_json(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge_json(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

pub fn id_field() -> Field {
    Field::from_json(&json!({
        "autogeneratePattern": "[a-z0-9]{15}", "id": "text3208210256", "max": 15, "min": 15,
        "name": "id", "pattern": "^[a-z0-9]+$", "primaryKey": true, "required": true,
        "system": true, "type": "text"
    }))
    .expect("static field definition")
}

fn auth_system_fields() -> Vec<Field> {
    let defs = json!([
        {"cost":0,"hidden":true,"id":"password901924565","min":8,"name":"password","required":true,"system":true,"type":"password"},
        {"autogeneratePattern":"[a-zA-Z0-9]{50}","hidden":true,"id":"text2504183744","max":60,"min":30,"name":"tokenKey","required":true,"system":true,"type":"text"},
        {"id":"email3885137012","name":"email","required":true,"system":true,"type":"email"},
        {"id":"bool1547992806","name":"emailVisibility","system":true,"type":"bool"},
        {"id":"bool256245529","name":"verified","system":true,"type":"bool"}
    ]);
    defs.as_array()
        .map(|a| a.iter().filter_map(|v| Field::from_json(v).ok()).collect())
        .unwrap_or_default()
}

/// Field types whose values are lists of strings.
pub fn is_list_type(kind: FieldType) -> bool {
    matches!(kind, FieldType::Select | FieldType::Relation | FieldType::File)
}
