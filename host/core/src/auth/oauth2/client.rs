//! Outgoing OAuth2 HTTP: the code exchange, user info requests, JSON Web Key Sets and the
//! avatar download (reqwest with rustls; every request has a timeout).

use super::Provider;
use serde_json::{Map, Value};
use std::sync::OnceLock;
use std::time::Duration;

fn http() -> &'static reqwest::Client {
    static C: OnceLock<reqwest::Client> = OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent("PocketBun")
            .build()
            .expect("http client")
    })
}

/// An OAuth2 token response.
#[derive(Debug, Clone, Default)]
pub struct Token {
    pub access_token: String,
    pub token_type: String,
    pub refresh_token: String,
    pub expiry: Option<chrono::DateTime<chrono::Utc>>,
    /// Every field of the response (id_token and friends).
    pub raw: Map<String, Value>,
}

impl Token {
    /// The Authorization header scheme (golang.org/x/oauth2's `Token.Type`).
    pub fn auth_header(&self) -> String {
        let t = match self.token_type.to_ascii_lowercase().as_str() {
            "" | "bearer" => "Bearer".to_string(),
            "mac" => "MAC".to_string(),
            "basic" => "Basic".to_string(),
            _ => self.token_type.clone(),
        };
        format!("{t} {}", self.access_token)
    }

    pub fn extra_str(&self, key: &str) -> String {
        self.raw.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
    }
}

fn parse_token(content_type: &str, body: &[u8]) -> Result<Token, String> {
    let ct = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let raw: Map<String, Value> = if ct == "application/x-www-form-urlencoded" || ct == "text/plain" {
        form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect()
    } else {
        serde_json::from_slice::<Value>(body)
            .map_err(|e| format!("oauth2: cannot parse json: {e}"))?
            .as_object()
            .cloned()
            .ok_or("oauth2: cannot parse json: not an object")?
    };
    let s = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let expires_in = match raw.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0) as i64,
        Some(Value::String(v)) => v.trim().parse::<f64>().unwrap_or(0.0) as i64,
        _ => 0,
    };
    let tok = Token {
        access_token: s("access_token"),
        token_type: s("token_type"),
        refresh_token: s("refresh_token"),
        expiry: (expires_in != 0).then(|| chrono::Utc::now() + chrono::Duration::seconds(expires_in)),
        raw: raw.clone(),
    };
    if !s("error").is_empty() && tok.access_token.is_empty() {
        return Err(format!("oauth2: {:?} {:?}", s("error"), s("error_description")));
    }
    if tok.access_token.is_empty() {
        return Err("oauth2: server response missing access_token".into());
    }
    Ok(tok)
}

impl Provider {
    /// Exchanges an authorization code (with the PKCE verifier when the provider uses PKCE).
    /// Client credentials go in a Basic header first and in the form on a second try, like
    /// golang.org/x/oauth2's auto-detected auth style.
    pub async fn fetch_token(&self, code: &str, code_verifier: &str) -> Result<Token, String> {
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "authorization_code"), ("code", code)];
        if !self.redirect_url.is_empty() {
            form.push(("redirect_uri", self.redirect_url.as_str()));
        }
        if self.pkce {
            form.push(("code_verifier", code_verifier));
        }
        let first = self.token_request(&form, true).await;
        match first {
            Ok(t) => Ok(t),
            Err(_) => {
                let mut form2 = form.clone();
                form2.push(("client_id", self.client_id.as_str()));
                if !self.client_secret.is_empty() {
                    form2.push(("client_secret", self.client_secret.as_str()));
                }
                self.token_request(&form2, false).await
            }
        }
    }

    async fn token_request(&self, form: &[(&str, &str)], basic: bool) -> Result<Token, String> {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form.iter()).finish();
        let mut req = http()
            .post(&self.token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if basic {
            req = req.basic_auth(super::query_escape(&self.client_id), Some(super::query_escape(&self.client_secret)));
        }
        let res = req.send().await.map_err(|e| format!("oauth2: {e}"))?;
        let status = res.status();
        let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let bytes = res.bytes().await.map_err(|e| format!("oauth2: cannot fetch token: {e}"))?;
        if !status.is_success() {
            return Err(format!("oauth2: cannot fetch token: {status}\nResponse: {}", String::from_utf8_lossy(&bytes)));
        }
        parse_token(&ct, &bytes)
    }

    /// GET with the access token; errors for status ≥ 400.
    pub(super) async fn get_with_token(&self, url: &str, token: &Token) -> Result<(u16, Vec<u8>), String> {
        let mut req = http().get(url).header("Authorization", token.auth_header());
        match self.spec.kind {
            super::Kind::Twitch => req = req.header("Client-Id", &self.client_id),
            super::Kind::Notion => req = req.header("Notion-Version", "2022-06-28"),
            super::Kind::Trakt => {
                req = req
                    .header("Content-type", "application/json")
                    .header("trakt-api-key", &self.client_id)
                    .header("trakt-api-version", "2")
            }
            _ => {}
        }
        let res = req
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let body = res.bytes().await.map_err(|e| e.to_string())?.to_vec();
        Ok((status, body))
    }

    /// The GraphQL body of the providers whose user info is a POSTed query.
    fn graphql_me_query(&self) -> Option<&'static str> {
        match self.spec.kind {
            super::Kind::Linear => Some(r#"{"query": "query Me { viewer { id displayName name email avatarUrl active } }"}"#),
            super::Kind::Monday => Some(r#"{"query": "query { me { id enabled name email is_verified photo_small }}"}"#),
            _ => None,
        }
    }

    async fn post_json_with_token(&self, url: &str, body: &'static str, token: &Token) -> Result<(u16, Vec<u8>), String> {
        let res = http()
            .post(url)
            .header("Authorization", token.auth_header())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        Ok((status, res.bytes().await.map_err(|e| e.to_string())?.to_vec()))
    }

    /// The raw user info document from `userInfoURL`.
    pub(super) async fn fetch_raw_user_info(&self, token: &Token) -> Result<Vec<u8>, String> {
        let (status, body) = match self.graphql_me_query() {
            Some(query) => self.post_json_with_token(&self.user_info_url, query, token).await?,
            None => self.get_with_token(&self.user_info_url, token).await?,
        };
        if status >= 400 {
            return Err(format!(
                "failed to fetch OAuth2 user profile via {} ({status}):\n{}",
                self.user_info_url,
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(body)
    }
}

/// Verifies a JWT's signature against the key (by `kid`, with a non-empty `alg`) of a JSON Web
/// Key Set. RSA (RS256/384/512) and Ed25519 keys.
pub(super) async fn validate_jwks_signature(token: &str, jwks_url: &str) -> Result<(), String> {
    use jsonwebtoken::{Algorithm, DecodingKey};
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.clone().unwrap_or_default();
    if kid.is_empty() {
        return Err("missing kid header value".into());
    }
    let res = http().get(jwks_url).send().await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    if status >= 400 {
        return Err(format!("failed to fetch JSON Web Key Set from {jwks_url} ({status}):\n{}", String::from_utf8_lossy(&body)));
    }
    let set: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let keys = set.get("keys").and_then(Value::as_array).cloned().unwrap_or_default();
    let s = |k: &Value, f: &str| k.get(f).and_then(Value::as_str).unwrap_or_default().to_string();
    let key = keys
        .iter()
        .find(|k| s(k, "kid") == kid && !s(k, "alg").is_empty())
        .ok_or_else(|| format!("missing JWK with kid {kid:?} and non-empty alg"))?;
    let alg_name = s(key, "alg");
    let alg: Algorithm = alg_name.parse().map_err(|_| format!("unsupported alg {alg_name:?}"))?;
    if header.alg != alg {
        return Err(format!("the JWK alg {alg_name:?} doesn't match the token alg"));
    }
    let dk = match s(key, "kty").as_str() {
        "RSA" => DecodingKey::from_rsa_components(&s(key, "n"), &s(key, "e")).map_err(|e| e.to_string())?,
        "OKP" if s(key, "crv") == "Ed25519" => DecodingKey::from_ed_components(&s(key, "x")).map_err(|e| e.to_string())?,
        other => return Err(format!("unsupported kty (must be RSA or OKP): {other:?}")),
    };
    let (message, sig) = token.rsplit_once('.').ok_or("invalid token")?;
    match jsonwebtoken::crypto::verify(sig, message.as_bytes(), &dk, alg) {
        Ok(true) => Ok(()),
        Ok(false) => Err("invalid token signature".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Downloads an avatar like PocketBase's safeFileFromURL: only public addresses (no loopback,
/// private, link-local, multicast or unspecified IPs), 10 s, at most 32 MiB; the name is the
/// URL path's base name.
pub async fn download_avatar(url: &str) -> Result<(String, Vec<u8>), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().ok_or("missing host")?.to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let host_for_lookup = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let addrs: Vec<std::net::SocketAddr> =
        tokio::net::lookup_host((host_for_lookup.as_str(), port)).await.map_err(|e| e.to_string())?.collect();
    let addr = addrs.into_iter().next().ok_or("no address")?;
    if !is_public_ip(addr.ip()) {
        return Err(format!("address {addr} is invalid or resolve to disallowed IP"));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .resolve(&host_for_lookup, addr)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let res = client.get(parsed.clone()).send().await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    if !(200..=399).contains(&status) {
        return Err(format!("failed to download url {url} ({status})"));
    }
    const MAX: usize = 32 << 20;
    let bytes = res.bytes().await.map_err(|e| e.to_string())?;
    let bytes = bytes[..bytes.len().min(MAX)].to_vec();
    let name = parsed.path().rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("avatar").to_string();
    Ok((name, bytes))
}

fn is_public_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v) => !(v.is_loopback() || v.is_unspecified() || v.is_private() || v.is_link_local() || v.is_multicast()),
        IpAddr::V6(v) => {
            let seg = v.segments()[0];
            !(v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (seg & 0xfe00) == 0xfc00
                || (seg & 0xffc0) == 0xfe80
                || v.to_ipv4_mapped().is_some_and(|m| !is_public_ip(IpAddr::V4(m))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_parsing() {
        let t = parse_token("application/json", br#"{"access_token":"a","token_type":"bearer","expires_in":3600,"id_token":"x"}"#).unwrap();
        assert_eq!(t.auth_header(), "Bearer a");
        assert!(t.expiry.is_some());
        assert_eq!(t.extra_str("id_token"), "x");
        let f = parse_token("application/x-www-form-urlencoded; charset=utf-8", b"access_token=b&scope=user").unwrap();
        assert_eq!(f.access_token, "b");
        assert!(f.expiry.is_none());
        assert!(parse_token("application/json", br#"{"error":"bad"}"#).is_err());
        assert!(parse_token("application/json", b"{}").is_err());
    }

    #[test]
    fn public_ips() {
        assert!(!is_public_ip("127.0.0.1".parse().unwrap()));
        assert!(!is_public_ip("10.1.1.1".parse().unwrap()));
        assert!(!is_public_ip("::1".parse().unwrap()));
        assert!(is_public_ip("8.8.8.8".parse().unwrap()));
    }
}
