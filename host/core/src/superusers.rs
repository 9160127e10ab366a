//! Superuser account management used by the CLI and the installer.

use serde_json::{json, Map, Value};
use std::sync::Arc;

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::model::collection::SUPERUSERS;
use crate::model::Collection;
use crate::record::validate::validate_record;
use crate::record::write::{apply_body, prepare_insert, prepare_update, WriteAccess};
use crate::record::{persist, query::select_columns, Record};

pub const INSTALLER_EMAIL: &str = "__pbinstaller@example.com";

fn collection(app: &App) -> ApiResult<Arc<Collection>> {
    app.schema().find(SUPERUSERS).ok_or_else(|| ApiError::internal("missing _superusers collection"))
}

pub fn find_by_email(app: &App, email: &str) -> ApiResult<Option<Record>> {
    let c = collection(app)?;
    let email = email.to_string();
    app.data.read_blocking(move |conn| {
        let sql = format!("SELECT {} FROM `_superusers` WHERE email = ?1 LIMIT 1", select_columns(&c, None));
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([&email])?;
        Ok(match rows.next()? {
            Some(row) => Some(Record::from_columns(c.clone(), crate::db::row_to_values(row, c.fields.len())?)),
            None => None,
        })
    })
}

/// Number of real (non-installer) superusers.
pub fn count(app: &App) -> ApiResult<i64> {
    app.data.read_blocking(|conn| {
        Ok(conn.query_row("SELECT count(*) FROM `_superusers` WHERE email != ?1", [INSTALLER_EMAIL], |r| r.get(0))?)
    })
}

/// Flattens validation errors into PocketBase's CLI text (`email: Value must be unique.`).
fn describe(e: &ApiError) -> String {
    if e.data.is_empty() {
        return e.message.clone();
    }
    e.data
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.get("message").and_then(Value::as_str).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn save(app: &App, mut rec: Record, body: Map<String, Value>) -> ApiResult<Record> {
    let access = WriteAccess { superuser: true, manager: true };
    let body_errs = apply_body(&mut rec, &body, access);
    crate::record::write::hash_passwords_blocking(&mut rec);
    if rec.is_new() {
        prepare_insert(&mut rec);
    } else {
        prepare_update(&mut rec);
    }
    let schema = app.schema();
    app.data.write_blocking(move |conn| {
        let mut errs = body_errs;
        errs.merge(validate_record(conn, &schema, &rec));
        errs.into_result("validation failed")?;
        let tx = conn.transaction()?;
        if rec.is_new() {
            persist::insert(&tx, &rec)?;
        } else {
            persist::update(&tx, &rec)?;
        }
        if rec.get_str("email") != INSTALLER_EMAIL {
            // a real superuser replaces the installer placeholder
            tx.execute("DELETE FROM `_superusers` WHERE email = ?1", [INSTALLER_EMAIL])?;
        }
        tx.commit()?;
        Ok(rec)
    })
}

fn credentials(email: &str, password: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("email".into(), json!(email));
    m.insert("password".into(), json!(password));
    m.insert("passwordConfirm".into(), json!(password));
    m.insert("verified".into(), json!(true)); // superusers are verified by default
    m
}

pub fn create(app: &App, email: &str, password: &str) -> Result<Record, String> {
    let rec = Record::new(collection(app).map_err(|e| e.message)?);
    save(app, rec, credentials(email, password)).map_err(|e| format!("failed to create new superuser account: {}", describe(&e)))
}

pub fn upsert(app: &App, email: &str, password: &str) -> Result<Record, String> {
    let existing = find_by_email(app, email).map_err(|e| e.message)?;
    let rec = match existing {
        Some(r) => r,
        None => Record::new(collection(app).map_err(|e| e.message)?),
    };
    save(app, rec, credentials(email, password)).map_err(|e| format!("failed to save superuser account: {}", describe(&e)))
}

pub fn update_password(app: &App, email: &str, password: &str) -> Result<Record, String> {
    let rec = find_by_email(app, email)
        .map_err(|e| e.message)?
        .ok_or_else(|| format!("superuser with email {email:?} doesn't exist"))?;
    let mut body = credentials(email, password);
    body.remove("email");
    save(app, rec, body).map_err(|e| format!("failed to change superuser password: {}", describe(&e)))
}

/// Deletes a superuser; Ok(false) when it did not exist.
pub fn delete(app: &App, email: &str) -> Result<bool, String> {
    let Some(rec) = find_by_email(app, email).map_err(|e| e.message)? else { return Ok(false) };
    if count(app).map_err(|e| e.message)? <= 1 {
        return Err("You can't delete the only existing superuser.".into());
    }
    let schema = app.schema();
    app.data
        .write_blocking(move |conn| {
            let tx = conn.transaction()?;
            persist::delete(&tx, &schema, &rec, 0)?;
            tx.commit()?;
            Ok(())
        })
        .map_err(|e| e.message)?;
    Ok(true)
}
