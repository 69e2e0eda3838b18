import { after, before, beforeEach, describe } from './node-test.js';
import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type AppOptions, buildApp } from '../../src/app.js';
import { Clock } from '../../src/core/clock.js';
import type { Store } from '../../src/db/index.js';
import { freshStore, storeKinds, type StoreKind } from './stores.js';

/**
 * Runs a block of tests once per store (SQLite and PostgreSQL). Each block gets one app
 * and store; state is reset before every test, so tests never see each other's data.
 *
 *   forEachStore('User API', (h) => {
 *     it('reads /v2/user/me', async () => { const t = await h.signIn(); ... });
 *   });
 */
const SUITE_TIMEOUT_MS = 5 * 60_000;

export function forEachStore(title: string, body: (h: Harness) => void, options: Partial<AppOptions> = {}): void {
  for (const kind of storeKinds()) {
    // A suite that hangs fails on its own, naming the test it was in, long before the whole
    // file's 10 minutes are up (the longest suite takes under a minute; one CI run lost a
    // file to a hang with no test named).
    describe(`${title} [${kind}]`, { timeout: SUITE_TIMEOUT_MS }, () => {
      const h = new Harness(kind, options);
      before(async () => h.start());
      beforeEach(async () => h.reset());
      after(async () => h.stop());
      body(h);
    });
  }
}

export interface TestApp {
  id: number;
  rest_api_key: string;
  native_key: string;
  javascript_key: string;
  admin_key: string;
  client_secret: string | null;
  redirect_uris: string[];
  web_domains: string[];
  consent_items: Record<string, string>;
  [key: string]: unknown;
}

export interface TestAccount {
  id: number;
  email: string;
  nickname: string;
  [key: string]: unknown;
}

export interface TestTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  user_id: number;
}

export type Form = Record<string, string | number | boolean | string[] | object>;

/** Form-encodes like Kakao's SDKs: objects and arrays become JSON strings. */
export function form(fields: Form): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    params.append(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return params.toString();
}

/** A refresh of `refreshToken` with the app's REST API key (POST /oauth/token). */
export function refreshGrant(h: Harness, app: TestApp, refreshToken: string): Promise<LightMyRequestResponse> {
  return h.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: refreshToken }),
  });
}

/** An exchange of `code` with the app's REST API key (POST /oauth/token). */
export function codeGrant(h: Harness, app: TestApp, code: string, redirectUri: string): Promise<LightMyRequestResponse> {
  return h.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: redirectUri, code }),
  });
}

/**
 * Sent with every control call: a body-less POST or DELETE needs it (a JSON body alone
 * would do), so that no web page can make the call without a CORS preflight.
 */
export const CONTROL_HEADERS = { 'x-kapibara-control': '1' };

export class Harness {
  app!: FastifyInstance;
  store!: Store;
  readonly clock = new Clock();

  constructor(
    readonly kind: StoreKind,
    private readonly options: Partial<AppOptions> = {},
  ) {}

  async start(): Promise<void> {
    this.store = await freshStore(this.kind);
    this.app = await buildApp({ ...this.options, store: this.store, clock: this.clock });
    await this.app.ready();
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.store?.close();
  }

  async reset(): Promise<void> {
    const res = await this.app.inject({ method: 'POST', url: '/_kapibara/v1/reset', headers: CONTROL_HEADERS });
    assert.equal(res.statusCode, 200, res.body);
  }

  /** Listens on a loopback port (for clients that need real HTTP); returns the origin. */
  async listen(): Promise<string> {
    const address = this.app.server.address();
    if (address && typeof address === 'object') return `http://127.0.0.1:${address.port}`;
    await this.app.listen({ port: 0, host: '127.0.0.1' });
    const a = this.app.server.address() as { port: number };
    return `http://127.0.0.1:${a.port}`;
  }

  inject(opts: InjectOptions): Promise<LightMyRequestResponse> {
    return this.app.inject(opts) as Promise<LightMyRequestResponse>;
  }

  /** A control-plane call that must succeed; returns its JSON. */
  async control<T = any>(method: InjectOptions['method'], path: string, body?: unknown): Promise<T> {
    const res = await this.app.inject({ method, url: `/_kapibara/v1${path}`, headers: CONTROL_HEADERS, payload: body as InjectOptions['payload'] });
    assert.ok(res.statusCode < 300, `control ${method} ${path} → ${res.statusCode} ${res.body}`);
    return (res.body ? res.json() : undefined) as T;
  }

  createApp(body: Record<string, unknown> = {}): Promise<TestApp> {
    return this.control('POST', '/apps', {
      redirect_uris: ['http://localhost:3000/callback'],
      web_domains: ['http://localhost:3000'],
      ...body,
    });
  }

  createAccount(body: Record<string, unknown> = {}): Promise<TestAccount> {
    return this.control('POST', '/accounts', body);
  }

  /** Signs `account` in to `app` without a browser, agreeing to `scopes` (default: all configured). */
  token(app: TestApp, account: TestAccount, scopes?: string[]): Promise<TestTokens> {
    return this.control('POST', `/apps/${app.id}/users/${account.id}/tokens`, scopes ? { scopes } : {});
  }

  befriend(a: TestAccount, b: TestAccount, favorite = false): Promise<unknown> {
    return this.control('POST', '/friendships', { account_id: a.id, friend_account_id: b.id, favorite });
  }

  advanceClock(seconds: number): Promise<unknown> {
    return this.control('POST', '/clock', { advance_seconds: seconds });
  }

  /** A kapi call with a Bearer token. */
  kapi(method: InjectOptions['method'], url: string, token: string, fields?: Form): Promise<LightMyRequestResponse> {
    return this.kapiAs(`Bearer ${token}`, method, url, fields);
  }

  /** A kapi call with `Authorization: KakaoAK <key>`. */
  kapiKey(method: InjectOptions['method'], url: string, key: string, fields?: Form): Promise<LightMyRequestResponse> {
    return this.kapiAs(`KakaoAK ${key}`, method, url, fields);
  }

  /** Fields go in the query for GET and DELETE, form-encoded in the body otherwise. */
  private kapiAs(authorization: string, method: InjectOptions['method'], url: string, fields?: Form): Promise<LightMyRequestResponse> {
    const inQuery = method === 'GET' || method === 'DELETE';
    const query = fields && inQuery ? `${url.includes('?') ? '&' : '?'}${form(fields)}` : '';
    return this.inject({
      method,
      url: url + query,
      headers: { authorization, ...(fields && !inQuery ? { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' } : {}) },
      payload: fields && !inQuery ? form(fields) : undefined,
    });
  }
}

/** Asserts a Kakao API error: status, code and (optionally) a message fragment. */
export function assertApiError(res: LightMyRequestResponse, status: number, code: number, msgIncludes?: string | RegExp): void {
  assert.equal(res.statusCode, status, `expected ${status}, got ${res.statusCode}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json;charset=UTF-8$/);
  const body = res.json();
  assert.equal(body.code, code, res.body);
  assert.equal(typeof body.msg, 'string');
  if (msgIncludes !== undefined) {
    if (typeof msgIncludes === 'string') assert.ok(body.msg.includes(msgIncludes), `msg "${body.msg}" lacks "${msgIncludes}"`);
    else assert.match(body.msg, msgIncludes);
  }
}

/** The cookies a browser would send after these answers (later ones win), as a Cookie header. */
export function cookiesOf(...responses: LightMyRequestResponse[]): string {
  const jar = new Map<string, string>();
  for (const res of responses) {
    const set = res.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** The CSRF token of a Kakao Login page's forms (core/security.ts). */
export function csrfTokenOf(html: string): string {
  return /name="csrf_token" value="([^"]*)"/.exec(html)?.[1] ?? '';
}
