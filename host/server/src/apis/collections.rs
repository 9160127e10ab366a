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

/// The type and name a create body asks for; like PocketBase's factory extraction, values of
/// the wrong type fail before anything else is looked at.
fn check_factory_keys(input: &Map<String, Value>) -> Result<(), ApiError> {
    for key in ["type", "name"] {
        if !matches!(input.get(key), None | Some(Value::Null) | Some(Value::String(_))) {
            return Err(ApiError::bad_request("Failed to load the collection type data due to invalid formatting."));
        }
    }
    Ok(())
}

const INVALID_FORMATTING: &str = "Failed to load the submitted data due to invalid formatting.";

pub async fn create(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = read_object(&ctx, body, "Failed to load the collection type data due to invalid formatting.").await?;
    check_factory_keys(&input)?;
    let c = Collection::from_api_json(&input).map_err(|_| ApiError::bad_request(INVALID_FORMATTING))?;
    let saved = collections::save_collection(&ctx.app, c, None).await?;
    automigrate(&ctx, Some(&saved), None).await?;
    json_picked(ctx.fields(), saved.to_api_json(), false)
}

pub async fn update(ctx: Ctx, Path(id): Path<String>, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let old = find(&ctx, &id)?;
    let input = read_object(&ctx, body, INVALID_FORMATTING).await?;
    let mut next = (*old).clone();
    next.apply_json(&input).map_err(|_| ApiError::bad_request(INVALID_FORMATTING))?;
    let saved = collections::save_collection(&ctx.app, next, Some(old.clone())).await?;
    automigrate(&ctx, Some(&saved), Some(&old)).await?;
    json_picked(ctx.fields(), saved.to_api_json(), false)
}

pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    let c = find(&ctx, &id)?;
    collections::delete_collection(&ctx.app, c.clone()).await?;
    automigrate(&ctx, None, Some(&c)).await?;
    Ok(no_content())
}

/// `--automigrate`: writes the JS migration of a collection change made through the API
/// (PocketBase's migratecmd does it in the collection request hooks, after the change
/// succeeded; a failure to write the file fails the request).
async fn automigrate(ctx: &Ctx, new: Option<&Collection>, old: Option<&Collection>) -> Result<(), ApiError> {
    let Some(dir) = &ctx.automigrate_dir else { return Ok(()) };
    pocketbun_core::migrations::automigrate(&ctx.app, dir, new, old).await?;
    Ok(())
}

pub async fn truncate(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    let c = find(&ctx, &id)?;
    collections::truncate_collection(&ctx.app, c).await?;
    Ok(no_content())
}

pub async fn import(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let load_error = || ApiError::bad_request("An error occurred while loading the submitted data.");
    let input = parse_body(&ctx.headers, body, DEFAULT_BODY_LIMIT).await.map_err(|e| if e.status == 400 { load_error() } else { e })?;
    let items: Vec<Map<String, Value>> = match input.get("collections") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().map(|v| v.as_object().cloned().ok_or_else(load_error)).collect::<Result<_, _>>()?,
        Some(_) => return Err(load_error().into()),
    };
    let delete_missing = match input.get("deleteMissing") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(load_error().into()),
    };
    if items.is_empty() {
        let mut errs = ValidationErrors::new();
        errs.add("collections", FieldError::required());
        return Err(ApiError::validation("An error occurred while validating the submitted data.", errs).into());
    }
    collections::import_collections(&ctx.app, items, delete_missing).await?;
    Ok(no_content())
}

/// Blank collections of every type, as the factories create them (the auth index names use
/// a random suffix since there is no id yet).
pub async fn scaffolds(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let random_id = pocketbun_core::util::random_string(10, pocketbun_core::util::LOWER_ALPHANUMERIC);
    let mut out = Map::new();
    for kind in [CollectionType::Auth, CollectionType::Base, CollectionType::View] {
        let mut c = Collection::new_with_id(kind, "", &random_id);
        c.id.clear();
        out.insert(kind.as_str().to_string(), c.to_api_json());
    }
    json_picked(ctx.fields(), Value::Object(out), false)
}

pub async fn oauth2_providers(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let list = pocketbun_core::auth::oauth2::provider_list();
    json_picked(ctx.fields(), Value::Array(list), false)
}

/// Upper bound of a dry-run view query, in characters.
const MAX_VIEW_QUERY_LENGTH: usize = 5000;

pub async fn dry_run_view(ctx: Ctx, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let input = parse_body(&ctx.headers, body, DEFAULT_BODY_LIMIT)
        .await
        .map_err(|e| if e.status == 400 { ApiError::bad_request("An error occurred while loading the submitted data.") } else { e })?;
    let query = match input.get("query") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::bad_request("An error occurred while loading the submitted data.").into()),
    };
    let mut errs = ValidationErrors::new();
    if query.is_empty() {
        errs.add("query", FieldError::required());
    } else if query.chars().count() > MAX_VIEW_QUERY_LENGTH {
        errs.add(
            "query",
            FieldError::new("validation_length_too_long", format!("The length must be no more than {MAX_VIEW_QUERY_LENGTH}."))
                .param("max", MAX_VIEW_QUERY_LENGTH),
        );
    }
    if !errs.is_empty() {
        return Err(ApiError::validation("An error occurred while validating the submitted data.", errs).into());
    }
    match collections::dry_run_view(&ctx.app, query).await? {
        Ok(result) => {
            let fields: Vec<Value> = result.fields.iter().map(|f| f.to_json()).collect();
            json_picked(ctx.fields(), json!({"fields": fields, "sample": result.sample}), false)
        }
        Err(e) => Err(ApiError::bad_request(format!("Invalid view query. Raw error: \n{e}")).into()),
    }
}
