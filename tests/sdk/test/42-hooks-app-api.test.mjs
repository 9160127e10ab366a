// The pb_hooks API families beyond routes, on PocketBun: $app DAO details (saveNoValidate,
// validate, dbx helpers), transactions (other writers wait, then see the commit), the
// mailer over SMTP, require() of nested modules, $os sandbox errors, the $http allowlist.
// (Behaviour shared with PocketBase is compared in 43-hooks-differential.)
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { http, useServer } from '../lib/client.mjs';
import { startSmtpSink } from '../lib/smtp-sink.mjs';

const APP = `
routerAdd("POST", "/x/no-validate", (e) => {
  const rec = new Record($app.findCollectionByNameOrId("posts"), { views: 5 });
  let validateError = "";
  try { $app.validate(rec); } catch (err) { validateError = err.message; }
  $app.saveNoValidate(rec);
  return e.json(200, { id: rec.id, title: rec.getString("title"), validateError, isNew: rec.isNew() });
});

routerAdd("GET", "/x/dbx", (e) => {
  const count = (...x) => $app.countRecords("posts", ...x);
  return e.json(200, {
    in: count($dbx.in("views", 1, 2)),
    notIn: count($dbx.notIn("views", 1, 2)),
    between: count($dbx.between("views", 2, 3)),
    or: count($dbx.or($dbx.hashExp({ views: 1 }), $dbx.hashExp({ views: 3 }))),
    exp: count($dbx.exp("[[views]] > {:v} AND title != {:t}", { v: 1, t: "p3" })),
    quoted: $app.db().newQuery("SELECT COUNT(*) AS n FROM {{posts}} WHERE [[posts.views]] >= {:v}").bind({ v: 2 }).one().n,
    dev: $app.isDev(),
    hasTable: [$app.hasTable("posts"), $app.hasTable("nope")],
    columns: $app.tableColumns("posts"),
    baseCollections: $app.findAllCollections("base").filter((c) => !c.system).map((c) => c.name),
  });
});

routerAdd("DELETE", "/x/posts/{id}", (e) => {
  $app.delete($app.findRecordById("posts", e.request.pathValue("id")));
  return e.noContent(204);
});

// holds the transaction while the test writes through the API, then commits
routerAdd("POST", "/x/tx/slow", (e) => {
  $app.runInTransaction((txApp) => {
    txApp.save(new Record(txApp.findCollectionByNameOrId("posts"), { title: "slow-tx", views: 50 }));
    const until = Date.now() + 400;
    while (Date.now() < until) {}
    // nested: runs in the same transaction
    txApp.runInTransaction((inner) => inner.db().newQuery("UPDATE posts SET views = 51 WHERE title = 'slow-tx'").execute());
  });
  return e.json(200, { ok: true });
});

// a handler that dies inside a transaction (here: the call time limit) leaves nothing behind
routerAdd("POST", "/x/tx/runaway", (e) => {
  $app.runInTransaction((txApp) => {
    txApp.save(new Record(txApp.findCollectionByNameOrId("posts"), { title: "runaway-tx", views: 1 }));
    while (true) {}
  });
});

routerAdd("POST", "/x/mail", (e) => {
  const msg = new MailerMessage({
    from: { address: $app.settings().meta.senderAddress, name: "Hooks" },
    to: [{ address: "reader@example.com" }],
    subject: "From a hook",
    html: "<p>Hello <b>reader</b></p>",
  });
  $app.newMailClient().send(msg);
  $app.newMailClient().send(new MailerMessage({
    to: [{ address: "a@example.com" }], cc: [{ address: "b@example.com" }], bcc: [{ address: "c@example.com" }],
    subject: "With extras", html: "x", headers: { "X-Hook": "yes" }, attachments: { "note.txt": "attached text" },
  }));
  return e.json(200, { sent: true });
});

routerAdd("GET", "/x/require", (e) => {
  const lib = require(__hooks + "/lib/math.js");
  const data = require("./lib/data.json");
  return e.json(200, { sum: lib.sum(2, 3), twice: lib.twice(4), data, same: require(__hooks + "/lib/math.js") === lib });
});

routerAdd("GET", "/x/os", (e) => {
  const out = {};
  for (const api of ["exec", "cmd", "writeFile", "readFile"]) {
    try { $os[api]("x"); out[api] = "ran"; } catch (err) { out[api] = err.message; }
  }
  out.env = $os.getenv("JSAPI_TEST_VAR");
  out.missingEnv = $os.getenv("JSAPI_TEST_UNSET_VAR");
  out.processEnv = [process.env.JSAPI_TEST_VAR, process.env.JSAPI_TEST_UNSET_VAR === undefined];
  return e.json(200, out);
});

routerAdd("GET", "/x/template", (e) => {
  const page = $template.loadFiles(__hooks + "/views/layout.html", __hooks + "/views/list.html")
    .render({ title: "<Posts>", items: ["a", "b"], admin: false });
  const inline = $template.loadString("{{if .n}}{{.n}} left{{else}}none{{end}}").render({ n: 0 });
  return e.html(200, page + "|" + inline);
});

routerAdd("GET", "/x/http-refused", (e) => {
  try {
    $http.send({ url: "http://127.0.0.1:9/anything", timeout: 2 });
    return e.json(200, { sent: true });
  } catch (err) {
    return e.json(200, { error: err.message });
  }
});
`;

const MATH = `
const helper = require("./helper.js");
module.exports = { sum: (a, b) => a + b, twice: helper.twice };
`;
const HELPER = `exports.twice = (n) => n * 2;`;

let sink;
const ctx = useServer({
  hooks: {
    'app.pb.js': APP, 'lib/math.js': MATH, 'lib/helper.js': HELPER, 'lib/data.json': '{"k": [1, 2]}',
    'views/layout.html': '<h1>{{.title}}</h1>{{template "content" .}}',
    'views/list.html': '{{define "content"}}<ul>{{range .items}}<li>{{.}}</li>{{end}}</ul>{{if .admin}}admin{{else}}guest{{end}}{{end}}',
  },
  env: { JSAPI_TEST_VAR: 'visible', POCKETBUN_HTTP_ALLOW: 'example.invalid', POCKETBUN_PLUGIN_TIMEOUT_MS: '1500' },
}, async ({ admin }) => {
  sink = await startSmtpSink();
  await admin.settings.update({
    meta: { appName: 'Acme', senderName: 'Acme', senderAddress: 'hooks@acme.test' },
    smtp: { enabled: true, host: '127.0.0.1', port: sink.port, tls: false },
  });
  await admin.collections.create({
    name: 'posts', type: 'base', listRule: '', viewRule: '', createRule: '',
    fields: [{ name: 'title', type: 'text', required: true }, { name: 'views', type: 'number' }],
  });
  for (const [title, views] of [['p1', 1], ['p2', 2], ['p3', 3]]) {
    await admin.collection('posts').create({ title, views });
  }
});
after(async () => { await sink?.close(); });

describe('$app data access', () => {
  it('saveNoValidate stores what validate rejects', async () => {
    const res = await http(ctx.url, 'POST', '/x/no-validate');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.validateError, 'title: Cannot be blank..');
    assert.equal(res.body.isNew, false);
    const stored = await ctx.admin.collection('posts').getOne(res.body.id);
    assert.equal(stored.title, '');
    assert.equal(stored.views, 5);
    const del = await http(ctx.url, 'DELETE', `/x/posts/${res.body.id}`);
    assert.equal(del.status, 204);
    const gone = await http(ctx.url, 'GET', `/api/collections/posts/records/${res.body.id}`);
    assert.equal(gone.status, 404);
  });

  it('$dbx expressions and quoted names', async () => {
    const res = await http(ctx.url, 'GET', '/x/dbx');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      in: 2, notIn: 1, between: 2, or: 2, exp: 1, quoted: 2, dev: false,
      hasTable: [true, false], columns: ['id', 'title', 'views'], baseCollections: ['posts'],
    });
  });
});

describe('$app.runInTransaction', () => {
  it('an API write during an open transaction waits for it and then succeeds', async () => {
    const slow = http(ctx.url, 'POST', '/x/tx/slow');
    await new Promise((r) => setTimeout(r, 100));
    const write = await http(ctx.url, 'POST', '/api/collections/posts/records', { json: { title: 'during-tx', views: 9 } });
    assert.equal(write.status, 200, write.text);
    const done = await slow;
    assert.equal(done.status, 200, done.text);
    const list = await ctx.admin.collection('posts').getFullList({ filter: 'title = "slow-tx" || title = "during-tx"', sort: 'title' });
    assert.deepEqual(list.map((r) => [r.title, r.views]), [['during-tx', 9], ['slow-tx', 51]]);
  });

  it('a handler killed inside a transaction rolls it back and frees the writer', async () => {
    const res = await http(ctx.url, 'POST', '/x/tx/runaway');
    assert.equal(res.status, 500, res.text);
    const after = await http(ctx.url, 'POST', '/api/collections/posts/records', { json: { title: 'after-runaway', views: 2 } });
    assert.equal(after.status, 200, after.text);
    const list = await ctx.admin.collection('posts').getFullList({ filter: 'title ~ "runaway"' });
    assert.deepEqual(list.map((r) => r.title), ['after-runaway']);
  });
});

describe('mail', () => {
  it('$app.newMailClient().send delivers through the configured SMTP server', async () => {
    const res = await http(ctx.url, 'POST', '/x/mail');
    assert.equal(res.status, 200, res.text);
    const msg = await sink.waitFor((m) => m.subject === 'From a hook');
    assert.deepEqual(msg.envelopeTo, ['reader@example.com']);
    assert.match(msg.from, /hooks@acme\.test/);
    assert.match(msg.html, /Hello <b>reader<\/b>/);
    assert.match(msg.text, /Hello/);
    // cc, bcc, custom headers and attachments; the sender defaults to the settings'
    const extras = await sink.waitFor((m) => m.subject === 'With extras');
    assert.deepEqual([...extras.envelopeTo].sort(), ['a@example.com', 'b@example.com', 'c@example.com']);
    assert.match(extras.headers.cc, /b@example\.com/);
    assert.equal(extras.headers.bcc, undefined);
    assert.equal(extras.headers['x-hook'], 'yes');
    assert.match(extras.from, /hooks@acme\.test/);
    assert.match(extras.raw, /Content-Disposition: attachment; filename="note\.txt"[\s\S]*\r\n\r\nattached text\r\n/);
  });
});

describe('require, $os and $http', () => {
  it('require() loads nested CommonJS modules and JSON relative to pb_hooks', async () => {
    const res = await http(ctx.url, 'GET', '/x/require');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { sum: 5, twice: 8, data: { k: [1, 2] }, same: true });
  });

  it('$os: environment reads work, process and file APIs are refused by name', async () => {
    const res = await http(ctx.url, 'GET', '/x/os');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      exec: '$os.exec is not available in the PocketBun sandbox',
      cmd: '$os.cmd is not available in the PocketBun sandbox',
      writeFile: '$os.writeFile is not available in the PocketBun sandbox',
      readFile: '$os.readFile is not available in the PocketBun sandbox',
      env: 'visible',
      missingEnv: '',
      processEnv: ['visible', true],
    });
  });

  it('$template renders files from pb_hooks with layouts, escaping and control flow', async () => {
    const res = await http(ctx.url, 'GET', '/x/template');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '<h1>&lt;Posts&gt;</h1><ul><li>a</li><li>b</li></ul>guest|none');
  });

  it('$http.send refuses hosts outside POCKETBUN_HTTP_ALLOW', async () => {
    const res = await http(ctx.url, 'GET', '/x/http-refused');
    assert.equal(res.status, 200, res.text);
    assert.match(res.body.error, /outgoing requests to "127\.0\.0\.1" are not allowed/i);
  });
});
