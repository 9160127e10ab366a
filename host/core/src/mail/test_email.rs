//! `POST /api/settings/test/email` (forms/test_email_send.go).

use serde_json::Value;

use super::record_emails;
use crate::app::App;
use crate::auth::form;
use crate::error::{ApiError, ApiResult, FieldError, ValidationErrors};
use crate::model::collection::SUPERUSERS;
use crate::record::Record;
use crate::util::{random_string, ALPHANUMERIC};

pub const TEMPLATES: [&str; 5] = ["verification", "password-reset", "email-change", "otp", "login-alert"];

/// Validates the form and sends the chosen template to `email` for a dummy record of the
/// collection (default `_superusers`).
pub async fn send_test_email(app: &std::sync::Arc<App>, email: &str, template: &str, collection: &str) -> ApiResult<()> {
    let mut errs = ValidationErrors::new();
    let target = if collection.is_empty() { SUPERUSERS } else { collection };
    let found = app.schema().find(target).filter(|c| c.is_auth());
    if !collection.is_empty() {
        if let Some(e) = form::length(collection, 1, 255) {
            errs.add("collection", e);
        } else if found.is_none() {
            errs.add("collection", FieldError::new("validation_invalid_auth_collection", "Must be a valid auth collection id or name."));
        }
    }
    if let Some(e) = form::email(email) {
        errs.add("email", e);
    }
    if template.is_empty() {
        errs.add("template", FieldError::required());
    } else if !TEMPLATES.contains(&template) {
        errs.add("template", FieldError::new("validation_in_invalid", "Must be a valid value."));
    }
    errs.into_result("Failed to send the test email.")?;
    let c = found.ok_or_else(|| ApiError::bad_request("Failed to send the test email."))?;
    let mut rec = Record::new(c.clone());
    for f in c.fields.iter().filter(|f| !f.hidden) {
        rec.set(&f.name, Value::String(format!("__pb_test_{}__", f.name)));
    }
    rec.values.insert("tokenKey".into(), Value::String(random_string(50, ALPHANUMERIC)));
    rec.values.insert("email".into(), Value::String(email.to_string()));
    let sent = match template {
        "verification" => record_emails::send_verification(app, &rec).await,
        "password-reset" => record_emails::send_password_reset(app, &rec).await,
        "email-change" => record_emails::send_email_change(app, &rec, email).await,
        "otp" => record_emails::send_otp(app, &rec, "_PB_TEST_OTP_ID_", "123456").await.map(|_| ()),
        _ => {
            let info = format!("{} - TEST_IP TEST_USER_AGENT", crate::util::now_string());
            record_emails::send_auth_alert(app, &rec, &info).await
        }
    };
    sent.map_err(|e| ApiError::bad_request(format!("Failed to send the test email. Raw error: \n{e}")))
}
