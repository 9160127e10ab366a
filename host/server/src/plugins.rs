//! Glue between the Wasm plugin host and the app: the core API plugins may use
//! ([`PluginCore`]), loading at `serve`, and routing unmatched requests to plugin routes.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use pocketbun_core::app_api::{self, FilterQuery, Param};
use pocketbun_core::{ApiError, App};
use pocketbun_wasm::{
    BoxFuture, CoreError, CoreResult, HostOptions, HttpRequest, PluginCore, PluginHost, RecordFilter, RouteError,
    SqlParam,
};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::GlobalFlags;
use crate::http::body::DEFAULT_BODY_LIMIT;
use crate::http::context::{AppState, Ctx};
use crate::http::error::HttpError;

/// The core as plugins see it: the app's own rights, JSON records.
pub struct CoreBridge(pub Arc<App>);

fn core_err(e: ApiError) -> CoreError {
    CoreError { status: e.status, message: e.message, data: e.data }
}

fn param(p: SqlParam) -> Param {
    match p {
        SqlParam::Null => Param::Null,
        SqlParam::Integer(i) => Param::Integer(i),
        SqlParam::Real(f) => Param::Real(f),
        SqlParam::Text(s) => Param::Text(s),
        SqlParam::Blob(b) => Param::Blob(b),
    }
}

fn params(ps: Vec<(String, SqlParam)>) -> Vec<(String, Param)> {
    ps.into_iter().map(|(k, v)| (k, param(v))).collect()
}

impl PluginCore for CoreBridge {
    fn find_record_by_id(&self, collection: String, id: String) -> BoxFuture<CoreResult<Value>> {
        let app = self.0.clone();
        Box::pin(async move {
            let c = app_api::collection(&app, &collection).map_err(core_err)?;
            let rec = app_api::find_by_id(&app, c, id).await.map_err(core_err)?;
            Ok(app_api::full_json(&rec))
        })
    }

    fn find_records_by_filter(&self, q: RecordFilter) -> BoxFuture<CoreResult<Vec<Value>>> {
        let app = self.0.clone();
        Box::pin(async move {
            let c = app_api::collection(&app, &q.collection).map_err(core_err)?;
            let fq = FilterQuery { filter: q.filter, sort: q.sort, limit: q.limit, offset: q.offset, params: q.params };
            let list = app_api::find_by_filter(&app, c, fq).await.map_err(core_err)?;
            Ok(list.iter().map(app_api::full_json).collect())
        })
    }

    fn save_record(&self, collection: String, data: Map<String, Value>) -> BoxFuture<CoreResult<Value>> {
        let app = self.0.clone();
        Box::pin(async move {
            let c = app_api::collection(&app, &collection).map_err(core_err)?;
            let rec = app_api::save(&app, c, data).await.map_err(core_err)?;
            Ok(app_api::full_json(&rec))
        })
    }

    fn delete_record(&self, collection: String, id: String) -> BoxFuture<CoreResult<()>> {
        let app = self.0.clone();
        Box::pin(async move {
            let c = app_api::collection(&app, &collection).map_err(core_err)?;
            app_api::delete(&app, c, id).await.map_err(core_err)
        })
    }

    fn find_collection(&self, name_or_id: String) -> BoxFuture<CoreResult<Value>> {
        let app = self.0.clone();
        Box::pin(async move { Ok(app_api::collection(&app, &name_or_id).map_err(core_err)?.to_api_json()) })
    }

    fn db_query(&self, sql: String, ps: Vec<(String, SqlParam)>) -> BoxFuture<CoreResult<Vec<Map<String, Value>>>> {
        let app = self.0.clone();
        Box::pin(async move { app_api::query(&app, sql, params(ps)).await.map_err(core_err) })
    }

    fn db_exec(&self, sql: String, ps: Vec<(String, SqlParam)>) -> BoxFuture<CoreResult<u64>> {
        let app = self.0.clone();
        Box::pin(async move { app_api::exec(&app, sql, params(ps)).await.map_err(core_err) })
    }

    fn settings(&self) -> Value {
        pocketbun_core::settings::masked(&self.0.settings())
    }
}

/// Loads `pb_hooks` (default `<dir>/../pb_hooks`) and `pb_plugins` (default
/// `./pb_plugins`); `None` when there is nothing to load.
pub async fn load(g: &GlobalFlags, app: &Arc<App>) -> Result<Option<Arc<PluginHost>>, String> {
    let hooks_dir = g.hooks_dir.clone().unwrap_or_else(|| g.dir.join("..").join("pb_hooks"));
    let plugins_dir = g.plugins_dir.clone().unwrap_or_else(|| PathBuf::from("pb_plugins"));
    let mut opts = HostOptions {
        hooks_dir: Some(hooks_dir),
        plugins_dir: Some(plugins_dir),
        cache_dir: Some(g.dir.join(".pocketbun").join("wasm-cache")),
        ..Default::default()
    };
    opts.limits.pool_size = g.hooks_pool.max(1) as usize;
    // per-call wall-clock budget (PocketBase has none; a runaway hook must not hold a worker)
    if let Some(ms) = std::env::var("POCKETBUN_PLUGIN_TIMEOUT_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
        opts.limits.call_timeout = std::time::Duration::from_millis(ms.max(10));
    }
    let host = PluginHost::load(opts, Arc::new(CoreBridge(app.clone()))).await?.map(Arc::new);
    if let Some(h) = &host {
        crate::plugin_hooks::install(app, h);
    }
    Ok(host)
}

fn percent_decode(path: &str) -> String {
    if !path.contains('%') {
        return path.to_string();
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn to_response(res: pocketbun_wasm::HttpResponse) -> Response {
    let status = StatusCode::from_u16(res.status).unwrap_or(StatusCode::OK);
    let mut out = Response::new(Body::from(res.body));
    *out.status_mut() = status;
    let headers = out.headers_mut();
    for (k, v) in res.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(&v)) {
            headers.append(k, v);
        }
    }
    out
}

/// Serves `req` with a plugin route when one matches; gives the request back otherwise.
pub async fn dispatch(host: &PluginHost, app: &AppState, req: Request<Body>) -> Result<Response, Request<Body>> {
    let path = percent_decode(req.uri().path());
    let Some(m) = host.match_route(req.method().as_str(), &path) else { return Err(req) };
    let (mut parts, body) = req.into_parts();
    let ctx = match Ctx::from_request_parts(&mut parts, app).await {
        Ok(c) => c,
        Err(e) => return Ok(e.into_response()),
    };
    let body = match axum::body::to_bytes(body, DEFAULT_BODY_LIMIT).await {
        Ok(b) => b.to_vec(),
        Err(_) => return Ok(HttpError(ApiError::new(413, "")).into_response()),
    };
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path,
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        params: m.params.clone(),
        body,
        remote_ip: ctx.remote_ip.clone(),
        auth_json: ctx.auth.as_ref().map(|a| app_api::full_json(a).to_string()),
    };
    Ok(match PluginHost::handle_route(&m, &request).await {
        Ok(res) => to_response(res),
        Err(e) => route_error(e).into_response(),
    })
}

/// Plugin failures as responses: API errors as the plugin gave them, anything else as the
/// generic 500 envelope (the cause is logged by the plugin host).
fn route_error(e: RouteError) -> HttpError {
    match e {
        RouteError::Api(e) => HttpError(ApiError { status: e.status, message: e.message, data: e.data }),
        RouteError::Failed(_) => HttpError(ApiError::internal("")),
    }
}

/// The request part of a request-hook event, in the shape `guest.handle-route` gets.
pub fn request_event(ctx: &Ctx, path: String, body: &Map<String, Value>) -> Value {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(ctx.query.0.iter()).finish();
    let headers: Vec<(String, String)> = ctx
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut headers = headers;
    // the body is passed already parsed, as JSON
    headers.retain(|(k, _)| k != "content-type");
    headers.push(("content-type".into(), "application/json".into()));
    json!({
        "method": ctx.method, "path": path, "query": query, "headers": headers, "params": [],
        "body": Value::Object(body.clone()).to_string(), "remoteIp": ctx.remote_ip,
        "authJson": ctx.auth.as_ref().map(|a| app_api::full_json(a).to_string()),
    })
}
