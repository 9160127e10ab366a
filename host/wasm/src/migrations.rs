//! JS migrations (`pb_migrations/*.js`) on a dedicated instance of the embedded JS runtime.
//!
//! The migration files are handed to the runtime as its init files; each registers its
//! up/down functions with `migrate()`. The runtime exports them through the
//! `pocketbun:plugin/migrations` interface of the `js-runtime` world, which ordinary
//! plugins do not implement, so the export is looked up by name on the instance instead
//! of through the `plugin` world's bindings. Transactions and the `_migrations` table
//! are the caller's business (see the server's migration runner).

use std::path::Path;
use std::sync::Arc;
use wasmtime::component::{Instance, ResourceTable, TypedFunc};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtx;

use crate::bindings::types::{ApiError, InitConfig, SourceFile};
use crate::bindings::Plugin as Bindings;
use crate::core_api::{CoreError, PluginCore};
use crate::engine::{load_component, new_engine, start_epoch_ticker, EngineOptions};
use crate::host::{core_error, new_linker, JSVM_COMPONENT};
use crate::plugin::PluginLimits;
use crate::state::{Limits, State};

const MIGRATIONS_EXPORT: &str = "pocketbun:plugin/migrations@0.1.0";

/// `*.js` / `*.ts` files directly in `dir` (PocketBase's `^.*(\.js|\.ts)$`), sorted by
/// name; none when the dir does not exist.
pub fn migration_files(dir: &Path) -> Result<Vec<SourceFile>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read migrations dir {}: {e}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".js") || name.ends_with(".ts")) || entry.path().is_dir() {
            continue;
        }
        let content = std::fs::read_to_string(entry.path()).map_err(|e| format!("cannot read migration {name}: {e}"))?;
        files.push(SourceFile { name, content });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Marks an init file as a migration for the JS runtime (plugins/jsvm/src/lib.rs).
const MIGRATION_PREFIX: &str = "migration:";

/// The loaded migration files, ready to run.
pub struct JsMigrations {
    store: Store<State>,
    run: TypedFunc<(String, bool), (Result<(), ApiError>,)>,
    files: Vec<String>,
}

fn wasm_err(what: &str) -> impl Fn(wasmtime::Error) -> String + '_ {
    move |e| format!("JS migrations: {what}: {e:#}")
}

impl JsMigrations {
    /// Evaluates the files (a syntax error or a throwing top level fails here, naming the
    /// file). Needs a tokio runtime.
    pub async fn load(files: Vec<SourceFile>, core: Arc<dyn PluginCore>, cache_dir: Option<&Path>) -> Result<Self, String> {
        let limits = PluginLimits::default();
        let engine = new_engine(&EngineOptions { max_instances: 4, ..Default::default() }).map_err(wasm_err("engine"))?;
        start_epoch_ticker(&engine);
        let linker = new_linker(&engine).map_err(wasm_err("linker"))?;
        let component = load_component(&engine, JSVM_COMPONENT, cache_dir).map_err(wasm_err("component"))?;
        let pre = linker.instantiate_pre(&component).map_err(wasm_err("link"))?;
        let state = State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limits: Limits { max_memory_bytes: limits.max_memory_bytes },
            core,
            kv: Arc::default(),
            plugin: Arc::from("pb_migrations"),
            hook_next: None,
            // migrations have no time limit, as in PocketBase
            deadline: None,
            tx: Default::default(),
            tx_depth: 0,
            // a `runInTransaction` inside a migration nests in the run's own transaction
            tx_max_duration: std::time::Duration::from_secs(24 * 3600),
        };
        let mut store = Store::new(&engine, state);
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        store.set_epoch_deadline(1);
        let instance: Instance = pre.instantiate_async(&mut store).await.map_err(wasm_err("instantiate"))?;
        let bindings = Bindings::new(&mut store, &instance).map_err(wasm_err("bindings"))?;
        // the JS runtime evaluates `migration:`-named files as migrations (other non-hook
        // files are modules for `require`)
        let files = files.into_iter().map(|f| SourceFile { name: format!("{MIGRATION_PREFIX}{}", f.name), content: f.content }).collect();
        let config = InitConfig { files, memory_limit: (limits.max_memory_bytes as u64) * 7 / 8 };
        bindings
            .pocketbun_plugin_guest()
            .call_init(&mut store, &config)
            .await
            .map_err(wasm_err("init"))?
            .map_err(|e| format!("failed to load the JS migrations: {e}"))?;
        let iface = instance
            .get_export_index(&mut store, None, MIGRATIONS_EXPORT)
            .ok_or_else(|| format!("JS migrations: the JS runtime does not export {MIGRATIONS_EXPORT}"))?;
        let func = |store: &mut Store<State>, name: &str| {
            instance.get_export_index(&mut *store, Some(&iface), name).ok_or_else(|| format!("JS migrations: missing export {name}"))
        };
        let list_idx = func(&mut store, "registered")?;
        let run_idx = func(&mut store, "run")?;
        let list = instance.get_typed_func::<(), (Vec<String>,)>(&mut store, &list_idx).map_err(wasm_err("list"))?;
        let run = instance.get_typed_func::<(String, bool), (Result<(), ApiError>,)>(&mut store, &run_idx).map_err(wasm_err("run"))?;
        let (files,) = list.call_async(&mut store, ()).await.map_err(wasm_err("list"))?;
        Ok(Self { store, run, files })
    }

    /// The files that registered a migration, sorted by name.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Makes the migrations run inside an open transaction (given by its core), or outside
    /// any with `None`.
    pub fn join(&mut self, core: Option<Arc<dyn PluginCore>>) {
        *self.store.data().tx.lock() = core.map(|c| Arc::new(crate::ambient_tx::Joined::over(c)) as Arc<dyn crate::core_api::PluginTx>);
    }

    /// Runs the up or down function of `file`. A trap leaves the instance unusable, so it
    /// is reported like an error and the caller stops.
    pub async fn run(&mut self, file: &str, up: bool) -> Result<(), CoreError> {
        match self.run.call_async(&mut self.store, (file.to_string(), up)).await {
            Ok((Ok(()),)) => Ok(()),
            Ok((Err(e),)) => Err(core_error(e)),
            Err(e) => Err(CoreError::new(500, format!("the migration trapped: {e:#}"))),
        }
    }
}
