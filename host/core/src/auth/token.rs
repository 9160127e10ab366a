//! PocketBase-compatible JWTs (HS256; key = record tokenKey + collection secret).

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

use crate::model::Collection;

/// Token purposes and the collection option holding their secret/duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Auth,
    File,
    Verification,
    PasswordReset,
    EmailChange,
}

impl TokenType {
    pub fn claim(self) -> &'static str {
        match self {
            TokenType::Auth => "auth",
            TokenType::File => "file",
            TokenType::Verification => "verification",
            TokenType::PasswordReset => "passwordReset",
            TokenType::EmailChange => "emailChange",
        }
    }
    pub fn option_key(self) -> &'static str {
        match self {
            TokenType::Auth => "authToken",
            TokenType::File => "fileToken",
            TokenType::Verification => "verificationToken",
            TokenType::PasswordReset => "passwordResetToken",
            TokenType::EmailChange => "emailChangeToken",
        }
    }
}

/// The unverified claims of a token: enough to find the record whose key verifies it.
#[derive(Debug, Clone)]
pub struct UnverifiedClaims {
    pub id: String,
    pub collection_id: String,
    pub kind: String,
    pub claims: Map<String, Value>,
}

/// Signs `claims` (plus `type` and `exp`) for a record. Keys are emitted alphabetically,
/// as PocketBase's Go map claims are.
pub fn sign(
    kind: TokenType,
    collection: &Collection,
    record_id: &str,
    token_key: &str,
    extra: Map<String, Value>,
    duration_secs: i64,
) -> String {
    let mut pairs: Vec<(String, Value)> = extra.into_iter().collect();
    pairs.push(("id".into(), Value::from(record_id)));
    pairs.push(("collectionId".into(), Value::from(collection.id.clone())));
    pairs.push(("type".into(), Value::from(kind.claim())));
    pairs.push(("exp".into(), Value::from(chrono::Utc::now().timestamp() + duration_secs)));
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let claims: Map<String, Value> = pairs.into_iter().collect();
    let key = format!("{token_key}{}", collection.token_secret(kind.option_key()));
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(key.as_bytes())).unwrap_or_default()
}

/// Reads the claims without verifying the signature, rejecting expired or malformed tokens.
pub fn peek(token: &str) -> Option<UnverifiedClaims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.insecure_disable_signature_validation();
    v.leeway = 0;
    v.set_required_spec_claims(&["exp"]);
    let data = decode::<Map<String, Value>>(token, &DecodingKey::from_secret(b""), &v).ok()?;
    let claims = data.claims;
    let get = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let (id, collection_id, kind) = (get("id"), get("collectionId"), get("type"));
    if id.is_empty() || collection_id.is_empty() || kind.is_empty() {
        return None;
    }
    Some(UnverifiedClaims { id, collection_id, kind, claims })
}

/// Verifies the signature with the record's current key.
pub fn verify(token: &str, kind: TokenType, collection: &Collection, token_key: &str) -> bool {
    let key = format!("{token_key}{}", collection.token_secret(kind.option_key()));
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp"]);
    decode::<Map<String, Value>>(token, &DecodingKey::from_secret(key.as_bytes()), &v).is_ok()
}

/// The raw payload of a JWT without any validation (PocketBase's forms read claims such as
/// `email`/`newEmail` even from expired tokens). Empty for malformed tokens.
pub fn raw_claims(token: &str) -> Map<String, Value> {
    use base64::Engine;
    let Some(payload) = token.split('.').nth(1) else { return Map::new() };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

impl TokenType {
    /// The kebab-case names plugins use (`password-reset`); also the claim names.
    pub fn from_name(name: &str) -> Option<TokenType> {
        Some(match name {
            "auth" => TokenType::Auth,
            "file" => TokenType::File,
            "verification" => TokenType::Verification,
            "password-reset" | "passwordReset" => TokenType::PasswordReset,
            "email-change" | "emailChange" => TokenType::EmailChange,
            _ => return None,
        })
    }
}
