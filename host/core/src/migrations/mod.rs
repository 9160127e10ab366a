//! PocketBase's app migrations bookkeeping (the `_migrations` table) and the JS migration
//! files it generates (`migrate create|collections` and automigrate). Running the JS
//! itself needs the plugin host and lives in the server.

pub mod history;
pub mod templates;

use std::path::Path;

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::model::Collection;

/// PocketBase's `normalizeCollectionName`: a name ending in "test" gets an extra `_` so
/// the file never ends in `_test.js`.
fn normalize_collection_name(name: &str) -> String {
    if name.to_lowercase().ends_with("test") {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// Automigrate: after a collection was created, updated or deleted through the API, writes
/// `<unix>_{created|updated|deleted}_<name>.js` with the change and records it in
/// `_migrations` as applied (one transaction; a failed write leaves no row). No file when
/// an update changed nothing. Returns the file name.
pub async fn automigrate(app: &App, dir: &Path, new: Option<&Collection>, old: Option<&Collection>) -> ApiResult<Option<String>> {
    let Some(template) = templates::js_diff(new, old) else { return Ok(None) };
    let action = match (new, old) {
        (None, Some(o)) => format!("deleted_{}", normalize_collection_name(&o.name)),
        (Some(n), None) => format!("created_{}", normalize_collection_name(&n.name)),
        (_, Some(o)) => format!("updated_{}", normalize_collection_name(&o.name)),
        (None, None) => return Ok(None),
    };
    let now = chrono::Utc::now().timestamp();
    let dir = dir.to_path_buf();
    let name = app
        .data
        .write(move |conn| {
            // two changes within one second would get the same name: take the next free second
            let mut t = now;
            let name = loop {
                let name = format!("{t}_{action}.js");
                if !dir.join(&name).exists() && !history::is_applied(conn, &name)? {
                    break name;
                }
                t += 1;
            };
            let path = dir.join(&name);
            let tx = conn.savepoint()?;
            history::record_applied(&tx, &name)?;
            std::fs::create_dir_all(&dir).map_err(|e| ApiError::internal(format!("failed to create migration dir: {e}")))?;
            std::fs::write(&path, template).map_err(|e| ApiError::internal(format!("failed to save automigrate file: {e}")))?;
            tx.commit()?;
            Ok(name)
        })
        .await?;
    Ok(Some(name))
}
