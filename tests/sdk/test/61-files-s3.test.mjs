// File fields on S3 storage (a real S3-compatible server, moto, on loopback): the same suite
// as on local storage, with the objects checked in the bucket; then switching backends at
// runtime, POST /api/settings/test/s3, and buckets shared with the real PocketBase.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminClient, expectSdkError } from '../lib/client.mjs';
import { fileSuite } from '../lib/files-suite.mjs';
import { s3Settings, startS3Server } from '../lib/s3server.mjs';
import { makeTempDir, pocketbaseBin, pocketbaseMissingReason, pocketbunBin, startServer } from '../lib/server.mjs';

let s3;
let bucket;
const s3Ready = (async () => {
  s3 = await startS3Server();
  bucket = await s3.newBucket();
})();
s3Ready.catch(() => {}); // awaited (and reported) by the tests
after(() => s3?.stop());

const ctx = fileSuite({
  name: 's3',
  async setup(c) {
    await s3Ready;
    await c.admin.settings.update({ s3: s3Settings(s3, bucket) });
  },
  keys: (_ctx, prefix) => s3.listKeys(bucket, prefix),
  head: (key) => s3.head(bucket, key),
});

describe('files (s3): settings', () => {
  const FAILED = 'Failed to test the S3 filesystem.';

  it('the stored settings point at the bucket and nothing lands in pb_data/storage', async () => {
    const settings = await ctx.admin.settings.getAll();
    assert.equal(settings.s3.enabled, true);
    assert.equal(settings.s3.bucket, bucket);
    assert.equal(settings.s3.secret, undefined, 'the secret is never returned');
    assert.ok((await s3.listKeys(bucket, `${ctx.docsId}/`)).length > 0);
    assert.equal(existsSync(join(ctx.dir, 'storage', ctx.docsId)), false);
  });

  it('test/s3 uploads and deletes a test file in the configured bucket', async () => {
    assert.equal(await ctx.admin.settings.testS3('storage'), true);
    assert.deepEqual(await s3.listKeys(bucket, 'pb_settings_test_'), []);
  });

  it('test/s3 reports a disabled backups S3, a missing bucket and bad input like PocketBase', async () => {
    await expectSdkError(ctx.admin.settings.testS3('backups'), 400, `${FAILED} Raw error: \nS3 storage filesystem is not enabled.`);
    await expectSdkError(ctx.admin.settings.testS3('other'), 400, FAILED, {
      filesystem: { code: 'validation_in_invalid', message: 'Must be a valid value.' },
    });
    await ctx.admin.settings.update({ backups: { s3: s3Settings(s3, 'no-such-bucket-pocketbun') } });
    let err;
    try { await ctx.admin.settings.testS3('backups'); } catch (e) { err = e; }
    assert.equal(err?.status, 400);
    assert.ok(err.response.message.startsWith(`${FAILED} Raw error: \nfailed to upload a test file: `), err.response.message);
    assert.deepEqual(err.response.data, {});
    // a server that is not there
    await ctx.admin.settings.update({ backups: { s3: s3Settings(s3, bucket, { endpoint: 'http://127.0.0.1:9' }) } });
    try { await ctx.admin.settings.testS3('backups'); err = null; } catch (e) { err = e; }
    assert.equal(err?.status, 400);
    assert.match(err.response.message, /^Failed to test the S3 filesystem\. Raw error: \nfailed to upload a test file: /);
    // the backups block pointing at the good bucket passes
    await ctx.admin.settings.update({ backups: { s3: s3Settings(s3, bucket) } });
    assert.equal(await ctx.admin.settings.testS3('backups'), true);
  });

  it('switching storage at runtime takes effect on the next request', async () => {
    const docs = ctx.admin.collection('docs');
    const onS3 = await docs.create({ doc: new File(['on s3'], 'where.txt') });
    assert.deepEqual(await s3.listKeys(bucket, `${ctx.docsId}/${onS3.id}/`), [`${ctx.docsId}/${onS3.id}/${onS3.doc}`]);

    await ctx.admin.settings.update({ s3: { enabled: false } });
    const onDisk = await docs.create({ doc: new File(['on disk'], 'where.txt') });
    assert.ok(existsSync(join(ctx.dir, 'storage', ctx.docsId, onDisk.id, onDisk.doc)));
    assert.deepEqual(await s3.listKeys(bucket, `${ctx.docsId}/${onDisk.id}/`), []);
    assert.equal(await (await fetch(ctx.admin.files.getURL(onDisk, onDisk.doc))).text(), 'on disk');
    assert.equal((await fetch(ctx.admin.files.getURL(onS3, onS3.doc))).status, 404, 'S3 files are not on disk');

    await ctx.admin.settings.update({ s3: { enabled: true } });
    assert.equal(await (await fetch(ctx.admin.files.getURL(onS3, onS3.doc))).text(), 'on s3');
    assert.equal((await fetch(ctx.admin.files.getURL(onDisk, onDisk.doc))).status, 404, 'local files are not in the bucket');
    await docs.delete(onS3.id);
    assert.deepEqual(await s3.listKeys(bucket, `${ctx.docsId}/${onS3.id}/`), []);
  });
});

// A bucket written by PocketBase is served by PocketBun and the other way round: the same
// pb_data (collections, records, S3 settings) runs on either server against one bucket.
const POCKETBASE = pocketbaseBin();
const SKIP = POCKETBASE ? false : pocketbaseMissingReason();
if (SKIP) console.log(`skipping S3 interchange tests: ${SKIP}`);

describe('files (s3): buckets shared with PocketBase', { skip: SKIP }, () => {
  let baseDir;
  let shared;
  before(async () => {
    await s3Ready;
    baseDir = await makeTempDir('pbsdk-s3x-');
    shared = await s3.newBucket();
  });
  after(() => baseDir && rm(baseDir, { recursive: true, force: true }));

  const serve = (bin) => startServer({ bin, baseDir, keepDir: true });

  it('PocketBase uploads, PocketBun serves and deletes; PocketBun uploads, PocketBase serves', async () => {
    let srv = await serve(POCKETBASE);
    let admin = await adminClient(srv.url);
    await admin.settings.update({ s3: s3Settings(s3, shared) });
    await admin.collections.create({
      name: 'shared_docs', type: 'base', listRule: '', viewRule: '',
      fields: [{ name: 'doc', type: 'file', maxSelect: 1, thumbs: ['10x10'] }],
    });
    const byPb = await admin.collection('shared_docs').create({ doc: new File(['written by PocketBase'], 'From PB.txt') });
    await srv.stop();
    const pbKeys = await s3.listKeys(shared, `${byPb.collectionId}/${byPb.id}/`);
    assert.deepEqual(pbKeys, [`${byPb.collectionId}/${byPb.id}/${byPb.doc}`]);
    const pbHead = await s3.head(shared, pbKeys[0]);

    srv = await serve(pocketbunBin());
    admin = await adminClient(srv.url);
    const res = await fetch(admin.files.getURL(byPb, byPb.doc));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'written by PocketBase');
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    const byBun = await admin.collection('shared_docs').create({ doc: new File(['written by PocketBun'], 'From PB.txt') });
    const bunHead = await s3.head(shared, `${byBun.collectionId}/${byBun.id}/${byBun.doc}`);
    for (const h of ['content-type', 'x-amz-meta-original-filename']) assert.equal(bunHead.get(h), pbHead.get(h), h);
    await admin.collection('shared_docs').delete(byPb.id);
    assert.deepEqual(await s3.listKeys(shared, `${byPb.collectionId}/${byPb.id}/`), []);
    await srv.stop();

    srv = await serve(POCKETBASE);
    admin = await adminClient(srv.url);
    const back = await fetch(admin.files.getURL(byBun, byBun.doc));
    assert.equal(await back.text(), 'written by PocketBun');
    await srv.stop();
  });
});
