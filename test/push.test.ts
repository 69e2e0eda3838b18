import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { forEachStore, type Harness, type TestApp } from './helpers/harness.js';

/**
 * Push over the wire (seed 002's Push table, products notes §3): register answers the bare
 * number of days a token lives, tokens is a JSON array, send lands in each device's inbox
 * (the control plane's stand-in for APNs and FCM), tokens expire on the platform clock and
 * oversize APNs messages are cut with "..".
 */

const JSON_TYPE = 'application/json;charset=UTF-8';
const APNS_TOKEN = 'a'.repeat(64);
const FCM_TOKEN = 'APA91bEZ3fjwrKV2mxAFvZMC960zKBWBVffLErwZgFzsFnzzsxgi5lSQlq3zvzObZBe4OnbwkTZfMqV7_a6fF0AJNgUjt5Scpo2BTaHyLVlK54QmwIQBahUwJprKjj0YvF_rh8l7CTvl6TRxqlqO_NIwaoAcI0MssA';
const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

function exact(res: LightMyRequestResponse, status: number, body: unknown): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  assert.deepEqual(res.json(), body);
}

forEachStore('Push', (h) => {
  const register = (app: TestApp, fields: Record<string, string>, version = 'v2') => h.kapiKey('POST', `/${version}/push/register`, app.admin_key, fields);
  const inbox = (app: TestApp, query = '') => h.control('GET', `/apps/${app.id}/push/inbox${query}`);
  const send = (app: TestApp, uuids: string[], message: object, version = 'v2') =>
    h.kapiKey('POST', `/${version}/push/send`, app.admin_key, { uuids: JSON.stringify(uuids), push_message: JSON.stringify(message) });

  async function threeDevices(h: Harness) {
    const app = await h.createApp({ name: 'Push app' });
    for (const [uuid, device_id, push_type, push_token] of [
      ['1234', 'iphone', 'apns', APNS_TOKEN],
      ['1234', 'pixel', 'fcm', FCM_TOKEN],
      ['5678', 'galaxy', 'fcm', `${FCM_TOKEN}x`],
    ]) {
      const res = await register(app, { uuid, device_id, push_type, push_token });
      assert.equal(res.statusCode, 200, res.body);
    }
    return app;
  }

  it('register: the bare -1 of the docs sample (Content-Length: 2); tokens: a JSON array, by uuid or uuids', async () => {
    const app = await h.createApp({ name: 'Push app' });
    const res = await register(app, { uuid: '1234', device_id: '0f365b39-c33d-39be-bdfc-74aaf5534470', push_type: 'fcm', push_token: FCM_TOKEN });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], JSON_TYPE);
    assert.equal(res.body, '-1');
    assert.equal(res.headers['content-length'], '2');
    const tokens = await h.kapiKey('GET', '/v2/push/tokens', app.admin_key, { uuid: '1234' });
    const [t] = tokens.json();
    assert.match(t.created_at, iso);
    exact(tokens, 200, [{ uuid: '1234', device_id: '0f365b39-c33d-39be-bdfc-74aaf5534470', push_type: 'fcm', push_token: FCM_TOKEN, created_at: t.created_at, updated_at: t.created_at }]);
    exact(await h.kapiKey('POST', '/v2/push/tokens', app.admin_key, { uuids: '["1234", "5678"]' }), 200, tokens.json());
    exact(await h.kapiKey('GET', '/v2/push/tokens', app.admin_key, { uuid: '5678' }), 200, []);
    // v1: gcm and the deprecated user_id.
    exact(await h.kapiKey('GET', '/v1/push/tokens', app.admin_key, { uuid: '1234' }), 200, [{ user_id: '1234', ...t, push_type: 'gcm' }]);
  });

  it('a token lifetime set for the app is the answer, and a token past it is neither listed nor delivered to', async () => {
    const app = await h.createApp({ name: 'Push app' });
    await h.control('PUT', `/apps/${app.id}/push`, { token_ttl_days: 30 });
    assert.equal((await register(app, { uuid: '1', device_id: 'old', push_type: 'apns', push_token: APNS_TOKEN })).body, '30');
    await h.advanceClock(29 * 86400);
    assert.equal((await register(app, { uuid: '1', device_id: 'new', push_type: 'apns', push_token: 'b'.repeat(64) })).body, '30');
    await h.advanceClock(86400 + 1);
    const fresh = (await h.control('GET', `/apps/${app.id}/push/tokens`)).find((d: any) => d.device_id === 'new');
    exact(await h.kapiKey('GET', '/v2/push/tokens', app.admin_key, { uuid: '1' }), 200, [
      { uuid: '1', device_id: 'new', push_type: 'apns', push_token: 'b'.repeat(64), created_at: fresh.created_at, updated_at: fresh.updated_at },
    ]);
    const res = await send(app, ['1'], { for_apns: { message: 'hello', badge: 1 } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.body, '');
    const got = await inbox(app);
    assert.deepEqual(got.map((d: any) => d.device_id), ['new']);
    const devices = await h.control('GET', `/apps/${app.id}/push/tokens`);
    assert.deepEqual(devices.map((d: any) => [d.device_id, d.expired]), [['old', true], ['new', false]]);
    // Registering again renews the lifetime.
    await register(app, { uuid: '1', device_id: 'old', push_type: 'apns', push_token: APNS_TOKEN });
    await send(app, ['1'], { for_apns: { message: 'again' } });
    assert.deepEqual((await inbox(app, '?device_id=old')).map((d: any) => d.message.message), ['again']);
    // An expired token is gone: deregistering it removes nothing (0), as for one never registered.
    await h.advanceClock(30 * 86400 + 1);
    const res2 = await h.kapiKey('POST', '/v2/push/deregister', app.admin_key, { uuid: '1', device_id: 'new', push_type: 'apns' });
    assert.deepEqual([res2.statusCode, res2.body], [200, '0']);
    assert.equal((await h.control('GET', `/apps/${app.id}/push/tokens`)).some((d: any) => d.device_id === 'new'), false);
  });

  it('a push to three devices of two users lands in three inboxes, each with its service part', async () => {
    const app = await threeDevices(h);
    const message = {
      for_apns: { badge: 3, sound: 'sound_file', push_alert: true, message: '새 댓글이 있습니다', custom_field: { article_id: '11' } },
      for_fcm: { notification: { title: '새 댓글', body: '새 댓글이 있습니다' }, custom_field: { article_id: '11' }, priority: 'high' },
    };
    const res = await send(app, ['1234', '5678'], message);
    assert.equal(res.statusCode, 200, res.body);
    const got = await inbox(app);
    assert.equal(got.length, 3);
    const byDevice = Object.fromEntries(got.map((d: any) => [d.device_id, d]));
    assert.deepEqual(Object.keys(byDevice).sort(), ['galaxy', 'iphone', 'pixel']);
    assert.deepEqual(byDevice.iphone.message, message.for_apns);
    assert.deepEqual(byDevice.iphone.notification, { body: '새 댓글이 있습니다', badge: 3, sound: 'sound_file', silent: false, custom: { article_id: '11' } });
    assert.deepEqual(byDevice.pixel.message, message.for_fcm);
    assert.deepEqual(byDevice.galaxy.notification, { title: '새 댓글', body: '새 댓글이 있습니다', silent: false, custom: { article_id: '11' } });
    assert.equal(byDevice.galaxy.uuid, '5678');
    assert.equal(byDevice.galaxy.push_token, `${FCM_TOKEN}x`);
    assert.match(byDevice.galaxy.sent_at, iso);
    // Only for_apns: FCM devices get nothing.
    await send(app, ['1234', '5678'], { for_apns: { message: 'ios only' } });
    assert.deepEqual((await inbox(app)).filter((d: any) => d.message.message === 'ios only').map((d: any) => d.device_id), ['iphone']);
    // v1 send with for_gcm reaches FCM devices.
    await send(app, ['5678'], { for_gcm: { collapse: 'articleId123', custom_field: { a: 1 } } }, 'v1');
    assert.deepEqual((await inbox(app, '?uuid=5678'))[0].message, { collapse: 'articleId123', custom_field: { a: 1 } });
  });

  it('an APNs message over 4 KB is cut and suffixed ".." to fit exactly; one that cannot be cut is refused', async () => {
    const app = await threeDevices(h);
    const long = '가'.repeat(2000); // 6000 bytes in UTF-8
    let res = await send(app, ['1234'], { for_apns: { message: long, badge: 1, topic: 'x'.repeat(3000), custom_field: { k: 'v' } }, for_fcm: { notification: { body: long } } });
    assert.equal(res.statusCode, 200, res.body);
    const got = await inbox(app);
    const apns = got.find((d: any) => d.device_id === 'iphone');
    assert.equal(apns.truncated, true);
    assert.ok(apns.message.message.endsWith('..'));
    const cut = apns.message.message.slice(0, -2);
    assert.ok(long.startsWith(cut));
    // topic is not counted; the rest fits in 4096 bytes, and one more character would not.
    const { topic: _t, ...counted } = apns.message;
    const size = (m: object) => Buffer.byteLength(JSON.stringify(m));
    assert.ok(size(counted) <= 4096, String(size(counted)));
    assert.ok(size({ ...counted, message: `${long.slice(0, cut.length + 1)}..` }) > 4096);
    // FCM has no such rule here.
    assert.equal(got.find((d: any) => d.device_id === 'pixel').message.notification.body, long);

    // {"message":{"loc-key":"K","loc-args":["x…"]}}: 43 bytes around the 5000.
    res = await send(app, ['1234'], { for_apns: { message: { 'loc-key': 'K', 'loc-args': ['x'.repeat(5000)] } } });
    exact(res, 400, { msg: 'invalid push_message.for_apns: 5043 bytes, more than the 4096 APNs allows.', code: -2 });
    // {"message":"short","custom_field":{"big":"x…"}}: 45 bytes around the 5000.
    res = await send(app, ['1234'], { for_apns: { message: 'short', custom_field: { big: 'x'.repeat(5000) } } });
    exact(res, 400, { msg: 'invalid push_message.for_apns: 5045 bytes, more than the 4096 APNs allows even with the message cut.', code: -2 });
    assert.equal((await inbox(app)).length, 2, 'refused sends deliver nothing');
  });

  it('deregister answers the bare number removed; the device gets nothing afterwards', async () => {
    const app = await threeDevices(h);
    let res = await h.kapiKey('POST', '/v2/push/deregister', app.admin_key, { uuid: '1234', device_id: 'pixel', push_type: 'fcm' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '1');
    res = await h.kapiKey('POST', '/v2/push/deregister', app.admin_key, { uuid: '1234', device_id: 'pixel', push_type: 'fcm' });
    assert.equal(res.body, '0');
    await send(app, ['1234'], { for_fcm: { notification: { body: 'hi' } } });
    assert.deepEqual(await inbox(app), []);
  });

  it('errors: -2 naming the parameter, -3 for keys other than the admin key', async () => {
    const app = await h.createApp({ name: 'Push app' });
    exact(await register(app, { device_id: 'd', push_type: 'fcm', push_token: FCM_TOKEN }), 400, { msg: 'uuid is required.', code: -2 });
    exact(await register(app, { uuid: '0', device_id: 'd', push_type: 'fcm', push_token: FCM_TOKEN }), 400, { msg: 'invalid uuid: must be an integer from 1 to 2^63-1 (got "0").', code: -2 });
    exact(await register(app, { uuid: '9223372036854775808', device_id: 'd', push_type: 'fcm', push_token: FCM_TOKEN }), 400, {
      msg: 'invalid uuid: must be an integer from 1 to 2^63-1 (got "9223372036854775808").',
      code: -2,
    });
    exact(await register(app, { uuid: '1', device_id: 'd', push_type: 'hms', push_token: FCM_TOKEN }), 400, { msg: 'invalid push_type: hms (apns or fcm).', code: -2 });
    exact(await register(app, { uuid: '1', device_id: 'd', push_type: 'apns', push_token: 'short' }), 400, {
      msg: 'invalid push_token: an APNs device token is 64 (or more) hexadecimal characters.',
      code: -2,
    });
    exact(await h.kapiKey('GET', '/v2/push/tokens', app.admin_key), 400, { msg: 'uuid or uuids is required.', code: -2 });
    const many = JSON.stringify(Array.from({ length: 101 }, (_, i) => String(i + 1)));
    exact(await h.kapiKey('GET', '/v2/push/tokens', app.admin_key, { uuids: many }), 400, { msg: 'invalid uuids: at most 100 uuids a request (got 101).', code: -2 });
    exact(await h.kapiKey('POST', '/v2/push/send', app.admin_key, { uuids: '["1"]', push_message: '{"for_apns":' }), 400, { msg: 'invalid push_message: not a valid JSON.', code: -2 });
    exact(await h.kapiKey('POST', '/v2/push/send', app.admin_key, { uuids: '["1"]', push_message: '{}' }), 400, { msg: 'invalid push_message: needs for_apns or for_fcm.', code: -2 });
    exact(await h.kapiKey('POST', '/v2/push/send', app.admin_key, { push_message: '{}' }), 400, { msg: 'uuids is required.', code: -2 });
    exact(await h.kapiKey('POST', '/v2/push/register', app.rest_api_key, { uuid: '1' }), 403, { msg: `This api is not allowed by using app_key(${app.rest_api_key}).`, code: -3 });
    exact(await h.kapiKey('POST', '/v2/push/send', 'nope', {}), 401, { msg: 'invalid app key.', code: -401 });
  });
});

forEachStore('Push: console', (h) => {
  it('the push page shows each device with its notifications as a phone would', async () => {
    const app = await h.createApp({ name: 'Push app' });
    await h.kapiKey('POST', '/v2/push/register', app.admin_key, { uuid: '1234', device_id: 'iphone', push_type: 'apns', push_token: APNS_TOKEN });
    await h.kapiKey('POST', '/v2/push/send', app.admin_key, { uuids: '["1234"]', push_message: JSON.stringify({ for_apns: { message: '주문이 도착했어요', badge: 2, custom_field: { order: '77' } } }) });
    const page = await h.inject({ method: 'GET', url: '/_kapibara/console/push' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<div class="card" data-device="iphone"><strong>uuid 1234 &middot; iphone<\/strong> <span class="pill">apns<\/span>/);
    assert.match(page.body, /Push app &middot; \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ &middot; badge 2<\/div>\n주문이 도착했어요/);
    assert.match(page.body, /<span class="pill">order: 77<\/span>/);
  });
});
