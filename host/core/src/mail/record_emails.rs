//! The five auth emails PocketBase sends for a record (mails/record.go).

use super::templates::{self, EmailTemplate, TemplateKind};
use super::Message;
use crate::app::App;
use crate::auth;
use crate::record::Record;

/// Builds the message for `kind` with the extra placeholders, addressed to `to`.
pub fn build(app: &App, rec: &Record, kind: TemplateKind, to: &str, extra: Vec<(String, String)>) -> Message {
    let settings = app.settings();
    let tpl = EmailTemplate::of(&rec.collection, kind);
    let (subject, body) = tpl.resolve(&templates::placeholders(&settings, rec, extra));
    let (from_name, from_address) = super::sender(&settings);
    Message { from_name, from_address, to: vec![to.to_string()], subject, html: templates::wrap_layout(&body), text: String::new() }
}

async fn deliver(app: &App, msg: Message) -> Result<(), String> {
    super::send(&app.settings(), msg).await
}

pub async fn send_verification(app: &App, rec: &Record) -> Result<(), String> {
    let token = auth::new_verification_token(rec);
    let msg = build(app, rec, TemplateKind::Verification, rec.get_str("email"), vec![(templates::TOKEN.into(), token)]);
    deliver(app, msg).await
}

pub async fn send_password_reset(app: &App, rec: &Record) -> Result<(), String> {
    let token = auth::new_password_reset_token(rec);
    let msg = build(app, rec, TemplateKind::PasswordReset, rec.get_str("email"), vec![(templates::TOKEN.into(), token)]);
    deliver(app, msg).await
}

/// Sent to the new address.
pub async fn send_email_change(app: &App, rec: &Record, new_email: &str) -> Result<(), String> {
    let token = auth::new_email_change_token(rec, new_email);
    let msg = build(app, rec, TemplateKind::EmailChange, new_email, vec![(templates::TOKEN.into(), token)]);
    deliver(app, msg).await
}

/// Returns the address the OTP went to.
pub async fn send_otp(app: &App, rec: &Record, otp_id: &str, password: &str) -> Result<String, String> {
    let extra = vec![(templates::OTP_ID.into(), otp_id.to_string()), (templates::OTP.into(), password.to_string())];
    let to = rec.get_str("email").to_string();
    let msg = build(app, rec, TemplateKind::Otp, &to, extra);
    deliver(app, msg).await.map(|_| to)
}

/// `info` is HTML-escaped here.
pub async fn send_auth_alert(app: &App, rec: &Record, info: &str) -> Result<(), String> {
    let extra = vec![(templates::ALERT_INFO.into(), templates::html_escape(info))];
    let msg = build(app, rec, TemplateKind::AuthAlert, rec.get_str("email"), extra);
    deliver(app, msg).await
}
