//! The catch-all `GET /{path...}` serving `pb_public` (with the optional SPA index fallback).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use pocketbun_core::ApiError;
use std::path::{Component, Path, PathBuf};

use crate::http::error::HttpError;
use crate::http::ServerState;

fn safe_join(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded: String = form_urlencoded::parse(format!("p={}", url_path.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut out = root.to_path_buf();
    for comp in Path::new(decoded.trim_start_matches('/')).components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

async fn read_file(path: &Path) -> Option<Response> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    let path = if meta.is_dir() { path.join("index.html") } else { path.to_path_buf() };
    let bytes = tokio::fs::read(&path).await.ok()?;
    let mime = mime_for(&path);
    let mut res = (StatusCode::OK, bytes).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    Some(res)
}

fn mime_for(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("html") | Some("htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Fallback for every unmatched request: static files for GET/HEAD, else a JSON 404.
pub async fn fallback(State(state): State<ServerState>, req: Request<Body>) -> Result<Response, HttpError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::not_found("").into());
    }
    let not_found = || HttpError(ApiError::not_found("File not found."));
    let Some(root) = state.public_dir.as_ref() else { return Err(not_found()) };
    let Some(path) = safe_join(root, req.uri().path()) else { return Err(not_found()) };
    if let Some(res) = read_file(&path).await {
        return Ok(res);
    }
    let is_asset = path.extension().is_some();
    if state.index_fallback && !is_asset {
        if let Some(res) = read_file(&root.join("index.html")).await {
            return Ok(res);
        }
    }
    Err(not_found())
}
