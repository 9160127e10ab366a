//! `?expand=`: attaching related records (direct relations and `coll_via_field` back-relations)
//! to records, each fetched with its collection's viewRule.

use std::collections::HashMap;
use indexmap::IndexMap;
use rusqlite::Connection;
use serde_json::{Map, Value};
use std::sync::Arc;

use super::query::RecordQuery;
use super::rules::RequestInfo;
use super::service::{mark_managed, visibility_for};
use super::values::to_string_list;
use super::Record;
use crate::db::quote_ident;
use crate::error::ApiResult;
use crate::model::{Collection, Field, FieldType, RuleKind};
use crate::schema_cache::Schema;

/// PocketBase expands at most 6 nested levels.
const MAX_NESTED: usize = 6;
/// Back-relations expand at most this many records per record.
const MAX_BACK_RELATIONS: usize = 1000;

/// Expand paths merged into a tree: `a.b,a.c,d` → `{a: {b, c}, d}`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExpandTree(pub IndexMap<String, ExpandTree>);

impl ExpandTree {
    pub fn parse(param: &str) -> Self {
        let mut root = ExpandTree::default();
        for raw in param.split(',') {
            let path: String = raw.chars().filter(|c| *c != ' ').collect();
            let path = path.trim_matches('.');
            if path.is_empty() {
                continue;
            }
            let mut node = &mut root;
            for part in path.split('.').filter(|p| !p.is_empty()) {
                node = node.0.entry(part.to_string()).or_default();
            }
        }
        root
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The relation behind one expand key.
struct RelationTarget {
    name: String,
    collection: Arc<Collection>,
    multiple: bool,
}

/// Expands `records` (all of one collection) in place. Unknown keys and collections the
/// requester may not view are skipped, as PocketBase only logs those failures.
pub fn expand_records(conn: &Connection, schema: &Schema, req: &RequestInfo, records: &mut [Record], tree: &ExpandTree) {
    expand_level(conn, schema, req, records, tree, 1);
}

fn expand_level(conn: &Connection, schema: &Schema, req: &RequestInfo, records: &mut [Record], tree: &ExpandTree, level: usize) {
    if level > MAX_NESTED || records.is_empty() {
        return;
    }
    let collection = records[0].collection.clone();
    for (key, subtree) in &tree.0 {
        if let Err(e) = expand_key(conn, schema, req, records, &collection, key, subtree, level) {
            tracing::debug!("failed to expand {key:?}: {}", e.message);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn expand_key(
    conn: &Connection,
    schema: &Schema,
    req: &RequestInfo,
    records: &mut [Record],
    collection: &Arc<Collection>,
    key: &str,
    subtree: &ExpandTree,
    level: usize,
) -> ApiResult<()> {
    let Some(target) = resolve_target(conn, schema, records, collection, key)? else { return Ok(()) };
    let mut ids: Vec<String> = vec![];
    for r in records.iter() {
        for id in to_string_list(r.get(&target.name)) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    let Some(mut rels) = fetch_viewable(conn, schema, &target.collection, req, &ids)? else { return Ok(()) };
    if !subtree.is_empty() {
        expand_level(conn, schema, req, &mut rels, subtree, level + 1);
    }
    mark_managed(conn, schema, &target.collection, req, &mut rels)?;
    let by_id: IndexMap<String, Value> = rels.iter().map(|r| (r.id().to_string(), r.to_json(visibility_for(req, r)))).collect();
    for r in records.iter_mut() {
        // the key is present (maybe empty) whenever an expand was attempted
        let expand = r.expand.get_or_insert_with(Map::new);
        let found: Vec<Value> = to_string_list(r.values.get(&target.name).unwrap_or(&Value::Null))
            .iter()
            .filter_map(|id| by_id.get(id).cloned())
            .collect();
        if found.is_empty() {
            continue;
        }
        let value = if target.multiple { Value::Array(found) } else { found.into_iter().next().unwrap_or(Value::Null) };
        expand.insert(target.name.clone(), value);
    }
    Ok(())
}

/// A direct relation field, or a `coll_via_field` back-relation whose ids are loaded into a
/// virtual value on each record.
fn resolve_target(
    conn: &Connection,
    schema: &Schema,
    records: &mut [Record],
    collection: &Collection,
    key: &str,
) -> ApiResult<Option<RelationTarget>> {
    if let Some(f) = collection.field(key).filter(|f| f.kind == FieldType::Relation) {
        let Some(target) = schema.find(f.opt_str("collectionId")) else { return Ok(None) };
        return Ok(Some(RelationTarget { name: f.name.clone(), collection: target, multiple: f.is_multiple() }));
    }
    let Some((coll_name, field_name)) = key.split_once("_via_") else { return Ok(None) };
    let Some(back) = schema.find(coll_name) else { return Ok(None) };
    let Some(field) = back.field(field_name).filter(|f| f.kind == FieldType::Relation && f.opt_str("collectionId") == collection.id) else {
        return Ok(None);
    };
    let parent_ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
    let mut by_parent = back_relation_ids(conn, &back, field, &parent_ids)?;
    for r in records.iter_mut() {
        if let Some(ids) = by_parent.remove(r.id()) {
            r.values.insert(key.to_string(), Value::from(ids));
        }
    }
    let multiple = !has_single_column_unique_index(&back, field_name);
    Ok(Some(RelationTarget { name: key.to_string(), collection: back, multiple }))
}

/// Ids of the `back` records pointing at each parent through `field` (at most
/// `MAX_BACK_RELATIONS` per parent, in insertion order), loaded with one query per chunk of parents.
fn back_relation_ids(conn: &Connection, back: &Collection, field: &Field, parents: &[String]) -> ApiResult<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let col = format!("b.{}", quote_ident(&field.name));
    let order = if back.is_view() { String::new() } else { " ORDER BY b._rowid_".to_string() };
    for chunk in parents.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let sql = if field.is_multiple() {
            format!(
                "SELECT b.id, je.value FROM {} b, json_each(CASE WHEN json_valid({col}) THEN {col} ELSE json_array({col}) END) je WHERE je.value IN ({marks}){order}",
                quote_ident(&back.name)
            )
        } else {
            format!("SELECT b.id, {col} FROM {} b WHERE {col} IN ({marks}){order}", quote_ident(&back.name))
        };
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(chunk.iter()))?;
        while let Some(row) = rows.next()? {
            let (id, parent): (String, String) = (row.get(0)?, row.get(1)?);
            let ids = out.entry(parent).or_default();
            if ids.len() < MAX_BACK_RELATIONS && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(out)
}

fn has_single_column_unique_index(c: &Collection, column: &str) -> bool {
    c.indexes.iter().filter_map(|i| crate::schema::index::ParsedIndex::parse(i)).any(|idx| {
        idx.unique && idx.columns.len() == 1 && idx.columns[0].name.eq_ignore_ascii_case(column)
    })
}

/// The records with the given ids that the requester may view (context `expand`); `None`
/// when the collection's records are superusers-only.
fn fetch_viewable(conn: &Connection, schema: &Schema, c: &Arc<Collection>, req: &RequestInfo, ids: &[String]) -> ApiResult<Option<Vec<Record>>> {
    if ids.is_empty() {
        return Ok(Some(vec![]));
    }
    let mut expand_req = req.clone();
    expand_req.context = "expand".into();
    let rule = if req.is_superuser() {
        None
    } else {
        match c.rule(RuleKind::View) {
            None => return Ok(None),
            Some(r) if r.trim().is_empty() => None,
            Some(r) => Some(r.to_string()),
        }
    };
    let mut q = RecordQuery { per_page: ids.len() as i64, skip_total: true, ..Default::default() };
    let marks: Vec<String> = ids.iter().map(|id| q.params.bind(id.clone())).collect();
    q.conditions.push(format!("{}.`id` IN ({})", quote_ident(&c.name), marks.join(",")));
    if let Some(rule) = rule {
        super::service::add_rule_condition(&mut q, schema, c, &expand_req, &rule, "e")?;
    }
    Ok(Some(q.run(conn, c)?.items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_paths_merge_into_a_tree() {
        let t = ExpandTree::parse(" a.b , a.c,d, ,e.");
        let keys: Vec<&String> = t.0.keys().collect();
        assert_eq!(keys, ["a", "d", "e"]);
        assert_eq!(t.0["a"].0.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert!(t.0["d"].is_empty());
    }
}
