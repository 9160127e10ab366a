//! First-start initialisation of `data.db`/`auxiliary.db` with PocketBase's system schema,
//! and the checks done when opening an existing `pb_data`.

use rusqlite::{params, Connection};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::model::collection::TOKEN_OPTION_KEYS;
use crate::model::Collection;
use crate::schema::create_collection_table;
use crate::util::{now_string, random_string, ALPHANUMERIC};

const SYSTEM_COLLECTIONS: &str = include_str!("../model/data/system_collections.json");

/// PocketBase's built-in migrations, recorded so PocketBase never re-runs them on our DBs.
pub const SYSTEM_MIGRATIONS: [&str; 8] = [
    "1640988000_aux_init.go",
    "1640988000_init.go",
    "1717233556_v0.23_migrate.go",
    "1717233557_v0.23_migrate2.go",
    "1717233558_v0.23_migrate3.go",
    "1717233559_v0.23_migrate4.go",
    "1763020353_update_default_auth_alert_templates.go",
    "1778828400_normalize_indexes.go",
];

const BASE_DDL: &str = "
CREATE TABLE `_migrations` (file VARCHAR(255) PRIMARY KEY NOT NULL, applied INTEGER NOT NULL);
CREATE TABLE `_collections` (
  `id`         TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
  `system`     BOOLEAN DEFAULT FALSE NOT NULL,
  `type`       TEXT DEFAULT \"base\" NOT NULL,
  `name`       TEXT UNIQUE NOT NULL,
  `fields`     JSON DEFAULT \"[]\" NOT NULL,
  `indexes`    JSON DEFAULT \"[]\" NOT NULL,
  `listRule`   TEXT DEFAULT NULL,
  `viewRule`   TEXT DEFAULT NULL,
  `createRule` TEXT DEFAULT NULL,
  `updateRule` TEXT DEFAULT NULL,
  `deleteRule` TEXT DEFAULT NULL,
  `options`    JSON DEFAULT \"{}\" NOT NULL,
  `created`    TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
  `updated`    TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
);
CREATE INDEX idx__collections_type on `_collections` (`type`);
CREATE TABLE `_params` (
  `id`      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
  `value`   JSON DEFAULT NULL,
  `created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
  `updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
);
";

const AUX_DDL: &str = "
CREATE TABLE IF NOT EXISTS `_logs` (
  `id`      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
  `level`   INTEGER DEFAULT 0 NOT NULL,
  `message` TEXT DEFAULT \"\" NOT NULL,
  `data`    JSON DEFAULT \"{}\" NOT NULL,
  `created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_logs_level on `_logs` (`level`);
CREATE INDEX IF NOT EXISTS idx_logs_message on `_logs` (`message`);
CREATE INDEX IF NOT EXISTS idx_logs_created_hour on `_logs` (strftime('%Y-%m-%d %H:00:00', `created`));
";

fn table_exists(conn: &Connection, name: &str) -> ApiResult<bool> {
    let n: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| r.get(0))?;
    Ok(n > 0)
}

/// Initialises a fresh data.db, or validates an existing one. Returns true when new.
pub fn ensure_data_db(conn: &mut Connection) -> ApiResult<bool> {
    if table_exists(conn, "_collections")? {
        if !table_exists(conn, "_superusers")? && table_exists(conn, "_admins")? {
            return Err(ApiError::internal(
                "this pb_data was created by PocketBase <= 0.22; upgrade it with PocketBase 0.23+ first",
            ));
        }
        return Ok(false);
    }
    let tx = conn.transaction()?;
    tx.execute_batch(BASE_DDL)?;
    let defs: Vec<Value> = serde_json::from_str(SYSTEM_COLLECTIONS).map_err(|e| ApiError::internal(e.to_string()))?;
    let now = now_string();
    for def in defs {
        let obj = def.as_object().cloned().unwrap_or_default();
        let mut c = Collection::from_api_json(&flatten_options(obj)).map_err(|e| ApiError::internal(e.0))?;
        if let Some(Value::Bool(b)) = def.get("system") {
            c.system = *b;
        }
        for key in TOKEN_OPTION_KEYS {
            if let Some(Value::Object(t)) = c.options.get_mut(key) {
                t.insert("secret".into(), Value::String(random_string(50, ALPHANUMERIC)));
            }
        }
        c.created = now.clone();
        c.updated = now.clone();
        crate::store::collections::insert(&tx, &c)?;
        create_collection_table(&tx, &c)?;
    }
    let applied = chrono::Utc::now().timestamp_micros();
    for m in SYSTEM_MIGRATIONS {
        tx.execute("INSERT INTO _migrations (file, applied) VALUES (?1, ?2)", params![m, applied])?;
    }
    crate::store::settings::save(&tx, &crate::store::settings::defaults(), None)?;
    tx.commit()?;
    Ok(true)
}

/// The embedded definitions keep options nested under "options"; the API form is flat.
fn flatten_options(mut obj: serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    if let Some(Value::Object(opts)) = obj.remove("options") {
        for (k, v) in opts {
            obj.insert(k, v);
        }
    }
    obj
}

pub fn ensure_aux_db(conn: &Connection) -> ApiResult<()> {
    conn.execute_batch(AUX_DDL)?;
    Ok(())
}
