//! Outgoing mail: SMTP (per `settings.smtp`) or, when SMTP is disabled, the local `sendmail`
//! binary — the same two transports PocketBase uses. `lettre` stays behind this module.
//!
//! Every message goes through PocketBase's `onMailerSend` hook (`send_hooked`); the record
//! emails also through their own `onMailerRecord*Send` hook (record_emails.rs).

pub mod html2text;
pub mod record_emails;
pub mod templates;
pub mod test_email;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A mailbox (`{address, name}` in JSON, like Go's `mail.Address`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    pub address: String,
    pub name: String,
}

impl Address {
    pub fn new(address: impl Into<String>) -> Self {
        Self { address: address.into(), name: String::new() }
    }
}

/// One email, in the JSON shape of PocketBase's `mailer.Message` (what hooks see as
/// `e.message`). `text` is generated from `html` when empty. Attachments map file names to
/// their base64 content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Message {
    pub from: Address,
    pub to: Vec<Address>,
    pub bcc: Vec<Address>,
    pub cc: Vec<Address>,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub headers: BTreeMap<String, String>,
    pub attachments: BTreeMap<String, String>,
    pub inline_attachments: BTreeMap<String, String>,
}

pub const SEND_HOOK: &str = "mailer-send";

impl Message {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The message a hook left in `event.message` (the original when it is missing).
    fn from_event(event: &Value, original: Message) -> Result<Message, String> {
        match event.get("message") {
            Some(m) if !m.is_null() => serde_json::from_value(m.clone()).map_err(|e| format!("invalid mail message: {e}")),
            _ => Ok(original),
        }
    }
}

/// Sends `msg` through the `onMailerSend` hook: handlers may change `e.message` before
/// `e.next()` or not call it (the message is then not sent).
pub async fn send_hooked(app: &crate::App, msg: Message) -> Result<(), String> {
    let Some(hooks) = app.hooks.subscribed(&[SEND_HOOK], &[]) else { return send(&app.settings(), msg).await };
    let settings = app.settings();
    let event = json!({ "message": msg.to_json() });
    let action: crate::hooks::HookAction = Box::new(move |ev: Value| {
        Box::pin(async move {
            let msg = Message::from_event(&ev, msg).map_err(crate::ApiError::bad_request)?;
            send(&settings, msg).await.map_err(crate::ApiError::bad_request)?;
            Ok(ev)
        })
    });
    hooks.dispatch(SEND_HOOK, &[], event, action).await.map(|_| ()).map_err(|e| e.message)
}

/// SMTP settings (`settings.smtp`).
#[derive(Debug, Clone, Default)]
pub struct SmtpConfig {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub auth_method: String,
    pub tls: bool,
    pub local_name: String,
}

impl SmtpConfig {
    pub fn from_settings(settings: &Value) -> Self {
        let smtp = settings.get("smtp").cloned().unwrap_or(Value::Null);
        let s = |k: &str| smtp.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        Self {
            enabled: smtp.get("enabled").and_then(Value::as_bool).unwrap_or(false),
            host: s("host"),
            port: smtp.get("port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()).unwrap_or(25),
            username: s("username"),
            password: s("password"),
            auth_method: s("authMethod"),
            tls: smtp.get("tls").and_then(Value::as_bool).unwrap_or(false),
            local_name: s("localName"),
        }
    }
}

/// The sender from `settings.meta`.
pub fn sender(settings: &Value) -> (String, String) {
    let meta = settings.get("meta").cloned().unwrap_or(Value::Null);
    let s = |k: &str| meta.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    (s("senderName"), s("senderAddress"))
}

/// Sends a message with the transport the settings select. Runs the blocking I/O on a
/// blocking thread; the error is a human-readable string (PocketBase surfaces it raw).
pub async fn send(settings: &Value, msg: Message) -> Result<(), String> {
    let cfg = SmtpConfig::from_settings(settings);
    tokio::task::spawn_blocking(move || if cfg.enabled { send_smtp(&cfg, &msg) } else { send_sendmail(&msg) })
        .await
        .map_err(|e| format!("mail task failed: {e}"))?
}

fn mailbox(a: &Address) -> Result<Mailbox, String> {
    let addr = a.address.parse().map_err(|e| format!("invalid address {:?}: {e}", a.address))?;
    Ok(Mailbox::new((!a.name.is_empty()).then(|| a.name.clone()), addr))
}

fn attachment_part(name: &str, base64_content: &str, inline: bool) -> Result<SinglePart, String> {
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD
        .decode(base64_content.trim())
        .map_err(|e| format!("attachment {name:?} is not base64: {e}"))?;
    // sniffed from the content, as PocketBase does
    let sniffed = crate::files::mime::sniff(&content);
    let content_type = ContentType::parse(sniffed.content_type).map_err(|e| e.to_string())?;
    Ok(if inline { Attachment::new_inline(name.to_string()) } else { Attachment::new(name.to_string()) }.body(content, content_type))
}

fn build_lettre(msg: &Message) -> Result<lettre::Message, String> {
    let mut b = lettre::Message::builder().from(mailbox(&msg.from)?).subject(msg.subject.clone());
    for to in &msg.to {
        b = b.to(mailbox(to)?);
    }
    for cc in &msg.cc {
        b = b.cc(mailbox(cc)?);
    }
    for bcc in &msg.bcc {
        b = b.bcc(mailbox(bcc)?);
    }
    let text = if msg.text.is_empty() { html2text::html_to_text(&msg.html) } else { msg.text.clone() };
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(msg.html.clone()));
    let mut email = if msg.attachments.is_empty() && msg.inline_attachments.is_empty() {
        b.multipart(alternative)
    } else {
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for (name, content) in &msg.attachments {
            mixed = mixed.singlepart(attachment_part(name, content, false)?);
        }
        for (name, content) in &msg.inline_attachments {
            mixed = mixed.singlepart(attachment_part(name, content, true)?);
        }
        b.multipart(mixed)
    }
    .map_err(|e| e.to_string())?;
    for (name, value) in &msg.headers {
        let name = HeaderName::new_from_ascii(name.clone()).map_err(|e| format!("invalid header name {name:?}: {e}"))?;
        email.headers_mut().insert_raw(HeaderValue::new(name, value.clone()));
    }
    Ok(email)
}

fn send_smtp(cfg: &SmtpConfig, msg: &Message) -> Result<(), String> {
    let email = build_lettre(msg)?;
    let tls_params = TlsParameters::new(cfg.host.clone()).map_err(|e| e.to_string())?;
    let tls = if cfg.tls { Tls::Wrapper(tls_params) } else { Tls::Opportunistic(tls_params) };
    let local_name = if cfg.local_name.is_empty() { "localhost".to_string() } else { cfg.local_name.clone() };
    let mut builder = SmtpTransport::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .tls(tls)
        .hello_name(ClientId::Domain(local_name))
        .timeout(Some(Duration::from_secs(30)));
    if !cfg.username.is_empty() || !cfg.password.is_empty() {
        let mechanism = if cfg.auth_method == "LOGIN" { Mechanism::Login } else { Mechanism::Plain };
        builder = builder
            .credentials(Credentials::new(cfg.username.clone(), cfg.password.clone()))
            .authentication(vec![mechanism]);
    }
    builder.build().send(&email).map(|_| ()).map_err(|e| e.to_string())
}

/// The first sendmail found, in PocketBase's search order.
fn find_sendmail() -> Option<std::path::PathBuf> {
    for fixed in ["/usr/sbin/sendmail", "/usr/bin/sendmail"] {
        let p = std::path::Path::new(fixed);
        if p.is_file() {
            return Some(p.to_path_buf());
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("sendmail")).find(|p| p.is_file())
}

/// `Subject` header value: RFC 2047 encoded only when needed.
fn encode_header(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return s.to_string();
    }
    use base64::Engine;
    format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
}

fn format_address(a: &Address) -> String {
    let (name, address) = (a.name.as_str(), a.address.as_str());
    if name.is_empty() {
        return format!("<{address}>");
    }
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c));
    if plain {
        format!("{name} <{address}>")
    } else {
        format!("\"{}\" <{address}>", encode_header(name).replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The sendmail payload: PocketBase writes only the HTML part with a few headers.
pub fn sendmail_payload(msg: &Message) -> Vec<u8> {
    let mut out = String::new();
    out.push_str("Content-Type: text/html; charset=UTF-8\r\n");
    out.push_str(&format!("From: {}\r\n", format_address(&msg.from)));
    out.push_str(&format!("Subject: {}\r\n", encode_header(&msg.subject)));
    let to: Vec<&str> = msg.to.iter().map(|a| a.address.as_str()).collect();
    out.push_str(&format!("To: {}\r\n", to.join(",")));
    out.push_str("\r\n");
    out.push_str(if msg.html.is_empty() { &msg.text } else { &msg.html });
    out.into_bytes()
}

fn send_sendmail(msg: &Message) -> Result<(), String> {
    let path = find_sendmail().ok_or("failed to locate a sendmail executable path")?;
    let mut child = Command::new(path)
        .args(["-i", "-t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&sendmail_payload(msg)).map_err(|e| e.to_string())?;
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("sendmail {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendmail_payload_headers() {
        let msg = Message {
            from: Address { address: "support@example.com".into(), name: "Acme Support".into() },
            to: vec![Address::new("a@example.com")],
            subject: "Héllo".into(),
            html: "<p>x</p>".into(),
            ..Default::default()
        };
        let p = String::from_utf8(sendmail_payload(&msg)).unwrap();
        assert!(p.starts_with("Content-Type: text/html; charset=UTF-8\r\nFrom: Acme Support <support@example.com>\r\n"));
        assert!(p.contains("Subject: =?utf-8?b?SMOpbGxv?=\r\n"));
        assert!(p.ends_with("\r\n\r\n<p>x</p>"));
    }

    #[test]
    fn lettre_message_has_both_parts() {
        let msg = Message {
            from: Address { address: "a@example.com".into(), name: "A".into() },
            to: vec![Address::new("b@example.com")],
            subject: "S".into(),
            html: "<p>Hello <b>you</b></p>".into(),
            ..Default::default()
        };
        let raw = String::from_utf8(build_lettre(&msg).unwrap().formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain"));
        assert!(raw.contains("text/html"));
    }

    #[test]
    fn lettre_message_with_cc_headers_and_attachments() {
        let mut msg = Message {
            from: Address::new("a@example.com"),
            to: vec![Address::new("b@example.com")],
            cc: vec![Address { address: "c@example.com".into(), name: "Cee".into() }],
            subject: "S".into(),
            text: "plain".into(),
            ..Default::default()
        };
        msg.headers.insert("X-Custom".into(), "yes".into());
        msg.attachments.insert("note.txt".into(), "aGVsbG8=".into());
        let raw = String::from_utf8(build_lettre(&msg).unwrap().formatted()).unwrap();
        assert!(raw.contains("Cc: Cee <c@example.com>"));
        assert!(raw.contains("X-Custom: yes"));
        assert!(raw.contains("multipart/mixed"));
        // (lettre sends short text attachments as they are)
        let attachment = raw.split("filename=\"note.txt\"").nth(1).expect("attachment part");
        assert!(attachment.contains("\r\n\r\nhello\r\n"));
    }
}
