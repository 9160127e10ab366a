// OAuth2 provider registry: every PocketBase 0.40 provider listed by auth-methods with its
// default authorization URL, scopes and PKCE flag; oauth2.providers validation on collection
// save; Apple client secret generation. Expectations taken from PocketBase 0.40.6 (this file
// also passes with POCKETBUN_BIN pointing to the real PocketBase).
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { test } from 'node:test';
import { client, decodeJwt, expectHttpError, http, useServer } from '../lib/client.mjs';

// [name, displayName, authURL with {challenge} and {state} placeholders] in PocketBase's order
const PROVIDERS = [
  ["apple", "Apple", "https://appleid.apple.com/auth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_mode=form_post&response_type=code&scope=name+email&state={state}&redirect_uri="],
  ["google", "Google", "https://accounts.google.com/o/oauth2/v2/auth?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.profile+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email&state={state}&redirect_uri="],
  ["microsoft", "Microsoft", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=User.Read&state={state}&redirect_uri="],
  ["yandex", "Yandex", "https://oauth.yandex.com/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=login%3Aemail+login%3Aavatar+login%3Ainfo&state={state}&redirect_uri="],
  ["facebook", "Facebook", "https://www.facebook.com/v3.2/dialog/oauth?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=email&state={state}&redirect_uri="],
  ["instagram2", "Instagram", "https://www.instagram.com/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=instagram_business_basic&state={state}&redirect_uri="],
  ["github", "GitHub", "https://github.com/login/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=read%3Auser+user%3Aemail&state={state}&redirect_uri="],
  ["gitlab", "GitLab", "https://gitlab.com/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=read_user&state={state}&redirect_uri="],
  ["bitbucket", "Bitbucket", "https://bitbucket.org/site/oauth2/authorize?client_id=cid&response_type=code&scope=account&state={state}&redirect_uri="],
  ["gitee", "Gitee", "https://gitee.com/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=user_info+emails&state={state}&redirect_uri="],
  ["gitea", "Gitea/Forgejo", "https://gitea.com/login/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=read%3Auser+user%3Aemail&state={state}&redirect_uri="],
  ["discord", "Discord", "https://discord.com/api/oauth2/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=identify+email&state={state}&redirect_uri="],
  ["twitter", "X/Twitter", "https://x.com/i/oauth2/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=users.read+users.email+tweet.read&state={state}&redirect_uri="],
  ["kakao", "Kakao", "https://kauth.kakao.com/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=account_email+profile_nickname+profile_image&state={state}&redirect_uri="],
  ["vk", "ВКонтакте", "https://oauth.vk.com/authorize?client_id=cid&response_type=code&scope=email&state={state}&redirect_uri="],
  ["linear", "Linear", "https://linear.app/oauth/authorize?client_id=cid&response_type=code&scope=read&state={state}&redirect_uri="],
  ["notion", "Notion", "https://api.notion.com/v1/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&state={state}&redirect_uri="],
  ["monday", "monday.com", "https://auth.monday.com/oauth2/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=me%3Aread&state={state}&redirect_uri="],
  ["lark", "Lark", "https://accounts.feishu.cn/open-apis/authen/v1/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&state={state}&redirect_uri="],
  ["box", "Box", "https://account.box.com/api/oauth2/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=root_readonly&state={state}&redirect_uri="],
  ["spotify", "Spotify", "https://accounts.spotify.com/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=user-read-private&state={state}&redirect_uri="],
  ["trakt", "Trakt", "https://trakt.tv/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&state={state}&redirect_uri="],
  ["twitch", "Twitch", "https://id.twitch.tv/oauth2/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=user%3Aread%3Aemail&state={state}&redirect_uri="],
  ["patreon", "Patreon", "https://www.patreon.com/oauth2/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=identity+identity%5Bemail%5D&state={state}&redirect_uri="],
  ["strava", "Strava", "https://www.strava.com/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=profile%3Aread_all&state={state}&redirect_uri="],
  ["wakatime", "WakaTime", "https://wakatime.com/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=email&state={state}&redirect_uri="],
  ["livechat", "LiveChat", "https://accounts.livechat.com/?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&state={state}&redirect_uri="],
  ["mailcow", "mailcow", "?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=profile&state={state}&redirect_uri="],
  ["planningcenter", "Planning Center", "https://api.planningcenteronline.com/oauth/authorize?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=people&state={state}&redirect_uri="],
  ["oidc", "OIDC", "?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=openid+email+profile&state={state}&redirect_uri="],
  ["oidc2", "OIDC", "?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=openid+email+profile&state={state}&redirect_uri="],
  ["oidc3", "OIDC", "?client_id=cid&code_challenge={challenge}&code_challenge_method=S256&response_type=code&scope=openid+email+profile&state={state}&redirect_uri="],
];

const ctx = useServer();
const INVALID = 'Failed to create collection.';
const createColl = (name, oauth2) => http(ctx.url, 'POST', '/api/collections', {
  token: ctx.admin.authStore.token, json: { name, type: 'auth', oauth2 },
});

test('meta/oauth2-providers lists every provider in PocketBase order', async () => {
  const res = await http(ctx.url, 'GET', '/api/collections/meta/oauth2-providers', { token: ctx.admin.authStore.token });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.map((p) => [p.name, p.displayName]), PROVIDERS.map(([n, d]) => [n, d]));
});

test('auth-methods: default URLs, scopes and PKCE of every provider', async () => {
  const providers = PROVIDERS.map(([name]) => ({ name, clientId: 'cid', clientSecret: 'cs' }));
  const created = await createColl('o_every', { enabled: true, providers });
  assert.equal(created.status, 200, created.text);
  const methods = await client(ctx.url).collection('o_every').listAuthMethods();
  assert.equal(methods.oauth2.providers.length, PROVIDERS.length);
  methods.oauth2.providers.forEach((p, i) => {
    const [name, displayName, url] = PROVIDERS[i];
    assert.equal(p.name, name);
    assert.equal(p.displayName, displayName);
    const pkce = url.includes('{challenge}');
    assert.equal(p.codeChallengeMethod, pkce ? 'S256' : '', name);
    assert.equal(p.codeVerifier.length, pkce ? 43 : 0, name);
    assert.equal(p.authURL, url.replace('{challenge}', p.codeChallenge).replace('{state}', p.state), name);
  });
});

test('collection save validates oauth2.providers (names, credentials, URLs, duplicates)', async () => {
  const res = await createColl('o_bad', {
    enabled: true,
    providers: [
      { name: 'nope', clientId: 'a', clientSecret: 'b' },
      { name: 'google' },
      { name: '', clientId: 'a', clientSecret: 'b' },
      { name: 'oidc', clientId: 'a', clientSecret: 'b', authURL: 'not a url', tokenURL: 'http://ok.test/token' },
      { name: 'instagram2', clientId: 'a', clientSecret: 'b' },
    ],
  });
  expectHttpError(res, 400, INVALID, {
    oauth2: {
      providers: {
        0: { name: { code: 'validation_missing_provider', message: 'Invalid or missing provider with name nope.', params: { name: 'nope' } } },
        1: {
          clientId: { code: 'validation_required', message: 'Cannot be blank.' },
          clientSecret: { code: 'validation_required', message: 'Cannot be blank.' },
        },
        2: { name: { code: 'validation_required', message: 'Cannot be blank.' } },
        3: { authURL: { code: 'validation_is_url', message: 'Must be a valid URL.' } },
      },
    },
  });
  const dup = await createColl('o_dup', {
    enabled: true,
    providers: [{ name: 'nope', clientId: 'a', clientSecret: 'b' }, { name: 'nope', clientId: 'a', clientSecret: 'b' }],
  });
  expectHttpError(dup, 400, INVALID, {
    oauth2: {
      providers: {
        1: { name: { code: 'validation_duplicated_provider', message: 'The provider nope is already registered.', params: { name: 'nope' } } },
      },
    },
  });
  // providers are only checked while OAuth2 is enabled
  const off = await createColl('o_off', { enabled: false, providers: [{ name: 'nope' }] });
  assert.equal(off.status, 200, off.text);
  const on = await http(ctx.url, 'PATCH', '/api/collections/o_off', { token: ctx.admin.authStore.token, json: { oauth2: { enabled: true } } });
  expectHttpError(on, 400, 'Failed to update collection.', {
    oauth2: {
      providers: {
        0: {
          clientId: { code: 'validation_required', message: 'Cannot be blank.' },
          clientSecret: { code: 'validation_required', message: 'Cannot be blank.' },
          name: { code: 'validation_missing_provider', message: 'Invalid or missing provider with name nope.', params: { name: 'nope' } },
        },
      },
    },
  });
});

test('settings/apple/generate-client-secret: ES256 JWT for Apple; validation; superusers only', async () => {
  const path = '/api/settings/apple/generate-client-secret';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  const body = { clientId: 'com.example.app', teamId: 'TEAM123456', keyId: 'KEY1234567', privateKey: pem, duration: 3600 };
  expectHttpError(await http(ctx.url, 'POST', path, { json: body }), 401, 'The request requires valid record authorization token.');
  await ctx.admin.collection('users').create({ email: 'apple@example.com', password: 'apple-pass-1', passwordConfirm: 'apple-pass-1' });
  const user = await client(ctx.url).collection('users').authWithPassword('apple@example.com', 'apple-pass-1');
  expectHttpError(await http(ctx.url, 'POST', path, { json: body, token: user.token }), 403, 'The authorized record is not allowed to perform this action.');

  const res = await http(ctx.url, 'POST', path, { json: body, token: ctx.admin.authStore.token });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(Object.keys(res.body), ['secret']);
  const { header, payload } = decodeJwt(res.body.secret);
  assert.deepEqual(header, { alg: 'ES256', kid: 'KEY1234567', typ: 'JWT' });
  assert.deepEqual(Object.keys(payload), ['iss', 'sub', 'aud', 'exp', 'iat']);
  assert.deepEqual([payload.iss, payload.sub, payload.aud], ['TEAM123456', 'com.example.app', ['https://appleid.apple.com']]);
  assert.equal(payload.exp - payload.iat, 3600);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60);
  const [h, p, s] = res.body.secret.split('.');
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  assert.equal(ok, true, 'signature verifies with the public key');

  const invalid = await http(ctx.url, 'POST', path, {
    token: ctx.admin.authStore.token, json: { clientId: '', teamId: '123456789', keyId: '123456789', privateKey: 'invalid', duration: -1 },
  });
  expectHttpError(invalid, 400, 'Invalid client secret data.', {
    clientId: { code: 'validation_required', message: 'Cannot be blank.' },
    duration: { code: 'validation_min_greater_equal_than_required', message: 'Must be no less than 1.', params: { threshold: 1 } },
    keyId: { code: 'validation_length_invalid', message: 'The length must be exactly 10.', params: { max: 10, min: 10 } },
    privateKey: { code: 'validation_match_invalid', message: 'Must be in a valid format.' },
    teamId: { code: 'validation_length_invalid', message: 'The length must be exactly 10.', params: { max: 10, min: 10 } },
  });
  const tooLong = await http(ctx.url, 'POST', path, { token: ctx.admin.authStore.token, json: { ...body, duration: 15777001 } });
  expectHttpError(tooLong, 400, 'Invalid client secret data.', {
    duration: { code: 'validation_max_less_equal_than_required', message: 'Must be no greater than 15777000.', params: { threshold: 15777000 } },
  });
  const badKey = await http(ctx.url, 'POST', path, {
    token: ctx.admin.authStore.token, json: { ...body, privateKey: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----' },
  });
  expectHttpError(badKey, 400, 'Failed to generate client secret. Raw error: \ninvalid key: Key must be a PEM encoded PKCS1 or PKCS8 key.');
  const garbage = await http(ctx.url, 'POST', path, { token: ctx.admin.authStore.token, body: '{', headers: { 'Content-Type': 'application/json' } });
  expectHttpError(garbage, 400, 'An error occurred while loading the submitted data.');
});
