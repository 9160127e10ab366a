//! The rate limiter middleware (rest-api.md §1.5): collection-scoped labels for the record and
//! auth routes, generic `METHOD /path` labels for everything else.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pocketbun_core::auth::{authenticate, token::TokenType};
use pocketbun_core::ratelimit::{audiences, ip_in_list};
use pocketbun_core::ApiError;

use super::context::real_ip;
use super::error::HttpError;
use super::ServerState;

/// Tags of the collection-scoped routes, with the route pattern used in the limiter id.
fn collection_route(method: &Method, rest: &str) -> Option<(&'static str, &'static [&'static str])> {
    let segs: Vec<&str> = rest.split('/').collect();
    let m = method.as_str();
    Some(match (m, segs.as_slice()) {
        ("GET", ["records"]) => ("GET /records", &["list"]),
        ("POST", ["records"]) => ("POST /records", &["create"]),
        ("GET", ["records", _]) => ("GET /records/{id}", &["view"]),
        ("PATCH", ["records", _]) => ("PATCH /records/{id}", &["update"]),
        ("DELETE", ["records", _]) => ("DELETE /records/{id}", &["delete"]),
        ("GET", ["auth-methods"]) => ("GET /auth-methods", &["listAuthMethods"]),
        ("POST", ["auth-refresh"]) => ("POST /auth-refresh", &["authRefresh"]),
        ("POST", ["auth-with-password"]) => ("POST /auth-with-password", &["authWithPassword", "auth"]),
        ("POST", ["auth-with-oauth2"]) => ("POST /auth-with-oauth2", &["authWithOAuth2", "auth"]),
        ("POST", ["request-otp"]) => ("POST /request-otp", &["requestOTP"]),
        ("POST", ["auth-with-otp"]) => ("POST /auth-with-otp", &["authWithOTP", "auth"]),
        ("POST", ["request-password-reset"]) => ("POST /request-password-reset", &["requestPasswordReset"]),
        ("POST", ["confirm-password-reset"]) => ("POST /confirm-password-reset", &["confirmPasswordReset"]),
        ("POST", ["request-verification"]) => ("POST /request-verification", &["requestVerification"]),
        ("POST", ["confirm-verification"]) => ("POST /confirm-verification", &["confirmVerification"]),
        ("POST", ["request-email-change"]) => ("POST /request-email-change", &["requestEmailChange"]),
        ("POST", ["confirm-email-change"]) => ("POST /confirm-email-change", &["confirmEmailChange"]),
        _ => return None,
    })
}

/// Candidate labels and the limiter id prefix for a request.
pub fn labels_for(app: &pocketbun_core::App, method: &Method, path: &str) -> (Vec<String>, Option<String>) {
    let generic = vec![format!("{} {path}", method.as_str()), path.to_string()];
    let scoped = path
        .strip_prefix("/api/collections/")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(coll, rest)| collection_route(method, rest).map(|r| (coll, r)))
        .or_else(|| {
            let rest = path.strip_prefix("/api/files/")?;
            let coll = rest.split('/').next()?;
            ((method == Method::GET || method == Method::HEAD) && rest.split('/').count() == 3).then_some((coll, ("GET /files", &["file"][..])))
        });
    let Some((coll, (pattern, tags))) = scoped else { return (generic, None) };
    let Some(c) = app.schema().find(coll) else { return (generic, None) };
    let mut labels: Vec<String> = tags.iter().map(|t| format!("{}:{t}", c.name)).collect();
    labels.extend(tags.iter().map(|t| format!("*:{t}")));
    labels.extend(generic);
    (labels, Some(format!("{}{pattern}{}", c.id, tags.join(""))))
}

pub async fn rate_limit(State(state): State<ServerState>, req: Request, next: Next) -> Response {
    let app = state.app.app.clone();
    let derived = app.derived_settings();
    let rl = &derived.rate_limits;
    if !rl.enabled {
        return next.run(req).await;
    }
    let settings = app.settings();
    let auth = match req.headers().get("authorization").and_then(|v| v.to_str().ok()) {
        Some(t) if !t.is_empty() => authenticate(&app, t, TokenType::Auth).await,
        _ => None,
    };
    if auth.as_ref().is_some_and(|a| a.collection.is_superusers()) {
        return next.run(req).await;
    }
    let remote = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
    let ip = real_ip(&settings, req.headers(), &remote);
    if ip.is_empty() || ip_in_list(&rl.excluded_ips, &ip) {
        return next.run(req).await;
    }
    let (labels, scoped_id) = labels_for(&app, req.method(), req.uri().path());
    if let Some(rule) = rl.find_rule(&labels, &audiences(auth.is_some())) {
        let id = match scoped_id {
            Some(prefix) => format!("{prefix}{}", rule.audience),
            None => format!("{}{}", rule.label, rule.audience),
        };
        if !app.rate_limiters.allow(&id, &ip, rule.max_requests, rule.duration) {
            return HttpError(ApiError::new(429, "")).into_response();
        }
    }
    next.run(req).await
}
