//! `GET/PATCH /api/settings` (superusers only).

use axum::body::Body;
use pocketbun_core::settings::{apply_patch, masked, validate};
use pocketbun_core::store;

use crate::http::form::read_form;
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::json_picked;

pub async fn get(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    json_picked(ctx.fields(), masked(&ctx.app.settings()), false)
}

pub async fn patch(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = read_form(&ctx, body).await?;
    let next = apply_patch(&ctx.app.settings(), &input).map_err(|_| pocketbun_core::ApiError::bad_request(crate::http::form::LOAD_FAILED))?;
    validate(&next)?;
    let cipher = ctx.app.cipher();
    let to_store = next.clone();
    ctx.app.data.write(move |conn| store::settings::save(conn, &to_store, cipher.as_deref())).await?;
    ctx.app.set_settings(next.clone());
    json_picked(ctx.fields(), masked(&next), false)
}

/// `POST /api/settings/test/email`.
pub async fn test_email(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = read_form(&ctx, body).await?;
    let get = |k: &str| input.get(k).map(pocketbun_core::record::values::to_text).unwrap_or_default();
    pocketbun_core::mail::test_email::send_test_email(&ctx.app, &get("email"), &get("template"), &get("collection")).await?;
    Ok(crate::http::json::no_content())
}

/// `POST /api/settings/test/s3`: `{"filesystem":"storage"|"backups"}`.
pub async fn test_s3(ctx: Ctx, body: Body) -> HttpResult {
    use pocketbun_core::{ApiError, FieldError, ValidationErrors};
    ctx.require_superuser()?;
    let input = read_form(&ctx, body).await?;
    let filesystem = input.get("filesystem").map(pocketbun_core::record::values::to_text).unwrap_or_default();
    const FAILED: &str = "Failed to test the S3 filesystem.";
    let mut errs = ValidationErrors::new();
    if filesystem.is_empty() {
        errs.add("filesystem", FieldError::required());
    } else if filesystem != "storage" && filesystem != "backups" {
        errs.add("filesystem", FieldError::new("validation_in_invalid", "Must be a valid value."));
    }
    errs.into_result(FAILED)?;
    let app = ctx.app.clone();
    tokio::task::spawn_blocking(move || pocketbun_core::files::backend::test_s3(&app, &filesystem))
        .await
        .map_err(|_| ApiError::internal(""))?
        .map_err(|e| ApiError::bad_request(format!("{FAILED} Raw error: \n{e}")))?;
    Ok(crate::http::json::no_content())
}

/// `POST /api/settings/apple/generate-client-secret`: `{secret}` signed with the posted key.
pub async fn apple_client_secret(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = read_form(&ctx, body).await?;
    let secret = pocketbun_core::auth::oauth2::apple_secret::generate(&input)?;
    Ok(crate::http::json::json_ok(serde_json::json!({ "secret": secret })))
}
