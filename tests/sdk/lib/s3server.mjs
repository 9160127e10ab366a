// A real S3-compatible server for the S3 storage tests: moto's standalone server
// (`moto_server`, PyPI `moto[server]`), started on loopback for one test file.
// MOTO_SERVER_BIN names the binary (scripts/test-all installs it into a cache venv);
// otherwise `moto_server` is looked up on PATH.
import { spawn } from 'node:child_process';
import { freePort } from './server.mjs';

export const S3_REGION = 'us-east-1';
export const S3_ACCESS_KEY = 'pocketbun-test';
export const S3_SECRET = 'pocketbun-test-secret';

// moto checks no signatures but treats requests without credentials as anonymous
const AUTH = `AWS4-HMAC-SHA256 Credential=${S3_ACCESS_KEY}/20260101/${S3_REGION}/s3/aws4_request, SignedHeaders=host, Signature=0`;

export async function startS3Server() {
  const bin = process.env.MOTO_SERVER_BIN || 'moto_server';
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output = (output + d).slice(-10_000); });
  child.stderr.on('data', (d) => { output = (output + d).slice(-10_000); });
  const failed = new Promise((_, reject) => {
    child.on('error', (e) => reject(new Error(`cannot start ${bin} (install moto[server] or set MOTO_SERVER_BIN): ${e.message}`)));
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}:\n${output}`);
    const up = await Promise.race([fetch(url + '/').then(() => true, () => false), failed]);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`${bin} not up after 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const request = (method, path, init = {}) => fetch(url + path, { method, ...init, headers: { Authorization: AUTH, ...(init.headers ?? {}) } });
  let buckets = 0;
  return {
    url,
    /** Creates a new, empty bucket and returns its name. */
    async newBucket() {
      const name = `pb-test-${process.pid}-${++buckets}-${Date.now()}`;
      const res = await request('PUT', `/${name}`);
      if (res.status !== 200) throw new Error(`create bucket ${name}: ${res.status} ${await res.text()}`);
      return name;
    },
    /** The keys under `prefix`, sorted. */
    async listKeys(bucket, prefix = '') {
      const res = await request('GET', `/${bucket}?list-type=2&max-keys=1000&prefix=${encodeURIComponent(prefix)}`);
      const xml = await res.text();
      if (res.status !== 200) throw new Error(`list ${bucket}: ${res.status} ${xml}`);
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1].replaceAll('&amp;', '&')).sort();
    },
    /** An object's headers (content-type, x-amz-meta-*), or null when it does not exist. */
    async head(bucket, key) {
      const res = await request('HEAD', `/${bucket}/${key}`);
      return res.status === 200 ? res.headers : null;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.on('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** The settings `s3` block pointing at `bucket` on the server. */
export function s3Settings(server, bucket, overrides = {}) {
  return {
    enabled: true, endpoint: server.url, bucket, region: S3_REGION,
    accessKey: S3_ACCESS_KEY, secret: S3_SECRET, forcePathStyle: true, ...overrides,
  };
}
