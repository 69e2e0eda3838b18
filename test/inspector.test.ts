import { it } from './helpers/node-test.js';
import assert from 'node:assert/strict';
import { forEachStore, form } from './helpers/harness.js';
import { buildApp } from '../src/app.js';
import { requestLog } from '../src/core/inspector.js';

forEachStore('request inspector', (h) => {
  it('records an app’s calls, read back filtered: /v2/user/me once, with the scopes the person had', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required', account_email: 'optional', friends: 'optional' } });
    const other = await h.createApp();
    const ryan = await h.createAccount({ nickname: 'Ryan' });
    const t = await h.token(app, ryan, ['profile_nickname']);
    const o = await h.token(other, ryan, []);
    assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).statusCode, 200);
    assert.equal((await h.kapi('GET', '/v2/user/me', o.access_token)).statusCode, 200);
    assert.equal((await h.kapi('GET', '/v1/api/talk/friends', t.access_token)).statusCode, 403);

    const list = await h.control('GET', `/requests?app=${app.id}&path=/v2/user/me`);
    assert.equal(list.requests.length, 1);
    const [me] = list.requests;
    assert.match(me.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof me.duration_ms, 'number');
    assert.deepEqual({ ...me, id: 0, time: '', duration_ms: 0 }, {
      id: 0,
      time: '',
      method: 'GET',
      path: '/v2/user/me',
      query: {},
      surface: 'kapi',
      app_id: app.id,
      account_id: ryan.id,
      user_id: t.user_id,
      api_type: null,
      scopes: ['profile_nickname'],
      auth: 'Bearer',
      client_id: null,
      status: 200,
      error_code: null,
      duration_ms: 0,
    });

    const refused = await h.control('GET', `/requests?app=${app.id}&status=4xx`);
    assert.deepEqual(
      refused.requests.map((r: Record<string, unknown>) => [r.path, r.status, r.error_code, r.api_type]),
      [['/v1/api/talk/friends', 403, -402, 'FRIENDS']],
    );
    // Control-plane calls are Kapibara's own, and a browser's own favicon request is no app's: never recorded.
    await h.inject({ method: 'GET', url: '/favicon.ico' });
    const all = await h.control('GET', '/requests');
    assert.deepEqual(all.requests.map((r: { path: string }) => r.path), ['/v2/user/me', '/v2/user/me', '/v1/api/talk/friends']);
    assert.equal(all.capacity, 1000);
    assert.equal(all.recorded, 3);
  });

  it('records requests answered before routing or by no route once each: a refused Host, preflights, a 404', async () => {
    await h.inject({ method: 'GET', url: '/v2/user/me', headers: { host: 'rebind.attacker.invalid' } });
    await h.inject({ method: 'OPTIONS', url: '/v2/user/me', headers: { origin: 'http://a.test', 'access-control-request-method': 'GET' } });
    await h.inject({ method: 'OPTIONS', url: '/v2/user/me' });
    await h.inject({ method: 'HEAD', url: '/nowhere?x=1' });
    const all = await h.control('GET', '/requests');
    assert.deepEqual(
      all.requests.map((r: Record<string, unknown>) => [r.method, r.path, r.status, r.error_code, r.surface]),
      [
        ['GET', '/v2/user/me', 421, null, 'kapi'],
        ['OPTIONS', '/v2/user/me', 204, null, 'kapi'],
        ['OPTIONS', '/v2/user/me', 400, null, 'kapi'],
        ['HEAD', '/nowhere', 404, -1, 'kapi'],
      ],
    );
    assert.deepEqual(all.requests[3].query, { x: '1' });
    for (const r of all.requests) assert.ok(r.duration_ms >= 0 && r.duration_ms < 10_000, JSON.stringify(r));
    assert.equal(all.recorded, 4);
  });

  it('does not record the control plane or the console however their path is spelled', async () => {
    for (const url of ['/%5Fkapibara/v1/apps', '/%5fkapibara/console', '/%5Fkapibara/console/requests.json', '/_kapibara/%761/apps', '/%5Fkapibara/v1/nowhere']) {
      const res = await h.inject({ method: 'GET', url });
      assert.ok(res.statusCode < 500, `${url}: ${res.statusCode}`);
    }
    await h.inject({ method: 'GET', url: '/v2/user/%6De' });
    const { requests } = await h.control('GET', '/requests');
    assert.deepEqual(requests.map((r: { path: string; surface: string }) => [r.path, r.surface]), [['/v2/user/%6De', 'kapi']]);
  });

  it('records kept answers with their caller too (the second /v2/user/me is served from memory on SQLite)', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required' } });
    const ryan = await h.createAccount({ nickname: 'Ryan' });
    const t = await h.token(app, ryan);
    for (let i = 0; i < 3; i++) assert.equal((await h.kapi('GET', '/v2/user/me', t.access_token)).statusCode, 200);
    const list = await h.control('GET', `/requests?app=${app.id}&path=/v2/user/me&status=200`);
    assert.deepEqual(list.requests.map((r: Record<string, unknown>) => [r.account_id, r.scopes]), [
      [ryan.id, ['profile_nickname']],
      [ryan.id, ['profile_nickname']],
      [ryan.id, ['profile_nickname']],
    ]);
  });

  it('redacts tokens, codes and secrets, and names the app of a kauth call by its client_id', async () => {
    const app = await h.createApp({ client_secret: 'shh' });
    const ryan = await h.createAccount();
    const t = await h.token(app, ryan);
    await h.inject({ method: 'GET', url: `/v1/user/access_token_info?access_token=${t.access_token}&x=1` });
    const res = await h.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ grant_type: 'refresh_token', client_id: app.rest_api_key, client_secret: 'wrong', refresh_token: t.refresh_token }),
    });
    assert.equal(res.statusCode, 401, res.body);
    const { requests } = await h.control('GET', '/requests');
    assert.deepEqual(requests[0].query, { access_token: '[redacted]', x: '1' });
    assert.equal(requests[0].app_id, app.id);
    const token = requests[1];
    assert.deepEqual([token.path, token.surface, token.app_id, token.client_id, token.status, token.error_code, token.body], [
      '/oauth/token', 'kauth', app.id, app.rest_api_key, 401, 'KOE010', undefined,
    ]);
    assert.ok(!JSON.stringify(requests).includes(t.access_token));
    assert.ok(!JSON.stringify(requests).includes(t.refresh_token));
  });

  it('records the Authorization header as a known scheme only, never a credential sent without one', async () => {
    const app = await h.createApp({ client_secret: 'shh' });
    const ryan = await h.createAccount();
    const t = await h.token(app, ryan);
    const basic = Buffer.from(`${app.rest_api_key}:shh`).toString('base64');
    const sent: [string, string, string][] = [
      ['/v2/user/me', t.access_token, '(unrecognised)'], // a client that forgot "Bearer "
      ['/v2/user/me', `Bearer\t${t.access_token}`, '(unrecognised)'], // a TAB is no separator
      ['/v2/user/me', `${t.access_token} Bearer`, '(unrecognised)'],
      ['/v2/user/me', `bearer ${t.access_token}`, 'Bearer'], // the scheme is case-insensitive
      ['/v2/user/me', 'Bearer', 'Bearer'],
      ['/v2/user/me', `KAKAOAK ${app.admin_key}`, 'KakaoAK'],
      ['/oauth/token', basic, '(unrecognised)'], // client_id:client_secret with no scheme
      ['/oauth/token', `Basic ${basic}`, 'Basic'],
    ];
    for (const [url, authorization] of sent) {
      await h.inject({ method: url === '/oauth/token' ? 'POST' : 'GET', url, headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, payload: url === '/oauth/token' ? 'grant_type=client_credentials' : undefined });
    }
    const { requests } = await h.control('GET', '/requests');
    assert.deepEqual(requests.map((r: { path: string; auth: string }) => [r.path, r.auth]), sent.map(([url, , scheme]) => [url, scheme]));
    const page = await h.inject({ method: 'GET', url: '/_kapibara/console/requests.json' });
    for (const secret of [t.access_token, basic, app.admin_key]) {
      assert.ok(!JSON.stringify(requests).includes(secret), secret);
      assert.ok(!page.body.includes(secret), secret);
    }
  });

  it('records the app (and person) a refused call\'s credential named, so ?app= finds its failed calls too', async () => {
    const app = await h.createApp({ consent_items: { profile_nickname: 'required' } });
    const ryan = await h.createAccount();
    const t = await h.token(app, ryan);
    const unlinked = await h.kapiKey('POST', '/v1/user/unlink', app.admin_key, { target_id_type: 'user_id', target_id: 424242 });
    assert.equal(unlinked.json().code, -101, unlinked.body);
    const restOnAdmin = await h.kapiKey('POST', '/v2/push/send', app.rest_api_key, { uuids: ['1'] });
    assert.equal(restOnAdmin.json().code, -3, restOnAdmin.body);
    const keyForToken = await h.kapiKey('GET', '/v1/api/talk/friends', app.rest_api_key);
    assert.equal(keyForToken.json().code, -3, keyForToken.body);
    const badTarget = await h.kapiKey('POST', '/v1/user/logout', app.admin_key, { target_id_type: 'user_id', target_id: 'x' });
    assert.equal(badTarget.json().code, -2, badTarget.body);
    await h.advanceClock(7 * 24 * 3600);
    const expired = await h.kapi('GET', '/v2/user/me', t.access_token);
    assert.equal(expired.json().code, -401, expired.body);
    const unknown = await h.kapiKey('POST', '/v2/push/send', 'no-such-key', { uuids: ['1'] });
    assert.equal(unknown.json().code, -401, unknown.body);

    const mine = await h.control('GET', `/requests?app=${app.id}`);
    assert.deepEqual(
      mine.requests.map((r: Record<string, unknown>) => [r.path, r.error_code, r.account_id, r.user_id]),
      [
        ['/v1/user/unlink', -101, null, null],
        ['/v2/push/send', -3, null, null],
        ['/v1/api/talk/friends', -3, null, null],
        ['/v1/user/logout', -2, null, null],
        ['/v2/user/me', -401, ryan.id, t.user_id],
      ],
    );
    const all = await h.control('GET', '/requests');
    assert.deepEqual(all.requests.at(-1).app_id, null, 'a key no app has names no app');
  });

  it('records bodies only when asked, sensitive fields still redacted', async () => {
    const app = await h.createApp();
    const ryan = await h.createAccount();
    const t = await h.token(app, ryan);
    const recording = await buildApp({ store: h.store, inspector: { bodies: true } });
    try {
      requestLog(h.store).clear();
      await recording.inject({
        method: 'POST',
        url: '/v1/user/update_profile',
        headers: { authorization: `Bearer ${t.access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ properties: { color: 'red' }, access_token: t.access_token }),
      });
      const [r] = requestLog(h.store).all();
      assert.deepEqual(r.body, { properties: '{"color":"red"}', access_token: '[redacted]' });
    } finally {
      await recording.close();
    }
  });

  it('filters by method, status, path prefix, person and id; forgets on DELETE and on reset', async () => {
    const app = await h.createApp();
    const ryan = await h.createAccount();
    const t = await h.token(app, ryan);
    await h.kapi('GET', '/v2/user/me', t.access_token);
    await h.kapi('POST', '/v1/user/logout', t.access_token);
    await h.kapi('GET', '/v2/user/me', t.access_token);
    const byPrefix = await h.control('GET', '/requests?path=/v1/user/*&method=post');
    assert.deepEqual(byPrefix.requests.map((r: { path: string }) => r.path), ['/v1/user/logout']);
    const after = await h.control('GET', `/requests?after=${byPrefix.requests[0].id}`);
    assert.deepEqual(after.requests.map((r: { status: number; error_code: number }) => [r.status, r.error_code]), [[401, -401]]);
    assert.equal((await h.control('GET', `/requests?account=${ryan.id}`)).requests.length, 2);
    assert.equal((await h.control('GET', '/requests?status=401')).requests.length, 1);
    assert.equal((await h.control('GET', '/requests?limit=1')).requests[0].id, after.requests[0].id);
    const bad = await h.inject({ method: 'GET', url: '/_kapibara/v1/requests?status=abc' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /status/);
    assert.equal((await h.inject({ method: 'DELETE', url: '/_kapibara/v1/requests', headers: { 'x-kapibara-control': '1' } })).statusCode, 204);
    assert.deepEqual((await h.control('GET', '/requests')).requests, []);
    await h.kapi('GET', '/v2/user/me', 'nope');
    await h.reset();
    assert.equal((await h.control('GET', '/requests')).recorded, 0);
  });

  it("keeps ids increasing across DELETE, reset and state import, so a poller's after= still sees new calls", async () => {
    const poll = async (after: number) => (await h.inject({ method: 'GET', url: `/_kapibara/console/requests.json?after=${after}` })).json();
    const call = () => h.inject({ method: 'GET', url: '/v2/user/me' });
    for (let i = 0; i < 5; i++) await call();
    let last: number = (await poll(0)).requests.at(-1).id;
    const state = await h.control('GET', '/state');
    const clears: [string, () => Promise<unknown>][] = [
      ['DELETE /requests', () => h.control('DELETE', '/requests')],
      ['reset', () => h.reset()],
      ['state import', () => h.control('PUT', '/state', state)],
    ];
    for (const [how, clear] of clears) {
      await clear();
      await call();
      await call();
      const seen = await poll(last);
      assert.equal(seen.recorded, 2, how);
      assert.equal(seen.requests.length, 2, `${how}: the calls made after it are newer than the last id seen`);
      assert.ok(seen.requests[0].id > last, how);
      last = seen.requests[1].id;
    }
  });

  it('keeps a bounded number of records under a load of 100,000 calls, and writes no rows', async () => {
    const tables = h.app.platform.tables.map((t) => t.name);
    const rows = async () => {
      let n = 0;
      for (const name of tables) n += Number((await h.store.db.selectFrom(name as any).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      return n;
    };
    const before = await rows();
    const log = requestLog(h.store);
    for (let i = 0; i < 100_000; i++) {
      const res = await h.inject({ method: 'GET', url: `/v2/user/me?i=${i}` });
      if (res.statusCode !== 401) assert.fail(res.body);
    }
    assert.equal(log.recorded, 100_000);
    assert.equal(log.size, log.capacity);
    assert.equal(log.all().length, 1000);
    assert.equal(log.all()[0].query.i, String(100_000 - 1000));
    assert.equal(log.all()[999].query.i, String(99_999));
    assert.equal(await rows(), before);
  });
});
