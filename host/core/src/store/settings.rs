//! The settings JSON stored in `_params` (row `settings`).

use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::util::now_string;

pub const DEFAULTS: &str = include_str!("../model/data/settings_defaults.json");

pub fn defaults() -> Value {
    serde_json::from_str(DEFAULTS).unwrap_or(Value::Null)
}

/// Loads the stored settings merged over the defaults (so newer keys always exist).
pub fn load(conn: &Connection, crypto: Option<&crate::settings::SettingsCipher>) -> ApiResult<Value> {
    let raw: Option<Vec<u8>> = conn
        .query_row("SELECT CAST(value AS BLOB) FROM _params WHERE id = 'settings'", [], |r| r.get(0))
        .optional()?
        .flatten();
    let mut settings = defaults();
    if let Some(bytes) = raw {
        let stored: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => {
                let cipher = crypto.ok_or_else(|| {
                    ApiError::internal("the stored settings are encrypted: start with --encryptionEnv")
                })?;
                let plain = cipher.decrypt(&bytes)?;
                serde_json::from_slice(&plain).map_err(|e| ApiError::internal(format!("settings: {e}")))?
            }
        };
        crate::model::collection::merge_json(&mut settings, &stored);
    }
    Ok(settings)
}

pub fn save(conn: &Connection, settings: &Value, crypto: Option<&crate::settings::SettingsCipher>) -> ApiResult<()> {
    let json = settings.to_string().into_bytes();
    let stored = match crypto {
        Some(c) => c.encrypt(&json)?,
        None => json,
    };
    let now = now_string();
    conn.execute(
        "INSERT INTO _params (id, value, created, updated) VALUES ('settings', ?1, ?2, ?2)
         ON CONFLICT(id) DO UPDATE SET value = excluded.value, updated = excluded.updated",
        rusqlite::params![stored, now],
    )?;
    Ok(())
}
