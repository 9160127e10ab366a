//! Request bodies: JSON, multipart (with `@jsonPayload`) and urlencoded forms, read with a
//! size limit, turned into one JSON object.

use axum::body::Body;
use axum::http::HeaderMap;
use http_body_util::BodyExt;
use pocketbun_core::files::InputFile;
use pocketbun_core::ApiError;
use serde_json::{Map, Value};
use std::sync::Arc;

/// PocketBase's default body limit (32 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 32 << 20;

fn too_large() -> ApiError {
    ApiError::new(413, "Request entity too large")
}

/// How much of an oversized body is still read (and dropped) so the client, which is usually
/// still sending, receives the 413 instead of a reset connection.
const MAX_DRAIN: usize = 128 << 20;

/// Reads the raw body, failing with 413 past `limit`.
pub async fn read_bytes(headers: &HeaderMap, body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    let declared = headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let mut body = body;
    let mut collected = bytes::BytesMut::new();
    let mut over_limit = declared.is_some_and(|len| len > limit);
    let mut drained = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(ApiError::bad_request("Failed to read the request body.")) };
        let Ok(chunk) = frame.into_data() else { continue };
        if over_limit {
            drained += chunk.len();
            if drained > MAX_DRAIN {
                break;
            }
            continue;
        }
        if collected.len() + chunk.len() > limit {
            over_limit = true;
            collected.clear();
            continue;
        }
        collected.extend_from_slice(&chunk);
    }
    if over_limit {
        return Err(too_large());
    }
    Ok(collected.freeze())
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

/// A parsed request body: the fields as one JSON object plus the uploaded files by form key.
#[derive(Debug, Default)]
pub struct ParsedBody {
    pub data: Map<String, Value>,
    pub files: Vec<(String, Vec<InputFile>)>,
}

/// Why a body could not be read; each endpoint family words these differently.
#[derive(Debug)]
enum BodyError {
    TooLarge,
    UnsupportedContentType,
    /// Unparsable content, with the message the generic endpoints use.
    Malformed(&'static str),
}

const INVALID_FORMAT: &str = "Failed to load the submitted data due to invalid formatting.";
const INVALID_MULTIPART: &str = "Failed to parse the multipart body.";

impl From<ApiError> for BodyError {
    fn from(e: ApiError) -> Self {
        if e.status == 413 {
            BodyError::TooLarge
        } else {
            BodyError::Malformed("Failed to read the request body.")
        }
    }
}

fn merge_json_payload(map: &mut Map<String, Value>, payloads: Vec<String>) -> Result<(), BodyError> {
    for p in payloads {
        match serde_json::from_str::<Value>(&p) {
            Ok(Value::Object(o)) => {
                for (k, v) in o {
                    map.insert(k, v);
                }
            }
            _ => return Err(BodyError::Malformed(INVALID_FORMAT)),
        }
    }
    Ok(())
}

/// Parses a request body into a JSON object according to its Content-Type (files in
/// multipart bodies are ignored).
pub async fn parse_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Map<String, Value>, ApiError> {
    match parse_any(headers, body, limit).await {
        Ok(parsed) => Ok(parsed.data),
        Err(BodyError::TooLarge) => Err(too_large()),
        Err(BodyError::UnsupportedContentType) => Err(ApiError::bad_request("Unsupported Content-Type.")),
        Err(BodyError::Malformed(message)) => Err(ApiError::bad_request(message)),
    }
}

/// Parses a record create/update body, files included. PocketBase answers any unreadable
/// record body with its default 400 message.
pub async fn parse_record_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<ParsedBody, ApiError> {
    match parse_any(headers, body, limit).await {
        Ok(parsed) => Ok(parsed),
        Err(BodyError::TooLarge) => Err(too_large()),
        Err(BodyError::UnsupportedContentType) => Err(ApiError::bad_request("Unsupported Content-Type.")),
        Err(BodyError::Malformed(_)) => Err(ApiError::bad_request("")),
    }
}

async fn parse_any(headers: &HeaderMap, body: Body, limit: usize) -> Result<ParsedBody, BodyError> {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return parse_multipart(&content_type, headers, body, limit).await;
    }
    let bytes = read_bytes(headers, body, limit).await?;
    if bytes.is_empty() {
        return Ok(ParsedBody::default());
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let mut data = Map::new();
        let mut payloads = vec![];
        for (k, v) in form_urlencoded::parse(&bytes) {
            if k == "@jsonPayload" {
                payloads.push(v.into_owned());
            } else {
                push_form_value(&mut data, k.into_owned(), infer_form_value(&v));
            }
        }
        merge_json_payload(&mut data, payloads)?;
        return Ok(ParsedBody { data, files: vec![] });
    }
    if !content_type.starts_with("application/json") {
        return Err(BodyError::UnsupportedContentType);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ParsedBody::default());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(data)) => Ok(ParsedBody { data, files: vec![] }),
        _ => Err(BodyError::Malformed(INVALID_FORMAT)),
    }
}

async fn parse_multipart(content_type: &str, headers: &HeaderMap, body: Body, limit: usize) -> Result<ParsedBody, BodyError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| BodyError::Malformed(INVALID_MULTIPART))?;
    let bytes = read_bytes(headers, body, limit).await?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut data = Map::new();
    let mut files: Vec<(String, Vec<InputFile>)> = vec![];
    let mut payloads = vec![];
    while let Some(field) = mp.next_field().await.map_err(|_| BodyError::Malformed(INVALID_MULTIPART))? {
        let name = field.name().unwrap_or_default().to_string();
        // like Go's multipart reader, a part with an empty filename is a plain value
        if let Some(file_name) = field.file_name().filter(|n| !n.is_empty()).map(str::to_string) {
            let content = field.bytes().await.map_err(|_| BodyError::Malformed(INVALID_MULTIPART))?;
            let input = InputFile { original_name: file_name, content: Arc::new(content.to_vec()) };
            match files.iter_mut().find(|(k, _)| *k == name) {
                Some((_, list)) => list.push(input),
                None => files.push((name, vec![input])),
            }
            continue;
        }
        let text = field.text().await.map_err(|_| BodyError::Malformed(INVALID_MULTIPART))?;
        if name == "@jsonPayload" {
            payloads.push(text);
        } else {
            push_form_value(&mut data, name, infer_form_value(&text));
        }
    }
    merge_json_payload(&mut data, payloads)?;
    Ok(ParsedBody { data, files })
}
