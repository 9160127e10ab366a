//! Rate limiting per `settings.rateLimits` (rest-api.md §1.5): rule lookup by label and
//! audience, fixed-window limiters keyed by (limiter id, client IP), IP lists, and a small
//! in-memory expiring key set used for resend throttles.

use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub const AUDIENCE_ALL: &str = "";
pub const AUDIENCE_GUEST: &str = "@guest";
pub const AUDIENCE_AUTH: &str = "@auth";

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub label: String,
    pub audience: String,
    pub duration: i64,
    pub max_requests: i64,
}

#[derive(Debug, Clone, Default)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub rules: Vec<Rule>,
    pub excluded_ips: Vec<String>,
}

impl RateLimitSettings {
    pub fn from_settings(settings: &Value) -> Self {
        let rl = settings.get("rateLimits").cloned().unwrap_or(Value::Null);
        let rules = rl
            .get("rules")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|r| Rule {
                        label: r.get("label").and_then(Value::as_str).unwrap_or_default().to_string(),
                        audience: r.get("audience").and_then(Value::as_str).unwrap_or_default().to_string(),
                        duration: r.get("duration").and_then(Value::as_i64).unwrap_or(0),
                        max_requests: r.get("maxRequests").and_then(Value::as_i64).unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let excluded_ips = rl
            .get("excludedIPs")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        Self { enabled: rl.get("enabled").and_then(Value::as_bool).unwrap_or(false), rules, excluded_ips }
    }

    /// PocketBase's `FindRateLimitRule`: for each label in order, an exact label match with an
    /// accepted audience, else a `/`-suffixed prefix rule (collected on the first label) that
    /// prefixes `label + "/"`.
    pub fn find_rule(&self, labels: &[String], audiences: &[&str]) -> Option<Rule> {
        let aud_ok = |r: &Rule| audiences.is_empty() || audiences.contains(&r.audience.as_str());
        let mut prefix_rules: Vec<&Rule> = vec![];
        for (i, label) in labels.iter().enumerate() {
            for r in &self.rules {
                if *label == r.label && aud_ok(r) {
                    return Some(r.clone());
                }
                if i == 0 && r.label.ends_with('/') {
                    prefix_rules.push(r);
                }
            }
            let with_slash = format!("{label}/");
            if let Some(r) = prefix_rules.iter().find(|r| with_slash.starts_with(r.label.as_str()) && aud_ok(r)) {
                return Some((*r).clone());
            }
        }
        None
    }
}

/// The audiences a request matches.
pub fn audiences(authenticated: bool) -> [&'static str; 2] {
    if authenticated {
        [AUDIENCE_ALL, AUDIENCE_AUTH]
    } else {
        [AUDIENCE_ALL, AUDIENCE_GUEST]
    }
}

/// Whether `ip` equals one of the listed IPs or falls in one of the CIDR subnets.
pub fn ip_in_list(list: &[String], ip: &str) -> bool {
    let Ok(addr) = ip.parse::<IpAddr>() else { return false };
    list.iter().any(|item| {
        if let Some((net, bits)) = item.split_once('/') {
            let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else { return false };
            return match (net, addr) {
                (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
                    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                    u32::from(n) & mask == u32::from(a) & mask
                }
                (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
                    let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
                    u128::from(n) & mask == u128::from(a) & mask
                }
                _ => false,
            };
        }
        item.parse::<IpAddr>().map(|i| i == addr).unwrap_or(false)
    })
}

#[derive(Debug, Clone, Copy)]
struct Window {
    available: i64,
    start: i64,
    interval: i64,
    max: i64,
}

/// Fixed-window limiters. A limiter's parameters are fixed when its first client appears;
/// [`Limiters::reset`] (on settings save) drops them all.
#[derive(Default)]
pub struct Limiters {
    clients: Mutex<HashMap<(String, String), Window>>,
}

impl Limiters {
    /// Consumes one token of `limiter_id` for `client`; false when exhausted.
    pub fn allow(&self, limiter_id: &str, client: &str, max_requests: i64, duration: i64) -> bool {
        let now = chrono::Utc::now().timestamp();
        let mut map = self.clients.lock();
        if map.len() > 50_000 {
            map.retain(|_, w| now - (w.start + w.interval) <= 1800);
        }
        let w = map
            .entry((limiter_id.to_string(), client.to_string()))
            .or_insert(Window { available: 0, start: 0, interval: duration, max: max_requests });
        if now - w.start >= w.interval {
            w.available = w.max;
            w.start = now;
        }
        if w.available > 0 {
            w.available -= 1;
            true
        } else {
            false
        }
    }

    pub fn reset(&self) {
        self.clients.lock().clear();
    }
}

/// Keys that expire after a while (resend throttles).
#[derive(Default)]
pub struct ExpiringSet {
    items: Mutex<HashMap<String, Instant>>,
}

impl ExpiringSet {
    pub fn insert(&self, key: &str, ttl: Duration) {
        let mut m = self.items.lock();
        let now = Instant::now();
        m.retain(|_, exp| *exp > now);
        m.insert(key.to_string(), now + ttl);
    }
    pub fn contains(&self, key: &str) -> bool {
        self.items.lock().get(key).is_some_and(|exp| *exp > Instant::now())
    }
    pub fn remove(&self, key: &str) {
        self.items.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rules: Value) -> RateLimitSettings {
        RateLimitSettings::from_settings(&serde_json::json!({"rateLimits": {"enabled": true, "rules": rules}}))
    }

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exact_labels_win_in_label_order_with_audience() {
        let s = settings(serde_json::json!([
            {"label": "*:auth", "audience": "", "duration": 1, "maxRequests": 1},
            {"label": "users:authWithPassword", "audience": "@auth", "duration": 1, "maxRequests": 2},
            {"label": "users:auth", "audience": "@guest", "duration": 1, "maxRequests": 3},
        ]));
        let l = labels(&["users:authWithPassword", "users:auth", "*:authWithPassword", "*:auth", "POST /api/x", "/api/x"]);
        assert_eq!(s.find_rule(&l, &audiences(false)).unwrap().max_requests, 3);
        assert_eq!(s.find_rule(&l, &audiences(true)).unwrap().max_requests, 2);
    }

    #[test]
    fn prefix_rules_match_paths() {
        let s = settings(serde_json::json!([
            {"label": "/api/", "audience": "", "duration": 1, "maxRequests": 7},
            {"label": "POST /api/batch", "audience": "", "duration": 1, "maxRequests": 9},
        ]));
        assert_eq!(s.find_rule(&labels(&["GET /api/health", "/api/health"]), &[]).unwrap().max_requests, 7);
        assert_eq!(s.find_rule(&labels(&["POST /api/batch", "/api/batch"]), &[]).unwrap().max_requests, 9);
        assert!(s.find_rule(&labels(&["GET /other", "/other"]), &[]).is_none());
    }

    #[test]
    fn fixed_window_and_ip_lists() {
        let l = Limiters::default();
        assert!(l.allow("a", "1.1.1.1", 2, 60));
        assert!(l.allow("a", "1.1.1.1", 2, 60));
        assert!(!l.allow("a", "1.1.1.1", 2, 60));
        assert!(l.allow("a", "2.2.2.2", 2, 60));
        l.reset();
        assert!(l.allow("a", "1.1.1.1", 2, 60));
        let list = vec!["10.0.0.0/8".to_string(), "::1".to_string()];
        assert!(ip_in_list(&list, "10.2.3.4"));
        assert!(ip_in_list(&list, "::1"));
        assert!(!ip_in_list(&list, "11.0.0.1"));
    }
}
