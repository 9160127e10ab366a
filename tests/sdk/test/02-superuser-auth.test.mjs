// Superuser authentication through the SDK: password login, refresh, token claims, failures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  client, DATE_RE, decodeJwt, expectHttpError, expectSdkError, http, RECORD_ID_RE, sleep, useServer,
} from '../lib/client.mjs';
import { SUPERUSERS_ID } from '../lib/schema.mjs';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../lib/server.mjs';

const ctx = useServer();

const SUPERUSER_TOKEN_SECONDS = 86400;

function assertSuperuserRecord(record) {
  assert.deepEqual(Object.keys(record).sort(), [
    'collectionId', 'collectionName', 'created', 'email', 'emailVisibility', 'id', 'updated', 'verified',
  ]);
  assert.equal(record.collectionId, SUPERUSERS_ID);
  assert.equal(record.collectionName, '_superusers');
  assert.equal(record.email, ADMIN_EMAIL);
  assert.equal(record.emailVisibility, false);
  assert.equal(record.verified, true);
  assert.match(record.id, RECORD_ID_RE);
  assert.match(record.created, DATE_RE);
  assert.match(record.updated, DATE_RE);
}

function assertSuperuserToken(token, recordId, { refreshable = true } = {}) {
  const { header, payload } = decodeJwt(token);
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(Object.keys(payload).sort(), ['collectionId', 'exp', 'id', 'refreshable', 'type']);
  assert.equal(payload.type, 'auth');
  assert.equal(payload.id, recordId);
  assert.equal(payload.collectionId, SUPERUSERS_ID);
  assert.equal(payload.refreshable, refreshable);
  const expectedExp = Math.floor(Date.now() / 1000) + SUPERUSER_TOKEN_SECONDS;
  assert.ok(Number.isInteger(payload.exp), 'exp is an integer (unix seconds)');
  assert.ok(Math.abs(payload.exp - expectedExp) <= 5, `exp ${payload.exp} ≈ now + 86400 (${expectedExp})`);
  return payload;
}

describe('superuser password auth', () => {
  it('authWithPassword returns {token, record} and fills the auth store', async () => {
    const pb = client(ctx.url);
    const res = await pb.collection('_superusers').authWithPassword(ADMIN_EMAIL, ADMIN_PASSWORD);
    assert.deepEqual(Object.keys(res).sort(), ['record', 'token']);
    assertSuperuserRecord(res.record);
    assertSuperuserToken(res.token, res.record.id);
    assert.equal(pb.authStore.token, res.token);
    assert.deepEqual(pb.authStore.record, res.record);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, true);
  });

  it('the collection can be addressed by id too', async () => {
    const pb = client(ctx.url);
    const res = await pb.collection(SUPERUSERS_ID).authWithPassword(ADMIN_EMAIL, ADMIN_PASSWORD);
    assert.equal(res.record.email, ADMIN_EMAIL);
    assert.equal(pb.authStore.isSuperuser, true);
  });

  it('a superuser token is accepted with or without the Bearer prefix', async () => {
    const token = ctx.admin.authStore.token;
    for (const auth of [token, `Bearer ${token}`, `bearer ${token}`]) {
      const res = await http(ctx.url, 'GET', '/api/collections?perPage=1', { headers: { Authorization: auth } });
      assert.equal(res.status, 200, `Authorization: ${auth.slice(0, 10)}…`);
      assert.equal(res.body.perPage, 1);
    }
  });

  it('wrong password → 400 "Failed to authenticate."', async () => {
    const pb = client(ctx.url);
    await expectSdkError(pb.collection('_superusers').authWithPassword(ADMIN_EMAIL, 'not-the-password'),
      400, 'Failed to authenticate.');
    assert.equal(pb.authStore.isValid, false);
    assert.equal(pb.authStore.token, '');
  });

  it('unknown identity → the same 400', async () => {
    await expectSdkError(client(ctx.url).collection('_superusers').authWithPassword('nobody@example.com', ADMIN_PASSWORD),
      400, 'Failed to authenticate.');
  });

  it('missing identity/password → 400 with validation_required for both', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections/_superusers/auth-with-password', { json: {} });
    expectHttpError(res, 400, 'An error occurred while validating the submitted data.', {
      identity: { code: 'validation_required', message: 'Cannot be blank.' },
      password: { code: 'validation_required', message: 'Cannot be blank.' },
    });
  });

  it('the superuser email is matched case-sensitively', async () => {
    await expectSdkError(client(ctx.url).collection('_superusers').authWithPassword(ADMIN_EMAIL.toUpperCase(), ADMIN_PASSWORD),
      400, 'Failed to authenticate.');
  });
});

describe('superuser auth refresh', () => {
  it('authRefresh issues a new token for the same record', async () => {
    const pb = client(ctx.url);
    const first = await pb.collection('_superusers').authWithPassword(ADMIN_EMAIL, ADMIN_PASSWORD);
    await sleep(1100); // exp has one-second resolution: make sure the new token differs
    const refreshed = await pb.collection('_superusers').authRefresh();
    assert.deepEqual(Object.keys(refreshed).sort(), ['record', 'token']);
    assert.notEqual(refreshed.token, first.token);
    assertSuperuserRecord(refreshed.record);
    assert.equal(refreshed.record.id, first.record.id);
    const payload = assertSuperuserToken(refreshed.token, first.record.id);
    assert.ok(payload.exp > decodeJwt(first.token).payload.exp);
    assert.equal(pb.authStore.token, refreshed.token);
    assert.equal(pb.authStore.isSuperuser, true);
  });

  it('without a token → 401', async () => {
    await expectSdkError(client(ctx.url).collection('_superusers').authRefresh(),
      401, 'The request requires valid record authorization token.');
  });

  it('an invalid token is ignored (treated as guest) → 401', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections/_superusers/auth-refresh', { token: 'garbage.token.value' });
    expectHttpError(res, 401, 'The request requires valid record authorization token.');
  });

  it('a token with a tampered signature is rejected', async () => {
    const [h, p] = ctx.admin.authStore.token.split('.');
    const res = await http(ctx.url, 'POST', '/api/collections/_superusers/auth-refresh', {
      token: `${h}.${p}.${Buffer.from('x'.repeat(32)).toString('base64url')}`,
    });
    expectHttpError(res, 401, 'The request requires valid record authorization token.');
  });

  it('a superuser token on another auth collection → 403 naming the token\'s collection', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections/users/auth-refresh', { token: ctx.admin.authStore.token });
    expectHttpError(res, 403, 'The request requires auth record from _superusers collection.');
  });
});

describe('superuser-only endpoints', () => {
  it('guests get 401 on collections and settings', async () => {
    await expectSdkError(ctx.guest.collections.getList(1, 1), 401, 'The request requires valid record authorization token.');
    await expectSdkError(ctx.guest.settings.getAll(), 401, 'The request requires valid record authorization token.');
  });

  it('a regular user gets 403', async () => {
    await ctx.admin.collection('users').create({ email: 'plain@example.com', password: 'plain-pass-1', passwordConfirm: 'plain-pass-1' });
    const pb = client(ctx.url);
    const auth = await pb.collection('users').authWithPassword('plain@example.com', 'plain-pass-1');
    assert.equal(pb.authStore.isSuperuser, false);
    const { payload } = decodeJwt(auth.token);
    assert.equal(payload.collectionId, '_pb_users_auth_');
    assert.equal(payload.type, 'auth');
    await expectSdkError(pb.collections.getList(1, 1), 403, 'The authorized record is not allowed to perform this action.');
    const res = await http(ctx.url, 'POST', '/api/collections/_superusers/auth-refresh', { token: auth.token });
    expectHttpError(res, 403, 'The request requires auth record from users collection.');
  });
});
