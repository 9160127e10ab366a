//! `POST /api/batch`: parses and validates the batch form (JSON, or multipart with
//! `@jsonPayload` and files under `requests.N.field`), then hands the sub-requests to
//! `pocketbun_core::record::batch`.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use pocketbun_core::record::batch::BatchResponse;
use pocketbun_core::record::rules::RequestInfo;
use pocketbun_wasm::{CoreError, DefaultAction, PluginHost};
use std::sync::{Arc, Mutex};
use pocketbun_core::error::{FieldError, ValidationErrors};
use pocketbun_core::files::{InputFile, PendingUpload};
use pocketbun_core::record::batch::{BatchAction, BatchRequest};
use pocketbun_core::record::service::WriteInput;
use pocketbun_core::ApiError;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

use crate::http::body::parse_record_body;
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::json_ok;
use crate::http::query::Query;
use crate::plugin_hooks::api_error;
use crate::plugins::{request_event, to_response};

/// PocketBase's `onBatchRequest`.
const HOOK: &str = "batch-request";

type Files = Vec<(String, Vec<InputFile>)>;

/// One item of `requests` as submitted.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct SubmittedRequest {
    body: Option<Map<String, Value>>,
    headers: Option<BTreeMap<String, String>>,
    method: String,
    url: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct BatchForm {
    requests: Option<Vec<Option<SubmittedRequest>>>,
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Limits from `settings.batch`, with PocketBase's fallbacks.
struct Limits {
    max_requests: usize,
    timeout: Duration,
    max_body_size: usize,
}

fn limits(settings: &Value) -> Result<Limits, ApiError> {
    let b = &settings["batch"];
    let max_requests = b["maxRequests"].as_i64().unwrap_or(0);
    if b["enabled"].as_bool() != Some(true) || max_requests <= 0 {
        return Err(ApiError::forbidden("Batch requests are not allowed."));
    }
    let timeout = b["timeout"].as_i64().filter(|t| *t > 0).unwrap_or(3);
    let max_body_size = b["maxBodySize"].as_i64().filter(|s| *s > 0).unwrap_or(128 << 20);
    Ok(Limits {
        max_requests: max_requests as usize,
        timeout: Duration::from_secs(timeout as u64),
        max_body_size: usize::try_from(max_body_size).unwrap_or(usize::MAX),
    })
}

fn validate(requests: &[SubmittedRequest], max: usize) -> Result<(), ApiError> {
    let mut errs = ValidationErrors::new();
    if requests.is_empty() {
        errs.add("requests", FieldError::required());
    } else if requests.len() > max {
        let e = FieldError::new("validation_length_too_long", format!("The length must be no more than {max}."));
        errs.add("requests", e.param("max", max).param("min", 0));
    } else {
        let mut items = ValidationErrors::new();
        for (i, r) in requests.iter().enumerate() {
            let mut item = ValidationErrors::new();
            if r.method.is_empty() {
                item.add("method", FieldError::required());
            } else if !METHODS.contains(&r.method.as_str()) {
                item.add("method", FieldError::new("validation_in_invalid", "Must be a valid value."));
            }
            if r.url.is_empty() {
                item.add("url", FieldError::required());
            } else if r.url.chars().count() > 2000 {
                let e = FieldError::new("validation_length_too_long", "The length must be no more than 2000.");
                item.add("url", e.param("max", 2000).param("min", 0));
            }
            items.nest(i.to_string(), item);
        }
        errs.nest("requests", items);
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation("Invalid batch request data.", errs))
    }
}

/// Matches `METHOD URL` against the record routes a batch may use (PocketBase's
/// `ValidBatchActions`); returns the action and the URL's query string.
fn parse_action(method: &str, url: &str, input: WriteInput) -> (BatchAction, Option<String>) {
    let Some(rest) = url.strip_prefix("/api/collections/") else { return (BatchAction::Unknown, None) };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (rest, None),
    };
    let segments: Vec<&str> = path.split('/').collect();
    let action = match (method, segments.as_slice()) {
        ("POST", [c, "records"]) if !c.is_empty() => BatchAction::Create { collection: c.to_string(), input },
        ("PUT", [c, "records"]) if !c.is_empty() => BatchAction::Upsert { collection: c.to_string(), input },
        ("PATCH", [c, "records", id]) if !c.is_empty() && !id.is_empty() => {
            BatchAction::Update { collection: c.to_string(), id: id.to_string(), input }
        }
        ("DELETE", [c, "records", id]) if !c.is_empty() && !id.is_empty() => BatchAction::Delete { collection: c.to_string(), id: id.to_string() },
        _ => BatchAction::Unknown,
    };
    (action, query)
}

/// Files of sub-request `i` (`requests.i.field` or `requests[i].field`) by field key.
/// PocketBase names each file once when it splits the batch and again when the sub-request
/// stores it, so the stored name is the normalized form of an already normalized name.
fn take_files(files: &mut Vec<(String, Vec<InputFile>)>, i: usize) -> Vec<(String, Vec<InputFile>)> {
    let prefixes = [format!("requests.{i}."), format!("requests[{i}].")];
    let mut mine: Vec<(String, Vec<InputFile>)> = vec![];
    files.retain_mut(|(key, list)| {
        let Some(field) = prefixes.iter().find_map(|p| key.strip_prefix(p.as_str())) else { return true };
        let field = field.to_string();
        for f in list.iter_mut() {
            f.original_name = PendingUpload::new("", f).name;
        }
        match mine.iter_mut().find(|(k, _)| *k == field) {
            Some((_, existing)) => existing.append(list),
            None => mine.push((field, std::mem::take(list))),
        }
        false
    });
    mine
}

pub async fn run(ctx: Ctx, body: Body) -> HttpResult {
    let limits = limits(&ctx.app.settings())?;
    let parsed = parse_record_body(&ctx.headers, body, limits.max_body_size).await.map_err(|e| {
        if e.status == 413 {
            e
        } else {
            read_failed()
        }
    })?;
    let form: BatchForm = serde_json::from_value(Value::Object(parsed.data)).map_err(|_| read_failed())?;
    let submitted: Vec<SubmittedRequest> = form.requests.unwrap_or_default().into_iter().map(Option::unwrap_or_default).collect();
    validate(&submitted, limits.max_requests)?;
    let base = ctx.request_info(Map::new());
    match ctx.plugins.clone().filter(|h| h.has_hooks(HOOK, &[])) {
        None => Ok(respond(execute(&ctx, &base, submitted, parsed.files, limits.timeout).await?)),
        Some(host) => hooked(&ctx, &host, base, submitted, parsed.files, limits.timeout).await,
    }
}

fn read_failed() -> ApiError {
    ApiError::bad_request("Failed to read the submitted batch data.")
}

/// Runs the sub-requests in one transaction; `base` is the batch request as rules see it.
async fn execute(ctx: &Ctx, base: &RequestInfo, submitted: Vec<SubmittedRequest>, mut files: Files, timeout: Duration) -> Result<Vec<BatchResponse>, ApiError> {
    let mut requests = Vec::with_capacity(submitted.len());
    for (i, s) in submitted.into_iter().enumerate() {
        let input = WriteInput { body: s.body.unwrap_or_default(), files: take_files(&mut files, i) };
        let (action, query) = parse_action(&s.method, &s.url, input);
        let mut req = base.clone();
        req.context = "batch".into();
        req.method = s.method;
        req.query = Query::parse(query.as_deref()).to_json();
        for (k, v) in s.headers.unwrap_or_default() {
            req.headers.insert(k.to_ascii_lowercase().replace('-', "_"), Value::String(v));
        }
        requests.push(BatchRequest { action, req });
    }
    crate::batch_hooks::run(ctx, requests, timeout).await
}

fn respond(responses: Vec<BatchResponse>) -> axum::response::Response {
    let out: Vec<Value> = responses.into_iter().map(|r| json!({"body": r.body, "status": r.status})).collect();
    json_ok(Value::Array(out))
}

/// `onBatchRequest` around the batch: `e.batch` are the sub-requests (`{method, url,
/// headers, body}`), which handlers may change before `e.next()`, or answer themselves.
async fn hooked(ctx: &Ctx, host: &PluginHost, base: RequestInfo, submitted: Vec<SubmittedRequest>, files: Files, timeout: Duration) -> HttpResult {
    let batch: Vec<Value> = submitted
        .into_iter()
        .map(|s| json!({"method": s.method, "url": s.url, "headers": s.headers.unwrap_or_default(), "body": s.body.unwrap_or_default()}))
        .collect();
    let mut body = Map::new();
    body.insert("requests".into(), Value::Array(batch.clone()));
    let event = json!({"batch": batch, "request": request_event(ctx, "/api/batch".into(), &body)});
    let results: Arc<Mutex<Option<Vec<BatchResponse>>>> = Arc::default();
    let default: DefaultAction = {
        let (ctx, results) = (ctx.clone(), results.clone());
        Box::new(move |ev: Value| {
            Box::pin(async move {
                let submitted: Vec<SubmittedRequest> =
                    serde_json::from_value(ev.get("batch").cloned().unwrap_or_default()).map_err(|_| core_err(read_failed()))?;
                let responses = execute(&ctx, &base, submitted, files, timeout).await.map_err(core_err)?;
                if let Ok(mut r) = results.lock() {
                    *r = Some(responses);
                }
                Ok(ev)
            })
        })
    };
    let outcome = host.run_hook(HOOK, &[], event, default).await.map_err(api_error)?;
    if let Some(res) = outcome.response {
        return Ok(to_response(res));
    }
    Ok(match results.lock().ok().and_then(|mut r| r.take()) {
        Some(responses) => respond(responses),
        None => StatusCode::OK.into_response(),
    })
}

fn core_err(e: ApiError) -> CoreError {
    CoreError { status: e.status, message: e.message, data: e.data }
}
