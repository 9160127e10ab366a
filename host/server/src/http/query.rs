//! Query-string helpers.

use std::collections::HashMap;

/// Decoded query parameters (last value wins, like `url.Values.Get` on single keys).
#[derive(Debug, Default, Clone)]
pub struct Query(pub HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let mut m = HashMap::new();
        if let Some(q) = raw {
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                m.insert(k.into_owned(), v.into_owned());
            }
        }
        Self(m)
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    pub fn str(&self, key: &str) -> &str {
        self.get(key).unwrap_or_default()
    }
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect()
    }
}
