// OAuth2 flows beyond the code exchange: the SDK's all-in-one authWithOAuth2({provider}) over
// realtime (auth-methods → @oauth2 subscription → provider → /api/oauth2-redirect → realtime
// message → auth-with-oauth2), and the atomic sign-up (a failing `_externalAuths` link leaves
// no user behind). Also green with POCKETBUN_BIN pointing to the real PocketBase.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { client, expectHttpError, http, useServer } from '../lib/client.mjs';
import { s256, startOAuth2Mock } from '../lib/oauth2-mock.mjs';
import '../lib/realtime.mjs'; // the SDK's realtime service needs a global EventSource

let mock;
const ctx = useServer({}, async (c) => {
  mock = await startOAuth2Mock();
  await c.admin.collections.create({
    name: 'members',
    type: 'auth',
    createRule: '',
    fields: [{ name: 'name', type: 'text' }],
    oauth2: { enabled: true, mappedFields: { name: 'name' }, providers: [mock.providerConfig('oidc')] },
  });
});
after(async () => { await mock?.close(); });

const person = (id) => ({
  id, name: `Person ${id}`, username: `p${id}`, email: `p${id}@example.com`, verified: true, avatar: '',
});

test('all-in-one authWithOAuth2: the redirect reaches the realtime client, the SDK signs in', async () => {
  const pb = client(ctx.url);
  const redirects = [];
  let redirected;
  const auth = await pb.collection('members').authWithOAuth2({
    provider: 'oidc',
    // plays the browser: the user signs in at the provider, which redirects to PocketBase
    urlCallback: async (url) => {
      const u = new URL(url);
      const state = u.searchParams.get('state');
      const redirectUri = u.searchParams.get('redirect_uri');
      assert.equal(redirectUri, `${ctx.url}/api/oauth2-redirect`);
      assert.match(state, /^[A-Za-z0-9]{40}$/); // the id of the SDK's realtime connection
      assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
      const code = mock.code('oidc', person('501'));
      redirected = fetch(`${redirectUri}?state=${encodeURIComponent(state)}&code=${encodeURIComponent(code)}`, { redirect: 'manual' })
        .then((res) => redirects.push([res.status, res.headers.get('location'), u.searchParams.get('code_challenge')]));
    },
  });
  await redirected;
  assert.deepEqual(redirects.map(([s, l]) => [s, l]), [[307, '../_/#/auth/oauth2-redirect-success']]);
  assert.equal(auth.meta.isNew, true);
  assert.equal(auth.record.email, 'p501@example.com');
  assert.equal(auth.record.name, 'Person 501');
  assert.equal(auth.record.verified, true);
  assert.equal(pb.authStore.record.id, auth.record.id);
  assert.equal(pb.authStore.token, auth.token);
  // the code exchange carried the verifier whose challenge went to the provider
  const exchange = mock.tokenRequests.at(-1).form;
  assert.equal(s256(exchange.code_verifier), redirects[0][2]);
  assert.equal(exchange.redirect_uri, `${ctx.url}/api/oauth2-redirect`);
});

test('oauth2-redirect with a provider error: the client gets it and the SDK rejects', async () => {
  const pb = client(ctx.url);
  // the SDK may settle before the browser (this fetch) gets its redirect: awaited separately
  let redirect;
  await assert.rejects(
    pb.collection('members').authWithOAuth2({
      provider: 'oidc',
      urlCallback: (url) => {
        const state = new URL(url).searchParams.get('state');
        redirect = fetch(`${ctx.url}/api/oauth2-redirect?state=${state}&error=access_denied`, { redirect: 'manual' })
          .then((res) => [res.status, res.headers.get('location')]);
      },
    }),
    (e) => /access_denied/.test(String(e?.originalError?.message ?? e?.message ?? e)),
  );
  assert.deepEqual(await redirect, [307, '../_/#/auth/oauth2-redirect-failure']);
  assert.equal(pb.authStore.isValid, false);
});

test('sign-up is atomic: when the _externalAuths link cannot be saved, no user is left behind', async () => {
  const links = await ctx.admin.collections.getOne('_externalAuths');
  // one link at most among the identities 601 and 602: the second sign-up's link insert fails
  // (unique indexes on system fields cannot be dropped again, hence the narrow partial index)
  await ctx.admin.collections.update('_externalAuths', {
    indexes: [...links.indexes, "CREATE UNIQUE INDEX `idx_test_601_602` ON `_externalAuths` (`collectionRef`) WHERE `providerId` IN ('601', '602')"],
  });
  const first = await client(ctx.url).collection('members').authWithOAuth2Code('oidc', mock.code('oidc', person('601')), 'v'.repeat(43), 'https://app.test/cb');
  assert.equal(first.meta.isNew, true);
  const count = async (coll) => (await ctx.admin.collection(coll).getFullList()).length;
  const before = { members: await count('members'), links: await count('_externalAuths') };
  const second = await http(ctx.url, 'POST', '/api/collections/members/auth-with-oauth2', {
    json: { provider: 'oidc', code: mock.code('oidc', person('602')), codeVerifier: 'v'.repeat(43), redirectURL: 'https://app.test/cb' },
  });
  expectHttpError(second, 400, 'Failed to authenticate.', { collectionRef: { code: 'validation_not_unique', message: 'Value must be unique.' } });
  assert.equal((await ctx.admin.collection('members').getList(1, 1, { filter: 'email = "p602@example.com"' })).totalItems, 0);
  assert.deepEqual({ members: await count('members'), links: await count('_externalAuths') }, before);
  // the first user still signs in through its link; other identities sign up fine
  const again = await client(ctx.url).collection('members').authWithOAuth2Code('oidc', mock.code('oidc', person('601')), 'v'.repeat(43), 'https://app.test/cb');
  assert.equal(again.record.id, first.record.id);
  assert.equal(again.meta.isNew, false);
  const other = await client(ctx.url).collection('members').authWithOAuth2Code('oidc', mock.code('oidc', person('603')), 'v'.repeat(43), 'https://app.test/cb');
  assert.equal(other.meta.isNew, true);
});

test('sign-in of an existing record is atomic: a failing link leaves the record unverified with its password', async () => {
  const links = await ctx.admin.collections.getOne('_externalAuths');
  await ctx.admin.collections.update('_externalAuths', {
    indexes: [...links.indexes, "CREATE UNIQUE INDEX `idx_test_701_702` ON `_externalAuths` (`collectionRef`) WHERE `providerId` IN ('701', '702')"],
  });
  await client(ctx.url).collection('members').authWithOAuth2Code('oidc', mock.code('oidc', person('701')), 'v'.repeat(43), 'https://app.test/cb');
  // a precreated unverified record with the OAuth2 email: the sign-in would verify it, reset its
  // password and link it; the link fails, so none of it may stay
  const pre = await ctx.admin.collection('members').create({
    email: 'p702@example.com', password: 'precreated-1', passwordConfirm: 'precreated-1', verified: false,
  });
  const res = await http(ctx.url, 'POST', '/api/collections/members/auth-with-oauth2', {
    json: { provider: 'oidc', code: mock.code('oidc', person('702')), codeVerifier: 'v'.repeat(43), redirectURL: 'https://app.test/cb' },
  });
  expectHttpError(res, 400, 'Failed to authenticate.', { collectionRef: { code: 'validation_not_unique', message: 'Value must be unique.' } });
  const after = await ctx.admin.collection('members').getOne(pre.id);
  assert.equal(after.verified, false);
  assert.equal(after.updated, pre.updated);
  const login = await client(ctx.url).collection('members').authWithPassword('p702@example.com', 'precreated-1');
  assert.equal(login.record.id, pre.id);
  assert.equal((await ctx.admin.collection('_externalAuths').getList(1, 1, { filter: `recordRef = "${pre.id}"` })).totalItems, 0);
});
