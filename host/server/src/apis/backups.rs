//! `/api/backups*`: list, create, upload, download (superuser file token), delete and restore
//! backups of pb_data (the work is in `pocketbun_core::backups`).

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use pocketbun_core::auth::{authenticate, superuser_ip_allowed, token::TokenType};
use pocketbun_core::backups;
use pocketbun_core::files::mime::sniff;
use pocketbun_core::files::{FileMeta, FileStorage};
use pocketbun_core::{ApiError, FieldError, ValidationErrors};
use serde_json::Value;
use std::sync::Arc;

use crate::apis::files::{stream_body, with_headers};
use crate::http::body::parse_record_body;
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::form::read_form;
use crate::http::json::{json_ok, no_content};

fn storage(ctx: &Ctx, message: &str) -> Result<Arc<dyn FileStorage>, ApiError> {
    backups::storage(&ctx.app).map_err(|e| {
        tracing::error!("backups filesystem: {e}");
        ApiError::bad_request(message)
    })
}

/// Runs blocking storage work off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(std::io::Error::other)?
}

pub async fn list(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let app = ctx.app.clone();
    let items = blocking(move || backups::list(&app))
        .await
        .map_err(|e| ApiError::bad_request(format!("Failed to retrieve backup items. Raw error: \n{e}")))?;
    Ok(json_ok(Value::Array(items)))
}

pub async fn create(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    if ctx.app.active_backup.name().is_some() {
        return Err(ApiError::bad_request("Try again later - another backup/restore process has already been started").into());
    }
    let form = read_form(&ctx, body).await?;
    let name = match form.get("name") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::bad_request("An error occurred while loading the submitted data.").into()),
    };
    if !name.is_empty() {
        let mut errs = ValidationErrors::new();
        if name.chars().count() > 150 {
            errs.add("name", FieldError::new("validation_length_out_of_range", "The length must be between 1 and 150.").param("min", 1).param("max", 150));
        } else if !backups::valid_name(&name) {
            errs.add("name", FieldError::new("validation_match_invalid", "Must be in a valid format."));
        } else {
            let store = storage(&ctx, "An error occurred while validating the submitted data.")?;
            let key = name.clone();
            if blocking(move || store.exists(&key)).await.unwrap_or(true) {
                errs.add("name", FieldError::new("validation_backup_name_exists", "The backup file name is invalid or already exists."));
            }
        }
        errs.into_result("An error occurred while validating the submitted data.")?;
    }
    // PocketBase words every failure here the same, a hook's error included
    backups::create(&ctx.app, &name).await.map_err(|e| {
        tracing::error!("backup {name:?}: {}", e.message);
        ApiError::bad_request("Failed to create backup.")
    })?;
    Ok(no_content())
}

pub async fn upload(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let store = storage(&ctx, "Failed to load backups filesystem.")?;
    let parsed = parse_record_body(&ctx.headers, body, usize::MAX).await?;
    let file = parsed.files.into_iter().find(|(k, _)| k == "file").and_then(|(_, mut files)| (!files.is_empty()).then(|| files.remove(0)));
    let mut errs = ValidationErrors::new();
    match &file {
        None => errs.add("file", FieldError::required()),
        Some(f) => {
            let kind = sniff(&f.content.sniff_sample()).content_type;
            if kind != "application/zip" {
                errs.add(
                    "file",
                    FieldError::new("validation_invalid_mime_type", format!("\"{}\" mime type must be one of: application/zip.", f.original_name))
                        .param("mimeTypes", "application/zip"),
                );
            } else {
                let (s, key) = (store.clone(), f.original_name.clone());
                if blocking(move || s.exists(&key)).await.unwrap_or(true) {
                    errs.add("file", FieldError::new("validation_backup_name_exists", "Backup file with the specified name already exists."));
                }
            }
        }
    }
    errs.into_result("An error occurred while validating the submitted data.")?;
    let file = file.expect("validated");
    let meta = FileMeta { content_type: "application/zip".into(), original_name: file.original_name.clone() };
    blocking(move || store.upload(&file.original_name, &file.content, &meta)).await.map_err(|e| {
        tracing::error!("backup upload: {e}");
        ApiError::bad_request("Failed to upload backup.")
    })?;
    Ok(no_content())
}

/// Only with a superuser file token (`?token=`), from an allowed IP.
pub async fn download(ctx: Ctx, Path(key): Path<String>) -> HttpResult {
    let denied = || ApiError::forbidden("Insufficient permissions to access the resource.");
    let token = ctx.query.get("token").unwrap_or_default().to_string();
    let auth = authenticate(&ctx.app, &token, TokenType::File).await.filter(|a| a.collection.is_superusers()).ok_or_else(denied)?;
    drop(auth);
    if !superuser_ip_allowed(&ctx.app.settings(), &ctx.real_ip()) {
        return Err(denied().into());
    }
    let store = backups::storage(&ctx.app).map_err(|_| ApiError::internal("Failed to load backups filesystem."))?;
    let k = key.clone();
    let opened = blocking(move || store.open(&k)).await.ok().flatten().ok_or_else(|| ApiError::not_found(""))?;
    let name = key.rsplit('/').next().unwrap_or(&key).to_string();
    let mut headers = HeaderMap::new();
    let disposition = pocketbun_core::files::serve::content_disposition("application/zip", &name, true);
    for (k, v) in [(header::CONTENT_DISPOSITION, disposition), (header::CONTENT_TYPE, "application/zip".into()), (header::CONTENT_LENGTH, opened.size.to_string())] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    }
    Ok(with_headers(StatusCode::OK, headers, stream_body(opened.reader, 0, opened.size)))
}

pub async fn delete(ctx: Ctx, Path(key): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    let store = backups::storage(&ctx.app).map_err(|_| ApiError::internal("Failed to load backups filesystem."))?;
    if ctx.app.active_backup.name().as_deref() == Some(key.as_str()) {
        return Err(ApiError::bad_request("The backup is currently being used and cannot be deleted.").into());
    }
    let k = key.clone();
    blocking(move || match store.exists(&k)? {
        true => store.delete(&k),
        false => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "the backup does not exist")),
    })
    .await
    .map_err(|e| ApiError::bad_request(format!("Invalid or already deleted backup file. Raw error: \n{e}")))?;
    Ok(no_content())
}

/// Answers 204 and restores in the background: the process restarts with the restored data.
pub async fn restore(ctx: Ctx, Path(key): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    if ctx.app.active_backup.name().is_some() {
        return Err(ApiError::bad_request("Try again later - another backup/restore process has already been started.").into());
    }
    let store = backups::storage(&ctx.app).map_err(|_| ApiError::internal("Failed to load backups filesystem."))?;
    let k = key.clone();
    if !blocking(move || store.exists(&k)).await.unwrap_or(false) {
        return Err(ApiError::bad_request("Missing or invalid backup file.").into());
    }
    let app = ctx.app.clone();
    tokio::spawn(async move {
        // give the response time to be written before the restart
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        if let Err(e) = backups::restore(&app, &key, crate::commands::restart::exec_self).await {
            tracing::error!("failed to restore backup {key}: {}", e.message);
        }
    });
    Ok(no_content())
}
