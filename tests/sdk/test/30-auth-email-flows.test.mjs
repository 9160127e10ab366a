// Auth emails over real SMTP: settings test email, verification, password reset, email change.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { client, decodeJwt, expectHttpError, http, useServer } from '../lib/client.mjs';
import { startSmtpSink } from '../lib/smtp-sink.mjs';

const APP_URL = 'http://app.test';
let sink;

const ctx = useServer({}, async (c) => {
  sink = await startSmtpSink();
  await c.admin.settings.update({
    meta: { appName: 'Acme', appURL: APP_URL, senderName: 'Acme Support', senderAddress: 'support@acme.test' },
    smtp: { enabled: true, host: '127.0.0.1', port: sink.port, tls: false },
  });
  await c.admin.collection('users').create({
    email: 'alice@example.com', password: 'alice-pass-1', passwordConfirm: 'alice-pass-1', name: 'Alice',
  });
});
after(async () => { await sink?.close(); });

const tokenFrom = (msg, path) => {
  const m = new RegExp(`${APP_URL.replace(/\./g, '\\.')}/_/#/auth/${path}/([A-Za-z0-9_.-]+)`).exec(msg.html);
  assert.ok(m, `link ${path} in ${msg.html}`);
  return m[1];
};
const mailTo = (addr, subject) => sink.waitFor((m) => m.envelopeTo.includes(addr) && m.subject === subject);

test('settings test email is delivered through SMTP with the default template', async () => {
  const res = await http(ctx.url, 'POST', '/api/settings/test/email', {
    token: ctx.admin.authStore.token, json: { email: 'probe@example.com', template: 'verification' },
  });
  assert.equal(res.status, 204, res.text);
  const msg = await mailTo('probe@example.com', 'Verify your Acme email');
  assert.match(msg.from, /support@acme\.test/);
  assert.match(msg.from, /Acme Support/);
  assert.match(msg.html, /Thank you for joining us at Acme\./);
  const { payload } = decodeJwt(tokenFrom(msg, 'confirm-verification'));
  assert.equal(payload.type, 'verification');
  assert.equal(payload.email, 'probe@example.com');
  assert.equal(payload.collectionId, 'pbc_3142635823');
  assert.match(msg.text, /Thank you for joining us at Acme/);

  const bad = await http(ctx.url, 'POST', '/api/settings/test/email', {
    token: ctx.admin.authStore.token, json: { email: 'nope', template: 'x', collection: 'missing' },
  });
  expectHttpError(bad, 400, 'Failed to send the test email.', {
    collection: { code: 'validation_invalid_auth_collection', message: 'Must be a valid auth collection id or name.' },
    email: { code: 'validation_is_email', message: 'Must be a valid email address.' },
    template: { code: 'validation_in_invalid', message: 'Must be a valid value.' },
  });
});

test('verification: request, email, confirm, verified; unknown emails are not revealed', async () => {
  const users = client(ctx.url).collection('users');
  assert.equal(await users.requestVerification('alice@example.com'), true);
  assert.equal(await users.requestVerification('nobody@example.com'), true);
  const msg = await mailTo('alice@example.com', 'Verify your Acme email');
  const token = tokenFrom(msg, 'confirm-verification');
  const { payload } = decodeJwt(token);
  assert.deepEqual(Object.keys(payload), ['collectionId', 'email', 'exp', 'id', 'type']);
  assert.equal(payload.email, 'alice@example.com');
  assert.ok(Math.abs(payload.exp - Date.now() / 1000 - 86400) < 10);

  const wrong = await http(ctx.url, 'POST', '/api/collections/users/confirm-verification', { json: { token: 'x.y.z' } });
  expectHttpError(wrong, 400, 'An error occurred while validating the submitted data.', {
    token: { code: 'validation_invalid_token_claims', message: 'Missing email token claim.' },
  });
  assert.equal(await users.confirmVerification(token), true);
  const rec = await ctx.admin.collection('users').getFirstListItem('email="alice@example.com"');
  assert.equal(rec.verified, true);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sink.messages.filter((m) => m.envelopeTo.includes('nobody@example.com')).length, 0);
});

test('password reset: token claims, new password works, old sessions and the token die', async () => {
  const pb = client(ctx.url);
  await pb.collection('users').authWithPassword('alice@example.com', 'alice-pass-1');
  const oldToken = pb.authStore.token;
  assert.equal(await client(ctx.url).collection('users').requestPasswordReset('alice@example.com'), true);
  const msg = await mailTo('alice@example.com', 'Reset your Acme password');
  const token = tokenFrom(msg, 'confirm-password-reset');
  const { payload } = decodeJwt(token);
  assert.equal(payload.type, 'passwordReset');
  assert.ok(Math.abs(payload.exp - Date.now() / 1000 - 1800) < 10);

  const mismatch = await http(ctx.url, 'POST', '/api/collections/users/confirm-password-reset', {
    json: { token, password: 'new-pass-123', passwordConfirm: 'other-pass-123' },
  });
  expectHttpError(mismatch, 400, 'An error occurred while validating the submitted data.', {
    passwordConfirm: { code: 'validation_values_mismatch', message: "Values don't match." },
  });
  const ok = await http(ctx.url, 'POST', '/api/collections/users/confirm-password-reset', {
    json: { token, password: 'new-pass-123', passwordConfirm: 'new-pass-123' },
  });
  assert.equal(ok.status, 204, ok.text);
  const again = await http(ctx.url, 'POST', '/api/collections/users/confirm-password-reset', {
    json: { token, password: 'new-pass-456', passwordConfirm: 'new-pass-456' },
  });
  expectHttpError(again, 400, 'An error occurred while validating the submitted data.', {
    token: { code: 'validation_invalid_token', message: 'Invalid or expired token.' },
  });
  const refresh = await http(ctx.url, 'POST', '/api/collections/users/auth-refresh', { token: oldToken });
  assert.equal(refresh.status, 401);
  const auth = await client(ctx.url).collection('users').authWithPassword('alice@example.com', 'new-pass-123');
  assert.equal(auth.record.email, 'alice@example.com');
});

test('email change: mail to the new address, password check, email and verified updated', async () => {
  const pb = client(ctx.url);
  await pb.collection('users').authWithPassword('alice@example.com', 'new-pass-123');
  const taken = await http(ctx.url, 'POST', '/api/collections/users/request-email-change', {
    token: pb.authStore.token, json: { newEmail: 'bad' },
  });
  expectHttpError(taken, 400, 'An error occurred while validating the submitted data.', {
    newEmail: { code: 'validation_is_email', message: 'Must be a valid email address.' },
  });
  assert.equal(await pb.collection('users').requestEmailChange('alice2@example.com'), true);
  const msg = await mailTo('alice2@example.com', 'Confirm your Acme new email address');
  const token = tokenFrom(msg, 'confirm-email-change');
  const { payload } = decodeJwt(token);
  assert.equal(payload.type, 'emailChange');
  assert.equal(payload.email, 'alice@example.com');
  assert.equal(payload.newEmail, 'alice2@example.com');

  const wrongPass = await http(ctx.url, 'POST', '/api/collections/users/confirm-email-change', {
    json: { token, password: 'wrong-pass-1' },
  });
  expectHttpError(wrongPass, 400, 'An error occurred while validating the submitted data.', {
    password: { code: 'validation_invalid_password', message: 'Missing or invalid auth record password.' },
  });
  assert.equal(await client(ctx.url).collection('users').confirmEmailChange(token, 'new-pass-123'), true);
  const rec = await ctx.admin.collection('users').getOne(pb.authStore.record.id);
  assert.equal(rec.email, 'alice2@example.com');
  assert.equal(rec.verified, true);
  const refresh = await http(ctx.url, 'POST', '/api/collections/users/auth-refresh', { token: pb.authStore.token });
  assert.equal(refresh.status, 401);
});
