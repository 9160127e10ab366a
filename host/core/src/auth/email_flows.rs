//! Verification, password reset and email change (auth.md §7; apis/record_auth_*_{request,confirm}.go).

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

use super::token::{raw_claims, TokenType};
use super::{find_by_email, find_record_by_token, form, save_auth_record};
use crate::app::App;
use crate::error::{ApiError, ApiResult, FieldError, ValidationErrors};
use crate::mail::record_emails;
use crate::model::Collection;
use crate::record::Record;

const VALIDATION_FAILED: &str = "An error occurred while validating the submitted data.";
const RESEND_THROTTLE: Duration = Duration::from_secs(120);

fn verification_key(rec: &Record) -> String {
    format!("@limitVerificationEmail_{}{}", rec.collection.id, rec.id())
}

fn reset_key(rec: &Record) -> String {
    format!("@limitPasswordResetEmail_{}{}", rec.collection.id, rec.id())
}

fn single(field: &str, err: Option<FieldError>) -> ApiResult<()> {
    let mut errs = ValidationErrors::new();
    if let Some(e) = err {
        errs.add(field, e);
    }
    errs.into_result(VALIDATION_FAILED)
}

/// `request-verification`: always 204 for valid input (no enumeration); the email is sent in
/// the background, at most once per record every 2 minutes.
pub async fn request_verification(app: &Arc<App>, c: &Arc<Collection>, email: &str) -> ApiResult<()> {
    if c.is_superusers() {
        return Err(ApiError::bad_request("All superusers are verified by default."));
    }
    single("email", form::email(email))?;
    let Some(rec) = find_by_email(app, c, email).await? else { return Ok(()) };
    let key = verification_key(&rec);
    let verified = rec.get("verified").as_bool() == Some(true);
    if verified || app.throttles.contains(&key) {
        return Ok(());
    }
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = record_emails::send_verification(&app, &rec).await {
            tracing::error!("failed to send verification email: {e}");
        }
        app.throttles.insert(&key, RESEND_THROTTLE);
    });
    Ok(())
}

/// Checks a verification/reset token for the confirm forms.
async fn check_token(app: &App, c: &Collection, token: &str, kind: TokenType) -> Result<Record, FieldError> {
    let rec = find_record_by_token(app, token, kind)
        .await
        .ok_or_else(|| FieldError::new("validation_invalid_token", "Invalid or expired token."))?;
    if rec.collection.id != c.id {
        return Err(FieldError::new("validation_token_collection_mismatch", "The provided token is for different auth collection."));
    }
    Ok(rec)
}

pub async fn confirm_verification(app: &Arc<App>, c: &Arc<Collection>, token: &str) -> ApiResult<()> {
    if c.is_superusers() {
        return Err(ApiError::bad_request("All superusers are verified by default."));
    }
    if token.is_empty() {
        return single("token", Some(FieldError::required()));
    }
    let claim_email = raw_claims(token).get("email").and_then(Value::as_str).unwrap_or_default().to_string();
    if claim_email.is_empty() {
        return single("token", Some(FieldError::new("validation_invalid_token_claims", "Missing email token claim.")));
    }
    let mut rec = match check_token(app, c, token, TokenType::Verification).await {
        Ok(r) => r,
        Err(e) => return single("token", Some(e)),
    };
    if !super::secure_eq(rec.get_str("email"), &claim_email) {
        return single(
            "token",
            Some(FieldError::new("validation_token_email_mismatch", "The record email doesn't match with the requested token claims.")),
        );
    }
    let key = verification_key(&rec);
    if rec.get("verified").as_bool() != Some(true) {
        rec.values.insert("verified".into(), Value::Bool(true));
        if c.option("passwordAuth", "enabled").as_bool() != Some(true) {
            let h = super::random_password_hash(&rec).await?;
            rec.values.insert("password".into(), Value::String(h));
        }
        save_auth_record(app, rec, "An error occurred while saving the verified state.").await?;
    }
    app.throttles.remove(&key);
    Ok(())
}

/// `request-password-reset`: 204 for unknown emails too; 2-minute resend throttle.
pub async fn request_password_reset(app: &Arc<App>, c: &Arc<Collection>, email: &str) -> ApiResult<()> {
    if c.option("passwordAuth", "enabled").as_bool() != Some(true) {
        return Err(ApiError::bad_request("The collection is not configured to allow password authentication."));
    }
    single("email", form::email(email))?;
    let Some(rec) = find_by_email(app, c, email).await? else { return Ok(()) };
    let key = reset_key(&rec);
    if app.throttles.contains(&key) {
        return Ok(());
    }
    let app = app.clone();
    tokio::spawn(async move {
        match record_emails::send_password_reset(&app, &rec).await {
            Ok(()) => app.throttles.insert(&key, RESEND_THROTTLE),
            Err(e) => tracing::error!("failed to send password reset email: {e}"),
        }
    });
    Ok(())
}

pub async fn confirm_password_reset(app: &Arc<App>, c: &Arc<Collection>, token: &str, password: &str, confirm: &str) -> ApiResult<()> {
    let mut errs = ValidationErrors::new();
    let mut found = None;
    if token.is_empty() {
        errs.add("token", FieldError::required());
    } else {
        match check_token(app, c, token, TokenType::PasswordReset).await {
            Ok(r) => found = Some(r),
            Err(e) => errs.add("token", e),
        }
    }
    let min = c.field("password").map(|f| f.opt_i64("min")).filter(|m| *m > 0).unwrap_or(1) as usize;
    if let Some(e) = form::required_len(password, min, 255) {
        errs.add("password", e);
    }
    if confirm.is_empty() {
        errs.add("passwordConfirm", FieldError::required());
    } else if confirm != password {
        errs.add("passwordConfirm", FieldError::new("validation_values_mismatch", "Values don't match."));
    }
    errs.into_result(VALIDATION_FAILED)?;
    let Some(mut rec) = found else { return Err(ApiError::bad_request("Invalid or expired password reset token.")) };
    if let Some(f) = rec.collection.field("password") {
        if let Some(e) = crate::record::write::validate_plain_password(f, password) {
            let mut errs = ValidationErrors::new();
            errs.add("password", e);
            return Err(ApiError::validation("Failed to set new password.", errs));
        }
    }
    super::set_password(&mut rec, password).await?;
    if rec.get("verified").as_bool() != Some(true) {
        let claim_email = raw_claims(token).get("email").and_then(Value::as_str).unwrap_or_default().to_string();
        if rec.get_str("email") == claim_email {
            rec.values.insert("verified".into(), Value::Bool(true));
        }
    }
    let key = reset_key(&rec);
    save_auth_record(app, rec, "Failed to set new password.").await?;
    app.throttles.remove(&key);
    Ok(())
}

/// `request-email-change` for the authenticated record: the confirmation goes to the new address.
pub async fn request_email_change(app: &Arc<App>, rec: &Record, new_email: &str) -> ApiResult<()> {
    if rec.collection.is_superusers() {
        return Err(ApiError::bad_request("All superusers can change their emails directly."));
    }
    let mut err = form::email(new_email);
    if err.is_none() && new_email == rec.get_str("email") {
        err = Some(FieldError::new("validation_not_in_invalid", "Must not be in list."));
    }
    if err.is_none() {
        if let Some(other) = find_by_email(app, &rec.collection, new_email).await? {
            if other.id() != rec.id() {
                err = Some(FieldError::new("validation_invalid_new_email", "Invalid new email address."));
            }
        }
    }
    single("newEmail", err)?;
    record_emails::send_email_change(app, rec, new_email).await.map_err(|e| {
        tracing::error!("failed to send email change email: {e}");
        ApiError::bad_request("Failed to request email change.")
    })
}

async fn parse_email_change_token(app: &App, c: &Arc<Collection>, token: &str) -> Result<(Record, String), FieldError> {
    let new_email = raw_claims(token).get("newEmail").and_then(Value::as_str).unwrap_or_default().to_string();
    if new_email.is_empty() {
        return Err(FieldError::new("validation_invalid_token_payload", "Invalid token payload - newEmail must be set."));
    }
    let rec = check_token(app, c, token, TokenType::EmailChange).await?;
    if find_by_email(app, c, &new_email).await.ok().flatten().is_some() {
        return Err(FieldError::new("validation_invalid_token_email", "The new email address is invalid."));
    }
    Ok((rec, new_email))
}

pub async fn confirm_email_change(app: &Arc<App>, c: &Arc<Collection>, token: &str, password: &str) -> ApiResult<()> {
    if c.is_superusers() {
        return Err(ApiError::bad_request("All superusers can change their emails directly."));
    }
    let mut errs = ValidationErrors::new();
    let parsed = if token.is_empty() {
        errs.add("token", FieldError::required());
        None
    } else {
        match parse_email_change_token(app, c, token).await {
            Ok(p) => Some(p),
            Err(e) => {
                errs.add("token", e);
                None
            }
        }
    };
    if let Some(e) = form::required_len(password, 1, 100) {
        errs.add("password", e);
    } else {
        let ok = match &parsed {
            Some((rec, _)) => super::hasher::verify(password.to_string(), rec.get_str("password").to_string()).await,
            None => false,
        };
        if !ok {
            errs.add("password", FieldError::new("validation_invalid_password", "Missing or invalid auth record password."));
        }
    }
    errs.into_result(VALIDATION_FAILED)?;
    let Some((mut rec, new_email)) = parsed else { return Err(ApiError::bad_request("Invalid or expired token.")) };
    rec.values.insert("email".into(), Value::String(new_email));
    rec.values.insert("verified".into(), Value::Bool(true));
    save_auth_record(app, rec, "Failed to confirm email change.").await?;
    Ok(())
}
