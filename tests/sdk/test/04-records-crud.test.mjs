// Records CRUD with every field type, modifiers, ids, autodates, JSON vs multipart bodies,
// validation errors, cascade delete and required-relation delete protection.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  DATE_RE, expectHttpError, expectSdkError, http, RECORD_ID_RE, sleep, useServer,
} from '../lib/client.mjs';
import {
  createTagsAndItems, ITEM_ZERO_VALUES, ITEMS, ITEMS_ID, PUBLIC_RULES, TAGS, withoutDates,
} from '../lib/fixtures.mjs';
import { collectionIdFor } from '../lib/schema.mjs';

let tags; // {t1, t2, t3}
const ctx = useServer({}, async ({ admin }) => {
  tags = await createTagsAndItems(admin);
});
const items = () => ctx.admin.collection(ITEMS);

const FILE_NAME_RE = (base, ext) => new RegExp(`^${base}_[a-z0-9]{10}\\.${ext}$`);

async function download(record, filename) {
  const res = await fetch(ctx.admin.files.getURL(record, filename));
  assert.equal(res.status, 200, `download ${filename}`);
  return res.text();
}

describe('create', () => {
  it('only the required field: every other field gets its zero value', async () => {
    const rec = await items().create({ title: 'minimal' });
    assert.match(rec.id, RECORD_ID_RE);
    assert.match(rec.code, /^[A-Z]{4}$/, 'autogeneratePattern fills empty text');
    assert.match(rec.created, DATE_RE);
    assert.equal(rec.updated, rec.created);
    assert.deepEqual(rec, {
      ...ITEM_ZERO_VALUES,
      id: rec.id, code: rec.code, created: rec.created, updated: rec.updated,
      collectionId: ITEMS_ID, collectionName: ITEMS, title: 'minimal',
    });
    assert.deepEqual(await items().getOne(rec.id), rec);
  });

  it('every field type with a JSON body', async () => {
    const rec = await items().create({
      title: 'full', code: 'GIVEN', num: -1.25, count: 42, flag: true, mail: 'a@example.com',
      site: 'https://example.com/x?y=1', body: '<p>Hello <b>world</b></p>', due: '2024-01-02 03:04:05.678Z',
      status: 'published', labels: ['c', 'a'], tag: tags.t1.id, tagz: [tags.t2.id, tags.t1.id],
      data: { nested: [1, 'two', null, { three: true }] }, loc: { lon: 12.5, lat: -45.25 }, secret: 's3cret-value',
    });
    assert.deepEqual(withoutDates(rec), {
      ...ITEM_ZERO_VALUES,
      id: rec.id, collectionId: ITEMS_ID, collectionName: ITEMS,
      title: 'full', code: 'GIVEN', num: -1.25, count: 42, flag: true, mail: 'a@example.com',
      site: 'https://example.com/x?y=1', body: '<p>Hello <b>world</b></p>', due: '2024-01-02 03:04:05.678Z',
      status: 'published', labels: ['c', 'a'], tag: tags.t1.id, tagz: [tags.t2.id, tags.t1.id],
      data: { nested: [1, 'two', null, { three: true }] }, loc: { lon: 12.5, lat: -45.25 },
      secret: '', // password values are never returned
    });
    assert.deepEqual(await items().getOne(rec.id), rec);
  });

  it('loose values are normalised', async () => {
    const rec = await items().create({
      title: 12345, num: '12', flag: 'true', due: '2024-01-02', labels: 'b', status: ['draft', 'archived'],
      tagz: tags.t3.id, data: 'plain text', count: '7',
    });
    assert.equal(rec.title, '12345');
    assert.equal(rec.num, 12);
    assert.equal(rec.count, 7);
    assert.equal(rec.flag, true);
    assert.equal(rec.due, '2024-01-02 00:00:00.000Z');
    assert.deepEqual(rec.labels, ['b']);
    assert.equal(rec.status, 'archived', 'single select keeps the last value');
    assert.deepEqual(rec.tagz, [tags.t3.id]);
    assert.equal(rec.data, 'plain text');
  });

  it('date inputs are parsed leniently and stored as UTC; unix seconds are not parsed', async () => {
    const cases = [
      ['2024-01-02T10:00:00Z', '2024-01-02 10:00:00.000Z'],
      ['2024-01-02 10:00:00', '2024-01-02 10:00:00.000Z'],
      ['2024-01-02T10:00:00+02:00', '2024-01-02 08:00:00.000Z'],
      ['2024-01-02 10:00:00.123456Z', '2024-01-02 10:00:00.123Z'],
      ['1700000000', ''],
      [1700000000, ''],
      ['not a date', ''],
    ];
    for (const [input, stored] of cases) {
      const rec = await items().create({ title: 'date', due: input });
      assert.equal(rec.due, stored, `due ${JSON.stringify(input)}`);
    }
  });

  it('multi values are de-duplicated keeping the first occurrence', async () => {
    const rec = await items().create({ title: 'dups', labels: ['b', 'a', 'b'], tagz: [tags.t1.id, tags.t1.id, tags.t2.id] });
    assert.deepEqual(rec.labels, ['b', 'a']);
    assert.deepEqual(rec.tagz, [tags.t1.id, tags.t2.id]);
  });

  it('unknown fields and read-only keys are ignored', async () => {
    const rec = await items().create({
      title: 'extras', bogus: 1, collectionName: 'other', collectionId: 'x', expand: { a: 1 },
    });
    assert.equal(rec.collectionName, ITEMS);
    assert.equal(rec.collectionId, ITEMS_ID);
    assert.ok(!('bogus' in rec));
    assert.ok(!('expand' in rec));
    assert.deepEqual(await items().getOne(rec.id), rec);
  });

  it('a custom 15-char id is kept; invalid or duplicate ids are rejected', async () => {
    const rec = await items().create({ id: 'customid0000001', title: 'custom' });
    assert.equal(rec.id, 'customid0000001');
    assert.equal((await items().getOne('customid0000001')).title, 'custom');
    const fail = (id, error) => expectSdkError(items().create({ id, title: 'x' }), 400, 'Failed to create record.', { id: error });
    await fail('short', { code: 'validation_min_text_constraint', message: 'Must be at least 15 character(s).', params: { min: 15 } });
    await fail('customid00000001', { code: 'validation_max_text_constraint', message: 'Must be no more than 15 character(s).', params: { max: 15 } });
    await fail('UPPERCASEID0001', { code: 'validation_invalid_format', message: 'Invalid value format.' });
    await fail('customid0000001', { code: 'validation_not_unique', message: 'Value must be unique.' });
  });

  it('an empty id is replaced by a generated one', async () => {
    const rec = await items().create({ id: '', title: 'empty id' });
    assert.match(rec.id, RECORD_ID_RE);
  });

  it('autodate values sent by the client are ignored', async () => {
    const rec = await items().create({ title: 'dates', created: '2001-01-01 00:00:00.000Z', updated: '2001-01-01 00:00:00.000Z' });
    assert.notEqual(rec.created, '2001-01-01 00:00:00.000Z');
    assert.ok(Math.abs(Date.parse(rec.created.replace(' ', 'T')) - Date.now()) < 60_000);
  });

  it('text:autogenerate appends a generated suffix', async () => {
    const rec = await items().create({ title: 'auto', 'code:autogenerate': 'pre-' });
    assert.match(rec.code, /^pre-[A-Z]{4}$/);
  });
});

describe('validation errors', () => {
  it('missing required field: exact error envelope', async () => {
    const res = await http(ctx.url, 'POST', `/api/collections/${ITEMS}/records`, { json: {} });
    assert.equal(res.status, 400);
    assert.equal(res.text.trim(),
      '{"data":{"title":{"code":"validation_required","message":"Cannot be blank."}},"message":"Failed to create record.","status":400}');
    await expectSdkError(items().create({ title: '' }), 400, 'Failed to create record.', {
      title: { code: 'validation_required', message: 'Cannot be blank.' },
    });
  });

  it('several invalid fields are reported together', async () => {
    await expectSdkError(items().create({
      title: 'bad', mail: 'not-an-email', site: 'nope', status: 'zzz', labels: ['a', 'b', 'c', 'd'],
      count: 1.5, loc: { lon: 500, lat: 0 }, tag: 'missingrecord01',
    }), 400, 'Failed to create record.', {
      mail: { code: 'validation_is_email', message: 'Must be a valid email address.' },
      site: { code: 'validation_invalid_url', message: 'Must be a valid url.' },
      status: { code: 'validation_invalid_value', message: 'Invalid value zzz.', params: { value: 'zzz' } },
      labels: { code: 'validation_too_many_values', message: 'Select no more than 3.', params: { maxSelect: 3 } },
      count: { code: 'validation_only_int_constraint', message: 'Decimal numbers are not allowed.' },
      loc: { code: 'validation_invalid_longitude', message: 'Longitude must be between -180 and 180 degrees.' },
      tag: { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' },
    });
  });

  it('number limits', async () => {
    await expectSdkError(items().create({ title: 'big', count: 101 }), 400, 'Failed to create record.', {
      count: { code: 'validation_max_number_constraint', message: 'Must be less or equal than 100.', params: { max: 100 } },
    });
  });

  it('update validation uses "Failed to update record."', async () => {
    const rec = await items().create({ title: 'to update' });
    await expectSdkError(items().update(rec.id, { title: '' }), 400, 'Failed to update record.', {
      title: { code: 'validation_required', message: 'Cannot be blank.' },
    });
    await expectSdkError(items().update(rec.id, { id: 'otherid00000001' }), 400, 'Failed to update record.', {
      id: { code: 'validation_pk_change', message: 'The record primary key cannot be changed.' },
    });
    assert.equal((await items().getOne(rec.id)).title, 'to update');
  });
});

describe('update and modifiers', () => {
  it('number+ / number- add and subtract', async () => {
    const rec = await items().create({ title: 'nums', num: 5 });
    assert.equal((await items().update(rec.id, { 'num+': 10 })).num, 15);
    assert.equal((await items().update(rec.id, { 'num-': 20.5 })).num, -5.5);
    assert.equal((await items().update(rec.id, { 'num+': '2' })).num, -3.5);
    assert.equal((await items().getOne(rec.id)).num, -3.5);
  });

  it('select +field / field+ / field- prepend, append and remove', async () => {
    const rec = await items().create({ title: 'sel', labels: ['a', 'b'] });
    assert.deepEqual((await items().update(rec.id, { 'labels+': 'c' })).labels, ['a', 'b', 'c']);
    assert.deepEqual((await items().update(rec.id, { 'labels-': ['a', 'c'] })).labels, ['b']);
    assert.deepEqual((await items().update(rec.id, { '+labels': 'd' })).labels, ['d', 'b']);
    assert.deepEqual((await items().update(rec.id, { 'labels+': 'b' })).labels, ['d', 'b'], 'appending an existing value is a no-op');
    // single select: `+`/`-` behave on a one-element list
    assert.equal((await items().update(rec.id, { 'status+': 'draft' })).status, 'draft');
    assert.equal((await items().update(rec.id, { 'status-': 'draft' })).status, '');
  });

  it('relation + / - modifiers', async () => {
    const rec = await items().create({ title: 'rel', tagz: [tags.t1.id] });
    assert.deepEqual((await items().update(rec.id, { 'tagz+': tags.t2.id })).tagz, [tags.t1.id, tags.t2.id]);
    assert.deepEqual((await items().update(rec.id, { '+tagz': [tags.t3.id, tags.t1.id] })).tagz,
      [tags.t3.id, tags.t1.id, tags.t2.id]);
    assert.deepEqual((await items().update(rec.id, { 'tagz-': tags.t3.id })).tagz, [tags.t1.id, tags.t2.id]);
    assert.deepEqual((await items().update(rec.id, { 'tagz-': [tags.t1.id, tags.t2.id] })).tagz, []);
  });

  it('modifiers of different key lengths combine in one request', async () => {
    const rec = await items().create({ title: 'combo', num: 5, labels: ['a', 'b'] });
    const up = await items().update(rec.id, { 'num+': 10, 'labels-': 'a', 'title': 'combo2' });
    assert.deepEqual([up.num, up.labels, up.title], [15, ['b'], 'combo2']);
  });

  it('a partial update leaves the other fields untouched', async () => {
    const rec = await items().create({ title: 'partial', num: 3, labels: ['a'], data: { x: 1 } });
    const up = await items().update(rec.id, { flag: true });
    assert.deepEqual(withoutDates(up), { ...withoutDates(rec), flag: true });
  });

  it('empty values clear fields', async () => {
    const rec = await items().create({ title: 'clear', num: 3, labels: ['a'], tag: tags.t1.id, data: [1], due: '2024-01-01' });
    const up = await items().update(rec.id, { num: null, labels: [], tag: '', data: null, due: '' });
    assert.deepEqual([up.num, up.labels, up.tag, up.data, up.due], [0, [], '', null, '']);
  });

  it('autodate: created is kept, updated moves forward, client values are ignored', async () => {
    const rec = await items().create({ title: 'time' });
    await sleep(20);
    const up = await items().update(rec.id, { title: 'time2', created: '2001-01-01 00:00:00.000Z', updated: '2001-01-01 00:00:00.000Z' });
    assert.equal(up.created, rec.created);
    assert.match(up.updated, DATE_RE);
    assert.ok(up.updated > rec.updated, `${up.updated} > ${rec.updated}`);
  });

  it('text:autogenerate on update', async () => {
    const rec = await items().create({ title: 'gen', code: 'FIXED' });
    const up = await items().update(rec.id, { 'code:autogenerate': 'x-' });
    assert.match(up.code, /^x-[A-Z]{4}$/);
  });

  it('updating a missing record → 404', async () => {
    await expectSdkError(items().update('missingrecord01', { title: 'x' }), 404, "The requested resource wasn't found.");
  });
});

describe('multipart bodies and files', () => {
  it('FormData values are type-inferred like JSON', async () => {
    const fd = new FormData();
    fd.append('title', 'multipart');
    fd.append('num', '12.5');
    fd.append('flag', 'true');
    fd.append('labels', 'a');
    fd.append('labels', 'c');
    fd.append('tagz', tags.t1.id);
    fd.append('data', '{"k":[1,2]}');
    const rec = await items().create(fd);
    assert.deepEqual([rec.title, rec.num, rec.flag, rec.labels, rec.tagz, rec.data],
      ['multipart', 12.5, true, ['a', 'c'], [tags.t1.id], { k: [1, 2] }]);
  });

  it('@jsonPayload is merged over the regular form values', async () => {
    const fd = new FormData();
    fd.append('title', 'from form');
    fd.append('num', '1');
    fd.append('@jsonPayload', JSON.stringify({ title: 'from payload', data: { deep: true }, labels: ['b'] }));
    const rec = await items().create(fd);
    assert.deepEqual([rec.title, rec.num, rec.data, rec.labels], ['from payload', 1, { deep: true }, ['b']]);
  });

  it('files upload with normalised names and can be downloaded', async () => {
    const fd = new FormData();
    fd.append('title', 'with files');
    fd.append('doc', new Blob(['single file'], { type: 'text/plain' }), 'My Doc (1).txt');
    fd.append('docs', new Blob(['one'], { type: 'text/plain' }), 'one.txt');
    fd.append('docs', new Blob(['two'], { type: 'text/plain' }), 'two.txt');
    const rec = await items().create(fd);
    assert.match(rec.doc, FILE_NAME_RE('my_doc_1', 'txt'));
    assert.equal(rec.docs.length, 2);
    assert.match(rec.docs[0], FILE_NAME_RE('one', 'txt'));
    assert.match(rec.docs[1], FILE_NAME_RE('two', 'txt'));
    assert.equal(await download(rec, rec.doc), 'single file');
    assert.equal(await download(rec, rec.docs[1]), 'two');
    assert.deepEqual(await items().getOne(rec.id), rec);
  });

  it('the SDK converts objects holding Blobs into multipart + @jsonPayload', async () => {
    const rec = await items().create({
      title: 'sdk files', data: { nested: { ok: 1 } }, labels: ['a', 'b'],
      docs: [new File(['alpha'], 'alpha.txt', { type: 'text/plain' })],
    });
    assert.deepEqual([rec.title, rec.data, rec.labels], ['sdk files', { nested: { ok: 1 } }, ['a', 'b']]);
    assert.equal(rec.docs.length, 1);
    assert.match(rec.docs[0], FILE_NAME_RE('alpha', 'txt'));
  });

  it('files+ appends, files- removes by name, and removed files are gone', async () => {
    const rec = await items().create({ title: 'file mods', docs: [new File(['1'], 'a.txt'), new File(['2'], 'b.txt')] });
    const [a, b] = rec.docs;
    assert.match(a, /^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$/, 'names shorter than 3 chars get 10 random chars appended');
    const added = await items().update(rec.id, { 'docs+': new File(['3'], 'ccc.txt') });
    assert.equal(added.docs.length, 3);
    assert.deepEqual(added.docs.slice(0, 2), [a, b]);
    assert.match(added.docs[2], FILE_NAME_RE('ccc', 'txt'));
    const removed = await items().update(rec.id, { 'docs-': [a] });
    assert.deepEqual(removed.docs, [b, added.docs[2]]);
    const res = await fetch(ctx.admin.files.getURL(rec, a));
    assert.equal(res.status, 404);
    const cleared = await items().update(rec.id, { docs: [] });
    assert.deepEqual(cleared.docs, []);
  });

  it('a single file field keeps only the last upload', async () => {
    const fd = new FormData();
    fd.append('title', 'single');
    fd.append('doc', new Blob(['first']), 'first.txt');
    fd.append('doc', new Blob(['second']), 'second.txt');
    const rec = await items().create(fd);
    assert.match(rec.doc, FILE_NAME_RE('second', 'txt'));
    assert.equal(await download(rec, rec.doc), 'second');
  });

  it('a plain string naming a file that is not on the record is rejected', async () => {
    const rec = await items().create({ title: 'strings' });
    const err = await items().update(rec.id, { docs: ['not_there.txt'] }).then(() => null, (e) => e);
    assert.equal(err?.status, 400);
    assert.equal(err.response.message, 'Failed to update record.');
    assert.equal(err.response.data.docs.code, 'validation_invalid_file');
  });
});

describe('delete', () => {
  it('delete → 204, then view → 404', async () => {
    const rec = await items().create({ title: 'bye' });
    const res = await http(ctx.url, 'DELETE', `/api/collections/${ITEMS}/records/${rec.id}`, { token: ctx.admin.authStore.token });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    await expectSdkError(items().getOne(rec.id), 404, "The requested resource wasn't found.");
    await expectSdkError(items().delete(rec.id), 404, "The requested resource wasn't found.");
  });

  it('deleting a related record removes it from relation fields', async () => {
    const tag = await ctx.admin.collection(TAGS).create({ name: 'temporary' });
    const rec = await items().create({ title: 'has tag', tag: tag.id, tagz: [tag.id, tags.t1.id] });
    assert.equal(await ctx.admin.collection(TAGS).delete(tag.id), true);
    const after = await items().getOne(rec.id);
    assert.equal(after.tag, '');
    assert.deepEqual(after.tagz, [tags.t1.id]);
  });

  describe('cascade and required relations', () => {
    before(async () => {
      await ctx.admin.collections.create({ name: 'owners', ...PUBLIC_RULES, fields: [{ name: 'name', type: 'text' }] });
      const ownersId = collectionIdFor('base', 'owners');
      await ctx.admin.collections.create({
        name: 'pets', ...PUBLIC_RULES,
        fields: [{ name: 'owner', type: 'relation', collectionId: ownersId, maxSelect: 1, required: true }],
      });
      await ctx.admin.collections.create({
        name: 'notes', ...PUBLIC_RULES,
        fields: [{ name: 'owner', type: 'relation', collectionId: ownersId, maxSelect: 1, cascadeDelete: true }],
      });
    });

    it('cascadeDelete removes the referencing records', async () => {
      const owner = await ctx.admin.collection('owners').create({ name: 'o1' });
      const n1 = await ctx.admin.collection('notes').create({ owner: owner.id });
      const n2 = await ctx.admin.collection('notes').create({ owner: owner.id });
      await ctx.admin.collection('owners').delete(owner.id);
      for (const n of [n1, n2]) {
        await expectSdkError(ctx.admin.collection('notes').getOne(n.id), 404, "The requested resource wasn't found.");
      }
    });

    it('a required relation without cascade blocks the delete', async () => {
      const owner = await ctx.admin.collection('owners').create({ name: 'o2' });
      const pet = await ctx.admin.collection('pets').create({ owner: owner.id });
      await expectSdkError(ctx.admin.collection('owners').delete(owner.id), 400,
        'Failed to delete record. Make sure that the record is not part of a required relation reference.');
      assert.equal((await ctx.admin.collection('owners').getOne(owner.id)).name, 'o2');
      assert.equal((await ctx.admin.collection('pets').getOne(pet.id)).owner, owner.id);
      await ctx.admin.collection('pets').delete(pet.id);
      await ctx.admin.collection('owners').delete(owner.id);
      await expectSdkError(ctx.admin.collection('owners').getOne(owner.id), 404, "The requested resource wasn't found.");
    });
  });
});

describe('collections without records API', () => {
  it('view collection records are read-only', async () => {
    await ctx.admin.collections.create({
      name: 'items_view', type: 'view', listRule: '', viewRule: '', viewQuery: `SELECT id, title FROM ${ITEMS}`,
    });
    const res = await http(ctx.url, 'POST', '/api/collections/items_view/records', { json: { title: 'x' }, token: ctx.admin.authStore.token });
    expectHttpError(res, 400, 'Unsupported collection type.');
    const list = await ctx.admin.collection('items_view').getList(1, 1, { sort: '-title' });
    assert.ok(list.totalItems > 0);
    assert.deepEqual(Object.keys(list.items[0]).sort(), ['collectionId', 'collectionName', 'id', 'title']);
  });

  it('records of a missing collection → 404 (the message depends on the endpoint)', async () => {
    const nope = ctx.admin.collection('nope');
    await expectSdkError(nope.getList(), 404, 'Missing collection context.');
    await expectSdkError(nope.getOne('abcdefghijklmno'), 404, 'Missing collection context.');
    await expectSdkError(nope.delete('abcdefghijklmno'), 404, 'Missing collection context.');
    await expectSdkError(nope.create({}), 404, 'Missing or invalid collection context.');
    await expectSdkError(nope.update('abcdefghijklmno', {}), 404, 'Missing or invalid collection context.');
  });
});

describe('auth collection records', () => {
  const MEMBERS = 'members';
  const pass = 'member-pass-1';
  const members = (pb) => pb.collection(MEMBERS);
  const createFails = (pb, body, data) => expectSdkError(members(pb).create(body), 400, 'Failed to create record.', data);

  before(async () => {
    await ctx.admin.collections.create({
      name: MEMBERS, type: 'auth', ...PUBLIC_RULES, fields: [{ name: 'nick', type: 'text' }],
    });
  });

  it('password and passwordConfirm are required and must match', async () => {
    const blank = { code: 'validation_required', message: 'Cannot be blank.' };
    await createFails(ctx.guest, { email: 'm1@example.com' }, { password: blank, passwordConfirm: blank });
    await createFails(ctx.guest, { email: 'm1@example.com', password: pass, passwordConfirm: 'different-1' }, {
      passwordConfirm: { code: 'validation_values_mismatch', message: "Values don't match." },
    });
    await createFails(ctx.guest, { email: 'bad', password: 'short', passwordConfirm: 'short' }, {
      email: { code: 'validation_is_email', message: 'Must be a valid email address.' },
      password: { code: 'validation_min_text_constraint', message: 'Must be at least 8 character(s).' },
    });
  });

  it('guests cannot set verified; the email is hidden from them unless emailVisibility', async () => {
    await createFails(ctx.guest, { email: 'm2@example.com', password: pass, passwordConfirm: pass, verified: true }, {
      verified: { code: 'validation_values_mismatch', message: "Values don't match." },
    });
    const hidden = await members(ctx.guest).create({ email: 'm2@example.com', password: pass, passwordConfirm: pass, nick: 'two' });
    assert.deepEqual(hidden, {
      collectionId: collectionIdFor('auth', MEMBERS), collectionName: MEMBERS, emailVisibility: false,
      id: hidden.id, nick: 'two', verified: false,
    });
    const shown = await members(ctx.guest).create({ email: 'm3@example.com', password: pass, passwordConfirm: pass, emailVisibility: true });
    assert.equal(shown.email, 'm3@example.com');
    // superusers always see the email, never the password or tokenKey
    const asAdmin = await members(ctx.admin).getOne(hidden.id);
    assert.equal(asAdmin.email, 'm2@example.com');
    assert.ok(!('password' in asAdmin) && !('tokenKey' in asAdmin));
  });

  it('superusers may create verified records; emails are unique', async () => {
    const rec = await members(ctx.admin).create({ email: 'm4@example.com', password: pass, passwordConfirm: pass, verified: true });
    assert.equal(rec.verified, true);
    await createFails(ctx.admin, { email: 'm4@example.com', password: pass, passwordConfirm: pass }, {
      email: { code: 'validation_not_unique', message: 'Value must be unique.' },
    });
  });
});
