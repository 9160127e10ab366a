//! The core's [`HookDispatcher`] implemented with the plugin host: record model hooks
//! (and any other hook the core fires) run through the plugins' `e.next()` chains.

use pocketbun_core::crons::CronRunner;
use pocketbun_core::hooks::{HookAction, HookDispatcher, HookFuture};
use pocketbun_core::{ApiError, ApiResult, App};
use pocketbun_wasm::{CoreError, DefaultAction, LoadedPlugin, PluginHost, RouteError};
use serde_json::Value;
use std::sync::{Arc, Weak};

/// Weak: the host (through its core bridge) keeps the app alive, not the other way round.
pub struct PluginHooks(Weak<PluginHost>);

pub fn api_error(e: RouteError) -> ApiError {
    match e {
        RouteError::Api(e) => ApiError { status: e.status, message: e.message, data: e.data },
        RouteError::Failed(_) => ApiError::internal(""),
    }
}

fn core_err(e: ApiError) -> CoreError {
    CoreError { status: e.status, message: e.message, data: e.data }
}

impl HookDispatcher for PluginHooks {
    fn has(&self, name: &str, tags: &[&str]) -> bool {
        self.0.upgrade().is_some_and(|h| h.has_hooks(name, tags))
    }

    fn dispatch(&self, name: &str, tags: &[&str], event: Value, action: HookAction) -> HookFuture<ApiResult<Value>> {
        let host = self.0.upgrade();
        let (name, tags): (String, Vec<String>) = (name.to_string(), tags.iter().map(|t| t.to_string()).collect());
        Box::pin(async move {
            let Some(host) = host else { return action(event).await };
            let default: DefaultAction = Box::new(move |ev| Box::pin(async move { action(ev).await.map_err(core_err) }));
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            let outcome = host.run_hook(&name, &tags, event, default).await.map_err(api_error)?;
            Ok(outcome.event)
        })
    }
}

/// Runs a plugin's `cronAdd` job on one of its pooled instances.
struct PluginCron(Arc<LoadedPlugin>);

impl CronRunner for PluginCron {
    fn run(&self, id: &str) -> HookFuture<ApiResult<()>> {
        let (plugin, id) = (self.0.clone(), id.to_string());
        Box::pin(async move {
            match plugin.run_cron(&id).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(api_error(RouteError::Api(pocketbun_wasm::host::core_error(e)))),
                Err(f) => {
                    tracing::error!(plugin = &*plugin.name, "cron {id}: {f}");
                    Err(ApiError::internal(""))
                }
            }
        })
    }
}

/// Makes the app fire the plugins' hooks and lists their crons with the app's.
pub fn install(app: &App, host: &Arc<PluginHost>) {
    app.hooks.set(Some(Arc::new(PluginHooks(Arc::downgrade(host)))));
    for p in &host.plugins {
        for job in &p.manifest.crons {
            app.crons.add(job.id.clone(), job.expression.clone(), Arc::new(PluginCron(p.clone())));
        }
    }
}
