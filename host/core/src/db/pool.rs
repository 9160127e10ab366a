use crossbeam_channel::{unbounded, Sender};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;

use crate::error::{ApiError, ApiResult};

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
pub(super) type WriteJob = Box<dyn FnOnce(&mut Connection) + Send>;

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub readers: usize,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { readers: 4 }
    }
}

/// Handle to one SQLite database file (cheap to clone).
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
}

struct DbInner {
    path: PathBuf,
    read_tx: Sender<ReadJob>,
    write_tx: Sender<WriteJob>,
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    super::apply_pragmas(&conn)?;
    Ok(conn)
}

impl Db {
    pub fn open(path: impl AsRef<Path>, opts: DbOptions) -> ApiResult<Self> {
        let path = path.as_ref().to_path_buf();
        // Open the writer first so the file and WAL mode exist before readers attach.
        let mut writer = open(&path).map_err(|e| ApiError::internal(format!("open {}: {e}", path.display())))?;
        let (write_tx, write_rx) = unbounded::<WriteJob>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                for job in write_rx {
                    job(&mut writer);
                    // publish the record changes this job committed (realtime)
                    crate::realtime::capture::flush();
                }
            })
            .map_err(|e| ApiError::internal(e.to_string()))?;

        let (read_tx, read_rx) = unbounded::<ReadJob>();
        for i in 0..opts.readers.max(1) {
            let conn = open(&path).map_err(|e| ApiError::internal(format!("open reader: {e}")))?;
            let rx = read_rx.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || {
                    for job in rx {
                        job(&conn);
                    }
                })
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        Ok(Self { inner: Arc::new(DbInner { path, read_tx, write_tx }) })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a reader connection.
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.inner.read_tx.send(job).map_err(|_| ApiError::internal("database is closed"))?;
        rx.await.map_err(|_| ApiError::internal("database worker stopped"))?
    }

    /// Runs `f` on the single writer connection (writes are serialised, as in PocketBase).
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> ApiResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: WriteJob = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.inner.write_tx.send(job).map_err(|_| ApiError::internal("database is closed"))?;
        rx.await.map_err(|_| ApiError::internal("database worker stopped"))?
    }

    /// Queues a job on the writer thread without waiting for it (see `WriteTx`).
    pub(super) fn send_write_job(&self, job: WriteJob) -> ApiResult<()> {
        self.inner.write_tx.send(job).map_err(|_| ApiError::internal("database is closed"))
    }

    /// Blocking variant of [`Db::write`] for the CLI and start-up (not for async contexts).
    pub fn write_blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> ApiResult<T> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let job: WriteJob = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.inner.write_tx.send(job).map_err(|_| ApiError::internal("database is closed"))?;
        rx.recv().map_err(|_| ApiError::internal("database worker stopped"))?
    }

    /// Blocking variant of [`Db::read`].
    pub fn read_blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let job: ReadJob = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.inner.read_tx.send(job).map_err(|_| ApiError::internal("database is closed"))?;
        rx.recv().map_err(|_| ApiError::internal("database worker stopped"))?
    }
}
