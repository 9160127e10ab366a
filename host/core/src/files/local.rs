//! Local-disk storage compatible with PocketBase's `pb_data/storage` layout: the content at
//! `<root>/<key>` and a JSON `<key>.attrs` sidecar (gocloud fileblob format).

use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use super::{FileMeta, FileSource, FileStorage, ListedFile, OpenedFile, StoredFile};

const ATTRS_EXT: &str = ".attrs";
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Maps a key to a path under the root, refusing anything that could escape it.
    fn path_of(&self, key: &str) -> io::Result<PathBuf> {
        let rel = Path::new(key.trim_start_matches('/'));
        let safe = !key.contains('\\') && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !safe || key.ends_with(ATTRS_EXT) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid storage key {key:?}")));
        }
        Ok(self.root.join(rel))
    }
}

fn attrs_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(ATTRS_EXT);
    PathBuf::from(s)
}

/// The sidecar JSON exactly as Go's encoder writes it (HTML-escaped, trailing newline).
fn attrs_json(md5: &[u8], meta: &FileMeta) -> String {
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5);
    // thumbs are written without metadata (`null` in the sidecar)
    let metadata = if meta.original_name.is_empty() { Value::Null } else { json!({"original-filename": meta.original_name}) };
    let v = json!({
        "user.cache_control": "",
        "user.content_disposition": "",
        "user.content_encoding": "",
        "user.content_language": "",
        "user.content_type": meta.content_type,
        "user.metadata": metadata,
        "md5": md5,
    });
    let text = v.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    format!("{text}\n")
}

fn ignore_not_found(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Writes through a temporary file so readers never see a partial file; returns the MD5 of
/// what was written.
fn write_atomic(path: &Path, content: &mut dyn Read) -> io::Result<Vec<u8>> {
    let tmp = {
        let mut s = path.as_os_str().to_owned();
        s.push(format!(".tmp{}", crate::util::random_string(8, crate::util::LOWER_ALPHANUMERIC)));
        PathBuf::from(s)
    };
    let result = (|| {
        let mut out = io::BufWriter::with_capacity(256 << 10, fs::File::create(&tmp)?);
        let mut hasher = Md5::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = content.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
        }
        out.flush()?;
        fs::rename(&tmp, path)?;
        Ok(hasher.finalize().to_vec())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

impl FileStorage for LocalStorage {
    fn upload(&self, key: &str, content: &FileSource, meta: &FileMeta) -> io::Result<()> {
        let path = self.path_of(key)?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let md5 = write_atomic(&path, &mut content.reader()?)?;
        write_atomic(&attrs_path(&path), &mut attrs_json(&md5, meta).as_bytes()).map(|_| ())
    }

    fn exists(&self, key: &str) -> io::Result<bool> {
        Ok(self.path_of(key)?.is_file())
    }

    fn read(&self, key: &str) -> io::Result<Option<StoredFile>> {
        let Some(mut f) = self.open(key)? else { return Ok(None) };
        let mut content = Vec::with_capacity(f.size as usize);
        f.reader.read_to_end(&mut content)?;
        Ok(Some(StoredFile { content, content_type: f.content_type, modified: f.modified }))
    }

    fn open(&self, key: &str) -> io::Result<Option<OpenedFile>> {
        let path = self.path_of(key)?;
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(None);
        }
        let content_type = fs::read(attrs_path(&path))
            .ok()
            .and_then(|raw| serde_json::from_slice::<Value>(&raw).ok())
            .and_then(|v| v.get("user.content_type").and_then(Value::as_str).map(str::to_string))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
        Ok(Some(OpenedFile { reader: Box::new(io::BufReader::with_capacity(64 << 10, file)), size: meta.len(), content_type, modified: meta.modified()? }))
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        let path = self.path_of(key)?;
        ignore_not_found(fs::remove_file(&path))?;
        ignore_not_found(fs::remove_file(attrs_path(&path)))
    }

    fn delete_prefix(&self, prefix: &str) -> io::Result<()> {
        let trimmed = prefix.trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "refusing to delete the storage root"));
        }
        let path = self.path_of(trimmed)?;
        ignore_not_found(fs::remove_dir_all(path))
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<ListedFile>> {
        let mut out = vec![];
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let meta = entry.metadata()?;
                if meta.is_dir() {
                    dirs.push(entry.path());
                    continue;
                }
                let Ok(rel) = entry.path().strip_prefix(&self.root).map(|p| p.to_string_lossy().replace('\\', "/")) else { continue };
                if rel.ends_with(ATTRS_EXT) || !rel.starts_with(prefix) {
                    continue;
                }
                out.push(ListedFile { key: rel, size: meta.len(), modified: meta.modified()? });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> FileMeta {
        FileMeta { content_type: "text/plain; charset=utf-8".into(), original_name: "My <Doc>.txt".into() }
    }

    #[test]
    fn upload_read_delete_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStorage::new(dir.path().to_path_buf());
        s.upload("c1/r1/a.txt", &FileSource::memory(b"hello world".to_vec()), &meta()).unwrap();
        let f = s.read("c1/r1/a.txt").unwrap().unwrap();
        assert_eq!(f.content, b"hello world");
        assert_eq!(f.content_type, "text/plain; charset=utf-8");
        let attrs = fs::read_to_string(dir.path().join("c1/r1/a.txt.attrs")).unwrap();
        assert_eq!(
            attrs,
            "{\"user.cache_control\":\"\",\"user.content_disposition\":\"\",\"user.content_encoding\":\"\",\"user.content_language\":\"\",\"user.content_type\":\"text/plain; charset=utf-8\",\"user.metadata\":{\"original-filename\":\"My \\u003cDoc\\u003e.txt\"},\"md5\":\"XrY7u+Ae7tCTyyK7j1rNww==\"}\n"
        );
        s.delete("c1/r1/a.txt").unwrap();
        assert!(s.read("c1/r1/a.txt").unwrap().is_none());
        s.delete("c1/r1/a.txt").unwrap();
        s.upload("c1/r1/b.txt", &FileSource::memory(b"x".to_vec()), &meta()).unwrap();
        s.delete_prefix("c1/r1/").unwrap();
        assert!(!dir.path().join("c1/r1").exists());
    }

    #[test]
    fn keys_cannot_escape_the_root() {
        let s = LocalStorage::new(PathBuf::from("/tmp/nowhere"));
        assert!(s.read("../etc/passwd").is_err());
        assert!(s.read("c/r/x.attrs").is_err());
        assert!(s.delete_prefix("/").is_err());
    }
}
