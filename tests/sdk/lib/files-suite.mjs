// The file-field suite (uploads, names, modifiers, deletion, download headers, thumbs,
// protected files, size/mime rejections, rollback), run once per storage backend by the
// test/60-files-*.test.mjs and 61-files-s3 files. Where files land is checked through
// `backend.keys(ctx, prefix)` (every stored object key under a prefix, PocketBase's layout);
// local storage lists pb_data/storage (sidecars left out), S3 lists the bucket.
// `backend.local` adds the on-disk sidecar checks, `backend.head(key)` the S3 object headers.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { client, expectSdkError, http, useServer } from './client.mjs';
import { imageSize } from './image-size.mjs';

const IMAGES = new URL('../fixtures/images/', import.meta.url);
const image = (name) => readFileSync(new URL(name, IMAGES));
const THUMBS = ['100x20t', '100x20b', '100x30f', '0x50', '80x0', '60x40'];
const NAME_RE = (base, ext) => new RegExp(`^${base}_[a-z0-9]{10}\\.${ext}$`);

/** The object keys under `prefix` in a local pb_data/storage (`.attrs` sidecars left out). */
function localKeys(ctx, prefix) {
  const root = join(ctx.dir, 'storage');
  const out = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.endsWith('.attrs')) out.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return out.filter((k) => k.startsWith(prefix)).sort();
}

export function fileSuite(backend) {
  const keysUnder = backend.keys ?? localKeys;
  const ctx = useServer({ env: backend.env ?? {} }, async (c) => {
    if (backend.setup) await backend.setup(c);
    await c.admin.collections.create({
      name: 'members', type: 'auth', listRule: '', viewRule: '',
      fields: [],
    });
    c.member = await c.admin.collection('members').create({ email: 'm@example.com', password: 'member-pass-1', passwordConfirm: 'member-pass-1' });
    await c.admin.collections.create({
      name: 'docs', type: 'base',
      listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'doc', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
        { name: 'images', type: 'file', maxSelect: 10, maxSize: 1 << 20, thumbs: THUMBS },
        { name: 'small', type: 'file', maxSelect: 1, maxSize: 10 },
        { name: 'pngOnly', type: 'file', maxSelect: 1, mimeTypes: ['image/png'] },
        { name: 'big', type: 'file', maxSelect: 1, maxSize: 8 << 20 },
      ],
      indexes: ['CREATE UNIQUE INDEX idx_docs_title ON docs (title) WHERE title != ""'],
    });
    await c.admin.collections.create({
      name: 'secrets', type: 'base',
      listRule: '', viewRule: '@request.auth.id != ""', createRule: '', updateRule: '', deleteRule: '',
      fields: [{ name: 'file', type: 'file', maxSelect: 1, protected: true, thumbs: ['20x20'] }],
    });
    c.docsId = (await c.admin.collections.getOne('docs')).id;
  });
  const docs = () => ctx.admin.collection('docs');
  const fetchFile = (rec, name, query = {}, init = {}) => fetch(ctx.admin.files.getURL(rec, name, query), init);
  const bytes = async (res) => Buffer.from(await res.arrayBuffer());
  const stored = (rec, ...parts) => join(ctx.dir, 'storage', rec.collectionId, rec.id, ...parts);
  const recordDirs = (collectionId) => {
    const dir = join(ctx.dir, 'storage', collectionId);
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  /** A record's stored keys relative to its directory (`name`, `thumbs_name/size_name`). */
  const recordKeys = async (rec) => {
    const prefix = `${rec.collectionId}/${rec.id}/`;
    return (await keysUnder(ctx, prefix)).map((k) => k.slice(prefix.length));
  };
  const hasKey = async (rec, key) => (await recordKeys(rec)).includes(key);
  /** The ids of the records that have objects in a collection's storage. */
  const recordIdsWithFiles = async (collectionId) => [...new Set((await keysUnder(ctx, `${collectionId}/`)).map((k) => k.split('/')[1]))].sort();

  describe(`files (${backend.name}): uploads`, () => {
    it('create stores sanitized names with a random suffix and serves the content', async () => {
      const rec = await docs().create({
        doc: new File(['hello file'], 'My Report (Final).TXT'),
        images: [new File([image('photo.png')], 'alpha.png'), new File([image('photo.jpg')], 'beta.jpg')],
      });
      assert.match(rec.doc, NAME_RE('my_report_final', 'TXT'));
      assert.equal(rec.images.length, 2);
      assert.match(rec.images[0], NAME_RE('alpha', 'png'));
      assert.match(rec.images[1], NAME_RE('beta', 'jpg'));
      const res = await fetchFile(rec, rec.doc);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello file');
      if (backend.local) {
        assert.equal(readFileSync(stored(rec, rec.doc), 'utf8'), 'hello file');
        const attrs = JSON.parse(readFileSync(stored(rec, rec.doc + '.attrs'), 'utf8'));
        assert.equal(attrs['user.content_type'], 'text/plain; charset=utf-8');
        assert.deepEqual(attrs['user.metadata'], { 'original-filename': 'My Report (Final).TXT' });
      }
      assert.deepEqual(await recordKeys(rec), [rec.doc, ...rec.images].sort());
      if (backend.head) {
        const h = await backend.head(`${rec.collectionId}/${rec.id}/${rec.doc}`);
        assert.equal(h.get('content-type'), 'text/plain; charset=utf-8');
        assert.equal(h.get('x-amz-meta-original-filename'), 'My%20Report%20%28Final%29.TXT');
      }
    });

    it('short or extension-less names get a random base; the extension comes from the content', async () => {
      const rec = await docs().create({ doc: new File([image('photo.png')], 'x') });
      assert.match(rec.doc, /^[a-z0-9]{10,13}_[a-z0-9]{10}\.png$/);
    });

    it('update replaces, appends, prepends and removes files; replaced files are deleted', async () => {
      const rec = await docs().create({ doc: new File(['v1'], 'first.txt'), images: [new File([image('photo.png')], 'one.png')] });
      const upd = await docs().update(rec.id, { doc: new File(['v2'], 'second.txt') });
      assert.match(upd.doc, NAME_RE('second', 'txt'));
      assert.equal((await fetchFile(rec, rec.doc)).status, 404);
      assert.equal(await hasKey(rec, rec.doc), false);
      const appended = await docs().update(rec.id, { 'images+': new File([image('photo.png')], 'two.png') });
      assert.match(appended.images[1], NAME_RE('two', 'png'));
      const prepended = await docs().update(rec.id, { '+images': new File([image('photo.png')], 'zero.png') });
      assert.match(prepended.images[0], NAME_RE('zero', 'png'));
      assert.deepEqual(prepended.images.slice(1), appended.images);
      const removed = await docs().update(rec.id, { 'images-': [appended.images[0]] });
      assert.deepEqual(removed.images, [prepended.images[0], appended.images[1]]);
      assert.equal((await fetchFile(rec, appended.images[0])).status, 404);
      assert.equal(await hasKey(rec, appended.images[0]), false);
      const cleared = await docs().update(rec.id, { doc: '', images: [] });
      assert.equal(cleared.doc, '');
      assert.deepEqual(cleared.images, []);
      assert.equal((await fetchFile(rec, upd.doc)).status, 404);
      assert.deepEqual((await recordKeys(rec)).filter((n) => !n.startsWith('thumbs_')), []);
    });

    it('large uploads (spooled to disk while streaming) round-trip byte for byte, ranges included', async () => {
      const data = Buffer.alloc(6 << 20);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
      const rec = await docs().create({ big: new File([data], 'large.bin') });
      const res = await fetchFile(rec, rec.big);
      assert.equal(res.headers.get('content-length'), String(data.length));
      assert.ok(Buffer.compare(await bytes(res), data) === 0);
      const part = await fetchFile(rec, rec.big, {}, { headers: { Range: 'bytes=4000000-4000099' } });
      assert.equal(part.status, 206);
      assert.ok(Buffer.compare(await bytes(part), data.subarray(4000000, 4000100)) === 0);
      if (backend.local) assert.equal(readFileSync(stored(rec, rec.big)).length, data.length);
      assert.deepEqual(await recordKeys(rec), [rec.big]);
      // over the field's maxSize: rejected with the PocketBase code, nothing stored
      let err;
      try { await docs().create({ big: new File([Buffer.alloc((8 << 20) + 1)], 'huge.bin') }); } catch (e) { err = e; }
      assert.equal(err?.status, 400);
      assert.equal(err.response.data.big.code, 'validation_file_size_limit');
    });

    it('deleting the record deletes its files', async () => {
      const rec = await docs().create({ doc: new File(['bye'], 'bye.txt') });
      assert.equal((await fetchFile(rec, rec.doc)).status, 200);
      await docs().delete(rec.id);
      if (backend.local) assert.equal(existsSync(stored(rec)), false);
      assert.deepEqual(await recordKeys(rec), []);
      const res = await http(ctx.url, 'GET', `/api/files/docs/${rec.id}/${rec.doc}`);
      assert.equal(res.status, 404);
    });

    it('maxSize and mimeTypes violations are rejected with PocketBase codes', async () => {
      const big = await expectSdkError(docs().create({ small: new File(['x'.repeat(11)], 'big.txt') }), 400, 'Failed to create record.', {
        small: { code: 'validation_file_size_limit', message: 'Failed to upload big.txt - the maximum allowed file size is 10 bytes.', params: { file: 'big.txt', maxSize: 10 } },
      });
      assert.ok(big);
      let err;
      try { await docs().create({ pngOnly: new File(['plain text'], 'note.png') }); } catch (e) { err = e; }
      assert.equal(err?.status, 400);
      assert.equal(err.response.data.pngOnly.code, 'validation_invalid_mime_type');
      assert.match(err.response.data.pngOnly.message, /^"note_[a-z0-9]{10}\.png" mime type must be one of: image\/png\.$/);
    });

    it('a failed write leaves no files behind', async () => {
      const before = await docs().create({ title: 'unique title', doc: new File(['kept'], 'kept.txt') });
      const dirsBefore = recordDirs(ctx.docsId).sort();
      const idsBefore = await recordIdsWithFiles(ctx.docsId);
      let err;
      try { await docs().create({ title: 'unique title', doc: new File(['orphan?'], 'orphan.txt') }); } catch (e) { err = e; }
      assert.equal(err?.status, 400);
      let err2;
      try { await docs().update(before.id, { small: new File(['too big for ten'], 'x.txt'), doc: new File(['new'], 'n.txt') }); } catch (e) { err2 = e; }
      assert.equal(err2?.status, 400);
      const again = await docs().getOne(before.id);
      assert.equal(again.doc, before.doc);
      if (backend.local) {
        assert.deepEqual(recordDirs(ctx.docsId).sort(), dirsBefore);
        assert.deepEqual(readdirSync(stored(before)).sort(), [before.doc, before.doc + '.attrs'].sort());
      }
      assert.deepEqual(await recordIdsWithFiles(ctx.docsId), idsBefore);
      assert.deepEqual(await recordKeys(before), [before.doc]);
    });
  });

  describe(`files (${backend.name}): serving`, () => {
    let rec;
    it('headers: inline images, attachments, download=1, caching, ranges', async () => {
      rec = await docs().create({ doc: new File(['0123456789'], 'digits.txt'), images: [new File([image('photo.png')], 'pic.png')] });
      const img = await fetchFile(rec, rec.images[0]);
      assert.equal(img.status, 200);
      assert.equal(img.headers.get('content-type'), 'image/png');
      assert.equal(img.headers.get('content-disposition'), `inline; filename="${rec.images[0]}"`);
      assert.equal(img.headers.get('cache-control'), 'max-age=2592000, stale-while-revalidate=86400');
      assert.equal(img.headers.get('content-security-policy'), "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox");
      assert.equal(img.headers.get('accept-ranges'), 'bytes');
      assert.equal(img.headers.get('x-frame-options'), null);
      assert.ok(img.headers.get('last-modified'));
      assert.deepEqual(await bytes(img), image('photo.png'));

      const txt = await fetchFile(rec, rec.doc, {}, { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(txt.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(txt.headers.get('content-encoding'), null, 'files are served uncompressed');
      assert.equal(txt.headers.get('content-disposition'), `attachment; filename="${rec.doc}"`);
      assert.equal(txt.headers.get('content-length'), '10');

      const dl = await fetchFile(rec, rec.images[0], { download: 1 });
      assert.equal(dl.headers.get('content-disposition'), `attachment; filename="${rec.images[0]}"`);

      const part = await fetchFile(rec, rec.doc, {}, { headers: { Range: 'bytes=2-5' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
      assert.equal(await part.text(), '2345');
      const tail = await fetchFile(rec, rec.doc, {}, { headers: { Range: 'bytes=-3' } });
      assert.equal(await tail.text(), '789');
      const bad = await fetchFile(rec, rec.doc, {}, { headers: { Range: 'bytes=50-' } });
      assert.equal(bad.status, 416);
      assert.equal(bad.headers.get('content-range'), 'bytes */10');
      await bad.arrayBuffer();

      const notModified = await fetchFile(rec, rec.doc, {}, { headers: { 'If-Modified-Since': txt.headers.get('last-modified') } });
      assert.equal(notModified.status, 304);
    });

    it('unknown files, records and traversal attempts are 404', async () => {
      for (const path of [
        `/api/files/docs/${rec.id}/missing.txt`,
        `/api/files/docs/nope/${rec.doc}`,
        `/api/files/nope/${rec.id}/${rec.doc}`,
        `/api/files/docs/${rec.id}/..%2F..%2Fdata.db`,
        `/api/files/docs/${rec.id}/${rec.doc}.attrs`,
      ]) {
        const res = await http(ctx.url, 'GET', path);
        assert.equal(res.status, 404, path);
      }
    });
  });

  describe(`files (${backend.name}): thumbnails`, () => {
    let rec;
    const thumb = async (name, size) => {
      const res = await fetchFile(rec, name, { thumb: size });
      assert.equal(res.status, 200, `${name} ${size}`);
      return { res, size: imageSize(await bytes(res)) };
    };

    it('every mode has the right decoded dimensions (png source 400x200)', async () => {
      rec = await docs().create({
        images: ['photo.png', 'photo.jpg', 'photo.gif', 'photo.webp'].map((n) => new File([image(n)], n)),
        doc: new File(['not an image'], 'plain.txt'),
      });
      const png = rec.images[0];
      const expected = {
        '100x100': [100, 100], '100x20t': [100, 20], '100x20b': [100, 20], '60x40': [60, 40],
        '100x30f': [60, 30], '0x50': [100, 50], '80x0': [80, 40],
      };
      for (const [size, [w, h]] of Object.entries(expected)) {
        const { res, size: dims } = await thumb(png, size);
        assert.deepEqual([dims.type, dims.width, dims.height], ['png', w, h], size);
        assert.equal(res.headers.get('content-disposition'), `inline; filename="${size}_${png}"`);
        assert.ok(await hasKey(rec, `thumbs_${png}/${size}_${png}`), `${size} cached`);
      }
    });

    it('top and bottom crops differ', async () => {
      const top = await bytes(await fetchFile(rec, rec.images[0], { thumb: '100x20t' }));
      const bottom = await bytes(await fetchFile(rec, rec.images[0], { thumb: '100x20b' }));
      assert.notDeepEqual(top, bottom);
    });

    it('jpg stays jpeg, gif stays gif (first frame), webp becomes png', async () => {
      const jpg = await thumb(rec.images[1], '60x40');
      assert.deepEqual([jpg.size.type, jpg.size.width, jpg.size.height], ['jpeg', 60, 40]);
      assert.equal(jpg.res.headers.get('content-type'), 'image/jpeg');
      const gif = await thumb(rec.images[2], '80x0');
      assert.deepEqual([gif.size.type, gif.size.width, gif.size.height], ['gif', 80, 40]);
      const webp = await thumb(rec.images[3], '100x100');
      assert.deepEqual([webp.size.type, webp.size.width, webp.size.height], ['png', 100, 100]);
      assert.equal(webp.res.headers.get('content-type'), 'image/png');
    });

    it('unlisted sizes and non-images serve the original', async () => {
      const orig = await thumb(rec.images[0], '70x70');
      assert.deepEqual([orig.size.width, orig.size.height], [400, 200]);
      assert.equal(orig.res.headers.get('content-disposition'), `inline; filename="${rec.images[0]}"`);
      const txt = await fetchFile(rec, rec.doc, { thumb: '100x100' });
      assert.equal(await txt.text(), 'not an image');
      assert.equal(await hasKey(rec, `thumbs_${rec.images[0]}/70x70_${rec.images[0]}`), false);
    });

    it('concurrent requests for a new thumb all get the same image', async () => {
      const name = rec.images[1];
      const all = await Promise.all(Array.from({ length: 8 }, () => fetchFile(rec, name, { thumb: '0x50' }).then(bytes)));
      for (const b of all) assert.deepEqual(b, all[0]);
      assert.deepEqual([imageSize(all[0]).width, imageSize(all[0]).height], [100, 50]);
    });

    it('thumbs are deleted with their file', async () => {
      const r = await docs().create({ images: [new File([image('photo.png')], 'gone.png')] });
      const res = await fetchFile(r, r.images[0], { thumb: '100x100' });
      assert.equal(imageSize(await bytes(res)).width, 100);
      assert.deepEqual(await recordKeys(r), [r.images[0], `thumbs_${r.images[0]}/100x100_${r.images[0]}`]);
      await docs().update(r.id, { images: [] });
      assert.deepEqual(await recordKeys(r), []);
      assert.equal((await fetchFile(r, r.images[0], { thumb: '100x100' })).status, 404);
    });
  });

  describe(`files (${backend.name}): protected`, () => {
    it('needs a file token satisfying the viewRule', async () => {
      const rec = await ctx.admin.collection('secrets').create({ file: new File([image('photo.png')], 'secret.png') });
      const url = (token) => ctx.guest.files.getURL(rec, rec.file, token ? { token } : {});
      assert.equal((await fetch(url())).status, 404);
      assert.equal((await fetch(url('garbage'))).status, 404);

      const member = client(ctx.url);
      await member.collection('members').authWithPassword('m@example.com', 'member-pass-1');
      const token = await member.files.getToken();
      const ok = await fetch(url(token));
      assert.equal(ok.status, 200);
      assert.deepEqual(await bytes(ok), image('photo.png'));
      const t = await fetch(ctx.guest.files.getURL(rec, rec.file, { token, thumb: '20x20' }));
      const tsize = imageSize(await bytes(t));
      assert.deepEqual([tsize.width, tsize.height], [20, 20]);

      // an auth token is not a file token
      assert.equal((await fetch(url(member.authStore.token))).status, 404);
      // superusers pass too
      const adminToken = await ctx.admin.files.getToken();
      assert.equal((await fetch(url(adminToken))).status, 200);
    });

    it('guests cannot get a file token', async () => {
      await expectSdkError(ctx.guest.files.getToken(), 401, 'The request requires valid record authorization token.');
    });
  });

  return ctx;
}
