//! Shared pieces of the record auth endpoints (collection lookup, the common auth response
//! with authRule → MFA → enrich → auth origins) plus auth-methods, auth-refresh and impersonate.

use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use pocketbun_core::auth::{self, mfa, new_auth_token, origins};
use pocketbun_core::model::{Collection, RuleKind};
use pocketbun_core::record::{persist, Record, Visibility};
use pocketbun_core::{ApiError, FieldError, ValidationErrors};
use serde_json::{json, Map, Value};
use std::sync::Arc;

use crate::http::context::Ctx;
use crate::record_hooks;
use crate::http::error::HttpResult;
use crate::http::form::read_form;
use crate::http::json::{json_picked, raw_json};

/// Any collection by id or name (404 as PocketBase's collection rate-limit middleware says).
pub fn any_collection(ctx: &Ctx, id_or_name: &str) -> Result<Arc<Collection>, ApiError> {
    ctx.app.schema().find(id_or_name).ok_or_else(|| ApiError::not_found("Missing or invalid collection context."))
}

/// An auth collection; 404 for missing or non-auth collections.
pub fn auth_collection(ctx: &Ctx, id_or_name: &str) -> Result<Arc<Collection>, ApiError> {
    any_collection(ctx, id_or_name)?;
    ctx.app
        .schema()
        .find(id_or_name)
        .filter(|c| c.is_auth())
        .ok_or_else(|| ApiError::not_found("Missing or invalid auth collection context."))
}

/// The authenticated record, which must belong to `c` (RequireSameCollectionContextAuth).
pub fn require_same_collection_auth(ctx: &Ctx, c: &Collection) -> Result<Record, ApiError> {
    let Some(rec) = ctx.auth.clone() else {
        return Err(ApiError::unauthorized("The request requires valid record authorization token."));
    };
    if rec.collection.id != c.id {
        return Err(ApiError::forbidden(format!("The request requires auth record from {} collection.", rec.collection.name)));
    }
    Ok(rec)
}

/// Text value of a form key.
/// Reads a form whose `keys` are string fields of PocketBase's Go form struct: another JSON
/// type fails to bind there ("An error occurred while loading the submitted data.").
pub async fn read_text_form(ctx: &Ctx, body: axum::body::Body, keys: &[&str]) -> Result<Map<String, Value>, ApiError> {
    let input = crate::http::form::read_form(ctx, body).await?;
    if keys.iter().any(|k| !matches!(input.get(*k), None | Some(Value::Null) | Some(Value::String(_)))) {
        return Err(ApiError::bad_request(crate::http::form::LOAD_FAILED));
    }
    Ok(input)
}

pub fn form_str(input: &Map<String, Value>, key: &str) -> String {
    input.get(key).map(pocketbun_core::record::values::to_text).unwrap_or_default()
}

/// Applies the collection's authRule to a record about to be authenticated.
async fn check_auth_rule(ctx: &Ctx, rec: &Record) -> Result<(), ApiError> {
    let forbidden = || ApiError::forbidden("The request doesn't satisfy the collection requirements to authenticate.");
    match rec.collection.rule(RuleKind::Auth) {
        None => Err(forbidden()),
        Some(r) if r.trim().is_empty() => Ok(()),
        Some(rule) => {
            let mut req = ctx.request_info(Map::new());
            req.auth = Some(rec.clone());
            match auth::record_matches_rule(&ctx.app, rec, &req, rule).await {
                Ok(true) => Ok(()),
                _ => Err(forbidden()),
            }
        }
    }
}

/// The common success path of every sign-in (rest-api.md §5). `method` is empty for
/// refresh/impersonation (no MFA, no origin tracking).
pub async fn auth_response(
    ctx: &Ctx,
    rec: Record,
    token: Option<String>,
    method: &str,
    body: &Map<String, Value>,
    meta: Option<Value>,
) -> HttpResult {
    if rec.collection.is_superusers() && !pocketbun_core::auth::superuser_ip_allowed(&ctx.app.settings(), &ctx.real_ip()) {
        return Err(ApiError::forbidden("").into());
    }
    check_auth_rule(ctx, &rec).await?;
    let mfa_id = match ctx.query.get("mfaId") {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => form_str(body, "mfaId"),
    };
    let req = ctx.request_info(body.clone());
    if let Some(id) = mfa::check(&ctx.app, &rec, method, &mfa_id, &req).await? {
        return Ok(raw_json(StatusCode::UNAUTHORIZED, json!({ "mfaId": id }).to_string()));
    }
    if !method.is_empty() && rec.collection.option("authAlert", "enabled").as_bool() == Some(true) {
        if let Err(e) = origins::track(&ctx.app, &rec, &ctx.real_ip(), &ctx.user_agent()).await {
            tracing::warn!("failed to track the auth origin: {e}");
        }
    }
    let token = token.unwrap_or_else(|| new_auth_token(&rec, true, None));
    // expanded in the context of the freshly authenticated record, as PocketBase does
    let mut expand_req = req;
    expand_req.auth = Some(rec.clone());
    let rec = pocketbun_core::record::service::expand_for_response(&ctx.app, expand_req, rec).await?;
    let vis = Visibility { superuser: rec.collection.is_superusers(), owner: true };
    let mut answer = record_hooks::AuthAnswer { record: rec.to_json(vis), token, meta };
    if let Some(host) = record_hooks::subscribed(ctx, record_hooks::AUTH, &rec.collection) {
        answer = match record_hooks::auth(ctx, &host, &rec.collection, method, body, answer).await? {
            Ok(a) => a,
            Err(response) => return Ok(response),
        };
    }
    let mut m = Map::new();
    if let Some(meta) = answer.meta {
        m.insert("meta".into(), meta);
    }
    m.insert("record".into(), answer.record);
    m.insert("token".into(), Value::String(answer.token));
    json_picked(ctx.fields(), Value::Object(m), false)
}

pub async fn auth_methods(ctx: Ctx, Path(coll): Path<String>) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    let enabled = |g: &str| c.option(g, "enabled").as_bool().unwrap_or(false);
    let duration = |g: &str| if enabled(g) { c.option(g, "duration").as_i64().unwrap_or(0) } else { 0 };
    let password_enabled = enabled("passwordAuth");
    let identity = if password_enabled { c.identity_fields() } else { vec![] };
    let providers = super::record_auth_oauth2::provider_list(&ctx, &c);
    let legacy: Vec<Value> = providers
        .iter()
        .cloned()
        .map(|mut p| {
            if let Some(o) = p.as_object_mut() {
                o.insert("logo".into(), json!(""));
            }
            p
        })
        .collect();
    let body = json!({
        "password": {"identityFields": identity, "enabled": password_enabled},
        "oauth2": {"providers": providers, "enabled": enabled("oauth2")},
        "mfa": {"enabled": enabled("mfa"), "duration": duration("mfa")},
        "otp": {"enabled": enabled("otp"), "duration": duration("otp")},
        "authProviders": legacy,
        "usernamePassword": password_enabled && identity.iter().any(|f| f == "username"),
        "emailPassword": password_enabled && identity.iter().any(|f| f == "email"),
    });
    json_picked(ctx.fields(), body, false)
}

pub async fn auth_refresh(ctx: Ctx, Path(coll): Path<String>) -> HttpResult {
    let c = any_collection(&ctx, &coll)?;
    let rec = require_same_collection_auth(&ctx, &c)?;
    let c = auth_collection(&ctx, &coll)?;
    let hook = crate::auth_hooks::RequestHook { name: crate::auth_hooks::AUTH_REFRESH, collection: &c };
    let ctx2 = ctx.clone();
    crate::auth_hooks::around_auth(&ctx, hook, "auth-refresh", &Map::new(), Some(rec), Map::new(), move |flow| async move {
        let rec = flow.record.ok_or_else(|| ApiError::not_found("Missing auth record context."))?;
        refreshed_auth_response(&ctx2, rec).await
    })
    .await
}

/// The auth-refresh action: a new token when the presented one is refreshable.
async fn refreshed_auth_response(ctx: &Ctx, rec: Record) -> HttpResult {
    let presented = ctx
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim().trim_start_matches("Bearer ").trim_start_matches("bearer ").trim().to_string())
        .unwrap_or_default();
    let refreshable = auth::token::peek(&presented)
        .and_then(|cl| cl.claims.get("refreshable").and_then(Value::as_bool))
        .unwrap_or(false);
    let token = if refreshable { new_auth_token(&rec, true, None) } else { presented };
    auth_response(ctx, rec, Some(token), "", &Map::new(), None).await
}

pub async fn impersonate(ctx: Ctx, Path((coll, id)): Path<(String, String)>, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let c = ctx
        .app
        .schema()
        .find(&coll)
        .filter(|c| c.is_auth())
        .ok_or_else(|| ApiError::not_found("Missing or invalid auth collection context."))?;
    let input = read_form(&ctx, body).await?;
    let duration = input.get("duration").map(pocketbun_core::record::values::to_number).unwrap_or(0.0);
    if duration < 0.0 {
        let mut errs = ValidationErrors::new();
        errs.add("duration", FieldError::new("validation_min_greater_equal_than_required", "Must be no less than 0.").param("threshold", 0));
        return Err(ApiError::validation("An error occurred while validating the submitted data.", errs).into());
    }
    let c2 = c.clone();
    let rec = ctx
        .app
        .data
        .read(move |conn| persist::find_by_id(conn, &c2, &id))
        .await?
        .ok_or_else(|| ApiError::not_found(""))?;
    let token = new_auth_token(&rec, false, Some(duration as i64));
    auth_response(&ctx, rec, Some(token), "", &Map::new(), None).await
}
