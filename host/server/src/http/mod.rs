//! The HTTP server: routes, middleware (security headers, CORS, body limits) and start-up.

pub mod body;
pub mod context;
pub mod error;
pub mod form;
pub mod json;
pub mod query;
pub mod rate_limit;
pub mod request_log;
pub mod router_use;

use axum::extract::{FromRef, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;

use crate::apis;
use context::AppState;

/// Router or handler state behind one `Arc`: axum clones the state for every request and
/// every middleware layer, and cloning and dropping the fields one by one showed up in
/// profiles (~2% of a JS route's CPU).
pub struct SharedState<T>(Arc<T>);

impl<T> SharedState<T> {
    pub fn new(inner: T) -> Self {
        Self(Arc::new(inner))
    }
}

impl<T> Clone for SharedState<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> std::ops::Deref for SharedState<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Router state: the app plus server options.
pub type ServerState = SharedState<ServerOptions>;

pub struct ServerOptions {
    pub app: AppState,
    pub public_dir: Option<Arc<PathBuf>>,
    pub index_fallback: bool,
    pub origins: Arc<Vec<String>>,
    pub logs: pocketbun_core::logs::LogWriter,
}

impl FromRef<ServerState> for AppState {
    fn from_ref(s: &ServerState) -> AppState {
        s.app.clone()
    }
}

pub fn router(state: ServerState) -> Router {
    let api = Router::new()
        .route("/api/health", get(apis::health::health))
        .route("/api/batch", post(apis::batch::run))
        .route("/api/backups", get(apis::backups::list).post(apis::backups::create))
        .route("/api/backups/upload", post(apis::backups::upload))
        .route("/api/backups/{key}", get(apis::backups::download).delete(apis::backups::delete))
        .route("/api/backups/{key}/restore", post(apis::backups::restore))
        .route("/api/settings", get(apis::settings::get).patch(apis::settings::patch))
        .route("/api/settings/test/email", post(apis::settings::test_email))
        .route("/api/settings/test/s3", post(apis::settings::test_s3))
        .route("/api/settings/apple/generate-client-secret", post(apis::settings::apple_client_secret))
        .route("/api/sql", post(apis::sql::run))
        .route("/api/logs", get(apis::logs::list).delete(apis::logs::delete_all))
        .route("/api/logs/stats", get(apis::logs::stats))
        .route("/api/logs/{id}", get(apis::logs::view))
        .route("/api/crons", get(apis::crons::list))
        .route("/api/crons/{id}", post(apis::crons::run))
        .route("/api/collections", get(apis::collections::list).post(apis::collections::create))
        .route("/api/collections/import", axum::routing::put(apis::collections::import))
        .route("/api/collections/meta/scaffolds", get(apis::collections::scaffolds))
        .route("/api/collections/meta/oauth2-providers", get(apis::collections::oauth2_providers))
        .route("/api/collections/meta/dry-run-view", post(apis::collections::dry_run_view))
        .route(
            "/api/collections/{collection}",
            get(apis::collections::view).patch(apis::collections::update).delete(apis::collections::delete),
        )
        .route("/api/collections/{collection}/truncate", delete(apis::collections::truncate))
        .route("/api/collections/{collection}/records", get(apis::records::list).post(apis::records::create))
        .route(
            "/api/collections/{collection}/records/{id}",
            get(apis::records::view).patch(apis::records::update).delete(apis::records::delete),
        )
        .route("/api/realtime", get(apis::realtime::connect).post(apis::realtime::subscribe))
        .route("/api/files/token", post(apis::files::token))
        .route("/api/files/{collection}/{recordId}/{filename}", get(apis::files::download))
        .route("/api/collections/{collection}/auth-methods", get(apis::record_auth::auth_methods))
        .route("/api/collections/{collection}/auth-with-password", post(apis::record_auth_password::auth_with_password))
        .route("/api/collections/{collection}/auth-with-oauth2", post(apis::record_auth_oauth2::auth_with_oauth2))
        .route("/api/oauth2-redirect", get(apis::record_auth_oauth2::oauth2_redirect).post(apis::record_auth_oauth2::oauth2_redirect))
        .route("/api/collections/{collection}/request-otp", post(apis::record_auth_otp::request_otp))
        .route("/api/collections/{collection}/auth-with-otp", post(apis::record_auth_otp::auth_with_otp))
        .route("/api/collections/{collection}/request-verification", post(apis::record_auth_email_flows::request_verification))
        .route("/api/collections/{collection}/confirm-verification", post(apis::record_auth_email_flows::confirm_verification))
        .route("/api/collections/{collection}/request-password-reset", post(apis::record_auth_email_flows::request_password_reset))
        .route("/api/collections/{collection}/confirm-password-reset", post(apis::record_auth_email_flows::confirm_password_reset))
        .route("/api/collections/{collection}/request-email-change", post(apis::record_auth_email_flows::request_email_change))
        .route("/api/collections/{collection}/confirm-email-change", post(apis::record_auth_email_flows::confirm_email_change))
        .route("/api/collections/{collection}/auth-refresh", post(apis::record_auth::auth_refresh))
        .route("/api/collections/{collection}/impersonate/{id}", post(apis::record_auth::impersonate))
        .with_state(state.app.clone());

    Router::new()
        .merge(api)
        .method_not_allowed_fallback(plugin_route_or_not_found)
        .fallback(plugin_route_or_static)
        // the plugins' routerUse middlewares, inside the built-in ones as in PocketBase
        .layer(router_use::RouterUseLayer(state.app.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit::rate_limit))
        .layer(middleware::from_fn_with_state(state.clone(), request_log::log_requests))
        .layer(middleware::from_fn_with_state(state.clone(), cors_and_security_headers))
        .layer(
            tower_http::compression::CompressionLayer::new()
                .gzip(true)
                .compress_when(tower_http::compression::Predicate::and(tower_http::compression::DefaultPredicate::new(), NotAFile)),
        )
        .with_state(state)
}

/// Plugin routes are tried only for requests no built-in route took, so a built-in API
/// always wins over a broader plugin pattern (as in Go's mux, where the more specific
/// pattern wins).
async fn plugin_route_or_static(State(state): State<ServerState>, req: Request) -> Response {
    let req = match state.app.plugins.current() {
        Some(host) => match crate::plugins::dispatch(&host, &state.app, req).await {
            Ok(res) => return res,
            Err(req) => req,
        },
        None => req,
    };
    apis::static_files::fallback(State(state), req).await.into_response()
}

async fn plugin_route_or_not_found(State(state): State<ServerState>, req: Request) -> Response {
    if let Some(host) = state.app.plugins.current() {
        if let Ok(res) = crate::plugins::dispatch(&host, &state.app, req).await {
            return res;
        }
    }
    not_found_json().await
}

async fn not_found_json() -> Response {
    error::HttpError(pocketbun_core::ApiError::not_found("")).into_response()
}

fn origin_allowed(origins: &[String], origin: &str) -> Option<String> {
    if origins.iter().any(|o| o == "*") {
        return Some("*".to_string());
    }
    origins.iter().any(|pat| wildcard_match(pat, origin)).then(|| origin.to_string())
}

fn wildcard_match(pattern: &str, s: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// CORS (PocketBase's defaults: any origin, preflight 204) and the security headers every
/// response carries.
async fn cors_and_security_headers(State(state): State<ServerState>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string);
    let allow = origin.as_deref().and_then(|o| origin_allowed(&state.origins, o));
    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        if let Some(a) = &allow {
            if let Ok(v) = HeaderValue::from_str(a) {
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            }
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"));
            if let Some(req_headers) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
                h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, req_headers.clone());
            }
        }
        for v in ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"] {
            h.append(header::VARY, HeaderValue::from_static(v));
        }
        return res;
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Some(a) = allow {
        if let Ok(v) = HeaderValue::from_str(&a) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    let defaults = [
        ("x-xss-protection", "1; mode=block"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "SAMEORIGIN"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    let skip_frame_options = res.extensions().get::<apis::files::NoFrameOptions>().is_some();
    let h = res.headers_mut();
    for (k, v) in defaults {
        if skip_frame_options && k == "x-frame-options" {
            continue;
        }
        h.entry(HeaderName::from_static(k)).or_insert(HeaderValue::from_static(v));
    }
    res
}

/// Record files are served as stored (PocketBase does not compress them; ranges and
/// Content-Length must describe the stored bytes).
#[derive(Clone, Copy)]
struct NotAFile;

impl tower_http::compression::Predicate for NotAFile {
    fn should_compress<B: axum::body::HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        response.extensions().get::<crate::apis::files::NoFrameOptions>().is_none()
    }
}
