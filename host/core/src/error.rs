//! API errors as values, shaped like PocketBase's envelope `{"data","message","status"}`.

use serde_json::{Map, Value};

/// An error that maps 1:1 onto PocketBase's JSON error response.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// Validation details (field -> {code, message, params?}); always an object.
    pub data: Map<String, Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        let mut message: String = message.into();
        if message.trim().is_empty() {
            message = default_message(status).to_string();
        }
        Self { status, message: sentenize(&message), data: Map::new() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }
    pub fn with_data(mut self, data: Map<String, Value>) -> Self {
        self.data = data;
        self
    }
    pub fn validation(message: impl Into<String>, errors: ValidationErrors) -> Self {
        Self::new(400, message).with_data(errors.into_map())
    }
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("data".into(), Value::Object(self.data.clone()));
        m.insert("message".into(), Value::String(self.message.clone()));
        m.insert("status".into(), Value::from(self.status));
        Value::Object(m)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

pub fn default_message(status: u16) -> &'static str {
    match status {
        401 => "Missing or invalid authentication.",
        403 => "You are not allowed to perform this request.",
        404 => "The requested resource wasn't found.",
        413 => "Request entity too large.",
        429 => "Too Many Requests.",
        _ => "Something went wrong while processing your request.",
    }
}

/// Upper-cases the first letter and adds a trailing period, as PocketBase does.
pub fn sentenize(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        return String::new();
    }
    let mut chars = s.chars();
    let first = chars.next().unwrap_or_default();
    let mut out: String = first.to_uppercase().collect();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

/// One field-level validation problem.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub code: String,
    pub message: String,
    pub params: Map<String, Value>,
}

impl FieldError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_string(), message: message.into(), params: Map::new() }
    }
    pub fn param(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.params.insert(key.to_string(), value.into());
        self
    }
    pub fn required() -> Self {
        Self::new("validation_required", "Cannot be blank.")
    }
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("code".into(), Value::String(self.code.clone()));
        m.insert("message".into(), Value::String(self.message.clone()));
        if !self.params.is_empty() {
            m.insert("params".into(), Value::Object(self.params.clone()));
        }
        Value::Object(m)
    }
}

/// A tree of validation errors keyed by field name (nested objects/array indexes as keys).
#[derive(Debug, Clone, Default)]
pub struct ValidationErrors {
    entries: Vec<(String, ErrorNode)>,
}

#[derive(Debug, Clone)]
enum ErrorNode {
    Leaf(FieldError),
    Nested(ValidationErrors),
}

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }
    /// Adds an error unless the key already has one (first error wins, as in ozzo-validation).
    pub fn add(&mut self, key: impl Into<String>, err: FieldError) {
        let key = key.into();
        if !self.has(&key) {
            self.entries.push((key, ErrorNode::Leaf(err)));
        }
    }
    pub fn nest(&mut self, key: impl Into<String>, errs: ValidationErrors) {
        if errs.is_empty() {
            return;
        }
        let key = key.into();
        if let Some((_, ErrorNode::Nested(existing))) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            existing.entries.extend(errs.entries);
            return;
        }
        if !self.has(&key) {
            self.entries.push((key, ErrorNode::Nested(errs)));
        }
    }
    /// Adds the other set's entries (keys already present keep their first error).
    pub fn merge(&mut self, other: ValidationErrors) {
        for (k, v) in other.entries {
            if !self.has(&k) {
                self.entries.push((k, v));
            }
        }
    }
    pub fn into_map(self) -> Map<String, Value> {
        let mut sorted = self.entries;
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut m = Map::new();
        for (k, v) in sorted {
            let value = match v {
                ErrorNode::Leaf(e) => e.to_json(),
                ErrorNode::Nested(n) => Value::Object(n.into_map()),
            };
            m.insert(k, value);
        }
        m
    }
    pub fn into_result(self, message: &str) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(message, self))
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => ApiError::not_found(""),
            other => {
                tracing::debug!("sqlite error: {other}");
                ApiError::bad_request("")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentenize_adds_period_and_capital() {
        assert_eq!(sentenize("failed to x"), "Failed to x.");
        assert_eq!(sentenize("Done!"), "Done!");
        assert_eq!(ApiError::new(413, "Request entity too large").message, "Request entity too large.");
    }

    #[test]
    fn validation_errors_are_sorted_and_nested() {
        let mut e = ValidationErrors::new();
        e.add("title", FieldError::required());
        let mut inner = ValidationErrors::new();
        inner.add("name", FieldError::new("validation_x", "X."));
        e.nest("0", inner);
        let v = Value::Object(e.into_map());
        assert_eq!(
            v.to_string(),
            r#"{"0":{"name":{"code":"validation_x","message":"X."}},"title":{"code":"validation_required","message":"Cannot be blank."}}"#
        );
    }
}
