// PocketBase's generic model hooks (onModelCreate, onModelAfterCreateSuccess, ...) from
// pb_hooks: they see records and collections as e.model, run inside the typed hooks
// (onRecordCreate handlers first), may change the model before e.next() or refuse the write.
// The same hooks and assertions run against PocketBase 0.40.6 when POCKETBASE_BIN is set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminClient, expectSdkError, http } from '../lib/client.mjs';
import { pocketbaseBin, startServer } from '../lib/server.mjs';

const HOOKS = `
onRecordCreate((e) => {
  e.record.set("trail", "record>");
  e.next();
}, "notes");
onModelCreate((e) => {
  if (e.model.tableName() === "notes") {
    e.model.set("trail", e.model.getString("trail") + "model");
    if (e.model.getString("title") === "refused") throw new BadRequestError("Refused by a model hook.");
  }
  e.next();
});
onModelAfterCreateSuccess((e) => {
  // (PocketBase also fires these for its settings model, _params)
  const table = e.model.tableName();
  if (table === "notes" || table === "_collections") {
    const seen = $app.store().get("seen") || [];
    seen.push(table + ":" + (table === "_collections" ? e.model.name : e.model.getString("title")));
    $app.store().set("seen", seen);
  }
  e.next();
});
onModelUpdate((e) => {
  if (e.model.tableName() === "_collections" && e.model.name === "notes") e.model.listRule = "";
  e.next();
});
onModelDelete((e) => {
  if (e.model.tableName() === "notes" && e.model.getString("title") === "keep") throw new BadRequestError("Kept.");
  e.next();
});
routerAdd("GET", "/model-seen", (e) => e.json(200, $app.store().get("seen") || []));
`;

const servers = [['pocketbun', process.env.POCKETBUN_BIN]];
if (pocketbaseBin()) servers.push(['pocketbase', pocketbaseBin()]);

for (const [label, bin] of servers) {
  describe(`onModel* hooks (${label})`, () => {
    let server; let admin;
    const setup = async () => {
      server = await startServer({ bin, hooks: { 'model.pb.js': HOOKS } });
      admin = await adminClient(server.url);
      await admin.collections.create({
        name: 'notes', type: 'base', createRule: '', viewRule: '', deleteRule: '',
        fields: [{ name: 'title', type: 'text' }, { name: 'trail', type: 'text' }],
      });
    };

    it('see records and collections, inside the typed hooks', async () => {
      await setup();
      try {
        const rec = await admin.collection('notes').create({ title: 'first' });
        assert.equal(rec.trail, 'record>model', 'onRecordCreate ran first, then onModelCreate');
        await expectSdkError(admin.collection('notes').create({ title: 'refused' }), 400, 'Refused by a model hook.');
        const seen = (await http(server.url, 'GET', '/model-seen')).body;
        assert.ok(seen.includes('_collections:notes'), JSON.stringify(seen));
        assert.ok(seen.includes('notes:first'), JSON.stringify(seen));
        assert.ok(!seen.includes('notes:refused'), JSON.stringify(seen));

        await admin.collections.update('notes', { viewRule: '' });
        assert.equal((await admin.collections.getOne('notes')).listRule, '', 'the collection update hook changed the model');

        const keep = await admin.collection('notes').create({ title: 'keep' });
        await expectSdkError(admin.collection('notes').delete(keep.id), 400, 'Kept.');
        assert.equal((await admin.collection('notes').getOne(keep.id)).title, 'keep');
      } finally {
        await server.stop();
      }
    });
  });
}
