use serde_json::{Map, Value};
use std::sync::Arc;

use super::validate::validate_collection;
use super::view_fields::infer_view_fields;
use crate::app::App;
use crate::error::{ApiError, ApiResult, FieldError, ValidationErrors};
use crate::model::{Collection, CollectionType};
use crate::schema::index::ParsedIndex;
use crate::schema::{create_collection_table, drop_collection_table, sync_collection_table};
use crate::store;

/// Rewrites index statements to the normalised form with the collection's table name.
fn normalize_indexes(c: &mut Collection) {
    let table = c.name.clone();
    c.indexes = c
        .indexes
        .iter()
        .map(|raw| match ParsedIndex::parse(raw) {
            Some(mut idx) => {
                idx.table = table.clone();
                idx.build()
            }
            None => raw.clone(),
        })
        .collect();
}

/// Validates and persists a collection (create when `old` is None), syncing its table in one
/// transaction, then refreshes the app's collection snapshot.
pub async fn save_collection(app: &App, mut c: Collection, old: Option<Arc<Collection>>) -> ApiResult<Collection> {
    let schema = app.schema();
    let fail_msg = if old.is_some() { "Failed to update collection." } else { "Failed to create collection." };
    c.prepare_for_save(&|id| schema.collections.iter().any(|x| x.id == id));
    if let Some(o) = &old {
        c.created = o.created.clone();
    }
    if c.kind == CollectionType::View {
        c.create_rule = None;
        c.update_rule = None;
        c.delete_rule = None;
        c.indexes.clear();
        if !c.view_query().trim().is_empty() {
            let query = c.view_query().to_string();
            let current = schema.clone();
            let inferred = app.data.write(move |conn| infer_view_fields(conn, &current, &query)).await;
            match inferred {
                Ok(fields) => c.fields = fields,
                Err(e) => {
                    let mut errs = ValidationErrors::new();
                    errs.add("viewQuery", FieldError::new("validation_invalid_view_query", format!("Invalid view query: {}", e.message)));
                    return Err(ApiError::validation(fail_msg, errs));
                }
            }
        }
    }
    normalize_indexes(&mut c);
    validate_collection(&c, old.as_deref(), &schema).into_result(fail_msg)?;

    let to_save = c.clone();
    let collections = app
        .data
        .write(move |conn| {
            let tx = conn.transaction()?;
            match &old {
                None => {
                    store::collections::insert(&tx, &to_save)?;
                    create_collection_table(&tx, &to_save)?;
                }
                Some(o) => {
                    store::collections::update(&tx, &to_save)?;
                    sync_collection_table(&tx, o, &to_save)?;
                }
            }
            let all = store::collections::load_all(&tx)?;
            tx.commit()?;
            Ok(all)
        })
        .await
        .map_err(|e| if e.status == 400 && e.data.is_empty() { ApiError::bad_request(fail_msg) } else { e })?;
    app.set_collections(collections);
    Ok(c)
}

/// Deletes a collection and its table, refusing system collections and referenced ones.
pub async fn delete_collection(app: &App, c: Arc<Collection>) -> ApiResult<()> {
    if c.system {
        return Err(ApiError::bad_request("Failed to delete collection."));
    }
    let schema = app.schema();
    let mut refs: Vec<String> = schema
        .references_to(&c.id)
        .into_iter()
        .filter(|(rc, _)| rc.id != c.id)
        .map(|(rc, _)| rc.name.clone())
        .collect();
    refs.dedup();
    if !refs.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Failed to delete collection probably due to existing reference in {}.",
            refs.join(", ")
        )));
    }
    let collections = app
        .data
        .write(move |conn| {
            let tx = conn.transaction()?;
            drop_collection_table(&tx, &c)?;
            store::collections::delete(&tx, &c.id)?;
            if c.is_auth() {
                for t in ["_mfas", "_otps", "_externalAuths", "_authOrigins"] {
                    tx.execute(&format!("DELETE FROM `{t}` WHERE collectionRef = ?1"), [&c.id])?;
                }
            }
            let all = store::collections::load_all(&tx)?;
            tx.commit()?;
            Ok(all)
        })
        .await
        .map_err(|_| ApiError::bad_request("Failed to delete collection."))?;
    app.set_collections(collections);
    Ok(())
}

/// Deletes every record one by one (with relation cascades) in one transaction.
pub async fn truncate_collection(app: &App, c: Arc<Collection>) -> ApiResult<()> {
    if c.is_view() {
        return Err(ApiError::bad_request(
            "View collections cannot be truncated since they don't store their own records.",
        ));
    }
    let schema = app.schema();
    app.data
        .write(move |conn| {
            let tx = conn.transaction()?;
            loop {
                let q = crate::record::query::RecordQuery { per_page: 200, skip_total: true, ..Default::default() };
                let batch = q.run(&tx, &c)?.items;
                if batch.is_empty() {
                    break;
                }
                for rec in batch {
                    crate::record::persist::delete(&tx, &schema, &rec, 0)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
        .map_err(|_| {
            ApiError::bad_request("Failed to truncate collection (most likely due to required cascade delete record references).")
        })
}

/// `PUT /api/collections/import`: upserts every collection (base/auth first, then views);
/// with `delete_missing`, removes non-system collections absent from the list.
pub async fn import_collections(app: &App, items: Vec<Map<String, Value>>, delete_missing: bool) -> ApiResult<()> {
    let fail = |msg: String| {
        let mut errs = ValidationErrors::new();
        errs.add("collections", FieldError::new("validation_collections_import_failure", msg));
        ApiError::validation("Failed to import collections.", errs)
    };
    let mut ordered = items;
    ordered.sort_by_key(|m| m.get("type").and_then(Value::as_str) == Some("view"));
    let mut seen = vec![];
    for item in ordered {
        let schema = app.schema();
        let existing = item
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .and_then(|id| schema.collections.iter().find(|c| c.id == id).cloned())
            .or_else(|| item.get("name").and_then(Value::as_str).and_then(|n| schema.find(n)));
        let result = match existing {
            Some(old) => {
                let mut next = (*old).clone();
                let mut patch = item.clone();
                if !delete_missing {
                    keep_missing_fields(&old, &mut patch);
                }
                next.apply_json(&patch).map_err(|e| fail(e.0))?;
                save_collection(app, next, Some(old)).await
            }
            None => {
                let c = Collection::from_api_json(&item).map_err(|e| fail(e.0))?;
                save_collection(app, c, None).await
            }
        };
        let saved = result.map_err(|e| fail(format!("{}: {}", item.get("name").and_then(Value::as_str).unwrap_or(""), error_summary(&e))))?;
        seen.push(saved.id);
    }
    if delete_missing {
        let schema = app.schema();
        for c in schema.collections.iter().filter(|c| !c.system && !seen.contains(&c.id)) {
            delete_collection(app, c.clone()).await.map_err(|e| fail(e.message))?;
        }
    }
    Ok(())
}

fn error_summary(e: &ApiError) -> String {
    if e.data.is_empty() {
        e.message.clone()
    } else {
        Value::Object(e.data.clone()).to_string()
    }
}

/// Without deleteMissing, stored fields absent from the import are kept; a same-named and
/// same-typed imported field inherits the stored field id so its column survives.
fn keep_missing_fields(old: &Collection, patch: &mut Map<String, Value>) {
    let Some(Value::Array(fields)) = patch.get_mut("fields") else { return };
    for f in fields.iter_mut().filter_map(Value::as_object_mut) {
        let name = f.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let kind = f.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
        if f.get("id").and_then(Value::as_str).unwrap_or_default().is_empty() {
            if let Some(of) = old.field(&name).filter(|of| of.kind.as_str() == kind) {
                f.insert("id".into(), Value::String(of.id.clone()));
            }
        }
    }
    let present: Vec<String> =
        fields.iter().filter_map(|f| f.get("id").and_then(Value::as_str).map(str::to_string)).collect();
    for of in &old.fields {
        if !present.contains(&of.id) && !fields.iter().any(|f| f.get("name").and_then(Value::as_str) == Some(&of.name)) {
            fields.push(of.to_json());
        }
    }
}
