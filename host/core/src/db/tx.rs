//! A write transaction that spans several async calls (PocketBase's `RunInTransaction` for
//! extensions): the writer thread runs `BEGIN IMMEDIATE` and then serves only this
//! transaction's jobs until it is committed, rolled back, abandoned (the handle dropped,
//! e.g. because the plugin call that opened it trapped) or past its deadline. Other
//! writers queue behind it meanwhile, exactly as they queue behind one long write job.

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use rusqlite::Connection;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

use super::Db;
use crate::error::{ApiError, ApiResult};
use crate::model_hooks::AfterTx;

type TxJob = Box<dyn FnOnce(&mut Connection) + Send>;

enum TxMsg {
    Job(TxJob),
    End { commit: bool, done: oneshot::Sender<ApiResult<()>> },
}

/// An open write transaction on a database's writer connection. Dropping it without
/// [`WriteTx::commit`] rolls back.
pub struct WriteTx {
    to_writer: Sender<TxMsg>,
    /// The after-success/error hooks of the model writes made in it (PocketBase defers them
    /// to the transaction's end); whoever ends the transaction runs them.
    after: AfterTx,
}

fn closed() -> ApiError {
    ApiError::internal("the transaction is no longer open (it ended, timed out or was abandoned)")
}

impl Db {
    /// Opens a write transaction; it rolls back by itself after `max_duration`.
    pub async fn begin_write_tx(&self, max_duration: Duration) -> ApiResult<WriteTx> {
        let (to_writer, from_handle) = unbounded::<TxMsg>();
        let (started_tx, started_rx) = oneshot::channel::<ApiResult<()>>();
        self.send_write_job(Box::new(move |conn| {
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                let _ = started_tx.send(Err(ApiError::internal(format!("begin transaction: {e}"))));
                return;
            }
            let _ = started_tx.send(Ok(()));
            serve(conn, from_handle, Instant::now() + max_duration);
        }))?;
        started_rx.await.map_err(|_| ApiError::internal("database worker stopped"))??;
        Ok(WriteTx { to_writer, after: AfterTx::default() })
    }
}

/// The writer thread's loop while the transaction is open.
fn serve(conn: &mut Connection, jobs: Receiver<TxMsg>, deadline: Instant) {
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match jobs.recv_timeout(wait) {
            Ok(TxMsg::Job(job)) => job(conn),
            Ok(TxMsg::End { commit, done }) => {
                let r = if commit { conn.execute_batch("COMMIT") } else { conn.execute_batch("ROLLBACK") };
                let r = r.map_err(|e| {
                    // a failed COMMIT leaves the transaction open: end it
                    let _ = conn.execute_batch("ROLLBACK");
                    ApiError::internal(format!("{} transaction: {e}", if commit { "commit" } else { "rollback" }))
                });
                let _ = done.send(r);
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                tracing::warn!("a write transaction exceeded its time limit and was rolled back");
                let _ = conn.execute_batch("ROLLBACK");
                return;
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = conn.execute_batch("ROLLBACK");
                return;
            }
        }
    }
}

impl WriteTx {
    /// Runs `f` on the writer connection inside the transaction.
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> ApiResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: TxJob = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.to_writer.send(TxMsg::Job(job)).map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    async fn end(&self, commit: bool) -> ApiResult<()> {
        let (done, rx) = oneshot::channel();
        self.to_writer.send(TxMsg::End { commit, done }).map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    pub async fn commit(&self) -> ApiResult<()> {
        self.end(true).await
    }

    /// The deferred after hooks of the writes made in the transaction: run them with
    /// [`AfterTx::run`] once it ended.
    pub fn after_hooks(&self) -> &AfterTx {
        &self.after
    }

    pub async fn rollback(&self) -> ApiResult<()> {
        self.end(false).await
    }
}

/// Where a unit of data access runs: the normal reader pool / writer thread, or an open
/// write transaction (reads then see its uncommitted writes).
#[derive(Clone)]
pub enum DbScope {
    Pool(Db),
    Tx(Arc<WriteTx>),
}

impl DbScope {
    /// Where the after hooks of a model write wait: inside an open transaction, for its end
    /// (PocketBase's transaction app); None: they run right after the write.
    pub fn after_hooks(&self) -> Option<&AfterTx> {
        match self {
            DbScope::Pool(_) => None,
            DbScope::Tx(tx) => Some(tx.after_hooks()),
        }
    }

    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
    {
        match self {
            DbScope::Pool(db) => db.read(f).await,
            DbScope::Tx(tx) => tx.run(move |c| f(c)).await,
        }
    }

    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> ApiResult<T> + Send + 'static,
    {
        match self {
            DbScope::Pool(db) => db.write(f).await,
            DbScope::Tx(tx) => tx.run(f).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbOptions;

    fn temp_db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("t.db"), DbOptions { readers: 1 }).unwrap();
        db.write_blocking(|c| Ok(c.execute_batch("CREATE TABLE t (v INTEGER)")?)).unwrap();
        (dir, db)
    }

    async fn count(db: &Db) -> i64 {
        db.read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)).await.unwrap()
    }

    async fn insert(scope: &DbScope, v: i64) {
        scope.write(move |c| Ok(c.execute("INSERT INTO t VALUES (?1)", [v]).map(|_| ())?)).await.unwrap();
    }

    #[tokio::test]
    async fn commit_publishes_and_rollback_discards() {
        let (_d, db) = temp_db();
        let tx = Arc::new(db.begin_write_tx(Duration::from_secs(5)).await.unwrap());
        let scope = DbScope::Tx(tx.clone());
        insert(&scope, 1).await;
        insert(&scope, 2).await;
        // the transaction sees its own writes, readers do not yet
        let inside: i64 = scope.read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(inside, 2);
        assert_eq!(count(&db).await, 0);
        tx.commit().await.unwrap();
        assert_eq!(count(&db).await, 2);

        let tx = Arc::new(db.begin_write_tx(Duration::from_secs(5)).await.unwrap());
        insert(&DbScope::Tx(tx.clone()), 3).await;
        tx.rollback().await.unwrap();
        assert_eq!(count(&db).await, 2);
        assert!(tx.commit().await.is_err(), "an ended transaction refuses more work");
    }

    #[tokio::test]
    async fn other_writers_wait_and_a_dropped_handle_rolls_back() {
        let (_d, db) = temp_db();
        let tx = db.begin_write_tx(Duration::from_secs(5)).await.unwrap();
        let scope = DbScope::Tx(Arc::new(tx));
        insert(&scope, 1).await;
        let db2 = db.clone();
        let waiting = tokio::spawn(async move { insert(&DbScope::Pool(db2), 9).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "a plain write waits for the open transaction");
        drop(scope);
        waiting.await.unwrap();
        let rows: Vec<i64> = db
            .read(|c| {
                let mut s = c.prepare("SELECT v FROM t")?;
                let v = s.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
                Ok(v)
            })
            .await
            .unwrap();
        assert_eq!(rows, vec![9]);
    }

    #[tokio::test]
    async fn a_transaction_past_its_deadline_rolls_back() {
        let (_d, db) = temp_db();
        let tx = Arc::new(db.begin_write_tx(Duration::from_millis(30)).await.unwrap());
        insert(&DbScope::Tx(tx.clone()), 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(tx.commit().await.is_err());
        insert(&DbScope::Pool(db.clone()), 2).await;
        assert_eq!(count(&db).await, 1);
    }
}
