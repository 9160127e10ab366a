//! HTTP handlers, one file per endpoint family (thin: parse, call core, shape the response).

pub mod backups;
pub mod batch;
pub mod collections;
pub mod crons;
pub mod logs;
pub mod files;
pub mod health;
pub mod record_auth;
pub mod record_auth_email_flows;
pub mod record_auth_oauth2;
pub mod record_auth_otp;
pub mod record_auth_password;
pub mod realtime;
pub mod records;
pub mod settings;
pub mod sql;
pub mod static_files;

use crate::http::query::Query;
use pocketbun_core::ApiError;

/// Paging parameters shared by list endpoints (non-integer values are a 400).
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
    pub skip_total: bool,
}

impl Paging {
    pub fn from_query(q: &Query) -> Result<Self, ApiError> {
        let int = |key: &str, default: i64| -> Result<i64, ApiError> {
            match q.get(key) {
                None | Some("") => Ok(default),
                Some(v) => v.parse::<i64>().map_err(|_| ApiError::bad_request("")),
            }
        };
        let skip_total = match q.get("skipTotal") {
            None | Some("") => false,
            Some("1") | Some("true") | Some("t") | Some("T") | Some("TRUE") | Some("True") => true,
            Some("0") | Some("false") | Some("f") | Some("F") | Some("FALSE") | Some("False") => false,
            Some(_) => return Err(ApiError::bad_request("")),
        };
        Ok(Self { page: int("page", 1)?, per_page: int("perPage", 30)?, skip_total })
    }
}

/// The list envelope in PocketBase's key order.
pub fn list_envelope(items: Vec<serde_json::Value>, page: i64, per_page: i64, total_items: i64, total_pages: i64) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("items".into(), serde_json::Value::Array(items));
    m.insert("page".into(), page.into());
    m.insert("perPage".into(), per_page.into());
    m.insert("totalItems".into(), total_items.into());
    m.insert("totalPages".into(), total_pages.into());
    serde_json::Value::Object(m)
}
