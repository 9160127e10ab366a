// Differential auth test: the same sequence of auth calls (password incl. identity fields,
// refresh, impersonate, OTP, MFA, verification, password reset, email change, auth-methods)
// runs against the real PocketBase (the oracle) and the server under test; every step must give
// the same status code and the same response shape. Ids, dates and tokens differ per run, so
// they are normalised (a token becomes its decoded claims with the lifetime in minutes).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, http } from '../lib/client.mjs';
import { pocketbaseBin, pocketbaseMissingReason, pocketbunBin, startServer } from '../lib/server.mjs';
import { startSmtpSink } from '../lib/smtp-sink.mjs';

const POCKETBASE = pocketbaseBin();
const SKIP = POCKETBASE ? false : pocketbaseMissingReason();
if (SKIP) console.log(`skipping auth differential test: ${SKIP}`);

const APP_URL = 'http://app.test';
const PASS = 'alice-pass-123';
const NEW_PASS = 'alice-new-pass-456';
const ALICE = 'alice0000000001';
const BOB = 'bob000000000001';

const JWT_RE = /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ID_RE = /^[a-z0-9]{15}$/;

/** Replaces run-specific values (ids, dates, tokens, PKCE values) by placeholders; sorts keys. */
export function normalise(v, key = '') {
  if (Array.isArray(v)) return v.map((x) => normalise(x));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normalise(v[k], k)]));
  }
  if (typeof v !== 'string') return v;
  if (JWT_RE.test(v)) {
    const claims = JSON.parse(Buffer.from(v.split('.')[1], 'base64url').toString('utf8'));
    const out = normalise({ ...claims, exp: undefined });
    out.exp = `${Math.round((claims.exp - Date.now() / 1000) / 60)}min`;
    return { $jwt: out };
  }
  if (DATE_RE.test(v)) return '<date>';
  if (ID_RE.test(v) || key === 'otpId' || key === 'mfaId') return '<id>';
  if (['state', 'codeVerifier', 'codeChallenge', 'authURL', 'authUrl', 'tokenKey'].includes(key)) return `<${key}>`;
  return v;
}

const post = (path, json, token) => (c) => http(c.url, 'POST', path, { json, token: token?.(c) });
const get = (path, token) => (c) => http(c.url, 'GET', path, { token: token?.(c) });
const adminToken = (c) => c.admin.authStore.token;
const U = '/api/collections/users';

/** Link token of the newest email to `to` with `subject` (waits for it). */
async function mailToken(c, to, subject, path) {
  const msg = await c.sink.waitFor((m) => m.envelopeTo.includes(to) && m.subject === subject && !c.used.has(m));
  c.used.add(msg);
  const m = new RegExp(`/_/#/auth/${path}/([A-Za-z0-9_.-]+)`).exec(msg.html);
  assert.ok(m, msg.html);
  return m[1];
}
async function otpCode(c, to) {
  const msg = await c.sink.waitFor((m) => m.envelopeTo.includes(to) && m.subject === 'OTP for Acme' && !c.used.has(m));
  c.used.add(msg);
  return /<strong>(\d+)<\/strong>/.exec(msg.html)[1];
}

/**
 * The steps: [name, run(ctx) → response]. `ctx.s` carries tokens and ids between steps;
 * a step whose result is only a means (settings changes) returns just its status.
 */
const STEPS = [
  ['auth-methods users (guest)', get(`${U}/auth-methods`)],
  ['auth-methods _superusers', get('/api/collections/_superusers/auth-methods')],
  ['auth-methods unknown collection', get('/api/collections/nope/auth-methods')],
  ['auth-methods base collection', get('/api/collections/notes/auth-methods')],

  ['password: email identity', async (c) => {
    const r = await post(`${U}/auth-with-password`, { identity: 'alice@example.com', password: PASS })(c);
    c.s.alice = r.body?.token;
    return r;
  }],
  ['password: username identity', post(`${U}/auth-with-password`, { identity: 'alice', password: PASS })],
  ['password: identityField=username', post(`${U}/auth-with-password`, { identity: 'alice', password: PASS, identityField: 'username' })],
  ['password: identityField=email with a username', post(`${U}/auth-with-password`, { identity: 'alice', password: PASS, identityField: 'email' })],
  ['password: identityField not allowed', post(`${U}/auth-with-password`, { identity: 'Alice', password: PASS, identityField: 'name' })],
  ['password: wrong password', post(`${U}/auth-with-password`, { identity: 'alice@example.com', password: 'wrong-pass-1' })],
  ['password: unknown identity', post(`${U}/auth-with-password`, { identity: 'ghost@example.com', password: PASS })],
  ['password: empty body', post(`${U}/auth-with-password`, {})],
  ['password: base collection', post('/api/collections/notes/auth-with-password', { identity: 'alice', password: PASS })],
  ['password: with ?fields', (c) => http(c.url, 'POST', `${U}/auth-with-password?fields=token,record.email`, {
    json: { identity: 'alice@example.com', password: PASS },
  })],
  ['password: unverified bob', async (c) => {
    const r = await post(`${U}/auth-with-password`, { identity: 'bob@example.com', password: PASS })(c);
    c.s.bobToken = r.body?.token;
    return r;
  }],
  ['password: superuser', post('/api/collections/_superusers/auth-with-password', { identity: 'admin@example.com', password: 'admin-pass-123' })],
  ['password: superuser wrong password', post('/api/collections/_superusers/auth-with-password', { identity: 'admin@example.com', password: 'nope-nope-1' })],

  ['open users list/view rules', async (c) => ({ status: (await c.admin.collections.update('users', { listRule: '', viewRule: '' })) ? 200 : 500 })],
  ['guest list hides emails without emailVisibility', get(`${U}/records?sort=username`)],
  ['user list shows own email', get(`${U}/records?sort=username`, (c) => c.s.bobToken)],
  ['refresh', post(`${U}/auth-refresh`, undefined, (c) => c.s.alice)],
  ['refresh: no token', post(`${U}/auth-refresh`)],
  ['refresh: garbage token', post(`${U}/auth-refresh`, undefined, () => 'not-a-token')],
  ['refresh: superuser token on users', post(`${U}/auth-refresh`, undefined, adminToken)],
  ['refresh: user token on _superusers', post('/api/collections/_superusers/auth-refresh', undefined, (c) => c.s.alice)],

  ['impersonate: superuser', async (c) => {
    const r = await post(`${U}/impersonate/${ALICE}`, { duration: 600 }, adminToken)(c);
    c.s.impersonated = r.body?.token;
    return r;
  }],
  ['impersonate: default duration', post(`${U}/impersonate/${ALICE}`, {}, adminToken)],
  ['impersonate: negative duration', post(`${U}/impersonate/${ALICE}`, { duration: -1 }, adminToken)],
  ['impersonate: as a user', post(`${U}/impersonate/${BOB}`, {}, (c) => c.s.alice)],
  ['impersonate: guest', post(`${U}/impersonate/${BOB}`, {})],
  ['impersonate: unknown record', post(`${U}/impersonate/missing00000000`, {}, adminToken)],
  ['refresh: impersonate token', post(`${U}/auth-refresh`, undefined, (c) => c.s.impersonated)],
  ['impersonated token reads own record', get(`${U}/records/${ALICE}`, (c) => c.s.impersonated)],

  ['request-otp: unknown email', post(`${U}/request-otp`, { email: 'ghost@example.com' })],
  ['request-otp: invalid email', post(`${U}/request-otp`, { email: 'not-an-email' })],
  ['request-otp: alice', async (c) => {
    const r = await post(`${U}/request-otp`, { email: 'alice@example.com' })(c);
    c.s.otpId = r.body?.otpId;
    c.s.otp = await otpCode(c, 'alice@example.com');
    return r;
  }],
  ['auth-with-otp: wrong code', (c) => post(`${U}/auth-with-otp`, { otpId: c.s.otpId, password: '000000' })(c)],
  ['auth-with-otp: empty body', post(`${U}/auth-with-otp`, {})],
  ['auth-with-otp: ok', (c) => post(`${U}/auth-with-otp`, { otpId: c.s.otpId, password: c.s.otp })(c)],
  ['auth-with-otp: reuse', (c) => post(`${U}/auth-with-otp`, { otpId: c.s.otpId, password: c.s.otp })(c)],
  ['request-otp: base collection', post('/api/collections/notes/request-otp', { email: 'alice@example.com' })],

  ['mfa: enable', async (c) => ({ status: (await c.admin.collections.update('users', { mfa: { enabled: true } })) ? 200 : 500 })],
  ['auth-methods with mfa', get(`${U}/auth-methods`)],
  ['mfa: password gives 401 mfaId', async (c) => {
    const r = await post(`${U}/auth-with-password`, { identity: 'alice@example.com', password: PASS })(c);
    c.s.mfaId = r.body?.mfaId;
    return r;
  }],
  ['mfa: same method again', (c) => post(`${U}/auth-with-password?mfaId=${c.s.mfaId}`, { identity: 'alice@example.com', password: PASS })(c)],
  ['mfa: unknown mfaId', post(`${U}/auth-with-password?mfaId=missing00000000`, { identity: 'alice@example.com', password: PASS })],
  ['mfa: otp completes', async (c) => {
    const { body } = await post(`${U}/request-otp`, { email: 'alice@example.com' })(c);
    const code = await otpCode(c, 'alice@example.com');
    return post(`${U}/auth-with-otp?mfaId=${c.s.mfaId}`, { otpId: body.otpId, password: code })(c);
  }],
  ['mfa: mfaId is consumed', (c) => post(`${U}/auth-with-password?mfaId=${c.s.mfaId}`, { identity: 'alice@example.com', password: PASS })(c)],
  ['mfa: disable', async (c) => ({ status: (await c.admin.collections.update('users', { mfa: { enabled: false } })) ? 200 : 500 })],

  ['request-verification: bob', async (c) => {
    const r = await post(`${U}/request-verification`, { email: 'bob@example.com' })(c);
    c.s.verify = await mailToken(c, 'bob@example.com', 'Verify your Acme email', 'confirm-verification');
    return r;
  }],
  ['request-verification: unknown', post(`${U}/request-verification`, { email: 'ghost@example.com' })],
  ['request-verification: already verified', post(`${U}/request-verification`, { email: 'alice@example.com' })],
  ['request-verification: invalid email', post(`${U}/request-verification`, { email: 'nope' })],
  ['confirm-verification: bad token', post(`${U}/confirm-verification`, { token: 'x.y.z' })],
  ['confirm-verification: empty body', post(`${U}/confirm-verification`, {})],
  ['confirm-verification: ok', (c) => post(`${U}/confirm-verification`, { token: c.s.verify })(c)],
  ['confirm-verification: again', (c) => post(`${U}/confirm-verification`, { token: c.s.verify })(c)],
  ['bob signs in verified', post(`${U}/auth-with-password`, { identity: 'bob@example.com', password: PASS })],

  ['request-password-reset: alice', async (c) => {
    const r = await post(`${U}/request-password-reset`, { email: 'alice@example.com' })(c);
    c.s.reset = await mailToken(c, 'alice@example.com', 'Reset your Acme password', 'confirm-password-reset');
    return r;
  }],
  ['request-password-reset: unknown', post(`${U}/request-password-reset`, { email: 'ghost@example.com' })],
  ['request-password-reset: invalid', post(`${U}/request-password-reset`, {})],
  ['confirm-password-reset: mismatch', (c) => post(`${U}/confirm-password-reset`, { token: c.s.reset, password: NEW_PASS, passwordConfirm: 'x' })(c)],
  ['confirm-password-reset: too short', (c) => post(`${U}/confirm-password-reset`, { token: c.s.reset, password: 'short', passwordConfirm: 'short' })(c)],
  ['confirm-password-reset: verification token', (c) => post(`${U}/confirm-password-reset`, { token: c.s.verify, password: NEW_PASS, passwordConfirm: NEW_PASS })(c)],
  ['confirm-password-reset: ok', (c) => post(`${U}/confirm-password-reset`, { token: c.s.reset, password: NEW_PASS, passwordConfirm: NEW_PASS })(c)],
  ['confirm-password-reset: token used twice', (c) => post(`${U}/confirm-password-reset`, { token: c.s.reset, password: NEW_PASS, passwordConfirm: NEW_PASS })(c)],
  ['old password rejected', post(`${U}/auth-with-password`, { identity: 'alice@example.com', password: PASS })],
  ['old token rejected', post(`${U}/auth-refresh`, undefined, (c) => c.s.alice)],
  ['new password works', async (c) => {
    const r = await post(`${U}/auth-with-password`, { identity: 'alice@example.com', password: NEW_PASS })(c);
    c.s.alice = r.body?.token;
    return r;
  }],

  ['request-email-change: guest', post(`${U}/request-email-change`, { newEmail: 'alice2@example.com' })],
  ['request-email-change: invalid', post(`${U}/request-email-change`, { newEmail: 'bad' }, (c) => c.s.alice)],
  ['request-email-change: taken', post(`${U}/request-email-change`, { newEmail: 'bob@example.com' }, (c) => c.s.alice)],
  ['request-email-change: superuser token', post(`${U}/request-email-change`, { newEmail: 'alice3@example.com' }, adminToken)],
  ['request-email-change: ok', async (c) => {
    const r = await post(`${U}/request-email-change`, { newEmail: 'alice2@example.com' }, (c2) => c2.s.alice)(c);
    c.s.change = await mailToken(c, 'alice2@example.com', 'Confirm your Acme new email address', 'confirm-email-change');
    return r;
  }],
  ['confirm-email-change: wrong password', (c) => post(`${U}/confirm-email-change`, { token: c.s.change, password: PASS })(c)],
  ['confirm-email-change: reset token', (c) => post(`${U}/confirm-email-change`, { token: c.s.reset, password: NEW_PASS })(c)],
  ['confirm-email-change: ok', (c) => post(`${U}/confirm-email-change`, { token: c.s.change, password: NEW_PASS })(c)],
  ['confirm-email-change: again', (c) => post(`${U}/confirm-email-change`, { token: c.s.change, password: NEW_PASS })(c)],
  ['old email rejected', post(`${U}/auth-with-password`, { identity: 'alice@example.com', password: NEW_PASS })],
  ['new email works', post(`${U}/auth-with-password`, { identity: 'alice2@example.com', password: NEW_PASS })],
  ['token after email change', post(`${U}/auth-refresh`, undefined, (c) => c.s.alice)],

  ['password: identity in another case', post(`${U}/auth-with-password`, { identity: 'ALICE2@example.com', password: NEW_PASS })],
  ['password: identity with spaces', post(`${U}/auth-with-password`, { identity: ' alice2@example.com ', password: NEW_PASS })],
  ['password: too long password', post(`${U}/auth-with-password`, { identity: 'alice2@example.com', password: 'x'.repeat(300) })],
  ['password: non-string identity', post(`${U}/auth-with-password`, { identity: 123, password: NEW_PASS })],
  ['auth-methods ?fields', get(`${U}/auth-methods?fields=password,otp.enabled`)],
  ['request-verification: empty body', post(`${U}/request-verification`, {})],
  ['confirm-email-change: empty body', post(`${U}/confirm-email-change`, {})],
  ['request-password-reset: superuser', post('/api/collections/_superusers/request-password-reset', { email: 'admin@example.com' })],
  ['impersonate: a superuser', async (c) => {
    const id = c.admin.authStore.record.id;
    return post(`/api/collections/_superusers/impersonate/${id}`, { duration: 60 }, adminToken)(c);
  }],
  ['carol signs up unverified', post(`${U}/records`, { email: 'carol@example.com', password: PASS, passwordConfirm: PASS, username: 'carol' })],
  ['otp verifies carol', async (c) => {
    const { body } = await post(`${U}/request-otp`, { email: 'carol@example.com' })(c);
    const code = await otpCode(c, 'carol@example.com');
    // the OTP verifies the email only once its sentTo is recorded (after the delivery)
    for (let i = 0; i < 100; i++) {
      const otp = await c.admin.collection('_otps').getOne(body.otpId).catch(() => null);
      if (otp?.sentTo) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await post(`${U}/auth-with-otp`, { otpId: body.otpId, password: code })(c);
    c.s.carol = r.body?.token;
    return r;
  }],
  ['carol: password reset by the verification', post(`${U}/auth-with-password`, { identity: 'carol@example.com', password: PASS })],
  ['refresh with ?fields', (c) => http(c.url, 'POST', `${U}/auth-refresh?fields=record.id,record.verified,token`, { token: c.s.carol })],
  ['request-otp: non-string email', post(`${U}/request-otp`, { email: 42 })],
  ['auth-with-otp: non-string otpId', post(`${U}/auth-with-otp`, { otpId: ['x'], password: '123' })],
  ['confirm-password-reset: non-string token', post(`${U}/confirm-password-reset`, { token: 1, password: NEW_PASS, passwordConfirm: NEW_PASS })],
  ['request-email-change: non-string newEmail', post(`${U}/request-email-change`, { newEmail: true }, (c) => c.s.carol)],
];

async function setup(bin) {
  const server = await startServer({ bin });
  const sink = await startSmtpSink();
  const admin = await adminClient(server.url);
  await admin.settings.update({
    meta: { appName: 'Acme', appURL: APP_URL, senderName: 'Acme', senderAddress: 'support@acme.test' },
    smtp: { enabled: true, host: '127.0.0.1', port: sink.port },
  });
  const users = await admin.collections.getOne('users');
  await admin.collections.update('users', {
    fields: [...users.fields, { name: 'username', type: 'text' }],
    indexes: [...users.indexes, 'CREATE UNIQUE INDEX idx_users_username ON users (username)'],
    passwordAuth: { enabled: true, identityFields: ['email', 'username'] },
    otp: { enabled: true, length: 6 },
  });
  await admin.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'title', type: 'text' }] });
  await admin.collection('users').create({
    id: ALICE, email: 'alice@example.com', username: 'alice', name: 'Alice', password: PASS, passwordConfirm: PASS, verified: true,
  });
  await admin.collection('users').create({
    id: BOB, email: 'bob@example.com', username: 'bob', name: 'Bob', password: PASS, passwordConfirm: PASS, emailVisibility: true,
  });
  return { server, sink, admin, url: server.url, s: {}, used: new Set() };
}

async function runAll(bin) {
  const c = await setup(bin);
  const results = [];
  try {
    for (const [name, run] of STEPS) {
      let r;
      try {
        r = await run(c);
      } catch (err) {
        r = { status: 'threw', body: String(err?.message ?? err) };
      }
      results.push({ name, status: r.status, body: normalise(r.body ?? null) });
    }
  } finally {
    await c.sink.close();
    await c.server.stop();
  }
  return results;
}

describe('auth differential against PocketBase', { skip: SKIP }, () => {
  let oracle;
  let candidate;
  before(async () => {
    oracle = await runAll(POCKETBASE);
    candidate = await runAll(pocketbunBin());
  });
  after(() => {
    if (process.env.AUTH_DIFF_DUMP) {
      console.log(JSON.stringify({ oracle, candidate }, null, 1));
    }
  });

  STEPS.forEach(([name], i) => {
    it(name, () => {
      assert.deepEqual(candidate[i], oracle[i]);
    });
  });
});
