//! The application: databases, the collection snapshot and settings.

use arc_swap::ArcSwap;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::db::{Db, DbOptions};
use crate::error::{ApiError, ApiResult};
use crate::schema_cache::Schema;
use crate::settings::SettingsCipher;
use crate::store;

#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub data_dir: PathBuf,
    /// Name of the env var holding the 32-char settings encryption key.
    pub encryption_env: Option<String>,
    pub dev: bool,
}

pub struct App {
    pub opts: AppOptions,
    pub data: Db,
    pub aux: Db,
    schema: ArcSwap<Schema>,
    settings: ArcSwap<Value>,
    /// Typed views of the settings read on every request, rebuilt when the settings change.
    derived: ArcSwap<DerivedSettings>,
    schema_version: AtomicU64,
    cipher: Option<Arc<SettingsCipher>>,
    /// True when this start created a fresh data.db.
    pub fresh: bool,
    /// Rate limiter windows (reset whenever settings are replaced).
    pub rate_limiters: crate::ratelimit::Limiters,
    /// Short-lived flags such as the email resend throttles.
    pub throttles: crate::ratelimit::ExpiringSet,
    /// Realtime clients and their subscriptions.
    pub realtime: Arc<crate::realtime::Broker>,
    /// The file storage backends (local, S3 from the settings).
    pub storages: crate::files::backend::Storages,
    /// Event hooks of extensions (PocketBase's `onRecordCreate`...), empty until registered.
    pub hooks: crate::hooks::HookSlot,
    /// Cron jobs registered by extensions (the built-in ones are in `crons::SYSTEM_JOBS`).
    pub crons: crate::crons::CronRegistry,
    /// The backup or restore in progress.
    pub active_backup: crate::backups::ActiveBackup,
}

impl App {
    /// Opens (or creates) `pb_data`, applies the system schema and loads the caches.
    pub fn bootstrap(opts: AppOptions) -> ApiResult<Arc<App>> {
        std::fs::create_dir_all(&opts.data_dir)
            .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", opts.data_dir.display())))?;
        crate::backups::clean_temp(&opts.data_dir);
        let cipher = match &opts.encryption_env {
            Some(var) if !var.is_empty() => match std::env::var(var) {
                Ok(key) if !key.is_empty() => Some(Arc::new(SettingsCipher::from_key(&key)?)),
                _ => None,
            },
            _ => None,
        };
        let data = Db::open(opts.data_dir.join("data.db"), DbOptions::default())?;
        let aux = Db::open(opts.data_dir.join("auxiliary.db"), DbOptions { readers: 1 })?;
        let fresh = data.write_blocking(|conn| store::init::ensure_data_db(conn))?;
        let realtime = Arc::new(crate::realtime::Broker::default());
        let sink_broker = realtime.clone();
        data.write_blocking(move |conn| {
            crate::realtime::capture::install(conn, Arc::new(move |changes| sink_broker.publish(changes)));
            Ok(())
        })?;
        aux.write_blocking(|conn| store::init::ensure_aux_db(conn))?;
        let c2 = cipher.clone();
        let (collections, settings) = data.write_blocking(move |conn| {
            let cols = store::collections::load_all(conn)?;
            let mut settings = store::settings::load(conn, c2.as_deref())?;
            if c2.is_some() {
                // re-save so the stored value is encrypted from now on
                store::settings::save(conn, &settings, c2.as_deref())?;
                settings = store::settings::load(conn, c2.as_deref())?;
            }
            Ok((cols, settings))
        })?;
        Ok(Arc::new(App {
            opts,
            data,
            aux,
            schema: ArcSwap::from_pointee(Schema::new(collections, 1)),
            derived: ArcSwap::from_pointee(DerivedSettings::from_settings(&settings)),
            settings: ArcSwap::from_pointee(settings),
            schema_version: AtomicU64::new(1),
            cipher,
            fresh,
            rate_limiters: Default::default(),
            throttles: Default::default(),
            realtime,
            storages: Default::default(),
            hooks: Default::default(),
            crons: Default::default(),
            active_backup: Default::default(),
        }))
    }

    pub fn schema(&self) -> Arc<Schema> {
        self.schema.load_full()
    }

    pub fn settings(&self) -> Arc<Value> {
        self.settings.load_full()
    }

    /// The typed, per-request parts of the settings (rate limits, request logging).
    pub fn derived_settings(&self) -> Arc<DerivedSettings> {
        self.derived.load_full()
    }

    pub fn cipher(&self) -> Option<Arc<SettingsCipher>> {
        self.cipher.clone()
    }

    /// Replaces the collection snapshot (call after a committed schema change).
    pub fn set_collections(&self, collections: Vec<crate::model::Collection>) {
        let v = self.schema_version.fetch_add(1, Ordering::SeqCst) + 1;
        let new = Arc::new(Schema::new(collections, v));
        let old = self.schema.swap(new.clone());
        unset_realtime_auth_of_changed_collections(&self.realtime, &old, &new);
    }

    pub fn set_settings(&self, settings: Value) {
        self.derived.store(Arc::new(DerivedSettings::from_settings(&settings)));
        self.settings.store(Arc::new(settings));
        self.rate_limiters.reset();
    }

    /// Reloads the settings from the database (after a transaction that saved them did not
    /// commit).
    pub async fn reload_settings(&self) -> ApiResult<()> {
        let cipher = self.cipher.clone();
        let settings = self.data.read(move |conn| store::settings::load(conn, cipher.as_deref())).await?;
        self.set_settings(settings);
        Ok(())
    }

    /// Reloads collections from the database.
    pub async fn reload_collections(&self) -> ApiResult<()> {
        let cols = self.data.read(|conn| store::collections::load_all(conn)).await?;
        self.set_collections(cols);
        Ok(())
    }

    /// Collections and settings saved in a write transaction are the app's at once (the
    /// transaction's own later steps need them); when it does not commit, both are read
    /// again from the database. Failures are logged: the rollback is the caller's answer.
    pub async fn reload_after_rollback(&self) {
        if let Err(e) = self.reload_collections().await {
            tracing::error!("reloading the collections after a rolled back transaction: {}", e.message);
        }
        if let Err(e) = self.reload_settings().await {
            tracing::error!("reloading the settings after a rolled back transaction: {}", e.message);
        }
    }
}

/// Realtime clients authenticated by an auth collection that was deleted, or whose auth token
/// secret changed (every token it issued is invalid), become guests, as in PocketBase.
fn unset_realtime_auth_of_changed_collections(broker: &crate::realtime::Broker, old: &Schema, new: &Schema) {
    if broker.is_empty() {
        return;
    }
    for before in old.collections.iter().filter(|c| c.is_auth()) {
        match new.collections.iter().find(|c| c.id == before.id) {
            None => broker.unset_auth_collection(&before.name),
            Some(after) if after.token_secret("authToken") != before.token_secret("authToken") => {
                broker.unset_auth_collection(&after.name)
            }
            Some(_) => {}
        }
    }
}

/// Request logging switches from `settings.logs`.
#[derive(Debug, Clone, Default)]
pub struct LogSettings {
    /// 0 disables request logging.
    pub max_days: i64,
    pub min_level: i64,
    pub log_ip: bool,
    pub log_auth_id: bool,
}

/// Settings the request path consults on every request, parsed once per settings change.
#[derive(Debug, Clone, Default)]
pub struct DerivedSettings {
    pub rate_limits: crate::ratelimit::RateLimitSettings,
    pub logs: LogSettings,
}

impl DerivedSettings {
    pub fn from_settings(settings: &Value) -> Self {
        let logs = settings.get("logs").unwrap_or(&Value::Null);
        Self {
            rate_limits: crate::ratelimit::RateLimitSettings::from_settings(settings),
            logs: LogSettings {
                max_days: logs.get("maxDays").and_then(Value::as_i64).unwrap_or(0),
                min_level: logs.get("minLevel").and_then(Value::as_i64).unwrap_or(0),
                log_ip: logs.get("logIP").and_then(Value::as_bool).unwrap_or(true),
                log_auth_id: logs.get("logAuthId").and_then(Value::as_bool).unwrap_or(false),
            },
        }
    }
}
