//! `POST /api/batch`: record creates, updates, upserts and deletes run one after the other in a
//! single transaction on the writer connection, each with its caller's rules. Any failure
//! rolls everything back (and removes the files uploaded so far); realtime events follow the
//! commit (see `realtime::capture`), file deletions too.

use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::rules::RequestInfo;
use super::service::{self, record_json, BatchFiles, WriteInput};
use crate::app::App;
use crate::db::WriteTx;
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
    app_data: crate::db::Db,
    schema: Arc<Schema>,
    storage: Arc<dyn files::FileStorage>,
    files: Arc<parking_lot::Mutex<BatchFiles>>,
    started: Instant,
    timeout: Duration,
}

impl OpenBatch {
    pub async fn begin(app: &App, timeout: Duration) -> ApiResult<Self> {
        // the transaction's own limit is a backstop; the timeout is checked between steps
        let tx = Arc::new(app.data.begin_write_tx(timeout + Duration::from_secs(5)).await?);
        Ok(Self {
            tx,
            app_data: app.data.clone(),
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

    /// Runs one sub-request in the transaction.
    pub async fn run(&self, r: BatchRequest) -> ApiResult<BatchResponse> {
        let (schema, storage, files) = (self.schema.clone(), self.storage.clone(), self.files.clone());
        self.tx.run(move |conn| run_one(conn, &schema, storage.as_ref(), r, &mut files.lock())).await
    }

    pub async fn commit(&self) -> ApiResult<()> {
        if self.timed_out() {
            self.abort().await;
            return Err(ApiError::bad_request(FAILED));
        }
        if let Err(e) = self.tx.commit().await {
            tracing::warn!("batch commit failed: {}", e.message);
            self.discard().await;
            return Err(ApiError::bad_request(FAILED));
        }
        self.files.lock().finish(&self.schema, self.storage.as_ref());
        Ok(())
    }

    /// Rolls everything back and removes the files uploaded so far.
    pub async fn abort(&self) {
        let _ = self.tx.rollback().await;
        self.discard().await;
    }

    async fn discard(&self) {
        let files = std::mem::take(&mut *self.files.lock());
        let storage = self.storage.clone();
        let _ = self
            .app_data
            .write(move |conn| {
                files.discard(conn, storage.as_ref());
                Ok(())
            })
            .await;
    }
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
    let BatchRequest { action, req } = r;
    let picker = match req.query.get("fields").and_then(Value::as_str) {
        Some(raw) => FieldsPicker::parse(raw).map_err(|_| ApiError::bad_request(""))?,
        None => None,
    };
    let written = match action {
        BatchAction::Unknown => return Err(ApiError::bad_request("")),
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
        BatchAction::Upsert { collection: name, input } => {
            let c = collection(schema, &name, MISSING)?;
            let id = input.body.get("id").map(super::values::to_text).unwrap_or_default();
            let exists = !id.is_empty() && super::persist::find_by_id(conn, &c, &id)?.is_some();
            if exists {
                service::update_on(conn, schema, storage, c, with_method(req.clone(), "PATCH"), &id, input, files)?
            } else {
                service::create_on(conn, schema, storage, c, with_method(req.clone(), "POST"), input, files)?
            }
        }
    };
    let mut body = record_json(&req, &written);
    if let Some(p) = picker {
        p.apply(&mut body, false);
    }
    Ok(BatchResponse { status: 200, body })
}

fn with_method(mut req: RequestInfo, method: &str) -> RequestInfo {
    req.method = method.to_string();
    req
}
