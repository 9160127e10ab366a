//! Backups of `pb_data` as PocketBase makes them (`/api/backups`, the `backups` settings): a
//! zip of the data directory (without the backups themselves and temp dirs), stored in
//! `pb_data/backups` or in the S3 bucket of `backups.s3`.
//!
//! Creating one holds the writer connection (after a WAL checkpoint), so the archive is a
//! consistent copy; restoring extracts the archive next to the live data, swaps the two and
//! restarts the process, as PocketBase does (the old data is removed on the next start).

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::files::backend::S3Config;
use crate::files::local::LocalStorage;
use crate::files::{FileMeta, FileSource, FileStorage};
use crate::hooks::{self, HookAction};
use crate::{ApiError, ApiResult, App};

pub const BACKUPS_DIR: &str = "backups";
/// Scratch space inside pb_data (same device, so renames work); emptied at start-up.
pub const TEMP_DIR: &str = ".pb_temp_to_delete";
/// pb_data entries never put into a backup.
const EXCLUDED_FROM_BACKUP: [&str; 5] = [BACKUPS_DIR, TEMP_DIR, ".notify", ".autocert_cache", "lost+found"];
/// pb_data entries a restore leaves in place (the backups and the temp dir always stay).
const KEPT_ON_RESTORE: [&str; 4] = [BACKUPS_DIR, TEMP_DIR, ".autocert_cache", "lost+found"];

/// The backup or restore in progress (PocketBase's `@activeBackup` store key): one at a time.
#[derive(Default)]
pub struct ActiveBackup(Mutex<Option<String>>);

impl ActiveBackup {
    pub fn name(&self) -> Option<String> {
        self.0.lock().clone()
    }

    fn start(&self, name: &str) -> Option<ActiveGuard<'_>> {
        let mut g = self.0.lock();
        if g.is_some() {
            return None;
        }
        *g = Some(name.to_string());
        Some(ActiveGuard(self))
    }
}

struct ActiveGuard<'a>(&'a ActiveBackup);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        *self.0 .0.lock() = None;
    }
}

/// Where backups are kept: the `backups.s3` bucket when enabled, `pb_data/backups` otherwise.
pub fn storage(app: &App) -> io::Result<Arc<dyn FileStorage>> {
    match S3Config::from_settings(&app.settings()["backups"]["s3"]) {
        Some(config) => app.storages.connect_s3(&config),
        None => Ok(Arc::new(LocalStorage::new(app.opts.data_dir.join(BACKUPS_DIR)))),
    }
}

/// One backup as `GET /api/backups` lists it.
pub fn list(app: &App) -> io::Result<Vec<Value>> {
    Ok(storage(app)?
        .list("")?
        .into_iter()
        .map(|f| json!({"key": f.key, "size": f.size, "modified": crate::util::format_date(DateTime::<Utc>::from(f.modified))}))
        .collect())
}

/// `[a-z0-9_-]+\.zip`, PocketBase's rule for backup names given by a client.
pub fn valid_name(name: &str) -> bool {
    name.strip_suffix(".zip").is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'))
}

/// `<prefix><app_name_in_snake_case>_<UTC yyyymmddhhmmss>.zip`.
pub fn generate_name(app: &App, prefix: &str) -> String {
    let settings = app.settings();
    let raw = settings["meta"]["appName"].as_str().unwrap_or_default();
    let mut snake = String::new();
    for (i, ch) in raw.chars().enumerate() {
        if ch.is_ascii_alphanumeric() {
            if ch.is_ascii_uppercase() && i > 0 && !snake.ends_with('_') && raw.chars().nth(i - 1).is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                snake.push('_');
            }
            snake.push(ch.to_ascii_lowercase());
        } else if !snake.is_empty() && !snake.ends_with('_') {
            snake.push('_');
        }
    }
    let snake: String = snake.trim_end_matches('_').chars().take(50).collect();
    format!("{prefix}{snake}_{}.zip", Utc::now().format("%Y%m%d%H%M%S"))
}

fn temp_dir(app: &App) -> io::Result<PathBuf> {
    let dir = app.opts.data_dir.join(TEMP_DIR);
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Removes what a previous restore left behind (called at start-up).
pub fn clean_temp(data_dir: &Path) {
    let _ = fs::remove_dir_all(data_dir.join(TEMP_DIR));
}

/// Creates backup `name` (generated when empty) inside the `onBackupCreate` hooks (`e.name`,
/// `e.exclude`: handlers may change both). Errors are PocketBase's wording.
pub async fn create(app: &Arc<App>, name: &str) -> ApiResult<String> {
    let _active = app.active_backup.start(name).ok_or_else(|| ApiError::bad_request("Try again later - another backup/restore process has already been started"))?;
    let event = || json!({"name": name, "exclude": EXCLUDED_FROM_BACKUP});
    let a = app.clone();
    let action: HookAction = Box::new(move |ev| {
        Box::pin(async move {
            let requested = ev["name"].as_str().unwrap_or_default();
            let name = if requested.is_empty() { generate_name(&a, "pb_backup_") } else { requested.to_string() };
            let exclude: Vec<String> = ev["exclude"].as_array().map(|x| x.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
            write_backup(&a, &name, exclude).await?;
            let mut ev = ev;
            ev["name"] = Value::String(name);
            Ok(ev)
        })
    });
    let ev = match app.hooks.subscribed(&[CREATE_HOOK], &[]) {
        Some(d) => hooks::around(&d, CREATE_HOOK, &[], event, action).await?,
        None => action(event()).await?,
    };
    Ok(ev["name"].as_str().unwrap_or_default().to_string())
}

pub const CREATE_HOOK: &str = "backup-create";
pub const RESTORE_HOOK: &str = "backup-restore";

async fn write_backup(app: &App, name: &str, exclude: Vec<String>) -> ApiResult<()> {
    let fail = |e: String| {
        tracing::error!("backup {name}: {e}");
        ApiError::bad_request("Failed to create backup.")
    };
    let tmp = tempfile::NamedTempFile::new_in(temp_dir(app).map_err(|e| fail(e.to_string()))?).map_err(|e| fail(e.to_string()))?;
    let (file, path) = tmp.into_parts();
    // the aux db is checkpointed separately (logs written meanwhile are not worth blocking for)
    let _ = app.aux.write(|conn| Ok(conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?)).await;
    let data_dir = app.opts.data_dir.clone();
    app.data
        .write(move |conn| {
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            archive(&data_dir, file, &exclude).map_err(|e| {
                tracing::error!("backup archive: {e}");
                ApiError::bad_request("Failed to create backup.")
            })
        })
        .await?;
    let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let source = FileSource::Temp { path: Arc::new(path), size };
    let meta = FileMeta { content_type: "application/zip".into(), original_name: name.to_string() };
    let store = storage(app).map_err(|e| fail(e.to_string()))?;
    let key = name.to_string();
    tokio::task::spawn_blocking(move || store.upload(&key, &source, &meta))
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| fail(e.to_string()))
}

/// Name prefix of the scheduled backups (only these are rotated).
pub const AUTO_PREFIX: &str = "@auto_pb_backup_";

/// The `backups.cron` job: a new `@auto_pb_backup_…` backup, then the oldest automatic ones
/// beyond `backups.cronMaxKeep` are deleted.
pub async fn auto_backup(app: &Arc<App>) -> ApiResult<()> {
    let name = generate_name(app, AUTO_PREFIX);
    create(app, &name).await?;
    let keep = app.settings()["backups"]["cronMaxKeep"].as_u64().unwrap_or(3).max(1) as usize;
    let store = storage(app).map_err(|e| ApiError::internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut autos: Vec<_> = store.list(AUTO_PREFIX)?;
        autos.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| b.key.cmp(&a.key)));
        for old in autos.into_iter().skip(keep) {
            store.delete(&old.key)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::internal(format!("failed to rotate the automatic backups: {e}")))
}

/// Zips `data_dir` (minus the top-level entries in `exclude`) into `out`.
fn archive(data_dir: &Path, out: fs::File, exclude: &[String]) -> io::Result<()> {
    let mut zip = zip::ZipWriter::new(io::BufWriter::new(out));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(data_dir.join(&rel))?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries.into_iter().rev() {
            let name = entry.file_name();
            if rel.as_os_str().is_empty() && exclude.iter().any(|x| name == x.as_str()) {
                continue;
            }
            let child = rel.join(&name);
            let key = child.to_string_lossy().replace('\\', "/");
            let kind = entry.file_type()?;
            if kind.is_dir() {
                zip.add_directory(format!("{key}/"), options).map_err(io::Error::other)?;
                stack.push(child);
            } else if kind.is_file() {
                zip.start_file(key, options).map_err(io::Error::other)?;
                io::copy(&mut fs::File::open(entry.path())?, &mut zip)?;
            }
        }
    }
    zip.finish().map_err(io::Error::other)?.flush()
}

/// Restores backup `name` inside the `onBackupRestore` hooks (`e.name`, `e.exclude` = the
/// pb_data entries left in place) and restarts the process (`restart` runs once the data is
/// in place; it does not return when it succeeds). On failure the old data is put back.
pub async fn restore(app: &Arc<App>, name: &str, restart: fn() -> io::Error) -> ApiResult<()> {
    let _active = app.active_backup.start(name).ok_or_else(|| ApiError::bad_request("try again later - another backup/restore operation has already been started"))?;
    let event = || json!({"name": name, "exclude": KEPT_ON_RESTORE});
    let a = app.clone();
    let action: HookAction = Box::new(move |ev| {
        Box::pin(async move {
            let name = ev["name"].as_str().unwrap_or_default().to_string();
            let keep: Vec<String> = ev["exclude"].as_array().map(|x| x.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
            tokio::task::spawn_blocking(move || swap_in_backup(&a, &name, &keep, restart))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?
                .map_err(ApiError::internal)?;
            Ok(ev)
        })
    });
    match app.hooks.subscribed(&[RESTORE_HOOK], &[]) {
        Some(d) => hooks::around(&d, RESTORE_HOOK, &[], event, action).await.map(|_| ()),
        None => action(event()).await.map(|_| ()),
    }
}

fn swap_in_backup(app: &App, name: &str, keep: &[String], restart: fn() -> io::Error) -> Result<(), String> {
    let keep: Vec<&str> = keep.iter().map(String::as_str).chain([BACKUPS_DIR, TEMP_DIR]).collect();
    let data_dir = app.opts.data_dir.clone();
    let temp = temp_dir(app).map_err(|e| e.to_string())?;
    let store = storage(app).map_err(|e| e.to_string())?;
    let Some(mut opened) = store.open(name).map_err(|e| e.to_string())? else {
        return Err(format!("missing or invalid backup file {name:?} to restore"));
    };
    // a local copy: the zip reader needs to seek, and S3 reads are ranged requests
    let mut copy = tempfile::tempfile_in(&temp).map_err(|e| e.to_string())?;
    io::copy(&mut opened.reader, &mut copy).map_err(|e| e.to_string())?;
    let extracted = temp.join(format!("pb_restore_{}", crate::util::random_string(8, crate::util::LOWER_ALPHANUMERIC)));
    zip::ZipArchive::new(copy).and_then(|mut z| z.extract(&extracted)).map_err(|e| format!("failed to extract the backup: {e}"))?;
    if !extracted.join("data.db").is_file() {
        let _ = fs::remove_dir_all(&extracted);
        return Err("the backup has no data.db".into());
    }
    let old = temp.join(format!("old_pb_data_{}", crate::util::random_string(8, crate::util::LOWER_ALPHANUMERIC)));
    fs::create_dir_all(&old).map_err(|e| e.to_string())?;
    let moved = move_entries(&data_dir, &old, &keep).and_then(|_| move_entries(&extracted, &data_dir, &[]));
    if let Err(e) = moved {
        // put the old data back
        let _ = move_entries(&data_dir, &extracted, &keep);
        let _ = move_entries(&old, &data_dir, &[]);
        return Err(format!("failed to move the restored data in place: {e}"));
    }
    let _ = fs::remove_dir_all(&extracted);
    Err(format!("failed to restart: {}", restart()))
}

/// Moves every entry of `from` (except `keep`) into `to`.
fn move_entries(from: &Path, to: &Path, keep: &[&str]) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if keep.iter().any(|k| name == *k) {
            continue;
        }
        fs::rename(entry.path(), to.join(&name))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("test_1-a.zip"));
        for bad in ["", ".zip", "Test.zip", "a.tar", "../a.zip", "@a.zip"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn archive_leaves_out_backups_and_temp_dirs() {
        let dir = tempfile::tempdir().unwrap();
        for (p, body) in [("data.db", "d"), ("storage/c1/r1/a.txt", "a"), ("backups/old.zip", "x"), (".pb_temp_to_delete/t", "t")] {
            let path = dir.path().join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, body).unwrap();
        }
        let out = tempfile::NamedTempFile::new().unwrap();
        archive(dir.path(), out.reopen().unwrap(), &EXCLUDED_FROM_BACKUP.map(String::from)).unwrap();
        let z = zip::ZipArchive::new(fs::File::open(out.path()).unwrap()).unwrap();
        let mut names: Vec<_> = z.file_names().map(str::to_string).collect();
        names.sort();
        assert_eq!(names, ["data.db", "storage/", "storage/c1/", "storage/c1/r1/", "storage/c1/r1/a.txt"]);
    }
}
