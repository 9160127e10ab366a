//! PocketBun's Wasm plugin host.
//!
//! Plugins are WebAssembly components of the `pocketbun:plugin@0.1.0` world (`wit/`).
//! PocketBase-style `pb_hooks/*.pb.js` run in one such component, the embedded QuickJS
//! runtime built from `plugins/jsvm`. wasmtime lives only in this crate; the rest of the
//! server talks to it through [`PluginHost`] and implements [`PluginCore`] for it.
//!
//! Sandboxing: one `Engine` with the pooling allocator; a pool of warm instances per
//! plugin; per-call wall-clock deadlines through epoch interruption; a memory cap per
//! instance through a `ResourceLimiter`; a trap fails only the call that caused it and
//! the trapped instance is discarded.

pub mod ambient_tx;
pub mod bindings;
pub mod core_api;
pub mod engine;
pub mod hooks;
pub mod host;
pub mod migrations;
pub mod plugin;
pub mod routes;
pub mod state;

pub use bindings::types::{HttpRequest, HttpResponse};
pub use core_api::{
    BoxFuture, CoreError, CoreResult, OutboundRequest, OutboundResponse, PluginCore, PluginTx, RecordFilter, RecordTokenRequest, SaveMode, SqlParam,
};
pub use engine::EngineOptions;
pub use hooks::{DefaultAction, HookOutcome};
pub use migrations::{migration_files, JsMigrations};
pub use host::{HostOptions, PluginHost, RouteError, RouteMatch, JSVM_COMPONENT};
pub use plugin::{CallFailure, LoadedPlugin, PluginLimits};
