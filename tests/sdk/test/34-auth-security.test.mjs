// Token and auth endpoint security: tampered, expired, wrong-collection and wrong-type tokens,
// tokens of deleted records, tokens after a password or tokenKey change, one-time tokens and
// rate limits. Every expectation was checked against PocketBase 0.40.6 (this file also passes
// with POCKETBUN_BIN pointing to the real PocketBase).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { client, decodeJwt, expectHttpError, http, sleep, useServer } from '../lib/client.mjs';
import { startSmtpSink } from '../lib/smtp-sink.mjs';

const PASS = 'sec-pass-12345';
const U = '/api/collections/users';
const NEED_AUTH = 'The request requires valid record authorization token.';
let sink;

const ctx = useServer({}, async (c) => {
  sink = await startSmtpSink();
  await c.admin.settings.update({
    meta: { appName: 'Acme', appURL: 'http://app.test', senderName: 'Acme', senderAddress: 'support@acme.test' },
    smtp: { enabled: true, host: '127.0.0.1', port: sink.port },
  });
  await c.admin.collections.update('users', { viewRule: 'id = @request.auth.id' });
  await c.admin.collections.create({ name: 'members', type: 'auth', fields: [], passwordAuth: { enabled: true } });
});
after(async () => { await sink?.close(); });

let seq = 0;
/** Creates a user and signs in; returns {id, email, token}. */
async function newUser(extra = {}) {
  seq += 1;
  const email = `sec${seq}@example.com`;
  const rec = await ctx.admin.collection('users').create({ email, password: PASS, passwordConfirm: PASS, ...extra });
  const auth = await client(ctx.url).collection('users').authWithPassword(email, PASS);
  return { id: rec.id, email, token: auth.token };
}
const refresh = (token, coll = 'users') => http(ctx.url, 'POST', `/api/collections/${coll}/auth-refresh`, { token });
const viewSelf = (u, token) => http(ctx.url, 'GET', `${U}/records/${u.id}`, { token });
const expect401 = (res) => expectHttpError(res, 401, NEED_AUTH);
const tokenFrom = (msg, path) => new RegExp(`/_/#/auth/${path}/([A-Za-z0-9_.-]+)`).exec(msg.html)[1];

test('a valid token works (baseline for the cases below)', async () => {
  const u = await newUser();
  assert.equal((await refresh(u.token)).status, 200);
  assert.equal((await viewSelf(u, u.token)).status, 200);
});

test('tampered signature, payload or algorithm: rejected (guest on normal routes)', async () => {
  const u = await newUser();
  const [h, p, s] = u.token.split('.');
  const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
  const other = await newUser();
  const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(u.token).payload, id: other.id })).toString('base64url');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  for (const bad of [`${h}.${p}.${flipped}`, `${h}.${forgedPayload}.${s}`, `${none}.${p}.`, `${h}.${p}`, `Bearer ${u.token}x`]) {
    expect401(await refresh(bad));
    // an invalid token is ignored on other routes: the caller is a guest
    expectHttpError(await viewSelf(u, bad), 404, "The requested resource wasn't found.");
  }
});

test('expired token (impersonate with a 1 s duration): rejected', async () => {
  const u = await newUser();
  const imp = await http(ctx.url, 'POST', `${U}/impersonate/${u.id}`, { token: ctx.admin.authStore.token, json: { duration: 1 } });
  assert.equal(imp.status, 200, imp.text);
  const { payload } = decodeJwt(imp.body.token);
  assert.equal(payload.refreshable, false);
  assert.equal(payload.exp - Math.floor(Date.now() / 1000) <= 1, true);
  await sleep(2100);
  expect401(await refresh(imp.body.token));
  expectHttpError(await viewSelf(u, imp.body.token), 404, "The requested resource wasn't found.");
});

test('token of another auth collection: 403 on refresh, no access to the other collection', async () => {
  const u = await newUser();
  expectHttpError(await refresh(u.token, 'members'), 403, 'The request requires auth record from users collection.');
  expectHttpError(await refresh(ctx.admin.authStore.token), 403, 'The request requires auth record from _superusers collection.');
  const impersonate = await http(ctx.url, 'POST', '/api/collections/members/impersonate/x', { token: u.token, json: {} });
  expectHttpError(impersonate, 403, 'The authorized record is not allowed to perform this action.');
});

test('wrong token type: file, verification, reset and email-change tokens are not auth tokens', async () => {
  const u = await newUser();
  const file = await http(ctx.url, 'POST', '/api/files/token', { token: u.token });
  assert.equal(file.status, 200, file.text);
  assert.equal(decodeJwt(file.body.token).payload.type, 'file');
  expect401(await refresh(file.body.token));
  expectHttpError(await viewSelf(u, file.body.token), 404, "The requested resource wasn't found.");

  sink.clear();
  assert.equal((await http(ctx.url, 'POST', `${U}/request-verification`, { json: { email: u.email } })).status, 204);
  const verification = tokenFrom(await sink.waitFor((m) => m.envelopeTo.includes(u.email)), 'confirm-verification');
  assert.equal((await http(ctx.url, 'POST', `${U}/request-password-reset`, { json: { email: u.email } })).status, 204);
  const reset = tokenFrom(await sink.waitFor((m) => m.envelopeTo.includes(u.email) && /Reset/.test(m.subject)), 'confirm-password-reset');
  assert.equal((await http(ctx.url, 'POST', `${U}/request-email-change`, { token: u.token, json: { newEmail: `new-${u.email}` } })).status, 204);
  const change = tokenFrom(await sink.waitFor((m) => m.envelopeTo.includes(`new-${u.email}`)), 'confirm-email-change');
  for (const t of [verification, reset, change]) {
    expect401(await refresh(t));
    expectHttpError(await viewSelf(u, t), 404, "The requested resource wasn't found.");
  }
  // and auth tokens are not one-time tokens
  const invalid = { token: { code: 'validation_invalid_token', message: 'Invalid or expired token.' } };
  const asReset = await http(ctx.url, 'POST', `${U}/confirm-password-reset`, { json: { token: u.token, password: 'x-pass-12345', passwordConfirm: 'x-pass-12345' } });
  expectHttpError(asReset, 400, 'An error occurred while validating the submitted data.', invalid);
  const asVerification = await http(ctx.url, 'POST', `${U}/confirm-verification`, { json: { token: reset } });
  expectHttpError(asVerification, 400, 'An error occurred while validating the submitted data.', invalid);
  const asChange = await http(ctx.url, 'POST', `${U}/confirm-email-change`, { json: { token: verification, password: PASS } });
  expectHttpError(asChange, 400, 'An error occurred while validating the submitted data.', {
    password: { code: 'validation_invalid_password', message: 'Missing or invalid auth record password.' },
    token: { code: 'validation_invalid_token_payload', message: 'Invalid token payload - newEmail must be set.' },
  });
  assert.equal((await ctx.admin.collection('users').getOne(u.id)).verified, false);
});

test('tokens of a deleted record: rejected', async () => {
  const u = await newUser();
  await ctx.admin.collection('users').delete(u.id);
  expect401(await refresh(u.token));
});

test('old tokens die after a password change, a tokenKey change and an email change', async () => {
  const u = await newUser();
  const second = (await client(ctx.url).collection('users').authWithPassword(u.email, PASS)).token;
  const pb = client(ctx.url);
  pb.authStore.save(u.token);
  await pb.collection('users').update(u.id, { oldPassword: PASS, password: 'changed-pass-1', passwordConfirm: 'changed-pass-1' });
  expect401(await refresh(u.token));
  expect401(await refresh(second));
  const fresh = (await client(ctx.url).collection('users').authWithPassword(u.email, 'changed-pass-1')).token;
  assert.equal((await refresh(fresh)).status, 200);

  // a superuser can rotate the tokenKey (it is never returned)
  const updated = await ctx.admin.collection('users').update(u.id, { tokenKey: 'a-new-token-key-of-sufficient-length-0123456789' });
  assert.equal(updated.tokenKey, undefined);
  expect401(await refresh(fresh));
  const afterKey = (await client(ctx.url).collection('users').authWithPassword(u.email, 'changed-pass-1')).token;
  assert.equal((await refresh(afterKey)).status, 200);

  // a superuser changing the email also rotates the key
  await ctx.admin.collection('users').update(u.id, { email: `moved-${u.email}` });
  expect401(await refresh(afterKey));
});

test('a verification token only verifies; password reset and email change tokens work once', async () => {
  const u = await newUser();
  sink.clear();
  await http(ctx.url, 'POST', `${U}/request-verification`, { json: { email: u.email } });
  const verification = tokenFrom(await sink.waitFor((m) => m.envelopeTo.includes(u.email)), 'confirm-verification');
  const verify = () => http(ctx.url, 'POST', `${U}/confirm-verification`, { json: { token: verification } });
  assert.equal((await verify()).status, 204);
  // PocketBase answers 204 again for an already verified record: nothing changes
  assert.equal((await verify()).status, 204);
  assert.equal((await ctx.admin.collection('users').getOne(u.id)).verified, true);

  sink.clear();
  await http(ctx.url, 'POST', `${U}/request-password-reset`, { json: { email: u.email } });
  const reset = tokenFrom(await sink.waitFor((m) => m.envelopeTo.includes(u.email)), 'confirm-password-reset');
  const confirm = (password) => http(ctx.url, 'POST', `${U}/confirm-password-reset`, { json: { token: reset, password, passwordConfirm: password } });
  assert.equal((await confirm('reset-pass-111')).status, 204);
  expectHttpError(await confirm('reset-pass-222'), 400, 'An error occurred while validating the submitted data.', {
    token: { code: 'validation_invalid_token', message: 'Invalid or expired token.' },
  });
  await client(ctx.url).collection('users').authWithPassword(u.email, 'reset-pass-111');

  const token = (await client(ctx.url).collection('users').authWithPassword(u.email, 'reset-pass-111')).token;
  sink.clear();
  await http(ctx.url, 'POST', `${U}/request-email-change`, { token, json: { newEmail: `c-${u.email}` } });
  const change = tokenFrom(await sink.waitFor((m) => m.envelopeTo.includes(`c-${u.email}`)), 'confirm-email-change');
  const confirmChange = () => http(ctx.url, 'POST', `${U}/confirm-email-change`, { json: { token: change, password: 'reset-pass-111' } });
  assert.equal((await confirmChange()).status, 204);
  expectHttpError(await confirmChange(), 400, 'An error occurred while validating the submitted data.', {
    password: { code: 'validation_invalid_password', message: 'Missing or invalid auth record password.' },
    token: { code: 'validation_invalid_token', message: 'Invalid or expired token.' },
  });
});

test('rate limits: auth endpoints answer 429 per label and audience; superusers are exempt', async () => {
  const u = await newUser();
  await ctx.admin.settings.update({
    rateLimits: {
      enabled: true,
      rules: [
        { label: '*:auth', audience: '', duration: 60, maxRequests: 2 },
        { label: '/api/collections/users/request-password-reset', audience: '@guest', duration: 60, maxRequests: 1 },
      ],
    },
  });
  try {
    const login = (password) => http(ctx.url, 'POST', `${U}/auth-with-password`, { json: { identity: u.email, password } });
    assert.equal((await login('wrong-pass-1')).status, 400);
    assert.equal((await login(PASS)).status, 200);
    expectHttpError(await login(PASS), 429, 'Too Many Requests.');
    // the *:auth rule counts per collection and route: another auth collection has its own budget
    const members = () => http(ctx.url, 'POST', '/api/collections/members/auth-with-password', { json: { identity: u.email, password: PASS } });
    assert.equal((await members()).status, 400);
    assert.equal((await members()).status, 400);
    expectHttpError(await members(), 429, 'Too Many Requests.');
    const reset = (token) => http(ctx.url, 'POST', `${U}/request-password-reset`, { json: { email: u.email }, token });
    assert.equal((await reset()).status, 204);
    expectHttpError(await reset(), 429, 'Too Many Requests.');
    // the @guest rule does not apply to authenticated callers
    assert.equal((await reset(u.token)).status, 204);
    // superusers skip rate limits
    const asAdmin = () => http(ctx.url, 'POST', `${U}/auth-with-password`, { json: { identity: u.email, password: PASS }, token: ctx.admin.authStore.token });
    assert.equal((await asAdmin()).status, 200);
    assert.equal((await asAdmin()).status, 200);
  } finally {
    await ctx.admin.settings.update({ rateLimits: { enabled: false } });
  }
});
