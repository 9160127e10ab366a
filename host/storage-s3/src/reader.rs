//! A seekable reader over an S3 object: a ranged GET from the current position, read chunk
//! by chunk; seeking drops the open response and the next read starts a new range.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::{Buf, Bytes};
use std::io::{self, Read, Seek, SeekFrom};

use crate::{run, sdk_error};

pub struct S3Reader {
    client: Client,
    bucket: String,
    key: String,
    size: u64,
    pos: u64,
    body: Option<ByteStream>,
    chunk: Bytes,
}

impl S3Reader {
    pub fn new(client: Client, bucket: String, key: String, size: u64) -> Self {
        Self { client, bucket, key, size, pos: 0, body: None, chunk: Bytes::new() }
    }

    fn open_body(&self) -> io::Result<ByteStream> {
        let req = self.client.get_object().bucket(&self.bucket).key(&self.key).range(format!("bytes={}-", self.pos));
        run(async move { req.send().await.map(|r| r.body).map_err(sdk_error) })?
    }
}

impl Read for S3Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if buf.is_empty() {
                return Ok(0);
            }
            if !self.chunk.is_empty() {
                let n = buf.len().min(self.chunk.len());
                buf[..n].copy_from_slice(&self.chunk[..n]);
                self.chunk.advance(n);
                self.pos += n as u64;
                return Ok(n);
            }
            if self.pos >= self.size {
                return Ok(0);
            }
            let body = match self.body.take() {
                Some(b) => b,
                None => self.open_body()?,
            };
            let (body, next) = run(async move {
                let mut body = body;
                let next = body.next().await;
                (body, next)
            })?;
            match next {
                Some(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.body = Some(body);
                }
                Some(Err(e)) => return Err(io::Error::other(e.to_string())),
                None => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the S3 object ended early")),
            }
        }
    }
}

impl Seek for S3Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.size as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"));
        }
        let target = target as u64;
        if target != self.pos {
            self.pos = target;
            self.body = None;
            self.chunk = Bytes::new();
        }
        Ok(target)
    }
}
