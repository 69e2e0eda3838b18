import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { forEachStore } from './helpers/harness.js';

/** Every method+path the router holds, read back from Fastify's own route tree. */
function registeredRoutes(tree: string): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?) \(([A-Z, ]+)\)$/.exec(line) ?? /^((?:│ {3}| {4})*)(?:├── |└── )(.*)$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2];
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) out.add(`${method} ${path}`);
  }
  return out;
}

forEachStore('OpenAPI description', (h) => {
  it('is a valid OpenAPI 3.1 document, per a real validator', async () => {
    const res = await h.inject({ method: 'GET', url: '/_kapibara/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const doc = res.json();
    assert.equal(doc.openapi, '3.1.0');
    const result = await new Validator().validate(doc);
    assert.deepEqual(result, { valid: true });
  });

  it('lists exactly the routes the server registers (HEAD mirrors and the CORS preflight aside)', async () => {
    const doc = (await h.inject({ method: 'GET', url: '/_kapibara/openapi.json' })).json();
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      // The router ignores a trailing slash (routerOptions.ignoreTrailingSlash): `/cors/` is its `/cors`.
      const routed = path.replace(/\{([^}]+)\}/g, ':$1').replace(/(.)\/$/, '$1');
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${routed}`);
    }
    const all = registeredRoutes(h.app.printRoutes({ commonPrefix: false }));
    const derived = [...all].filter((r) => r.startsWith('HEAD ') || (r.startsWith('OPTIONS ') && r.includes('*')));
    const served = new Set([...all].filter((r) => !derived.includes(r)));
    // Each HEAD route mirrors a GET; the one OPTIONS route is the CORS catch-all.
    for (const head of derived.filter((r) => r.startsWith('HEAD '))) assert.ok(served.has(head.replace('HEAD', 'GET')), head);
    assert.deepEqual(derived.filter((r) => r.startsWith('OPTIONS ')), ['OPTIONS *']);
    assert.ok(served.size > 60, `only ${served.size} routes read from the router`);
    assert.deepEqual([...documented].sort(), [...served].sort());
  });

  it('carries the route declarations: auth, api_type, scopes, parameters, and each surface’s error shape', async () => {
    const doc = (await h.inject({ method: 'GET', url: '/_kapibara/openapi.json' })).json();
    const friends = doc.paths['/v1/api/talk/friends'].get;
    assert.deepEqual(friends.tags, ['kapi']);
    assert.equal(friends['x-kakao-api-type'], 'FRIENDS');
    assert.deepEqual(friends['x-kakao-scopes'], ['friends']);
    assert.deepEqual(friends.security, [{ accessToken: [] }]);
    const limit = friends.parameters.find((p: { name: string }) => p.name === 'limit');
    assert.deepEqual(limit, { name: 'limit', in: 'query', required: false, schema: { type: 'integer' } });
    assert.deepEqual(friends.responses['4XX'].content['application/json'].schema, { $ref: '#/components/schemas/KapiError' });
    const token = doc.paths['/oauth/token'].post;
    assert.deepEqual(token.tags, ['kauth']);
    assert.deepEqual(token.responses['4XX'].content['application/json'].schema, { $ref: '#/components/schemas/KauthError' });
    assert.ok(token.responses['200'].content['application/json'].schema.properties.access_token);
    // Kakao takes form fields, except the customer-file APIs, which take a JSON document.
    assert.deepEqual(Object.keys(doc.paths['/v1/user/update_profile'].post.requestBody.content), ['application/x-www-form-urlencoded']);
    assert.deepEqual(Object.keys(doc.paths['/v1/talkchannel/update/target_users'].post.requestBody.content), ['application/json']);
    const apps = doc.paths['/_kapibara/v1/apps/{app_id}'].patch;
    assert.deepEqual(apps.tags, ['control']);
    assert.deepEqual(apps.parameters, [{ name: 'app_id', in: 'path', required: true, schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } }]);
    assert.equal(apps.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.deepEqual(apps.responses['4XX'].content['application/json'].schema, { $ref: '#/components/schemas/ControlError' });
    assert.deepEqual(doc.components.schemas.KauthError.required, ['error', 'error_description']);
    assert.deepEqual(doc.components.schemas.KapiError.required, ['code', 'msg']);
    assert.deepEqual(doc.components.schemas.ControlError.required, ['error']);
    const authorize = doc.paths['/oauth/authorize'].get;
    assert.deepEqual(authorize.tags, ['page']);
    assert.ok(authorize.responses['200'].content['text/html']);
  });

  it('documents the success status each control route answers with: 201 for a create, 204 with no body for a delete', async () => {
    const doc = (await h.inject({ method: 'GET', url: '/_kapibara/openapi.json' })).json();
    const person = await h.createAccount();
    const friend = await h.createAccount();
    const calls: { method: 'POST' | 'DELETE' | 'GET' | 'PATCH'; url: string; path: string; payload?: object }[] = [
      { method: 'POST', url: '/_kapibara/v1/apps', path: '/_kapibara/v1/apps', payload: { id: 77, web_domains: ['http://localhost:3000'] } },
      { method: 'PATCH', url: '/_kapibara/v1/apps/77', path: '/_kapibara/v1/apps/{app_id}', payload: { name: 'Renamed' } },
      { method: 'POST', url: '/_kapibara/v1/apps/77/templates', path: '/_kapibara/v1/apps/{app_id}/templates', payload: { id: 5, template: { object_type: 'text', text: 'hi', link: { web_url: 'http://localhost:3000/' } } } },
      { method: 'POST', url: '/_kapibara/v1/friendships', path: '/_kapibara/v1/friendships', payload: { account_id: person.id, friend_account_id: friend.id } },
      { method: 'DELETE', url: '/_kapibara/v1/friendships', path: '/_kapibara/v1/friendships', payload: { account_id: person.id, friend_account_id: friend.id } },
      { method: 'DELETE', url: '/_kapibara/v1/apps/77/templates/5', path: '/_kapibara/v1/apps/{app_id}/templates/{template_id}' },
      { method: 'DELETE', url: '/_kapibara/v1/apps/77', path: '/_kapibara/v1/apps/{app_id}' },
      { method: 'GET', url: '/_kapibara/v1/apps', path: '/_kapibara/v1/apps' },
    ];
    for (const call of calls) {
      const res = await h.inject({ method: call.method, url: call.url, headers: { 'x-kapibara-control': '1' }, payload: call.payload });
      const where = `${call.method} ${call.url}`;
      const responses = doc.paths[call.path][call.method.toLowerCase()].responses;
      assert.deepEqual(Object.keys(responses).filter((status) => status.startsWith('2')), [String(res.statusCode)], `${where}: ${res.body}`);
      if (res.statusCode === 204) {
        assert.equal(res.body, '', where);
        assert.equal(responses['204'].content, undefined, `${where}: documented with a body`);
      } else assert.ok(responses[String(res.statusCode)].content['application/json'], where);
    }
    assert.doesNotMatch(doc.info.description, /every path answers CORS preflights/);
  });
});
