// Record model hooks (onRecordCreate/Validate/CreateExecute/AfterCreateSuccess/Error, the
// same for update and delete) fire for every record write: API requests, $app.save from a
// route (the nested hooks run on another pooled instance) and the auth flows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectSdkError, http, useServer } from '../lib/client.mjs';

const HOOKS = `
onRecordCreate((e) => {
  e.record.set("title", e.record.getString("title") + "!");
  e.next();
}, "posts");
onRecordValidate((e) => {
  if (e.record.getString("title").startsWith("bad")) {
    throw new BadRequestError("Bad title.", { title: new ValidationError("bad_title", "No bad titles.") });
  }
  return e.next();
}, "posts");
onRecordCreateExecute((e) => {
  e.next();
  // wraps the insert: the record is stored now; a nested save fires the audit hooks
  const log = new Record($app.findCollectionByNameOrId("audit"));
  log.set("msg", "created " + e.record.id);
  $app.save(log);
}, "posts");
onRecordAfterCreateSuccess((e) => {
  $app.store().set("created:" + e.record.getString("title"), { id: e.record.id, isNew: e.record.isNew(), type: e.type });
  e.next();
}, "posts");
onRecordAfterCreateError((e) => {
  $app.store().set("createError", { status: e.error.status, message: e.error.message, title: e.record.getString("title") });
  e.next();
}, "posts");
onRecordCreate((e) => {
  e.record.set("msg", e.record.getString("msg") + " [audited]");
  e.next();
}, "audit");

onRecordUpdate((e) => {
  e.record.set("note", "updated to " + e.record.getString("title"));
  e.next();
}, "posts");
onRecordAfterUpdateSuccess((e) => {
  $app.store().set("updated", e.record.getString("note"));
  e.next();
}, "posts");

onRecordDelete((e) => {
  if (e.record.getString("title") === "keep!") throw new BadRequestError("This one stays.");
  e.next();
}, "posts");
onRecordAfterDeleteSuccess((e) => {
  $app.store().set("deleted", e.record.id);
  e.next();
}, "posts");

// a handler that does not call e.next() stops the write
onRecordCreate((e) => {
  if (e.record.getString("title") !== "skip") return e.next();
}, "quiet");

// an untagged handler sees every collection
onRecordAfterCreateSuccess((e) => {
  const seen = $app.store().get("collections") || [];
  const name = e.record.collection().name;
  if (!seen.includes(name)) seen.push(name);
  $app.store().set("collections", seen);
  e.next();
});

routerAdd("POST", "/make-post", (e) => {
  const r = new Record($app.findCollectionByNameOrId("posts"));
  r.set("title", e.requestInfo().body.title);
  $app.save(r);
  return e.json(200, { id: r.id, title: r.getString("title") });
});
routerAdd("POST", "/remove-post/{id}", (e) => {
  $app.delete($app.findRecordById("posts", e.request.pathValue("id")));
  return e.noContent(204);
});
routerAdd("GET", "/store/{key}", (e) => e.json(200, { value: $app.store().get(e.request.pathValue("key")) }));
`;

const ctx = useServer({ hooks: { 'model.pb.js': HOOKS } }, async ({ admin }) => {
  const fields = [{ name: 'title', type: 'text' }, { name: 'note', type: 'text' }];
  await admin.collections.create({ name: 'posts', type: 'base', listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '', fields });
  await admin.collections.create({ name: 'audit', type: 'base', listRule: '', fields: [{ name: 'msg', type: 'text' }] });
  await admin.collections.create({ name: 'quiet', type: 'base', listRule: '', createRule: '', fields: [{ name: 'title', type: 'text' }] });
});

const stored = async (key) => (await http(ctx.url, 'GET', `/store/${encodeURIComponent(key)}`)).body.value;

describe('record model hooks', () => {
  it('onRecordCreate changes the record before the insert; after-success sees the stored record', async () => {
    const rec = await ctx.guest.collection('posts').create({ title: 'hello' });
    assert.equal(rec.title, 'hello!');
    assert.equal((await ctx.admin.collection('posts').getOne(rec.id)).title, 'hello!');
    assert.deepEqual(await stored('created:hello!'), { id: rec.id, isNew: false, type: 'create' });
  });

  it('onRecordCreateExecute wraps the insert; its nested $app.save fires the other collection\'s hooks', async () => {
    const rec = await ctx.guest.collection('posts').create({ title: 'audited' });
    const logs = await ctx.admin.collection('audit').getFullList({ filter: `msg ~ "${rec.id}"` });
    assert.equal(logs.length, 1);
    assert.equal(logs[0].msg, `created ${rec.id} [audited]`);
  });

  it('onRecordValidate errors abort the write and reach onRecordAfterCreateError', async () => {
    await expectSdkError(ctx.guest.collection('posts').create({ title: 'bad idea' }), 400, 'Bad title.',
      { title: { code: 'bad_title', message: 'No bad titles.' } });
    assert.equal((await ctx.admin.collection('posts').getList(1, 1, { filter: 'title ~ "bad"' })).totalItems, 0);
    assert.deepEqual(await stored('createError'), { status: 400, message: 'Bad title.', title: 'bad idea!' });
  });

  it('$app.save in a route runs the same hooks (on another pooled instance)', async () => {
    const res = await http(ctx.url, 'POST', '/make-post', { json: { title: 'from route' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.title, 'from route!');
    assert.equal((await ctx.admin.collection('posts').getOne(res.body.id)).title, 'from route!');
    assert.equal((await stored('created:from route!')).id, res.body.id);
    assert.equal((await ctx.admin.collection('audit').getFullList({ filter: `msg ~ "${res.body.id}"` })).length, 1);
    const bad = await http(ctx.url, 'POST', '/make-post', { json: { title: 'bad route' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, 'Bad title.');
  });

  it('onRecordUpdate changes the update', async () => {
    const rec = await ctx.guest.collection('posts').create({ title: 'before' });
    const upd = await ctx.guest.collection('posts').update(rec.id, { title: 'after' });
    assert.equal(upd.title, 'after');
    assert.equal(upd.note, 'updated to after');
    assert.equal(await stored('updated'), 'updated to after');
  });

  it('onRecordDelete may refuse a delete (API and $app.delete); after-success sees the deleted record', async () => {
    const keep = await ctx.guest.collection('posts').create({ title: 'keep' });
    await expectSdkError(ctx.guest.collection('posts').delete(keep.id), 400, 'This one stays.');
    const viaRoute = await http(ctx.url, 'POST', `/remove-post/${keep.id}`);
    assert.equal(viaRoute.status, 400);
    assert.equal((await ctx.admin.collection('posts').getOne(keep.id)).id, keep.id);
    const gone = await ctx.guest.collection('posts').create({ title: 'gone' });
    await ctx.guest.collection('posts').delete(gone.id);
    assert.equal(await stored('deleted'), gone.id);
    const alsoGone = await ctx.guest.collection('posts').create({ title: 'also gone' });
    assert.equal((await http(ctx.url, 'POST', `/remove-post/${alsoGone.id}`)).status, 204);
    assert.equal(await stored('deleted'), alsoGone.id);
  });

  it('a handler that does not call e.next() stops the write', async () => {
    await ctx.guest.collection('quiet').create({ title: 'skip' });
    await ctx.guest.collection('quiet').create({ title: 'kept' });
    const all = await ctx.admin.collection('quiet').getFullList();
    assert.deepEqual(all.map((r) => r.title), ['kept']);
  });

  it('untagged handlers fire for every collection, including auth flows', async () => {
    await ctx.admin.collections.create({ name: 'members', type: 'auth', createRule: '', fields: [] });
    await ctx.guest.collection('members').create({ email: 'm@example.com', password: 'pass-123456', passwordConfirm: 'pass-123456' });
    const seen = await stored('collections');
    for (const name of ['posts', 'audit', 'quiet', 'members']) assert.ok(seen.includes(name), `${name} in ${seen}`);
    // the created member can sign in: passwords still hash through the hooked write
    const auth = await ctx.guest.collection('members').authWithPassword('m@example.com', 'pass-123456');
    assert.equal(auth.record.email, 'm@example.com');
  });
});
