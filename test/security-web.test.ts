import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppOptions } from '../src/app.js';
import { parseServerConfig } from '../src/config.js';
import { webDomainSources } from '../src/core/security.js';
import { listenTls } from '../src/core/tls.js';
import { connect as connectTls } from 'node:tls';
import { forEachStore, type Harness, type TestApp, type TestAccount } from './helpers/harness.js';

/**
 * What a hostile web page or a careless client could do to a Kapibara on a developer's
 * machine (issue 14, items 1–6 and 13), at the HTTP level; the same attacks from a real
 * browser are in test/browser/security.test.ts.
 */

const EVIL = 'http://localhost:5173';

/** Another app built on the block's store, with its own options (hosts, proxies, limits). */
async function withApp(h: Harness, options: AppOptions, run: (app: FastifyInstance) => Promise<void>): Promise<void> {
  const app = await buildApp({ store: h.store, clock: h.clock, ...options });
  try {
    await run(app);
  } finally {
    await app.close();
  }
}

function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function hidden(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(m, `the page has a hidden ${name}`);
  return unescapeHtml(m[1]);
}

/** A cookie-keeping client for the login pages. */
class Browser {
  cookies = new Map<string, string>();
  constructor(private readonly h: Harness) {}
  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }
  get cookie(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async get(url: string): Promise<LightMyRequestResponse> {
    return this.keep(await this.h.inject({ method: 'GET', url, headers: { cookie: this.cookie } }));
  }
  async post(url: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    return this.keep(
      await this.h.inject({ method: 'POST', url, payload: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.cookie, ...headers } }),
    );
  }
}

function authorizeUrl(app: TestApp, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: 'http://localhost:3000/callback', response_type: 'code', ...extra });
  return `/oauth/authorize?${q}`;
}

/** Signed in and looking at the consent page for `scope`. */
async function atConsent(h: Harness, b: Browser, app: TestApp, person: TestAccount, scope: string) {
  const login = await b.get(authorizeUrl(app, { scope }));
  const loggedIn = await b.post('/oauth/authorize/login', { request: hidden(login.body, 'request'), csrf_token: hidden(login.body, 'csrf_token'), account_id: String(person.id) });
  assert.equal(loggedIn.statusCode, 303, loggedIn.body);
  const consent = await b.get(String(loggedIn.headers.location));
  assert.match(consent.body, /id="consent"/);
  return consent;
}

forEachStore('security: control plane and CORS (item 1)', (h) => {
  it('answers no cross-origin browser: preflights, reads and writes from another origin are refused', async () => {
    const app = await h.createApp({ name: 'Survivor' });
    const preflight = await h.inject({
      method: 'OPTIONS',
      url: '/_kapibara/v1/apps',
      headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    assert.notEqual(preflight.statusCode, 204);
    const read = await h.inject({ method: 'GET', url: '/_kapibara/v1/state', headers: { origin: EVIL } });
    assert.equal(read.statusCode, 403);
    assert.equal(read.headers['access-control-allow-origin'], undefined);
    assert.match(read.json().error, /another origin/);
    // A page on the same site (another loopback port) is another origin too; so is a sandboxed frame.
    for (const origin of ['http://127.0.0.1:8080', 'null']) {
      const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: {}, headers: { origin } });
      assert.equal(res.statusCode, 403, origin);
    }
    // Fetch Metadata without an Origin (a no-cors GET from another site) is refused as well.
    const noCors = await h.inject({ method: 'GET', url: '/_kapibara/v1/state', headers: { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' } });
    assert.equal(noCors.statusCode, 403);
    // The same routes spelled another way are guarded too.
    for (const url of ['/%5Fkapibara/v1/reset', '/_kapibara/%761/reset', '/_kapibara/v1/reset/']) {
      const res = await h.inject({ method: 'POST', url, headers: { origin: EVIL } });
      assert.equal(res.statusCode, 403, url);
      const simple = await h.inject({ method: 'POST', url });
      assert.equal(simple.statusCode, 403, url);
      const preflight = await h.inject({ method: 'OPTIONS', url, headers: { origin: EVIL, 'access-control-request-method': 'POST' } });
      assert.equal(preflight.headers['access-control-allow-origin'], undefined, url);
    }
    assert.deepEqual((await h.control('GET', '/apps')).map((a: TestApp) => a.id), [app.id]);
  });

  it('state-changing calls must be non-simple requests: a JSON body or X-Kapibara-Control', async () => {
    const app = await h.createApp({ name: 'Survivor' });
    // What `fetch(url, {method: 'POST', mode: 'no-cors'})` or a form sends: no preflight.
    for (const headers of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }]) {
      const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/reset', headers, payload: headers['content-type'] ? 'x' : undefined });
      assert.equal(res.statusCode, 403, JSON.stringify(headers));
      assert.match(res.json().error, /X-Kapibara-Control/);
    }
    const del = await h.inject({ method: 'DELETE', url: `/_kapibara/v1/apps/${app.id}` });
    assert.equal(del.statusCode, 403);
    assert.deepEqual((await h.control('GET', '/apps')).map((a: TestApp) => a.id), [app.id]);
    // Reads need nothing; JSON bodies and the header pass, from no page or from Kapibara's own origin.
    assert.equal((await h.inject({ method: 'GET', url: '/_kapibara/v1/apps' })).statusCode, 200);
    const created = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { name: 'Own' }, headers: { origin: 'http://localhost' } });
    assert.equal(created.statusCode, 201, created.body);
    const reset = await h.inject({ method: 'POST', url: '/_kapibara/v1/reset', headers: { 'x-kapibara-control': '1' } });
    assert.equal(reset.statusCode, 200);
    assert.deepEqual(await h.control('GET', '/apps'), []);
  });

  it('the console refuses other origins’ pages but opens from a link', async () => {
    const fetched = await h.inject({ method: 'GET', url: '/_kapibara/console', headers: { origin: EVIL, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' } });
    assert.equal(fetched.statusCode, 403);
    assert.equal(fetched.headers['access-control-allow-origin'], undefined);
    const framed = await h.inject({ method: 'GET', url: '/_kapibara/console', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' } });
    assert.equal(framed.statusCode, 403);
    const linked = await h.inject({ method: 'GET', url: '/_kapibara/console', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } });
    assert.equal(linked.statusCode, 200);
    assert.equal(linked.headers['x-frame-options'], 'DENY');
  });

  it('the control plane and console refuse requests from the pages SDK v1 frames (/cors/, the login widget), which run them for another origin', async () => {
    // Same-origin XHRs from those pages carry no Origin; their Referer is the page's own URL.
    for (const referer of ['https://kapi.kakao.com/cors/?xdm_e=https%3A%2F%2Fevil.example&xdm_c=x&xdm_p=1', 'http://localhost/public/widget/login/kakaoLoginWidget.html?xdm_e=x']) {
      const headers = { referer, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' };
      const read = await h.inject({ method: 'GET', url: '/_kapibara/v1/apps', headers });
      assert.equal(read.statusCode, 403, read.body);
      assert.match(read.json().error, /SDK v1 proxy page/);
      assert.equal((await h.inject({ method: 'GET', url: '/_kapibara/console', headers })).statusCode, 403);
      assert.equal((await h.inject({ method: 'POST', url: '/_kapibara/v1/reset', headers: { ...headers, 'x-kapibara-control': '1' } })).statusCode, 403);
    }
    // Kapibara's own pages (the console's script) still read it.
    const own = await h.inject({ method: 'GET', url: '/_kapibara/console/requests.json', headers: { referer: 'http://localhost/_kapibara/console/requests', 'sec-fetch-site': 'same-origin' } });
    assert.equal(own.statusCode, 200);
  });

  it("kapi still answers the JavaScript SDK's preflights for GET, POST and DELETE, and echoes the origin", async () => {
    const sdkHeaders = 'authorization,cache-control,content-type,ka,pragma';
    for (const [method, url] of [
      ['GET', '/v2/user/me'],
      ['POST', '/v1/user/logout'],
      ['DELETE', '/v1/api/story/delete/mystory'],
    ]) {
      const res = await h.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: 'http://localhost:3000', 'access-control-request-method': method, 'access-control-request-headers': sdkHeaders },
      });
      assert.equal(res.statusCode, 204, `${method} ${url}`);
      assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:3000');
      assert.ok(String(res.headers['access-control-allow-methods']).split(/,\s*/).includes(method), `${method}: ${res.headers['access-control-allow-methods']}`);
      assert.equal(res.headers['access-control-allow-headers'], sdkHeaders);
    }
    const app = await h.createApp();
    const person = await h.createAccount();
    const tokens = await h.token(app, person);
    const me = await h.inject({ method: 'GET', url: '/v2/user/me', headers: { origin: 'http://localhost:3000', authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(me.statusCode, 200);
    assert.equal(me.headers['access-control-allow-origin'], 'http://localhost:3000');
  });

  it('CORS headers, exactly: every kapi answer varies by Origin and allows credentials; preflights are 204 or 400', async () => {
    const headersOf = (res: { headers: Record<string, unknown> }) =>
      Object.fromEntries(Object.entries(res.headers).filter(([k]) => k === 'vary' || k.startsWith('access-control-') || k === 'content-length' || k === 'content-type'));
    const plain = await h.inject({ method: 'GET', url: '/v2/user/me' });
    assert.equal(plain.statusCode, 401);
    assert.deepEqual(headersOf(plain), { vary: 'Origin', 'access-control-allow-credentials': 'true', 'content-type': 'application/json;charset=UTF-8', 'content-length': '54' });
    const fromPage = await h.inject({ method: 'GET', url: '/nowhere', headers: { origin: 'http://a.test' } });
    assert.equal(fromPage.statusCode, 404);
    assert.equal(fromPage.headers.vary, 'Origin');
    assert.equal(fromPage.headers['access-control-allow-origin'], 'http://a.test');
    assert.equal(fromPage.headers['access-control-allow-credentials'], 'true');
    // Any path, routed or not, answers a preflight; the requested headers are echoed only when asked.
    for (const [url, requested] of [['/oauth/token', 'authorization,ka'], ['/nowhere', undefined]] as const) {
      const preflight = await h.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: 'http://a.test', 'access-control-request-method': 'POST', ...(requested ? { 'access-control-request-headers': requested } : {}) },
      });
      assert.equal(preflight.statusCode, 204, url);
      assert.equal(preflight.body, '');
      assert.deepEqual(headersOf(preflight), {
        vary: 'Origin, Access-Control-Request-Headers',
        'access-control-allow-origin': 'http://a.test',
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET, HEAD, POST, DELETE',
        ...(requested ? { 'access-control-allow-headers': requested } : {}),
        'access-control-max-age': '3600',
        'content-length': '0',
      });
    }
    // An OPTIONS that is no preflight (no Origin, or no method asked for) is refused.
    for (const headers of [{}, { origin: 'http://a.test' }, { 'access-control-request-method': 'GET' }]) {
      const res = await h.inject({ method: 'OPTIONS', url: '/v2/user/me', headers });
      assert.equal(res.statusCode, 400, JSON.stringify(headers));
      assert.equal(res.body, 'Invalid Preflight Request');
      assert.equal(res.headers['access-control-allow-methods'], undefined);
    }
    // The control plane's own page may preflight, but reads no CORS answer from it.
    const own = await h.inject({ method: 'OPTIONS', url: '/_kapibara/v1/apps', headers: { origin: 'http://localhost', 'access-control-request-method': 'POST' } });
    assert.equal(own.statusCode, 204);
    assert.equal(own.headers['access-control-allow-origin'], undefined);
    assert.equal(own.headers['access-control-allow-credentials'], undefined);
  });

  it('pages and redirects are never readable cross-origin', async () => {
    const app = await h.createApp();
    const page = await h.inject({ method: 'GET', url: authorizeUrl(app), headers: { origin: EVIL } });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['access-control-allow-origin'], undefined);
    assert.equal(page.headers['access-control-allow-credentials'], undefined);
    const redirect = await h.inject({ method: 'GET', url: authorizeUrl(app, { prompt: 'none' }), headers: { origin: EVIL } });
    assert.equal(redirect.statusCode, 302);
    assert.equal(redirect.headers['access-control-allow-origin'], undefined);
  });
});

forEachStore('security: Host names (item 2)', (h) => {
  it('refuses a Host that is not loopback, an IP, a Kakao name, the public URL or an allowed name (DNS rebinding)', async () => {
    const res = await h.inject({ method: 'GET', url: '/_kapibara/v1/state', headers: { host: 'rebind.attacker.invalid' } });
    assert.equal(res.statusCode, 421);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, /does not serve the host name "rebind\.attacker\.invalid".*--allowed-host rebind\.attacker\.invalid/s);
    for (const host of ['rebind.attacker.invalid:9876', 'localhost.attacker.invalid', 'kakao.com.attacker.invalid', '127.0.0.1.nip.io']) {
      assert.equal((await h.inject({ method: 'GET', url: '/v2/user/me', headers: { host } })).statusCode, 421, host);
    }
    for (const host of ['localhost', 'localhost:9876', '127.0.0.1:1234', '[::1]:80', '10.1.2.3:9876', 'kapi.kakao.com', 'KAUTH.KAKAO.COM', 'kauth.kakao.com:8443', 'sharer.kakao.com', 'pf.kakao.com', 'app.localhost']) {
      const served = await h.inject({ method: 'GET', url: '/v2/user/me', headers: { host } });
      assert.equal(served.statusCode, 401, host);
      assert.equal(served.json().code, -401);
    }
  });

  it('serves the --public-url host and the names the operator adds', async () => {
    await withApp(h, { publicUrl: 'https://kapibara.staging.example', allowedHosts: ['sandbox.internal', '*.teams.example'] }, async (app) => {
      const status = async (host: string) => (await app.inject({ method: 'GET', url: '/v2/user/me', headers: { host } })).statusCode;
      assert.equal(await status('kapibara.staging.example'), 401);
      assert.equal(await status('sandbox.internal:9876'), 401);
      assert.equal(await status('a.teams.example'), 401);
      assert.equal(await status('teams.example'), 421);
      assert.equal(await status('other.example'), 421);
    });
    await withApp(h, { allowedHosts: ['*'] }, async (app) => {
      assert.equal((await app.inject({ method: 'GET', url: '/v2/user/me', headers: { host: 'anything.example' } })).statusCode, 401);
    });
  });
});

forEachStore('security: forwarded headers (item 3)', (h) => {
  const discovery = (app: FastifyInstance, headers: InjectOptions['headers']) =>
    app.inject({ method: 'GET', url: '/.well-known/openid-configuration', headers });

  it('X-Forwarded-* from an undeclared proxy cannot forge the OIDC issuer', async () => {
    const forged = await discovery(h.app, { 'x-forwarded-host': 'forged.invalid', 'x-forwarded-proto': 'https' });
    assert.equal(forged.statusCode, 200);
    assert.equal(forged.json().issuer, 'http://localhost:80');
    const kakao = await discovery(h.app, { 'x-forwarded-host': 'kauth.kakao.com', 'x-forwarded-proto': 'https' });
    assert.equal(kakao.json().issuer, 'http://localhost:80');
  });

  it('a declared proxy is believed, and its forwarded host is still checked', async () => {
    // app.inject connects from 127.0.0.1.
    await withApp(h, { trustProxy: ['10.0.0.0/8', '127.0.0.1'] }, async (app) => {
      const viaProxy = await discovery(app, { 'x-forwarded-host': 'kauth.kakao.com', 'x-forwarded-proto': 'https' });
      assert.equal(viaProxy.json().issuer, 'https://kauth.kakao.com');
      assert.equal((await discovery(app, { 'x-forwarded-host': 'forged.invalid' })).statusCode, 421);
    });
    await withApp(h, { trustProxy: ['10.0.0.1'] }, async (app) => {
      const notTheProxy = await discovery(app, { 'x-forwarded-host': 'kauth.kakao.com', 'x-forwarded-proto': 'https' });
      assert.equal(notTheProxy.json().issuer, 'http://localhost:80');
    });
  });
});

forEachStore('security: login pages (items 4, 5, 6)', (h) => {
  it('the JS-SDK result page posts only to the app’s registered web domains', async () => {
    const app = await h.createApp({ web_domains: ['http://localhost:3000', 'shop.example'] });
    const person = await h.createAccount();
    const b = new Browser(h);
    const url = `/oauth/authorize?client_id=${app.javascript_key}&redirect_uri=JS-SDK&response_type=code&ka=${encodeURIComponent('sdk/2.7.2 os/javascript origin/http%3A%2F%2Fshop.example%3A8443')}`;
    const login = await b.get(url);
    const loggedIn = await b.post('/oauth/authorize/login', { request: hidden(login.body, 'request'), csrf_token: hidden(login.body, 'csrf_token'), account_id: String(person.id) });
    const consent = await b.get(String(loggedIn.headers.location));
    const result = await b.post('/oauth/authorize/consent', { request: hidden(consent.body, 'request'), csrf_token: hidden(consent.body, 'csrf_token'), action: 'agree' });
    assert.equal(result.statusCode, 200);
    assert.doesNotMatch(result.body, /'\*'/);
    const data = JSON.parse(/<script type="application\/json" id="kakao-result">([^<]*)<\/script>/.exec(result.body)![1]);
    assert.match(data.result.code, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(data.origins.sort(), ['http://localhost:3000', 'http://shop.example', 'http://shop.example:8443', 'https://shop.example']);
    assert.match(String(result.headers['content-security-policy']), /script-src 'sha256-[^']+'/);
  });

  it('the consent form is refused without its token, with another browser’s token, or from another origin', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', account_email: 'optional', talk_message: 'optional' } });
    const person = await h.createAccount();
    const b = new Browser(h);
    const consent = await atConsent(h, b, app, person, 'profile_nickname,account_email,talk_message');
    const request = hidden(consent.body, 'request');
    const token = hidden(consent.body, 'csrf_token');
    const answer = { request, action: 'agree', scope: ['account_email', 'talk_message'] };

    const attempts: [string, Record<string, string | string[]>, Record<string, string>][] = [
      ['no token', answer, {}],
      ['a forged token', { ...answer, csrf_token: 'A'.repeat(43) }, {}],
      ['the right token from a page on another loopback port', { ...answer, csrf_token: token }, { origin: 'http://127.0.0.1:8080' }],
      ['the right token, Fetch Metadata same-site', { ...answer, csrf_token: token }, { 'sec-fetch-site': 'same-site' }],
      // Through SDK v1's /cors/ page (same origin, the person's cookies), for the page framing it.
      ['the right token, sent by the /cors/ page', { ...answer, csrf_token: token }, { origin: 'http://localhost', 'sec-fetch-site': 'same-origin', referer: 'http://localhost/cors/?xdm_e=http%3A%2F%2Flocalhost%3A3000&xdm_c=x&xdm_p=1' }],
    ];
    for (const [what, fields, headers] of attempts) {
      const res = await b.post('/oauth/authorize/consent', fields, headers);
      assert.equal(res.statusCode, 403, what);
      assert.match(res.body, /id="form-refused"/, what);
      assert.equal(res.headers.location, undefined, what);
    }
    // Another browser (its own form cookie) cannot use this browser's token, even with this session.
    const other = new Browser(h);
    await other.get(authorizeUrl(app));
    other.cookies.set('kapibara_session', b.cookies.get('kapibara_session')!);
    assert.equal((await other.post('/oauth/authorize/consent', { ...answer, csrf_token: token })).statusCode, 403);
    // The token is bound to the pending request: another request (here another state) is refused.
    const widened = new URLSearchParams(request);
    widened.set('state', 'attacker');
    assert.equal((await b.post('/oauth/authorize/consent', { ...answer, request: widened.toString(), csrf_token: token })).statusCode, 403);
    const link = await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}` });
    assert.equal(link.statusCode, 404, 'nothing was agreed');

    // The page's own submission, from Kapibara's origin, goes through.
    const ok = await b.post('/oauth/authorize/consent', { ...answer, csrf_token: token }, { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' });
    assert.equal(ok.statusCode, 302, ok.body);
    assert.match(String(ok.headers.location), /^http:\/\/localhost:3000\/callback\?code=/);
  });

  it('the login and sign-up forms are refused without their token or from another origin', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    const b = new Browser(h);
    const login = await b.get(authorizeUrl(app));
    const request = hidden(login.body, 'request');
    assert.equal((await b.post('/oauth/authorize/login', { request, account_id: String(person.id) })).statusCode, 403);
    const foreign = await b.post('/oauth/authorize/login', { request, csrf_token: hidden(login.body, 'csrf_token'), account_id: String(person.id) }, { origin: 'http://127.0.0.1:8080' });
    assert.equal(foreign.statusCode, 403);
    assert.equal(b.cookies.get('kapibara_session'), undefined, 'not signed in');
    const signup = await b.post('/oauth/authorize/signup', { request, email: 'new@example.com', password: 'pw', nickname: 'New' });
    assert.equal(signup.statusCode, 403);
    assert.equal((await h.control('GET', '/accounts?email=new@example.com')).length, 0);
  });

  it('every login, consent and result page refuses framing and has a strict CSP; so does every other page', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    const b = new Browser(h);
    const login = await b.get(authorizeUrl(app));
    const consent = await atConsent(h, b, app, person, 'profile_nickname');
    const signup = await b.get(authorizeUrl(app, { prompt: 'create' }));
    const error = await b.get('/oauth/authorize?client_id=nope');
    for (const [what, res] of Object.entries({ login, consent, signup, error })) {
      assert.equal(res.headers['x-frame-options'], 'DENY', what);
      const csp = String(res.headers['content-security-policy']);
      for (const directive of ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]) assert.ok(csp.includes(directive), `${what}: ${csp}`);
      assert.match(csp, /style-src 'sha256-/);
      assert.doesNotMatch(csp, /unsafe-inline/);
    }
    assert.match(String(login.headers['content-security-policy']), /form-action 'self' http:\/\/localhost:3000/);
    const consolePage = await h.inject({ method: 'GET', url: '/_kapibara/console' });
    assert.equal(consolePage.headers['x-frame-options'], 'DENY');
    assert.equal(consolePage.headers['content-security-policy'], "frame-ancestors 'none'");
  });
});

/** Sends `bytes` one at a time until the server answers or closes; returns what it said and how much was sent. */
async function trickle(port: number, bytes: string, atOnce = 0): Promise<{ answer: string; sent: number }> {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  let closed = false;
  socket.on('data', (d) => (answer += d));
  socket.on('close', () => (closed = true));
  socket.on('error', () => (closed = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  let sent = atOnce;
  if (atOnce) socket.write(bytes.slice(0, atOnce));
  while (!closed && !answer && sent < bytes.length) {
    socket.write(bytes[sent++]);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!closed) await new Promise((resolve) => (answer ? setImmediate(resolve) : socket.once('close', resolve)));
  socket.destroy();
  return { answer, sent };
}

forEachStore('security: slow and greedy clients (item 13)', (h) => {
  it('a body or headers trickled byte by byte are cut off with 408 (short timeouts for the test)', async () => {
    await withApp(h, { limits: { headersTimeoutMs: 150, requestTimeoutMs: 300 } }, async (app) => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const body = `{"name":"${'x'.repeat(1200)}"}`;
      const head = `POST /_kapibara/v1/apps HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      // Headers at once, then the body a byte at a time.
      const slowBody = await trickle(port, head + body);
      assert.match(slowBody.answer, /^HTTP\/1\.1 408 /);
      assert.ok(slowBody.sent < head.length + body.length, 'cut off before the body was complete');
      const slowHeaders = await trickle(port, `GET /v2/user/me HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'y'.repeat(1200)}\r\n\r\n`);
      assert.match(slowHeaders.answer, /^HTTP\/1\.1 408 /);
      // Headers at once, then the body slowly: the 408 is in the shape of the surface the path names.
      const shaped = async (path: string, type: string, payload: string) => {
        const head = `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${type}\r\nContent-Length: ${payload.length}\r\n\r\n`;
        const { answer } = await trickle(port, head + payload, head.length);
        assert.match(answer, /^HTTP\/1\.1 408 /);
        return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      };
      assert.deepEqual(await shaped('/_kapibara/v1/apps', 'application/json', body), { error: 'the request did not arrive in time' });
      assert.deepEqual(await shaped('/oauth/token', 'application/x-www-form-urlencoded', `grant_type=${'x'.repeat(1200)}`), {
        error: 'invalid_request',
        error_description: 'the request did not arrive in time',
        error_code: 'KOE001',
      });
      assert.deepEqual(await shaped('/v2/api/talk/memo/default/send', 'application/x-www-form-urlencoded', `template_object=${'x'.repeat(1200)}`), { msg: 'the request did not arrive in time', code: -2 });
    });
  });

  it('caps open connections per client address', async () => {
    await withApp(h, { limits: { maxConnectionsPerClient: 2 } }, async (app) => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const open = await Promise.all(
        [1, 2].map(
          () =>
            new Promise<net.Socket>((resolve) => {
              const s = net.connect(port, '127.0.0.1', () => resolve(s));
            }),
        ),
      );
      try {
        const over = await fetch(`http://127.0.0.1:${port}/v2/user/me`);
        assert.equal(over.status, 503);
        assert.match(await over.text(), /Too many open connections from 127\.0\.0\.1 \(at most 2\)/);
        open[0].destroy();
        await new Promise((resolve) => open[0].once('close', resolve));
        // The server sees the close on its side too; retry until it has.
        let status = 503;
        for (let tries = 0; status === 503 && tries < 1000; tries++) status = (await fetch(`http://127.0.0.1:${port}/v2/user/me`)).status;
        assert.equal(status, 401);
      } finally {
        for (const s of open) s.destroy();
      }
    });
  });
});

it('security flags and environment variables are parsed (flags win; lists are comma-separated or repeated)', () => {
  const { config } = parseServerConfig(
    ['--allowed-host', 'a.example,b.example', '--allowed-host', '*.teams.example', '--trust-proxy', '10.0.0.0/8', '--request-timeout', '5', '--max-connections-per-client', '0'],
    { KAPIBARA_TRUST_PROXY: '192.168.0.1', KAPIBARA_HEADERS_TIMEOUT: '2.5' },
  );
  assert.deepEqual(config.security, {
    allowedHosts: ['a.example', 'b.example', '*.teams.example'],
    trustProxy: ['10.0.0.0/8'],
    limits: { requestTimeoutMs: 5000, headersTimeoutMs: 2500, maxConnectionsPerClient: 0 },
  });
  const fromEnv = parseServerConfig([], { KAPIBARA_ALLOWED_HOSTS: 'sandbox.internal, other.internal', KAPIBARA_TRUST_PROXY: 'loopback' }).config.security;
  assert.deepEqual([fromEnv.allowedHosts, fromEnv.trustProxy], [['sandbox.internal', 'other.internal'], ['loopback']]);
  assert.throws(() => parseServerConfig(['--request-timeout', '0'], {}), /invalid --request-timeout "0"/);
  assert.throws(() => parseServerConfig(['--max-connections-per-client=1.5'], {}), /invalid --max-connections-per-client "1.5"/);
});

it('a framable page lists the app’s web domains as frame ancestors (origins as written, bare hosts on any scheme and port)', () => {
  assert.deepEqual(webDomainSources(['http://localhost:3000/', 'Shop.example', 'not a domain']), [
    'http://localhost:3000',
    'https://shop.example:*',
    'http://shop.example:*',
  ]);
});

forEachStore('security: the TLS listener (item 13)', (h) => {
  it('has the same timeouts and the same cap on connections per client', async () => {
    await withApp(h, { limits: { headersTimeoutMs: 150, requestTimeoutMs: 300, maxConnectionsPerClient: 1 } }, async (app) => {
      const tls = await listenTls(app, { port: 0 });
      try {
        assert.equal(tls.server.headersTimeout, 150);
        assert.equal(tls.server.requestTimeout, 300);
        const first = await new Promise<net.Socket>((resolve) => {
          const s = net.connect(tls.port, '127.0.0.1', () => resolve(s));
        });
        try {
          // The second connection is closed before its TLS handshake.
          const second = await new Promise<string>((resolve) => {
            const s = connectTls({ port: tls.port, host: '127.0.0.1', ca: tls.cert, servername: 'localhost' }, () => resolve('handshake'));
            s.on('error', () => resolve('closed'));
            s.on('close', () => resolve('closed'));
          });
          assert.equal(second, 'closed');
        } finally {
          first.destroy();
        }
      } finally {
        await tls.close();
      }
    });
  });
});
