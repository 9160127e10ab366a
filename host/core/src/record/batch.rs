//! `POST /api/batch`: record creates, updates, upserts and deletes run one after the other in a
//! single transaction on the writer connection, each with its caller's rules. Any failure
//! rolls everything back (and removes the files uploaded so far); realtime events follow the
//! commit (see `realtime::capture`), file deletions too.
//!
//! With record model hook subscribers (onRecordCreate, onRecordValidate, ...), a sub-request
//! runs through the model hook chain like a normal API write ([`OpenBatch`]), its write on
//! the batch's transaction; the after-success/error hooks wait for the batch to end, as in
//! PocketBase.

use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::hooked::{self, RecordWrite, WriteScope};
use super::rules::RequestInfo;
use super::service::{self, record_json, BatchFiles, PreparedWrite, WriteInput};
use crate::app::App;
use crate::db::{DbScope, WriteTx};
use crate::error::{ApiError, ApiResult};
use crate::fields_picker::FieldsPicker;
use crate::files;
use crate::model::Collection;
use crate::schema_cache::Schema;

/// One sub-request, already matched against the supported record routes.
#[derive(Debug)]
pub enum BatchAction {
    Create { collection: String, input: WriteInput },
    Update { collection: String, id: String, input: WriteInput },
    /// `PUT .../records`: an update when `body.id` names an existing record, else a create.
    Upsert { collection: String, input: WriteInput },
    Delete { collection: String, id: String },
    /// A method and URL that is none of the above.
    Unknown,
}

impl BatchAction {
    /// The kinds of write it may be (`create`, `update`, `delete`; an upsert either of the
    /// first two) and its collection's name or id; None for an unknown action.
    pub fn target(&self) -> Option<(&'static [&'static str], &str)> {
        match self {
            BatchAction::Create { collection, .. } => Some((&["create"], collection)),
            BatchAction::Update { collection, .. } => Some((&["update"], collection)),
            BatchAction::Upsert { collection, .. } => Some((&["create", "update"], collection)),
            BatchAction::Delete { collection, .. } => Some((&["delete"], collection)),
            BatchAction::Unknown => None,
        }
    }
}

#[derive(Debug)]
pub struct BatchRequest {
    pub action: BatchAction,
    /// The sub-request as rules see it (its method, query and body; the caller's auth).
    pub req: RequestInfo,
}

/// The response of one sub-request.
#[derive(Debug, Clone)]
pub struct BatchResponse {
    pub status: u16,
    pub body: Value,
}

pub const FAILED: &str = "Batch transaction failed.";

/// PocketBase's error for a failed sub-request: its index and its own error response.
pub fn failed_at(index: usize, err: ApiError) -> ApiError {
    let item = json!({"code": "batch_request_failed", "message": "Batch request failed.", "response": err.to_json()});
    let mut requests = Map::new();
    requests.insert(index.to_string(), item);
    let mut data = Map::new();
    data.insert("requests".into(), Value::Object(requests));
    ApiError::bad_request(FAILED).with_data(data)
}

/// Runs the batch; `timeout` bounds the whole transaction (checked between sub-requests).
pub async fn run(app: &App, requests: Vec<BatchRequest>, timeout: Duration) -> ApiResult<Vec<BatchResponse>> {
    let schema = app.schema();
    let storage = files::storage(app);
    let started = Instant::now();
    app.data
        .write(move |conn| {
            let mut files = BatchFiles::default();
            let tx = conn.transaction()?;
            let mut responses = Vec::with_capacity(requests.len());
            let mut failure = None;
            for (i, r) in requests.into_iter().enumerate() {
                if started.elapsed() > timeout {
                    failure = Some(ApiError::bad_request(FAILED));
                    break;
                }
                match run_one(&tx, &schema, storage.as_ref(), r, &mut files) {
                    Ok(res) => responses.push(res),
                    Err(e) => {
                        failure = Some(failed_at(i, e));
                        break;
                    }
                }
            }
            if failure.is_none() && started.elapsed() > timeout {
                failure = Some(ApiError::bad_request(FAILED));
            }
            if let Some(e) = failure {
                drop(tx); // rolls back
                files.discard(conn, storage.as_ref());
                return Err(e);
            }
            if let Err(e) = tx.commit() {
                files.discard(conn, storage.as_ref());
                tracing::warn!("batch commit failed: {e}");
                return Err(ApiError::bad_request(FAILED));
            }
            files.finish(&schema, storage.as_ref());
            Ok(responses)
        })
        .await
}

/// A batch run one sub-request at a time from async code, so that plugin hooks can wrap
/// each sub-request (PocketBase runs the record request hooks of every sub-request): one
/// write transaction stays open across the sub-requests. Callers map a sub-request's error
/// with [`failed_at`] and end with [`OpenBatch::commit`] or [`OpenBatch::abort`].
pub struct OpenBatch {
    tx: Arc<WriteTx>,
    app: Arc<App>,
    schema: Arc<Schema>,
    storage: Arc<dyn files::FileStorage>,
    files: Arc<parking_lot::Mutex<BatchFiles>>,
    started: Instant,
    timeout: Duration,
}

impl OpenBatch {
    pub async fn begin(app: &Arc<App>, timeout: Duration) -> ApiResult<Self> {
        // the transaction's own limit is a backstop; the timeout is checked between steps
        let tx = Arc::new(app.data.begin_write_tx(timeout + Duration::from_secs(5)).await?);
        Ok(Self {
            tx,
            app: app.clone(),
            schema: app.schema(),
            storage: files::storage(app),
            files: Arc::default(),
            started: Instant::now(),
            timeout,
        })
    }

    /// The open transaction (hooks of the sub-requests write through it).
    pub fn tx(&self) -> Arc<WriteTx> {
        self.tx.clone()
    }

    /// Whether the batch ran out of time (its error is then `FAILED` as is).
    pub fn timed_out(&self) -> bool {
        self.started.elapsed() > self.timeout
    }

    /// A record as the transaction sees it (earlier sub-requests included).
    pub async fn find(&self, c: Arc<Collection>, id: String) -> ApiResult<Option<crate::record::Record>> {
        self.tx.run(move |conn| super::persist::find_by_id(conn, &c, &id)).await
    }

    /// Runs one sub-request in the transaction (through the record model hooks when they
    /// have subscribers).
    pub async fn run(&self, r: BatchRequest) -> ApiResult<BatchResponse> {
        if has_model_hooks(&self.app, &r) {
            return self.run_hooked(r).await;
        }
        let (schema, storage, files) = (self.schema.clone(), self.storage.clone(), self.files.clone());
        self.tx.run(move |conn| run_one(conn, &schema, storage.as_ref(), r, &mut files.lock())).await
    }

    /// Commits, then runs the deferred after hooks of the sub-requests: the first failing
    /// one is the answer, though the batch stays committed (as in PocketBase).
    pub async fn commit(&self) -> ApiResult<()> {
        if self.timed_out() {
            self.abort().await;
            return Err(ApiError::bad_request(FAILED));
        }
        if let Err(e) = self.tx.commit().await {
            tracing::warn!("batch commit failed: {}", e.message);
            self.discard().await;
            self.app.reload_after_rollback().await;
            let failed = ApiError::bad_request(FAILED);
            let _ = self.tx.after_hooks().run(Some(&failed)).await;
            return Err(failed);
        }
        self.files.lock().finish(&self.schema, self.storage.as_ref());
        self.tx.after_hooks().run(None).await
    }

    /// Rolls everything back, removes the files uploaded so far and fires the after-error
    /// hooks of the sub-requests that had succeeded.
    pub async fn abort(&self) {
        let _ = self.tx.rollback().await;
        self.discard().await;
        self.app.reload_after_rollback().await;
        if let Err(e) = self.tx.after_hooks().run(Some(&ApiError::bad_request(FAILED))).await {
            tracing::warn!("after-error hook of a batch failed: {}", e.message);
        }
    }

    async fn discard(&self) {
        let files = std::mem::take(&mut *self.files.lock());
        let storage = self.storage.clone();
        let _ = self
            .app
            .data
            .write(move |conn| {
                files.discard(conn, storage.as_ref());
                Ok(())
            })
            .await;
    }

    /// A create, update or delete through the model hook chain; every database step on the
    /// transaction.
    async fn run_hooked(&self, r: BatchRequest) -> ApiResult<BatchResponse> {
        let BatchRequest { action, req } = r;
        let picker = fields_picker(&req)?;
        let PreparedWrite { rec, req, access } = match action {
            BatchAction::Delete { collection: name, id } => return self.delete_hooked(&name, id, req).await,
            action => self.prepare(action, req).await?,
        };
        let (tx, schema, storage, files) = (self.tx.clone(), self.schema.clone(), self.storage.clone(), self.files.clone());
        let make_write = move |validate: bool| -> RecordWrite {
            Box::new(move |rec| {
                Box::pin(async move {
                    tx.run(move |conn| {
                        let files = &mut files.lock();
                        if rec.is_new() {
                            service::insert_on(conn, &schema, storage.as_ref(), rec, files, validate)
                        } else {
                            service::store_update_on(conn, &schema, storage.as_ref(), rec, files, validate)
                        }
                    })
                    .await
                })
            })
        };
        let db = DbScope::Tx(self.tx.clone());
        let scope = WriteScope { db: Some(&db), after: Some(self.tx.after_hooks()), no_validation: false };
        let stored = hooked::save_in(&self.app, rec, make_write, scope).await?;
        let (schema, req2) = (self.schema.clone(), req.clone());
        let written = self.tx.run(move |conn| Ok(service::enrich_on(conn, &schema, &req2, stored, access.manager))).await?;
        Ok(BatchResponse { status: 200, body: response_body(&req, &written, picker) })
    }

    /// The checks of a create, update or upsert on the transaction, up to the record to write.
    async fn prepare(&self, action: BatchAction, req: RequestInfo) -> ApiResult<PreparedWrite> {
        let schema = self.schema.clone();
        self.tx
            .run(move |conn| {
                let BatchRequest { action, req } = resolve_upsert_on(conn, &schema, BatchRequest { action, req })?;
                match action {
                    BatchAction::Create { collection: name, input } => {
                        service::draft_create_on(conn, &schema, collection(&schema, &name, MISSING)?, req, input)
                    }
                    BatchAction::Update { collection: name, id, input } => {
                        service::draft_update_on(conn, &schema, collection(&schema, &name, MISSING)?, req, &id, input)
                    }
                    BatchAction::Upsert { .. } | BatchAction::Delete { .. } | BatchAction::Unknown => Err(ApiError::bad_request("")),
                }
            })
            .await
    }

    /// An upsert as the update or create it is, as the transaction sees the data.
    pub async fn resolve_upsert(&self, r: BatchRequest) -> ApiResult<BatchRequest> {
        let schema = self.schema.clone();
        self.tx.run(move |conn| resolve_upsert_on(conn, &schema, r)).await
    }

    async fn delete_hooked(&self, name: &str, id: String, req: RequestInfo) -> ApiResult<BatchResponse> {
        let c = collection(&self.schema, name, MISSING)?;
        let schema = self.schema.clone();
        let rec = self.tx.run(move |conn| service::find_for_delete(conn, &schema, &c, &req, &id)).await?;
        let (tx, schema, files) = (self.tx.clone(), self.schema.clone(), self.files.clone());
        let write: RecordWrite = Box::new(move |rec| {
            Box::pin(async move {
                tx.run(move |conn| {
                    service::remove_on(conn, &schema, &rec, &mut files.lock())?;
                    Ok(rec)
                })
                .await
            })
        });
        hooked::delete_in(&self.app, rec, write, Some(self.tx.after_hooks())).await?;
        Ok(BatchResponse { status: 204, body: Value::Null })
    }
}

/// Whether sub-request `r` runs through record model hooks (an upsert when either its create
/// or its update hooks have subscribers).
pub fn has_model_hooks(app: &App, r: &BatchRequest) -> bool {
    let Some((kinds, name)) = r.action.target() else { return false };
    let Some(c) = app.schema().find(name) else { return false };
    kinds.iter().any(|k| hooked::subscribed(app, &c, k))
}

fn collection(schema: &Schema, id_or_name: &str, message: &str) -> ApiResult<Arc<Collection>> {
    schema.find(id_or_name).ok_or_else(|| ApiError::not_found(message))
}

/// PocketBase answers every unknown collection of a batch with this message.
const MISSING: &str = "Missing collection context.";

fn run_one(
    conn: &rusqlite::Connection,
    schema: &Schema,
    storage: &dyn files::FileStorage,
    r: BatchRequest,
    files: &mut BatchFiles,
) -> ApiResult<BatchResponse> {
    let BatchRequest { action, req } = resolve_upsert_on(conn, schema, r)?;
    let picker = fields_picker(&req)?;
    let written = match action {
        BatchAction::Unknown | BatchAction::Upsert { .. } => return Err(ApiError::bad_request("")),
        BatchAction::Delete { collection: name, id } => {
            let c = collection(schema, &name, MISSING)?;
            service::delete_on(conn, schema, c, &req, &id, files)?;
            return Ok(BatchResponse { status: 204, body: Value::Null });
        }
        BatchAction::Create { collection: name, input } => {
            let c = collection(schema, &name, MISSING)?;
            service::create_on(conn, schema, storage, c, req.clone(), input, files)?
        }
        BatchAction::Update { collection: name, id, input } => {
            let c = collection(schema, &name, MISSING)?;
            service::update_on(conn, schema, storage, c, req.clone(), &id, input, files)?
        }
    };
    Ok(BatchResponse { status: 200, body: response_body(&req, &written, picker) })
}

/// The sub-request's `?fields=` (a bad one fails it).
fn fields_picker(req: &RequestInfo) -> ApiResult<Option<FieldsPicker>> {
    match req.query.get("fields").and_then(Value::as_str) {
        Some(raw) => FieldsPicker::parse(raw).map_err(|_| ApiError::bad_request("")),
        None => Ok(None),
    }
}

/// A written record as the sub-request's response body.
fn response_body(req: &RequestInfo, written: &crate::record::Record, picker: Option<FieldsPicker>) -> Value {
    let mut body = record_json(req, written);
    if let Some(p) = picker {
        p.apply(&mut body, false);
    }
    body
}

/// An upsert as the update (a stored record has the submitted id) or create it is, with the
/// matching method; every other request as it is.
fn resolve_upsert_on(conn: &rusqlite::Connection, schema: &Schema, r: BatchRequest) -> ApiResult<BatchRequest> {
    let BatchRequest { action, req } = r;
    let BatchAction::Upsert { collection: name, input } = action else { return Ok(BatchRequest { action, req }) };
    let c = collection(schema, &name, MISSING)?;
    let id = input.body.get("id").map(super::values::to_text).unwrap_or_default();
    Ok(if !id.is_empty() && super::persist::find_by_id(conn, &c, &id)?.is_some() {
        BatchRequest { action: BatchAction::Update { collection: name, id, input }, req: with_method(req, "PATCH") }
    } else {
        BatchRequest { action: BatchAction::Create { collection: name, input }, req: with_method(req, "POST") }
    })
}

fn with_method(mut req: RequestInfo, method: &str) -> RequestInfo {
    req.method = method.to_string();
    req
}
