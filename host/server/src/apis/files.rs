//! `GET /api/files/{collection}/{recordId}/{filename}`: serving record files, and file
//! tokens; both with their PocketBase hooks (tagged with the collection).

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pocketbun_core::files::download::{find_download, new_file_token, open_key, Download};
use pocketbun_core::files::serve::{self, parse_range};
use pocketbun_core::files::ReadSeek;
use std::io::{Read, Seek, SeekFrom};
use std::time::SystemTime;

const DOWNLOAD_HOOK: &str = "file-download-request";
const TOKEN_HOOK: &str = "file-token-request";

use serde_json::{json, Map, Value};

use crate::auth_hooks::{around, RequestHook};
use crate::http::context::Ctx;
use crate::http::error::HttpResult;

/// `POST /api/files/token`: a file token for the authenticated record, through
/// `onFileTokenRequest` (handlers may change `e.token`).
pub async fn token(ctx: Ctx) -> HttpResult {
    let Some(auth) = ctx.auth.clone() else {
        return Err(pocketbun_core::ApiError::unauthorized("The request requires valid record authorization token.").into());
    };
    let mut event = Map::new();
    event.insert("token".into(), json!(new_file_token(&auth)));
    let c = auth.collection.clone();
    let hook = RequestHook { name: TOKEN_HOOK, collection: &c };
    around(&ctx, hook, "/api/files/token", &Map::new(), Some(auth), event, move |flow| async move {
        Ok(crate::http::json::json_ok(json!({ "token": flow.str("token") })))
    })
    .await
}

/// Serves a record file through `onFileDownloadRequest`: handlers may change
/// `e.servedPath` (another stored file) and `e.servedName` or answer themselves.
pub async fn download(ctx: Ctx, Path((collection, record_id, filename)): Path<(String, String, String)>) -> HttpResult {
    let token = ctx.query.get("token");
    let dl = find_download(&ctx.app, &collection, &record_id, &filename, token, ctx.query.get("thumb"), &ctx.remote_ip).await?;
    let c = dl.record.collection.clone();
    let mut event = Map::new();
    event.insert("fileField".into(), dl.field.to_json());
    event.insert("servedPath".into(), json!(dl.key));
    event.insert("servedName".into(), json!(dl.name));
    event.insert("thumbError".into(), dl.thumb_error.as_ref().map(|e| json!(e)).unwrap_or(Value::Null));
    let hook = RequestHook { name: DOWNLOAD_HOOK, collection: &c };
    let path = format!("/api/files/{collection}/{record_id}/{filename}");
    let record = Some(dl.record.clone());
    let ctx2 = ctx.clone();
    around(&ctx, hook, &path, &Map::new(), record, event, move |flow| async move {
        let mut dl = dl;
        let (key, name) = (flow.str("servedPath"), flow.str("servedName"));
        if key != dl.key {
            dl.file = open_key(&ctx2.app, key).await?;
        }
        dl.name = name;
        serve_download(&ctx2, dl)
    })
    .await
}

fn serve_download(ctx: &Ctx, dl: Download) -> HttpResult {
    let force_download = ctx.query.get("download").map(serve::is_truthy).unwrap_or(false);
    let mut headers = HeaderMap::new();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::CONTENT_DISPOSITION, &serve::content_disposition(&dl.file.content_type, &dl.name, force_download));
    set(header::CONTENT_TYPE, &serve::content_type(&dl.file.content_type, &dl.name));
    set(header::CONTENT_SECURITY_POLICY, serve::CONTENT_SECURITY_POLICY);
    set(header::CACHE_CONTROL, serve::CACHE_CONTROL);
    set(header::ACCEPT_RANGES, "bytes");
    let modified = http_date(dl.file.modified);
    set(header::LAST_MODIFIED, &modified);
    // files never change under the same name: a matching If-Modified-Since is a 304
    if ctx.headers.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()) == Some(modified.as_str()) {
        return Ok(with_headers(StatusCode::NOT_MODIFIED, headers, Body::empty()));
    }
    let len = dl.file.size;
    let range = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|r| parse_range(r, len));
    match range {
        Some(Ok((start, end))) => {
            let mut set = |name: header::HeaderName, value: String| {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            };
            set(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
            set(header::CONTENT_LENGTH, (end - start + 1).to_string());
            Ok(with_headers(StatusCode::PARTIAL_CONTENT, headers, stream_body(dl.file.reader, start, end - start + 1)))
        }
        Some(Err(())) => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                headers.insert(header::CONTENT_RANGE, v);
            }
            Ok(with_headers(StatusCode::RANGE_NOT_SATISFIABLE, headers, Body::empty()))
        }
        None => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            Ok(with_headers(StatusCode::OK, headers, stream_body(dl.file.reader, 0, len)))
        }
    }
}

/// Streams `len` bytes from `start` of a stored file, read on the blocking pool in 64 KiB
/// chunks (a file is never loaded whole).
pub(crate) fn stream_body(mut reader: Box<dyn ReadSeek>, start: u64, len: u64) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        if start > 0 {
            if let Err(e) = reader.seek(SeekFrom::Start(start)) {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
        let mut remaining = len;
        let mut buf = vec![0u8; 64 << 10];
        while remaining > 0 {
            let want = remaining.min(buf.len() as u64) as usize;
            match reader.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => {
                    remaining -= n as u64;
                    if tx.blocking_send(Ok(bytes::Bytes::copy_from_slice(&buf[..n]))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }))
}

pub(crate) fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().extend(headers);
    // files are sandboxed by the CSP instead; PocketBase drops this header here
    res.extensions_mut().insert(NoFrameOptions);
    res
}

/// Marks a response that must not get the default `X-Frame-Options` header.
#[derive(Clone, Copy, Debug)]
pub struct NoFrameOptions;

fn http_date(t: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = t.into();
    dt.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
