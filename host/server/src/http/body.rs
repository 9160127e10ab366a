//! Request bodies: JSON, multipart (with `@jsonPayload`) and urlencoded forms, read with a
//! size limit, turned into one JSON object.

use axum::body::Body;
use axum::http::HeaderMap;
use http_body_util::BodyExt;
use pocketbun_core::ApiError;
use serde_json::{Map, Value};

/// PocketBase's default body limit (32 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 32 << 20;

fn too_large() -> ApiError {
    ApiError::new(413, "Request entity too large")
}

/// Reads the raw body, failing with 413 past `limit`.
pub async fn read_bytes(headers: &HeaderMap, body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    if let Some(len) = headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok()) {
        if len > limit {
            return Err(too_large());
        }
    }
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Err(_) => Err(ApiError::bad_request("Failed to read the request body.")),
    }
}

/// Infers scalars of form values the way PocketBase does: `true`/`false` → bool, a string that
/// is exactly the canonical rendering of a number → number, anything else stays a string.
fn infer_form_value(s: &str) -> Value {
    match s {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(f) = s.parse::<f64>() {
        let canonical = pocketbun_core::util::number_json(f).to_string();
        if canonical == s && f.is_finite() {
            return pocketbun_core::util::number_json(f);
        }
    }
    Value::String(s.to_string())
}

fn push_form_value(map: &mut Map<String, Value>, key: String, value: Value) {
    match map.get_mut(&key) {
        None => {
            map.insert(key, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

fn merge_json_payload(map: &mut Map<String, Value>, payloads: Vec<String>) -> Result<(), ApiError> {
    for p in payloads {
        let v: Value = serde_json::from_str(&p).map_err(|_| ApiError::bad_request("Failed to load the submitted data due to invalid formatting."))?;
        if let Value::Object(o) = v {
            for (k, v) in o {
                map.insert(k, v);
            }
        }
    }
    Ok(())
}

/// Parses a request body into a JSON object according to its Content-Type.
pub async fn parse_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Map<String, Value>, ApiError> {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return parse_multipart(&content_type, headers, body, limit).await;
    }
    let bytes = read_bytes(headers, body, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let mut map = Map::new();
        let mut payloads = vec![];
        for (k, v) in form_urlencoded::parse(&bytes) {
            if k == "@jsonPayload" {
                payloads.push(v.into_owned());
            } else {
                push_form_value(&mut map, k.into_owned(), infer_form_value(&v));
            }
        }
        merge_json_payload(&mut map, payloads)?;
        return Ok(map);
    }
    if !content_type.is_empty() && !content_type.starts_with("application/json") {
        return Err(ApiError::bad_request("Unsupported Content-Type."));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::bad_request("Failed to load the submitted data due to invalid formatting.")),
    }
}

async fn parse_multipart(content_type: &str, headers: &HeaderMap, body: Body, limit: usize) -> Result<Map<String, Value>, ApiError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| ApiError::bad_request("Failed to parse the multipart body."))?;
    let bytes = read_bytes(headers, body, limit).await?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut map = Map::new();
    let mut payloads = vec![];
    while let Some(field) = mp.next_field().await.map_err(|_| ApiError::bad_request("Failed to parse the multipart body."))? {
        let name = field.name().unwrap_or_default().to_string();
        if field.file_name().is_some() {
            // file uploads are handled by the files layer; text fields only here
            continue;
        }
        let text = field.text().await.map_err(|_| ApiError::bad_request("Failed to parse the multipart body."))?;
        if name == "@jsonPayload" {
            payloads.push(text);
        } else {
            push_form_value(&mut map, name, infer_form_value(&text));
        }
    }
    merge_json_payload(&mut map, payloads)?;
    Ok(map)
}
