//! The five auth emails PocketBase sends for a record (mails/record.go), each through its
//! `onMailerRecord*Send` hook (tagged with the record's collection; `e.record`,
//! `e.message`, `e.meta`) and then `onMailerSend`.

use serde_json::{json, Value};

use super::templates::{self, EmailTemplate, TemplateKind};
use super::{Address, Message};
use crate::app::App;
use std::sync::Arc;
use crate::auth;
use crate::record::{Record, Visibility};

/// Builds the message for `kind` with the extra placeholders, addressed to `to`.
pub fn build(app: &App, rec: &Record, kind: TemplateKind, to: &str, extra: Vec<(String, String)>) -> Message {
    let settings = app.settings();
    let tpl = EmailTemplate::of(&rec.collection, kind);
    let (subject, body) = tpl.resolve(&templates::placeholders(&settings, rec, extra));
    let (name, address) = super::sender(&settings);
    Message {
        from: Address { address, name },
        to: vec![Address::new(to)],
        subject,
        html: templates::wrap_layout(&body),
        ..Default::default()
    }
}

/// Sends `msg` through hook `hook` (handlers may change `e.message` or not call `e.next()`,
/// which cancels the email).
async fn deliver(app: &Arc<App>, hook: &str, rec: &Record, msg: Message, meta: Value) -> Result<(), String> {
    let tags = [rec.collection.id.as_str(), rec.collection.name.as_str()];
    let Some(hooks) = app.hooks.subscribed(&[hook], &tags) else { return super::send_hooked(app, msg).await };
    let record = rec.to_json(Visibility { superuser: true, owner: true });
    let event = json!({ "record": record, "message": msg.to_json(), "meta": meta });
    let app2 = app.clone();
    let action: crate::hooks::HookAction = Box::new(move |ev: Value| {
        Box::pin(async move {
            let msg = Message::from_event(&ev, msg).map_err(crate::ApiError::bad_request)?;
            super::send_hooked(&app2, msg).await.map_err(crate::ApiError::bad_request)?;
            Ok(ev)
        })
    });
    hooks.dispatch(hook, &tags, event, action).await.map(|_| ()).map_err(|e| e.message)
}

pub async fn send_verification(app: &Arc<App>, rec: &Record) -> Result<(), String> {
    let token = auth::new_verification_token(rec);
    let msg = build(app, rec, TemplateKind::Verification, rec.get_str("email"), vec![(templates::TOKEN.into(), token.clone())]);
    deliver(app, "mailer-record-verification-send", rec, msg, json!({ "token": token })).await
}

pub async fn send_password_reset(app: &Arc<App>, rec: &Record) -> Result<(), String> {
    let token = auth::new_password_reset_token(rec);
    let msg = build(app, rec, TemplateKind::PasswordReset, rec.get_str("email"), vec![(templates::TOKEN.into(), token.clone())]);
    deliver(app, "mailer-record-password-reset-send", rec, msg, json!({ "token": token })).await
}

/// Sent to the new address.
pub async fn send_email_change(app: &Arc<App>, rec: &Record, new_email: &str) -> Result<(), String> {
    let token = auth::new_email_change_token(rec, new_email);
    let msg = build(app, rec, TemplateKind::EmailChange, new_email, vec![(templates::TOKEN.into(), token.clone())]);
    deliver(app, "mailer-record-email-change-send", rec, msg, json!({ "token": token, "newEmail": new_email })).await
}

/// Returns the address the OTP went to.
pub async fn send_otp(app: &Arc<App>, rec: &Record, otp_id: &str, password: &str) -> Result<String, String> {
    let extra = vec![(templates::OTP_ID.into(), otp_id.to_string()), (templates::OTP.into(), password.to_string())];
    let to = rec.get_str("email").to_string();
    let msg = build(app, rec, TemplateKind::Otp, &to, extra);
    deliver(app, "mailer-record-otp-send", rec, msg, json!({ "otpId": otp_id, "password": password })).await.map(|_| to)
}

/// `info` is HTML-escaped here.
pub async fn send_auth_alert(app: &Arc<App>, rec: &Record, info: &str) -> Result<(), String> {
    let info = templates::html_escape(info);
    let extra = vec![(templates::ALERT_INFO.into(), info.clone())];
    let msg = build(app, rec, TemplateKind::AuthAlert, rec.get_str("email"), extra);
    deliver(app, "mailer-record-auth-alert-send", rec, msg, json!({ "info": info })).await
}
