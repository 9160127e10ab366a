// Listing records: paging, getFullList/getFirstListItem, sort, fields, skipTotal, filters, rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, expectHttpError, expectSdkError, http, useServer } from '../lib/client.mjs';
import { PUBLIC_RULES } from '../lib/fixtures.mjs';

const GENRES = ['scifi', 'drama', 'poetry'];
// 12 books with deterministic values; expectations below are computed from this table.
const BOOKS = Array.from({ length: 12 }, (_, i) => ({
  title: `Book ${String(i).padStart(2, '0')}`,
  year: 2000 + (i % 4),
  rating: i * 0.5,
  genre: GENRES[i % 3],
  published: i % 2 === 0,
  body: `<p>Chapter <b>${i}</b> of a long story</p><p>The end</p>`,
}));
const BULK_COUNT = 1001;

const ctx = useServer({}, async ({ admin }) => {
  const fields = [
    { name: 'title', type: 'text' },
    { name: 'year', type: 'number' },
    { name: 'rating', type: 'number' },
    { name: 'genre', type: 'select', values: GENRES },
    { name: 'published', type: 'bool' },
    { name: 'body', type: 'editor' },
  ];
  await admin.collections.create({ name: 'books', listRule: '', viewRule: '', fields });
  await admin.collections.create({ name: 'locked_books', fields }); // all rules null
  await admin.collections.create({ name: 'published_books', listRule: 'published = true', viewRule: 'published = true', fields });
  await admin.collections.create({ name: 'bulk', ...PUBLIC_RULES, fields: [{ name: 'n', type: 'number' }] });
  for (const book of BOOKS) {
    for (const name of ['books', 'locked_books', 'published_books']) await admin.collection(name).create(book);
  }
  // 1001 records to make getFullList fetch two pages of 1000
  const queue = Array.from({ length: BULK_COUNT }, (_, n) => n);
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (queue.length) await admin.collection('bulk').create({ n: queue.shift() });
  }));
});

const books = () => ctx.guest.collection('books');
const titles = (records) => records.map((r) => r.title);
const sortedTitles = (cmp, filter = () => true) => titles(BOOKS.filter(filter).sort(cmp));
const byTitle = (a, b) => a.title.localeCompare(b.title);

/** A client that records the query of every request it sends (as URLSearchParams). */
function recordingClient() {
  const pb = client(ctx.url);
  pb.requests = [];
  pb.beforeSend = (url, options) => {
    const params = new URL(url).searchParams;
    for (const [k, v] of Object.entries(options.query ?? {})) params.set(k, String(v));
    pb.requests.push(params);
    return { url, options };
  };
  return pb;
}

describe('getList paging', () => {
  it('default paging: page 1, perPage 30, totals', async () => {
    const res = await books().getList();
    assert.deepEqual({ ...res, items: res.items.length }, { items: 12, page: 1, perPage: 30, totalItems: 12, totalPages: 1 });
  });

  it('page/perPage slice the sorted result', async () => {
    const all = sortedTitles(byTitle);
    const p1 = await books().getList(1, 5, { sort: 'title' });
    const p3 = await books().getList(3, 5, { sort: 'title' });
    assert.deepEqual({ ...p1, items: titles(p1.items) }, { items: all.slice(0, 5), page: 1, perPage: 5, totalItems: 12, totalPages: 3 });
    assert.deepEqual({ ...p3, items: titles(p3.items) }, { items: all.slice(10), page: 3, perPage: 5, totalItems: 12, totalPages: 3 });
  });

  it('a page past the end is empty but keeps the totals', async () => {
    const res = await books().getList(9, 5);
    assert.deepEqual(res, { items: [], page: 9, perPage: 5, totalItems: 12, totalPages: 3 });
  });

  it('perPage is clamped to 1000; zero/negative values fall back to defaults', async () => {
    const big = await http(ctx.url, 'GET', '/api/collections/books/records?perPage=5000&fields=id');
    assert.equal(big.body.perPage, 1000);
    const zero = await http(ctx.url, 'GET', '/api/collections/books/records?page=0&perPage=0&fields=id');
    assert.deepEqual([zero.body.page, zero.body.perPage, zero.body.totalItems], [1, 30, 12]);
    const negative = await http(ctx.url, 'GET', '/api/collections/books/records?page=-1&perPage=-5&fields=id');
    assert.deepEqual([negative.body.page, negative.body.perPage], [1, 30]);
  });

  it('non-numeric page or skipTotal → 400', async () => {
    for (const query of ['page=abc', 'perPage=x', 'skipTotal=maybe']) {
      expectHttpError(await http(ctx.url, 'GET', `/api/collections/books/records?${query}`),
        400, 'Something went wrong while processing your request.');
    }
  });

  it('skipTotal returns -1 totals', async () => {
    const res = await books().getList(1, 5, { skipTotal: true, sort: 'title' });
    assert.deepEqual({ ...res, items: titles(res.items) },
      { items: sortedTitles(byTitle).slice(0, 5), page: 1, perPage: 5, totalItems: -1, totalPages: -1 });
  });
});

describe('getFullList and getFirstListItem', () => {
  it('getFullList pages with perPage=1000&skipTotal=1 until a short page', async () => {
    const pb = recordingClient();
    const all = await pb.collection('bulk').getFullList({ sort: 'n' });
    assert.equal(all.length, BULK_COUNT);
    assert.deepEqual(all.map((r) => r.n), Array.from({ length: BULK_COUNT }, (_, n) => n));
    assert.deepEqual(pb.requests.map((q) => [q.get('page'), q.get('perPage'), q.get('skipTotal')]),
      [['1', '1000', '1'], ['2', '1000', '1']]);
  });

  it('getFullList with a small batch', async () => {
    const pb = recordingClient();
    const all = await pb.collection('books').getFullList({ batch: 5, sort: '-title' });
    assert.deepEqual(titles(all), sortedTitles((a, b) => b.title.localeCompare(a.title)));
    assert.equal(pb.requests.length, 3);
  });

  it('getFirstListItem returns the first match', async () => {
    const pb = recordingClient();
    const rec = await pb.collection('books').getFirstListItem("year = 2003 && published = false", { sort: '-rating' });
    assert.equal(rec.title, 'Book 11');
    const q = pb.requests[0];
    assert.deepEqual([q.get('perPage'), q.get('skipTotal')], ['1', '1']);
  });

  it('getFirstListItem without a match → 404 (raised by the SDK on an empty page)', async () => {
    const err = await books().getFirstListItem("title = 'missing'").then(() => null, (e) => e);
    assert.equal(err?.status, 404);
    assert.equal(err.response.message, "The requested resource wasn't found.");
  });
});

describe('sort', () => {
  it('-field sorts descending', async () => {
    const res = await books().getList(1, 12, { sort: '-rating' });
    assert.deepEqual(titles(res.items), sortedTitles((a, b) => b.rating - a.rating));
  });

  it('multiple fields: year ascending then title descending', async () => {
    const res = await books().getList(1, 12, { sort: 'year,-title' });
    assert.deepEqual(titles(res.items), sortedTitles((a, b) => a.year - b.year || b.title.localeCompare(a.title)));
  });

  it('+field is ascending too; select and bool fields sort', async () => {
    const res = await books().getList(1, 12, { sort: '+genre,-published,title' });
    assert.deepEqual(titles(res.items), sortedTitles((a, b) => a.genre.localeCompare(b.genre)
      || Number(b.published) - Number(a.published) || a.title.localeCompare(b.title)));
  });

  it('@random returns every record once', async () => {
    const res = await books().getList(1, 12, { sort: '@random' });
    assert.deepEqual(titles(res.items).sort(), sortedTitles(byTitle));
  });

  it('an unknown sort field → 400', async () => {
    await expectSdkError(books().getList(1, 5, { sort: 'nope' }), 400, 'Something went wrong while processing your request.');
  });
});

describe('filter', () => {
  const cases = [
    ["year = 2001", (b) => b.year === 2001],
    ["genre = 'scifi' && published = true", (b) => b.genre === 'scifi' && b.published],
    ["genre = 'poetry' || rating >= 5", (b) => b.genre === 'poetry' || b.rating >= 5],
    ["(genre = 'scifi' || genre = 'drama') && year != 2000", (b) => b.genre !== 'poetry' && b.year !== 2000],
    ["title ~ 'Book 1'", (b) => b.title.includes('Book 1')],
    ["title !~ '0'", (b) => !b.title.includes('0')],
    ["rating > 1.5 && rating <= 3", (b) => b.rating > 1.5 && b.rating <= 3],
    ["published = false", (b) => !b.published],
  ];
  for (const [filter, predicate] of cases) {
    it(filter, async () => {
      const res = await books().getList(1, 50, { filter, sort: 'title' });
      const expected = sortedTitles(byTitle, predicate);
      assert.ok(expected.length > 0 && expected.length < BOOKS.length, 'the case is selective');
      assert.deepEqual(titles(res.items), expected);
      assert.equal(res.totalItems, expected.length);
    });
  }

  it('the SDK filter() helper escapes parameters', async () => {
    const filter = ctx.guest.filter('title = {:t} || year = {:y}', { t: "Book 03", y: 2002 });
    const res = await books().getList(1, 50, { filter, sort: 'title' });
    assert.deepEqual(titles(res.items), sortedTitles(byTitle, (b) => b.title === 'Book 03' || b.year === 2002));
  });

  it('an invalid filter → 400', async () => {
    await expectSdkError(books().getList(1, 5, { filter: 'nope = 1' }), 400, 'Something went wrong while processing your request.');
    await expectSdkError(books().getList(1, 5, { filter: 'year = ' }), 400, 'Something went wrong while processing your request.');
  });

  it('guests cannot filter by @request or @collection', async () => {
    await expectSdkError(books().getList(1, 5, { filter: "@request.auth.id = ''" }), 403, 'Only superusers can filter by @request.');
    await expectSdkError(books().getList(1, 5, { filter: "@collection.books.year = 2000" }), 403, 'Only superusers can filter by @collection.');
  });
});

describe('fields', () => {
  it('picks only the listed keys; list envelope keys stay', async () => {
    const res = await books().getList(1, 2, { fields: 'id,title', sort: 'title' });
    assert.deepEqual(Object.keys(res).sort(), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
    assert.deepEqual(res.items.map((r) => Object.keys(r).sort()), [['id', 'title'], ['id', 'title']]);
    assert.deepEqual(titles(res.items), ['Book 00', 'Book 01']);
  });

  it('* selects every key', async () => {
    const full = await books().getList(1, 3, { sort: 'title' });
    const star = await books().getList(1, 3, { sort: 'title', fields: '*' });
    assert.deepEqual(star, full);
  });

  it(':excerpt(n,true) strips HTML and truncates with an ellipsis', async () => {
    const rec = await books().getFirstListItem("title = 'Book 07'", { fields: 'title:excerpt(4,true),body:excerpt(12,true)' });
    assert.deepEqual(rec, { title: 'Book...', body: 'Chapter 7 of...' });
    const noEllipsis = await books().getFirstListItem("title = 'Book 07'", { fields: 'body:excerpt(12)' });
    assert.deepEqual(noEllipsis, { body: 'Chapter 7 of' });
    const whole = await books().getFirstListItem("title = 'Book 07'", { fields: 'body:excerpt(200,true)' });
    assert.deepEqual(whole, { body: 'Chapter 7 of a long story The end' });
  });

  it('* combined with an excerpt modifier', async () => {
    const rec = await books().getFirstListItem("title = 'Book 02'", { fields: '*,body:excerpt(7)' });
    const full = await books().getFirstListItem("title = 'Book 02'");
    assert.deepEqual(rec, { ...full, body: 'Chapter' });
  });

  it('unknown field names are ignored', async () => {
    const rec = await books().getFirstListItem("title = 'Book 01'", { fields: 'title,nope' });
    assert.deepEqual(rec, { title: 'Book 01' });
  });

  it('fields applies to getOne too', async () => {
    const first = await books().getFirstListItem("title = 'Book 05'");
    assert.deepEqual(await books().getOne(first.id, { fields: 'year,genre' }), { year: 2001, genre: 'poetry' });
  });
});

describe('API rules', () => {
  it('null rules: guests get 403 on list and view, superusers see everything', async () => {
    await expectSdkError(ctx.guest.collection('locked_books').getList(), 403, 'Only superusers can perform this action.');
    const any = (await ctx.admin.collection('locked_books').getList(1, 1)).items[0];
    await expectSdkError(ctx.guest.collection('locked_books').getOne(any.id), 403, 'Only superusers can perform this action.');
    await expectSdkError(ctx.guest.collection('locked_books').create({ title: 'x' }), 403, 'Only superusers can perform this action.');
    await expectSdkError(ctx.guest.collection('locked_books').update(any.id, { title: 'x' }), 403, 'Only superusers can perform this action.');
    await expectSdkError(ctx.guest.collection('locked_books').delete(any.id), 403, 'Only superusers can perform this action.');
    assert.equal((await ctx.admin.collection('locked_books').getList()).totalItems, 12);
  });

  it('empty-string rules are public', async () => {
    assert.equal((await ctx.guest.collection('books').getList()).totalItems, 12);
  });

  it('filter rules restrict list and view', async () => {
    const res = await ctx.guest.collection('published_books').getList(1, 50, { sort: 'title' });
    assert.deepEqual(titles(res.items), sortedTitles(byTitle, (b) => b.published));
    const hidden = await ctx.admin.collection('published_books').getFirstListItem('published = false');
    await expectSdkError(ctx.guest.collection('published_books').getOne(hidden.id), 404, "The requested resource wasn't found.");
    // a user filter is ANDed with the rule
    const narrowed = await ctx.guest.collection('published_books').getList(1, 50, { filter: 'year = 2001' });
    assert.equal(narrowed.totalItems, 0);
  });
});
