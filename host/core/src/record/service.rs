//! Record use cases behind the REST API: list, view, create, update, delete with API rules.

use serde_json::{Map, Value};
use std::sync::Arc;

use super::persist;
use super::query::{ListResult, RecordQuery};
use super::rules::{compile_condition, compile_sort, RequestInfo};
use super::validate::validate_record;
use super::write::{apply_body, prepare_insert, prepare_update, WriteAccess};
use super::{Record, Visibility};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::model::{Collection, RuleKind};

pub const SUPERUSERS_ONLY: &str = "Only superusers can perform this action.";

#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub page: i64,
    pub per_page: i64,
    pub sort: String,
    pub filter: String,
    pub skip_total: bool,
}

/// The rule for an action, or 403 when it is locked (superusers bypass rules entirely).
fn rule_for<'c>(c: &'c Collection, kind: RuleKind, req: &RequestInfo) -> ApiResult<Option<&'c str>> {
    if req.is_superuser() {
        return Ok(None);
    }
    match c.rule(kind) {
        None => Err(ApiError::forbidden(SUPERUSERS_ONLY)),
        Some(r) if r.trim().is_empty() => Ok(None),
        Some(r) => Ok(Some(r)),
    }
}

fn add_condition(q: &mut RecordQuery, c: &Collection, req: &RequestInfo, src: &str, prefix: &str) -> ApiResult<()> {
    let allow_hidden = req.is_superuser();
    let compiled = compile_condition(c, req, src, allow_hidden, prefix).map_err(|e| {
        tracing::debug!("filter error: {e}");
        ApiError::bad_request("")
    })?;
    q.conditions.push(compiled.sql);
    q.joins.extend(compiled.joins);
    q.params.extend(compiled.params);
    Ok(())
}

/// Visibility of one record for the requester.
pub fn visibility_for(req: &RequestInfo, rec: &Record) -> Visibility {
    let superuser = req.is_superuser();
    let owner = req
        .auth
        .as_ref()
        .map(|a| a.collection.id == rec.collection.id && a.id() == rec.id())
        .unwrap_or(false);
    Visibility { superuser, owner }
}

pub fn record_json(req: &RequestInfo, rec: &Record) -> Value {
    rec.to_json(visibility_for(req, rec))
}

pub async fn list(app: &App, c: Arc<Collection>, req: RequestInfo, p: ListParams) -> ApiResult<ListResult> {
    let rule = rule_for(&c, RuleKind::List, &req)?.map(str::to_string);
    if !req.is_superuser() {
        for (src, what) in [(&p.filter, "filter"), (&p.sort, "sort")] {
            let _ = what;
            if src.contains("@collection.") {
                return Err(ApiError::forbidden("Only superusers can filter by @collection."));
            }
            if src.contains("@request.") {
                return Err(ApiError::forbidden("Only superusers can filter by @request."));
            }
        }
    }
    let mut q = RecordQuery { page: p.page, per_page: p.per_page, skip_total: p.skip_total, ..Default::default() };
    if let Some(rule) = &rule {
        add_condition(&mut q, &c, &req, rule, "r")?;
    }
    if !p.filter.trim().is_empty() {
        add_condition(&mut q, &c, &req, &p.filter, "f")?;
    }
    if !p.sort.trim().is_empty() {
        let (order, joins, params) = compile_sort(&c, &req, &p.sort, req.is_superuser()).map_err(|e| {
            tracing::debug!("sort error: {e}");
            ApiError::bad_request("")
        })?;
        q.order_by = order;
        q.joins.extend(joins);
        q.params.extend(params);
    }
    app.data.read(move |conn| q.run(conn, &c)).await
}

/// Fetches one record with the given rule applied (None when missing or filtered out).
async fn find_with_rule(app: &App, c: &Arc<Collection>, req: &RequestInfo, id: &str, rule: Option<&str>) -> ApiResult<Option<Record>> {
    let mut q = RecordQuery::default();
    let p = q.params.bind(id.to_string());
    q.conditions.push(format!("{}.`id` = {p}", crate::db::quote_ident(&c.name)));
    if let Some(rule) = rule {
        add_condition(&mut q, c, req, rule, "r")?;
    }
    let c2 = c.clone();
    app.data.read(move |conn| q.first(conn, &c2)).await
}

pub async fn view(app: &App, c: Arc<Collection>, req: RequestInfo, id: &str) -> ApiResult<Record> {
    let rule = rule_for(&c, RuleKind::View, &req)?.map(str::to_string);
    find_with_rule(app, &c, &req, id, rule.as_deref()).await?.ok_or_else(|| ApiError::not_found(""))
}

fn write_access(req: &RequestInfo) -> WriteAccess {
    let su = req.is_superuser();
    WriteAccess { superuser: su, manager: su }
}

pub async fn create(app: &App, c: Arc<Collection>, req: RequestInfo, body: Map<String, Value>) -> ApiResult<Record> {
    if c.is_view() {
        return Err(ApiError::bad_request("Unsupported collection type."));
    }
    let rule = rule_for(&c, RuleKind::Create, &req)?.map(str::to_string);
    let mut rec = Record::new(c.clone());
    let access = write_access(&req);
    let body_errs = apply_body(&mut rec, &body, access);
    prepare_insert(&mut rec);
    let schema = app.schema();
    app.data
        .write(move |conn| {
            let mut errs = body_errs;
            errs.merge(validate_record(conn, &schema, &rec));
            errs.into_result("Failed to create record.")?;
            let tx = conn.transaction()?;
            persist::insert(&tx, &rec)?;
            if let Some(rule) = &rule {
                // the rule sees the record as it would be after the insert
                if !matches_rule(&tx, &rec, &req, rule)? {
                    return Err(ApiError::bad_request("Failed to create record."));
                }
            }
            tx.commit()?;
            Ok(rec)
        })
        .await
}

fn matches_rule(conn: &rusqlite::Connection, rec: &Record, req: &RequestInfo, rule: &str) -> ApiResult<bool> {
    let mut q = RecordQuery::default();
    let p = q.params.bind(rec.id().to_string());
    q.conditions.push(format!("{}.`id` = {p}", crate::db::quote_ident(&rec.collection.name)));
    add_condition(&mut q, &rec.collection, req, rule, "r")?;
    Ok(q.first(conn, &rec.collection)?.is_some())
}

pub async fn update(app: &App, c: Arc<Collection>, req: RequestInfo, id: &str, body: Map<String, Value>) -> ApiResult<Record> {
    if c.is_view() {
        return Err(ApiError::bad_request("Unsupported collection type."));
    }
    let rule = rule_for(&c, RuleKind::Update, &req)?.map(str::to_string);
    let mut rule_req = req.clone();
    rule_req.body = body.clone();
    let mut rec = find_with_rule(app, &c, &rule_req, id, rule.as_deref()).await?.ok_or_else(|| ApiError::not_found(""))?;
    let body_errs = apply_body(&mut rec, &body, write_access(&req));
    prepare_update(&mut rec);
    let schema = app.schema();
    app.data
        .write(move |conn| {
            let mut errs = body_errs;
            errs.merge(validate_record(conn, &schema, &rec));
            errs.into_result("Failed to update record.")?;
            let tx = conn.transaction()?;
            persist::update(&tx, &rec)?;
            tx.commit()?;
            rec.original = Some(rec.values.clone());
            Ok(rec)
        })
        .await
}

pub async fn delete(app: &App, c: Arc<Collection>, req: RequestInfo, id: &str) -> ApiResult<()> {
    if c.is_view() {
        return Err(ApiError::bad_request("Unsupported collection type."));
    }
    let rule = rule_for(&c, RuleKind::Delete, &req)?.map(str::to_string);
    let rec = find_with_rule(app, &c, &req, id, rule.as_deref()).await?.ok_or_else(|| ApiError::not_found(""))?;
    let schema = app.schema();
    app.data
        .write(move |conn| {
            let tx = conn.transaction()?;
            persist::delete(&tx, &schema, &rec, 0)?;
            tx.commit()?;
            Ok(())
        })
        .await
}
