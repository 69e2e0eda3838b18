import { after, before, it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { forEachStore, type Harness } from './helpers/harness.js';
import { SHELL_SURFACES, buildApp } from '../src/app.js';
import { Clock } from '../src/core/clock.js';
import { surfaceForPath } from '../src/core/http.js';
import { products } from '../src/products/index.js';

const PREFIXES = [...SHELL_SURFACES, ...products.flatMap((p) => p.surfaces ?? [])];

/**
 * A seeded, bounded fuzz over every registered route (read from the route table, so a new
 * route is covered without touching this file): malformed path parameters, query strings,
 * bodies, content types and headers. Every answer must be below 500 and, when it is an
 * error, have the shape of the surface the route belongs to (docs/design.md, DESIGN.md):
 *
 *   kauth   {error, error_description[, error_code: KOE…]}
 *   kapi    {msg, code[, api_type, required_scopes, allowed_scopes]}
 *   control {error}
 *   page    an HTML page, or a redirect
 *
 * The surface is the one the route declares (`config.surface`); routes that declare none
 * are kapi, except the pages a browser opens (login/consent, logout, Story pages, the
 * console). Requests no route took are judged by their path.
 */

/** Bounded and deterministic by default; a longer hunt: KAPIBARA_FUZZ_REQUESTS=20000 KAPIBARA_FUZZ_SEED=7. */
const SEED = Number(process.env.KAPIBARA_FUZZ_SEED ?? 0x14_2026);
const REQUESTS_PER_STORE = Number(process.env.KAPIBARA_FUZZ_REQUESTS ?? 1500);
/** The fuzz deletes and resets things: the fixtures are made again this often. */
const RESET_EVERY = 150;

type Surface = 'kauth' | 'kapi' | 'control' | 'page' | 'dapi';

/** mulberry32: small, fast and deterministic. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)];
    },
  };
}
type Rng = ReturnType<typeof prng>;

export interface RouteEntry {
  method: string;
  path: string;
}

/**
 * Every route of the app, from Fastify's route table (`printRoutes` draws the radix tree:
 * a child's segment continues its parent's path).
 */
export function routeTable(app: FastifyInstance): RouteEntry[] {
  const out: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    if (!m[3]) continue;
    const path = stack.join('');
    for (const method of m[3].split(', ')) out.push({ method, path });
  }
  return out;
}

const GARBAGE = [
  '', '0', '-1', '1.5', '1e3', '99999999999999999999', '9007199254740993', 'abc', 'null', 'undefined', 'true', '[]', '{}', '[1,2',
  '{"a":', '😀', '가나다', '<script>alert(1)</script>', "'; DROP TABLE apps;--", '../../etc/passwd', ' ', '\t', 'a'.repeat(101),
  'a'.repeat(3000), '%', '%zz', '%00', '%E0%A4%A', '+', 'Bearer', '\u202e', 'NaN', 'Infinity', '-0', '0x10', '1 OR 1=1',
];
const JSON_SNIPPETS = [
  '{"a":1}', '["a"]', '["profile_nickname"]', '["properties.nickname","kakao_account.email"]', '{"object_type":"text","text":"x","link":{"web_url":"http://localhost:3000"}}',
  '{"object_type":"feed","content":{"title":"t","image_url":"http://localhost:3000/a.png","link":{}}}', '{"nickname":"x"}', '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}', '[' + '['.repeat(70) + ']'.repeat(70) + ']', '{"url":"http://localhost:3000/x","title":"t"}', '"str"', '123', 'null',
];
const FIELDS = [
  'client_id', 'client_secret', 'redirect_uri', 'response_type', 'grant_type', 'code', 'code_verifier', 'refresh_token', 'state', 'scope', 'prompt',
  'nonce', 'login_hint', 'code_challenge', 'code_challenge_method', 'agt', 'id_token', 'access_token', 'request', 'account_id', 'email', 'password',
  'nickname', 'action', 'service_terms', 'target_id_type', 'target_id', 'target_ids', 'property_keys', 'secure_resource', 'offset', 'limit', 'order',
  'friend_order', 'from_id', 'id', 'last_id', 'url', 'template_id', 'template_args', 'template_object', 'receiver_uuids', 'request_url', 'properties',
  'scopes', 'tags', 'image_url_list', 'content', 'permission', 'enable_share', 'link_info', 'android_exec_param', 'ios_exec_param', 'user_ids',
  'token', 'logout_redirect_uri', 'name', 'advance_seconds', 'offset_ms', 'now', 'version', 'apps', 'accounts', 'favorite', 'friend_account_id',
  'messages_blocked', 'country_iso', 'shown_to', 'text', 'emotion', 'template', 'redirect_uris', 'web_domains', 'consent_items', 'base_address',
];
const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded;charset=utf-8',
  'multipart/form-data; boundary=fuzzBoundary', 'multipart/form-data', 'text/plain', 'application/xml', 'application/octet-stream', 'foo',
  'application/json; charset=latin1', 'application/vnd.api+json',
];

interface Fixtures {
  appId: number;
  accountIds: number[];
  keys: string[];
  tokens: string[];
  storyIds: string[];
  templateId: number;
  profileId: number;
  commentId: number;
}

async function makeFixtures(h: Harness): Promise<Fixtures> {
  const app = await h.createApp({
    web_domains: ['http://127.0.0.1:1'],
    client_secret: null,
    consent_items: {
      profile_nickname: 'required', profile_image: 'optional', account_email: 'optional', friends: 'optional', talk_message: 'optional',
      story_read: 'optional', story_publish: 'optional', shipping_address: 'optional', openid: 'optional',
    },
    oidc_enabled: true,
  });
  const a = await h.createAccount({ nickname: 'Fuzz A' });
  const b = await h.createAccount({ nickname: 'Fuzz B' });
  await h.befriend(a, b);
  const ta = await h.token(app, a);
  const tb = await h.token(app, b);
  const story = await h.control('POST', `/accounts/${a.id}/stories`, { content: 'fuzz story' });
  const comment = await h.control('POST', `/stories/${story.id}/comments`, { account_id: b.id, text: 'hi' });
  const template = await h.control('POST', `/apps/${app.id}/templates`, { template: { object_type: 'text', text: 'x', link: { web_url: 'http://127.0.0.1:1/' } } });
  const profile = await h.control('POST', `/accounts/${a.id}/talk/profiles`, { nickname: 'multi', shown_to: [b.id] });
  return {
    appId: app.id,
    accountIds: [a.id, b.id],
    keys: [app.rest_api_key, app.admin_key, app.javascript_key, app.native_key],
    tokens: [ta.access_token, tb.access_token, ta.refresh_token],
    storyIds: [story.id],
    templateId: template.id,
    profileId: profile.id,
    commentId: comment.id,
  };
}

function garbage(rng: Rng): string {
  return rng.chance(0.3) ? rng.pick(JSON_SNIPPETS) : rng.pick(GARBAGE);
}

/** A path parameter: usually a plausible value, often garbage (raw escapes included). */
function paramValue(rng: Rng, name: string, f: Fixtures): string {
  if (rng.chance(0.45)) {
    const valid: Record<string, () => string> = {
      app_id: () => String(f.appId),
      account_id: () => String(rng.pick(f.accountIds)),
      story_id: () => rng.pick(f.storyIds),
      handle: () => rng.pick(f.storyIds).split('.')[0],
      activity: () => rng.pick(f.storyIds).split('.')[1],
      template_id: () => String(f.templateId),
      profile_id: () => String(f.profileId),
      comment_id: () => String(f.commentId),
      chat: () => (rng.chance(0.5) ? 'memo' : String(rng.pick(f.accountIds))),
    };
    if (valid[name]) return valid[name]();
  }
  const value = garbage(rng);
  // Mostly escaped; sometimes raw (malformed escapes, slashes) as a careless client sends them.
  return rng.chance(0.75) ? encodeURIComponent(value) : value.replace(/[\s#?]/g, '');
}

function fieldValue(rng: Rng, f: Fixtures): string {
  const r = rng.next();
  if (r < 0.15) return rng.pick(f.keys);
  if (r < 0.2) return rng.pick(f.tokens);
  if (r < 0.25) return String(rng.pick(f.accountIds));
  if (r < 0.3) return rng.pick(['http://localhost:3000/callback', 'http://127.0.0.1:1/', 'JS-SDK', 'kakao://oauth']);
  return garbage(rng);
}

function randomFields(rng: Rng, f: Fixtures): [string, string][] {
  const out: [string, string][] = [];
  const n = rng.int(6);
  for (let i = 0; i < n; i++) out.push([rng.chance(0.9) ? rng.pick(FIELDS) : garbage(rng), fieldValue(rng, f)]);
  return out;
}

function encodeFields(rng: Rng, fields: [string, string][]): string {
  return fields
    .map(([k, v]) => {
      const key = encodeURIComponent(k);
      // Sometimes unescaped values: bad escapes, raw '&' and '='.
      return `${key}=${rng.chance(0.85) ? encodeURIComponent(v) : v}`;
    })
    .join('&');
}

function randomJsonValue(rng: Rng, f: Fixtures, depth = 0): unknown {
  const r = rng.next();
  if (depth > 3 || r < 0.3) return fieldValue(rng, f);
  if (r < 0.4) return rng.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, 9007199254740992, 1e21, 43200]);
  if (r < 0.5) return rng.pick([true, false, null]);
  if (r < 0.7) return Array.from({ length: rng.int(4) }, () => randomJsonValue(rng, f, depth + 1));
  const obj: Record<string, unknown> = {};
  for (let i = rng.int(5); i > 0; i--) obj[rng.chance(0.9) ? rng.pick(FIELDS) : garbage(rng)] = randomJsonValue(rng, f, depth + 1);
  return obj;
}

function multipartBody(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let i = rng.int(4); i > 0; i--) {
    const file = rng.chance(0.6);
    let head = `--fuzzBoundary\r\nContent-Disposition: form-data; name="${rng.pick(['file', 'file[0]', 'image', 'content', garbage(rng).replace(/["\r\n]/g, '')])}"`;
    if (file) head += `; filename="${rng.pick(['a.png', 'a.jpg', '', 'x'.repeat(300), '../a.gif'])}"\r\nContent-Type: ${rng.pick(['image/png', 'image/jpeg', 'text/plain', 'application/octet-stream'])}`;
    const data = rng.pick([Buffer.alloc(0), Buffer.from('GIF89a'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), Buffer.from(garbage(rng))]);
    parts.push(Buffer.from(`${head}\r\n\r\n`), data, Buffer.from('\r\n'));
  }
  if (rng.chance(0.8)) parts.push(Buffer.from('--fuzzBoundary--\r\n'));
  return Buffer.concat(parts);
}

function randomBody(rng: Rng, f: Fixtures): { type?: string; payload?: string | Buffer } {
  const r = rng.next();
  if (r < 0.15) return {};
  const type = rng.chance(0.85) ? rng.pick(CONTENT_TYPES.slice(0, 6)) : rng.pick(CONTENT_TYPES);
  if (type.startsWith('multipart')) return { type, payload: multipartBody(rng) };
  if (type.includes('json')) {
    const json = rng.chance(0.7) ? JSON.stringify(randomJsonValue(rng, f)) : rng.chance(0.5) ? rng.pick(JSON_SNIPPETS) : rng.pick(GARBAGE);
    return { type, payload: json };
  }
  return { type, payload: encodeFields(rng, randomFields(rng, f)) };
}

function randomHeaders(rng: Rng, f: Fixtures): Record<string, string> {
  const headers: Record<string, string> = {};
  const auth = rng.next();
  if (auth < 0.3) headers.authorization = `Bearer ${rng.pick(f.tokens)}`;
  else if (auth < 0.5) headers.authorization = `KakaoAK ${rng.pick(f.keys)}`;
  else if (auth < 0.7) headers.authorization = rng.pick(['Bearer', 'Bearer ', 'KakaoAK', 'Basic YTpi', 'Bearer abc', 'KakaoAK abc', 'bearer  x y', 'Digest x']);
  if (rng.chance(0.2)) headers.ka = rng.pick(['sdk/1.0 os/javascript lang/ko-KR origin/http://localhost:3000', 'garbage', 'lang/en']);
  if (rng.chance(0.2)) headers.cookie = rng.pick(['kapibara_session=abc', 'kapibara_session=', 'kapibara_operator=x', 'a=b; kapibara_session']);
  if (rng.chance(0.1)) headers.origin = rng.pick(['http://localhost:3000', 'http://evil.invalid', 'null']);
  if (rng.chance(0.05)) headers['x-kapibara-token'] = 'x';
  return headers;
}

/** The path with its parameters filled, sometimes with an extra segment or query noise. */
function buildUrl(rng: Rng, route: RouteEntry, f: Fixtures): string {
  let path = route.path.replace(/:([A-Za-z_]+)/g, (_, name: string) => paramValue(rng, name, f));
  if (path === '*') path = rng.pick(['/v2/user/me', '/oauth/token', '/_kapibara/v1/apps', '/x']);
  if (rng.chance(0.05)) path += `/${encodeURIComponent(garbage(rng)) || 'x'}`;
  const query = rng.chance(0.5) ? encodeFields(rng, randomFields(rng, f)) : '';
  return query ? `${path}?${query}` : path;
}

/** The pages a browser opens (no declared surface yet): login and consent, logout, Story pages, the console. */
function isPagePath(path: string): boolean {
  return /^\/oauth\/(authorize|logout)(\/|$)/.test(path) || /^\/story\//.test(path) || /^\/_kapibara\/console(\/|$)/.test(path);
}

function expectedSurface(path: string, routed: { url?: string; surface?: string; seen?: string } | undefined): Surface {
  if (isPagePath(path) && routed?.url !== undefined && isPagePath(routed.url)) return 'page';
  if (routed?.surface) return routed.surface as Surface;
  if (routed?.url === undefined) {
    // Unrouted: the surface of the longest declared prefix of the path the server saw, as the error handler picks it.
    if (routed?.seen !== undefined) return surfaceForPath(PREFIXES, routed.seen);
    if (/^\/_kapibara\/v1(\/|$)/.test(path)) return 'control';
    if (/^\/_kapibara\/console(\/|$)/.test(path) || /^\/oauth\/(authorize|logout)(\/|$)/.test(path)) return 'page';
    // The page surface prefixes of the channel, login, browser SDK and Story share modules.
    if (/^\/login/.test(path) || /^\/talk\/channel\/follow/.test(path)) return 'page';
    if (/^\/(sdk\/js\/|cors|public\/widget\/|s\/)/.test(path)) return 'page';
    if (/^\/(oauth\/|\.well-known\/|api\/agt|apiweb\/)/.test(path)) return 'kauth';
    return 'kapi';
  }
  return 'kapi';
}

/** Why an error answer does not have the surface's shape; undefined when it does. */
export function shapeProblem(surface: Surface, res: LightMyRequestResponse): string | undefined {
  const type = String(res.headers['content-type'] ?? '');
  if (surface === 'page') {
    if (res.statusCode >= 300 && res.statusCode < 400) return res.headers.location ? undefined : 'a redirect without a location';
    return /^text\/html/.test(type) ? undefined : `not an HTML page (${type || 'no content type'})`;
  }
  if (type !== 'application/json;charset=UTF-8') return `content type ${type || '(none)'}`;
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return 'not JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not a JSON object';
  const o = body as Record<string, unknown>;
  const keys = Object.keys(o);
  const only = (allowed: string[]) => keys.every((k) => allowed.includes(k));
  switch (surface) {
    case 'kapi':
      if (typeof o.code !== 'number' || typeof o.msg !== 'string') return 'not {code, msg}';
      return only(['msg', 'code', 'api_type', 'required_scopes', 'allowed_scopes']) ? undefined : `extra fields ${keys}`;
    case 'kauth':
      if (typeof o.error !== 'string' || typeof o.error_description !== 'string') return 'not {error, error_description}';
      if (o.error_code !== undefined && !(typeof o.error_code === 'string' && /^KOE\d{3}$/.test(o.error_code))) return `error_code ${String(o.error_code)}`;
      return only(['error', 'error_description', 'error_code']) ? undefined : `extra fields ${keys}`;
    case 'control':
      return typeof o.error === 'string' && keys.length === 1 ? undefined : 'not {error}';
    case 'dapi':
      return typeof o.errorType === 'string' && typeof o.message === 'string' ? undefined : 'not {errorType, message}';
  }
}

forEachStore('Fuzz: every route, malformed input (issue 14)', (h) => {
  let app: FastifyInstance;
  /** What the router decided for each request, by fuzz id: the route and its declared surface. */
  const routed = new Map<string, { url?: string; surface?: string; seen?: string }>();

  before(async () => {
    // A second app on the harness's store, with a hook that records the routing decision
    // (onSend: it also runs for answers Kapibara's own onRequest steps give, which end the
    // onRequest hooks).
    app = await buildApp({ store: h.store, clock: new Clock() });
    app.addHook('onSend', (req, _reply, payload, done) => {
      const id = req.headers['x-fuzz-id'];
      if (typeof id === 'string' && !routed.has(id)) routed.set(id, { url: req.routeOptions.url, surface: req.routeOptions.config?.surface, seen: req.url });
      done(null, payload);
    });
    await app.ready();
  });
  after(async () => app.close());

  it('the route table lists every product, the control plane and the console', () => {
    const paths = new Set(routeTable(app).map((r) => r.path));
    for (const path of ['/oauth/token', '/oauth/authorize/login', '/v2/user/me', '/v1/api/talk/friends/message/send', '/v1/api/story/post/link', '/_kapibara/v1/apps/:app_id/users/:account_id/tokens', '/_kapibara/console/people/:account_id']) {
      assert.ok(paths.has(path), `${path} in ${[...paths].join(' ')}`);
    }
  });

  it(`${REQUESTS_PER_STORE} seeded malformed requests: no 5xx, every error in its surface's shape`, async () => {
    const routes = routeTable(app);
    const rng = prng(SEED + (h.kind === 'postgres' ? 1 : 0));
    const failures: string[] = [];
    let f = await makeFixtures(h);
    for (let i = 0; i < REQUESTS_PER_STORE; i++) {
      if (i > 0 && i % RESET_EVERY === 0) {
        await h.reset();
        f = await makeFixtures(h);
      }
      const route = rng.pick(routes);
      const url = buildUrl(rng, route, f);
      const headers: Record<string, string> = { ...randomHeaders(rng, f), 'x-fuzz-id': String(i) };
      const opts: InjectOptions = { method: route.method as InjectOptions['method'], url, headers };
      if (!['GET', 'HEAD', 'OPTIONS'].includes(route.method) || rng.chance(0.1)) {
        const body = randomBody(rng, f);
        if (body.type) headers['content-type'] = body.type;
        if (body.payload !== undefined) opts.payload = body.payload;
      }
      if (route.method === 'OPTIONS' && rng.chance(0.7)) {
        headers.origin = 'http://localhost:3000';
        headers['access-control-request-method'] = rng.pick(['GET', 'POST', 'DELETE']);
      }
      let res: LightMyRequestResponse;
      try {
        res = (await app.inject(opts)) as LightMyRequestResponse;
      } catch (err) {
        failures.push(`${route.method} ${url}: inject threw ${(err as Error).message}`);
        continue;
      }
      const describe = () => `${route.method} ${url.slice(0, 160)} [${headers['content-type'] ?? 'no body'}] → ${res.statusCode} ${res.body.slice(0, 160)}`;
      if (res.statusCode >= 500) {
        failures.push(`5xx: ${describe()}`);
        continue;
      }
      if (res.statusCode < 400 || route.method === 'HEAD' || route.method === 'OPTIONS') continue;
      const path = url.split('?')[0];
      const surface = expectedSurface(path, routed.get(String(i)));
      const problem = shapeProblem(surface, res);
      if (problem) failures.push(`${surface} shape (${problem}): ${describe()}`);
    }
    assert.equal(failures.length, 0, `${failures.length} of ${REQUESTS_PER_STORE} answers failed:\n${failures.slice(0, 60).join('\n')}`);
  });
});
