//! Which [`FileStorage`] serves the app: local `pb_data/storage`, or S3 when the settings'
//! `s3` block is enabled. The choice is made from the current settings on every use, so a
//! `PATCH /api/settings` switches backends at once.
//!
//! The S3 client itself lives in another crate (the AWS stack stays out of the core); the
//! server registers it as an [`S3Connector`] at start-up.

use parking_lot::Mutex;
use serde_json::Value;
use std::io;
use std::sync::{Arc, OnceLock};

use super::{local::LocalStorage, FileMeta, FileSource, FileStorage, StoredFile};
use crate::App;

/// The `s3` settings block (also `backups.s3`) of an enabled S3 storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    pub endpoint: String,
    pub access_key: String,
    pub secret: String,
    pub force_path_style: bool,
}

impl S3Config {
    /// `None` unless the block has `"enabled": true`.
    pub fn from_settings(block: &Value) -> Option<Self> {
        if block["enabled"].as_bool() != Some(true) {
            return None;
        }
        let text = |k: &str| block[k].as_str().unwrap_or_default().to_string();
        Some(Self {
            bucket: text("bucket"),
            region: text("region"),
            endpoint: text("endpoint"),
            access_key: text("accessKey"),
            secret: text("secret"),
            force_path_style: block["forcePathStyle"].as_bool().unwrap_or(false),
        })
    }
}

/// Builds S3 storages (implemented outside the core).
pub trait S3Connector: Send + Sync {
    fn connect(&self, config: &S3Config) -> io::Result<Arc<dyn FileStorage>>;
}

/// The app's storage backends: the registered S3 connector and the S3 client built for the
/// current settings (clients are reused until the settings change).
#[derive(Default)]
pub struct Storages {
    connector: OnceLock<Arc<dyn S3Connector>>,
    current_s3: Mutex<Option<(S3Config, Arc<dyn FileStorage>)>>,
}

impl Storages {
    /// Registers the S3 implementation (once, at start-up).
    pub fn set_s3_connector(&self, connector: Arc<dyn S3Connector>) {
        let _ = self.connector.set(connector);
    }

    /// A new S3 storage for `config` (not cached; used by the connection test).
    pub fn connect_s3(&self, config: &S3Config) -> io::Result<Arc<dyn FileStorage>> {
        let connector = self.connector.get().ok_or_else(|| io::Error::other("S3 storage is not available in this build"))?;
        connector.connect(config)
    }

    fn s3(&self, config: &S3Config) -> io::Result<Arc<dyn FileStorage>> {
        let mut current = self.current_s3.lock();
        if let Some((c, s)) = current.as_ref() {
            if c == config {
                return Ok(s.clone());
            }
        }
        let storage = self.connect_s3(config)?;
        *current = Some((config.clone(), storage.clone()));
        Ok(storage)
    }
}

/// The storage configured for the app right now.
pub fn storage(app: &App) -> Arc<dyn FileStorage> {
    match S3Config::from_settings(&app.settings()["s3"]) {
        None => Arc::new(LocalStorage::new(app.opts.data_dir.join("storage"))),
        Some(config) => app.storages.s3(&config).unwrap_or_else(|e| Arc::new(Unavailable(e.to_string()))),
    }
}

/// PocketBase's S3 connection check (`POST /api/settings/test/s3`): upload a test file and
/// delete its prefix again. `filesystem` is `storage` or `backups`. The error is the text
/// PocketBase puts after "Raw error:".
pub fn test_s3(app: &App, filesystem: &str) -> Result<(), String> {
    let settings = app.settings();
    let block = if filesystem == "backups" { &settings["backups"]["s3"] } else { &settings["s3"] };
    let config = S3Config::from_settings(block).ok_or("S3 storage filesystem is not enabled")?;
    let storage = app.storages.connect_s3(&config).map_err(|e| format!("failed to initialize the S3 filesystem: {e}"))?;
    let prefix = format!("pb_settings_test_{}", crate::util::random_string(5, crate::util::ALPHANUMERIC));
    let meta = FileMeta { content_type: "text/plain; charset=utf-8".into(), original_name: String::new() };
    storage
        .upload(&format!("{prefix}/test.txt"), &FileSource::memory(b"test".to_vec()), &meta)
        .map_err(|e| format!("failed to upload a test file: {e}"))?;
    storage.delete_prefix(&prefix).map_err(|e| format!("failed to delete a test file: {e}"))
}

/// Stands in for an S3 storage that could not be built: every operation fails with why.
struct Unavailable(String);

impl Unavailable {
    fn err<T>(&self) -> io::Result<T> {
        Err(io::Error::other(self.0.clone()))
    }
}

impl FileStorage for Unavailable {
    fn upload(&self, _: &str, _: &FileSource, _: &FileMeta) -> io::Result<()> {
        self.err()
    }
    fn read(&self, _: &str) -> io::Result<Option<StoredFile>> {
        self.err()
    }
    fn exists(&self, _: &str) -> io::Result<bool> {
        self.err()
    }
    fn delete(&self, _: &str) -> io::Result<()> {
        self.err()
    }
    fn delete_prefix(&self, _: &str) -> io::Result<()> {
        self.err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn config_only_when_enabled() {
        assert_eq!(S3Config::from_settings(&json!({"enabled": false, "bucket": "b"})), None);
        assert_eq!(S3Config::from_settings(&Value::Null), None);
        let c = S3Config::from_settings(&json!({"enabled": true, "bucket": "b", "region": "r", "endpoint": "e", "accessKey": "k", "secret": "s", "forcePathStyle": true})).unwrap();
        assert_eq!((c.bucket.as_str(), c.access_key.as_str(), c.secret.as_str(), c.force_path_style), ("b", "k", "s", true));
    }

    struct CountingConnector(AtomicUsize);

    impl S3Connector for CountingConnector {
        fn connect(&self, config: &S3Config) -> io::Result<Arc<dyn FileStorage>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Arc::new(Unavailable(config.bucket.clone())))
        }
    }

    #[test]
    fn clients_are_reused_until_the_config_changes() {
        let storages = Storages::default();
        let cfg = S3Config::from_settings(&json!({"enabled": true, "bucket": "one"})).unwrap();
        assert!(storages.s3(&cfg).is_err(), "no connector registered");
        let connector = Arc::new(CountingConnector(AtomicUsize::new(0)));
        storages.set_s3_connector(connector.clone());
        let a = storages.s3(&cfg).unwrap();
        let b = storages.s3(&cfg).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(connector.0.load(Ordering::SeqCst), 1);
        let other = S3Config { bucket: "two".into(), ..cfg };
        storages.s3(&other).unwrap();
        assert_eq!(connector.0.load(Ordering::SeqCst), 2);
    }
}
