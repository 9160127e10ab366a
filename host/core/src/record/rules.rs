//! The request context of API rules and filters, and adapters from the record use cases to
//! the query compiler (`crate::query`).

use pocketbun_filter::FilterError;
use serde_json::{Map, Value};

use super::Record;
use crate::model::Collection;
use crate::query::QueryCompiler;
use crate::schema_cache::Schema;

/// What `@request.*` refers to while evaluating a rule or filter.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub auth: Option<Record>,
    pub method: String,
    pub context: String,
    pub query: Map<String, Value>,
    pub headers: Map<String, Value>,
    pub body: Map<String, Value>,
}

impl RequestInfo {
    pub fn is_superuser(&self) -> bool {
        self.auth.as_ref().map(|a| a.collection.is_superusers()).unwrap_or(false)
    }
}

/// Checks that a rule parses and resolves against the collection (used on collection save).
pub fn check_rule_syntax(schema: &Schema, collection: &Collection, rule: &str) -> Result<(), FilterError> {
    let req = RequestInfo::default();
    let mut q = QueryCompiler::new(schema, collection, &req, "r");
    q.add_rule(rule)?;
    q.finish().map(|_| ())
}
