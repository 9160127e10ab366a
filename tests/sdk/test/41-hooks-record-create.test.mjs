// onRecordCreateRequest hooks from pb_hooks around the records create API, with
// PocketBase's e.next() semantics: change e.record before e.next(), see the stored record
// after it, stop the chain by throwing, or answer without calling e.next().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectSdkError, http, useServer } from '../lib/client.mjs';

const HOOKS = `
onRecordCreateRequest((e) => {
  e.record.set("title", e.record.getString("title").toUpperCase());
  e.next();
  $app.store().set("lastCreated", e.record.id);
}, "posts");
onRecordCreateRequest((e) => {
  e.record.set("note", "seen by the second handler");
  return e.next();
}, "posts");
onRecordCreateRequest((e) => {
  if (e.record.getString("title") === "forbidden") throw new BadRequestError("Title not allowed.", { title: new ValidationError("not_allowed", "Pick another.") });
  return e.next();
}, "guarded");
onRecordCreateRequest((e) => e.json(202, { skipped: e.record.getString("title"), by: e.auth ? e.auth.collection().name : null }), "answered");
routerAdd("GET", "/last-created", (e) => e.json(200, { id: $app.store().get("lastCreated") }));
`;

const fields = [{ name: 'title', type: 'text' }, { name: 'note', type: 'text' }];

const ctx = useServer({ hooks: { 'create.pb.js': HOOKS } }, async ({ admin }) => {
  for (const name of ['posts', 'guarded', 'answered', 'plain']) {
    await admin.collections.create({ name, type: 'base', listRule: '', viewRule: '', createRule: '', fields });
  }
});

describe('onRecordCreateRequest', () => {
  it('handlers change the record before e.next() and see the stored record after it', async () => {
    const rec = await ctx.guest.collection('posts').create({ title: 'hello' });
    assert.equal(rec.title, 'HELLO');
    assert.equal(rec.note, 'seen by the second handler');
    assert.equal((await ctx.admin.collection('posts').getOne(rec.id)).title, 'HELLO');
    assert.deepEqual((await http(ctx.url, 'GET', '/last-created')).body, { id: rec.id });
  });

  it('a throwing handler stops the chain: its error is the response, nothing is saved', async () => {
    await expectSdkError(ctx.guest.collection('guarded').create({ title: 'forbidden' }), 400, 'Title not allowed.',
      { title: { code: 'not_allowed', message: 'Pick another.' } });
    assert.equal((await ctx.admin.collection('guarded').getList(1, 10)).totalItems, 0);
    const ok = await ctx.guest.collection('guarded').create({ title: 'fine' });
    assert.equal(ok.title, 'fine');
  });

  it('a handler may answer itself without e.next(): nothing is saved', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections/answered/records', { json: { title: 'x' }, token: ctx.admin.authStore.token });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { skipped: 'x', by: '_superusers' });
    assert.equal((await ctx.admin.collection('answered').getList(1, 10)).totalItems, 0);
  });

  it('hooks tagged for other collections do not run', async () => {
    const rec = await ctx.guest.collection('plain').create({ title: 'lower' });
    assert.equal(rec.title, 'lower');
    assert.equal(rec.note, '');
  });

  it('API validation still applies inside e.next()', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections/posts/records', { json: { title: 'x', id: 'bad id!' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.message, 'Failed to create record.');
    assert.deepEqual(Object.keys(res.body.data), ['id']);
  });
});
