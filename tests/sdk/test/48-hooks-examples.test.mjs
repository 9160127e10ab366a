// pb_hooks_examples/ loaded as a pb_hooks dir: the custom routes with auth, the record
// hook that validates and enriches, and that the mail hook and the cron load (they need
// APIs listed in pb_hooks_examples/README.md before their effects can be asserted).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { client, expectSdkError, http, useServer } from '../lib/client.mjs';

const DIR = fileURLToPath(new URL('../../../pb_hooks_examples/', import.meta.url));
const hooks = Object.fromEntries(readdirSync(DIR).filter((f) => f.endsWith('.pb.js')).map((f) => [f, readFileSync(DIR + f, 'utf8')]));

const ctx = useServer({ hooks }, async (c) => {
  const users = await c.admin.collections.getOne('users');
  await c.admin.collections.create({
    name: 'posts',
    type: 'base',
    listRule: 'published = true',
    viewRule: 'published = true || author = @request.auth.id',
    createRule: '@request.auth.id != ""',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'slug', type: 'text' },
      { name: 'body', type: 'text' },
      { name: 'published', type: 'bool' },
      { name: 'likes', type: 'number' },
      { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });
  for (const name of ['alice', 'bob']) {
    await c.admin.collection('users').create({ email: `${name}@example.com`, password: 'pass-1234567', passwordConfirm: 'pass-1234567' });
    const pb = client(c.url);
    await pb.collection('users').authWithPassword(`${name}@example.com`, 'pass-1234567');
    c[name] = pb;
  }
});

describe('pb_hooks_examples', () => {
  it('all example files load', () => {
    assert.deepEqual(Object.keys(hooks).sort(), ['cron.pb.js', 'notify.pb.js', 'posts.pb.js', 'routes.pb.js']);
    assert.doesNotMatch(ctx.server.logs(), /\bERROR\b/);
  });

  it('posts.pb.js validates the title and sets slug, likes and author', async () => {
    await expectSdkError(ctx.alice.collection('posts').create({ title: ' x ' }), 400, 'Failed to create record.', {
      title: { code: 'validation_min_text_constraint', message: 'Must be at least 3 character(s).' },
    });
    const bobId = ctx.bob.authStore.record.id;
    const post = await ctx.alice.collection('posts').create({ title: '  Hello, Wasm World!  ', published: true, likes: 99, author: bobId });
    assert.equal(post.title, 'Hello, Wasm World!');
    assert.equal(post.slug, 'hello-wasm-world');
    assert.equal(post.likes, 0);
    assert.equal(post.author, ctx.alice.authStore.record.id, 'the author is the caller, whatever the body said');
    ctx.postId = post.id;
    await ctx.alice.collection('posts').create({ title: 'Draft notes' });
  });

  it('routes.pb.js: /api/myapp/my-posts requires a user and lists only theirs', async () => {
    const guest = await http(ctx.url, 'GET', '/api/myapp/my-posts');
    assert.equal(guest.status, 401);
    const mine = await http(ctx.url, 'GET', '/api/myapp/my-posts', { token: ctx.alice.authStore.token });
    assert.equal(mine.status, 200, mine.text);
    assert.deepEqual(mine.body.items.map((p) => p.slug).sort(), ['draft-notes', 'hello-wasm-world']);
    const theirs = await http(ctx.url, 'GET', '/api/myapp/my-posts', { token: ctx.bob.authStore.token });
    assert.deepEqual(theirs.body.items, []);
  });

  it('routes.pb.js: liking a published post counts; a draft is a 404', async () => {
    const like = () => http(ctx.url, 'POST', `/api/myapp/posts/${ctx.postId}/like`, { token: ctx.bob.authStore.token });
    assert.equal((await like()).body.likes, 1);
    assert.equal((await like()).body.likes, 2);
    assert.equal((await ctx.guest.collection('posts').getOne(ctx.postId)).likes, 2);
    const draft = (await http(ctx.url, 'GET', '/api/myapp/my-posts', { token: ctx.alice.authStore.token })).body.items.find((p) => p.slug === 'draft-notes');
    const res = await http(ctx.url, 'POST', `/api/myapp/posts/${draft.id}/like`, { token: ctx.bob.authStore.token });
    assert.equal(res.status, 404);
    assert.equal(res.body.message, 'The post is not published.');
    assert.equal((await http(ctx.url, 'POST', `/api/myapp/posts/${ctx.postId}/like`)).status, 401);
  });
});
