//! Per-instance store data and the host side of the WIT imports.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::pocketbun::plugin::{auth, collections, db, hooks, http_client, kv, log, mail, records, settings, timer, tx};
use crate::bindings::types::{self, ApiError, HttpResponse, LogLevel, SqlValue};
use crate::core_api::{BoxFuture, CoreError, OutboundRequest, PluginCore, RecordFilter, RecordTokenRequest, SaveMode, SqlParam};
use std::time::Duration;

/// The continuation of a hook chain while `handle-hook` runs (see `hooks.next`).
pub type HookNext = Box<dyn FnMut(Value) -> BoxFuture<Result<Value, CoreError>> + Send>;

/// `$app.store()`: shared by all instances of one plugin.
#[derive(Default)]
pub struct KvStore(parking_lot::Mutex<HashMap<String, String>>);

/// Memory and table caps for one instance. Refusing growth (instead of trapping) makes
/// `memory.grow` fail, so QuickJS raises a catchable "out of memory" error.
pub struct Limits {
    pub max_memory_bytes: usize,
}

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_memory_bytes)
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 20_000)
    }
}

pub struct State {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: Limits,
    pub core: Arc<dyn PluginCore>,
    pub kv: Arc<KvStore>,
    /// For log lines.
    pub plugin: Arc<str>,
    pub hook_next: Option<HookNext>,
    /// When the running call must stop (checked at every epoch tick).
    pub deadline: Option<Instant>,
    /// The write transaction of the running call: opened by it (`tx.begin`; dropped = rolled
    /// back when the call ends without committing) or joined from the call that triggered it
    /// (see [`crate::ambient_tx`]).
    pub tx: crate::ambient_tx::TxCell,
    /// `tx.begin` calls nested in the open transaction (they join it, as PocketBase's nested
    /// `RunInTransaction` does; their commit/rollback only close the nesting).
    pub tx_depth: u32,
    /// Longest a transaction may stay open (the call time limit).
    pub tx_max_duration: Duration,
}

impl State {
    /// The core the imports use: the open transaction's, else the app's.
    fn core(&self) -> Arc<dyn PluginCore> {
        match &*self.tx.lock() {
            Some(tx) => tx.core(),
            None => self.core.clone(),
        }
    }

    async fn save(&mut self, collection: String, record_json: String, mode: SaveMode) -> Result<String, ApiError> {
        let data = parse_object("record", &record_json)?;
        let v = self.core().save_record(collection, data, mode).await.map_err(api_error)?;
        Ok(v.to_string())
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

pub fn api_error(e: CoreError) -> ApiError {
    ApiError { status: e.status, message: e.message, data_json: Value::Object(e.data).to_string() }
}

fn bad_json(what: &str, e: serde_json::Error) -> ApiError {
    api_error(CoreError::new(400, format!("invalid {what} JSON: {e}")))
}

fn parse_object(what: &str, json: &str) -> Result<Map<String, Value>, ApiError> {
    if json.trim().is_empty() {
        return Ok(Map::new());
    }
    serde_json::from_str::<Map<String, Value>>(json).map_err(|e| bad_json(what, e))
}

fn sql_params(params: Vec<(String, SqlValue)>) -> Vec<(String, SqlParam)> {
    params
        .into_iter()
        .map(|(k, v)| {
            let p = match v {
                SqlValue::Null => SqlParam::Null,
                SqlValue::Integer(i) => SqlParam::Integer(i),
                SqlValue::Real(f) => SqlParam::Real(f),
                SqlValue::Text(s) => SqlParam::Text(s),
                SqlValue::Blob(b) => SqlParam::Blob(b),
            };
            (k, p)
        })
        .collect()
}

impl types::Host for State {}

impl records::Host for State {
    async fn find_by_id(&mut self, collection: String, id: String) -> Result<String, ApiError> {
        let v = self.core().find_record_by_id(collection, id).await.map_err(api_error)?;
        Ok(v.to_string())
    }

    async fn find_by_filter(
        &mut self,
        collection: String,
        filter: String,
        sort: String,
        limit: u32,
        offset: u32,
        params_json: String,
    ) -> Result<String, ApiError> {
        let params = parse_object("filter params", &params_json)?;
        let q = RecordFilter { collection, filter, sort, limit, offset, params };
        let list = self.core().find_records_by_filter(q).await.map_err(api_error)?;
        Ok(Value::Array(list).to_string())
    }

    async fn save(&mut self, collection: String, record_json: String) -> Result<String, ApiError> {
        State::save(self, collection, record_json, SaveMode::Save).await
    }

    async fn save_no_validate(&mut self, collection: String, record_json: String) -> Result<String, ApiError> {
        State::save(self, collection, record_json, SaveMode::SaveNoValidate).await
    }

    async fn validate(&mut self, collection: String, record_json: String) -> Result<(), ApiError> {
        State::save(self, collection, record_json, SaveMode::ValidateOnly).await.map(|_| ())
    }

    async fn delete(&mut self, collection: String, id: String) -> Result<(), ApiError> {
        self.core().delete_record(collection, id).await.map_err(api_error)
    }

    async fn enrich(&mut self, collection: String, ids: Vec<String>, expand: String, auth_collection: String, auth_id: String) -> Result<String, ApiError> {
        let auth = (!auth_collection.is_empty() && !auth_id.is_empty()).then_some((auth_collection, auth_id));
        let list = self.core().enrich_records(collection, ids, expand, auth).await.map_err(api_error)?;
        Ok(Value::Array(list).to_string())
    }

    async fn expand(&mut self, collection: String, ids: Vec<String>, expand: String) -> Result<String, ApiError> {
        let list = self.core().expand_records(collection, ids, expand).await.map_err(api_error)?;
        Ok(Value::Array(list).to_string())
    }
}

impl collections::Host for State {
    async fn find(&mut self, name_or_id: String) -> Result<String, ApiError> {
        let v = self.core().find_collection(name_or_id).await.map_err(api_error)?;
        Ok(v.to_string())
    }

    async fn save(&mut self, collection_json: String) -> Result<String, ApiError> {
        let data = parse_object("collection", &collection_json)?;
        let v = self.core().save_collection(data).await.map_err(api_error)?;
        Ok(v.to_string())
    }

    async fn delete(&mut self, name_or_id: String) -> Result<(), ApiError> {
        self.core().delete_collection(name_or_id).await.map_err(api_error)
    }

    async fn import_collections(&mut self, collections_json: String, delete_missing: bool) -> Result<(), ApiError> {
        let items: Vec<Map<String, Value>> = serde_json::from_str(&collections_json).map_err(|e| bad_json("collections", e))?;
        self.core().import_collections(items, delete_missing).await.map_err(api_error)
    }
}

impl db::Host for State {
    async fn query(&mut self, sql: String, params: Vec<(String, SqlValue)>) -> Result<String, ApiError> {
        let rows = self.core().db_query(sql, sql_params(params)).await.map_err(api_error)?;
        Ok(serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()))
    }

    async fn exec(&mut self, sql: String, params: Vec<(String, SqlValue)>) -> Result<u64, ApiError> {
        self.core().db_exec(sql, sql_params(params)).await.map_err(api_error)
    }
}

impl hooks::Host for State {
    async fn next(&mut self, event_json: String) -> Result<String, ApiError> {
        let event: Value = serde_json::from_str(&event_json).map_err(|e| bad_json("event", e))?;
        let Some(next) = self.hook_next.as_mut() else {
            return Err(api_error(CoreError::new(500, "hooks.next called outside of a hook handler")));
        };
        let after = next(event).await.map_err(api_error)?;
        Ok(after.to_string())
    }
}

impl log::Host for State {
    async fn write(&mut self, level: LogLevel, message: String) {
        let p = &*self.plugin;
        match level {
            LogLevel::Debug => tracing::debug!(plugin = p, "{message}"),
            LogLevel::Info => tracing::info!(plugin = p, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin = p, "{message}"),
            LogLevel::Error => tracing::error!(plugin = p, "{message}"),
        }
    }
}

impl settings::Host for State {
    async fn get(&mut self) -> String {
        self.core.settings().to_string()
    }

    async fn dev_mode(&mut self) -> bool {
        self.core.is_dev()
    }

    async fn get_full(&mut self) -> String {
        self.core().settings_full().to_string()
    }

    async fn save(&mut self, settings_json: String) -> Result<String, ApiError> {
        let data = parse_object("settings", &settings_json)?;
        let v = self.core().save_settings(data).await.map_err(api_error)?;
        Ok(v.to_string())
    }
}

impl auth::Host for State {
    async fn new_token(&mut self, collection: String, id: String, kind: String, duration_secs: u64, new_email: String) -> Result<String, ApiError> {
        let req = RecordTokenRequest { collection, id, kind, duration_secs, new_email };
        self.core().new_record_token(req).await.map_err(api_error)
    }

    async fn validate_password(&mut self, collection: String, id: String, password: String) -> Result<bool, ApiError> {
        self.core().validate_record_password(collection, id, password).await.map_err(api_error)
    }

    async fn find_by_token(&mut self, token: String, kind: String) -> Result<String, ApiError> {
        let v = self.core().find_record_by_token(token, kind).await.map_err(api_error)?;
        Ok(v.to_string())
    }
}

impl timer::Host for State {
    /// Waits without holding a thread (the instance is parked in this import); a wait past
    /// the call's deadline stops at it and traps, so the call fails as over time.
    async fn sleep(&mut self, ms: u64) -> wasmtime::Result<()> {
        let wanted = Duration::from_millis(ms);
        let left = self.deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match left {
            Some(left) if wanted >= left => {
                tokio::time::sleep(left).await;
                Err(wasmtime::Error::new(crate::plugin::DeadlineExceeded))
            }
            _ => {
                tokio::time::sleep(wanted).await;
                Ok(())
            }
        }
    }
}

impl tx::Host for State {
    async fn begin(&mut self) -> Result<(), ApiError> {
        if self.tx.lock().is_some() {
            self.tx_depth += 1;
            return Ok(());
        }
        let tx = self.core.begin_transaction(self.tx_max_duration).await.map_err(api_error)?;
        *self.tx.lock() = Some(tx);
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), ApiError> {
        self.end_tx(true).await
    }

    async fn rollback(&mut self) -> Result<(), ApiError> {
        self.end_tx(false).await
    }
}

impl State {
    /// Ends the open transaction, or only closes a nested `begin` (a nested rollback's error,
    /// rethrown by the handler, makes the owner roll the whole transaction back).
    async fn end_tx(&mut self, commit: bool) -> Result<(), ApiError> {
        if self.tx_depth > 0 {
            self.tx_depth -= 1;
            return Ok(());
        }
        let tx = self.tx.lock().take().ok_or_else(no_open_tx)?;
        let ended = if commit { tx.commit() } else { tx.rollback() };
        ended.await.map_err(api_error)
    }
}

fn no_open_tx() -> ApiError {
    api_error(CoreError::new(400, "no transaction is open"))
}

impl kv::Host for State {
    async fn get(&mut self, key: String) -> Option<String> {
        self.kv.0.lock().get(&key).cloned()
    }
    async fn set(&mut self, key: String, value: String) {
        self.kv.0.lock().insert(key, value);
    }
    async fn delete(&mut self, key: String) {
        self.kv.0.lock().remove(&key);
    }
}

impl mail::Host for State {
    async fn send(&mut self, message_json: String) -> Result<(), ApiError> {
        let msg: Value = serde_json::from_str(&message_json).map_err(|e| bad_json("message", e))?;
        self.core.send_mail(msg).await.map_err(api_error)
    }

    async fn send_record_email(&mut self, kind: String, args_json: String) -> Result<(), ApiError> {
        let args: Value = serde_json::from_str(&args_json).map_err(|e| bad_json("args", e))?;
        self.core.send_record_email(kind, args).await.map_err(api_error)
    }
}

/// PocketBase's `$http.send` default timeout.
const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(120);

impl http_client::Host for State {
    async fn send(
        &mut self,
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        timeout_ms: u32,
    ) -> Result<HttpResponse, ApiError> {
        let timeout = if timeout_ms == 0 { DEFAULT_HTTP_TIMEOUT } else { Duration::from_millis(timeout_ms.into()) };
        let req = OutboundRequest { method, url, headers, body, timeout };
        let res = self.core.http_send(req).await.map_err(api_error)?;
        Ok(HttpResponse { status: res.status, headers: res.headers, body: res.body })
    }
}
