//! `request-otp` and `auth-with-otp`, with their request hooks (see `auth_hooks`).

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::app_api;
use pocketbun_core::auth::otp;
use serde_json::{json, Map};

use super::record_auth::{auth_collection, auth_response, form_str, read_text_form};
use crate::auth_hooks::{self as hooks, RequestHook};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::json_picked;

pub async fn request_otp(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.option("otp", "enabled").as_bool() != Some(true) {
        return Err(pocketbun_core::ApiError::forbidden("The collection is not configured to allow OTP authentication.").into());
    }
    let input = read_text_form(&ctx, body, &["email"]).await?;
    let (rec, code) = otp::request_target(&ctx.app, &c, &form_str(&input, "email")).await?;
    let hook = RequestHook { name: hooks::REQUEST_OTP, collection: &c };
    let mut event = Map::new();
    event.insert("password".into(), json!(code));
    let (ctx2, c2) = (ctx.clone(), c.clone());
    hooks::around_auth(&ctx, hook, "request-otp", &input, rec, event, move |flow| async move {
        let code = flow.str("password");
        let id = otp::issue(&ctx2.app, &c2, flow.record, code).await?;
        json_picked(ctx2.fields(), json!({ "otpId": id }), false)
    })
    .await
}

pub async fn auth_with_otp(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.option("otp", "enabled").as_bool() != Some(true) {
        return Err(pocketbun_core::ApiError::forbidden("The collection is not configured to allow OTP authentication.").into());
    }
    let input = read_text_form(&ctx, body, &["otpId", "password"]).await?;
    let ip = ctx.real_ip();
    let limiters = ctx.app.clone();
    let allowed = move |record_id: &str| limiters.rate_limiters.allow(&format!("@pb_otp_{record_id}"), &ip, 5, 180);
    let (otp_row, rec) = otp::check(&ctx.app, &c, &form_str(&input, "otpId"), &form_str(&input, "password"), allowed).await?;
    let hook = RequestHook { name: hooks::AUTH_WITH_OTP, collection: &c };
    let mut event = Map::new();
    event.insert("otp".into(), app_api::full_json(&otp_row));
    let (ctx2, input2) = (ctx.clone(), input.clone());
    hooks::around_auth(&ctx, hook, "auth-with-otp", &input, Some(rec), event, move |flow| async move {
        let Some(rec) = flow.record else { return Err(pocketbun_core::ApiError::bad_request("Invalid or expired OTP.").into()) };
        let rec = otp::consume(&ctx2.app, &otp_row, rec).await?;
        auth_response(&ctx2, rec, None, "otp", &input2, None).await
    })
    .await
}
