//! Event hooks that extensions (the Wasm plugin host) attach to the core, with PocketBase's
//! `e.next()` semantics. The core only knows this narrow trait: events are JSON objects and
//! each hook wraps a default action, so no plugin types leak into the core.
//!
//! Hook names are PocketBase's without the `on` prefix, kebab-cased
//! (`onRecordAfterCreateSuccess` -> `record-after-create-success`); tags are collection
//! ids and names.

use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::ApiResult;

pub type HookFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The operation a hook chain wraps: it gets the event as the handlers left it and returns
/// the event afterwards (e.g. with the stored record).
pub type HookAction = Box<dyn FnOnce(Value) -> HookFuture<ApiResult<Value>> + Send>;

pub trait HookDispatcher: Send + Sync + 'static {
    /// Whether any handler subscribed to `name` for one of `tags` (untagged subscriptions
    /// match everything). Must be cheap: the core asks on every write.
    fn has(&self, name: &str, tags: &[&str]) -> bool;

    /// Runs the handlers of `name`, the last `e.next()` running `action`. A handler that
    /// does not call `e.next()` stops the chain (the action does not run); an error thrown
    /// by a handler or returned by the action is the result.
    fn dispatch(&self, name: &str, tags: &[&str], event: Value, action: HookAction) -> HookFuture<ApiResult<Value>>;
}

/// The app's hooks slot (empty until an extension registers itself).
#[derive(Default)]
pub struct HookSlot(parking_lot::RwLock<Option<Arc<dyn HookDispatcher>>>);

impl HookSlot {
    pub fn set(&self, d: Option<Arc<dyn HookDispatcher>>) {
        *self.0.write() = d;
    }

    pub fn get(&self) -> Option<Arc<dyn HookDispatcher>> {
        self.0.read().clone()
    }

    /// The dispatcher if it has subscribers for any of `names`.
    pub fn subscribed(&self, names: &[&str], tags: &[&str]) -> Option<Arc<dyn HookDispatcher>> {
        let d = self.0.read();
        let d = d.as_ref()?;
        names.iter().any(|n| d.has(n, tags)).then(|| d.clone())
    }
}

/// Runs `action` inside hook `name` when it has subscribers, directly otherwise (no JSON
/// round trip on the fast path).
pub async fn around(
    d: &Arc<dyn HookDispatcher>,
    name: &str,
    tags: &[&str],
    event: impl FnOnce() -> Value,
    action: HookAction,
) -> ApiResult<Value> {
    if d.has(name, tags) {
        d.dispatch(name, tags, event(), action).await
    } else {
        action(event()).await
    }
}

/// Notification hooks (`*AfterSuccess`, `*AfterError`): handlers only observe; the default
/// action does nothing.
pub async fn notify(d: &Arc<dyn HookDispatcher>, name: &str, tags: &[&str], event: impl FnOnce() -> Value) -> ApiResult<()> {
    if d.has(name, tags) {
        d.dispatch(name, tags, event(), Box::new(|ev| Box::pin(async move { Ok(ev) }))).await?;
    }
    Ok(())
}
