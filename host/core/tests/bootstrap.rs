//! Opening data directories: a fresh one gets PocketBase's system schema; PocketBase's own
//! test fixture opens unchanged.

use pocketbun_core::{App, AppOptions};
use std::path::{Path, PathBuf};

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let target = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn open(dir: PathBuf) -> std::sync::Arc<App> {
    App::bootstrap(AppOptions { data_dir: dir, ..Default::default() }).expect("bootstrap")
}

#[test]
fn fresh_data_dir_has_pocketbase_system_collections() {
    let tmp = tempfile::tempdir().unwrap();
    let app = open(tmp.path().join("pb_data"));
    assert!(app.fresh);
    let schema = app.schema();
    let names: Vec<&str> = schema.collections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["_mfas", "_otps", "_externalAuths", "_authOrigins", "_superusers", "users"]);
    let su = schema.find("_superusers").unwrap();
    assert_eq!(su.id, "pbc_3142635823");
    assert_eq!(su.token_secret("authToken").len(), 50);
    assert_eq!(su.token_duration("authToken"), 86400);
    let migrations: i64 = app
        .data
        .read_blocking(|c| Ok(c.query_row("SELECT count(*) FROM _migrations", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(migrations, 8);
    let mode: String = app.data.read_blocking(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?)).unwrap();
    assert_eq!(mode, "wal");
    drop(app);
    // a second start reuses everything
    let again = open(tmp.path().join("pb_data"));
    assert!(!again.fresh);
    assert_eq!(again.schema().collections.len(), 6);
}

#[test]
fn pocketbase_fixture_opens_unchanged() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/pocketbase-testdata");
    if !fixture.join("data.db").exists() {
        eprintln!("skipping: fixture not found at {}", fixture.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pb_data");
    copy_dir(&fixture, &dir);
    let before = std::fs::read(dir.join("data.db")).unwrap();
    let app = open(dir.clone());
    assert!(!app.fresh);
    let schema = app.schema();
    assert_eq!(schema.collections.len(), 16, "PocketBase's fixture has 16 collections");
    for name in ["demo1", "demo2", "users", "clients", "nologin", "view1", "_superusers"] {
        assert!(schema.find(name).is_some(), "{name} loaded");
    }
    let demo1 = schema.find("demo1").unwrap();
    let n: i64 = app
        .data
        .read_blocking(move |c| Ok(c.query_row(&format!("SELECT count(*) FROM `{}`", demo1.name), [], |r| r.get(0))?))
        .unwrap();
    assert!(n > 0);
    drop(app);
    // nothing was rewritten in the main database file on open (WAL may hold no changes either)
    let after = std::fs::read(dir.join("data.db")).unwrap();
    assert_eq!(before.len(), after.len());
}
