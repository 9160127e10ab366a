// SDK and raw-HTTP helpers shared by the test files.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import PocketBase, { ClientResponseError } from 'pocketbase';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startServer } from './server.mjs';

/** A guest SDK client (auto-cancellation off: tests issue overlapping identical requests). */
export function client(url) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  return pb;
}

/** An SDK client authenticated as the admin superuser. */
export async function adminClient(url) {
  const pb = client(url);
  await pb.collection('_superusers').authWithPassword(ADMIN_EMAIL, ADMIN_PASSWORD);
  return pb;
}

/**
 * Registers before/after hooks that start a fresh server for the current test file.
 * Returns a context object filled before the first test: {url, dir, admin, guest, server}.
 * `setup(ctx)`, if given, runs once the server is up (use it instead of another top-level
 * `before`, whose order relative to this one node:test does not guarantee).
 */
export function useServer(options = {}, setup = null) {
  const ctx = {};
  before(async () => {
    ctx.server = await startServer(options);
    ctx.url = ctx.server.url;
    ctx.dir = ctx.server.dir;
    ctx.admin = await adminClient(ctx.url);
    ctx.guest = client(ctx.url);
    if (setup) await setup(ctx);
  });
  after(async () => {
    await ctx.server?.stop();
  });
  return ctx;
}

/**
 * Raw HTTP request. `json` is serialised as the body with a JSON content type; `body` is sent
 * as is. `token` goes into the Authorization header.
 * Returns {status, headers, text, body} where body is the parsed JSON (or null).
 */
export async function http(url, method, path, { json, body, headers = {}, token } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = token;
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] ??= 'application/json';
  } else if (body !== undefined) {
    init.body = body;
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** Builds the standard error envelope. */
export function envelope(status, message, data = {}) {
  return { data, message, status };
}

/** Awaits an SDK call that must fail and checks the full error envelope. */
export async function expectSdkError(promise, status, message, data = {}) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected the call to fail with ${status} ${message}`);
  assert.ok(err instanceof ClientResponseError, `expected a ClientResponseError, got ${err}`);
  assert.equal(err.status, status, `status (response: ${JSON.stringify(err.response)})`);
  assert.deepEqual(err.response, envelope(status, message, data));
  return err;
}

/** Checks a raw response against the standard error envelope. */
export function expectHttpError(res, status, message, data = {}) {
  assert.equal(res.status, status, `status (body: ${res.text})`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(res.body, envelope(status, message, data));
}

/** Decodes a JWT payload (no signature check). */
export function decodeJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'JWT has three parts');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  return { header, payload };
}

/** `YYYY-MM-DD HH:MM:SS.mmmZ`, the canonical PocketBase date format. */
export const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Default auto-generated record id. */
export const RECORD_ID_RE = /^[a-z0-9]{15}$/;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
