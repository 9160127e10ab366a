//! The typed shape of collection type options (auth and view), used to decode submitted
//! JSON the way Go decodes it into PocketBase's option structs: known keys are type checked
//! (a mismatch is a formatting error), objects are merged key by key, arrays replaced,
//! unknown keys ignored; and to emit the options in the structs' key order.

use serde_json::{Map, Value};

use super::field::FieldFormatError;

/// The JSON type of one option value.
#[derive(Debug)]
pub enum Shape {
    Str,
    /// A string serialised only when non-empty (`json:",omitempty"`, e.g. secrets).
    StrOmitEmpty,
    /// A string pointer: string or null.
    OptStr,
    /// A bool pointer: bool or null.
    OptBool,
    Bool,
    Int,
    /// `map[string]any`: any object (or null).
    AnyObject,
    List(&'static Shape),
    Obj(&'static [(&'static str, Shape)]),
}

const EMAIL_TEMPLATE: Shape = Shape::Obj(&[("subject", Shape::Str), ("body", Shape::Str)]);
const TOKEN: Shape = Shape::Obj(&[("secret", Shape::StrOmitEmpty), ("duration", Shape::Int)]);
const OAUTH2_PROVIDER: Shape = Shape::Obj(&[
    ("pkce", Shape::OptBool),
    ("name", Shape::Str),
    ("clientId", Shape::Str),
    ("clientSecret", Shape::StrOmitEmpty),
    ("authURL", Shape::Str),
    ("tokenURL", Shape::Str),
    ("userInfoURL", Shape::Str),
    ("displayName", Shape::Str),
    ("extra", Shape::AnyObject),
]);

/// Auth collection options in PocketBase's struct order.
pub const AUTH_OPTIONS: &[(&str, Shape)] = &[
    ("authRule", Shape::OptStr),
    ("manageRule", Shape::OptStr),
    ("authAlert", Shape::Obj(&[("enabled", Shape::Bool), ("emailTemplate", EMAIL_TEMPLATE)])),
    (
        "oauth2",
        Shape::Obj(&[
            ("providers", Shape::List(&OAUTH2_PROVIDER)),
            (
                "mappedFields",
                Shape::Obj(&[("id", Shape::Str), ("name", Shape::Str), ("username", Shape::Str), ("avatarURL", Shape::Str)]),
            ),
            ("enabled", Shape::Bool),
        ]),
    ),
    ("passwordAuth", Shape::Obj(&[("enabled", Shape::Bool), ("identityFields", Shape::List(&Shape::Str))])),
    ("mfa", Shape::Obj(&[("enabled", Shape::Bool), ("duration", Shape::Int), ("rule", Shape::Str)])),
    (
        "otp",
        Shape::Obj(&[("enabled", Shape::Bool), ("duration", Shape::Int), ("length", Shape::Int), ("emailTemplate", EMAIL_TEMPLATE)]),
    ),
    ("authToken", TOKEN),
    ("passwordResetToken", TOKEN),
    ("emailChangeToken", TOKEN),
    ("verificationToken", TOKEN),
    ("fileToken", TOKEN),
    ("verificationTemplate", EMAIL_TEMPLATE),
    ("resetPasswordTemplate", EMAIL_TEMPLATE),
    ("confirmEmailChangeTemplate", EMAIL_TEMPLATE),
];

/// View collection options.
pub const VIEW_OPTIONS: &[(&str, Shape)] = &[("viewQuery", Shape::Str)];

/// The Go zero value of a shape (what an option holds when nothing set it).
pub fn zero(shape: &Shape) -> Value {
    match shape {
        Shape::Str | Shape::StrOmitEmpty => Value::String(String::new()),
        Shape::OptStr | Shape::OptBool | Shape::AnyObject => Value::Null,
        Shape::Bool => Value::Bool(false),
        Shape::Int => Value::from(0),
        Shape::List(_) => Value::Array(vec![]),
        Shape::Obj(keys) => zero_object(keys),
    }
}

pub fn zero_object(keys: &[(&str, Shape)]) -> Value {
    Value::Object(keys.iter().map(|(k, s)| (k.to_string(), zero(s))).collect())
}

/// Decodes `patch` over `target` as Go decodes JSON into an existing struct value.
pub fn merge(target: &mut Value, patch: &Value, shape: &Shape, key: &str) -> Result<(), FieldFormatError> {
    let bad = || FieldFormatError(format!("invalid value for {key}"));
    match shape {
        Shape::Obj(keys) => match patch {
            Value::Null => *target = zero(shape),
            Value::Object(p) => {
                if !target.is_object() {
                    *target = zero(shape);
                }
                let Value::Object(t) = target else { return Err(bad()) };
                for (k, sub) in keys.iter() {
                    if let Some(v) = p.get(*k) {
                        merge(t.entry(k.to_string()).or_insert_with(|| zero(sub)), v, sub, k)?;
                    }
                }
            }
            _ => return Err(bad()),
        },
        Shape::List(item) => match patch {
            Value::Null => *target = Value::Array(vec![]),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for v in items {
                    let mut decoded = zero(item);
                    merge(&mut decoded, v, item, key)?;
                    out.push(decoded);
                }
                *target = Value::Array(out);
            }
            _ => return Err(bad()),
        },
        Shape::Str | Shape::StrOmitEmpty => match patch {
            Value::Null => *target = zero(shape),
            Value::String(_) => *target = patch.clone(),
            _ => return Err(bad()),
        },
        Shape::OptStr => match patch {
            Value::Null | Value::String(_) => *target = patch.clone(),
            _ => return Err(bad()),
        },
        Shape::OptBool => match patch {
            Value::Null | Value::Bool(_) => *target = patch.clone(),
            _ => return Err(bad()),
        },
        Shape::Bool => match patch {
            Value::Null => *target = Value::Bool(false),
            Value::Bool(_) => *target = patch.clone(),
            _ => return Err(bad()),
        },
        Shape::Int => match patch {
            Value::Null => *target = Value::from(0),
            Value::Number(n) if n.is_i64() || n.is_u64() => *target = patch.clone(),
            Value::Number(n) => match n.as_f64() {
                // Go decodes 10.0 into an int, but not 10.5
                Some(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => *target = Value::from(f as i64),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        },
        Shape::AnyObject => match patch {
            Value::Null => *target = Value::Null,
            Value::Object(p) => {
                // maps merge key by key
                if !target.is_object() {
                    *target = Value::Object(Map::new());
                }
                if let Value::Object(t) = target {
                    for (k, v) in p {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
            _ => return Err(bad()),
        },
    }
    Ok(())
}

/// Re-emits a stored value in the shape's key order, filling missing keys with zero values
/// and dropping empty `omitempty` strings and unknown keys.
pub fn normalize(value: &Value, shape: &Shape) -> Option<Value> {
    match shape {
        Shape::Obj(keys) => {
            let src = value.as_object();
            let mut out = Map::new();
            for (k, sub) in keys.iter() {
                let v = src.and_then(|m| m.get(*k)).cloned().unwrap_or_else(|| zero(sub));
                if let Some(n) = normalize(&v, sub) {
                    out.insert(k.to_string(), n);
                }
            }
            Some(Value::Object(out))
        }
        Shape::List(item) => match value {
            Value::Array(items) => Some(Value::Array(items.iter().filter_map(|v| normalize(v, item)).collect())),
            _ => Some(Value::Array(vec![])),
        },
        Shape::StrOmitEmpty => match value {
            Value::String(s) if !s.is_empty() => Some(value.clone()),
            _ => None,
        },
        _ => Some(value.clone()),
    }
}

/// Normalises a whole option map against a list of top-level shapes.
pub fn normalize_map(options: &Map<String, Value>, keys: &[(&str, Shape)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, shape) in keys {
        let v = options.get(*k).cloned().unwrap_or_else(|| zero(shape));
        if let Some(n) = normalize(&v, shape) {
            out.insert(k.to_string(), n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn auth_shape() -> Shape {
        Shape::Obj(AUTH_OPTIONS)
    }

    #[test]
    fn merges_objects_and_replaces_arrays() {
        let mut t = json!({"passwordAuth": {"enabled": true, "identityFields": ["email"]}, "authToken": {"secret": "s", "duration": 10}});
        merge(&mut t, &json!({"passwordAuth": {"identityFields": ["a", "b"]}, "authToken": {"duration": 20}}), &auth_shape(), "").unwrap();
        assert_eq!(t["passwordAuth"], json!({"enabled": true, "identityFields": ["a", "b"]}));
        assert_eq!(t["authToken"], json!({"secret": "s", "duration": 20}));
    }

    #[test]
    fn wrong_types_are_format_errors() {
        let mut t = zero(&auth_shape());
        assert!(merge(&mut t, &json!({"authToken": {"duration": "x"}}), &auth_shape(), "").is_err());
        assert!(merge(&mut t, &json!({"mfa": {"duration": 1.5}}), &auth_shape(), "").is_err());
        assert!(merge(&mut t, &json!({"manageRule": 5}), &auth_shape(), "").is_err());
        assert!(merge(&mut t, &json!({"unknown": 5, "mfa": {"duration": 2.0}}), &auth_shape(), "").is_ok());
        assert_eq!(t["mfa"]["duration"], json!(2));
    }

    #[test]
    fn normalize_orders_keys_and_drops_empty_secrets() {
        let v = json!({"duration": 5, "secret": ""});
        assert_eq!(normalize(&v, &TOKEN).unwrap().to_string(), r#"{"duration":5}"#);
        let v = json!({"duration": 5, "secret": "abc"});
        assert_eq!(normalize(&v, &TOKEN).unwrap().to_string(), r#"{"secret":"abc","duration":5}"#);
    }
}
