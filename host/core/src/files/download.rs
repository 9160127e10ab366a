//! Finding the stored file behind `GET /api/files/{collection}/{recordId}/{filename}`.

use serde_json::Map;
use std::sync::Arc;

use super::{record_file_key, storage, StoredFile};
use crate::auth::{authenticate, token::TokenType};
use crate::error::{ApiError, ApiResult};
use crate::model::{FieldType, RuleKind};
use crate::record::persist::find_by_id;
use crate::record::rules::RequestInfo;
use crate::record::service::can_access;
use crate::record::values::to_string_list;
use crate::App;

/// A file ready to be served.
pub struct Download {
    pub file: StoredFile,
    /// The name used in Content-Disposition.
    pub name: String,
}

/// Resolves and reads a record file, applying the protected-file access check. Every failure
/// is a 404, as in PocketBase.
/// Thumb size always allowed besides the field's own `thumbs`.
const DEFAULT_THUMB_SIZE: &str = "100x100";
/// Originals that can have thumbnails.
const IMAGE_CONTENT_TYPES: &[&str] = &["image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp"];

pub async fn find_download(
    app: &App,
    collection: &str,
    record_id: &str,
    filename: &str,
    token: Option<&str>,
    thumb: Option<&str>,
    client_ip: &str,
) -> ApiResult<Download> {
    let c = app.schema().find(collection).ok_or_else(|| ApiError::not_found("Missing or invalid collection context."))?;
    let (c2, id) = (c.clone(), record_id.to_string());
    let rec = app.data.read(move |conn| find_by_id(conn, &c2, &id)).await?.ok_or_else(|| ApiError::not_found(""))?;
    let field = c
        .fields
        .iter()
        .find(|f| f.kind == FieldType::File && to_string_list(rec.get(&f.name)).iter().any(|n| n == filename))
        .ok_or_else(|| ApiError::not_found(""))?;
    if field.opt_bool("protected") {
        let auth = match token.filter(|t| !t.is_empty()) {
            Some(t) => authenticate(app, t, TokenType::File).await,
            None => None,
        };
        // a superuser file token only counts from a whitelisted IP
        let auth = auth.filter(|a| !a.collection.is_superusers() || crate::auth::superuser_ip_allowed(&app.settings(), client_ip));
        let req = RequestInfo { auth, method: "GET".into(), context: "protectedFile".into(), body: Map::new(), ..Default::default() };
        let rule = c.rule(RuleKind::View).map(str::to_string);
        if !can_access(app, Arc::new(rec.clone()), req, rule).await {
            return Err(ApiError::not_found(""));
        }
    }
    let thumb = thumb.filter(|t| *t == DEFAULT_THUMB_SIZE || field.opt_strings("thumbs").iter().any(|s| s == t)).map(str::to_string);
    let (collection_id, record_id, filename) = (c.id.clone(), rec.id().to_string(), filename.to_string());
    let store = storage(app);
    tokio::task::spawn_blocking(move || read_original_or_thumb(store.as_ref(), &collection_id, &record_id, &filename, thumb.as_deref()))
        .await
        .map_err(|_| ApiError::internal(""))?
}

/// Reads the original, or an already generated thumbnail of an image when one was asked for
/// (thumbnail generation itself is not implemented: the original is served instead).
fn read_original_or_thumb(
    store: &dyn super::FileStorage,
    collection_id: &str,
    record_id: &str,
    filename: &str,
    thumb: Option<&str>,
) -> ApiResult<Download> {
    let read = |key: &str| {
        store.read(key).map_err(|e| {
            tracing::warn!("file read failed: {e}");
            ApiError::not_found("")
        })
    };
    let original = read(&record_file_key(collection_id, record_id, filename))?.ok_or_else(|| ApiError::not_found(""))?;
    if let Some(size) = thumb.filter(|_| IMAGE_CONTENT_TYPES.contains(&original.content_type.as_str())) {
        let name = format!("{size}_{filename}");
        let key = record_file_key(collection_id, record_id, &format!("thumbs_{filename}/{name}"));
        if let Ok(Some(file)) = store.read(&key) {
            return Ok(Download { file, name });
        }
    }
    Ok(Download { file: original, name: filename.to_string() })
}

/// A short-lived `file` token for protected files (`POST /api/files/token`).
pub fn new_file_token(auth: &crate::record::Record) -> String {
    let c = &auth.collection;
    crate::auth::token::sign(TokenType::File, c, auth.id(), auth.get_str("tokenKey"), Map::new(), c.token_duration("fileToken"))
}
