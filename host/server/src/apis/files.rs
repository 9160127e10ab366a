//! `GET /api/files/{collection}/{recordId}/{filename}`: serving record files.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pocketbun_core::files::download::{find_download, new_file_token};
use pocketbun_core::files::serve::{self, parse_range};
use std::time::SystemTime;

use crate::http::context::Ctx;
use crate::http::error::HttpResult;

/// `POST /api/files/token`: a file token for the authenticated record.
pub async fn token(ctx: Ctx) -> HttpResult {
    let Some(auth) = &ctx.auth else {
        return Err(pocketbun_core::ApiError::unauthorized("The request requires valid record authorization token.").into());
    };
    Ok(crate::http::json::json_ok(serde_json::json!({ "token": new_file_token(auth) })))
}

pub async fn download(ctx: Ctx, Path((collection, record_id, filename)): Path<(String, String, String)>) -> HttpResult {
    let token = ctx.query.get("token");
    let dl = find_download(&ctx.app, &collection, &record_id, &filename, token, ctx.query.get("thumb"), &ctx.remote_ip).await?;
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
    let len = dl.file.content.len() as u64;
    let range = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|r| parse_range(r, len));
    match range {
        Some(Ok((start, end))) => {
            let part = dl.file.content[start as usize..=end as usize].to_vec();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                headers.insert(header::CONTENT_RANGE, v);
            }
            Ok(with_headers(StatusCode::PARTIAL_CONTENT, headers, Body::from(part)))
        }
        Some(Err(())) => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                headers.insert(header::CONTENT_RANGE, v);
            }
            Ok(with_headers(StatusCode::RANGE_NOT_SATISFIABLE, headers, Body::empty()))
        }
        None => Ok(with_headers(StatusCode::OK, headers, Body::from(dl.file.content))),
    }
}

fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
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
