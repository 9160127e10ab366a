// Record model hooks for the sub-requests of POST /api/batch: onRecordCreate/Update/Delete,
// onRecordValidate, the *Execute stages and onModelCreate run per sub-request inside the
// batch's transaction (a handler may change the record; its own e.app writes join the
// transaction); the after-success hooks wait until the whole batch committed, and when the
// batch fails the earlier sub-requests get their after-error hook once it rolled back. The
// handlers' own writes inside the transaction defer their after hooks the same way, and so do
// the writes of $app.runInTransaction.
// Same hooks and assertions on PocketBase 0.40.6 when POCKETBASE_BIN is set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminClient, http } from '../lib/client.mjs';
import { pocketbaseBin, startServer } from '../lib/server.mjs';

// Handlers cannot see each other's top-level scope (as in PocketBase), so the helpers live
// in a module: `trail` records the invocation order outside any transaction ($app.store()),
// `note` saves a `log` record through the event's app (inside the batch's transaction).
const LIB = `
module.exports = {
  trail(step) {
    const t = $app.store().get("trail") || [];
    t.push(step);
    $app.store().set("trail", t);
  },
  note(app, entry) {
    const r = new Record(app.findCollectionByNameOrId("log"));
    r.set("entry", entry);
    app.save(r);
  },
};
`;

const HOOKS = `
onRecordCreate((e) => {
  const { trail, note } = require(__hooks + "/batchlog.js");
  const title = e.record.getString("title");
  trail("create:" + title);
  if (title === "boom") throw new BadRequestError("Boom from a hook.");
  if (title.startsWith("shout")) e.record.set("title", title.toUpperCase());
  note(e.app, "create:" + title);
  e.next();
  trail("created:" + e.record.getString("title") + ":" + (e.record.id ? "id" : "noid"));
}, "items");
onRecordValidate((e) => {
  require(__hooks + "/batchlog.js").trail("validate:" + e.record.getString("title"));
  // a handler that does not call e.next() skips the field validation
  if (e.record.getString("title") === "unchecked") return;
  e.next();
}, "items");
onRecordCreateExecute((e) => { require(__hooks + "/batchlog.js").trail("execute:" + e.record.getString("title")); e.next(); }, "items");
onModelCreate((e) => { require(__hooks + "/batchlog.js").trail("model-create:" + e.model.getString("title")); e.next(); }, "items");
onRecordAfterCreateSuccess((e) => {
  const { trail, note } = require(__hooks + "/batchlog.js");
  const title = e.record.getString("title");
  trail("success:" + title + ":" + e.app.countRecords("items"));
  note(e.app, "success:" + title);
  e.next();
  if (title === "late") throw new BadRequestError("Late failure.");
}, "items");
onRecordAfterCreateError((e) => {
  const { trail, note } = require(__hooks + "/batchlog.js");
  trail("error:" + e.record.getString("title") + ":" + (e.error ? "with error" : "no error"));
  note(e.app, "error:" + e.record.getString("title"));
  e.next();
}, "items");
onRecordUpdate((e) => {
  const { trail, note } = require(__hooks + "/batchlog.js");
  trail("update:" + e.record.getString("title"));
  note(e.app, "update:" + e.record.getString("title"));
  e.next();
}, "items");
onRecordUpdateExecute((e) => { require(__hooks + "/batchlog.js").trail("update-execute:" + e.record.getString("title")); e.next(); }, "items");
onRecordAfterUpdateSuccess((e) => { require(__hooks + "/batchlog.js").trail("update-success:" + e.record.getString("title")); e.next(); }, "items");
onRecordDelete((e) => {
  const { trail, note } = require(__hooks + "/batchlog.js");
  trail("delete:" + e.record.getString("title"));
  note(e.app, "delete:" + e.record.getString("title"));
  e.next();
}, "items");
onRecordDeleteExecute((e) => { require(__hooks + "/batchlog.js").trail("delete-execute:" + e.record.getString("title")); e.next(); }, "items");
onRecordAfterDeleteSuccess((e) => { require(__hooks + "/batchlog.js").trail("delete-success:" + e.record.getString("title")); e.next(); }, "items");
onRecordAfterCreateSuccess((e) => { require(__hooks + "/batchlog.js").trail("log-success:" + e.record.getString("entry")); e.next(); }, "log");

routerAdd("POST", "/in-tx", (e) => {
  const { trail } = require(__hooks + "/batchlog.js");
  $app.runInTransaction((txApp) => {
    const r = new Record(txApp.findCollectionByNameOrId("items"));
    r.set("title", "tx");
    txApp.save(r);
    trail("saved-in-tx");
  });
  trail("tx-returned");
  return e.json(200, {});
});
onCollectionAfterCreateSuccess((e) => { require(__hooks + "/batchlog.js").trail("collection-success:" + e.collection.name); e.next(); });

routerAdd("POST", "/in-tx-collection", (e) => {
  const { trail } = require(__hooks + "/batchlog.js");
  $app.runInTransaction((txApp) => {
    txApp.save(new Collection({ name: "made_in_tx", type: "base" }));
    trail("saved-in-tx");
  });
  trail("tx-returned");
  return e.json(200, {});
});

routerAdd("POST", "/save-no-validate", (e) => {
  const r = new Record($app.findCollectionByNameOrId("items"));
  r.set("title", "no validation");
  r.set("code", "NOT VALID");
  $app.saveNoValidate(r);
  return e.json(200, { code: $app.findRecordById("items", r.id).getString("code") });
});

routerAdd("POST", "/trail/take", (e) => {
  const t = $app.store().get("trail") || [];
  $app.store().set("trail", []);
  return e.json(200, t);
});
`;

const servers = [['pocketbun', process.env.POCKETBUN_BIN]];
if (pocketbaseBin()) servers.push(['pocketbase', pocketbaseBin()]);

for (const [label, bin] of servers) {
  describe(`record model hooks of batch sub-requests (${label})`, () => {
    it('run per sub-request in the transaction; after-success waits for the commit, after-error for the rollback', async () => {
      const server = await startServer({ bin, hooks: { 'batch.pb.js': HOOKS, 'batchlog.js': LIB }, env: { POCKETBUN_PLUGIN_TIMEOUT_MS: '5000' } });
      try {
        const admin = await adminClient(server.url);
        await admin.collections.create({ name: 'items', type: 'base', fields: [{ name: 'title', type: 'text' }] });
        await admin.collections.create({ name: 'log', type: 'base', fields: [{ name: 'entry', type: 'text' }] });
        await admin.settings.update({ batch: { enabled: true, maxRequests: 10, timeout: 10 } });
        const trail = async () => (await http(server.url, 'POST', '/trail/take')).body;
        const logs = async () => (await admin.collection('log').getFullList()).map((r) => r.entry).sort();
        const titles = async () => (await admin.collection('items').getFullList()).map((r) => r.title).sort();
        await trail();

        // creates: every stage per sub-request, in order; a handler changed the stored title
        let batch = admin.createBatch();
        batch.collection('items').create({ title: 'a' });
        batch.collection('items').create({ title: 'shout b' });
        const created = await batch.send();
        assert.deepEqual(created.map((r) => [r.status, r.body.title]), [[200, 'a'], [200, 'SHOUT B']]);
        assert.deepEqual(await trail(), [
          'create:a', 'model-create:a', 'validate:a', 'execute:a', 'created:a:id',
          'create:shout b', 'model-create:SHOUT B', 'validate:SHOUT B', 'execute:SHOUT B', 'created:SHOUT B:id',
          // after the whole batch committed, in the order of the writes: the handlers' own
          // log writes first (made before e.next()), then the record; both records are
          // visible; the log write of an after-success hook is no longer in a transaction
          'log-success:create:a', 'success:a:2', 'log-success:success:a',
          'log-success:create:shout b', 'success:SHOUT B:2', 'log-success:success:SHOUT B',
        ]);
        assert.deepEqual(await titles(), ['SHOUT B', 'a']);
        assert.deepEqual(await logs(), ['create:a', 'create:shout b', 'success:SHOUT B', 'success:a']);
        const [a, b] = created.map((r) => r.body);

        // a hook refuses the third sub-request: nothing of the batch stays, hook writes included
        batch = admin.createBatch();
        batch.collection('items').create({ title: 'c' });
        batch.collection('items').update(a.id, { title: 'a2' });
        batch.collection('items').create({ title: 'boom' });
        await assert.rejects(batch.send(), (err) => {
          assert.equal(err.status, 400);
          assert.deepEqual(err.response, {
            status: 400,
            message: 'Batch transaction failed.',
            data: {
              requests: {
                2: {
                  code: 'batch_request_failed',
                  message: 'Batch request failed.',
                  response: { status: 400, message: 'Boom from a hook.', data: {} },
                },
              },
            },
          });
          return true;
        });
        assert.deepEqual(await trail(), [
          'create:c', 'model-create:c', 'validate:c', 'execute:c', 'created:c:id',
          'update:a2', 'validate:a2', 'update-execute:a2',
          'create:boom',
          // the failing write's own after-error hook runs inside the transaction ...
          'error:boom:with error',
          // ... the earlier create's once the batch rolled back (its log write then commits)
          'error:c:with error', 'log-success:error:c',
        ]);
        assert.deepEqual(await titles(), ['SHOUT B', 'a']);
        // only the after-error hook that ran after the rollback left a log record
        assert.deepEqual(await logs(), ['create:a', 'create:shout b', 'error:c', 'success:SHOUT B', 'success:a']);

        // delete, upsert of an existing and of a new record
        batch = admin.createBatch();
        batch.collection('items').delete(b.id);
        batch.collection('items').upsert({ id: a.id, title: 'a3' });
        batch.collection('items').upsert({ title: 'd' });
        const mixed = await batch.send();
        assert.deepEqual(mixed.map((r) => [r.status, r.body?.title ?? null]), [[204, null], [200, 'a3'], [200, 'd']]);
        assert.deepEqual(await trail(), [
          'delete:SHOUT B', 'delete-execute:SHOUT B',
          'update:a3', 'validate:a3', 'update-execute:a3',
          'create:d', 'model-create:d', 'validate:d', 'execute:d', 'created:d:id',
          'log-success:delete:SHOUT B', 'delete-success:SHOUT B',
          'log-success:update:a3', 'update-success:a3',
          'log-success:create:d', 'success:d:2', 'log-success:success:d',
        ]);
        assert.deepEqual(await titles(), ['a3', 'd']);
        assert.deepEqual(await logs(), [
          'create:a', 'create:d', 'create:shout b', 'delete:SHOUT B', 'error:c',
          'success:SHOUT B', 'success:a', 'success:d', 'update:a3',
        ]);

        // an after-success hook that throws answers the batch, though it stays committed
        batch = admin.createBatch();
        batch.collection('items').create({ title: 'late' });
        batch.collection('items').create({ title: 'later' });
        await assert.rejects(batch.send(), (err) => {
          assert.equal(err.status, 400);
          assert.equal(err.response.message, 'Late failure.');
          return true;
        });
        assert.deepEqual((await trail()).filter((s) => s.startsWith('success:')), ['success:late:4', 'success:later:4']);
        assert.deepEqual(await titles(), ['a3', 'd', 'late', 'later']);

        // the same deferral in $app.runInTransaction: the after hooks run once it committed,
        // before it returns
        assert.equal((await http(server.url, 'POST', '/in-tx')).status, 200);
        assert.deepEqual(await trail(), [
          'create:tx', 'model-create:tx', 'validate:tx', 'execute:tx', 'created:tx:id', 'saved-in-tx',
          'log-success:create:tx', 'success:tx:5', 'log-success:success:tx',
          'tx-returned',
        ]);
        // collections saved in a transaction, too
        assert.equal((await http(server.url, 'POST', '/in-tx-collection')).status, 200);
        assert.deepEqual(await trail(), ['saved-in-tx', 'collection-success:made_in_tx', 'tx-returned']);
      } finally {
        await server.stop();
      }
    });

    it('validate once, in the batch transaction: relations to earlier sub-requests; a stopped validate stage skips validation', async () => {
      const server = await startServer({ bin, hooks: { 'batch.pb.js': HOOKS, 'batchlog.js': LIB }, env: { POCKETBUN_PLUGIN_TIMEOUT_MS: '5000' } });
      try {
        const admin = await adminClient(server.url);
        const items = await admin.collections.create({
          name: 'items', type: 'base',
          fields: [{ name: 'title', type: 'text' }, { name: 'code', type: 'text', pattern: '^[a-z]*$' }],
        });
        await admin.collections.update('items', {
          fields: [...items.fields, { name: 'parent', type: 'relation', collectionId: items.id, maxSelect: 1 }],
        });
        await admin.collections.create({ name: 'log', type: 'base', fields: [{ name: 'entry', type: 'text' }] });
        await admin.settings.update({ batch: { enabled: true, maxRequests: 10, timeout: 10 } });

        const batch = admin.createBatch();
        batch.collection('items').create({ id: 'parent000000001', title: 'p' });
        batch.collection('items').create({ title: 'child', parent: 'parent000000001' });
        batch.collection('items').create({ title: 'unchecked', code: 'NOT VALID' });
        const res = await batch.send();
        assert.deepEqual(res.map((r) => [r.status, r.body.title, r.body.parent, r.body.code]), [
          [200, 'p', '', ''],
          [200, 'child', 'parent000000001', ''],
          [200, 'unchecked', '', 'NOT VALID'],
        ]);

        const direct = await admin.collection('items').create({ title: 'unchecked', code: 'ALSO NOT VALID' });
        assert.equal(direct.code, 'ALSO NOT VALID');
        await assert.rejects(admin.collection('items').create({ title: 'checked', code: 'BAD' }), (err) => {
          assert.equal(err.status, 400);
          assert.equal(err.response.data.code.code, 'validation_invalid_format');
          return true;
        });
        // saveNoValidate neither validates nor fires the validate hooks
        await http(server.url, 'POST', '/trail/take');
        assert.deepEqual((await http(server.url, 'POST', '/save-no-validate')).body, { code: 'NOT VALID' });
        assert.ok(!(await http(server.url, 'POST', '/trail/take')).body.some((s) => s.startsWith('validate:')));

        const invalid = admin.createBatch();
        invalid.collection('items').create({ title: 'checked', code: 'BAD' });
        await assert.rejects(invalid.send(), (err) => {
          assert.equal(err.response.data.requests[0].response.data.code.code, 'validation_invalid_format');
          return true;
        });
      } finally {
        await server.stop();
      }
    });
  });
}
