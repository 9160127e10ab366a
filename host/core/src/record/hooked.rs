//! PocketBase's record model hooks around every record write, whatever its origin (API,
//! plugins, auth flows):
//!
//! save:   onRecordCreate|Update -> (onRecordValidate -> field validation)
//!         -> onRecordCreate|UpdateExecute (the write) -> onRecordAfterCreate|UpdateSuccess
//!         (or ...Error when anything failed)
//! delete: onRecordDelete -> onRecordDeleteExecute -> onRecordAfterDeleteSuccess|Error
//!
//! Handlers may change the record before `e.next()` (the changes are applied to the record
//! being written), stop the chain, or throw to abort the write. Unlike PocketBase, the
//! Execute hook wraps the transaction instead of running inside it: the single writer
//! thread is never held while plugin code runs, so a handler's own `$app.save` cannot
//! deadlock (it commits separately).
//!
//! Without subscribers for the record's collection the write runs directly.

use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::validate::validate_record;
use super::write::hash_passwords;
use super::{Record, Visibility};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::hooks::{HookDispatcher, HookFuture};
use crate::model::FieldType;

/// The write at the end of the chain (runs on the writer thread): gets the record as the
/// handlers left it, returns the stored one.
pub type RecordWrite = Box<dyn FnOnce(Record) -> HookFuture<ApiResult<Record>> + Send>;

type Shared = Arc<Mutex<Record>>;

#[derive(Clone)]
struct Chain {
    hooks: Arc<dyn HookDispatcher>,
    tags: Arc<[String; 2]>,
    kind: &'static str,
}

impl Chain {
    fn tags(&self) -> [&str; 2] {
        [&self.tags[0], &self.tags[1]]
    }

    fn has(&self, name: &str) -> bool {
        self.hooks.has(name, &self.tags())
    }

    fn event(&self, rec: &Record) -> Value {
        json!({"record": export(rec), "type": self.kind, "context": "default"})
    }

    /// Runs `step` on the shared record inside hook `name` (directly without subscribers).
    async fn stage<F>(&self, name: &str, rec: &Shared, step: F) -> ApiResult<()>
    where
        F: FnOnce(Shared) -> HookFuture<ApiResult<()>> + Send + 'static,
    {
        if !self.has(name) {
            return step(rec.clone()).await;
        }
        let event = self.event(&rec.lock());
        let ran = Arc::new(AtomicBool::new(false));
        let (shared, chain, ran2) = (rec.clone(), self.clone(), ran.clone());
        let action: crate::hooks::HookAction = Box::new(move |ev: Value| {
            Box::pin(async move {
                ran2.store(true, Ordering::SeqCst);
                apply_event(&shared, &ev).await?;
                step(shared.clone()).await?;
                let out = chain.event(&shared.lock());
                Ok(out)
            })
        });
        let after = self.hooks.dispatch(name, &self.tags(), event, action).await?;
        if !ran.load(Ordering::SeqCst) {
            // the chain stopped: the handlers' changes stay on the (unwritten) record
            apply_event(rec, &after).await?;
        }
        Ok(())
    }

    async fn notify(&self, name: &str, rec: &Record, error: Option<&ApiError>) -> ApiResult<()> {
        if !self.has(name) {
            return Ok(());
        }
        let mut event = self.event(rec);
        if let Some(e) = error {
            event["error"] = json!({"status": e.status, "message": e.message, "data": e.data});
        }
        let noop: crate::hooks::HookAction = Box::new(|ev| Box::pin(async move { Ok(ev) }));
        self.hooks.dispatch(name, &self.tags(), event, noop).await.map(|_| ())
    }
}

/// What hooks see of a record: every field except auth secrets.
fn export(rec: &Record) -> Value {
    rec.to_json(Visibility { superuser: true, owner: true })
}

/// Applies the values a handler left in `event.record` to the record being written (only
/// changed fields, so untouched values keep their exact stored form). A non-empty value of
/// a password field is a new plain password.
async fn apply_event(rec: &Shared, event: &Value) -> ApiResult<()> {
    let Some(data) = event.get("record").and_then(Value::as_object) else { return Ok(()) };
    let new_password = apply_values(&mut rec.lock(), data);
    if new_password {
        let mut copy = rec.lock().clone();
        hash_passwords(&mut copy).await?;
        *rec.lock() = copy;
    }
    Ok(())
}

/// Applies the values a request hook's handlers left in `data` (a record's JSON) to `rec`,
/// as for the model hooks.
pub async fn apply_hook_values(rec: &mut Record, data: &Map<String, Value>) -> ApiResult<()> {
    if apply_values(rec, data) {
        hash_passwords(rec).await?;
    }
    Ok(())
}

fn apply_values(rec: &mut Record, data: &Map<String, Value>) -> bool {
    let mut new_password = false;
    let c = rec.collection.clone();
    for f in &c.fields {
        let Some(v) = data.get(&f.name) else { continue };
        if f.kind == FieldType::Password {
            if let Some(plain) = v.as_str().filter(|p| !p.is_empty()) {
                rec.plain_passwords.insert(f.name.clone(), plain.to_string());
                new_password = true;
            }
            continue;
        }
        if rec.get(&f.name) != v {
            rec.set(&f.name, v.clone());
        }
    }
    new_password
}

fn chain(app: &App, rec: &Record, kind: &'static str, names: &[&str]) -> Option<Chain> {
    let tags = [rec.collection.id.clone(), rec.collection.name.clone()];
    let hooks = app.hooks.subscribed(names, &[&tags[0], &tags[1]])?;
    Some(Chain { hooks, tags: Arc::new(tags), kind })
}

fn take(rec: Shared) -> Record {
    Arc::try_unwrap(rec).map(Mutex::into_inner).unwrap_or_else(|shared| shared.lock().clone())
}

/// Inserts (new record) or updates `rec` through the model hooks; `write` validates and
/// stores it.
pub async fn save(app: &App, rec: Record, write: RecordWrite) -> ApiResult<Record> {
    let (kind, names) = if rec.is_new() {
        ("create", ["record-create", "record-validate", "record-create-execute", "record-after-create-success", "record-after-create-error"])
    } else {
        ("update", ["record-update", "record-validate", "record-update-execute", "record-after-update-success", "record-after-update-error"])
    };
    let Some(chain) = chain(app, &rec, kind, &names) else { return write(rec).await };
    let shared: Shared = Arc::new(Mutex::new(rec));
    let (db, schema) = (app.data.clone(), app.schema());
    let message = if kind == "create" { "Failed to create record." } else { "Failed to update record." };
    let (inner, written) = (chain.clone(), Arc::new(AtomicBool::new(false)));
    let written2 = written.clone();
    let result = chain
        .stage(names[0], &shared, move |rec| {
            Box::pin(async move {
                if inner.has("record-validate") {
                    inner
                        .stage("record-validate", &rec, move |rec| {
                            Box::pin(async move {
                                let snapshot = rec.lock().clone();
                                db.read(move |conn| validate_record(conn, &schema, &snapshot).into_result(message)).await
                            })
                        })
                        .await?;
                }
                inner.stage(names[2], &rec, write_step(write, written2)).await
            })
        })
        .await;
    finish(&chain, take(shared), result, written.load(Ordering::SeqCst), names[3], names[4]).await
}

/// The action of the `*Execute` stage: writes the record as the handlers left it, keeps what
/// was stored, and flags that the write ran.
fn write_step(write: RecordWrite, written: Arc<AtomicBool>) -> impl FnOnce(Shared) -> HookFuture<ApiResult<()>> + Send + 'static {
    move |rec| {
        Box::pin(async move {
            let snapshot = rec.lock().clone();
            let stored = write(snapshot).await?;
            *rec.lock() = stored;
            written.store(true, Ordering::SeqCst);
            Ok(())
        })
    }
}

/// The end of a write chain: the after-success hook when the write ran, the after-error hook
/// when anything failed (its own failure is only logged; the write's error is the answer).
async fn finish(chain: &Chain, rec: Record, result: ApiResult<()>, written: bool, success: &str, error: &str) -> ApiResult<Record> {
    match result {
        Ok(()) if !written => Ok(rec),
        Ok(()) => {
            chain.notify(success, &rec, None).await?;
            Ok(rec)
        }
        Err(e) => {
            if let Err(hook_err) = chain.notify(error, &rec, Some(&e)).await {
                tracing::warn!("{error} hook failed: {}", hook_err.message);
            }
            Err(e)
        }
    }
}

/// Deletes `rec` through the model hooks; `write` removes it.
pub async fn delete(app: &App, rec: Record, write: RecordWrite) -> ApiResult<Record> {
    let names = ["record-delete", "record-delete-execute", "record-after-delete-success", "record-after-delete-error"];
    let Some(chain) = chain(app, &rec, "delete", &names) else { return write(rec).await };
    let shared: Shared = Arc::new(Mutex::new(rec));
    let (inner, written) = (chain.clone(), Arc::new(AtomicBool::new(false)));
    let written2 = written.clone();
    let result = chain
        .stage(names[0], &shared, move |rec| {
            Box::pin(async move {
                inner.stage(names[1], &rec, write_step(write, written2)).await
            })
        })
        .await;
    finish(&chain, take(shared), result, written.load(Ordering::SeqCst), names[2], names[3]).await
}
