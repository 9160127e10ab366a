// Record request hooks (list/view/update/delete; create is covered by 41), onRecordEnrich
// on every record the records API returns, and cronAdd jobs in /api/crons.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectSdkError, http, useServer } from '../lib/client.mjs';

const HOOKS = `
onRecordsListRequest((e) => {
  e.result.totalItems = e.result.totalItems + 1000;
  for (const r of e.records) r.set("title", "listed " + r.getString("title"));
  return e.next();
}, "notes");
onRecordViewRequest((e) => {
  if (e.record.getString("title") === "secret") throw new ForbiddenError("Not this one.");
  e.record.set("title", "viewed " + e.record.getString("title"));
  return e.next();
}, "notes");
onRecordUpdateRequest((e) => {
  e.record.set("note", "changed by " + (e.auth ? e.auth.collection().name : "guest"));
  return e.next();
}, "notes");
onRecordDeleteRequest((e) => {
  if (e.record.getString("title") === "pinned") return e.json(409, { refused: e.record.id });
  e.next();
  $app.store().set("deletedViaApi", e.record.id);
}, "notes");
onRecordEnrich((e) => {
  e.record.hide("note");
  e.record.set("titleLength", e.record.getString("title").length);
  return e.next();
}, "cards");
cronAdd("hooksTestJob", "*/5 * * * *", () => {
  const r = new Record($app.findCollectionByNameOrId("cards"));
  r.set("title", "from cron");
  $app.save(r);
});
cronAdd("removedJob", "@daily", () => {});
cronRemove("removedJob");
routerAdd("GET", "/store/{key}", (e) => e.json(200, { value: $app.store().get(e.request.pathValue("key")) }));
`;

const ctx = useServer({ hooks: { 'requests.pb.js': HOOKS } }, async ({ admin }) => {
  const fields = [{ name: 'title', type: 'text' }, { name: 'note', type: 'text' }];
  const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
  await admin.collections.create({ name: 'notes', type: 'base', ...open, fields });
  await admin.collections.create({ name: 'cards', type: 'base', ...open, fields });
});

describe('record request hooks', () => {
  it('onRecordsListRequest changes e.records and e.result', async () => {
    await ctx.admin.collection('notes').create({ title: 'a' });
    const list = await ctx.guest.collection('notes').getList(1, 10, { filter: 'title = "a"' });
    assert.equal(list.totalItems, 1001);
    assert.deepEqual(list.items.map((r) => r.title), ['listed a']);
  });

  it('onRecordViewRequest changes the record or stops the chain with an error', async () => {
    const rec = await ctx.admin.collection('notes').create({ title: 'b' });
    assert.equal((await ctx.guest.collection('notes').getOne(rec.id)).title, 'viewed b');
    const secret = await ctx.admin.collection('notes').create({ title: 'secret' });
    await expectSdkError(ctx.guest.collection('notes').getOne(secret.id), 403, 'Not this one.');
  });

  it('onRecordUpdateRequest changes what is saved', async () => {
    const rec = await ctx.admin.collection('notes').create({ title: 'c' });
    const upd = await ctx.admin.collection('notes').update(rec.id, { title: 'c2' });
    assert.equal(upd.title, 'c2');
    assert.equal(upd.note, 'changed by _superusers');
    const guestUpd = await ctx.guest.collection('notes').update(rec.id, { title: 'c3' });
    assert.equal(guestUpd.note, 'changed by guest');
    assert.equal((await ctx.admin.collection('notes').getOne(rec.id)).note, 'changed by guest');
  });

  it('onRecordDeleteRequest may answer itself (nothing deleted) or wrap the delete', async () => {
    const pinned = await ctx.admin.collection('notes').create({ title: 'pinned' });
    const res = await http(ctx.url, 'DELETE', `/api/collections/notes/records/${pinned.id}`);
    assert.equal(res.status, 409);
    assert.deepEqual(res.body, { refused: pinned.id });
    assert.equal((await ctx.admin.collection('notes').getOne(pinned.id)).id, pinned.id);
    const gone = await ctx.admin.collection('notes').create({ title: 'gone' });
    await ctx.guest.collection('notes').delete(gone.id);
    await expectSdkError(ctx.admin.collection('notes').getOne(gone.id), 404, "The requested resource wasn't found.");
    assert.equal((await http(ctx.url, 'GET', '/store/deletedViaApi')).body.value, gone.id);
  });

  it('onRecordEnrich hides and adds fields in list, view, create and update responses', async () => {
    const created = await ctx.guest.collection('cards').create({ title: 'card', note: 'private' });
    assert.equal(created.note, undefined);
    assert.equal(created.titleLength, 4);
    const viewed = await ctx.guest.collection('cards').getOne(created.id);
    assert.equal(viewed.note, undefined);
    assert.equal(viewed.titleLength, 4);
    assert.equal(viewed.collectionName, 'cards');
    const listed = await ctx.guest.collection('cards').getFullList();
    assert.ok(listed.every((r) => r.note === undefined && r.titleLength === r.title.length));
    const updated = await ctx.guest.collection('cards').update(created.id, { title: 'longer' });
    assert.equal(updated.titleLength, 6);
    // stored values are untouched
    const rows = await http(ctx.url, 'GET', `/api/collections/notes/records?perPage=1`);
    assert.equal(rows.status, 200);
  });

  it('cronAdd jobs are listed in /api/crons and run with POST /api/crons/{id}', async () => {
    const jobs = await ctx.admin.crons.getFullList();
    assert.deepEqual(jobs[0], { id: 'hooksTestJob', expression: '*/5 * * * *' });
    assert.ok(!jobs.some((j) => j.id === 'removedJob'));
    assert.ok(jobs.some((j) => j.id === '__pbDBOptimize__'));
    await ctx.admin.crons.run('hooksTestJob');
    let found = [];
    for (let i = 0; i < 50 && !found.length; i++) {
      found = await ctx.admin.collection('cards').getFullList({ filter: 'title = "from cron"' });
      if (!found.length) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(found.length, 1);
    await expectSdkError(ctx.admin.crons.run('removedJob'), 404, 'Missing or invalid cron job.');
  });
});

describe('onRecordAuthRequest', () => {
  it('sees every sign-in and may change the response', async () => {
    const hooks = `
onRecordAuthRequest((e) => {
  e.meta = { via: e.authMethod, who: e.record.email() };
  e.record.set("greeting", "hi " + e.record.getString("name"));
  return e.next();
}, "people");`;
    const { startServer } = await import('../lib/server.mjs');
    const { adminClient, client } = await import('../lib/client.mjs');
    const server = await startServer({ hooks: { 'auth.pb.js': hooks } });
    try {
      const admin = await adminClient(server.url);
      await admin.collections.create({ name: 'people', type: 'auth', createRule: '', fields: [{ name: 'name', type: 'text' }] });
      await admin.collection('people').create({ email: 'p@example.com', name: 'Pat', password: 'pass-123456', passwordConfirm: 'pass-123456' });
      const pb = client(server.url);
      const res = await pb.collection('people').authWithPassword('p@example.com', 'pass-123456');
      assert.deepEqual(res.meta, { via: 'password', who: 'p@example.com' });
      assert.equal(res.record.greeting, 'hi Pat');
      const refreshed = await pb.collection('people').authRefresh();
      assert.equal(refreshed.meta.via, '');
      assert.ok(refreshed.token);
    } finally {
      await server.stop();
    }
  });
});
