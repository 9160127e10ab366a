//! `routerUse`: the plugins' global middlewares around every request (built-in APIs,
//! plugin routes, static files), inside the server's own layers (CORS, security headers,
//! request log, rate limit) as PocketBase runs them after its built-in middlewares.
//!
//! The plugins' "router-use" hook chain wraps the rest of the router: its default action
//! (the last `e.next()`) serves the request, keeps the response and tells the middlewares
//! its status and headers. A middleware that answers without `e.next()` is the response;
//! an error before the request was served is the error envelope. Without subscribers the
//! request goes straight on.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::{BoxFuture, Either};
use pocketbun_core::{app_api, ApiError};
use pocketbun_core::db::DbScope;
use pocketbun_core::record::Record;
use pocketbun_core::App;
use pocketbun_wasm::{CoreError, DefaultAction, PluginHost};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tower::{Layer, Service, ServiceExt};

use super::context::{AppState, AuthOverride, Ctx};
use super::error::HttpError;
use crate::plugin_hooks::api_error;
use crate::plugins::{percent_decode, to_response};

pub const HOOK: &str = "router-use";

/// Bodies the middlewares get to read (`e.requestInfo().body`): JSON and forms up to this
/// size with a known length; others (uploads, streams) pass through unread.
const READABLE_BODY: u64 = 1 << 20;

fn header_list(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
}

fn pairs(v: &Value) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
    v.as_array().into_iter().flatten().filter_map(|p| {
        let k = HeaderName::try_from(p.get(0)?.as_str()?).ok()?;
        let v = HeaderValue::from_str(p.get(1)?.as_str()?).ok()?;
        Some((k, v))
    })
}

fn readable(parts: &Parts) -> bool {
    let ct = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let len = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    (ct.starts_with("application/json") || ct.starts_with("application/x-www-form-urlencoded")) && len.is_some_and(|l| l <= READABLE_BODY)
}

/// The layer: the router wrapped in the plugins' middlewares.
#[derive(Clone)]
pub struct RouterUseLayer(pub AppState);

impl<S> Layer<S> for RouterUseLayer {
    type Service = RouterUse<S>;
    fn layer(&self, inner: S) -> RouterUse<S> {
        RouterUse { inner, state: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct RouterUse<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for RouterUse<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // the fast path: a read lock and a set lookup, no allocation
        let Some(host) = self.state.plugins.subscribed(HOOK) else { return Either::Left(self.inner.call(req)) };
        // the ready service serves this request (from the hook chain's end); a clone stays
        let inner = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, inner);
        let state = self.state.clone();
        Either::Right(Box::pin(async move { Ok(run(state, host, req, inner).await) }))
    }
}

async fn run<S>(state: AppState, host: Arc<PluginHost>, req: Request, inner: S) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let (mut parts, body) = req.into_parts();
    let ctx = match Ctx::from_request_parts(&mut parts, &state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let (text, body) = if readable(&parts) {
        match axum::body::to_bytes(body, READABLE_BODY as usize).await {
            Ok(b) => (String::from_utf8_lossy(&b).into_owned(), Body::from(b)),
            Err(_) => return HttpError(ApiError::bad_request("")).into_response(),
        }
    } else {
        (String::new(), body)
    };
    let event = json!({"request": {
        "method": parts.method.as_str(), "path": percent_decode(parts.uri.path()), "query": parts.uri.query().unwrap_or_default(),
        "headers": header_list(&parts.headers), "params": [], "body": text, "remoteIp": ctx.remote_ip,
        "authJson": ctx.auth.as_ref().map(|a| app_api::full_json(a).to_string()),
    }});
    let served: Arc<Mutex<Option<Response>>> = Arc::default();
    let default: DefaultAction = {
        let (served, app) = (served.clone(), state.app.clone());
        Box::new(move |ev: Value| {
            Box::pin(async move {
                let mut parts = parts;
                if ev["authChanged"] == Value::Bool(true) {
                    let auth = match ev["auth"].as_array().map(|a| (a.first().and_then(Value::as_str), a.get(1).and_then(Value::as_str))) {
                        Some((Some(c), Some(id))) => Some(find_auth(&app, c, id).await.map_err(core_err)?),
                        _ => None,
                    };
                    parts.extensions.insert(AuthOverride(auth));
                }
                if ev["requestHeadersChanged"] == Value::Bool(true) {
                    let mut headers = HeaderMap::new();
                    for (k, v) in pairs(&ev["request"]["headers"]) {
                        headers.append(k, v);
                    }
                    parts.headers = headers;
                }
                let Ok(mut res) = inner.oneshot(Request::from_parts(parts, body)).await;
                // headers the middlewares set before `e.next()`; the handler's own win
                let own: Vec<HeaderName> = res.headers().keys().cloned().collect();
                for (k, v) in pairs(&ev["responseHeaders"]) {
                    if !own.contains(&k) {
                        res.headers_mut().append(k, v);
                    }
                }
                let info = json!({"status": res.status().as_u16(), "headers": header_list(res.headers())});
                if let Ok(mut s) = served.lock() {
                    *s = Some(res);
                }
                Ok(json!({ "response": info }))
            })
        })
    };
    let outcome = host.run_hook(HOOK, &[], event, default).await;
    if let Some(res) = served.lock().ok().and_then(|mut s| s.take()) {
        if let Err(e) = &outcome {
            tracing::warn!("routerUse middleware failed after the response was written: {}", api_error_message(e));
        }
        return res;
    }
    match outcome {
        Ok(o) => o.response.map(to_response).unwrap_or_else(|| StatusCode::OK.into_response()),
        Err(e) => HttpError(api_error(e)).into_response(),
    }
}

fn api_error_message(e: &pocketbun_wasm::RouteError) -> String {
    match e {
        pocketbun_wasm::RouteError::Api(e) => e.message.clone(),
        pocketbun_wasm::RouteError::Failed(f) => f.to_string(),
    }
}

/// The record a middleware set as `e.auth`.
async fn find_auth(app: &Arc<App>, collection: &str, id: &str) -> Result<Record, ApiError> {
    let c = app_api::collection(app, collection)?;
    app_api::find_by_id(&DbScope::Pool(app.data.clone()), c, id.to_string()).await
}

fn core_err(e: ApiError) -> CoreError {
    CoreError { status: e.status, message: e.message, data: e.data }
}
