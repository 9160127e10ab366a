// JS hook API additions found missing by the coverage audit (tests/sdk/NOTES.md, "JS API
// coverage"): dbx's query builders on `$app.db()` and `$app.recordQuery()`, Record helpers
// (clone/fresh, raw access, dates, expand helpers and `$app.expandRecord(s)`, auth field helpers, tokens and passwords,
// `$app.findAuthRecordByToken`, `$apis.recordAuthResponse`), `DateTime`,
// `e.bindBody`, `e.setCookie`, `$filepath`, the `null*()` shapes, `findRecordById` filters and
// `$apis.requireSuperuserOrOwnerAuth`. Same hooks and assertions on
// PocketBase 0.40.6 when POCKETBASE_BIN is set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import PocketBase from 'pocketbase';
import { adminClient, http } from '../lib/client.mjs';
import { pocketbaseBin, startServer } from '../lib/server.mjs';

const HOOKS = `
routerAdd("GET", "/x/builder", (e) => {
  const top = arrayOf(new DynamicModel({ title: "", rank: 0 }));
  $app.db().select("title", "rank").from("posts").where($dbx.exp("rank >= {:min}", { min: 2 })).orderBy("rank DESC").limit(2).all(top);

  const count = new DynamicModel({ n: 0 });
  $app.db().newQuery("SELECT COUNT(*) AS n FROM posts WHERE rank > {:r}").bind({ r: 1 }).one(count);

  const grouped = arrayOf(new DynamicModel({ published: false, total: 0 }));
  $app.db().select("published", "COUNT(*) AS total").from("posts").groupBy("published").orderBy("published ASC").all(grouped);

  $app.db().newQuery("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT)").execute();
  $app.db().insert("kv", { k: "a", v: "1" }).execute();
  $app.db().insert("kv", { k: "b", v: "2" }).execute();
  $app.db().update("kv", { v: "20" }, $dbx.hashExp({ k: "b" })).execute();
  $app.db().delete("kv", $dbx.hashExp({ k: "a" })).execute();
  const kv = arrayOf(new DynamicModel({ k: "", v: "" }));
  $app.db().select("k", "v").from("kv").all(kv);

  return e.json(200, { top, n: count.n, grouped, kv });
});

routerAdd("GET", "/x/recordQuery", (e) => {
  const published = arrayOf(new Record);
  $app.recordQuery("posts").andWhere($dbx.hashExp({ published: true })).orderBy("rank ASC").all(published);
  const one = new Record;
  $app.recordQuery("posts").where($dbx.like("title", "bet")).one(one);
  const paged = arrayOf(new Record);
  $app.recordQuery("posts").orderBy("rank DESC").limit(1).offset(1).all(paged);
  let missing = "";
  try {
    $app.recordQuery("posts").where($dbx.hashExp({ title: "nope" })).one(new Record);
  } catch (err) {
    missing = err.message;
  }
  return e.json(200, {
    published: published.map((r) => r.getString("title")),
    oneTitle: one.getString("title"),
    oneCollection: one.collection().name,
    oneIsNew: one.isNew(),
    paged: paged.map((r) => r.getInt("rank")),
    missing,
  });
});

routerAdd("GET", "/x/record", (e) => {
  const r = $app.findFirstRecordByData("posts", "title", "alpha");
  const u = $app.findFirstRecordByData("users", "email", "owner@example.com");
  const c = r.clone();
  c.set("title", "changed");
  const f = r.fresh();
  const created = r.getDateTime("created");
  const setKnown = r.setIfFieldExists("rank", 9);
  const setUnknown = r.setIfFieldExists("nope", 1);
  r.mergeExpand({ author: u });
  const shown = u.clone();
  shown.ignoreEmailVisibility(true);
  const custom = r.clone();
  custom.set("extraKey", 5);
  const posts = r.collection();
  return e.json(200, {
    title: r.getString("title"),
    cloneTitle: c.getString("title"),
    cloneIsNew: c.isNew(),
    freshTitle: f.getString("title"),
    createdMatches: created.string() === r.getString("created"),
    createdRecent: created.unix() > 1700000000,
    raw: r.getRaw("title"),
    setKnown: setKnown !== null && setKnown.name,
    setUnknown: setUnknown === null || setUnknown === undefined,
    rankAfter: r.getInt("rank"),
    pk: r.pk() === r.id,
    expandedOne: r.expandedOne("author").id === u.id,
    expandedAll: r.expandedAll("author").length,
    expandedNone: r.expandedOne("nothing"),
    emailVisibility: u.emailVisibility(),
    emailHidden: !("email" in JSON.parse(JSON.stringify(u))),
    emailShown: JSON.parse(JSON.stringify(shown)).email,
    customData: custom.customData(),
    hookTags: r.hookTags(),
    collectionPk: posts.pk() === posts.id && posts.baseFilesPath() === posts.id,
  });
});

routerAdd("POST", "/x/users", (e) => {
  const u = new Record($app.findCollectionByNameOrId("users"));
  u.setEmail(e.requestInfo().body.email);
  u.setEmailVisibility(true);
  const password = u.setRandomPassword();
  $app.save(u);
  return e.json(200, { password, length: password.length, visible: u.emailVisibility() });
});

routerAdd("GET", "/x/datetime", (e) => {
  const d = new DateTime("2024-01-31 10:20:30.456Z");
  const later = d.addDate(0, 0, 2);
  return e.json(200, {
    text: d.string(),
    json: JSON.parse(JSON.stringify({ d })).d,
    unix: d.unix(),
    later: later.string(),
    after: later.after(d),
    before: later.before(d),
    equal: d.equal(new DateTime("2024-01-31 10:20:30.456Z")),
    emptyIsNow: !new DateTime("").isZero(),
    zeroField: $app.findFirstRecordByData("posts", "title", "alpha").getDateTime("nope").isZero(),
    nowNotZero: !new DateTime().isZero(),
  });
});

routerAdd("POST", "/x/bind", (e) => {
  const data = new DynamicModel({ title: "", rank: 0, tags: [] });
  e.bindBody(data);
  return e.json(200, data);
});

routerAdd("POST", "/x/login", (e) => {
  const body = e.requestInfo().body;
  const u = $app.findAuthRecordByEmail("users", body.email);
  if (!u.validatePassword(body.password)) throw new BadRequestError("Wrong password.");
  return $apis.recordAuthResponse(e, u, "password");
});

routerAdd("POST", "/x/tokens", (e) => {
  const u = $app.findAuthRecordByEmail("users", e.requestInfo().body.email);
  const check = (t, ...types) => {
    try { return $app.findAuthRecordByToken(t, ...types).id === u.id; } catch (err) { return err.message ? "error" : "?"; }
  };
  const fileToken = u.newFileToken();
  const unsaved = u.clone();
  unsaved.setPassword("not-saved-yet");
  return e.json(200, {
    auth: check(u.newAuthToken(), "auth"),
    static: check(u.newStaticAuthToken(0), "auth"),
    file: check(fileToken, "file"),
    fileAsAuth: check(fileToken, "auth"),
    anyType: check(u.newVerificationToken()),
    passwordReset: check(u.newPasswordResetToken(), "passwordReset"),
    emailChange: check(u.newEmailChangeToken("new@example.com"), "emailChange"),
    garbage: check("not-a-token"),
    unsavedPassword: [unsaved.validatePassword("not-saved-yet"), unsaved.validatePassword("pass-12345")],
    storedPassword: [u.validatePassword("pass-12345"), u.validatePassword("wrong")],
  });
});

routerAdd("GET", "/x/misc", (e) => {
  const fp = $filepath;
  const rows = arrayOf(new DynamicModel({ s: nullString(), i: nullInt(), f: nullFloat(), b: nullBool(), a: nullArray(), o: nullObject() }));
  $app.db().newQuery("SELECT NULL AS s, NULL AS i, NULL AS f, NULL AS b, NULL AS a, NULL AS o UNION ALL SELECT 'x', 7, 1.5, 1, json_array(1, 2), json_object('k', 1)").all(rows);
  const alpha = $app.findFirstRecordByData("posts", "title", "alpha");
  let filtered = "";
  try {
    $app.findRecordById("posts", alpha.id, (q) => { q.andWhere($dbx.hashExp({ published: false })); });
  } catch (err) {
    filtered = err.message;
  }
  const kept = $app.findRecordById("posts", alpha.id, (q) => { q.andWhere($dbx.hashExp({ published: true })); }).getString("title");
  e.setCookie(new Cookie({ name: "session", value: "abc", path: "/", maxAge: 60, httpOnly: true, secure: true, sameSite: 3 }));
  return e.json(200, {
    clean: [fp.clean("a//b/./c/../d/"), fp.clean(""), fp.clean("/../x"), fp.clean("../../a")],
    base: [fp.base("/a/b.txt"), fp.base("/"), fp.base("")],
    dir: [fp.dir("/a/b/c.txt"), fp.dir("c.txt")],
    ext: [fp.ext("a/b.tar.gz"), fp.ext("a.b/c")],
    join: [fp.join("a", "", "b/../c", "d"), fp.join("/", "x")],
    isAbs: [fp.isAbs("/a"), fp.isAbs("a")],
    match: [fp.match("*.js", "main.pb.js"), fp.match("a/*", "a/b/c"), fp.match("file?.[tc]xt", "file1.txt")],
    rel: [fp.rel("/a/b", "/a/b/c/d"), fp.rel("/a/b", "/a/x")],
    rows,
    filtered,
    kept,
  });
});

routerAdd("GET", "/x/expand", (e) => {
  const post = $app.findFirstRecordByData("posts", "title", "alpha");
  const failed = $app.expandRecord(post, ["author"], null);
  const users = $app.findRecordsByFilter("users", "email = 'owner@example.com'");
  $app.expandRecords(users, ["posts_via_author"], null);
  return e.json(200, {
    failed,
    author: post.expandedOne("author").getString("email"),
    back: users[0].expandedAll("posts_via_author").map((r) => r.getString("title")),
    json: post,
  });
});

routerAdd("GET", "/x/enrich/{id}", (e) => {
  const post = $app.findRecordById("posts", e.request.pathValue("id"));
  $apis.enrichRecord(e, post);
  const all = $app.findAllRecords("posts", $dbx.hashExp({ title: "alpha" }));
  $apis.enrichRecords(e, all, "author");
  return e.json(200, { one: post, all });
});

routerAdd("POST", "/x/system", (e) => {
  const u = $app.findAuthRecordByEmail("users", "owner@example.com");
  const origins = $app.findAllAuthOriginsByRecord(u);
  const inCollection = $app.findAllAuthOriginsByCollection($app.findCollectionByNameOrId("users"));
  $app.deleteAllAuthOriginsByRecord(u);
  const posts = $app.findCollectionByNameOrId("posts");
  e.set("a", 1);
  e.setAll(Object.assign(e.getAll(), { b: 2 }));
  const out = {
    origins: origins.length > 0 && origins.every((o) => o.getString("recordRef") === u.id && o.collection().name === "_authOrigins"),
    inCollection: inCollection.length >= origins.length,
    originsAfter: $app.findAllAuthOriginsByRecord(u).length,
    externalAuths: $app.findAllExternalAuthsByRecord(u).length,
    mfas: $app.findAllMFAsByRecord(u).length,
    otps: $app.findAllOTPsByRecord(u).length,
    unique: [$app.isCollectionNameUnique("POSTS"), $app.isCollectionNameUnique("nope"), $app.isCollectionNameUnique("posts", posts.id)],
    store: (({ a, b }) => ({ a, b }))(e.getAll()),
    tls: e.isTLS(),
  };
  $app.truncateCollection(posts);
  return e.json(200, out);
});

routerAdd("POST", "/x/logout-everywhere", (e) => {
  const u = $app.findAuthRecordByEmail("users", e.requestInfo().body.email);
  u.refreshTokenKey();
  $app.save(u);
  return e.json(200, { keyLength: u.tokenKey().length });
});

routerAdd("GET", "/x/owner/{id}", (e) => e.json(200, { ok: true }), $apis.requireSuperuserOrOwnerAuth());
`;

const servers = [['pocketbun', process.env.POCKETBUN_BIN]];
if (pocketbaseBin()) servers.push(['pocketbase', pocketbaseBin()]);

for (const [label, bin] of servers) {
  describe(`JS API additions (${label})`, () => {
    it('query builders, recordQuery, Record helpers, DateTime, bindBody, owner auth', async () => {
      const server = await startServer({ bin, hooks: { 'extra.pb.js': HOOKS } });
      try {
        const admin = await adminClient(server.url);
        const { id: postsId } = await admin.collections.create({
          name: 'posts', type: 'base', listRule: '', viewRule: '',
          fields: [
            { name: 'title', type: 'text' }, { name: 'rank', type: 'number' }, { name: 'published', type: 'bool' },
            { name: 'created', type: 'autodate', onCreate: true },
            { name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
          ],
        });
        const posts = [['alpha', 1, true], ['beta', 2, false], ['gamma', 3, true], ['delta', 4, true]];
        const ids = [];
        for (const [title, rank, published] of posts) ids.push((await admin.collection('posts').create({ title, rank, published })).id);
        const alphaId = ids[0];
        const owner = await admin.collection('users').create({ email: 'owner@example.com', password: 'pass-12345', passwordConfirm: 'pass-12345' });
        await admin.collection('users').create({ email: 'other@example.com', password: 'pass-12345', passwordConfirm: 'pass-12345' });

        let res = await http(server.url, 'GET', '/x/builder');
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, {
          top: [{ title: 'delta', rank: 4 }, { title: 'gamma', rank: 3 }],
          n: 3,
          grouped: [{ published: false, total: 1 }, { published: true, total: 3 }],
          kv: [{ k: 'b', v: '20' }],
        });

        res = await http(server.url, 'GET', '/x/recordQuery');
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, {
          published: ['alpha', 'gamma', 'delta'],
          oneTitle: 'beta',
          oneCollection: 'posts',
          oneIsNew: false,
          paged: [3],
          missing: 'sql: no rows in result set',
        });

        res = await http(server.url, 'GET', '/x/record');
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, {
          title: 'alpha', cloneTitle: 'changed', cloneIsNew: false, freshTitle: 'alpha',
          createdMatches: true, createdRecent: true, raw: 'alpha',
          setKnown: 'rank', setUnknown: true, rankAfter: 9, pk: true,
          expandedOne: true, expandedAll: 1, expandedNone: null, emailVisibility: false,
          emailHidden: true, emailShown: 'owner@example.com', customData: { extraKey: 5 },
          hookTags: ['posts', postsId], collectionPk: true,
        });

        // a random password set in a hook works for signing in
        res = await http(server.url, 'POST', '/x/users', { json: { email: 'random@example.com' } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.length, 30);
        assert.equal(res.body.visible, true);
        const pb = new PocketBase(server.url);
        const auth = await pb.collection('users').authWithPassword('random@example.com', res.body.password);
        assert.equal(auth.record.email, 'random@example.com');

        res = await http(server.url, 'GET', '/x/datetime');
        assert.deepEqual(res.body, {
          text: '2024-01-31 10:20:30.456Z', json: '2024-01-31 10:20:30.456Z', unix: 1706696430,
          later: '2024-02-02 10:20:30.456Z', after: true, before: false, equal: true, emptyIsNow: true, zeroField: true, nowNotZero: true,
        });

        res = await http(server.url, 'POST', '/x/bind', { json: { title: 'bound', rank: 5, tags: ['a'], extra: 1 } });
        assert.deepEqual(res.body, { title: 'bound', rank: 5, tags: ['a'] });

        // tokens made in hooks are the API's tokens; passwords check against the stored hash
        res = await http(server.url, 'POST', '/x/tokens', { json: { email: 'owner@example.com' } });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, {
          auth: true, static: true, file: true, fileAsAuth: 'error', anyType: true, passwordReset: true, emailChange: true,
          garbage: 'error', unsavedPassword: [true, false], storedPassword: [true, false],
        });
        res = await http(server.url, 'POST', '/x/login', { json: { email: 'owner@example.com', password: 'wrong' } });
        assert.equal(res.status, 400);
        res = await http(server.url, 'POST', '/x/login', { json: { email: 'owner@example.com', password: 'pass-12345' } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.record.id, owner.id);
        assert.equal(res.body.record.email, 'owner@example.com');
        const signedIn = new PocketBase(server.url);
        signedIn.authStore.save(res.body.token, null);
        assert.equal((await signedIn.collection('users').authRefresh()).record.id, owner.id);

        res = await http(server.url, 'GET', '/x/misc');
        assert.equal(res.status, 200, res.text);
        assert.equal(res.headers.get('set-cookie'), 'session=abc; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Strict');
        assert.deepEqual(res.body, {
          clean: ['a/b/d', '.', '/x', '../../a'],
          base: ['b.txt', '/', '.'],
          dir: ['/a/b', '.'],
          ext: ['.gz', ''],
          join: ['a/c/d', '/x'],
          isAbs: [true, false],
          match: [true, false, true],
          rel: ['c/d', '../x'],
          rows: [
            { s: null, i: null, f: null, b: null, a: null, o: null },
            { s: 'x', i: 7, f: 1.5, b: true, a: [1, 2], o: { k: 1 } },
          ],
          filtered: 'sql: no rows in result set',
          kept: 'alpha',
        });

        // requireSuperuserOrOwnerAuth: guests 401, other users 403, the owner and superusers pass
        res = await http(server.url, 'GET', `/x/owner/${owner.id}`);
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, { data: {}, message: 'The request requires superuser or record authorization token.', status: 401 });
        const other = await new PocketBase(server.url).collection('users').authWithPassword('other@example.com', 'pass-12345');
        res = await http(server.url, 'GET', `/x/owner/${owner.id}`, { token: other.token });
        assert.equal(res.status, 403);
        assert.deepEqual(res.body, { data: {}, message: 'You are not allowed to perform this request.', status: 403 });
        const mine = await new PocketBase(server.url).collection('users').authWithPassword('owner@example.com', 'pass-12345');
        assert.equal((await http(server.url, 'GET', `/x/owner/${owner.id}`, { token: mine.token })).status, 200);
        assert.equal((await http(server.url, 'GET', `/x/owner/${owner.id}`, { token: admin.authStore.token })).status, 200);

        // expandRecord(s): relations and back-relations; the record's JSON has the public expand
        await admin.collection('posts').update(alphaId, { author: owner.id });
        res = await http(server.url, 'GET', '/x/expand');
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body.failed, {});
        assert.equal(res.body.author, 'owner@example.com');
        assert.deepEqual(res.body.back, ['alpha']);
        assert.equal(res.body.json.expand.author.id, owner.id);
        assert.equal(res.body.json.expand.author.collectionName, 'users');
        for (const secret of ['email', 'password', 'tokenKey']) assert.ok(!(secret in res.body.json.expand.author), secret);

        // enrichRecord(s): the requester's view of ?expand and the default expands, with the
        // view rules (a user may view only themselves) and the email shown to the owner
        const enriched = async (token) => (await http(server.url, 'GET', `/x/enrich/${alphaId}?expand=author`, token ? { token } : {})).body;
        let view = await enriched(null);
        assert.equal(view.one.title, 'alpha');
        assert.deepEqual(view.one.expand, {}, 'guests may not view users');
        assert.deepEqual(view.all[0].expand, {});
        view = await enriched(mine.token);
        assert.equal(view.one.expand.author.id, owner.id);
        assert.equal(view.one.expand.author.email, 'owner@example.com');
        assert.equal(view.all[0].expand.author.email, 'owner@example.com');
        view = await enriched(other.token);
        assert.deepEqual(view.one.expand, {}, "users' viewRule lets each user view only themselves");
        view = await enriched(admin.authStore.token);
        assert.equal(view.one.expand.author.email, 'owner@example.com');

        // refreshTokenKey: the tokens issued before stop working
        const session = new PocketBase(server.url);
        await session.collection('users').authWithPassword('other@example.com', 'pass-12345');
        await session.collection('users').authRefresh();
        res = await http(server.url, 'POST', '/x/logout-everywhere', { json: { email: 'other@example.com' } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.keyLength, 50);
        await assert.rejects(session.collection('users').authRefresh(), (err) => err.status === 401);

        // system auth records of a record, collection name checks, the request store, truncate
        res = await http(server.url, 'POST', '/x/system');
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, {
          origins: true, inCollection: true, originsAfter: 0, externalAuths: 0, mfas: 0, otps: 0,
          unique: [false, true, true], store: { a: 1, b: 2 }, tls: false,
        });
        assert.equal((await admin.collection('posts').getList(1, 1)).totalItems, 0);
      } finally {
        await server.stop();
      }
    });
  });
}
