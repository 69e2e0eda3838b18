import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { forEachStore, form, assertApiError, type Harness, type TestApp, type TestAccount } from './helpers/harness.js';
import { type Hold, afterQuery, beforeInsertInto, midTransaction, whileDeleting } from './helpers/deletes.js';

const CALLBACK = 'http://localhost:3000/callback';

/**
 * A browser for app.inject: carries the Kakao login cookie (and the form cookie) between
 * requests, and submits a form with the token of the page it was shown on.
 */
class InjectBrowser {
  cookie?: string;
  private formCookie?: string;
  private formToken?: string;
  constructor(private readonly h: Harness) {}

  private remember(res: LightMyRequestResponse): LightMyRequestResponse {
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = c.split(';');
      const [name, value] = pair.split('=');
      if (name === 'kapibara_session') this.cookie = value ? `${name}=${value}` : undefined;
      if (name === 'kapibara_csrf') this.formCookie = `${name}=${value}`;
    }
    const token = /name="csrf_token" value="([^"]*)"/.exec(res.body)?.[1];
    if (token) this.formToken = token;
    return res;
  }

  private get cookies(): Record<string, string> {
    const all = [this.cookie, this.formCookie].filter(Boolean);
    return all.length ? { cookie: all.join('; ') } : {};
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.remember(await this.h.inject({ method: 'GET', url, headers: this.cookies }));
  }

  async post(url: string, fields: Record<string, string | string[]>): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries({ csrf_token: this.formToken ?? '', ...fields })) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    return this.remember(
      await this.h.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.cookies },
        payload: body.toString(),
      }),
    );
  }
}

function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The authorize request a page carries in its forms. */
function carriedRequest(html: string): string {
  const m = html.match(/name="request" value="([^"]*)"/);
  assert.ok(m, 'page carries the authorize request');
  return unescapeHtml(m[1]);
}

/** Consent items shown on the page: id → required. */
function consentItems(html: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const m of html.matchAll(/<input type="checkbox" name="(?:scope|service_terms)" value="([^"]+)"([^>]*)>/g)) {
    out[unescapeHtml(m[1])] = m[2].includes('disabled');
  }
  return out;
}

function authorizeUrl(app: TestApp, extra: Record<string, string> = {}): string {
  return `/oauth/authorize?${new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: CALLBACK, response_type: 'code', ...extra })}`;
}

function callbackParams(res: LightMyRequestResponse): URLSearchParams {
  assert.equal(res.statusCode, 302, `expected a redirect to the app, got ${res.statusCode}: ${res.body.slice(0, 300)}`);
  const location = new URL(String(res.headers.location));
  assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
  return location.searchParams;
}

/** Login page → pick the person → (consent page → answer) → redirect back to the app. */
async function signIn(
  b: InjectBrowser,
  app: TestApp,
  person: TestAccount,
  extra: Record<string, string> = {},
  answer: { action?: 'agree' | 'cancel'; scope?: string[]; service_terms?: string[] } = {},
): Promise<{ params: URLSearchParams; consentShown?: Record<string, boolean> }> {
  const login = await b.get(authorizeUrl(app, extra));
  assert.equal(login.statusCode, 200, login.body);
  assert.match(login.body, new RegExp(`data-account-id="${person.id}"`));
  const loggedIn = await b.post('/oauth/authorize/login', { request: carriedRequest(login.body), account_id: String(person.id) });
  assert.equal(loggedIn.statusCode, 303, loggedIn.body);
  assert.ok(b.cookie, 'login sets the session cookie');
  const next = await b.get(String(loggedIn.headers.location));
  if (next.statusCode === 302) return { params: callbackParams(next) };
  return answerConsent(b, next, answer);
}

async function answerConsent(
  b: InjectBrowser,
  page: LightMyRequestResponse,
  answer: { action?: 'agree' | 'cancel'; scope?: string[]; service_terms?: string[] },
): Promise<{ params: URLSearchParams; consentShown: Record<string, boolean> }> {
  assert.equal(page.statusCode, 200, page.body);
  assert.match(page.body, /id="consent"/);
  const consentShown = consentItems(page.body);
  const res = await b.post('/oauth/authorize/consent', {
    request: carriedRequest(page.body),
    action: answer.action ?? 'agree',
    scope: answer.scope ?? [],
    service_terms: answer.service_terms ?? [],
  });
  return { params: callbackParams(res), consentShown };
}

async function token(h: Harness, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  return h.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    payload: form(fields),
  });
}

async function exchange(h: Harness, app: TestApp, code: string, extra: Record<string, string> = {}) {
  return token(h, { grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: CALLBACK, code, ...extra });
}

function assertOAuthError(res: LightMyRequestResponse, status: number, error: string, errorCode?: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json;charset=UTF-8$/);
  const body = res.json();
  assert.equal(body.error, error, res.body);
  assert.equal(typeof body.error_description, 'string');
  if (errorCode) assert.equal(body.error_code, errorCode, res.body);
}

function assertErrorPage(res: LightMyRequestResponse, koe: string): void {
  assert.equal(res.statusCode, 400, res.body);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.equal(res.headers.location, undefined, 'an error page never redirects');
  assert.match(res.body, new RegExp(`id="error-code">${koe}<`));
}

function decodeJwt(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

const VERIFIER = 'kapibara-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTU'; // 86 chars, like the SDKs'

forEachStore('Kakao Login', (h) => {
  async function setup(appBody: Record<string, unknown> = {}) {
    const app = await h.createApp({
      name: 'Login Test',
      consent_items: { profile_nickname: 'required', profile_image: 'optional', account_email: 'optional', talk_message: 'optional' },
      logout_redirect_uris: ['http://localhost:3000/bye'],
      ...appBody,
    });
    const person = await h.createAccount({ nickname: 'Ryan', email: 'ryan@example.com', password: 'secret-pw' });
    return { app, person, b: new InjectBrowser(h) };
  }

  it('logs in, asks for consent, returns a code that becomes tokens, and links the person with the agreed scopes', async () => {
    const { app, person, b } = await setup();
    const { params, consentShown } = await signIn(b, app, person, { state: 'xyz 1/2' }, { scope: ['account_email'] });
    // First login: every configured item; required ones checked and locked.
    assert.deepEqual(consentShown, { profile_nickname: true, profile_image: false, account_email: false, talk_message: false });
    assert.equal(params.get('state'), 'xyz 1/2');
    const code = params.get('code')!;
    assert.match(code, /^[A-Za-z0-9_-]{80,}$/);

    const res = await exchange(h, app, code);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json;charset=UTF-8$/);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['token_type', 'access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'scope']);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 21599);
    assert.equal(body.refresh_token_expires_in, 5183999);
    assert.deepEqual(body.scope.split(' ').sort(), ['account_email', 'profile_nickname']);

    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(link.scopes.sort(), ['account_email', 'profile_nickname']);
    assert.ok(link.user_id > 0 && link.user_id !== person.id, 'an app-specific user id');
    const info = await h.kapi('GET', '/v1/user/access_token_info', body.access_token);
    assert.equal(info.statusCode, 200, info.body);
    assert.equal(info.json().id, link.user_id);

    // Signed in already and nothing new to agree to: straight back with a code.
    const again = callbackParams(await b.get(authorizeUrl(app, { state: 's2' })));
    assert.equal(again.get('state'), 's2');
    assert.ok(again.get('code'));
  });

  it('a registered redirect_uri with a query comes back as registered, the result appended', async () => {
    const registered = 'http://localhost:3000/cb?next=%2Fa%20b&sig=x~y';
    const { app } = await setup({ redirect_uris: [registered] });
    const res = await h.inject({ method: 'GET', url: `/oauth/authorize?${new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: registered, response_type: 'code', prompt: 'none', state: 's 1' })}` });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, `${registered}&error=login_required&error_description=user+authentication+is+required+%28prompt%3Dnone%29.&state=s+1`);
  });

  it('sends access_denied back to the app when the person cancels, and links nobody', async () => {
    const { app, person, b } = await setup();
    const { params } = await signIn(b, app, person, { state: 'st' }, { action: 'cancel' });
    assert.equal(params.get('error'), 'access_denied');
    assert.equal(params.get('state'), 'st');
    assert.ok(params.get('error_description'));
    assert.equal(params.get('code'), null);
    const res = await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}` });
    assert.equal(res.statusCode, 404);
  });

  it('asks only for the new item on incremental consent, and tokens then carry it', async () => {
    const { app, person, b } = await setup();
    await signIn(b, app, person, {}, { scope: [] });
    const page = await b.get(authorizeUrl(app, { scope: 'profile_nickname talk_message', state: 'inc' }));
    const { params, consentShown } = await answerConsent(b, page, { scope: ['talk_message'] });
    assert.deepEqual(consentShown, { talk_message: false });
    assert.equal(params.get('state'), 'inc');
    const body = (await exchange(h, app, params.get('code')!)).json();
    assert.deepEqual(body.scope.split(' ').sort(), ['profile_nickname', 'talk_message']);
    // `+` and commas separate scopes too; once agreed, no page.
    const plus = await h.inject({ method: 'GET', url: authorizeUrl(app).replace('response_type=code', 'response_type=code&scope=talk_message+profile_nickname'), headers: { cookie: b.cookie! } });
    assert.ok(callbackParams(plus).get('code'));
  });

  it('prompt=none: login_required without a session, consent_required with items pending, a code otherwise', async () => {
    const { app, person, b } = await setup();
    let params = callbackParams(await b.get(authorizeUrl(app, { prompt: 'none', state: 'n1' })));
    assert.equal(params.get('error'), 'login_required');
    assert.equal(params.get('state'), 'n1');
    await signIn(b, app, person, {}, {});
    params = callbackParams(await b.get(authorizeUrl(app, { prompt: 'none ' })));
    assert.ok(params.get('code'));
    params = callbackParams(await b.get(authorizeUrl(app, { prompt: 'none', scope: 'account_email' })));
    assert.equal(params.get('error'), 'consent_required');
    params = callbackParams(await b.get(authorizeUrl(app, { prompt: 'none login' })));
    assert.equal(params.get('error'), 'invalid_request');
  });

  it('prompt=login shows the login page even with a session; select_account too', async () => {
    const { app, person, b } = await setup();
    await signIn(b, app, person, {}, {});
    for (const prompt of ['login', 'select_account', 'login ']) {
      const res = await b.get(authorizeUrl(app, { prompt }));
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /Log in with Kakao/);
    }
    const { params } = await signIn(b, app, person, { prompt: 'login', state: 'again' });
    assert.equal(params.get('state'), 'again');
    assert.ok(params.get('code'));
  });

  it('login_hint fills in the email; a wrong password shows an error; the right one logs in', async () => {
    const { app, b } = await setup();
    const page = await b.get(authorizeUrl(app, { login_hint: 'ryan@example.com' }));
    assert.match(page.body, /id="email" name="email" autocomplete="username" value="ryan@example.com"/);
    const wrong = await b.post('/oauth/authorize/login', { request: carriedRequest(page.body), email: 'ryan@example.com', password: 'nope' });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /Incorrect email or password/);
    assert.equal(b.cookie, undefined);
    const right = await b.post('/oauth/authorize/login', { request: carriedRequest(page.body), email: 'ryan@example.com', password: 'secret-pw' });
    assert.equal(right.statusCode, 303);
    assert.ok(b.cookie);
    const consent = await b.get(String(right.headers.location));
    assert.match(consent.body, /Signed in as <strong id="signed-in-as">Ryan</);
  });

  it('prompt=create shows a sign-up form that creates a person and continues to consent', async () => {
    const { app, b } = await setup();
    const page = await b.get(authorizeUrl(app, { prompt: 'create', state: 'new' }));
    assert.match(page.body, /Create a Kakao Account/);
    const created = await b.post('/oauth/authorize/signup', {
      request: carriedRequest(page.body),
      email: 'new@example.com',
      password: 'pw',
      nickname: 'Newbie',
    });
    assert.equal(created.statusCode, 303, created.body);
    const { params } = await answerConsent(b, await b.get(String(created.headers.location)), {});
    assert.equal(params.get('state'), 'new');
    const people = await h.control('GET', '/accounts?email=new%40example.com');
    assert.equal(people[0].nickname, 'Newbie');
    // The sign-up page's form again (with that page's token), after the consent page.
    const pageToken = /name="csrf_token" value="([^"]*)"/.exec(page.body)![1];
    const taken = await b.post('/oauth/authorize/signup', { request: carriedRequest(page.body), csrf_token: pageToken, email: 'new@example.com', password: 'pw', nickname: 'X' });
    assert.equal(taken.statusCode, 400);
    assert.match(taken.body, /already exists/);
  });

  it('an OIDC app gets an id_token from a login without scope or with an empty one (next-auth v4 sends ?scope), none when scope leaves openid out; iss is the origin asked', async () => {
    const { app, person, b } = await setup({ oidc_enabled: true, consent_items: { profile_nickname: 'required', openid: 'optional' } });
    const first = await signIn(b, app, person, { scope: '' }, {});
    const body = (await exchange(h, app, first.params.get('code')!)).json();
    assert.equal(typeof body.id_token, 'string');
    assert.deepEqual(body.scope.split(' ').sort(), ['openid', 'profile_nickname']);
    assert.equal(decodeJwt(body.id_token).iss, 'http://localhost:80');
    const noScope = callbackParams(await b.get(authorizeUrl(app))).get('code')!;
    assert.equal(typeof (await exchange(h, app, noScope)).json().id_token, 'string');
    const withoutOpenid = callbackParams(await b.get(authorizeUrl(app, { scope: 'profile_nickname' }))).get('code')!;
    const plain = (await exchange(h, app, withoutOpenid)).json();
    assert.equal(plain.id_token, undefined);
    // The issuer follows the host the token request came to (docs/login.md: mint through the mapped host, or --public-url).
    const mapped = callbackParams(await b.get(authorizeUrl(app))).get('code')!;
    const viaKauth = await h.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { host: 'kauth.kakao.com', 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: CALLBACK, code: mapped }),
    });
    assert.equal(decodeJwt(viaKauth.json().id_token).iss, 'http://kauth.kakao.com');
  });

  it('echoes state and nonce: the id_token carries the nonce, consented claims and verifies at /oauth/tokeninfo', async () => {
    const { app, person, b } = await setup({
      oidc_enabled: true,
      consent_items: { profile_nickname: 'required', account_email: 'optional', openid: 'optional' },
    });
    const { params } = await signIn(b, app, person, { scope: 'openid profile_nickname', nonce: 'n-0S6_WzA2Mj', state: 'st8' }, {});
    assert.equal(params.get('state'), 'st8');
    const body = (await exchange(h, app, params.get('code')!)).json();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'refresh_token', 'refresh_token_expires_in', 'scope', 'token_type']);
    assert.deepEqual(body.scope.split(' ').sort(), ['openid', 'profile_nickname']);
    const claims = decodeJwt(body.id_token);
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.equal(claims.nonce, 'n-0S6_WzA2Mj');
    assert.equal(claims.aud, app.rest_api_key);
    assert.equal(claims.sub, String(link.user_id));
    assert.equal(claims.nickname, 'Ryan');
    assert.equal(claims.email, undefined, 'email not consented');
    const discovery = (await h.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json();
    assert.equal(claims.iss, discovery.issuer);
    assert.equal(claims.exp - claims.iat, 21599, 'as long as the access token issued with it');
    const header = JSON.parse(Buffer.from(body.id_token.split('.')[0], 'base64url').toString());
    const jwks = (await h.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    assert.equal(header.alg, 'RS256');
    assert.equal(header.kid, jwks.keys[0].kid);

    const info = await h.inject({ method: 'POST', url: '/oauth/tokeninfo', payload: form({ id_token: body.id_token }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(info.statusCode, 200, info.body);
    assert.deepEqual(info.json(), claims);
    const bad = await h.inject({ method: 'POST', url: '/oauth/tokeninfo', payload: form({ id_token: body.id_token.slice(0, -4) + 'AAAA' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assertOAuthError(bad, 400, 'invalid_request');
    await h.advanceClock(43200);
    const expired = await h.inject({ method: 'POST', url: '/oauth/tokeninfo', payload: form({ id_token: body.id_token }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assertOAuthError(expired, 400, 'invalid_request');
    assert.match(expired.json().error_description, /expired/);
  });

  it('publishes the OpenID discovery document and JWKS on the request origin (X-Forwarded-Proto is not believed from an undeclared proxy)', async () => {
    const res = await h.inject({ method: 'GET', url: '/.well-known/openid-configuration', headers: { host: 'kauth.kakao.com', 'x-forwarded-proto': 'https' } });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.issuer, 'http://kauth.kakao.com');
    assert.equal(doc.authorization_endpoint, 'http://kauth.kakao.com/oauth/authorize');
    assert.equal(doc.token_endpoint, 'http://kauth.kakao.com/oauth/token');
    assert.equal(doc.userinfo_endpoint, 'http://kauth.kakao.com/v1/oidc/userinfo');
    assert.equal(doc.jwks_uri, 'http://kauth.kakao.com/.well-known/jwks.json');
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.subject_types_supported, ['public']);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['RS256']);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256', 'plain']);
    assert.deepEqual(doc.token_endpoint_auth_methods_supported, ['client_secret_post']);
    const jwks = (await h.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    assert.equal(jwks.keys.length, 1);
    assert.deepEqual(Object.keys(jwks.keys[0]).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(jwks.keys[0].d, undefined);
  });

  it('an AGT from POST /api/agt skips the login page once', async () => {
    const { app, person } = await setup();
    const tokens = await h.token(app, person, ['profile_nickname']);
    const agtRes = await h.inject({ method: 'POST', url: '/api/agt', payload: form({ client_id: app.rest_api_key, access_token: tokens.access_token }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(agtRes.statusCode, 200, agtRes.body);
    assert.deepEqual(Object.keys(agtRes.json()), ['agt']);
    const agt = agtRes.json().agt;
    const b = new InjectBrowser(h);
    const page = await b.get(authorizeUrl(app, { scope: 'talk_message', agt }));
    assert.deepEqual(consentItems(page.body), { talk_message: false });
    assert.ok(b.cookie, 'the AGT signs the browser in');
    const { params } = await answerConsent(b, page, { scope: ['talk_message'] });
    assert.ok(params.get('code'));
    // Single use: a fresh browser with the same AGT sees the login page.
    const reused = await new InjectBrowser(h).get(authorizeUrl(app, { scope: 'talk_message', agt }));
    assert.match(reused.body, /Log in with Kakao/);
    const badToken = await h.inject({ method: 'POST', url: '/api/agt', payload: form({ client_id: app.rest_api_key, access_token: 'nope' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assertOAuthError(badToken, 401, 'invalid_grant');
  });

  it('redirects to JS-SDK and kakao{NATIVE_KEY}://oauth only with their own keys', async () => {
    const { app, person, b } = await setup();
    await signIn(b, app, person, {}, {});
    const js = await b.get(`/oauth/authorize?client_id=${app.javascript_key}&redirect_uri=JS-SDK&response_type=code&state=js`);
    assert.equal(js.statusCode, 200);
    assert.match(js.body, /data-field="code">[A-Za-z0-9_-]+</);
    assert.match(js.body, /data-field="state">js</);
    const native = await b.get(`/oauth/authorize?client_id=${app.native_key}&redirect_uri=${encodeURIComponent(`kakao${app.native_key}://oauth`)}&response_type=code`);
    assert.equal(native.statusCode, 302);
    assert.match(String(native.headers.location), new RegExp(`^kakao${app.native_key}://oauth\\?code=`));
    assertErrorPage(await b.get(`/oauth/authorize?client_id=${app.rest_api_key}&redirect_uri=JS-SDK&response_type=code`), 'KOE006');
  });

  it('an access token lives as long as its key says: native 12 h, REST API 6 h, JavaScript 2 h, refreshed alike; the ID token expires with it', async () => {
    const { app, person, b } = await setup({ oidc_enabled: true, consent_items: { profile_nickname: 'required', openid: 'optional' } });
    await signIn(b, app, person, { scope: 'openid profile_nickname' }, {});
    const nativeRedirect = `kakao${app.native_key}://oauth`;
    const codeFor = async (clientId: string, redirectUri: string) => {
      const res = await b.get(`/oauth/authorize?client_id=${clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&response_type=code&scope=openid`);
      assert.equal(res.statusCode, 302, res.body);
      return new URL(String(res.headers.location)).searchParams.get('code')!;
    };
    for (const [clientId, redirectUri, lifetime] of [
      [app.native_key, nativeRedirect, 43199],
      [app.rest_api_key, CALLBACK, 21599],
      [app.javascript_key, CALLBACK, 7199],
    ] as const) {
      const res = await token(h, { grant_type: 'authorization_code', client_id: clientId, redirect_uri: redirectUri, code: await codeFor(clientId, redirectUri) });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.expires_in, lifetime, clientId);
      const claims = decodeJwt(body.id_token);
      assert.equal(claims.exp - claims.iat, lifetime);
      const info = (await h.kapi('GET', '/v1/user/access_token_info', body.access_token)).json();
      assert.ok(info.expires_in === lifetime || info.expires_in === lifetime - 1, String(info.expires_in));
      const refreshed = (await token(h, { grant_type: 'refresh_token', client_id: clientId, refresh_token: body.refresh_token })).json();
      assert.equal(refreshed.expires_in, lifetime, `refresh with ${clientId}`);
      assert.equal(decodeJwt(refreshed.id_token).exp - decodeJwt(refreshed.id_token).iat, lifetime);
    }
    // Tokens minted by the control plane are what a server exchanging a code with the REST API key gets.
    const minted = await h.control('POST', `/apps/${app.id}/users/${person.id}/tokens`, { scopes: ['openid', 'profile_nickname'] });
    assert.equal(minted.expires_in, 21599);
    assert.equal(decodeJwt(minted.id_token).exp - decodeJwt(minted.id_token).iat, 21599);
  });

  it('GET /oauth/logout ends the login session and returns to the registered logout URI with state', async () => {
    const { app, person, b } = await setup();
    await signIn(b, app, person, {}, {});
    const out = await b.get(`/oauth/logout?client_id=${app.rest_api_key}&logout_redirect_uri=${encodeURIComponent('http://localhost:3000/bye')}&state=bye1`);
    assert.equal(out.statusCode, 302);
    assert.equal(out.headers.location, 'http://localhost:3000/bye?state=bye1');
    assert.equal(b.cookie, undefined);
    const params = callbackParams(await b.get(authorizeUrl(app, { prompt: 'none' })));
    assert.equal(params.get('error'), 'login_required');
    assertErrorPage(await b.get(`/oauth/logout?client_id=${app.rest_api_key}&logout_redirect_uri=${encodeURIComponent('http://evil.example/')}`), 'KOE007');
  });

  // ---- /oauth/authorize errors ----

  it('unknown client_id (and the admin key) shows a KOE101 page', async () => {
    const { app, b } = await setup();
    assertErrorPage(await b.get(authorizeUrl({ ...app, rest_api_key: 'f'.repeat(32) })), 'KOE101');
    assertErrorPage(await b.get(authorizeUrl({ ...app, rest_api_key: app.admin_key })), 'KOE101');
    assertErrorPage(await b.get('/oauth/authorize?response_type=code'), 'KOE101');
  });

  it('an app with Kakao Login disabled shows a KOE004 page', async () => {
    const { app, b } = await setup({ login_enabled: false });
    assertErrorPage(await b.get(authorizeUrl(app)), 'KOE004');
  });

  it('an unregistered redirect_uri shows a KOE006 page and never redirects', async () => {
    const { app, b } = await setup();
    assertErrorPage(await b.get(authorizeUrl(app, { redirect_uri: 'http://evil.example/callback' })), 'KOE006');
    assertErrorPage(await b.get(`/oauth/authorize?client_id=${app.rest_api_key}&response_type=code`), 'KOE006');
    await h.control('PATCH', `/apps/${app.id}`, { redirect_uris: ['not a url'] });
    assertErrorPage(await b.get(authorizeUrl(app, { redirect_uri: 'not a url' })), 'KOE006');
  });

  it('response_type other than code redirects with KOE201 / KOE202', async () => {
    const { app, b } = await setup();
    let params = callbackParams(await b.get(authorizeUrl(app, { response_type: 'token', state: 'r' })));
    assert.equal(params.get('error'), 'invalid_request');
    assert.equal(params.get('error_code'), 'KOE202');
    assert.equal(params.get('state'), 'r');
    params = callbackParams(await b.get(authorizeUrl(app, { response_type: 'id_token' })));
    assert.equal(params.get('error_code'), 'KOE201');
  });

  it('an unknown or disabled scope redirects with invalid_scope', async () => {
    const { app, b } = await setup({ consent_items: { profile_nickname: 'required', gender: 'disabled' } });
    for (const scope of ['nonsense', 'gender', 'friends', 'openid']) {
      const params = callbackParams(await b.get(authorizeUrl(app, { scope, state: 'sc' })));
      assert.equal(params.get('error'), 'invalid_scope', scope);
      assert.equal(params.get('error_code'), 'KOE205');
      assert.equal(params.get('state'), 'sc');
    }
  });

  it('tolerates the parameters SDKs add (ka, auth_tran_id, approval_type, extra.*)', async () => {
    const { app, b } = await setup();
    const res = await b.get(authorizeUrl(app, { ka: 'sdk/2.7.2 os/javascript', auth_tran_id: 'x'.repeat(60), is_popup: 'false', approval_type: 'individual', 'extra.service_terms': 'a' }));
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Log in with Kakao/);
  });

  // ---- channel_public_id: add Kakao Talk Channels during consent (Kakao Sync) ----

  async function channelSetup() {
    const ctx = await setup({ consent_items: { profile_nickname: 'required', plusfriends: 'optional' } });
    await h.control('POST', '/channels', { app_id: ctx.app.id, public_id: '_frxjem', search_id: '@alpha', name: 'Alpha <Shop>' });
    await h.control('POST', '/channels', { app_id: ctx.app.id, public_id: '_Brxjem', search_id: '@beta', name: 'Beta' });
    return ctx;
  }

  /** The consent page's channel checkboxes: public id → checked. */
  function channelBoxes(html: string): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const m of html.matchAll(/<input type="checkbox" name="channel_public_id" value="([^"]+)"([^>]*)>/g)) out[unescapeHtml(m[1])] = / checked/.test(m[2]);
    return out;
  }

  async function consentWithChannels(b: InjectBrowser, app: TestApp, person: TestAccount, channels: string) {
    const login = await b.get(authorizeUrl(app, { channel_public_id: channels, state: 'ch' }));
    assert.equal(login.statusCode, 200, login.body);
    const loggedIn = await b.post('/oauth/authorize/login', { request: carriedRequest(login.body), account_id: String(person.id) });
    const page = await b.get(String(loggedIn.headers.location));
    assert.equal(page.statusCode, 200, page.body);
    return page;
  }

  async function relations(app: TestApp, person: TestAccount) {
    const t = await h.token(app, person, ['profile_nickname', 'plusfriends']);
    const res = await h.kapi('GET', '/v2/api/talk/channels', t.access_token);
    assert.equal(res.statusCode, 200, res.body);
    return Object.fromEntries(res.json().channels.map((c: { channel_public_id: string; relation: string; updated_at?: string }) => [c.channel_public_id, c]));
  }

  it('channel_public_id: the consent page offers each channel, checked; Agree adds them (ADDED, with updated_at)', async () => {
    const { app, person, b } = await channelSetup();
    const page = await consentWithChannels(b, app, person, '_frxjem,_Brxjem');
    assert.deepEqual(channelBoxes(page.body), { _frxjem: true, _Brxjem: true });
    assert.match(page.body, /Add Alpha &lt;Shop&gt; as a channel/);
    assert.match(page.body, /Add Beta as a channel/);
    const res = await b.post('/oauth/authorize/consent', { request: carriedRequest(page.body), action: 'agree', channel_public_id: ['_frxjem', '_Brxjem'] });
    assert.equal(callbackParams(res).get('state'), 'ch');
    assert.ok(callbackParams(res).get('code'));
    const rel = await relations(app, person);
    for (const id of ['_frxjem', '_Brxjem']) {
      assert.equal(rel[id].relation, 'ADDED', id);
      const stored = await h.control<{ relation: string; updated_at: string }>('GET', `/channels/${id}/relations/${person.id}`);
      assert.equal(stored.relation, 'ADDED');
      assert.match(rel[id].updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(Math.abs(Date.parse(rel[id].updated_at) - Date.now()) < 60_000, rel[id].updated_at);
    }
    // Already added: not offered again.
    const again = await b.get(authorizeUrl(app, { channel_public_id: '_frxjem', scope: 'plusfriends' }));
    assert.deepEqual(channelBoxes(again.body), {});
    // No consent page at all: nothing is left to agree to or to add, so the code comes straight back.
    assert.equal(again.statusCode, 302, again.body);
    assert.ok(callbackParams(again).get('code'));
  });

  it('channel_public_id: a channel the person unchecks is not added; Cancel adds none', async () => {
    const { app, person, b } = await channelSetup();
    const page = await consentWithChannels(b, app, person, '_frxjem,_Brxjem');
    await b.post('/oauth/authorize/consent', { request: carriedRequest(page.body), action: 'agree', channel_public_id: ['_Brxjem', '_nothere'] });
    const rel = await relations(app, person);
    assert.equal(rel._Brxjem.relation, 'ADDED');
    assert.equal(rel._frxjem.relation, 'NONE');
    assert.equal(rel._frxjem.updated_at, undefined);

    const other = await h.createAccount({ nickname: 'Apeach', email: 'apeach@example.com' });
    const b2 = new InjectBrowser(h);
    const page2 = await consentWithChannels(b2, app, other, '_frxjem');
    const cancelled = await b2.post('/oauth/authorize/consent', { request: carriedRequest(page2.body), action: 'cancel', channel_public_id: ['_frxjem'] });
    assert.equal(callbackParams(cancelled).get('error'), 'access_denied');
    const list = await h.control<{ account_id: number }[]>('GET', '/channels/_frxjem/relations');
    assert.deepEqual(list.map((r) => r.account_id), []);
  });

  it('channel_public_id naming a channel that is not linked to the app (or does not exist) redirects with KOE102', async () => {
    const { app, b } = await channelSetup();
    const other = await h.createApp({ name: 'Other' });
    await h.control('POST', '/channels', { app_id: other.id, public_id: '_other1', search_id: '@other', name: 'Other' });
    for (const [ids, bad] of [['_nothere', '_nothere'], ['_frxjem,_other1', '_other1'], ['_frxjem _nothere', '_nothere']]) {
      const params = callbackParams(await b.get(authorizeUrl(app, { channel_public_id: ids, state: 'k' })));
      assert.equal(params.get('error'), 'invalid_request', ids);
      assert.equal(params.get('error_code'), 'KOE102');
      assert.equal(params.get('error_description'), `channel_public_id: channel ${bad} is not linked to app ${app.id}.`);
      assert.equal(params.get('state'), 'k');
    }
    // An app with no channel at all.
    const bare = await h.createApp({ name: 'No channels' });
    assert.equal(callbackParams(await b.get(authorizeUrl(bare, { channel_public_id: '_frxjem' }))).get('error_code'), 'KOE102');
  });

  // ---- a delete landing while the consent is stored (another request, another instance) ----

  /** Runs `post` with `gone` deleted just before its insert into `table`; it must be held exactly once. */
  async function racing(table: string, remove: () => Promise<unknown>, post: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
    return whileDeleting(beforeInsertInto(h.store, table, remove), post, (res) => `${table}: ${res.statusCode} ${res.body.slice(-300)}`);
  }

  type Gone = 'app' | 'person' | 'channel';

  /**
   * Where a delete lands in a consent's writes (link, channels, code, the SDK's result): after
   * the call's last check `check`, before any write; or mid-way, held before one of them.
   */
  function landings(check: string, writes: string[]): { at: string; hold: (remove: () => Promise<unknown>) => Hold }[] {
    return [
      { at: `after its last check (${check})`, hold: (remove) => afterQuery(h.store, check, remove) },
      ...writes.map((write) => ({ at: `before ${write}`, hold: (remove: () => Promise<unknown>) => midTransaction(h.store, write, remove) })),
    ];
  }

  /**
   * What a consent stores, each part with what takes it away when deleted (an app's delete
   * takes its own channel with it, not one another app lent it). A delete meeting the writes
   * leaves all of it (what the delete then left) with the code as the answer, or none of it
   * with the answer as after the delete: the KOE101 page, log in again, KOE102.
   */
  async function assertAllOrNothing(res: LightMyRequestResponse, gone: Gone, parts: { name: string; gone: Gone[]; stored: () => Promise<boolean> }[], what: string) {
    const all = res.statusCode === 302 && callbackParams(res).get('code') !== null;
    if (all) assert.equal(callbackParams(res).get('state'), 'r', what);
    else if (gone === 'app') assertErrorPage(res, 'KOE101');
    else if (gone === 'person') {
      // Signed out with the person: the login page, as a login started after the delete.
      assert.equal(res.statusCode, 200, what);
      assert.match(res.body, /Log in again\.|Log in with Kakao/, what);
    } else {
      assert.equal(callbackParams(res).get('error_code'), 'KOE102', what);
      assert.equal(callbackParams(res).get('state'), 'r', what);
    }
    const stored = Object.fromEntries(await Promise.all(parts.map(async (p) => [p.name, await p.stored()] as const)));
    const expected = Object.fromEntries(parts.map((p) => [p.name, all && !p.gone.includes(gone)]));
    assert.deepEqual(stored, expected, `${all ? 'the code came back' : 'answered as after the delete'}: ${what}`);
  }

  /** The kept result of an SDK's login (auth_tran_id) of `app`. */
  const pollingResult = (app: TestApp) => async () => (await h.store.db.selectFrom('login_auth_transactions').select('app_id').where('app_id', '=', app.id).executeTakeFirst()) !== undefined;

  it('Agree meeting a delete of its app, person or channel stores all of the consent or none of it, answering with the code or as after the delete, never a 500', async () => {
    const lender = await h.createApp({ name: 'Lender' });
    const db = h.store.db;
    let n = 0;
    const points = landings('select * from "channel_relations"', ['insert into "channel_relations"', 'insert into "auth_codes"', 'insert into "login_auth_transactions"']);
    for (const point of points) {
      for (const gone of ['app', 'person', 'channel'] as const) {
        n++;
        const app = await h.createApp({ name: `Race ${n}`, consent_items: { profile_nickname: 'required', plusfriends: 'optional' } });
        const person = await h.createAccount({ nickname: `Ryan ${n}`, email: `ryan${n}@example.com` });
        // One channel of the app's own, one lent by another app (an app's delete leaves it).
        const [own, lent] = [`_own${n}`, `_lent${n}`];
        await h.control('POST', '/channels', { app_id: app.id, public_id: own, search_id: `@own${n}`, name: 'Own' });
        await h.control('POST', '/channels', { app_id: lender.id, public_id: lent, search_id: `@lent${n}`, name: 'Lent' });
        await h.control('PUT', `/channels/${lent}/apps/${app.id}`);
        const b = new InjectBrowser(h);
        const login = await b.get(authorizeUrl(app, { channel_public_id: `${own},${lent}`, state: 'r', auth_tran_id: `tran-${n}` }));
        const loggedIn = await b.post('/oauth/authorize/login', { request: carriedRequest(login.body), account_id: String(person.id) });
        const page = await b.get(String(loggedIn.headers.location));
        assert.match(page.body, /id="consent"/);
        const path = gone === 'app' ? `/apps/${app.id}` : gone === 'person' ? `/accounts/${person.id}` : `/channels/${lent}`;
        const what = `${gone} deleted ${point.at}`;
        const res = await whileDeleting(point.hold(() => h.control('DELETE', path)), () =>
          b.post('/oauth/authorize/consent', { request: carriedRequest(page.body), action: 'agree', channel_public_id: [own, lent] }),
        );
        const added = (channel: string) => async () =>
          (await db
            .selectFrom('channel_relations')
            .innerJoin('channels', 'channels.id', 'channel_relations.channel_id')
            .select('relation')
            .where('channels.public_id', '=', channel)
            .where('channel_relations.account_id', '=', person.id)
            .executeTakeFirst())?.relation === 'ADDED';
        await assertAllOrNothing(res, gone, [
          { name: 'link', gone: ['app', 'person'], stored: async () => (await db.selectFrom('app_users').select('scopes').where('app_id', '=', app.id).where('account_id', '=', person.id).executeTakeFirst())?.scopes.includes('profile_nickname') === true },
          { name: 'own channel added', gone: ['app', 'person'], stored: added(own) },
          { name: 'lent channel added', gone: ['channel', 'person'], stored: added(lent) },
          { name: 'code', gone: ['app', 'person'], stored: async () => (await db.selectFrom('auth_codes').select('app_id').where('app_id', '=', app.id).where('account_id', '=', person.id).executeTakeFirst()) !== undefined },
          { name: 'SDK result', gone: ['app'], stored: pollingResult(app) },
        ], `${what}: ${res.statusCode} ${res.body.slice(-300)}`);
      }
    }
  });

  it('a login that needs no consent whose app or person is deleted while its code or SDK result is stored stores all of it or none, never a 500', async () => {
    let n = 0;
    for (const point of landings('select * from "app_users"', ['insert into "auth_codes"', 'insert into "login_auth_transactions"'])) {
      for (const gone of ['app', 'person'] as const) {
        n++;
        const app = await h.createApp({ name: `Race ${n}`, consent_items: { profile_nickname: 'required' } });
        const person = await h.createAccount({ nickname: `Ryan ${n}`, email: `ryan${n}@example.com` });
        const b = new InjectBrowser(h);
        await signIn(b, app, person);
        const url = authorizeUrl(app, { auth_tran_id: `tran-${n}`, state: 'r' });
        const res = await whileDeleting(point.hold(() => h.control('DELETE', gone === 'app' ? `/apps/${app.id}` : `/accounts/${person.id}`)), () => b.get(url));
        await assertAllOrNothing(res, gone, [{ name: 'SDK result', gone: ['app'], stored: pollingResult(app) }], `${gone} deleted ${point.at}: ${res.statusCode} ${res.body.slice(-300)}`);
      }
    }
  });

  it('prompt=none signed out, whose app is deleted while its error for the SDK is stored, answers as after the delete', async () => {
    const app = await h.createApp({ name: 'Race', consent_items: { profile_nickname: 'required' } });
    const b = new InjectBrowser(h);
    const res = await racing('login_auth_transactions', () => h.control('DELETE', `/apps/${app.id}`), () => b.get(authorizeUrl(app, { auth_tran_id: 'tran', prompt: 'none' })));
    assertErrorPage(res, 'KOE101');
  });

  it('signing in as a person deleted while the login session is stored answers as for an unknown person (sign-in and login pages, an AGT naming nobody), never a 500', async () => {
    const cases = ['accounts picked', 'accounts email', 'authorize picked', 'authorize email', 'agt'] as const;
    let n = 0;
    for (const c of cases) {
      n++;
      const app = await h.createApp({ name: `Race ${n}`, consent_items: { profile_nickname: 'required' } });
      const person = await h.createAccount({ nickname: `Ryan ${n}`, email: `ryan${n}@example.com`, password: 'secret-pw' });
      const b = new InjectBrowser(h);
      const byEmail = c.endsWith('email');
      const credentials: Record<string, string> = byEmail ? { email: person.email, password: 'secret-pw' } : { account_id: String(person.id) };
      const remove = () => h.control('DELETE', `/accounts/${person.id}`);
      let res: LightMyRequestResponse;
      if (c.startsWith('accounts')) {
        await b.get('/login?continue=%2Fsomewhere');
        res = await racing('login_sessions', remove, () => b.post('/login', { continue: '/somewhere', ...credentials }));
        assert.match(res.body, /<h1>Sign in to Kakao<\/h1>/, c);
      } else if (c.startsWith('authorize')) {
        const login = await b.get(authorizeUrl(app));
        res = await racing('login_sessions', remove, () => b.post('/oauth/authorize/login', { request: carriedRequest(login.body), ...credentials }));
        assert.match(res.body, /Log in with Kakao/, c);
      } else {
        const tokens = await h.token(app, person, ['profile_nickname']);
        const agtRes = await h.inject({ method: 'POST', url: '/api/agt', payload: form({ client_id: app.rest_api_key, access_token: tokens.access_token }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        res = await racing('login_sessions', remove, () => b.get(authorizeUrl(app, { agt: agtRes.json().agt })));
        // The AGT names nobody now: the login page, as for a used one.
        assert.equal(res.statusCode, 200, res.body);
        assert.match(res.body, /Log in with Kakao/);
        assert.equal(b.cookie, undefined);
        continue;
      }
      assert.equal(res.statusCode, 401, `${c}: ${res.body.slice(-300)}`);
      assert.match(res.body, byEmail ? /Incorrect email or password\. Check and try again\./ : /That person does not exist any more\. Pick another one\./, c);
      assert.equal(b.cookie, undefined, c);
    }
  });

  it('service_terms limits the terms shown; required terms are agreed with the required items', async () => {
    const { app, person, b } = await setup({
      service_terms: [
        { tag: 'tos', title: 'Terms of service', required: true },
        { tag: 'marketing', title: 'Marketing', required: false },
        { tag: 'location', title: 'Location', required: false },
      ],
    });
    const { consentShown } = await signIn(b, app, person, { service_terms: 'tos,marketing' }, { service_terms: ['marketing'] });
    assert.deepEqual(consentShown, { tos: true, marketing: false, profile_nickname: true, profile_image: false, account_email: false, talk_message: false });
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(link.terms.sort(), ['marketing', 'tos']);
  });

  // ---- /oauth/token errors ----

  async function codeFor(extra: Record<string, string> = {}, appBody: Record<string, unknown> = {}) {
    const { app, person, b } = await setup(appBody);
    const { params } = await signIn(b, app, person, extra, {});
    return { app, person, code: params.get('code')! };
  }

  it('token: a wrong client_id is invalid_client KOE101', async () => {
    const { code } = await codeFor();
    const res = await token(h, { grant_type: 'authorization_code', client_id: 'f'.repeat(32), redirect_uri: CALLBACK, code });
    assertOAuthError(res, 401, 'invalid_client', 'KOE101');
    const missing = await token(h, { grant_type: 'authorization_code', redirect_uri: CALLBACK, code });
    assertOAuthError(missing, 400, 'invalid_request', 'KOE001');
  });

  it('token: a code presented by another app is invalid_grant KOE320', async () => {
    const { code } = await codeFor();
    const other = await h.createApp({ name: 'Other' });
    assertOAuthError(await exchange(h, other, code), 400, 'invalid_grant', 'KOE320');
  });

  it('token: redirect_uri different from the authorize one is invalid_grant KOE303', async () => {
    const { app, code } = await codeFor({}, { redirect_uris: [CALLBACK, 'http://localhost:3000/other'] });
    assertOAuthError(await exchange(h, app, code, { redirect_uri: 'http://localhost:3000/other' }), 400, 'invalid_grant', 'KOE303');
    // The code was not used up by the failed attempt.
    assert.equal((await exchange(h, app, code)).statusCode, 200);
  });

  it('token: a reused code is invalid_grant KOE320', async () => {
    const { app, code } = await codeFor();
    assert.equal((await exchange(h, app, code)).statusCode, 200);
    assertOAuthError(await exchange(h, app, code), 400, 'invalid_grant', 'KOE320');
  });

  it('token: a code older than 10 minutes is invalid_grant KOE320', async () => {
    const { app, code } = await codeFor();
    await h.advanceClock(11 * 60);
    const res = await exchange(h, app, code);
    assertOAuthError(res, 400, 'invalid_grant', 'KOE320');
    assert.match(res.json().error_description, /expired/);
  });

  it('token: an unknown code is invalid_grant KOE320; a missing one invalid_request', async () => {
    const { app } = await setup();
    assertOAuthError(await exchange(h, app, 'nope'), 400, 'invalid_grant', 'KOE320');
    assertOAuthError(await token(h, { grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: CALLBACK }), 400, 'invalid_request', 'KOE001');
    assertOAuthError(await token(h, { grant_type: 'password', client_id: app.rest_api_key }), 400, 'invalid_request', 'KOE001');
  });

  it('token: PKCE S256 with the right verifier succeeds', async () => {
    const { app, code } = await codeFor({ code_challenge: s256(VERIFIER), code_challenge_method: 'S256' });
    assert.equal((await exchange(h, app, code, { code_verifier: VERIFIER })).statusCode, 200);
  });

  it('token: PKCE plain with the right verifier succeeds', async () => {
    const { app, code } = await codeFor({ code_challenge: VERIFIER, code_challenge_method: 'plain' });
    assert.equal((await exchange(h, app, code, { code_verifier: VERIFIER })).statusCode, 200);
  });

  it('token: a wrong PKCE verifier is invalid_grant', async () => {
    const { app, code } = await codeFor({ code_challenge: s256(VERIFIER), code_challenge_method: 'S256' });
    assertOAuthError(await exchange(h, app, code, { code_verifier: VERIFIER.replace('k', 'K') }), 400, 'invalid_grant');
    assertOAuthError(await exchange(h, app, code, { code_verifier: 'short' }), 400, 'invalid_request', 'KOE001');
  });

  it('token: a missing PKCE verifier is invalid_request', async () => {
    const { app, code } = await codeFor({ code_challenge: s256(VERIFIER), code_challenge_method: 'S256' });
    const res = await exchange(h, app, code);
    assertOAuthError(res, 400, 'invalid_request', 'KOE001');
    assert.match(res.json().error_description, /code_verifier/);
  });

  it('authorize: a malformed PKCE challenge or method redirects with invalid_request', async () => {
    const { app, b } = await setup();
    for (const extra of [{ code_challenge: 'short', code_challenge_method: 'S256' }, { code_challenge: s256(VERIFIER), code_challenge_method: 'S512' }]) {
      const params = callbackParams(await b.get(authorizeUrl(app, extra)));
      assert.equal(params.get('error'), 'invalid_request');
    }
  });

  it('token: a wrong client secret is invalid_client KOE010', async () => {
    const { app, code } = await codeFor({}, { client_secret: 'top-secret' });
    assertOAuthError(await exchange(h, app, code, { client_secret: 'wrong' }), 401, 'invalid_client', 'KOE010');
    const ok = await exchange(h, app, code, { client_secret: 'top-secret', android_key_hash: 'x', client_origin: 'http://localhost:3000' });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  it('token: a JavaScript key used from a page off the web domains is misconfigured KOE009 (Origin, else KA, else client_origin)', async () => {
    const { app, person, b } = await setup({ web_domains: ['http://localhost:3000'] });
    const first = await signIn(b, app, person, { client_id: app.javascript_key }, {});
    // Signed in and agreed: every further authorize comes straight back with a code.
    const code = first.params.get('code')!;
    const nextCode = async () => callbackParams(await b.get(authorizeUrl(app, { client_id: app.javascript_key }))).get('code')!;
    const jsExchange = (code: string, headers: Record<string, string>, extra: Record<string, string> = {}) =>
      h.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: form({ grant_type: 'authorization_code', client_id: app.javascript_key, redirect_uri: CALLBACK, code, ...extra }),
      });
    const evilKa = `sdk/2.7.2 os/javascript origin/${encodeURIComponent('http://evil.example')}`;
    const goodKa = `sdk/2.7.2 os/javascript origin/${encodeURIComponent('http://localhost:3000')}`;
    for (const [headers, extra, from] of [
      [{ origin: 'http://evil.example' }, {}, 'Origin'],
      [{ origin: 'http://evil.example', ka: goodKa }, { client_origin: 'http://localhost:3000' }, 'Origin'],
      [{ ka: evilKa }, {}, 'KA'],
      [{}, { client_origin: 'http://evil.example' }, 'client_origin'],
    ] as const) {
      const res = await jsExchange(code, headers, extra);
      assertOAuthError(res, 401, 'misconfigured', 'KOE009');
      assert.equal(res.json().error_description, `origin http://evil.example (from ${from}) is not a registered web domain of app ${app.id}.`);
    }
    // A KA origin that does not decode is refused as sent, not passed over for client_origin.
    const badKa = await jsExchange(code, { ka: 'sdk/2.7.2 os/javascript origin/http%3A%2F%2Fevil%E0.example' }, { client_origin: 'http://localhost:3000' });
    assertOAuthError(badKa, 401, 'misconfigured', 'KOE009');
    assert.equal(badKa.json().error_description, `origin http%3A%2F%2Fevil%E0.example (from KA) is not a registered web domain of app ${app.id}.`);
    // Refused before the code is looked at: it still works from a registered page.
    const ok = await jsExchange(code, { origin: 'http://localhost:3000', ka: goodKa });
    assert.equal(ok.statusCode, 200, ok.body);

    // A refresh from another page is refused the same way; from the app's page it works.
    const t = await h.token(app, person, ['profile_nickname']);
    const refresh = (headers: Record<string, string>) =>
      h.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: form({ grant_type: 'refresh_token', client_id: app.javascript_key, refresh_token: t.refresh_token }),
      });
    assertOAuthError(await refresh({ origin: 'http://evil.example' }), 401, 'misconfigured', 'KOE009');
    assert.equal((await refresh({ origin: 'http://localhost:3000' })).statusCode, 200);

    // Kapibara's own pages (SDK v1's login widget, same origin) name the app's page in KA or client_origin.
    const own = (await h.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json().issuer as string;
    const second = await nextCode();
    assertOAuthError(await jsExchange(second, { origin: own }, { client_origin: 'http://evil.example' }), 401, 'misconfigured', 'KOE009');
    assert.equal((await jsExchange(second, { origin: own }, { client_origin: 'http://localhost:3000' })).statusCode, 200);

    // No page named at all (a server holding the JavaScript key) is not refused; the REST key is never checked.
    assert.equal((await jsExchange(await nextCode(), {})).statusCode, 200);
    const restCode = callbackParams(await b.get(authorizeUrl(app))).get('code')!;
    const restExchange = await h.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
      payload: form({ grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: CALLBACK, code: restCode }),
    });
    assert.equal(restExchange.statusCode, 200, restExchange.body);
  });

  it('token: a missing client secret is invalid_client KOE010', async () => {
    const { app, code } = await codeFor({}, { client_secret: 'top-secret' });
    assertOAuthError(await exchange(h, app, code), 401, 'invalid_client', 'KOE010');
  });

  it('refresh: a refresh token of another app is invalid_grant', async () => {
    const { app, person } = await setup();
    const other = await h.createApp({ name: 'Other' });
    const tokens = await h.token(other, person);
    const res = await token(h, { grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: tokens.refresh_token });
    assertOAuthError(res, 400, 'invalid_grant');
    assertOAuthError(await token(h, { grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: 'nope' }), 400, 'invalid_grant');
  });

  it('refresh: a new refresh token (and scope) only in its last month; the old one then stops working', async () => {
    const { app, person } = await setup();
    const tokens = await h.token(app, person, ['profile_nickname']);
    const refresh = () => token(h, { grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: tokens.refresh_token });

    let res = await refresh();
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(res.json()), ['token_type', 'access_token', 'expires_in']);
    assert.notEqual(res.json().access_token, tokens.access_token);
    assert.equal((await h.kapi('GET', '/v1/user/access_token_info', res.json().access_token)).statusCode, 200);

    await h.advanceClock(29 * 24 * 3600); // 31 days left
    res = await refresh();
    assert.deepEqual(Object.keys(res.json()), ['token_type', 'access_token', 'expires_in']);

    await h.advanceClock(2 * 24 * 3600); // 29 days left: rotate
    res = await refresh();
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['token_type', 'access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'scope']);
    assert.equal(body.refresh_token_expires_in, 5183999);
    assert.equal(body.scope, 'profile_nickname');
    assertOAuthError(await refresh(), 400, 'invalid_grant');
    const next = await token(h, { grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: body.refresh_token });
    assert.deepEqual(Object.keys(next.json()), ['token_type', 'access_token', 'expires_in']);
  });

  it('refresh: an expired refresh token is invalid_grant', async () => {
    const { app, person } = await setup();
    const tokens = await h.token(app, person);
    await h.advanceClock(5_184_000);
    assertOAuthError(await token(h, { grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: tokens.refresh_token }), 400, 'invalid_grant');
  });

  it('an access token stops working (-401) once 12 hours pass on the platform clock', async () => {
    const { app, person, b } = await setup();
    const { params } = await signIn(b, app, person, {}, {});
    const body = (await exchange(h, app, params.get('code')!)).json();
    assert.equal((await h.kapi('GET', '/v1/user/access_token_info', body.access_token)).statusCode, 200);
    await h.advanceClock(12 * 3600);
    const res = await h.kapi('GET', '/v1/user/access_token_info', body.access_token);
    assertApiError(res, 401, -401, 'expired');
    assert.equal(res.headers['www-authenticate'], 'Bearer error=invalid_token');
  });

  it('the login session follows the platform clock', async () => {
    const { app, person, b } = await setup();
    await signIn(b, app, person, {}, {});
    assert.ok(callbackParams(await b.get(authorizeUrl(app, { prompt: 'none' }))).get('code'));
    await h.advanceClock(24 * 3600 + 1);
    assert.equal(callbackParams(await b.get(authorizeUrl(app, { prompt: 'none' }))).get('error'), 'login_required');
  });

  it('a first login with scope= still asks for the app\'s required items', async () => {
    const { app, person, b } = await setup();
    const { consentShown } = await signIn(b, app, person, { scope: 'talk_message' }, { scope: ['talk_message'] });
    assert.deepEqual(consentShown, { talk_message: false, profile_nickname: true });
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.deepEqual(link.scopes.sort(), ['profile_nickname', 'talk_message']);
  });

  it('token: an app that turned Kakao Login off gets unauthorized KOE004', async () => {
    const { app, code } = await codeFor();
    await h.control('PATCH', `/apps/${app.id}`, { login_enabled: false });
    assertOAuthError(await exchange(h, app, code), 403, 'unauthorized', 'KOE004');
  });

  it('logging in again replaces the previous login session', async () => {
    const { app, person, b } = await setup();
    await signIn(b, app, person, {}, {});
    const first = b.cookie!;
    await signIn(b, app, person, { prompt: 'login' });
    assert.notEqual(b.cookie, first);
    const stale = await h.inject({ method: 'GET', url: authorizeUrl(app, { prompt: 'none' }), headers: { cookie: first } });
    assert.equal(callbackParams(stale).get('error'), 'login_required');
  });

  it('manual-signup apps link the person without signing them up', async () => {
    const { app, person, b } = await setup({ manual_signup: true });
    await signIn(b, app, person, {}, {});
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    assert.equal(link.signed_up, false);
  });
});
