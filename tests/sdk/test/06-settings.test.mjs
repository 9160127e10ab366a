// Settings API: defaults, secret masking, deep-merge PATCH, validation errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, expectHttpError, expectSdkError, http, useServer } from '../lib/client.mjs';

const ctx = useServer();

const S3_DEFAULT = { enabled: false, bucket: '', region: '', endpoint: '', accessKey: '', forcePathStyle: false };
const DEFAULT_SETTINGS = {
  superuserIPs: [],
  smtp: { enabled: false, port: 587, host: 'smtp.example.com', username: '', authMethod: '', tls: false, localName: '' },
  backups: { cron: '', cronMaxKeep: 3, s3: S3_DEFAULT },
  s3: S3_DEFAULT,
  meta: {
    accentColor: '#1055c9', appName: 'Acme', appURL: 'http://localhost:8090', senderName: 'Support',
    senderAddress: 'support@example.com', hideControls: false,
  },
  rateLimits: {
    rules: [
      { label: '*:auth', audience: '', duration: 3, maxRequests: 2 },
      { label: '*:create', audience: '', duration: 5, maxRequests: 20 },
      { label: '/api/batch', audience: '', duration: 1, maxRequests: 3 },
      { label: '/api/', audience: '', duration: 10, maxRequests: 300 },
    ],
    excludedIPs: [],
    enabled: false,
  },
  trustedProxy: { headers: [], useLeftmostIP: false },
  batch: { enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 },
  logs: { maxDataSize: 0, maxDays: 5, minLevel: 0, logIP: true, logAuthId: false },
};

const SAVE_FAILED = 'An error occurred while saving the new settings.';

/** Reads a JSON path of the stored settings straight from the database (SQL console). */
async function storedSetting(path) {
  const res = await ctx.admin.send('/api/sql', {
    method: 'POST',
    body: { query: `SELECT json_extract(value, '$.${path}') AS v FROM _params WHERE id = 'settings'` },
  });
  return res.rows[0][0];
}

describe('settings', () => {
  it('GET returns the full default settings without secrets', async () => {
    const settings = await ctx.admin.settings.getAll();
    assert.deepEqual(settings, DEFAULT_SETTINGS);
  });

  it('guests get 401, regular users 403', async () => {
    await expectSdkError(ctx.guest.settings.getAll(), 401, 'The request requires valid record authorization token.');
    await expectSdkError(ctx.guest.settings.update({ meta: { appName: 'x' } }), 401, 'The request requires valid record authorization token.');
    await ctx.admin.collection('users').create({ email: 'u@example.com', password: 'user-pass-1', passwordConfirm: 'user-pass-1' });
    const user = client(ctx.url);
    await user.collection('users').authWithPassword('u@example.com', 'user-pass-1');
    await expectSdkError(user.settings.getAll(), 403, 'The authorized record is not allowed to perform this action.');
  });

  it('PATCH deep-merges objects and returns the new settings', async () => {
    const updated = await ctx.admin.settings.update({ meta: { appName: 'PocketTest' }, smtp: { host: 'mail.example.com' } });
    const expected = structuredClone(DEFAULT_SETTINGS);
    expected.meta.appName = 'PocketTest';
    expected.smtp.host = 'mail.example.com';
    assert.deepEqual(updated, expected);
    assert.deepEqual(await ctx.admin.settings.getAll(), expected);
  });

  it('arrays are replaced, not merged', async () => {
    const updated = await ctx.admin.settings.update({
      rateLimits: { rules: [{ label: '/api/', audience: '@guest', duration: 60, maxRequests: 1000 }] },
      trustedProxy: { headers: ['X-Forwarded-For'] },
    });
    assert.deepEqual(updated.rateLimits, {
      rules: [{ label: '/api/', audience: '@guest', duration: 60, maxRequests: 1000 }], excludedIPs: [], enabled: false,
    });
    assert.deepEqual(updated.trustedProxy, { headers: ['X-Forwarded-For'], useLeftmostIP: false });
    assert.equal(updated.meta.appName, 'PocketTest', 'earlier changes are kept');
  });

  it('secrets are stored but never returned', async () => {
    const updated = await ctx.admin.settings.update({
      smtp: { password: 'smtp-secret' }, s3: { secret: 's3-secret', bucket: 'bucket-1' }, backups: { s3: { secret: 'b-secret' } },
    });
    const text = JSON.stringify(updated);
    for (const secret of ['smtp-secret', 's3-secret', 'b-secret']) assert.ok(!text.includes(secret), `${secret} not returned`);
    assert.ok(!('password' in updated.smtp));
    assert.ok(!('secret' in updated.s3));
    assert.ok(!('secret' in updated.backups.s3));
    assert.equal(updated.s3.bucket, 'bucket-1');
    assert.deepEqual(await ctx.admin.settings.getAll(), updated);
    assert.equal(await storedSetting('smtp.password'), 'smtp-secret');
    assert.equal(await storedSetting('s3.secret'), 's3-secret');
    // a later PATCH that does not mention a secret keeps it
    await ctx.admin.settings.update({ smtp: { host: 'other.example.com' } });
    assert.equal(await storedSetting('smtp.password'), 'smtp-secret');
  });

  it('unknown keys are ignored', async () => {
    const before = await ctx.admin.settings.getAll();
    const updated = await ctx.admin.settings.update({ unknownKey: 1, meta: { nope: true } });
    assert.deepEqual(updated, before);
  });

  it('validation errors are nested per section and nothing is saved', async () => {
    const before = await ctx.admin.settings.getAll();
    await expectSdkError(ctx.admin.settings.update({
      meta: { appName: '', appURL: 'notaurl', senderAddress: 'bad' },
      smtp: { enabled: true, host: '', port: 0 },
      rateLimits: { rules: [{ label: 'bad label!', maxRequests: 0, duration: 0, audience: 'x' }] },
    }), 400, SAVE_FAILED, {
      meta: {
        appName: { code: 'validation_required', message: 'Cannot be blank.' },
        appURL: { code: 'validation_is_url', message: 'Must be a valid URL.' },
        senderAddress: { code: 'validation_is_email', message: 'Must be a valid email address.' },
      },
      smtp: {
        host: { code: 'validation_required', message: 'Cannot be blank.' },
        port: { code: 'validation_required', message: 'Cannot be blank.' },
      },
      rateLimits: {
        rules: {
          0: {
            audience: { code: 'validation_in_invalid', message: 'Must be a valid value.' },
            duration: { code: 'validation_required', message: 'Cannot be blank.' },
            label: { code: 'validation_match_invalid', message: 'Must be in a valid format.' },
            maxRequests: { code: 'validation_required', message: 'Cannot be blank.' },
          },
        },
      },
    });
    assert.deepEqual(await ctx.admin.settings.getAll(), before);
  });

  it('malformed JSON and wrongly typed sections → 400 load error', async () => {
    const before = await ctx.admin.settings.getAll();
    const token = ctx.admin.authStore.token;
    expectHttpError(await http(ctx.url, 'PATCH', '/api/settings', { token, body: '{"meta":', headers: { 'Content-Type': 'application/json' } }),
      400, 'An error occurred while loading the submitted data.');
    expectHttpError(await http(ctx.url, 'PATCH', '/api/settings', { token, json: { meta: 'string' } }),
      400, 'An error occurred while loading the submitted data.');
    assert.deepEqual(await ctx.admin.settings.getAll(), before);
  });

  it('fields= applies to settings too', async () => {
    const picked = await ctx.admin.settings.getAll({ fields: 'meta.appName,batch' });
    assert.deepEqual(picked, { meta: { appName: 'PocketTest' }, batch: DEFAULT_SETTINGS.batch });
  });
});
