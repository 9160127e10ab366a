pub mod migrate;
pub mod restart;
pub mod serve;
pub mod superuser;

use pocketbun_core::{App, AppOptions};
use std::sync::Arc;

use crate::cli::GlobalFlags;

/// Opens the data dir (every command bootstraps the app, as PocketBase does).
pub fn bootstrap(g: &GlobalFlags) -> Result<Arc<App>, String> {
    App::bootstrap(AppOptions {
        data_dir: g.dir.clone(),
        encryption_env: (!g.encryption_env.is_empty()).then(|| g.encryption_env.clone()),
        dev: g.dev,
    })
    .map(|app| {
        app.storages.set_s3_connector(Arc::new(pocketbun_storage_s3::AwsS3Connector));
        app
    })
    .map_err(|e| e.message)
}
