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

const FAILED: &str = "Batch transaction failed.";

/// PocketBase's error for a failed sub-request: its index and its own error response.
fn failed_at(index: usize, err: ApiError) -> ApiError {
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
