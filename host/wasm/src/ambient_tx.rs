//! The transaction a plugin call runs in, handed down to the calls it triggers.
//!
//! A handler inside `$app.runInTransaction` (or a hook of a batch sub-request) holds the single
//! writer. When its `txApp.save(...)` fires a hook, that hook runs on another pooled instance;
//! if it wrote through the app it would queue behind the very transaction that waits for it
//! (a deadlock until the time limit). So every plugin call runs in a task-local scope that
//! exposes its instance's open transaction, and a call started inside such a scope joins it:
//! its imports run in the transaction, but only the call that opened it can end it
//! (PocketBase's `e.app` inside a transaction is the transaction's app, too).

use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;

use crate::core_api::{BoxFuture, CoreError, CoreResult, PluginCore, PluginTx};

/// An instance's open transaction (set by `tx.begin` or joined at call start).
pub type TxCell = Arc<Mutex<Option<Arc<dyn PluginTx>>>>;

tokio::task_local! {
    static CURRENT: TxCell;
}

/// The transaction of the plugin call (or batch) this code runs under, if any.
pub fn current() -> Option<Arc<dyn PluginTx>> {
    CURRENT.try_with(|cell| cell.lock().clone()).ok().flatten()
}

/// Runs `f` with `cell` as the ambient transaction.
pub async fn scope<F: Future>(cell: TxCell, f: F) -> F::Output {
    CURRENT.scope(cell, f).await
}

/// Runs `f` inside an already open transaction given by its core (a batch's).
pub async fn within<F: Future>(core: Arc<dyn PluginCore>, f: F) -> F::Output {
    scope(Arc::new(Mutex::new(Some(Arc::new(Joined::over(core)) as Arc<dyn PluginTx>))), f).await
}

/// A transaction joined by a nested call: its imports use it; ending it is left to its owner.
pub struct Joined {
    core: Arc<dyn PluginCore>,
}

impl Joined {
    pub fn new(tx: &Arc<dyn PluginTx>) -> Joined {
        Joined { core: tx.core() }
    }

    /// A transaction given by its core (a batch's, a migration run's).
    pub fn over(core: Arc<dyn PluginCore>) -> Joined {
        Joined { core }
    }
}

fn not_owner<T: Send + 'static>() -> BoxFuture<CoreResult<T>> {
    Box::pin(async { Err(CoreError::new(400, "the transaction belongs to the call that opened it")) })
}

impl PluginTx for Joined {
    fn core(&self) -> Arc<dyn PluginCore> {
        self.core.clone()
    }
    fn commit(&self) -> BoxFuture<CoreResult<()>> {
        not_owner()
    }
    fn rollback(&self) -> BoxFuture<CoreResult<()>> {
        not_owner()
    }
}
