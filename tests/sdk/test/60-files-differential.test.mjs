// Differential test of file fields: the same collection and uploads on the real PocketBase
// (the oracle) and on the server under test; stored-name patterns, download headers, thumb
// dimensions/formats and validation error codes must agree. PocketBase's answer is the
// expectation; random name suffixes are normalised.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { adminClient } from '../lib/client.mjs';
import { imageSize } from '../lib/image-size.mjs';
import { pocketbaseBin, pocketbaseMissingReason, pocketbunBin, startServer } from '../lib/server.mjs';

const POCKETBASE = pocketbaseBin();
const SKIP = POCKETBASE ? false : pocketbaseMissingReason();
if (SKIP) console.log(`skipping file differential tests: ${SKIP}`);

const IMAGES = new URL('../fixtures/images/', import.meta.url);
const image = (name) => readFileSync(new URL(name, IMAGES));
const THUMBS = ['100x100', '100x20t', '100x20b', '100x30f', '0x50', '80x0', '60x40'];
const HEADERS = ['content-type', 'content-disposition', 'cache-control', 'content-security-policy', 'accept-ranges', 'content-length', 'x-frame-options'];
const norm = (s) => (s ?? '').replace(/_[a-z0-9]{10}(\.|$)/g, '_RANDOM$1').replace(/(^|")([a-z0-9]{0,2})[a-z0-9]{10}_RANDOM/g, '$1$2SHORT_RANDOM');

async function probe(bin) {
  const server = await startServer({ bin });
  try {
    const pb = await adminClient(server.url);
    await pb.collections.create({
      name: 'docs', type: 'base', listRule: '', viewRule: '', createRule: '', updateRule: '',
      fields: [
        { name: 'doc', type: 'file', maxSelect: 5, maxSize: 1 << 20 },
        { name: 'images', type: 'file', maxSelect: 10, thumbs: THUMBS },
        { name: 'small', type: 'file', maxSelect: 1, maxSize: 10 },
        { name: 'pngOnly', type: 'file', maxSelect: 1, mimeTypes: ['image/png'] },
      ],
    });
    const out = {};
    const rec = await pb.collection('docs').create({
      doc: [new File(['hello'], 'My Report (Final).TXT'), new File(['x'], 'ab'), new File(['<svg xmlns="http://www.w3.org/2000/svg"></svg>'], 'pic.svg'), new File(['{"a":1}'], 'data.json')],
      images: ['photo.png', 'photo.jpg', 'photo.gif', 'photo.webp'].map((n) => new File([image(n)], n)),
    });
    out.names = [...rec.doc, ...rec.images].map(norm);
    const headers = (res) => Object.fromEntries(HEADERS.map((h) => [h, norm(res.headers.get(h))]));
    for (const name of [...rec.doc, ...rec.images]) {
      for (const query of [{}, { download: 1 }]) {
        const res = await fetch(pb.files.getURL(rec, name, query));
        await res.arrayBuffer();
        out[`${norm(name)} ${JSON.stringify(query)}`] = { status: res.status, ...headers(res) };
      }
    }
    for (const name of rec.images) {
      for (const thumb of [...THUMBS, '70x70']) {
        const res = await fetch(pb.files.getURL(rec, name, { thumb }));
        const size = imageSize(Buffer.from(await res.arrayBuffer()));
        // encoders differ: the thumb's byte length is not compared
        out[`${norm(name)} thumb=${thumb}`] = { status: res.status, ...headers(res), 'content-length': thumb === '70x70' ? res.headers.get('content-length') : 'n/a', size };
      }
    }
    const range = await fetch(pb.files.getURL(rec, rec.doc[0]), { headers: { Range: 'bytes=1-3' } });
    out.range = { status: range.status, body: await range.text(), contentRange: range.headers.get('content-range') };
    const errors = {};
    for (const [label, body] of Object.entries({
      tooBig: { small: new File(['x'.repeat(11)], 'big.txt') },
      wrongMime: { pngOnly: new File(['text'], 'a.png') },
      tooMany: { pngOnly: [new File([image('photo.png')], 'a.png'), new File([image('photo.png')], 'b.png')] },
    })) {
      try {
        await pb.collection('docs').create(body);
        errors[label] = 'created';
      } catch (e) {
        errors[label] = { status: e.status, data: JSON.parse(norm(JSON.stringify(e.response.data))) };
      }
    }
    out.errors = errors;
    return out;
  } finally {
    await server.stop();
  }
}

describe('files: PocketBun vs PocketBase', { skip: SKIP }, () => {
  let ref, sut;
  before(async () => {
    ref = await probe(POCKETBASE);
    sut = await probe(pocketbunBin());
  });
  after(() => {});

  it('agree on names, headers, thumbs, ranges and errors', () => {
    const diffs = Object.keys(ref).filter((k) => !isDeepStrictEqual(sut[k], ref[k]))
      .map((k) => ({ key: k, pocketbase: ref[k], pocketbun: sut[k] }));
    assert.deepEqual(diffs, [], JSON.stringify(diffs, null, 1));
  });
});
