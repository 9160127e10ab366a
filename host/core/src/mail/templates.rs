//! Auth email templates: placeholder resolution and PocketBase's fixed HTML layout.

use serde_json::Value;

use crate::model::{Collection, FieldType};
use crate::record::Record;

pub const APP_NAME: &str = "{APP_NAME}";
pub const APP_URL: &str = "{APP_URL}";
pub const TOKEN: &str = "{TOKEN}";
pub const OTP: &str = "{OTP}";
pub const OTP_ID: &str = "{OTP_ID}";
pub const ALERT_INFO: &str = "{ALERT_INFO}";

/// Which collection template an email uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    Verification,
    PasswordReset,
    EmailChange,
    Otp,
    AuthAlert,
}

/// A subject/body pair from the collection options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmailTemplate {
    pub subject: String,
    pub body: String,
}

impl EmailTemplate {
    pub fn of(c: &Collection, kind: TemplateKind) -> Self {
        let node = match kind {
            TemplateKind::Verification => c.options.get("verificationTemplate"),
            TemplateKind::PasswordReset => c.options.get("resetPasswordTemplate"),
            TemplateKind::EmailChange => c.options.get("confirmEmailChangeTemplate"),
            TemplateKind::Otp => c.options.get("otp").and_then(|o| o.get("emailTemplate")),
            TemplateKind::AuthAlert => c.options.get("authAlert").and_then(|o| o.get("emailTemplate")),
        };
        let s = |k: &str| node.and_then(|n| n.get(k)).and_then(Value::as_str).unwrap_or_default().to_string();
        Self { subject: s("subject"), body: s("body") }
    }

    /// Plain string replacement of every placeholder in subject and body.
    pub fn resolve(&self, placeholders: &[(String, String)]) -> (String, String) {
        let (mut subject, mut body) = (self.subject.clone(), self.body.clone());
        for (k, v) in placeholders {
            subject = subject.replace(k.as_str(), v);
            body = body.replace(k.as_str(), v);
        }
        (subject, body)
    }
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            _ => out.push(c),
        }
    }
    out
}

fn value_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    }
}

/// The `{APP_NAME}`, `{APP_URL}` and `{RECORD:field}` placeholders (non-hidden fields;
/// HTML-escaped except dates, bools and numbers), after the caller's own ones.
pub fn placeholders(settings: &Value, rec: &Record, mut own: Vec<(String, String)>) -> Vec<(String, String)> {
    let meta = |k: &str| settings.get("meta").and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or_default().to_string();
    own.push((APP_NAME.into(), meta("appName")));
    own.push((APP_URL.into(), meta("appURL")));
    for f in rec.collection.fields.iter().filter(|f| !f.hidden) {
        let raw = value_string(rec.get(&f.name));
        let keep = matches!(f.kind, FieldType::Autodate | FieldType::Date | FieldType::Bool | FieldType::Number);
        own.push((format!("{{RECORD:{}}}", f.name), if keep { raw } else { html_escape(&raw) }));
    }
    own
}

const LAYOUT_HEAD: &str = r#"
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
    <meta name="viewport" content="width=device-width,initial-scale=1" />
    <style>
        body, html {
            padding: 0;
            margin: 0;
            border: 0;
            color: #16161a;
            background: #fff;
            font-size: 14px;
            line-height: 20px;
            font-weight: normal;
            font-family: Source Sans Pro, sans-serif, emoji;
        }
        body {
            padding: 20px 30px;
        }
        strong {
            font-weight: bold;
        }
        em, i {
            font-style: italic;
        }
        p {
            display: block;
            margin: 10px 0;
            font-family: inherit;
        }
        small {
            font-size: 12px;
            line-height: 16px;
        }
        hr {
            display: block;
            height: 1px;
            border: 0;
            width: 100%;
            background: #e1e6ea;
            margin: 10px 0;
        }
        a {
            color: inherit;
        }
        .hidden {
            display: none !important;
        }
        .btn {
            display: inline-block;
            vertical-align: top;
            border: 0;
            cursor: pointer;
            color: #fff !important;
            background: #16161a !important;
            text-decoration: none !important;
            line-height: 40px;
            width: auto;
            min-width: 150px;
            text-align: center;
            padding: 0 20px;
            margin: 5px 0;
            font-family: Source Sans Pro, sans-serif, emoji;;
            font-size: 14px;
            font-weight: bold;
            border-radius: 6px;
            box-sizing: border-box;
        }
    </style>
</head>
<body>
    "#;

const LAYOUT_TAIL: &str = "\n</body>\n</html>\n";

/// Wraps a resolved body into PocketBase's email layout.
pub fn wrap_layout(body: &str) -> String {
    format!("{LAYOUT_HEAD}{body}{LAYOUT_TAIL}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Collection, CollectionType};
    use std::sync::Arc;

    #[test]
    fn resolves_placeholders_and_record_fields() {
        let mut c = Collection::new(CollectionType::Auth, "users");
        c.prepare_for_save(true, &|_| false);
        let mut rec = Record::new(Arc::new(c));
        rec.set("email", Value::from("a<b>@example.com"));
        rec.set("verified", Value::from(true));
        let settings = serde_json::json!({"meta": {"appName": "Acme", "appURL": "https://acme.test"}});
        let tpl = EmailTemplate { subject: "Hi {APP_NAME}".into(), body: "{APP_URL}/x/{TOKEN} {RECORD:email} {RECORD:verified} {RECORD:tokenKey}".into() };
        let ph = placeholders(&settings, &rec, vec![(TOKEN.into(), "T0K".into())]);
        let (s, b) = tpl.resolve(&ph);
        assert_eq!(s, "Hi Acme");
        assert_eq!(b, "https://acme.test/x/T0K a&lt;b&gt;@example.com true {RECORD:tokenKey}");
    }

    #[test]
    fn default_templates_exist() {
        let c = Collection::new(CollectionType::Auth, "users");
        for (kind, subject) in [
            (TemplateKind::Verification, "Verify your {APP_NAME} email"),
            (TemplateKind::PasswordReset, "Reset your {APP_NAME} password"),
            (TemplateKind::EmailChange, "Confirm your {APP_NAME} new email address"),
            (TemplateKind::Otp, "OTP for {APP_NAME}"),
            (TemplateKind::AuthAlert, "Login from a new location"),
        ] {
            assert_eq!(EmailTemplate::of(&c, kind).subject, subject);
        }
        assert!(wrap_layout("<p>x</p>").contains("<body>\n    <p>x</p>\n</body>"));
    }
}
