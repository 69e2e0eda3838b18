import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { assertApiError, forEachStore } from './helpers/harness.js';

forEachStore('User API: tokens, link, properties, admin lists', (h) => {
  it('access_token_info counts down by the platform clock; expired and unknown tokens are -401', async () => {
    const app = await h.createApp();
    const person = await h.createAccount();
    const t = await h.token(app, person);
    let res = await h.kapi('GET', '/v1/user/access_token_info', t.access_token);
    assert.equal(res.statusCode, 200);
    const info = res.json();
    assert.deepEqual(Object.keys(info), ['id', 'expires_in', 'app_id']);
    assert.equal(info.id, t.user_id);
    assert.equal(info.app_id, app.id);
    // The real clock runs during the test: allow the second it may have ticked.
    assert.ok(info.expires_in === 21599 || info.expires_in === 21598, String(info.expires_in));
    await h.advanceClock(3600);
    res = await h.kapi('GET', '/v1/user/access_token_info', t.access_token);
    assert.ok([17999, 17998].includes(res.json().expires_in), res.body);
    await h.advanceClock(21600 - 3600);
    res = await h.kapi('GET', '/v1/user/access_token_info', t.access_token);
    assertApiError(res, 401, -401, 'this access token is already expired');
    assert.equal(res.headers['www-authenticate'], 'Bearer error=invalid_token');
    res = await h.kapi('GET', '/v2/user/me', t.access_token);
    assertApiError(res, 401, -401, 'this access token is already expired');
    res = await h.kapi('GET', '/v1/user/access_token_info', 'no-such-token');
    assertApiError(res, 401, -401, 'this access token does not exist');
    assert.equal(res.json().msg, 'this access token does not exist');
  });

  it('stores tokens hashed: the exported state never holds a raw token', async () => {
    const app = await h.createApp();
    const t = await h.token(app, await h.createAccount());
    const state = JSON.stringify(await h.control('GET', '/state'));
    assert.ok(!state.includes(t.access_token));
    assert.ok(!state.includes(t.refresh_token));
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).statusCode, 200);
  });

  it('logout expires every token of the app for the person, but keeps the link', async () => {
    const app = await h.createApp();
    const other = await h.createApp();
    const person = await h.createAccount();
    const t1 = await h.token(app, person);
    const t2 = await h.token(app, person);
    const elsewhere = await h.token(other, person);
    const res = await h.kapi('POST', '/v1/user/logout', t1.access_token);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { id: t1.user_id });
    for (const t of [t1, t2]) assertApiError(await h.kapi('GET', '/v2/user/me', t.access_token), 401, -401);
    assert.equal((await h.kapi('GET', '/v2/user/me', elsewhere.access_token)).statusCode, 200);
    assert.ok(await h.control('GET', `/apps/${app.id}/users/${person.id}`));
    // Admin form
    const t3 = await h.token(app, person);
    const admin = await h.kapiKey('POST', '/v1/user/logout', app.admin_key, { target_id_type: 'user_id', target_id: t3.user_id });
    assert.deepEqual(admin.json(), { id: t3.user_id });
    assertApiError(await h.kapi('GET', '/v2/user/me', t3.access_token), 401, -401);
  });

  it('unlink removes the link, properties, consents and tokens; a new login gets a new id', async () => {
    const app = await h.createApp({ user_property_keys: ['tier'] });
    const person = await h.createAccount();
    const t = await h.token(app, person);
    await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: 'gold' } });
    const res = await h.kapi('POST', '/v1/user/unlink', t.access_token);
    assert.deepEqual(res.json(), { id: t.user_id });
    assertApiError(await h.kapi('GET', '/v2/user/me', t.access_token), 401, -401);
    const gone = await h.inject({ method: 'GET', url: `/_kapibara/v1/apps/${app.id}/users/${person.id}` });
    assert.equal(gone.statusCode, 404);
    assertApiError(
      await h.kapiKey('GET', '/v2/user/me', app.admin_key, { target_id_type: 'user_id', target_id: t.user_id }),
      400,
      -101,
    );
    const again = await h.token(app, person, ['profile_nickname']);
    const me = (await h.kapi('GET', '/v2/user/me', again.access_token)).json();
    assert.equal(me.properties.tier, undefined);
    assert.equal(me.kakao_account.profile_image_needs_agreement, true);
    // Admin form
    const admin = await h.kapiKey('POST', '/v1/user/unlink', app.admin_key, { target_id_type: 'user_id', target_id: again.user_id });
    assert.deepEqual(admin.json(), { id: again.user_id });
    assertApiError(
      await h.kapiKey('POST', '/v1/user/unlink', app.admin_key, { target_id_type: 'user_id', target_id: again.user_id }),
      400,
      -101,
    );
  });

  it('update_profile stores the app\'s properties; unknown keys are -201', async () => {
    const app = await h.createApp({ user_property_keys: ['tier', 'level'] });
    const person = await h.createAccount({ nickname: 'Muzi' });
    const t = await h.token(app, person);
    let res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: 'gold', level: 3, nickname: 'Muzi in app' } });
    assert.deepEqual(res.json(), { id: t.user_id });
    let me = (await h.kapi('GET', '/v2/user/me', t.access_token)).json();
    assert.deepEqual(me.properties, { nickname: 'Muzi in app', tier: 'gold', level: '3' });
    assert.equal(me.kakao_account.profile.nickname, 'Muzi', 'the Kakao profile is unchanged');
    // null removes a property; properties never hold null
    await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { level: null } });
    me = (await h.kapi('GET', '/v2/user/me', t.access_token)).json();
    assert.deepEqual(me.properties, { nickname: 'Muzi in app', tier: 'gold' });
    res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { shoe: '270' } });
    assertApiError(res, 400, -201, 'shoe');
    res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, {});
    assertApiError(res, 400, -2, 'properties');
    res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: '["tier"]' });
    assertApiError(res, 400, -2, 'properties');
    res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: { nested: true } } });
    assertApiError(res, 400, -2, 'properties.tier');
    // A value is at most 1,024 characters, as a state import (and the control plane) holds it.
    res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: 'x'.repeat(1025) } });
    assertApiError(res, 400, -2, 'invalid properties.tier: a property value may be at most 1024 characters.');
    res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: { tier: '\u{1F600}'.repeat(1024) } });
    assert.equal(res.statusCode, 200, res.body);
    // A number JSON cannot carry exactly (beyond 2^53, or past the largest double) is -2, not stored wrong.
    const manual = await h.createApp({ user_property_keys: ['level'], manual_signup: true });
    const newcomer = await h.token(manual, await h.createAccount());
    for (const text of ['{"level":12345678901234567890}', '{"level":1e400}', '{"level":-1e400}']) {
      res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: text });
      assertApiError(res, 400, -2, 'properties.level');
      res = await h.kapi('POST', '/v1/user/signup', newcomer.access_token, { properties: text });
      assertApiError(res, 400, -2, 'properties.level');
    }
    res = await h.kapi('POST', '/v1/user/update_profile', t.access_token, { properties: '{"level":2.5}' });
    assert.equal(res.statusCode, 200);
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).json().properties.level, '2.5');
    // Admin form
    res = await h.kapiKey('POST', '/v1/user/update_profile', app.admin_key, {
      target_id_type: 'user_id',
      target_id: t.user_id,
      properties: { tier: 'silver' },
    });
    assert.deepEqual(res.json(), { id: t.user_id });
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).json().properties.tier, 'silver');
  });

  it('manual signup: has_signed_up flips once; a second signup is -102', async () => {
    const app = await h.createApp({ manual_signup: true, user_property_keys: ['source'] });
    const person = await h.createAccount();
    const t = await h.token(app, person);
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).json().has_signed_up, false);
    let res = await h.kapi('POST', '/v1/user/signup', t.access_token, { properties: 'null' });
    assert.deepEqual(res.json(), { id: t.user_id });
    const me = (await h.kapi('GET', '/v2/user/me', t.access_token)).json();
    assert.equal(me.has_signed_up, true);
    res = await h.kapi('POST', '/v1/user/signup', t.access_token, { properties: { source: 'ad' } });
    assertApiError(res, 400, -102);
    // With properties, checked like update_profile
    const other = await h.createAccount();
    const t2 = await h.token(app, other);
    assertApiError(await h.kapi('POST', '/v1/user/signup', t2.access_token, { properties: { nope: 'x' } }), 400, -201);
    res = await h.kapi('POST', '/v1/user/signup', t2.access_token, { properties: { source: 'ad' } });
    assert.equal(res.statusCode, 200);
    assert.equal((await h.kapi('GET', '/v2/user/me', t2.access_token)).json().properties.source, 'ad');
    // Apps with automatic signup: everyone is signed up already
    const auto = await h.createApp();
    const t3 = await h.token(auto, other);
    assertApiError(await h.kapi('POST', '/v1/user/signup', t3.access_token), 400, -102);
    assert.equal((await h.kapi('GET', '/v2/user/me', t3.access_token)).json().has_signed_up, undefined);
  });

  it('/v2/app/users returns me-shaped objects for the listed ids of the app only', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', account_email: 'optional' } });
    const other = await h.createApp();
    const a = await h.createAccount({ nickname: 'A', email: 'a@example.com' });
    const b = await h.createAccount({ nickname: 'B', email: 'b@example.com' });
    const ta = await h.token(app, a);
    const tb = await h.token(app, b, ['profile_nickname']);
    const foreign = await h.token(other, a);
    const res = await h.kapiKey('GET', '/v2/app/users', app.admin_key, {
      target_id_type: 'user_id',
      target_ids: [tb.user_id, ta.user_id, foreign.user_id, 42],
    });
    assert.equal(res.statusCode, 200);
    const users = res.json();
    assert.deepEqual(users.map((u: { id: number }) => u.id), [tb.user_id, ta.user_id]);
    assert.deepEqual(users[0], (await h.kapi('GET', '/v2/user/me', tb.access_token)).json());
    assert.equal(users[1].kakao_account.email, 'a@example.com');
    assert.equal(users[0].kakao_account.email_needs_agreement, true);
    const filtered = await h.kapiKey('POST', '/v2/app/users', app.admin_key, {
      target_id_type: 'user_id',
      target_ids: [ta.user_id],
      property_keys: ['kakao_account.email'],
    });
    assert.deepEqual(filtered.json(), [
      {
        id: ta.user_id,
        connected_at: users[1].connected_at,
        kakao_account: { email_needs_agreement: false, is_email_valid: true, is_email_verified: true, email: 'a@example.com' },
      },
    ]);
    assertApiError(await h.kapiKey('GET', '/v2/app/users', app.admin_key, { target_id_type: 'user_id' }), 400, -2, 'target_ids');
    const tooMany = Array.from({ length: 101 }, (_, i) => i + 1);
    assertApiError(
      await h.kapiKey('GET', '/v2/app/users', app.admin_key, { target_id_type: 'user_id', target_ids: tooMany }),
      400,
      -2,
      'target_ids',
    );
    assertApiError(
      await h.kapiKey('GET', '/v2/app/users', app.rest_api_key, { target_id_type: 'user_id', target_ids: [ta.user_id] }),
      403,
      -3,
    );
  });

  it('/v1/user/ids pages asc and desc by user id with absolute before/after URLs', async () => {
    const app = await h.createApp();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await h.token(app, await h.createAccount())).user_id);
    await h.token(await h.createApp(), await h.createAccount()); // another app's user is not counted
    ids.sort((x, y) => x - y);
    const origin = await h.listen();
    const get = async (url: string) => {
      const res = await fetch(url, { headers: { authorization: `KakaoAK ${app.admin_key}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json;charset=UTF-8');
      return res.json() as Promise<{ elements: number[]; total_count: number; before_url: string | null; after_url: string | null }>;
    };
    const all = await get(`${origin}/v1/user/ids`);
    assert.deepEqual(all, { elements: ids, total_count: 5, before_url: null, after_url: null });

    const p1 = await get(`${origin}/v1/user/ids?limit=2`);
    assert.deepEqual(p1.elements, ids.slice(0, 2));
    assert.equal(p1.total_count, 5);
    assert.equal(p1.before_url, null);
    assert.equal(p1.after_url, `${origin}/v1/user/ids?limit=2&order=asc&from_id=${ids[1]}&app_key=${app.admin_key}`);
    const p2 = await get(p1.after_url!);
    assert.deepEqual(p2.elements, ids.slice(2, 4));
    assert.equal(p2.before_url, `${origin}/v1/user/ids?limit=2&order=desc&from_id=${ids[2]}&app_key=${app.admin_key}`);
    const p3 = await get(p2.after_url!);
    assert.deepEqual(p3.elements, ids.slice(4));
    assert.equal(p3.after_url, null);
    const back = await get(p2.before_url!);
    assert.deepEqual(back.elements, [ids[1], ids[0]]);
    assert.equal(back.after_url, null);

    const d1 = await get(`${origin}/v1/user/ids?limit=3&order=desc`);
    assert.deepEqual(d1.elements, [ids[4], ids[3], ids[2]]);
    assert.equal(d1.before_url, null);
    assert.equal(d1.after_url, `${origin}/v1/user/ids?limit=3&order=desc&from_id=${ids[2]}&app_key=${app.admin_key}`);
    const d2 = await get(d1.after_url!);
    assert.deepEqual(d2.elements, [ids[1], ids[0]]);
    assert.equal(d2.after_url, null);
    assert.equal(d2.before_url, `${origin}/v1/user/ids?limit=3&order=asc&from_id=${ids[1]}&app_key=${app.admin_key}`);

    assertApiError(await h.kapiKey('GET', '/v1/user/ids', app.admin_key, { limit: 101 }), 400, -2, 'limit');
    assertApiError(await h.kapiKey('GET', '/v1/user/ids', app.admin_key, { limit: 0 }), 400, -2, 'limit');
    assertApiError(await h.kapiKey('GET', '/v1/user/ids', app.admin_key, { order: 'sideways' }), 400, -2, 'order');
    assertApiError(await h.kapiKey('GET', '/v1/user/ids', app.admin_key, { from_id: 'abc' }), 400, -2, 'from_id');
  });
});
