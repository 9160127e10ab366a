//! Collection lifecycle: create/update with validation and schema sync, delete, truncate and
//! import. Every operation runs in one transaction on the writer connection, so a failure
//! leaves both `_collections` and the record tables untouched.

use rusqlite::Connection;
use serde_json::{Map, Value};
use std::sync::Arc;

use super::validate::{validate_collection, ValidationContext};
use super::view_fields::{create_view_fields, normalize_view_query_id, save_view};
use crate::app::App;
use crate::db::DbScope;
use crate::error::{ApiError, ApiResult, FieldError, ValidationErrors};
use crate::model::{Collection, Field};
use crate::schema::{drop_collection_table, sqlite_error_message, sync_collection_table, SyncError};
use crate::schema_cache::Schema;
use crate::store;
use crate::util::{random_string, ALPHANUMERIC};

/// Why saving a collection failed.
#[derive(Debug)]
pub enum SaveError {
    /// Field-level problems (validation, or index statements SQLite rejected).
    Invalid(ValidationErrors),
    /// Anything else, as PocketBase's raw error text.
    Db(String),
}

impl From<SyncError> for SaveError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Indexes(errs) => SaveError::Invalid(errs),
            SyncError::Db(msg) => SaveError::Db(msg),
        }
    }
}

impl From<rusqlite::Error> for SaveError {
    fn from(e: rusqlite::Error) -> Self {
        SaveError::Db(sqlite_error_message(&e))
    }
}

impl From<ApiError> for SaveError {
    fn from(e: ApiError) -> Self {
        SaveError::Db(e.message)
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Indexes(errs) => ApiError::validation("", errs),
            SyncError::Db(msg) => ApiError::bad_request(msg),
        }
    }
}

/// The collections as currently stored (inside the running transaction).
fn load_schema(conn: &Connection) -> Result<Schema, SaveError> {
    Ok(Schema::new(store::collections::load_all(conn)?, 0))
}

/// Validates and persists a collection (create when `old` is None), syncing its table, then
/// refreshes the app's collection snapshot (the write of the hooked save).
pub(super) async fn write_collection(app: &App, db: &DbScope, c: Collection, old: Option<Arc<Collection>>) -> ApiResult<Collection> {
    let fail_msg = if old.is_some() { "Failed to update collection." } else { "Failed to create collection." };
    let result = db
        .write(move |conn| {
            let outcome = (|| {
                let tx = conn.savepoint()?;
                let schema = load_schema(&tx)?;
                let saved = save_in_tx(&tx, &schema, c, old.as_deref(), true)?;
                tx.commit()?;
                Ok::<_, SaveError>(saved)
            })();
            Ok(match outcome {
                Ok(saved) => {
                    resave_dependent_views(conn, &saved.id);
                    Ok((saved, store::collections::load_all(conn)?))
                }
                Err(e) => Err(e),
            })
        })
        .await?;
    match result {
        Ok((saved, all)) => {
            app.set_collections(all);
            Ok(saved)
        }
        Err(SaveError::Invalid(errs)) => Err(ApiError::validation(fail_msg, errs)),
        Err(SaveError::Db(msg)) => Err(ApiError::bad_request(format!("{fail_msg} Raw error: \n{msg}"))),
    }
}

/// One save inside a transaction (PocketBase's `Save` / `SaveNoValidate` of a collection):
/// prepare defaults, optionally validate, then write the row and sync the table or view.
fn save_in_tx(conn: &Connection, schema: &Schema, mut c: Collection, old: Option<&Collection>, validate: bool) -> Result<Collection, SaveError> {
    if validate {
        prepare_and_validate(conn, schema, &mut c, old)?;
    } else {
        c.prepare_for_save(old.is_none(), &|id| schema.collections.iter().any(|x| x.id == id));
    }
    execute_save(conn, schema, &mut c, old)?;
    Ok(c)
}

/// PocketBase's defaults before a save, then the collection's validation.
fn prepare_and_validate(conn: &Connection, schema: &Schema, c: &mut Collection, old: Option<&Collection>) -> Result<(), SaveError> {
    c.prepare_for_save(old.is_none(), &|id| schema.collections.iter().any(|x| x.id == id));
    if c.is_view() {
        // validation looks at the fields the query produces, whatever was submitted
        c.fields = create_view_fields(conn, schema, c.view_query()).fields;
    }
    let errs = validate_collection(&ValidationContext { conn, schema }, c, old);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(SaveError::Invalid(errs))
    }
}

/// The validation of a save on its own (the `onCollectionValidate` stage), in a
/// transaction that is rolled back (view inference creates temporary views).
pub(super) async fn validate_only(db: &DbScope, mut c: Collection, old: Option<Arc<Collection>>) -> ApiResult<()> {
    let fail_msg = if old.is_some() { "Failed to update collection." } else { "Failed to create collection." };
    let outcome = db
        .write(move |conn| {
            let tx = conn.savepoint()?;
            Ok(load_schema(&tx).and_then(|schema| prepare_and_validate(&tx, &schema, &mut c, old.as_deref())))
        })
        .await?;
    match outcome {
        Ok(()) => Ok(()),
        Err(SaveError::Invalid(errs)) => Err(ApiError::validation(fail_msg, errs)),
        Err(SaveError::Db(msg)) => Err(ApiError::bad_request(format!("{fail_msg} Raw error: \n{msg}"))),
    }
}

/// The database part of a save (`onCollectionSaveExecute`).
fn execute_save(conn: &Connection, schema: &Schema, c: &mut Collection, old: Option<&Collection>) -> Result<(), SaveError> {
    if let Some(o) = old.filter(|_| c.is_auth()) {
        // changing the auth rule invalidates every issued auth token
        if o.options.get("authRule") != c.options.get("authRule") {
            if let Some(Value::Object(t)) = c.options.get_mut("authToken") {
                t.insert("secret".into(), Value::String(random_string(50, ALPHANUMERIC)));
            }
        }
    }
    if c.is_view() {
        let inferred = create_view_fields(conn, schema, c.view_query());
        if let Some(e) = inferred.error {
            return Err(SaveError::Db(e));
        }
        if let Some(o) = old {
            conn.execute_batch(&format!("DROP VIEW IF EXISTS {}", crate::db::quote_ident(&o.name)))?;
        }
        let query = normalize_view_query_id(conn, c.view_query()).map_err(|e| SaveError::Db(format!("failed to normalize view query id: {e}")))?;
        save_view(conn, &c.name, &query).map_err(SaveError::Db)?;
        c.fields = inferred.fields;
    }
    match old {
        None => store::collections::insert(conn, c)?,
        Some(_) => store::collections::update(conn, c)?,
    }
    if !c.is_view() {
        sync_collection_table(conn, old, c)?;
    }
    Ok(())
}

/// Re-saves view collections whose inferred fields changed after another collection changed
/// (best effort, like PocketBase: failures are only logged).
fn resave_dependent_views(conn: &mut Connection, changed_id: &str) {
    let result = (|| {
        let tx = conn.savepoint()?;
        let errors = resave_views_in_tx(&tx, changed_id)?;
        tx.commit()?;
        Ok::<_, SaveError>(errors)
    })();
    match result {
        Ok(errors) if errors.is_empty() => {}
        Ok(errors) => tracing::warn!("dependent view collection(s) may need to be updated: {}", errors.join("; ")),
        Err(e) => tracing::warn!("failed to check dependent views: {e:?}"),
    }
}

/// Returns the per-view failures (`[name] error`).
fn resave_views_in_tx(conn: &Connection, exclude_id: &str) -> Result<Vec<String>, SaveError> {
    let schema = load_schema(conn)?;
    let mut errors = vec![];
    for view in schema.collections.iter().filter(|c| c.is_view() && c.id != exclude_id) {
        let inferred = create_view_fields(conn, &schema, view.view_query());
        if let Some(e) = inferred.error {
            errors.push(format!("[{}] {e}", view.name));
            continue;
        }
        if same_fields_ignoring_ids(&view.fields, &inferred.fields) {
            continue;
        }
        let current = load_schema(conn)?;
        if let Err(e) = save_in_tx(conn, &current, (**view).clone(), Some(view), true) {
            errors.push(format!("[{}] {}", view.name, describe(&e)));
        }
    }
    Ok(errors)
}

fn same_fields_ignoring_ids(a: &[Field], b: &[Field]) -> bool {
    let encode = |fields: &[Field]| {
        let list: Vec<Value> = fields
            .iter()
            .map(|f| {
                let mut f = f.clone();
                f.id.clear();
                f.to_json()
            })
            .collect();
        Value::Array(list).to_string().to_lowercase()
    };
    encode(a) == encode(b)
}

fn describe(e: &SaveError) -> String {
    match e {
        SaveError::Invalid(errs) => super::validate::plain_error_string(errs),
        SaveError::Db(msg) => msg.clone(),
    }
}

/// `POST /api/collections/meta/dry-run-view`: the fields and a sample of a view query.
/// Runs in a transaction that is always rolled back (the inference creates temporary views).
pub async fn dry_run_view(app: &App, query: String) -> ApiResult<Result<super::view_fields::DryRun, String>> {
    app.data
        .write(move |conn| {
            let tx = conn.savepoint()?;
            let schema = load_schema(&tx).map_err(|e| ApiError::bad_request(describe(&e)))?;
            Ok(super::view_fields::dry_run_view(&tx, &schema, &query, 10))
        })
        .await
}

/// Deletes a collection and its table, refusing system collections and referenced ones
/// (the write of the hooked delete).
pub(super) async fn write_delete(app: &App, db: &DbScope, c: Arc<Collection>) -> ApiResult<()> {
    let schema = app.schema();
    let mut refs: Vec<String> =
        schema.references_to(&c.id).into_iter().filter(|(rc, _)| rc.id != c.id).map(|(rc, _)| rc.name.clone()).collect();
    refs.dedup();
    if !refs.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Failed to delete collection probably due to existing reference in {}.",
            refs.join(", ")
        )));
    }
    if c.system {
        return Err(ApiError::bad_request("Failed to delete collection."));
    }
    let collections = db
        .write(move |conn| {
            let outcome = (|| {
                let tx = conn.savepoint()?;
                delete_in_tx(&tx, &c)?;
                let errors = resave_views_in_tx(&tx, &c.id)?;
                if !errors.is_empty() {
                    return Err(SaveError::Db(format!("failed to delete due to existing view dependency: {}", errors.join("; "))));
                }
                tx.commit()?;
                Ok::<_, SaveError>(())
            })();
            match outcome {
                Ok(()) => Ok(Some(store::collections::load_all(conn)?)),
                Err(e) => {
                    tracing::debug!("delete collection {}: {e:?}", c.name);
                    Ok(None)
                }
            }
        })
        .await?;
    match collections {
        Some(all) => {
            app.set_collections(all);
            Ok(())
        }
        None => Err(ApiError::bad_request("Failed to delete collection.")),
    }
}

/// Drops the table (or view) and the `_collections` row, and the auth bookkeeping rows of
/// auth collections.
fn delete_in_tx(conn: &Connection, c: &Collection) -> Result<(), SaveError> {
    drop_collection_table(conn, c)?;
    store::collections::delete(conn, &c.id)?;
    if c.is_auth() {
        for t in ["_mfas", "_otps", "_externalAuths", "_authOrigins"] {
            conn.execute(&format!("DELETE FROM `{t}` WHERE collectionRef = ?1"), [&c.id])?;
        }
    }
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
            let tx = conn.savepoint()?;
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

/// One collection write of an import: the decoded collection and the stored one it replaces
/// (`delete`: a stored collection missing from the import, with `deleteMissing`).
pub(super) struct ImportItem {
    pub collection: Collection,
    pub original: Option<Arc<Collection>>,
    pub delete: bool,
}

/// `PUT /api/collections/import`, first half of PocketBase's `ImportCollections`: items are
/// matched to the `existing` collections by id, else by name, and decoded over them;
/// without `delete_missing` stored fields absent from an item are kept (after the imported
/// ones). Returns the deletions first, then the saves (views last).
pub(super) fn plan_import(existing: &Schema, items: Vec<Map<String, Value>>, delete_missing: bool) -> ApiResult<Vec<ImportItem>> {
    let mut imported: Vec<(Collection, Option<Arc<Collection>>)> = vec![];
    for item in items {
        let identifier = match item.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Some(id) => id.to_string(),
            None => item.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
        };
        let current = existing.find(&identifier);
        let c = match &current {
            Some(cur) => merge_import_item(cur, item, delete_missing),
            None => Collection::from_import_json(&item),
        }
        .map_err(|e| import_error(ImportError::Other(e.0)))?;
        imported.push((c, current));
    }
    // views last, since their queries may depend on the other collections
    imported.sort_by(|(a, _), (b, _)| (a.is_view(), &a.created, &a.updated).cmp(&(b.is_view(), &b.created, &b.updated)));
    let mut plan = vec![];
    if delete_missing {
        for c in existing.collections.iter().filter(|c| !c.system && !imported.iter().any(|(i, _)| i.id == c.id)) {
            plan.push(ImportItem { collection: (**c).clone(), original: Some(c.clone()), delete: true });
        }
    }
    plan.extend(imported.into_iter().map(|(collection, original)| ImportItem { collection, original, delete: false }));
    Ok(plan)
}

/// Second half of the import: everything in one transaction (deletions, then saves, then
/// validation of every item, so that items may reference each other); any failure rolls
/// the whole import back.
pub(super) async fn write_import(app: &App, db: &DbScope, plan: Vec<ImportItem>) -> ApiResult<()> {
    let result = db
        .write(move |conn| {
            let outcome = (|| {
                let tx = conn.savepoint()?;
                import_in_tx(&tx, plan)?;
                tx.commit()?;
                Ok::<_, ImportError>(())
            })();
            Ok(match outcome {
                Ok(()) => Ok(store::collections::load_all(conn)?),
                Err(e) => Err(e),
            })
        })
        .await?;
    match result {
        Ok(all) => {
            app.set_collections(all);
            Ok(())
        }
        Err(e) => Err(import_error(e)),
    }
}

pub(super) const IMPORT_FAILED: &str = "Failed to import collections.";

/// An import failure as PocketBase answers it (also for errors thrown by hooks).
pub(super) fn import_failure(msg: &str) -> ApiError {
    import_error(ImportError::Other(msg.to_string()))
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::Invalid(errs) => ApiError::validation(IMPORT_FAILED, errs),
        ImportError::Other(msg) => {
            let mut errs = ValidationErrors::new();
            errs.add(
                "collections",
                FieldError::new(
                    "validation_collections_import_failure",
                    format!("Failed to import the collections configuration. Raw error:\n{msg}"),
                ),
            );
            ApiError::validation(IMPORT_FAILED, errs)
        }
    }
}

#[derive(Debug)]
enum ImportError {
    Invalid(ValidationErrors),
    Other(String),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        ImportError::Other(sqlite_error_message(&e))
    }
}

impl From<SaveError> for ImportError {
    fn from(e: SaveError) -> Self {
        match e {
            SaveError::Invalid(errs) => ImportError::Invalid(errs),
            SaveError::Db(msg) => ImportError::Other(msg),
        }
    }
}

fn import_in_tx(conn: &Connection, plan: Vec<ImportItem>) -> Result<(), ImportError> {
    let mut saved = Vec::with_capacity(plan.len());
    for item in plan {
        let ImportItem { collection: c, original, delete } = item;
        if delete {
            delete_in_tx(conn, &c).map_err(|e| ImportError::Other(describe(&e)))?;
            continue;
        }
        let schema = load_schema(conn)?;
        let name = c.name.clone();
        let s = save_in_tx(conn, &schema, c, original.as_deref(), false).map_err(|e| match e {
            SaveError::Invalid(errs) => ImportError::Invalid(errs),
            SaveError::Db(msg) => ImportError::Other(format!("failed to save collection {name:?}: {msg}")),
        })?;
        saved.push((s, original));
    }
    let schema = load_schema(conn)?;
    for (mut c, original) in saved {
        if c.is_view() {
            c.fields = create_view_fields(conn, &schema, c.view_query()).fields;
        }
        // a new collection is validated against itself, as it is already stored
        let reference = original.as_deref().cloned().unwrap_or_else(|| c.clone());
        let errs = validate_collection(&ValidationContext { conn, schema: &schema }, &c, Some(&reference));
        if !errs.is_empty() {
            let details = serde_json::to_string_pretty(&plain_messages(Value::Object(errs.into_map()))).unwrap_or_default();
            let mut out = ValidationErrors::new();
            out.add(
                "collections",
                FieldError::new(
                    "validation_collections_import_failure",
                    format!("Data validations failed for collection {:?} ({}):\n{details}.", c.name, c.id),
                ),
            );
            return Err(ImportError::Invalid(out));
        }
    }
    Ok(())
}

/// Validation errors as PocketBase serialises them inside an import failure message: each
/// error becomes its bare message (ozzo-validation's own messages are lower-case and
/// without the final period there).
fn plain_messages(v: Value) -> Value {
    const OZZO_CODES: [&str; 13] = [
        "validation_required",
        "validation_nil",
        "validation_empty",
        "validation_match_invalid",
        "validation_in_invalid",
        "validation_not_in_invalid",
        "validation_length_out_of_range",
        "validation_length_too_long",
        "validation_length_too_short",
        "validation_min_greater_equal_than_required",
        "validation_max_less_equal_than_required",
        "validation_nil_or_not_empty_required",
        "validation_is_domain",
    ];
    let Value::Object(m) = v else { return v };
    if let (Some(Value::String(code)), Some(Value::String(msg))) = (m.get("code"), m.get("message")) {
        if !OZZO_CODES.contains(&code.as_str()) {
            return Value::String(msg.clone());
        }
        let mut chars = msg.trim_end_matches('.').chars();
        let raw: String = chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default();
        return Value::String(raw);
    }
    Value::Object(m.into_iter().map(|(k, v)| (k, plain_messages(v))).collect())
}

/// Decodes an import item over a stored collection. Stored fields missing from the item are
/// kept (system ones always, the others unless `delete_missing`), appended after the
/// imported ones; a same-named, same-typed imported field takes the stored field's place so
/// that its column and data survive.
fn merge_import_item(current: &Collection, mut item: Map<String, Value>, delete_missing: bool) -> Result<Collection, crate::model::field::FieldFormatError> {
    if delete_missing && item.get("fields").is_none_or(Value::is_null) {
        item.insert("fields".into(), Value::Array(vec![]));
    }
    let mut c = current.clone();
    c.apply_json(&item)?;
    for f in &current.fields {
        if !f.system && delete_missing {
            continue;
        }
        if c.field_by_id(&f.id).is_some() {
            continue;
        }
        if let Some(found) = c.fields.iter_mut().find(|x| x.name == f.name && x.kind == f.kind) {
            found.id = f.id.clone();
        }
        crate::model::field::add_field(&mut c.fields, f.clone());
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CollectionType, FieldType};
    use serde_json::json;

    fn stored() -> Collection {
        let mut c = Collection::new(CollectionType::Base, "notes");
        c.fields.push(Field::new(FieldType::Text, "old"));
        c.prepare_for_save(true, &|_| false);
        c
    }

    fn names(c: &Collection) -> Vec<&str> {
        c.fields.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn import_failures_show_bare_messages() {
        let v = serde_json::json!({"fields": {"1": {"name": {"code": "validation_not_in_invalid", "message": "Must not be in list."}}},
            "type": {"code": "validation_collection_type_change", "message": "Collection type cannot be changed."}});
        assert_eq!(plain_messages(v), serde_json::json!({"fields": {"1": {"name": "must not be in list"}}, "type": "Collection type cannot be changed."}));
    }

    #[test]
    fn import_keeps_missing_fields_after_the_imported_ones() {
        let item = json!({"name": "notes", "fields": [{"name": "extra", "type": "number"}]});
        let c = merge_import_item(&stored(), item.as_object().unwrap().clone(), false).unwrap();
        assert_eq!(names(&c), vec!["extra", "id", "old"]);
    }

    #[test]
    fn import_with_delete_missing_keeps_only_system_fields() {
        let item = json!({"name": "notes", "fields": [{"name": "note", "type": "text"}]});
        let c = merge_import_item(&stored(), item.as_object().unwrap().clone(), true).unwrap();
        assert_eq!(names(&c), vec!["note", "id"]);
        let no_fields = json!({"name": "notes"});
        let c = merge_import_item(&stored(), no_fields.as_object().unwrap().clone(), true).unwrap();
        assert_eq!(names(&c), vec!["id"]);
    }

    #[test]
    fn import_reuses_the_id_of_a_same_named_field() {
        let s = stored();
        let old_id = s.field("old").unwrap().id.clone();
        let item = json!({"name": "notes", "fields": [{"name": "old", "type": "text", "id": "other", "max": 5}]});
        let c = merge_import_item(&s, item.as_object().unwrap().clone(), false).unwrap();
        let f = c.field("old").unwrap();
        assert_eq!(f.id, old_id, "the stored field replaced the imported one, so the column survives");
    }
}
