//! Glue between the Wasm plugin host and the app: the core API plugins may use
//! ([`PluginCore`]), loading at `serve`, and routing unmatched requests to plugin routes.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use pocketbun_core::app_api::{self, FilterQuery, Param};
use pocketbun_core::collections;
use pocketbun_core::{ApiError, App};
use pocketbun_core::model::Collection;
use pocketbun_core::db::{DbScope, WriteTx};
use pocketbun_core::{mail, outbound_http};
use pocketbun_wasm::{
    BoxFuture, CoreError, CoreResult, HostOptions, HttpRequest, OutboundRequest, OutboundResponse, PluginCore,
    PluginHost, PluginTx, RecordFilter, RecordTokenRequest, RouteError, SaveMode, SqlParam,
};
use std::time::Duration;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::cli::GlobalFlags;
use crate::http::body::DEFAULT_BODY_LIMIT;
use crate::http::context::{AppState, Ctx};
use crate::http::error::HttpError;

/// The core as plugins see it: the app's own rights, JSON records. `db` is the app's
/// database, or an open write transaction for a `txApp`.
pub struct CoreBridge {
    app: Arc<App>,
    db: DbScope,
}

impl CoreBridge {
    /// The core as seen inside an open transaction (a batch's).
    pub fn in_tx(app: Arc<App>, tx: Arc<WriteTx>) -> Arc<dyn PluginCore> {
        Arc::new(CoreBridge { app, db: DbScope::Tx(tx) })
    }

    pub fn new(app: Arc<App>) -> Self {
        let db = DbScope::Pool(app.data.clone());
        Self { app, db }
    }

    fn parts(&self) -> (Arc<App>, DbScope) {
        (self.app.clone(), self.db.clone())
    }
}

/// `$app.runInTransaction`'s `txApp`: a bridge bound to the open transaction.
struct TxBridge {
    tx: Arc<WriteTx>,
    core: Arc<CoreBridge>,
    /// Set by commit/rollback; a bridge dropped without either (a trapped plugin call)
    /// rolled back.
    ended: std::sync::atomic::AtomicBool,
}

impl Drop for TxBridge {
    fn drop(&mut self) {
        if self.ended.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        // readers only see committed data, so this reads the state without the transaction
        let app = self.core.app.clone();
        // (the hooks, not the transaction: their own writes wait until it rolled back)
        let after = self.tx.after_hooks().clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                app.reload_after_rollback().await;
                run_after_rollback(&after).await;
            });
        }
    }
}

impl PluginTx for TxBridge {
    fn core(&self) -> Arc<dyn PluginCore> {
        self.core.clone()
    }
    fn commit(&self) -> BoxFuture<CoreResult<()>> {
        self.ended.store(true, std::sync::atomic::Ordering::SeqCst);
        let (tx, app) = (self.tx.clone(), self.core.app.clone());
        Box::pin(async move {
            let committed = tx.commit().await;
            if committed.is_err() {
                app.reload_after_rollback().await;
            }
            // the deferred after hooks of its writes: PocketBase runs them before
            // runInTransaction returns, and a failing one is its error
            let hooks = tx.after_hooks().run(committed.as_ref().err()).await;
            committed.map_err(core_err)?;
            hooks.map_err(core_err)
        })
    }
    fn rollback(&self) -> BoxFuture<CoreResult<()>> {
        self.ended.store(true, std::sync::atomic::Ordering::SeqCst);
        let (tx, app) = (self.tx.clone(), self.core.app.clone());
        Box::pin(async move {
            let rolled_back = tx.rollback().await;
            app.reload_after_rollback().await;
            run_after_rollback(tx.after_hooks()).await;
            rolled_back.map_err(core_err)
        })
    }
}

/// The after-error hooks of the writes of a rolled back transaction (their failures are only
/// logged: the transaction's own error is the answer).
pub(crate) async fn run_after_rollback(after: &pocketbun_core::model_hooks::AfterTx) {
    let rolled_back = ApiError::bad_request("The transaction was rolled back.");
    if let Err(e) = after.run(Some(&rolled_back)).await {
        tracing::warn!("an after-error hook of a rolled back transaction failed: {}", e.message);
    }
}


fn core_err(e: ApiError) -> CoreError {
    CoreError { status: e.status, message: e.message, data: e.data }
}

fn param(p: SqlParam) -> Param {
    match p {
        SqlParam::Null => Param::Null,
        SqlParam::Integer(i) => Param::Integer(i),
        SqlParam::Real(f) => Param::Real(f),
        SqlParam::Text(s) => Param::Text(s),
        SqlParam::Blob(b) => Param::Blob(b),
    }
}

fn params(ps: Vec<(String, SqlParam)>) -> Vec<(String, Param)> {
    ps.into_iter().map(|(k, v)| (k, param(v))).collect()
}

/// A stored record of an auth collection (tokens and passwords need one).
async fn stored_auth_record(app: &App, db: &DbScope, collection: &str, id: String) -> CoreResult<pocketbun_core::record::Record> {
    let c = app_api::collection(app, collection).map_err(core_err)?;
    if !c.is_auth() {
        return Err(CoreError::new(400, format!("{:?} is not an auth collection", c.name)));
    }
    app_api::find_by_id(db, c, id).await.map_err(core_err)
}

/// A plugin's mail message (`mail::Message` JSON); the sender defaults to the settings'.
fn mail_message(msg: &Value, settings: &Value) -> CoreResult<mail::Message> {
    let mut m: mail::Message = serde_json::from_value(msg.clone()).map_err(|e| CoreError::new(400, format!("invalid mail message: {e}")))?;
    if m.from.address.is_empty() {
        let (name, address) = mail::sender(settings);
        m.from = mail::Address { address, name };
    }
    m.to.retain(|a| !a.address.is_empty());
    if m.to.is_empty() {
        return Err(CoreError::new(400, "at least one \"to\" address is required"));
    }
    Ok(m)
}

impl PluginCore for CoreBridge {
    fn find_record_by_id(&self, collection: String, id: String) -> BoxFuture<CoreResult<Value>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let c = app_api::collection(&app, &collection).map_err(core_err)?;
            let rec = app_api::find_by_id(&db, c, id).await.map_err(core_err)?;
            Ok(app_api::full_json(&rec))
        })
    }

    fn find_records_by_filter(&self, q: RecordFilter) -> BoxFuture<CoreResult<Vec<Value>>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let c = app_api::collection(&app, &q.collection).map_err(core_err)?;
            let fq = FilterQuery { filter: q.filter, sort: q.sort, limit: q.limit, offset: q.offset, params: q.params };
            let list = app_api::find_by_filter(&app, &db, c, fq).await.map_err(core_err)?;
            Ok(list.iter().map(app_api::full_json).collect())
        })
    }

    fn save_record(&self, collection: String, data: Map<String, Value>, mode: SaveMode) -> BoxFuture<CoreResult<Value>> {
        let (app, db) = self.parts();
        let mode = match mode {
            SaveMode::Save => app_api::SaveMode::Save,
            SaveMode::SaveNoValidate => app_api::SaveMode::SaveNoValidate,
            SaveMode::ValidateOnly => app_api::SaveMode::ValidateOnly,
        };
        Box::pin(async move {
            let c = app_api::collection(&app, &collection).map_err(core_err)?;
            let rec = app_api::save(&app, &db, c, data, mode).await.map_err(core_err)?;
            Ok(app_api::full_json(&rec))
        })
    }

    fn delete_record(&self, collection: String, id: String) -> BoxFuture<CoreResult<()>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let c = app_api::collection(&app, &collection).map_err(core_err)?;
            app_api::delete(&app, &db, c, id).await.map_err(core_err)
        })
    }

    fn expand_records(&self, collection: String, ids: Vec<String>, expand: String) -> BoxFuture<CoreResult<Vec<Value>>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let c = app_api::collection(&app, &collection).map_err(core_err)?;
            let list = app_api::expand(&app, &db, c, ids, expand).await.map_err(core_err)?;
            Ok(list.iter().map(app_api::full_json).collect())
        })
    }

    fn enrich_records(&self, collection: String, ids: Vec<String>, expand: String, auth: Option<(String, String)>) -> BoxFuture<CoreResult<Vec<Value>>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let c = app_api::collection(&app, &collection).map_err(core_err)?;
            app_api::enrich(&app, &db, c, ids, expand, auth).await.map_err(core_err)
        })
    }

    fn find_collection(&self, name_or_id: String) -> BoxFuture<CoreResult<Value>> {
        let app = self.app.clone();
        Box::pin(async move { Ok(app_api::collection(&app, &name_or_id).map_err(core_err)?.to_api_json()) })
    }

    fn save_collection(&self, data: Map<String, Value>) -> BoxFuture<CoreResult<Value>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let bad_format = || core_err(ApiError::bad_request("Failed to load the submitted data due to invalid formatting."));
            let id = data.get("id").and_then(Value::as_str).unwrap_or_default();
            let old = if id.is_empty() { None } else { app.schema().find(id) };
            let saved = match old {
                Some(old) => {
                    let mut next = (*old).clone();
                    next.apply_json(&data).map_err(|_| bad_format())?;
                    collections::save_collection(&app, &db, next, Some(old)).await
                }
                None => {
                    let c = Collection::from_api_json(&data).map_err(|_| bad_format())?;
                    collections::save_collection(&app, &db, c, None).await
                }
            };
            Ok(saved.map_err(core_err)?.to_api_json())
        })
    }

    fn delete_collection(&self, name_or_id: String) -> BoxFuture<CoreResult<()>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let c = app_api::collection(&app, &name_or_id).map_err(core_err)?;
            collections::delete_collection(&app, &db, c).await.map_err(core_err)
        })
    }

    fn import_collections(&self, items: Vec<Map<String, Value>>, delete_missing: bool) -> BoxFuture<CoreResult<()>> {
        let (app, db) = self.parts();
        Box::pin(async move { collections::import_collections(&app, &db, items, delete_missing).await.map_err(core_err) })
    }

    fn db_query(&self, sql: String, ps: Vec<(String, SqlParam)>) -> BoxFuture<CoreResult<Vec<Map<String, Value>>>> {
        let db = self.db.clone();
        Box::pin(async move { app_api::query(&db, sql, params(ps)).await.map_err(core_err) })
    }

    fn db_exec(&self, sql: String, ps: Vec<(String, SqlParam)>) -> BoxFuture<CoreResult<u64>> {
        let db = self.db.clone();
        Box::pin(async move { app_api::exec(&db, sql, params(ps)).await.map_err(core_err) })
    }

    fn settings(&self) -> Value {
        pocketbun_core::settings::masked(&self.app.settings())
    }

    fn settings_full(&self) -> Value {
        (*self.app.settings()).clone()
    }

    fn save_settings(&self, data: Map<String, Value>) -> BoxFuture<CoreResult<Value>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            // the settings object a hook changed is a complete one: merged over the current
            // settings like a PATCH (typed, unknown keys ignored, empty secrets kept)
            let next = pocketbun_core::settings::apply_patch(&app.settings(), &data)
                .map_err(|_| core_err(ApiError::bad_request(crate::http::form::LOAD_FAILED)))?;
            pocketbun_core::settings::save(&app, &db, next).await.map_err(core_err)?;
            Ok((*app.settings()).clone())
        })
    }

    fn is_dev(&self) -> bool {
        self.app.opts.dev
    }

    fn begin_transaction(&self, max_duration: Duration) -> BoxFuture<CoreResult<Arc<dyn PluginTx>>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            if matches!(db, DbScope::Tx(_)) {
                return Err(CoreError::new(400, "a transaction is already open"));
            }
            let tx = Arc::new(app.data.begin_write_tx(max_duration).await.map_err(core_err)?);
            let core = Arc::new(CoreBridge { app, db: DbScope::Tx(tx.clone()) });
            Ok(Arc::new(TxBridge { tx, core, ended: Default::default() }) as Arc<dyn PluginTx>)
        })
    }

    fn send_mail(&self, message: Value) -> BoxFuture<CoreResult<()>> {
        let app = self.app.clone();
        Box::pin(async move {
            let msg = mail_message(&message, &app.settings())?;
            mail::send_hooked(&app, msg).await.map_err(|e| CoreError::new(400, e))
        })
    }

    fn send_record_email(&self, kind: String, args: Value) -> BoxFuture<CoreResult<()>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let s = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let c = app_api::collection(&app, &s("collection")).map_err(core_err)?;
            let rec = app_api::find_by_id(&db, c, s("id")).await.map_err(core_err)?;
            use pocketbun_core::mail::record_emails as emails;
            let sent = match kind.as_str() {
                "verification" => emails::send_verification(&app, &rec).await,
                "password-reset" => emails::send_password_reset(&app, &rec).await,
                "email-change" => emails::send_email_change(&app, &rec, &s("newEmail")).await,
                // like PocketBase's mails.SendRecordOTP, the OTP (if it exists) learns its address
                "otp" => match emails::send_otp(&app, &rec, &s("otpId"), &s("password")).await {
                    Ok(to) => return pocketbun_core::auth::otp::set_sent_to(&app, &s("otpId"), to).await.map_err(core_err),
                    Err(e) => Err(e),
                },
                "auth-alert" => emails::send_auth_alert(&app, &rec, &s("info")).await,
                other => return Err(CoreError::new(400, format!("unknown record email {other:?}"))),
            };
            sent.map_err(|e| CoreError::new(400, e))
        })
    }

    fn new_record_token(&self, req: RecordTokenRequest) -> BoxFuture<CoreResult<String>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            use pocketbun_core::auth;
            let rec = stored_auth_record(&app, &db, &req.collection, req.id).await?;
            Ok(match req.kind.as_str() {
                "auth" => auth::new_auth_token(&rec, true, None),
                "static-auth" => auth::new_auth_token(&rec, false, i64::try_from(req.duration_secs).ok()),
                "file" => pocketbun_core::files::download::new_file_token(&rec),
                "verification" => auth::new_verification_token(&rec),
                "password-reset" => auth::new_password_reset_token(&rec),
                "email-change" => auth::new_email_change_token(&rec, &req.new_email),
                other => return Err(CoreError::new(400, format!("unknown token kind {other:?}"))),
            })
        })
    }

    fn validate_record_password(&self, collection: String, id: String, password: String) -> BoxFuture<CoreResult<bool>> {
        let (app, db) = self.parts();
        Box::pin(async move {
            let rec = stored_auth_record(&app, &db, &collection, id).await?;
            let hash = rec.get_str("password").to_string();
            Ok(!hash.is_empty() && pocketbun_core::auth::hasher::verify(password, hash).await)
        })
    }

    fn find_record_by_token(&self, token: String, kind: String) -> BoxFuture<CoreResult<Value>> {
        let app = self.app.clone();
        Box::pin(async move {
            use pocketbun_core::auth::token::TokenType;
            let kind = TokenType::from_name(&kind).ok_or_else(|| CoreError::new(400, format!("unknown token kind {kind:?}")))?;
            let rec = pocketbun_core::auth::find_record_by_token(&app, &token, kind).await;
            rec.map(|r| app_api::full_json(&r)).ok_or_else(|| core_err(ApiError::not_found("")))
        })
    }

    fn http_send(&self, req: OutboundRequest) -> BoxFuture<CoreResult<OutboundResponse>> {
        Box::pin(async move {
            let req = outbound_http::Request { method: req.method, url: req.url, headers: req.headers, body: req.body, timeout: req.timeout };
            let res = outbound_http::send(req).await.map_err(core_err)?;
            Ok(OutboundResponse { status: res.status, headers: res.headers, body: res.body })
        })
    }
}

/// The hook API's TypeScript declarations (`sdk-js-shim/pb.d.ts`).
const HOOK_TYPES: &str = include_str!("../../../sdk-js-shim/pb.d.ts");

/// Writes `pb_data/types.d.ts` for editors, as PocketBase does on every start (only when
/// the content changed). A failure is only a warning.
fn refresh_types_file(data_dir: &std::path::Path) {
    let path = data_dir.join("types.d.ts");
    let content = format!("// PocketBun {}: pb_hooks API declarations (generated on serve; do not edit)\n{HOOK_TYPES}", env!("CARGO_PKG_VERSION"));
    if std::fs::read_to_string(&path).is_ok_and(|old| old == content) {
        return;
    }
    if let Err(e) = std::fs::write(&path, content) {
        tracing::warn!("unable to refresh the app types file {}: {e}", path.display());
    }
}

/// Adds what the server knows about the flags to the app state.
pub fn app_state(g: &GlobalFlags, app: &Arc<App>, plugins: SharedPlugins) -> AppState {
    let automigrate_dir = g.automigrate.then(|| Arc::new(crate::migrations::migrations_dir(g)));
    AppState::new(crate::http::context::AppStateInner { app: app.clone(), plugins, automigrate_dir })
}

/// The plugin host that serves new requests. Hot reload swaps it; a request keeps the
/// host it started with (`Ctx` takes a snapshot), so in-flight calls finish on the old
/// instances, which go away with the last request holding them.
#[derive(Clone, Default)]
pub struct SharedPlugins(Arc<RwLock<Option<Arc<PluginHost>>>>);

impl SharedPlugins {
    pub fn new(host: Option<Arc<PluginHost>>) -> Self {
        Self(Arc::new(RwLock::new(host)))
    }

    pub fn current(&self) -> Option<Arc<PluginHost>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The host when it has untagged subscriptions to hook `name`; nothing is cloned
    /// otherwise (this runs on every request).
    pub fn subscribed(&self, name: &str) -> Option<Arc<PluginHost>> {
        let guard = self.0.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().filter(|h| h.has_hooks(name, &[])).cloned()
    }

    fn replace(&self, host: Option<Arc<PluginHost>>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = host;
    }
}

fn host_options(g: &GlobalFlags) -> HostOptions {
    let hooks_dir = g.hooks_dir.clone().unwrap_or_else(|| g.dir.join("..").join("pb_hooks"));
    let plugins_dir = g.plugins_dir.clone().unwrap_or_else(|| PathBuf::from("pb_plugins"));
    let mut opts = HostOptions {
        hooks_dir: Some(hooks_dir),
        plugins_dir: Some(plugins_dir),
        cache_dir: Some(g.dir.join(".pocketbun").join("wasm-cache")),
        ..Default::default()
    };
    opts.limits.pool_size = g.hooks_pool.max(1) as usize;
    // per-call wall-clock budget (PocketBase has none; a runaway hook must not hold a worker)
    if let Some(ms) = std::env::var("POCKETBUN_PLUGIN_TIMEOUT_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
        opts.limits.call_timeout = std::time::Duration::from_millis(ms.max(10));
    }
    opts
}

/// Loads `pb_hooks` (default `<dir>/../pb_hooks`) and `pb_plugins` (default
/// `./pb_plugins`); `None` when there is nothing to load. With `--hooksWatch` (the
/// default) both dirs are watched and the plugins reloaded when they change.
pub async fn load(g: &GlobalFlags, app: &Arc<App>) -> Result<SharedPlugins, String> {
    refresh_types_file(&g.dir);
    let opts = host_options(g);
    let core: Arc<dyn PluginCore> = Arc::new(CoreBridge::new(app.clone()));
    let host = PluginHost::load(opts.clone(), core.clone()).await?.map(Arc::new);
    install_hooks(app, host.as_ref());
    // PocketBase loads the settings once its hooks are bound
    pocketbun_core::settings::reload_hook(app).await;
    let shared = SharedPlugins::new(host);
    if g.hooks_watch {
        watch(opts, core, shared.clone(), app.clone());
    }
    Ok(shared)
}

/// How often the watched dirs are scanned (a few `stat`s; PocketBase uses fsnotify).
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(300);

/// Names, sizes and modification times of the files plugins are loaded from.
fn fingerprint(opts: &HostOptions) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, u64, Option<std::time::SystemTime>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                if depth > 0 {
                    walk(&e.path(), depth - 1, out);
                }
            } else {
                out.push((e.path(), meta.len(), meta.modified().ok()));
            }
        }
    }
    let mut out = Vec::new();
    for dir in [&opts.hooks_dir, &opts.plugins_dir].into_iter().flatten() {
        walk(dir, 4, &mut out);
    }
    out.sort();
    out
}

/// Polls the hooks and plugins dirs on a thread of its own; on a change (settled for one
/// interval) loads everything again and swaps the host. A load error keeps the running
/// plugins and is logged.
fn watch(opts: HostOptions, core: Arc<dyn PluginCore>, shared: SharedPlugins, app: Arc<App>) {
    let rt = tokio::runtime::Handle::current();
    let spawned = std::thread::Builder::new().name("plugins-watch".into()).spawn(move || {
        let mut seen = fingerprint(&opts);
        loop {
            std::thread::sleep(WATCH_INTERVAL);
            let now = fingerprint(&opts);
            if now == seen {
                continue;
            }
            // wait until writes settle (editors save in several steps)
            std::thread::sleep(WATCH_INTERVAL);
            seen = fingerprint(&opts);
            let started = std::time::Instant::now();
            // runs on this thread: compiling a changed component does not hold a worker
            match rt.block_on(PluginHost::load(opts.clone(), core.clone())) {
                Ok(host) => {
                    let routes = host.as_ref().map(|h| h.plugins.iter().map(|p| p.manifest.routes.len()).sum::<usize>()).unwrap_or(0);
                    let host = host.map(Arc::new);
                    install_hooks(&app, host.as_ref());
                    // (PocketBase restarts on a hooks change, reloading its settings)
                    rt.block_on(pocketbun_core::settings::reload_hook(&app));
                    shared.replace(host);
                    tracing::info!("plugins reloaded after a change in the hooks/plugins dirs ({routes} routes, {:?})", started.elapsed());
                }
                Err(e) => tracing::error!("plugins not reloaded, the running ones stay: {e}"),
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot watch the hooks/plugins dirs: {e}");
    }
}

/// Runs the app lifecycle hook `name` (`bootstrap`, `serve`, `terminate`) of the current
/// plugins, if any subscribed. The app is already up, so the chain's end does nothing more;
/// an error thrown by a handler is returned.
pub async fn lifecycle(shared: &SharedPlugins, name: &str, event: Value) -> Result<(), ApiError> {
    let Some(host) = shared.current().filter(|h| h.has_hooks(name, &[])) else { return Ok(()) };
    let done: pocketbun_wasm::DefaultAction = Box::new(|ev| Box::pin(async move { Ok(ev) }));
    host.run_hook(name, &[], event, done).await.map(|_| ()).map_err(crate::plugin_hooks::api_error)
}

/// Makes the app fire the event hooks of `host` (none when there are no plugins).
fn install_hooks(app: &App, host: Option<&Arc<PluginHost>>) {
    match host {
        Some(h) => crate::plugin_hooks::install(app, h),
        None => app.hooks.set(None),
    }
}

/// A URL path (or query) with its `%XX` escapes decoded (invalid UTF-8 replaced).
pub fn percent_decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned()
}

pub fn to_response(res: pocketbun_wasm::HttpResponse) -> Response {
    let status = StatusCode::from_u16(res.status).unwrap_or(StatusCode::OK);
    let mut out = Response::new(Body::from(res.body));
    *out.status_mut() = status;
    let headers = out.headers_mut();
    for (k, v) in res.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(&v)) {
            headers.append(k, v);
        }
    }
    out
}

/// Serves `req` with a plugin route when one matches; gives the request back otherwise.
pub async fn dispatch(host: &PluginHost, app: &AppState, req: Request<Body>) -> Result<Response, Request<Body>> {
    let path = percent_decode(req.uri().path());
    let Some(m) = host.match_route(req.method().as_str(), &path) else { return Err(req) };
    let (mut parts, body) = req.into_parts();
    let ctx = match Ctx::from_request_parts(&mut parts, app).await {
        Ok(c) => c,
        Err(e) => return Ok(e.into_response()),
    };
    let body = match axum::body::to_bytes(body, DEFAULT_BODY_LIMIT).await {
        Ok(b) => b.to_vec(),
        Err(_) => return Ok(HttpError(ApiError::new(413, "")).into_response()),
    };
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path,
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        params: m.params.clone(),
        body,
        remote_ip: ctx.remote_ip.clone(),
        auth_json: ctx.auth.as_ref().map(|a| app_api::full_json(a).to_string()),
    };
    Ok(match PluginHost::handle_route(&m, &request).await {
        Ok(res) => to_response(res),
        Err(e) => route_error(e).into_response(),
    })
}

/// Plugin failures as responses: API errors as the plugin gave them, anything else as the
/// generic 500 envelope (the cause is logged by the plugin host).
fn route_error(e: RouteError) -> HttpError {
    match e {
        RouteError::Api(e) => HttpError(ApiError { status: e.status, message: e.message, data: e.data }),
        RouteError::Failed(_) => HttpError(ApiError::internal("")),
    }
}

/// The request part of a request-hook event, in the shape `guest.handle-route` gets.
pub fn request_event(ctx: &Ctx, path: String, body: &Map<String, Value>) -> Value {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(ctx.query.0.iter()).finish();
    let headers: Vec<(String, String)> = ctx
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut headers = headers;
    // the body is passed already parsed, as JSON
    headers.retain(|(k, _)| k != "content-type");
    headers.push(("content-type".into(), "application/json".into()));
    json!({
        "method": ctx.method, "path": path, "query": query, "headers": headers, "params": [],
        "body": Value::Object(body.clone()).to_string(), "remoteIp": ctx.remote_ip,
        "authJson": ctx.auth.as_ref().map(|a| app_api::full_json(a).to_string()),
    })
}
