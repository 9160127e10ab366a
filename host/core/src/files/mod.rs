//! Record files: name normalisation, content sniffing and the storage behind them.
//!
//! Storage is reached only through [`FileStorage`], so another backend (S3) can be added
//! without touching the record write path or the HTTP layer.

pub mod download;
pub mod local;
pub mod mime;
pub mod names;
pub mod serve;

use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use crate::App;

/// What is stored next to a file's content.
#[derive(Debug, Clone, PartialEq)]
pub struct FileMeta {
    /// The sniffed content type (e.g. `text/plain; charset=utf-8`).
    pub content_type: String,
    /// The client's file name, kept as metadata (`original-filename`).
    pub original_name: String,
}

/// A stored file read back for serving.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub content: Vec<u8>,
    pub content_type: String,
    pub modified: SystemTime,
}

/// A file storage addressed by slash-separated keys (`<collectionId>/<recordId>/<name>`).
pub trait FileStorage: Send + Sync {
    fn upload(&self, key: &str, content: &[u8], meta: &FileMeta) -> io::Result<()>;
    /// `Ok(None)` when the key does not exist.
    fn read(&self, key: &str) -> io::Result<Option<StoredFile>>;
    /// Deleting a missing key is not an error.
    fn delete(&self, key: &str) -> io::Result<()>;
    /// Deletes every key under `prefix` (a "directory" ending with `/`).
    fn delete_prefix(&self, prefix: &str) -> io::Result<()>;
}

/// The storage configured for the app (local `pb_data/storage`).
pub fn storage(app: &App) -> Arc<dyn FileStorage> {
    Arc::new(local::LocalStorage::new(app.opts.data_dir.join("storage")))
}

/// The storage "directory" of a record's files.
pub fn record_dir(collection_id: &str, record_id: &str) -> String {
    format!("{collection_id}/{record_id}/")
}

pub fn record_file_key(collection_id: &str, record_id: &str, name: &str) -> String {
    format!("{collection_id}/{record_id}/{name}")
}

/// A file received from the client, not yet stored.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub original_name: String,
    pub content: Arc<Vec<u8>>,
}

/// An upload accepted into a record value: the normalised name it will be stored under.
#[derive(Debug, Clone)]
pub struct PendingUpload {
    pub field: String,
    pub name: String,
    pub original_name: String,
    pub content_type: String,
    pub content: Arc<Vec<u8>>,
}

impl PendingUpload {
    /// Sniffs the content and picks the stored name for a client file.
    pub fn new(field: &str, input: &InputFile) -> Self {
        let sniffed = mime::sniff(&input.content);
        Self {
            field: field.to_string(),
            name: names::normalize_file_name(&input.original_name, sniffed.extension),
            original_name: input.original_name.clone(),
            content_type: sniffed.content_type.to_string(),
            content: input.content.clone(),
        }
    }

    pub fn size(&self) -> usize {
        self.content.len()
    }
}
