//! Record files: name normalisation, content sniffing and the storage behind them.
//!
//! Storage is reached only through [`FileStorage`]; [`backend`] picks local disk or S3 from the
//! current settings, so the record write path and the HTTP layer do not know which.

pub mod backend;
pub mod download;
pub mod local;
pub mod mime;
pub mod names;
pub mod serve;
pub mod thumbs;

use std::io::{self, Read, Seek};
use std::sync::Arc;
use std::time::SystemTime;


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

/// A readable, seekable stored file.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// A stored file opened for streaming (ranges seek instead of loading everything).
pub struct OpenedFile {
    pub reader: Box<dyn ReadSeek>,
    pub size: u64,
    pub content_type: String,
    pub modified: SystemTime,
}

/// A file storage addressed by slash-separated keys (`<collectionId>/<recordId>/<name>`).
pub trait FileStorage: Send + Sync {
    fn upload(&self, key: &str, content: &FileSource, meta: &FileMeta) -> io::Result<()>;
    /// `Ok(None)` when the key does not exist.
    fn read(&self, key: &str) -> io::Result<Option<StoredFile>>;
    fn exists(&self, key: &str) -> io::Result<bool>;
    /// Opens a file for streaming; by default it is read whole.
    fn open(&self, key: &str) -> io::Result<Option<OpenedFile>> {
        Ok(self.read(key)?.map(|f| OpenedFile {
            size: f.content.len() as u64,
            reader: Box::new(io::Cursor::new(f.content)),
            content_type: f.content_type,
            modified: f.modified,
        }))
    }
    /// Deleting a missing key is not an error.
    fn delete(&self, key: &str) -> io::Result<()>;
    /// Deletes every key under `prefix` (a "directory" ending with `/`).
    fn delete_prefix(&self, prefix: &str) -> io::Result<()>;
    /// Every stored file whose key starts with `prefix`, sorted by key (backups listing).
    fn list(&self, prefix: &str) -> io::Result<Vec<ListedFile>> {
        let _ = prefix;
        Err(io::Error::new(io::ErrorKind::Unsupported, "listing is not supported by this storage"))
    }
}

/// One entry of [`FileStorage::list`].
#[derive(Debug, Clone)]
pub struct ListedFile {
    pub key: String,
    pub size: u64,
    pub modified: SystemTime,
}

pub use backend::storage;

/// The storage "directory" of a record's files.
pub fn record_dir(collection_id: &str, record_id: &str) -> String {
    format!("{collection_id}/{record_id}/")
}

pub fn record_file_key(collection_id: &str, record_id: &str, name: &str) -> String {
    format!("{collection_id}/{record_id}/{name}")
}

/// File content waiting to be stored: small files in memory, large uploads in a temp file
/// (removed when the last handle is dropped).
#[derive(Debug, Clone)]
pub enum FileSource {
    Memory(Arc<Vec<u8>>),
    Temp { path: Arc<tempfile::TempPath>, size: u64 },
}

/// How many leading bytes content sniffing looks at for spooled files.
pub const SNIFF_LEN: usize = 3072;

impl FileSource {
    pub fn memory(content: Vec<u8>) -> Self {
        FileSource::Memory(Arc::new(content))
    }

    pub fn len(&self) -> u64 {
        match self {
            FileSource::Memory(c) => c.len() as u64,
            FileSource::Temp { size, .. } => *size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes content sniffing looks at: everything in memory, the head of a temp file.
    pub fn sniff_sample(&self) -> Vec<u8> {
        match self {
            FileSource::Memory(c) => c.to_vec(),
            FileSource::Temp { path, .. } => {
                let mut buf = Vec::with_capacity(SNIFF_LEN);
                if let Ok(f) = std::fs::File::open(path.as_ref() as &std::path::Path) {
                    let _ = f.take(SNIFF_LEN as u64).read_to_end(&mut buf);
                }
                buf
            }
        }
    }

    pub fn reader(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            FileSource::Memory(c) => Box::new(io::Cursor::new(ArcBytes(c.clone()))),
            FileSource::Temp { path, .. } => Box::new(io::BufReader::with_capacity(256 << 10, std::fs::File::open(path.as_ref() as &std::path::Path)?)),
        })
    }
}

struct ArcBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A file received from the client, not yet stored.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub original_name: String,
    pub content: FileSource,
}

/// An upload accepted into a record value: the normalised name it will be stored under.
#[derive(Debug, Clone)]
pub struct PendingUpload {
    pub field: String,
    pub name: String,
    pub original_name: String,
    pub content_type: String,
    pub content: FileSource,
}

impl PendingUpload {
    /// Sniffs the content and picks the stored name for a client file.
    pub fn new(field: &str, input: &InputFile) -> Self {
        let sniffed = mime::sniff(&input.content.sniff_sample());
        Self {
            field: field.to_string(),
            name: names::normalize_file_name(&input.original_name, sniffed.extension),
            original_name: input.original_name.clone(),
            content_type: sniffed.content_type.to_string(),
            content: input.content.clone(),
        }
    }

    pub fn size(&self) -> usize {
        self.content.len() as usize
    }
}
