//! `/api/collections*` (superusers only), with PocketBase's collection request hooks
//! (`onCollectionsListRequest`, `onCollectionCreateRequest`, ...) around the endpoints.

use axum::body::Body;
use axum::extract::Path;
use pocketbun_core::collections::{self, list::list_collections};
use pocketbun_core::db::DbScope;
use pocketbun_core::model::{Collection, CollectionType};
use pocketbun_core::{ApiError, App, FieldError, ValidationErrors};
use pocketbun_wasm::DefaultAction;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

use super::{list_envelope, Paging};
use crate::http::body::{parse_body, DEFAULT_BODY_LIMIT};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;
use crate::http::json::{json_picked, no_content};
use crate::request_hooks::{self, core_err, identity, subscribed};

// PocketBase's collection request hooks (untagged)
const LIST_REQUEST: &str = "collections-list-request";
const VIEW_REQUEST: &str = "collection-view-request";
const CREATE_REQUEST: &str = "collection-create-request";
const UPDATE_REQUEST: &str = "collection-update-request";
const DELETE_REQUEST: &str = "collection-delete-request";
const IMPORT_REQUEST: &str = "collections-import-request";

fn find(ctx: &Ctx, id_or_name: &str) -> Result<Arc<Collection>, ApiError> {
    ctx.app.schema().find(id_or_name).ok_or_else(|| ApiError::not_found(""))
}

pub async fn list(ctx: Ctx) -> HttpResult {
    ctx.require_superuser()?;
    let p = Paging::from_query(&ctx.query)?;
    let page = list_collections(&ctx.app, ctx.query.str("filter"), ctx.query.str("sort"), p.page, p.per_page, p.skip_total).await?;
    let items: Vec<Value> = page.items.iter().map(Collection::to_api_json).collect();
    let Some(host) = subscribed(&ctx, LIST_REQUEST, &[]) else {
        return json_picked(ctx.fields(), list_envelope(items, page.page, page.per_page, page.total_items, page.total_pages), true);
    };
    // e.collections and e.result.items are the same list (as in PocketBase)
    let mut event = Map::new();
    event.insert("collections".into(), Value::Array(items));
    event.insert(
        "result".into(),
        json!({"page": page.page, "perPage": page.per_page, "totalItems": page.total_items, "totalPages": page.total_pages, "items": []}),
    );
    let ended = request_hooks::run(&ctx, &host, LIST_REQUEST, &[], "/api/collections".into(), &Map::new(), event, identity()).await?;
    ended.respond(|ev| {
        let result = ev.get("result").cloned().unwrap_or_default();
        let num = |k: &str| result.get(k).and_then(Value::as_i64).unwrap_or(0);
        let items = result.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        json_picked(ctx.fields(), list_envelope(items, num("page"), num("perPage"), num("totalItems"), num("totalPages")), true)
    })
}

pub async fn view(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    let c = find(&ctx, &id)?;
    let Some(host) = subscribed(&ctx, VIEW_REQUEST, &[]) else { return json_picked(ctx.fields(), c.to_api_json(), false) };
    let mut event = Map::new();
    event.insert("collection".into(), c.to_api_json());
    let path = format!("/api/collections/{}", c.name);
    let ended = request_hooks::run(&ctx, &host, VIEW_REQUEST, &[], path, &Map::new(), event, identity()).await?;
    ended.respond(|ev| json_picked(ctx.fields(), ev.get("collection").cloned().unwrap_or_default(), false))
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
    write_request(&ctx, CREATE_REQUEST, "/api/collections".into(), &input, c, None).await
}

pub async fn update(ctx: Ctx, Path(id): Path<String>, body: Body) -> HttpResult {
    ctx.require_superuser()?;
    let old = find(&ctx, &id)?;
    let input = read_object(&ctx, body, INVALID_FORMATTING).await?;
    let mut next = (*old).clone();
    next.apply_json(&input).map_err(|_| ApiError::bad_request(INVALID_FORMATTING))?;
    let path = format!("/api/collections/{}", old.name);
    write_request(&ctx, UPDATE_REQUEST, path, &input, next, Some(old)).await
}

/// A create or update, inside `onCollectionCreateRequest` / `onCollectionUpdateRequest`
/// when they have handlers: what they leave in `e.collection` is saved.
async fn write_request(ctx: &Ctx, hook: &str, path: String, input: &Map<String, Value>, c: Collection, old: Option<Arc<Collection>>) -> HttpResult {
    let (app, dir) = (ctx.app.clone(), ctx.automigrate_dir.clone());
    let Some(host) = subscribed(ctx, hook, &[]) else {
        let saved = save(&app, dir, c, old).await?;
        return json_picked(ctx.fields(), saved.to_api_json(), false);
    };
    let sent = c.to_api_json();
    let mut event = Map::new();
    event.insert("collection".into(), sent.clone());
    let default: DefaultAction = Box::new(move |mut ev: Value| {
        Box::pin(async move {
            let mut c = c;
            collections::apply_hook_changes(&mut c, &sent, &ev["collection"]).map_err(core_err)?;
            let saved = save(&app, dir, c, old).await.map_err(core_err)?;
            ev["collection"] = saved.to_api_json();
            Ok(ev)
        })
    });
    let ended = request_hooks::run(ctx, &host, hook, &[], path, input, event, default).await?;
    ended.respond(|ev| json_picked(ctx.fields(), ev.get("collection").cloned().unwrap_or_default(), false))
}

/// The save of a create/update request with PocketBase's error messages (the model hooks'
/// own errors are raw errors of the save), then `--automigrate`.
async fn save(app: &Arc<App>, dir: Option<Arc<PathBuf>>, c: Collection, old: Option<Arc<Collection>>) -> Result<Collection, ApiError> {
    let fail_msg = if old.is_some() { "Failed to update collection." } else { "Failed to create collection." };
    let saved = collections::save_collection(app, &DbScope::Pool(app.data.clone()), c, old.clone()).await.map_err(|e| {
        if e.message.starts_with(fail_msg) {
            e
        } else {
            ApiError::bad_request(format!("{fail_msg} Raw error: \n{}", e.message))
        }
    })?;
    automigrate(app, dir, Some(&saved), old.as_deref()).await?;
    Ok(saved)
}

pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> HttpResult {
    ctx.require_superuser()?;
    let c = find(&ctx, &id)?;
    let (app, dir) = (ctx.app.clone(), ctx.automigrate_dir.clone());
    let Some(host) = subscribed(&ctx, DELETE_REQUEST, &[]) else {
        remove(&app, dir, c).await?;
        return Ok(no_content());
    };
    let mut event = Map::new();
    event.insert("collection".into(), c.to_api_json());
    let path = format!("/api/collections/{}", c.name);
    let default: DefaultAction = Box::new(move |ev: Value| {
        Box::pin(async move {
            remove(&app, dir, c).await.map_err(core_err)?;
            Ok(ev)
        })
    });
    let ended = request_hooks::run(&ctx, &host, DELETE_REQUEST, &[], path, &Map::new(), event, default).await?;
    ended.respond(|_| Ok(no_content()))
}

/// The delete of a delete request (any failure other than a reference is PocketBase's
/// generic message), then `--automigrate`.
async fn remove(app: &Arc<App>, dir: Option<Arc<PathBuf>>, c: Arc<Collection>) -> Result<(), ApiError> {
    const FAILED: &str = "Failed to delete collection";
    collections::delete_collection(app, &DbScope::Pool(app.data.clone()), c.clone()).await.map_err(|e| {
        if e.message.starts_with(FAILED) {
            e
        } else {
            ApiError::bad_request(format!("{FAILED}."))
        }
    })?;
    automigrate(app, dir, None, Some(&c)).await
}

/// `--automigrate`: writes the JS migration of a collection change made through the API
/// (PocketBase's migratecmd does it in the collection request hooks, after the change
/// succeeded; a failure to write the file fails the request).
async fn automigrate(app: &App, dir: Option<Arc<PathBuf>>, new: Option<&Collection>, old: Option<&Collection>) -> Result<(), ApiError> {
    let Some(dir) = dir else { return Ok(()) };
    pocketbun_core::migrations::automigrate(app, &dir, new, old).await?;
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
    let Some(host) = subscribed(&ctx, IMPORT_REQUEST, &[]) else {
        collections::import_collections(&ctx.app, &DbScope::Pool(ctx.app.data.clone()), items, delete_missing).await?;
        return Ok(no_content());
    };
    let mut event = Map::new();
    event.insert("collectionsData".into(), Value::Array(items.into_iter().map(Value::Object).collect()));
    event.insert("deleteMissing".into(), Value::Bool(delete_missing));
    let app = ctx.app.clone();
    // like PocketBase, the import uses the handlers' e.collectionsData but the submitted
    // deleteMissing
    let default: DefaultAction = Box::new(move |ev: Value| {
        Box::pin(async move {
            let items = match ev.get("collectionsData") {
                Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_object().cloned()).collect(),
                _ => vec![],
            };
            collections::import_collections(&app, &DbScope::Pool(app.data.clone()), items, delete_missing).await.map_err(core_err)?;
            Ok(ev)
        })
    });
    let ended = request_hooks::run(&ctx, &host, IMPORT_REQUEST, &[], "/api/collections/import".into(), &input, event, default).await?;
    ended.respond(|_| Ok(no_content()))
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
