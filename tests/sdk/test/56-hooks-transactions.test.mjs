// Hooks fired inside a transaction write through it: a record hook triggered by
// `txApp.save` in `$app.runInTransaction`, and a request hook of a batch sub-request, save
// other records with `e.app`; those writes commit or roll back with the transaction (before,
// they waited for the writer the transaction held until the call's time limit). Same hooks
// and assertions on PocketBase 0.40.6 when POCKETBASE_BIN is set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminClient, http } from '../lib/client.mjs';
import { pocketbaseBin, startServer } from '../lib/server.mjs';

const HOOKS = `
onRecordCreate((e) => {
  e.next();
  const b = new Record(e.app.findCollectionByNameOrId("b"));
  b.set("title", "from " + e.record.getString("title"));
  e.app.save(b);
}, "a");

onRecordCreateRequest((e) => {
  e.next();
  const b = new Record(e.app.findCollectionByNameOrId("b"));
  b.set("title", "batch " + e.record.getString("title"));
  e.app.save(b);
}, "c");

routerAdd("POST", "/tx/{mode}", (e) => {
  const mode = e.request.pathValue("mode");
  try {
    $app.runInTransaction((txApp) => {
      const a = new Record(txApp.findCollectionByNameOrId("a"));
      a.set("title", "tx " + mode);
      txApp.save(a);
      if (mode === "fail") throw new Error("roll back");
    });
  } catch (err) {
    return e.json(400, { rolledBack: true });
  }
  return e.json(200, { ok: true });
});
`;

const servers = [['pocketbun', process.env.POCKETBUN_BIN]];
if (pocketbaseBin()) servers.push(['pocketbase', pocketbaseBin()]);

for (const [label, bin] of servers) {
  describe(`hooks inside transactions (${label})`, () => {
    it('join runInTransaction and batch transactions: commit and roll back together', async () => {
      const server = await startServer({ bin, hooks: { 'tx.pb.js': HOOKS }, env: { POCKETBUN_PLUGIN_TIMEOUT_MS: '5000' } });
      try {
        const admin = await adminClient(server.url);
        for (const name of ['a', 'b', 'c']) {
          await admin.collections.create({ name, type: 'base', createRule: '', listRule: '', fields: [{ name: 'title', type: 'text' }] });
        }
        await admin.settings.update({ batch: { enabled: true, maxRequests: 10, timeout: 10 } });
        const titles = async (c) => (await admin.collection(c).getFullList()).map((r) => r.title).sort();

        const started = Date.now();
        assert.equal((await http(server.url, 'POST', '/tx/ok')).status, 200);
        assert.equal((await http(server.url, 'POST', '/tx/fail')).status, 400);
        assert.ok(Date.now() - started < 4000, 'no call waited for the time limit');
        assert.deepEqual(await titles('a'), ['tx ok']);
        assert.deepEqual(await titles('b'), ['from tx ok'], 'the hook write rolled back with its transaction');

        const ok = admin.createBatch();
        ok.collection('c').create({ title: 'x' });
        ok.collection('c').create({ title: 'y' });
        await ok.send();
        const failing = admin.createBatch();
        failing.collection('c').create({ title: 'z' });
        failing.collection('c').update('missing0000000', { title: 'nope' });
        await assert.rejects(failing.send(), (e) => e.status === 400);
        assert.deepEqual(await titles('c'), ['x', 'y']);
        assert.deepEqual(await titles('b'), ['batch x', 'batch y', 'from tx ok']);
      } finally {
        await server.stop();
      }
    });
  });
}
