//! Verification, password reset and email change endpoints (request + confirm).

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::auth::email_flows as flows;

use super::record_auth::{any_collection, auth_collection, form_str, read_text_form, require_same_collection_auth};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::no_content;

pub async fn request_verification(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.is_superusers() {
        return Err(pocketbun_core::ApiError::bad_request("All superusers are verified by default.").into());
    }
    let input = read_text_form(&ctx, body, &["email"]).await?;
    flows::request_verification(&ctx.app, &c, &form_str(&input, "email")).await?;
    Ok(no_content())
}

pub async fn confirm_verification(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.is_superusers() {
        return Err(pocketbun_core::ApiError::bad_request("All superusers are verified by default.").into());
    }
    let input = read_text_form(&ctx, body, &["token"]).await?;
    flows::confirm_verification(&ctx.app, &c, &form_str(&input, "token")).await?;
    Ok(no_content())
}

pub async fn request_password_reset(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.option("passwordAuth", "enabled").as_bool() != Some(true) {
        return Err(pocketbun_core::ApiError::bad_request("The collection is not configured to allow password authentication.").into());
    }
    let input = read_text_form(&ctx, body, &["email"]).await?;
    flows::request_password_reset(&ctx.app, &c, &form_str(&input, "email")).await?;
    Ok(no_content())
}

pub async fn confirm_password_reset(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    let input = read_text_form(&ctx, body, &["token", "password", "passwordConfirm"]).await?;
    let (token, password, confirm) = (form_str(&input, "token"), form_str(&input, "password"), form_str(&input, "passwordConfirm"));
    flows::confirm_password_reset(&ctx.app, &c, &token, &password, &confirm).await?;
    Ok(no_content())
}

pub async fn request_email_change(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = any_collection(&ctx, &coll)?;
    let rec = require_same_collection_auth(&ctx, &c)?;
    let c = auth_collection(&ctx, &coll)?;
    if c.is_superusers() {
        return Err(pocketbun_core::ApiError::bad_request("All superusers can change their emails directly.").into());
    }
    let input = read_text_form(&ctx, body, &["newEmail"]).await?;
    flows::request_email_change(&ctx.app, &rec, &form_str(&input, "newEmail")).await?;
    Ok(no_content())
}

pub async fn confirm_email_change(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.is_superusers() {
        return Err(pocketbun_core::ApiError::bad_request("All superusers can change their emails directly.").into());
    }
    let input = read_text_form(&ctx, body, &["token", "password"]).await?;
    flows::confirm_email_change(&ctx.app, &c, &form_str(&input, "token"), &form_str(&input, "password")).await?;
    Ok(no_content())
}
