//! An example PocketBun plugin in Rust.
//!
//! It implements the `pocketbun:plugin@0.1.0` world (`wit/plugin.wit`):
//! - routes: `GET /rust-plugin/hello/{name}`, `POST /rust-plugin/notes` (creates a record
//!   through the `records` import), `GET /rust-plugin/stats` (raw SQL through `db`, a
//!   counter in `kv`), `GET /rust-plugin/trap` (panics: the host turns the trap into a
//!   500 for that request and replaces the instance), `GET /rust-plugin/read-file` (tries
//!   to read a host file: the plugin has no filesystem grant, so this fails);
//! - a record hook: `onRecordCreateRequest` for `notes` upper-cases the tag and rejects
//!   empty titles, then continues the chain with `hooks::next`;
//! - a cron job `rust-hello-cleanup` (`@hourly`) that deletes notes tagged `TMP`.
//!
//! Build: `bash build.sh` (needs `rustup target add wasm32-wasip2`).

use serde_json::{json, Value};

wit_bindgen::generate!({ world: "plugin", path: "../../../wit" });

use exports::pocketbun::plugin::guest::Guest;
use pocketbun::plugin::types::{
    ApiError, CronJob, HookResult, HookSubscription, HttpRequest, HttpResponse, InitConfig, LogLevel, Manifest, Route, SqlValue,
};
use pocketbun::plugin::{db, hooks, kv, log, records};

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/rust-plugin/hello/{name}"),
    ("POST", "/rust-plugin/notes"),
    ("GET", "/rust-plugin/stats"),
    ("GET", "/rust-plugin/trap"),
    ("GET", "/rust-plugin/read-file"),
];

const HOOK_NOTES_CREATE: u32 = 0;
const CRON_CLEANUP: &str = "rust-hello-cleanup";

fn json_response(status: u16, body: Value) -> HttpResponse {
    HttpResponse { status, headers: vec![("content-type".into(), "application/json".into())], body: body.to_string().into_bytes() }
}

fn api_error(status: u16, message: &str, data: Value) -> ApiError {
    ApiError { status, message: message.into(), data_json: data.to_string() }
}

fn param<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn hello(req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let calls = kv::get("hello-calls").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
    kv::set("hello-calls", &calls.to_string());
    Ok(json_response(200, json!({ "message": format!("Hello {} from a Rust plugin", param(req, "name")), "calls": calls })))
}

/// Creates a `notes` record from the JSON body (the record hook below runs too, on
/// another instance of this plugin).
fn create_note(req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let body: Value = serde_json::from_slice(&req.body).map_err(|e| api_error(400, &format!("invalid JSON body: {e}"), json!({})))?;
    let record = json!({ "title": body["title"], "tag": body["tag"] });
    let stored = records::save("notes", &record.to_string())?;
    let stored: Value = serde_json::from_str(&stored).map_err(|e| api_error(500, &e.to_string(), json!({})))?;
    Ok(json_response(200, stored))
}

fn stats(_req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let rows = db::query("SELECT tag, COUNT(*) AS n FROM notes GROUP BY tag ORDER BY tag", &[])?;
    let rows: Value = serde_json::from_str(&rows).unwrap_or(Value::Null);
    let cron_runs = kv::get("cron-runs").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Ok(json_response(200, json!({ "byTag": rows, "cronRuns": cron_runs })))
}

fn read_file(_req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    // No preopened directories: WASI refuses every path, so nothing outside is readable.
    match std::fs::read_to_string("/etc/passwd") {
        Ok(s) => Ok(json_response(200, json!({ "leaked": s.len() }))),
        Err(e) => Err(api_error(500, &format!("reading /etc/passwd failed: {e}"), json!({}))),
    }
}

/// `onRecordCreateRequest` for notes: validate and enrich, then run the rest of the chain
/// (other plugins, then the INSERT).
fn before_note_create(event_json: &str) -> Result<HookResult, ApiError> {
    let mut event: Value = serde_json::from_str(event_json).map_err(|e| api_error(500, &e.to_string(), json!({})))?;
    let title = event["record"]["title"].as_str().unwrap_or("").trim().to_string();
    if title.is_empty() {
        return Err(api_error(
            400,
            "Failed to create record.",
            json!({ "title": { "code": "validation_required", "message": "Missing required value." } }),
        ));
    }
    let tag = event["record"]["tag"].as_str().unwrap_or("").to_uppercase();
    event["record"]["title"] = json!(title);
    event["record"]["tag"] = json!(tag);
    let after = hooks::next(&event.to_string())?;
    log::write(LogLevel::Info, &format!("rust-hello: note {title:?} created"));
    Ok(HookResult { event_json: after, response: None })
}

fn cleanup() -> Result<(), ApiError> {
    let removed = db::exec("DELETE FROM notes WHERE tag = {:tag}", &[("tag".into(), SqlValue::Text("TMP".into()))])?;
    let runs = kv::get("cron-runs").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
    kv::set("cron-runs", &runs.to_string());
    log::write(LogLevel::Info, &format!("rust-hello: cleanup removed {removed} notes"));
    Ok(())
}

struct Plugin;

impl Guest for Plugin {
    fn init(_config: InitConfig) -> Result<Manifest, String> {
        Ok(Manifest {
            routes: ROUTES.iter().enumerate().map(|(id, (m, p))| Route { id: id as u32, method: m.to_string(), path: p.to_string() }).collect(),
            hooks: vec![HookSubscription { id: HOOK_NOTES_CREATE, name: "record-create-request".into(), tags: vec!["notes".into()] }],
            crons: vec![CronJob { id: CRON_CLEANUP.into(), expression: "@hourly".into() }],
        })
    }

    fn handle_route(route_id: u32, request: HttpRequest) -> Result<HttpResponse, ApiError> {
        match route_id {
            0 => hello(&request),
            1 => create_note(&request),
            2 => stats(&request),
            3 => panic!("rust-hello: /rust-plugin/trap was called"),
            4 => read_file(&request),
            _ => Err(api_error(404, "The requested resource wasn't found.", json!({}))),
        }
    }

    fn handle_hook(hook_id: u32, event_json: String) -> Result<HookResult, ApiError> {
        match hook_id {
            HOOK_NOTES_CREATE => before_note_create(&event_json),
            _ => Err(api_error(500, &format!("unknown hook {hook_id}"), json!({}))),
        }
    }

    fn run_cron(id: String) -> Result<(), ApiError> {
        match id.as_str() {
            CRON_CLEANUP => cleanup(),
            _ => Err(api_error(404, &format!("unknown cron job {id}"), json!({}))),
        }
    }
}

export!(Plugin);
