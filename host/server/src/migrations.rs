//! PocketBase's migrations runner over `pb_migrations/*.js`: `serve` and `migrate up` apply
//! the pending ones, `migrate down [N]` reverts the last applied ones, `history-sync`
//! forgets deleted files. Like PocketBase, one run happens in ONE database transaction:
//! a failing migration rolls back every migration of the run (and their `_migrations`
//! rows). The JS runs on the embedded runtime (`pocketbun_wasm::JsMigrations`); its host
//! calls go through the same writer connection, whose open transaction they join.

use pocketbun_core::migrations::history;
use pocketbun_core::store::init::SYSTEM_MIGRATIONS;
use pocketbun_core::db::{DbScope, WriteTx};
use pocketbun_core::App;
use std::time::Duration;
use pocketbun_wasm::{migration_files, CoreError, JsMigrations};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::GlobalFlags;
use crate::plugins::CoreBridge;

/// `--migrationsDir`, default `<dir>/../pb_migrations`, lexically cleaned like Go's
/// `filepath.Join` (the path shows up in messages).
pub fn migrations_dir(g: &GlobalFlags) -> PathBuf {
    g.migrations_dir.clone().unwrap_or_else(|| clean(&g.dir.join("..").join("pb_migrations")))
}

/// Go's `filepath.Clean` for the cases that matter here: `.` dropped, `x/..` folded.
fn clean(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

pub struct Runner {
    app: Arc<App>,
    js: Option<JsMigrations>,
    /// The run's transaction, between [`Runner::begin`] and [`Runner::finish`].
    tx: Option<Arc<WriteTx>>,
}

/// `serve`: applies the pending migrations or fails start-up.
pub async fn run_pending(g: &GlobalFlags, app: &Arc<App>) -> Result<Vec<String>, String> {
    let mut runner = Runner::load(g, app).await?;
    runner.up().await
}

/// "message: details" for an error from a migration (validation details flattened to
/// `key.sub: message` pairs).
fn describe(e: &CoreError) -> String {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) if m.contains_key("message") && m.contains_key("code") => {
                out.push(format!("{prefix}: {}", m["message"].as_str().unwrap_or_default()));
            }
            Value::Object(m) => {
                for (k, v) in m {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&p, v, out);
                }
            }
            _ => {}
        }
    }
    let mut details = Vec::new();
    walk("", &Value::Object(e.data.clone()), &mut details);
    if details.is_empty() {
        e.message.clone()
    } else {
        format!("{} {}", e.message, details.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::clean;
    use std::path::Path;

    #[test]
    fn paths_are_cleaned_like_go() {
        assert_eq!(clean(Path::new("/tmp/x/pb_data/../pb_migrations")), Path::new("/tmp/x/pb_migrations"));
        assert_eq!(clean(Path::new("pb_data/../pb_migrations")), Path::new("pb_migrations"));
        assert_eq!(clean(Path::new("./pb_data/../../pb_migrations")), Path::new("../pb_migrations"));
    }
}

impl Runner {
    pub async fn load(g: &GlobalFlags, app: &Arc<App>) -> Result<Self, String> {
        let files = migration_files(&migrations_dir(g))?;
        let js = if files.is_empty() {
            None
        } else {
            let cache = g.dir.join(".pocketbun").join("wasm-cache");
            Some(JsMigrations::load(files, Arc::new(CoreBridge::new(app.clone())), Some(&cache)).await?)
        };
        Ok(Self { app: app.clone(), js, tx: None })
    }

    /// The registered JS migrations, sorted by file name.
    pub fn files(&self) -> Vec<String> {
        self.js.as_ref().map(|j| j.files().to_vec()).unwrap_or_default()
    }

    /// Applies every migration not yet in `_migrations`, in file name order.
    pub async fn up(&mut self) -> Result<Vec<String>, String> {
        let files = self.files();
        if files.is_empty() {
            return Ok(Vec::new());
        }
        self.begin().await?;
        let result = self.apply(&files).await;
        self.finish(result).await
    }

    async fn apply(&mut self, files: &[String]) -> Result<Vec<String>, String> {
        let mut applied = Vec::new();
        for file in files {
            let f = file.clone();
            if self.db().write(move |c| history::is_applied(c, &f)).await.map_err(|e| e.message)? {
                continue;
            }
            self.run(file, true).await.map_err(|e| format!("failed to apply migration {file}: {}", describe(&e)))?;
            let f = file.clone();
            self.db()
                .write(move |c| history::record_applied(c, &f))
                .await
                .map_err(|e| format!("failed to save applied migration info for {file}: {}", e.message))?;
            applied.push(file.clone());
        }
        Ok(applied)
    }

    /// The last `n` applied JS migrations, newest first.
    pub async fn last_applied(&self, n: usize) -> Result<Vec<String>, String> {
        let known = self.files();
        self.app.data.read(move |c| history::last_applied(c, &known, n)).await.map_err(|e| e.message)
    }

    /// Reverts the last `n` applied JS migrations, newest first.
    pub async fn down(&mut self, n: usize) -> Result<Vec<String>, String> {
        let names = self.last_applied(n).await?;
        if names.is_empty() {
            return Ok(names);
        }
        self.begin().await?;
        let result = self.revert(&names).await;
        self.finish(result).await
    }

    async fn revert(&mut self, names: &[String]) -> Result<Vec<String>, String> {
        let mut reverted = Vec::new();
        for file in names {
            self.run(file, false).await.map_err(|e| format!("failed to revert migration {file}: {}", describe(&e)))?;
            let f = file.clone();
            self.db()
                .write(move |c| history::remove(c, &f))
                .await
                .map_err(|e| format!("failed to save reverted migration info for {file}: {}", e.message))?;
            reverted.push(file.clone());
        }
        Ok(reverted)
    }

    /// Forgets applied migrations whose files are gone (PocketBase's system migrations
    /// count as present).
    pub async fn history_sync(&self) -> Result<(), String> {
        let mut known = self.files();
        known.extend(SYSTEM_MIGRATIONS.iter().map(|s| s.to_string()));
        self.app.data.write(move |c| history::remove_missing(c, &known)).await.map_err(|e| e.message)?;
        Ok(())
    }

    async fn run(&mut self, file: &str, up: bool) -> Result<(), CoreError> {
        match self.js.as_mut() {
            Some(js) => js.run(file, up).await,
            None => Err(CoreError::new(500, "no JS migrations are loaded")),
        }
    }

    /// Where the run reads and writes: its transaction once opened.
    fn db(&self) -> DbScope {
        match &self.tx {
            Some(tx) => DbScope::Tx(tx.clone()),
            None => DbScope::Pool(self.app.data.clone()),
        }
    }

    /// Opens the run's transaction (one for all its migrations, as PocketBase does); the
    /// migrations' `$app` calls join it until [`Runner::finish`].
    async fn begin(&mut self) -> Result<(), String> {
        // migrations have no time limit, as in PocketBase
        let tx = Arc::new(self.app.data.begin_write_tx(Duration::from_secs(24 * 3600)).await.map_err(|e| e.message)?);
        if let Some(js) = self.js.as_mut() {
            js.join(Some(CoreBridge::in_tx(self.app.clone(), tx.clone())));
        }
        self.tx = Some(tx);
        Ok(())
    }

    /// Commits on success, rolls back otherwise; the collection snapshot is reloaded from
    /// the database either way (the JS may have changed collections before failing).
    async fn finish(&mut self, result: Result<Vec<String>, String>) -> Result<Vec<String>, String> {
        if let Some(js) = self.js.as_mut() {
            js.join(None);
        }
        let ended = match self.tx.take() {
            Some(tx) if result.is_ok() => {
                let committed = tx.commit().await;
                let hooks = tx.after_hooks().run(committed.as_ref().err()).await;
                committed.and(hooks)
            }
            Some(tx) => {
                let rolled_back = tx.rollback().await;
                crate::plugins::run_after_rollback(tx.after_hooks()).await;
                rolled_back
            }
            None => Ok(()),
        };
        let reloaded = self.app.reload_collections().await;
        // a failed run may have saved settings before failing
        let settings = if result.is_err() { self.app.reload_settings().await } else { Ok(()) };
        let files = result?;
        ended.map_err(|e| format!("failed to commit the migrations: {}", e.message))?;
        reloaded.map_err(|e| e.message)?;
        settings.map_err(|e| e.message)?;
        Ok(files)
    }
}
