// OAuth2: auth-methods provider list, auth-with-oauth2 (SDK authWithOAuth2Code) against a mock
// provider on loopback for generic OIDC and every named provider, linking rules, field mapping,
// PKCE, provider errors and the oauth2-redirect endpoint.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { after, describe, test } from 'node:test';
import { client, DATE_RE, decodeJwt, expectHttpError, http, RECORD_ID_RE, useServer } from '../lib/client.mjs';
import { expectedUser, s256, startOAuth2Mock } from '../lib/oauth2-mock.mjs';
import { pocketbunBin } from '../lib/server.mjs';

// the real PocketBase hardcodes Apple's key set URL, so Apple sign-ins only succeed against
// PocketBun (which honours extra.jwksURL like PocketBase's OIDC provider does)
const IS_POCKETBASE = basename(pocketbunBin()) === 'pocketbase';

const PROVIDERS = [
  'oidc', 'oidc2', 'google', 'github', 'microsoft', 'apple', 'discord', 'gitlab', 'facebook', 'yandex', 'gitea', 'spotify', 'strava',
  'box', 'wakatime', 'livechat', 'kakao', 'twitch', 'patreon', 'trakt', 'mailcow', 'notion',
  'instagram2', 'bitbucket', 'gitee', 'twitter', 'vk', 'linear', 'monday', 'lark', 'planningcenter',
];
// providers that do not support PKCE (PocketBase sends no challenge nor verifier)
const NO_PKCE = new Set(['bitbucket', 'vk', 'linear']);
const DISPLAY = {
  oidc: 'OIDC', oidc2: 'OIDC', google: 'Google', github: 'GitHub', microsoft: 'Microsoft', apple: 'Apple',
  discord: 'Discord', gitlab: 'GitLab', facebook: 'Facebook', yandex: 'Yandex', gitea: 'Gitea/Forgejo', spotify: 'Spotify',
  strava: 'Strava', box: 'Box', wakatime: 'WakaTime', livechat: 'LiveChat', kakao: 'Kakao',
  twitch: 'Twitch', patreon: 'Patreon', trakt: 'Trakt', mailcow: 'mailcow', notion: 'Notion',
  instagram2: 'Instagram', bitbucket: 'Bitbucket', gitee: 'Gitee', twitter: 'X/Twitter', vk: 'ВКонтакте', linear: 'Linear',
  monday: 'monday.com', lark: 'Lark', planningcenter: 'Planning Center',
};
const shapeOf = (p) => (p.startsWith('oidc') ? 'oidc' : p);

let mock;
let seq = 1000;
const person = (tag, extra = {}) => {
  seq += 1;
  return {
    id: String(seq), name: `Name ${tag}`, username: `user_${tag}_${seq}`, email: `${tag}-${seq}@example.com`, verified: true,
    avatar: `https://avatars.example.com/${tag}.png`, ...extra,
  };
};

const ctx = useServer({}, async (c) => {
  mock = await startOAuth2Mock();
  for (const p of PROVIDERS) {
    await c.admin.collections.create({
      name: `o_${p}`,
      type: 'auth',
      createRule: '',
      fields: [
        { name: 'name', type: 'text' },
        { name: 'handle', type: 'text' },
        { name: 'pic', type: 'text' },
        { name: 'note', type: 'text' },
      ],
      passwordAuth: { enabled: true },
      oauth2: {
        enabled: true,
        mappedFields: { name: 'name', username: 'handle', avatarURL: 'pic' },
        providers: [mock.providerConfig(shapeOf(p) === 'oidc' ? p : p)],
      },
    });
  }
});
after(async () => { await mock?.close(); });

test('meta/oauth2-providers: sorted list with logos (superusers only)', async () => {
  const res = await http(ctx.url, 'GET', '/api/collections/meta/oauth2-providers', { token: ctx.admin.authStore.token });
  assert.equal(res.status, 200);
  assert.match(res.text, /\{"name":"oidc3","displayName":"OIDC","logo":"<svg/);
  const names = res.body.map((p) => p.name);
  for (const p of [...PROVIDERS, 'oidc3']) assert.ok(names.includes(p), p);
  assert.deepEqual(Object.keys(res.body[0]), ['name', 'displayName', 'logo']);
  assert.equal(names[0], 'apple');
  assert.deepEqual(names.slice(-3), ['oidc', 'oidc2', 'oidc3']);
  const guest = await http(ctx.url, 'GET', '/api/collections/meta/oauth2-providers');
  expectHttpError(guest, 401, 'The request requires valid record authorization token.');
});

test('oauth2-redirect: no realtime client → failure redirect (307 GET, 303 POST)', async () => {
  const get = await fetch(`${ctx.url}/api/oauth2-redirect?state=nobody&code=x`, { redirect: 'manual' });
  assert.equal(get.status, 307);
  assert.equal(get.headers.get('location'), '../_/#/auth/oauth2-redirect-failure');
  const post = await fetch(`${ctx.url}/api/oauth2-redirect`, {
    method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'state=nobody&code=x',
  });
  assert.equal(post.status, 303);
  assert.equal(post.headers.get('location'), '../_/#/auth/oauth2-redirect-failure');
  const empty = await fetch(`${ctx.url}/api/oauth2-redirect`, { redirect: 'manual' });
  assert.equal(empty.status, 307);
});

test('auth-with-oauth2: request validation and disabled OAuth2', async () => {
  const bad = await http(ctx.url, 'POST', '/api/collections/o_google/auth-with-oauth2', { json: { provider: 'github', code: '' } });
  expectHttpError(bad, 400, 'An error occurred while loading the submitted data.', {
    provider: {
      code: 'validation_invalid_provider', message: 'Provider with name github is missing or is not enabled.', params: { name: 'github' },
    },
    code: { code: 'validation_required', message: 'Cannot be blank.' },
  });
  const users = await http(ctx.url, 'POST', '/api/collections/users/auth-with-oauth2', { json: { provider: 'google', code: 'x' } });
  expectHttpError(users, 403, 'The collection is not configured to allow OAuth2 authentication.');
});

for (const provider of PROVIDERS) {
  const shape = shapeOf(provider);
  const coll = `o_${provider}`;
  const skipSuccess = !IS_POCKETBASE ? false
    : provider === 'apple' ? 'the real PocketBase cannot verify a mock Apple id_token'
      // PocketBun maps Planning Center's /people/v2/me like PocketBase 0.39's source; 0.40.6
      // rejects that document and its newer mapping is not available to reproduce
      : provider === 'planningcenter' ? "PocketBase 0.40.6's Planning Center mapping differs from the 0.39 one mocked here" : false;

  describe(`OAuth2 provider ${provider}`, () => {
    let created;

    test('auth-methods lists it with state, PKCE and an auth URL to complete', async () => {
      const methods = await client(ctx.url).collection(coll).listAuthMethods();
      assert.equal(methods.oauth2.enabled, true);
      assert.equal(methods.oauth2.providers.length, 1);
      const p = methods.oauth2.providers[0];
      assert.deepEqual(Object.keys(p).sort(), [
        'authURL', 'authUrl', 'codeChallenge', 'codeChallengeMethod', 'codeVerifier', 'displayName', 'logo', 'name', 'state',
      ]);
      assert.equal(p.name, provider);
      assert.equal(p.displayName, DISPLAY[provider]);
      assert.match(p.logo, /^<svg/);
      assert.match(p.state, /^[A-Za-z0-9]{30}$/);
      assert.equal(p.authUrl, p.authURL);
      if (NO_PKCE.has(provider)) {
        assert.deepEqual([p.codeVerifier, p.codeChallenge, p.codeChallengeMethod], ['', '', '']);
        assert.ok(p.authURL.startsWith(`${mock.base}/authorize?client_id=client-id&response_type=code&`), p.authURL);
      } else {
        assert.match(p.codeVerifier, /^[A-Za-z0-9]{43}$/);
        assert.equal(p.codeChallenge, s256(p.codeVerifier));
        assert.equal(p.codeChallengeMethod, 'S256');
        assert.ok(p.authURL.startsWith(`${mock.base}/authorize?client_id=client-id&code_challenge=${p.codeChallenge}&code_challenge_method=S256&`), p.authURL);
      }
      assert.ok(p.authURL.endsWith(`&state=${p.state}&redirect_uri=`), p.authURL);
      assert.equal(p.authURL.includes('response_mode=form_post'), provider === 'apple');
      assert.ok(p.authURL.includes(['livechat', 'trakt', 'notion', 'lark'].includes(provider) ? '&response_type=code&state=' : '&response_type=code&scope='), p.authURL);
      assert.deepEqual(Object.keys(methods).sort(), ['mfa', 'oauth2', 'otp', 'password']);
    });

    test('new user: created with mapped fields and createData, verified, linked; PKCE verifier passed on', { skip: skipSuccess }, async () => {
      const pp = person(provider);
      const code = mock.code(shape, pp);
      const verifier = 'v'.repeat(43);
      const before = mock.tokenRequests.length;
      const exp = expectedUser(shape, pp);
      // providers without an email need one from createData (the email field is required)
      const createData = exp.email ? { note: 'from createData' } : { note: 'from createData', email: `${provider}@created.test` };
      const auth = await client(ctx.url).collection(coll).authWithOAuth2Code(provider, code, verifier, 'https://app.test/cb', createData);
      const tr = mock.tokenRequests.slice(before);
      assert.ok(tr.length >= 1);
      const last = tr[tr.length - 1];
      assert.equal(last.form.grant_type, 'authorization_code');
      assert.equal(last.form.code, code);
      assert.equal(last.form.code_verifier, NO_PKCE.has(provider) ? undefined : verifier);
      assert.equal(last.form.redirect_uri, 'https://app.test/cb');
      const creds = last.authorization
        ? Buffer.from(last.authorization.replace('Basic ', ''), 'base64').toString()
        : `${last.form.client_id}:${last.form.client_secret}`;
      assert.equal(creds, 'client-id:client-secret');

      const m = auth.meta;
      assert.deepEqual(Object.keys(m).sort(), [
        'accessToken', 'avatarURL', 'avatarUrl', 'email', 'expiry', 'id', 'isNew', 'name', 'rawUser', 'refreshToken', 'username',
      ]);
      assert.equal(m.isNew, true);
      assert.equal(m.id, exp.id);
      assert.equal(m.name, exp.name);
      assert.equal(m.username, exp.username);
      assert.equal(m.email, exp.email);
      assert.equal(m.avatarURL, exp.avatarURL);
      assert.equal(m.avatarUrl, exp.avatarURL);
      assert.match(m.accessToken, /^at-\d+$/);
      if (shape === 'github' || shape === 'gitea') {
        assert.equal(m.expiry, '');
        assert.equal(m.refreshToken, '');
      } else {
        assert.match(m.expiry, DATE_RE);
        assert.match(m.refreshToken, /^rt-\d+$/);
      }
      assert.equal(typeof m.rawUser, 'object');
      // Instagram's granted permissions come with the token and are merged into rawUser
      if (provider === 'instagram2') assert.equal(m.rawUser.permissions, 'instagram_business_basic');
      if (provider === 'linear' || provider === 'monday') {
        const q = mock.userRequests.filter((u) => u.path === '/userinfo').at(-1);
        assert.deepEqual([q.method, q.contentType], ['POST', 'application/json']);
        assert.match(JSON.parse(q.body).query, provider === 'linear' ? /viewer \{ id displayName name email avatarUrl active \}/ : /me \{ id enabled name email is_verified photo_small \}/);
      }

      const r = auth.record;
      assert.match(r.id, RECORD_ID_RE);
      assert.equal(r.collectionName, coll);
      assert.equal(r.name, exp.name);
      assert.equal(r.handle, exp.username);
      assert.equal(r.pic, exp.avatarURL);
      assert.equal(r.note, 'from createData');
      assert.equal(r.email, exp.email || createData.email);
      // verified only when the record email is the OAuth2 one
      assert.equal(r.verified, !!exp.email);
      const claims = decodeJwt(auth.token).payload;
      assert.equal(claims.id, r.id);
      assert.equal(claims.type, 'auth');
      assert.equal(claims.refreshable, true);

      const links = await ctx.admin.collection('_externalAuths').getFullList({ filter: `recordRef="${r.id}"` });
      assert.equal(links.length, 1);
      assert.equal(links[0].provider, provider);
      assert.equal(links[0].providerId, exp.id);
      created = { person: pp, record: r };
    });

    test('existing _externalAuths link signs in the same record', { skip: skipSuccess }, async () => {
      assert.ok(created);
      // same provider id, different email: the link wins over the email lookup
      const again = { ...created.person, email: `changed-${created.person.email}` };
      const auth = await client(ctx.url).collection(coll).authWithOAuth2Code(provider, mock.code(shape, again), 'w'.repeat(43), 'https://app.test/cb');
      assert.equal(auth.record.id, created.record.id);
      assert.equal(auth.meta.isNew, false);
      assert.equal(auth.record.email, created.record.email);
      const links = await ctx.admin.collection('_externalAuths').getFullList({ filter: `recordRef="${created.record.id}"` });
      assert.equal(links.length, 1);
    });

    test('signed-in caller of the collection gets the new identity linked', { skip: skipSuccess }, async () => {
      const email = `logged-${provider}@example.com`;
      const u = await ctx.admin.collection(coll).create({ email, password: 'logged-pass-1', passwordConfirm: 'logged-pass-1', verified: true });
      const pb = client(ctx.url);
      await pb.collection(coll).authWithPassword(email, 'logged-pass-1');
      const other = person(`${provider}-link`);
      const auth = await pb.collection(coll).authWithOAuth2Code(provider, mock.code(shape, other), 'x'.repeat(43), 'https://app.test/cb');
      assert.equal(auth.record.id, u.id);
      assert.equal(auth.meta.isNew, false);
      assert.equal(auth.record.email, email);
      const links = await ctx.admin.collection('_externalAuths').getFullList({ filter: `recordRef="${u.id}"` });
      assert.deepEqual(links.map((l) => [l.provider, l.providerId]), [[provider, expectedUser(shape, other).id]]);
      // the password still works (verified record, logged-in caller)
      await client(ctx.url).collection(coll).authWithPassword(email, 'logged-pass-1');
    });

    test('email match links an unverified record, verifies it and resets its password', { skip: skipSuccess }, async () => {
      const pp = person(`${provider}-match`);
      const exp = expectedUser(shape, pp);
      if (!exp.email) return;
      const u = await ctx.admin.collection(coll).create({
        email: exp.email, password: 'precreated-1', passwordConfirm: 'precreated-1', verified: false,
      });
      const auth = await client(ctx.url).collection(coll).authWithOAuth2Code(provider, mock.code(shape, pp), 'y'.repeat(43), 'https://app.test/cb');
      assert.equal(auth.record.id, u.id);
      assert.equal(auth.meta.isNew, false);
      assert.equal(auth.record.verified, true);
      const res = await http(ctx.url, 'POST', `/api/collections/${coll}/auth-with-password`, { json: { identity: exp.email, password: 'precreated-1' } });
      expectHttpError(res, 400, 'Failed to authenticate.');
    });

    test('provider errors: bad code → token error, failing user info → user error', async () => {
      const pb = client(ctx.url);
      const bad = await http(ctx.url, 'POST', `/api/collections/${coll}/auth-with-oauth2`, {
        json: { provider, code: 'unknown-code', codeVerifier: 'z', redirectURL: 'https://app.test/cb' },
      });
      expectHttpError(bad, 400, 'Failed to fetch OAuth2 token.');
      const code = mock.code(shape, person(`${provider}-fail`), { failUser: true });
      await assert.rejects(pb.collection(coll).authWithOAuth2Code(provider, code, 'z', 'https://app.test/cb'), (e) => {
        assert.equal(e.status, 400);
        assert.equal(e.response.message, 'Failed to fetch OAuth2 user.');
        return true;
      });
      assert.equal(pb.authStore.isValid, false);
    });
  });
}

test('unverified OAuth2 email: no email to create with; createData email, link, legacy redirectUrl', async () => {
  const pp = person('unverified', { verified: false });
  const first = await http(ctx.url, 'POST', '/api/collections/o_oidc/auth-with-oauth2', {
    json: { provider: 'oidc', code: mock.code('oidc', pp), codeVerifier: 'q', redirectURL: 'https://app.test/cb' },
  });
  expectHttpError(first, 400, 'Failed to create record.', { email: { code: 'validation_required', message: 'Cannot be blank.' } });
  const auth = await client(ctx.url).collection('o_oidc').authWithOAuth2Code('oidc', mock.code('oidc', pp), 'q'.repeat(43), 'https://app.test/cb', {
    email: 'given@example.com',
  });
  assert.equal(auth.meta.email, '');
  assert.equal(auth.meta.isNew, true);
  assert.equal(auth.record.email, 'given@example.com');
  // the submitted email differs from the (empty) OAuth2 one: not verified
  assert.equal(auth.record.verified, false);
  const again = await http(ctx.url, 'POST', '/api/collections/o_oidc/auth-with-oauth2', {
    json: { provider: 'oidc', code: mock.code('oidc', pp), codeVerifier: 'q', redirectUrl: 'https://legacy.test/cb' },
  });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.record.id, auth.record.id);
  assert.equal(again.body.meta.isNew, false);
  assert.equal(mock.tokenRequests.at(-1).form.redirect_uri, 'https://legacy.test/cb');
});

test('MFA: OAuth2 as the first factor answers 401 {mfaId}', async () => {
  const coll = 'o_google';
  const pp = person('mfa');
  const first = await client(ctx.url).collection(coll).authWithOAuth2Code('google', mock.code('google', pp), 'm'.repeat(43), 'https://app.test/cb');
  await ctx.admin.collection(coll).update(first.record.id, { password: 'mfa-pass-123', passwordConfirm: 'mfa-pass-123' });
  await ctx.admin.collections.update(coll, { mfa: { enabled: true } });
  try {
    const res = await http(ctx.url, 'POST', `/api/collections/${coll}/auth-with-oauth2`, {
      json: { provider: 'google', code: mock.code('google', pp), codeVerifier: 'm', redirectURL: 'https://app.test/cb' },
    });
    assert.equal(res.status, 401, res.text);
    assert.deepEqual(Object.keys(res.body), ['mfaId']);
    const done = await http(ctx.url, 'POST', `/api/collections/${coll}/auth-with-password?mfaId=${res.body.mfaId}`, {
      json: { identity: first.record.email, password: 'mfa-pass-123' },
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.record.id, first.record.id);
  } finally {
    await ctx.admin.collections.update(coll, { mfa: { enabled: false } });
  }
});
