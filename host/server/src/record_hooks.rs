//! PocketBase's record request hooks around the records API (`onRecordsListRequest`,
//! `onRecordViewRequest`, `onRecordCreateRequest`, `onRecordUpdateRequest`,
//! `onRecordDeleteRequest`) and `onRecordEnrich` on the records it returns.
//!
//! Each request hook wraps the endpoint's action: handlers may change the event (the
//! record to write, the records to return) before `e.next()`, stop the chain by throwing
//! (the error is the response) or answer themselves without `e.next()`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pocketbun_core::app_api;
use pocketbun_core::model::Collection;
use pocketbun_core::record::rules::RequestInfo;
use pocketbun_core::record::service::{self, record_json, WriteInput};
use pocketbun_core::record::Record;
use pocketbun_wasm::{DefaultAction, PluginHost};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

use crate::http::context::Ctx;
use crate::http::error::{HttpError, HttpResult};
use crate::http::json::{json_picked, no_content};
use crate::plugin_hooks::api_error;
use crate::request_hooks::{self, core_err, identity, Ended};

pub const LIST: &str = "records-list-request";
pub const VIEW: &str = "record-view-request";
pub const CREATE: &str = "record-create-request";
pub const UPDATE: &str = "record-update-request";
pub const DELETE: &str = "record-delete-request";
pub const ENRICH: &str = "record-enrich";
pub const AUTH: &str = "record-auth-request";

/// The plugin host when it has handlers of hook `name` for collection `c`.
pub fn subscribed(ctx: &Ctx, name: &str, c: &Collection) -> Option<Arc<PluginHost>> {
    ctx.plugins.clone().filter(|h| h.has_hooks(name, &[&c.id, &c.name]))
}

pub(crate) async fn run(ctx: &Ctx, host: &PluginHost, name: &str, c: &Collection, path: String, body: &Map<String, Value>, mut event: Map<String, Value>, default: DefaultAction) -> Result<Ended, HttpError> {
    event.insert("collection".into(), c.to_api_json());
    request_hooks::run(ctx, host, name, &[&c.id, &c.name], path, body, event, default).await
}

pub fn records_path(c: &Collection, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("/api/collections/{}/records/{id}", c.name),
        None => format!("/api/collections/{}/records", c.name),
    }
}

/// A record JSON from a hook with its keys sorted like the API's.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut pairs: Vec<(String, Value)> = m.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(pairs.into_iter().collect())
        }
        other => other,
    }
}

fn request_info_json(req: &RequestInfo) -> Value {
    json!({
        "auth": req.auth.as_ref().map(app_api::full_json),
        "method": req.method, "context": req.context, "query": req.query, "headers": req.headers, "body": req.body,
    })
}

/// `onRecordEnrich` for records about to be returned (API JSON in, API JSON out).
pub async fn enrich(ctx: &Ctx, c: &Collection, req: &RequestInfo, items: Vec<Value>) -> Result<Vec<Value>, HttpError> {
    let Some(host) = subscribed(ctx, ENRICH, c) else { return Ok(items) };
    let info = request_info_json(req);
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let event = json!({"record": item, "requestInfo": info});
        let outcome = host.run_hook(ENRICH, &[&c.id, &c.name], event, identity()).await.map_err(|e| HttpError(api_error(e)))?;
        out.push(sorted(outcome.event.get("record").cloned().unwrap_or(Value::Null)));
    }
    Ok(out)
}

pub async fn enrich_one(ctx: &Ctx, c: &Collection, req: &RequestInfo, item: Value) -> Result<Value, HttpError> {
    Ok(enrich(ctx, c, req, vec![item]).await?.pop().unwrap_or(Value::Null))
}

/// `onRecordsListRequest`: `e.records` / `e.result` may be changed before the response.
pub async fn list(ctx: &Ctx, host: &PluginHost, c: &Collection, items: Vec<Value>, page: i64, per_page: i64, total_items: i64, total_pages: i64) -> HttpResult {
    let mut event = Map::new();
    event.insert("records".into(), Value::Array(items));
    event.insert("result".into(), json!({"page": page, "perPage": per_page, "totalItems": total_items, "totalPages": total_pages, "items": []}));
    match run(ctx, host, LIST, c, records_path(c, None), &Map::new(), event, identity()).await? {
        Ended::Answered(res) => Ok(res),
        Ended::Stopped => Ok(StatusCode::OK.into_response()),
        Ended::Next(ev) => {
            let result = ev.get("result").cloned().unwrap_or_default();
            let num = |k: &str| result.get(k).and_then(Value::as_i64).unwrap_or(0);
            let items = result.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
            let body = crate::apis::list_envelope(items.into_iter().map(sorted).collect(), num("page"), num("perPage"), num("totalItems"), num("totalPages"));
            json_picked(ctx.fields(), body, true)
        }
    }
}

/// `onRecordViewRequest`: `e.record` may be changed before the response.
pub async fn view(ctx: &Ctx, host: &PluginHost, c: &Collection, item: Value) -> HttpResult {
    let id = item.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut event = Map::new();
    event.insert("record".into(), item);
    match run(ctx, host, VIEW, c, records_path(c, Some(&id)), &Map::new(), event, identity()).await? {
        Ended::Answered(res) => Ok(res),
        Ended::Stopped => Ok(StatusCode::OK.into_response()),
        Ended::Next(ev) => json_picked(ctx.fields(), sorted(ev.get("record").cloned().unwrap_or_default()), false),
    }
}

/// The record fields of a hook's `e.record` (meta keys dropped).
pub fn record_fields(ev: &Value) -> Map<String, Value> {
    let mut body = ev.get("record").and_then(Value::as_object).cloned().unwrap_or_default();
    for k in ["collectionId", "collectionName", "expand"] {
        body.remove(k);
    }
    body
}

/// Renders the record a hooked write stored (with `onRecordEnrich`).
async fn written(ctx: &Ctx, c: &Collection, req: &RequestInfo, slot: &Mutex<Option<Record>>, ended: Ended) -> HttpResult {
    match ended {
        Ended::Answered(res) => Ok(res),
        Ended::Stopped => Ok(StatusCode::OK.into_response()),
        Ended::Next(_) => {
            let Some(rec) = slot.lock().ok().and_then(|mut s| s.take()) else { return Ok(StatusCode::OK.into_response()) };
            let item = enrich_one(ctx, c, req, record_json(req, &rec)).await?;
            json_picked(ctx.fields(), item, false)
        }
    }
}

/// `onRecordCreateRequest` around the create: `e.record` is the submitted record.
pub async fn create(ctx: &Ctx, host: &PluginHost, c: Arc<Collection>, req: RequestInfo, input: WriteInput) -> HttpResult {
    let WriteInput { body: input, files } = input;
    let mut record = input.clone();
    record.insert("collectionId".into(), json!(c.id));
    record.insert("collectionName".into(), json!(c.name));
    let mut event = Map::new();
    event.insert("record".into(), Value::Object(record));
    let created = Arc::new(Mutex::new(None));
    let default: DefaultAction = {
        let (app, c, req, created) = (ctx.app.clone(), c.clone(), req.clone(), created.clone());
        Box::new(move |mut ev: Value| {
            Box::pin(async move {
                let body = record_fields(&ev);
                let rec = service::create(&app, c, req, WriteInput { body, files }).await.map_err(core_err)?;
                ev["record"] = app_api::full_json(&rec);
                if let Ok(mut slot) = created.lock() {
                    *slot = Some(rec);
                }
                Ok(ev)
            })
        })
    };
    let ended = run(ctx, host, CREATE, &c, records_path(&c, None), &input, event, default).await?;
    written(ctx, &c, &req, &created, ended).await
}

/// `onRecordUpdateRequest` around the update: `e.record` is the stored record with the
/// submitted values; what handlers change is submitted too.
pub async fn update(ctx: &Ctx, host: &PluginHost, c: Arc<Collection>, req: RequestInfo, id: &str, input: WriteInput) -> HttpResult {
    let stored = app_api::find_by_id(&pocketbun_core::db::DbScope::Pool(ctx.app.data.clone()), c.clone(), id.to_string()).await?;
    let WriteInput { body: input, files } = input;
    let mut record = app_api::full_json(&stored);
    if let Value::Object(m) = &mut record {
        for (k, v) in &input {
            if c.field(k).is_some() {
                m.insert(k.clone(), v.clone());
            }
        }
    }
    let initial = record_fields(&json!({ "record": record }));
    let mut event = Map::new();
    event.insert("record".into(), record);
    let updated = Arc::new(Mutex::new(None));
    let default: DefaultAction = {
        let (app, c, req, updated, id, submitted) = (ctx.app.clone(), c.clone(), req.clone(), updated.clone(), id.to_string(), input.clone());
        Box::new(move |mut ev: Value| {
            Box::pin(async move {
                let mut body = submitted;
                for (k, v) in record_fields(&ev) {
                    if initial.get(&k) != Some(&v) {
                        body.insert(k, v);
                    }
                }
                let rec = service::update(&app, c, req, &id, WriteInput { body, files }).await.map_err(core_err)?;
                ev["record"] = app_api::full_json(&rec);
                if let Ok(mut slot) = updated.lock() {
                    *slot = Some(rec);
                }
                Ok(ev)
            })
        })
    };
    let ended = run(ctx, host, UPDATE, &c, records_path(&c, Some(id)), &input, event, default).await?;
    written(ctx, &c, &req, &updated, ended).await
}

/// `onRecordDeleteRequest` around the delete: `e.record` is the stored record.
pub async fn delete(ctx: &Ctx, host: &PluginHost, c: Arc<Collection>, req: RequestInfo, id: &str) -> HttpResult {
    let stored = app_api::find_by_id(&pocketbun_core::db::DbScope::Pool(ctx.app.data.clone()), c.clone(), id.to_string()).await?;
    let mut event = Map::new();
    event.insert("record".into(), app_api::full_json(&stored));
    let default: DefaultAction = {
        let (app, c, id) = (ctx.app.clone(), c.clone(), id.to_string());
        Box::new(move |ev: Value| {
            Box::pin(async move {
                service::delete(&app, c, req, &id).await.map_err(core_err)?;
                Ok(ev)
            })
        })
    };
    match run(ctx, host, DELETE, &c, records_path(&c, Some(id)), &Map::new(), event, default).await? {
        Ended::Answered(res) => Ok(res),
        Ended::Stopped => Ok(StatusCode::OK.into_response()),
        Ended::Next(_) => Ok(no_content()),
    }
}

/// What a successful sign-in answers: `{token, record, meta?}`.
pub struct AuthAnswer {
    pub record: Value,
    pub token: String,
    pub meta: Option<Value>,
}

/// `onRecordAuthRequest` (every sign-in and refresh): handlers may change `e.token`,
/// `e.record`, `e.meta` or answer themselves. `Err` carries a handler's own response.
pub async fn auth(ctx: &Ctx, host: &PluginHost, c: &Collection, method: &str, body: &Map<String, Value>, answer: AuthAnswer) -> Result<Result<AuthAnswer, Response>, HttpError> {
    let mut event = Map::new();
    event.insert("record".into(), answer.record);
    event.insert("token".into(), Value::String(answer.token));
    event.insert("meta".into(), answer.meta.unwrap_or(Value::Null));
    event.insert("authMethod".into(), Value::String(method.to_string()));
    let action = if method.is_empty() { "auth-refresh".to_string() } else { format!("auth-with-{method}") };
    let path = format!("/api/collections/{}/{action}", c.name);
    Ok(match run(ctx, host, AUTH, c, path, body, event, identity()).await? {
        Ended::Answered(res) => Err(res),
        Ended::Stopped => Err(StatusCode::OK.into_response()),
        Ended::Next(ev) => Ok(AuthAnswer {
            record: sorted(ev.get("record").cloned().unwrap_or_default()),
            token: ev.get("token").and_then(Value::as_str).unwrap_or_default().to_string(),
            meta: ev.get("meta").cloned().filter(|m| !m.is_null()),
        }),
    })
}
