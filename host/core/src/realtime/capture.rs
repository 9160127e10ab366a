//! Record change capture on the writer connection.
//!
//! `persist` reports every row it writes here; the changes wait in a per-thread buffer until
//! SQLite commits (commit hook) or rolls back (rollback hook, they are dropped). Once the write
//! job that committed them has finished, the writer thread hands them to the sink (the
//! realtime broker), so events are only ever published for committed writes, whichever code
//! path (API, batch, cascade, CLI) made them.

use rusqlite::Connection;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::record::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// One committed record write.
#[derive(Debug, Clone)]
pub struct RecordChange {
    pub action: Action,
    pub record: Arc<Record>,
}

pub type Sink = Arc<dyn Fn(Vec<RecordChange>) + Send + Sync>;

/// Number of live realtime clients over all brokers: nothing is captured while it is 0.
pub(crate) static LISTENERS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
    static PENDING: RefCell<Vec<RecordChange>> = const { RefCell::new(Vec::new()) };
    static COMMITTED: RefCell<Vec<RecordChange>> = const { RefCell::new(Vec::new()) };
}

/// Installs the sink and the commit/rollback hooks on the writer connection (call on the
/// writer thread).
pub fn install(conn: &Connection, sink: Sink) {
    SINK.with(|s| *s.borrow_mut() = Some(sink));
    conn.commit_hook(Some(|| {
        let moved = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        if !moved.is_empty() {
            COMMITTED.with(|c| c.borrow_mut().extend(moved));
        }
        false // never veto the commit
    }));
    conn.rollback_hook(Some(|| {
        PENDING.with(|p| p.borrow_mut().clear());
    }));
}

/// Reports a written row (called by `persist` inside the caller's transaction).
pub fn record(action: Action, rec: &Record) {
    if LISTENERS.load(Ordering::Relaxed) == 0 || rec.collection.is_view() {
        return;
    }
    if !SINK.with(|s| s.borrow().is_some()) {
        return;
    }
    let mut snap = Record::new(rec.collection.clone());
    snap.values = rec.values.clone();
    snap.original = rec.original.clone();
    PENDING.with(|p| p.borrow_mut().push(RecordChange { action, record: Arc::new(snap) }));
}

/// Hands the changes committed by the finished write job to the sink (called by the writer
/// thread after each job).
pub fn flush() {
    PENDING.with(|p| p.borrow_mut().clear());
    let committed = COMMITTED.with(|c| std::mem::take(&mut *c.borrow_mut()));
    if committed.is_empty() {
        return;
    }
    let sink = SINK.with(|s| s.borrow().clone());
    if let Some(sink) = sink {
        sink(committed);
    }
}
