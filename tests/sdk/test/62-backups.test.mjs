// Backups API through the SDK's `pb.backups`: create (named and generated), list, download
// with a superuser file token, upload with its validation, delete, and a real restore that
// brings back the data of the backup after the server restarted itself. Also green against
// PocketBase 0.40.6 (POCKETBUN_BIN=path/to/pocketbase).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, expectSdkError, http, sleep, useServer } from '../lib/client.mjs';

const ctx = useServer({}, async ({ admin }) => {
  await admin.collections.create({ name: 'notes', type: 'base', listRule: '', viewRule: '', createRule: '', fields: [{ name: 'title', type: 'text' }] });
  await admin.collections.create({
    name: 'members', type: 'auth', listRule: '', viewRule: '', createRule: '',
    passwordAuth: { enabled: true, identityFields: ['email'] },
  });
  await admin.collection('members').create({ email: 'm@example.com', password: '1234567890', passwordConfirm: '1234567890' });
});

async function download(token, key) {
  const res = await fetch(ctx.admin.backups.getDownloadURL(token, key));
  return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), bytes: Buffer.from(await res.arrayBuffer()) };
}

async function waitForRestart(since) {
  for (let i = 0; i < 200; i++) {
    await sleep(100);
    try {
      const res = await http(ctx.url, 'GET', '/api/health');
      if (res.status === 200 && Date.now() - since > 1500) return;
    } catch { /* restarting */ }
  }
  throw new Error('the server did not come back after the restore');
}

describe('backups', () => {
  it('creates named and generated backups and lists them', async () => {
    await ctx.admin.backups.create('first.zip');
    await ctx.admin.backups.create('');
    const list = await ctx.admin.backups.getFullList();
    const first = list.find((b) => b.key === 'first.zip');
    assert.ok(first && first.size > 100, JSON.stringify(list));
    assert.match(first.modified, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.ok(list.some((b) => /^pb_backup_acme_\d{14}\.zip$/.test(b.key)), JSON.stringify(list.map((b) => b.key)));
  });

  it('rejects invalid and duplicate names, and non-superusers', async () => {
    await expectSdkError(ctx.admin.backups.create('Bad Name.zip'), 400, 'An error occurred while validating the submitted data.',
      { name: { code: 'validation_match_invalid', message: 'Must be in a valid format.' } });
    await expectSdkError(ctx.admin.backups.create('first.zip'), 400, 'An error occurred while validating the submitted data.',
      { name: { code: 'validation_backup_name_exists', message: 'The backup file name is invalid or already exists.' } });
    const member = client(ctx.url);
    await member.collection('members').authWithPassword('m@example.com', '1234567890');
    await expectSdkError(member.backups.getFullList(), 403, 'The authorized record is not allowed to perform this action.');
    await expectSdkError(client(ctx.url).backups.create('x.zip'), 401, 'The request requires valid record authorization token.');
  });

  it('downloads only with a superuser file token', async () => {
    const token = await ctx.admin.files.getToken();
    const dl = await download(token, 'first.zip');
    assert.equal(dl.status, 200);
    assert.equal(dl.type, 'application/zip');
    assert.match(dl.disposition, /attachment; filename="?first\.zip"?/);
    assert.equal(dl.bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    for (const entry of ['data.db', 'auxiliary.db']) assert.ok(dl.bytes.includes(entry), entry);
    assert.ok(!dl.bytes.includes('backups/first.zip'), 'backups are not backed up');

    const member = client(ctx.url);
    await member.collection('members').authWithPassword('m@example.com', '1234567890');
    assert.equal((await download(await member.files.getToken(), 'first.zip')).status, 403);
    assert.equal((await download(ctx.admin.authStore.token, 'first.zip')).status, 403, 'an auth token is not a file token');
  });

  it('uploads zip files only, under new names; deletes them', async () => {
    const token = await ctx.admin.files.getToken();
    const zip = (await download(token, 'first.zip')).bytes;
    const form = (name, bytes, type) => {
      const fd = new FormData();
      fd.append('file', new Blob([bytes], { type }), name);
      return fd;
    };
    await ctx.admin.backups.upload(form('copy.zip', zip, 'application/zip'));
    assert.ok((await ctx.admin.backups.getFullList()).some((b) => b.key === 'copy.zip' && b.size === zip.length));
    await expectSdkError(ctx.admin.backups.upload(form('copy.zip', zip, 'application/zip')), 400, 'An error occurred while validating the submitted data.',
      { file: { code: 'validation_backup_name_exists', message: 'Backup file with the specified name already exists.' } });
    const notZip = await ctx.admin.backups.upload(form('text.zip', Buffer.from('plain text'), 'application/zip')).catch((e) => e);
    assert.equal(notZip.status, 400);
    assert.equal(notZip.response.data.file.code, 'validation_invalid_mime_type');
    await expectSdkError(ctx.admin.backups.upload(new FormData()), 400, 'An error occurred while validating the submitted data.',
      { file: { code: 'validation_required', message: 'Cannot be blank.' } });

    await ctx.admin.backups.delete('copy.zip');
    assert.ok(!(await ctx.admin.backups.getFullList()).some((b) => b.key === 'copy.zip'));
    const again = await ctx.admin.backups.delete('copy.zip').catch((e) => e);
    assert.equal(again.status, 400);
  });

  it('scheduled backups (backups.cron) are listed as a cron job and rotated by cronMaxKeep', async () => {
    await ctx.admin.settings.update({ backups: { cron: '0 3 * * *', cronMaxKeep: 2 } });
    const jobs = await ctx.admin.crons.getFullList();
    assert.ok(jobs.some((j) => j.id === '__pbAutoBackup__' && j.expression === '0 3 * * *'), JSON.stringify(jobs));
    const autos = async () => (await ctx.admin.backups.getFullList()).filter((b) => b.key.startsWith('@auto_pb_backup_')).map((b) => b.key);
    for (let i = 1; i <= 3; i++) {
      await ctx.admin.crons.run('__pbAutoBackup__');
      // names have a one-second resolution
      for (let t = 0; t < 50 && (await autos()).length < Math.min(i, 2); t++) await sleep(100);
      await sleep(1100);
    }
    const kept = await autos();
    assert.equal(kept.length, 2, JSON.stringify(kept));
    assert.ok(kept.every((k) => /^@auto_pb_backup_acme_\d{14}\.zip$/.test(k)), JSON.stringify(kept));
    await ctx.admin.settings.update({ backups: { cron: '' } });
    assert.ok(!(await ctx.admin.crons.getFullList()).some((j) => j.id === '__pbAutoBackup__'));
  });

  it('restores a backup: the server restarts with the backed-up data', async () => {
    const kept = await ctx.admin.collection('notes').create({ title: 'before the backup' });
    await ctx.admin.backups.create('restore-me.zip');
    const lost = await ctx.admin.collection('notes').create({ title: 'after the backup' });
    await expectSdkError(ctx.admin.backups.restore('missing.zip'), 400, 'Missing or invalid backup file.');

    const started = Date.now();
    await ctx.admin.backups.restore('restore-me.zip');
    await waitForRestart(started);
    const titles = (await client(ctx.url).collection('notes').getFullList()).map((r) => r.id);
    assert.ok(titles.includes(kept.id), 'the record from before the backup is there');
    assert.ok(!titles.includes(lost.id), 'the record created after the backup is gone');
    // the backups themselves survive the restore, and the superuser token is still valid
    assert.ok((await ctx.admin.backups.getFullList()).some((b) => b.key === 'restore-me.zip'));
  });
});

const HOOKS = `
onBackupCreate((e) => {
  if (e.name === "") e.name = "named_by_hook.zip";
  if (e.name === "refused.zip") throw new BadRequestError("No backups with that name.");
  e.next();
  $app.store().set("lastBackup", e.name);
});
routerAdd("GET", "/last-backup", (e) => e.json(200, { name: $app.store().get("lastBackup") }));
`;

describe('onBackupCreate', () => {
  const hooked = useServer({ hooks: { 'backups.pb.js': HOOKS } });

  it('handlers name the backup, see it after e.next() and can refuse it', async () => {
    await hooked.admin.backups.create('');
    assert.deepEqual((await hooked.admin.backups.getFullList()).map((b) => b.key), ['named_by_hook.zip']);
    assert.deepEqual((await http(hooked.url, 'GET', '/last-backup')).body, { name: 'named_by_hook.zip' });
    // the API words a hook's error like any other failure
    await expectSdkError(hooked.admin.backups.create('refused.zip'), 400, 'Failed to create backup.');
    assert.deepEqual((await hooked.admin.backups.getFullList()).map((b) => b.key), ['named_by_hook.zip']);
  });
});
