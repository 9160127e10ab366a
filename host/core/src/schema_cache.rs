//! An immutable snapshot of all collections, swapped atomically after every schema change.

use std::sync::Arc;

use crate::model::Collection;

#[derive(Debug, Default)]
pub struct Schema {
    pub collections: Vec<Arc<Collection>>,
    /// Bumped on every reload; caches of compiled rules key on it.
    pub version: u64,
}

impl Schema {
    pub fn new(collections: Vec<Collection>, version: u64) -> Self {
        Self { collections: collections.into_iter().map(Arc::new).collect(), version }
    }

    /// Finds by id, then by name (case-insensitive), like PocketBase's FindCollectionByNameOrId.
    pub fn find(&self, id_or_name: &str) -> Option<Arc<Collection>> {
        if id_or_name.is_empty() {
            return None;
        }
        self.collections
            .iter()
            .find(|c| c.id == id_or_name)
            .or_else(|| self.collections.iter().find(|c| c.name.eq_ignore_ascii_case(id_or_name)))
            .cloned()
    }

    /// Relation fields (collection, field name) pointing at `collection_id`.
    pub fn references_to(&self, collection_id: &str) -> Vec<(Arc<Collection>, String)> {
        let mut out = vec![];
        for c in &self.collections {
            for f in &c.fields {
                if f.kind == crate::model::FieldType::Relation && f.opt_str("collectionId") == collection_id {
                    out.push((c.clone(), f.name.clone()));
                }
            }
        }
        out
    }
}
