// JS migrations (pb_migrations/*.js) as PocketBase 0.40 runs and writes them: pending files
// run on `serve` in one transaction and are recorded in `_migrations`; a failing one stops
// start-up and rolls everything back; `migrate down` reverts; automigrate writes the JS
// file of every collection change made through the API, and the real PocketBase accepts
// those files (and writes the same ones).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adminClient } from '../lib/client.mjs';
import { makeTempDir, pocketbaseBin, pocketbunBin, startServer } from '../lib/server.mjs';

const CREATE_NOTES = `/// <reference path="../pb_data/types.d.ts" />
migrate((app) => {
  const collection = new Collection({
    type: "base",
    name: "notes",
    listRule: "",
    viewRule: "",
    fields: [
      new TextField({ name: "title", required: true, max: 100 }),
      new NumberField({ name: "rank", onlyInt: true }),
      new BoolField({ name: "done" }),
      new SelectField({ name: "tags", values: ["a", "b", "c"], maxSelect: 2 }),
      new JSONField({ name: "meta" }),
      new AutodateField({ name: "created", onCreate: true }),
    ],
    indexes: ["CREATE INDEX idx_notes_title ON notes (title)"],
  });
  collection.fields.add(new EmailField({ name: "contact" }));
  collection.fields.addAt(1, new URLField({ name: "link" }));
  app.save(collection);

  const rec = new Record(collection, { title: "seeded", rank: 3, tags: ["a"], meta: { k: 1 } });
  app.save(rec);
  app.db().newQuery("UPDATE notes SET done = 1 WHERE title = 'seeded'").execute();
}, (app) => {
  app.delete(app.findCollectionByNameOrId("notes"));
})
`;

const UPDATE_NOTES = `migrate((app) => {
  const collection = app.findCollectionByNameOrId("notes");
  collection.fields.removeByName("meta");
  collection.fields.add(new EditorField({ name: "body" }));
  collection.fields.getByName("rank").max = 10;
  unmarshal({ listRule: "done = true", createRule: null }, collection);
  collection.addIndex("idx_notes_rank", false, "rank", "");
  return app.save(collection);
}, (app) => {
  const collection = app.findCollectionByNameOrId("notes");
  collection.fields.removeByName("body");
  collection.fields.add(new JSONField({ name: "meta" }));
  collection.fields.getByName("rank").max = null;
  unmarshal({ listRule: "" }, collection);
  collection.removeIndex("idx_notes_rank");
  return app.save(collection);
})
`;

const FAILING = `migrate((app) => {
  app.save(new Collection({ type: "base", name: "halfway", fields: [new TextField({ name: "x" })] }));
  throw new Error("boom in the middle");
}, (app) => {})
`;

const dirs = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

async function tempBase() {
  const d = await makeTempDir('pbmig-');
  dirs.push(d);
  return d;
}

/** Runs the binary with `input` on stdin; resolves {code, out, err}. */
function run(bin, args, { cwd, input = '' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}

/** Rows of a query on pb_data/data.db (python's sqlite3; node 20 has none). */
async function sql(dataDir, query) {
  const script = 'import json,sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.row_factory=sqlite3.Row; print(json.dumps([dict(r) for r in c.execute(sys.argv[2])]))';
  const r = await run('python3', ['-c', script, join(dataDir, 'data.db'), query]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
}

async function appMigrations(dataDir) {
  return sql(dataDir, "SELECT file, applied FROM _migrations WHERE file NOT LIKE '%.go' ORDER BY file");
}

async function writeMigrations(baseDir, files) {
  const dir = join(baseDir, 'pb_migrations');
  await mkdir(dir, { recursive: true });
  for (const [name, src] of Object.entries(files)) await writeFile(join(dir, name), src);
}

const fieldSummary = (c) => c.fields.map((f) => `${f.name}:${f.type}`);

describe('JS migrations on serve and migrate down', () => {
  it('pending migrations run in file order on serve, are recorded, and revert with migrate down', async () => {
    const baseDir = await tempBase();
    await writeMigrations(baseDir, { '1700000001_update_notes.js': UPDATE_NOTES, '1700000000_create_notes.js': CREATE_NOTES });
    const before = Date.now() * 1000;
    let srv = await startServer({ baseDir, keepDir: true });
    try {
      const admin = await adminClient(srv.url);
      const notes = await admin.collections.getOne('notes');
      assert.deepEqual(fieldSummary(notes), ['id:text', 'title:text', 'link:url', 'rank:number', 'done:bool', 'tags:select', 'created:autodate', 'contact:email', 'body:editor']);
      assert.equal(notes.fields.find((f) => f.name === 'rank').max, 10);
      assert.equal(notes.fields.find((f) => f.name === 'title').required, true);
      assert.deepEqual(notes.fields.find((f) => f.name === 'tags').values, ['a', 'b', 'c']);
      assert.equal(notes.listRule, 'done = true');
      assert.equal(notes.createRule, null);
      assert.deepEqual(notes.indexes, ['CREATE INDEX idx_notes_title ON notes (title)', 'CREATE INDEX `idx_notes_rank` ON `notes` (rank)']);
      const rec = await admin.collection('notes').getFirstListItem('title = "seeded"');
      assert.equal(rec.rank, 3);
      assert.equal(rec.done, true, 'the raw UPDATE of the migration ran');
      assert.deepEqual(rec.tags, ['a']);
    } finally {
      await srv.stop();
    }
    const rows = await appMigrations(srv.dir);
    assert.deepEqual(rows.map((r) => r.file), ['1700000000_create_notes.js', '1700000001_update_notes.js']);
    for (const r of rows) {
      assert.ok(r.applied >= before && r.applied <= Date.now() * 1000, `applied is Unix microseconds: ${r.applied}`);
    }

    // a second start applies nothing new
    const up = await run(pocketbunBin(), ['migrate', 'up', `--dir=${srv.dir}`], { cwd: baseDir });
    assert.equal(up.code, 0, up.err);
    assert.equal(up.out.trim(), 'No new migrations to apply.');

    // without confirmation nothing is reverted
    const cancelled = await run(pocketbunBin(), ['migrate', 'down', `--dir=${srv.dir}`], { cwd: baseDir, input: '\n' });
    assert.equal(cancelled.code, 0, cancelled.err);
    assert.equal(cancelled.out.trim(), 'The command has been cancelled');
    assert.equal((await appMigrations(srv.dir)).length, 2);

    const down1 = await run(pocketbunBin(), ['migrate', 'down', `--dir=${srv.dir}`], { cwd: baseDir, input: 'y\n' });
    assert.equal(down1.code, 0, down1.err);
    assert.match(down1.err, /1700000001_update_notes\.js\nDo you really want to revert the last 1 applied migration\(s\)\? \(y\/N\)/);
    assert.equal(down1.out.trim(), 'Reverted 1700000001_update_notes.js');
    assert.deepEqual((await appMigrations(srv.dir)).map((r) => r.file), ['1700000000_create_notes.js']);
    const columns = (await sql(srv.dir, "SELECT name FROM pragma_table_info('notes')")).map((r) => r.name);
    assert.ok(columns.includes('meta') && !columns.includes('body'), `the update was reverted: ${columns}`);
    const stored = await sql(srv.dir, "SELECT listRule, indexes FROM _collections WHERE name = 'notes'");
    assert.deepEqual(stored, [{ listRule: '', indexes: '["CREATE INDEX idx_notes_title ON notes (title)"]' }]);

    const reapplied = await run(pocketbunBin(), ['migrate', 'up', `--dir=${srv.dir}`], { cwd: baseDir });
    assert.equal(reapplied.out.trim(), 'Applied 1700000001_update_notes.js');

    const down2 = await run(pocketbunBin(), ['migrate', 'down', '2', `--dir=${srv.dir}`], { cwd: baseDir, input: 'yes\n' });
    assert.equal(down2.code, 0, down2.err);
    assert.equal(down2.out.trim(), 'Reverted 1700000001_update_notes.js\nReverted 1700000000_create_notes.js');
    assert.deepEqual(await appMigrations(srv.dir), []);
    assert.deepEqual(await sql(srv.dir, "SELECT name FROM _collections WHERE name = 'notes'"), []);
    assert.deepEqual(await sql(srv.dir, "SELECT name FROM sqlite_master WHERE name = 'notes'"), []);

    const up2 = await run(pocketbunBin(), ['migrate', 'up', `--dir=${srv.dir}`], { cwd: baseDir });
    assert.equal(up2.out.trim(), 'Applied 1700000000_create_notes.js\nApplied 1700000001_update_notes.js');
  });

  it('a failing migration stops start-up and rolls back the whole run', async () => {
    const baseDir = await tempBase();
    await writeMigrations(baseDir, { '1700000000_create_notes.js': CREATE_NOTES, '1700000005_failing.js': FAILING });
    await assert.rejects(startServer({ baseDir, keepDir: true, timeoutMs: 10_000 }), /failed to apply migration 1700000005_failing\.js: boom in the middle/);
    const dataDir = join(baseDir, 'pb_data');
    assert.deepEqual(await appMigrations(dataDir), []);
    assert.deepEqual(await sql(dataDir, "SELECT name FROM _collections WHERE name IN ('notes', 'halfway')"), []);
    assert.deepEqual(await sql(dataDir, "SELECT name FROM sqlite_master WHERE name IN ('notes', 'halfway')"), []);
  });

  it('migrate create writes the blank template, history-sync forgets deleted files', async () => {
    const baseDir = await tempBase();
    const dataDir = join(baseDir, 'pb_data');
    const created = await run(pocketbunBin(), ['migrate', 'create', 'Add Things', `--dir=${dataDir}`], { cwd: baseDir, input: 'y\n' });
    assert.equal(created.code, 0, created.err);
    const [file] = await readdir(join(baseDir, 'pb_migrations'));
    assert.match(file, /^\d{10}_add_things\.js$/);
    assert.equal(created.out.trim(), `Successfully created file "${join(baseDir, 'pb_migrations', file)}"`);
    assert.equal(await readFile(join(baseDir, 'pb_migrations', file), 'utf8'),
      '/// <reference path="../pb_data/types.d.ts" />\nmigrate((app) => {\n  // add up queries...\n}, (app) => {\n  // add down queries...\n})\n');
    const up = await run(pocketbunBin(), ['migrate', `--dir=${dataDir}`], { cwd: baseDir });
    assert.equal(up.out.trim(), `Applied ${file}`);
    await rm(join(baseDir, 'pb_migrations', file));
    const sync = await run(pocketbunBin(), ['migrate', 'history-sync', `--dir=${dataDir}`], { cwd: baseDir });
    assert.equal(sync.out.trim(), 'The _migrations table was synced with the available migrations.');
    assert.deepEqual(await appMigrations(dataDir), []);
    assert.equal((await sql(dataDir, 'SELECT count(*) AS n FROM _migrations'))[0].n, 8, 'system migrations are kept');
    const bad = await run(pocketbunBin(), ['migrate', 'nope', `--dir=${dataDir}`], { cwd: baseDir });
    assert.equal(bad.code, 1);
    assert.match(bad.err, /unsupported command: "nope"/);
  });
});

/** The collection changes the automigrate tests make through the SDK. */
async function collectionChanges(admin) {
  const posts = await admin.collections.create({
    name: 'posts', type: 'base', listRule: '',
    fields: [
      { name: 'title', type: 'text', required: true, max: 100 },
      { name: 'views', type: 'number', onlyInt: true },
      { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
    ],
    indexes: ['CREATE INDEX idx_title ON posts (title)'],
  });
  await new Promise((r) => setTimeout(r, 1100)); // file names carry Unix seconds
  await admin.collections.update('posts', {
    listRule: null, viewRule: 'id != ""',
    fields: [...posts.fields.filter((f) => f.name !== 'views').map((f) => (f.name === 'title' ? { ...f, max: 200 } : f)), { name: 'body', type: 'editor' }],
  });
  await new Promise((r) => setTimeout(r, 1100));
  await admin.collections.create({ name: 'members', type: 'auth', fields: [{ name: 'nick', type: 'text' }] });
  await admin.collections.create({ name: 'scratch', type: 'base', fields: [{ name: 'x', type: 'bool' }] });
  await new Promise((r) => setTimeout(r, 1100));
  await admin.collections.delete('scratch');
}

/** {action_name: content} of the generated files (the Unix time prefix dropped). */
async function generated(baseDir) {
  const dir = join(baseDir, 'pb_migrations');
  const out = {};
  for (const f of (await readdir(dir)).sort()) out[f.replace(/^\d+_/, '')] = { file: f, content: await readFile(join(dir, f), 'utf8') };
  return out;
}

describe('automigrate', () => {
  let bun;
  it('collection changes through the API write PocketBase migration files, recorded as applied', async () => {
    const baseDir = await tempBase();
    const srv = await startServer({ baseDir, keepDir: true });
    try {
      await collectionChanges(await adminClient(srv.url));
    } finally {
      await srv.stop();
    }
    bun = { baseDir, files: await generated(baseDir) };
    assert.deepEqual(Object.keys(bun.files).sort(), ['created_posts.js', 'updated_posts.js', 'created_members.js', 'created_scratch.js', 'deleted_scratch.js'].sort());
    const rows = await appMigrations(srv.dir);
    assert.deepEqual(rows.map((r) => r.file).sort(), Object.values(bun.files).map((f) => f.file).sort());
    const created = bun.files['created_posts.js'].content;
    assert.match(created, /^\/\/\/ <reference path="\.\.\/pb_data\/types\.d\.ts" \/>\nmigrate\(\(app\) => \{\n  const collection = new Collection\(\{\n    "createRule": null,/);
    assert.match(bun.files['updated_posts.js'].content, /collection\.fields\.removeById\("number\d+"\)/);
    assert.match(bun.files['updated_posts.js'].content, /unmarshal\(\{\n    "listRule": null,\n    "viewRule": "id != \\"\\""\n  \}, collection\)/);

    // the files replay on a fresh PocketBun
    const replay = await tempBase();
    await mkdir(join(replay, 'pb_migrations'));
    for (const { file, content } of Object.values(bun.files)) await writeFile(join(replay, 'pb_migrations', file), content);
    const again = await startServer({ baseDir: replay, keepDir: true });
    try {
      const admin = await adminClient(again.url);
      const posts = await admin.collections.getOne('posts');
      assert.deepEqual(fieldSummary(posts), ['id:text', 'title:text', 'tags:select', 'body:editor']);
      assert.equal(posts.viewRule, 'id != ""');
      assert.equal((await admin.collections.getOne('members')).type, 'auth');
      await assert.rejects(admin.collections.getOne('scratch'));
    } finally {
      await again.stop();
    }
  });

  const pbBin = pocketbaseBin();
  it('PocketBase 0.40 writes the same files and accepts the ones PocketBun wrote', { skip: pbBin ? false : 'POCKETBASE_BIN not available' }, async () => {
    assert.ok(bun, 'the previous test produced the files');
    const baseDir = await tempBase();
    const srv = await startServer({ bin: pbBin, baseDir, keepDir: true });
    try {
      await collectionChanges(await adminClient(srv.url));
    } finally {
      await srv.stop();
    }
    const pb = await generated(baseDir);
    assert.deepEqual(Object.keys(pb).sort(), Object.keys(bun.files).sort());
    for (const name of Object.keys(pb)) assert.equal(bun.files[name].content, pb[name].content, `${name} differs from PocketBase's`);

    // PocketBun's files on a fresh PocketBase
    const fresh = await tempBase();
    await mkdir(join(fresh, 'pb_migrations'));
    for (const { file, content } of Object.values(bun.files)) await writeFile(join(fresh, 'pb_migrations', file), content);
    const real = await startServer({ bin: pbBin, baseDir: fresh, keepDir: true });
    try {
      const admin = await adminClient(real.url);
      const posts = await admin.collections.getOne('posts');
      assert.deepEqual(fieldSummary(posts), ['id:text', 'title:text', 'tags:select', 'body:editor']);
      assert.equal(posts.viewRule, 'id != ""');
      assert.deepEqual(posts.indexes, ['CREATE INDEX idx_title ON posts (title)']);
      assert.equal((await admin.collections.getOne('members')).type, 'auth');
      await assert.rejects(admin.collections.getOne('scratch'));
    } finally {
      await real.stop();
    }
    const rows = await appMigrations(join(fresh, 'pb_data'));
    assert.deepEqual(rows.map((r) => r.file).sort(), Object.values(bun.files).map((f) => f.file).sort());
    assert.ok(existsSync(join(fresh, 'pb_data', 'data.db')));
  });

  it('migrate collections writes the same snapshot as PocketBase, and both apply it', { skip: pbBin ? false : 'POCKETBASE_BIN not available' }, async () => {
    const snapshot = async (bin) => {
      const baseDir = await tempBase();
      const r = await run(bin, ['migrate', 'collections', `--dir=${join(baseDir, 'pb_data')}`], { cwd: baseDir, input: 'y\n' });
      assert.equal(r.code, 0, r.err);
      const [file] = await readdir(join(baseDir, 'pb_migrations'));
      assert.match(file, /^\d{10}_collections_snapshot\.js$/);
      return { baseDir, file, content: await readFile(join(baseDir, 'pb_migrations', file), 'utf8') };
    };
    const ours = await snapshot(pocketbunBin());
    const theirs = await snapshot(pbBin);
    assert.equal(ours.content, theirs.content);
    assert.match(ours.content, /const snapshot = \[\n    \{\n/);
    assert.match(ours.content, /return app\.importCollections\(snapshot, false\);\n\}, \(app\) => \{\n  return null;\n\}\)\n$/);
    for (const bin of [pocketbunBin(), pbBin]) {
      const baseDir = await tempBase();
      await writeMigrations(baseDir, { [ours.file]: ours.content });
      const r = await run(bin, ['migrate', 'up', `--dir=${join(baseDir, 'pb_data')}`], { cwd: baseDir });
      assert.equal(r.out.trim(), `Applied ${ours.file}`, r.err);
    }
  });
});
