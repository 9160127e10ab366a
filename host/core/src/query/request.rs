//! `@request.*` resolution: static request values (method, context, query, headers, body,
//! plain auth fields) bound as parameters, and the `@request.body.*` modifiers and relations.

use pocketbun_filter::{build_where, parse_with, quote_ident, BuildOptions, FilterError, MultiMatchJoin, NullFallback, ParseOptions, Resolved, SqlValue};
use serde_json::{Map, Value};

use super::resolver::{err, split_modifier, Runner};
use super::sqlutil::{col, columnify};
use crate::model::{Field, FieldType};
use crate::record::values::to_string_list;

pub fn json_to_sql_value(v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

/// PocketBase's `extractNestedVal`: `None` when a key is missing or a value is not a container.
fn lookup<'v>(root: &'v Value, keys: &[String]) -> Option<&'v Value> {
    let mut cur = root;
    for k in keys {
        cur = match cur {
            Value::Object(m) => m.get(k.as_str())?,
            Value::Array(a) => a.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The body value as a list (null → empty, scalar → one item).
fn to_slice(v: Option<&Value>) -> Vec<Value> {
    match v {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
    }
}

fn cast_to_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

impl Runner<'_, '_> {
    pub(crate) fn process_request_field(&mut self) -> Result<Resolved, FilterError> {
        if self.field_name.starts_with("@request.auth.") {
            return self.process_auth_field();
        }
        let total = self.props.len();
        if self.field_name.starts_with("@request.body.") && total > 2 {
            let (name, modifier) = split_modifier(&self.props[2])?;
            let (name, modifier) = (name.to_string(), modifier.to_string());
            if let Some(field) = self.coll.field(&name).cloned() {
                if field.kind == FieldType::Relation && total > 3 {
                    return self.body_relation(&field);
                }
                if total == 3 {
                    match modifier.as_str() {
                        "each" => return self.body_each(&field),
                        "length" => return self.body_length(&field),
                        "lower" => return self.body_lower(&field),
                        "changed" => return self.body_changed(&field),
                        _ => {}
                    }
                }
            }
        }
        let path = self.props[1..].to_vec();
        self.static_field(&path)
    }

    fn body_value(&self, name: &str) -> Option<&Value> {
        self.r.request.body.get(name)
    }

    /// PocketBase's `resolveStaticRequestField`.
    pub(crate) fn static_field(&mut self, path: &[String]) -> Result<Resolved, FilterError> {
        let mut path = path.to_vec();
        let last = path.pop().unwrap_or_default();
        let (last, modifier) = split_modifier(&last)?;
        path.push(last.to_string());
        let req = self.r.request;
        let root = match path[0].as_str() {
            "context" => Some(Value::String(if req.context.is_empty() { "default".into() } else { req.context.clone() })),
            "method" => Some(Value::String(req.method.to_uppercase())),
            "query" => Some(Value::Object(req.query.clone())),
            "headers" => Some(Value::Object(req.headers.clone())),
            "body" => Some(Value::Object(req.body.clone())),
            "auth" => req.auth.as_ref().map(|a| {
                let mut m: Map<String, Value> = a.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                m.insert("collectionId".into(), Value::String(a.collection.id.clone()));
                m.insert("collectionName".into(), Value::String(a.collection.name.clone()));
                Value::Object(m)
            }),
            _ => None,
        };
        let found = root.as_ref().and_then(|r| lookup(r, &path[1..]));
        if modifier == "isset" {
            return Ok(Resolved::sql(if found.is_some() { "TRUE" } else { "FALSE" }));
        }
        let value = match found {
            None | Some(Value::Null) => SqlValue::Null,
            Some(Value::String(s)) => {
                let number = self.r.base.field(last).map(|f| f.kind == FieldType::Number).unwrap_or(false);
                match s.trim().parse::<f64>() {
                    Ok(n) if number && !s.trim().is_empty() => SqlValue::Real(n),
                    _ => SqlValue::Text(s.clone()),
                }
            }
            Some(v) => json_to_sql_value(v),
        };
        if !modifier.is_empty() && modifier != "lower" {
            return Err(err(format!("invalid modifier sequence {last}:{modifier}")));
        }
        if matches!(value, SqlValue::Null) {
            return Ok(Resolved::sql("NULL"));
        }
        if modifier == "lower" {
            let p = self.params.bind(value);
            return Ok(Resolved { sql: format!("LOWER({p})"), params: vec![p], ..Resolved::sql("") });
        }
        Ok(Resolved::value(self.params, value))
    }

    fn body_lower(&mut self, field: &Field) -> Result<Resolved, FilterError> {
        let raw = cast_to_string(self.body_value(&field.name));
        let p = self.params.bind(SqlValue::Text(raw));
        Ok(Resolved { sql: format!("LOWER({p})"), params: vec![p], ..Resolved::sql("") })
    }

    fn body_length(&mut self, field: &Field) -> Result<Resolved, FilterError> {
        if !matches!(field.kind, FieldType::Select | FieldType::Relation | FieldType::File) {
            return Err(err(format!("field {:?} doesn't support multivalue operations", field.name)));
        }
        Ok(Resolved::sql(to_slice(self.body_value(&field.name)).len().to_string()))
    }

    fn body_each(&mut self, field: &Field) -> Result<Resolved, FilterError> {
        if !matches!(field.kind, FieldType::Select | FieldType::Relation | FieldType::File) {
            return Err(err(format!("field {:?} doesn't support multivalue operations", field.name)));
        }
        let raw = Value::Array(to_slice(self.body_value(&field.name))).to_string();
        let p = self.params.bind(SqlValue::Text(raw.clone()));
        let je = format!("__dataEach_je_{}{}", columnify(&field.name), self.r.alias_suffix);
        self.r.register_join(format!("json_each({p})"), je.clone(), None, None)?;
        let mut res = Resolved::sql(col(&je, "value"));
        if field.is_multiple() {
            self.with_mm = true;
        }
        if self.with_mm {
            let p2 = self.params.reserve();
            let je2 = format!("__mm_{je}");
            self.mm.joins.push(MultiMatchJoin { table: format!("json_each({p2})"), alias: quote_ident(&je2), on: None });
            self.mm.params.push((p2, SqlValue::Text(raw)));
            self.mm.value = col(&je2, "value");
            res = res.with_multi_match(self.mm.clone());
        }
        Ok(res)
    }

    /// `@request.body.f:changed` = `@request.body.f:isset = true && @request.body.f != f`.
    fn body_changed(&mut self, field: &Field) -> Result<Resolved, FilterError> {
        let name = &field.name;
        let src = format!("@request.body.{name}:isset = true && @request.body.{name} != {name}");
        let expr = parse_with(&src, &ParseOptions::without_length_limit())?;
        let alias_sql = build_where(&expr, &mut *self.r, self.params, &BuildOptions::default())?;
        let placeholder = format!("__pb_changed_{}_{}__", columnify(name), self.r.next_id());
        let ph = placeholder.clone();
        Ok(Resolved::sql(placeholder)
            .with_null_fallback(NullFallback::Disabled)
            .with_after_build(move |expr| expr.replace(&ph, &format!("({alias_sql})"))))
    }

    /// `@request.body.rel.field…`: joins the related records named in the body.
    fn body_relation(&mut self, field: &Field) -> Result<Resolved, FilterError> {
        let rel = self
            .r
            .load_collection(field.opt_str("collectionId"))
            .ok_or_else(|| err(format!("failed to load collection of data field {:?}", field.name)))?;
        let ids = {
            let mut seen = vec![];
            for id in to_string_list(self.body_value(&field.name).unwrap_or(&Value::Null)) {
                if !seen.contains(&id) {
                    seen.push(id);
                }
            }
            seen
        };
        if ids.is_empty() {
            return Ok(Resolved::sql("NULL"));
        }
        self.alias = columnify(&format!("__data_{}_{}", rel.name, field.name)) + &self.r.alias_suffix;
        let marks: Vec<String> = ids.iter().map(|id| self.params.bind(SqlValue::Text(id.clone()))).collect();
        let on = format!("{} IN ({})", col(&self.alias, "id"), marks.join(", "));
        self.r.register_join(quote_ident(&rel.name), self.alias.clone(), Some(on), Some(&rel))?;
        if field.is_multiple() {
            self.with_mm = true;
        }
        self.mm_alias = format!("__mm_{}", self.alias);
        let mut marks2 = vec![];
        for id in &ids {
            let p = self.params.reserve();
            self.mm.params.push((p.clone(), SqlValue::Text(id.clone())));
            marks2.push(p);
        }
        self.mm.joins.push(MultiMatchJoin {
            table: quote_ident(&rel.name),
            alias: quote_ident(&self.mm_alias),
            on: Some(format!("{} IN ({})", col(&self.mm_alias, "id"), marks2.join(", "))),
        });
        self.coll = rel;
        self.props.drain(..3);
        self.process_props()
    }
}
