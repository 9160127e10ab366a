// Differential realtime test: the same subscriptions and the same writes on the real PocketBase
// (the oracle) and on the server under test must deliver the same events to each client.
// PocketBase does not guarantee the order of events, so each client's events are compared as
// a set of {subscription, action, record} (record timestamps left out: they differ per run).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, client } from '../lib/client.mjs';
import { sleep, waitUntil } from '../lib/realtime.mjs';
import { pocketbaseBin, pocketbaseMissingReason, pocketbunBin, startServer } from '../lib/server.mjs';

const POCKETBASE = pocketbaseBin();
const SKIP = POCKETBASE ? false : pocketbaseMissingReason();
if (SKIP) console.log(`skipping realtime differential test: ${SKIP}`);

const USERS_ID = '_pb_users_auth_';

/** JSON with object keys sorted (key order is not part of the comparison). */
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}
const PASS = 'pass-12345678';
const pub = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
const own = 'owner = @request.auth.id';
const authed = '@request.auth.id != ""';

/** Subscriptions of every client: [collection, topic, options]. */
const SUBS = [
  ['d_posts', '*', undefined],
  ['d_posts', 'post00000000001', undefined],
  ['d_posts', '*', { fields: 'id,title', filter: 'views >= 10' }],
  ['d_posts', '*', { expand: 'tag' }],
  ['d_notes', '*', undefined],
  ['d_notes', 'note00000000001', undefined],
  ['d_locked', '*', undefined],
  ['users', '*', undefined],
  ['d_open', '*', undefined],
];

async function setup(server) {
  const admin = await adminClient(server.url);
  await admin.collections.update('users', { listRule: 'id = @request.auth.id', viewRule: '' });
  await admin.collections.create({ name: 'd_tags', type: 'base', ...pub, fields: [{ name: 'name', type: 'text' }] });
  const tagsId = (await admin.collections.getOne('d_tags')).id;
  await admin.collections.create({
    name: 'd_posts', type: 'base', ...pub,
    fields: [
      { name: 'title', type: 'text' }, { name: 'views', type: 'number' }, { name: 'note', type: 'text', hidden: true },
      { name: 'tag', type: 'relation', collectionId: tagsId, maxSelect: 1, cascadeDelete: true },
    ],
  });
  await admin.collections.create({
    name: 'd_notes', type: 'base', listRule: own, viewRule: own, createRule: '', updateRule: '', deleteRule: '',
    fields: [{ name: 'title', type: 'text' }, { name: 'owner', type: 'relation', collectionId: USERS_ID, maxSelect: 1 }],
  });
  await admin.collections.create({ name: 'd_locked', type: 'base', listRule: null, viewRule: null, fields: [{ name: 'title', type: 'text' }] });
  await admin.collections.create({ name: 'd_open', type: 'base', listRule: authed, viewRule: authed, fields: [{ name: 'n', type: 'number' }] });
  const users = {};
  for (const [name, id] of [['alice', 'alice0000000001'], ['bob', 'bob000000000001']]) {
    await admin.collection('users').create({ id, email: `${name}@example.com`, password: PASS, passwordConfirm: PASS, name, emailVisibility: name === 'bob' });
    const pb = client(server.url);
    await pb.collection('users').authWithPassword(`${name}@example.com`, PASS);
    users[name] = pb;
  }
  // members of two more auth collections: one gets a new token secret, the other is deleted
  for (const [coll, name] of [['d_members', 'carol'], ['d_members2', 'dave']]) {
    await admin.collections.create({ name: coll, type: 'auth', listRule: '', viewRule: '', fields: [] });
    await admin.collection(coll).create({ email: `${name}@example.com`, password: PASS, passwordConfirm: PASS });
    const pb = client(server.url);
    await pb.collection(coll).authWithPassword(`${name}@example.com`, PASS);
    users[name] = pb;
  }
  const clients = {
    guest: client(server.url), alice: users.alice, bob: users.bob, carol: users.carol, dave: users.dave, admin: await adminClient(server.url),
  };
  const received = {};
  for (const [who, pb] of Object.entries(clients)) {
    received[who] = [];
    for (const [coll, topic, options] of SUBS) {
      const label = `${coll}/${topic}${options ? ' ' + JSON.stringify(options) : ''}`;
      await pb.collection(coll).subscribe(topic, (e) => {
        const record = { ...e.record };
        delete record.created;
        delete record.updated;
        received[who].push(JSON.stringify({ sub: label, action: e.action, record: canonical(record) }));
      }, options);
    }
  }
  return { server, admin, clients, received };
}

async function writes({ admin }) {
  const posts = admin.collection('d_posts');
  const notes = admin.collection('d_notes');
  await admin.collection('d_tags').create({ id: 'tag000000000001', name: 'red' });
  await admin.collection('d_tags').create({ id: 'tag000000000002', name: 'blue' });
  await posts.create({ id: 'post00000000001', title: 'one', views: 5, note: 'n1', tag: 'tag000000000001' });
  await posts.create({ id: 'post00000000002', title: 'two', views: 50, tag: 'tag000000000002' });
  await posts.update('post00000000001', { views: 15 });
  await notes.create({ id: 'note00000000001', title: 'alice note', owner: 'alice0000000001' });
  await notes.create({ id: 'note00000000002', title: 'bob note', owner: 'bob000000000001' });
  await notes.create({ id: 'note00000000003', title: 'nobody' });
  await notes.update('note00000000001', { title: 'alice note 2' });
  await admin.collection('d_locked').create({ id: 'lock00000000001', title: 'secret' });
  await admin.collection('users').update('bob000000000001', { name: 'bobby' });
  await notes.delete('note00000000002');
  await admin.collection('d_tags').delete('tag000000000002'); // cascades to post 2
  await posts.delete('post00000000001');
}

/**
 * Auth changes between writes to `d_open` (visible to any authenticated client): an auth record
 * updated with and without a new token key, an auth record deleted, an auth collection's token
 * secret changed, an auth collection deleted. Each step waits for the admin to see its marker
 * record, so the auth change is ordered after the previous delivery.
 */
async function authChanges({ admin, received }) {
  let n = 0;
  const marker = async () => {
    n += 1;
    const id = `open${String(n).padStart(11, '0')}`;
    await admin.collection('d_open').create({ id, n });
    await waitUntil(() => received.admin.some((e) => e.includes(id)), 5000, `marker ${id}`);
  };
  await marker();
  await admin.collection('users').update('alice0000000001', { name: 'alice 2' }); // same token key
  await marker();
  await admin.collection('users').update('bob000000000001', { password: 'pass-87654321', passwordConfirm: 'pass-87654321' });
  await marker();
  await admin.collection('users').delete('alice0000000001');
  await marker();
  await admin.collections.update('d_members', { authToken: { secret: 's'.repeat(50) } });
  await marker();
  await admin.collections.delete('d_members2');
  await marker();
}

function compareReceived(envs) {
  for (const who of Object.keys(envs.ref.received)) {
    const ref = [...envs.ref.received[who]].sort();
    const sut = [...envs.sut.received[who]].sort();
    assert.deepEqual(sut, ref, `events of ${who}`);
  }
}

async function settle(envs) {
  // wait until the reference has settled, then give the candidate the same chance
  let last = -1;
  await waitUntil(() => {
    const n = Object.values(envs.ref.received).reduce((a, r) => a + r.length, 0);
    const settled = n === last && n > 0;
    last = n;
    return settled;
  }, 15000, 'PocketBase events to settle');
  await waitUntil(() => Object.keys(envs.ref.received).every(
    (who) => envs.sut.received[who].length >= envs.ref.received[who].length), 10000, 'PocketBun events').catch(() => {});
  await sleep(500);
}

describe('realtime differential', { skip: SKIP }, () => {
  const envs = {};
  before(async () => {
    envs.ref = await setup(await startServer({ bin: POCKETBASE }));
    envs.sut = await setup(await startServer({ bin: pocketbunBin() }));
  });
  after(async () => {
    for (const env of Object.values(envs)) {
      for (const pb of Object.values(env.clients ?? {})) pb.realtime.disconnect();
      await env.server?.stop();
    }
  });

  it('every client receives the same events from both servers', async () => {
    for (const env of [envs.ref, envs.sut]) await writes(env);
    await settle(envs);
    compareReceived(envs);
    assert.ok(envs.ref.received.admin.length > 10, 'the scenario produced events');
  });

  it('auth record and auth collection changes affect the clients alike', async () => {
    for (const env of [envs.ref, envs.sut]) {
      for (const who of Object.keys(env.received)) env.received[who].length = 0;
    }
    for (const env of [envs.ref, envs.sut]) await authChanges(env);
    await settle(envs);
    compareReceived(envs);
    const opened = (who) => envs.ref.received[who].filter((e) => e.includes('d_open/*')).length;
    // every change took its client's auth away (alice only when deleted)
    assert.deepEqual([opened('admin'), opened('alice'), opened('bob'), opened('carol'), opened('dave'), opened('guest')], [6, 3, 2, 4, 5, 0]);
  });
});
