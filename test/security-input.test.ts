import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LightMyRequestResponse } from 'fastify';
import { cookiesOf, csrfTokenOf, forEachStore, form, type Harness, type TestApp, type TestAccount, refreshGrant as refresh } from './helpers/harness.js';
import { storyApp, storyUser } from './fixtures/story.js';
import { buildApp } from '../src/app.js';
import { Clock } from '../src/core/clock.js';

/**
 * Issue 14, items 7–10 and 15: PKCE downgrade, code replay, nested JSON, clock ranges and
 * passwords at rest. Each test drives the wire.
 */

const CALLBACK = 'http://localhost:3000/callback';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The hidden fields of the first form whose tag contains `marker` (whatever fields the page carries). */
function hiddenFields(html: string, marker: string): Record<string, string> {
  const start = html.indexOf(marker);
  assert.ok(start >= 0, `page has a form with ${marker}`);
  const formHtml = html.slice(start, html.indexOf('</form>', start));
  const out: Record<string, string> = {};
  for (const m of formHtml.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) out[unescapeHtml(m[1])] = unescapeHtml(m[2]);
  return out;
}

function cookieOf(res: LightMyRequestResponse): string | undefined {
  const set = res.headers['set-cookie'];
  for (const c of Array.isArray(set) ? set : set ? [set] : []) {
    const [pair] = c.split(';');
    if (pair.startsWith('kapibara_session=')) return pair;
  }
  return undefined;
}

/** The person already agreed to everything: authorize → log in (picked person) → code. */
async function authorizationCode(h: Harness, app: TestApp, person: TestAccount, extra: Record<string, string> = {}): Promise<string> {
  await h.control('PUT', `/apps/${app.id}/users/${person.id}`, { scopes: Object.keys(app.consent_items) });
  const query = new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: CALLBACK, response_type: 'code', ...extra });
  const page = await h.inject({ method: 'GET', url: `/oauth/authorize?${query}` });
  assert.equal(page.statusCode, 200, page.body);
  const fields = { ...hiddenFields(page.body, 'action="/oauth/authorize/login"'), account_id: String(person.id) };
  const login = await h.inject({
    method: 'POST',
    url: '/oauth/authorize/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(page) },
    payload: new URLSearchParams(fields).toString(),
  });
  assert.equal(login.statusCode, 303, login.body);
  const back = await h.inject({ method: 'GET', url: String(login.headers.location), headers: { cookie: cookieOf(login)! } });
  assert.equal(back.statusCode, 302, back.body.slice(0, 300));
  const code = new URL(String(back.headers.location)).searchParams.get('code');
  assert.ok(code, `redirect carries a code: ${back.headers.location}`);
  return code;
}

function exchange(h: Harness, app: TestApp, code: string, extra: Record<string, string> = {}) {
  return h.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'authorization_code', client_id: app.rest_api_key, redirect_uri: CALLBACK, code, ...extra }),
  });
}

function assertOAuthError(res: LightMyRequestResponse, status: number, error: string, errorCode: string, description?: RegExp): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json;charset=UTF-8$/);
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_code', 'error_description']);
  assert.equal(body.error, error, res.body);
  assert.equal(body.error_code, errorCode, res.body);
  if (description) assert.match(body.error_description, description);
}

function me(h: Harness, token: string) {
  return h.inject({ method: 'GET', url: '/v2/user/me', headers: { authorization: `Bearer ${token}` } });
}

function postJson(h: Harness, url: string, body: string, headers: Record<string, string> = {}) {
  return h.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: body });
}

const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

forEachStore('Security: authorization codes (issue 14 items 7, 8)', (h) => {
  async function setup() {
    const app = await h.createApp();
    const person = await h.createAccount({ nickname: 'Ryan' });
    return { app, person };
  }

  it('a code_verifier for a code issued without a code_challenge is refused (PKCE downgrade)', async () => {
    const { app, person } = await setup();
    const code = await authorizationCode(h, app, person);
    assertOAuthError(await exchange(h, app, code, { code_verifier: VERIFIER }), 400, 'invalid_request', 'KOE001', /code_verifier/);
    // The refusal did not use the code up: without a verifier it works.
    assert.equal((await exchange(h, app, code)).statusCode, 200);
  });

  it('a code issued with a challenge still needs its verifier', async () => {
    const { app, person } = await setup();
    const challenge = createHash('sha256').update(VERIFIER).digest('base64url');
    const code = await authorizationCode(h, app, person, { code_challenge: challenge, code_challenge_method: 'S256' });
    assertOAuthError(await exchange(h, app, code), 400, 'invalid_request', 'KOE001', /code_verifier/);
    assert.equal((await exchange(h, app, code, { code_verifier: VERIFIER })).statusCode, 200);
  });

  it('a replayed code is refused and the tokens of its first use are revoked', async () => {
    const { app, person } = await setup();
    const code = await authorizationCode(h, app, person);
    const first = await exchange(h, app, code);
    assert.equal(first.statusCode, 200, first.body);
    const tokens = first.json();
    assert.equal((await me(h, tokens.access_token)).statusCode, 200);
    // An access token refreshed from the first use's refresh token goes too.
    const refreshed = await refresh(h, app, tokens.refresh_token);
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const refreshedAccess = refreshed.json().access_token;

    // Tokens the person obtained otherwise (another sign-in) are not touched.
    const other = await h.token(app, person);

    assertOAuthError(await exchange(h, app, code), 400, 'invalid_grant', 'KOE320', /already used/);
    assert.equal((await me(h, tokens.access_token)).statusCode, 401);
    assert.equal((await me(h, refreshedAccess)).statusCode, 401);
    assertOAuthError(await refresh(h, app, tokens.refresh_token), 400, 'invalid_grant', 'KOE322');
    assert.equal((await me(h, other.access_token)).statusCode, 200);
    // And again: still refused.
    assertOAuthError(await exchange(h, app, code), 400, 'invalid_grant', 'KOE320');
  });

  it('a refresh token rotated after the exchange is revoked by a replay too', async () => {
    const { app, person } = await setup();
    const code = await authorizationCode(h, app, person);
    const tokens = (await exchange(h, app, code)).json();
    // Within a month of its expiry a refresh token is replaced by a new one.
    await h.advanceClock(40 * 24 * 3600);
    const rotated = (await refresh(h, app, tokens.refresh_token)).json();
    assert.ok(rotated.refresh_token, 'the refresh token was rotated');
    assert.equal((await me(h, rotated.access_token)).statusCode, 200);
    assertOAuthError(await exchange(h, app, code), 400, 'invalid_grant', 'KOE320');
    assert.equal((await me(h, rotated.access_token)).statusCode, 401);
    assertOAuthError(await refresh(h, app, rotated.refresh_token), 400, 'invalid_grant', 'KOE322');
  });

  it('concurrent exchanges of one code: one wins, and a replay revokes the winner', async () => {
    const { app, person } = await setup();
    const code = await authorizationCode(h, app, person);
    const results = await Promise.all([exchange(h, app, code), exchange(h, app, code), exchange(h, app, code)]);
    const won = results.filter((r) => r.statusCode === 200);
    assert.ok(won.length <= 1, `at most one exchange succeeds: ${results.map((r) => r.statusCode)}`);
    for (const r of results) if (r.statusCode !== 200) assertOAuthError(r, 400, 'invalid_grant', 'KOE320');
    for (const r of won) assert.equal((await me(h, r.json().access_token)).statusCode, 401, 'the replays revoked the winner');
  });
});

forEachStore('Security: nested JSON (issue 14 item 9)', (h) => {
  it('deeply nested JSON bodies are a clear 400 in each surface, never a 500', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', talk_message: 'optional', story_publish: 'optional' } });
    const person = await h.createAccount();
    const t = await h.token(app, person);
    const bearer = { authorization: `Bearer ${t.access_token}` };
    for (const depth of [9_000, 50_000]) {
      for (const body of [nestedArrays(depth), nestedObjects(depth), `{"properties":${nestedObjects(depth)}}`]) {
        // Routes that take form fields do not read a JSON body: answered as having no parameters.
        for (const [url, missing] of [['/v1/user/update_profile', 'properties'], ['/v2/api/talk/memo/default/send', 'template_object'], ['/v1/api/story/post/note', 'content']]) {
          const res = await postJson(h, url, body, bearer);
          assert.equal(res.statusCode, 400, `${url} ${depth}: ${res.body.slice(0, 200)}`);
          assert.deepEqual(res.json(), { msg: `${missing} is required; this API reads form fields (Content-Type: application/x-www-form-urlencoded), not a JSON body.`, code: -2 });
        }
        const token = await postJson(h, '/oauth/token', body);
        assertOAuthError(token, 400, 'invalid_request', 'KOE001', /^grant_type is required; this API reads form fields/);
        for (const url of ['/v1/talkchannel/create/target_user_file', '/v1/talkchannel/update/target_users']) {
          const res = await postJson(h, url, body, { authorization: `KakaoAK ${app.admin_key}` });
          assert.equal(res.statusCode, 400, `${url} ${depth}: ${res.body.slice(0, 200)}`);
          assert.deepEqual(res.json(), { msg: 'invalid body: JSON nested deeper than 64 levels', code: -2 });
        }
        for (const url of ['/_kapibara/v1/apps', '/_kapibara/v1/state', `/_kapibara/v1/apps/${app.id}/templates`]) {
          const res = await postJson(h, url, body);
          assert.equal(res.statusCode, 400, `${url}: ${res.body.slice(0, 200)}`);
          assert.deepEqual(res.json(), { error: 'invalid body: JSON nested deeper than 64 levels' });
        }
      }
    }
  });

  it('deeply nested JSON inside form fields is -2 naming the field', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', talk_message: 'optional', friends: 'optional', story_publish: 'optional' } });
    const person = await h.createAccount();
    const t = await h.token(app, person);
    const deep = nestedObjects(20_000);
    const cases: [string, Record<string, string>, RegExp][] = [
      ['/v2/api/talk/memo/default/send', { template_object: deep }, /^invalid template_object: JSON nested deeper than 64 levels\.$/],
      ['/v1/user/update_profile', { properties: deep }, /^invalid properties: JSON nested deeper than 64 levels\.$/],
      ['/v2/user/me', { property_keys: nestedArrays(20_000) }, /^invalid property_keys: JSON nested deeper than 64 levels\.$/],
      ['/v1/api/talk/friends/message/default/send', { receiver_uuids: nestedArrays(20_000), template_object: '{}' }, /JSON nested deeper than 64 levels/],
      ['/v1/api/story/post/photo', { image_url_list: nestedArrays(20_000) }, /^invalid image_url_list: JSON nested deeper than 64 levels\.$/],
    ];
    for (const [url, fields, msg] of cases) {
      const res = await h.kapi('POST', url, t.access_token, fields);
      assert.equal(res.statusCode, 400, `${url}: ${res.body.slice(0, 200)}`);
      assert.equal(res.json().code, -2, res.body);
      assert.match(res.json().msg, msg);
    }
  });

  it('ordinary nesting is untouched: a template 10 levels deep is stored', async () => {
    const app = await h.createApp();
    let value: unknown = 'x';
    for (let i = 0; i < 10; i++) value = { v: value };
    const res = await postJson(
      h,
      `/_kapibara/v1/apps/${app.id}/templates`,
      JSON.stringify({ template: { object_type: 'text', text: 'hi', link: { web_url: 'http://localhost:3000' }, deep: value } }),
    );
    assert.ok(res.statusCode === 201 || res.statusCode === 400, res.body);
    assert.doesNotMatch(res.body, /nested deeper/);
  });
});

it('kapibara import/seed of a file nested deeper than 64 levels is refused with a message, not a stack overflow', async () => {
  const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  const run = `import(${JSON.stringify(cli)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); })`;
  const dir = mkdtempSync(join(tmpdir(), 'kapibara-deep-'));
  try {
    const file = join(dir, 'deep.json');
    writeFileSync(file, `{"version":1,"settings":[{"key":"k","value":${nestedArrays(20_000)}}]}`);
    const result = promisify(execFile)(process.execPath, ['--input-type=module', '-e', run, 'seed', file, '--data', dir]);
    await assert.rejects(result, (err: { stderr: string }) => /JSON nested deeper than 64 levels/.test(err.stderr));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

forEachStore('Security: the clock (issue 14 item 10)', (h) => {
  it('a clock outside 1970–9999 is refused and nothing is stored', async () => {
    for (const body of [
      { advance_seconds: 9007199254740992 },
      { advance_seconds: -9007199254740992 },
      { offset_ms: 8.64e15 },
      { offset_ms: -Date.now() - 1000 },
      { now: '+275760-09-13T00:00:00Z' },
      { now: '1969-12-31T23:59:59Z' },
      { advance_seconds: 8000 * 365 * 24 * 3600 },
    ]) {
      const res = await postJson(h, '/_kapibara/v1/clock', JSON.stringify(body));
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.ok(typeof res.json().error === 'string' && Object.keys(res.json()).length === 1, res.body);
    }
    assert.equal((await h.control('GET', '/clock')).offset_ms, 0);
    const offset = await h.store.db.selectFrom('settings').select('value').where('key', '=', 'clock_offset_ms').executeTakeFirst();
    assert.ok(offset === undefined || offset.value === '0', `stored: ${offset?.value}`);
  });

  it('the clock goes up to 9999-12-31 and the APIs keep answering there', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    const t = await h.token(app, person);
    const set = await h.control('POST', '/clock', { now: '9999-12-31T00:00:00Z' });
    assert.match(set.now, /^9999-12-31T/);
    const res = await me(h, t.access_token);
    assert.equal(res.statusCode, 401, 'the token expired long ago');
    const fresh = await h.token(app, person);
    const mine = await me(h, fresh.access_token);
    assert.equal(mine.statusCode, 200, mine.body);
    assert.equal((await h.inject({ method: 'GET', url: '/_kapibara/v1/clock' })).statusCode, 200);
  });

  it('an unformattable stored offset (an older version stored one) is not loaded: /clock and /v2/user/me answer', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    await h.store.db
      .insertInto('settings')
      .values({ key: 'clock_offset_ms', value: '9007199254740992000' })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: '9007199254740992000' }))
      .execute();
    const restarted = await buildApp({ store: h.store, clock: new Clock() });
    try {
      const clock = await restarted.inject({ method: 'GET', url: '/_kapibara/v1/clock' });
      assert.equal(clock.statusCode, 200, clock.body);
      assert.equal(clock.json().offset_ms, 0);
      const tokens = (await restarted.inject({ method: 'POST', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}/tokens`, payload: {} })).json();
      const mine = await restarted.inject({ method: 'GET', url: '/v2/user/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(mine.statusCode, 200, mine.body);
    } finally {
      await restarted.close();
    }
  });

  it('a state document\'s JSON columns must hold JSON objects or arrays: text there is refused, nothing is written, and every read keeps answering', async () => {
    const app = await h.createApp({ name: 'Kept' });
    const person = await h.createAccount();
    for (const [table, row, field] of [
      ['app_users', { app_id: app.id, account_id: person.id, properties: 'x' }, 'properties'],
      ['talk_templates', { id: 778, app_id: app.id, name: 't', object_type: 'text', template: 'oops', created_at: 0, updated_at: 0 }, 'template'],
    ] as const) {
      const res = await h.inject({ method: 'POST', url: '/_kapibara/v1/state', payload: { version: 1, [table]: [row] } });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error, `${table}[0].${field}: expected a JSON object or array, got "${row[field]}"`);
    }
    assert.equal((await h.inject({ method: 'GET', url: '/_kapibara/v1/state' })).statusCode, 200);
    assert.equal((await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${app.id}/templates` })).statusCode, 200);
  });

  it('a state document\'s signing key or TLS certificate that cannot be used is refused (400), and a replace then changes nothing', async () => {
    const app = await h.createApp({ name: 'Survivor' });
    const jwks = (await h.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body;
    for (const [key, value] of [['signing_key', 'garbage'], ['signing_key', '{"kty":"RSA"}'], ['tls_certificate', 'garbage']]) {
      const res = await h.inject({ method: 'PUT', url: '/_kapibara/v1/state', payload: { version: 1, settings: [{ key, value }] } });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().error, new RegExp(`^settings\\[0\\]\\.value: ${key}`));
      assert.deepEqual((await h.control('GET', '/apps')).map((a: { id: number }) => a.id), [app.id]);
    }
    assert.equal((await h.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body, jwks);
  });

  it('text holding a NUL character is a bad request in its surface\'s shape on both stores, never a 500 (PostgreSQL refuses it)', async () => {
    const app = await storyApp(h);
    const { token, person } = await storyUser(h, app);
    const note = await h.kapi('POST', '/v1/api/story/post/note', token, { content: 'a\u0000b' });
    assert.deepEqual([note.statusCode, note.json()], [400, { msg: 'invalid request: text may not contain the NUL character (U+0000, %00).', code: -2 }]);
    const query = await h.inject({ method: 'GET', url: '/v1/api/story/mystory?id=a%00b', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual([query.statusCode, query.json().code], [400, -2]);
    const control = await h.inject({ method: 'PATCH', url: `/_kapibara/v1/accounts/${person.id}`, payload: { nickname: 'a\u0000b' } });
    assert.deepEqual([control.statusCode, control.json()], [400, { error: 'invalid request: text may not contain the NUL character (U+0000, %00).' }]);
    const authorize = await h.inject({ method: 'GET', url: `/oauth/authorize?client_id=${app.rest_api_key}&redirect_uri=${encodeURIComponent(app.redirect_uris[0])}&response_type=code&nonce=n%00n` });
    assert.equal(authorize.statusCode, 400);
    assert.match(String(authorize.headers['content-type']), /^text\/html/);
    assert.equal((await h.control('GET', `/accounts/${person.id}`)).nickname, person.nickname);
  });

  it('JSON inside a form field (templates, properties, uuid lists) and JSON bodies may not hold a NUL or a lone surrogate escape; an escaped backslash before "u0000" is plain text', async () => {
    const app = await storyApp(h, { user_property_keys: ['note'], consent_items: { profile_nickname: 'required', story_read: 'optional', story_publish: 'optional', talk_message: 'optional', friends: 'optional' } });
    const { token, person } = await storyUser(h, app, {}, ['profile_nickname', 'story_read', 'story_publish', 'talk_message', 'friends']);
    const template = (text: string) => `{"object_type":"text","text":"${text}","link":{"web_url":"http://localhost:3000/"}}`;
    const send = (text: string) => h.kapi('POST', '/v2/api/talk/memo/default/send', token, { template_object: template(text) });
    const refused = (res: LightMyRequestResponse, name: string, what: RegExp) => {
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, -2, res.body);
      assert.match(res.json().msg, new RegExp(`^invalid ${name}: text may not contain ${what.source}`), res.body);
    };
    refused(await send('a\\u0000b'), 'template_object', /the NUL character/);
    refused(await send('a\\ud800b'), 'template_object', /a lone surrogate/);
    refused(await send('a\\udc00b'), 'template_object', /a lone surrogate/);
    refused(await send('a\\ud83d\\u0041'), 'template_object', /a lone surrogate/);
    refused(await h.kapi('POST', '/v1/user/update_profile', token, { properties: '{"note":"a\\u0000b"}' }), 'properties', /the NUL character/);
    const uuids = await h.kapi('POST', '/v1/api/talk/friends/message/default/send', token, { receiver_uuids: '["a\\u0000b"]', template_object: template('x') });
    assert.deepEqual([uuids.statusCode, uuids.json()], [400, { msg: 'Constraints on the parameter [receiver_uuids] are unsatisfied. text may not contain the NUL character (U+0000, %00).', code: -2 }]);
    // A pair is one character; an escaped backslash followed by "u0000" is six characters of text.
    for (const text of ['\\ud83d\\ude00', 'a\\\\u0000b']) assert.equal((await send(text)).statusCode, 200, text);
    const stored = (await h.store.db.selectFrom('talk_messages').select('template').where('account_id', '=', person.id).execute()).map((r) => JSON.parse(r.template).text);
    assert.deepEqual(stored.sort(), ['\u{1F600}', 'a\\u0000b'].sort());

    const body = await h.inject({ method: 'PATCH', url: `/_kapibara/v1/accounts/${person.id}`, headers: { 'content-type': 'application/json' }, payload: '{"nickname":"x\\ud800y"}' });
    assert.deepEqual([body.statusCode, body.json()], [400, { error: 'invalid request: text may not contain a lone surrogate (an unpaired \\ud800-\\udfff escape).' }]);
    assert.equal((await h.control('GET', `/accounts/${person.id}`)).nickname, person.nickname);
  });

  it('real time does not carry the clock past 9999-12-31T23:59:59Z: it stays there, and timestamps keep four-digit years', async () => {
    let real = Date.now();
    const restarted = await buildApp({ store: h.store, clock: new Clock(() => real) });
    try {
      const set = await restarted.inject({ method: 'POST', url: '/_kapibara/v1/clock', payload: { now: '9999-12-31T23:59:59Z' } });
      assert.equal(set.statusCode, 200, set.body);
      real += 5_000;
      const clock = (await restarted.inject({ method: 'GET', url: '/_kapibara/v1/clock' })).json();
      assert.match(clock.now, /^9999-12-31T23:59:59/);
      const app = await storyApp(h);
      const person = (await restarted.inject({ method: 'POST', url: '/_kapibara/v1/accounts', payload: { story_user: true } })).json();
      const { access_token: token } = (await restarted.inject({ method: 'POST', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}/tokens`, payload: {} })).json();
      const me = await restarted.inject({ method: 'GET', url: '/v2/user/me', headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.statusCode, 200, me.body);
      assert.match(me.json().connected_at, /^9999-12-31T23:59:59Z$/);
      // The clock may still be moved back from there.
      const back = await restarted.inject({ method: 'POST', url: '/_kapibara/v1/clock', payload: { advance_seconds: -60 } });
      assert.equal(back.statusCode, 200, back.body);
      assert.match(back.json().now, /^9999-12-31T23:58:59/);
    } finally {
      await restarted.close();
    }
  });

  it('a state document cannot carry an unformattable clock offset', async () => {
    const res = await h.inject({
      method: 'PUT',
      url: '/_kapibara/v1/state',
      payload: { version: 1, settings: [{ key: 'clock_offset_ms', value: '9007199254740992000' }] },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().error, /clock_offset_ms/);
    assert.equal((await h.control('GET', '/clock')).offset_ms, 0);
  });
});

forEachStore('Security: passwords at rest (issue 14 item 15)', (h) => {
  it('passwords are stored as salted scrypt hashes; control plane and export never show plaintext', async () => {
    const a = await h.createAccount({ email: 'a@example.com', password: 'correct horse' });
    const b = await h.createAccount({ email: 'b@example.com', password: 'correct horse' });
    assert.equal('password' in a, false, JSON.stringify(a));
    assert.equal('password' in (await h.control('GET', `/accounts/${a.id}`)), false);
    const rows = await h.store.db.selectFrom('accounts').select(['id', 'password']).execute();
    for (const row of rows) assert.match(row.password, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const [ha, hb] = [a, b].map((p) => rows.find((r) => r.id === p.id)!.password);
    assert.notEqual(ha, hb, 'a salt per password');
    const state = await h.control('GET', '/state');
    assert.doesNotMatch(JSON.stringify(state), /correct horse/);
    assert.equal(state.accounts.find((r: { id: number }) => r.id === a.id).password, ha);
    const console = await h.inject({ method: 'GET', url: `/_kapibara/console/people/${a.id}` });
    assert.doesNotMatch(console.body, /correct horse|scrypt\$/);
  });

  it('docs/security.md says truly where each secret is readable: its table rows and its prose match the control plane, the console and an export', async () => {
    const doc = readFileSync(join(process.cwd(), 'docs', 'security.md'), 'utf8');
    const readableThrough = (secret: string) => {
      const row = doc.split('\n').find((line) => line.startsWith(`| ${secret} |`));
      assert.ok(row, `no row for ${secret}`);
      const where = row.split('|')[3].trim();
      return where.startsWith('nothing') ? [] : where.split(/,\s*/);
    };
    const app = await h.createApp({ client_secret: 'mysecretvalue123' });
    const person = await h.createAccount({ password: 'plain password 1' });
    const pages = (await Promise.all(['/_kapibara/console', `/_kapibara/console/people/${person.id}`].map((url) => h.inject({ method: 'GET', url })))).map((r) => r.body).join('\n');
    const control = JSON.stringify([await h.control('GET', `/apps/${app.id}`), await h.control('GET', `/accounts/${person.id}`)]);
    const exported = JSON.stringify(await h.control('GET', '/state'));
    const shown = (value: string) => [...(control.includes(value) ? ['control plane'] : []), ...(pages.includes(value) ? ['console'] : []), ...(exported.includes(value) ? ['export'] : [])];
    assert.deepEqual(readableThrough('client secrets'), shown('mysecretvalue123'));
    assert.deepEqual(readableThrough('app keys (REST API, native, JavaScript, admin)'), shown(app.admin_key));
    assert.deepEqual(shown('plain password 1'), []);
    assert.deepEqual(readableThrough('simulated people\'s passwords'), []);
    // The prose says the same as the table.
    assert.doesNotMatch(doc, /(console|control plane)[^.]*show[^.]*passwords/i);
    assert.doesNotMatch(doc, /console and control plane\s+do the same/);
  });

  it('the login page checks the password against the hash; an export imported back keeps it working', async () => {
    const app = await h.createApp();
    await h.createAccount({ email: 'ryan@example.com', password: 'secret-pw' });
    const login = async (password: string) => {
      const query = new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: CALLBACK, response_type: 'code' });
      const page = await h.inject({ method: 'GET', url: `/oauth/authorize?${query}` });
      const fields = { ...hiddenFields(page.body, 'id="email-login"'), email: 'ryan@example.com', password };
      return h.inject({ method: 'POST', url: '/oauth/authorize/login', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(page) }, payload: new URLSearchParams(fields).toString() });
    };
    assert.equal((await login('wrong')).statusCode, 401);
    assert.equal((await login('secret-pw')).statusCode, 303);
    const exported = await h.control('GET', '/state');
    await h.control('PUT', '/state', exported);
    assert.equal((await login('wrong')).statusCode, 401);
    assert.equal((await login('secret-pw')).statusCode, 303);
    // A hand-written document gives the plaintext: stored hashed, and it logs in.
    const row = { ...exported.accounts[0], password: 'from-seed' };
    await h.control('PUT', '/state', { version: 1, apps: exported.apps, accounts: [row] });
    const stored = await h.store.db.selectFrom('accounts').select('password').where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.match(stored.password, /^scrypt\$/);
    assert.equal((await login('from-seed')).statusCode, 303);
    // And people left to the default password sign in with it.
    await h.control('PUT', '/state', { version: 1, apps: exported.apps, accounts: [{ email: 'ryan@example.com' }] });
    assert.equal((await login('kapibara')).statusCode, 303);
  });

  it('the demo people keep their documented password', async () => {
    const { seedDemo, DEMO_KEYS } = await import('../src/demo.js');
    await seedDemo(h.store.db, h.clock.now());
    const query = new URLSearchParams({ client_id: DEMO_KEYS.rest_api, redirect_uri: 'http://localhost:3000/oauth/callback', response_type: 'code' });
    const page = await h.inject({ method: 'GET', url: `/oauth/authorize?${query}` });
    const fields = { ...hiddenFields(page.body, 'id="email-login"'), email: 'ryan@kapibara.test', password: 'kapibara' };
    const res = await h.inject({ method: 'POST', url: '/oauth/authorize/login', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(page) }, payload: new URLSearchParams(fields).toString() });
    assert.equal(res.statusCode, 303, res.body.slice(0, 300));
  });
});

forEachStore('Security: control-plane field limits (issue 14 item 14)', (h) => {
  const long = (n: number) => 'x'.repeat(n);

  async function refused(method: 'POST' | 'PATCH' | 'PUT', url: string, body: unknown, field: RegExp) {
    const res = await h.inject({ method, url: `/_kapibara/v1${url}`, payload: body as object });
    assert.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(body).slice(0, 80)}: ${res.body.slice(0, 200)}`);
    assert.deepEqual(Object.keys(res.json()), ['error']);
    assert.match(res.json().error, field);
  }

  it('a 12 MB nickname, and every other over-long field, is a 400 naming the field; nothing is stored', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    await refused('POST', '/accounts', { nickname: long(12 * 1024 * 1024 - 100) }, /nickname/);
    for (const [field, max] of [['email', 254], ['password', 128], ['nickname', 50], ['name', 50], ['phone_number', 32], ['profile_image_url', 2048], ['thumbnail_image_url', 2048]] as const) {
      await refused('POST', '/accounts', { [field]: long(max + 1) }, new RegExp(field));
      await refused('PATCH', `/accounts/${person.id}`, { [field]: long(max + 1) }, new RegExp(field));
    }
    for (const [field, max] of [['name', 100], ['rest_api_key', 128], ['native_key', 128], ['javascript_key', 128], ['admin_key', 128], ['client_secret', 128]] as const) {
      await refused('POST', '/apps', { [field]: long(max + 1) }, new RegExp(field));
      await refused('PATCH', `/apps/${app.id}`, { [field]: long(max + 1) }, new RegExp(field));
    }
    for (const field of ['redirect_uris', 'logout_redirect_uris', 'web_domains']) {
      await refused('POST', '/apps', { [field]: [`http://localhost/${long(2048)}`] }, new RegExp(field));
      await refused('POST', '/apps', { [field]: Array.from({ length: 11 }, (_, i) => `http://localhost/${i}`) }, new RegExp(field));
    }
    await refused('POST', '/apps', { service_terms: [{ tag: long(65) }] }, /service_terms/);
    await refused('POST', '/apps', { service_terms: [{ tag: 't', title: long(201) }] }, /service_terms/);
    await refused('POST', '/apps', { user_property_keys: [long(65)] }, /user_property_keys/);
    await refused('PUT', `/apps/${app.id}/users/${person.id}`, { properties: { k: long(1025) } }, /properties/);
    await refused('PUT', `/apps/${app.id}/users/${person.id}`, { scopes: Array.from({ length: 65 }, () => 'profile_nickname') }, /scopes/);
    await refused('POST', `/accounts/${person.id}/shipping_addresses`, { name: long(51), base_address: 'a' }, /name/);
    await refused('POST', `/accounts/${person.id}/shipping_addresses`, { name: 'n', base_address: long(201) }, /base_address/);
    await refused('POST', `/accounts/${person.id}/shipping_addresses`, { name: 'n', base_address: 'a', zip_code: long(17) }, /zip_code/);
    await refused('POST', `/accounts/${person.id}/talk/profiles`, { nickname: long(51) }, /nickname/);
    await refused('PUT', `/accounts/${person.id}/story-profile`, { bg_image_url: long(2049) }, /bg_image_url/);
    await refused('POST', `/apps/${app.id}/templates`, { name: long(101), template: { object_type: 'text', text: 'x', link: {} } }, /name/);
    await refused('POST', `/apps/${app.id}/templates`, { template: { object_type: 'text', text: long(10_000), link: { web_url: 'http://localhost:3000' } } }, /template/);
    await refused('PUT', '/state', { version: 1, accounts: [{ nickname: long(51) }] }, /accounts\[0\]\.nickname/);

    const stored = await h.store.db.selectFrom('accounts').select(({ fn }) => fn.max(fn('length', ['nickname'])).as('longest')).executeTakeFirstOrThrow();
    assert.ok(Number(stored.longest) <= 50, `longest stored nickname: ${stored.longest}`);
  });

  it('a nullable field over its limit, or of the wrong type, is refused naming the real problem only', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    const error = async (method: 'POST' | 'PUT' | 'PATCH', path: string, body: object) => {
      const res = await h.inject({ method, url: `/_kapibara/v1${path}`, payload: body });
      assert.equal(res.statusCode, 400, res.body);
      return res.json().error as string;
    };
    assert.equal(await error('POST', '/accounts', { name: long(51) }), 'invalid body: name must NOT have more than 50 characters');
    assert.equal(await error('PATCH', `/accounts/${person.id}`, { phone_number: long(33) }), 'invalid body: phone_number must NOT have more than 32 characters');
    assert.equal(await error('POST', '/apps', { client_secret: long(129) }), 'invalid body: client_secret must NOT have more than 128 characters');
    assert.equal(await error('PUT', `/apps/${app.id}/message_quotas`, { sender_daily: 2 ** 31 }), 'invalid body: sender_daily must be <= 2147483647');
    assert.equal(await error('PUT', `/apps/${app.id}/message_quotas`, { sender_daily: -1 }), 'invalid body: sender_daily must be >= 0');
    assert.equal(await error('PUT', `/apps/${app.id}/message_quotas`, { sender_daily: 'ten' }), 'invalid body: sender_daily must be null or integer');
    assert.equal(await error('POST', '/accounts', { name: 5 }), 'invalid body: name must be string or null');
  });

  it('values at the limits are accepted', async () => {
    const created = await h.control('POST', '/accounts', { nickname: long(50), email: `${long(240)}@example.com`, password: long(128), name: long(50) });
    assert.equal(created.nickname.length, 50);
    const app = await h.control('POST', '/apps', {
      name: long(100),
      redirect_uris: Array.from({ length: 10 }, (_, i) => `http://localhost:3000/${i}/${long(2000)}`),
      web_domains: ['http://localhost:3000'],
    });
    assert.equal(app.redirect_uris.length, 10);
  });

  it('ids beyond 2^53 are a 400, never a database error', async () => {
    for (const url of ['/accounts/99999999999999999999', '/apps/9007199254740993', '/apps/1/users/99999999999999999999999', '/apps/Infinity/templates/1', '/accounts/-Infinity', '/accounts/1e400/talk']) {
      const res = await h.inject({ method: 'GET', url: `/_kapibara/v1${url}` });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.deepEqual(Object.keys(res.json()), ['error']);
    }
    await refused('POST', '/friendships', { account_id: 1e300, friend_account_id: 1 }, /account_id/);
  });

  it('the sign-up page refuses an over-long nickname or password', async () => {
    const app = await h.createApp();
    const query = new URLSearchParams({ client_id: app.rest_api_key, redirect_uri: CALLBACK, response_type: 'code', prompt: 'create' });
    const page = await h.inject({ method: 'GET', url: `/oauth/authorize?${query}` });
    const base = hiddenFields(page.body, 'id="signup"');
    for (const [fields, message] of [
      [{ email: 'new@example.com', password: 'pw', nickname: long(51) }, /nickname of at most 50/],
      [{ email: 'new@example.com', password: long(129), nickname: 'New' }, /password of at most 128/],
    ] as const) {
      const res = await h.inject({ method: 'POST', url: '/oauth/authorize/signup', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(page) }, payload: new URLSearchParams({ ...base, ...fields }).toString() });
      assert.equal(res.statusCode, 400, res.body.slice(0, 200));
      assert.match(res.body, message);
    }
    assert.equal((await h.control('GET', '/accounts?email=new@example.com')).length, 0);
  });
});
