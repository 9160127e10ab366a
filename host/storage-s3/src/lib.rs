//! S3 file storage behind pocketbun-core's [`FileStorage`], with `aws-sdk-s3`.
//!
//! Objects are laid out as PocketBase lays them out (the keys the core passes in:
//! `<collectionId>/<recordId>/<name>`, thumbs under `thumbs_<name>/`), with the content type
//! as `Content-Type` and the client's file name as `x-amz-meta-original-filename` (URL
//! path-escaped, as PocketBase's s3blob writes it), so a bucket is shared with PocketBase.
//!
//! The storage trait is synchronous (it runs on the database writer thread and the blocking
//! pool), so every request runs on a small runtime owned by this crate and the caller waits
//! for its result. Uploads stream from the spooled temp file; reads stream with ranged GETs.

mod reader;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls;
use pocketbun_core::files::backend::{S3Config, S3Connector};
use pocketbun_core::files::{FileMeta, FileSource, FileStorage, ListedFile, OpenedFile, StoredFile};
use std::collections::HashMap;
use std::future::Future;
use std::io::{self, Read};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds [`S3Storage`]s; registered with the app at start-up.
pub struct AwsS3Connector;

impl S3Connector for AwsS3Connector {
    fn connect(&self, config: &S3Config) -> io::Result<Arc<dyn FileStorage>> {
        Ok(Arc::new(S3Storage::new(config)))
    }
}

/// One bucket of an S3-compatible service.
pub struct S3Storage {
    client: Client,
    bucket: String,
}

/// The runtime every S3 request runs on (shared by all clients, so their connection pools
/// live as long as the process).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pb-s3")
            .enable_all()
            .build()
            .expect("cannot start the S3 runtime")
    })
}

/// Runs `fut` on the S3 runtime and waits for it (callable from any non-async thread).
pub(crate) fn run<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> io::Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| io::Error::other("the S3 request was aborted"))
}

/// PocketBase accepts endpoints without a scheme (https is implied).
fn endpoint_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim().trim_end_matches('/');
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        endpoint.to_string()
    } else {
        format!("https://{endpoint}")
    }
}

pub(crate) fn sdk_error<E, R>(e: SdkError<E, R>) -> io::Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    io::Error::other(DisplayErrorContext(e).to_string())
}

fn is_not_found<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    e.raw_response().map(|r| r.status().as_u16() == 404).unwrap_or(false)
}

/// Go's `url.PathEscape`, which PocketBase applies to metadata values.
fn path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$&+:=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Refuses keys S3 would take but PocketBase never writes (control characters, `..` parts).
fn check_key(key: &str) -> io::Result<()> {
    if key.is_empty() || key.chars().any(char::is_control) || key.split('/').any(|p| p == "..") {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid storage key {key:?}")));
    }
    Ok(())
}

impl S3Storage {
    pub fn new(config: &S3Config) -> Self {
        let http = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)).build_https();
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .endpoint_url(endpoint_url(&config.endpoint))
            .force_path_style(config.force_path_style)
            .credentials_provider(Credentials::new(&config.access_key, &config.secret, None, None, "pocketbun-settings"))
            .http_client(http)
            .timeout_config(aws_sdk_s3::config::timeout::TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).build())
            // only the checksums an operation requires: S3-compatible services differ in the
            // optional (trailing, aws-chunked) ones, and uploads stay plain streamed PUTs
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Self { client: Client::from_conf(conf), bucket: config.bucket.clone() }
    }

    async fn head(client: Client, bucket: String, key: String) -> io::Result<Option<(u64, String, SystemTime)>> {
        match client.head_object().bucket(bucket).key(key).send().await {
            Ok(h) => {
                let size = h.content_length().unwrap_or(0).max(0) as u64;
                let content_type = h.content_type().filter(|t| !t.is_empty()).unwrap_or(DEFAULT_CONTENT_TYPE).to_string();
                let modified = h.last_modified().and_then(|t| SystemTime::try_from(*t).ok()).unwrap_or(SystemTime::UNIX_EPOCH);
                Ok(Some((size, content_type, modified)))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(sdk_error(e)),
        }
    }

    /// Every object under `prefix` (keys in S3's order, which is by key).
    fn objects(&self, prefix: &str) -> io::Result<Vec<ListedFile>> {
        let (client, bucket, prefix) = (self.client.clone(), self.bucket.clone(), prefix.to_string());
        run(async move {
            let mut out = vec![];
            let mut pages = client.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(sdk_error)?;
                out.extend(page.contents().iter().filter_map(|o| {
                    Some(ListedFile {
                        key: o.key()?.to_string(),
                        size: o.size().unwrap_or(0).max(0) as u64,
                        modified: o.last_modified().and_then(|t| SystemTime::try_from(*t).ok()).unwrap_or(SystemTime::UNIX_EPOCH),
                    })
                }));
            }
            Ok(out)
        })?
    }
}

impl FileStorage for S3Storage {
    fn upload(&self, key: &str, content: &FileSource, meta: &FileMeta) -> io::Result<()> {
        check_key(key)?;
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), key.to_string());
        let content = content.clone();
        let metadata = (!meta.original_name.is_empty())
            .then(|| HashMap::from([("original-filename".to_string(), path_escape(&meta.original_name))]));
        let content_type = meta.content_type.clone();
        run(async move {
            let len = content.len() as i64;
            let body = match &content {
                FileSource::Memory(bytes) => ByteStream::from(bytes.to_vec()),
                // streamed from the spool file, never loaded whole
                FileSource::Temp { path, .. } => {
                    ByteStream::from_path(path.to_path_buf()).await.map_err(|e| io::Error::other(e.to_string()))?
                }
            };
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body)
                .content_length(len)
                .content_type(content_type)
                .set_metadata(metadata)
                .send()
                .await
                .map_err(sdk_error)?;
            drop(content);
            Ok(())
        })?
    }

    fn read(&self, key: &str) -> io::Result<Option<StoredFile>> {
        let Some(mut f) = self.open(key)? else { return Ok(None) };
        let mut content = Vec::with_capacity(f.size as usize);
        f.reader.read_to_end(&mut content)?;
        Ok(Some(StoredFile { content, content_type: f.content_type, modified: f.modified }))
    }

    fn exists(&self, key: &str) -> io::Result<bool> {
        check_key(key)?;
        Ok(run(Self::head(self.client.clone(), self.bucket.clone(), key.to_string()))??.is_some())
    }

    fn open(&self, key: &str) -> io::Result<Option<OpenedFile>> {
        check_key(key)?;
        let Some((size, content_type, modified)) = run(Self::head(self.client.clone(), self.bucket.clone(), key.to_string()))?? else {
            return Ok(None);
        };
        let reader = reader::S3Reader::new(self.client.clone(), self.bucket.clone(), key.to_string(), size);
        Ok(Some(OpenedFile { reader: Box::new(reader), size, content_type, modified }))
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        check_key(key)?;
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), key.to_string());
        run(async move {
            match client.delete_object().bucket(bucket).key(key).send().await {
                Ok(_) => Ok(()),
                Err(e) if is_not_found(&e) => Ok(()),
                Err(e) => Err(sdk_error(e)),
            }
        })?
    }

    fn delete_prefix(&self, prefix: &str) -> io::Result<()> {
        if prefix.trim_matches('/').is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "refusing to delete the whole bucket"));
        }
        // one by one, like PocketBase (no multi-object delete: not every S3 service has it)
        for key in self.objects(prefix)?.into_iter().map(|o| o.key) {
            self.delete(&key)?;
        }
        Ok(())
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<ListedFile>> {
        self.objects(prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_values_are_path_escaped_like_go() {
        assert_eq!(path_escape("My <Doc> ü.txt"), "My%20%3CDoc%3E%20%C3%BC.txt");
        assert_eq!(path_escape("a+b=c@d.txt"), "a+b=c@d.txt");
        assert_eq!(path_escape("a/b?,;(1).txt"), "a%2Fb%3F%2C%3B%281%29.txt");
    }

    #[test]
    fn endpoints_default_to_https() {
        assert_eq!(endpoint_url("s3.example.com/"), "https://s3.example.com");
        assert_eq!(endpoint_url("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
    }

    #[test]
    fn keys_are_checked() {
        assert!(check_key("c/r/a.txt").is_ok());
        assert!(check_key("c/../a.txt").is_err());
        assert!(check_key("c/r/a\n.txt").is_err());
    }
}
