//! One loaded plugin: its pre-linked component, its manifest and a pool of warm instances.
//!
//! An instance runs one call at a time (component instances cannot be re-entered) and
//! goes back to the pool only when the call finished cleanly; a trapped, timed-out or
//! cancelled instance is dropped and a fresh one is created on demand.

use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::WasiCtx;

use crate::ambient_tx;
use crate::bindings::types::{ApiError, HookResult, HttpRequest, HttpResponse, InitConfig, Manifest, SourceFile};
use crate::bindings::{Plugin as Bindings, PluginPre};
use crate::core_api::PluginCore;
use crate::state::{HookNext, KvStore, Limits, State};

/// Why a call produced no answer from the plugin. The request fails with a 500 and the
/// instance is discarded.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    #[error("the plugin call exceeded its time limit of {0:?}")]
    Timeout(Duration),
    #[error("the plugin trapped: {0}")]
    Trap(String),
    #[error("no plugin instance available: {0}")]
    Unavailable(String),
}

/// The trap that ends a call at its time limit (raised by the epoch callback, or by a host
/// import that would wait past it).
#[derive(Debug)]
pub(crate) struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

/// The trap's cause, then the first frames of its wasm backtrace: a runaway recursion has
/// thousands of frames, which would flood the log.
fn short_trap_message(e: &wasmtime::Error) -> String {
    const MAX_LINES: usize = 10;
    let full = format!("{e:#}");
    let total = full.lines().count();
    let mut out = format!("{}; {}", e.root_cause(), full.lines().take(MAX_LINES).collect::<Vec<_>>().join("\n"));
    if total > MAX_LINES {
        out.push_str(&format!("\n    ... {} more lines", total - MAX_LINES));
    }
    out
}

#[derive(Debug, Clone)]
pub struct PluginLimits {
    /// Wall-clock budget of one handler call (host calls included).
    pub call_timeout: Duration,
    /// Budget of `init` (running all hook files).
    pub init_timeout: Duration,
    pub max_memory_bytes: usize,
    /// Idle instances kept warm.
    pub pool_size: usize,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(30),
            init_timeout: Duration::from_secs(10),
            max_memory_bytes: 128 << 20,
            pool_size: 15,
        }
    }
}

struct Instance {
    store: Store<State>,
    bindings: Bindings,
}

pub struct LoadedPlugin {
    pub name: Arc<str>,
    pub manifest: Manifest,
    engine: Engine,
    pre: PluginPre<State>,
    core: Arc<dyn PluginCore>,
    kv: Arc<KvStore>,
    files: Vec<SourceFile>,
    /// Environment variables the instances see through WASI.
    env: Vec<(String, String)>,
    limits: PluginLimits,
    idle: parking_lot::Mutex<Vec<Instance>>,
}

impl LoadedPlugin {
    /// Instantiates the first instance (which runs `init` and yields the manifest).
    pub async fn start(
        name: &str,
        engine: Engine,
        pre: PluginPre<State>,
        core: Arc<dyn PluginCore>,
        files: Vec<SourceFile>,
        env: Vec<(String, String)>,
        limits: PluginLimits,
    ) -> Result<Arc<Self>, String> {
        let mut plugin = LoadedPlugin {
            name: Arc::from(name),
            manifest: Manifest { routes: vec![], hooks: vec![], crons: vec![] },
            engine,
            pre,
            core,
            kv: Arc::default(),
            files,
            env,
            limits,
            idle: parking_lot::Mutex::new(Vec::new()),
        };
        let (first, manifest) = plugin.new_instance().await?;
        plugin.manifest = manifest;
        plugin.idle.lock().push(first);
        Ok(Arc::new(plugin))
    }

    /// Fills the pool up to its size (PocketBase prewarms its JS VMs the same way).
    pub async fn prewarm(&self) -> Result<(), String> {
        while self.idle.lock().len() < self.limits.pool_size {
            let (inst, _) = self.new_instance().await?;
            self.idle.lock().push(inst);
        }
        Ok(())
    }

    pub fn idle_instances(&self) -> usize {
        self.idle.lock().len()
    }

    async fn new_instance(&self) -> Result<(Instance, Manifest), String> {
        let state = State {
            // no preopens, args or stdio: plugins reach the outside only through imports
            wasi: WasiCtx::builder().envs(&self.env).build(),
            table: ResourceTable::new(),
            limits: Limits { max_memory_bytes: self.limits.max_memory_bytes },
            core: self.core.clone(),
            kv: self.kv.clone(),
            plugin: self.name.clone(),
            hook_next: None,
            deadline: None,
            tx: Default::default(),
            tx_depth: 0,
            tx_max_duration: self.limits.call_timeout,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_callback(|ctx| match ctx.data().deadline {
            Some(d) if Instant::now() >= d => Err(wasmtime::Error::new(DeadlineExceeded)),
            // yield to the executor every tick so a busy plugin never blocks a worker thread;
            // through tokio's `yield_now`, which lets the I/O driver run first: a plain
            // self-wake is polled again at once, and a runtime with one worker (one core)
            // then looked for new connections only every few dozen polls (~0.5 s)
            _ => Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))),
        });
        store.set_epoch_deadline(1);
        let bindings = self.pre.instantiate_async(&mut store).await.map_err(|e| format!("{}: instantiate: {e:#}", self.name))?;
        let config = InitConfig { files: self.files.clone(), memory_limit: (self.limits.max_memory_bytes as u64) * 7 / 8 };
        store.data_mut().deadline = Some(Instant::now() + self.limits.init_timeout);
        let manifest = bindings
            .pocketbun_plugin_guest()
            .call_init(&mut store, &config)
            .await
            .map_err(|e| format!("{}: init trapped: {e:#}", self.name))?
            .map_err(|e| format!("{}: {e}", self.name))?;
        store.data_mut().deadline = None;
        Ok((Instance { store, bindings }, manifest))
    }

    async fn checkout(&self) -> Result<Instance, CallFailure> {
        if let Some(inst) = self.idle.lock().pop() {
            return Ok(inst);
        }
        self.new_instance().await.map(|(i, _)| i).map_err(CallFailure::Unavailable)
    }

    fn checkin(&self, mut inst: Instance) {
        inst.store.data_mut().deadline = None;
        inst.store.data_mut().hook_next = None;
        // a transaction the handler left open is rolled back (a joined one is left alone)
        *inst.store.data().tx.lock() = None;
        inst.store.data_mut().tx_depth = 0;
        let mut idle = self.idle.lock();
        if idle.len() < self.limits.pool_size {
            idle.push(inst);
        }
    }

    /// Prepares a call: its time limit, and the transaction it joins when it was triggered
    /// inside one. Returns the cell to run the call under ([`ambient_tx::scope`]).
    fn arm(&self, inst: &mut Instance) -> ambient_tx::TxCell {
        inst.store.data_mut().deadline = Some(Instant::now() + self.limits.call_timeout);
        inst.store.set_epoch_deadline(1);
        let cell = inst.store.data().tx.clone();
        if let Some(tx) = ambient_tx::current() {
            *cell.lock() = Some(Arc::new(ambient_tx::Joined::new(&tx)));
        }
        cell
    }

    fn failure(&self, e: wasmtime::Error) -> CallFailure {
        if e.downcast_ref::<DeadlineExceeded>().is_some() {
            CallFailure::Timeout(self.limits.call_timeout)
        } else {
            CallFailure::Trap(short_trap_message(&e))
        }
    }

    /// Runs the handler of `route_id`. The inner `Err` is an API error the plugin chose to
    /// return (rendered as-is); the outer one means the plugin failed.
    pub async fn handle_route(&self, route_id: u32, req: &HttpRequest) -> Result<Result<HttpResponse, ApiError>, CallFailure> {
        let mut inst = self.checkout().await?;
        let cell = self.arm(&mut inst);
        let guest = inst.bindings.pocketbun_plugin_guest();
        match ambient_tx::scope(cell, guest.call_handle_route(&mut inst.store, route_id, req)).await {
            Ok(r) => {
                self.checkin(inst);
                Ok(r)
            }
            Err(e) => Err(self.failure(e)),
        }
    }

    /// Runs the plugin's handlers of hook subscription `hook_id`; `next` continues the
    /// chain when the last handler calls `e.next()`.
    pub async fn handle_hook(&self, hook_id: u32, event_json: &str, next: HookNext) -> Result<Result<HookResult, ApiError>, CallFailure> {
        let mut inst = self.checkout().await?;
        let cell = self.arm(&mut inst);
        inst.store.data_mut().hook_next = Some(next);
        let guest = inst.bindings.pocketbun_plugin_guest();
        match ambient_tx::scope(cell, guest.call_handle_hook(&mut inst.store, hook_id, event_json)).await {
            Ok(r) => {
                self.checkin(inst);
                Ok(r)
            }
            Err(e) => Err(self.failure(e)),
        }
    }

    pub async fn run_cron(&self, id: &str) -> Result<Result<(), ApiError>, CallFailure> {
        let mut inst = self.checkout().await?;
        let cell = self.arm(&mut inst);
        let guest = inst.bindings.pocketbun_plugin_guest();
        match ambient_tx::scope(cell, guest.call_run_cron(&mut inst.store, id)).await {
            Ok(r) => {
                self.checkin(inst);
                Ok(r)
            }
            Err(e) => Err(self.failure(e)),
        }
    }
}
