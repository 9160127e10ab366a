//! `/api/collections/{collection}/records*`.

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::model::Collection;
use pocketbun_core::record::service::{self, record_json, ListParams, WriteInput};
use pocketbun_core::ApiError;
use serde_json::Map;
use std::sync::Arc;

use super::{list_envelope, Paging};
use crate::http::body::{parse_record_body, DEFAULT_BODY_LIMIT};
use crate::http::context::Ctx;
use crate::record_hooks;
use crate::http::error::HttpResult;
use crate::http::json::{json_picked, no_content};

fn collection(ctx: &Ctx, id_or_name: &str, message: &str) -> Result<Arc<Collection>, ApiError> {
    ctx.app.schema().find(id_or_name).ok_or_else(|| ApiError::not_found(message))
}

const MISSING: &str = "Missing collection context.";
const MISSING_OR_INVALID: &str = "Missing or invalid collection context.";

/// Body limit for record writes: the default plus each field's own size allowance.
fn body_limit(c: &Collection) -> usize {
    use pocketbun_core::model::FieldType;
    let mut limit = DEFAULT_BODY_LIMIT;
    for f in &c.fields {
        let size = |default: usize| usize::try_from(f.opt_i64("maxSize")).ok().filter(|s| *s > 0).unwrap_or(default);
        limit += match f.kind {
            FieldType::File => size(5 << 20) * (f.opt_i64("maxSelect").max(1) as usize),
            FieldType::Editor => size(5 << 20),
            FieldType::Json => size(1 << 20),
            _ => 0,
        };
    }
    limit
}

pub async fn list(ctx: Ctx, Path(coll): Path<String>) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING)?;
    let p = Paging::from_query(&ctx.query)?;
    let params = ListParams {
        page: p.page,
        per_page: p.per_page,
        sort: ctx.query.str("sort").to_string(),
        filter: ctx.query.str("filter").to_string(),
        skip_total: p.skip_total,
    };
    let req = ctx.request_info(Map::new());
    let res = service::list(&ctx.app, c.clone(), req.clone(), params).await?;
    let items = record_hooks::enrich(&ctx, &c, &req, res.items.iter().map(|r| record_json(&req, r)).collect()).await?;
    if let Some(host) = record_hooks::subscribed(&ctx, record_hooks::LIST, &c) {
        return record_hooks::list(&ctx, &host, &c, items, res.page, res.per_page, res.total_items, res.total_pages).await;
    }
    json_picked(ctx.fields(), list_envelope(items, res.page, res.per_page, res.total_items, res.total_pages), true)
}

pub async fn view(ctx: Ctx, Path((coll, id)): Path<(String, String)>) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING)?;
    let req = ctx.request_info(Map::new());
    let rec = service::view(&ctx.app, c.clone(), req.clone(), &id).await?;
    let item = record_hooks::enrich_one(&ctx, &c, &req, record_json(&req, &rec)).await?;
    if let Some(host) = record_hooks::subscribed(&ctx, record_hooks::VIEW, &c) {
        return record_hooks::view(&ctx, &host, &c, item).await;
    }
    json_picked(ctx.fields(), item, false)
}

pub async fn create(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING_OR_INVALID)?;
    let parsed = parse_record_body(&ctx.headers, body, body_limit(&c)).await?;
    let req = ctx.request_info(Map::new());
    let input = WriteInput { body: parsed.data, files: parsed.files };
    if let Some(host) = record_hooks::subscribed(&ctx, record_hooks::CREATE, &c) {
        return record_hooks::create(&ctx, &host, c, req, input).await;
    }
    let rec = service::create(&ctx.app, c.clone(), req.clone(), input).await?;
    json_picked(ctx.fields(), record_hooks::enrich_one(&ctx, &c, &req, record_json(&req, &rec)).await?, false)
}

pub async fn update(ctx: Ctx, Path((coll, id)): Path<(String, String)>, body: Body) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING_OR_INVALID)?;
    let parsed = parse_record_body(&ctx.headers, body, body_limit(&c)).await?;
    let req = ctx.request_info(Map::new());
    let input = WriteInput { body: parsed.data, files: parsed.files };
    if let Some(host) = record_hooks::subscribed(&ctx, record_hooks::UPDATE, &c) {
        return record_hooks::update(&ctx, &host, c, req, &id, input).await;
    }
    let rec = service::update(&ctx.app, c.clone(), req.clone(), &id, input).await?;
    json_picked(ctx.fields(), record_hooks::enrich_one(&ctx, &c, &req, record_json(&req, &rec)).await?, false)
}

pub async fn delete(ctx: Ctx, Path((coll, id)): Path<(String, String)>) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING)?;
    let req = ctx.request_info(Map::new());
    if let Some(host) = record_hooks::subscribed(&ctx, record_hooks::DELETE, &c) {
        return record_hooks::delete(&ctx, &host, c, req, &id).await;
    }
    service::delete(&ctx.app, c, req, &id).await?;
    Ok(no_content())
}
