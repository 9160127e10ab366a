// --hooksWatch (on by default, as in PocketBase): changing pb_hooks reloads the JS
// runtime with new instances; a request that is running on the old instances finishes
// there; a broken file keeps the running hooks.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { http, sleep, useServer } from '../lib/client.mjs';

const V1 = `
routerAdd("GET", "/reload/version", (e) => e.string(200, "v1"));
routerAdd("GET", "/reload/slow", (e) => {
  const end = Date.now() + 1500;
  while (Date.now() < end) {}
  return e.string(200, "slow v1");
});
`;

const V2 = `
routerAdd("GET", "/reload/version", (e) => e.string(200, "v2"));
routerAdd("GET", "/reload/added", (e) => e.json(200, { added: true }));
`;

const ctx = useServer({ hooks: { 'reload.pb.js': V1 }, env: { POCKETBUN_LOG: 'info' } });

async function waitFor(path, want, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await http(ctx.url, 'GET', path);
    if (last.status === 200 && last.text === want) return;
    await sleep(100);
  }
  assert.fail(`${path} did not become ${JSON.stringify(want)}: last ${last.status} ${last.text}`);
}

describe('hot reload of pb_hooks', () => {
  it('a changed hook file replaces the routes; in-flight calls finish on the old instances', async () => {
    assert.equal((await http(ctx.url, 'GET', '/reload/version')).text, 'v1');
    assert.equal((await http(ctx.url, 'GET', '/reload/added')).status, 404);
    const slow = http(ctx.url, 'GET', '/reload/slow');
    await sleep(200);
    await writeFile(join(ctx.server.baseDir, 'pb_hooks', 'reload.pb.js'), V2);
    await waitFor('/reload/version', 'v2');
    const old = await slow;
    assert.equal(old.status, 200);
    assert.equal(old.text, 'slow v1');
    assert.deepEqual((await http(ctx.url, 'GET', '/reload/added')).body, { added: true });
    assert.equal((await http(ctx.url, 'GET', '/reload/slow')).status, 404, 'routes of the old file are gone');
    assert.match(ctx.server.logs(), /plugins reloaded/);
  });

  it('a broken file keeps the running hooks; fixing it reloads', async () => {
    await writeFile(join(ctx.server.baseDir, 'pb_hooks', 'broken.pb.js'), 'routerAdd("GET", "/reload/broken", (e) => {');
    const deadline = Date.now() + 15_000;
    while (!/plugins not reloaded/.test(ctx.server.logs()) && Date.now() < deadline) await sleep(100);
    assert.match(ctx.server.logs(), /plugins not reloaded.*broken\.pb\.js/);
    assert.equal((await http(ctx.url, 'GET', '/reload/version')).text, 'v2');
    await writeFile(join(ctx.server.baseDir, 'pb_hooks', 'broken.pb.js'), 'routerAdd("GET", "/reload/broken", (e) => e.string(200, "fixed"));');
    await waitFor('/reload/broken', 'fixed');
  });
});
