//! The one wasmtime `Engine` of the process, its epoch ticker and the on-disk cache of
//! compiled components.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of per-call time limits and of yields
/// back to the async executor.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Sizing of the engine; also part of the compiled-artifact cache key.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Linear memory cap per instance (the `ResourceLimiter` enforces it per store too).
    pub max_memory_bytes: usize,
    /// Live component instances across all plugins (pool slots are reserved up front).
    pub max_instances: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { max_memory_bytes: 128 << 20, max_instances: 256 }
    }
}

pub fn new_engine(opts: &EngineOptions) -> wasmtime::Result<Engine> {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    let mut p = PoolingAllocationConfig::default();
    // the JS runtime component has 3 core modules and ~20 core instance declarations
    p.total_component_instances(opts.max_instances);
    p.total_core_instances(opts.max_instances * 32);
    p.total_memories(opts.max_instances * 2);
    p.total_tables(opts.max_instances * 8);
    p.max_memories_per_component(4);
    p.max_tables_per_component(8);
    p.max_core_instances_per_component(32);
    p.max_memory_size(opts.max_memory_bytes);
    p.max_component_instance_size(1 << 20);
    p.max_core_instance_size(1 << 20);
    p.table_elements(20_000);
    // keep the first MiB of a recycled slot mapped: a warm JS instance touches ~1.3 MiB
    p.linear_memory_keep_resident(1 << 20);
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(p));
    Engine::new(&c)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] for as long as the engine lives.
pub fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(e) => e.increment_epoch(),
                None => return,
            }
        })
        .expect("spawn the epoch ticker thread");
}

/// The cache key: component bytes, wasmtime version and everything in the engine config
/// that changes generated code.
fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(b"wasmtime-48.0.8");
    // precompile_compatibility_hash covers the config flags that affect codegen
    use std::hash::{Hash, Hasher};
    let mut s = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut s);
    h.update(s.finish().to_le_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Loads a component, from `cache_dir/<key>.cwasm` when present (~0.5 ms) or by compiling
/// it (~1 s) and writing the cache file. Cache problems only cost a recompile.
pub fn load_component(engine: &Engine, bytes: &[u8], cache_dir: Option<&Path>) -> wasmtime::Result<Component> {
    let Some(dir) = cache_dir else { return Component::new(engine, bytes) };
    let path: PathBuf = dir.join(format!("{}.cwasm", cache_key(engine, bytes)));
    if path.is_file() {
        // SAFETY: the file was written by this server with `serialize()` under a key that
        // includes the engine's compatibility hash; wasmtime also validates its header.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => return Ok(c),
            Err(e) => tracing::warn!("ignoring unusable component cache {}: {e}", path.display()),
        }
    }
    let component = Component::new(engine, bytes)?;
    if let Err(e) = write_cache(&component, dir, &path) {
        tracing::warn!("cannot write component cache {}: {e}", path.display());
    }
    Ok(component)
}

fn write_cache(component: &Component, dir: &Path, path: &Path) -> wasmtime::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, component.serialize()?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
