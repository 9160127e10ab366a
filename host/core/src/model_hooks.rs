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
//! deadlock (it commits separately).
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
pub trait HookedModel: Clone + Send + 'static {
    /// The event key handlers read (`e.record`, `e.collection`).
    const KEY: &'static str;

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
    /// Every hook of the write, the generic `model-*` ones included.
    fn all(&self) -> Vec<String> {
        let mut v = vec![self.outer, self.execute, self.success, self.error];
        v.extend(self.validate);
        let generic: Vec<String> = v.iter().filter_map(|n| generic(n)).collect();
        v.into_iter().map(str::to_string).chain(generic).collect()
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

pub struct Chain<M> {
    hooks: Arc<dyn HookDispatcher>,
    tags: Arc<[String; 2]>,
    /// `create`, `update` or `delete` (the event's `type`).
    kind: &'static str,
    _model: std::marker::PhantomData<fn() -> M>,
}

impl<M> Clone for Chain<M> {
    fn clone(&self) -> Self {
        Self { hooks: self.hooks.clone(), tags: self.tags.clone(), kind: self.kind, _model: Default::default() }
    }
}

/// The chain of a write when any of its hooks has subscribers for `tags` (the model's
/// collection id and name).
pub fn chain<M: HookedModel>(slot: &HookSlot, tags: [String; 2], kind: &'static str, names: &Names) -> Option<Chain<M>> {
    let all = names.all();
    let hooks = slot.subscribed(&all.iter().map(String::as_str).collect::<Vec<_>>(), &[&tags[0], &tags[1]])?;
    Some(Chain { hooks, tags: Arc::new(tags), kind, _model: Default::default() })
}

impl<M: HookedModel> Chain<M> {
    fn tags(&self) -> [&str; 2] {
        [&self.tags[0], &self.tags[1]]
    }

    pub fn has(&self, name: &str) -> bool {
        self.hooks.has(name, &self.tags())
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
        let mut after = self.hooks.dispatch(name, &self.tags(), event, action).await?;
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
        let (hooks, tags) = (self.hooks.clone(), self.tags.clone());
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
            self.hooks.dispatch(name, &self.tags(), event(M::KEY), action).await.map(|_| ())
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
            Ok(()) => {
                self.notify(names.success, &model, None).await?;
                Ok(model)
            }
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
