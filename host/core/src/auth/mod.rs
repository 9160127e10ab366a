//! Authentication primitives: password hashing and PocketBase-compatible JWTs.

pub mod email_flows;
pub mod hasher;
pub mod mfa;
pub mod oauth2;
pub mod origins;
pub mod otp;
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
    find_record_by_token(app, token, kind).await
}

/// Loads the auth record a token of `kind` belongs to and verifies the token with the
/// record's current key (auth.md §1). None for anything invalid or expired.
pub async fn find_record_by_token(app: &App, token: &str, kind: token::TokenType) -> Option<Record> {
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
    let list: Vec<String> = settings
        .get("superuserIPs")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(|s| s.trim().to_string())).collect())
        .unwrap_or_default();
    list.is_empty() || crate::ratelimit::ip_in_list(&list, ip)
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

fn email_claims(rec: &Record) -> serde_json::Map<String, serde_json::Value> {
    let mut extra = serde_json::Map::new();
    extra.insert("email".into(), serde_json::Value::from(rec.get_str("email")));
    extra
}

/// A `verification` token (claims id, collectionId, email).
pub fn new_verification_token(rec: &Record) -> String {
    let c = &rec.collection;
    let dur = c.token_duration("verificationToken");
    token::sign(token::TokenType::Verification, c, rec.id(), rec.get_str("tokenKey"), email_claims(rec), dur)
}

/// A `passwordReset` token (claims id, collectionId, email).
pub fn new_password_reset_token(rec: &Record) -> String {
    let c = &rec.collection;
    let dur = c.token_duration("passwordResetToken");
    token::sign(token::TokenType::PasswordReset, c, rec.id(), rec.get_str("tokenKey"), email_claims(rec), dur)
}

/// An `emailChange` token (claims id, collectionId, email, newEmail).
pub fn new_email_change_token(rec: &Record, new_email: &str) -> String {
    let c = &rec.collection;
    let mut extra = email_claims(rec);
    extra.insert("newEmail".into(), serde_json::Value::from(new_email));
    let dur = c.token_duration("emailChangeToken");
    token::sign(token::TokenType::EmailChange, c, rec.id(), rec.get_str("tokenKey"), extra, dur)
}

/// Finds an auth record by email (case-insensitive only when the email index says so).
pub async fn find_by_email(app: &App, c: &std::sync::Arc<crate::model::Collection>, email: &str) -> crate::ApiResult<Option<Record>> {
    if email.is_empty() {
        return Ok(None);
    }
    let (c2, email) = (c.clone(), email.to_string());
    app.data.read(move |conn| persist::find_by_identity(conn, &c2, "email", &email)).await
}

/// Constant-time string comparison.
pub fn secure_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Collection, CollectionType};
    use std::sync::Arc;

    fn user() -> Record {
        let mut c = Collection::new(CollectionType::Auth, "users");
        c.id = "_pb_users_auth_".into();
        c.prepare_for_save(true, &|_| false);
        let mut rec = Record::new(Arc::new(c));
        rec.values.insert("id".into(), "u1".into());
        rec.values.insert("email".into(), "a@example.com".into());
        rec.values.insert("tokenKey".into(), "key1".into());
        rec
    }

    #[test]
    fn email_tokens_have_pocketbase_claims_and_keys() {
        let rec = user();
        let now = chrono::Utc::now().timestamp();
        let t = new_email_change_token(&rec, "b@example.com");
        let cl = token::peek(&t).unwrap();
        let keys: Vec<&String> = cl.claims.keys().collect();
        assert_eq!(keys, ["collectionId", "email", "exp", "id", "newEmail", "type"]);
        assert_eq!(cl.kind, "emailChange");
        assert_eq!(cl.claims["newEmail"], "b@example.com");
        let exp = cl.claims["exp"].as_i64().unwrap();
        assert!((exp - now - 1800).abs() <= 2);
        assert!(token::verify(&t, token::TokenType::EmailChange, &rec.collection, "key1"));
        assert!(!token::verify(&t, token::TokenType::EmailChange, &rec.collection, "key2"));
        assert!(!token::verify(&t, token::TokenType::PasswordReset, &rec.collection, "key1"));

        let v = token::peek(&new_verification_token(&rec)).unwrap();
        assert_eq!(v.kind, "verification");
        assert!((v.claims["exp"].as_i64().unwrap() - now - 86400).abs() <= 2);
        let r = token::peek(&new_password_reset_token(&rec)).unwrap();
        assert_eq!(r.kind, "passwordReset");
        assert_eq!(r.claims["email"], "a@example.com");
        assert!((r.claims["exp"].as_i64().unwrap() - now - 1800).abs() <= 2);
    }

    #[test]
    fn secure_eq_works() {
        assert!(secure_eq("abc", "abc"));
        assert!(!secure_eq("abc", "abd"));
        assert!(!secure_eq("abc", "ab"));
    }
}

/// Field validation helpers shared by the auth forms (ozzo-validation codes/messages).
pub mod form {
    use crate::error::FieldError;

    pub fn length(v: &str, min: usize, max: usize) -> Option<FieldError> {
        let n = v.chars().count();
        if n >= min && n <= max {
            return None;
        }
        Some(if min == max {
            FieldError::new("validation_length_invalid", format!("The length must be exactly {min}.")).param("min", min).param("max", max)
        } else if min == 0 {
            FieldError::new("validation_length_too_long", format!("The length must be no more than {max}.")).param("max", max)
        } else {
            FieldError::new("validation_length_out_of_range", format!("The length must be between {min} and {max}."))
                .param("max", max)
                .param("min", min)
        })
    }

    /// Required, 1–255 chars, email format.
    pub fn email(v: &str) -> Option<FieldError> {
        if v.is_empty() {
            return Some(FieldError::required());
        }
        length(v, 1, 255).or_else(|| {
            (!crate::validate::is_email(v)).then(|| FieldError::new("validation_is_email", "Must be a valid email address."))
        })
    }

    /// Required plus a length range.
    pub fn required_len(v: &str, min: usize, max: usize) -> Option<FieldError> {
        if v.is_empty() {
            return Some(FieldError::required());
        }
        length(v, min, max)
    }
}

/// Whether `rec` satisfies `rule` for the request (`None`/empty rule handled by callers).
pub async fn record_matches_rule(app: &App, rec: &Record, req: &crate::record::rules::RequestInfo, rule: &str) -> crate::ApiResult<bool> {
    use crate::record::query::RecordQuery;
    let c = rec.collection.clone();
    let mut q = RecordQuery::default();
    let p = q.params.bind(rec.id().to_string());
    q.conditions.push(format!("{}.`id` = {p}", crate::db::quote_ident(&c.name)));
    crate::record::service::add_rule_condition(&mut q, &app.schema(), &c, req, rule, "a")?;
    Ok(app.data.read(move |conn| q.first(conn, &c)).await?.is_some())
}

/// A random 30-char password hash for the record's password field cost.
pub async fn random_password_hash(rec: &Record) -> crate::ApiResult<String> {
    let cost = rec.collection.field("password").map(|f| u32::try_from(f.opt_i64("cost")).unwrap_or(0)).unwrap_or(0);
    hasher::hash(crate::util::random_string(30, crate::util::ALPHANUMERIC), cost).await
}

/// Sets a new plain password on an auth record (hashed on the pool).
pub async fn set_password(rec: &mut Record, plain: &str) -> crate::ApiResult<()> {
    let cost = rec.collection.field("password").map(|f| u32::try_from(f.opt_i64("cost")).unwrap_or(0)).unwrap_or(0);
    let h = hasher::hash(plain.to_string(), cost).await?;
    rec.values.insert("password".into(), serde_json::Value::String(h));
    Ok(())
}

/// Saves changes the auth flows make to a record (verified, email, password): rotates the
/// tokenKey when password/email changed, validates, and applies PocketBase's side effects
/// (tokenKey change → pending OTPs deleted; password change → MFAs and auth origins deleted).
pub async fn save_auth_record(app: &App, rec: Record, message: &'static str) -> crate::ApiResult<Record> {
    save_auth_record_with(app, rec, message, None).await
}

/// [`save_auth_record`] with `extra` writes in the same transaction (an error rolls all back).
pub async fn save_auth_record_with(
    app: &App,
    mut rec: Record,
    message: &'static str,
    extra: Option<crate::record::service::AfterInsert>,
) -> crate::ApiResult<Record> {
    crate::record::write::prepare_update(&mut rec);
    let (db, schema) = (app.data.clone(), app.schema());
    let make_write = move |validate: bool| -> crate::record::hooked::RecordWrite {
        Box::new(move |mut rec| {
            Box::pin(async move {
                db.write(move |conn| {
                    if validate {
                        crate::record::validate::validate_record(conn, &schema, &rec).into_result(message)?;
                    }
                    let tx = conn.transaction()?;
                    persist::update(&tx, &rec)?;
                    let (cid, id) = (rec.collection.id.clone(), rec.id().to_string());
                    let changed = |n: &str| rec.get(n) != rec.original(n);
                    let mut tables = vec![];
                    if changed("tokenKey") {
                        tables.push("_otps");
                    }
                    if changed("password") {
                        tables.extend(["_mfas", "_authOrigins"]);
                    }
                    for t in tables {
                        tx.execute(&format!("DELETE FROM `{t}` WHERE collectionRef = ?1 AND recordRef = ?2"), [&cid, &id])?;
                    }
                    if let Some(step) = extra {
                        step(&tx, &rec)?;
                    }
                    tx.commit()?;
                    rec.mark_stored();
                    Ok(rec)
                })
                .await
            })
        })
    };
    crate::record::hooked::save_in(app, rec, make_write, Default::default()).await
}

/// A system collection (`_otps`, `_mfas`, `_authOrigins`, `_externalAuths`).
pub fn system_collection(app: &App, name: &str) -> crate::ApiResult<std::sync::Arc<crate::model::Collection>> {
    app.schema().find(name).ok_or_else(|| crate::ApiError::internal(format!("missing {name} collection")))
}

/// Inserts a new row of a system collection with the given values.
pub async fn insert_system_row(app: &App, collection: &str, values: &[(&str, serde_json::Value)]) -> crate::ApiResult<Record> {
    let c = system_collection(app, collection)?;
    let mut rec = Record::new(c);
    for (k, v) in values {
        rec.values.insert((*k).to_string(), v.clone());
    }
    crate::record::write::prepare_insert(&mut rec);
    app.data
        .write(move |conn| {
            persist::insert(conn, &rec)?;
            rec.mark_stored();
            Ok(rec)
        })
        .await
}

/// An `_externalAuths` row linking `rec` to a provider identity.
fn external_auth_row(links: std::sync::Arc<crate::model::Collection>, rec: &Record, provider: &str, provider_id: &str) -> Record {
    let mut link = Record::new(links);
    for (k, v) in [("collectionRef", rec.collection.id.as_str()), ("recordRef", rec.id()), ("provider", provider), ("providerId", provider_id)] {
        link.values.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    crate::record::write::prepare_insert(&mut link);
    link
}

/// Saves an `_externalAuths` row like PocketBase's `Save`: validated first, unique index
/// violations as `validation_not_unique` field errors, all under "Failed to authenticate.".
pub fn insert_external_auth(conn: &rusqlite::Connection, schema: &crate::schema_cache::Schema, link: &Record) -> crate::ApiResult<()> {
    const FAILED: &str = "Failed to authenticate.";
    crate::record::validate::validate_record(conn, schema, link).into_result(FAILED)?;
    persist::insert(conn, link).map_err(|e| {
        tracing::warn!("failed to save linked rel: {e:?}");
        crate::ApiError::bad_request(FAILED).with_data(e.data)
    })
}

/// The `_externalAuths` writes of an OAuth2 sign-in, run inside the transaction that saves the
/// record (sign-up or update): optionally drops the record's other links (an unverified record
/// keeps at most the new one), then links it to `identity` (provider, provider id) if given.
pub fn oauth2_links_step(app: &App, drop_links: bool, identity: Option<(String, String)>) -> crate::ApiResult<crate::record::service::AfterInsert> {
    let links = system_collection(app, "_externalAuths")?;
    let schema = app.schema();
    Ok(Box::new(move |tx: &rusqlite::Transaction, rec: &Record| {
        if drop_links {
            tx.execute("DELETE FROM `_externalAuths` WHERE collectionRef = ?1 AND recordRef = ?2", rusqlite::params![rec.collection.id, rec.id()])?;
        }
        match identity {
            Some((provider, provider_id)) => insert_external_auth(tx, &schema, &external_auth_row(links, rec, &provider, &provider_id)),
            None => Ok(()),
        }
    }))
}

/// Runs `step` for an unchanged record in a transaction of its own.
pub async fn run_record_step(app: &App, rec: Record, step: crate::record::service::AfterInsert) -> crate::ApiResult<Record> {
    app.data
        .write(move |conn| {
            let tx = conn.transaction()?;
            step(&tx, &rec)?;
            tx.commit()?;
            Ok(rec)
        })
        .await
}

/// Deletes a row of a system collection by id.
pub async fn delete_system_row(app: &App, collection: &'static str, id: &str) -> crate::ApiResult<()> {
    let id = id.to_string();
    app.data
        .write(move |conn| {
            conn.execute(&format!("DELETE FROM `{collection}` WHERE id = ?1"), [&id])?;
            Ok(())
        })
        .await
}

/// Whether a row created at `created` is older than `duration_secs`.
pub fn has_expired(created: &str, duration_secs: i64) -> bool {
    match crate::util::parse_date(created) {
        Some(t) => t + chrono::Duration::seconds(duration_secs) < chrono::Utc::now(),
        None => true,
    }
}
