// On-disk interchange: a pb_data written by one server must read back identically through the
// other (PocketBase → PocketBun and PocketBun → PocketBase), including issued tokens.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { adminClient, client } from '../lib/client.mjs';
import { createTagsAndItems, ITEMS, PUBLIC_RULES, TAGS } from '../lib/fixtures.mjs';
import {
  makeTempDir, pocketbaseBin, pocketbaseMissingReason, pocketbunBin, startServer,
} from '../lib/server.mjs';

const POCKETBASE = pocketbaseBin();
const POCKETBUN = pocketbunBin();
const SKIP = POCKETBASE ? false : pocketbaseMissingReason();
if (SKIP) console.log(`skipping interchange tests: ${SKIP}`);

const USER = { email: 'reader@example.com', password: 'reader-pass-1' };

/** Fills a fresh server with collections of every kind, records of every field type and files. */
async function seed(admin) {
  const tags = await createTagsAndItems(admin);
  const items = admin.collection(ITEMS);
  await items.create({ title: 'minimal' });
  await items.create({
    id: 'fixedid00000001', title: 'full', code: 'ABCD', num: -12.75, count: 99, flag: true, mail: 'x@example.com',
    site: 'https://example.com/p?q=1', body: '<p>Hi <em>there</em></p>', due: '2024-02-29 23:59:59.999Z',
    status: 'archived', labels: ['d', 'a'], tag: tags.t2.id, tagz: [tags.t3.id, tags.t1.id],
    data: { unicode: 'ünïcødé ✓', list: [1, 2.5, null, true], nested: { deep: ['x'] } },
    loc: { lon: -122.4194, lat: 37.7749 }, secret: 'hidden-pass',
  });
  await items.create({
    title: 'with files', doc: new File(['document body'], 'Doc File.txt', { type: 'text/plain' }),
    docs: [new File(['first'], 'first.txt'), new File(['second'], 'second.txt')],
  });
  await items.create({ title: 'json scalar', data: 'just a string' });
  await admin.collections.create({
    name: 'members', type: 'auth', ...PUBLIC_RULES,
    fields: [{ name: 'nick', type: 'text' }, { name: 'created', type: 'autodate', onCreate: true }],
  });
  await admin.collection('members').create({ ...USER, passwordConfirm: USER.password, nick: 'reader', emailVisibility: true, verified: true });
  await admin.collection('users').create({ email: 'u2@example.com', password: 'user-pass-22', passwordConfirm: 'user-pass-22', name: 'User Two' });
  await admin.collections.create({
    name: 'items_summary', type: 'view', listRule: '', viewRule: '',
    viewQuery: `SELECT id, title, num, labels FROM ${ITEMS} WHERE num != 0`,
  });
  await admin.settings.update({ meta: { appName: 'Interchange' }, batch: { enabled: true } });
}

/** Everything readable through the API, plus the content of every stored file. */
async function snapshot(admin) {
  const collections = await admin.collections.getFullList({ sort: 'name' });
  const records = {};
  const files = {};
  for (const col of collections) {
    const list = await admin.collection(col.name).getFullList({ sort: 'id' });
    records[col.name] = list;
    const fileFields = col.fields.filter((f) => f.type === 'file').map((f) => f.name);
    for (const rec of col.type === 'view' ? [] : list) {
      for (const name of fileFields.flatMap((f) => [rec[f]].flat()).filter(Boolean)) {
        const res = await fetch(admin.files.getURL(rec, name));
        files[`${col.name}/${rec.id}/${name}`] = [res.status, await res.text()];
      }
    }
  }
  return { collections, records, files, settings: await admin.settings.getAll() };
}

/** Writer seeds `baseDir` and stops; the reader is started on it. The caller stops the reader. */
async function roundTrip(writerBin, readerBin, baseDir) {
  // 1. the writer creates everything and issues tokens
  // PocketBun hashes new passwords with argon2id; its documented switch to bcrypt is what makes
  // logins keep working when the data goes back to PocketBase.
  const env = writerBin === POCKETBUN ? { POCKETBUN_PASSWORD_HASH: 'bcrypt' } : {};
  const writer = await startServer({ bin: writerBin, baseDir, env });
  let written;
  let superToken;
  let superRecord;
  let userAuth;
  try {
    const admin = await adminClient(writer.url);
    await seed(admin);
    // sign in before the snapshot: a sign-in stores an _authOrigins row
    userAuth = await client(writer.url).collection('members').authWithPassword(USER.email, USER.password);
    written = await snapshot(admin);
    superToken = admin.authStore.token;
    superRecord = admin.authStore.record;
  } finally {
    await writer.stop();
  }

  // 2. the reader opens the same pb_data (without touching the superuser: that would rotate its tokenKey)
  const reader = await startServer({ bin: readerBin, baseDir, superuser: false });
  try {
    const admin = client(reader.url);
    admin.authStore.save(superToken, superRecord);
    return { written, admin, reader, userAuth };
  } catch (err) {
    await reader.stop();
    throw err;
  }
}

function interchangeSuite(title, writerBin, readerBin) {
  describe(title, { skip: SKIP }, () => {
    let env;
    let baseDir;
    after(async () => {
      await env?.reader.stop();
      if (baseDir) await rm(baseDir, { recursive: true, force: true });
    });

    it('the reader starts on the writer\'s pb_data and serves every record identically', async () => {
      baseDir = await makeTempDir('pbsdk-interchange-');
      env = await roundTrip(writerBin(), readerBin(), baseDir);
      const read = await snapshot(env.admin);
      assert.deepEqual(read.collections, env.written.collections);
      for (const name of Object.keys(env.written.records)) {
        assert.deepEqual(read.records[name], env.written.records[name], `records of ${name}`);
      }
      assert.deepEqual(read.files, env.written.files);
      assert.ok(Object.keys(read.files).length === 3, 'three stored files');
      for (const [key, [status]] of Object.entries(read.files)) assert.equal(status, 200, key);
      assert.deepEqual(read.settings, env.written.settings);
      assert.equal(read.settings.meta.appName, 'Interchange');
    });

    it('the superuser token issued by the writer is accepted', async () => {
      assert.ok(env, 'the previous test started the reader');
      assert.equal(env.admin.authStore.isSuperuser, true);
      const refreshed = await env.admin.collection('_superusers').authRefresh();
      assert.equal(refreshed.record.email, 'admin@example.com');
      assert.equal((await env.admin.collections.getOne(ITEMS)).name, ITEMS);
    });

    it('a user token issued by the writer is accepted and passwords still verify', async () => {
      const pb = client(env.reader.url);
      pb.authStore.save(env.userAuth.token, env.userAuth.record);
      const refreshed = await pb.collection('members').authRefresh();
      assert.equal(refreshed.record.id, env.userAuth.record.id);
      assert.equal(refreshed.record.nick, 'reader');
      const fresh = await client(env.reader.url).collection('members').authWithPassword(USER.email, USER.password);
      assert.equal(fresh.record.id, env.userAuth.record.id);
      const other = await client(env.reader.url).collection('users').authWithPassword('u2@example.com', 'user-pass-22');
      assert.equal(other.record.name, 'User Two');
      await adminClient(env.reader.url); // the superuser password verifies too
    });

    it('the reader can keep writing to the migrated data', async () => {
      const items = env.admin.collection(ITEMS);
      const full = await items.getOne('fixedid00000001');
      const updated = await items.update(full.id, { 'num+': 0.75, 'labels+': 'b' });
      assert.deepEqual([updated.num, updated.labels], [-12, ['d', 'a', 'b']]);
      const created = await env.admin.collection(TAGS).create({ name: 't4' });
      assert.equal((await env.admin.collection(TAGS).getOne(created.id)).name, 't4');
      const view = await env.admin.collection('items_summary').getFullList({ sort: 'title' });
      assert.deepEqual(view.map((r) => [r.title, r.num]), [['full', -12]]);
    });
  });
}

interchangeSuite('PocketBase writes, PocketBun reads', () => POCKETBASE, () => POCKETBUN);
interchangeSuite('PocketBun writes, PocketBase reads', () => POCKETBUN, () => POCKETBASE);
