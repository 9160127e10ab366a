// POST /api/batch through the SDK's pb.createBatch(): one transaction for creates, updates,
// upserts and deletes, each with the caller's auth and API rules; a failing sub-request rolls
// back everything (files included) and names its index; the settings limits.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClientResponseError } from 'pocketbase';
import { client, expectHttpError, http, RECORD_ID_RE, useServer } from '../lib/client.mjs';
import { collectionIdFor } from '../lib/schema.mjs';

const NOTES = 'batch_notes';
const LOCKED = 'batch_locked';
const DOCS = 'batch_docs';
const DOCS_ID = collectionIdFor('base', DOCS);
const USER = { email: 'batch-user@example.com', password: 'batch-pass-123' };

const ctx = useServer({}, async ({ admin }) => {
  await admin.settings.update({ batch: { enabled: true, maxRequests: 5, timeout: 3, maxBodySize: 0 } });
  await admin.collections.create({
    name: NOTES,
    type: 'base',
    listRule: '', viewRule: '', deleteRule: '',
    createRule: '@request.auth.id != ""',
    updateRule: 'owner = @request.auth.id',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'owner', type: 'text' },
    ],
  });
  await admin.collections.create({
    name: LOCKED, type: 'base', listRule: '', viewRule: '', createRule: null, fields: [{ name: 'title', type: 'text' }],
  });
  await admin.collections.create({
    id: DOCS_ID, name: DOCS, type: 'base',
    listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'files', type: 'file', maxSelect: 5, maxSize: 1 << 20 },
    ],
  });
  await admin.collection('users').create({ ...USER, passwordConfirm: USER.password });
});

async function userClient() {
  const pb = client(ctx.url);
  await pb.collection('users').authWithPassword(USER.email, USER.password);
  return pb;
}

/** Sends the batch, expecting a failure; returns the error response. */
async function failing(batch) {
  try {
    await batch.send();
  } catch (e) {
    assert.ok(e instanceof ClientResponseError, String(e));
    return e.response;
  }
  assert.fail('the batch should have failed');
}

const titles = async (coll) => (await ctx.admin.collection(coll).getFullList({ sort: 'title' })).map((r) => r.title);

describe('batch', () => {
  it('runs creates, updates, upserts and deletes in order and answers each', async () => {
    const existing = await ctx.admin.collection(DOCS).create({ id: 'batchdoc0000001', title: 'to update' });
    await ctx.admin.collection(DOCS).create({ id: 'batchdoc0000002', title: 'to delete' });
    const batch = ctx.admin.createBatch();
    batch.collection(DOCS).create({ id: 'batchdoc0000003', title: 'created' });
    batch.collection(DOCS).update(existing.id, { title: 'updated' }, { fields: 'id,title' });
    batch.collection(DOCS).upsert({ id: 'batchdoc0000004', title: 'upsert created' });
    batch.collection(DOCS).upsert({ id: 'batchdoc0000003', title: 'upsert updated' });
    batch.collection(DOCS).delete('batchdoc0000002');
    const res = await batch.send();
    assert.deepEqual(res.map((r) => r.status), [200, 200, 200, 200, 204]);
    assert.equal(res[0].body.title, 'created');
    assert.equal(res[0].body.collectionName, DOCS);
    assert.deepEqual(res[1].body, { id: existing.id, title: 'updated' }, '?fields= applies per sub-request');
    assert.equal(res[2].body.id, 'batchdoc0000004');
    assert.equal(res[3].body.title, 'upsert updated');
    assert.equal(res[4].body, null);
    assert.deepEqual(await titles(DOCS), ['updated', 'upsert created', 'upsert updated']);
  });

  it('rolls everything back when one request fails, naming its index', async () => {
    const before = await titles(DOCS);
    const batch = ctx.admin.createBatch();
    batch.collection(DOCS).create({ title: 'rolled back 1' });
    batch.collection(DOCS).update('batchdoc0000001', { title: 'rolled back 2' });
    batch.collection(DOCS).create({ title: '' });
    batch.collection(DOCS).create({ title: 'never run' });
    const err = await failing(batch);
    assert.deepEqual(err, {
      status: 400,
      message: 'Batch transaction failed.',
      data: {
        requests: {
          2: {
            code: 'batch_request_failed',
            message: 'Batch request failed.',
            response: {
              status: 400,
              message: 'Failed to create record.',
              data: { title: { code: 'validation_required', message: 'Cannot be blank.' } },
            },
          },
        },
      },
    });
    assert.deepEqual(await titles(DOCS), before);
  });

  it('later requests see the earlier ones (same transaction)', async () => {
    const batch = ctx.admin.createBatch();
    batch.collection(DOCS).create({ id: 'batchdoc0000010', title: 'first' });
    batch.collection(DOCS).update('batchdoc0000010', { title: 'first, then updated' });
    batch.collection(DOCS).delete('batchdoc0000010');
    const res = await batch.send();
    assert.deepEqual(res.map((r) => r.status), [200, 200, 204]);
    assert.equal(res[1].body.title, 'first, then updated');
    await assert.rejects(ctx.admin.collection(DOCS).getOne('batchdoc0000010'), (e) => e.status === 404);
  });

  it("applies each request's API rules with the caller's auth", async () => {
    // guest: the create rule needs an auth record
    const guestBatch = client(ctx.url).createBatch();
    guestBatch.collection(DOCS).create({ title: 'guest doc' });
    guestBatch.collection(NOTES).create({ title: 'guest note' });
    let err = await failing(guestBatch);
    assert.deepEqual(Object.keys(err.data.requests), ['1']);
    assert.deepEqual(err.data.requests[1].response, { status: 400, message: 'Failed to create record.', data: {} });
    assert.ok(!(await titles(DOCS)).includes('guest doc'));

    // a user: allowed to create, may update only own notes; superuser-only collections refuse
    const user = await userClient();
    const mine = await user.collection(NOTES).create({ title: 'mine', owner: user.authStore.record.id });
    const theirs = await ctx.admin.collection(NOTES).create({ title: 'theirs', owner: 'someone' });
    const ok = user.createBatch();
    ok.collection(NOTES).create({ title: 'user note' });
    ok.collection(NOTES).update(mine.id, { title: 'mine, updated' });
    assert.deepEqual((await ok.send()).map((r) => r.status), [200, 200]);

    const denied = user.createBatch();
    denied.collection(NOTES).create({ title: 'denied 1' });
    denied.collection(NOTES).update(theirs.id, { title: 'hijacked' });
    err = await failing(denied);
    assert.deepEqual(err.data.requests[1].response, { status: 404, message: "The requested resource wasn't found.", data: {} });

    const locked = user.createBatch();
    locked.collection(LOCKED).create({ title: 'x' });
    err = await failing(locked);
    assert.deepEqual(err.data.requests[0].response, { status: 403, message: 'Only superusers can perform this action.', data: {} });

    // the headers of a sub-request do not change who is asking
    const res = await http(ctx.url, 'POST', '/api/batch', {
      json: { requests: [{ method: 'POST', url: `/api/collections/${NOTES}/records`, body: { title: 'spoof' }, headers: { Authorization: user.authStore.token } }] },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.data.requests[0].response.message, 'Failed to create record.');
    assert.deepEqual(await titles(NOTES), ['mine, updated', 'theirs', 'user note']);
  });

  it('uploads files with the batch and removes them again on rollback', async () => {
    const storage = join(ctx.dir, 'storage', DOCS_ID);
    const listDirs = async () => (await readdir(storage).catch(() => [])).sort();
    const batch = ctx.admin.createBatch();
    batch.collection(DOCS).create({ id: 'batchfile000001', title: 'with files', files: [new File(['hello'], 'hello.txt'), new File(['world'], 'world.txt')] });
    batch.collection(DOCS).update('batchdoc0000001', { 'files+': new File(['more'], 'c.txt') });
    const res = await batch.send();
    assert.equal(res[0].body.files.length, 2);
    // as in PocketBase, a batch names an upload twice (when splitting the batch, then when storing)
    assert.match(res[0].body.files[0], /^hello_[a-z0-9]{10}_[a-z0-9]{10}\.txt$/);
    assert.equal(res[1].body.files.length, 1);
    const created = await ctx.admin.collection(DOCS).getOne('batchfile000001');
    const download = async (rec, name) => (await fetch(ctx.admin.files.getURL(rec, name))).text();
    assert.equal(await download(created, created.files[1]), 'world');
    const dirsBefore = await listDirs();
    const filesBefore = (await readdir(join(storage, 'batchdoc0000001'))).sort();

    // a failing batch: neither the new record's nor the updated record's uploads stay
    const bad = ctx.admin.createBatch();
    bad.collection(DOCS).create({ id: 'batchfile000002', title: 'rolled back', files: [new File(['x'], 'x.txt')] });
    bad.collection(DOCS).update('batchdoc0000001', { 'files+': new File(['y'], 'y.txt') });
    bad.collection(DOCS).create({ title: '' });
    const err = await failing(bad);
    assert.ok(err.data.requests[2]);
    assert.deepEqual(await listDirs(), dirsBefore, 'no directory of the rolled-back record');
    assert.deepEqual((await readdir(join(storage, 'batchdoc0000001'))).sort(), filesBefore, 'no orphan upload');

    // replacing a file in a committed batch removes the old one
    const replace = ctx.admin.createBatch();
    replace.collection(DOCS).update('batchfile000001', { files: [created.files[0]] });
    await replace.send();
    const left = (await readdir(join(storage, 'batchfile000001'))).filter((n) => !n.startsWith('thumbs_') && !n.endsWith('.attrs'));
    assert.deepEqual(left, [created.files[0]]);
  });

  it('enforces the batch settings', async () => {
    const tooMany = ctx.admin.createBatch();
    for (let i = 0; i < 6; i++) tooMany.collection(DOCS).create({ title: `n${i}` });
    let err = await failing(tooMany);
    assert.deepEqual(err, {
      status: 400,
      message: 'Invalid batch request data.',
      data: { requests: { code: 'validation_length_too_long', message: 'The length must be no more than 5.', params: { max: 5, min: 0 } } },
    });

    let res = await http(ctx.url, 'POST', '/api/batch', {
      token: ctx.admin.authStore.token,
      json: { requests: [{}, { method: 'GET', url: '/x' }, { method: 'get', url: 'x'.repeat(2001) }] },
    });
    expectHttpError(res, 400, 'Invalid batch request data.', {
      requests: {
        0: { method: { code: 'validation_required', message: 'Cannot be blank.' }, url: { code: 'validation_required', message: 'Cannot be blank.' } },
        2: {
          method: { code: 'validation_in_invalid', message: 'Must be a valid value.' },
          url: { code: 'validation_length_too_long', message: 'The length must be no more than 2000.', params: { max: 2000, min: 0 } },
        },
      },
    });

    res = await http(ctx.url, 'POST', '/api/batch', { json: { requests: [{ method: 'GET', url: '/api/health' }] } });
    assert.equal(res.body.data.requests[0].code, 'batch_request_failed');
    assert.equal(res.body.data.requests[0].response.message, 'Something went wrong while processing your request.');

    await ctx.admin.settings.update({ batch: { maxBodySize: 64 } });
    res = await http(ctx.url, 'POST', '/api/batch', { json: { requests: [{ method: 'POST', url: `/api/collections/${DOCS}/records`, body: { title: 'x'.repeat(100) } }] } });
    expectHttpError(res, 413, 'Request entity too large.');

    await ctx.admin.settings.update({ batch: { enabled: false, maxBodySize: 0 } });
    const disabled = ctx.admin.createBatch();
    disabled.collection(DOCS).create({ title: 'disabled' });
    err = await failing(disabled);
    assert.deepEqual(err, { status: 403, message: 'Batch requests are not allowed.', data: {} });
    await ctx.admin.settings.update({ batch: { enabled: true } });
    const after = ctx.admin.createBatch();
    after.collection(DOCS).create({ title: 're-enabled' });
    const [created] = await after.send();
    assert.match(created.body.id, RECORD_ID_RE);
  });
});
