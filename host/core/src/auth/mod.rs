//! Authentication primitives: password hashing and PocketBase-compatible JWTs.

pub mod hasher;
pub mod password;
pub mod token;

use crate::app::App;
use crate::record::{persist, Record};

/// Resolves an `Authorization` token to its auth record. Invalid, expired or foreign tokens
/// yield None (the request then continues as a guest, as in PocketBase).
pub async fn authenticate(app: &App, token: &str, kind: token::TokenType) -> Option<Record> {
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").or_else(|| token.strip_prefix("bearer ")).unwrap_or(token).trim();
    if token.is_empty() {
        return None;
    }
    let claims = token::peek(token)?;
    if claims.kind != kind.claim() {
        return None;
    }
    let collection = app.schema().find(&claims.collection_id).filter(|c| c.is_auth() && c.id == claims.collection_id)?;
    let id = claims.id.clone();
    let c2 = collection.clone();
    let rec = app.data.read(move |conn| persist::find_by_id(conn, &c2, &id)).await.ok()??;
    token::verify(token, kind, &collection, rec.get_str("tokenKey")).then_some(rec)
}

/// A new auth token for a record (refreshable unless issued by impersonation/installer).
pub fn new_auth_token(rec: &Record, refreshable: bool, duration: Option<i64>) -> String {
    let c = &rec.collection;
    let mut extra = serde_json::Map::new();
    extra.insert("refreshable".into(), serde_json::Value::Bool(refreshable));
    let dur = duration.filter(|d| *d > 0).unwrap_or_else(|| c.token_duration("authToken"));
    token::sign(token::TokenType::Auth, c, rec.id(), rec.get_str("tokenKey"), extra, dur)
}
