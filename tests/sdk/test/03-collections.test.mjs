// Collections API: create/update/delete base, auth and view collections with every field type,
// list/view, scaffolds, import, truncate, renames, and validation error codes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DATE_RE, expectHttpError, expectSdkError, http, useServer } from '../lib/client.mjs';
import {
  AUTH_SYSTEM_FIELDS, authIndexes, collectionIdFor, expectedField, fieldIdFor, fieldsByName, ID_FIELD,
} from '../lib/schema.mjs';

// `c_tags` is the target of the relation fields below.
const TAGS_ID = collectionIdFor('base', 'c_tags');
const ctx = useServer({}, async ({ admin }) => {
  await admin.collections.create({ name: 'c_tags', fields: [{ name: 'label', type: 'text' }] });
});

// [type, name, options] for every field type, with non-default options.
const FIELD_SPECS = [
  ['text', 'title', { min: 2, max: 50, pattern: '^[A-Za-z ]+$', required: true, presentable: true, help: 'Title' }],
  ['text', 'slug', { autogeneratePattern: '[a-z]{8}' }],
  ['number', 'count', { min: 0, max: 100, onlyInt: true }],
  ['bool', 'flag', {}],
  ['email', 'mail', { onlyDomains: ['example.com'] }],
  ['url', 'site', { exceptDomains: ['bad.test'] }],
  ['editor', 'body', { maxSize: 1000, convertURLs: true }],
  ['date', 'due', { min: '2000-01-01 00:00:00.000Z', max: '2030-01-01 10:00:00.000Z' }],
  ['autodate', 'created', { onCreate: true }],
  ['autodate', 'updated', { onCreate: true, onUpdate: true }],
  ['select', 'status', { values: ['draft', 'published'] }],
  ['select', 'labels', { values: ['a', 'b', 'c'], maxSelect: 2 }],
  ['file', 'doc', { maxSelect: 1, mimeTypes: ['text/plain'], maxSize: 1024, protected: true }],
  ['file', 'gallery', { maxSelect: 3, thumbs: ['10x10', '0x20'] }],
  ['relation', 'owner', { collectionId: TAGS_ID, maxSelect: 1, required: true }],
  ['relation', 'tags', { collectionId: TAGS_ID, maxSelect: 5, minSelect: 1, cascadeDelete: true }],
  ['json', 'meta', { maxSize: 2000, hidden: true }],
  ['geoPoint', 'place', {}],
  ['password', 'pin', { min: 6, max: 20, cost: 4 }],
];

const fieldInputs = (specs = FIELD_SPECS) => specs.map(([type, name, opts]) => ({ name, type, ...opts }));
const fieldOutputs = (specs = FIELD_SPECS) => specs.map(([type, name, opts]) => expectedField(type, name, opts));

/** Compares a collection response with the expected JSON; created/updated only by format. */
function assertCollection(actual, expected) {
  assert.match(actual.created, DATE_RE);
  assert.match(actual.updated, DATE_RE);
  const { created, updated, ...rest } = actual;
  assert.deepEqual(rest, expected);
}

const baseCollection = (name, extra = {}) => ({
  id: collectionIdFor(extra.type ?? 'base', name),
  listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null,
  name, type: 'base', fields: [ID_FIELD], indexes: [], system: false, ...extra,
});

describe('create', () => {
  it('a minimal base collection gets the id field and a crc32-derived id', async () => {
    const col = await ctx.admin.collections.create({ name: 'c_minimal' });
    assert.equal(col.id, 'pbc_3062989769'); // crc32('base' + 'c_minimal')
    assertCollection(col, baseCollection('c_minimal'));
  });

  it('a base collection with every field type echoes all option keys', async () => {
    const col = await ctx.admin.collections.create({
      name: 'c_all', listRule: '', viewRule: 'id != ""', createRule: null,
      fields: fieldInputs(),
      indexes: ['CREATE INDEX idx_c_all_title ON c_all (title)'],
    });
    assertCollection(col, baseCollection('c_all', {
      listRule: '', viewRule: 'id != ""',
      fields: [ID_FIELD, ...fieldOutputs()],
      // user indexes are stored verbatim (only system indexes use the backtick form)
      indexes: ['CREATE INDEX idx_c_all_title ON c_all (title)'],
    }));
    assert.equal(col.fields.find((f) => f.name === 'title').id, 'text724990059');
  });

  it('an auth collection with every field type gets the system auth fields and options', async () => {
    const col = await ctx.admin.collections.create({ name: 'c_members', type: 'auth', fields: fieldInputs() });
    const id = collectionIdFor('auth', 'c_members');
    const { authAlert, otp, verificationTemplate, resetPasswordTemplate, confirmEmailChangeTemplate, ...rest } = col;
    assertCollection(rest, baseCollection('c_members', {
      type: 'auth',
      fields: [ID_FIELD, ...fieldOutputs(), ...AUTH_SYSTEM_FIELDS],
      indexes: authIndexes(id, 'c_members'),
      authRule: '',
      manageRule: null,
      oauth2: { providers: [], mappedFields: { id: '', name: '', username: '', avatarURL: '' }, enabled: false },
      passwordAuth: { enabled: true, identityFields: ['email'] },
      mfa: { enabled: false, duration: 600, rule: '' },
      authToken: { duration: 432000 },
      passwordResetToken: { duration: 1800 },
      emailChangeToken: { duration: 1800 },
      verificationToken: { duration: 86400 },
      fileToken: { duration: 180 },
    }));
    assert.equal(authAlert.enabled, true);
    assert.equal(authAlert.emailTemplate.subject, 'Login from a new location');
    assert.deepEqual(Object.keys(otp).sort(), ['duration', 'emailTemplate', 'enabled', 'length']);
    assert.deepEqual([otp.enabled, otp.duration, otp.length], [false, 180, 8]);
    assert.equal(otp.emailTemplate.subject, 'OTP for {APP_NAME}');
    assert.equal(verificationTemplate.subject, 'Verify your {APP_NAME} email');
    assert.equal(resetPasswordTemplate.subject, 'Reset your {APP_NAME} password');
    assert.equal(confirmEmailChangeTemplate.subject, 'Confirm your {APP_NAME} new email address');
    assert.match(verificationTemplate.body, /\{APP_URL\}\/_\/#\/auth\/confirm-verification\/\{TOKEN\}/);
    assert.ok(!JSON.stringify(col).includes('"secret"'), 'token secrets are never returned');
  });

  it('a view collection infers its fields from the query', async () => {
    const col = await ctx.admin.collections.create({
      name: 'c_all_view', type: 'view', listRule: '',
      viewQuery: 'SELECT id, title, count, labels, owner, count(id) AS total, (count * 2) AS doubled FROM c_all GROUP BY id',
    });
    const byName = fieldsByName(col);
    assert.deepEqual(col.fields.map((f) => f.name), ['id', 'title', 'count', 'labels', 'owner', 'total', 'doubled']);
    assert.deepEqual(byName.id, { ...ID_FIELD, autogeneratePattern: '', min: 0, max: 0 });
    // plain column references clone the source field under a random `_clone_XXXX` id
    for (const name of ['title', 'count', 'labels', 'owner']) {
      assert.match(byName[name].id, /^_clone_[A-Za-z0-9]{4}$/, `${name} id`);
    }
    const source = fieldsByName({ fields: fieldOutputs() });
    for (const name of ['title', 'count', 'labels', 'owner']) {
      assert.deepEqual({ ...byName[name], id: '' }, { ...source[name], id: '' }, `${name} cloned`);
    }
    assert.deepEqual(byName.total, expectedField('number', 'total', { onlyInt: true }));
    assert.deepEqual(byName.doubled, expectedField('json', 'doubled', { maxSize: 1 }));
    assertCollection(col, {
      ...baseCollection('c_all_view', { type: 'view' }),
      listRule: '',
      fields: col.fields,
      viewQuery: 'SELECT id, title, count, labels, owner, count(id) AS total, (count * 2) AS doubled FROM c_all GROUP BY id',
    });
  });

  it('a view query selecting another collection id becomes a relation field', async () => {
    const col = await ctx.admin.collections.create({
      name: 'c_tags_view', type: 'view', viewQuery: 'SELECT t.id, t.label, t.id AS tag FROM c_tags t',
    });
    assert.deepEqual(fieldsByName(col).tag, expectedField('relation', 'tag', { collectionId: TAGS_ID, maxSelect: 1 }));
  });

  it('a client-supplied collection id is kept', async () => {
    const col = await ctx.admin.collections.create({ id: 'my_custom_id_01', name: 'c_custom_id' });
    assert.equal(col.id, 'my_custom_id_01');
    assert.equal((await ctx.admin.collections.getOne('my_custom_id_01')).name, 'c_custom_id');
  });
});

describe('read', () => {
  it('view by id and by name return the same collection', async () => {
    const byName = await ctx.admin.collections.getOne('c_tags');
    const byId = await ctx.admin.collections.getOne(TAGS_ID);
    assert.equal(byName.id, TAGS_ID);
    assert.deepEqual(byId, byName);
    assert.deepEqual(byName.fields, [ID_FIELD, expectedField('text', 'label')]);
  });

  it('unknown collection → 404', async () => {
    await expectSdkError(ctx.admin.collections.getOne('c_missing'), 404, "The requested resource wasn't found.");
  });

  it('system collections are listed with their fixed ids', async () => {
    const system = await ctx.admin.collections.getFullList({ filter: 'system = true', sort: 'name' });
    assert.deepEqual(system.map((c) => [c.name, c.id, c.type]), [
      ['_authOrigins', 'pbc_4275539003', 'base'],
      ['_externalAuths', 'pbc_2281828961', 'base'],
      ['_mfas', 'pbc_2279338944', 'base'],
      ['_otps', 'pbc_1638494021', 'base'],
      ['_superusers', 'pbc_3142635823', 'auth'],
    ]);
    const users = await ctx.admin.collections.getOne('users');
    assert.equal(users.id, '_pb_users_auth_');
    assert.equal(users.system, false);
    assert.deepEqual(users.fields.map((f) => f.name),
      ['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified', 'name', 'avatar', 'created', 'updated']);
    assert.deepEqual([users.listRule, users.createRule], ['id = @request.auth.id', '']);
  });

  it('getList supports filter, sort and paging', async () => {
    for (const name of ['c_page_a', 'c_page_b', 'c_page_c']) {
      await ctx.admin.collections.create({ name });
    }
    const page1 = await ctx.admin.collections.getList(1, 2, { filter: "name ~ 'c_page_'", sort: '-name' });
    assert.deepEqual(
      { ...page1, items: page1.items.map((c) => c.name) },
      { items: ['c_page_c', 'c_page_b'], page: 1, perPage: 2, totalItems: 3, totalPages: 2 },
    );
    const page2 = await ctx.admin.collections.getList(2, 2, { filter: "name ~ 'c_page_'", sort: '-name' });
    assert.deepEqual(page2.items.map((c) => c.name), ['c_page_a']);
    const skip = await ctx.admin.collections.getList(1, 10, { filter: "name ~ 'c_page_' && type = 'base'", skipTotal: true });
    assert.deepEqual([skip.totalItems, skip.totalPages, skip.items.length], [-1, -1, 3]);
    const picked = await ctx.admin.collections.getList(1, 1, { filter: "name = 'c_page_a'", fields: 'id,name' });
    assert.deepEqual(picked.items, [{ id: collectionIdFor('base', 'c_page_a'), name: 'c_page_a' }]);
  });

  it('an invalid collections filter → 400 with the default message', async () => {
    await expectSdkError(ctx.admin.collections.getList(1, 1, { filter: 'nope = 1' }),
      400, 'Something went wrong while processing your request.');
  });
});

describe('scaffolds', () => {
  it('returns blank base/auth/view templates', async () => {
    const s = await ctx.admin.collections.getScaffolds();
    assert.deepEqual(Object.keys(s).sort(), ['auth', 'base', 'view']);
    const blank = { id: '', listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null, name: '', indexes: [], created: '', updated: '', system: false };
    assert.deepEqual(s.base, { ...blank, type: 'base', fields: [ID_FIELD] });
    assert.deepEqual(s.view, { ...blank, type: 'view', fields: [], viewQuery: '' });
    assert.equal(s.auth.type, 'auth');
    assert.deepEqual(s.auth.fields, [ID_FIELD, ...AUTH_SYSTEM_FIELDS]);
    assert.equal(s.auth.indexes.length, 2);
    assert.match(s.auth.indexes[0], /^CREATE UNIQUE INDEX `idx_tokenKey_\w+` ON `` \(`tokenKey`\)$/);
    assert.match(s.auth.indexes[1], /^CREATE UNIQUE INDEX `idx_email_\w+` ON `` \(`email`\) WHERE `email` != ''$/);
    assert.deepEqual(s.auth.passwordAuth, { enabled: true, identityFields: ['email'] });
    assert.deepEqual(s.auth.authToken, { duration: 432000 });
    assert.equal(s.auth.authRule, '');
  });
});

describe('update', () => {
  it('updates rules and keeps everything else', async () => {
    await ctx.admin.collections.create({ name: 'c_rules', fields: [{ name: 'a', type: 'text' }] });
    const col = await ctx.admin.collections.update('c_rules', { listRule: '', viewRule: "a = 'x'", deleteRule: null });
    assertCollection(col, baseCollection('c_rules', {
      listRule: '', viewRule: "a = 'x'", fields: [ID_FIELD, expectedField('text', 'a')],
    }));
    assert.notEqual(col.updated, col.created);
  });

  it('adds, renames and removes fields; data follows field ids', async () => {
    const col = await ctx.admin.collections.create({
      name: 'c_evolve',
      fields: [{ name: 'keep', type: 'text' }, { name: 'old_name', type: 'number' }, { name: 'gone', type: 'text' }],
    });
    const rec = await ctx.admin.collection('c_evolve').create({ keep: 'k', old_name: 7, gone: 'bye' });
    const byName = fieldsByName(col);
    const updated = await ctx.admin.collections.update('c_evolve', {
      fields: [
        byName.id,
        byName.keep,
        { ...byName.old_name, name: 'new_name' },
        { name: 'added', type: 'bool' },
      ],
    });
    assert.deepEqual(updated.fields, [
      ID_FIELD,
      expectedField('text', 'keep'),
      expectedField('number', 'new_name', { id: fieldIdFor('number', 'old_name') }),
      expectedField('bool', 'added'),
    ]);
    const after = await ctx.admin.collection('c_evolve').getOne(rec.id);
    assert.deepEqual(after, {
      id: rec.id, collectionId: col.id, collectionName: 'c_evolve', keep: 'k', new_name: 7, added: false,
    });
  });

  it('renames the collection keeping its id and records', async () => {
    const col = await ctx.admin.collections.create({ name: 'c_before', fields: [{ name: 'v', type: 'text' }] });
    const rec = await ctx.admin.collection('c_before').create({ v: 'value' });
    const renamed = await ctx.admin.collections.update('c_before', { name: 'c_after' });
    assert.equal(renamed.id, col.id);
    assert.equal(renamed.name, 'c_after');
    assert.deepEqual(await ctx.admin.collection('c_after').getOne(rec.id),
      { id: rec.id, collectionId: col.id, collectionName: 'c_after', v: 'value' });
    await expectSdkError(ctx.admin.collection('c_before').getOne(rec.id), 404, 'Missing collection context.');
    await expectSdkError(ctx.admin.collections.getOne('c_before'), 404, "The requested resource wasn't found.");
  });

  it('index strings: verbatim when they name the collection, normalised otherwise and on rename', async () => {
    const col = await ctx.admin.collections.create({
      name: 'c_idx_norm', fields: [{ name: 'title', type: 'text' }],
      indexes: ['CREATE INDEX idx_a ON wrongname (title)', 'create unique index `idx_b` on `c_idx_norm` (`title`)'],
    });
    assert.deepEqual(col.indexes, [
      'CREATE INDEX `idx_a` ON `c_idx_norm` (`title`)',
      'create unique index `idx_b` on `c_idx_norm` (`title`)',
    ]);
    const renamed = await ctx.admin.collections.update('c_idx_norm', { name: 'c_idx_norm2' });
    assert.deepEqual(renamed.indexes, [
      'CREATE INDEX `idx_a` ON `c_idx_norm2` (`title`)',
      'CREATE UNIQUE INDEX `idx_b` ON `c_idx_norm2` (`title`)',
    ]);
  });

  it('changing the type is rejected', async () => {
    const typeChange = { code: 'validation_collection_type_change', message: 'Collection type cannot be changed.' };
    await ctx.admin.collections.create({ name: 'c_typed_auth', type: 'auth' });
    await expectSdkError(ctx.admin.collections.update('c_typed_auth', { type: 'base' }), 400, 'Failed to update collection.', {
      type: typeChange,
    });
    // base → auth additionally reports every missing auth option
    await ctx.admin.collections.create({ name: 'c_typed' });
    const err = await ctx.admin.collections.update('c_typed', { type: 'auth' }).then(() => null, (e) => e);
    assert.equal(err?.status, 400);
    assert.equal(err.response.message, 'Failed to update collection.');
    assert.deepEqual(err.response.data.type, typeChange);
    assert.equal((await ctx.admin.collections.getOne('c_typed')).type, 'base');
  });

  it('system collections cannot be renamed', async () => {
    await expectSdkError(ctx.admin.collections.update('_superusers', { name: 'admins' }), 400, 'Failed to update collection.', {
      name: { code: 'validation_collection_system_name_change', message: 'System collection name cannot be changed.' },
    });
  });

  it('omitted system fields are silently re-added', async () => {
    const col = await ctx.admin.collections.create({ name: 'c_sysfield', fields: [{ name: 'x', type: 'text' }] });
    const updated = await ctx.admin.collections.update('c_sysfield', { fields: col.fields.slice(1) });
    assert.deepEqual(updated.fields, [ID_FIELD, expectedField('text', 'x')]);
    await ctx.admin.collections.create({ name: 'c_sysfield_auth', type: 'auth' });
    const auth = await ctx.admin.collections.update('c_sysfield_auth', { fields: [] });
    assert.deepEqual(auth.fields, [ID_FIELD, ...AUTH_SYSTEM_FIELDS]);
  });

  it('system fields cannot be renamed', async () => {
    await ctx.admin.collections.create({ name: 'c_sysrename', type: 'auth' });
    const email = AUTH_SYSTEM_FIELDS.find((f) => f.name === 'email');
    await expectSdkError(ctx.admin.collections.update('c_sysrename', { fields: [{ ...email, name: 'mail' }] }), 400,
      'Failed to update collection.', {
        fields: { code: 'validation_system_field_change', message: 'System fields cannot be deleted or renamed.' },
      });
  });

  it('system collection rules cannot be changed', async () => {
    await expectSdkError(ctx.admin.collections.update('_superusers', { listRule: '' }), 400, 'Failed to update collection.', {
      listRule: { code: 'validation_collection_system_rule_change', message: 'System collection API rule cannot be changed.' },
    });
  });
});

describe('delete', () => {
  it('deletes a collection: 204 then 404', async () => {
    await ctx.admin.collections.create({ name: 'c_doomed' });
    const res = await http(ctx.url, 'DELETE', '/api/collections/c_doomed', { token: ctx.admin.authStore.token });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    await expectSdkError(ctx.admin.collections.getOne('c_doomed'), 404, "The requested resource wasn't found.");
    await expectSdkError(ctx.admin.collection('c_doomed').getList(), 404, 'Missing collection context.');
  });

  it('a referenced collection cannot be deleted', async () => {
    await ctx.admin.collections.create({ name: 'c_target' });
    await ctx.admin.collections.create({
      name: 'c_referrer', fields: [{ name: 'ref', type: 'relation', collectionId: collectionIdFor('base', 'c_target') }],
    });
    await expectSdkError(ctx.admin.collections.delete('c_target'), 400,
      'Failed to delete collection probably due to existing reference in c_referrer.');
    assert.equal((await ctx.admin.collections.getOne('c_target')).name, 'c_target');
  });

  it('a system collection cannot be deleted', async () => {
    await expectSdkError(ctx.admin.collections.delete('_mfas'), 400, 'Failed to delete collection.');
  });

  it('deleting a missing collection → 404', async () => {
    await expectSdkError(ctx.admin.collections.delete('c_never'), 404, "The requested resource wasn't found.");
  });
});

describe('truncate', () => {
  it('removes every record of a base collection', async () => {
    await ctx.admin.collections.create({ name: 'c_trunc', fields: [{ name: 'n', type: 'number' }] });
    for (let i = 0; i < 3; i++) await ctx.admin.collection('c_trunc').create({ n: i });
    assert.equal((await ctx.admin.collection('c_trunc').getList()).totalItems, 3);
    const res = await http(ctx.url, 'DELETE', '/api/collections/c_trunc/truncate', { token: ctx.admin.authStore.token });
    assert.equal(res.status, 204);
    const after = await ctx.admin.collection('c_trunc').getList();
    assert.deepEqual([after.totalItems, after.items], [0, []]);
    assert.equal((await ctx.admin.collections.getOne('c_trunc')).name, 'c_trunc');
  });

  it('view collections cannot be truncated', async () => {
    await ctx.admin.collections.create({ name: 'c_trunc_src', fields: [{ name: 'n', type: 'number' }] });
    await ctx.admin.collections.create({ name: 'c_trunc_view', type: 'view', viewQuery: 'SELECT id, n FROM c_trunc_src' });
    await expectSdkError(ctx.admin.collections.truncate('c_trunc_view'), 400,
      "View collections cannot be truncated since they don't store their own records.");
  });
});

describe('import', () => {
  it('creates new collections and merges into existing ones (matched by name)', async () => {
    await ctx.admin.collections.create({ name: 'c_imp_existing', fields: [{ name: 'old', type: 'text' }] });
    const rec = await ctx.admin.collection('c_imp_existing').create({ old: 'kept' });
    await ctx.admin.collections.import([
      { name: 'c_imp_new', type: 'base', listRule: '', fields: [{ name: 'title', type: 'text' }] },
      { name: 'c_imp_existing', type: 'base', fields: [{ name: 'extra', type: 'number' }] },
    ], false);
    const created = await ctx.admin.collections.getOne('c_imp_new');
    assertCollection(created, baseCollection('c_imp_new', { listRule: '', fields: [ID_FIELD, expectedField('text', 'title')] }));
    const merged = await ctx.admin.collections.getOne('c_imp_existing');
    // imported fields come first, the existing ones missing from the import are appended
    assert.deepEqual(merged.fields.map((f) => f.name), ['extra', 'id', 'old']);
    assert.deepEqual(await ctx.admin.collection('c_imp_existing').getOne(rec.id), {
      id: rec.id, collectionId: merged.id, collectionName: 'c_imp_existing', old: 'kept', extra: 0,
    });
  });

  it('the SDK import sends PUT /api/collections/import and gets 204', async () => {
    const res = await http(ctx.url, 'PUT', '/api/collections/import', {
      token: ctx.admin.authStore.token,
      json: { collections: [{ name: 'c_imp_raw', fields: [] }], deleteMissing: false },
    });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal((await ctx.admin.collections.getOne('c_imp_raw')).id, collectionIdFor('base', 'c_imp_raw'));
  });

  it('an empty import → validation_required', async () => {
    await expectSdkError(ctx.admin.collections.import([], false), 400, 'An error occurred while validating the submitted data.', {
      collections: { code: 'validation_required', message: 'Cannot be blank.' },
    });
  });

  it('an invalid collection fails the whole import and changes nothing', async () => {
    const before = await ctx.admin.collections.getFullList({ fields: 'id' });
    const err = await ctx.admin.collections.import([
      { name: 'c_imp_ok' },
      { name: 'c_imp_bad', fields: [{ name: 'expand', type: 'text' }] },
    ], false).then(() => null, (e) => e);
    assert.ok(err, 'import must fail');
    assert.equal(err.status, 400);
    assert.equal(err.response.message, 'Failed to import collections.');
    assert.equal(err.response.data.collections.code, 'validation_collections_import_failure');
    await expectSdkError(ctx.admin.collections.getOne('c_imp_ok'), 404, "The requested resource wasn't found.");
    assert.equal((await ctx.admin.collections.getFullList({ fields: 'id' })).length, before.length);
  });
});

describe('validation errors', () => {
  const createFails = (body, data) => expectSdkError(ctx.admin.collections.create(body), 400, 'Failed to create collection.', data);
  const NAME_EXISTS = { code: 'validation_collection_name_exists', message: 'Collection name must be unique (case insensitive).' };

  it('duplicate names (case-insensitive)', async () => {
    await ctx.admin.collections.create({ name: 'c_dup' });
    await createFails({ name: 'c_dup' }, { name: NAME_EXISTS });
    await createFails({ name: 'C_DUP' }, { name: NAME_EXISTS });
    await createFails({ name: 'users' }, { name: NAME_EXISTS });
  });

  it('blank, malformed and _via_ names', async () => {
    await createFails({ name: '' }, { name: { code: 'validation_required', message: 'Cannot be blank.' } });
    await createFails({ name: 'bad name' }, { name: { code: 'validation_match_invalid', message: 'Must be in a valid format.' } });
    await createFails({ name: 'a_via_b' }, { name: { code: 'validation_found_via', message: 'The value cannot contain "_via_".' } });
  });

  it('reserved field names', async () => {
    for (const name of ['expand', 'collectionId', 'collectionName', 'null', 'true', 'false', '_rowid_']) {
      await createFails({ name: 'c_reserved', fields: [{ name, type: 'text' }] }, {
        fields: { 1: { name: { code: 'validation_not_in_invalid', message: 'Must not be in list.' } } },
      });
    }
    for (const name of ['passwordConfirm', 'oldPassword']) {
      await createFails({ name: 'c_reserved_auth', type: 'auth', fields: [{ name, type: 'text' }] }, {
        fields: { 1: { name: { code: 'validation_reserved_field_name', message: 'The field name is reserved and cannot be used.' } } },
      });
    }
  });

  it('invalid and duplicated field names', async () => {
    await createFails({ name: 'c_badfield', fields: [{ name: 'bad-name', type: 'text' }] }, {
      fields: { 1: { name: { code: 'validation_match_invalid', message: 'Must be in a valid format.' } } },
    });
    await createFails({ name: 'c_dupfield', fields: [{ name: 'ok', type: 'text' }, { name: 'OK', type: 'number' }] }, {
      fields: { 2: { name: { code: 'validation_duplicated_field_name', message: 'Duplicated or invalid field name OK.', params: { fieldName: 'OK' } } } },
    });
  });

  it('field option errors', async () => {
    await createFails({ name: 'c_opts', fields: [{ name: 's', type: 'select' }] }, {
      fields: { 1: { values: { code: 'validation_required', message: 'Cannot be blank.' } } },
    });
    const autodate = { code: 'validation_required', message: 'Either onCreate or onUpdate must be enabled.' };
    await createFails({ name: 'c_opts', fields: [{ name: 'a', type: 'autodate' }] }, {
      fields: { 1: { onCreate: autodate, onUpdate: autodate } },
    });
    await createFails({ name: 'c_opts', fields: [{ name: 'r', type: 'relation' }] }, {
      fields: { 1: { collectionId: { code: 'validation_required', message: 'Cannot be blank.' } } },
    });
    await createFails({ name: 'c_opts', fields: [{ name: 'r', type: 'relation', collectionId: 'c_tags' }] }, {
      fields: { 1: { collectionId: { code: 'validation_field_relation_missing_collection', message: "The relation collection doesn't exist." } } },
    });
  });

  it('unknown field type → 400 invalid formatting', async () => {
    await expectSdkError(ctx.admin.collections.create({ name: 'c_unknown_type', fields: [{ name: 'a', type: 'nope' }] }),
      400, 'Failed to load the submitted data due to invalid formatting.');
  });

  it('invalid collection type', async () => {
    await createFails({ name: 'c_weird', type: 'weird' }, { type: { code: 'validation_in_invalid', message: 'Must be a valid value.' } });
  });

  it('invalid indexes', async () => {
    await createFails({ name: 'c_idx', fields: [{ name: 'a', type: 'text' }], indexes: ['not sql'] }, {
      indexes: { 0: { code: 'validation_invalid_index_expression', message: 'Invalid CREATE INDEX expression.' } },
    });
    await createFails({ name: 'c_idx', fields: [{ name: 'a', type: 'text' }], indexes: ['CREATE INDEX idx_x ON c_idx (missing)'] }, {
      indexes: { 0: { code: 'validation_invalid_index_expression', message: 'Failed to create index idx_x - SQL logic error: no such column: missing (1).' } },
    });
  });

  it('invalid rules', async () => {
    await createFails({ name: 'c_rule', fields: [{ name: 'a', type: 'text' }], listRule: 'nope = 1' }, {
      listRule: { code: 'validation_invalid_rule', message: 'Invalid rule. Raw error: invalid left operand "nope" - unknown field "nope".' },
    });
  });

  it('view collections: bad queries and write rules', async () => {
    await createFails({ name: 'c_v', type: 'view', viewQuery: 'SELECT label FROM c_tags' }, {
      fields: { code: 'validation_missing_primary_key', message: 'Missing or invalid "id" PK field.' },
      viewQuery: { code: 'validation_invalid_view_query', message: 'Invalid query - missing required id column (you can use `(ROW_NUMBER() OVER()) as id` if you don\'t have one).' },
    });
    await createFails({ name: 'c_v', type: 'view', viewQuery: 'SELECT * FROM c_tags' }, {
      fields: { code: 'validation_required', message: 'Cannot be blank.' },
      viewQuery: { code: 'validation_invalid_view_query', message: 'Invalid query - wildcard columns (*) are not supported - manually type the collection field names you want the view query to have.' },
    });
    const mustBeBlank = { code: 'validation_nil', message: 'Must be blank.' };
    await createFails({ name: 'c_v', type: 'view', viewQuery: 'SELECT id FROM c_tags', createRule: '', updateRule: '', deleteRule: '' }, {
      createRule: mustBeBlank, updateRule: mustBeBlank, deleteRule: mustBeBlank,
    });
  });

  it('nothing invalid was created', async () => {
    const names = (await ctx.admin.collections.getFullList({ fields: 'name' })).map((c) => c.name);
    for (const bad of ['c_reserved', 'c_badfield', 'c_dupfield', 'c_opts', 'c_unknown_type', 'c_weird', 'c_idx', 'c_rule', 'c_v']) {
      assert.ok(!names.includes(bad), `${bad} must not exist`);
    }
  });

  it('raw POST with a non-object body is rejected', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections', { token: ctx.admin.authStore.token, json: [1, 2] });
    expectHttpError(res, 400, 'Failed to load the collection type data due to invalid formatting.');
  });
});

// Runs last: deleteMissing removes every other non-system collection.
describe('import with deleteMissing', () => {
  it('keeps only the imported and system collections, and drops unlisted fields', async () => {
    const tags = await ctx.admin.collections.getOne('c_tags');
    const rec = await ctx.admin.collection('c_tags').create({ label: 'survivor' });
    await ctx.admin.collections.import([
      { id: tags.id, name: 'c_tags', type: 'base', fields: [{ name: 'note', type: 'text' }] },
    ], true);
    const all = await ctx.admin.collections.getFullList({ sort: 'name' });
    assert.deepEqual(all.map((c) => c.name), ['_authOrigins', '_externalAuths', '_mfas', '_otps', '_superusers', 'c_tags']);
    const imported = all.find((c) => c.name === 'c_tags');
    assert.deepEqual(imported.fields, [expectedField('text', 'note'), ID_FIELD]);
    assert.deepEqual(await ctx.admin.collection('c_tags').getOne(rec.id),
      { id: rec.id, collectionId: TAGS_ID, collectionName: 'c_tags', note: '' });
  });
});
