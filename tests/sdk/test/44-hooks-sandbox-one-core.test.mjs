// The sandbox guarantees on a server confined to one CPU (`taskset -c 0`, as the benchmark
// runs it): a runaway hook must not keep the single request worker from answering others.
// A plugin call yields to the executor every epoch tick (10 ms); that yield has to let the
// I/O driver look for new connections too, else they wait for dozens of ticks (~0.6 s).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http, useServer, expectHttpError } from '../lib/client.mjs';

const HOOKS = `
routerAdd("GET", "/alive", (e) => e.json(200, { ok: true }));
routerAdd("GET", "/loop", () => { while (true) {} });
routerAdd("GET", "/busy/{ms}", (e) => {
  const until = Date.now() + Number(e.request.pathValue("ms"));
  while (Date.now() < until) {}
  return e.string(200, "done");
});
routerAdd("GET", "/alloc", () => { const a = []; while (true) a.push("x".repeat(1 << 20) + a.length); });
`;

const INTERNAL = 'Something went wrong while processing your request.';
const LIMIT_MS = 100; // the acceptance bound for "keeps serving other requests"

const ctx = useServer({ cpus: '0', hooks: { 'one-core.pb.js': HOOKS }, env: { POCKETBUN_PLUGIN_TIMEOUT_MS: '2000' } });

async function timedAlive(path = '/alive') {
  const started = performance.now();
  const res = await http(ctx.url, 'GET', path);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return performance.now() - started;
}

describe('sandbox on one CPU', () => {
  it('a JS handler busy for 1.5 s does not hold up other requests', async () => {
    const busy = http(ctx.url, 'GET', '/busy/1500');
    await new Promise((r) => setTimeout(r, 200));
    const times = [];
    for (let i = 0; i < 10; i++) times.push(await timedAlive('/api/health'));
    for (let i = 0; i < 5; i++) times.push(await timedAlive());
    assert.ok(Math.max(...times) < LIMIT_MS, `answers took ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
    const res = await busy;
    assert.equal(res.status, 200);
    assert.equal(res.text, 'done');
  });

  it('an infinite loop and an allocation bomb fail with 500s while others are served in time', async () => {
    const bad = [http(ctx.url, 'GET', '/loop'), http(ctx.url, 'GET', '/alloc')];
    await new Promise((r) => setTimeout(r, 100));
    const times = [];
    for (let i = 0; i < 10; i++) times.push(await timedAlive());
    assert.ok(Math.max(...times) < LIMIT_MS, `answers took ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
    for (const res of await Promise.all(bad)) expectHttpError(res, 500, INTERNAL);
    assert.ok((await timedAlive()) < LIMIT_MS);
  });
});
