// Data for test/20-filters-differential: one deterministic dataset (collections + records with
// fixed ids), the filter expressions run against it, and the API-rule scenarios. Everything here
// is plain data plus the seeding steps; the test file runs them on PocketBase and PocketBun and
// compares the answers.
//
// Dates in the data are far from "now" (≤ 2024 or 2099) so every datetime macro comparison gives
// the same answer on any day; autodate fields (`created`/`updated`) are only compared with macros
// in ways that cannot change within a run (`created > @yesterday`, `created < @tomorrow`).
import { collectionIdFor } from './schema.mjs';

/** A fixed 15-character record id: prefix + zero padding + n. */
export const rid = (prefix, n) => prefix + String(n).padStart(15 - prefix.length, '0');

export const A = (n) => rid('auth', n); // authors
export const P = (n) => rid('post', n); // posts
export const C = (n) => rid('comm', n); // comments
export const N = (n) => rid('note', n); // notes
export const B = (n) => rid('board', n); // boards (rule scenarios)
export const K = (n) => rid('card', n); // cards (rule scenarios)
export const G = (n) => rid('gate', n); // gates (rule scenarios)

export const AUTHORS_ID = collectionIdFor('auth', 'authors');
export const POSTS_ID = collectionIdFor('base', 'posts');
export const NOTES_ID = collectionIdFor('base', 'notes');
export const BOARDS_ID = collectionIdFor('base', 'boards');

/** Sign-in credentials of the authors used as regular users. */
export const USERS = {
  alice: { id: A(1), email: 'alice@example.com', password: 'alice-pass-123' },
  bob: { id: A(2), email: 'bob@example.com', password: 'bob-pass-1234' },
  carla: { id: A(3), email: 'carla@example.com', password: 'carla-pass-123' },
};

// ---------------------------------------------------------------------------------------------
// Collections. Rules of authors/posts/comments matter only for the guest/user filter cases
// (a superuser bypasses them).

const AUTHORS_RULE = 'verified = true || id = @request.auth.id';
const POSTS_RULE = 'published = true || author = @request.auth.id || coauthors.id ?= @request.auth.id';
const COMMENTS_RULE = 'post.published = true || author = @request.auth.id';

export const COLLECTIONS = [
  {
    name: 'notes', // all rules null: joining it from a non-superuser filter must fail
    fields: [{ name: 'text', type: 'text' }],
  },
  {
    name: 'authors',
    type: 'auth',
    listRule: AUTHORS_RULE,
    viewRule: AUTHORS_RULE,
    fields: [
      { name: 'name', type: 'text' },
      { name: 'age', type: 'number' },
      { name: 'tags', type: 'select', values: ['red', 'green', 'blue', 'x_y', '50%'], maxSelect: 5 },
      { name: 'profile', type: 'json' },
      { name: 'secret_code', type: 'text', hidden: true },
    ],
  },
  {
    name: 'posts',
    listRule: POSTS_RULE,
    viewRule: POSTS_RULE,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'body', type: 'editor' },
      { name: 'views', type: 'number' },
      { name: 'rating', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'created_at', type: 'date' },
      { name: 'category', type: 'select', values: ['news', 'tech', 'life', 'a_b'], maxSelect: 1 },
      { name: 'tags', type: 'select', values: ['go', 'rust', 'js', 'sql'], maxSelect: 4 },
      { name: 'author', type: 'relation', collectionId: AUTHORS_ID, maxSelect: 1 },
      { name: 'coauthors', type: 'relation', collectionId: AUTHORS_ID, maxSelect: 10 },
      { name: 'note', type: 'relation', collectionId: NOTES_ID, maxSelect: 1 },
      { name: 'meta', type: 'json' },
      { name: 'location', type: 'geoPoint' },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  },
  {
    name: 'comments',
    listRule: COMMENTS_RULE,
    viewRule: COMMENTS_RULE,
    fields: [
      { name: 'post', type: 'relation', collectionId: POSTS_ID, maxSelect: 1 },
      { name: 'author', type: 'relation', collectionId: AUTHORS_ID, maxSelect: 1 },
      { name: 'text', type: 'text' },
      { name: 'score', type: 'number' },
    ],
  },
  // --- rule scenarios -----------------------------------------------------------------------
  {
    name: 'boards',
    listRule: 'owner = @request.auth.id || members.id ?= @request.auth.id',
    viewRule: 'owner = @request.auth.id || members.id ?= @request.auth.id',
    createRule: "@request.auth.id != '' && @request.body.owner = @request.auth.id",
    updateRule: 'owner = @request.auth.id && locked = false && @request.body.owner:isset = false',
    deleteRule: 'owner = @request.auth.id && @request.auth.verified = true',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'owner', type: 'relation', collectionId: AUTHORS_ID, maxSelect: 1 },
      { name: 'members', type: 'relation', collectionId: AUTHORS_ID, maxSelect: 10 },
      { name: 'locked', type: 'bool' },
    ],
  },
  {
    name: 'cards',
    listRule: 'board.owner = @request.auth.id || board.members.id ?= @request.auth.id',
    viewRule: 'board.members.id ?= @request.auth.id || board.owner.email = @request.auth.email',
    createRule: '@request.body.board.owner = @request.auth.id && @request.body.points:isset = true'
      + ' && @request.body.points <= 10 && @request.body.tags:length <= 2',
    updateRule: '(board.owner = @request.auth.id || board.members.id ?= @request.auth.id)'
      + " && @request.body.title:changed = false && @request.body.tags:each != 'c'",
    deleteRule: 'board.owner = @request.auth.id && points < 5 && @collection.boards.id ?= board',
    fields: [
      { name: 'board', type: 'relation', collectionId: BOARDS_ID, maxSelect: 1 },
      { name: 'title', type: 'text' },
      { name: 'points', type: 'number' },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
    ],
  },
  {
    name: 'gates',
    listRule: "@request.headers.x_token = 'open-sesame' || @request.query.key = public_key",
    viewRule: "@request.method = 'GET' && @request.context = 'default' && @request.auth.collectionName = 'authors'",
    createRule: "@request.body.public_key:lower = 'k-new' && @request.body.level:isset = false",
    updateRule: '@request.body.level > level && @request.auth.name:lower ~ @request.body.public_key',
    deleteRule: "@collection.authors.id ?= @request.auth.id && @request.auth.tags:each ?= 'red'",
    fields: [
      { name: 'public_key', type: 'text' },
      { name: 'level', type: 'number' },
    ],
  },
];

// manager (authors → authors) can only be added once the collection exists.
export const AUTHORS_MANAGER_FIELD = { name: 'manager', type: 'relation', collectionId: AUTHORS_ID, maxSelect: 1 };

// ---------------------------------------------------------------------------------------------
// Records (created in this order; `manager` is set in a second pass).

const author = (n, name, extra) => ({
  id: A(n),
  email: `${name.split(' ')[0].toLowerCase().replace(/[^a-z]/g, '') || 'anon'}${n}@example.com`,
  password: `author-pass-${n}`,
  ...extra,
});

export const AUTHORS = [
  {
    ...author(1, 'alice'), email: USERS.alice.email, password: USERS.alice.password,
    name: 'Alice', age: 30, verified: true, emailVisibility: true, tags: ['red', 'blue'],
    profile: { city: 'Paris', langs: ['fr', 'en'], score: 7, nested: { deep: { v: 1 } } }, secret_code: 's-alice',
  },
  {
    ...author(2, 'bob'), email: USERS.bob.email, password: USERS.bob.password,
    name: 'Bob', age: 25, verified: false, emailVisibility: false, tags: ['green'],
    profile: { city: 'Berlin', langs: ['de'], score: 3, nested: { deep: { v: 2 } } }, secret_code: 's-bob',
  },
  {
    ...author(3, 'carla'), email: USERS.carla.email, password: USERS.carla.password,
    name: 'Ćarla Ünïcode', age: 0, verified: true, emailVisibility: true, tags: [], profile: null, secret_code: '',
  },
  {
    ...author(4, 'obrien'), name: "O'Brien", age: 41.5, verified: true, emailVisibility: false,
    tags: ['x_y', '50%'], profile: { city: null, score: 0 }, secret_code: 's-4',
  },
  {
    ...author(5, 'real'), name: '100% _real_', age: -3, verified: false, emailVisibility: true,
    tags: ['red'], profile: { city: 'paris', langs: [] }, secret_code: 's-5',
  },
  {
    ...author(6, 'anon'), name: '', age: 30, verified: false, emailVisibility: false,
    tags: ['blue', 'green', 'red'], profile: 'just text', secret_code: 's-6',
  },
];
for (const a of AUTHORS) a.passwordConfirm = a.password;

/** Second pass: authors.manager. */
export const AUTHOR_MANAGERS = { [A(2)]: A(1), [A(3)]: A(2), [A(4)]: A(2), [A(5)]: A(4), [A(6)]: A(6) };

export const NOTES = [{ id: N(1), text: 'secret note' }, { id: N(2), text: '' }];

const SOFIA = { lon: 23.3219, lat: 42.6977 };
export const POSTS = [
  {
    id: P(1), title: 'Hello World', body: '<p>Hello <b>world</b></p>', views: 100, rating: 4.5, published: true,
    created_at: '2021-03-04 05:06:07.000Z', category: 'news', tags: ['go', 'rust'], author: A(1), coauthors: [A(2), A(3)],
    note: N(1), meta: { a: { b: 1, c: 'x' }, list: [1, 2, 3], flag: true }, location: SOFIA,
  },
  {
    id: P(2), title: 'hello again', body: '', views: 0, rating: 0, published: false, created_at: '', category: '',
    tags: [], author: A(2), coauthors: [], meta: null, location: { lon: 0, lat: 0 },
  },
  {
    id: P(3), title: '50% off_sale', body: '<p>Discount</p>', views: 50, rating: 3.25, published: true,
    created_at: '2020-12-31 23:59:59.999Z', category: 'life', tags: ['js'], author: A(1), coauthors: [A(1)],
    note: N(2), meta: { a: { b: 2 }, list: [], name: 'x' }, location: { lon: 2.3522, lat: 48.8566 },
  },
  {
    id: P(4), title: 'It\'s "quoted"', body: '<p>Quote &amp; "more"</p>', views: -5, rating: 1, published: true,
    created_at: '2099-01-01 00:00:00.000Z', category: 'tech', tags: ['rust', 'sql', 'js'], author: A(3),
    coauthors: [A(2), A(4), A(5)], meta: { a: { b: null } }, location: { lon: 13.405, lat: 52.52 },
  },
  {
    id: P(5), title: 'Ünïcode ✓ 日本', body: '<p>ünï</p>', views: 7, rating: 2.5, published: false,
    created_at: '2022-06-15 12:00:00.000Z', category: 'a_b', tags: ['go'], author: A(4), coauthors: [A(4)],
    meta: { a: 'string-not-object' }, location: { lon: -122.4194, lat: 37.7749 },
  },
  {
    id: P(6), title: 'back\\slash', body: '<p>a\\b</p>', views: 1000, rating: 5, published: true,
    created_at: '2023-01-01 00:00:00.000Z', category: 'news', tags: ['sql'], author: A(5), coauthors: [A(6)],
    meta: [1, 'two', { a: { b: 3 } }], location: { lon: 23.33, lat: 42.7 },
  },
  {
    id: P(7), title: '', body: '', views: 0, rating: -1.5, published: false, created_at: '2021-03-04 05:06:07.000Z',
    category: 'tech', tags: [], author: '', coauthors: [], meta: { a: { b: '1' } }, location: { lon: -0.1276, lat: 51.5072 },
  },
  {
    id: P(8), title: 'percent %', body: '<p>100%</p>', views: 12, rating: 4.5, published: true,
    created_at: '2024-02-29 12:00:00.000Z', category: 'news', tags: ['go', 'js', 'rust', 'sql'], author: A(6),
    coauthors: [A(1), A(2), A(3), A(4), A(5), A(6)], meta: 'plain json string', location: { lon: 151.2093, lat: -33.8688 },
  },
  {
    id: P(9), title: 'underscore_here', body: '<p>_</p>', views: 3, rating: 3, published: true,
    created_at: '2019-07-04 00:00:00.000Z', category: 'life', tags: ['rust'], author: A(2), coauthors: [A(1), A(2)],
    meta: 42, location: { lon: 0, lat: 0 },
  },
  {
    id: P(10), title: 'NULL', body: '', views: 0, rating: 0, published: false, created_at: '1999-12-31 23:59:59.000Z',
    category: '', tags: ['rust'], author: A(1), coauthors: [], meta: {}, location: { lon: 0, lat: 0 },
  },
  {
    id: P(11), title: 'true', body: '', views: 1, rating: 1, published: true, created_at: '2021-12-31 23:00:00.000Z',
    category: 'tech', tags: [], author: A(4), coauthors: [A(3)], meta: true, location: { lon: 0, lat: 0 },
  },
  {
    id: P(12), title: 'Hello World', body: '<p>dup</p>', views: 100, rating: 2, published: false,
    created_at: '2021-03-05 00:00:00.000Z', category: 'life', tags: ['go', 'js'], author: A(5), coauthors: [A(5), A(1)],
    meta: { a: { b: 1 } }, location: { lon: 23.3, lat: 42.7 },
  },
];

export const COMMENTS = [
  { id: C(1), post: P(1), author: A(2), text: 'Great post', score: 5 },
  { id: C(2), post: P(1), author: A(3), text: 'meh', score: 2 },
  { id: C(3), post: P(1), author: A(1), text: 'Thanks!', score: 0 },
  { id: C(4), post: P(3), author: A(2), text: 'Nice discount 50%', score: 4 },
  { id: C(5), post: P(4), author: A(5), text: "It's fine", score: -1 },
  { id: C(6), post: P(4), author: A(4), text: '', score: 3 },
  { id: C(7), post: P(5), author: A(1), text: 'ünïcode comment', score: 5 },
  { id: C(8), post: P(8), author: A(6), text: 'all in', score: 1 },
  { id: C(9), post: P(8), author: A(6), text: 'again', score: 1 },
  { id: C(10), post: P(9), author: A(2), text: 'x', score: 5 },
  { id: C(11), post: '', author: A(1), text: 'orphan', score: 9 },
  { id: C(12), post: P(11), author: '', text: 'anon', score: 2 },
  { id: C(13), post: P(6), author: A(3), text: 'slash \\ in text', score: 3 },
  { id: C(14), post: P(2), author: A(2), text: 'own draft', score: 0 },
];

export const BOARDS = [
  { id: B(1), name: 'Alpha board', owner: A(1), members: [A(2)], locked: false },
  { id: B(2), name: 'Bob board', owner: A(2), members: [], locked: false },
  { id: B(3), name: 'Locked board', owner: A(1), members: [A(3), A(2)], locked: true },
];

export const CARDS = [
  { id: K(1), board: B(1), title: 'first', points: 3, tags: ['a'] },
  { id: K(2), board: B(1), title: 'second', points: 8, tags: [] },
  { id: K(3), board: B(2), title: 'bobs', points: 1, tags: ['b'] },
  { id: K(4), board: B(3), title: 'locked card', points: 2, tags: ['a', 'b'] },
];

export const GATES = [
  { id: G(1), public_key: 'k1', level: 1 },
  { id: G(2), public_key: 'k2', level: 5 },
];

const RULE_KEYS = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'];
const RECORDS = [
  ['authors', AUTHORS], ['notes', NOTES], ['posts', POSTS], ['comments', COMMENTS],
  ['boards', BOARDS], ['cards', CARDS], ['gates', GATES],
];

/** A failed SDK call as a comparable value. */
const outcomeOf = async (promise) => {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    if (!err?.status) throw err;
    return { status: err.status, error: err.response };
  }
};

/**
 * The seeding steps, run in order once per server with a superuser SDK client: {name, run(admin)}.
 * `run` never throws for an HTTP error; it returns the outcome ('ok' or {status, error}, or a list
 * of those) so that the test can compare each step between the servers. Collections are created
 * without rules and every rule is then set separately, so a rule the server under test rejects
 * costs only that rule (it stays null = superusers only). The result is identical on every server
 * (fixed ids, no random data).
 */
export const SEED_STEPS = [
  ...COLLECTIONS.map((col) => ({
    name: `create collection ${col.name}`,
    run: (admin) => {
      const bare = { ...col };
      for (const key of RULE_KEYS) delete bare[key];
      return outcomeOf(admin.collections.create(bare));
    },
  })),
  {
    name: 'add the self-relation authors.manager',
    run: async (admin) => outcomeOf((async () => {
      const authors = await admin.collections.getOne('authors');
      await admin.collections.update('authors', { fields: [...authors.fields, AUTHORS_MANAGER_FIELD] });
    })()),
  },
  ...COLLECTIONS.flatMap((col) => RULE_KEYS.filter((key) => col[key] != null).map((key) => ({
    name: `set ${col.name}.${key} = ${col[key]}`,
    run: (admin) => outcomeOf(admin.collections.update(col.name, { [key]: col[key] })),
  }))),
  ...RECORDS.map(([name, records]) => ({
    name: `create ${records.length} ${name} records`,
    run: (admin) => Promise.all(records.map((r) => outcomeOf(admin.collection(name).create(r)))),
  })),
  {
    name: 'set authors.manager',
    run: (admin) => Promise.all(Object.entries(AUTHOR_MANAGERS)
      .map(([id, manager]) => outcomeOf(admin.collection('authors').update(id, { manager })))),
  },
];

/** Names of the seeded collections (for the data comparison). */
export const SEEDED_COLLECTIONS = RECORDS.map(([name]) => name);

// ---------------------------------------------------------------------------------------------
// Filter cases: {coll, filter, sort?}. Run as a superuser with getList(1, 200, {filter, sort}).
// `sort` defaults to 'id'.

const group = (coll, filters) => filters.map((filter) => (typeof filter === 'string' ? { coll, filter } : { coll, ...filter }));

export const SUPERUSER_CASES = [
  // --- text operators, literals, escapes ------------------------------------------------------
  ...group('posts', [
    '',
    "title = 'Hello World'",
    "title = 'hello world'",
    'title = "Hello World"',
    "title != 'Hello World'",
    "title > 'h'",
    "title >= 'hello again'",
    "title < 'Hello'",
    "title <= ''",
    "title ~ 'hello'",
    "title ~ 'WORLD'",
    "title !~ 'hello'",
    "title ~ '50%'",
    "title ~ '%sale'",
    "title ~ '%'",
    "title ~ '50\\%'",
    "title ~ 'o_'",
    "title ~ '_'",
    "title ~ ''",
    "title !~ ''",
    "title ~ 'ü'",
    "title ~ 'Ü'",
    "title ~ '日本'",
    "title = 'Ünïcode ✓ 日本'",
    "title = 'It\\'s \"quoted\"'",
    'title = "It\'s \\"quoted\\""',
    "title ~ '\"quoted\"'",
    "title ~ 'it\\'s'",
    "title = 'back\\slash'",
    "title ~ 'back\\slash'",
    "title ~ '\\'",
    "title = 'percent %'",
    "title ~ ' %'",
    "title = null",
    "title != null",
    "title = ''",
    "title != ''",
    "title = 'NULL'",
    "title = 'true'",
    'title = true',
    'title = TRUE',
    'title = NULL',
    "null = title",
    "'' = title",
    "'Hello World' = title",
    "title ?= 'Hello World'",
    "title ?!= 'Hello World'",
    "title ?~ 'hello'",
    "title ?!~ 'hello'",
    "title ?> 'a'",
    "title ?>= 'hello'",
    "title ?< 'b'",
    "title ?<= 'NULL'",
    'title = body',
    'title != body',
    'title ~ category',
    "body ~ 'world'",
    "body ~ '<b>'",
    "body ~ '&amp;'",
    "body = ''",
    "body != ''",
    "body ~ '100%'",
    "body ~ 'a\\b'",
  ]),
  // --- numbers and bools ------------------------------------------------------------------------
  ...group('posts', [
    'views = 100',
    "views = '100'",
    'views = 100.0',
    'views != 0',
    'views > 10',
    'views >= 100',
    'views < 0',
    'views <= 0',
    'views > -10',
    'views = -5',
    '-5 = views',
    '100 = views',
    'views > 2.5',
    'rating = 4.5',
    'rating > 2.4999',
    'rating < -1',
    'rating < views',
    'views = rating',
    'views >= rating',
    "views ~ '0'",
    "views ~ '00'",
    "views > '50'",
    'views = null',
    "views = ''",
    'views != null',
    'views ?> 50',
    'views ?= 0',
    'views ?!= 0',
    'views ?<= 1',
    'views >= -5 && views <= 7',
    '1 = 1',
    '1 = 2',
    '1 != 1',
    "'a' = 'a'",
    "'a' < 'b'",
    'null = null',
    "null = ''",
    "null != ''",
    'true = true',
    'true = 1',
    'false = 0',
    "true = 'true'",
    'published = true',
    'published = false',
    'published != true',
    'published = 1',
    'published = 0',
    "published = 'true'",
    'published = null',
    'published ?= true',
    'published > false',
    'published = TRUE',
    'published = False',
    'published = views',
  ]),
  // --- select, date, id, geoPoint ---------------------------------------------------------------
  ...group('posts', [
    "category = 'news'",
    "category != 'news'",
    "category = ''",
    "category ~ '_'",
    "category ?= 'tech'",
    "category:lower = 'NEWS'",
    "category:each = 'news'",
    'category:length = 1',
    'category:length = 0',
    "created_at = ''",
    "created_at != ''",
    "created_at > '2021-01-01'",
    "created_at = '2021-03-04 05:06:07.000Z'",
    "created_at ~ '2021'",
    "created_at < '2021-03-04 05:06:07.000Z'",
    'created_at > created',
    "id = 'post00000000001'",
    "id ~ '0000000001'",
    "id > 'post00000000006'",
    "id:lower = 'post00000000003'",
    "id != '' && id != 'post00000000001'",
    'location.lon > 0',
    'location.lat < 0',
    'location.lon = 0',
    'location.lat >= 42.6977',
    'location.lon = location.lat',
  ]),
  // --- && || and groups ---------------------------------------------------------------------------
  ...group('posts', [
    'views > 10 && published = true',
    'views > 10 || published = false',
    "views > 10 && published = true || title = ''",
    'views > 10 || published = false && rating > 2',
    '(views > 10 || published = false) && rating > 2',
    'views > 10 || (published = false && rating > 2)',
    '((views > 10))',
    "(views > 10 && (title ~ 'hello' || title ~ 'sale')) || category = 'tech'",
    "title = 'x' || title = 'NULL' || title = 'true' || title = ''",
    "published = true && views > 0 && rating >= 3 && category != 'life'",
    "(category = 'news' || category = 'tech') && (views > 50 || rating < 1)",
    "((((views = 0))) && (title = '' || (title ~ 'NULL')))",
    'views > 10 // trailing comment',
    "views > 10 // comment\n&& published = true",
    "views\t>\n10\t&&\npublished=true",
    "title='Hello World'&&views=100",
    "(title ~ ')' || title ~ '(') || title ~ '&&'",
    "title ~ '||' || views = 3",
  ]),
  // --- json --------------------------------------------------------------------------------------
  ...group('posts', [
    'meta.a.b = 1',
    "meta.a.b = '1'",
    'meta.a.b > 1',
    'meta.a.b >= 1',
    'meta.a.b = null',
    'meta.a.b != null',
    "meta.a.b = ''",
    "meta.a = 'string-not-object'",
    "meta.a.c ~ 'x'",
    "meta.name = 'x'",
    'meta.list.0 = 1',
    'meta.list.2 >= 3',
    'meta.list = null',
    'meta.2.a.b = 3',
    'meta.1 = "two"',
    'meta.flag = true',
    'meta.flag = 1',
    'meta = null',
    'meta != null',
    "meta = ''",
    'meta = 42',
    'meta = true',
    "meta = 'plain json string'",
    "meta ~ 'plain'",
    "meta ~ '\"b\":1'",
    "meta = '{}'",
    'meta.a.b ?= 1',
    'meta.a.b ?> 0',
    'meta.nope.deeper = null',
    'meta.a.b = views',
    "meta.a.b:lower = '1'",
  ]),
  // --- multi-valued select --------------------------------------------------------------------
  ...group('posts', [
    "tags = 'go'",
    "tags ?= 'go'",
    "tags ~ 'go'",
    "tags !~ 'go'",
    "tags:each = 'go'",
    "tags:each ?= 'go'",
    "tags:each != 'go'",
    "tags:each ?!= 'go'",
    "tags:each ~ 'r'",
    "tags:each ?~ 'q'",
    "tags:each > 'js'",
    "tags:each ?< 'h'",
    'tags:length = 0',
    'tags:length > 1',
    'tags:length ?>= 2',
    'tags:length = 4',
    "tags = '[]'",
    "tags = ''",
    'tags = null',
    "tags = '[\"go\"]'",
    "tags:lower ~ 'GO'",
    "tags:each = 'rust' && tags:length = 1",
    "tags:each ?= 'go' && tags:each ?= 'js'",
    "tags:each ?= 'go' || tags:each ?= 'sql'",
  ]),
  // --- single relation paths ------------------------------------------------------------------
  ...group('posts', [
    "author = 'auth00000000001'",
    "author = ''",
    "author != ''",
    "author.id = 'auth00000000001'",
    "author.id != 'auth00000000001'",
    "author.name = 'Alice'",
    "author.name != 'Alice'",
    "author.name ~ 'o'",
    "author.name = ''",
    'author.name = null',
    'author.age > 26',
    'author.age = 0',
    'author.age ?> 26',
    'author.verified = true',
    'author.verified = false',
    "author.email = 'alice@example.com'",
    "author.email ~ 'example'",
    "author.secret_code = 's-alice'",
    "author.tags ~ 'red'",
    "author.tags:each ?= 'red'",
    "author.tags:each = 'red'",
    'author.tags:length = 2',
    "author.profile.city = 'Paris'",
    "author.profile.city:lower = 'paris'",
    "author.profile.langs.0 = 'fr'",
    'author.profile.nested.deep.v = 2',
    'author.profile = null',
    "author.manager = 'auth00000000002'",
    "author.manager.name = 'Alice'",
    "author.manager.name = 'Bob'",
    "author.manager.name != 'Bob'",
    "author.manager.manager.name = 'Alice'",
    "author.manager.manager.manager.name ~ 'a'",
    "author.manager.manager.manager.manager.manager.name = ''",
    'author.manager.id = author.id',
    'author.manager = author',
    "author.name:lower = 'alice'",
    'author.age > views',
    "author.name ~ '%'",
    "author.name ~ '\\%'",
    "author.name = 'O\\'Brien'",
  ]),
  // --- multiple relation paths -----------------------------------------------------------------
  ...group('posts', [
    "coauthors = 'auth00000000001'",
    "coauthors ?= 'auth00000000001'",
    "coauthors ~ 'auth00000000001'",
    "coauthors !~ 'auth00000000001'",
    "coauthors = ''",
    "coauthors = '[]'",
    "coauthors.id ?= 'auth00000000001'",
    "coauthors.id = 'auth00000000004'",
    "coauthors.id ?!= 'auth00000000004'",
    "coauthors.id != 'auth00000000001'",
    "coauthors.name = 'Bob'",
    "coauthors.name ?= 'Bob'",
    "coauthors.name != 'Bob'",
    "coauthors.name ?!= 'Bob'",
    "coauthors.name ~ 'o'",
    "coauthors.name ?~ 'o'",
    "coauthors.name !~ 'o'",
    "coauthors.name ?!~ 'o'",
    'coauthors.age > 20',
    'coauthors.age ?> 40',
    'coauthors.age >= 0',
    'coauthors.age ?< 0',
    'coauthors.age ?<= 0',
    'coauthors.verified = true',
    'coauthors.verified ?= false',
    'coauthors:length = 0',
    'coauthors:length >= 3',
    'coauthors:length = 1',
    "coauthors:each = 'auth00000000004'",
    "coauthors:each ?= 'auth00000000006'",
    "coauthors:each != 'auth00000000001'",
    "coauthors.manager.name ?= 'Bob'",
    "coauthors.manager.name = 'Bob'",
    "coauthors.manager.manager.name ?= 'Alice'",
    "coauthors.tags ?~ 'red'",
    "coauthors.tags:each ?= 'x_y'",
    "coauthors.profile.city ?= 'Paris'",
    'coauthors.profile.score ?> 5',
    'coauthors.name ?= author.name',
    'coauthors.name = author.name',
    'coauthors.id ?= author',
    'coauthors.age ?> author.age',
    'author.age < coauthors.age',
    "coauthors.name ?= 'Bob' && coauthors.name ?= 'Alice'",
    "coauthors.name ?= 'Bob' || author.name = 'Bob'",
    "coauthors.email ?~ 'alice'",
  ]),
  // --- back-relations ------------------------------------------------------------------------------
  ...group('posts', [
    'comments_via_post.score > 0',
    'comments_via_post.score ?> 4',
    'comments_via_post.score >= 1',
    'comments_via_post.score = 1',
    'comments_via_post.score != 1',
    'comments_via_post.score ?!= 1',
    "comments_via_post.id != ''",
    "comments_via_post.id = ''",
    "comments_via_post.id ?= 'comm00000000002'",
    "comments_via_post.text ?~ 'great'",
    "comments_via_post.text ~ 'a'",
    "comments_via_post.text ?= ''",
    "comments_via_post.author.name ?= 'Bob'",
    "comments_via_post.author.name = 'Ćarla Ünïcode'",
    'comments_via_post.author.verified ?= false',
    'comments_via_post.author = author',
    'comments_via_post.author ?= author',
    'comments_via_post.author.manager.name ?= \'Bob\'',
    'comments_via_post.score ?> views',
    'comments_via_post:length > 1',
  ]),
  ...group('comments', [
    "post.title ~ 'hello'",
    'post.published = true',
    "post = ''",
    "post.id = ''",
    "post.id != ''",
    "post.author.name = 'Alice'",
    "post.author.manager.name = 'Alice'",
    "post.author.manager.manager.name = 'Alice'",
    "post.coauthors.name ?= 'Bob'",
    "post.coauthors.name = 'Bob'",
    'post.author = author',
    'post.author != author',
    'author.name = post.author.name',
    'post.views > score',
    'post.comments_via_post.score ?> 4',
    'post.comments_via_post.id ?!= id',
    'author.comments_via_author.score ?> 4',
    "author.posts_via_author.title ?~ 'hello'",
    "post.tags:each ?= 'go'",
    'post.meta.a.b = 1',
    "post.note.text = 'secret note'",
    "text ~ '50%'",
    "text ~ '\\\\'",
    "text = 'It\\'s fine'",
    'score = post.views',
  ]),
  ...group('authors', [
    "name = 'Alice'",
    "name ~ '%'",
    "name ~ '\\_'",
    "name = ''",
    'age = 30',
    'age > 0',
    "tags ~ 'x_y'",
    "tags:each ?= 'blue'",
    "tags:each = 'red'",
    'tags:length >= 2',
    "profile.city = 'Paris'",
    "profile.city ~ 'paris'",
    'profile.city = null',
    "profile = 'just text'",
    'profile.langs.0 != null',
    "email = 'alice@example.com'",
    "email ~ '@example.com'",
    'emailVisibility = true',
    'verified = false',
    "secret_code = 's-bob'",
    "secret_code != ''",
    "manager = ''",
    'manager = id',
    'manager.id = id',
    "manager.name = 'Bob'",
    "manager.manager.name = 'Alice'",
    "manager.manager.manager.name = 'Alice'",
    'manager.age > age',
    'posts_via_author.views ?> 50',
    'posts_via_author.views > 50',
    'posts_via_author.views >= 0',
    "posts_via_author.id = ''",
    "posts_via_author.id != ''",
    "posts_via_coauthors.title ?~ 'hello'",
    "posts_via_coauthors.id ?= 'post00000000008'",
    'posts_via_coauthors.published = true',
    'comments_via_author.score ?>= 5',
    'comments_via_author.score >= 1',
    "comments_via_author.post.title ?~ 'hello'",
    "authors_via_manager.name ?= 'Bob'",
    "authors_via_manager.id != ''",
    "authors_via_manager.authors_via_manager.name ?= 'O\\'Brien'",
    "manager.authors_via_manager.name ?= 'O\\'Brien'",
    'authors_via_manager.age ?< age',
    "posts_via_author.comments_via_post.author.name ?= 'Bob'",
  ]),
  // --- @collection -------------------------------------------------------------------------------
  ...group('posts', [
    '@collection.comments.post ?= id',
    '@collection.comments.post = id',
    '@collection.comments.post ?= id && @collection.comments.score ?> 4',
    '@collection.comments:c1.post ?= id && @collection.comments:c2.score ?> 8',
    "@collection.authors.name ?= 'Alice'",
    "@collection.authors.name = 'Alice'",
    '@collection.authors.age ?> 40 && views > 50',
    "@collection.notes.text ?= 'secret note'",
    "@collection.authors:m.id ?= author.manager && @collection.authors:m.name ?= 'Alice'",
    '@collection.posts:other.title ?= title && @collection.posts:other.id ?!= id',
    '@collection.comments.score > -100',
    '@collection.comments.score ?> 100',
    '@collection.posts.views ?> views',
    '@collection.posts:p.views = views',
    '@collection.comments.author ?= author && @collection.comments.post ?= id',
    '@collection.comments:x.author ?= author && @collection.comments:x.post ?= id',
    "@collection.authors.manager.name ?= 'Alice' && author.age > 40",
    "@collection.nope.id ?= ''",
  ]),
  // --- modifiers on record fields, @request as superuser ---------------------------------------
  ...group('posts', [
    "title:lower = 'hello world'",
    "title:lower ~ 'ünï'",
    "title:lower = 'ünïcode ✓ 日本'",
    "title:lower ?= 'true'",
    'title:length > 3',
    'views:length = 100',
    'title:isset = true',
    'title:changed = false',
    "title:upper = 'X'",
    "@request.auth.collectionName = '_superusers'",
    "@request.auth.id != ''",
    "@request.auth.email = 'admin@example.com'",
    "@request.method = 'GET'",
    "@request.context = 'default'",
    "@request.query.foo = ''",
    '@request.query.foo = null',
    "@request.headers.x_nope = ''",
    '@request.body.title:isset = false',
    "@request.auth.id = '' || views = 3",
  ]),
  // --- datetime macros and functions -------------------------------------------------------------
  ...group('posts', [
    'created_at > @now',
    'created_at < @now',
    'created_at <= @todayStart',
    'created_at >= @todayEnd',
    'created_at > @yesterday',
    'created_at < @tomorrow',
    'created_at >= @monthStart',
    'created_at <= @monthEnd',
    'created_at >= @yearStart',
    'created_at > @yearEnd',
    'created > @yesterday',
    'created < @tomorrow',
    "created != ''",
    "updated != ''",
    "@now > '2020-01-01'",
    '@todayStart < @todayEnd',
    '@yesterday < @tomorrow',
    '@monthStart <= @todayStart',
    '@yearStart < @yearEnd',
    '@year >= 2025',
    '@month >= 1 && @month <= 12',
    '@weekday >= 0 && @weekday <= 6',
    '@day > 0 && @day < 32',
    '@hour >= 0 && @minute < 60 && @second < 60',
    '@unknownMacro = 1',
    "strftime('%Y', created_at) = '2021'",
    "strftime('%m-%d', created_at) = '03-04'",
    "strftime('%Y-%m-%d', created_at, 'start of month') = '2021-03-01'",
    "strftime('%Y', created_at, '+1 years') = '2022'",
    "strftime('%s', created_at) > '1600000000'",
    "strftime('%Y', created_at) = ''",
    'strftime(\'%Y\', created_at) = null',
    "strftime('%Y', '2021-05-05') = '2021'",
    "strftime('%Y', author.manager.name) = null",
    "strftime('%Y', created) >= '2025'",
    "strftime(created_at) = '2021'",
    "strftime('%Y', created_at, 1) = '2021'",
    'geoDistance(location.lon, location.lat, 23.3219, 42.6977) < 5',
    'geoDistance(location.lon, location.lat, 2.35, 48.85) > 1000',
    'geoDistance(location.lon, location.lat, 2.35, 48.85) <= 1000',
    'geoDistance(0, 0, 0, 0) = 0',
    'geoDistance(location.lon, location.lat, location.lon, location.lat) < 0.001',
    'geoDistance(location.lon, location.lat, 0, 0) = null',
    'geoDistance(location.lon, location.lat, 13.405, 52.52) < 300 || geoDistance(location.lon, location.lat, 2.35, 48.85) < 300',
    'geoDistance(location.lon, location.lat, 23.3219) < 5',
    "geoDistance('a', 'b', 1, 2) < 5",
    'nosuchfn(views) = 1',
  ], ),
  // --- invalid filters -------------------------------------------------------------------------
  ...group('posts', [
    'title = ',
    "title == 'x'",
    "title === 'x'",
    "title <> 'x'",
    "title =~ 'x'",
    'unknownfield = 1',
    "author.unknown = 'x'",
    "coauthors.nope ?= 'x'",
    "comments_via_nope.id != ''",
    "nope_via_post.id != ''",
    "comments_via_text.id != ''",
    "title = 'unterminated",
    "(title = 'x'",
    "title = 'x')",
    'title',
    'true',
    '1',
    "title = 'x' &&",
    "&& title = 'x'",
    "title = 'x' | views > 1",
    "title = 'x' & views > 1",
    "title = 'x' views > 1",
    'title ~',
    '12. = 12',
    "title:foo = 'x'",
    "title: = 'x'",
    "author. = 'x'",
    "_ = 'x'",
    '() ',
    "title = 'x' && ()",
    "title ?? 'x'",
    "title !?= 'x'",
    'views > --1',
    "meta.a.b:isset = true",
    "@request.body.views:length > 1",
    "@collection.posts = 'x'",
  ]),
  // --- sort through the same resolver ------------------------------------------------------------
  { coll: 'posts', filter: '', sort: 'author.name,id' },
  { coll: 'posts', filter: '', sort: '-author.manager.name,-id' },
  { coll: 'posts', filter: '', sort: '-views,title,id' },
  { coll: 'posts', filter: '', sort: 'meta.a.b,id' },
  { coll: 'posts', filter: '', sort: 'published,-rating,id' },
  { coll: 'posts', filter: "author.name != ''", sort: '-author.age,id' },
  { coll: 'posts', filter: '', sort: 'unknownfield' },
  { coll: 'posts', filter: '', sort: 'author.nope' },
  { coll: 'comments', filter: '', sort: 'post.author.name,-score,id' },
  { coll: 'authors', filter: '', sort: '-manager.age,id' },
  // --- limits -----------------------------------------------------------------------------------
  { coll: 'posts', filter: Array.from({ length: 50 }, (_, i) => `views != ${i + 10000}`).join(' && ') },
  { coll: 'posts', filter: Array.from({ length: 201 }, (_, i) => `views != ${i + 10000}`).join(' && ') },
  { coll: 'posts', filter: `title != '${'x'.repeat(3600)}'` },
];

// Filters run as a guest and as the regular user bob (authors.verified = false): the collection
// listRule is ANDed in, joined collections must be listable and have their listRule enforced,
// hidden fields are forbidden, emails need emailVisibility, @collection/@request are forbidden.
export const USER_CASES = [
  ...group('posts', [
    '',
    "title ~ 'hello'",
    'views > 10',
    "author.name = 'Alice'",
    "author.name ?~ 'o'",
    "author.name = 'Bob'",
    "author.name != ''",
    'author.verified = false',
    "author.manager.name = 'Alice'",
    "coauthors.name ?= 'Bob'",
    "coauthors.name ?= 'Alice'",
    "coauthors.name = 'Ćarla Ünïcode'",
    "coauthors.id ?= 'auth00000000002'",
    'coauthors:length > 0',
    'comments_via_post.score > 3',
    'comments_via_post.score ?> 3',
    "comments_via_post.author.name ?= 'Bob'",
    "author.email = 'alice@example.com'",
    "author.email = 'bob@example.com'",
    "author.email ~ 'example'",
    "coauthors.email ?= 'bob@example.com'",
    "author.secret_code = 's-alice'",
    "coauthors.secret_code ?!= ''",
    "author.password = ''",
    "author.tokenKey != ''",
    "note.text = 'secret note'",
    "note = 'note00000000001'",
    "note.id != ''",
    "@collection.authors.name = 'x'",
    "@request.auth.id = ''",
    "@request.auth.id != '' || views > 0",
    "title ~ '@request.'",
    "title ~ '@collection.'",
    "unknownfield = 1",
    "title = 'x' &&",
  ]),
  ...group('comments', [
    '',
    "post.author.name = 'Alice'",
    "post.title ~ 'hello'",
    'post.published = false',
    "author.name = 'Bob'",
    "post.coauthors.name ?= 'Bob'",
    "post.note.text != ''",
  ]),
  ...group('authors', [
    '',
    "email = 'bob@example.com'",
    "email = 'alice@example.com'",
    "email != ''",
    "secret_code = 's-bob'",
    "manager.name = 'Alice'",
    "manager.name = 'Bob'",
    'comments_via_author.score ?> 3',
    "posts_via_author.title ?~ 'hello'",
    "authors_via_manager.name ?= 'Bob'",
    'emailVisibility = false',
    "password != ''",
    "tokenKey != ''",
    "@request.auth.id != ''",
    "@collection.posts.title != ''",
    "name ~ '@request.'",
    'nosuchfield = 1',
  ]),
  { coll: 'posts', filter: '', sort: 'author.name,id' },
  { coll: 'posts', filter: '', sort: 'author.secret_code,id' },
  { coll: 'posts', filter: '', sort: '@request.auth.id' },
];

// ---------------------------------------------------------------------------------------------
// Rule scenarios: sequential actions on boards/cards/gates by guest/alice/bob/carla. Each step is
// compared between the servers (status, and for success the returned record/ids). Later steps see
// the effects of earlier ones.
//
// step: {name, as: 'guest'|'alice'|'bob'|'carla'|'admin', op: 'list'|'view'|'create'|'update'|'delete',
//        coll, id?, body?, filter?, query?, headers?}

const list = (as, coll, extra = {}) => ({ name: `${as} lists ${coll}${extra.filter ? ` (${extra.filter})` : ''}`, as, op: 'list', coll, ...extra });

export const RULE_STEPS = [
  ...['guest', 'alice', 'bob', 'carla'].flatMap((as) => [list(as, 'boards'), list(as, 'cards')]),
  { name: 'alice views board 2 (not hers)', as: 'alice', op: 'view', coll: 'boards', id: B(2) },
  { name: 'bob views board 1 (member)', as: 'bob', op: 'view', coll: 'boards', id: B(1) },
  { name: 'carla views board 1 (not a member)', as: 'carla', op: 'view', coll: 'boards', id: B(1) },
  { name: 'guest views board 1', as: 'guest', op: 'view', coll: 'boards', id: B(1) },
  { name: 'bob views card 1 (board member)', as: 'bob', op: 'view', coll: 'cards', id: K(1) },
  { name: 'alice views card 1 (board owner by email)', as: 'alice', op: 'view', coll: 'cards', id: K(1) },
  { name: 'carla views card 4 (member of locked board)', as: 'carla', op: 'view', coll: 'cards', id: K(4) },
  { name: 'carla views card 1', as: 'carla', op: 'view', coll: 'cards', id: K(1) },
  { name: 'guest creates a board', as: 'guest', op: 'create', coll: 'boards', body: { id: B(10), name: 'g', owner: A(1) } },
  { name: 'alice creates a board owned by bob', as: 'alice', op: 'create', coll: 'boards', body: { id: B(11), name: 'x', owner: A(2) } },
  { name: 'alice creates her board', as: 'alice', op: 'create', coll: 'boards', body: { id: B(4), name: 'New alice board', owner: A(1), members: [A(3)] } },
  { name: 'bob renames board 1 (member, not owner)', as: 'bob', op: 'update', coll: 'boards', id: B(1), body: { name: 'hijack' } },
  { name: 'alice renames board 1', as: 'alice', op: 'update', coll: 'boards', id: B(1), body: { name: 'Alpha renamed' } },
  { name: 'alice hands board 1 to bob', as: 'alice', op: 'update', coll: 'boards', id: B(1), body: { owner: A(2) } },
  { name: 'alice renames locked board 3', as: 'alice', op: 'update', coll: 'boards', id: B(3), body: { name: 'unlock?' } },
  { name: 'bob deletes his board 2 (unverified)', as: 'bob', op: 'delete', coll: 'boards', id: B(2) },
  { name: 'carla deletes board 4 (not owner)', as: 'carla', op: 'delete', coll: 'boards', id: B(4) },
  { name: 'bob creates a card on alice\'s board', as: 'bob', op: 'create', coll: 'cards', body: { id: K(10), board: B(1), title: 'b', points: 1 } },
  { name: 'alice creates a card (5 points, 1 tag)', as: 'alice', op: 'create', coll: 'cards', body: { id: K(5), board: B(1), title: 'fifth', points: 5, tags: ['a'] } },
  { name: 'alice creates a card with 11 points', as: 'alice', op: 'create', coll: 'cards', body: { id: K(11), board: B(1), title: 'big', points: 11 } },
  { name: 'alice creates a card without points', as: 'alice', op: 'create', coll: 'cards', body: { id: K(12), board: B(1), title: 'none' } },
  { name: 'alice creates a card with 3 tags', as: 'alice', op: 'create', coll: 'cards', body: { id: K(13), board: B(1), title: 't', points: 1, tags: ['a', 'b', 'c'] } },
  { name: 'alice creates a card with points "7" (string)', as: 'alice', op: 'create', coll: 'cards', body: { id: K(6), board: B(4), title: 'str', points: '7' } },
  { name: 'bob retitles card 1', as: 'bob', op: 'update', coll: 'cards', id: K(1), body: { title: 'renamed' } },
  { name: 'bob sends the same title for card 1 and 4 points', as: 'bob', op: 'update', coll: 'cards', id: K(1), body: { title: 'first', points: 4 } },
  { name: 'carla updates card 4 points', as: 'carla', op: 'update', coll: 'cards', id: K(4), body: { points: 6 } },
  { name: 'carla tags card 4 with c', as: 'carla', op: 'update', coll: 'cards', id: K(4), body: { tags: ['c'] } },
  { name: 'carla adds tag b to card 4 (modifier)', as: 'carla', op: 'update', coll: 'cards', id: K(4), body: { 'tags+': 'b' } },
  { name: 'alice deletes card 2 (8 points)', as: 'alice', op: 'delete', coll: 'cards', id: K(2) },
  { name: 'alice deletes card 1 (4 points)', as: 'alice', op: 'delete', coll: 'cards', id: K(1) },
  { name: 'bob deletes card 3 (his board, 1 point)', as: 'bob', op: 'delete', coll: 'cards', id: K(3) },
  list('bob', 'cards', { filter: "board.name ~ 'alpha'" }),
  list('carla', 'cards', { filter: 'board.members:length > 1' }),
  list('alice', 'boards', { filter: "members.name ?= 'Bob'" }),
  // gates: @request.headers / query / method / context / auth fields
  list('guest', 'gates'),
  list('guest', 'gates', { headers: { 'X-Token': 'open-sesame' }, name: 'guest lists gates with X-Token header' }),
  list('guest', 'gates', { query: { key: 'k2' }, name: 'guest lists gates with ?key=k2' }),
  list('bob', 'gates', { query: { key: 'k1' }, filter: 'level > 0', name: 'bob lists gates with ?key=k1 and a filter' }),
  { name: 'guest views gate 1', as: 'guest', op: 'view', coll: 'gates', id: G(1) },
  { name: 'bob views gate 1', as: 'bob', op: 'view', coll: 'gates', id: G(1) },
  { name: 'guest creates gate with level', as: 'guest', op: 'create', coll: 'gates', body: { id: G(10), public_key: 'K-NEW', level: 3 } },
  { name: 'guest creates gate K-NEW', as: 'guest', op: 'create', coll: 'gates', body: { id: G(3), public_key: 'K-NEW' } },
  { name: 'guest creates gate k-other', as: 'guest', op: 'create', coll: 'gates', body: { id: G(11), public_key: 'k-other' } },
  { name: 'bob raises gate 1 level with key "bo"', as: 'bob', op: 'update', coll: 'gates', id: G(1), body: { level: 2, public_key: 'bo' } },
  { name: 'bob lowers gate 2 level', as: 'bob', op: 'update', coll: 'gates', id: G(2), body: { level: 4, public_key: 'bo' } },
  { name: 'alice raises gate 2 with key "zzz"', as: 'alice', op: 'update', coll: 'gates', id: G(2), body: { level: 9, public_key: 'zzz' } },
  { name: 'alice raises gate 2 with level+ 1 and key "lic"', as: 'alice', op: 'update', coll: 'gates', id: G(2), body: { 'level+': 1, public_key: 'lic' } },
  { name: 'bob deletes gate 3 (no red tag)', as: 'bob', op: 'delete', coll: 'gates', id: G(3) },
  { name: 'alice deletes gate 3 (red tag)', as: 'alice', op: 'delete', coll: 'gates', id: G(3) },
  { name: 'guest deletes gate 1', as: 'guest', op: 'delete', coll: 'gates', id: G(1) },
  // final state through the superuser
  ...['boards', 'cards', 'gates'].map((coll) => list('admin', coll)),
];
