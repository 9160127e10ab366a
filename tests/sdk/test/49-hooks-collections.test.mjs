// Collection and settings hooks: the collection model hooks (onCollectionCreate/Validate/
// CreateExecute/AfterCreateSuccess/Error, the same for update and delete) fire for every
// collection write (API, $app.save from a route, imports); the request hooks wrap the
// collections and settings endpoints. The same pb_hooks run on PocketBun and, when
// available, on the real PocketBase with the same assertions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, expectSdkError, http } from '../lib/client.mjs';
import { pocketbaseBin, pocketbaseMissingReason, pocketbunBin, startServer } from '../lib/server.mjs';

const HOOKS = `
// ---- model hooks (untagged: every collection)
onCollectionCreate((e) => {
  if (e.collection.name.startsWith("blocked")) throw new BadRequestError("No blocked collections.");
  $app.store().set("create:" + e.collection.name, { type: e.type, id: e.collection.id, fields: e.collection.fields.fieldNames() });
  // changed before e.next(): stored
  if (e.collection.listRule === null) e.collection.listRule = "id != ''";
  e.next();
});
onCollectionValidate((e) => {
  $app.store().set("validate:" + e.collection.name, e.type);
  e.next();
});
onCollectionCreateExecute((e) => {
  e.next();
  // the write happened: the collection can be found (e.app: the transaction's app when
  // the save runs in one)
  $app.store().set("executed:" + e.collection.name, e.app.findCollectionByNameOrId(e.collection.name).id);
});
onCollectionAfterCreateSuccess((e) => {
  $app.store().set("success:" + e.collection.name, { id: e.collection.id, type: e.type });
  e.next();
});
onCollectionAfterCreateError((e) => {
  $app.store().set("error:" + e.collection.name, { type: e.type, failed: !!e.error });
  e.next();
});

// ---- tagged: only the "tagged" collection
onCollectionUpdate((e) => {
  e.collection.viewRule = "@request.auth.id != ''";
  $app.store().set("tagged-updates", ($app.store().get("tagged-updates") || 0) + 1);
  e.next();
}, "tagged");
onCollectionAfterUpdateSuccess((e) => {
  $app.store().set("updated:" + e.collection.name, e.collection.viewRule);
  e.next();
});

onCollectionDelete((e) => {
  if (e.collection.name === "keepme") throw new BadRequestError("Keep me.");
  e.next();
});
onCollectionAfterDeleteSuccess((e) => {
  $app.store().set("deleted:" + e.collection.name, e.type);
  e.next();
});
onCollectionAfterDeleteError((e) => {
  $app.store().set("delete-error:" + e.collection.name, e.type);
  e.next();
});

// ---- request hooks
onCollectionsListRequest((e) => {
  $app.store().set("list", { collections: e.collections.length, totalItems: e.result.totalItems, auth: e.auth ? e.auth.collection().name : null });
  // (PocketBase's list event has no e.request.url: mark the request by its page size)
  if (e.result.perPage === 3) e.result.totalItems = 12345;
  e.next();
});
onCollectionViewRequest((e) => {
  if (e.collection.name === "viewed") e.collection.listRule = "changed in the view hook";
  e.next();
});
onCollectionCreateRequest((e) => {
  if (e.collection.name === "extended") e.collection.fields.add(new TextField({ name: "addedByHook" }));
  e.next();
  $app.store().set("created-request:" + e.collection.name, e.collection.id);
});
onCollectionUpdateRequest((e) => {
  if (e.collection.name === "answered") return e.json(202, { answered: e.collection.name });
  e.next();
});
onCollectionDeleteRequest((e) => {
  if (e.collection.name === "guarded") throw new BadRequestError("Guarded by a request hook.");
  e.next();
});
onCollectionsImportRequest((e) => {
  $app.store().set("import", { count: e.collectionsData.length, deleteMissing: e.deleteMissing });
  for (const c of e.collectionsData) c.viewRule = "";
  e.next();
});

// ---- settings
onSettingsListRequest((e) => {
  $app.store().set("settings-list", { appName: e.settings.meta.appName, smtpPassword: e.settings.smtp.password });
  e.settings.meta.appName = "Listed " + e.settings.meta.appName;
  e.next();
});
onSettingsUpdateRequest((e) => {
  $app.store().set("settings-update", { old: e.oldSettings.meta.appName, submitted: e.newSettings.meta.appName });
  if (e.newSettings.meta.appName === "refused") throw new BadRequestError("Refused name.");
  e.newSettings.meta.appName = e.newSettings.meta.appName + " (hooked)";
  e.next();
});
onSettingsReload((e) => {
  $app.store().set("reloads", ($app.store().get("reloads") || 0) + 1);
  e.next();
});

routerAdd("POST", "/make-collection/{name}", (e) => {
  const c = new Collection({ name: e.request.pathValue("name"), type: "base", fields: [{ name: "title", type: "text" }] });
  $app.save(c);
  return e.json(200, { id: c.id, listRule: c.listRule });
});
routerAdd("POST", "/tx-collection/{name}", (e) => {
  const name = e.request.pathValue("name");
  const fail = e.request.url.query().get("fail") === "1";
  try {
    $app.runInTransaction((txApp) => {
      txApp.save(new Collection({ name: name, type: "base", fields: [{ name: "title", type: "text" }] }));
      const r = new Record(txApp.findCollectionByNameOrId(name));
      r.set("title", "in tx");
      txApp.save(r);
      if (fail) throw new BadRequestError("rolled back");
    });
  } catch (err) {
    return e.json(400, { failed: true });
  }
  return e.json(200, { records: $app.findAllRecords(name).length });
});
routerAdd("GET", "/store/{key}", (e) => e.json(200, { value: $app.store().get(e.request.pathValue("key")) ?? null }));
`;

const POCKETBASE = pocketbaseBin();

function suite(name, bin, skip) {
  describe(`collection and settings hooks on ${name}`, { skip }, () => {
    const ctx = {};
    before(async () => {
      ctx.server = await startServer({ bin, hooks: { 'collections.pb.js': HOOKS } });
      ctx.url = ctx.server.url;
      ctx.admin = await adminClient(ctx.url);
    });
    after(async () => ctx.server?.stop());

    const stored = async (key) => (await http(ctx.url, 'GET', `/store/${encodeURIComponent(key)}`)).body.value;

    it('a create runs onCollectionCreate, Validate, CreateExecute and AfterCreateSuccess; changes before e.next() are stored', async () => {
      const c = await ctx.admin.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'title', type: 'text' }] });
      assert.equal(c.listRule, "id != ''");
      assert.equal((await ctx.admin.collections.getOne('notes')).listRule, "id != ''");
      assert.deepEqual(await stored('create:notes'), { type: 'create', id: c.id, fields: ['id', 'title'] });
      assert.equal(await stored('validate:notes'), 'validate');
      assert.equal(await stored('executed:notes'), c.id);
      assert.deepEqual(await stored('success:notes'), { id: c.id, type: 'create' });
      assert.equal(await stored('created-request:notes'), c.id);
    });

    it('a throwing onCollectionCreate aborts the create (error envelope, no collection)', async () => {
      await expectSdkError(ctx.admin.collections.create({ name: 'blocked_one', type: 'base' }), 400,
        'Failed to create collection. Raw error: \nNo blocked collections.');
      await expectSdkError(ctx.admin.collections.getOne('blocked_one'), 404, "The requested resource wasn't found.");
      assert.equal(await stored('success:blocked_one'), null);
      assert.deepEqual(await stored('error:blocked_one'), { type: 'create', failed: true });
    });

    it('a failed validation reaches onCollectionAfterCreateError', async () => {
      const err = await ctx.admin.collections.create({ name: 'bad-name', type: 'base' })
        .catch((e) => e);
      assert.equal(err.status, 400);
      assert.equal(err.response.message, 'Failed to create collection.');
      assert.deepEqual(await stored('error:bad-name'), { type: 'create', failed: true });
      assert.equal(await stored('executed:bad-name'), null);
    });

    it('$app.save(collection) in a route fires the model hooks', async () => {
      const res = await http(ctx.url, 'POST', '/make-collection/from_route');
      assert.equal(res.status, 200);
      assert.equal(res.body.listRule, "id != ''");
      assert.equal((await stored('create:from_route')).id, res.body.id);
      assert.deepEqual(await stored('success:from_route'), { id: res.body.id, type: 'create' });
      assert.equal((await ctx.admin.collections.getOne('from_route')).listRule, "id != ''");
      const blocked = await http(ctx.url, 'POST', '/make-collection/blocked_route');
      assert.equal(blocked.status, 400);
      await expectSdkError(ctx.admin.collections.getOne('blocked_route'), 404, "The requested resource wasn't found.");
    });

    it('$app.save(collection) inside runInTransaction uses the transaction (committed or rolled back with it)', async () => {
      const kept = await http(ctx.url, 'POST', '/tx-collection/tx_kept');
      assert.equal(kept.status, 200);
      assert.deepEqual(kept.body, { records: 1 });
      assert.equal((await ctx.admin.collections.getOne('tx_kept')).listRule, "id != ''");
      assert.equal((await ctx.admin.collection('tx_kept').getFullList()).length, 1);

      const failed = await http(ctx.url, 'POST', '/tx-collection/tx_gone?fail=1');
      assert.equal(failed.status, 400);
      await expectSdkError(ctx.admin.collections.getOne('tx_gone'), 404, "The requested resource wasn't found.");
      // the table went with the rollback: the name can be used again
      const again = await http(ctx.url, 'POST', '/tx-collection/tx_gone');
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, { records: 1 });
    });

    it('tagged hooks fire only for their collection', async () => {
      await ctx.admin.collections.create({ name: 'tagged', type: 'base' });
      await ctx.admin.collections.create({ name: 'untagged', type: 'base' });
      const updated = await ctx.admin.collections.update('tagged', { updateRule: '' });
      assert.equal(updated.viewRule, "@request.auth.id != ''");
      assert.equal(updated.updateRule, '');
      assert.equal(await stored('updated:tagged'), "@request.auth.id != ''");
      const other = await ctx.admin.collections.update('untagged', { updateRule: '' });
      assert.equal(other.viewRule, null);
      assert.equal(await stored('updated:untagged'), null);
      assert.equal(await stored('tagged-updates'), 1);
    });

    it('onCollectionDelete may refuse a delete; after-success and after-error fire', async () => {
      await ctx.admin.collections.create({ name: 'keepme', type: 'base' });
      await expectSdkError(ctx.admin.collections.delete('keepme'), 400, 'Failed to delete collection.');
      assert.equal((await ctx.admin.collections.getOne('keepme')).name, 'keepme');
      assert.equal(await stored('delete-error:keepme'), 'delete');
      await ctx.admin.collections.create({ name: 'goner', type: 'base' });
      await ctx.admin.collections.delete('goner');
      assert.equal(await stored('deleted:goner'), 'delete');
      await expectSdkError(ctx.admin.collections.getOne('goner'), 404, "The requested resource wasn't found.");
    });

    it('list and view request hooks see the collections and can change the response', async () => {
      const list = await ctx.admin.collections.getList(1, 2);
      const seen = await stored('list');
      assert.equal(seen.collections, 2);
      assert.equal(seen.totalItems, list.totalItems);
      assert.equal(seen.auth, '_superusers');
      const marked = await ctx.admin.collections.getList(1, 3);
      assert.equal(marked.totalItems, 12345);
      assert.equal(marked.items.length, 3);

      await ctx.admin.collections.create({ name: 'viewed', type: 'base', listRule: 'id = ""' });
      assert.equal((await ctx.admin.collections.getOne('viewed')).listRule, 'changed in the view hook');
      const fromList = (await ctx.admin.collections.getFullList({ filter: 'name = "viewed"' }))[0];
      assert.equal(fromList.listRule, 'id = ""', 'the view hook changed only its response');
    });

    it('create/update/delete request hooks change, answer or refuse the request', async () => {
      const ext = await ctx.admin.collections.create({ name: 'extended', type: 'base' });
      assert.deepEqual(ext.fields.map((f) => f.name), ['id', 'addedByHook']);
      assert.equal(await stored('created-request:extended'), ext.id);

      await ctx.admin.collections.create({ name: 'answered', type: 'base' });
      const res = await http(ctx.url, 'PATCH', '/api/collections/answered', { json: { listRule: '' }, token: ctx.admin.authStore.token });
      assert.equal(res.status, 202);
      assert.deepEqual(res.body, { answered: 'answered' });
      assert.equal((await ctx.admin.collections.getOne('answered')).listRule, "id != ''", 'not updated');

      await ctx.admin.collections.create({ name: 'guarded', type: 'base' });
      await expectSdkError(ctx.admin.collections.delete('guarded'), 400, 'Guarded by a request hook.');
      assert.equal((await ctx.admin.collections.getOne('guarded')).name, 'guarded');
    });

    it('onCollectionsImportRequest changes the imported data; the model hooks fire per collection', async () => {
      await ctx.admin.collections.import([{ name: 'imported', type: 'base', fields: [{ name: 'title', type: 'text' }] }], false);
      assert.deepEqual(await stored('import'), { count: 1, deleteMissing: false });
      const c = await ctx.admin.collections.getOne('imported');
      assert.equal(c.viewRule, '', 'set by the import request hook');
      assert.equal(c.listRule, "id != ''", 'set by onCollectionCreate');
      assert.equal((await stored('create:imported')).id, c.id);
      assert.deepEqual(await stored('success:imported'), { id: c.id, type: 'create' });
      assert.equal(await stored('validate:imported'), null, 'imports save without the validate hook');

      // a hook error fails the whole import
      await expectSdkError(ctx.admin.collections.import([{ name: 'imported2', type: 'base' }, { name: 'blocked_import', type: 'base' }], false),
        400, 'Failed to import collections.', {
          collections: { code: 'validation_collections_import_failure', message: 'Failed to import the collections configuration. Raw error:\nfailed to save collection "blocked_import": No blocked collections.' },
        });
      await expectSdkError(ctx.admin.collections.getOne('imported2'), 404, "The requested resource wasn't found.");
    });

    it('settings hooks: list changes the response (secrets stay masked), update changes newSettings', async () => {
      await ctx.admin.settings.update({ meta: { appName: 'Base' }, smtp: { password: 'smtp-secret', host: 'smtp.example.com', port: 587 } });
      assert.deepEqual(await stored('settings-update'), { old: 'Acme', submitted: 'Base' });
      const list = await ctx.admin.settings.getAll();
      assert.equal(list.meta.appName, 'Listed Base (hooked)');
      assert.equal(list.smtp.password, undefined);
      assert.deepEqual(await stored('settings-list'), { appName: 'Base (hooked)', smtpPassword: 'smtp-secret' });

      const reloads = await stored('reloads');
      assert.ok(reloads >= 2, `reloaded at start and after the update (${reloads})`);
      await expectSdkError(ctx.admin.settings.update({ meta: { appName: 'refused' } }), 400, 'Refused name.');
      assert.equal(await stored('reloads'), reloads, 'nothing saved, no reload');
      assert.equal((await ctx.admin.settings.getAll()).meta.appName, 'Listed Base (hooked)');
    });
  });
}

suite('PocketBun', pocketbunBin(), false);
suite('PocketBase', POCKETBASE, POCKETBASE ? false : pocketbaseMissingReason());
