//! Outgoing HTTP for extensions (`$http.send` in pb_hooks), behind a host allowlist.
//!
//! The allowlist comes from `POCKETBUN_HTTP_ALLOW`: comma-separated host names or IP
//! addresses, `*.example.com` for any subdomain, `*` for everything. Unset means every
//! host is allowed, as in PocketBase (which has no allowlist). Redirects are followed (up
//! to 10, like Go's default client) only to allowed hosts.

use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Which hosts outgoing requests may reach.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowlist(Option<Vec<String>>);

impl Allowlist {
    pub fn parse(spec: Option<&str>) -> Self {
        match spec.map(str::trim) {
            None | Some("") => Allowlist(None),
            Some(s) => Allowlist(Some(s.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())),
        }
    }

    pub fn from_env() -> Self {
        Self::parse(std::env::var("POCKETBUN_HTTP_ALLOW").ok().as_deref())
    }

    pub fn allows(&self, host: &str) -> bool {
        let Some(list) = &self.0 else { return true };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        list.iter().any(|p| match p.strip_prefix("*.") {
            _ if p == "*" => true,
            Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix) && host[..host.len() - suffix.len()].ends_with('.'),
            None => *p == host,
        })
    }
}

fn allowlist() -> &'static Allowlist {
    static A: OnceLock<Allowlist> = OnceLock::new();
    A.get_or_init(Allowlist::from_env)
}

fn client() -> &'static reqwest::Client {
    static C: OnceLock<reqwest::Client> = OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let ok = attempt.url().host_str().is_some_and(|h| allowlist().allows(h));
                if attempt.previous().len() >= 10 || !ok {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .expect("http client")
    })
}

pub async fn send(req: Request) -> ApiResult<Response> {
    let url = reqwest::Url::parse(&req.url).map_err(|e| ApiError::bad_request(format!("invalid url {:?}: {e}", req.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(format!("unsupported url scheme {:?}", url.scheme())));
    }
    let host = url.host_str().unwrap_or_default();
    if !allowlist().allows(host) {
        return Err(ApiError::forbidden(format!("outgoing requests to {host:?} are not allowed (POCKETBUN_HTTP_ALLOW)")));
    }
    let method = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| ApiError::bad_request(format!("invalid method {:?}", req.method)))?;
    let mut b = client().request(method, url).timeout(req.timeout);
    for (k, v) in &req.headers {
        b = b.header(k, v);
    }
    if !req.body.is_empty() {
        b = b.body(req.body);
    }
    let res = b.send().await.map_err(|e| ApiError::bad_request(describe(&e)))?;
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = res.bytes().await.map_err(|e| ApiError::bad_request(describe(&e)))?.to_vec();
    Ok(Response { status, headers, body })
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".to_string()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_patterns() {
        assert!(Allowlist::parse(None).allows("anything.example"));
        let a = Allowlist::parse(Some("127.0.0.1, api.example.com,*.svc.local"));
        assert!(a.allows("127.0.0.1"));
        assert!(a.allows("API.example.com"));
        assert!(a.allows("x.svc.local"));
        assert!(!a.allows("svc.local"));
        assert!(!a.allows("evilsvc.local"));
        assert!(!a.allows("example.com"));
        assert!(Allowlist::parse(Some("*")).allows("x"));
        assert!(Allowlist::parse(Some("::1")).allows("[::1]"));
    }
}
