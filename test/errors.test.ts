import { describe, it } from './helpers/node-test.js';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { assertApiError, forEachStore } from './helpers/harness.js';
import { STORY_CONSENTS, storyApp, storyUser } from './fixtures/story.js';
import { products } from '../src/products/index.js';
import { validateParams } from '../src/core/params.js';
import type { KakaoApiError } from '../src/core/errors.js';

/** Seed 002's error model, reproduced on the User API, and garbage input never crashing it. */
forEachStore('error model (seed 002)', (h) => {
  it('-3: an admin API called with the REST API key', async () => {
    const app = await h.createApp();
    const res = await h.kapiKey('GET', '/v1/user/ids', app.rest_api_key);
    assert.equal(res.statusCode, 403);
    assert.equal(res.statusMessage, 'Forbidden');
    assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
    assert.deepEqual(res.json(), { msg: `This api is not allowed by using app_key(${app.rest_api_key}).`, code: -3 });
    for (const key of [app.javascript_key, app.native_key]) {
      const r = await h.kapiKey('GET', '/v2/app/users', key, { target_id_type: 'user_id', target_ids: [1] });
      assert.deepEqual(r.json(), { msg: `This api is not allowed by using app_key(${key}).`, code: -3 });
    }
  });

  it('-3 / -401: key types on Bearer APIs, and a Bearer token on an admin API', async () => {
    const app = await h.createApp();
    const t = await h.token(app, await h.createAccount());
    // A Bearer-only API with an app key of a real app: that key type may not call it.
    let res = await h.kapiKey('GET', '/v1/user/access_token_info', app.admin_key);
    assertApiError(res, 403, -3, `This api is not allowed by using app_key(${app.admin_key}).`);
    res = await h.kapiKey('POST', '/v1/user/signup', app.rest_api_key);
    assertApiError(res, 403, -3);
    // An unknown key is no credential at all.
    res = await h.kapiKey('GET', '/v2/user/me', 'ffffffffffffffffffffffffffffffff');
    assertApiError(res, 401, -401);
    // An admin API with a Bearer token: the platform asks for the admin key.
    res = await h.kapi('GET', '/v1/user/ids', t.access_token);
    assertApiError(res, 401, -401);
  });

  it('-401: invalid token, with the RFC 6750 header', async () => {
    const samples: Array<[Record<string, string>, string]> = [
      [{}, 'this access token does not exist'],
      [{ authorization: 'Bearer not-a-token' }, 'this access token does not exist'],
      [{ authorization: 'Bearer' }, 'InvalidTokenException'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 'InvalidTokenException'],
    ];
    for (const [headers, msg] of samples) {
      const res = await h.inject({ method: 'GET', url: '/v2/user/me', headers });
      assert.equal(res.statusCode, 401);
      assert.equal(res.statusMessage, 'Unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Bearer error=invalid_token');
      assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
      assert.deepEqual(res.json(), { msg, code: -401 });
    }
    const app = await h.createApp();
    const t = await h.token(app, await h.createAccount());
    await h.advanceClock(43200);
    const expired = await h.kapi('GET', '/v2/user/me', t.access_token);
    assert.equal(expired.statusCode, 401);
    assert.equal(expired.headers['www-authenticate'], 'Bearer error=invalid_token');
    assert.deepEqual(expired.json(), { msg: 'this access token is already expired', code: -401 });
  });

  it('-402: insufficient scopes carries api_type, required_scopes and allowed_scopes', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', account_email: 'optional', friends: 'optional' } });
    const t = await h.token(app, await h.createAccount(), ['profile_nickname', 'account_email']);
    const res = await h.kapi('GET', '/v1/api/talk/friends', t.access_token);
    assert.equal(res.statusCode, 403);
    assert.equal(res.statusMessage, 'Forbidden');
    assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8');
    assert.deepEqual(res.json(), {
      msg: 'insufficient scopes.',
      code: -402,
      api_type: 'FRIENDS',
      required_scopes: ['friends'],
      allowed_scopes: ['profile_nickname', 'account_email'],
    });
  });

  it('-3, not -402, when the app has not turned on the consent item an API needs (left out or disabled), on every product', async () => {
    const app = await h.createApp({ name: 'Bare', consent_items: { profile_nickname: 'required' } });
    // Even a token that carries the scopes (the control plane issues what it is asked for).
    const t = await h.token(app, await h.createAccount(), ['profile_nickname', 'friends', 'talk_message', 'story_publish', 'plusfriends']);
    const off = (scope: string, apiType: string) => ({ msg: `[Bare] App disabled [${scope}] scopes for [${apiType}] API on developers.kakao.com. Enable it first.`, code: -3 });
    const cases: Array<[InjectOptions['method'], string, Record<string, string>, string, string]> = [
      ['GET', '/v1/api/talk/friends', {}, 'friends', 'FRIENDS'],
      ['POST', '/v2/api/talk/memo/default/send', { template_object: '{"object_type":"text","text":"hi","link":{}}' }, 'talk_message', 'TALK_MEMO_DEFAULT_SEND'],
      ['POST', '/v1/api/story/post/note', { content: 'hi' }, 'story_publish', 'STORY_POST_NOTE'],
      ['GET', '/v2/api/talk/channels', {}, 'plusfriends', 'TALK_CHANNEL'],
    ];
    for (const [method, url, body, scope, apiType] of cases) {
      const res = await h.kapi(method, url, t.access_token, body);
      assert.deepEqual([res.statusCode, res.json()], [403, off(scope, apiType)], url);
    }
  });

  it('-2 names the parameter whose value is unknown or malformed', async () => {
    const app = await h.createApp();
    const t = await h.token(app, await h.createAccount());
    const cases: Array<[InjectOptions['method'], string, Record<string, unknown>, string]> = [
      ['GET', '/v2/user/me', { property_keys: '["kakao_account.nope"]' }, 'property_keys'],
      ['GET', '/v2/user/me', { secure_resource: 'maybe' }, 'secure_resource'],
      ['GET', '/v2/user/service_terms', { result: 'all' }, 'result'],
      ['GET', '/v1/user/shipping_address', { page_size: 'ten' }, 'page_size'],
      ['GET', '/v1/user/shipping_address', { page_size: '2.5' }, 'page_size'],
      ['GET', '/v2/user/scopes', { scopes: 'profile' }, 'scopes'],
      ['POST', '/v1/user/update_profile', { properties: '{"a":' }, 'properties'],
      ['GET', '/v2/user/service_terms', { tags: '["a"' }, 'tags'],
      ['POST', '/v2/user/revoke/service_terms', { tags: '[' }, 'tags'],
    ];
    for (const [method, url, fields, name] of cases) {
      const res = await h.kapi(method, url, t.access_token, fields as Record<string, string>);
      assertApiError(res, 400, -2, name);
    }
    const admin: Array<[string, Record<string, unknown>, string]> = [
      ['/v1/user/ids', { order: 'random' }, 'order'],
      ['/v1/user/ids', { limit: 'all' }, 'limit'],
      ['/v1/user/ids', { limit: '1e3' }, 'limit'],
      ['/v1/user/ids', { from_id: '1.5' }, 'from_id'],
      ['/v2/app/users', { target_id_type: 'uuid', target_ids: '[1]' }, 'target_id_type'],
      ['/v2/app/users', { target_id_type: 'user_id', target_ids: '[1.5]' }, 'target_ids'],
    ];
    for (const [url, fields, name] of admin) {
      const res = await h.kapiKey('GET', url, app.admin_key, fields as Record<string, string>);
      assertApiError(res, 400, -2, name);
    }
    // A value outside a fixed set names the values allowed, not the schema library's words.
    assert.deepEqual((await h.kapi('GET', '/v2/user/service_terms', t.access_token, { result: 'bogus' })).json(), {
      msg: 'invalid result: must be agreed_service_terms or app_service_terms.',
      code: -2,
    });
    assert.deepEqual((await h.kapiKey('GET', '/v1/user/ids', app.admin_key, { order: 'up' })).json(), { msg: 'invalid order: must be asc or desc.', code: -2 });
    assert.deepEqual((await h.kapiKey('GET', '/v2/app/users', app.admin_key, { target_id_type: 'uuid', target_ids: '[1]' })).json(), {
      msg: 'invalid target_id_type: must be user_id.',
      code: -2,
    });
    // A boolean field's two values, not "Expected boolean."; kauth's fixed sets name theirs too.
    assert.deepEqual((await h.kapi('GET', '/v2/user/me', t.access_token, { secure_resource: 'maybe' })).json(), { msg: 'invalid secure_resource: must be true or false.', code: -2 });
    const grant = await h.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=x&client_id=${app.rest_api_key}` });
    assert.deepEqual(grant.json(), { error: 'invalid_request', error_description: 'unsupported grant_type: x (must be authorization_code or refresh_token)', error_code: 'KOE001' });
    const prompt = await h.inject({ method: 'GET', url: `/oauth/authorize?client_id=${app.rest_api_key}&redirect_uri=${encodeURIComponent(app.redirect_uris[0])}&response_type=code&prompt=bogus` });
    assert.equal(new URL(String(prompt.headers.location)).searchParams.get('error_description'), 'invalid prompt: bogus (must be one of login, none, select_account, create)');
    // The control plane (Ajv) alike: one message for the set, not one per value.
    const consent = await h.inject({ method: 'POST', url: '/_kapibara/v1/apps', payload: { name: 'x', consent_items: { profile_nickname: 'bogus' } } });
    assert.deepEqual([consent.statusCode, consent.json()], [400, { error: 'invalid body: consent_items.profile_nickname must be one of required, optional, disabled' }]);
    for (const gender of ['x', 5]) {
      const person = await h.inject({ method: 'POST', url: '/_kapibara/v1/accounts', payload: { gender } });
      assert.deepEqual([person.statusCode, person.json()], [400, { error: 'invalid body: gender must be one of female, male, null' }], String(gender));
    }
  });

  it('never a 500: malformed JSON, huge numbers, arrays for scalars, JSON bodies', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', shipping_address: 'optional' } });
    const t = await h.token(app, await h.createAccount());
    const bearer = { authorization: `Bearer ${t.access_token}` };
    const admin = { authorization: `KakaoAK ${app.admin_key}` };
    const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };
    const requests: InjectOptions[] = [
      { method: 'GET', url: '/v2/user/me?property_keys=%5B%5B%5D%5D', headers: bearer },
      { method: 'GET', url: '/v2/user/me?property_keys=%5B1%2C2%5D', headers: bearer },
      { method: 'GET', url: '/v2/user/me?property_keys=' + 'x'.repeat(20000), headers: bearer },
      { method: 'GET', url: '/v2/user/me?secure_resource=true&secure_resource=false&secure_resource=%5B%5D', headers: bearer },
      { method: 'GET', url: '/v2/user/me?target_id_type=user_id&target_id=99999999999999999999999', headers: admin },
      { method: 'GET', url: '/v2/user/me?target_id_type=user_id&target_id=-1', headers: admin },
      { method: 'GET', url: '/v2/user/me?target_id_type=user_id&target_id=1e400', headers: admin },
      { method: 'GET', url: '/v2/user/me?target_id_type=user_id&target_id[]=1', headers: admin },
      { method: 'GET', url: '/v1/user/ids?from_id=99999999999999999999999999', headers: admin },
      { method: 'GET', url: '/v1/user/ids?limit=1e3', headers: admin },
      { method: 'GET', url: '/v1/user/ids?limit=5&limit=6&order=asc&order=desc', headers: admin },
      { method: 'GET', url: '/v2/app/users?target_id_type=user_id&target_ids=%5B99999999999999999999999%5D', headers: admin },
      { method: 'GET', url: '/v2/app/users?target_id_type=user_id&target_ids=%7B%7D', headers: admin },
      { method: 'GET', url: '/v2/app/users?target_id_type=user_id&target_ids=%5B%5D', headers: admin },
      { method: 'GET', url: '/v1/user/shipping_address?from_updated_at=1e309', headers: bearer },
      { method: 'GET', url: '/v1/user/shipping_address?from_updated_at=-5&page_size=99999999999', headers: bearer },
      { method: 'GET', url: '/v1/user/shipping_address?address_id=123456789012345678901234', headers: bearer },
      { method: 'GET', url: '/v2/user/scopes?scopes=%5Bnull%5D', headers: bearer },
      { method: 'GET', url: '/v2/user/service_terms?tags=%5B', headers: bearer },
      { method: 'POST', url: '/v2/user/revoke/scopes', headers: { ...bearer, ...urlencoded }, payload: 'scopes=%7B%22a%22%3A1%7D' },
      { method: 'POST', url: '/v1/user/update_profile', headers: { ...bearer, ...urlencoded }, payload: 'properties=%5B1%5D' },
      { method: 'POST', url: '/v1/user/update_profile', headers: { ...bearer, ...urlencoded }, payload: 'properties=1e999' },
      { method: 'POST', url: '/v1/user/update_profile', headers: { ...bearer, 'content-type': 'application/json' }, payload: '{"properties": ' },
      { method: 'POST', url: '/v1/user/update_profile', headers: { ...bearer, 'content-type': 'application/json' }, payload: '[1,2,3]' },
      { method: 'POST', url: '/v1/user/signup', headers: { ...bearer, 'content-type': 'application/json' }, payload: '{"properties": [1]}' },
      { method: 'POST', url: '/v1/user/unlink', headers: { ...admin, ...urlencoded }, payload: 'target_id_type=user_id&target_id=abc' },
      { method: 'POST', url: '/v1/user/logout', headers: { ...bearer, 'content-type': 'text/xml' }, payload: '<a/>' },
      { method: 'POST', url: '/v2/user/upgrade/service_terms', headers: { ...bearer, ...urlencoded }, payload: 'tags=%5B%22a%22' },
    ];
    for (const req of requests) {
      const res = await h.inject(req);
      assert.ok(res.statusCode < 500, `${req.method} ${req.url} ${String(req.payload ?? '')} → ${res.statusCode} ${res.body}`);
      if (res.statusCode !== 200) {
        assert.equal(res.headers['content-type'], 'application/json;charset=UTF-8', `${req.url}`);
        const body = res.json();
        assert.ok(typeof body.code === 'number' && body.code < 0, `${req.url}: ${res.body}`);
        assert.equal(typeof body.msg, 'string');
      }
    }
  });

  it('a JSON body is not read where Kakao takes form fields: calls that need no parameter work, the others are answered as having none, saying so; text/plain is refused', async () => {
    const app = await storyApp(h, { consent_items: { ...STORY_CONSENTS, account_email: 'optional', talk_message: 'optional' } });
    const { person, token } = await storyUser(h, app, { email: 'json@example.com' });
    const link = await h.control('GET', `/apps/${app.id}/users/${person.id}`);
    const json = (url: string, auth: string | undefined, body: unknown, type = 'application/json') =>
      h.inject({ method: 'POST', url, headers: { ...(auth ? { authorization: auth } : {}), 'content-type': type }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
    const bearer = `Bearer ${token}`;
    const admin = `KakaoAK ${app.admin_key}`;
    const unread = '; this API reads form fields (Content-Type: application/x-www-form-urlencoded), not a JSON body.';
    const kapiCalls: [string, string, unknown, string][] = [
      ['/v2/app/users', admin, { target_id_type: 'user_id', target_ids: [link.user_id] }, 'target_id_type is required'],
      ['/v2/api/talk/memo/default/send', bearer, { template_object: { object_type: 'text', text: 'hi', link: { web_url: 'http://localhost' } } }, 'template_object is required'],
      ['/v1/api/story/post/photo', bearer, { image_url_list: [1, 2] }, 'image_url_list is required'],
      ['/v1/user/update_profile', bearer, '{"properties": ', 'properties is required'],
    ];
    for (const [url, auth, body, missing] of kapiCalls) {
      const res = await json(url, auth, body);
      assert.deepEqual([res.statusCode, res.headers['content-type'], res.json()], [400, 'application/json;charset=UTF-8', { msg: `${missing}${unread}`, code: -2 }], url);
    }
    // Read as no parameters: /v2/user/me answers in full, not only the property_keys the JSON named.
    const me = await json('/v2/user/me', bearer, { property_keys: ['kakao_account.email'] });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().kakao_account.email, 'json@example.com');
    assert.ok(me.json().properties, 'the whole answer');
    // Authentication first: a bad token is -401 whatever the body.
    const badToken = await json('/v1/user/logout', 'Bearer nope', { a: 1 });
    assert.deepEqual([badToken.statusCode, badToken.json().code], [401, -401]);
    // On kauth, the OAuth shape (an axios client exchanging a refresh token), with or without a charset.
    const tokens = await h.token(app, person);
    for (const type of ['application/json', 'application/json; charset=utf-8']) {
      const res = await json('/oauth/token', undefined, { grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: tokens.refresh_token }, type);
      assert.equal(res.statusCode, 400, type);
      assert.equal(res.json().error, 'invalid_request', type);
      assert.ok(res.json().error_description.endsWith(unread), res.body);
    }
    // Nothing was done: the refresh token still works as a form.
    const form = await h.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'refresh_token', client_id: app.rest_api_key, refresh_token: tokens.refresh_token }).toString(),
    });
    assert.equal(form.statusCode, 200, form.body);
    // A call that needs no parameter works with the `{}` axios posts, or an empty body.
    const logout = await json('/v1/user/logout', bearer, {});
    assert.deepEqual([logout.statusCode, logout.json()], [200, { id: link.user_id }]);
    const again = await storyUser(h, app);
    const emptyLogout = await json('/v1/user/logout', `Bearer ${again.token}`, '');
    assert.equal(emptyLogout.statusCode, 200, emptyLogout.body);
    // A text body is not a form: refused, naming the type, as XML or multipart are.
    const other = await storyUser(h, app);
    const text = await h.inject({ method: 'POST', url: '/v2/user/revoke/scopes', headers: { authorization: `Bearer ${other.token}`, 'content-type': 'text/plain' }, payload: 'scopes=["story_read"]' });
    assert.deepEqual([text.statusCode, text.json()], [400, { msg: 'unsupported Content-Type "text/plain": send the parameters as application/x-www-form-urlencoded.', code: -2 }]);
    // A path no route serves is a 404 in its surface's shape, whatever its body (malformed JSON was a 400).
    for (const [url, status] of [['/v1/nope', -1], ['/oauth/nope', 'KOE002'], ['/_kapibara/v1/nope', undefined]] as const) {
      const res = await json(url, undefined, '{bad');
      assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
      if (status !== undefined) assert.equal(res.json().code ?? res.json().error_code, status, url);
    }
    // A route that takes JSON (the channel customer files) asks for JSON, not a form.
    const customer = await h.inject({ method: 'POST', url: '/v1/talkchannel/create/target_user_file', headers: { authorization: `KakaoAK ${app.admin_key}`, 'content-type': 'text/plain' }, payload: '{}' });
    assert.deepEqual([customer.statusCode, customer.json()], [400, { msg: 'unsupported Content-Type "text/plain": send a JSON body (application/json).', code: -2 }]);
  });
});

describe('literal parameters', () => {
  it('every declared parameter with a fixed set of values names the set when a value is outside it', () => {
    const checked: string[] = [];
    for (const d of products.flatMap((p) => p.routes ?? [])) {
      const properties = (d.params as TObject | undefined)?.properties ?? {};
      for (const [name, schema] of Object.entries(properties)) {
        const allowed = literalsOf(schema);
        if (!allowed) continue;
        checked.push(`${d.url} ${name}`);
        const only = Type.Object({ [name]: schema });
        assert.throws(
          () => validateParams(only, { [name]: 'not-one-of-them' }),
          (err: KakaoApiError) => {
            const expected = allowed.length === 1 ? allowed[0] : allowed.length === 2 ? allowed.join(' or ') : `one of ${allowed.join(', ')}`;
            assert.deepEqual(err.body(), { msg: `invalid ${name}: must be ${expected}.`, code: -2 }, `${d.url} ${name}`);
            return true;
          },
        );
      }
    }
    // The walk found them (the two a review reported among them).
    for (const known of ['/v1/user/ids order', '/v2/user/service_terms result', '/v2/app/users target_id_type']) assert.ok(checked.includes(known), `${known} in ${checked.join('; ')}`);
  });
});

/** The values a literal or a union of literals allows (undefined for any other schema). */
function literalsOf(schema: TSchema): string[] | undefined {
  if (schema.const !== undefined) return [String(schema.const)];
  const branches = schema.anyOf as TSchema[] | undefined;
  if (!branches?.length || !branches.every((b) => b.const !== undefined)) return undefined;
  return branches.map((b) => String(b.const));
}
