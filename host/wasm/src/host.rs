//! The plugin host: loads the embedded JS runtime (with `pb_hooks`) and the components in
//! the plugins dir, and routes requests to them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::Engine;

use crate::bindings::types::{ApiError, HttpRequest, HttpResponse, SourceFile};
use crate::bindings::{Plugin as Bindings, PluginPre};
use crate::core_api::{CoreError, PluginCore};
use crate::engine::{load_component, new_engine, start_epoch_ticker, EngineOptions};
use crate::plugin::{CallFailure, LoadedPlugin, PluginLimits};
use crate::routes::{Params, RoutePattern};
use crate::state::State;

/// The QuickJS runtime component built by `plugins/jsvm/build.sh`.
pub static JSVM_COMPONENT: &[u8] = include_bytes!("../assets/jsvm.wasm");

/// Every hook the server fires (PocketBase's JS names, kebab-cased without `on`). A plugin
/// that subscribes to another name is warned about at load: a typo, or a hook PocketBun
/// does not have. (The JS registration list is `HOOKS` in `sdk-js-shim/events.js`.)
pub const KNOWN_HOOKS: &[&str] = &[
    "bootstrap", "serve", "terminate", "router-use",
    "record-validate", "record-enrich",
    "record-create", "record-create-execute", "record-after-create-success", "record-after-create-error",
    "record-update", "record-update-execute", "record-after-update-success", "record-after-update-error",
    "record-delete", "record-delete-execute", "record-after-delete-success", "record-after-delete-error",
    "records-list-request", "record-view-request", "record-create-request", "record-update-request", "record-delete-request",
    "record-auth-request", "record-auth-with-password-request", "record-auth-refresh-request",
    "record-auth-with-otp-request", "record-auth-with-oauth2-request", "record-request-otp-request",
    "record-request-password-reset-request", "record-confirm-password-reset-request",
    "record-request-verification-request", "record-confirm-verification-request",
    "record-request-email-change-request", "record-confirm-email-change-request",
    "collection-validate",
    "collection-create", "collection-create-execute", "collection-after-create-success", "collection-after-create-error",
    "collection-update", "collection-update-execute", "collection-after-update-success", "collection-after-update-error",
    "collection-delete", "collection-delete-execute", "collection-after-delete-success", "collection-after-delete-error",
    "collections-list-request", "collection-view-request", "collection-create-request", "collection-update-request",
    "collection-delete-request", "collections-import-request",
    "settings-list-request", "settings-update-request", "settings-reload",
    "mailer-send", "mailer-record-verification-send", "mailer-record-password-reset-send",
    "mailer-record-email-change-send", "mailer-record-otp-send", "mailer-record-auth-alert-send",
    "realtime-connect-request", "realtime-subscribe-request", "realtime-message-send",
    "file-download-request", "file-token-request",
    "backup-create", "backup-restore",
    "model-validate",
    "model-create", "model-create-execute", "model-after-create-success", "model-after-create-error",
    "model-update", "model-update-execute", "model-after-update-success", "model-after-update-error",
    "model-delete", "model-delete-execute", "model-after-delete-success", "model-after-delete-error",
    "batch-request",
];

#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    /// `pb_hooks`: `*.pb.js` files run by the JS runtime (nothing is loaded if missing).
    pub hooks_dir: Option<PathBuf>,
    /// `*.wasm` components implementing `pocketbun:plugin`.
    pub plugins_dir: Option<PathBuf>,
    /// Where compiled components are cached (`.cwasm`).
    pub cache_dir: Option<PathBuf>,
    pub limits: PluginLimits,
    pub engine: EngineOptions,
}

struct RouteEntry {
    pattern: RoutePattern,
    plugin: Arc<LoadedPlugin>,
    route_id: u32,
}

pub struct RouteMatch<'a> {
    pub plugin: &'a Arc<LoadedPlugin>,
    pub route_id: u32,
    pub params: Params,
}

/// Why a routed request produced no response of its own.
#[derive(Debug)]
pub enum RouteError {
    /// The plugin returned (or threw) an API error: render it as-is.
    Api(CoreError),
    /// The plugin failed (trap, timeout, no instance): a 500 for this request only.
    Failed(CallFailure),
}

pub struct PluginHost {
    pub plugins: Vec<Arc<LoadedPlugin>>,
    /// Names of hooks with at least one subscription: the common "nobody listens" answer
    /// without walking the manifests.
    pub(crate) hook_names: std::collections::HashSet<String>,
    routes: Vec<RouteEntry>,
    _engine: Engine,
}

/// Most module files handed to the JS runtime (`require` sources) and their total size.
const MAX_HOOK_FILES: usize = 2000;
const MAX_HOOK_BYTES: u64 = 32 << 20;

/// The hooks dir's files for the JS runtime, named by their path relative to it: the
/// `*.pb.js` / `*.pb.ts` scripts at the top level (run in name order) and every `.js`,
/// `.cjs` and `.json` file below it (modules for `require`) plus `.html`, `.tmpl` and
/// `.txt` files (for `$template.loadFiles`); hidden dirs are skipped.
/// Empty when there are no scripts.
fn hook_files(dir: &Path) -> Result<Vec<SourceFile>, String> {
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = pending.pop() {
        let entries = match std::fs::read_dir(&abs) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && rel.is_empty() => return Ok(files),
            Err(e) => return Err(format!("cannot read hooks dir {}: {e}", abs.display())),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let rel_name = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if path.is_dir() {
                if !name.starts_with('.') {
                    pending.push((path, rel_name));
                }
                continue;
            }
            let is_script = rel.is_empty() && (name.ends_with(".pb.js") || name.ends_with(".pb.ts"));
            let is_module = [".js", ".cjs", ".json", ".html", ".tmpl", ".txt"].iter().any(|ext| name.ends_with(ext));
            if !(is_script || is_module) || !path.is_file() {
                continue;
            }
            total += entry.metadata().map(|m| m.len()).unwrap_or(0);
            if files.len() >= MAX_HOOK_FILES || total > MAX_HOOK_BYTES {
                return Err(format!("the hooks dir {} has too many or too large .js/.json files", dir.display()));
            }
            let content = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {rel_name}: {e}"))?;
            files.push(SourceFile { name: rel_name, content });
        }
    }
    if !files.iter().any(|f| !f.name.contains('/') && (f.name.ends_with(".pb.js") || f.name.ends_with(".pb.ts"))) {
        return Ok(Vec::new());
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

fn plugin_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read plugins dir {}: {e}", dir.display())),
    };
    let mut out: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "wasm")).collect();
    out.sort();
    Ok(out)
}

/// Fills a plugin's instance pool on a thread of its own. On the server's runtime the
/// warm-up starved the first requests: a busy task is polled again and again while the
/// I/O driver runs only every few dozen polls, so with one core (the benchmark pins the
/// server to one) the first `/api/health` answered after ~230 ms instead of ~60 ms. As a
/// separate thread the kernel's scheduler shares the core with the request workers.
fn prewarm_in_background(plugin: Arc<LoadedPlugin>) {
    let spawned = std::thread::Builder::new().name("wasm-prewarm".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => return tracing::warn!(plugin = &*plugin.name, "cannot prewarm the instance pool: {e}"),
        };
        if let Err(e) = rt.block_on(plugin.prewarm()) {
            tracing::warn!(plugin = &*plugin.name, "prewarming the instance pool stopped: {e}");
        }
    });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the prewarm thread: {e}");
    }
}

pub(crate) fn new_linker(engine: &Engine) -> wasmtime::Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Bindings::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}

impl PluginHost {
    /// Loads everything there is; `None` when there are neither hooks nor plugins.
    pub async fn load(opts: HostOptions, core: Arc<dyn PluginCore>) -> Result<Option<PluginHost>, String> {
        let hooks = match &opts.hooks_dir {
            Some(d) => hook_files(d)?,
            None => Vec::new(),
        };
        let components = match &opts.plugins_dir {
            Some(d) => plugin_files(d)?,
            None => Vec::new(),
        };
        if hooks.is_empty() && components.is_empty() {
            return Ok(None);
        }
        let engine = new_engine(&opts.engine).map_err(|e| format!("wasm engine: {e:#}"))?;
        start_epoch_ticker(&engine);
        let linker = new_linker(&engine).map_err(|e| format!("wasm linker: {e:#}"))?;
        let mut sources: Vec<(String, Vec<u8>, Vec<SourceFile>)> = Vec::new();
        if !hooks.is_empty() {
            sources.push(("pb_hooks".into(), JSVM_COMPONENT.to_vec(), hooks));
        }
        for path in components {
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read plugin {}: {e}", path.display()))?;
            let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            sources.push((name, bytes, Vec::new()));
        }
        let mut plugins = Vec::new();
        for (name, bytes, files) in sources {
            let started = Instant::now();
            let component = load_component(&engine, &bytes, opts.cache_dir.as_deref()).map_err(|e| format!("plugin {name}: {e:#}"))?;
            let compiled = started.elapsed();
            let pre = linker
                .instantiate_pre(&component)
                .and_then(PluginPre::new)
                .map_err(|e| format!("plugin {name} does not fit the pocketbun:plugin@0.1.0 world: {e:#}"))?;
            // the JS runtime sees the server's environment ($os.getenv, as in PocketBase);
            // other components get none
            let env: Vec<(String, String)> = if name == "pb_hooks" { std::env::vars().collect() } else { Vec::new() };
            let plugin = LoadedPlugin::start(&name, engine.clone(), pre, core.clone(), files, env, opts.limits.clone()).await?;
            // one instance is ready (it produced the manifest); the rest of the pool warms
            // up in the background (~20 ms of CPU per JS instance)
            prewarm_in_background(plugin.clone());
            tracing::info!(
                plugin = name,
                routes = plugin.manifest.routes.len(),
                hooks = plugin.manifest.hooks.len(),
                "loaded plugin (component ready in {:?}, first instance in {:?})",
                compiled,
                started.elapsed() - compiled
            );
            for h in plugin.manifest.hooks.iter().filter(|h| !KNOWN_HOOKS.contains(&h.name.as_str())) {
                tracing::warn!(plugin = name, "hook {:?} is registered but PocketBun has no such hook", h.name);
            }
            plugins.push(plugin);
        }
        let mut routes = Vec::new();
        for p in &plugins {
            for r in &p.manifest.routes {
                let pattern = RoutePattern::parse(&r.method, &r.path).map_err(|e| format!("plugin {}: {e}", p.name))?;
                routes.push(RouteEntry { pattern, plugin: p.clone(), route_id: r.id });
            }
        }
        // most specific first; registration order breaks ties
        routes.sort_by(|a, b| b.pattern.specificity().cmp(&a.pattern.specificity()));
        let hook_names = plugins.iter().flat_map(|p| p.manifest.hooks.iter().map(|h| h.name.clone())).collect();
        Ok(Some(PluginHost { plugins, hook_names, routes, _engine: engine }))
    }

    pub fn match_route(&self, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        self.routes.iter().find_map(|r| {
            r.pattern.matches(method, path).map(|params| RouteMatch { plugin: &r.plugin, route_id: r.route_id, params })
        })
    }

    pub async fn handle_route(m: &RouteMatch<'_>, req: &HttpRequest) -> Result<HttpResponse, RouteError> {
        match m.plugin.handle_route(m.route_id, req).await {
            Ok(Ok(res)) => Ok(res),
            Ok(Err(e)) => Err(RouteError::Api(core_error(e))),
            Err(f) => {
                tracing::error!(plugin = &*m.plugin.name, "{} {}: {f}", req.method, req.path);
                Err(RouteError::Failed(f))
            }
        }
    }
}

/// A plugin's API error as the server renders it (bad data JSON becomes `{}`).
pub fn core_error(e: ApiError) -> CoreError {
    let data = serde_json::from_str(&e.data_json).unwrap_or_default();
    CoreError { status: e.status, message: e.message, data }
}

#[cfg(test)]
mod known_hooks_tests {
    use super::KNOWN_HOOKS;

    /// `events.js`'s `hookName`: `onRecordAuthWithOAuth2Request` -> `record-auth-with-oauth2-request`.
    fn kebab(js_name: &str) -> String {
        let s = js_name.trim_start_matches("on").replace("OAuth2", "Oauth2");
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = c.is_ascii_uppercase()
                && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit() || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase())));
            if boundary {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// Every hook the JS API can register is one the server fires (the two lists are kept in
    /// two languages; this keeps them in step).
    #[test]
    fn every_js_hook_is_fired() {
        let src = include_str!("../../../sdk-js-shim/events.js");
        let list = src.split("const HOOKS = [").nth(1).and_then(|s| s.split("];").next()).expect("HOOKS list");
        let names: Vec<&str> = list.split('"').filter(|s| s.starts_with("on")).collect();
        assert!(names.len() > 80, "{}", names.len());
        assert_eq!(kebab("onRecordAuthWithOAuth2Request"), "record-auth-with-oauth2-request");
        assert_eq!(kebab("onRecordAuthWithOTPRequest"), "record-auth-with-otp-request");
        for n in names {
            assert!(KNOWN_HOOKS.contains(&kebab(n).as_str()), "{n} ({}) is not in KNOWN_HOOKS", kebab(n));
        }
    }
}
