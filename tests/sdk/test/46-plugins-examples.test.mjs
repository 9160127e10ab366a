// The example plugins of plugins/examples, built from source (scripts/test-all's
// `examples` stage runs their build scripts), loaded from pb_plugins: their routes, their
// record hooks chained with each other, their host imports (records, db, kv), and the
// sandbox (a trapping plugin and a plugin reading a host file fail only their request).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { expectSdkError, http, useServer } from '../lib/client.mjs';

const EXAMPLES = fileURLToPath(new URL('../../../plugins/examples/', import.meta.url));
const RUST = `${EXAMPLES}rust-hello/dist/rust-hello.wasm`;
const JS = `${EXAMPLES}js-hello/dist/js-hello.wasm`;
for (const f of [RUST, JS]) {
  if (!existsSync(f)) throw new Error(`${f} is missing: run plugins/examples/build.sh (scripts/test-all does)`);
}

// the first start compiles the ~12 MB JS plugin (SpiderMonkey inside): up to a minute on a busy machine
const ctx = useServer({ plugins: { 'rust-hello.wasm': RUST, 'js-hello.wasm': JS }, timeoutMs: 300_000 }, async ({ admin }) => {
  await admin.collections.create({
    name: 'notes',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'tag', type: 'text' },
      { name: 'body', type: 'text' },
    ],
  });
});

describe('rust plugin (wit-bindgen)', () => {
  it('serves a route with path params and a kv counter', async () => {
    const a = await http(ctx.url, 'GET', '/rust-plugin/hello/bob');
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.message, 'Hello bob from a Rust plugin');
    const b = await http(ctx.url, 'GET', '/rust-plugin/hello/bob');
    assert.equal(b.body.calls, a.body.calls + 1);
  });

  it('saves records through the records import; raw SQL through db', async () => {
    const res = await http(ctx.url, 'POST', '/rust-plugin/notes', { json: { title: 'from rust', tag: 'keep' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.collectionName, 'notes');
    assert.equal(res.body.title, 'from rust');
    const stored = await ctx.guest.collection('notes').getOne(res.body.id);
    assert.equal(stored.tag, 'keep', 'records.save does not fire request hooks (as $app.save in PocketBase)');
    const stats = await http(ctx.url, 'GET', '/rust-plugin/stats');
    assert.deepEqual(stats.body.byTag, [{ tag: 'keep', n: 1 }]);
  });
});

describe('js plugin (componentize-js)', () => {
  it('serves routes; its kv store is shared by its instances', async () => {
    const res = await http(ctx.url, 'GET', '/js-plugin/hello/amy');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.message, 'Hello amy from a componentize-js plugin');
    const first = (await http(ctx.url, 'POST', '/js-plugin/counter')).body.counter;
    const counts = await Promise.all([1, 2, 3].map(() => http(ctx.url, 'POST', '/js-plugin/counter')));
    assert.deepEqual(counts.map((r) => r.body.counter).sort(), [first + 1, first + 2, first + 3]);
  });

  it('reads records through the records import; import errors keep their envelope', async () => {
    const res = await http(ctx.url, 'GET', '/js-plugin/titles/notes');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, ['from rust']);
    const missing = await http(ctx.url, 'GET', '/js-plugin/titles/nope');
    assert.equal(missing.status, 404, missing.text);
  });
});

describe('record hooks of both plugins form one chain', () => {
  it('onRecordCreateRequest: the js plugin trims and annotates, the rust plugin upper-cases the tag', async () => {
    const rec = await ctx.guest.collection('notes').create({ title: '  hooked  ', tag: 'tmp', body: 'text' });
    assert.equal(rec.title, 'hooked');
    assert.equal(rec.tag, 'TMP');
    assert.equal(rec.body, 'text [checked by the js plugin]');
    const stored = await ctx.guest.collection('notes').getOne(rec.id);
    assert.deepEqual([stored.title, stored.tag, stored.body], ['hooked', 'TMP', 'text [checked by the js plugin]']);
  });

  it('a hook error stops the chain before the insert', async () => {
    const before = (await ctx.guest.collection('notes').getList(1, 1)).totalItems;
    await expectSdkError(ctx.guest.collection('notes').create({ title: '   ', tag: 'x' }), 400, 'A note needs a title.', {
      title: { code: 'validation_required', message: 'Missing required value.' },
    });
    assert.equal((await ctx.guest.collection('notes').getList(1, 1)).totalItems, before);
  });
});

describe('sandbox', () => {
  const INTERNAL = 'Something went wrong while processing your request.';

  it('a plugin that traps fails only that request (500, logged); others are served meanwhile', async () => {
    const [trapped, ...others] = await Promise.all([
      http(ctx.url, 'GET', '/rust-plugin/trap'),
      ...Array.from({ length: 5 }, (_, i) => http(ctx.url, 'GET', `/rust-plugin/hello/p${i}`)),
      http(ctx.url, 'GET', '/js-plugin/hello/during'),
    ]);
    assert.equal(trapped.status, 500);
    assert.deepEqual(trapped.body, { data: {}, message: INTERNAL, status: 500 });
    for (const r of others) assert.equal(r.status, 200, r.text);
    assert.match(ctx.server.logs(), /GET \/rust-plugin\/trap: the plugin trapped: (wasm trap: )?wasm `unreachable` instruction executed/);
    // the trapped instance was replaced
    assert.equal((await http(ctx.url, 'GET', '/rust-plugin/hello/after')).status, 200);
  });

  it('a plugin has no filesystem: reading a host file fails inside the plugin', async () => {
    const res = await http(ctx.url, 'GET', '/rust-plugin/read-file');
    assert.equal(res.status, 500);
    assert.match(res.body.message, /^reading \/etc\/passwd failed: /);
    assert.equal(res.body.leaked, undefined);
  });
});
