//! Event hooks across plugins, with PocketBase's `e.next()` semantics: the subscriptions
//! of all plugins form one chain (load order); each plugin chains its own handlers and
//! its last `e.next()` calls the next plugin, and the end of the chain is the default
//! action (e.g. the INSERT). Each step runs on its own pooled instance, so a default
//! action that fires further hooks never re-enters a busy instance.

use serde_json::Value;
use std::sync::Arc;

use crate::bindings::types::HttpResponse;
use crate::core_api::{BoxFuture, CoreError};
use crate::host::{core_error, PluginHost, RouteError};
use crate::plugin::LoadedPlugin;
use crate::state::HookNext;

/// The operation a hook chain wraps: gets the (possibly changed) event, returns it after
/// the operation (e.g. with the stored record).
pub type DefaultAction = Box<dyn FnOnce(Value) -> BoxFuture<Result<Value, CoreError>> + Send>;

pub struct HookOutcome {
    pub event: Value,
    /// Set when a request hook answered itself (`e.json(...)`) instead of calling `e.next()`.
    pub response: Option<HttpResponse>,
    pub default_ran: bool,
}

type Subscriptions = Arc<Vec<(Arc<LoadedPlugin>, u32)>>;
type Slot = Arc<parking_lot::Mutex<Option<DefaultAction>>>;

impl PluginHost {
    /// Subscriptions to hook `name` (`record-create-request`) for any of `tags`
    /// (collection id and name); subscriptions without tags match everything.
    fn subscriptions(&self, name: &str, tags: &[&str]) -> Vec<(Arc<LoadedPlugin>, u32)> {
        let mut out = Vec::new();
        for p in &self.plugins {
            for h in &p.manifest.hooks {
                if h.name == name && (h.tags.is_empty() || h.tags.iter().any(|t| tags.contains(&t.as_str()))) {
                    out.push((p.clone(), h.id));
                }
            }
        }
        out
    }

    pub fn has_hooks(&self, name: &str, tags: &[&str]) -> bool {
        if !self.hook_names.contains(name) {
            return false;
        }
        self.plugins.iter().any(|p| {
            p.manifest.hooks.iter().any(|h| h.name == name && (h.tags.is_empty() || h.tags.iter().any(|t| tags.contains(&t.as_str()))))
        })
    }

    pub async fn run_hook(&self, name: &str, tags: &[&str], event: Value, default: DefaultAction) -> Result<HookOutcome, RouteError> {
        let subs: Subscriptions = Arc::new(self.subscriptions(name, tags));
        let slot: Slot = Arc::new(parking_lot::Mutex::new(Some(default)));
        let (event, response) = run_from(subs, 0, event, slot.clone()).await?;
        let default_ran = slot.lock().is_none();
        Ok(HookOutcome { event, response, default_ran })
    }
}

fn run_from(subs: Subscriptions, i: usize, event: Value, slot: Slot) -> BoxFuture<Result<(Value, Option<HttpResponse>), RouteError>> {
    Box::pin(async move {
        let Some((plugin, hook_id)) = subs.get(i).cloned() else {
            let Some(action) = slot.lock().take() else {
                return Err(RouteError::Api(CoreError::new(400, "e.next() was already called")));
            };
            return action(event).await.map(|ev| (ev, None)).map_err(RouteError::Api);
        };
        let (subs2, slot2) = (subs.clone(), slot.clone());
        let next: HookNext = Box::new(move |ev: Value| {
            let step = run_from(subs2.clone(), i + 1, ev, slot2.clone());
            Box::pin(async move {
                match step.await {
                    // a later plugin's own response only matters if it stops the chain,
                    // which the first plugin sees as the event coming back unchanged
                    Ok((ev, _)) => Ok(ev),
                    Err(RouteError::Api(e)) => Err(e),
                    Err(RouteError::Failed(f)) => Err(CoreError::new(500, f.to_string())),
                }
            })
        });
        match plugin.handle_hook(hook_id, &event.to_string(), next).await {
            Ok(Ok(r)) => {
                let ev = serde_json::from_str(&r.event_json)
                    .map_err(|e| RouteError::Api(CoreError::new(500, format!("plugin {} returned invalid event JSON: {e}", plugin.name))))?;
                Ok((ev, r.response))
            }
            Ok(Err(e)) => Err(RouteError::Api(core_error(e))),
            Err(f) => {
                tracing::error!(plugin = &*plugin.name, "hook {hook_id}: {f}");
                Err(RouteError::Failed(f))
            }
        }
    })
}
