// pb_hooks routes on the Wasm JS runtime: routerAdd, the request event API, $apis errors
// and middlewares, $app record access, and the sandbox (a runaway hook fails only its own
// request with a 500 envelope; the server keeps serving).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectHttpError, http, useServer } from '../lib/client.mjs';

// short per-call budget so the infinite-loop test is quick
process.env.POCKETBUN_PLUGIN_TIMEOUT_MS = '1000';

const ROUTES = `
routerAdd("GET", "/hello/{name}", (e) => {
  return e.json(200, {
    name: e.request.pathValue("name"),
    q: e.request.url.query().get("q"),
    ua: e.request.header.get("X-Test"),
    method: e.request.method,
    path: e.request.url.path,
  });
});
routerAdd("GET", "/text", (e) => e.string(201, "plain"));
routerAdd("GET", "/page", (e) => e.html(200, "<h1>hi</h1>"));
routerAdd("DELETE", "/nothing", (e) => e.noContent(204));
routerAdd("GET", "/go", (e) => e.redirect(307, "/hello/redirected"));
routerAdd("GET", "/files/{path...}", (e) => e.string(200, e.request.pathValue("path")));
routerAdd("POST", "/info", (e) => {
  const info = e.requestInfo();
  return e.json(200, { body: info.body, query: info.query, custom: info.headers.x_custom, method: info.method, auth: info.auth });
});
routerAdd("GET", "/whoami", (e) => e.json(200, { auth: e.auth ? e.auth.collectionName || e.auth.collection().name : null }));
routerAdd("GET", "/private", (e) => e.json(200, { id: e.auth.id }), $apis.requireAuth());
routerAdd("GET", "/admin-only", (e) => e.string(200, "yes"), $apis.requireSuperuserAuth());
routerAdd("GET", "/wrapped", (e) => e.json(200, { seen: e.get("mw") }), (e) => { e.set("mw", "first"); return e.next(); });
routerAdd("GET", "/err/bad", () => { throw new BadRequestError("bad thing", { title: new ValidationError("my_code", "My message.") }); });
routerAdd("GET", "/err/notfound", () => { throw new NotFoundError(); });
routerAdd("GET", "/err/forbidden", (e) => { throw e.forbiddenError("nope", {}); });
routerAdd("GET", "/err/custom", () => { throw new ApiError(418, "teapot"); });
routerAdd("GET", "/err/plain", () => { throw new Error("internal detail"); });
routerAdd("GET", "/err/returned", () => new UnauthorizedError("returned, not thrown"));
`;

const APP = `
routerAdd("POST", "/notes", (e) => {
  const body = e.requestInfo().body;
  const c = $app.findCollectionByNameOrId("notes");
  const rec = new Record(c, { title: body.title, secret: "s-" + body.title });
  $app.save(rec);
  return e.json(200, rec);
});
routerAdd("GET", "/notes/{id}", (e) => {
  const rec = $app.findRecordById("notes", e.request.pathValue("id"));
  return e.json(200, { record: rec, secret: rec.getString("secret"), title: rec.get("title") });
});
routerAdd("GET", "/notes", (e) => {
  const q = e.request.url.query().get("q");
  const list = $app.findRecordsByFilter("notes", "title ~ {:q}", "-title", 10, 0, { q: q });
  return e.json(200, list.map((r) => r.getString("title")));
});
routerAdd("PATCH", "/notes/{id}", (e) => {
  const rec = $app.findRecordById("notes", e.request.pathValue("id"));
  rec.set("title", e.requestInfo().body.title);
  $app.save(rec);
  return e.json(200, { title: rec.get("title"), updatedChanged: rec.get("updated") !== e.requestInfo().body.before });
});
routerAdd("GET", "/count", (e) => {
  const row = $app.db().newQuery("SELECT count(*) AS n FROM notes WHERE title != {:skip}").bind({ skip: "zzz" }).one();
  return e.json(200, row);
});
routerAdd("GET", "/store", (e) => {
  const s = $app.store();
  s.set("hits", (s.get("hits") || 0) + 1);
  return e.json(200, { hits: s.get("hits") });
});
routerAdd("GET", "/bench/hook", (e) => e.string(200, "ok"));
`;

const SANDBOX = `
routerAdd("GET", "/sandbox/loop", () => { while (true) {} });
routerAdd("GET", "/sandbox/alloc", () => { const a = []; while (true) a.push("x".repeat(1 << 20) + a.length); });
routerAdd("GET", "/sandbox/recurse", () => { function f(n) { return f(n + 1) + 1; } return f(0); });
`;

const ctx = useServer({ hooks: { 'routes.pb.js': ROUTES, 'app.pb.js': APP, 'sandbox.pb.js': SANDBOX } }, async ({ admin }) => {
  await admin.collections.create({
    name: 'notes',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
});

describe('routerAdd responses', () => {
  it('e.json with path params, query and headers', async () => {
    const res = await http(ctx.url, 'GET', '/hello/bob?q=search%20me', { headers: { 'X-Test': 'yes' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(res.body, { name: 'bob', q: 'search me', ua: 'yes', method: 'GET', path: '/hello/bob' });
  });

  it('e.string, e.html, e.noContent, e.redirect', async () => {
    let res = await http(ctx.url, 'GET', '/text');
    assert.equal(res.status, 201);
    assert.equal(res.text, 'plain');
    assert.match(res.headers.get('content-type'), /^text\/plain/);
    res = await http(ctx.url, 'GET', '/page');
    assert.equal(res.text, '<h1>hi</h1>');
    assert.match(res.headers.get('content-type'), /^text\/html/);
    res = await http(ctx.url, 'DELETE', '/nothing');
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    const r = await fetch(ctx.url + '/go', { redirect: 'manual' });
    assert.equal(r.status, 307);
    assert.equal(r.headers.get('location'), '/hello/redirected');
  });

  it('wildcard tails and security headers', async () => {
    const res = await http(ctx.url, 'GET', '/files/a/b/c.txt');
    assert.equal(res.text, 'a/b/c.txt');
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  });

  it('a method that no route has falls through to the 404 envelope', async () => {
    expectHttpError(await http(ctx.url, 'POST', '/text'), 404, "The requested resource wasn't found.");
  });

  it('built-in routes still win', async () => {
    const res = await http(ctx.url, 'GET', '/api/health');
    assert.equal(res.body.message, 'API is healthy.');
  });
});

describe('request event', () => {
  it('e.requestInfo() has body, query, snake_case headers and method', async () => {
    const res = await http(ctx.url, 'POST', '/info?a=1&a=2&b=x', { json: { n: 1, s: 'two' }, headers: { 'X-Custom': 'c' } });
    assert.deepEqual(res.body, { body: { n: 1, s: 'two' }, query: { a: '1', b: 'x' }, custom: 'c', method: 'POST', auth: null });
  });

  it('e.auth is the authenticated record', async () => {
    assert.deepEqual((await http(ctx.url, 'GET', '/whoami')).body, { auth: null });
    const res = await http(ctx.url, 'GET', '/whoami', { token: ctx.admin.authStore.token });
    assert.deepEqual(res.body, { auth: '_superusers' });
  });

  it('$apis.requireAuth / requireSuperuserAuth middlewares', async () => {
    expectHttpError(await http(ctx.url, 'GET', '/private'), 401, 'The request requires valid record authorization token.');
    const res = await http(ctx.url, 'GET', '/private', { token: ctx.admin.authStore.token });
    assert.equal(res.body.id, ctx.admin.authStore.record.id);
    expectHttpError(await http(ctx.url, 'GET', '/admin-only'), 401, 'The request requires valid record authorization token.');
    assert.equal((await http(ctx.url, 'GET', '/admin-only', { token: ctx.admin.authStore.token })).text, 'yes');
  });

  it('route middlewares run before the handler and share e.get/e.set', async () => {
    assert.deepEqual((await http(ctx.url, 'GET', '/wrapped')).body, { seen: 'first' });
  });
});

describe('errors', () => {
  it('API errors keep status, sentenized message and data', async () => {
    expectHttpError(await http(ctx.url, 'GET', '/err/bad'), 400, 'Bad thing.', { title: { code: 'my_code', message: 'My message.' } });
    expectHttpError(await http(ctx.url, 'GET', '/err/notfound'), 404, "The requested resource wasn't found.");
    expectHttpError(await http(ctx.url, 'GET', '/err/forbidden'), 403, 'Nope.');
    expectHttpError(await http(ctx.url, 'GET', '/err/custom'), 418, 'Teapot.');
    expectHttpError(await http(ctx.url, 'GET', '/err/returned'), 401, 'Returned, not thrown.');
  });

  it('any other error is a 400 with the generic message', async () => {
    expectHttpError(await http(ctx.url, 'GET', '/err/plain'), 400, 'Something went wrong while processing your request.');
  });
});

describe('$app', () => {
  let id;

  it('$app.save(new Record(...)) inserts; e.json(record) hides hidden fields', async () => {
    const res = await http(ctx.url, 'POST', '/notes', { json: { title: 'first' } });
    assert.equal(res.status, 200, res.text);
    id = res.body.id;
    assert.match(id, /^[a-z0-9]{15}$/);
    assert.equal(res.body.title, 'first');
    assert.equal(res.body.collectionName, 'notes');
    assert.equal(res.body.secret, undefined, 'hidden field not exported');
    const viaApi = await ctx.admin.collection('notes').getOne(id);
    assert.equal(viaApi.secret, 's-first');
  });

  it('$app.findRecordById sees every field; a miss is a 404', async () => {
    const res = await http(ctx.url, 'GET', `/notes/${id}`);
    assert.equal(res.body.secret, 's-first');
    assert.equal(res.body.title, 'first');
    assert.equal(res.body.record.id, id);
    expectHttpError(await http(ctx.url, 'GET', '/notes/missing0000000'), 404, "The requested resource wasn't found.");
  });

  it('$app.findRecordsByFilter with bound params and sort', async () => {
    await http(ctx.url, 'POST', '/notes', { json: { title: 'second' } });
    await http(ctx.url, 'POST', '/notes', { json: { title: "it's odd" } });
    assert.deepEqual((await http(ctx.url, 'GET', '/notes?q=s')).body, ['second', "it's odd", 'first']);
    assert.deepEqual((await http(ctx.url, 'GET', `/notes?q=${encodeURIComponent("it's")}`)).body, ["it's odd"]);
  });

  it('$app.save of a found record updates it', async () => {
    const res = await http(ctx.url, 'PATCH', `/notes/${id}`, { json: { title: 'renamed' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.title, 'renamed');
    assert.equal((await ctx.admin.collection('notes').getOne(id)).title, 'renamed');
  });

  it('$app.db() raw query with {:name} params', async () => {
    assert.deepEqual((await http(ctx.url, 'GET', '/count')).body, { n: 3 });
  });

  it('$app.store() is shared between requests', async () => {
    const a = (await http(ctx.url, 'GET', '/store')).body.hits;
    const b = (await http(ctx.url, 'GET', '/store')).body.hits;
    assert.equal(b, a + 1);
  });
});

describe('sandbox', () => {
  const INTERNAL = 'Something went wrong while processing your request.';

  async function stillServing() {
    const started = Date.now();
    const res = await http(ctx.url, 'GET', '/hello/alive');
    assert.equal(res.status, 200);
    assert.equal(res.body.name, 'alive');
    return Date.now() - started;
  }

  it('an infinite loop is stopped at the time limit with a 500', async () => {
    const started = Date.now();
    const res = await http(ctx.url, 'GET', '/sandbox/loop');
    const took = Date.now() - started;
    expectHttpError(res, 500, INTERNAL);
    assert.ok(took >= 900 && took < 5000, `stopped after ${took} ms`);
    await stillServing();
  });

  it('other requests are served while a loop runs', async () => {
    const loop = http(ctx.url, 'GET', '/sandbox/loop');
    await new Promise((r) => setTimeout(r, 100));
    const took = await stillServing();
    assert.ok(took < 500, `served in ${took} ms during the loop`);
    expectHttpError(await loop, 500, INTERNAL);
  });

  it('an allocation bomb hits the memory cap: 500, then the server serves on', async () => {
    expectHttpError(await http(ctx.url, 'GET', '/sandbox/alloc'), 500, INTERNAL);
    await stillServing();
  });

  it('unbounded recursion: 500, then the server serves on', async () => {
    expectHttpError(await http(ctx.url, 'GET', '/sandbox/recurse'), 500, INTERNAL);
    await stillServing();
  });

  it('each failure is logged with its cause', () => {
    const logs = ctx.server.logs();
    assert.match(logs, /GET \/sandbox\/loop: the plugin call exceeded its time limit/);
    assert.match(logs, /GET \/sandbox\/alloc: the plugin (trapped|call exceeded its time limit)/);
    assert.match(logs, /GET \/sandbox\/recurse: the plugin trapped/);
  });

  it('every failure again, in parallel with normal traffic', async () => {
    const bad = ['/sandbox/loop', '/sandbox/alloc', '/sandbox/recurse'].map((p) => http(ctx.url, 'GET', p));
    const good = Array.from({ length: 20 }, (_, i) => http(ctx.url, 'GET', `/hello/n${i}`));
    for (const res of await Promise.all(good)) assert.equal(res.status, 200);
    for (const res of await Promise.all(bad)) expectHttpError(res, 500, INTERNAL);
    await stillServing();
  });
});
