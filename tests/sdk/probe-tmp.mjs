// One pb_hooks directory run on the real PocketBase and on PocketBun: the same requests in
// the same order must give the same status and JSON body (ids and dates normalised).
// Covers routes and route middlewares, onRecordCreateRequest changing the record before
// e.next(), $app queries ($dbx, DynamicModel, filters), transactions (committed and rolled
// back, caught and uncaught), $security with deterministic outputs, $http against a
// loopback server, require() of a local module and $os.getenv.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { adminClient, http } from './lib/client.mjs';
import { pocketbaseBin, pocketbaseMissingReason, startServer } from './lib/server.mjs';

const UTILS = `
module.exports = {
  shout: (s) => String(s).toUpperCase() + "!",
  sortedTitles: (records) => records.map((r) => r.getString("title")).sort(),
};
`;

// (PocketBase runs each handler in its own VM: top-level variables are not visible in
// handlers, so every handler requires what it needs)
const MAIN = `

routerAdd("GET", "/d/hello/{name}", (e) => {
  const utils = require(\`\${__hooks}/utils.js\`);
  return e.json(200, { name: e.request.pathValue("name"), q: e.request.url.query().get("q"), shout: utils.shout(e.request.pathValue("name")) });
});

routerAdd("GET", "/d/mw", (e) => e.json(200, { seen: e.get("mw"), env: $os.getenv("DIFF_MARKER") }), (e) => {
  if (e.request.header.get("X-Block") === "1") throw new ForbiddenError("blocked by middleware");
  e.set("mw", "middleware ran");
  return e.next();
});

onRecordCreateRequest((e) => {
  const utils = require(\`\${__hooks}/utils.js\`);
  e.record.set("title", utils.shout(e.record.getString("title")));
  e.record.set("views", e.record.getInt("views") + 100);
  e.next();
}, "posts");

routerAdd("POST", "/d/posts", (e) => {
  const body = e.requestInfo().body;
  const c = $app.findCollectionByNameOrId("posts");
  const rec = new Record(c, { title: body.title, views: body.views });
  $app.save(rec);
  return e.json(200, rec);
});

routerAdd("POST", "/d/posts-invalid", (e) => {
  $app.save(new Record($app.findCollectionByNameOrId("posts"), { views: 1 }));
  return e.json(200, { saved: true });
});

routerAdd("GET", "/d/posts/{id}", (e) => e.json(200, $app.findRecordById("posts", e.request.pathValue("id"))));

routerAdd("GET", "/d/first", (e) => {
  const rec = $app.findFirstRecordByFilter("posts", "title = {:t}", { t: e.request.url.query().get("t") });
  return e.json(200, { title: rec.getString("title"), views: rec.getInt("views") });
});

routerAdd("GET", "/d/first-miss", (e) => {
  try {
    $app.findFirstRecordByFilter("posts", "title = {:t}", { t: "no such title" });
    return e.json(200, { found: true });
  } catch (err) {
    return e.json(200, { error: String(err.message || err) });
  }
});

routerAdd("GET", "/d/by-data", (e) => {
  const rec = $app.findFirstRecordByData("posts", "views", 7);
  return e.json(200, { title: rec.getString("title") });
});

routerAdd("GET", "/d/queries", (e) => {
  const utils = require(\`\${__hooks}/utils.js\`);
  const all = $app.findAllRecords("posts");
  const liked = $app.findAllRecords("posts", $dbx.like("title", "ALP"));
  const ids = all.slice(0, 2).map((r) => r.id);
  const byIds = $app.findRecordsByIds("posts", ids);
  const list = $app.findRecordsByFilter("posts", "views > {:v}", "-views", 2, 0, { v: 0 });
  return e.json(200, {
    total: $app.countRecords("posts"),
    sevens: $app.countRecords("posts", $dbx.hashExp({ views: 7 })),
    notSevens: $app.countRecords("posts", $dbx.not($dbx.hashExp({ views: 7 }))),
    liked: utils.sortedTitles(liked),
    byIds: utils.sortedTitles(byIds),
    top2: list.map((r) => [r.getString("title"), r.getInt("views")]),
  });
});

routerAdd("GET", "/d/sql", (e) => {
  const rows = arrayOf(new DynamicModel({ title: "", views: 0 }));
  $app.db().newQuery("SELECT title, views FROM posts WHERE views >= {:min} ORDER BY title").bind({ min: 5 }).all(rows);
  const one = new DynamicModel({ n: 0 });
  $app.db().newQuery("SELECT COUNT(*) AS n FROM posts").one(one);
  return e.json(200, { rows, n: one.n });
});

routerAdd("GET", "/d/auth-email", (e) => {
  const u = $app.findAuthRecordByEmail("users", e.request.url.query().get("e"));
  return e.json(200, { name: u.getString("name"), email: u.email() });
});

routerAdd("POST", "/d/tx/commit", (e) => {
  let inside = 0;
  $app.runInTransaction((txApp) => {
    const c = txApp.findCollectionByNameOrId("posts");
    txApp.save(new Record(c, { title: "tx-a", views: 1 }));
    txApp.save(new Record(c, { title: "tx-b", views: 2 }));
    txApp.db().newQuery("UPDATE posts SET views = views + 10 WHERE title LIKE 'tx-%'").execute();
    inside = txApp.countRecords("posts", $dbx.like("title", "tx-"));
  });
  const rows = arrayOf(new DynamicModel({ title: "", views: 0 }));
  $app.db().newQuery("SELECT title, views FROM posts WHERE title LIKE 'tx-%' ORDER BY title").all(rows);
  return e.json(200, { inside, rows });
});

routerAdd("POST", "/d/tx/rollback", (e) => {
  let inside = 0;
  let thrown = false;
  try {
    $app.runInTransaction((txApp) => {
      const c = txApp.findCollectionByNameOrId("posts");
      txApp.save(new Record(c, { title: "tx-rolled-back", views: 1 }));
      txApp.db().newQuery("UPDATE posts SET views = 999 WHERE title = 'tx-a'").execute();
      inside = txApp.countRecords("posts", $dbx.hashExp({ title: "tx-rolled-back" }));
      throw new Error("boom");
    });
  } catch (err) {
    thrown = true;
  }
  const a = $app.findFirstRecordByData("posts", "title", "tx-a");
  return e.json(200, { inside, thrown, after: $app.countRecords("posts", $dbx.hashExp({ title: "tx-rolled-back" })), aViews: a.getInt("views") });
});

routerAdd("POST", "/d/tx/uncaught", (e) => {
  $app.runInTransaction((txApp) => {
    txApp.save(new Record(txApp.findCollectionByNameOrId("posts"), { title: "tx-uncaught", views: 1 }));
    throw new BadRequestError("stop here");
  });
  return e.json(200, { unreachable: true });
});

routerAdd("GET", "/d/tx/uncaught-count", (e) => e.json(200, { n: $app.countRecords("posts", $dbx.hashExp({ title: "tx-uncaught" })) }));

routerAdd("GET", "/d/security", (e) => {
  const key = "0123456789abcdef0123456789abcdef";
  const token = $security.createJWT({ sub: "u1", role: "admin", n: 3 }, "jwt-secret", 3600);
  const claims = $security.parseJWT(token, "jwt-secret");
  let badKey = "";
  try { $security.parseJWT(token, "other-secret"); } catch (err) { badKey = "rejected"; }
  const unverified = $security.parseUnverifiedJWT(token);
  const expired = $security.createJWT({ sub: "old" }, "jwt-secret", -60);
  let expiredErr = "";
  try { $security.parseJWT(expired, "jwt-secret"); } catch (err) { expiredErr = "rejected"; }
  const r = $security.randomString(24);
  const ra = $security.randomStringWithAlphabet(40, "ab");
  return e.json(200, {
    md5: $security.md5("hello"),
    sha256: $security.sha256("hello"),
    sha512: $security.sha512("hello"),
    hs256: $security.hs256("hello", "secret"),
    hs512: $security.hs512("hello", "secret"),
    equal: [$security.equal("abc", "abc"), $security.equal("abc", "abd")],
    claims: { sub: claims.sub, role: claims.role, n: claims.n, expIsFuture: claims.exp > Date.now() / 1000 },
    unverifiedSub: unverified.sub,
    badKey,
    expiredErr,
    tokenParts: token.split(".").length,
    random: [r.length, /^[A-Za-z0-9]+$/.test(r), ra.length, /^[ab]+$/.test(ra)],
    roundTrip: $security.decrypt($security.encrypt("secret text", key), key),
    ciphertextIsBase64: /^[A-Za-z0-9+/]+=*$/.test($security.encrypt("x", key)),
  });
});

routerAdd("GET", "/d/http", (e) => {
  const base = $os.getenv("DIFF_ECHO_URL");
  const res = $http.send({ url: base + "/echo?x=1", headers: { "X-Custom": "hi" }, timeout: 5 });
  const post = $http.send({
    url: base + "/echo",
    method: "post",
    body: JSON.stringify({ hello: "world" }),
    headers: { "content-type": "application/json" },
  });
  const missing = $http.send({ url: base + "/missing" });
  return e.json(200, {
    status: res.statusCode,
    json: res.json,
    echoHeader: res.headers["X-Echo"][0],
    contentType: res.headers["Content-Type"][0],
    cookie: [res.cookies["sid"].value, res.cookies["sid"].path, res.cookies["sid"].httpOnly],
    post: post.json,
    missing: [missing.statusCode, missing.raw, missing.json],
  });
});
`;

function normalise(v) {
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = normalise(v[k]);
    return out;
  }
  if (typeof v === 'string' && /^[a-z0-9]{15}$/.test(v)) return '<id>';
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v)) return '<date>';
  return v;
}

// A loopback HTTP server for $http.send: echoes the request as JSON.
function startEcho() {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        if (req.url === '/missing') {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('nothing here');
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Echo': 'yes', 'Set-Cookie': 'sid=abc123; Path=/; HttpOnly' });
        res.end(JSON.stringify({ method: req.method, url: req.url, custom: req.headers['x-custom'] ?? null, contentType: req.headers['content-type'] ?? null, body }));
      });
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

async function setup(url) {
  const admin = await adminClient(url);
  await admin.collections.create({
    name: 'posts',
    type: 'base',
    listRule: '', viewRule: '', createRule: '',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'views', type: 'number' },
    ],
  });
  await admin.collection('users').create({
    email: 'alice@example.com', password: 'alice-pass-1', passwordConfirm: 'alice-pass-1', name: 'Alice',
  });
}

const STEPS = [
  ['GET', '/d/hello/bob?q=x'],
  ['GET', '/d/mw'],
  ['GET', '/d/mw', { headers: { 'X-Block': '1' } }],
  ['POST', '/api/collections/posts/records', { json: { title: 'alpha', views: 7 } }],
  ['POST', '/api/collections/posts/records', { json: { title: 'beta' } }],
  ['POST', '/d/posts', { json: { title: 'gamma', views: 7 } }],
  ['POST', '/d/posts', { json: { title: 'delta', views: 3 } }],
  ['POST', '/d/posts-invalid'],
  ['GET', '/d/posts/doesnotexist123'],
  ['GET', '/d/first?t=ALPHA!'],
  ['GET', '/d/first?t=nope'],
  ['GET', '/d/first-miss'],
  ['GET', '/d/by-data'],
  ['GET', '/d/queries'],
  ['GET', '/d/sql'],
  ['GET', '/d/auth-email?e=alice%40example.com'],
  ['GET', '/d/auth-email?e=ALICE%40example.com'],
  ['POST', '/d/tx/commit'],
  ['POST', '/d/tx/rollback'],
  ['POST', '/d/tx/uncaught'],
  ['GET', '/d/tx/uncaught-count'],
  ['GET', '/d/security'],
  ['GET', '/d/http'],
];


const which = process.env.PROBE_BIN;
const echo = await startEcho();
const env = { DIFF_ECHO_URL: `http://127.0.0.1:${echo.address().port}`, DIFF_MARKER: 'from-env' };
const srv = await startServer({ bin: which, hooks: { 'main.pb.js': MAIN, 'utils.js': UTILS }, env });
try {
  await setup(srv.url);
  for (const [method, path, opts] of STEPS) {
    const r = await http(srv.url, method, path, opts ?? {});
    console.log(method, path, r.status, JSON.stringify(normalise(r.body ?? r.text)));
  }
  if (process.env.PROBE_LOGS) console.log(srv.logs());
} finally { await srv.stop(); echo.close(); }
