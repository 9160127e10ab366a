// OTP by email, MFA (password + OTP), auth origins / login alerts and rate limits.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { client, expectHttpError, http, useServer } from '../lib/client.mjs';
import { startSmtpSink } from '../lib/smtp-sink.mjs';

let sink;
let userId;

const ctx = useServer({}, async (c) => {
  sink = await startSmtpSink();
  await c.admin.settings.update({
    meta: { appName: 'Acme', appURL: 'http://app.test', senderName: 'Acme', senderAddress: 'support@acme.test' },
    smtp: { enabled: true, host: '127.0.0.1', port: sink.port },
  });
  await c.admin.collections.update('users', { otp: { enabled: true, length: 6 } });
  const u = await c.admin.collection('users').create({
    email: 'otp@example.com', password: 'otp-pass-123', passwordConfirm: 'otp-pass-123', verified: true,
  });
  userId = u.id;
});
after(async () => { await sink?.close(); });

const otpMail = async (n) => {
  await sink.waitFor(() => sink.messages.filter((m) => m.subject === 'OTP for Acme').length >= n);
  const msg = sink.messages.filter((m) => m.subject === 'OTP for Acme')[n - 1];
  const code = /one-time password is: <strong>(\d+)<\/strong>/.exec(msg.html)?.[1];
  assert.ok(code, msg.html);
  return { msg, code };
};

test('OTP: request, email, sign in, verified, one use only; unknown emails get a fake id', async () => {
  const users = client(ctx.url).collection('users');
  const unknown = await users.requestOTP('ghost@example.com');
  assert.match(unknown.otpId, /^[a-z0-9]{15}$/);
  const { otpId } = await users.requestOTP('otp@example.com');
  const { msg, code } = await otpMail(1);
  assert.deepEqual(msg.envelopeTo, ['otp@example.com']);
  assert.equal(code.length, 6);
  // wait for the sentTo update that follows the delivery
  await new Promise((r) => setTimeout(r, 300));
  const rows = await ctx.admin.collection('_otps').getFullList();
  assert.equal(rows.length, 1);
  assert.equal(rows[0].recordRef, userId);
  assert.equal(rows[0].sentTo, 'otp@example.com');

  const wrong = await http(ctx.url, 'POST', '/api/collections/users/auth-with-otp', { json: { otpId, password: '000000x' } });
  expectHttpError(wrong, 400, 'Invalid or expired OTP.');
  const auth = await users.authWithOTP(otpId, code);
  assert.equal(auth.record.id, userId);
  assert.equal(auth.record.verified, true);
  const reuse = await http(ctx.url, 'POST', '/api/collections/users/auth-with-otp', { json: { otpId, password: code } });
  expectHttpError(reuse, 400, 'Invalid or expired OTP.');
});

test('MFA: password gives 401 {mfaId}, OTP with the mfaId completes the sign-in', async () => {
  await ctx.admin.collections.update('users', { mfa: { enabled: true } });
  const first = await http(ctx.url, 'POST', '/api/collections/users/auth-with-password', {
    json: { identity: 'otp@example.com', password: 'otp-pass-123' },
  });
  assert.equal(first.status, 401);
  assert.deepEqual(Object.keys(first.body), ['mfaId']);
  const { mfaId } = first.body;
  const mfas = await ctx.admin.collection('_mfas').getFullList();
  assert.equal(mfas.length, 1);
  assert.equal(mfas[0].method, 'password');

  const same = await http(ctx.url, 'POST', `/api/collections/users/auth-with-password?mfaId=${mfaId}`, {
    json: { identity: 'otp@example.com', password: 'otp-pass-123' },
  });
  expectHttpError(same, 400, 'A different authentication method is required.');

  const { otpId } = await client(ctx.url).collection('users').requestOTP('otp@example.com');
  const { code } = await otpMail(2);
  const done = await http(ctx.url, 'POST', `/api/collections/users/auth-with-otp?mfaId=${mfaId}`, { json: { otpId, password: code } });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.record.id, userId);
  assert.equal((await ctx.admin.collection('_mfas').getFullList()).length, 0);
  await ctx.admin.collections.update('users', { mfa: { enabled: false } });
});

test('auth origins: a new user agent triggers one login alert, known ones do not', async () => {
  const login = (ua) => http(ctx.url, 'POST', '/api/collections/users/auth-with-password', {
    json: { identity: 'otp@example.com', password: 'otp-pass-123' }, headers: { 'User-Agent': ua },
  });
  const before = (await ctx.admin.collection('_authOrigins').getFullList()).length;
  assert.equal((await login('agent-one')).status, 200);
  assert.equal((await login('agent-one')).status, 200);
  assert.equal((await login('agent-two')).status, 200);
  await sink.waitFor((m) => m.subject === 'Login from a new location' && /agent-two/.test(m.html));
  const alerts = sink.messages.filter((m) => m.subject === 'Login from a new location');
  assert.equal(alerts.length, 2);
  assert.match(alerts[0].html, /<em>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z - 127\.0\.0\.1 agent-one<\/em>/);
  assert.deepEqual(alerts[0].envelopeTo, ['otp@example.com']);
  const origins = await ctx.admin.collection('_authOrigins').getFullList();
  assert.equal(origins.length, before + 2);
  for (const o of origins) assert.match(o.fingerprint, /^[0-9a-f]{32}$/);
});

test('rate limits: collection tag rule answers 429 after maxRequests', async () => {
  await ctx.admin.settings.update({
    rateLimits: { enabled: true, rules: [{ label: 'users:requestOTP', audience: '', duration: 60, maxRequests: 2 }] },
  });
  const req = () => http(ctx.url, 'POST', '/api/collections/users/request-otp', { json: { email: 'ghost@example.com' } });
  assert.equal((await req()).status, 200);
  assert.equal((await req()).status, 200);
  expectHttpError(await req(), 429, 'Too Many Requests.');
  // other endpoints are not limited by that rule; superusers skip limits
  assert.equal((await http(ctx.url, 'GET', '/api/collections/users/auth-methods')).status, 200);
  await ctx.admin.settings.update({ rateLimits: { enabled: false } });
  assert.equal((await req()).status, 200);
});
