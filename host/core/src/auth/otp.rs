//! One-time passwords by email (auth.md §4): `_otps` rows and the OTP checks.

use serde_json::{json, Value};
use std::sync::Arc;

use super::{delete_system_row, form, has_expired, insert_system_row, system_collection};
use crate::app::App;
use crate::error::{ApiError, ApiResult, ValidationErrors};
use crate::mail::record_emails;
use crate::model::Collection;
use crate::record::{persist, Record};
use crate::util::{new_record_id, random_string};

const OTP_COST: u32 = 8;
const INVALID: &str = "Invalid or expired OTP.";

fn enabled(c: &Collection) -> ApiResult<()> {
    if c.option("otp", "enabled").as_bool() == Some(true) {
        Ok(())
    } else {
        Err(ApiError::forbidden("The collection is not configured to allow OTP authentication."))
    }
}

fn duration(c: &Collection) -> i64 {
    c.option("otp", "duration").as_i64().unwrap_or(180)
}

/// The record's OTP rows, newest first.
async fn find_by_record(app: &App, rec: &Record) -> ApiResult<Vec<Record>> {
    let c = system_collection(app, "_otps")?;
    let (cid, rid) = (rec.collection.id.clone(), rec.id().to_string());
    app.data
        .read(move |conn| {
            let sql = format!(
                "SELECT {} FROM `_otps` WHERE collectionRef = ?1 AND recordRef = ?2 ORDER BY created DESC, rowid DESC",
                crate::record::query::select_columns(&c, None)
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([&cid, &rid])?;
            let mut out = vec![];
            while let Some(row) = rows.next()? {
                out.push(Record::from_columns(c.clone(), crate::db::row_to_values(row, c.fields.len())?));
            }
            Ok(out)
        })
        .await
}

/// `request-otp` check: the record of `email` (`None` for unknown emails) and a fresh code
/// (the request hook's `e.record` and `e.password`).
pub async fn request_target(app: &Arc<App>, c: &Arc<Collection>, email: &str) -> ApiResult<(Option<Record>, String)> {
    enabled(c)?;
    let mut errs = ValidationErrors::new();
    if let Some(e) = form::email(email) {
        errs.add("email", e);
    }
    errs.into_result("An error occurred while validating the submitted data.")?;
    let rec = super::find_by_email(app, c, email).await?;
    Ok((rec, new_code(c)))
}

fn new_code(c: &Collection) -> String {
    let length = usize::try_from(c.option("otp", "length").as_i64().unwrap_or(8)).unwrap_or(8).max(1);
    random_string(length, b"1234567890")
}

/// `request-otp` action: creates (or, with ≥10 live ones, reuses) an OTP with `code` and
/// emails it in the background. Unknown emails get a random id so that the response does
/// not reveal which addresses exist.
pub async fn issue(app: &Arc<App>, c: &Arc<Collection>, rec: Option<Record>, code: String) -> ApiResult<String> {
    let Some(rec) = rec else { return Ok(new_record_id()) };
    if !app.opts.dev {
        let otps = find_by_record(app, &rec).await?;
        let live = otps.iter().filter(|o| !has_expired(o.get_str("created"), duration(c))).count();
        if live > 9 {
            tracing::warn!("too many OTP requests for {}/{}, reusing the newest", c.name, rec.id());
            return Ok(otps[0].id().to_string());
        }
    }
    let hash = super::password::hash_bcrypt(&code, OTP_COST);
    let otp = insert_system_row(
        app,
        "_otps",
        &[("collectionRef", json!(rec.collection.id)), ("recordRef", json!(rec.id())), ("password", json!(hash)), ("sentTo", json!(""))],
    )
    .await?;
    let otp_id = otp.id().to_string();
    let (app2, id2) = (app.clone(), otp_id.clone());
    tokio::spawn(async move {
        match record_emails::send_otp(&app2, &rec, &id2, &code).await {
            Ok(to) => {
                if let Err(e) = set_sent_to(&app2, &id2, to).await {
                    tracing::error!("failed to update the OTP sentTo field: {e}");
                }
            }
            Err(e) => {
                tracing::error!("failed to send OTP email: {e}");
                let _ = delete_system_row(&app2, "_otps", &id2).await;
            }
        }
    });
    Ok(otp_id)
}

/// Records where an OTP was emailed (only the first address counts, as in PocketBase).
pub async fn set_sent_to(app: &App, otp_id: &str, to: String) -> ApiResult<()> {
    let id = otp_id.to_string();
    app.data
        .write(move |conn| {
            conn.execute("UPDATE `_otps` SET sentTo = ?1 WHERE id = ?2 AND sentTo = ''", [&to, &id])?;
            Ok(())
        })
        .await
}

/// `auth-with-otp` check: the valid OTP row and its record.
pub async fn check(
    app: &Arc<App>,
    c: &Arc<Collection>,
    otp_id: &str,
    password: &str,
    attempt_allowed: impl FnOnce(&str) -> bool,
) -> ApiResult<(Record, Record)> {
    enabled(c)?;
    let mut errs = ValidationErrors::new();
    if let Some(e) = form::required_len(otp_id, 1, 255) {
        errs.add("otpId", e);
    }
    if let Some(e) = form::required_len(password, 1, 71) {
        errs.add("password", e);
    }
    errs.into_result("An error occurred while validating the submitted data.")?;
    let otps = system_collection(app, "_otps")?;
    let id = otp_id.to_string();
    let otp = app.data.read(move |conn| persist::find_by_id(conn, &otps, &id)).await?.ok_or_else(|| ApiError::bad_request(INVALID))?;
    if otp.get_str("collectionRef") != c.id || has_expired(otp.get_str("created"), duration(c)) {
        return Err(ApiError::bad_request(INVALID));
    }
    let (c2, rid) = (c.clone(), otp.get_str("recordRef").to_string());
    let rec = app.data.read(move |conn| persist::find_by_id(conn, &c2, &rid)).await?.ok_or_else(|| ApiError::bad_request(INVALID))?;
    if !attempt_allowed(rec.id()) {
        return Err(ApiError::new(429, "Too many attempts, please try again later with a new OTP."));
    }
    if !super::hasher::verify(password.to_string(), otp.get_str("password").to_string()).await {
        return Err(ApiError::bad_request(INVALID));
    }
    Ok((otp, rec))
}

/// `auth-with-otp` action: uses up the OTP and marks the record verified when the OTP went
/// to its email. Returns the record to sign in.
pub async fn consume(app: &Arc<App>, otp: &Record, mut rec: Record) -> ApiResult<Record> {
    if let Err(e) = delete_system_row(app, "_otps", otp.id()).await {
        tracing::error!("failed to delete used OTP {}: {e}", otp.id());
    }
    let sent_to = otp.get_str("sentTo");
    if rec.get("verified").as_bool() != Some(true) && !sent_to.is_empty() && rec.get_str("email") == sent_to {
        rec.values.insert("verified".into(), Value::Bool(true));
        if rec.collection.option("mfa", "enabled").as_bool() != Some(true) {
            let h = super::random_password_hash(&rec).await?;
            rec.values.insert("password".into(), Value::String(h));
        }
        match super::save_auth_record(app, rec.clone(), "Failed to authenticate.").await {
            Ok(saved) => rec = saved,
            Err(e) => tracing::error!("failed to mark the record verified after OTP: {e}"),
        }
    }
    Ok(rec)
}

/// For the CLI (`superuser otp EMAIL`): a fresh OTP for a superuser, no email. Returns (id, code).
pub async fn create_for_record(app: &App, rec: &Record) -> ApiResult<(String, String)> {
    let code = new_code(&rec.collection);
    let hash = super::password::hash_bcrypt(&code, OTP_COST);
    let otp = insert_system_row(
        app,
        "_otps",
        &[("collectionRef", json!(rec.collection.id)), ("recordRef", json!(rec.id())), ("password", json!(hash)), ("sentTo", json!(""))],
    )
    .await?;
    Ok((otp.id().to_string(), code))
}

