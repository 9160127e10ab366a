//! The record request hooks (`onRecordCreateRequest`, `onRecordUpdateRequest`,
//! `onRecordDeleteRequest`) around the sub-requests of `POST /api/batch`: PocketBase runs
//! each sub-request through its record route, hooks included, inside the batch's
//! transaction. Handlers may change `e.record` before `e.next()` (the write), answer
//! themselves (that is the sub-request's response, nothing is written) or throw (the batch
//! fails at that sub-request). An upsert (`PUT`) fires the update hook when the record
//! exists, the create hook otherwise.
//!
//! The record model hooks (onRecordCreate, ..., see `OpenBatch::run`) run inside the same
//! transaction; every plugin call of the batch joins it (ambient transaction).
//!
//! Without subscribers for any sub-request's collection the batch runs as one job on the
//! writer thread ([`batch::run`]).

use pocketbun_core::app_api;
use pocketbun_core::model::Collection;
use pocketbun_core::record::batch::{self, BatchAction, BatchRequest, BatchResponse, OpenBatch};
use pocketbun_core::record::service::WriteInput;
use pocketbun_core::{ApiError, ApiResult};
use pocketbun_wasm::{CoreError, DefaultAction, PluginHost};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::context::Ctx;
use crate::plugin_hooks::api_error;
use crate::plugins::request_event;
use crate::record_hooks::{record_fields, records_path, CREATE, DELETE, UPDATE};

fn core_err(e: ApiError) -> CoreError {
    CoreError { status: e.status, message: e.message, data: e.data }
}

/// An upsert fires the create or the update request hook (known once it ran into the
/// transaction's data).
const UPSERT: &str = "upsert";

/// The request hook sub-request `r` fires and its collection, when a plugin subscribed.
fn hook_of(host: &PluginHost, ctx: &Ctx, r: &BatchRequest) -> Option<(&'static str, Arc<Collection>)> {
    let (kinds, collection) = r.action.target()?;
    let names: Vec<&'static str> = kinds.iter().map(|k| request_hook(k)).collect();
    let c = ctx.app.schema().find(collection)?;
    let subscribed = names.iter().any(|n| host.has_hooks(n, &[&c.id, &c.name]));
    let name = if names.len() > 1 { UPSERT } else { names[0] };
    subscribed.then_some((name, c))
}

/// The request hook of a write kind (`create`, `update`, `delete`).
fn request_hook(kind: &str) -> &'static str {
    match kind {
        "create" => CREATE,
        "update" => UPDATE,
        _ => DELETE,
    }
}

/// An upsert as the create or update it is, with the request hook that fires for it.
async fn resolve_upsert(open: &OpenBatch, r: BatchRequest) -> ApiResult<(&'static str, BatchRequest)> {
    let r = open.resolve_upsert(r).await?;
    Ok((if matches!(r.action, BatchAction::Update { .. }) { UPDATE } else { CREATE }, r))
}

/// Runs the batch, with the record request and model hooks of its sub-requests.
pub async fn run(ctx: &Ctx, requests: Vec<BatchRequest>, timeout: Duration) -> ApiResult<Vec<BatchResponse>> {
    let hooks: Vec<_> = requests.iter().map(|r| ctx.plugins.as_ref().and_then(|h| hook_of(h, ctx, r))).collect();
    let hooked_any = hooks.iter().any(Option::is_some) || requests.iter().any(|r| batch::has_model_hooks(&ctx.app, r));
    let Some(host) = ctx.plugins.clone().filter(|_| hooked_any) else {
        return batch::run(&ctx.app, requests, timeout).await;
    };
    let open = Arc::new(OpenBatch::begin(&ctx.app, timeout).await?);
    // the handlers' own `$app` writes join the batch's transaction (else they would wait for it)
    let core = crate::plugins::CoreBridge::in_tx(ctx.app.clone(), open.tx());
    match pocketbun_wasm::ambient_tx::within(core, run_each(ctx, &host, &open, requests, hooks)).await {
        Ok(out) => {
            open.commit().await?;
            Ok(out)
        }
        Err(e) => {
            open.abort().await;
            Err(e)
        }
    }
}

/// The sub-requests one after the other in the open batch; the first failure stops them.
async fn run_each(
    ctx: &Ctx,
    host: &Arc<PluginHost>,
    open: &Arc<OpenBatch>,
    requests: Vec<BatchRequest>,
    hooks: Vec<Option<(&'static str, Arc<Collection>)>>,
) -> ApiResult<Vec<BatchResponse>> {
    let mut out = Vec::with_capacity(requests.len());
    for (i, (r, hook)) in requests.into_iter().zip(hooks).enumerate() {
        if open.timed_out() {
            return Err(ApiError::bad_request(batch::FAILED));
        }
        let res = match hook {
            None => open.run(r).await,
            Some((UPSERT, c)) => match resolve_upsert(open, r).await {
                Ok((name, r)) if host.has_hooks(name, &[&c.id, &c.name]) => hooked(ctx, host, open, name, c, r).await,
                Ok((_, r)) => open.run(r).await,
                Err(e) => Err(e),
            },
            Some((name, c)) => hooked(ctx, host, open, name, c, r).await,
        };
        out.push(res.map_err(|e| batch::failed_at(i, e))?);
    }
    Ok(out)
}

/// One sub-request inside its request hook.
async fn hooked(ctx: &Ctx, host: &PluginHost, open: &Arc<OpenBatch>, name: &str, c: Arc<Collection>, r: BatchRequest) -> ApiResult<BatchResponse> {
    let BatchRequest { action, req } = r;
    let (record, submitted, id) = match &action {
        BatchAction::Create { input, .. } => {
            let mut record = input.body.clone();
            record.insert("collectionId".into(), json!(c.id));
            record.insert("collectionName".into(), json!(c.name));
            (Value::Object(record), input.body.clone(), None)
        }
        BatchAction::Update { id, input, .. } => {
            // not found (or not allowed): the write answers it, as without hooks
            let Some(stored) = open.find(c.clone(), id.clone()).await? else { return open.run(BatchRequest { action, req }).await };
            let mut record = app_api::full_json(&stored);
            if let Value::Object(m) = &mut record {
                for (k, v) in &input.body {
                    if c.field(k).is_some() {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            (record, input.body.clone(), Some(id.clone()))
        }
        BatchAction::Delete { id, .. } => {
            let Some(stored) = open.find(c.clone(), id.clone()).await? else { return open.run(BatchRequest { action, req }).await };
            (app_api::full_json(&stored), Map::new(), Some(id.clone()))
        }
        _ => return open.run(BatchRequest { action, req }).await,
    };
    let initial = record_fields(&json!({ "record": record }));
    let mut request = request_event(ctx, records_path(&c, id.as_deref()), &submitted);
    request["method"] = json!(req.method);
    let event = json!({"record": record, "collection": c.to_api_json(), "request": request});
    let written: Arc<Mutex<Option<BatchResponse>>> = Arc::default();
    let default: DefaultAction = {
        let (open, written) = (open.clone(), written.clone());
        Box::new(move |mut ev: Value| {
            Box::pin(async move {
                let action = match action {
                    BatchAction::Create { collection, input } => {
                        BatchAction::Create { collection, input: WriteInput { body: record_fields(&ev), files: input.files } }
                    }
                    BatchAction::Update { collection, id, input } => {
                        let mut body = input.body;
                        for (k, v) in record_fields(&ev) {
                            if initial.get(&k) != Some(&v) {
                                body.insert(k, v);
                            }
                        }
                        BatchAction::Update { collection, id, input: WriteInput { body, files: input.files } }
                    }
                    other => other,
                };
                let res = open.run(BatchRequest { action, req }).await.map_err(core_err)?;
                if res.body.is_object() {
                    ev["record"] = res.body.clone();
                }
                if let Ok(mut w) = written.lock() {
                    *w = Some(res);
                }
                Ok(ev)
            })
        })
    };
    // (runs inside the batch's ambient transaction, see `run`)
    let outcome = host.run_hook(name, &[&c.id, &c.name], event, default).await.map_err(api_error)?;
    if let Some(res) = written.lock().ok().and_then(|mut w| w.take()) {
        return Ok(res);
    }
    Ok(match outcome.response {
        // a handler answered itself: its response, nothing written
        Some(res) => {
            let body = serde_json::from_slice(&res.body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&res.body).into_owned()));
            BatchResponse { status: res.status, body }
        }
        None => BatchResponse { status: 200, body: Value::Null },
    })
}
