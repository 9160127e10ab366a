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
    let res = service::list(&ctx.app, c, req.clone(), params).await?;
    let items = res.items.iter().map(|r| record_json(&req, r)).collect();
    json_picked(ctx.fields(), list_envelope(items, res.page, res.per_page, res.total_items, res.total_pages), true)
}

pub async fn view(ctx: Ctx, Path((coll, id)): Path<(String, String)>) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING)?;
    let req = ctx.request_info(Map::new());
    let rec = service::view(&ctx.app, c, req.clone(), &id).await?;
    json_picked(ctx.fields(), record_json(&req, &rec), false)
}

pub async fn create(ctx: Ctx, Path(coll): Path<String>, body: Body) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING_OR_INVALID)?;
    let parsed = parse_record_body(&ctx.headers, body, body_limit(&c)).await?;
    let req = ctx.request_info(Map::new());
    let input = WriteInput { body: parsed.data, files: parsed.files };
    if let Some(host) = ctx.plugins.clone().filter(|h| h.has_hooks(crate::plugins::RECORD_CREATE_REQUEST, &[&c.id, &c.name])) {
        return crate::plugins::create_with_hooks(&ctx, &host, c, req, input).await;
    }
    let rec = service::create(&ctx.app, c, req.clone(), input).await?;
    json_picked(ctx.fields(), record_json(&req, &rec), false)
}

pub async fn update(ctx: Ctx, Path((coll, id)): Path<(String, String)>, body: Body) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING_OR_INVALID)?;
    let parsed = parse_record_body(&ctx.headers, body, body_limit(&c)).await?;
    let req = ctx.request_info(Map::new());
    let input = WriteInput { body: parsed.data, files: parsed.files };
    let rec = service::update(&ctx.app, c, req.clone(), &id, input).await?;
    json_picked(ctx.fields(), record_json(&req, &rec), false)
}

pub async fn delete(ctx: Ctx, Path((coll, id)): Path<(String, String)>) -> HttpResult {
    let c = collection(&ctx, &coll, MISSING)?;
    let req = ctx.request_info(Map::new());
    service::delete(&ctx.app, c, req, &id).await?;
    Ok(no_content())
}
