// Auth request hooks per method (onRecordAuthWithPasswordRequest ... onRecordConfirmEmailChangeRequest),
// mailer hooks (onMailerSend, onMailerRecord*Send) and file hooks (onFileDownloadRequest,
// onFileTokenRequest): event fields, changes before e.next(), throwing, answering and tag
// filtering, asserted over HTTP and through an SMTP sink. The same pb_hooks run on
// PocketBun and, when available, on the real PocketBase.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, client, expectHttpError, expectSdkError, http } from '../lib/client.mjs';
import { pocketbaseBin, pocketbunBin, startServer } from '../lib/server.mjs';
import { expectedUser, startOAuth2Mock } from '../lib/oauth2-mock.mjs';
import { startSmtpSink } from '../lib/smtp-sink.mjs';

const APP_URL = 'http://app.test';

// (PocketBase runs each handler in its own VM: handlers only use globals)
const HOOKS = `
onRecordAuthWithPasswordRequest((e) => {
  if (e.identity === "blocked@example.com") throw new BadRequestError("Blocked by hook.");
  $app.store().set("pw", JSON.stringify({
    identity: e.identity, identityField: e.identityField, password: e.password,
    record: e.record ? e.record.getString("email") : null, collection: e.collection.name,
  }));
  if (e.password === "open-sesame") e.password = "alice-pass-1";
  $app.store().set("order", "pw:before");
  e.next();
  $app.store().set("order", $app.store().get("order") + "|pw:after");
}, "users");

onRecordAuthRequest((e) => {
  $app.store().set("order", ($app.store().get("order") || "") + "|auth:" + e.authMethod);
  e.next();
}, "users");

onRecordAuthRefreshRequest((e) => {
  $app.store().set("refresh", e.record.getString("email"));
  if (e.requestInfo().headers["x_answer"] === "1") return e.json(200, { answered: e.record.id });
  e.next();
}, "users");

onRecordAuthWithOAuth2Request((e) => {
  $app.store().set("oauth2", [e.providerName, e.oAuth2User.email, e.isNewRecord, e.record ? "record" : "none", e.createData.note].join(":"));
  e.createData = { note: "from hook" };
  e.next();
}, "oa");

onRecordRequestOTPRequest((e) => {
  $app.store().set("otpReq", e.record ? e.record.getString("email") : "none");
  e.password = "424242";
  e.next();
}, "users");

onRecordAuthWithOTPRequest((e) => {
  $app.store().set("otpAuth", e.record.getString("email") + ":" + (e.otp.id ? "otp" : "-"));
  e.next();
}, "users");

onRecordRequestPasswordResetRequest((e) => {
  $app.store().set("resetReq", e.record.getString("email"));
  e.next();
}, "users");

onRecordConfirmPasswordResetRequest((e) => {
  e.record.set("name", "reset by hook");
  e.next();
}, "users");

onRecordRequestVerificationRequest((e) => {
  if (e.record.getString("email") === "noverify@example.com") throw new BadRequestError("No verification for you.");
  e.next();
}, "users");

onRecordConfirmVerificationRequest((e) => {
  $app.store().set("verified", e.record.getString("email") + ":" + e.record.getBool("verified"));
  e.next();
}, "users");

onRecordRequestEmailChangeRequest((e) => {
  e.newEmail = e.newEmail.replace("typo", "fixed");
  e.next();
}, "users");

onRecordConfirmEmailChangeRequest((e) => {
  $app.store().set("emailChange", e.record.getString("email") + "->" + e.newEmail);
  e.next();
}, "users");

onMailerRecordPasswordResetSend((e) => {
  e.message.subject = "Reset for " + e.record.getString("name") + " (" + (e.meta.token ? "token" : "-") + ")";
  e.next();
}, "users");

onMailerRecordVerificationSend((e) => {
  e.message.subject = "Verify " + e.record.getString("email");
  e.next();
}, "users");

onMailerRecordOTPSend((e) => {
  e.message.subject = "Code " + e.meta.password;
  e.next();
}, "users");

onMailerRecordEmailChangeSend((e) => {
  e.message.subject = "Change to " + e.meta.newEmail;
  e.next();
}, "users");

onMailerRecordAuthAlertSend((e) => {
  e.message.subject = "Alert: " + e.meta.info;
  e.next();
}, "users");

onMailerSend((e) => {
  if (e.message.subject.indexOf("[drop]") >= 0) return;
  e.message.subject = e.message.subject + " [sent]";
  e.next();
});

routerAdd("POST", "/t/mail", (e) => {
  const b = e.requestInfo().body;
  $app.newMailClient().send(new MailerMessage({
    from: { address: "support@acme.test", name: "Acme" },
    to: [{ address: b.to }], cc: [{ address: b.cc }], bcc: [{ address: b.bcc }],
    subject: b.subject, html: "<p>custom</p>",
  }));
  return e.json(200, { sent: true });
});

routerAdd("POST", "/t/mails/{collection}/{email}", (e) => {
  const rec = $app.findAuthRecordByEmail(e.request.pathValue("collection"), e.request.pathValue("email"));
  $mails.sendRecordVerification($app, rec);
  $mails.sendRecordPasswordReset($app, rec);
  $mails.sendRecordChangeEmail($app, rec, "next@example.com");
  $mails.sendRecordOTP($app, rec, "otpid123456789", "987654");
  $mails.sendRecordAuthAlert($app, rec, "127.0.0.1 test-agent");
  return e.json(200, { ok: true });
});

routerAdd("POST", "/t/fs", (e) => {
  const b = e.requestInfo().body;
  const rec = new Record($app.findCollectionByNameOrId("docs"));
  const file = b.url
    ? $filesystem.fileFromURL(b.url)
    : $filesystem.fileFromBytes(Array.from("made in a hook").map((ch) => ch.charCodeAt(0)), "hook.txt");
  rec.set("doc", file);
  $app.save(rec);
  return e.json(200, { id: rec.id, doc: rec.getString("doc") });
});

routerAdd("GET", "/t/store/{key}", (e) => e.json(200, { value: $app.store().get(e.request.pathValue("key")) }));

onFileTokenRequest((e) => {
  $app.store().set("fileToken", e.record.getString("email"));
  e.next();
}, "users");

onFileDownloadRequest((e) => {
  if (e.servedName.indexOf("secret") === 0) throw new ForbiddenError("Hidden file.");
  $app.store().set("download", e.fileField.name + ":" + e.record.id + ":" + (e.servedPath.indexOf(e.record.id + "/") >= 0));
  e.servedName = "renamed-" + e.servedName;
  e.next();
}, "docs");
`;

function hooksSuite(label, bin) {
  describe(`auth, mail and file hooks (${label})`, () => {
    const ctx = {};
    const stored = async (key) => (await http(ctx.url, 'GET', `/t/store/${key}`)).body.value;
    const mail = (pred) => ctx.sink.waitFor(pred);
    const link = (msg, path) => {
      const m = new RegExp(`${APP_URL.replace(/\./g, '\\.')}/_/#/auth/${path}/([A-Za-z0-9_.-]+)`).exec(msg.html);
      assert.ok(m, `link ${path} in ${msg.html}`);
      return m[1];
    };

    before(async () => {
      ctx.sink = await startSmtpSink();
      ctx.oauth2 = await startOAuth2Mock();
      ctx.server = await startServer({ bin, hooks: { 'main.pb.js': HOOKS } });
      ctx.url = ctx.server.url;
      const admin = await adminClient(ctx.url);
      ctx.admin = admin;
      await admin.settings.update({
        meta: { appName: 'Acme', appURL: APP_URL, senderName: 'Acme', senderAddress: 'support@acme.test' },
        smtp: { enabled: true, host: '127.0.0.1', port: ctx.sink.port, tls: false },
      });
      await admin.collections.update('users', { otp: { enabled: true, length: 6 } });
      await admin.collections.create({
        name: 'oa', type: 'auth', createRule: '', fields: [{ name: 'note', type: 'text' }],
        passwordAuth: { enabled: true }, oauth2: { enabled: true, providers: [ctx.oauth2.providerConfig('github')] },
      });
      await admin.collections.create({
        name: 'members', type: 'auth', authRule: '', passwordAuth: { enabled: true, identityFields: ['email'] },
        fields: [{ name: 'password', type: 'password', required: true, min: 8 }],
      });
      const open = { listRule: '', viewRule: '' };
      const fileField = { name: 'doc', type: 'file', maxSelect: 1, maxSize: 1000 };
      await admin.collections.create({ name: 'docs', type: 'base', ...open, fields: [fileField] });
      await admin.collections.create({ name: 'pics', type: 'base', ...open, fields: [fileField] });
      const user = (email) => ({ email, password: 'alice-pass-1', passwordConfirm: 'alice-pass-1', name: 'Alice' });
      ctx.alice = await admin.collection('users').create(user('alice@example.com'));
      await admin.collection('users').create(user('noverify@example.com'));
      await admin.collection('members').create(user('member@example.com'));
    });
    after(async () => {
      await ctx.server?.stop();
      await ctx.sink?.close();
      await ctx.oauth2?.close();
    });

    it('onRecordAuthWithPasswordRequest: event fields, e.password changed before e.next(), order, throw, tags', async () => {
      const auth = await client(ctx.url).collection('users').authWithPassword('alice@example.com', 'open-sesame');
      assert.equal(auth.record.id, ctx.alice.id);
      assert.deepEqual(JSON.parse(await stored('pw')), {
        identity: 'alice@example.com', identityField: '', password: 'open-sesame', record: 'alice@example.com', collection: 'users',
      });
      assert.equal(await stored('order'), 'pw:before|auth:password|pw:after');
      await expectSdkError(client(ctx.url).collection('users').authWithPassword('blocked@example.com', 'x'), 400, 'Blocked by hook.');
      // not for the members collection
      await expectSdkError(client(ctx.url).collection('members').authWithPassword('member@example.com', 'open-sesame'), 400, 'Failed to authenticate.');
      assert.equal((await client(ctx.url).collection('members').authWithPassword('member@example.com', 'alice-pass-1')).record.email, 'member@example.com');
    });

    it('onRecordAuthWithOAuth2Request: provider, OAuth2 user, isNewRecord; e.createData changed before e.next()', async () => {
      const person = { id: '7001', name: 'Octo', username: 'octo', email: 'octo@example.com', verified: true, avatar: 'https://a.test/o.png' };
      const code = ctx.oauth2.code('github', person);
      const auth = await client(ctx.url).collection('oa').authWithOAuth2Code('github', code, 'v'.repeat(43), 'https://app.test/cb', { note: 'from client' });
      assert.equal(auth.meta.isNew, true);
      assert.equal(auth.record.note, 'from hook');
      assert.equal(await stored('oauth2'), `github:${expectedUser('github', person).email}:true:none:from client`);
      // stored as the hook left it
      assert.equal((await ctx.admin.collection('oa').getOne(auth.record.id)).note, 'from hook');
    });

    it('onRecordAuthRefreshRequest: e.record, answering without e.next()', async () => {
      const pb = client(ctx.url);
      await pb.collection('users').authWithPassword('alice@example.com', 'alice-pass-1');
      const refreshed = await pb.collection('users').authRefresh();
      assert.equal(refreshed.record.id, ctx.alice.id);
      assert.equal(await stored('refresh'), 'alice@example.com');
      const own = await http(ctx.url, 'POST', '/api/collections/users/auth-refresh', { token: pb.authStore.token, headers: { 'X-Answer': '1' } });
      assert.equal(own.status, 200);
      assert.deepEqual(own.body, { answered: ctx.alice.id });
    });

    it('verification: a throwing request hook aborts with its error; the confirm hook sees the record before the change', async () => {
      const users = client(ctx.url).collection('users');
      await expectSdkError(users.requestVerification('noverify@example.com'), 400, 'No verification for you.');
      assert.equal(await users.requestVerification('alice@example.com'), true);
      const msg = await mail((m) => m.subject === 'Verify alice@example.com [sent]');
      assert.equal(await users.confirmVerification(link(msg, 'confirm-verification')), true);
      assert.equal(await stored('verified'), 'alice@example.com:false');
      assert.equal((await ctx.admin.collection('users').getOne(ctx.alice.id)).verified, true);
    });

    it('onRecordRequestOTPRequest changes e.password; onRecordAuthWithOTPRequest sees e.otp; onMailerRecordOTPSend', async () => {
      const users = client(ctx.url).collection('users');
      await users.requestOTP('ghost@example.com');
      assert.equal(await stored('otpReq'), 'none');
      const { otpId } = await users.requestOTP('alice@example.com');
      assert.equal(await stored('otpReq'), 'alice@example.com');
      const msg = await mail((m) => m.subject === 'Code 424242 [sent]');
      assert.deepEqual(msg.envelopeTo, ['alice@example.com']);
      assert.match(msg.html, /424242/);
      const auth = await users.authWithOTP(otpId, '424242');
      assert.equal(auth.record.id, ctx.alice.id);
      assert.equal(await stored('otpAuth'), 'alice@example.com:otp');
    });

    it('password reset: request hook, mailer record hook changes the subject, confirm hook changes the record', async () => {
      const users = client(ctx.url).collection('users');
      assert.equal(await users.requestPasswordReset('alice@example.com'), true);
      const msg = await mail((m) => m.subject === 'Reset for Alice (token) [sent]');
      assert.equal(await stored('resetReq'), 'alice@example.com');
      const token = link(msg, 'confirm-password-reset');
      assert.equal(await users.confirmPasswordReset(token, 'new-pass-123', 'new-pass-123'), true);
      const rec = await ctx.admin.collection('users').getOne(ctx.alice.id);
      assert.equal(rec.name, 'reset by hook');
      assert.equal((await users.authWithPassword('alice@example.com', 'new-pass-123')).record.id, ctx.alice.id);
    });

    it('onMailerSend: custom mails with cc/bcc, changed subject, not calling e.next() cancels the mail', async () => {
      const send = (subject) => http(ctx.url, 'POST', '/t/mail', {
        json: { to: 'bob@example.com', cc: 'carol@example.com', bcc: 'dave@example.com', subject },
      });
      assert.deepEqual((await send('Hello [drop]')).body, { sent: true });
      assert.deepEqual((await send('Hello')).body, { sent: true });
      const msg = await mail((m) => m.subject === 'Hello [sent]');
      assert.deepEqual([...msg.envelopeTo].sort(), ['bob@example.com', 'carol@example.com', 'dave@example.com']);
      assert.match(msg.headers.cc, /carol@example\.com/);
      assert.equal(msg.headers.bcc, undefined);
      assert.match(msg.html, /custom/);
      assert.equal(ctx.sink.messages.filter((m) => m.subject.includes('[drop]')).length, 0);
    });

    it('email change: the request hook changes e.newEmail (the mail goes there), the confirm hook sees it', async () => {
      const pb = client(ctx.url);
      await pb.collection('users').authWithPassword('alice@example.com', 'new-pass-123');
      assert.equal(await pb.collection('users').requestEmailChange('alice.typo@example.com'), true);
      const msg = await mail((m) => m.subject === 'Change to alice.fixed@example.com [sent]');
      assert.deepEqual(msg.envelopeTo, ['alice.fixed@example.com']);
      assert.equal(await pb.collection('users').confirmEmailChange(link(msg, 'confirm-email-change'), 'new-pass-123'), true);
      assert.equal(await stored('emailChange'), 'alice@example.com->alice.fixed@example.com');
      assert.equal((await ctx.admin.collection('users').getOne(ctx.alice.id)).email, 'alice.fixed@example.com');
    });

    it('$mails helpers send the record emails through the mailer hooks', async () => {
      const res = await http(ctx.url, 'POST', '/t/mails/users/noverify@example.com');
      assert.equal(res.status, 200, res.text);
      const to = (addr, subject) => mail((m) => m.envelopeTo.includes(addr) && m.subject === subject);
      const verify = await to('noverify@example.com', 'Verify noverify@example.com [sent]');
      assert.ok(link(verify, 'confirm-verification'));
      const reset = await to('noverify@example.com', 'Reset for Alice (token) [sent]');
      assert.ok(link(reset, 'confirm-password-reset'));
      const change = await to('next@example.com', 'Change to next@example.com [sent]');
      assert.ok(link(change, 'confirm-email-change'));
      const otp = await to('noverify@example.com', 'Code 987654 [sent]');
      assert.match(otp.html, /987654/);
      const alert = await to('noverify@example.com', 'Alert: 127.0.0.1 test-agent [sent]');
      assert.match(alert.html, /127\.0\.0\.1 test-agent/);
      // the record mailer hooks are tagged "users": members' mails keep their subjects
      assert.equal((await http(ctx.url, 'POST', '/t/mails/members/member@example.com')).status, 200);
      await to('member@example.com', 'Verify your Acme email [sent]');
      await to('member@example.com', 'OTP for Acme [sent]');
    });

    it('onFileDownloadRequest changes servedName or throws; onFileTokenRequest; tags', async () => {
      const upload = async (coll, name) => {
        const form = new FormData();
        form.append('doc', new Blob(['file body'], { type: 'text/plain' }), name);
        return ctx.admin.collection(coll).create(form);
      };
      const doc = await upload('docs', 'report.txt');
      const res = await http(ctx.url, 'GET', `/api/files/docs/${doc.id}/${doc.doc}`);
      assert.equal(res.status, 200);
      assert.equal(res.text, 'file body');
      assert.match(res.headers.get('content-disposition'), new RegExp(`filename="?renamed-${doc.doc}`));
      assert.equal(await stored('download'), `doc:${doc.id}:true`);
      const secret = await upload('docs', 'secret.txt');
      expectHttpError(await http(ctx.url, 'GET', `/api/files/docs/${secret.id}/${secret.doc}`), 403, 'Hidden file.');
      const pic = await upload('pics', 'secret.txt');
      const picRes = await http(ctx.url, 'GET', `/api/files/pics/${pic.id}/${pic.doc}`);
      assert.equal(picRes.status, 200);
      assert.match(picRes.headers.get('content-disposition'), new RegExp(`filename="?${pic.doc}`));

      // $filesystem: a file from bytes, and one copied from a URL, stored by $app.save
      const made = await http(ctx.url, 'POST', '/t/fs', { json: {} });
      assert.equal(made.status, 200, made.text);
      assert.match(made.body.doc, /^hook_[a-z0-9]{10}\.txt$/);
      assert.equal((await http(ctx.url, 'GET', `/api/files/docs/${made.body.id}/${made.body.doc}`)).text, 'made in a hook');
      const copied = await http(ctx.url, 'POST', '/t/fs', { json: { url: `${ctx.url}/api/files/pics/${pic.id}/${pic.doc}` } });
      assert.equal(copied.status, 200, copied.text);
      assert.match(copied.body.doc, new RegExp(`^${pic.doc.replace(".txt", "")}_[a-z0-9]{10}\\.txt$`));
      assert.equal((await http(ctx.url, 'GET', `/api/files/pics/${pic.id}/${pic.doc}`)).text, 'file body');
      expectHttpError(await http(ctx.url, 'GET', `/api/files/docs/${copied.body.id}/${copied.body.doc}`), 403, 'Hidden file.');

      const pb = client(ctx.url);
      await pb.collection('users').authWithPassword('alice.fixed@example.com', 'new-pass-123');
      assert.ok(await pb.files.getToken());
      assert.equal(await stored('fileToken'), 'alice.fixed@example.com');
    });
  });
}

hooksSuite('PocketBun', pocketbunBin());
const reference = pocketbaseBin();
if (reference) hooksSuite('PocketBase', reference);
