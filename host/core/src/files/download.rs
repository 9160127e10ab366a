//! Finding the stored file behind `GET /api/files/{collection}/{recordId}/{filename}`.

use serde_json::Map;
use std::sync::Arc;

use super::{record_file_key, storage, thumbs, OpenedFile};
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
    pub file: OpenedFile,
    /// The name used in Content-Disposition.
    pub name: String,
    /// The storage key of the served file (PocketBase's `servedPath`).
    pub key: String,
    /// The record and file field the file belongs to (for `onFileDownloadRequest`).
    pub record: crate::record::Record,
    pub field: crate::model::Field,
    /// Why a requested thumb is not served (PocketBase's `thumbError`).
    pub thumb_error: Option<String>,
}

/// Thumb size always allowed besides the field's own `thumbs`.
const DEFAULT_THUMB_SIZE: &str = "100x100";
/// PocketBase's limit of nested view collections when resolving a view file.
const MAX_NESTED_VIEWS: usize = 6;

/// Resolves and reads a record file, applying the protected-file access check and generating
/// a requested thumbnail on first use. Every failure is a 404, as in PocketBase.
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
    // files of a view record live with the record it was selected from
    let (collection_id, record_id) = if c.is_view() {
        let (schema, view, field_name, name) = (app.schema(), c.clone(), field.name.clone(), filename.to_string());
        app.data
            .read(move |conn| Ok(find_view_file_source(conn, &schema, &view, &field_name, &name, 0)))
            .await?
            .ok_or_else(|| ApiError::not_found(""))?
    } else {
        (c.id.clone(), rec.id().to_string())
    };
    let filename = filename.to_string();
    let store = storage(app);
    let key = record_file_key(&collection_id, &record_id, &filename);
    let open = |key: String| {
        let store = store.clone();
        async move {
            tokio::task::spawn_blocking(move || store.open(&key))
                .await
                .map_err(|_| ApiError::internal(""))?
                .map_err(|e| {
                    tracing::warn!("file read failed: {e}");
                    ApiError::not_found("")
                })
        }
    };
    let original = open(key.clone()).await?.ok_or_else(|| ApiError::not_found(""))?;
    let field = field.clone();
    let served = |file: OpenedFile, name: String, key: String, thumb_error: Option<String>| Download { file, name, key, record: rec.clone(), field: field.clone(), thumb_error };
    let Some(size) = thumb.clone().filter(|_| thumbs::IMAGE_CONTENT_TYPES.contains(&original.content_type.as_str())) else {
        let thumb_error = thumb.map(|t| format!("the thumb size {t:?} or the original file format are not supported"));
        return Ok(served(original, filename, key, thumb_error));
    };
    let name = format!("{size}_{filename}");
    let thumb_key = record_file_key(&collection_id, &record_id, &format!("thumbs_{filename}/{name}"));
    if let Ok(Some(file)) = open(thumb_key.clone()).await {
        return Ok(served(file, name, thumb_key, None));
    }
    // generate it from the original (images are bounded by the field's maxSize)
    let content_type = original.content_type.clone();
    let mut reader = original.reader;
    let content = tokio::task::spawn_blocking(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut buf).map(|_| buf)
    })
    .await
    .map_err(|_| ApiError::internal(""))?
    .map_err(|_| ApiError::not_found(""))?;
    let content = Arc::new(content);
    if thumbs::ensure(store.clone(), content.clone(), content_type.clone(), thumb_key.clone(), size).await {
        if let Ok(Some(file)) = open(thumb_key.clone()).await {
            return Ok(served(file, name, thumb_key, None));
        }
    }
    // generation failed: the original after all
    let original = open(key.clone()).await?.ok_or_else(|| ApiError::not_found(""))?;
    Ok(served(original, filename, key, Some("failed to create the thumb".into())))
}

/// Opens the file stored under `key` (a served path changed by a hook); 404 when missing.
pub async fn open_key(app: &App, key: String) -> ApiResult<OpenedFile> {
    let store = storage(app);
    tokio::task::spawn_blocking(move || store.open(&key))
        .await
        .map_err(|_| ApiError::internal(""))?
        .map_err(|_| ApiError::not_found(""))?
        .ok_or_else(|| ApiError::not_found(""))
}

/// The (collection id, record id) whose storage holds a view record's file (PocketBase's
/// `FindRecordByViewFile`): the first source record whose original field contains the name.
fn find_view_file_source(
    conn: &rusqlite::Connection,
    schema: &crate::schema_cache::Schema,
    view: &crate::model::Collection,
    field_name: &str,
    filename: &str,
    depth: usize,
) -> Option<(String, String)> {
    if depth > MAX_NESTED_VIEWS {
        return None;
    }
    let (source, original) = crate::collections::view_fields::view_field_source(schema, view, field_name)?;
    if source.is_view() {
        return find_view_file_source(conn, schema, &source, &original, filename, depth + 1);
    }
    let multiple = source.field(&original).map(|f| f.opt_i64("maxSelect") > 1).unwrap_or(false);
    let (table, col) = (crate::db::quote_ident(&source.name), crate::db::quote_ident(&original));
    let sql = if multiple {
        format!(
            "SELECT t.id FROM {table} t WHERE EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(t.{col}) THEN t.{col} ELSE json_array(t.{col}) END) je WHERE je.value = ?1) LIMIT 1"
        )
    } else {
        format!("SELECT id FROM {table} WHERE {col} = ?1 LIMIT 1")
    };
    let id: String = conn.query_row(&sql, [filename], |r| r.get(0)).ok()?;
    Some((source.id.clone(), id))
}

/// A short-lived `file` token for protected files (`POST /api/files/token`).
pub fn new_file_token(auth: &crate::record::Record) -> String {
    let c = &auth.collection;
    crate::auth::token::sign(TokenType::File, c, auth.id(), auth.get_str("tokenKey"), Map::new(), c.token_duration("fileToken"))
}
