//! `POST /api/settings/apple/generate-client-secret`: the ES256-signed JWT Apple expects as
//! the OAuth2 client secret (PocketBase's `forms.AppleClientSecretCreate`).

use crate::error::{ApiError, FieldError, ValidationErrors};
use crate::auth::form::length;
use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// Apple accepts client secrets valid for at most ~6 months.
const MAX_DURATION: i64 = 15_777_000;
pub const LOAD_FAILED: &str = "An error occurred while loading the submitted data.";

/// The claims in golang-jwt's `RegisteredClaims` order.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: [&'a str; 1],
    exp: i64,
    iat: i64,
}

fn private_key_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?m)-----BEGIN PRIVATE KEY----[\s\S]+-----END PRIVATE KEY-----").expect("static regex"))
}

/// Validates the submitted form and signs the secret.
pub fn generate(input: &Map<String, Value>) -> Result<String, ApiError> {
    let text = |k: &str| -> Result<String, ApiError> {
        match input.get(k) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(ApiError::bad_request(LOAD_FAILED)),
        }
    };
    let (client_id, team_id, key_id, private_key) = (text("clientId")?, text("teamId")?, text("keyId")?, text("privateKey")?);
    let duration = match input.get("duration") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| ApiError::bad_request(LOAD_FAILED))?,
        // multipart/urlencoded forms carry numbers as text
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| ApiError::bad_request(LOAD_FAILED))?,
        Some(_) => return Err(ApiError::bad_request(LOAD_FAILED)),
    };

    let mut errs = ValidationErrors::new();
    if client_id.is_empty() {
        errs.add("clientId", FieldError::required());
    }
    for (key, value) in [("teamId", &team_id), ("keyId", &key_id)] {
        if value.is_empty() {
            errs.add(key, FieldError::required());
        } else if let Some(e) = length(value, 10, 10) {
            errs.add(key, e);
        }
    }
    if private_key.is_empty() {
        errs.add("privateKey", FieldError::required());
    } else if !private_key_re().is_match(&private_key) {
        errs.add("privateKey", FieldError::new("validation_match_invalid", "Must be in a valid format."));
    }
    if duration == 0 {
        errs.add("duration", FieldError::required());
    } else if duration < 1 {
        errs.add("duration", FieldError::new("validation_min_greater_equal_than_required", "Must be no less than 1.").param("threshold", 1));
    } else if duration > MAX_DURATION {
        errs.add(
            "duration",
            FieldError::new("validation_max_less_equal_than_required", format!("Must be no greater than {MAX_DURATION}."))
                .param("threshold", MAX_DURATION),
        );
    }
    errs.into_result("Invalid client secret data.")?;

    let key_error = || ApiError::bad_request("Failed to generate client secret. Raw error: \ninvalid key: Key must be a PEM encoded PKCS1 or PKCS8 key.");
    let key = jsonwebtoken::EncodingKey::from_ec_pem(private_key.trim().as_bytes()).map_err(|_| key_error())?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(key_id);
    let now = chrono::Utc::now().timestamp();
    let claims = Claims { iss: &team_id, sub: &client_id, aud: ["https://appleid.apple.com"], exp: now + duration, iat: now };
    jsonwebtoken::encode(&header, &claims, &key).map_err(|_| key_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // a throwaway P-256 key (PKCS#8), generated for this test only
    const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBcOitUqFftWTg/q6
u6o4JOqWMkPxLg2E6mh0Ei8oE4ChRANCAAQ6ejLORkaQZuLUDC5HXZkZ2ZbL7mmw
IVhG0t6pn70/k+X8maoiP6kMDzx8ByMrKjdvYkHG9aoEkldBrcgEdWe+
-----END PRIVATE KEY-----";

    fn form(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn signs_an_es256_token_with_apple_claims() {
        let secret =
            generate(&form(json!({"clientId": "com.app", "teamId": "1234567890", "keyId": "ABCDEFGHIJ", "privateKey": KEY, "duration": 100}))).unwrap();
        let header = jsonwebtoken::decode_header(&secret).unwrap();
        assert_eq!((header.alg, header.kid.as_deref()), (jsonwebtoken::Algorithm::ES256, Some("ABCDEFGHIJ")));
        use base64::Engine;
        let payload = secret.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["iss"], "1234567890");
        assert_eq!(claims["sub"], "com.app");
        assert_eq!(claims["aud"], json!(["https://appleid.apple.com"]));
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 100);
    }

    #[test]
    fn rejects_invalid_input() {
        let e = generate(&form(json!({"teamId": "123", "keyId": "1234567890", "privateKey": "x", "duration": -1}))).unwrap_err();
        assert_eq!(e.status, 400);
        let bad_key = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----";
        let e = generate(&form(json!({"clientId": "a", "teamId": "1234567890", "keyId": "1234567890", "privateKey": bad_key, "duration": 10})))
            .unwrap_err();
        assert!(e.message.contains("Key must be a PEM encoded"), "{}", e.message);
        assert!(generate(&form(json!({"duration": "x"}))).is_err());
    }
}
