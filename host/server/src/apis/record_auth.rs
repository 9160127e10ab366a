//! Record auth endpoints: auth-methods, auth-with-password, auth-refresh, impersonate.

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::auth::new_auth_token;
use pocketbun_core::model::{Collection, RuleKind};
use pocketbun_core::record::rules::compile_condition;
use pocketbun_core::record::{persist, query::RecordQuery, Record, Visibility};
use pocketbun_core::{auth::hasher, ApiError, FieldError, ValidationErrors};
use serde_json::{json, Map, Value};
use std::sync::Arc;

use crate::http::form::read_form;
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::json_picked;

fn auth_collection(ctx: &Ctx, id_or_name: &str) -> Result<Arc<Collection>, ApiError> {
    ctx.app
        .schema()
        .find(id_or_name)
        .filter(|c| c.is_auth())
        .ok_or_else(|| ApiError::not_found("Missing or invalid auth collection context."))
}

/// The common success response: `{record, token}` with the record's email visible.
fn auth_response(ctx: &Ctx, rec: &Record, token: String) -> HttpResult {
    let vis = Visibility { superuser: ctx.is_superuser(), owner: true };
    let mut m = Map::new();
    m.insert("record".into(), rec.to_json(vis));
    m.insert("token".into(), Value::String(token));
    json_picked(ctx.fields(), Value::Object(m), false)
}

/// Applies the collection's authRule to a record about to be authenticated.
async fn check_auth_rule(ctx: &Ctx, rec: &Record) -> Result<(), ApiError> {
    let forbidden = || ApiError::forbidden("The request doesn't satisfy the collection requirements to authenticate.");
    let c = rec.collection.clone();
    match c.rule(RuleKind::Auth) {
        None => Err(forbidden()),
        Some(r) if r.trim().is_empty() => Ok(()),
        Some(rule) => {
            let mut req = ctx.request_info(Map::new());
            req.auth = Some(rec.clone());
            let compiled = compile_condition(&c, &req, rule, true, "a").map_err(|_| forbidden())?;
            let mut q = RecordQuery::default();
            let p = q.params.bind(rec.id().to_string());
            q.conditions.push(format!("`{}`.`id` = {p}", c.name));
            q.conditions.push(compiled.sql);
            q.joins = compiled.joins;
            q.params.extend(compiled.params);
            let found = ctx.app.data.read(move |conn| q.first(conn, &c)).await?;
            found.map(|_| ()).ok_or_else(forbidden)
        }
    }
}

pub async fn auth_methods(ctx: Ctx, Path(coll): Path<String>) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    let enabled = |g: &str| c.option(g, "enabled").as_bool().unwrap_or(false);
    let duration = |g: &str| if enabled(g) { c.option(g, "duration").as_i64().unwrap_or(0) } else { 0 };
    let identity = c.identity_fields();
    let body = json!({
        "password": {"identityFields": identity, "enabled": enabled("passwordAuth")},
        "oauth2": {"providers": [], "enabled": enabled("oauth2")},
        "mfa": {"enabled": enabled("mfa"), "duration": duration("mfa")},
        "otp": {"enabled": enabled("otp"), "duration": duration("otp")},
        "authProviders": [],
        "usernamePassword": identity.iter().any(|f| f == "username"),
        "emailPassword": identity.iter().any(|f| f == "email"),
    });
    json_picked(ctx.fields(), body, false)
}

pub async fn auth_with_password(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if !c.option("passwordAuth", "enabled").as_bool().unwrap_or(false) {
        return Err(ApiError::forbidden("The collection is not configured to allow password authentication.").into());
    }
    let input = read_form(&ctx, body).await?;
    let get = |k: &str| input.get(k).map(pocketbun_core::record::values::to_text).unwrap_or_default();
    let (identity, pass, identity_field) = (get("identity"), get("password"), get("identityField"));
    let mut errs = ValidationErrors::new();
    for (key, v) in [("identity", &identity), ("password", &pass)] {
        if v.is_empty() {
            errs.add(key, FieldError::required());
        } else if v.chars().count() > 255 {
            errs.add(key, FieldError::new("validation_length_too_long", "The length must be no more than 255.").param("max", 255));
        }
    }
    let mut fields = c.identity_fields();
    if !identity_field.is_empty() && !fields.contains(&identity_field) {
        errs.add("identityField", FieldError::new("validation_in_invalid", "Must be a valid value."));
    }
    errs.into_result("An error occurred while validating the submitted data.")?;
    if !identity_field.is_empty() {
        fields = vec![identity_field];
    } else if let Some(pos) = fields.iter().position(|f| f == "email") {
        let email = fields.remove(pos);
        fields.insert(0, email);
    }
    let c2 = c.clone();
    let found = ctx
        .app
        .data
        .read(move |conn| {
            for f in &fields {
                if f == "email" && !pocketbun_core::validate::is_email(&identity) {
                    continue;
                }
                if let Some(r) = persist::find_by_identity(conn, &c2, f, &identity)? {
                    return Ok(Some(r));
                }
            }
            Ok(None)
        })
        .await?;
    let failed = || ApiError::bad_request("Failed to authenticate.");
    let rec = match found {
        Some(r) => r,
        None => {
            // spend comparable time on unknown identities (no user enumeration by timing)
            hasher::verify_dummy(pass).await;
            return Err(failed().into());
        }
    };
    let stored = rec.get_str("password").to_string();
    let ok = hasher::verify(pass, stored).await;
    if !ok {
        return Err(failed().into());
    }
    check_auth_rule(&ctx, &rec).await?;
    let token = new_auth_token(&rec, true, None);
    auth_response(&ctx, &rec, token)
}

pub async fn auth_refresh(ctx: Ctx, Path(coll): Path<String>) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    let Some(rec) = ctx.auth.clone() else {
        return Err(ApiError::unauthorized("The request requires valid record authorization token.").into());
    };
    if rec.collection.id != c.id {
        return Err(ApiError::forbidden(format!("The request requires auth record from {} collection.", rec.collection.name)).into());
    }
    check_auth_rule(&ctx, &rec).await?;
    let presented = ctx
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim().trim_start_matches("Bearer ").trim_start_matches("bearer ").trim().to_string())
        .unwrap_or_default();
    let refreshable = pocketbun_core::auth::token::peek(&presented)
        .and_then(|cl| cl.claims.get("refreshable").and_then(Value::as_bool))
        .unwrap_or(false);
    let token = if refreshable { new_auth_token(&rec, true, None) } else { presented };
    auth_response(&ctx, &rec, token)
}

pub async fn impersonate(ctx: Ctx, Path((coll, id)): Path<(String, String)>, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let c = auth_collection(&ctx, &coll)?;
    let input = read_form(&ctx, body).await?;
    let duration = input.get("duration").map(pocketbun_core::record::values::to_number).unwrap_or(0.0);
    if duration < 0.0 {
        let mut errs = ValidationErrors::new();
        errs.add("duration", FieldError::new("validation_min_greater_equal_than_required", "Must be no less than 0."));
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
    auth_response(&ctx, &rec, token)
}
