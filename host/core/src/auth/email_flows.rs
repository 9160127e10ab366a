//! Verification, password reset and email change (auth.md §7; apis/record_auth_*_{request,confirm}.go).
//!
//! Each flow is split like PocketBase's handlers: a check (form validation and the record
//! lookup) and the action that PocketBase runs inside the flow's request hook
//! (`onRecordRequestVerificationRequest`, ...), so the server can put the hook in between.

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

/// The validation error of one invalid form field.
fn invalid(field: &str, err: FieldError) -> ApiError {
    let mut errs = ValidationErrors::new();
    errs.add(field, err);
    ApiError::validation(VALIDATION_FAILED, errs)
}

/// `request-verification` check: the record to email, `None` when nothing is to be done
/// (unknown email or a throttled resend; still 204 — no enumeration).
pub async fn verification_target(app: &Arc<App>, c: &Arc<Collection>, email: &str) -> ApiResult<Option<Record>> {
    if c.is_superusers() {
        return Err(ApiError::bad_request("All superusers are verified by default."));
    }
    single("email", form::email(email))?;
    let Some(rec) = find_by_email(app, c, email).await? else { return Ok(None) };
    let verified = rec.get("verified").as_bool() == Some(true);
    if !verified && app.throttles.contains(&verification_key(&rec)) {
        return Ok(None);
    }
    Ok(Some(rec))
}

/// `request-verification` action: the email is sent in the background (unless the record
/// is verified already), at most once per record every 2 minutes.
pub fn send_verification(app: &Arc<App>, rec: Record) {
    if rec.get("verified").as_bool() == Some(true) {
        return;
    }
    let key = verification_key(&rec);
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = record_emails::send_verification(&app, &rec).await {
            tracing::error!("failed to send verification email: {e}");
        }
        app.throttles.insert(&key, RESEND_THROTTLE);
    });
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

/// `confirm-verification` check: the token's record.
pub async fn verification_token_record(app: &Arc<App>, c: &Arc<Collection>, token: &str) -> ApiResult<Record> {
    if c.is_superusers() {
        return Err(ApiError::bad_request("All superusers are verified by default."));
    }
    if token.is_empty() {
        return Err(invalid("token", FieldError::required()));
    }
    let claim_email = raw_claims(token).get("email").and_then(Value::as_str).unwrap_or_default().to_string();
    let field_error = |e: FieldError| invalid("token", e);
    if claim_email.is_empty() {
        return Err(field_error(FieldError::new("validation_invalid_token_claims", "Missing email token claim.")));
    }
    let rec = check_token(app, c, token, TokenType::Verification).await.map_err(field_error)?;
    if !super::secure_eq(rec.get_str("email"), &claim_email) {
        return Err(field_error(FieldError::new(
            "validation_token_email_mismatch",
            "The record email doesn't match with the requested token claims.",
        )));
    }
    Ok(rec)
}

/// `confirm-verification` action: marks `rec` verified unless it `was_verified` already.
pub async fn mark_verified(app: &Arc<App>, mut rec: Record, was_verified: bool) -> ApiResult<()> {
    let key = verification_key(&rec);
    if !was_verified {
        rec.values.insert("verified".into(), Value::Bool(true));
        if rec.collection.option("passwordAuth", "enabled").as_bool() != Some(true) {
            let h = super::random_password_hash(&rec).await?;
            rec.values.insert("password".into(), Value::String(h));
        }
        save_auth_record(app, rec, "An error occurred while saving the verified state.").await?;
    }
    app.throttles.remove(&key);
    Ok(())
}

/// `request-password-reset` check: the record to email, `None` for unknown emails and
/// throttled resends (still 204).
pub async fn password_reset_target(app: &Arc<App>, c: &Arc<Collection>, email: &str) -> ApiResult<Option<Record>> {
    if c.option("passwordAuth", "enabled").as_bool() != Some(true) {
        return Err(ApiError::bad_request("The collection is not configured to allow password authentication."));
    }
    single("email", form::email(email))?;
    let Some(rec) = find_by_email(app, c, email).await? else { return Ok(None) };
    Ok((!app.throttles.contains(&reset_key(&rec))).then_some(rec))
}

/// `request-password-reset` action: emails in the background; 2-minute resend throttle.
pub fn send_password_reset(app: &Arc<App>, rec: Record) {
    let key = reset_key(&rec);
    let app = app.clone();
    tokio::spawn(async move {
        match record_emails::send_password_reset(&app, &rec).await {
            Ok(()) => app.throttles.insert(&key, RESEND_THROTTLE),
            Err(e) => tracing::error!("failed to send password reset email: {e}"),
        }
    });
}

/// `confirm-password-reset` check: the token's record.
pub async fn password_reset_token_record(app: &Arc<App>, c: &Arc<Collection>, token: &str, password: &str, confirm: &str) -> ApiResult<Record> {
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
    found.ok_or_else(|| ApiError::bad_request("Invalid or expired password reset token."))
}

/// `confirm-password-reset` action: sets the new password (and verifies the record when the
/// token was sent to its current email).
pub async fn set_new_password(app: &Arc<App>, mut rec: Record, token: &str, password: &str) -> ApiResult<()> {
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

/// `request-email-change` check for the authenticated record.
pub async fn check_new_email(app: &Arc<App>, rec: &Record, new_email: &str) -> ApiResult<()> {
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
    single("newEmail", err)
}

/// `request-email-change` action: the confirmation goes to the new address.
pub async fn send_email_change(app: &Arc<App>, rec: &Record, new_email: &str) -> ApiResult<()> {
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

/// `confirm-email-change` check: the token's record and new email.
pub async fn email_change_token(app: &Arc<App>, c: &Arc<Collection>, token: &str, password: &str) -> ApiResult<(Record, String)> {
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
    parsed.ok_or_else(|| ApiError::bad_request("Invalid or expired token."))
}

/// `confirm-email-change` action.
pub async fn apply_email_change(app: &Arc<App>, mut rec: Record, new_email: String) -> ApiResult<()> {
    rec.values.insert("email".into(), Value::String(new_email));
    rec.values.insert("verified".into(), Value::Bool(true));
    save_auth_record(app, rec, "Failed to confirm email change.").await?;
    Ok(())
}
