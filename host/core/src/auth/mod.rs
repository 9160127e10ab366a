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

/// PocketBase's superuser IP whitelist (`settings.superuserIPs`, IPs or CIDR subnets); an empty
/// list allows every address.
pub fn superuser_ip_allowed(settings: &serde_json::Value, ip: &str) -> bool {
    let Some(list) = settings.get("superuserIPs").and_then(|v| v.as_array()).filter(|l| !l.is_empty()) else {
        return true;
    };
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else { return false };
    list.iter().filter_map(|v| v.as_str()).any(|entry| ip_matches(entry.trim(), addr))
}

fn ip_matches(entry: &str, addr: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let (net, bits) = match entry.split_once('/') {
        Some((n, b)) => match (n.parse::<IpAddr>(), b.parse::<u32>()) {
            (Ok(n), Ok(b)) => (n, b),
            _ => return false,
        },
        None => return entry.parse::<IpAddr>().map(|e| e == addr).unwrap_or(false),
    };
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod ip_tests {
    use super::superuser_ip_allowed;
    use serde_json::json;

    #[test]
    fn whitelist_matches_ips_and_subnets() {
        assert!(superuser_ip_allowed(&json!({"superuserIPs": []}), "1.2.3.4"));
        let s = json!({"superuserIPs": ["10.0.0.0/8", "127.0.0.1"]});
        assert!(superuser_ip_allowed(&s, "10.1.2.3"));
        assert!(superuser_ip_allowed(&s, "127.0.0.1"));
        assert!(!superuser_ip_allowed(&s, "192.168.1.1"));
        assert!(!superuser_ip_allowed(&s, "not-an-ip"));
    }
}
