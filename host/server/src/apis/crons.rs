//! `/api/crons*` (superusers only).

use axum::extract::Path;
use pocketbun_core::{crons, ApiError};
use serde_json::{json, Value};

use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::{json_picked, no_content};

pub async fn list(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let jobs: Vec<Value> = crons::list(&ctx.app).iter().map(|(id, expr)| json!({"id": id, "expression": expr})).collect();
    json_picked(ctx.fields(), Value::Array(jobs), false)
}

pub async fn run(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    if !crons::list(&ctx.app).iter().any(|(j, _)| *j == id) {
        return Err(ApiError::not_found("Missing or invalid cron job.").into());
    }
    let app = ctx.app.clone();
    tokio::spawn(async move {
        if let Err(e) = crons::run(&app, &id).await {
            tracing::warn!("cron {id} failed: {e}");
        }
    });
    Ok(no_content())
}
