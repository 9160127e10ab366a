//! `GET/PATCH /api/settings` (superusers only), with `onSettingsListRequest` and
//! `onSettingsUpdateRequest` around them.

use axum::body::Body;
use pocketbun_core::settings::{apply_patch, masked};
use pocketbun_core::db::DbScope;
use pocketbun_core::{ApiError, App};
use pocketbun_wasm::DefaultAction;
use serde_json::{Map, Value};
use std::sync::Arc;

use crate::http::form::read_form;
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::json_picked;
use crate::request_hooks::{self, core_err, identity, subscribed};

const LIST_REQUEST: &str = "settings-list-request";
const UPDATE_REQUEST: &str = "settings-update-request";

pub async fn get(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let settings = ctx.app.settings();
    let Some(host) = subscribed(&ctx, LIST_REQUEST, &[]) else { return json_picked(ctx.fields(), masked(&settings), false) };
    let mut event = Map::new();
    event.insert("settings".into(), (*settings).clone());
    let ended = request_hooks::run(&ctx, &host, LIST_REQUEST, &[], "/api/settings".into(), &Map::new(), event, identity()).await?;
    ended.respond(|ev| json_picked(ctx.fields(), masked(ev.get("settings").unwrap_or(&Value::Null)), false))
}

pub async fn patch(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = read_form(&ctx, body).await?;
    let old = ctx.app.settings();
    let next = apply_patch(&old, &input).map_err(|_| ApiError::bad_request(crate::http::form::LOAD_FAILED))?;
    let app = ctx.app.clone();
    let Some(host) = subscribed(&ctx, UPDATE_REQUEST, &[]) else {
        save(&app, next).await?;
        return json_picked(ctx.fields(), masked(&app.settings()), false);
    };
    let mut event = Map::new();
    event.insert("oldSettings".into(), (*old).clone());
    event.insert("newSettings".into(), next);
    let default: DefaultAction = Box::new(move |ev: Value| {
        Box::pin(async move {
            let next = ev.get("newSettings").cloned().unwrap_or_default();
            save(&app, next).await.map_err(core_err)?;
            Ok(ev)
        })
    });
    let ended = request_hooks::run(&ctx, &host, UPDATE_REQUEST, &[], "/api/settings".into(), &input, event, default).await?;
    ended.respond(|_| json_picked(ctx.fields(), masked(&ctx.app.settings()), false))
}

/// Validates and stores new settings, then fires `onSettingsReload`.
async fn save(app: &Arc<App>, next: Value) -> Result<(), ApiError> {
    pocketbun_core::settings::save(app, &DbScope::Pool(app.data.clone()), next).await
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
