// Realtime hooks from pb_hooks: onRealtimeConnectRequest (reject, answer, client store, idle
// timeout), onRealtimeSubscribeRequest (rewrite the topics, send to the client after
// e.next()) and onRealtimeMessageSend (change or hold back messages), through the SDK and
// raw SSE streams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, http, useServer } from '../lib/client.mjs';
import { collect, rawSse, sleep, waitUntil } from '../lib/realtime.mjs';

const HOOKS = `
onRealtimeConnectRequest((e) => {
  if (e.request.header.get("x-block") === "1") throw new ForbiddenError("Realtime is closed for you.");
  if (e.request.header.get("x-answer") === "1") return e.json(418, { answered: true, idle: e.idleTimeout, max: e.maxTimeout });
  if (e.request.header.get("x-short-idle") === "1") e.idleTimeout = 1000 * 1000 * 1000;
  e.client.set("greeting", "hello " + e.client.id().length);
  e.next();
});

onRealtimeSubscribeRequest((e) => {
  // secret topics are dropped, rt_items subscribers also get the announcements topic
  e.subscriptions = e.subscriptions.filter((s) => !s.startsWith("rt_secret"));
  if (e.subscriptions.some((s) => s.startsWith("rt_items"))) e.subscriptions.push("announcements");
  e.next();
  e.client.send(new SubscriptionMessage({
    name: "announcements",
    data: JSON.stringify({ subs: Object.keys(e.client.subscriptions()).sort(), greeting: e.client.get("greeting"), auth: e.auth ? e.auth.id : "" }),
  }));
});

onRealtimeMessageSend((e) => {
  if (e.message.name.startsWith("rt_items")) {
    const d = JSON.parse(toString(e.message.data));
    if (d.record.title === "quiet") return; // held back: no e.next()
    d.record.title += " (seen by " + e.client.get("greeting") + ")";
    e.message.data = JSON.stringify(d);
  }
  e.next();
});
`;

const ctx = useServer({ hooks: { 'realtime.pb.js': HOOKS } }, async ({ admin }) => {
  const pub = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
  await admin.collections.create({ name: 'rt_items', type: 'base', ...pub, fields: [{ name: 'title', type: 'text' }] });
  await admin.collections.create({ name: 'rt_secret', type: 'base', ...pub, fields: [{ name: 'title', type: 'text' }] });
});

describe('onRealtimeConnectRequest', () => {
  it('a throwing handler rejects the connection with its error', async () => {
    const res = await http(ctx.url, 'GET', '/api/realtime', { headers: { 'x-block': '1' } });
    assert.equal(res.status, 403);
    assert.equal(res.body.message, 'Realtime is closed for you.');
  });

  it('a handler may answer itself; the timeouts are Go durations (ns)', async () => {
    const res = await http(ctx.url, 'GET', '/api/realtime', { headers: { 'x-answer': '1' } });
    assert.equal(res.status, 418);
    assert.deepEqual(res.body, { answered: true, idle: 5 * 60 * 1e9, max: 30 * 60 * 1e9 });
  });

  it('e.idleTimeout set by a handler ends a quiet stream', async () => {
    const quiet = await rawSse(ctx.url, { headers: { 'x-short-idle': '1' } });
    const normal = await rawSse(ctx.url);
    await waitUntil(() => quiet.ended, 5000, 'idle close');
    assert.ok(!normal.ended, 'the default idle timeout still applies to the others');
    normal.close();
  });
});

describe('onRealtimeSubscribeRequest and onRealtimeMessageSend', () => {
  it('handlers rewrite topics, send to the client, change and hold back messages', async () => {
    const pb = client(ctx.url);
    const announcements = [];
    await pb.realtime.subscribe('announcements', (e) => announcements.push(e));
    const items = await collect(pb, 'rt_items', '*');
    const secrets = await collect(pb, 'rt_secret', '*');
    await waitUntil(() => announcements.length >= 1, 5000, 'announcement');
    const last = announcements.at(-1);
    assert.deepEqual(last.subs, ['announcements', 'rt_items/*'], 'rt_secret was dropped by the hook');
    assert.match(last.greeting, /^hello 40$/, 'the store value set at connect time');

    await ctx.admin.collection('rt_items').create({ title: 'loud' });
    await ctx.admin.collection('rt_items').create({ title: 'quiet' });
    await ctx.admin.collection('rt_secret').create({ title: 'never' });
    await ctx.admin.collection('rt_items').create({ title: 'last' });
    await waitUntil(() => items.events.length >= 2, 5000, 'item events');
    await sleep(300);
    assert.deepEqual(items.events.map((e) => e.record.title).sort(), ['last (seen by hello 40)', 'loud (seen by hello 40)']);
    assert.equal(secrets.events.length, 0);
    pb.realtime.unsubscribe();
  });

  it('the raw stream shows PB_CONNECT going through the hooks too', async () => {
    const sse = await rawSse(ctx.url);
    assert.equal(JSON.parse(sse.messages[0].data).clientId, sse.clientId);
    const res = await http(ctx.url, 'POST', '/api/realtime', { json: { clientId: sse.clientId, subscriptions: ['rt_secret/*'] } });
    assert.equal(res.status, 204);
    await waitUntil(() => sse.messages.length >= 2, 5000, 'announcement');
    assert.deepEqual(JSON.parse(sse.messages[1].data).subs, []);
    sse.close();
  });
});
