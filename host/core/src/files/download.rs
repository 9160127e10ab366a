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
pub async fn find_download(
    app: &App,
    collection: &str,
    record_id: &str,
    filename: &str,
    token: Option<&str>,
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
    let key = record_file_key(&c.id, rec.id(), filename);
    let store = storage(app);
    let file = tokio::task::spawn_blocking(move || store.read(&key))
        .await
        .map_err(|_| ApiError::internal(""))?
        .map_err(|e| {
            tracing::warn!("file read failed: {e}");
            ApiError::not_found("")
        })?
        .ok_or_else(|| ApiError::not_found(""))?;
    Ok(Download { file, name: filename.to_string() })
}

/// A short-lived `file` token for protected files (`POST /api/files/token`).
pub fn new_file_token(auth: &crate::record::Record) -> String {
    let c = &auth.collection;
    crate::auth::token::sign(TokenType::File, c, auth.id(), auth.get_str("tokenKey"), Map::new(), c.token_duration("fileToken"))
}
