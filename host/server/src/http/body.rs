//! Request bodies: JSON, multipart (with `@jsonPayload`) and urlencoded forms, read with a
//! size limit, turned into one JSON object.

use axum::body::Body;
use axum::http::HeaderMap;
use http_body_util::BodyExt;
use pocketbun_core::files::{FileSource, InputFile};
use pocketbun_core::ApiError;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// File parts up to this size stay in memory; larger ones are spooled to a temp file while
/// they stream in, so an upload is never held whole in memory.
const SPOOL_THRESHOLD: usize = 256 << 10;

/// The body as a byte stream that fails once more than `limit` bytes arrived (after draining
/// up to [`MAX_DRAIN`] more, so the client still reads the 413).
fn limited_stream(
    body: Body,
    limit: usize,
    over: Arc<AtomicBool>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold((body, 0usize, false), move |(mut body, mut seen, done)| {
        let over = over.clone();
        async move {
            if done {
                return None;
            }
            match body.frame().await {
                None => None,
                Some(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), (body, seen, true))),
                Some(Ok(frame)) => {
                    let chunk = frame.into_data().unwrap_or_default();
                    seen += chunk.len();
                    if seen > limit {
                        over.store(true, Ordering::Relaxed);
                        drain(&mut body).await;
                        return Some((Err(std::io::Error::other("body too large")), (body, seen, true)));
                    }
                    Some((Ok(chunk), (body, seen, false)))
                }
            }
        }
    })
}

async fn drain(body: &mut Body) {
    let mut drained = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        drained += frame.data_ref().map(|d| d.len()).unwrap_or(0);
        if drained > MAX_DRAIN {
            break;
        }
    }
}

/// A file part being received: in memory until it outgrows [`SPOOL_THRESHOLD`].
enum Spool {
    Memory(Vec<u8>),
    File(tokio::io::BufWriter<tokio::fs::File>, tempfile::TempPath, u64),
}

impl Spool {
    async fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        if let Spool::Memory(buf) = self {
            if buf.len() + chunk.len() <= SPOOL_THRESHOLD {
                buf.extend_from_slice(chunk);
                return Ok(());
            }
            let (file, path) = tempfile::Builder::new().prefix("pocketbun_upload_").tempfile()?.into_parts();
            let mut w = tokio::io::BufWriter::with_capacity(256 << 10, tokio::fs::File::from_std(file));
            w.write_all(buf).await?;
            let size = buf.len() as u64;
            *self = Spool::File(w, path, size);
        }
        if let Spool::File(w, _, size) = self {
            w.write_all(chunk).await?;
            *size += chunk.len() as u64;
        }
        Ok(())
    }

    async fn finish(self) -> std::io::Result<FileSource> {
        use tokio::io::AsyncWriteExt;
        match self {
            Spool::Memory(buf) => Ok(FileSource::memory(buf)),
            Spool::File(mut w, path, size) => {
                w.flush().await?;
                Ok(FileSource::Temp { path: Arc::new(path), size })
            }
        }
    }
}

async fn parse_multipart(content_type: &str, headers: &HeaderMap, body: Body, limit: usize) -> Result<ParsedBody, BodyError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| BodyError::Malformed(INVALID_MULTIPART))?;
    let declared = headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        let mut body = body;
        drain(&mut body).await;
        return Err(BodyError::TooLarge);
    }
    let over = Arc::new(AtomicBool::new(false));
    let mut mp = multer::Multipart::new(limited_stream(body, limit, over.clone()), boundary);
    let fail = |over: &AtomicBool| if over.load(Ordering::Relaxed) { BodyError::TooLarge } else { BodyError::Malformed(INVALID_MULTIPART) };
    let mut data = Map::new();
    let mut files: Vec<(String, Vec<InputFile>)> = vec![];
    let mut payloads = vec![];
    while let Some(mut field) = mp.next_field().await.map_err(|_| fail(&over))? {
        let name = field.name().unwrap_or_default().to_string();
        // like Go's multipart reader, a part with an empty filename is a plain value
        if let Some(file_name) = field.file_name().filter(|n| !n.is_empty()).map(str::to_string) {
            let mut spool = Spool::Memory(Vec::new());
            while let Some(chunk) = field.chunk().await.map_err(|_| fail(&over))? {
                spool.push(&chunk).await.map_err(|_| BodyError::Malformed("Failed to read the request body."))?;
            }
            let content = spool.finish().await.map_err(|_| BodyError::Malformed("Failed to read the request body."))?;
            let input = InputFile { original_name: file_name, content };
            match files.iter_mut().find(|(k, _)| *k == name) {
                Some((_, list)) => list.push(input),
                None => files.push((name, vec![input])),
            }
            continue;
        }
        let text = field.text().await.map_err(|_| fail(&over))?;
        if name == "@jsonPayload" {
            payloads.push(text);
        } else {
            push_form_value(&mut data, name, infer_form_value(&text));
        }
    }
    merge_json_payload(&mut data, payloads)?;
    Ok(ParsedBody { data, files })
}
