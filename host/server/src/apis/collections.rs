//! `/api/collections*` (superusers only).

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::collections::{self, list::list_collections};
use pocketbun_core::model::{Collection, CollectionType};
use pocketbun_core::{ApiError, FieldError, ValidationErrors};
use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::{list_envelope, Paging};
use crate::http::body::{parse_body, DEFAULT_BODY_LIMIT};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::{json_picked, no_content};

fn find(ctx: &Ctx, id_or_name: &str) -> Result<Arc<Collection>, ApiError> {
    ctx.app.schema().find(id_or_name).ok_or_else(|| ApiError::not_found(""))
}

pub async fn list(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let p = Paging::from_query(&ctx.query)?;
    let page = list_collections(&ctx.app, ctx.query.str("filter"), ctx.query.str("sort"), p.page, p.per_page, p.skip_total).await?;
    let items = page.items.iter().map(Collection::to_api_json).collect();
    json_picked(ctx.fields(), list_envelope(items, page.page, page.per_page, page.total_items, page.total_pages), true)
}

pub async fn view(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    let c = find(&ctx, &id)?;
    json_picked(ctx.fields(), c.to_api_json(), false)
}

async fn read_object(ctx: &Ctx, body: Body, bad_format: &str) -> Result<Map<String, Value>, ApiError> {
    parse_body(&ctx.headers, body, DEFAULT_BODY_LIMIT).await.map_err(|e| {
        if e.status == 400 {
            ApiError::bad_request(bad_format)
        } else {
            e
        }
    })
}

pub async fn create(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = read_object(&ctx, body, "Failed to load the collection type data due to invalid formatting.").await?;
    let c = Collection::from_api_json(&input)
        .map_err(|_| ApiError::bad_request("Failed to load the submitted data due to invalid formatting."))?;
    let saved = collections::save_collection(&ctx.app, c, None).await?;
    json_picked(ctx.fields(), saved.to_api_json(), false)
}

pub async fn update(ctx: Ctx, Path(id): Path<String>, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let old = find(&ctx, &id)?;
    let input = read_object(&ctx, body, "Failed to load the submitted data due to invalid formatting.").await?;
    let mut next = (*old).clone();
    next.apply_json(&input).map_err(|_| ApiError::bad_request("Failed to load the submitted data due to invalid formatting."))?;
    let saved = collections::save_collection(&ctx.app, next, Some(old)).await?;
    json_picked(ctx.fields(), saved.to_api_json(), false)
}

pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    let c = find(&ctx, &id)?;
    collections::delete_collection(&ctx.app, c).await?;
    Ok(no_content())
}

pub async fn truncate(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    let c = find(&ctx, &id)?;
    collections::truncate_collection(&ctx.app, c).await?;
    Ok(no_content())
}

pub async fn import(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = parse_body(&ctx.headers, body, DEFAULT_BODY_LIMIT).await?;
    let items: Vec<Map<String, Value>> = match input.get("collections") {
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_object().cloned()).collect(),
        _ => vec![],
    };
    if items.is_empty() {
        let mut errs = ValidationErrors::new();
        errs.add("collections", FieldError::required());
        return Err(ApiError::validation("An error occurred while validating the submitted data.", errs).into());
    }
    let delete_missing = input.get("deleteMissing").and_then(Value::as_bool).unwrap_or(false);
    collections::import_collections(&ctx.app, items, delete_missing).await?;
    Ok(no_content())
}

pub async fn scaffolds(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let mut out = Map::new();
    for kind in [CollectionType::Auth, CollectionType::Base, CollectionType::View] {
        let mut c = Collection::new(kind, "");
        if kind != CollectionType::View {
            c.fields.push(pocketbun_core::model::collection::id_field());
        }
        if kind == CollectionType::Auth {
            c.prepare_for_save(&|_| false);
            c.id.clear();
            c.created.clear();
            c.updated.clear();
            let suffix = pocketbun_core::util::random_string(10, pocketbun_core::util::LOWER_ALPHANUMERIC);
            c.indexes = vec![
                format!("CREATE UNIQUE INDEX `idx_tokenKey_{suffix}` ON `` (`tokenKey`)"),
                format!("CREATE UNIQUE INDEX `idx_email_{suffix}` ON `` (`email`) WHERE `email` != ''"),
            ];
        }
        out.insert(kind.as_str().to_string(), c.to_api_json());
    }
    json_picked(ctx.fields(), Value::Object(out), false)
}

pub async fn oauth2_providers(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    json_picked(ctx.fields(), json!([]), false)
}
