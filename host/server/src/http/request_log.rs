//! Request logging into `_logs` (PocketBase's activity logger), batched off the request path.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use pocketbun_core::logs::LogEntry;
use serde_json::{json, Map};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::ServerState;

/// Filled by the auth extractor so the log row can name the auth collection.
#[derive(Clone, Default)]
pub struct AuthSlot(pub Arc<Mutex<Option<(String, String)>>>);

fn header(req: &Request, name: &str) -> String {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

pub async fn log_requests(State(state): State<ServerState>, mut req: Request, next: Next) -> Response {
    let derived = state.app.app.derived_settings();
    let cfg = &derived.logs;
    if cfg.max_days <= 0 {
        return next.run(req).await;
    }
    let started = Instant::now();
    let slot = AuthSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = req.method().as_str().to_string();
    let url = req.uri().to_string();
    let (referer, user_agent) = (header(&req, "referer"), header(&req, "user-agent"));
    let remote = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    if status < 400 && url.starts_with("/api/logs") {
        return res; // the logs API does not log its own successful reads
    }
    if status < 400 && method == "GET" && (url == "/api/realtime" || url.starts_with("/api/realtime?")) {
        return res; // nor does the realtime stream (PocketBase's SkipSuccessActivityLog)
    }
    let mut data = Map::new();
    data.insert("type".into(), json!("request"));
    data.insert("execTime".into(), json!(started.elapsed().as_secs_f64() * 1000.0));
    data.insert("url".into(), json!(url));
    data.insert("method".into(), json!(method));
    data.insert("status".into(), json!(status));
    data.insert("referer".into(), json!(referer));
    data.insert("userAgent".into(), json!(user_agent));
    let auth = slot.0.lock().ok().and_then(|g| g.clone());
    data.insert("auth".into(), json!(auth.as_ref().map(|a| a.0.clone()).unwrap_or_default()));
    if cfg.log_ip {
        data.insert("userIP".into(), json!(remote));
        data.insert("remoteIP".into(), json!(remote));
    }
    if cfg.log_auth_id {
        if let Some((_, id)) = &auth {
            data.insert("authId".into(), json!(id));
        }
    }
    let level = if status >= 400 { 8 } else { 0 };
    if level >= cfg.min_level {
        let message = format!("{method} {}", crate::plugins::percent_decode(&url));
        state.logs.log(LogEntry { level, message, data });
    }
    res
}
