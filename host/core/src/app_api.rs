//! The app's own data API (PocketBase's `$app.findRecordById`, `$app.save`, `$app.db()`):
//! no API rules, every field visible. Used by extensions (the Wasm plugin host) through a
//! narrow trait implemented in the server; kept free of HTTP and Wasm types.

use rusqlite::types::ValueRef;
use serde_json::{json, Map, Value};
use std::sync::Arc;

use crate::app::App;
use crate::db::{DbScope, SqlParams};
use crate::error::{ApiError, ApiResult};
use crate::model::Collection;
use crate::record::hooked::{self, RecordWrite};
use crate::record::persist;
use crate::record::query::{RecordQuery, MAX_PER_PAGE};
use crate::query::QueryCompiler;
use crate::record::rules::RequestInfo;
use crate::record::validate::validate_record;
use crate::files::{FileSource, InputFile};
use crate::record::write::{apply_body, attach_uploads, prepare_insert, prepare_update, WriteAccess};
use crate::record::{Record, Visibility};

/// A bound parameter for raw SQL and filters.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

pub fn collection(app: &App, name_or_id: &str) -> ApiResult<Arc<Collection>> {
    app.schema().find(name_or_id).ok_or_else(|| ApiError::not_found(""))
}

/// Every field except password hashes and token keys, plus collectionId/collectionName.
pub fn full_json(rec: &Record) -> Value {
    rec.to_json(Visibility { superuser: true, owner: true })
}

pub async fn find_by_id(db: &DbScope, c: Arc<Collection>, id: String) -> ApiResult<Record> {
    db.read(move |conn| persist::find_by_id(conn, &c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found(""))
}

/// `{:name}` placeholders in a filter become quoted literals of the filter language
/// (the filter compiler binds every literal as an SQL parameter).
pub fn substitute_filter_params(filter: &str, params: &Map<String, Value>) -> String {
    replace_placeholders(filter, |name| {
        params.get(name).map(|v| match v {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => quote_filter_text(s),
            other => quote_filter_text(&other.to_string()),
        })
    })
}

fn quote_filter_text(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Replaces `{:name}` with `f(name)`; unknown names are left as they are.
fn replace_placeholders(src: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(start) = rest.find("{:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').filter(|&e| after[..e].chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        match end.and_then(|e| f(&after[..e]).map(|r| (e, r))) {
            Some((e, replacement)) => {
                out.push_str(&replacement);
                rest = &after[e + 1..];
            }
            None => {
                out.push_str("{:");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

pub struct FilterQuery {
    pub filter: String,
    pub sort: String,
    /// 0 = up to the maximum page size.
    pub limit: u32,
    pub offset: u32,
    pub params: Map<String, Value>,
}

/// PocketBase's `findRecordsByFilter`, capped at [`MAX_PER_PAGE`] rows.
/// PocketBase's `$app.expandRecords`: the stored records `ids` of `c` (in that order; missing
/// ones left out) with the relations of `expand` (`author,comments_via_post.user`) attached,
/// fetched with the app's rights (no view rules).
pub async fn expand(app: &App, db: &DbScope, c: Arc<Collection>, ids: Vec<String>, expand: String) -> ApiResult<Vec<Record>> {
    let schema = app.schema();
    // expanding as a superuser skips the view rules, as the app's own expand does
    let superuser = schema.find("_superusers").map(Record::new);
    db.read(move |conn| {
        let mut records = Vec::with_capacity(ids.len());
        for id in &ids {
            records.extend(persist::find_by_id(conn, &c, id)?);
        }
        let req = RequestInfo { auth: superuser, context: "expand".into(), ..Default::default() };
        crate::record::expand::expand_records(conn, &schema, &req, &mut records, &crate::record::expand::ExpandTree::parse(&expand));
        Ok(records)
    })
    .await
}

/// PocketBase's `$apis.enrichRecords`: the stored records `ids` of `c` as the requester
/// `auth` (collection and id; None = a guest) sees them in an API response: `expand` fetched
/// with the view rules, email and hidden fields shown per requester. (The `onRecordEnrich`
/// hook is not run.)
pub async fn enrich(app: &App, db: &DbScope, c: Arc<Collection>, ids: Vec<String>, expand: String, auth: Option<(String, String)>) -> ApiResult<Vec<Value>> {
    let schema = app.schema();
    let auth_collection = match &auth {
        Some((name, _)) => Some(collection(app, name)?),
        None => None,
    };
    db.read(move |conn| {
        let requester = match (auth_collection, auth) {
            (Some(ac), Some((_, id))) => persist::find_by_id(conn, &ac, &id)?,
            _ => None,
        };
        let mut query = Map::new();
        query.insert("expand".into(), Value::String(expand.clone()));
        let req = RequestInfo { auth: requester, method: "GET".into(), context: "default".into(), query, ..Default::default() };
        let mut records = Vec::with_capacity(ids.len());
        for id in &ids {
            records.extend(persist::find_by_id(conn, &c, id)?);
        }
        crate::record::expand::expand_records(conn, &schema, &req, &mut records, &crate::record::expand::ExpandTree::parse(&expand));
        Ok(records.iter().map(|r| crate::record::service::record_json(&req, r)).collect())
    })
    .await
}

pub async fn find_by_filter(app: &App, db: &DbScope, c: Arc<Collection>, q: FilterQuery) -> ApiResult<Vec<Record>> {
    let req = RequestInfo::default();
    let mut rq = RecordQuery { skip_total: true, ..Default::default() };
    let filter = substitute_filter_params(&q.filter, &q.params);
    // server-side queries see hidden fields and have no filter length limit, like rules
    let schema = app.schema();
    let mut qc = QueryCompiler::new(&schema, &c, &req, "f");
    if !filter.trim().is_empty() {
        qc.add_rule(&filter).map_err(|e| ApiError::bad_request(format!("invalid filter: {e}")))?;
    }
    if !q.sort.trim().is_empty() {
        qc.add_sort(&q.sort).map_err(|e| ApiError::bad_request(format!("invalid sort: {e}")))?;
    }
    let compiled = qc.finish().map_err(|e| ApiError::bad_request(format!("invalid filter: {e}")))?;
    rq.conditions = compiled.conditions;
    rq.joins = compiled.joins;
    rq.order_by = compiled.order_by;
    rq.params = compiled.params;
    // the query pages by page/perPage: fetch offset+limit rows and skip the offset
    let (limit, offset) = (i64::from(q.limit), i64::from(q.offset));
    let want = if limit == 0 { MAX_PER_PAGE } else { (limit + offset).min(MAX_PER_PAGE) };
    rq.page = 1;
    rq.per_page = want;
    let items = db.read(move |conn| rq.run(conn, &c)).await?.items;
    Ok(items.into_iter().skip(offset as usize).take(if limit == 0 { usize::MAX } else { limit as usize }).collect())
}

/// What [`save`] does with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// Validate, then write (`$app.save`).
    Save,
    /// Write without field validation (`$app.saveNoValidate`).
    SaveNoValidate,
    /// Only validate (`$app.validate`); nothing is written.
    ValidateOnly,
}

/// Inserts or updates (when `data.id` names an existing record) with full rights, running
/// field validation like PocketBase's `app.Save` (unless `mode` says otherwise).
pub async fn save(app: &App, db: &DbScope, c: Arc<Collection>, data: Map<String, Value>, mode: SaveMode) -> ApiResult<Record> {
    if c.is_view() {
        return Err(ApiError::bad_request("Unsupported collection type."));
    }
    let id = data.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let existing = if id.is_empty() { None } else { find_by_id(db, c.clone(), id).await.ok() };
    let is_new = existing.is_none();
    let mut rec = existing.unwrap_or_else(|| Record::new(c.clone()));
    let access = WriteAccess { superuser: true, manager: true };
    let (mut data, files) = split_new_files(data)?;
    attach_uploads(&mut rec, &mut data, files);
    let body_errs = apply_body(&mut rec, &data, access);
    // hashed before prepare_update, which rotates the tokenKey of a changed password
    crate::record::write::hash_passwords(&mut rec).await?;
    if is_new {
        prepare_insert(&mut rec);
    } else {
        prepare_update(&mut rec);
    }
    let scope = db.clone();
    let (db, schema, storage) = (db.clone(), app.schema(), crate::files::storage(app));
    let make_write = move |validate: bool| -> RecordWrite {
        Box::new(move |mut rec| {
            Box::pin(async move {
                db.write(move |conn| {
                    let mut errs = body_errs;
                    if validate && mode != SaveMode::SaveNoValidate {
                        errs.merge(validate_record(conn, &schema, &rec));
                    }
                    errs.into_result(if is_new { "Failed to create record." } else { "Failed to update record." })?;
                    if mode == SaveMode::ValidateOnly {
                        return Ok(rec);
                    }
                    let uploaded = crate::record::service::upload_files(storage.as_ref(), &rec)?;
                    // a savepoint, so this also nests inside an open `WriteTx`
                    let written = (|| {
                        let sp = conn.savepoint()?;
                        if is_new {
                            persist::insert(&sp, &rec)?;
                        } else {
                            persist::update(&sp, &rec)?;
                        }
                        sp.commit()?;
                        Ok(())
                    })();
                    if let Err(e) = written {
                        crate::record::service::discard_uploads(conn, storage.as_ref(), &rec, &uploaded);
                        return Err(e);
                    }
                    rec.mark_stored();
                    Ok(rec)
                })
                .await
            })
        })
    };
    if mode == SaveMode::ValidateOnly {
        return make_write(true)(rec).await;
    }
    let no_validation = mode == SaveMode::SaveNoValidate;
    hooked::save_in(app, rec, make_write, hooked::WriteScope { db: Some(&scope), after: scope.after_hooks(), no_validation }).await
}

/// A new file in a plugin's record JSON (`$filesystem.fileFromBytes`):
/// `{"__pbFile": {"name": "...", "base64": "..."}}`, alone or among a field's file names.
fn new_file(v: &Value) -> Option<ApiResult<InputFile>> {
    let f = v.get("__pbFile")?;
    use base64::Engine;
    let name = f.get("name").and_then(Value::as_str).unwrap_or("file").to_string();
    let content = base64::engine::general_purpose::STANDARD
        .decode(f.get("base64").and_then(Value::as_str).unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("invalid file content of {name:?}: {e}")));
    Some(content.map(|c| InputFile { original_name: name, content: FileSource::memory(c) }))
}

/// Moves the new files out of `data` (as uploads by field), leaving the kept file names.
fn split_new_files(mut data: Map<String, Value>) -> ApiResult<(Map<String, Value>, Vec<(String, Vec<InputFile>)>)> {
    let mut files = vec![];
    for (key, value) in data.iter_mut() {
        let items: Vec<Value> = match value {
            Value::Array(a) => a.clone(),
            Value::Object(_) => vec![value.clone()],
            _ => continue,
        };
        let mut kept = vec![];
        let mut new = vec![];
        for item in items {
            match new_file(&item) {
                Some(file) => new.push(file?),
                None => kept.push(item),
            }
        }
        if !new.is_empty() {
            *value = Value::Array(kept);
            files.push((key.clone(), new));
        }
    }
    Ok((data, files))
}

pub async fn delete(app: &App, db: &DbScope, c: Arc<Collection>, id: String) -> ApiResult<()> {
    let rec = find_by_id(db, c, id).await?;
    let scope = db.clone();
    let (db, schema) = (db.clone(), app.schema());
    let write: RecordWrite = Box::new(move |rec| {
        Box::pin(async move {
            db.write(move |conn| {
                let sp = conn.savepoint()?;
                persist::delete(&sp, &schema, &rec, 0)?;
                sp.commit()?;
                Ok(rec)
            })
            .await
        })
    });
    hooked::delete_in(app, rec, write, scope.after_hooks()).await.map(|_| ())
}

/// Rewrites `{:name}` placeholders to bound parameters (unknown names are an error, as in
/// dbx).
fn bind_sql(sql: &str, params: Vec<(String, Param)>) -> ApiResult<(String, SqlParams)> {
    let mut bound = SqlParams::new();
    let mut missing = None;
    let text = replace_placeholders(sql, |name| match params.iter().find(|(k, _)| k == name) {
        Some((_, v)) => Some(match v.clone() {
            Param::Null => bound.bind(Option::<i64>::None),
            Param::Integer(i) => bound.bind(i),
            Param::Real(f) => bound.bind(f),
            Param::Text(s) => bound.bind(s),
            Param::Blob(b) => bound.bind(b),
        }),
        None => {
            missing.get_or_insert_with(|| name.to_string());
            None
        }
    });
    match missing {
        Some(name) => Err(ApiError::bad_request(format!("missing bound parameter {name:?}"))),
        None => Ok((text, bound)),
    }
}

fn sql_error(e: rusqlite::Error) -> ApiError {
    ApiError::bad_request(e.to_string())
}

fn cell(v: ValueRef<'_>) -> Value {
    use base64::Engine;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => json!(i),
        ValueRef::Real(f) => json!(f),
        ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

/// A read query: rows as objects (column -> value).
pub async fn query(db: &DbScope, sql: String, params: Vec<(String, Param)>) -> ApiResult<Vec<Map<String, Value>>> {
    let (sql, bound) = bind_sql(&sql, params)?;
    db.read(move |conn| {
            let mut stmt = conn.prepare(&sql).map_err(sql_error)?;
            let names: Vec<String> = stmt.column_names().into_iter().map(str::to_string).collect();
            let refs = bound.as_refs();
            let mut rows = stmt.query(refs.as_slice()).map_err(sql_error)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(sql_error)? {
                let mut m = Map::with_capacity(names.len());
                for (i, n) in names.iter().enumerate() {
                    m.insert(n.clone(), row.get_ref(i).map(cell).unwrap_or(Value::Null));
                }
                out.push(m);
            }
            Ok(out)
        })
        .await
}

/// A write statement on the writer connection; returns the number of changed rows.
pub async fn exec(db: &DbScope, sql: String, params: Vec<(String, Param)>) -> ApiResult<u64> {
    let (sql, bound) = bind_sql(&sql, params)?;
    db.write(move |conn| {
            let refs = bound.as_refs();
            let n = conn.execute(&sql, refs.as_slice()).map_err(sql_error)?;
            Ok(n as u64)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_params_are_quoted_literals() {
        let mut p = Map::new();
        p.insert("q".into(), json!("it's \\ x"));
        p.insert("n".into(), json!(3));
        assert_eq!(substitute_filter_params("a = {:q} && b > {:n} && c = {:zz}", &p), r"a = 'it\'s \\ x' && b > 3 && c = {:zz}");
    }

    #[test]
    fn sql_placeholders_are_bound() {
        let (sql, bound) = bind_sql("SELECT {:a}, {:b}", vec![("a".into(), Param::Integer(1)), ("b".into(), Param::Text("x".into()))]).unwrap();
        assert_eq!(sql, "SELECT :p0, :p1");
        assert_eq!(bound.0.len(), 2);
        assert!(bind_sql("SELECT {:missing}", vec![]).is_err());
    }
}
