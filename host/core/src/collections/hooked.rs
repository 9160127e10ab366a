//! PocketBase's collection model hooks around every collection write (API, plugins'
//! `$app.save(collection)`, migrations; `db` is the app's database or a plugin's open
//! transaction): onCollectionCreate|Update -> onCollectionValidate
//! -> onCollectionCreate|UpdateExecute -> onCollectionAfter...Success|Error, and the same
//! for deletes without the validation (see [`crate::model_hooks`]). Tags are the
//! collection's id and name.

use parking_lot::Mutex;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::sync::Arc;

use super::save::{import_failure, plan_import, validate_only, write_collection, write_delete, write_import, ImportItem, IMPORT_FAILED};
use crate::app::App;
use crate::db::DbScope;
use crate::error::{ApiError, ApiResult};
use crate::hooks::HookFuture;
use crate::model::Collection;
use crate::schema_cache::Schema;
use crate::model_hooks::{self, HookedModel, ModelWrite, Names, Shared, Step};

impl HookedModel for Collection {
    const KEY: &'static str = "collection";
    const TABLE: Option<&'static str> = Some("_collections");

    /// Everything, secrets included (handlers run on the server; the round trip keeps them).
    fn export(&self) -> Value {
        self.to_full_json()
    }

    /// Decodes what a handler left in `e.collection` over the collection, like the API
    /// decodes a body (only when it changed).
    fn apply(c: Shared<Self>, exported: Value, value: Value) -> HookFuture<ApiResult<()>> {
        Box::pin(async move { apply_hook_changes(&mut c.lock(), &exported, &value) })
    }
}

/// Decodes the collection JSON a handler left in an event (`value`) over `c` when it differs
/// from what the handler was given (`exported`), like the API decodes a body.
pub fn apply_hook_changes(c: &mut Collection, exported: &Value, value: &Value) -> ApiResult<()> {
    let Value::Object(data) = value else { return Ok(()) };
    if exported.as_object() == Some(data) {
        return Ok(());
    }
    c.apply_json(data).map_err(|e| ApiError::bad_request(format!("Invalid collection data from a hook: {}", e.0)))
}

const VALIDATE: &str = "collection-validate";

const CREATE: Names = Names {
    outer: "collection-create",
    validate: Some(VALIDATE),
    execute: "collection-create-execute",
    success: "collection-after-create-success",
    error: "collection-after-create-error",
};
const UPDATE: Names = Names {
    outer: "collection-update",
    validate: Some(VALIDATE),
    execute: "collection-update-execute",
    success: "collection-after-update-success",
    error: "collection-after-update-error",
};
const DELETE: Names = Names {
    outer: "collection-delete",
    validate: None,
    execute: "collection-delete-execute",
    success: "collection-after-delete-success",
    error: "collection-after-delete-error",
};

fn tags(c: &Collection) -> [String; 2] {
    [c.id.clone(), c.name.clone()]
}

/// Validates and persists a collection (create when `old` is None) through the model hooks,
/// syncing its table and refreshing the app's collection snapshot.
pub async fn save_collection(app: &Arc<App>, db: &DbScope, c: Collection, old: Option<Arc<Collection>>) -> ApiResult<Collection> {
    let (kind, names) = if old.is_none() { ("create", &CREATE) } else { ("update", &UPDATE) };
    let Some(chain) = model_hooks::chain::<Collection>(&app.hooks, tags(&c), kind, names) else {
        return write_collection(app, db, c, old).await;
    };
    // handlers see the system fields of the type, as in PocketBase
    let mut c = c;
    c.init_default_fields();
    let validate = chain.has(VALIDATE).then(|| {
        let (db, old) = (db.clone(), old.clone());
        let step: Step<Collection> = Box::new(move |c| {
            Box::pin(async move {
                let snapshot = c.lock().clone();
                validate_only(&db, snapshot, old).await
            })
        });
        step
    });
    let write: ModelWrite<Collection> = {
        let (app, db) = (app.clone(), db.clone());
        Box::new(move |c| Box::pin(async move { write_collection(&app, &db, c, old).await }))
    };
    chain.in_tx(db.after_hooks().cloned()).run(c, names, validate, write).await
}

/// Deletes a collection and its table through the model hooks, refusing system collections
/// and referenced ones.
pub async fn delete_collection(app: &Arc<App>, db: &DbScope, c: Arc<Collection>) -> ApiResult<()> {
    let Some(chain) = model_hooks::chain::<Collection>(&app.hooks, tags(&c), "delete", &DELETE) else {
        return write_delete(app, db, c).await;
    };
    let write: ModelWrite<Collection> = {
        let (app, db) = (app.clone(), db.clone());
        Box::new(move |c| {
            Box::pin(async move {
                write_delete(&app, &db, Arc::new(c.clone())).await?;
                Ok(c)
            })
        })
    };
    chain.in_tx(db.after_hooks().cloned()).run((*c).clone(), &DELETE, None, write).await.map(|_| ())
}

/// `$app.importCollections` / `PUT /api/collections/import` through the model hooks: each
/// imported collection fires onCollectionCreate|Update (+Execute, after-success/error) and
/// each deleted one (`deleteMissing`) onCollectionDelete..., without the validate hook (as
/// in PocketBase, where the import saves without validation and validates afterwards).
///
/// The import stays one transaction: the chains nest, the Execute stage of each collection
/// running the chains of the following ones and the last one the transaction, so every
/// handler's `e.next()` returns once the whole import is written (or failed).
pub async fn import_collections(app: &Arc<App>, db: &DbScope, items: Vec<Map<String, Value>>, delete_missing: bool) -> ApiResult<()> {
    let plan = plan_import(&app.schema(), items, delete_missing)?;
    let failure: Failure = Arc::default();
    match run_import(app.clone(), db.clone(), plan.into(), vec![], failure.clone()).await {
        Ok(_) => Ok(()),
        // the error where it happened (the outer handlers only saw it pass)
        Err(e) => {
            let e = failure.lock().take().unwrap_or(e);
            Err(if e.message == IMPORT_FAILED { e } else { import_failure(&e.message) })
        }
    }
}

fn import_names(item: &ImportItem) -> (&'static str, &'static Names) {
    match (item.delete, &item.original) {
        (true, _) => ("delete", &DELETE),
        (false, None) => ("create", &CREATE),
        (false, Some(_)) => ("update", &UPDATE),
    }
}

/// The first error of an import, as PocketBase words it.
type Failure = Arc<Mutex<Option<ApiError>>>;

/// What the rest of an import still has to do: the items whose hooks did not run yet and
/// the ones ready to be written.
type ImportState = (VecDeque<ImportItem>, Vec<ImportItem>);

/// Runs the hooks of the next pending item around the rest of the import; returns the
/// collections after the import.
fn run_import(app: Arc<App>, db: DbScope, mut pending: VecDeque<ImportItem>, mut ready: Vec<ImportItem>, failure: Failure) -> HookFuture<ApiResult<Arc<Schema>>> {
    Box::pin(async move {
        let Some(item) = pending.pop_front() else {
            return match write_import(&app, &db, ready).await {
                Ok(()) => Ok(app.schema()),
                Err(e) => {
                    failure.lock().get_or_insert_with(|| e.clone());
                    Err(e)
                }
            };
        };
        let (kind, names) = import_names(&item);
        let Some(chain) = model_hooks::chain::<Collection>(&app.hooks, tags(&item.collection), kind, names) else {
            ready.push(item);
            return run_import(app, db, pending, ready, failure).await;
        };
        let ImportItem { collection, original, delete } = item;
        // taken by the write; left here when a handler stopped the chain (item skipped)
        let state: Arc<Mutex<Option<ImportState>>> = Arc::new(Mutex::new(Some((pending, ready))));
        let after: Arc<Mutex<Option<Arc<Schema>>>> = Arc::default();
        let write: ModelWrite<Collection> = {
            let (app, db, state, after, failure) = (app.clone(), db.clone(), state.clone(), after.clone(), failure.clone());
            Box::new(move |c| {
                Box::pin(async move {
                    let Some((pending, mut ready)) = state.lock().take() else { return Ok(c) };
                    ready.push(ImportItem { collection: c.clone(), original, delete });
                    let schema = run_import(app, db, pending, ready, failure).await?;
                    *after.lock() = Some(schema.clone());
                    Ok(if delete { c } else { schema.find(&c.id).map(|s| (*s).clone()).unwrap_or(c) })
                })
            })
        };
        let name = collection.name.clone();
        if let Err(e) = chain.in_tx(db.after_hooks().cloned()).run(collection, names, None, write).await {
            // PocketBase's wording of a failed save (deletes fail with the raw error)
            let worded = if delete { e.clone() } else { ApiError { message: format!("failed to save collection {name:?}: {}", e.message), ..e.clone() } };
            failure.lock().get_or_insert(worded);
            return Err(e);
        }
        let skipped = state.lock().take();
        match skipped {
            Some((pending, ready)) => run_import(app, db, pending, ready, failure).await,
            None => Ok(after.lock().take().unwrap_or_else(|| app.schema())),
        }
    })
}
