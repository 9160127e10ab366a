//! The WIT imports as plain JS functions on a global `__host` object. The shim wraps them
//! into PocketBase's API; they take and return strings (JSON) so each host call is one
//! boundary crossing. A failed import throws `{__hostError: true, status, message, data}`,
//! which the shim turns into an `ApiError`.

use rquickjs::{Ctx, Function, Object, Result, Value};

use crate::pocketbun::plugin::types::{ApiError, LogLevel, SqlValue};
use crate::pocketbun::plugin::{auth, collections, db, hooks, http_client, kv, log, mail, records, settings, timer, tx};

pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let h = Object::new(ctx.clone())?;
    h.set("recordFindById", Function::new(ctx.clone(), record_find_by_id)?)?;
    h.set("recordFindByFilter", Function::new(ctx.clone(), record_find_by_filter)?)?;
    h.set("recordSave", Function::new(ctx.clone(), record_save)?)?;
    h.set("recordSaveNoValidate", Function::new(ctx.clone(), record_save_no_validate)?)?;
    h.set("recordValidate", Function::new(ctx.clone(), record_validate)?)?;
    h.set("recordDelete", Function::new(ctx.clone(), record_delete)?)?;
    h.set("txBegin", Function::new(ctx.clone(), |ctx: Ctx<'_>| lift(&ctx, tx::begin()))?)?;
    h.set("txCommit", Function::new(ctx.clone(), |ctx: Ctx<'_>| lift(&ctx, tx::commit()))?)?;
    h.set("txRollback", Function::new(ctx.clone(), |ctx: Ctx<'_>| lift(&ctx, tx::rollback()))?)?;
    h.set("mailSend", Function::new(ctx.clone(), |ctx: Ctx<'_>, m: String| lift(&ctx, mail::send(&m)))?)?;
    h.set("mailSendRecord", Function::new(ctx.clone(), |ctx: Ctx<'_>, kind: String, args: String| lift(&ctx, mail::send_record_email(&kind, &args)))?)?;
    h.set("httpSend", Function::new(ctx.clone(), http_send)?)?;
    // the server's environment (the host gives it to the JS runtime only, as PocketBase's
    // $os.getenv reads the process environment)
    h.set("getenv", Function::new(ctx.clone(), |name: String| std::env::var(name).ok())?)?;
    h.set("devMode", Function::new(ctx.clone(), settings::dev_mode)?)?;
    h.set("collectionFind", Function::new(ctx.clone(), collection_find)?)?;
    h.set("collectionSave", Function::new(ctx.clone(), collection_save)?)?;
    h.set("collectionDelete", Function::new(ctx.clone(), collection_delete)?)?;
    h.set("collectionsImport", Function::new(ctx.clone(), collections_import)?)?;
    h.set("dbQuery", Function::new(ctx.clone(), db_query)?)?;
    h.set("dbExec", Function::new(ctx.clone(), db_exec)?)?;
    h.set("hookNext", Function::new(ctx.clone(), hook_next)?)?;
    h.set("log", Function::new(ctx.clone(), log_write)?)?;
    h.set("settings", Function::new(ctx.clone(), || settings::get())?)?;
    h.set("settingsFull", Function::new(ctx.clone(), || settings::get_full())?)?;
    h.set("settingsSave", Function::new(ctx.clone(), |ctx: Ctx<'_>, json: String| lift(&ctx, settings::save(&json)))?)?;
    h.set("recordsExpand", Function::new(ctx.clone(), |ctx: Ctx<'_>, c: String, ids: Vec<String>, expand: String| lift(&ctx, records::expand(&c, &ids, &expand)))?)?;
    h.set("recordsEnrich", Function::new(ctx.clone(), records_enrich)?)?;
    h.set("authNewToken", Function::new(ctx.clone(), auth_new_token)?)?;
    h.set("authValidatePassword", Function::new(ctx.clone(), |ctx: Ctx<'_>, c: String, id: String, p: String| lift(&ctx, auth::validate_password(&c, &id, &p)))?)?;
    h.set("authFindByToken", Function::new(ctx.clone(), |ctx: Ctx<'_>, t: String, kind: String| lift(&ctx, auth::find_by_token(&t, &kind)))?)?;
    h.set("sleep", Function::new(ctx.clone(), |ms: f64| timer::sleep(if ms.is_finite() && ms > 0.0 { ms as u64 } else { 0 }))?)?;
    h.set("kvGet", Function::new(ctx.clone(), |k: String| kv::get(&k))?)?;
    h.set("kvSet", Function::new(ctx.clone(), |k: String, v: String| kv::set(&k, &v))?)?;
    h.set("kvDelete", Function::new(ctx.clone(), |k: String| kv::delete(&k))?)?;
    ctx.globals().set("__host", h)
}

/// Throws the host error as a plain object the shim recognises.
fn throw<'js>(ctx: &Ctx<'js>, e: ApiError) -> rquickjs::Error {
    let build = || -> Result<Value<'js>> {
        let o = Object::new(ctx.clone())?;
        o.set("__hostError", true)?;
        o.set("status", e.status)?;
        o.set("message", e.message.as_str())?;
        o.set("data", ctx.json_parse(e.data_json.as_str())?)?;
        Ok(o.into_value())
    };
    match build() {
        Ok(v) => ctx.throw(v),
        Err(err) => err,
    }
}

fn lift<'js, T>(ctx: &Ctx<'js>, r: std::result::Result<T, ApiError>) -> Result<T> {
    r.map_err(|e| throw(ctx, e))
}

fn records_enrich<'js>(ctx: Ctx<'js>, collection: String, ids: Vec<String>, expand: String, auth_collection: String, auth_id: String) -> Result<String> {
    lift(&ctx, records::enrich(&collection, &ids, &expand, &auth_collection, &auth_id))
}

fn auth_new_token<'js>(ctx: Ctx<'js>, collection: String, id: String, kind: String, duration_secs: f64, new_email: String) -> Result<String> {
    let secs = if duration_secs.is_finite() && duration_secs > 0.0 { duration_secs as u64 } else { 0 };
    lift(&ctx, auth::new_token(&collection, &id, &kind, secs, &new_email))
}

fn record_find_by_id<'js>(ctx: Ctx<'js>, collection: String, id: String) -> Result<String> {
    lift(&ctx, records::find_by_id(&collection, &id))
}

fn record_find_by_filter<'js>(
    ctx: Ctx<'js>,
    collection: String,
    filter: String,
    sort: String,
    limit: u32,
    offset: u32,
    params_json: String,
) -> Result<String> {
    lift(&ctx, records::find_by_filter(&collection, &filter, &sort, limit, offset, &params_json))
}

fn record_save<'js>(ctx: Ctx<'js>, collection: String, json: String) -> Result<String> {
    lift(&ctx, records::save(&collection, &json))
}

fn record_save_no_validate<'js>(ctx: Ctx<'js>, collection: String, json: String) -> Result<String> {
    lift(&ctx, records::save_no_validate(&collection, &json))
}

fn record_validate<'js>(ctx: Ctx<'js>, collection: String, json: String) -> Result<()> {
    lift(&ctx, records::validate(&collection, &json))
}

/// `(method, url, [[name, value]...], body, timeoutMs)` -> `[status, [[name, value]...], body]`
/// with the body as a byte string (each char one byte; the shim decodes it).
fn http_send<'js>(
    ctx: Ctx<'js>,
    method: String,
    url: String,
    headers: Vec<rquickjs::convert::List<(String, String)>>,
    body: String,
    timeout_ms: f64,
) -> Result<rquickjs::convert::List<(u16, Vec<rquickjs::convert::List<(String, String)>>, rquickjs::TypedArray<'js, u8>)>> {
    let headers: Vec<(String, String)> = headers.into_iter().map(|rquickjs::convert::List(p)| p).collect();
    let res = lift(&ctx, http_client::send(&method, &url, &headers, body.as_bytes(), timeout_ms.max(0.0) as u32))?;
    let out_headers = res.headers.into_iter().map(rquickjs::convert::List).collect();
    let bytes = rquickjs::TypedArray::new(ctx.clone(), res.body)?;
    Ok(rquickjs::convert::List((res.status, out_headers, bytes)))
}

fn record_delete<'js>(ctx: Ctx<'js>, collection: String, id: String) -> Result<()> {
    lift(&ctx, records::delete(&collection, &id))
}

fn collection_find<'js>(ctx: Ctx<'js>, name_or_id: String) -> Result<String> {
    lift(&ctx, collections::find(&name_or_id))
}

fn collection_save<'js>(ctx: Ctx<'js>, json: String) -> Result<String> {
    lift(&ctx, collections::save(&json))
}

fn collection_delete<'js>(ctx: Ctx<'js>, name_or_id: String) -> Result<()> {
    lift(&ctx, collections::delete(&name_or_id))
}

fn collections_import<'js>(ctx: Ctx<'js>, json: String, delete_missing: bool) -> Result<()> {
    lift(&ctx, collections::import_collections(&json, delete_missing))
}

fn hook_next<'js>(ctx: Ctx<'js>, event_json: String) -> Result<String> {
    lift(&ctx, hooks::next(&event_json))
}

/// `params` is a plain JS object (`{name: value}`) for the `{:name}` placeholders.
fn sql_params<'js>(params: Option<Object<'js>>) -> Result<Vec<(String, SqlValue)>> {
    let Some(params) = params else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for prop in params.props::<String, Value>() {
        let (k, v) = prop?;
        out.push((k, sql_value(&v)?));
    }
    Ok(out)
}

fn sql_value(v: &Value<'_>) -> Result<SqlValue> {
    Ok(if v.is_null() || v.is_undefined() {
        SqlValue::Null
    } else if let Some(b) = v.as_bool() {
        SqlValue::Integer(b as i64)
    } else if let Some(i) = v.as_int() {
        SqlValue::Integer(i as i64)
    } else if let Some(f) = v.as_float() {
        if f.fract() == 0.0 && f.abs() < 9.0e15 { SqlValue::Integer(f as i64) } else { SqlValue::Real(f) }
    } else if let Some(s) = v.as_string() {
        SqlValue::Text(s.to_string()?)
    } else {
        // objects/arrays are stored as their JSON text, like PocketBase's json fields
        let s = v.ctx().json_stringify(v.clone())?.map(|s| s.to_string()).transpose()?.unwrap_or_default();
        SqlValue::Text(s)
    })
}

fn db_query<'js>(ctx: Ctx<'js>, sql: String, params: Option<Object<'js>>) -> Result<String> {
    let p = sql_params(params)?;
    lift(&ctx, db::query(&sql, &p))
}

fn db_exec<'js>(ctx: Ctx<'js>, sql: String, params: Option<Object<'js>>) -> Result<f64> {
    let p = sql_params(params)?;
    lift(&ctx, db::exec(&sql, &p)).map(|n| n as f64)
}

fn log_write(level: String, message: String) {
    let level = match level.as_str() {
        "debug" => LogLevel::Debug,
        "warn" => LogLevel::Warn,
        "error" => LogLevel::Error,
        _ => LogLevel::Info,
    };
    log::write(level, &message);
}
