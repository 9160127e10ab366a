// A mock OAuth2/OIDC provider on loopback that speaks the token/userinfo shapes of every
// provider PocketBase supports in the tests (generic OIDC, Google, GitHub/Bitbucket with /emails,
// Microsoft, Apple with a signed id_token + JWKS, GraphQL providers (Linear, monday.com), …).
//
// The test registers a "person" under an authorization code; the token endpoint exchanges the
// code for an access token (recording the request), the user info endpoint answers with the
// person in the provider's JSON shape.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function s256(verifier) {
  return createHash('sha256').update(verifier).digest('base64url');
}

// person: { id, name, username, email, verified, avatar }
export const SHAPES = {
  oidc: (p) => ({
    sub: p.id, name: p.name, preferred_username: p.username, picture: p.avatar, email: p.email, email_verified: p.verified,
  }),
  google: (p) => ({ sub: p.id, name: p.name, picture: p.avatar, email: p.email, email_verified: p.verified }),
  github: (p) => ({ id: Number(p.id), login: p.username, name: p.name, avatar_url: p.avatar }),
  microsoft: (p) => ({ id: p.id, displayName: p.name, mail: p.email }),
  discord: (p) => ({
    id: p.id, username: p.username, global_name: p.name, discriminator: '0', avatar: p.avatar ? 'abc123' : null,
    email: p.email, verified: p.verified,
  }),
  gitlab: (p) => ({
    id: Number(p.id), username: p.username, name: p.name, avatar_url: p.avatar, email: p.email,
    confirmed_at: p.verified ? '2020-01-02T03:04:05Z' : null,
  }),
  facebook: (p) => ({ id: p.id, name: p.name, email: p.email, picture: { data: { url: p.avatar } } }),
  yandex: (p) => ({
    id: p.id, real_name: p.name, login: p.username, default_email: p.email, is_avatar_empty: !p.avatar, default_avatar_id: 'av42',
  }),
  gitea: (p) => ({ id: Number(p.id), full_name: p.name, login: p.username, avatar_url: p.avatar, active: true }),
  spotify: (p) => ({ id: p.id, display_name: p.name, images: p.avatar ? [{ url: p.avatar }] : [] }),
  box: (p) => ({ id: p.id, name: p.name, login: p.email, avatar_url: p.avatar, status: 'active' }),
  wakatime: (p) => ({
    data: {
      id: p.id, display_name: p.name, username: p.username, email: p.email, photo: p.avatar, photo_public: true,
      is_email_confirmed: p.verified,
    },
  }),
  livechat: (p) => ({ account_id: p.id, name: p.name, email: p.email, email_verified: p.verified, avatar_url: p.avatar }),
  kakao: (p) => ({
    id: Number(p.id),
    properties: { nickname: p.username, profile_image: p.avatar },
    kakao_account: { email: p.email, is_email_valid: true, is_email_verified: p.verified },
  }),
  twitch: (p) => ({
    data: [{ id: p.id, login: p.username, display_name: p.name, email: p.email, profile_image_url: p.avatar }],
  }),
  patreon: (p) => ({
    data: {
      id: p.id,
      attributes: { email: p.email, full_name: p.name, vanity: p.username, image_url: p.avatar, is_email_verified: p.verified },
    },
  }),
  trakt: (p) => ({
    user: { username: p.username, name: p.name, ids: { slug: p.username, uuid: p.id }, images: { avatar: { full: p.avatar } } },
  }),
  mailcow: (p) => ({ id: p.id, username: `${p.username}@mail.test`, email: p.email, full_name: p.name, active: 1 }),
  notion: (p) => ({
    object: 'user', id: 'bot-id', type: 'bot',
    bot: { owner: { type: 'user', user: { id: p.id, name: p.name, avatar_url: p.avatar, person: { email: p.email } } } },
  }),
  strava: (p) => {
    const [firstname, ...rest] = p.name.split(' ');
    return { id: Number(p.id), firstname, lastname: rest.join(' '), username: p.username, profile: p.avatar };
  },
  instagram2: (p) => ({
    id: `ig-${p.id}`, user_id: p.id, username: p.username, name: p.name, profile_picture_url: p.avatar, account_type: 'BUSINESS',
  }),
  bitbucket: (p) => ({
    uuid: `{${p.id}}`, username: p.username, display_name: p.name, account_status: 'active', links: { avatar: { href: p.avatar } },
  }),
  gitee: (p) => ({ id: Number(p.id), login: p.username, name: p.name, email: p.email, avatar_url: p.avatar }),
  twitter: (p) => ({
    data: { id: p.id, name: p.name, username: p.username, profile_image_url: p.avatar, ...(p.verified ? { confirmed_email: p.email } : {}) },
  }),
  vk: (p) => {
    const [first_name, ...rest] = p.name.split(' ');
    return { response: [{ id: Number(p.id), first_name, last_name: rest.join(' '), screen_name: p.username, photo_max: p.avatar }] };
  },
  linear: (p) => ({
    data: { viewer: { id: p.id, displayName: p.username, name: p.name, email: p.email, avatarUrl: p.avatar, active: true } },
  }),
  monday: (p) => ({
    data: { me: { id: p.id, enabled: true, name: p.name, email: p.email, is_verified: p.verified, photo_small: p.avatar } },
  }),
  lark: (p) => ({ code: 0, data: { union_id: p.id, open_id: `ou_${p.id}`, name: p.name, avatar_url: p.avatar } }),
  planningcenter: (p) => ({ data: { type: 'Person', id: p.id, attributes: { status: 'active', name: p.name, avatar: p.avatar } } }),
  apple: (p, clientId) => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: 'https://appleid.apple.com', aud: clientId, sub: p.id, email: p.email, email_verified: p.verified ? 'true' : 'false',
      iat: now, exp: now + 600,
    };
  },
};

// What PocketBase maps from each shape (fields a provider does not have are empty).
export function expectedUser(provider, p) {
  const base = { id: p.id, name: p.name, username: p.username, email: p.verified ? p.email : '', avatarURL: p.avatar };
  switch (provider) {
    case 'google': return { ...base, username: '' };
    case 'microsoft': return { ...base, username: '', avatarURL: '', email: p.email };
    case 'apple': return { ...base, name: '', username: '', avatarURL: '' };
    case 'discord': return { ...base, avatarURL: p.avatar ? `https://cdn.discordapp.com/avatars/${p.id}/abc123.png` : '' };
    case 'facebook': return { ...base, username: '', email: p.email };
    case 'yandex': return { ...base, email: p.email, avatarURL: p.avatar ? 'https://avatars.yandex.net/get-yapic/av42/islands-200' : '' };
    case 'spotify': return { ...base, username: '', email: '' };
    case 'strava': return { ...base, email: '' };
    case 'box': return { ...base, username: '', email: p.email };
    case 'livechat': return { ...base, username: '' };
    case 'kakao': return { ...base, name: '' };
    case 'twitch': return { ...base, email: p.email };
    case 'trakt': return { ...base, email: '' };
    case 'notion': return { ...base, username: '', email: p.email };
    case 'mailcow': return { ...base, avatarURL: '', email: p.email };
    case 'bitbucket': return { ...base, id: `{${p.id}}` };
    case 'gitee': return { ...base, email: p.email };
    case 'vk': return { ...base, email: p.email };
    case 'linear': return { ...base, email: p.email };
    case 'instagram2': return { ...base, email: '' };
    case 'monday': case 'lark': case 'planningcenter': return { ...base, username: '', email: provider === 'monday' ? base.email : '' };
    default: return base;
  }
}

export async function startOAuth2Mock() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'mock-key', alg: 'RS256', use: 'sig' };
  const signJwt = (claims) => {
    const head = b64url(JSON.stringify({ alg: 'RS256', kid: 'mock-key', typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    return `${head}.${body}.${b64url(sign('sha256', Buffer.from(`${head}.${body}`), privateKey))}`;
  };

  const codes = new Map(); // code -> { provider, person, clientId, failUser }
  const tokens = new Map(); // access token -> code
  const tokenRequests = [];
  const userRequests = [];
  let counter = 0;

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const send = (status, obj, type = 'application/json') => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(typeof obj === 'string' ? obj : JSON.stringify(obj));
      };
      const body = Buffer.concat(chunks).toString();
      if (url.pathname === '/jwks') return send(200, { keys: [jwk] });
      if (req.method === 'POST' && url.pathname === '/token') {
        const form = Object.fromEntries(new URLSearchParams(body));
        tokenRequests.push({ form, authorization: req.headers.authorization ?? '' });
        const entry = codes.get(form.code);
        if (!entry) return send(400, { error: 'invalid_grant', error_description: 'unknown code' });
        const access = `at-${++counter}`;
        tokens.set(access, form.code);
        const out = { access_token: access, token_type: 'bearer', refresh_token: `rt-${counter}`, expires_in: 3600 };
        if (entry.provider === 'apple' || entry.idToken) {
          // a failing user lookup is an id_token for another client
          out.id_token = signJwt(SHAPES.apple(entry.person, entry.failUser ? 'another-client' : entry.clientId));
        }
        // VK hands out the email with the token; Instagram its granted permissions
        if (entry.provider === 'vk') out.email = entry.person.email;
        if (entry.provider === 'instagram2') out.permissions = 'instagram_business_basic';
        if (entry.provider === 'github' || entry.provider === 'gitea') {
          // GitHub answers form-encoded unless asked for JSON
          return send(200, new URLSearchParams({ access_token: access, token_type: 'bearer', scope: 'read:user,user:email' }).toString(),
            'application/x-www-form-urlencoded');
        }
        return send(200, out);
      }
      const auth = req.headers.authorization ?? '';
      const code = tokens.get(auth.replace(/^Bearer /, ''));
      const entry = code && codes.get(code);
      userRequests.push({ method: req.method, path: url.pathname + url.search, authorization: auth, body, contentType: req.headers['content-type'] ?? '' });
      if (!entry) return send(401, { error: 'invalid token' });
      if (entry.failUser) return send(500, { error: 'boom' });
      if (url.pathname === '/userinfo/emails' && entry.provider === 'bitbucket') {
        return send(200, {
          values: [
            { email: `other-${entry.person.email}`, is_primary: false, is_confirmed: true },
            { email: entry.person.email, is_primary: true, is_confirmed: entry.person.verified },
          ],
        });
      }
      if (url.pathname === '/userinfo/emails') {
        return send(200, [
          { email: `other-${entry.person.email}`, verified: true, primary: false },
          { email: entry.person.email, verified: entry.person.verified, primary: true },
        ]);
      }
      if (entry.provider === 'notion' && req.headers['notion-version'] !== '2022-06-28') return send(400, { error: 'missing Notion-Version' });
      if (entry.provider === 'twitch' && req.headers['client-id'] !== entry.clientId) return send(400, { error: 'missing Client-Id' });
      if (entry.provider === 'trakt' && (req.headers['trakt-api-key'] !== entry.clientId || req.headers['trakt-api-version'] !== '2')) {
        return send(400, { error: 'missing trakt headers' });
      }
      // Linear and monday.com answer a POSTed GraphQL query
      const graphql = entry.provider === 'linear' || entry.provider === 'monday';
      if (graphql !== (req.method === 'POST')) return send(405, { error: 'wrong method' });
      if (graphql && !/^\{"query": "query/.test(body)) return send(400, { error: 'missing GraphQL query' });
      if (url.pathname === '/userinfo') return send(200, SHAPES[entry.provider](entry.person, entry.clientId));
      return send(404, { error: 'not found' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    tokenRequests,
    userRequests,
    // registers an authorization code for a person and returns it
    code(provider, person, { clientId = 'client-id', failUser = false, idToken = false } = {}) {
      const c = `code-${++counter}-${provider}`;
      codes.set(c, { provider, person, clientId, failUser, idToken });
      return c;
    },
    providerConfig(provider, extra = {}) {
      const cfg = {
        name: provider,
        clientId: 'client-id',
        clientSecret: 'client-secret',
        authURL: `${base}/authorize`,
        tokenURL: `${base}/token`,
        userInfoURL: `${base}/userinfo`,
        ...extra,
      };
      if (provider === 'apple') {
        delete cfg.userInfoURL;
        cfg.extra = { jwksURL: `${base}/jwks` };
      }
      return cfg;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
