//! Mapping of each provider's user document to PocketBase's `AuthUser`.

use super::client::{validate_jwks_signature, Token};
use super::{Kind, Provider, APPLE_JWKS_URL};
use serde_json::{Map, Value};

/// The OAuth2 user as PocketBase's `auth.AuthUser` (the `meta` of the auth response).
#[derive(Debug, Clone, Default)]
pub struct AuthUser {
    pub id: String,
    pub name: String,
    pub username: String,
    /// Only set when the provider says the address is verified.
    pub email: String,
    pub avatar_url: String,
    pub access_token: String,
    pub refresh_token: String,
    /// PocketBase date string ("" when the token has no expiry).
    pub expiry: String,
    pub raw_user: Map<String, Value>,
}

/// Recursively sorts object keys (PocketBase round-trips the meta through a Go map).
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        v => v,
    }
}

impl AuthUser {
    /// `meta` of the auth response (keys sorted like PocketBase's map-based JSON).
    pub fn meta_json(&self, is_new: bool) -> Value {
        sorted(serde_json::json!({
            "id": self.id,
            "name": self.name,
            "username": self.username,
            "email": self.email,
            "avatarURL": self.avatar_url,
            "avatarUrl": self.avatar_url,
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "expiry": self.expiry,
            "rawUser": Value::Object(self.raw_user.clone()),
            "isNew": is_new,
        }))
    }
}

// Strict field readers in the spirit of Go's json.Unmarshal into typed struct fields: a
// missing/null field is the zero value, a value of the wrong type is an error.
fn f_str(m: &Map<String, Value>, key: &str) -> Result<String, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(format!("json: cannot unmarshal {v} into field {key} of type string")),
    }
}

fn f_i64(m: &Map<String, Value>, key: &str) -> Result<i64, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or_default()),
        Some(v) => Err(format!("json: cannot unmarshal {v} into field {key} of type int64")),
    }
}

fn f_obj(m: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(v) => Err(format!("json: cannot unmarshal {v} into field {key} of type object")),
    }
}

fn f_bool(m: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(format!("json: cannot unmarshal {v} into field {key} of type bool")),
    }
}

/// spf13/cast's ToBool for loosely typed claims (`email_verified` may be "true").
fn cast_bool(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

fn parse_object(data: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(data).map_err(|e| e.to_string())? {
        Value::Object(m) => Ok(m),
        _ => Err("json: cannot unmarshal non-object user data".into()),
    }
}

/// The unverified claims of a JWT.
fn jwt_claims(token: &str) -> Result<Map<String, Value>, String> {
    use base64::Engine;
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next(), parts.next().ok_or("token is malformed")?, parts.next().ok_or("token is malformed")?);
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("token is malformed: {e}"))?;
    parse_object(&raw).map_err(|e| format!("token is malformed: {e}"))
}

const LEEWAY: i64 = 5 * 60;

fn leeway() -> i64 {
    std::env::var("PB_ID_TOKEN_LEEWAY").ok().and_then(|v| v.parse().ok()).unwrap_or(LEEWAY)
}

/// golang-jwt's validator subset used by the providers: exp (optionally required), iat,
/// nbf, audience and issuer.
fn validate_claims(claims: &Map<String, Value>, require_exp: bool, aud: Option<&str>, iss: Option<&str>) -> Result<(), String> {
    let now = chrono::Utc::now().timestamp();
    let lw = leeway();
    let num = |k: &str| claims.get(k).and_then(Value::as_f64).map(|f| f as i64);
    match num("exp") {
        Some(exp) if now > exp + lw => return Err("token has invalid claims: token is expired".into()),
        None if require_exp => return Err("token has invalid claims: token is missing required claim: exp claim is required".into()),
        _ => {}
    }
    if let Some(iat) = num("iat") {
        if now + lw < iat {
            return Err("token has invalid claims: token used before issued".into());
        }
    }
    if let Some(nbf) = num("nbf") {
        if now + lw < nbf {
            return Err("token has invalid claims: token is not valid yet".into());
        }
    }
    if let Some(aud) = aud {
        let ok = match claims.get("aud") {
            Some(Value::String(s)) => s == aud,
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(aud)),
            _ => false,
        };
        if !ok {
            return Err("token has invalid claims: token has invalid audience".into());
        }
    }
    if let Some(iss) = iss {
        if claims.get("iss").and_then(Value::as_str) != Some(iss) {
            return Err("token has invalid claims: token has invalid issuer".into());
        }
    }
    Ok(())
}

impl Provider {
    /// Fetches and maps the OAuth2 user (PocketBase's `FetchAuthUser`).
    pub async fn fetch_auth_user(&self, token: &Token) -> Result<AuthUser, String> {
        let raw = match self.spec.kind {
            Kind::Apple => self.apple_claims(token).await?,
            Kind::Oidc if self.user_info_url.is_empty() => self.oidc_id_token_claims(token).await?,
            _ => parse_object(&self.fetch_raw_user_info(token).await?)?,
        };
        let mut u = AuthUser {
            access_token: token.access_token.clone(),
            refresh_token: token.refresh_token.clone(),
            expiry: token.expiry.map(crate::util::format_date).unwrap_or_default(),
            ..Default::default()
        };
        match self.spec.kind {
            Kind::Oidc => {
                u.id = f_str(&raw, "sub")?;
                u.name = f_str(&raw, "name")?;
                u.username = f_str(&raw, "preferred_username")?;
                u.avatar_url = f_str(&raw, "picture")?;
                let email = f_str(&raw, "email")?;
                if cast_bool(raw.get("email_verified")) {
                    u.email = email;
                }
            }
            Kind::Google => {
                u.id = f_str(&raw, "sub")?;
                u.name = f_str(&raw, "name")?;
                u.avatar_url = f_str(&raw, "picture")?;
                let email = f_str(&raw, "email")?;
                if f_bool(&raw, "email_verified")? {
                    u.email = email;
                }
            }
            Kind::Apple => {
                u.id = f_str(&raw, "sub")?;
                u.name = f_str(&raw, "name")?;
                let email = f_str(&raw, "email")?;
                if cast_bool(raw.get("email_verified")) {
                    u.email = email;
                }
            }
            Kind::Github => {
                u.id = f_i64(&raw, "id")?.to_string();
                u.name = f_str(&raw, "name")?;
                u.username = f_str(&raw, "login")?;
                u.avatar_url = f_str(&raw, "avatar_url")?;
                u.email = self.github_primary_email(token).await?;
            }
            Kind::Gitlab => {
                u.id = f_i64(&raw, "id")?.to_string();
                u.name = f_str(&raw, "name")?;
                u.username = f_str(&raw, "username")?;
                u.avatar_url = f_str(&raw, "avatar_url")?;
                let email = f_str(&raw, "email")?;
                let confirmed = f_str(&raw, "confirmed_at")?;
                if chrono::DateTime::parse_from_rfc3339(&confirmed).is_ok() {
                    u.email = email;
                }
            }
            Kind::Discord => {
                u.id = f_str(&raw, "id")?;
                let (global, username, disc) = (f_str(&raw, "global_name")?, f_str(&raw, "username")?, f_str(&raw, "discriminator")?);
                let avatar = f_str(&raw, "avatar")?;
                let email = f_str(&raw, "email")?;
                if !avatar.is_empty() {
                    u.avatar_url = format!("https://cdn.discordapp.com/avatars/{}/{avatar}.png", u.id);
                }
                u.name = if global.is_empty() {
                    if !disc.is_empty() && disc != "0" {
                        format!("{username}#{disc}")
                    } else {
                        username.clone()
                    }
                } else {
                    global
                };
                u.username = username;
                if f_bool(&raw, "verified")? {
                    u.email = email;
                }
            }
            Kind::Facebook => {
                u.id = f_str(&raw, "id")?;
                u.name = f_str(&raw, "name")?;
                u.email = f_str(&raw, "email")?;
                let pic = raw.get("picture").and_then(|p| p.get("data")).and_then(|d| d.get("url"));
                u.avatar_url = match pic {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => return Err(format!("json: cannot unmarshal {v} into picture.data.url")),
                };
            }
            Kind::Yandex => {
                u.id = f_str(&raw, "id")?;
                u.name = f_str(&raw, "real_name")?;
                u.username = f_str(&raw, "login")?;
                u.email = f_str(&raw, "default_email")?;
                let avatar = f_str(&raw, "default_avatar_id")?;
                if !f_bool(&raw, "is_avatar_empty")? {
                    u.avatar_url = format!("https://avatars.yandex.net/get-yapic/{avatar}/islands-200");
                }
            }
            Kind::Gitea => {
                let id = f_i64(&raw, "id")?;
                u.name = f_str(&raw, "full_name")?;
                u.username = f_str(&raw, "login")?;
                u.avatar_url = f_str(&raw, "avatar_url")?;
                if !f_bool(&raw, "active")? {
                    return Err("user account is not active".into());
                }
                u.id = id.to_string();
                u.email = self.github_primary_email(token).await?;
            }
            Kind::Spotify => {
                u.id = f_str(&raw, "id")?;
                u.name = f_str(&raw, "display_name")?;
                u.avatar_url = match raw.get("images") {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::Array(a)) => match a.first().and_then(|i| i.get("url")) {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => return Err(format!("json: cannot unmarshal {v} into images.url")),
                    },
                    Some(v) => return Err(format!("json: cannot unmarshal {v} into images")),
                };
            }
            Kind::Strava => {
                let id = f_i64(&raw, "id")?;
                u.name = format!("{} {}", f_str(&raw, "firstname")?, f_str(&raw, "lastname")?);
                u.username = f_str(&raw, "username")?;
                u.avatar_url = f_str(&raw, "profile")?;
                if id != 0 {
                    u.id = id.to_string();
                }
            }
            Kind::Box => {
                u.id = f_str(&raw, "id")?;
                u.name = f_str(&raw, "name")?;
                u.avatar_url = f_str(&raw, "avatar_url")?;
                // Box requires a verified email for OAuth authorization
                u.email = f_str(&raw, "login")?;
                let status = f_str(&raw, "status")?;
                if status != "active" {
                    return Err(format!("Box user account is not active (status: {status:?})"));
                }
            }
            Kind::Wakatime => {
                let d = f_obj(&raw, "data")?;
                u.id = f_str(&d, "id")?;
                u.name = f_str(&d, "display_name")?;
                u.username = f_str(&d, "username")?;
                let (email, photo) = (f_str(&d, "email")?, f_str(&d, "photo")?);
                if f_bool(&d, "is_email_confirmed")? {
                    u.email = email;
                }
                if f_bool(&d, "photo_public")? {
                    u.avatar_url = photo;
                }
            }
            Kind::Livechat => {
                u.id = f_str(&raw, "account_id")?;
                u.name = f_str(&raw, "name")?;
                u.avatar_url = f_str(&raw, "avatar_url")?;
                let email = f_str(&raw, "email")?;
                if f_bool(&raw, "email_verified")? {
                    u.email = email;
                }
            }
            Kind::Kakao => {
                let props = f_obj(&raw, "properties")?;
                let account = f_obj(&raw, "kakao_account")?;
                u.id = f_i64(&raw, "id")?.to_string();
                u.username = f_str(&props, "nickname")?;
                u.avatar_url = f_str(&props, "profile_image")?;
                let email = f_str(&account, "email")?;
                if f_bool(&account, "is_email_valid")? && f_bool(&account, "is_email_verified")? {
                    u.email = email;
                }
            }
            Kind::Twitch => {
                let first = match raw.get("data") {
                    None | Some(Value::Null) => None,
                    Some(Value::Array(a)) => a.first().cloned(),
                    Some(v) => return Err(format!("json: cannot unmarshal {v} into field data")),
                };
                let Some(Value::Object(d)) = first else { return Err("failed to fetch AuthUser data".into()) };
                u.id = f_str(&d, "id")?;
                u.name = f_str(&d, "display_name")?;
                u.username = f_str(&d, "login")?;
                u.email = f_str(&d, "email")?;
                u.avatar_url = f_str(&d, "profile_image_url")?;
            }
            Kind::Patreon => {
                let d = f_obj(&raw, "data")?;
                let a = f_obj(&d, "attributes")?;
                u.id = f_str(&d, "id")?;
                u.username = f_str(&a, "vanity")?;
                u.name = f_str(&a, "full_name")?;
                u.avatar_url = f_str(&a, "image_url")?;
                let email = f_str(&a, "email")?;
                if f_bool(&a, "is_email_verified")? {
                    u.email = email;
                }
            }
            Kind::Trakt => {
                let user = f_obj(&raw, "user")?;
                let ids = f_obj(&user, "ids")?;
                let avatar = f_obj(&f_obj(&user, "images")?, "avatar")?;
                u.id = f_str(&ids, "uuid")?;
                u.username = f_str(&user, "username")?;
                u.name = f_str(&user, "name")?;
                u.avatar_url = f_str(&avatar, "full")?;
            }
            Kind::Notion => {
                let user = f_obj(&f_obj(&f_obj(&raw, "bot")?, "owner")?, "user")?;
                u.id = f_str(&user, "id")?;
                u.name = f_str(&user, "name")?;
                u.email = f_str(&f_obj(&user, "person")?, "email")?;
                u.avatar_url = f_str(&user, "avatar_url")?;
            }
            Kind::Mailcow => {
                let active = match raw.get("active") {
                    None | Some(Value::Null) => 0,
                    Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64().unwrap_or_default(),
                    Some(v) => return Err(format!("json: cannot unmarshal {v} into field active of type int")),
                };
                if active != 1 {
                    return Err("the mailcow user is not active".into());
                }
                u.id = f_str(&raw, "id")?;
                u.name = f_str(&raw, "full_name")?;
                let username = f_str(&raw, "username")?;
                u.username = username.split('@').next().unwrap_or_default().to_string();
                u.email = f_str(&raw, "email")?;
            }
            Kind::Instagram => {
                u.id = f_str(&raw, "user_id")?;
                u.name = f_str(&raw, "name")?;
                u.username = f_str(&raw, "username")?;
                u.avatar_url = f_str(&raw, "profile_picture_url")?;
            }
            Kind::Bitbucket => {
                let avatar = f_obj(&f_obj(&raw, "links")?, "avatar")?;
                u.id = f_str(&raw, "uuid")?;
                u.name = f_str(&raw, "display_name")?;
                u.username = f_str(&raw, "username")?;
                u.avatar_url = f_str(&avatar, "href")?;
                if f_str(&raw, "account_status")? != "active" {
                    return Err("the Bitbucket user is not active".into());
                }
                u.email = self.bitbucket_primary_email(token).await?;
            }
            Kind::Gitee => {
                u.id = f_i64(&raw, "id")?.to_string();
                u.name = f_str(&raw, "name")?;
                u.username = f_str(&raw, "login")?;
                u.avatar_url = f_str(&raw, "avatar_url")?;
                let email = f_str(&raw, "email")?;
                u.email = if crate::validate::is_email(&email) { email } else { self.gitee_primary_email(token).await? };
            }
            Kind::Twitter => {
                let d = f_obj(&raw, "data")?;
                u.id = f_str(&d, "id")?;
                u.name = f_str(&d, "name")?;
                u.username = f_str(&d, "username")?;
                u.email = f_str(&d, "confirmed_email")?;
                u.avatar_url = f_str(&d, "profile_image_url")?;
            }
            Kind::Vk => {
                let first = match raw.get("response") {
                    None | Some(Value::Null) => None,
                    Some(Value::Array(a)) => a.first().cloned(),
                    Some(v) => return Err(format!("json: cannot unmarshal {v} into field response")),
                };
                let Some(Value::Object(d)) = first else { return Err("missing response entry".into()) };
                u.id = f_i64(&d, "id")?.to_string();
                u.name = format!("{} {}", f_str(&d, "first_name")?, f_str(&d, "last_name")?).trim().to_string();
                u.username = f_str(&d, "screen_name")?;
                u.avatar_url = f_str(&d, "photo_max")?;
                // VK returns the email with the token, not with the profile
                u.email = match token.raw.get("email") {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(e)) => e.clone(),
                    Some(v) => v.to_string(),
                };
            }
            Kind::Linear => {
                let v = f_obj(&f_obj(&raw, "data")?, "viewer")?;
                u.id = f_str(&v, "id")?;
                u.name = f_str(&v, "name")?;
                u.username = f_str(&v, "displayName")?;
                u.email = f_str(&v, "email")?;
                u.avatar_url = f_str(&v, "avatarUrl")?;
                if !f_bool(&v, "active")? {
                    return Err("the Linear user account is not active".into());
                }
            }
            Kind::Monday => {
                let me = f_obj(&f_obj(&raw, "data")?, "me")?;
                u.id = f_str(&me, "id")?;
                u.name = f_str(&me, "name")?;
                u.avatar_url = f_str(&me, "photo_small")?;
                let email = f_str(&me, "email")?;
                if !f_bool(&me, "enabled")? {
                    return Err("the monday.com user account is not enabled".into());
                }
                if f_bool(&me, "is_verified")? {
                    u.email = email;
                }
            }
            Kind::Lark => {
                let d = f_obj(&raw, "data")?;
                u.id = f_str(&d, "union_id")?;
                u.name = f_str(&d, "name")?;
                u.avatar_url = f_str(&d, "avatar_url")?;
            }
            Kind::Planningcenter => {
                let d = f_obj(&raw, "data")?;
                let a = f_obj(&d, "attributes")?;
                u.id = f_str(&d, "id")?;
                u.name = f_str(&a, "name")?;
                u.avatar_url = f_str(&a, "avatar")?;
                if f_str(&a, "status")? != "active" {
                    return Err("the user is not active".into());
                }
            }
            Kind::Microsoft => {
                u.id = f_str(&raw, "id")?;
                u.name = f_str(&raw, "displayName")?;
                let mail = f_str(&raw, "mail")?;
                let claims = || {
                    let t = token.extra_str("id_token");
                    if t.is_empty() {
                        return Map::new();
                    }
                    jwt_claims(&t).ok().filter(|c| validate_claims(c, false, None, None).is_ok()).unwrap_or_default()
                };
                let primary = |c: &Map<String, Value>| c.get("verified_primary_email").and_then(Value::as_str).unwrap_or_default().to_string();
                let xms = |c: &Map<String, Value>| {
                    if cast_bool(c.get("xms_edov")) {
                        c.get("email").and_then(Value::as_str).unwrap_or_default().to_string()
                    } else {
                        String::new()
                    }
                };
                u.email = match self.extra_str("idTokenEmailClaim").as_str() {
                    "any_verified" => {
                        let c = claims();
                        let p = primary(&c);
                        if p.is_empty() {
                            xms(&c)
                        } else {
                            p
                        }
                    }
                    "verified_primary_email" => primary(&claims()),
                    "email_and_xms_edov" => xms(&claims()),
                    "email" => claims().get("email").and_then(Value::as_str).unwrap_or_default().to_string(),
                    _ => mail,
                };
            }
        }
        u.raw_user = raw;
        if self.spec.kind == Kind::Instagram && !u.raw_user.contains_key("permissions") {
            if let Some(p) = token.raw.get("permissions").filter(|p| !p.is_null()) {
                u.raw_user.insert("permissions".into(), p.clone());
            }
        }
        Ok(u)
    }

    /// Bitbucket's `/emails`: the primary confirmed address (insufficient scopes → none).
    async fn bitbucket_primary_email(&self, token: &Token) -> Result<String, String> {
        let (status, body) = self.get_with_token(&format!("{}/emails", self.user_info_url), token).await?;
        if status >= 400 {
            return Ok(String::new());
        }
        let doc = parse_object(&body)?;
        let values = match doc.get("values") {
            Some(Value::Array(a)) => a.clone(),
            _ => vec![],
        };
        for v in values.iter().filter_map(Value::as_object) {
            if f_bool(v, "is_primary")? && f_bool(v, "is_confirmed")? {
                return f_str(v, "email");
            }
        }
        Ok(String::new())
    }

    /// Gitee's email list (asked only when the profile has no public email): the confirmed
    /// primary address. PocketBase asks gitee.com directly, whatever the userInfoURL.
    async fn gitee_primary_email(&self, token: &Token) -> Result<String, String> {
        let (status, body) = self.get_with_token("https://gitee.com/api/v5/emails", token).await?;
        if matches!(status, 401 | 403 | 404) {
            return Ok(String::new());
        }
        let Ok(list) = serde_json::from_slice::<Vec<Value>>(&body) else { return Ok(String::new()) };
        for e in list.iter().filter_map(Value::as_object) {
            let field = |k: &str| e.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v);
            let email = field("email").and_then(Value::as_str).unwrap_or_default();
            let confirmed = field("state").and_then(Value::as_str) == Some("confirmed");
            let primary = field("scope").and_then(Value::as_array).is_some_and(|a| a.iter().any(|s| s.as_str() == Some("primary")));
            if confirmed && primary && crate::validate::is_email(email) {
                return Ok(email.to_string());
            }
        }
        Ok(String::new())
    }

    async fn github_primary_email(&self, token: &Token) -> Result<String, String> {
        let (status, body) = self.get_with_token(&format!("{}/emails", self.user_info_url), token).await?;
        if matches!(status, 401 | 403 | 404) {
            return Ok(String::new());
        }
        let list: Vec<Value> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        for e in list {
            let get = |k: &str| e.as_object().and_then(|o| o.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone()));
            if get("verified").and_then(|v| v.as_bool()) == Some(true) && get("primary").and_then(|v| v.as_bool()) == Some(true) {
                return Ok(get("email").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default());
            }
        }
        Ok(String::new())
    }

    async fn oidc_id_token_claims(&self, token: &Token) -> Result<Map<String, Value>, String> {
        let id_token = token.extra_str("id_token");
        if id_token.is_empty() {
            return Err("empty id_token".into());
        }
        let claims = jwt_claims(&id_token)?;
        validate_claims(&claims, false, Some(&self.client_id), None)?;
        let issuers: Vec<String> = match self.extra.get("issuers") {
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => vec![],
        };
        if !issuers.is_empty() {
            let iss = claims.get("iss").and_then(Value::as_str).unwrap_or_default();
            if !issuers.iter().any(|i| crate::auth::secure_eq(i, iss)) {
                return Err(format!("iss must be one of {issuers:?}, got {:?}", claims.get("iss")));
            }
        }
        let jwks = self.extra_str("jwksURL");
        if !jwks.is_empty() {
            validate_jwks_signature(&id_token, &jwks).await.map_err(|e| format!("id_token validation failed: {e}"))?;
        }
        Ok(claims)
    }

    async fn apple_claims(&self, token: &Token) -> Result<Map<String, Value>, String> {
        let id_token = token.extra_str("id_token");
        if id_token.is_empty() {
            return Err("empty id_token".into());
        }
        let claims = jwt_claims(&id_token)?;
        validate_claims(&claims, true, Some(&self.client_id), Some("https://appleid.apple.com"))?;
        let jwks = Some(self.extra_str("jwksURL")).filter(|s| !s.is_empty()).unwrap_or_else(|| APPLE_JWKS_URL.to_string());
        validate_jwks_signature(&id_token, &jwks).await.map_err(|e| format!("id_token validation failed: {e}"))?;
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn meta_keys_are_sorted() {
        let mut u = AuthUser { id: "1".into(), ..Default::default() };
        u.raw_user = json!({"z": 1, "a": {"y": 1, "b": 2}}).as_object().cloned().unwrap();
        let m = u.meta_json(true);
        let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["accessToken", "avatarURL", "avatarUrl", "email", "expiry", "id", "isNew", "name", "rawUser", "refreshToken", "username"]
        );
        assert_eq!(m["rawUser"].to_string(), r#"{"a":{"b":2,"y":1},"z":1}"#);
    }

    #[test]
    fn claims_validation() {
        let now = chrono::Utc::now().timestamp();
        let c = json!({"aud": ["x", "cid"], "iss": "i", "iat": now, "exp": now + 60}).as_object().cloned().unwrap();
        assert!(validate_claims(&c, true, Some("cid"), Some("i")).is_ok());
        assert!(validate_claims(&c, true, Some("other"), None).is_err());
        let old = json!({"exp": now - 3600}).as_object().cloned().unwrap();
        assert!(validate_claims(&old, false, None, None).is_err());
        assert!(validate_claims(&Map::new(), true, None, None).is_err());
        assert!(cast_bool(Some(&json!("true"))) && !cast_bool(Some(&json!("no"))));
    }
}
