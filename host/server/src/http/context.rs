//! Per-request context: the app, the authenticated record and the request data that
//! rules can reference (`@request.*`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use pocketbun_core::auth::{authenticate, token::TokenType};
use pocketbun_core::record::rules::RequestInfo;
use pocketbun_core::record::Record;
use pocketbun_core::{ApiError, App};
use serde_json::{Map, Value};
use std::sync::Arc;

use super::error::HttpError;
use super::query::Query;

/// The handlers' state (see [`super::SharedState`]).
pub type AppState = super::SharedState<AppStateInner>;

pub struct AppStateInner {
    pub app: Arc<App>,
    /// Routes and hooks of `pb_hooks` and `pb_plugins`; swapped by hot reload.
    pub plugins: crate::plugins::SharedPlugins,
    /// Where automigrate writes the JS migration of an API collection change (None when
    /// `--automigrate=false`).
    pub automigrate_dir: Option<Arc<std::path::PathBuf>>,
}

/// Everything a handler needs to know about the caller.
#[derive(Clone)]
pub struct Ctx {
    pub app: Arc<App>,
    pub plugins: Option<Arc<pocketbun_wasm::PluginHost>>,
    pub automigrate_dir: Option<Arc<std::path::PathBuf>>,
    pub auth: Option<Record>,
    pub query: Query,
    pub method: String,
    pub headers: HeaderMap,
    /// The socket peer address (trusted proxy headers are not applied yet).
    pub remote_ip: String,
}

impl Ctx {
    pub fn is_superuser(&self) -> bool {
        self.auth.as_ref().map(|a| a.collection.is_superusers()).unwrap_or(false)
    }

    /// 401 without auth, 403 for non-superusers (PocketBase's RequireSuperuserAuth).
    pub fn require_superuser(&self) -> Result<(), HttpError> {
        match &self.auth {
            None => Err(ApiError::unauthorized("The request requires valid record authorization token.").into()),
            Some(a) if !a.collection.is_superusers() => {
                Err(ApiError::forbidden("The authorized record is not allowed to perform this action.").into())
            }
            _ => Ok(()),
        }
    }

    /// The client IP per `settings.trustedProxy` (rest-api.md §1.1), else the socket peer.
    pub fn real_ip(&self) -> String {
        real_ip(&self.app.settings(), &self.headers, &self.remote_ip)
    }

    pub fn user_agent(&self) -> String {
        self.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }

    pub fn fields(&self) -> Option<&str> {
        self.query.get("fields")
    }

    /// The `@request.*` view of this request (body filled in by the caller when relevant).
    pub fn request_info(&self, body: Map<String, Value>) -> RequestInfo {
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| {
                (k.as_str().to_ascii_lowercase().replace('-', "_"), Value::String(v.to_str().unwrap_or_default().to_string()))
            })
            .collect();
        RequestInfo {
            auth: self.auth.clone(),
            method: self.method.clone(),
            context: "default".into(),
            query: self.query.to_json(),
            headers,
            body,
        }
    }
}

/// The request's auth as a `routerUse` middleware set it (`e.auth = record`), instead of
/// the one of its token.
#[derive(Clone)]
pub struct AuthOverride(pub Option<Record>);

impl FromRequestParts<AppState> for Ctx {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let app = state.app.clone();
        let auth = match (parts.extensions.get::<AuthOverride>(), parts.headers.get("authorization").and_then(|v| v.to_str().ok())) {
            (Some(set), _) => set.0.clone(),
            (None, Some(token)) if !token.is_empty() => authenticate(&app, token, TokenType::Auth).await,
            _ => None,
        };
        if let (Some(slot), Some(a)) = (parts.extensions.get::<super::request_log::AuthSlot>(), &auth) {
            if let Ok(mut g) = slot.0.lock() {
                *g = Some((a.collection.name.clone(), a.id().to_string()));
            }
        }
        let remote_ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|ci| ci.0.ip().to_string())
            .unwrap_or_default();
        if auth.as_ref().is_some_and(|a| a.collection.is_superusers())
            && !pocketbun_core::auth::superuser_ip_allowed(&app.settings(), &remote_ip)
        {
            return Err(ApiError::forbidden("").into());
        }
        Ok(Ctx {
            remote_ip,
            app,
            plugins: state.plugins.current(),
            automigrate_dir: state.automigrate_dir.clone(),
            auth,
            query: Query::parse(parts.uri.query()),
            method: parts.method.as_str().to_string(),
            headers: parts.headers.clone(),
        })
    }
}

/// Resolves the client IP from the trusted proxy headers (last header value, right-most or
/// left-most valid IP), falling back to the socket address.
pub fn real_ip(settings: &Value, headers: &HeaderMap, remote: &str) -> String {
    let tp = settings.get("trustedProxy");
    let names: Vec<&str> = tp.and_then(|t| t.get("headers")).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let leftmost = tp.and_then(|t| t.get("useLeftmostIP")).and_then(Value::as_bool).unwrap_or(false);
    for name in names {
        let Some(last) = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).last() else { continue };
        let ips: Vec<&str> = last.split(',').map(str::trim).filter(|ip| ip.parse::<std::net::IpAddr>().is_ok()).collect();
        let pick = if leftmost { ips.first() } else { ips.last() };
        if let Some(ip) = pick {
            return (*ip).to_string();
        }
    }
    remote.to_string()
}
