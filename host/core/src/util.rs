//! Small shared helpers: PocketBase dates, random strings.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rand::Rng;

pub const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const LOWER_ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A cryptographically random string over `alphabet`. `ThreadRng` is a CSPRNG (ChaCha,
/// seeded and periodically reseeded from the OS); drawing each character from `OsRng` instead
/// cost one `getrandom` syscall per character on every id, token key and log row.
pub fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
}

/// A fresh 15-char record id.
pub fn new_record_id() -> String {
    random_string(15, LOWER_ALPHANUMERIC)
}

/// PocketBase's canonical date format: `2024-01-02 10:00:00.000Z`.
pub fn format_date(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string()
}

pub fn now_string() -> String {
    format_date(Utc::now())
}

/// Parses the date forms PocketBase accepts (RFC 3339, `Y-m-d H:M:S[.f][Z]`, `Y-m-d`,
/// unix seconds) and returns the canonical string; `None` when unparsable.
pub fn parse_date(input: &str) -> Option<DateTime<Utc>> {
    let s = input.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    let t = s.trim_end_matches('Z').replace('T', " ");
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(ndt) = NaiveDateTime::parse_from_str(&t, fmt) {
            return Some(Utc.from_utc_datetime(&ndt));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n));
    }
    if let Some(rest) = t.split_once(' ').map(|(d, _)| d) {
        if let Ok(d) = NaiveDate::parse_from_str(rest, "%Y-%m-%d") {
            return d.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n));
        }
    }
    if let Ok(secs) = s.parse::<i64>() {
        return Utc.timestamp_opt(secs, 0).single();
    }
    None
}

pub fn normalize_date(input: &str) -> String {
    parse_date(input).map(format_date).unwrap_or_default()
}

/// Renders a number the way Go's JSON encoder does for float64 (integral values without a
/// fraction).
pub fn number_json(f: f64) -> serde_json::Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        serde_json::Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map(serde_json::Value::Number).unwrap_or(serde_json::Value::from(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_normalise() {
        assert_eq!(normalize_date("2024-01-02T10:00:00Z"), "2024-01-02 10:00:00.000Z");
        assert_eq!(normalize_date("2024-01-02 10:00:00.123Z"), "2024-01-02 10:00:00.123Z");
        assert_eq!(normalize_date("2024-01-02"), "2024-01-02 00:00:00.000Z");
        assert_eq!(normalize_date("nope"), "");
    }

    #[test]
    fn numbers_render_like_go() {
        assert_eq!(number_json(15.0).to_string(), "15");
        assert_eq!(number_json(1.5).to_string(), "1.5");
    }
}
