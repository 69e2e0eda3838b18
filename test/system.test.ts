import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../src/app.js';
import { forEachStore } from './helpers/harness.js';
import { freshStore } from './helpers/stores.js';

/**
 * System (seed 002's System table, products notes §7): the IP list answers Kapibara's own
 * addresses, the status API Kapibara's own health (the store reachable or not).
 */

const JSON_TYPE = 'application/json;charset=UTF-8';
const DOMAINS = ['kauth.kakao.com', 'kapi.kakao.com', 'accounts.kakao.com', 'auth.kakao.com', 'dapi.kakao.com', 'apps.kakao.com', 'talk-apps.kakao.com'];
const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

function exact(res: LightMyRequestResponse, status: number, body: unknown): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  assert.deepEqual(res.json(), body);
}

function machine(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' || !a.address.startsWith('fe80')) out.push(a.address);
  return [...new Set(out)];
}

forEachStore('System', (h) => {
  it('GET /v1/system/ips over a real socket: inbound per type from this machine, outbound per Kakao domain at the address called', async () => {
    const app = await h.createApp();
    const origin = await h.listen();
    const today = new Date().toISOString().slice(0, 10);
    for (const key of [app.rest_api_key, app.javascript_key, app.native_key, app.admin_key]) {
      const res = await fetch(`${origin}/v1/system/ips`, { headers: { authorization: `KakaoAK ${key}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), JSON_TYPE);
      assert.deepEqual(await res.json(), {
        inbound: [...machine().map((ip) => ({ type: 'callback', ip })), ...machine().map((ip) => ({ type: 'scrap', ip }))],
        outbound: DOMAINS.map((domain) => ({ domain, ip: '127.0.0.1' })),
        updatedDate: today,
      });
    }
    const outbound = await fetch(`${origin}/v1/system/ips?rule_type=outbound`, { headers: { authorization: `KakaoAK ${app.rest_api_key}` } });
    assert.deepEqual(await outbound.json(), { outbound: DOMAINS.map((domain) => ({ domain, ip: '127.0.0.1' })), updatedDate: today });
    const inbound = await h.kapiKey('GET', '/v1/system/ips', app.rest_api_key, { rule_type: 'inbound' });
    assert.deepEqual(Object.keys(inbound.json()).sort(), ['inbound', 'updatedDate']);
  });

  it('GET /v1/system/ips errors: -2 for another rule_type, -401 without a valid key', async () => {
    const app = await h.createApp();
    exact(await h.kapiKey('GET', '/v1/system/ips', app.rest_api_key, { rule_type: 'both' }), 400, { msg: 'invalid rule_type: both (inbound or outbound).', code: -2 });
    exact(await h.kapiKey('GET', '/v1/system/ips', 'nope'), 401, { msg: 'invalid app key.', code: -401 });
    const res = await h.inject({ method: 'GET', url: '/v1/system/ips' });
    exact(res, 401, { msg: 'invalid authorization: this api needs "Authorization: KakaoAK ${APP_KEY}".', code: -401 });
  });

  it('api-status: NORMAL while the store answers', async () => {
    const res = await h.inject({ method: 'GET', url: '/api/health/current' });
    const body = res.json();
    assert.match(body.checked_at, iso);
    exact(res, 200, {
      status: 'NORMAL',
      description: 'All Kakao APIs are operating normally.',
      checked_at: body.checked_at,
      services: DOMAINS.map((name) => ({ name, status: 'NORMAL' })),
    });
    const history = await h.inject({ method: 'GET', url: '/api/health/history' });
    assert.equal(history.statusCode, 200);
    assert.deepEqual(history.json().incidents, []);
    assert.equal(history.json().status, 'NORMAL');
    assert.match(history.json().since, iso);
  });

  it('api-status: OUTAGE once the store is unreachable, recorded in the history', async () => {
    const store = await freshStore(h.kind);
    const app = await buildApp({ store });
    await app.ready();
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/api/health/current' })).json().status, 'NORMAL');
      await store.db.destroy();
      const res = await app.inject({ method: 'GET', url: '/api/health/current' });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.status, 'OUTAGE');
      assert.match(body.description, /^The store is unreachable: /);
      assert.deepEqual(body.services, DOMAINS.map((name) => ({ name, status: 'OUTAGE' })));
      const history = (await app.inject({ method: 'GET', url: '/api/health/history' })).json();
      assert.equal(history.status, 'OUTAGE');
      assert.equal(history.incidents.length, 1);
      assert.deepEqual(Object.keys(history.incidents[0]), ['status', 'description', 'started_at']);
      assert.equal(history.incidents[0].status, 'OUTAGE');
    } finally {
      await app.close();
      await store.close().catch(() => undefined);
    }
  });
});
