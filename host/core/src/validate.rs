//! Format checks shared by field and settings validation.

use regex::Regex;
use std::sync::OnceLock;

pub fn is_email(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")
            .expect("static regex")
    });
    s.len() <= 254 && re.is_match(s)
}

pub fn is_url(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(?i)[a-z][a-z0-9+.-]*://[^\s/?#]+[^\s]*$").expect("static regex")
    });
    re.is_match(s)
}

/// The host part of a URL or the domain of an email, lower-cased.
pub fn domain_of(s: &str, email: bool) -> String {
    if email {
        return s.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    }
    let rest = s.split_once("://").map(|(_, r)| r).unwrap_or(s);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    host.split(':').next().unwrap_or_default().to_ascii_lowercase()
}

/// `^\w+$` as PocketBase uses it for collection and field names.
pub fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_email("test@example.com"));
        assert!(!is_email("test@"));
        assert!(is_url("https://example.com/a?b"));
        assert!(!is_url("example.com"));
        assert_eq!(domain_of("https://user@Example.com:80/x", false), "example.com");
        assert_eq!(domain_of("a@B.com", true), "b.com");
    }
}
