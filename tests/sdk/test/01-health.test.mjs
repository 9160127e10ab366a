// Health endpoint and generic HTTP behaviour (headers, 404s, malformed bodies, CORS).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectHttpError, http, useServer } from '../lib/client.mjs';

const ctx = useServer();

const SECURITY_HEADERS = {
  'x-xss-protection': '1; mode=block',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'cross-origin-opener-policy': 'same-origin',
};

function assertSecurityHeaders(headers) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    assert.equal(headers.get(name), value, `header ${name}`);
  }
  assert.match(headers.get('vary') ?? '', /\bOrigin\b/);
}

describe('health', () => {
  it('GET /api/health answers the exact public body', async () => {
    const res = await http(ctx.url, 'GET', '/api/health');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.text.trim(), '{"message":"API is healthy.","code":200,"data":{}}');
    assert.deepEqual(res.body, { message: 'API is healthy.', code: 200, data: {} });
    assertSecurityHeaders(res.headers);
  });

  it('the SDK health service returns the same body', async () => {
    assert.deepEqual(await ctx.guest.health.check(), { message: 'API is healthy.', code: 200, data: {} });
  });

  it('superusers get extra data', async () => {
    const res = await http(ctx.url, 'GET', '/api/health', { token: ctx.admin.authStore.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      message: 'API is healthy.',
      code: 200,
      data: { canBackup: true, realIP: '127.0.0.1', possibleProxyHeader: '' },
    });
  });

  it('HEAD is answered like GET without a body', async () => {
    const res = await http(ctx.url, 'HEAD', '/api/health');
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assertSecurityHeaders(res.headers);
  });
});

describe('unknown routes', () => {
  it('unknown GET falls through to the static handler: 404 "File not found."', async () => {
    const res = await http(ctx.url, 'GET', '/api/does-not-exist');
    expectHttpError(res, 404, 'File not found.');
    assertSecurityHeaders(res.headers);
  });

  it('unknown POST gets the default 404 envelope', async () => {
    expectHttpError(await http(ctx.url, 'POST', '/api/does-not-exist', { json: {} }),
      404, "The requested resource wasn't found.");
  });

  it('known path with the wrong method is a 404', async () => {
    expectHttpError(await http(ctx.url, 'PUT', '/api/health'), 404, "The requested resource wasn't found.");
    expectHttpError(await http(ctx.url, 'DELETE', '/api/health'), 404, "The requested resource wasn't found.");
  });

  it('trailing slash does not match the route', async () => {
    expectHttpError(await http(ctx.url, 'POST', '/api/collections/_superusers/records/', { json: {} }),
      404, "The requested resource wasn't found.");
    expectHttpError(await http(ctx.url, 'GET', '/api/collections/_superusers/records/', { token: ctx.admin.authStore.token }),
      404, 'File not found.');
  });

  it('records of an unknown collection: 404 "Missing collection context."', async () => {
    expectHttpError(await http(ctx.url, 'GET', '/api/collections/nope/records'), 404, 'Missing collection context.');
  });
});

describe('malformed bodies', () => {
  const broken = { body: '{"identity":', headers: { 'Content-Type': 'application/json' } };

  it('malformed JSON on auth-with-password is a 400', async () => {
    expectHttpError(await http(ctx.url, 'POST', '/api/collections/_superusers/auth-with-password', broken),
      400, 'An error occurred while loading the submitted data.');
  });

  it('malformed JSON on record create is a 400 with the default message', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections/_superusers/records',
      { ...broken, token: ctx.admin.authStore.token });
    expectHttpError(res, 400, 'Something went wrong while processing your request.');
  });

  it('malformed JSON on collection create is a 400', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections', { ...broken, token: ctx.admin.authStore.token });
    expectHttpError(res, 400, 'Failed to load the collection type data due to invalid formatting.');
  });

  it('an unsupported content type is rejected', async () => {
    const res = await http(ctx.url, 'POST', '/api/collections/_superusers/auth-with-password', {
      body: 'identity=x', headers: { 'Content-Type': 'text/plain' },
    });
    expectHttpError(res, 400, 'Unsupported Content-Type.');
  });
});

describe('CORS', () => {
  it('preflight echoes the requested headers and allows every method', async () => {
    const res = await http(ctx.url, 'OPTIONS', '/api/health', {
      headers: {
        Origin: 'http://example.test',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,authorization',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET,HEAD,PUT,PATCH,POST,DELETE');
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type,authorization');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.equal(res.headers.get('vary'), 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  });

  it('simple requests with an Origin get Access-Control-Allow-Origin', async () => {
    const res = await http(ctx.url, 'GET', '/api/health', { headers: { Origin: 'http://example.test' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  it('requests without an Origin get no CORS headers', async () => {
    const res = await http(ctx.url, 'GET', '/api/health');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});
