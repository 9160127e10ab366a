// Global middlewares (routerUse), the app lifecycle hooks (onBootstrap, onServe,
// onTerminate) and onBatchRequest, from real pb_hooks files; the same files and requests
// run on PocketBun and, when available, on the real PocketBase, with the same expectations.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminClient, http } from '../lib/client.mjs';
import { collect, waitUntil } from '../lib/realtime.mjs';
import { makeTempDir, pocketbaseBin, pocketbunBin, startServer } from '../lib/server.mjs';

// (PocketBase runs each handler in its own VM: handlers use no top-level variables)
const MIDDLEWARES = `
routerUse((e) => {
  e.response.header().set("X-Hooked", "yes");
  $app.store().set("served", true);
  return e.next();
});

// order: priorities first (lower runs first), registration order among equal ones
routerUse(new Middleware((e) => { e.response.header().add("X-Order", "p10"); return e.next(); }, 10, "p10"));
routerUse((e) => { e.response.header().add("X-Order", "zero-a"); return e.next(); });
routerUse(new Middleware((e) => { e.response.header().add("X-Order", "p-10"); return e.next(); }, -10, "p-10"));
routerUse((e) => { e.response.header().add("X-Order", "zero-b"); return e.next(); });
// the same id again replaces the first one
routerUse(new Middleware((e) => { e.response.header().add("X-Order", "p10-replaced"); return e.next(); }, 10, "p10"));

routerUse((e) => {
  const path = e.request.url.path;
  if (path.startsWith("/api/collections/secrets/")) throw new ForbiddenError("blocked by middleware");
  if (path === "/mw/answer") return e.json(202, { answeredBy: "middleware", auth: e.auth ? e.auth.email() : null });
  if (path === "/mw/echo") e.request.header.set("X-Injected", "from middleware");
  if (path === "/api/health" && e.request.header.get("X-Track") === "1") {
    e.next();
    $app.store().set("healthStatus", e.status());
    return;
  }
  return e.next();
});

// a middleware sets the auth the handlers see
routerUse((e) => {
  const email = e.request.header.get("X-Act-As");
  if (email) e.auth = $app.findFirstRecordByData("_superusers", "email", email);
  return e.next();
});

routerAdd("GET", "/mw/echo", (e) => e.json(200, { injected: e.request.header.get("X-Injected") }));
routerAdd("GET", "/mw/store", (e) => e.json(200, {
  healthStatus: $app.store().get("healthStatus"),
  bootstrapped: $app.store().get("bootstrapped"),
  serveAddr: $app.store().get("serveAddr"),
  batchSeen: $app.store().get("batchSeen"),
}));
`;

const LIFECYCLE = `
onBootstrap((e) => {
  e.next();
  $app.store().set("bootstrapped", ($app.store().get("bootstrapped") || 0) + 1);
});

// (PocketBase fires onTerminate at the end of every command: only a serve records it)
onTerminate((e) => {
  if (!$app.store().get("served")) return e.next();
  const record = new Record($app.findCollectionByNameOrId("events"));
  record.set("name", "terminated");
  $app.save(record);
  return e.next();
});

onBatchRequest((e) => {
  $app.store().set("batchSeen", e.batch.map((r) => r.method + " " + r.url).join(","));
  if (!e.batch[0].url.includes("/notes/")) return e.next();
  if (e.batch.length > 2) throw new BadRequestError("too many sub-requests for this hook");
  if (e.batch[0].body.title === "answer") return e.json(200, { answeredBy: "onBatchRequest" });
  e.batch[0].body.title = e.batch[0].body.title + " (batched)";
  return e.next();
});

// record request hooks run for batch sub-requests too
onRecordCreateRequest((e) => {
  const title = e.record.getString("title");
  if (title === "skip") return e.json(201, { skipped: true });
  e.record.set("title", title + " [create hook]");
  return e.next();
}, "tasks");
onRecordUpdateRequest((e) => {
  e.record.set("title", e.record.getString("title") + " [update hook]");
  return e.next();
}, "tasks");
onRecordDeleteRequest((e) => {
  if (e.record.getString("title").startsWith("keep")) throw new ForbiddenError("kept by hook");
  return e.next();
}, "tasks");
`;

// PocketBun only: PocketBase 0.40's JS runtime does not define onServe
const SERVE = `
onServe((e) => {
  $app.store().set("serveAddr", e.server.addr);
  return e.next();
});
`;

const HOOKS = { 'middlewares.pb.js': MIDDLEWARES, 'lifecycle.pb.js': LIFECYCLE };

const TARGETS = [['PocketBun', pocketbunBin()]];
if (pocketbaseBin()) TARGETS.push(['PocketBase', pocketbaseBin()]);

for (const [name, bin] of TARGETS) {
  describe(`routerUse and lifecycle hooks on ${name}`, () => {
    const ctx = {};
    before(async () => {
      ctx.baseDir = await makeTempDir();
      // a static file (pb_public is picked up at start)
      await mkdir(join(ctx.baseDir, 'pb_public'), { recursive: true });
      await writeFile(join(ctx.baseDir, 'pb_public', 'hello.txt'), 'static hello');
      ctx.server = await startServer({ bin, baseDir: ctx.baseDir, keepDir: true, hooks: name === 'PocketBun' ? { ...HOOKS, 'serve.pb.js': SERVE } : HOOKS, args: [`--publicDir=${join(ctx.baseDir, 'pb_public')}`] });
      ctx.url = ctx.server.url;
      ctx.admin = await adminClient(ctx.url);
      await ctx.admin.collections.create({ name: 'events', type: 'base', fields: [{ name: 'name', type: 'text' }] });
      await ctx.admin.collections.create({
        name: 'notes', type: 'base', listRule: '', viewRule: '', createRule: '',
        fields: [{ name: 'title', type: 'text' }],
      });
      await ctx.admin.collections.create({ name: 'pings', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'n', type: 'number' }] });
      await ctx.admin.collections.create({ name: 'tasks', type: 'base', fields: [{ name: 'title', type: 'text' }] });
      await ctx.admin.collections.create({ name: 'secrets', type: 'base', listRule: '', fields: [{ name: 'v', type: 'text' }] });
      await ctx.admin.send('/api/settings', { method: 'PATCH', body: { batch: { enabled: true, maxRequests: 10 } } });
    });
    after(async () => {
      await ctx.server?.stop();
      if (ctx.baseDir) await rm(ctx.baseDir, { recursive: true, force: true });
    });

    it('a middleware header reaches built-in APIs, static files, routes and 404s', async () => {
      for (const path of ['/api/health', '/api/collections/notes/records', '/hello.txt', '/mw/echo', '/no/such/path']) {
        const res = await http(ctx.url, 'GET', path);
        assert.equal(res.headers.get('x-hooked'), 'yes', path);
      }
      const res = await http(ctx.url, 'GET', '/hello.txt');
      assert.equal(res.status, 200);
      assert.equal(res.text, 'static hello');
      // the SDK sees the built-in API answer unchanged
      const list = await ctx.admin.collection('notes').getList(1, 5);
      assert.equal(list.totalItems, 0);
    });

    it('middlewares run by priority, then registration order; an id replaces', async () => {
      const res = await http(ctx.url, 'GET', '/api/health');
      assert.equal(res.headers.get('x-order'), 'p-10, zero-a, zero-b, p10-replaced');
    });

    it('a middleware blocks a path with a 403 envelope', async () => {
      const res = await http(ctx.url, 'GET', '/api/collections/secrets/records');
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, { data: {}, message: 'Blocked by middleware.', status: 403 });
      // other collections are served
      assert.equal((await http(ctx.url, 'GET', '/api/collections/notes/records')).status, 200);
    });

    it('a middleware answers itself, with the request auth', async () => {
      let res = await http(ctx.url, 'GET', '/mw/answer');
      assert.equal(res.status, 202);
      assert.deepEqual(res.body, { answeredBy: 'middleware', auth: null });
      res = await http(ctx.url, 'GET', '/mw/answer', { token: ctx.admin.authStore.token });
      assert.deepEqual(res.body, { answeredBy: 'middleware', auth: 'admin@example.com' });
    });

    it('a middleware changes the request before e.next() and sees the status after it', async () => {
      const res = await http(ctx.url, 'GET', '/mw/echo');
      assert.deepEqual(res.body, { injected: 'from middleware' });
      await http(ctx.url, 'GET', '/api/health', { headers: { 'X-Track': '1' } });
      const store = await http(ctx.url, 'GET', '/mw/store');
      assert.equal(store.body.healthStatus, 200);
    });

    it('a middleware sets e.auth for the built-in APIs', async () => {
      const guest = await http(ctx.url, 'GET', '/api/collections/_superusers/records');
      assert.equal(guest.status, 403);
      const res = await http(ctx.url, 'GET', '/api/collections/_superusers/records', { headers: { 'X-Act-As': 'admin@example.com' } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.items.map((r) => r.email), ['admin@example.com']);
    });

    it('realtime streams pass through the middlewares unbuffered', async () => {
      const { events, unsubscribe } = await collect(ctx.admin, 'pings', '*');
      await ctx.admin.collection('pings').create({ n: 7 });
      await waitUntil(() => events.length === 1, 5000, 'the realtime event');
      assert.equal(events[0].record.n, 7);
      await unsubscribe();
    });

    it('onBootstrap ran once at start (and onServe on PocketBun)', async () => {
      const store = await http(ctx.url, 'GET', '/mw/store');
      assert.equal(store.body.bootstrapped, 1);
      if (name === 'PocketBun') assert.equal(store.body.serveAddr, `127.0.0.1:${ctx.server.port}`);
    });

    it('onBatchRequest sees the sub-requests, may change them, fail or answer', async () => {
      const batch = ctx.admin.createBatch();
      batch.collection('notes').create({ title: 'one' });
      batch.collection('notes').create({ title: 'two' });
      const results = await batch.send();
      assert.deepEqual(results.map((r) => [r.status, r.body.title]), [[200, 'one (batched)'], [200, 'two']]);
      const store = await http(ctx.url, 'GET', '/mw/store');
      assert.equal(store.body.batchSeen, 'POST /api/collections/notes/records,POST /api/collections/notes/records');

      const tooMany = ctx.admin.createBatch();
      for (const t of ['a', 'b', 'c']) tooMany.collection('notes').create({ title: t });
      await assert.rejects(tooMany.send(), (err) => {
        assert.equal(err.status, 400);
        assert.equal(err.response.message, 'Too many sub-requests for this hook.');
        return true;
      });

      const answered = ctx.admin.createBatch();
      answered.collection('notes').create({ title: 'answer' });
      assert.deepEqual(await answered.send(), { answeredBy: 'onBatchRequest' });
      const titles = (await ctx.admin.collection('notes').getFullList({ sort: 'title' })).map((r) => r.title);
      assert.deepEqual(titles, ['one (batched)', 'two']);
    });

    it('record request hooks run for batch sub-requests, in its transaction', async () => {
      const tasks = ctx.admin.collection('tasks');
      const t1 = await tasks.create({ title: 't1' });
      const t2 = await tasks.create({ title: 't2' });
      const keep = await tasks.create({ title: 'keep me' });
      assert.deepEqual([t1.title, t2.title], ['t1 [create hook]', 't2 [create hook]']);

      const batch = ctx.admin.createBatch();
      batch.collection('tasks').create({ title: 'a' });
      batch.collection('tasks').create({ title: 'skip' });
      batch.collection('tasks').update(t1.id, { title: 't1 edited' });
      batch.collection('tasks').delete(t2.id);
      const results = await batch.send();
      assert.deepEqual(results.map((r) => [r.status, r.body && (r.body.title ?? r.body)]), [
        [200, 'a [create hook]'],
        [201, { skipped: true }],
        [200, 't1 edited [update hook]'],
        [204, null],
      ]);

      // an upsert fires the update hook for an existing record, the create hook otherwise
      const upserts = ctx.admin.createBatch();
      upserts.collection('tasks').upsert({ id: t1.id, title: 'upserted' });
      upserts.collection('tasks').upsert({ title: 'b' });
      const upserted = await upserts.send();
      assert.deepEqual(upserted.map((r) => [r.status, r.body.title]), [[200, 'upserted [update hook]'], [200, 'b [create hook]']]);

      // a hook error fails the batch at its sub-request and rolls everything back
      const failing = ctx.admin.createBatch();
      failing.collection('tasks').create({ title: 'rolled back' });
      failing.collection('tasks').delete(keep.id);
      await assert.rejects(failing.send(), (err) => {
        assert.equal(err.status, 400);
        assert.deepEqual(err.response.data, {
          requests: { 1: { code: 'batch_request_failed', message: 'Batch request failed.', response: { data: {}, message: 'Kept by hook.', status: 403 } } },
        });
        return true;
      });
      const titles = (await tasks.getFullList({ sort: 'title' })).map((r) => r.title);
      assert.deepEqual(titles, ['a [create hook]', 'b [create hook]', 'keep me [create hook]', 'upserted [update hook]']);
    });

    it('onTerminate runs on SIGTERM (its record is there after a restart)', async () => {
      await ctx.server.stop();
      ctx.server = await startServer({ bin, baseDir: ctx.baseDir, keepDir: true, hooks: name === 'PocketBun' ? { ...HOOKS, 'serve.pb.js': SERVE } : HOOKS, args: [`--publicDir=${join(ctx.baseDir, 'pb_public')}`] });
      ctx.url = ctx.server.url;
      const admin = await adminClient(ctx.url);
      const events = await admin.collection('events').getFullList();
      assert.deepEqual(events.map((r) => r.name), ['terminated']);
    });
  });
}

describe('onBootstrap errors', () => {
  it('a throwing onBootstrap handler aborts the start', async () => {
    const hooks = { 'boot.pb.js': 'onBootstrap((e) => { throw new Error("no start today"); });' };
    await assert.rejects(startServer({ hooks, timeoutMs: 8000 }));
  });
});
