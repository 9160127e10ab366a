// Realtime: the SSE stream, subscriptions through the SDK (both topic kinds, options), rule-gated
// delivery to users with different rights, delete/cascade/batch events, auth changes and a
// slow client. Validated against PocketBase 0.40.6.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { client, expectHttpError, http, useServer } from '../lib/client.mjs';
import { actions, collect, rawSse, sleep, waitUntil } from '../lib/realtime.mjs';
import { collectionIdFor } from '../lib/schema.mjs';

const IS_POCKETBASE = /pocketbase$/.test(process.env.POCKETBUN_BIN ?? '');
const QUIET_MS = 400; // how long "nothing else arrives" is observed

const USERS_ID = '_pb_users_auth_';
const TAGS_ID = collectionIdFor('base', 'rt_tags');
let alice; let bob; // {record, pb}
const ctx = useServer({ env: { POCKETBUN_REALTIME_QUEUE: '8' } }, async ({ admin, url }) => {
  const pub = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
  await admin.collections.create({ name: 'rt_tags', type: 'base', ...pub, fields: [{ name: 'name', type: 'text' }] });
  await admin.collections.create({
    name: 'rt_posts', type: 'base', ...pub,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'views', type: 'number' },
      { name: 'note', type: 'text', hidden: true },
      { name: 'tag', type: 'relation', collectionId: TAGS_ID, maxSelect: 1, cascadeDelete: true },
      { name: 'big', type: 'editor', maxSize: 2000000 },
    ],
  });
  const own = 'owner = @request.auth.id';
  await admin.collections.create({
    name: 'rt_notes', type: 'base', listRule: own, viewRule: own, createRule: '', updateRule: '', deleteRule: '',
    fields: [{ name: 'title', type: 'text' }, { name: 'owner', type: 'relation', collectionId: USERS_ID, maxSelect: 1 }],
  });
  await admin.collections.create({
    name: 'rt_locked', type: 'base', listRule: null, viewRule: null, fields: [{ name: 'title', type: 'text' }],
  });
  await admin.collections.create({
    name: 'rt_view', type: 'view', listRule: '', viewRule: '', viewQuery: 'SELECT id, title FROM rt_posts',
  });
  await admin.collections.update('users', { listRule: '', viewRule: '' });
  for (const name of ['alice', 'bob']) {
    const email = `${name}@example.com`;
    const record = await admin.collection('users').create({ email, password: 'pass-12345678', passwordConfirm: 'pass-12345678', name });
    const pb = client(url);
    await pb.collection('users').authWithPassword(email, 'pass-12345678');
    if (name === 'alice') alice = { record, pb }; else bob = { record, pb };
  }
});

const clients = [];
function newClient(authPb = null) {
  const pb = client(ctx.url);
  if (authPb) pb.authStore.save(authPb.authStore.token, authPb.authStore.record);
  clients.push(pb);
  return pb;
}
after(() => { for (const pb of clients) pb.realtime.disconnect(); });

describe('connection', () => {
  it('GET /api/realtime streams PB_CONNECT with the client id as event id', async () => {
    const sse = await rawSse(ctx.url);
    try {
      assert.match(sse.headers, /^HTTP\/1\.1 200/);
      assert.match(sse.headers, /content-type: text\/event-stream/i);
      assert.match(sse.headers, /cache-control: no-store/i);
      assert.match(sse.headers, /x-accel-buffering: no/i);
      assert.match(sse.clientId, /^[A-Za-z0-9]{40}$/);
      assert.deepEqual(sse.messages[0], { id: sse.clientId, event: 'PB_CONNECT', data: `{"clientId":"${sse.clientId}"}` });
      // subscribing the raw client works and an empty list unsubscribes
      const res = await http(ctx.url, 'POST', '/api/realtime', { json: { clientId: sse.clientId, subscriptions: ['rt_posts'] } });
      assert.equal(res.status, 204);
      const res2 = await http(ctx.url, 'POST', '/api/realtime', { json: { clientId: sse.clientId, subscriptions: [] } });
      assert.equal(res2.status, 204);
    } finally {
      sse.close();
    }
  });

  it('POST validation and unknown clients', async () => {
    const res = await http(ctx.url, 'POST', '/api/realtime', { json: { subscriptions: ['x'] } });
    expectHttpError(res, 400, 'Something went wrong while processing your request.', {
      clientId: { code: 'validation_required', message: 'Cannot be blank.' },
    });
    const res2 = await http(ctx.url, 'POST', '/api/realtime', { json: { clientId: 'missing', subscriptions: [] } });
    expectHttpError(res2, 404, 'Missing or invalid client id.');
  });

  it('the bound auth cannot be swapped for another user', async () => {
    const sse = await rawSse(ctx.url);
    try {
      const body = { clientId: sse.clientId, subscriptions: ['rt_posts'] };
      assert.equal((await http(ctx.url, 'POST', '/api/realtime', { json: body, token: alice.pb.authStore.token })).status, 204);
      const res = await http(ctx.url, 'POST', '/api/realtime', { json: body, token: bob.pb.authStore.token });
      expectHttpError(res, 403, "The current and the previous request authorization don't match.");
      const guest = await http(ctx.url, 'POST', '/api/realtime', { json: body });
      expectHttpError(guest, 403, "The current and the previous request authorization don't match.");
    } finally {
      sse.close();
    }
  });
});

describe('record events', () => {
  it('collection topic: create, update, delete; unsubscribe stops them', async () => {
    const pb = newClient();
    const { events, unsubscribe } = await collect(pb, 'rt_posts', '*');
    const posts = ctx.admin.collection('rt_posts');
    const rec = await posts.create({ title: 'a', views: 1, note: 'hidden' });
    await posts.update(rec.id, { views: 2 });
    await posts.delete(rec.id);
    await waitUntil(() => events.length >= 3, 5000, '3 events');
    await sleep(QUIET_MS);
    assert.deepEqual(actions(events), [`create:${rec.id}`, `delete:${rec.id}`, `update:${rec.id}`].sort());
    const byAction = Object.fromEntries(events.map((e) => [e.action, e.record]));
    const guestView = { ...rec };
    delete guestView.note; // hidden field: not for guests
    assert.deepEqual(byAction.create, guestView);
    assert.deepEqual(byAction.update, { ...guestView, views: 2 });
    assert.deepEqual(byAction.delete, { ...guestView, views: 2 });
    await unsubscribe();
    await posts.create({ title: 'after' });
    await sleep(QUIET_MS);
    assert.equal(events.length, 3);
  });

  it('record topic only hears its record; superusers see hidden fields', async () => {
    const posts = ctx.admin.collection('rt_posts');
    const a = await posts.create({ title: 'a', note: 'n' });
    const b = await posts.create({ title: 'b' });
    const guest = newClient();
    const admin = newClient(ctx.admin);
    const g = await collect(guest, 'rt_posts', a.id);
    const s = await collect(admin, 'rt_posts', a.id);
    await posts.update(a.id, { title: 'a2' });
    await posts.update(b.id, { title: 'b2' });
    await waitUntil(() => g.events.length >= 1 && s.events.length >= 1, 5000, 'record events');
    await sleep(QUIET_MS);
    assert.deepEqual(actions(g.events), [`update:${a.id}`]);
    assert.deepEqual(actions(s.events), [`update:${a.id}`]);
    assert.equal(g.events[0].record.note, undefined);
    assert.equal(s.events[0].record.note, 'n');
  });

  it('options: expand, fields and filter are applied per subscription', async () => {
    const tag = await ctx.admin.collection('rt_tags').create({ name: 'red' });
    const pb = newClient();
    const picked = await collect(pb, 'rt_posts', '*', { expand: 'tag', fields: 'id,title,expand.tag.name' });
    const filtered = await collect(pb, 'rt_posts', '*', { filter: 'views > 10' });
    const hot = await ctx.admin.collection('rt_posts').create({ title: 'hot', views: 50, tag: tag.id });
    const cold = await ctx.admin.collection('rt_posts').create({ title: 'cold', views: 1 });
    await waitUntil(() => picked.events.length >= 2 && filtered.events.length >= 1, 5000, 'option events');
    await sleep(QUIET_MS);
    const byId = Object.fromEntries(picked.events.map((e) => [e.record.id, e.record]));
    assert.deepEqual(byId[hot.id], { id: hot.id, title: 'hot', expand: { tag: { name: 'red' } } });
    assert.deepEqual(byId[cold.id], { id: cold.id, title: 'cold', expand: {} });
    assert.deepEqual(actions(filtered.events), [`create:${hot.id}`]);
  });

  it('listRule/viewRule gate delivery per subscriber auth', async () => {
    const guest = newClient();
    const a = newClient(alice.pb);
    const b = newClient(bob.pb);
    const su = newClient(ctx.admin);
    const ga = await collect(guest, 'rt_notes', '*');
    const aa = await collect(a, 'rt_notes', '*');
    const bb = await collect(b, 'rt_notes', '*');
    const ss = await collect(su, 'rt_notes', '*');
    const notes = ctx.admin.collection('rt_notes');
    const na = await notes.create({ title: 'for alice', owner: alice.record.id });
    const nb = await notes.create({ title: 'for bob', owner: bob.record.id });
    // bob watching alice's note by id hears nothing (viewRule)
    const bWatch = await collect(b, 'rt_notes', na.id);
    const aWatch = await collect(a, 'rt_notes', na.id);
    await notes.update(na.id, { title: 'for alice 2' });
    await notes.delete(nb.id);
    await waitUntil(() => ss.events.length >= 4 && aa.events.length >= 2 && bb.events.length >= 2 && aWatch.events.length >= 1,
      5000, 'gated events');
    await sleep(QUIET_MS);
    assert.deepEqual(actions(ga.events), []);
    assert.deepEqual(actions(aa.events), [`create:${na.id}`, `update:${na.id}`].sort());
    assert.deepEqual(actions(bb.events), [`create:${nb.id}`, `delete:${nb.id}`].sort());
    assert.deepEqual(actions(ss.events), [`create:${na.id}`, `create:${nb.id}`, `delete:${nb.id}`, `update:${na.id}`].sort());
    assert.deepEqual(actions(bWatch.events), []);
    assert.deepEqual(actions(aWatch.events), [`update:${na.id}`]);
  });

  it('locked rules: only superusers; view collections: no events', async () => {
    const guest = newClient();
    const su = newClient(ctx.admin);
    const g = await collect(guest, 'rt_locked', '*');
    const s = await collect(su, 'rt_locked', '*');
    const v = await collect(su, 'rt_view', '*');
    const rec = await ctx.admin.collection('rt_locked').create({ title: 'x' });
    await ctx.admin.collection('rt_posts').create({ title: 'feeds the view' });
    await waitUntil(() => s.events.length >= 1, 5000, 'superuser event');
    await sleep(QUIET_MS);
    assert.deepEqual(actions(g.events), []);
    assert.deepEqual(actions(s.events), [`create:${rec.id}`]);
    assert.deepEqual(v.events, []);
  });

  it('cascade deletes are delivered as delete events', async () => {
    const tag = await ctx.admin.collection('rt_tags').create({ name: 'doomed' });
    const p1 = await ctx.admin.collection('rt_posts').create({ title: 'c1', tag: tag.id });
    const p2 = await ctx.admin.collection('rt_posts').create({ title: 'c2', tag: tag.id });
    const pb = newClient();
    const posts = await collect(pb, 'rt_posts', '*');
    const tags = await collect(pb, 'rt_tags', '*');
    await ctx.admin.collection('rt_tags').delete(tag.id);
    await waitUntil(() => posts.events.length >= 2 && tags.events.length >= 1, 5000, 'cascade events');
    await sleep(QUIET_MS);
    assert.deepEqual(actions(posts.events), [`delete:${p1.id}`, `delete:${p2.id}`].sort());
    assert.deepEqual(actions(tags.events), [`delete:${tag.id}`]);
  });

  it('a batch of writes delivers one event per write', async () => {
    await ctx.admin.settings.update({ batch: { enabled: true, maxRequests: 50, timeout: 3, maxBodySize: 0 } });
    const pb = newClient();
    const { events } = await collect(pb, 'rt_tags', '*');
    const batch = ctx.admin.createBatch();
    batch.collection('rt_tags').create({ id: 'batchtag0000001', name: 'b1' });
    batch.collection('rt_tags').create({ id: 'batchtag0000002', name: 'b2' });
    batch.collection('rt_tags').update('batchtag0000001', { name: 'b1x' });
    await batch.send();
    await waitUntil(() => events.length >= 3, 5000, 'batch events');
    await sleep(QUIET_MS);
    assert.deepEqual(actions(events), ['create:batchtag0000001', 'create:batchtag0000002', 'update:batchtag0000001']);
    // a failing batch is rolled back: no events
    const bad = ctx.admin.createBatch();
    bad.collection('rt_tags').create({ id: 'batchtag0000003', name: 'b3' });
    bad.collection('rt_tags').create({ id: 'batchtag0000001', name: 'duplicate id' });
    await assert.rejects(bad.send());
    await sleep(QUIET_MS);
    assert.equal(events.length, 3);
  });
});

describe('auth changes', () => {
  it('a deleted auth record leaves its client subscribed as a guest', async () => {
    const email = 'carol@example.com';
    const carolRec = await ctx.admin.collection('users').create({ email, password: 'pass-12345678', passwordConfirm: 'pass-12345678' });
    const carol = client(ctx.url);
    await carol.collection('users').authWithPassword(email, 'pass-12345678');
    const pb = newClient(carol);
    const { events } = await collect(pb, 'rt_notes', '*');
    const notes = ctx.admin.collection('rt_notes');
    const mine = await notes.create({ title: 'carol', owner: carolRec.id });
    const orphan1 = await notes.create({ title: 'nobody 1' });
    await waitUntil(() => events.length >= 1, 5000, "carol's note");
    await ctx.admin.collection('users').delete(carolRec.id);
    await sleep(200);
    const orphan2 = await notes.create({ title: 'nobody 2' });
    await waitUntil(() => events.length >= 2, 5000, 'guest event');
    await sleep(QUIET_MS);
    // as a guest `owner = @request.auth.id` matches ownerless notes
    assert.deepEqual(actions(events), [`create:${mine.id}`, `create:${orphan2.id}`].sort());
    assert.ok(!actions(events).includes(`create:${orphan1.id}`));
  });
});

describe('auth collection changes', () => {
  /** An auth collection with one member subscribed (with its auth) to a members-only collection. */
  async function memberSubscribed(name) {
    await ctx.admin.collections.create({ name, type: 'auth', listRule: '', viewRule: '', fields: [] });
    await ctx.admin.collection(name).create({ email: `member-${name}@example.com`, password: 'pass-12345678', passwordConfirm: 'pass-12345678' });
    const member = client(ctx.url);
    await member.collection(name).authWithPassword(`member-${name}@example.com`, 'pass-12345678');
    const gate = `${name}_gate`;
    await ctx.admin.collections.create({ name: gate, type: 'base', listRule: '@request.auth.id != ""', viewRule: '@request.auth.id != ""', fields: [{ name: 'n', type: 'number' }] });
    const pb = newClient(member);
    const { events } = await collect(pb, gate, '*');
    const first = await ctx.admin.collection(gate).create({ n: 1 });
    await waitUntil(() => events.length >= 1, 5000, 'the member event');
    return { gate, events, first };
  }

  it('a new auth token secret leaves the clients of the collection subscribed as guests', async () => {
    const { gate, events, first } = await memberSubscribed('rt_members');
    await ctx.admin.collections.update('rt_members', { authToken: { secret: 'x'.repeat(50) } });
    await ctx.admin.collection(gate).create({ n: 2 });
    await sleep(QUIET_MS);
    assert.deepEqual(actions(events), [`create:${first.id}`]);
  });

  it('a deleted auth collection leaves its clients subscribed as guests', async () => {
    const { gate, events, first } = await memberSubscribed('rt_members2');
    await ctx.admin.collections.delete('rt_members2');
    await ctx.admin.collection(gate).create({ n: 2 });
    await sleep(QUIET_MS);
    assert.deepEqual(actions(events), [`create:${first.id}`]);
  });
});

describe('slow clients', () => {
  it('a client that does not read does not hold up the others', async () => {
    const slow = await rawSse(ctx.url);
    const res = await http(ctx.url, 'POST', '/api/realtime', { json: { clientId: slow.clientId, subscriptions: ['rt_posts'] } });
    assert.equal(res.status, 204);
    slow.pause();
    const pb = newClient();
    const { events } = await collect(pb, 'rt_posts', '*');
    const big = 'x'.repeat(1_000_000);
    const ids = [];
    for (let i = 0; i < 40; i++) {
      ids.push((await ctx.admin.collection('rt_posts').create({ title: `big ${i}`, big, id: `bigpost${String(i).padStart(8, '0')}` })).id);
    }
    await waitUntil(() => events.length >= ids.length, 20000, 'all events for the fast client');
    assert.deepEqual(actions(events), ids.map((id) => `create:${id}`).sort());
    if (!IS_POCKETBASE) {
      // PocketBun discards a client whose queue is full (PocketBase keeps it)
      const again = await http(ctx.url, 'POST', '/api/realtime', { json: { clientId: slow.clientId, subscriptions: [] } });
      expectHttpError(again, 404, 'Missing or invalid client id.');
    }
    slow.close();
  });
});
