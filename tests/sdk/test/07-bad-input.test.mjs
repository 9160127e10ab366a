// Bad input never changes the database: each request gets a 4xx error envelope and a follow-up
// read proves that collections, records and settings are exactly as before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectHttpError, http, useServer } from '../lib/client.mjs';
import { createTagsAndItems, ITEMS, TAGS } from '../lib/fixtures.mjs';

const INJECTION = "'; DROP TABLE items; --";
const DEFAULT_400 = 'Something went wrong while processing your request.';
const NOT_FOUND = "The requested resource wasn't found.";

let seeded; // {record, tags}
const ctx = useServer({}, async ({ admin }) => {
  const tags = await createTagsAndItems(admin);
  const record = await admin.collection(ITEMS).create({
    title: 'original', num: 7, labels: ['a'], tag: tags.t1.id, data: { keep: true },
  });
  seeded = { record, tags };
});

/** Everything observable through the API that bad input must not change. */
async function snapshot() {
  const { admin } = ctx;
  return {
    collections: await admin.collections.getFullList({ sort: 'name' }),
    items: await admin.collection(ITEMS).getFullList({ sort: 'id' }),
    tags: await admin.collection(TAGS).getFullList({ sort: 'id' }),
    users: await admin.collection('users').getFullList({ sort: 'id' }),
    settings: await admin.settings.getAll(),
  };
}

/** Runs a raw request and checks its error envelope and that nothing changed. */
async function rejectsUnchanged(method, path, options, status, message, data = {}) {
  const before = await snapshot();
  const res = await http(ctx.url, method, path, { token: ctx.admin.authStore.token, ...options });
  expectHttpError(res, status, message, data);
  assert.deepEqual(await snapshot(), before, 'the database must be unchanged');
  return res;
}

const rawJson = (text) => ({ body: text, headers: { 'Content-Type': 'application/json' } });
const itemsPath = `/api/collections/${ITEMS}/records`;
const recordPath = () => `${itemsPath}/${seeded.record.id}`;

describe('malformed bodies', () => {
  for (const [label, text] of [['truncated', '{"title":'], ['not JSON', 'title=x'], ['array', '[1,2]'], ['string', '"x"']]) {
    it(`record create with a ${label} JSON body`, async () => {
      await rejectsUnchanged('POST', itemsPath, rawJson(text), 400, DEFAULT_400);
    });
    it(`record update with a ${label} JSON body`, async () => {
      await rejectsUnchanged('PATCH', recordPath(), rawJson(text), 400, DEFAULT_400);
    });
  }

  it('collection create / update with a truncated body', async () => {
    // create first reads the collection type, update does not: the messages differ
    await rejectsUnchanged('POST', '/api/collections', rawJson('{"name":'), 400,
      'Failed to load the collection type data due to invalid formatting.');
    await rejectsUnchanged('PATCH', `/api/collections/${ITEMS}`, rawJson('{"name":'), 400,
      'Failed to load the submitted data due to invalid formatting.');
  });

  it('settings update with a truncated body', async () => {
    await rejectsUnchanged('PATCH', '/api/settings', rawJson('{"meta":'), 400, 'An error occurred while loading the submitted data.');
  });

  it('broken multipart bodies and @jsonPayload', async () => {
    await rejectsUnchanged('POST', itemsPath, { body: 'garbage', headers: { 'Content-Type': 'multipart/form-data' } }, 400, DEFAULT_400);
    await rejectsUnchanged('POST', itemsPath,
      { body: 'garbage', headers: { 'Content-Type': 'multipart/form-data; boundary=xyz' } }, 400, DEFAULT_400);
    const fd = new FormData();
    fd.append('title', 'payload');
    fd.append('@jsonPayload', '{bad');
    await rejectsUnchanged('POST', itemsPath, { body: fd }, 400, DEFAULT_400);
    const arr = new FormData();
    arr.append('title', 'payload');
    arr.append('@jsonPayload', '[1]');
    await rejectsUnchanged('POST', itemsPath, { body: arr }, 400, DEFAULT_400);
  });

  it('an unsupported content type', async () => {
    await rejectsUnchanged('POST', itemsPath, { body: 'title=x', headers: { 'Content-Type': 'text/plain' } }, 400, 'Unsupported Content-Type.');
  });
});

describe('wrong types', () => {
  it('an object or array for a required text field counts as blank', async () => {
    for (const title of [{ a: 1 }, ['a', 'b']]) {
      await rejectsUnchanged('POST', itemsPath, { json: { title } }, 400, 'Failed to create record.', {
        title: { code: 'validation_required', message: 'Cannot be blank.' },
      });
    }
  });

  it('a number outside the float64 range is a decode error', async () => {
    await rejectsUnchanged('POST', itemsPath, rawJson('{"title":"x","num":1e400}'), 400, DEFAULT_400);
    await rejectsUnchanged('PATCH', recordPath(), rawJson('{"num":1e400}'), 400, DEFAULT_400);
  });

  it('invalid values for typed fields on update', async () => {
    await rejectsUnchanged('PATCH', recordPath(), { json: { mail: 42, site: true, status: 5, tag: ['nonexistent0001'] } },
      400, 'Failed to update record.', {
        mail: { code: 'validation_is_email', message: 'Must be a valid email address.' },
        site: { code: 'validation_invalid_url', message: 'Must be a valid url.' },
        status: { code: 'validation_invalid_value', message: 'Invalid value 5.', params: { value: '5' } },
        tag: { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' },
      });
  });

  it('wrongly typed collection and settings sections', async () => {
    await rejectsUnchanged('POST', '/api/collections', { json: { name: 'typed', fields: 'not a list' } }, 400,
      'Failed to load the submitted data due to invalid formatting.');
    await rejectsUnchanged('PATCH', `/api/collections/${ITEMS}`, { json: { fields: [{ name: 'x', type: 'nope' }] } }, 400,
      'Failed to load the submitted data due to invalid formatting.');
    await rejectsUnchanged('PATCH', '/api/settings', { json: { meta: 'string' } }, 400, 'An error occurred while loading the submitted data.');
    await rejectsUnchanged('PATCH', '/api/settings', { json: { batch: { maxRequests: 'many' } } }, 400,
      'An error occurred while loading the submitted data.');
  });

  it('non-object scalars are silently coerced (not errors): documented PocketBase behaviour', async () => {
    const rec = await ctx.admin.collection(ITEMS).create({ title: 'coerced', num: { a: 1 }, flag: { a: 1 }, loc: 'nope', labels: { a: 1 }, due: 12345 });
    assert.deepEqual([rec.num, rec.flag, rec.loc, rec.labels, rec.due], [0, false, { lon: 0, lat: 0 }, [], '']);
    await ctx.admin.collection(ITEMS).delete(rec.id);
  });
});

describe('unknown fields', () => {
  it('only unknown fields → required error, nothing created', async () => {
    await rejectsUnchanged('POST', itemsPath, { json: { nope: 1, [INJECTION]: 'x' } }, 400, 'Failed to create record.', {
      title: { code: 'validation_required', message: 'Cannot be blank.' },
    });
  });

  it('unknown fields next to an invalid value do not get stored', async () => {
    await rejectsUnchanged('PATCH', recordPath(), { json: { nope: 1, title: '' } }, 400, 'Failed to update record.', {
      title: { code: 'validation_required', message: 'Cannot be blank.' },
    });
  });
});

describe('oversized bodies', () => {
  it('a JSON body over 32 MiB → 413', async () => {
    // `tags` has a single text field, so its record body limit is the plain 32 MiB default
    // (editor/json/file fields raise the limit of a collection by their max sizes)
    const big = JSON.stringify({ name: 'x'.repeat(33 * 1024 * 1024) });
    await rejectsUnchanged('POST', `/api/collections/${TAGS}/records`, rawJson(big), 413, 'Request entity too large.');
    await rejectsUnchanged('PATCH', '/api/settings', rawJson(big), 413, 'Request entity too large.');
    await rejectsUnchanged('POST', '/api/collections', rawJson(big), 413, 'Request entity too large.');
  });

  it('a large body under the limit reaches validation instead', async () => {
    await rejectsUnchanged('POST', itemsPath, { json: { title: 'x'.repeat(5001) } }, 400, 'Failed to create record.', {
      title: { code: 'validation_max_text_constraint', message: 'Must be no more than 5000 character(s).', params: { max: 5000 } },
    });
  });
});

describe('invalid ids', () => {
  const ids = ["' OR '1'='1", INJECTION, 'short', 'x'.repeat(300), 'abc..def', '%00'];
  for (const id of ids) {
    it(`id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 10)}…` : id)} → 404 on view/update/delete`, async () => {
      const path = `${itemsPath}/${encodeURIComponent(id)}`;
      await rejectsUnchanged('GET', path, {}, 404, NOT_FOUND);
      await rejectsUnchanged('PATCH', path, { json: { title: 'hacked' } }, 404, NOT_FOUND);
      await rejectsUnchanged('DELETE', path, {}, 404, NOT_FOUND);
    });
  }

  it('unknown collection ids/names → 404', async () => {
    await rejectsUnchanged('GET', `/api/collections/${encodeURIComponent(INJECTION)}`, {}, 404, NOT_FOUND);
    await rejectsUnchanged('DELETE', `/api/collections/${encodeURIComponent(INJECTION)}`, {}, 404, NOT_FOUND);
    await rejectsUnchanged('GET', `/api/collections/${encodeURIComponent(INJECTION)}/records`, {}, 404, 'Missing collection context.');
  });

  it('an invalid id on create → validation error', async () => {
    await rejectsUnchanged('POST', itemsPath, { json: { id: "' OR 1=1; --abc", title: 'x' } }, 400, 'Failed to create record.', {
      id: { code: 'validation_invalid_format', message: 'Invalid value format.' },
    });
  });
});

describe('SQL-ish strings', () => {
  it('in collection and field names → validation errors', async () => {
    await rejectsUnchanged('POST', '/api/collections', { json: { name: INJECTION } }, 400, 'Failed to create collection.', {
      name: { code: 'validation_match_invalid', message: 'Must be in a valid format.' },
    });
    await rejectsUnchanged('POST', '/api/collections', { json: { name: 'sqlish', fields: [{ name: INJECTION, type: 'text' }] } },
      400, 'Failed to create collection.', {
        fields: { 1: { name: { code: 'validation_match_invalid', message: 'Must be in a valid format.' } } },
      });
  });

  it('in index definitions → validation error', async () => {
    await rejectsUnchanged('PATCH', `/api/collections/${ITEMS}`, { json: { indexes: [`CREATE INDEX x ON items (title); DROP TABLE items; --`] } },
      400, 'Failed to update collection.', {
        indexes: { 0: { code: 'validation_invalid_index_expression', message: 'Invalid CREATE INDEX expression.' } },
      });
  });

  it('in sort and filter → 400, or simply no match', async () => {
    await rejectsUnchanged('GET', `${itemsPath}?sort=${encodeURIComponent('title; DROP TABLE items')}`, {}, 400, DEFAULT_400);
    await rejectsUnchanged('GET', `${itemsPath}?filter=${encodeURIComponent('title=1; DROP TABLE items')}`, {}, 400, DEFAULT_400);
    const res = await ctx.admin.collection(ITEMS).getList(1, 10, { filter: `title = "x' OR 1=1 --"` });
    assert.equal(res.totalItems, 0);
    const escaped = await ctx.admin.collection(ITEMS).getList(1, 10, { filter: ctx.admin.filter('title = {:t}', { t: INJECTION }) });
    assert.equal(escaped.totalItems, 0);
  });

  it('as record values they are stored verbatim and the table survives', async () => {
    const before = await ctx.admin.collection(ITEMS).getList(1, 1);
    const rec = await ctx.admin.collection(ITEMS).create({ title: INJECTION, body: `<p>${INJECTION}</p>`, data: { [INJECTION]: INJECTION } });
    assert.equal(rec.title, INJECTION);
    assert.deepEqual(rec.data, { [INJECTION]: INJECTION });
    const found = await ctx.admin.collection(ITEMS).getFirstListItem(ctx.admin.filter('title = {:t}', { t: INJECTION }));
    assert.equal(found.id, rec.id);
    await ctx.admin.collection(ITEMS).delete(rec.id);
    assert.equal((await ctx.admin.collection(ITEMS).getList(1, 1)).totalItems, before.totalItems);
  });

  it('the seeded record is still intact', async () => {
    assert.deepEqual(await ctx.admin.collection(ITEMS).getOne(seeded.record.id), seeded.record);
  });
});
