//! The narrow interface between plugins and the rest of the server. The plugin host only
//! sees JSON values and this trait; the server implements it on top of the core, so
//! wasmtime stays out of the core and the core's types stay out of the plugin host.

use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An error in PocketBase's envelope shape (`{"data", "message", "status"}`).
#[derive(Debug, Clone, PartialEq)]
pub struct CoreError {
    pub status: u16,
    pub message: String,
    /// Always a JSON object.
    pub data: Map<String, Value>,
}

impl CoreError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), data: Map::new() }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

/// A bound SQL parameter (`{:name}` placeholders).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What `save_record` does (PocketBase's `save`, `saveNoValidate`, `validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    Save,
    SaveNoValidate,
    ValidateOnly,
}

/// An outgoing HTTP request (`$http.send`).
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// `auth.new-token`'s arguments.
pub struct RecordTokenRequest {
    pub collection: String,
    pub id: String,
    /// `auth`, `static-auth`, `file`, `verification`, `password-reset`, `email-change`.
    pub kind: String,
    /// For `static-auth`; 0 = the collection's auth token duration.
    pub duration_secs: u64,
    /// For `email-change`.
    pub new_email: String,
}

pub struct RecordFilter {
    pub collection: String,
    pub filter: String,
    pub sort: String,
    /// 0 = no limit (the core caps it).
    pub limit: u32,
    pub offset: u32,
    pub params: Map<String, Value>,
}

/// What plugins may do to the app, with the app's own rights (no API rules), like `$app`
/// in PocketBase's JS hooks. Records are JSON objects with every field (password hashes
/// and token keys excluded) plus `collectionId` and `collectionName`.
///
/// Futures are `'static` so implementations clone what they need (e.g. an `Arc<App>`).
pub trait PluginCore: Send + Sync + 'static {
    fn find_record_by_id(&self, collection: String, id: String) -> BoxFuture<CoreResult<Value>>;
    fn find_records_by_filter(&self, query: RecordFilter) -> BoxFuture<CoreResult<Vec<Value>>>;
    /// Inserts, or updates when `data.id` names an existing record; returns the stored
    /// record (for `ValidateOnly`: the record as it would be stored).
    fn save_record(&self, collection: String, data: Map<String, Value>, mode: SaveMode) -> BoxFuture<CoreResult<Value>>;
    fn delete_record(&self, collection: String, id: String) -> BoxFuture<CoreResult<()>>;
    fn find_collection(&self, name_or_id: String) -> BoxFuture<CoreResult<Value>>;
    /// Creates or updates (when `data.id` names a stored collection); returns the stored JSON.
    fn save_collection(&self, _data: Map<String, Value>) -> BoxFuture<CoreResult<Value>> {
        unsupported("saving collections")
    }
    fn delete_collection(&self, _name_or_id: String) -> BoxFuture<CoreResult<()>> {
        unsupported("deleting collections")
    }
    fn import_collections(&self, _items: Vec<Map<String, Value>>, _delete_missing: bool) -> BoxFuture<CoreResult<()>> {
        unsupported("importing collections")
    }
    fn db_query(&self, sql: String, params: Vec<(String, SqlParam)>) -> BoxFuture<CoreResult<Vec<Map<String, Value>>>>;
    fn db_exec(&self, sql: String, params: Vec<(String, SqlParam)>) -> BoxFuture<CoreResult<u64>>;
    /// The settings with secrets masked.
    fn settings(&self) -> Value;
    /// The settings with their secrets (what PocketBase's hooks see).
    fn settings_full(&self) -> Value {
        self.settings()
    }
    /// Validates, stores and reloads complete new settings (`$app.save(settings)`); returns
    /// the stored settings with their secrets.
    fn save_settings(&self, _settings: Map<String, Value>) -> BoxFuture<CoreResult<Value>> {
        unsupported("saving settings")
    }
    /// `--dev` mode.
    fn is_dev(&self) -> bool;
    /// Opens a write transaction that lasts at most `max_duration`; every call on the
    /// returned [`PluginTx::core`] runs inside it. Fails on a core that already is one.
    fn begin_transaction(&self, max_duration: std::time::Duration) -> BoxFuture<CoreResult<Arc<dyn PluginTx>>>;
    /// Sends `{from:{address,name}, to:[{address,name}], subject, html, text}` with the
    /// app's mailer.
    fn send_mail(&self, message: Value) -> BoxFuture<CoreResult<()>>;

    /// Sends a record's auth email (`$mails.sendRecord*`); `args` holds `collection`, `id`
    /// and the kind's extra arguments.
    fn send_record_email(&self, kind: String, args: Value) -> BoxFuture<CoreResult<()>> {
        let _ = (kind, args);
        unsupported("sending record emails")
    }
    /// The stored records `ids` with `expand` attached (no view rules).
    fn expand_records(&self, _collection: String, _ids: Vec<String>, _expand: String) -> BoxFuture<CoreResult<Vec<Value>>> {
        unsupported("expanding records")
    }
    /// The stored records `ids` as the requester `auth` (collection, id; None = guest) sees
    /// them in an API response, with `expand` (view rules applied).
    fn enrich_records(&self, _collection: String, _ids: Vec<String>, _expand: String, _auth: Option<(String, String)>) -> BoxFuture<CoreResult<Vec<Value>>> {
        unsupported("enriching records")
    }
    /// A token of `kind` for a stored auth record (see the WIT `auth.new-token`).
    fn new_record_token(&self, _req: RecordTokenRequest) -> BoxFuture<CoreResult<String>> {
        unsupported("record tokens")
    }
    /// Whether `password` matches the stored record's password.
    fn validate_record_password(&self, _collection: String, _id: String, _password: String) -> BoxFuture<CoreResult<bool>> {
        unsupported("validating passwords")
    }
    /// The auth record a token of `kind` belongs to (404 when invalid or expired).
    fn find_record_by_token(&self, _token: String, _kind: String) -> BoxFuture<CoreResult<Value>> {
        unsupported("finding records by token")
    }
    /// An outgoing HTTP request, subject to the server's allowlist.
    fn http_send(&self, req: OutboundRequest) -> BoxFuture<CoreResult<OutboundResponse>>;
}

/// An open write transaction (PocketBase's `txApp`). Dropping it without `commit` rolls
/// back, so a trapped or timed-out plugin call never leaves it open.
pub trait PluginTx: Send + Sync + 'static {
    fn core(&self) -> Arc<dyn PluginCore>;
    fn commit(&self) -> BoxFuture<CoreResult<()>>;
    fn rollback(&self) -> BoxFuture<CoreResult<()>>;
}

fn unsupported<T: Send + 'static>(what: &str) -> BoxFuture<CoreResult<T>> {
    let e = CoreError::new(501, format!("{what} is not supported by this core"));
    Box::pin(async move { Err(e) })
}
