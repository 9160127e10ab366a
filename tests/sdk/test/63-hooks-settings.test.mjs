// The settings as a model in JS hooks and migrations (`$app.settings()` / `$app.save(settings)`)
// and the global `sleep(ms)`. Effects are asserted over HTTP (GET /api/settings as a
// superuser). Same hooks and assertions on PocketBase 0.40.6 when POCKETBASE_BIN is set; the
// one difference by design: PocketBun gives every hook call a time limit
// (POCKETBUN_PLUGIN_TIMEOUT_MS), so a sleep past it fails the call with the 500 envelope,
// where PocketBase (no limit) sleeps it out; and PocketBun's `$app.settings()` is a copy of
// the app's settings (PocketBase hands out the app's own struct, so changes made without a
// successful save are live there).
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { adminClient, http } from '../lib/client.mjs';
import { makeTempDir, pocketbaseBin, startServer } from '../lib/server.mjs';

const MIGRATION = `migrate((app) => {
  const s = app.settings();
  s.meta.appName = "From migration";
  s.logs.maxDays = 2;
  app.save(s);
}, (app) => {})
`;

const HOOKS = `
onSettingsReload((e) => {
  $app.store().set("reloadedWith", e.app.settings().meta.appName);
  e.next();
});

// the settings save runs the generic model hooks of table _params
onModelUpdate((e) => {
  $app.store().set("modelUpdate", [e.model.tableName(), e.model.meta.appName]);
  if (e.model.meta.appName === "Renamed by hook") e.model.meta.appName = "Renamed in onModelUpdate";
  e.next();
}, "_params");
onModelAfterUpdateSuccess((e) => {
  $app.store().set("modelAfter", e.model.meta.appName);
  e.next();
}, "_params");

routerAdd("GET", "/settings/model-hooks", (e) => {
  return e.json(200, { update: $app.store().get("modelUpdate"), after: $app.store().get("modelAfter") });
});

routerAdd("POST", "/settings/name", (e) => {
  const body = e.requestInfo().body;
  const s = $app.settings();
  s.meta.appName = body.name;
  s.batch.enabled = true;
  $app.save(s);
  return e.json(200, { name: s.meta.appName, live: $app.settings().meta.appName, reloadedWith: $app.store().get("reloadedWith") });
});

routerAdd("POST", "/settings/tx", (e) => {
  const body = e.requestInfo().body;
  try {
    $app.runInTransaction((txApp) => {
      const s = txApp.settings();
      s.meta.appName = body.name;
      txApp.save(s);
      if (body.fail) throw new Error("roll back");
    });
  } catch (err) {
    return e.json(400, { rolledBack: true });
  }
  return e.json(200, { name: $app.settings().meta.appName });
});

// a batch sub-request's hook saves the settings through the batch's transaction
onRecordCreate((e) => {
  const s = e.app.settings();
  s.meta.appName = "From batch " + e.record.get("title");
  e.app.save(s);
  e.next();
}, "batch_notes");

routerAdd("GET", "/settings/secrets", (e) => {
  const s = $app.settings();
  const json = JSON.parse(JSON.stringify(s));
  return e.json(200, {
    password: s.smtp.password,
    inJson: "password" in json.smtp,
    table: s.tableName(),
    maxDays: s.logs.maxDays,
  });
});

routerAdd("GET", "/sleep/{ms}", (e) => {
  const started = Date.now();
  sleep(Number(e.request.pathValue("ms")));
  return e.json(200, { slept: Date.now() - started });
});
`;

const servers = [['pocketbun', process.env.POCKETBUN_BIN]];
if (pocketbaseBin()) servers.push(['pocketbase', pocketbaseBin()]);

async function withServer(bin, fn) {
  const baseDir = await makeTempDir();
  await mkdir(join(baseDir, 'pb_migrations'), { recursive: true });
  await writeFile(join(baseDir, 'pb_migrations', '1700000000_settings.js'), MIGRATION);
  const server = await startServer({ bin, baseDir, hooks: { 'settings.pb.js': HOOKS }, env: { POCKETBUN_PLUGIN_TIMEOUT_MS: '1500' } });
  try {
    await fn(server, await adminClient(server.url));
  } finally {
    await server.stop();
  }
}

for (const [label, bin] of servers) {
  describe(`settings from hooks and migrations (${label})`, () => {
    it('a migration, a hook and a transaction save the settings; bad values give the validation error', async () => {
      await withServer(bin, async (server, admin) => {
        // the migration's save
        let s = await admin.settings.getAll();
        assert.equal(s.meta.appName, 'From migration');
        assert.equal(s.logs.maxDays, 2);

        // a hook's save reloads the app settings (onSettingsReload sees the new ones)
        let res = await http(server.url, 'POST', '/settings/name', { json: { name: 'From hook' } });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { name: 'From hook', live: 'From hook', reloadedWith: 'From hook' });
        s = await admin.settings.getAll();
        assert.equal(s.meta.appName, 'From hook');
        assert.equal(s.batch.enabled, true);
        assert.equal(s.logs.maxDays, 2, 'the other values are kept');

        // onModelUpdate / onModelAfterUpdateSuccess ("_params") see the settings and may change them
        res = await http(server.url, 'GET', '/settings/model-hooks');
        assert.deepEqual(res.body, { update: ['_params', 'From hook'], after: 'From hook' });
        res = await http(server.url, 'POST', '/settings/name', { json: { name: 'Renamed by hook' } });
        assert.equal(res.status, 200);
        assert.equal((await admin.settings.getAll()).meta.appName, 'Renamed in onModelUpdate');
        assert.equal((await http(server.url, 'GET', '/settings/model-hooks')).body.after, 'Renamed in onModelUpdate');
        // ... also for PATCH /api/settings
        await admin.settings.update({ meta: { appName: 'From the API' } });
        assert.deepEqual((await http(server.url, 'GET', '/settings/model-hooks')).body, { update: ['_params', 'From the API'], after: 'From the API' });
        await http(server.url, 'POST', '/settings/name', { json: { name: 'From hook' } });

        // PocketBase's validation error, nothing saved
        res = await http(server.url, 'POST', '/settings/name', { json: { name: '' } });
        assert.equal(res.status, 400);
        assert.deepEqual(res.body, {
          data: { meta: { appName: { code: 'validation_required', message: 'Cannot be blank.' } } },
          message: 'Something went wrong while processing your request.',
          status: 400,
        });
        // nothing stored; PocketBase's `$app.settings()` is the app's own struct, so the
        // failed save left its in-memory copy changed (the API shows the unsaved name), while
        // PocketBun's is a copy: unsaved changes never reach the app (by design)
        assert.equal((await admin.settings.getAll()).meta.appName, label === 'pocketbun' ? 'From hook' : '');
        await http(server.url, 'POST', '/settings/name', { json: { name: 'From hook' } });

        // in a transaction: rolled back with it, or committed
        res = await http(server.url, 'POST', '/settings/tx', { json: { name: 'Rolled back', fail: true } });
        assert.equal(res.status, 400);
        // (on PocketBase the rolled back name stays in the app's struct, see above)
        assert.equal((await admin.settings.getAll()).meta.appName, label === 'pocketbun' ? 'From hook' : 'Rolled back');
        res = await http(server.url, 'POST', '/settings/tx', { json: { name: 'From tx' } });
        assert.deepEqual(res.body, { name: 'From tx' });
        assert.equal((await admin.settings.getAll()).meta.appName, 'From tx');
      });
    });

    it('a batch that rolls back takes its hooks\' settings saves with it', async () => {
      await withServer(bin, async (server, admin) => {
        await admin.settings.update({ batch: { enabled: true, maxRequests: 10 } });
        await admin.collections.create({ name: 'batch_notes', type: 'base', createRule: '', fields: [{ name: 'title', type: 'text', required: true }] });
        const before = (await admin.settings.getAll()).meta.appName;

        let batch = admin.createBatch();
        batch.collection('batch_notes').create({ title: 'one' });
        batch.collection('batch_notes').create({ title: '' }); // required: fails the batch
        await assert.rejects(batch.send(), (err) => err.status === 400);
        const after = (await admin.settings.getAll()).meta.appName;
        // PocketBun reads the settings again after the rollback; PocketBase keeps the last
        // rolled back change (the failing sub-request's hook ran before its validation) in
        // its in-memory struct (see the transaction case above)
        assert.equal(after, label === 'pocketbun' ? before : 'From batch ');
        assert.equal((await admin.collection('batch_notes').getList(1, 10)).totalItems, 0);

        batch = admin.createBatch();
        batch.collection('batch_notes').create({ title: 'two' });
        await batch.send();
        assert.equal((await admin.settings.getAll()).meta.appName, 'From batch two');
      });
    });

    it('hooks see the secrets; JSON leaves them out', async () => {
      await withServer(bin, async (server, admin) => {
        await admin.settings.update({ smtp: { enabled: true, host: 'smtp.test', port: 2525, username: 'u', password: 'top-secret' } });
        const res = await http(server.url, 'GET', '/settings/secrets');
        assert.deepEqual(res.body, { password: 'top-secret', inJson: false, table: '_params', maxDays: 2 });
        // an unchanged save keeps the secret
        await http(server.url, 'POST', '/settings/name', { json: { name: 'Again' } });
        assert.equal((await http(server.url, 'GET', '/settings/secrets')).body.password, 'top-secret');
      });
    });

    it('sleep(ms) waits; a sleep past the time limit fails only that call', async () => {
      await withServer(bin, async (server) => {
        let res = await http(server.url, 'GET', '/sleep/150');
        assert.equal(res.status, 200);
        assert.ok(res.body.slept >= 140, `slept ${res.body.slept} ms`);

        res = await http(server.url, 'GET', '/sleep/3000');
        if (label === 'pocketbun') {
          // over POCKETBUN_PLUGIN_TIMEOUT_MS (1.5 s): the generic 500 envelope
          assert.equal(res.status, 500);
          assert.deepEqual(res.body, { data: {}, message: 'Something went wrong while processing your request.', status: 500 });
        } else {
          assert.equal(res.status, 200);
          assert.ok(res.body.slept >= 2900);
        }
        // the server keeps serving, hooks included
        assert.equal((await http(server.url, 'GET', '/api/health')).status, 200);
        assert.equal((await http(server.url, 'GET', '/sleep/10')).status, 200);
      });
    });
  });
}
