//! `request-otp` and `auth-with-otp`.

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::auth::otp;
use serde_json::json;

use super::record_auth::{auth_collection, auth_response, form_str, read_text_form};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::json_picked;

pub async fn request_otp(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = auth_collection(&ctx, &coll)?;
    if c.option("otp", "enabled").as_bool() != Some(true) {
        return Err(pocketbun_core::ApiError::forbidden("The collection is not configured to allow OTP authentication.").into());
    }
    let input = read_text_form(&ctx, body, &["email"]).await?;
    let id = otp::request(&ctx.app, &c, &form_str(&input, "email")).await?;
    json_picked(ctx.fields(), json!({ "otpId": id }), false)
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
    let rec = otp::authenticate(&ctx.app, &c, &form_str(&input, "otpId"), &form_str(&input, "password"), allowed).await?;
    auth_response(&ctx, rec, None, "otp", &input, None).await
}
