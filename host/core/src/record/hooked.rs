//! PocketBase's record model hooks around every record write, whatever its origin (API,
//! plugins, auth flows); the chain itself is [`crate::model_hooks`]:
//!
//! save:   onRecordCreate|Update -> (onRecordValidate -> field validation)
//!         -> onRecordCreate|UpdateExecute (the write) -> onRecordAfterCreate|UpdateSuccess
//!         (or ...Error when anything failed)
//! delete: onRecordDelete -> onRecordDeleteExecute -> onRecordAfterDeleteSuccess|Error
//!
//! Without subscribers for the record's collection the write runs directly.
//!
//! A write inside an open transaction (a batch sub-request) validates through it and defers
//! its after-success/error hooks to the transaction's end ([`WriteScope`]).

use serde_json::{Map, Value};

use super::validate::validate_record;
use super::write::hash_passwords;
use super::{Record, Visibility};
use crate::app::App;
use crate::db::DbScope;
use crate::error::ApiResult;
use crate::hooks::HookFuture;
use crate::model::FieldType;
use crate::model::Collection;
use crate::model_hooks::{self, AfterTx, HookedModel, ModelWrite, Names, Shared, Step};

/// The write at the end of the chain (runs on the writer thread): gets the record as the
/// handlers left it, returns the stored one.
pub type RecordWrite = ModelWrite<Record>;

impl HookedModel for Record {
    const KEY: &'static str = "record";

    /// What hooks see of a record: every field except auth secrets.
    fn export(&self) -> Value {
        self.to_json(Visibility { superuser: true, owner: true })
    }

    /// Applies the values a handler left in `event.record` to the record being written
    /// (only changed fields, so untouched values keep their exact stored form). A non-empty
    /// value of a password field is a new plain password.
    fn apply(rec: Shared<Self>, _exported: Value, value: Value) -> HookFuture<ApiResult<()>> {
        Box::pin(async move {
            let Value::Object(data) = value else { return Ok(()) };
            let new_password = apply_values(&mut rec.lock(), &data);
            if new_password {
                let mut copy = rec.lock().clone();
                hash_passwords(&mut copy).await?;
                *rec.lock() = copy;
            }
            Ok(())
        })
    }
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

fn tags(rec: &Record) -> [String; 2] {
    [rec.collection.id.clone(), rec.collection.name.clone()]
}

const CREATE: Names = Names {
    outer: "record-create",
    validate: Some("record-validate"),
    execute: "record-create-execute",
    success: "record-after-create-success",
    error: "record-after-create-error",
};
const UPDATE: Names = Names {
    outer: "record-update",
    validate: Some("record-validate"),
    execute: "record-update-execute",
    success: "record-after-update-success",
    error: "record-after-update-error",
};
const DELETE: Names = Names {
    outer: "record-delete",
    validate: None,
    execute: "record-delete-execute",
    success: "record-after-delete-success",
    error: "record-after-delete-error",
};

/// Whether any record model hook of a `kind` write (`create`, `update`, `delete`) has
/// subscribers for collection `c`.
pub fn subscribed(app: &App, c: &Collection, kind: &'static str) -> bool {
    let names = match kind {
        "create" => &CREATE,
        "update" => &UPDATE,
        _ => &DELETE,
    };
    model_hooks::chain::<Record>(&app.hooks, [c.id.clone(), c.name.clone()], kind, names).is_some()
}

/// Where a hooked write runs (the default: the app's database, after hooks right away).
#[derive(Default)]
pub struct WriteScope<'a> {
    /// What the validate stage reads: an open transaction sees its own earlier writes.
    pub db: Option<&'a DbScope>,
    /// Collects the write's after-success/error hooks until the open transaction (a batch's)
    /// ended.
    pub after: Option<&'a AfterTx>,
    /// PocketBase's `saveNoValidate`: no validate stage (its hooks do not fire).
    pub no_validation: bool,
}

/// Inserts (new record) or updates `rec` through the model hooks; `write` validates and
/// stores it.
pub async fn save(app: &App, rec: Record, write: RecordWrite) -> ApiResult<Record> {
    save_in(app, rec, |_| write, WriteScope::default()).await
}

/// [`save`] in `scope`; `make_write(validate)` makes the write, which validates the record
/// when `validate` (false when the validate stage did, so validation runs once and a
/// handler that stops that stage skips it, as in PocketBase).
pub async fn save_in(app: &App, rec: Record, make_write: impl FnOnce(bool) -> RecordWrite, scope: WriteScope<'_>) -> ApiResult<Record> {
    let (kind, names) = if rec.is_new() { ("create", &CREATE) } else { ("update", &UPDATE) };
    let Some(chain) = model_hooks::chain::<Record>(&app.hooks, tags(&rec), kind, names) else { return make_write(true)(rec).await };
    let chain = chain.in_tx(scope.after.cloned());
    let validate = (!scope.no_validation && (chain.has("record-validate") || chain.has("model-validate"))).then(|| {
        let db = scope.db.cloned().unwrap_or_else(|| DbScope::Pool(app.data.clone()));
        let schema = app.schema();
        let message = if kind == "create" { "Failed to create record." } else { "Failed to update record." };
        let step: Step<Record> = Box::new(move |rec| {
            Box::pin(async move {
                let snapshot = rec.lock().clone();
                db.read(move |conn| validate_record(conn, &schema, &snapshot).into_result(message)).await
            })
        });
        step
    });
    let write = make_write(validate.is_none());
    chain.run(rec, names, validate, write).await
}

/// Deletes `rec` through the model hooks; `write` removes it.
pub async fn delete(app: &App, rec: Record, write: RecordWrite) -> ApiResult<Record> {
    delete_in(app, rec, write, None).await
}

/// [`delete`]; `after` as in [`WriteScope`].
pub async fn delete_in(app: &App, rec: Record, write: RecordWrite, after: Option<&AfterTx>) -> ApiResult<Record> {
    let Some(chain) = model_hooks::chain::<Record>(&app.hooks, tags(&rec), "delete", &DELETE) else { return write(rec).await };
    chain.in_tx(after.cloned()).run(rec, &DELETE, None, write).await
}
