//! Verification, password reset and email change endpoints (request + confirm), each with
//! its request hook around the action (see `auth_hooks`).

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::auth::email_flows as flows;
use serde_json::{json, Map, Value};

use super::record_auth::{any_collection, auth_collection, form_str, read_text_form, require_same_collection_auth};
use crate::auth_hooks::{self as hooks, RequestHook};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::no_content;

fn event(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
}

pub async fn request_verification(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.is_superusers() {
        return Err(pocketbun_core::ApiError::bad_request("All superusers are verified by default.").into());
    }
    let input = read_text_form(&ctx, body, &["email"]).await?;
    let Some(rec) = flows::verification_target(&ctx.app, &c, &form_str(&input, "email")).await? else { return Ok(no_content()) };
    let hook = RequestHook { name: hooks::REQUEST_VERIFICATION, collection: &c };
    let app = ctx.app.clone();
    hooks::around_auth(&ctx, hook, "request-verification", &input, Some(rec), Map::new(), move |flow| async move {
        if let Some(rec) = flow.record {
            flows::send_verification(&app, rec);
        }
        Ok(no_content())
    })
    .await
}

pub async fn confirm_verification(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.is_superusers() {
        return Err(pocketbun_core::ApiError::bad_request("All superusers are verified by default.").into());
    }
    let input = read_text_form(&ctx, body, &["token"]).await?;
    let rec = flows::verification_token_record(&ctx.app, &c, &form_str(&input, "token")).await?;
    let was_verified = rec.get("verified").as_bool() == Some(true);
    let hook = RequestHook { name: hooks::CONFIRM_VERIFICATION, collection: &c };
    let app = ctx.app.clone();
    hooks::around_auth(&ctx, hook, "confirm-verification", &input, Some(rec), Map::new(), move |flow| async move {
        if let Some(rec) = flow.record {
            flows::mark_verified(&app, rec, was_verified).await?;
        }
        Ok(no_content())
    })
    .await
}

pub async fn request_password_reset(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.option("passwordAuth", "enabled").as_bool() != Some(true) {
        return Err(pocketbun_core::ApiError::bad_request("The collection is not configured to allow password authentication.").into());
    }
    let input = read_text_form(&ctx, body, &["email"]).await?;
    let Some(rec) = flows::password_reset_target(&ctx.app, &c, &form_str(&input, "email")).await? else { return Ok(no_content()) };
    let hook = RequestHook { name: hooks::REQUEST_PASSWORD_RESET, collection: &c };
    let app = ctx.app.clone();
    hooks::around_auth(&ctx, hook, "request-password-reset", &input, Some(rec), Map::new(), move |flow| async move {
        if let Some(rec) = flow.record {
            flows::send_password_reset(&app, rec);
        }
        Ok(no_content())
    })
    .await
}

pub async fn confirm_password_reset(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    let input = read_text_form(&ctx, body, &["token", "password", "passwordConfirm"]).await?;
    let (token, password, confirm) = (form_str(&input, "token"), form_str(&input, "password"), form_str(&input, "passwordConfirm"));
    let rec = flows::password_reset_token_record(&ctx.app, &c, &token, &password, &confirm).await?;
    let hook = RequestHook { name: hooks::CONFIRM_PASSWORD_RESET, collection: &c };
    let app = ctx.app.clone();
    hooks::around_auth(&ctx, hook, "confirm-password-reset", &input, Some(rec), Map::new(), move |flow| async move {
        if let Some(rec) = flow.record {
            flows::set_new_password(&app, rec, &token, &password).await?;
        }
        Ok(no_content())
    })
    .await
}

pub async fn request_email_change(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = any_collection(&ctx, &coll)?;
    let rec = require_same_collection_auth(&ctx, &c)?;
    let c = auth_collection(&ctx, &coll)?;
    if c.is_superusers() {
        return Err(pocketbun_core::ApiError::bad_request("All superusers can change their emails directly.").into());
    }
    let input = read_text_form(&ctx, body, &["newEmail"]).await?;
    let new_email = form_str(&input, "newEmail");
    flows::check_new_email(&ctx.app, &rec, &new_email).await?;
    let hook = RequestHook { name: hooks::REQUEST_EMAIL_CHANGE, collection: &c };
    let app = ctx.app.clone();
    hooks::around_auth(&ctx, hook, "request-email-change", &input, Some(rec), event(&[("newEmail", &new_email)]), move |flow| async move {
        if let Some(rec) = &flow.record {
            flows::send_email_change(&app, rec, &flow.str("newEmail")).await?;
        }
        Ok(no_content())
    })
    .await
}

pub async fn confirm_email_change(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.is_superusers() {
        return Err(pocketbun_core::ApiError::bad_request("All superusers can change their emails directly.").into());
    }
    let input = read_text_form(&ctx, body, &["token", "password"]).await?;
    let (rec, new_email) = flows::email_change_token(&ctx.app, &c, &form_str(&input, "token"), &form_str(&input, "password")).await?;
    let hook = RequestHook { name: hooks::CONFIRM_EMAIL_CHANGE, collection: &c };
    let app = ctx.app.clone();
    hooks::around_auth(&ctx, hook, "confirm-email-change", &input, Some(rec), event(&[("newEmail", &new_email)]), move |flow| async move {
        let new_email = flow.str("newEmail");
        if let Some(rec) = flow.record {
            flows::apply_email_change(&app, rec, new_email).await?;
        }
        Ok(no_content())
    })
    .await
}
