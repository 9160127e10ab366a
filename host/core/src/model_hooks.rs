//! PocketBase's model hook chain around a write, shared by records and collections:
//!
//! save:   on<Model>Create|Update -> (on<Model>Validate -> validation)
//!         -> on<Model>Create|UpdateExecute (the write) -> on<Model>AfterCreate|UpdateSuccess
//!         (or ...Error when anything failed)
//! delete: on<Model>Delete -> on<Model>DeleteExecute -> on<Model>AfterDeleteSuccess|Error
//!
//! Handlers may change the model before `e.next()` (the changes are applied to the model
//! being written), stop the chain, or throw to abort the write. Unlike PocketBase, the
//! Execute hook wraps the transaction instead of running inside it: the single writer
//! thread is never held while plugin code runs, so a handler's own `$app.save` cannot
//! deadlock (it commits separately). Batch sub-requests are the exception: their writes run
//! in the batch's open transaction, which the handlers' own writes join, and their after
//! hooks wait for the batch to end ([`AfterTx`]), as PocketBase's transaction app does.
//!
//! Every stage also runs PocketBase's generic `onModel*` hook (`model-create`, ...) inside
//! the typed one, with the model as `e.model`.
//!
//! Callers ask [`chain`] first: without subscribers the write runs directly (no JSON).

use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{ApiError, ApiResult};
use crate::hooks::{HookAction, HookDispatcher, HookFuture, HookSlot};

/// The model while the chain runs (handlers' changes are applied to it in place).
pub type Shared<M> = Arc<Mutex<M>>;

/// The write at the end of the chain: gets the model as the handlers left it, returns the
/// stored one.
pub type ModelWrite<M> = Box<dyn FnOnce(M) -> HookFuture<ApiResult<M>> + Send>;

/// A step run inside a stage (the validation, the write).
pub type Step<M> = Box<dyn FnOnce(Shared<M>) -> HookFuture<ApiResult<()>> + Send>;

/// A model the hooks can see and change.
pub trait HookedModel: Clone + Send + Sync + 'static {
    /// The event key handlers read (`e.record`, `e.collection`).
    const KEY: &'static str;

    /// The tag of the generic `onModel*` hooks for models that are not records (PocketBase
    /// tags those by table, `_collections`; records by their collection's id and name).
    const TABLE: Option<&'static str> = None;

    /// What handlers see.
    fn export(&self) -> Value;

    /// Applies what a handler left in the event under [`HookedModel::KEY`] (`exported` is
    /// what it was given, so unchanged models are left alone).
    fn apply(model: Shared<Self>, exported: Value, value: Value) -> HookFuture<ApiResult<()>>;
}

/// The hook names of one write.
pub struct Names {
    /// `record-create`, `collection-delete`, ...
    pub outer: &'static str,
    /// `record-validate` (saves only).
    pub validate: Option<&'static str>,
    pub execute: &'static str,
    pub success: &'static str,
    pub error: &'static str,
}

impl Names {
    /// Every typed hook of the write.
    fn typed(&self) -> Vec<&'static str> {
        let mut v = vec![self.outer, self.execute, self.success, self.error];
        v.extend(self.validate);
        v
    }
}

/// PocketBase's generic `onModel*` hook of a typed one (`record-create` -> `model-create`,
/// `collection-after-delete-error` -> `model-after-delete-error`). It runs inside the typed
/// hook (PocketBase proxies the typed hooks through the generic ones, typed handlers first),
/// with the model under `e.model`.
fn generic(name: &str) -> Option<String> {
    // (models without typed hooks, like the settings, use the generic names directly)
    if name.starts_with("model-") {
        return None;
    }
    name.split_once('-').map(|(_, rest)| format!("model-{rest}"))
}

/// The event key of the generic hooks.
const MODEL_KEY: &str = "model";

/// A deferred after-success/error hook: gets the transaction's error (None: committed).
type AfterTxHook = Box<dyn FnOnce(Option<ApiError>) -> HookFuture<ApiResult<()>> + Send>;

/// The after-success/error hooks of the writes made inside an open transaction: PocketBase's
/// transaction app defers them until the transaction ended, then fires each write's
/// after-success hook when it committed, its after-error hook (with the transaction's
/// error) when it rolled back.
#[derive(Clone, Default)]
pub struct AfterTx(Arc<Mutex<Vec<AfterTxHook>>>);

impl AfterTx {
    fn push(&self, hook: AfterTxHook) {
        self.0.lock().push(hook);
    }

    /// Runs the deferred hooks in the order of their writes, each once; all run, the first
    /// failure is the answer (the transaction has ended either way).
    pub async fn run(&self, tx_error: Option<&ApiError>) -> ApiResult<()> {
        let hooks = std::mem::take(&mut *self.0.lock());
        let mut first = None;
        for hook in hooks {
            if let Err(e) = hook(tx_error.cloned()).await {
                tracing::debug!("deferred after hook failed: {}", e.message);
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

pub struct Chain<M> {
    hooks: Arc<dyn HookDispatcher>,
    tags: Arc<[String; 2]>,
    /// The tags of the generic `model-*` hooks (see [`HookedModel::TABLE`]).
    generic_tags: Arc<[String; 2]>,
    /// `create`, `update` or `delete` (the event's `type`).
    kind: &'static str,
    /// Set when the write runs in an open transaction: the after hooks wait for its end.
    after_tx: Option<AfterTx>,
    _model: std::marker::PhantomData<fn() -> M>,
}

impl<M> Clone for Chain<M> {
    fn clone(&self) -> Self {
        Self { hooks: self.hooks.clone(), tags: self.tags.clone(), generic_tags: self.generic_tags.clone(), kind: self.kind, after_tx: self.after_tx.clone(), _model: Default::default() }
    }
}

/// The chain of a write when any of its hooks has subscribers for `tags` (the model's
/// collection id and name).
pub fn chain<M: HookedModel>(slot: &HookSlot, tags: [String; 2], kind: &'static str, names: &Names) -> Option<Chain<M>> {
    let generic_tags = M::TABLE.map_or_else(|| tags.clone(), |t| [t.to_string(), t.to_string()]);
    let typed = names.typed();
    let generic: Vec<String> = typed.iter().filter_map(|n| generic(n)).collect();
    let hooks = slot
        .subscribed(&typed, &[&tags[0], &tags[1]])
        .or_else(|| slot.subscribed(&generic.iter().map(String::as_str).collect::<Vec<_>>(), &[&generic_tags[0], &generic_tags[1]]))?;
    Some(Chain { hooks, tags: Arc::new(tags), generic_tags: Arc::new(generic_tags), kind, after_tx: None, _model: Default::default() })
}

impl<M: HookedModel> Chain<M> {
    /// The tags hook `name` fires with.
    fn tags(&self, name: &str) -> [&str; 2] {
        let tags = if name.starts_with("model-") { &self.generic_tags } else { &self.tags };
        [&tags[0], &tags[1]]
    }

    /// The write runs in an open transaction: its after-success/error hooks are deferred to
    /// `after` (a failure before the write still fires the after-error hook at once).
    pub fn in_tx(mut self, after: Option<AfterTx>) -> Self {
        self.after_tx = after;
        self
    }

    pub fn has(&self, name: &str) -> bool {
        self.hooks.has(name, &self.tags(name))
    }

    fn event(&self, key: &str, model: &M, kind: &str) -> Value {
        json!({key: model.export(), "type": kind, "context": "default"})
    }

    /// Runs `step` on the shared model inside hook `name` and, within it, inside its generic
    /// `model-*` hook (each directly when it has no subscribers); `kind` is the event's `type`.
    async fn stage(&self, name: &str, kind: &'static str, model: &Shared<M>, step: Step<M>) -> ApiResult<()> {
        let step = match generic(name).filter(|g| self.has(g)) {
            None => step,
            Some(g) => {
                let chain = self.clone();
                Box::new(move |shared: Shared<M>| -> HookFuture<ApiResult<()>> { Box::pin(async move { chain.stage_keyed(MODEL_KEY, &g, kind, &shared, step).await }) })
            }
        };
        self.stage_keyed(M::KEY, name, kind, model, step).await
    }

    /// One hook around `step`, the model under `key` in its event.
    async fn stage_keyed(&self, key: &'static str, name: &str, kind: &'static str, model: &Shared<M>, step: Step<M>) -> ApiResult<()> {
        if !self.has(name) {
            return step(model.clone()).await;
        }
        let event = self.event(key, &model.lock(), kind);
        let exported = event[key].clone();
        let before = exported.clone();
        let ran = Arc::new(AtomicBool::new(false));
        let (shared, chain, ran2) = (model.clone(), self.clone(), ran.clone());
        let action: HookAction = Box::new(move |mut ev: Value| {
            Box::pin(async move {
                ran2.store(true, Ordering::SeqCst);
                M::apply(shared.clone(), exported, ev[key].take()).await?;
                step(shared.clone()).await?;
                let out = chain.event(key, &shared.lock(), kind);
                Ok(out)
            })
        });
        let mut after = self.hooks.dispatch(name, &self.tags(name), event, action).await?;
        if !ran.load(Ordering::SeqCst) {
            // the chain stopped: the handlers' changes stay on the (unwritten) model
            M::apply(model.clone(), before, after[key].take()).await?;
        }
        Ok(())
    }

    /// The after-success/error hook `name`, and its generic `model-*` hook inside it.
    async fn notify(&self, name: &str, model: &M, error: Option<&ApiError>) -> ApiResult<()> {
        let generic = generic(name).filter(|g| self.has(g));
        if !self.has(name) && generic.is_none() {
            return Ok(());
        }
        let event = |key: &str| {
            let mut ev = self.event(key, model, self.kind);
            if let Some(e) = error {
                ev["error"] = json!({"status": e.status, "message": e.message, "data": e.data});
            }
            ev
        };
        let inner = generic.map(|g| (g, event(MODEL_KEY)));
        let (hooks, tags) = (self.hooks.clone(), self.generic_tags.clone());
        let action: HookAction = Box::new(move |ev| {
            Box::pin(async move {
                if let Some((g, inner_event)) = inner {
                    let noop: HookAction = Box::new(|ev| Box::pin(async move { Ok(ev) }));
                    hooks.dispatch(&g, &[&tags[0], &tags[1]], inner_event, noop).await?;
                }
                Ok(ev)
            })
        });
        if self.has(name) {
            self.hooks.dispatch(name, &self.tags(name), event(M::KEY), action).await.map(|_| ())
        } else {
            action(Value::Null).await.map(|_| ())
        }
    }

    /// Runs the whole chain of one write: `validate` (saves) runs inside the validate hook,
    /// `write` inside the Execute hook.
    pub async fn run(&self, model: M, names: &Names, validate: Option<Step<M>>, write: ModelWrite<M>) -> ApiResult<M> {
        let shared: Shared<M> = Arc::new(Mutex::new(model));
        let written = Arc::new(AtomicBool::new(false));
        let (inner, execute, validate_name) = (self.clone(), names.execute, names.validate);
        let execute_step = write_step(write, written.clone());
        let outer: Step<M> = Box::new(move |model| {
            Box::pin(async move {
                if let (Some(name), Some(step)) = (validate_name, validate) {
                    inner.stage(name, "validate", &model, step).await?;
                }
                inner.stage(execute, inner.kind, &model, execute_step).await
            })
        });
        let result = self.stage(names.outer, self.kind, &shared, outer).await;
        let model = Arc::try_unwrap(shared).map(Mutex::into_inner).unwrap_or_else(|shared| shared.lock().clone());
        self.finish(model, result, written.load(Ordering::SeqCst), names).await
    }

    /// The end of a write chain: the after-success hook when the write ran, the after-error
    /// hook when anything failed (its own failure is only logged; the write's error is the
    /// answer).
    async fn finish(&self, model: M, result: ApiResult<()>, written: bool, names: &Names) -> ApiResult<M> {
        match result {
            Ok(()) if !written => Ok(model),
            Ok(()) => match &self.after_tx {
                Some(after) => {
                    let (chain, stored, success, error) = (self.clone(), model.clone(), names.success, names.error);
                    after.push(Box::new(move |tx_error| {
                        Box::pin(async move {
                            match tx_error {
                                None => chain.notify(success, &stored, None).await,
                                Some(e) => chain.notify(error, &stored, Some(&e)).await,
                            }
                        })
                    }));
                    Ok(model)
                }
                None => {
                    self.notify(names.success, &model, None).await?;
                    Ok(model)
                }
            },
            Err(e) => {
                if let Err(hook_err) = self.notify(names.error, &model, Some(&e)).await {
                    tracing::warn!("{} hook failed: {}", names.error, hook_err.message);
                }
                Err(e)
            }
        }
    }
}

/// The action of the `*Execute` stage: writes the model as the handlers left it, keeps what
/// was stored, and flags that the write ran.
fn write_step<M: HookedModel>(write: ModelWrite<M>, written: Arc<AtomicBool>) -> Step<M> {
    Box::new(move |model| {
        Box::pin(async move {
            let snapshot = model.lock().clone();
            let stored = write(snapshot).await?;
            *model.lock() = stored;
            written.store(true, Ordering::SeqCst);
            Ok(())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deferred hook that records `(name, the transaction's error)` and fails when asked.
    fn recorder(seen: &Arc<Mutex<Vec<String>>>, name: &'static str, fail: bool) -> AfterTxHook {
        let seen = seen.clone();
        Box::new(move |tx_error| {
            Box::pin(async move {
                seen.lock().push(format!("{name}:{}", tx_error.map_or("ok".to_string(), |e| e.message)));
                if fail {
                    Err(ApiError::bad_request(format!("{name} failed")))
                } else {
                    Ok(())
                }
            })
        })
    }

    #[tokio::test]
    async fn deferred_hooks_run_once_in_order_and_the_first_failure_is_the_answer() {
        let seen = Arc::new(Mutex::new(vec![]));
        let after = AfterTx::default();
        after.push(recorder(&seen, "a", false));
        after.push(recorder(&seen, "b", true));
        after.push(recorder(&seen, "c", true));
        let err = after.run(None).await.unwrap_err();
        assert_eq!(err.message, "B failed.");
        assert_eq!(*seen.lock(), ["a:ok", "b:ok", "c:ok"]);
        // run once: a second end finds nothing left
        after.run(Some(&ApiError::bad_request("rolled back"))).await.unwrap();
        assert_eq!(seen.lock().len(), 3);

        after.push(recorder(&seen, "d", false));
        after.run(Some(&ApiError::bad_request("rolled back"))).await.unwrap();
        assert_eq!(seen.lock().last().unwrap(), "d:Rolled back.");
    }
}
